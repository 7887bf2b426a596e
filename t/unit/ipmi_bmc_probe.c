/*
 * A probe of the IPMI plug-in's BMC side (ngx_wsman_ipmi_bmc.c): reads a
 * BMC the way the plug-in's thread tasks do and prints every field of the
 * snapshot.  t/test_ipmi_bmc.py compares that dump with freeipmi's tools
 * against t/ipmi_sim.py's simulator (`python3 t/ipmi_sim.py` starts one
 * by hand); change the dump format and that test's parser together.
 *
 *   ipmi_bmc_probe HOST[:PORT] USER PASSWORD [options]
 *   ipmi_bmc_probe inband [options]
 *
 *   --driver lan|lan_2_0    default lan_2_0
 *   --priv user|operator|admin
 *   --cipher N              default 3
 *   -W NAME[,NAME...]       freeipmi workarounds (opensesspriv ...)
 *   --timeout MS            session timeout, default 5000
 *   --what LIST             sensors,sel,fru,chassis (default all)
 *   --power on|off|cycle|reset|diag|soft
 *   --clear-sel
 *   --repeat N [--interval MS]   read N times (reconnect tests)
 *
 * UNIT_VERBOSE=1 in the environment shows the log on stderr.  The exit
 * status is 1 when any call failed.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>

#include "unit.h"
#include "ngx_wsman_ipmi_bmc.h"


static void probe_usage(void);
static int probe_workarounds(ngx_wsman_ipmi_conf_t *conf, char *list);
static ngx_uint_t probe_what(char *list);
static int probe_control(const char *name);
static int probe_read(ngx_wsman_ipmi_session_t *s, ngx_uint_t what);
static void probe_sensors(ngx_array_t *sensors);
static void probe_sel(ngx_wsman_ipmi_sel_t *sel);
static void probe_frus(ngx_array_t *frus);
static void probe_chassis(ngx_wsman_ipmi_chassis_t *chassis);
static const char *probe_time(time_t t, char *buf, size_t len);
static double probe_ms(struct timeval *since);


static const char  *probe_threshold_names[] = {
    "LNC", "UNC", "LC", "UC", "LNR", "UNR"
};


int
main(int argc, char **argv)
{
    int                        i, rc, repeat, interval, control, clear;
    char                       *what_list;
    u_char                      err[NGX_WSMAN_IPMI_ERRLEN];
    struct timeval              start;
    ngx_wsman_ipmi_conf_t       conf;
    ngx_wsman_ipmi_session_t   *s;

    ngx_memzero(&conf, sizeof(ngx_wsman_ipmi_conf_t));

    conf.driver = NGX_WSMAN_IPMI_LAN_2_0;
    conf.privilege = NGX_WSMAN_IPMI_PRIV_ADMIN;
    conf.cipher = 3;
    conf.timeout = 5000;

    repeat = 1;
    interval = 0;
    control = -1;
    clear = 0;
    what_list = NULL;

    if (argc < 2) {
        probe_usage();
    }

    i = 1;

    if (strcmp(argv[1], "inband") == 0) {
        conf.driver = NGX_WSMAN_IPMI_INBAND;
        i = 2;

    } else {
        if (argc < 4) {
            probe_usage();
        }

        conf.host.data = (u_char *) argv[1];
        conf.host.len = strlen(argv[1]);
        conf.user.data = (u_char *) argv[2];
        conf.user.len = strlen(argv[2]);
        conf.password.data = (u_char *) argv[3];
        conf.password.len = strlen(argv[3]);
        i = 4;
    }

    /* options that change the driver come before the workarounds that
     * depend on it: collect those first */
    for ( /* void */ ; i < argc; i++) {

        if (strcmp(argv[i], "--driver") == 0 && i + 1 < argc) {
            i++;
            if (strcmp(argv[i], "lan") == 0) {
                conf.driver = NGX_WSMAN_IPMI_LAN;

            } else if (strcmp(argv[i], "lan_2_0") == 0) {
                conf.driver = NGX_WSMAN_IPMI_LAN_2_0;

            } else {
                probe_usage();
            }

        } else if (strcmp(argv[i], "--priv") == 0 && i + 1 < argc) {
            i++;
            if (strcmp(argv[i], "user") == 0) {
                conf.privilege = NGX_WSMAN_IPMI_PRIV_USER;

            } else if (strcmp(argv[i], "operator") == 0) {
                conf.privilege = NGX_WSMAN_IPMI_PRIV_OPERATOR;

            } else {
                conf.privilege = NGX_WSMAN_IPMI_PRIV_ADMIN;
            }

        } else if (strcmp(argv[i], "--cipher") == 0 && i + 1 < argc) {
            conf.cipher = atoi(argv[++i]);

        } else if (strcmp(argv[i], "-W") == 0 && i + 1 < argc) {
            if (probe_workarounds(&conf, argv[++i]) != 0) {
                return 2;
            }

        } else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
            conf.timeout = atoi(argv[++i]);

        } else if (strcmp(argv[i], "--what") == 0 && i + 1 < argc) {
            what_list = argv[++i];

        } else if (strcmp(argv[i], "--power") == 0 && i + 1 < argc) {
            control = probe_control(argv[++i]);

        } else if (strcmp(argv[i], "--clear-sel") == 0) {
            clear = 1;

        } else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) {
            repeat = atoi(argv[++i]);

        } else if (strcmp(argv[i], "--interval") == 0 && i + 1 < argc) {
            interval = atoi(argv[++i]);

        } else {
            probe_usage();
        }
    }

    unit_log.log_level = NGX_LOG_DEBUG;

    s = ngx_wsman_ipmi_session_create(&conf, &unit_log);
    if (s == NULL) {
        fprintf(stderr, "session_create failed\n");
        return 1;
    }

    rc = 0;

    if (control >= 0) {
        gettimeofday(&start, NULL);

        if (ngx_wsman_ipmi_chassis_control(s, control, &unit_log, err)
            != NGX_OK)
        {
            printf("chassis control %d: ERROR after %.0f ms: %s\n", control,
                   probe_ms(&start), err);
            rc = 1;

        } else {
            printf("chassis control %d: OK\n", control);
        }
    }

    if (clear) {
        gettimeofday(&start, NULL);

        if (ngx_wsman_ipmi_clear_sel(s, &unit_log, err) != NGX_OK) {
            printf("clear SEL: ERROR after %.0f ms: %s\n", probe_ms(&start),
                   err);
            rc = 1;

        } else {
            printf("clear SEL: OK\n");
        }
    }

    if (control < 0 && !clear) {
        for (i = 0; i < repeat; i++) {
            if (i && interval) {
                ngx_msleep(interval);
            }

            if (repeat > 1) {
                printf("=== read %d\n", i + 1);
            }

            if (probe_read(s, probe_what(what_list)) != 0) {
                rc = 1;
            }

            fflush(stdout);
        }
    }

    ngx_wsman_ipmi_session_destroy(s);

    return rc;
}


static void
probe_usage(void)
{
    fprintf(stderr,
            "usage: ipmi_bmc_probe HOST[:PORT] USER PASSWORD [options]\n"
            "       ipmi_bmc_probe inband [options]\n"
            "options: --driver lan|lan_2_0, --priv user|operator|admin,\n"
            "  --cipher N, -W NAME[,NAME], --timeout MS,\n"
            "  --what sensors,sel,fru,chassis, --repeat N, --interval MS,\n"
            "  --power on|off|cycle|reset|diag|soft, --clear-sel\n");
    exit(2);
}


static int
probe_workarounds(ngx_wsman_ipmi_conf_t *conf, char *list)
{
    char        *name;
    ngx_str_t    s;
    ngx_uint_t   flags;

    flags = conf->workarounds;

    for (name = strtok(list, ","); name; name = strtok(NULL, ",")) {
        s.data = (u_char *) name;
        s.len = strlen(name);

        if (ngx_wsman_ipmi_workaround(&s, conf->driver, &flags) != NGX_OK) {
            fprintf(stderr, "workaround \"%s\" rejected for driver %u\n",
                    name, (unsigned) conf->driver);
            return 1;
        }
    }

    conf->workarounds = flags;

    return 0;
}


static ngx_uint_t
probe_what(char *list)
{
    char        buf[256], *name;
    ngx_uint_t  what;

    if (list == NULL) {
        return NGX_WSMAN_IPMI_ALL;
    }

    snprintf(buf, sizeof(buf), "%s", list);
    what = 0;

    for (name = strtok(buf, ","); name; name = strtok(NULL, ",")) {
        if (strcmp(name, "sensors") == 0) {
            what |= NGX_WSMAN_IPMI_SENSORS;

        } else if (strcmp(name, "sel") == 0) {
            what |= NGX_WSMAN_IPMI_SEL;

        } else if (strcmp(name, "fru") == 0) {
            what |= NGX_WSMAN_IPMI_FRU;

        } else if (strcmp(name, "chassis") == 0) {
            what |= NGX_WSMAN_IPMI_CHASSIS;

        } else {
            probe_usage();
        }
    }

    return what;
}


static int
probe_control(const char *name)
{
    if (strcmp(name, "off") == 0) {
        return NGX_WSMAN_IPMI_POWER_DOWN;
    }

    if (strcmp(name, "on") == 0) {
        return NGX_WSMAN_IPMI_POWER_UP;
    }

    if (strcmp(name, "cycle") == 0) {
        return NGX_WSMAN_IPMI_POWER_CYCLE;
    }

    if (strcmp(name, "reset") == 0) {
        return NGX_WSMAN_IPMI_HARD_RESET;
    }

    if (strcmp(name, "diag") == 0) {
        return NGX_WSMAN_IPMI_DIAGNOSTIC_INTERRUPT;
    }

    if (strcmp(name, "soft") == 0) {
        return NGX_WSMAN_IPMI_SOFT_SHUTDOWN;
    }

    probe_usage();

    return -1;
}


static int
probe_read(ngx_wsman_ipmi_session_t *s, ngx_uint_t what)
{
    int                         rc;
    u_char                      err[NGX_WSMAN_IPMI_ERRLEN];
    ngx_pool_t                 *pool;
    struct timeval              start;
    ngx_wsman_ipmi_snapshot_t   snap;

    pool = ngx_create_pool(4096, &unit_log);
    if (pool == NULL) {
        return 1;
    }

    gettimeofday(&start, NULL);

    if (ngx_wsman_ipmi_read(s, what, pool, &snap, &unit_log, err) != NGX_OK)
    {
        printf("read: ERROR after %.0f ms: %s\n", probe_ms(&start), err);
        rc = 1;

    } else {
        printf("read: OK in %.0f ms, what 0x%02x\n", probe_ms(&start),
               (unsigned) snap.what);

        if (snap.what & NGX_WSMAN_IPMI_SENSORS) {
            probe_sensors(&snap.sensors);
        }

        if (snap.what & NGX_WSMAN_IPMI_SEL) {
            probe_sel(&snap.sel);
        }

        if (snap.what & NGX_WSMAN_IPMI_FRU) {
            probe_frus(&snap.frus);
        }

        if (snap.what & NGX_WSMAN_IPMI_CHASSIS) {
            probe_chassis(&snap.chassis);
        }

        rc = 0;
    }

    ngx_destroy_pool(pool);

    return rc;
}


static void
probe_sensors(ngx_array_t *sensors)
{
    ngx_uint_t                i, t;
    ngx_wsman_ipmi_sensor_t  *sn;

    printf("sensors: %u\n", (unsigned) sensors->nelts);

    sn = sensors->elts;

    for (i = 0; i < sensors->nelts; i++) {
        printf("sensor %u.%u.%u \"%.*s\"\n", (unsigned) sn[i].owner_id,
               (unsigned) sn[i].owner_lun, (unsigned) sn[i].number,
               (int) sn[i].name.len, sn[i].name.data);
        printf("  record_id %u entity %u.%u\n", (unsigned) sn[i].record_id,
               (unsigned) sn[i].entity_id, (unsigned) sn[i].entity_instance);
        printf("  type 0x%02x \"%.*s\" event_reading_type 0x%02x"
               " threshold %u\n",
               (unsigned) sn[i].sensor_type, (int) sn[i].type_name.len,
               sn[i].type_name.data, (unsigned) sn[i].event_reading_type,
               (unsigned) sn[i].threshold);

        if (sn[i].reading_valid) {
            printf("  reading %.2f raw %u\n", sn[i].reading,
                   (unsigned) sn[i].raw);

        } else {
            printf("  reading N/A\n");
        }

        printf("  units %u rate %u \"%.*s\" r_exponent %d\n",
               (unsigned) sn[i].units, (unsigned) sn[i].rate_units,
               (int) sn[i].units_name.len, sn[i].units_name.data,
               (int) sn[i].r_exponent);

        printf("  thresholds 0x%02x:", (unsigned) sn[i].thresholds_readable);

        for (t = 0; t < 6; t++) {
            if (sn[i].thresholds_readable & (1 << t)) {
                printf(" %s %.2f", probe_threshold_names[t],
                       sn[i].thresholds[t]);
            }
        }

        printf("\n  state_bits 0x%04x state \"%.*s\" events \"%.*s\"\n",
               (unsigned) sn[i].state_bits, (int) sn[i].state.len,
               sn[i].state.data, (int) sn[i].events.len, sn[i].events.data);
    }
}


static void
probe_sel(ngx_wsman_ipmi_sel_t *sel)
{
    char                         buf[64];
    ngx_uint_t                   i, b;
    ngx_wsman_ipmi_sel_entry_t  *e;

    printf("sel: version 0x%02x entries %u free_space %u overflow %u"
           " delete_supported %u\n",
           (unsigned) sel->version, (unsigned) sel->entries,
           (unsigned) sel->free_space, (unsigned) sel->overflow,
           (unsigned) sel->delete_supported);
    printf("  last_addition %s",
           probe_time(sel->last_addition, buf, sizeof(buf)));
    printf(" last_erase %s\n", probe_time(sel->last_erase, buf, sizeof(buf)));
    printf("  records: %u\n", (unsigned) sel->records.nelts);

    e = sel->records.elts;

    for (i = 0; i < sel->records.nelts; i++) {
        printf("record %u type 0x%02x time %s\n  raw",
               (unsigned) e[i].record_id, (unsigned) e[i].record_type,
               probe_time(e[i].timestamp, buf, sizeof(buf)));

        for (b = 0; b < 16; b++) {
            printf(" %02X", e[i].raw[b]);
        }

        printf("\n  generator 0x%04x sensor_type 0x%02x \"%.*s\""
               " number %u name \"%.*s\"\n",
               (unsigned) e[i].generator_id, (unsigned) e[i].sensor_type,
               (int) e[i].type_name.len, e[i].type_name.data,
               (unsigned) e[i].sensor_number, (int) e[i].sensor_name.len,
               e[i].sensor_name.data);
        printf("  event_type 0x%02x %s message \"%.*s\"\n",
               (unsigned) e[i].event_type,
               e[i].deassertion ? "Deassertion" : "Assertion",
               (int) e[i].message.len, e[i].message.data);
    }
}


static void
probe_frus(ngx_array_t *frus)
{
    char                   buf[64];
    ngx_uint_t             i;
    ngx_wsman_ipmi_fru_t  *f;

    printf("frus: %u\n", (unsigned) frus->nelts);

    f = frus->elts;

    for (i = 0; i < frus->nelts; i++) {
        printf("fru %u \"%.*s\"\n", (unsigned) f[i].device_id,
               (int) f[i].name.len, f[i].name.data);
        printf("  chassis type %u part \"%.*s\" serial \"%.*s\"\n",
               (unsigned) f[i].chassis_type,
               (int) f[i].chassis_part_number.len,
               f[i].chassis_part_number.data,
               (int) f[i].chassis_serial_number.len,
               f[i].chassis_serial_number.data);
        printf("  board manufacturer \"%.*s\" product \"%.*s\""
               " serial \"%.*s\" part \"%.*s\" made %s\n",
               (int) f[i].board_manufacturer.len,
               f[i].board_manufacturer.data,
               (int) f[i].board_product_name.len,
               f[i].board_product_name.data,
               (int) f[i].board_serial_number.len,
               f[i].board_serial_number.data,
               (int) f[i].board_part_number.len,
               f[i].board_part_number.data,
               probe_time(f[i].board_manufacture_time, buf, sizeof(buf)));
        printf("  product manufacturer \"%.*s\" name \"%.*s\" part \"%.*s\""
               " version \"%.*s\" serial \"%.*s\" asset \"%.*s\"\n",
               (int) f[i].product_manufacturer.len,
               f[i].product_manufacturer.data,
               (int) f[i].product_name.len, f[i].product_name.data,
               (int) f[i].product_part_number.len,
               f[i].product_part_number.data,
               (int) f[i].product_version.len, f[i].product_version.data,
               (int) f[i].product_serial_number.len,
               f[i].product_serial_number.data,
               (int) f[i].product_asset_tag.len,
               f[i].product_asset_tag.data);
    }
}


static void
probe_chassis(ngx_wsman_ipmi_chassis_t *c)
{
    printf("chassis: power_on %u power_fault %u power_overload %u"
           " interlock %u intrusion %u\n",
           (unsigned) c->power_on, (unsigned) c->power_fault,
           (unsigned) c->power_overload, (unsigned) c->interlock,
           (unsigned) c->intrusion);
    printf("  restore_policy %u last_event 0x%02x\n",
           (unsigned) c->restore_policy, (unsigned) c->last_event);
    printf("  manufacturer_id %u product_id %u firmware \"%.*s\""
           " guid \"%.*s\"\n",
           (unsigned) c->manufacturer_id, (unsigned) c->product_id,
           (int) c->firmware.len, c->firmware.data,
           (int) c->guid.len, c->guid.data);
}


static const char *
probe_time(time_t t, char *buf, size_t len)
{
    struct tm  tm;

    if (t == 0) {
        return "none";
    }

    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);

    return buf;
}


static double
probe_ms(struct timeval *since)
{
    struct timeval  now;

    gettimeofday(&now, NULL);

    return (now.tv_sec - since->tv_sec) * 1000.0
           + (now.tv_usec - since->tv_usec) / 1000.0;
}
