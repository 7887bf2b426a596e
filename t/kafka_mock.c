/*
 * A Kafka cluster for the tests: librdkafka's mock cluster, reachable
 * over TCP on loopback by any Kafka client (the module's producer, kcat).
 *
 *   cc -o kafka_mock t/kafka_mock.c -lrdkafka
 *   ./kafka_mock [BROKERS [TOPIC:PARTITIONS ...]]
 *
 * Prints the bootstrap servers as its first line, then serves until
 * stdin closes.  Commands on stdin, each answered with "ok" or "error":
 *
 *   down N    broker N (1..BROKERS) drops its connections, takes no more
 *   up N      broker N serves again
 *   rtt N MS  broker N answers MS milliseconds late
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>


int
main(int argc, char **argv)
{
    int                       i, brokers, parts, id, ms;
    char                      line[256], errstr[512], *colon;
    rd_kafka_t               *rk;
    rd_kafka_conf_t          *conf;
    rd_kafka_resp_err_t       err;
    rd_kafka_mock_cluster_t  *mc;

    brokers = (argc > 1) ? atoi(argv[1]) : 1;
    if (brokers < 1) {
        fprintf(stderr, "kafka_mock: bad broker count\n");
        return 2;
    }

    conf = rd_kafka_conf_new();

    /* the mock cluster lives in this handle's threads */
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        fprintf(stderr, "kafka_mock: %s\n", errstr);
        return 1;
    }

    mc = rd_kafka_mock_cluster_new(rk, brokers);
    if (mc == NULL) {
        fprintf(stderr, "kafka_mock: cannot create the mock cluster\n");
        return 1;
    }

    for (i = 2; i < argc; i++) {
        colon = strchr(argv[i], ':');
        parts = colon ? atoi(colon + 1) : 1;

        if (colon) {
            *colon = '\0';
        }

        err = rd_kafka_mock_topic_create(mc, argv[i], parts, 1);
        if (err) {
            fprintf(stderr, "kafka_mock: topic %s: %s\n", argv[i],
                    rd_kafka_err2str(err));
            return 1;
        }
    }

    printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);

    while (fgets(line, sizeof(line), stdin)) {
        id = 0;
        ms = 0;
        err = RD_KAFKA_RESP_ERR__INVALID_ARG;

        if (sscanf(line, "down %d", &id) == 1) {
            err = rd_kafka_mock_broker_set_down(mc, id);

        } else if (sscanf(line, "up %d", &id) == 1) {
            err = rd_kafka_mock_broker_set_up(mc, id);

        } else if (sscanf(line, "rtt %d %d", &id, &ms) == 2) {
            err = rd_kafka_mock_broker_set_rtt(mc, id, ms);
        }

        printf("%s\n", err ? "error" : "ok");
        fflush(stdout);
    }

    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);

    return 0;
}
