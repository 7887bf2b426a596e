/*
 * The IPMI plug-in's view of a BMC, as libfreeipmi reads it.
 *
 * Everything declared here blocks on the BMC and runs in an nginx thread
 * pool task, never on the event loop.  A session is used by one task at
 * a time; what a read produces is allocated from the pool the task
 * passes (a pool no other thread touches), so the event loop can take
 * the snapshot over when the task is done.  This header needs no
 * libfreeipmi's headers: the plug-in's nginx side includes it too.
 */

#ifndef _NGX_WSMAN_IPMI_BMC_H_INCLUDED_
#define _NGX_WSMAN_IPMI_BMC_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


#define NGX_WSMAN_IPMI_ERRLEN         256


typedef enum {
    NGX_WSMAN_IPMI_INBAND = 0,         /* the local BMC (KCS, SSIF, ...) */
    NGX_WSMAN_IPMI_LAN,                /* IPMI 1.5 over LAN */
    NGX_WSMAN_IPMI_LAN_2_0             /* IPMI 2.0 RMCP+ (lanplus) */
} ngx_wsman_ipmi_driver_e;


typedef enum {
    NGX_WSMAN_IPMI_PRIV_USER = 0,
    NGX_WSMAN_IPMI_PRIV_OPERATOR,
    NGX_WSMAN_IPMI_PRIV_ADMIN
} ngx_wsman_ipmi_privilege_e;


/* what a refresh reads (bits) */
#define NGX_WSMAN_IPMI_SENSORS        0x01
#define NGX_WSMAN_IPMI_SEL            0x02
#define NGX_WSMAN_IPMI_FRU            0x04
#define NGX_WSMAN_IPMI_CHASSIS        0x08
#define NGX_WSMAN_IPMI_ALL            0x0f


/* chassis control (IPMI "Chassis Control" command codes) */
typedef enum {
    NGX_WSMAN_IPMI_POWER_DOWN = 0,
    NGX_WSMAN_IPMI_POWER_UP = 1,
    NGX_WSMAN_IPMI_POWER_CYCLE = 2,
    NGX_WSMAN_IPMI_HARD_RESET = 3,
    NGX_WSMAN_IPMI_DIAGNOSTIC_INTERRUPT = 4,
    NGX_WSMAN_IPMI_SOFT_SHUTDOWN = 5
} ngx_wsman_ipmi_control_e;


/* where the BMC is and how to log in: parsed from the directive */
typedef struct {
    ngx_uint_t                 driver;        /* ngx_wsman_ipmi_driver_e */
    ngx_str_t                  host;          /* "host" or "host:port",
                                                 null-terminated */
    ngx_str_t                  user;          /* null-terminated */
    ngx_str_t                  password;      /* null-terminated */
    ngx_uint_t                 privilege;     /* ..._privilege_e */
    ngx_uint_t                 cipher;        /* cipher suite id, 2.0 */
    ngx_uint_t                 workarounds;   /* libfreeipmi flag bits */
    ngx_msec_t                 timeout;       /* session timeout */
} ngx_wsman_ipmi_conf_t;


/* one sensor from the SDR with its current reading */
typedef struct {
    ngx_uint_t                 record_id;     /* SDR record id */
    ngx_uint_t                 owner_id;      /* sensor owner (e.g. 0x20) */
    ngx_uint_t                 owner_lun;
    ngx_uint_t                 number;        /* sensor number */
    ngx_uint_t                 entity_id;
    ngx_uint_t                 entity_instance;
    ngx_str_t                  name;          /* SDR ID string */

    ngx_uint_t                 sensor_type;   /* IPMI sensor type code */
    ngx_str_t                  type_name;     /* "Temperature" */
    ngx_uint_t                 event_reading_type;   /* 0x01: threshold */

    unsigned                   threshold:1;   /* a threshold sensor */
    unsigned                   reading_valid:1;  /* a reading was read
                                                    (discrete sensors: the
                                                    state bits were) */

    double                     reading;       /* converted (threshold) */
    ngx_uint_t                 raw;           /* raw reading byte */
    ngx_uint_t                 units;         /* IPMI base unit code */
    ngx_uint_t                 rate_units;    /* IPMI rate unit code */
    ngx_int_t                  r_exponent;    /* SDR result exponent */
    ngx_str_t                  units_name;    /* "degrees C" */

    /* thresholds the SDR/BMC says are readable, converted; bit i of
     * thresholds_readable for array index i:
     * 0 lower non-critical, 1 upper non-critical, 2 lower critical,
     * 3 upper critical, 4 lower non-recoverable, 5 upper
     * non-recoverable (the order of CIM's SupportedThresholds) */
    ngx_uint_t                 thresholds_readable;
    double                     thresholds[6];

    /* threshold sensors: which thresholds are crossed (same bit order
     * as thresholds_readable); discrete sensors: the asserted state
     * bits (offsets 0-14) */
    ngx_uint_t                 state_bits;

    /* what the state means, as freeipmi's interpretation words it
     * ("OK", "Warning", "Critical" for the sensor as a whole, "Unknown"
     * without a reading; note freeipmi's default interpretation calls
     * a crossed non-critical threshold "OK") and the asserted events as
     * text ("Device Present", "At or Above (>=) Upper Critical
     * Threshold"; several joined with "; "; "" when none) */
    ngx_str_t                  state;
    ngx_str_t                  events;
} ngx_wsman_ipmi_sensor_t;


/* one System Event Log record */
typedef struct {
    ngx_uint_t                 record_id;
    ngx_uint_t                 record_type;   /* 0x02: system event */
    time_t                     timestamp;     /* 0: none, unspecified or
                                                 counted from the BMC's
                                                 start (< 0x20000000) */
    u_char                     raw[16];       /* the record as stored */

    /* system event records only (record_type 0x02) */
    ngx_uint_t                 generator_id;
    ngx_uint_t                 sensor_type;
    ngx_str_t                  type_name;     /* "Temperature" */
    ngx_uint_t                 sensor_number;
    ngx_str_t                  sensor_name;   /* from the SDR, may be
                                                 empty */
    ngx_uint_t                 event_type;    /* event/reading type code */
    unsigned                   deassertion:1; /* event direction */
    ngx_str_t                  message;       /* e.g. "Upper Critical
                                                 - going high ; Sensor
                                                 Reading = 90.00 C ;
                                                 Threshold = 85.00 C" as
                                                 ipmi-sel -v; OEM
                                                 records: "OEM defined =
                                                 01h 02h ..." */
} ngx_wsman_ipmi_sel_entry_t;


typedef struct {
    ngx_uint_t                 version;       /* SEL version, BCD 0x51 */
    ngx_uint_t                 entries;
    ngx_uint_t                 free_space;    /* bytes */
    time_t                     last_addition; /* 0: unknown/never (same
                                                 rule as timestamp) */
    time_t                     last_erase;
    unsigned                   overflow:1;
    unsigned                   delete_supported:1;
    ngx_array_t                records;       /* ngx_wsman_ipmi_sel_entry_t,
                                                 by record id */
} ngx_wsman_ipmi_sel_t;


/* one FRU device's inventory (empty strings when the area is absent) */
typedef struct {
    ngx_uint_t                 device_id;     /* FRU device id, 0: BMC's */
    ngx_str_t                  name;          /* FRU locator's ID string,
                                                 or "FRU <id>" */
    ngx_uint_t                 chassis_type;  /* SMBIOS type, 0: none */
    ngx_str_t                  chassis_part_number;
    ngx_str_t                  chassis_serial_number;
    ngx_str_t                  board_manufacturer;
    ngx_str_t                  board_product_name;
    ngx_str_t                  board_serial_number;
    ngx_str_t                  board_part_number;
    time_t                     board_manufacture_time;   /* 0: none */
    ngx_str_t                  product_manufacturer;
    ngx_str_t                  product_name;
    ngx_str_t                  product_part_number;  /* part/model */
    ngx_str_t                  product_version;
    ngx_str_t                  product_serial_number;
    ngx_str_t                  product_asset_tag;
} ngx_wsman_ipmi_fru_t;


typedef struct {
    unsigned                   power_on:1;
    unsigned                   power_fault:1;
    unsigned                   power_overload:1;
    unsigned                   interlock:1;
    unsigned                   intrusion:1;   /* chassis intrusion active */
    ngx_uint_t                 restore_policy;   /* 0 off, 1 previous,
                                                    2 on, 3 unknown */
    ngx_uint_t                 last_event;    /* last power event bits:
                                                 0x01 AC failed, 0x02
                                                 overload, 0x04 interlock,
                                                 0x08 fault, 0x10 power
                                                 on through IPMI */
    ngx_uint_t                 manufacturer_id;   /* Get Device ID */
    ngx_uint_t                 product_id;
    ngx_str_t                  firmware;      /* "9.08": major, then the
                                                 BCD minor as 2 digits,
                                                 as bmc-info shows it */
    ngx_str_t                  guid;          /* system GUID, 36 chars,
                                                 as bmc-info shows it,
                                                 empty if unsupported */
} ngx_wsman_ipmi_chassis_t;


/* what one refresh read; parts not asked for stay zeroed */
typedef struct {
    ngx_uint_t                 what;          /* NGX_WSMAN_IPMI_* read */
    ngx_array_t                sensors;       /* ngx_wsman_ipmi_sensor_t,
                                                 by owner, lun, number */
    ngx_wsman_ipmi_sel_t       sel;
    ngx_array_t                frus;          /* ngx_wsman_ipmi_fru_t */
    ngx_wsman_ipmi_chassis_t   chassis;
} ngx_wsman_ipmi_snapshot_t;


typedef struct ngx_wsman_ipmi_session_s  ngx_wsman_ipmi_session_t;


/*
 * A session with the BMC: not connected until first used, reconnected
 * after a failure, its SDR cached (re-read when the BMC's SDR repository
 * changes: most recent addition/erase timestamps).  malloc()ed, one per
 * worker; NULL when out of memory.
 */
ngx_wsman_ipmi_session_t *ngx_wsman_ipmi_session_create(
    ngx_wsman_ipmi_conf_t *conf, ngx_log_t *log);
void ngx_wsman_ipmi_session_destroy(ngx_wsman_ipmi_session_t *s);

/*
 * Blocking calls, each in a thread: NGX_OK, or NGX_ERROR with a message
 * for the client in err (null-terminated, at most NGX_WSMAN_IPMI_ERRLEN
 * bytes: "the BMC at 127.0.0.1:9623 does not answer: session timeout").
 * On a session-level failure the session is closed and the next call
 * reconnects.
 */
ngx_int_t ngx_wsman_ipmi_read(ngx_wsman_ipmi_session_t *s, ngx_uint_t what,
    ngx_pool_t *pool, ngx_wsman_ipmi_snapshot_t *snap, ngx_log_t *log,
    u_char *err);
ngx_int_t ngx_wsman_ipmi_chassis_control(ngx_wsman_ipmi_session_t *s,
    ngx_uint_t control, ngx_log_t *log, u_char *err);
ngx_int_t ngx_wsman_ipmi_clear_sel(ngx_wsman_ipmi_session_t *s,
    ngx_log_t *log, u_char *err);

/* ends the session with the BMC (BMCs have few session slots); the next
 * call reconnects, the SDR cache stays */
void ngx_wsman_ipmi_disconnect(ngx_wsman_ipmi_session_t *s);

/* configuration time: a workaround name as freeipmi's tools spell it
 * ("opensesspriv", "authcap", "intel20", ...) to flag bits for the
 * driver; NGX_ERROR when unknown (or no libfreeipmi) */
ngx_int_t ngx_wsman_ipmi_workaround(ngx_str_t *name, ngx_uint_t driver,
    ngx_uint_t *flags);


#endif /* _NGX_WSMAN_IPMI_BMC_H_INCLUDED_ */
