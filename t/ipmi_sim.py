"""OpenIPMI's ipmi_sim as a lanplus BMC on loopback, and freeipmi's tools
reading it: the one simulated BMC of the tests (t/test_ipmi.py through
nginx, t/test_ipmi_bmc.py through t/unit/ipmi_bmc_probe).

    sim = IpmiSim(tmp_dir).start()     # a free UDP port on 127.0.0.1
    sim.sensors()                      # ipmi-sensors, parsed
    sim.console("sensor_set_value 0x20 0 1 0x30 0")   # change it live
    sim.kill(); sim.restart()          # SIGKILL, then the same port/state
    sim.close()

By hand (for t/unit/ipmi_bmc_probe or a real wsman_ipmi):
`python3 t/ipmi_sim.py [--port N] [--dir D] [--keep]` starts one, prints
host:port, users, console port and command lines, and runs until
Ctrl-C; `--demo` prints what the tools read instead, drives power and
restarts.

The emulation (lan.conf, chassis control script, sim.emu) is generated
from the tables below, so the tests know every expected value:

  SENSORS   threshold sensors with SDR conversion factors (M, R exponent),
            raw readings and raw thresholds; discrete sensors with the
            state bits set;
  SEL       system event records with fixed timestamps;
  FRUS      FRU devices 0 (chassis, board and product areas) and 1 (board
            area only, named by an SDR FRU locator);
  power     the chassis control program keeps the power state in a file
            (`power`, "1"/"0") and appends every call to `chassis.log`.

ipmi_sim keeps its SDR repository and SEL in the state directory.  Its
emu command `sel_add` stamps records with the SEL clock, which starts as
"post-init" seconds (the host's uptime, < 0x20000000: ipmi-sel prints
"PostInit", the plug-in reports no time; SDR timestamps too), so the SEL
is filled over the LAN after the first start instead: Set SEL Time to
the record's timestamp, then Add SEL Entry, for each record, in one
ipmi-raw session (see fill_sel: ipmi_sim stamps with whole host seconds);
then the SEL time is set to now.  A restart reruns the same sim.emu on
the persisted state (SDRs are not duplicated, the SEL is kept, sel_add
records would be added again) and sets the SEL time again, so a
restarted simulator has the state the killed one had.  Every start
changes the SDR timestamps, so a reader re-reads the SDR after a restart.

Quirks of ipmi_sim (OpenIPMI 2.0.33) and freeipmi (1.6.10) met on the way:

* freeipmi has no port option: the port goes into the host, host:port.
  LAN_2_0 needs `-W opensesspriv` (nginx: workaround=opensesspriv):
  ipmi_sim answers maximum privilege 0 in the Open Session response.
  `-D LAN` (1.5) works without it, but opening a session takes ~1 s (one
  retransmission of Set Session Privilege Level).
* Privileges are not enforced over LAN_2_0: a user-level account opening
  an ADMIN session gets it and may power off or clear the SEL (over LAN
  1.5 the limit holds, 0xd4).  Tests of rights must not count on the BMC
  refusing.
* Give freeipmi's tools --sdr-cache-directory, else they write
  ~/.freeipmi/sdr-cache/.  ipmi-sensors' first column is the SDR record
  id, not the sensor number; a shared record is listed once unless
  --shared-sensors.  freeipmi's default state interpretation calls a
  non-critical crossing "Nominal"; only critical and non-recoverable
  ones are "Critical".  ipmi-fru stops with exit 1 ("internal IPMI
  error") at a FRU device that does not answer.  freeipmi converts the
  FRU manufacturing date with the local time zone, the plug-in with UTC
  (as the FRU spec): the tools run with TZ=UTC.
* bmc-info prints garbage for channels other than 0 and 1; the System
  GUID is lan.conf's `guid` byte-reversed.  mc_add's minor firmware
  revision is BCD.
* A reading needs `sensor_set_event_support ... scanning`, else N/A.
  ipmi_sim compares thresholds as raw unsigned bytes: a 2's complement
  sensor with thresholds gets wrong comparison bits.
* SDR commands over the LAN are broken: Clear SDR Repository crashes
  ipmi_sim, Add SDR rejects every record (0x80), Delete SDR picks the
  wrong record.  Change the SDR with the console's `main_sdr_add` (it
  updates the repository's addition timestamp).
* The console (lan.conf `console`) is telnet-like: negotiation bytes and
  "> " prompts, it echoes, and it also prints ipmi_sim's log lines
  ("Session started", "Session closed").  "quit" ends ipmi_sim.
* With -n ipmi_sim says nothing: a bad sim.emu line stops its setup
  silently (run it without -n in the directory to see why).  The .emu
  is loaded before the LAN port opens.
* Chassis control: ipmi_sim runs the program (see CHASSIS_SH); a
  non-zero exit answers 0xff.  Power cycle is `set power 0`, then its 1 s
  timer polls `get power` and sets power 1; hard reset is `set reset 1`;
  soft shutdown `set shutdown 1`; diagnostic interrupt is refused (0xcc).
  Get Chassis Status: only power on/off is real (restore policy 0, last
  event 0, no fault, no intrusion whatever the Physical Security sensor
  says).
* Killed: a request on an open session fails "session timeout" after
  the session timeout, opening a new one "connection timeout" after about
  timeout + 20 % (the last retransmission).  The plug-in tries a failed
  read once more on a new session, so a read fails after at most about
  twice the timeout, and a read right after a quick kill and restart (the old
  session is unknown to the new ipmi_sim) succeeds.
"""

import calendar
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

IPMI_SIM = "/usr/bin/ipmi_sim"
USER = "admin"
PASSWORD = "Passw0rd1"
OPERATOR = "oper"               # an operator account (not used by nginx)
OPERATOR_PASSWORD = "Oper-Pw-42"
BMC_ADDR = 0x20
TOOL_ENV = dict(os.environ, TZ="UTC")

# --------------------------------------------------------- the emulation --

# IPMI base unit codes (the CIM BaseUnits value is the code + 1)
UNIT_DEGREES_C = 1
UNIT_VOLTS = 4
UNIT_AMPS = 5
UNIT_WATTS = 6
UNIT_RPM = 18

# CIM SensorType for the IPMI sensor types used here
CIM_SENSOR_TYPE = {0x01: 2, 0x02: 3, 0x03: 4, 0x04: 5,
                   0x05: 16, 0x25: 11}
IPMI_TYPE_NAME = {0x01: "Temperature", 0x02: "Voltage", 0x03: "Current",
                  0x04: "Fan", 0x05: "Physical Security",
                  0x08: "Power Supply", 0x25: "Entity Presence"}

# threshold index as the spec numbers them (SupportedThresholds):
# 0 LNC, 1 UNC, 2 LC, 3 UC, 4 LNR, 5 UNR
THRESHOLD_NAMES = ["LowerThresholdNonCritical", "UpperThresholdNonCritical",
                   "LowerThresholdCritical", "UpperThresholdCritical",
                   "LowerThresholdFatal", "UpperThresholdFatal"]
# ipmi_sim's sensor_set_threshold order (bit/value 0..5):
# 0 LNC, 1 LC, 2 LNR, 3 UNC, 4 UC, 5 UNR
_SIM_ORDER = [0, 2, 4, 1, 3, 5]


class Sensor:
    """One sensor of the emulation.  Threshold sensors: reading =
    m * raw * 10^rexp (B = 0), thresholds as {spec index: raw}.
    Discrete sensors: `bits` are the asserted state offsets."""

    def __init__(self, number, name, stype, ertype=0x01, entity=(7, 1),
                 unit=0, m=1, rexp=0, raw=None, thresholds=None,
                 scanning=True, bits=(), assert_mask=0x7fff):
        self.number = number
        self.name = name
        self.stype = stype
        self.ertype = ertype
        self.entity = entity
        self.unit = unit
        self.m = m
        self.rexp = rexp
        self.raw = raw
        self.thresholds = dict(thresholds or {})
        self.scanning = scanning
        self.bits = tuple(bits)
        self.assert_mask = assert_mask

    @property
    def threshold(self):
        return self.ertype == 0x01

    @property
    def device_id(self):
        return "%d.0.%d" % (BMC_ADDR, self.number)

    def value(self, raw):
        return self.m * raw * 10.0 ** self.rexp

    @property
    def reading(self):
        """The converted reading, None when the sensor is not scanning."""
        if not self.scanning or self.raw is None:
            return None
        return self.value(self.raw)

    def threshold_values(self):
        """{spec index: converted value}"""
        return {i: self.value(r) for i, r in self.thresholds.items()}

    def crossed(self):
        """Spec CurrentState for a threshold sensor ("Normal", "Upper
        Non-Critical", ...); "Unknown" without a reading."""
        if self.reading is None:
            return "Unknown"
        t = self.thresholds
        for idx, word in ((5, "Upper Fatal"), (4, "Lower Fatal"),
                          (3, "Upper Critical"), (2, "Lower Critical"),
                          (1, "Upper Non-Critical"),
                          (0, "Lower Non-Critical")):
            if idx not in t:
                continue
            if idx % 2 and self.raw >= t[idx]:
                return word
            if not idx % 2 and self.raw <= t[idx]:
                return word
        return "Normal"

    def health(self):
        """Spec HealthState: 5 OK, 10 non-critical, 25 critical, 30
        fatal, 0 unknown."""
        state = self.crossed()
        if state in ("Normal", "Unknown"):
            return {"Normal": 5, "Unknown": 0}[state]
        return {"Non-Critical": 10, "Critical": 25,
                "Fatal": 30}[state.split(" ", 1)[1]]


SENSORS = [
    # number, name, IPMI sensor type, ...
    Sensor(1, "MB Temp", 0x01, unit=UNIT_DEGREES_C, raw=42,
           thresholds={1: 75, 3: 85, 5: 95}),
    Sensor(2, "12V", 0x02, unit=UNIT_VOLTS, m=6, rexp=-2, raw=200,
           thresholds={4: 160, 2: 180, 0: 190, 1: 210, 3: 220, 5: 240}),
    Sensor(3, "Fan 1", 0x04, entity=(29, 1), unit=UNIT_RPM, m=5, rexp=1,
           raw=96, thresholds={0: 30, 2: 20, 4: 10}),
    Sensor(4, "CPU Temp", 0x01, entity=(3, 1), unit=UNIT_DEGREES_C, raw=80,
           thresholds={1: 75, 3: 90, 5: 100}),
    Sensor(5, "Aux Temp", 0x01, unit=UNIT_DEGREES_C, raw=30,
           thresholds={1: 60, 3: 70}, scanning=False),
    Sensor(6, "Fan 2", 0x04, entity=(29, 2), unit=UNIT_RPM, m=5, rexp=1,
           raw=15, thresholds={0: 30, 2: 20, 4: 10}),
    # a type without a CIM SensorType: 1 (Other) + the IPMI type name
    Sensor(7, "PSU1 Power", 0x08, entity=(10, 1), unit=UNIT_WATTS, m=2,
           raw=150, thresholds={1: 175, 3: 200}),
    Sensor(8, "PSU1 Current", 0x03, entity=(10, 1), unit=UNIT_AMPS,
           rexp=-1, raw=25, thresholds={3: 80}),
    # discrete sensors (sensor-specific event/reading type 0x6f)
    Sensor(16, "Chassis Intru", 0x05, ertype=0x6f, entity=(23, 1),
           bits=(), assert_mask=0x007f),
    Sensor(17, "PSU1 Presence", 0x25, ertype=0x6f, entity=(10, 1),
           bits=(0,), assert_mask=0x0007),
    Sensor(18, "PSU1 Status", 0x08, ertype=0x6f, entity=(10, 1),
           bits=(0, 1), assert_mask=0x007f),
]
THRESHOLD_SENSORS = [s for s in SENSORS if s.threshold]
DISCRETE_SENSORS = [s for s in SENSORS if not s.threshold]

SEL_T0 = calendar.timegm((2025, 1, 1, 12, 0, 0))


class SelRecord:
    """A system event record (type 0x02)."""

    def __init__(self, timestamp, sensor_type, sensor_number, event_type,
                 deassertion, data):
        self.timestamp = timestamp
        self.sensor_type = sensor_type
        self.sensor_number = sensor_number
        self.event_type = event_type
        self.deassertion = deassertion
        self.data = tuple(data)

    def body(self):
        """the 13 bytes after record id and type"""
        ts = self.timestamp
        return bytes([ts & 0xff, (ts >> 8) & 0xff, (ts >> 16) & 0xff,
                      (ts >> 24) & 0xff,
                      BMC_ADDR, 0x00,              # generator id
                      0x04,                        # EvM rev (IPMI 1.5+)
                      self.sensor_type, self.sensor_number,
                      (0x80 if self.deassertion else 0) | self.event_type,
                      *self.data])

    def record(self, record_id):
        """the 16 stored bytes"""
        return bytes([record_id & 0xff, record_id >> 8, 0x02]) + self.body()


SEL = [
    # CPU Temp: Upper Non-critical going high (offset 7), reading 80 > 75
    SelRecord(SEL_T0, 0x01, 4, 0x01, False, (0x57, 80, 75)),
    # 12V: Lower Critical going low (offset 2), reading 175 < 180
    SelRecord(SEL_T0 + 60, 0x02, 2, 0x01, False, (0x52, 175, 180)),
    # Chassis Intru: General Chassis Intrusion (offset 0)
    SelRecord(SEL_T0 + 120, 0x05, 16, 0x6f, False, (0x00, 0xff, 0xff)),
    # CPU Temp: the same condition deasserted
    SelRecord(SEL_T0 + 180, 0x01, 4, 0x01, True, (0x57, 70, 75)),
    # Fan 1: Lower Critical going low, 18 < 20 (raw)
    SelRecord(SEL_T0 + 240, 0x04, 3, 0x01, False, (0x52, 18, 20)),
]
SEL_MAX_ENTRIES = 1000          # sel_enable's max entries (decimal)

# FRU devices: chassis type (SMBIOS), and areas as {field: text}
FRU_BOARD_TIME = calendar.timegm((2024, 6, 1, 8, 0, 0))
FRUS = {
    0: {
        "name": None,           # no SDR locator: the BMC's default FRU
        "chassis": {"type": 0x17, "part": "CH-4200-A",
                    "serial": "CHS0001234"},
        "board": {"time": FRU_BOARD_TIME, "manufacturer": "Acme Boards Inc",
                  "product": "X-Board 9000", "serial": "BRD5678",
                  "part": "BP-9000-01"},
        "product": {"manufacturer": "Acme Systems",
                    "name": "Acme Server 4200", "part": "AS-4200-XL",
                    "version": "Rev B", "serial": "PRD-0042-7",
                    "asset": "ASSET-77"},
    },
    1: {
        "name": "PSU 1",
        "board": {"time": FRU_BOARD_TIME + 86400,
                  "manufacturer": "PowerCo", "product": "PSU 750W",
                  "serial": "PSU0001", "part": "PWR-750"},
    },
}


# ------------------------------------------------------ binary records --

def _id_string(text):
    b = text.encode("ascii")
    assert len(b) <= 16
    return bytes([0xc0 | len(b)]) + b


def _sdr(record_type, body):
    return bytes([0x00, 0x00, 0x51, record_type, len(body)]) + body


def _mask16(v):
    return bytes([v & 0xff, (v >> 8) & 0xff])


def full_sensor_record(s):
    """SDR type 0x01 for a threshold sensor (IPMI 2.0 table 43-1)."""
    readable = 0
    for idx in s.thresholds:
        readable |= 1 << _SIM_ORDER.index(idx)
    # SDR bit order of the threshold bytes: UNR UC UNC LNR LC LNC
    raw = {i: s.thresholds.get(i, 0) for i in range(6)}
    m = s.m & 0x3ff
    body = bytes([
        BMC_ADDR, 0x00, s.number,
        s.entity[0], s.entity[1],
        0x7f,                   # init: scanning, events, thresholds, ...
        0x68,                   # caps: auto re-arm, readable thresholds
        s.stype, s.ertype,
    ]) + _mask16(0) + _mask16(0) + bytes([readable, readable]) + bytes([
        0x00,                   # units 1: unsigned, no rate
        s.unit, 0x00,           # base unit, modifier unit
        0x00,                   # linear
        m & 0xff, (m >> 8) << 6,
        0x00, 0x00,             # B = 0, accuracy
        0x00,
        ((s.rexp & 0x0f) << 4) | 0x0,     # R exponent, B exponent 0
        0x00,                   # analog flags
        0x00, 0x00, 0x00,       # nominal, normal max, normal min
        0xff, 0x00,             # sensor max, min
        raw[5], raw[3], raw[1], raw[4], raw[2], raw[0],
        0x00, 0x00,             # hysteresis
        0x00, 0x00, 0x00,       # reserved, OEM
    ]) + _id_string(s.name)
    return _sdr(0x01, body)


def compact_sensor_record(s):
    """SDR type 0x02 for a discrete sensor (IPMI 2.0 table 43-2)."""
    body = bytes([
        BMC_ADDR, 0x00, s.number,
        s.entity[0], s.entity[1],
        0x67,                   # init: scanning, events, init state
        0x40,                   # caps: auto re-arm
        s.stype, s.ertype,
    ]) + _mask16(s.assert_mask) + _mask16(s.assert_mask) \
        + _mask16(s.assert_mask) + bytes([
            0xc0,               # units 1: no analog reading
            0x00, 0x00,
            0x00, 0x00,         # no sharing
            0x00, 0x00,         # hysteresis
            0x00, 0x00, 0x00,   # reserved
            0x00,               # OEM
        ]) + _id_string(s.name)
    return _sdr(0x02, body)


def fru_locator_record(device_id, name, entity=(10, 1)):
    """SDR type 0x11: a logical FRU device behind the BMC."""
    body = bytes([
        BMC_ADDR, device_id,
        0x80,                   # logical FRU device, LUN 0, bus 0
        0x00,                   # channel 0
        0x00,
        0x10, 0x00,             # FRU inventory behind an MC
        entity[0], entity[1],
        0x00,                   # OEM
    ]) + _id_string(name)
    return _sdr(0x11, body)


def mc_locator_record():
    """SDR type 0x12 for the BMC (freeipmi's FRU scan wants one)."""
    body = bytes([
        BMC_ADDR, 0x00,         # slave address, channel 0
        0x00,                   # power state notification
        0x9f,                   # device capabilities (as mc_add)
        0x00, 0x00, 0x00,
        0x06, 0x01,             # entity: system management module
        0x00,
    ]) + _id_string("BMC")
    return _sdr(0x12, body)


def _checksum(data):
    return (-sum(data)) & 0xff


def _fru_field(text):
    b = text.encode("ascii")
    assert len(b) < 64
    return bytes([0xc0 | len(b)]) + b


def _fru_area(head, fields):
    data = bytearray(head)
    for f in fields:
        data += _fru_field(f)
    data += b"\xc1"             # end of fields
    while (len(data) + 1) % 8:
        data += b"\x00"
    data[1] = (len(data) + 1) // 8
    return bytes(data + bytes([_checksum(data)]))


def fru_image(dev):
    """FRU inventory bytes: common header, chassis, board, product
    areas (IPMI Platform Management FRU Information Storage Def. 1.0)."""
    areas = []
    if "chassis" in dev:
        c = dev["chassis"]
        areas.append(("chassis", _fru_area(bytes([0x01, 0, c["type"]]),
                                           [c["part"], c["serial"]])))
    if "board" in dev:
        b = dev["board"]
        minutes = (b["time"] - calendar.timegm((1996, 1, 1, 0, 0, 0))) // 60
        areas.append(("board", _fru_area(
            bytes([0x01, 0, 0x19, minutes & 0xff, (minutes >> 8) & 0xff,
                   (minutes >> 16) & 0xff]),
            [b["manufacturer"], b["product"], b["serial"], b["part"],
             ""])))             # FRU file id
    if "product" in dev:
        p = dev["product"]
        areas.append(("product", _fru_area(
            bytes([0x01, 0, 0x19]),
            [p["manufacturer"], p["name"], p["part"], p["version"],
             p["serial"], p["asset"], ""])))
    offsets = {}
    image = bytearray(8)
    for name, data in areas:
        offsets[name] = len(image) // 8
        image += data
    hdr = bytearray([0x01, 0x00, offsets.get("chassis", 0),
                     offsets.get("board", 0), offsets.get("product", 0),
                     0x00, 0x00])
    hdr.append(_checksum(hdr))
    image[0:8] = hdr
    return bytes(image)


# ----------------------------------------------------------- emu files --

def _hex(data):
    return " ".join("0x%02x" % b for b in data)


def _bits15(bits):
    return "".join("1" if i in bits else "0" for i in range(14, -1, -1))


def emu_text():
    out = ["# generated by t/ipmi_sim.py",
           "mc_setbmc 0x20",
           "mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02",
           "sel_enable 0x20 %d 0x0a" % SEL_MAX_ENTRIES]
    for s in SENSORS:
        out.append("sensor_add 0x20 0 0x%02x 0x%02x 0x%02x"
                   % (s.number, s.stype, s.ertype))
        if s.threshold:
            enabled = "".join("1" if _SIM_ORDER[b] in s.thresholds else "0"
                              for b in range(5, -1, -1))
            values = " ".join("0x%02x" % s.thresholds.get(_SIM_ORDER[b], 0)
                              for b in range(5, -1, -1))
            out.append("sensor_set_threshold 0x20 0 0x%02x settable %s %s"
                       % (s.number, enabled, values))
            sup = "000111111111111" if s.thresholds else "0" * 15
            out.append("sensor_set_event_support 0x20 0 0x%02x enable %s "
                       "per-state %s %s %s %s"
                       % (s.number,
                          "scanning" if s.scanning else "no-scanning",
                          sup, sup, sup, sup))
            out.append("sensor_set_value 0x20 0 0x%02x 0x%02x 0"
                       % (s.number, s.raw))
            out.append("main_sdr_add 0x20 " + _hex(full_sensor_record(s)))
        else:
            mask = _bits15([i for i in range(15) if s.assert_mask >> i & 1])
            out.append("sensor_set_event_support 0x20 0 0x%02x enable "
                       "scanning per-state %s %s %s %s"
                       % (s.number, mask, mask, mask, mask))
            for b in s.bits:
                out.append("sensor_set_bit 0x20 0 0x%02x 0x%02x 1 0"
                           % (s.number, b))
            out.append("main_sdr_add 0x20 " + _hex(compact_sensor_record(s)))
    out.append("main_sdr_add 0x20 " + _hex(mc_locator_record()))
    for dev_id, dev in sorted(FRUS.items()):
        img = fru_image(dev)
        out.append("mc_add_fru_data 0x20 0x%02x 0x%x data %s"
                   % (dev_id, len(img), _hex(img)))
        if dev.get("name"):
            out.append("main_sdr_add 0x20 "
                       + _hex(fru_locator_record(dev_id, dev["name"])))
    out.append("mc_enable 0x20")
    return "\n".join(out) + "\n"


LAN_CONF = """name "wsmansim"
set_working_mc 0x20
  startlan 1
    addr 127.0.0.1 %(port)d
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid a123456789abcdefa123456789abcdef
  endlan
  console 127.0.0.1 %(console)d
  chassis_control "%(chassis)s 0x20"
  user 1 true  ""      "test"       user  10 none md2 md5 straight
  user 2 true  "%(user)s" "%(password)s" admin 10 none md2 md5 straight
  user 3 true  "%(ouser)s" "%(opassword)s" operator 10 none md2 md5 straight
"""

# ipmi_sim runs `<prog> 0x20 get power` (answer "power:1") and
# `<prog> 0x20 set power "0"` / `set reset "1"` / `set shutdown "1"` /
# `set boot "pxe"` / `set identify "15 0"`; a power cycle is `set power 0`
# and, one second later, `set power 1`.
CHASSIS_SH = """#!/bin/sh
# chassis control program for ipmi_sim (generated by t/ipmi_sim.py)
dir='%(dir)s'
echo "$(date +%%s.%%N) $*" >> "$dir/chassis.log"
shift
op=$1
shift
case "$op" in
get)
    for p in "$@"; do
        case "$p" in
        power) echo "power:$(cat "$dir/power" 2>/dev/null || echo 1)" ;;
        boot) echo "boot:$(cat "$dir/boot" 2>/dev/null || echo default)" ;;
        *) echo "Invalid parameter: $p"; exit 1 ;;
        esac
    done ;;
set)
    while [ $# -ge 2 ]; do
        case "$1" in
        power) echo "$2" > "$dir/power.tmp"
               mv "$dir/power.tmp" "$dir/power" ;;
        shutdown) [ "$2" = 1 ] && echo 0 > "$dir/power" ;;
        reset) ;;
        boot) echo "$2" > "$dir/boot" ;;
        identify) shift ;;
        *) echo "Invalid parameter: $1"; exit 1 ;;
        esac
        shift 2
    done ;;
*) echo "Unknown operation: $op"; exit 1 ;;
esac
exit 0
"""


# ------------------------------------------------------------ the BMC --

def free_tcp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class ToolError(RuntimeError):
    pass


class IpmiSim:
    """One ipmi_sim in `directory` on 127.0.0.1:port (UDP)."""

    def __init__(self, directory, port=None):
        self.dir = pathlib.Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_udp_port()
        self.console_port = free_tcp_port()
        self.proc = None
        self.state = self.dir / "state"
        self.sdr_cache = self.dir / "sdrcache"
        self.power_file = self.dir / "power"
        self.chassis_log_file = self.dir / "chassis.log"
        self.chassis_prog = self.dir / "chassis.sh"
        self.lan_conf = self.dir / "lan.conf"
        self.emu = self.dir / "sim.emu"
        self.starts = 0
        self._write_files()

    @property
    def host(self):
        """freeipmi has no port option: the port goes into the host."""
        return "127.0.0.1:%d" % self.port

    def wsman_ipmi(self, extra="", password_file=None):
        """What a wsman_ipmi directive names to reach this simulator as
        its administrator; extra: further parameters (timeout=2s ...)."""
        if password_file is None:
            password_file = self.dir / "bmc.password"
            password_file.write_text(PASSWORD + "\n")
        return ("%s user=%s password_file=%s workaround=opensesspriv %s"
                % (self.host, USER, password_file, extra)).rstrip()

    def _write_files(self):
        self.state.mkdir(exist_ok=True)
        self.sdr_cache.mkdir(exist_ok=True)
        self.power_file.write_text("1\n")
        self.chassis_log_file.write_text("")
        self.chassis_prog.write_text(CHASSIS_SH % {"dir": self.dir})
        self.chassis_prog.chmod(0o755)
        self.lan_conf.write_text(LAN_CONF % {
            "port": self.port, "console": self.console_port,
            "chassis": self.chassis_prog,
            "user": USER, "password": PASSWORD,
            "ouser": OPERATOR, "opassword": OPERATOR_PASSWORD})
        self.emu.write_text(emu_text())

    # -- process --

    def start(self, timeout=15):
        """Start, wait until bmc-info answers, fill the SEL (first start)
        and set the SEL clock to now."""
        assert self.proc is None or self.proc.poll() is not None, \
            "ipmi_sim already running"
        if not os.path.exists(IPMI_SIM):
            raise RuntimeError("%s missing: apt-get install openipmi "
                               "freeipmi-tools" % IPMI_SIM)
        first = self.starts == 0
        for _ in range(3):
            self._spawn()
            try:
                self._ready(timeout)
                if not first or self.fill_sel():
                    self.set_sel_time("now")
                    return self
            except BaseException:
                self.kill()
                raise
            # a record got the wrong second: again from an empty state
            self.kill()
            shutil.rmtree(self.state)
            self.state.mkdir()
        raise RuntimeError("ipmi_sim on %s: the SEL records never got "
                           "their timestamps" % self.host)

    def _spawn(self):
        self.starts += 1
        log = open(self.dir / ("sim.%d.log" % self.starts), "wb")
        self.proc = subprocess.Popen(
            [IPMI_SIM, "-c", str(self.lan_conf), "-f", str(self.emu),
             "-s", str(self.state), "-n"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            cwd=str(self.dir), start_new_session=True)
        log.close()

    def _ready(self, timeout):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("ipmi_sim exited (rc=%s): %s" % (
                    self.proc.returncode, self.sim_log()[-2000:]))
            try:
                self.tool("bmc-info", "--get-device-id",
                          session_timeout=1000, timeout=5)
                break
            except (ToolError, subprocess.TimeoutExpired) as e:
                last = e
                time.sleep(0.1)
        else:
            # with -n ipmi_sim says nothing: a bad sim.emu line stops its
            # setup silently (run it without -n in self.dir to see why)
            raise RuntimeError("ipmi_sim on %s did not answer within %ss: "
                               "%s" % (self.host, timeout, last))

    def fill_sel(self):
        """Add the SEL records, each stamped with its own timestamp ->
        True when every record has the model's bytes.  ipmi_sim stamps a
        record with its SEL clock's whole seconds (the host's seconds plus
        the offset Set SEL Time sets), so a Set SEL Time and its Add SEL
        Entry must fall into the same host second: all of them go in one
        ipmi-raw session (milliseconds), started early in a second."""
        lines = []
        for r in SEL:
            ts = r.timestamp
            lines.append("0x00 0x0a 0x49 " + _hex(bytes(
                [ts & 0xff, (ts >> 8) & 0xff, (ts >> 16) & 0xff, ts >> 24])))
            lines.append("0x00 0x0a 0x44 "
                         + _hex(bytes([0x00, 0x00, 0x02]) + r.body()))
        cmds = self.dir / "fill_sel.raw"
        cmds.write_text("\n".join(lines) + "\n")
        if time.time() % 1 > 0.5:
            time.sleep(1.01 - time.time() % 1)
        out = self.tool("ipmi-raw", "--file=%s" % cmds).split("\n")
        answers = [a for a in out if a.startswith("rcvd:")]
        if len(answers) != len(lines) or not all(
                re.match(r"^rcvd: (49|44) 00\b", a) for a in answers):
            raise ToolError("filling the SEL: %r" % out)
        want = {i + 1: r.record(i + 1) for i, r in enumerate(SEL)}
        return self.sel_hex() == want

    def add_sel_entry(self, record):
        """Add SEL Entry (storage netfn 0x0a, command 0x44)."""
        data = bytes([0x00, 0x00, 0x02]) + record.body()
        out = self.tool("ipmi-raw", "0x00", "0x0a", "0x44",
                        *("0x%02x" % b for b in data))
        if not re.match(r"^rcvd: 44 00 ", out.strip()):
            raise ToolError("Add SEL Entry: %r" % out)
        return int(out.split()[4], 16) << 8 | int(out.split()[3], 16)

    def sim_log(self):
        p = self.dir / ("sim.%d.log" % self.starts)
        try:
            return p.read_text(errors="replace")
        except OSError:
            return ""

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        """SIGKILL (the BMC vanishes without a word)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                self.proc.kill()
        self.proc.wait()

    stop = kill

    def restart(self, timeout=15):
        """Start again on the same port with the persisted SDR/SEL and
        the same power state file."""
        self.kill()
        return self.start(timeout)

    def close(self, remove=False):
        self.kill()
        if remove:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- freeipmi tools --

    def console(self, *commands, timeout=10):
        """Run emulator commands (the .emu's language) on the running
        simulator through its console, as an operator would change the
        BMC (a sensor reading, a new SDR record).  One command at a time:
        each is done when the console prompts again (a burst of lines can
        be cut short; "quit" would end ipmi_sim)."""
        deadline = time.time() + timeout
        with socket.create_connection(("127.0.0.1", self.console_port),
                                      timeout=timeout) as c:
            seen = b""

            def prompts(n):
                nonlocal seen
                while seen.count(b"> ") < n:
                    assert time.time() < deadline, seen
                    data = c.recv(4096)
                    assert data, "ipmi_sim console closed: %r" % seen
                    seen += data

            prompts(1)
            for cmd in commands:
                n = seen.count(b"> ")
                c.sendall(cmd.encode() + b"\n")
                prompts(n + 1)
            return seen.decode("latin-1")

    def tool_args(self, user=USER, password=PASSWORD, privilege="ADMIN"):
        return ["-h", self.host, "-u", user, "-p", password,
                "-D", "LAN_2_0", "-W", "opensesspriv", "-l", privilege]

    def tool(self, name, *args, session_timeout=5000, timeout=30,
             check=True, **login):
        """Run /usr/sbin/<name> against the simulator -> stdout text."""
        cmd = (["/usr/sbin/" + name] + self.tool_args(**login)
               + ["--session-timeout=%d" % session_timeout,
                  "--retransmission-timeout=%d"
                  % max(100, session_timeout // 5)] + list(args))
        p = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=timeout, env=TOOL_ENV,
                           stdin=subprocess.DEVNULL)
        if check and p.returncode != 0:
            raise ToolError("%s failed (rc=%d): %s%s" % (
                " ".join(cmd[:1] + list(args)), p.returncode, p.stderr,
                p.stdout))
        return p.stdout

    def _sdr_args(self):
        return ["--sdr-cache-directory=%s" % self.sdr_cache,
                "--sdr-cache-recreate", "--quiet-cache"]

    def sensors(self):
        """ipmi-sensors -> {record id: {...}} parsed, see parse_sensors."""
        out = self.tool("ipmi-sensors", "--no-header-output",
                        "--comma-separated-output", "--output-sensor-state",
                        "--output-sensor-thresholds",
                        "--non-abbreviated-units", *self._sdr_args())
        return parse_sensors(out)

    def sensors_by_name(self):
        return {s["name"]: s for s in self.sensors().values()}

    def sel(self):
        out = self.tool("ipmi-sel", "-v", "--no-header-output",
                        "--comma-separated-output", "--output-event-state",
                        *self._sdr_args())
        return parse_sel(out)

    def sel_hex(self):
        """ipmi-sel --hex-dump -> {record id: 16 bytes}"""
        out = self.tool("ipmi-sel", "--hex-dump", *self._sdr_args())
        return parse_sel_hex(out)

    def sel_info(self):
        return parse_colon_list(self.tool("ipmi-sel", "--info"))

    def clear_sel(self):
        self.tool("ipmi-sel", "--clear")

    def fru(self):
        return parse_fru(self.tool("ipmi-fru", *self._sdr_args()))

    def chassis_status(self):
        return parse_colon_list(self.tool("ipmi-chassis", "--get-status"))

    def power(self):
        """"on" or "off" as ipmi-chassis --get-status says."""
        return self.chassis_status()["System Power"]

    def chassis_control(self, what):
        """power-down, power-up, power-cycle, hard-reset, ..."""
        self.tool("ipmi-chassis", "--chassis-control=%s" % what)

    def set_sel_time(self, when="now"):
        self.tool("bmc-device", "--set-sel-time=%s" % when)

    def device_id(self):
        return parse_colon_list(self.tool("bmc-info", "--get-device-id"))

    def chassis_log(self):
        """[(time, [args after the device])] of every chassis program
        call, e.g. (t, ['set', 'power', '0'])."""
        out = []
        for line in self.chassis_log_file.read_text().splitlines():
            parts = line.split()
            if len(parts) < 2:
                continue
            out.append((float(parts[0]),
                        [a.strip('"') for a in parts[2:]]))
        return out

    def power_file_state(self):
        return self.power_file.read_text().strip()


# -------------------------------------------------------- tool parsers --

def _csv(line):
    """freeipmi's comma-separated output: fields never contain commas
    except inside quotes of the event list."""
    fields, cur, quoted = [], "", False
    for ch in line:
        if ch == "'":
            quoted = not quoted
        if ch == "," and not quoted:
            fields.append(cur)
            cur = ""
        else:
            cur += ch
    fields.append(cur)
    return fields


def _num(text):
    text = text.strip()
    if text in ("", "N/A"):
        return None
    return float(text)


def events_of(field):
    """"'A' 'B'" -> ["A", "B"]; "N/A" -> []"""
    return re.findall(r"'([^']*)'", field)


def parse_sensors(out):
    """ipmi-sensors --no-header-output --comma-separated-output
    --output-sensor-state --output-sensor-thresholds: fields
    ID,Name,Type,State,Reading,Units,LNR,LC,LNC,UNC,UC,UNR,Event.
    Thresholds by the spec's index (0 LNC, 1 UNC, 2 LC, 3 UC, 4 LNR,
    5 UNR); reading None for N/A."""
    sensors = {}
    for line in out.splitlines():
        if not line.strip():
            continue
        f = _csv(line)
        if len(f) != 13:
            raise ValueError("ipmi-sensors line with %d fields: %r"
                             % (len(f), line))
        th = {}
        for idx, col in ((4, 6), (2, 7), (0, 8), (1, 9), (3, 10), (5, 11)):
            v = _num(f[col])
            if v is not None:
                th[idx] = v
        rid = int(f[0])
        sensors[rid] = {
            "id": rid, "name": f[1], "type": f[2], "state": f[3],
            "reading": _num(f[4]), "units": f[5], "thresholds": th,
            "events": events_of(f[12]), "event_field": f[12],
        }
    return sensors


def parse_sel(out):
    """ipmi-sel --no-header-output --comma-separated-output
    --output-event-state: ID,Date,Time,Name,Type,State,Event Direction,
    Event -> [{id, timestamp (epoch, None for PostInit/N/A), ...}]"""
    records = []
    for line in out.splitlines():
        if not line.strip():
            continue
        f = line.split(",", 7)
        if len(f) != 8:
            raise ValueError("ipmi-sel line: %r" % line)
        ts = None
        for fmt in ("%b-%d-%Y %H:%M:%S", "%m/%d/%Y %H:%M:%S"):
            try:
                ts = calendar.timegm(time.strptime(f[1] + " " + f[2], fmt))
                break
            except ValueError:
                pass
        records.append({
            "id": int(f[0]), "date": f[1], "time": f[2], "timestamp": ts,
            "name": f[3], "type": f[4], "state": f[5],
            "direction": f[6], "event": f[7],
        })
    return records


def parse_sel_hex(out):
    """ipmi-sel --hex-dump: "RID:[01][00] RT:[02] TS:[..]... ED3: [4B]"
    lines -> {record id: the 16 record bytes}."""
    recs = {}
    for line in out.splitlines():
        b = bytes(int(x, 16) for x in
                  re.findall(r"\[([0-9A-Fa-f]{2})\]", line))
        if len(b) == 16:
            recs[b[0] | b[1] << 8] = b
    return recs


def parse_colon_list(out):
    """"Key   : value" lines -> {key: value} (first one wins)."""
    d = {}
    for line in out.splitlines():
        if ":" not in line:
            continue
        k, v = line.split(":", 1)
        d.setdefault(k.strip(), v.strip())
    return d


def parse_sel_time(text):
    """ipmi-sel --info timestamps: "MM/DD/YYYY - HH:MM:SS" -> epoch;
    "Post-Init N s" / "N/A" -> None."""
    m = re.match(r"^(\d\d/\d\d/\d{4}) - (\d\d:\d\d:\d\d)$", text.strip())
    if not m:
        return None
    return calendar.timegm(time.strptime(m.group(1) + " " + m.group(2),
                                         "%m/%d/%Y %H:%M:%S"))


def parse_fru(out):
    """ipmi-fru -> {device id: {"name": ..., "FRU Chassis Type": ...}}
    (the "FRU Inventory Device: <name> (ID 01h)" lines start a device;
    every "  FRU Xxx: value" line under it becomes a key)."""
    devs = {}
    cur = None
    for line in out.splitlines():
        m = re.match(r"^FRU Inventory Device: (.*) \(ID ([0-9A-Fa-f]+)h\)",
                     line.strip())
        if m:
            cur = {"name": m.group(1)}
            devs[int(m.group(2), 16)] = cur
            continue
        if cur is None or ":" not in line:
            continue
        k, v = line.split(":", 1)
        cur.setdefault(k.strip(), v.strip())
    return devs


# ----------------------------------------------------------------- main --

def _demo(sim):
    """Print what the tools read, drive power, restart."""
    import pprint
    pprint.pprint(sim.device_id())
    print("-- sensors"); pprint.pprint(sim.sensors())
    print("-- SEL"); pprint.pprint(sim.sel())
    print("-- SEL hex"); pprint.pprint(sim.sel_hex())
    print("-- SEL info"); pprint.pprint(sim.sel_info())
    print("-- FRU"); pprint.pprint(sim.fru())
    print("-- chassis"); print(sim.power())
    sim.chassis_control("power-down")
    print("after power-down:", sim.power(), sim.power_file_state())
    sim.chassis_control("power-up")
    print("after power-up:", sim.power())
    sim.chassis_control("power-cycle")
    print("during cycle:", sim.power())
    time.sleep(1.5)
    print("after cycle:", sim.power())
    sim.chassis_control("hard-reset")
    pprint.pprint(sim.chassis_log()[-6:])
    t = time.time()
    sim.restart()
    print("restarted in %.2fs" % (time.time() - t))
    print("sensors after restart:", len(sim.sensors()),
          "SEL:", len(sim.sel()), "FRU:", sorted(sim.fru()))


def _serve(sim):
    """Print how to reach the simulator and wait for Ctrl-C."""
    unit = os.path.join(os.path.dirname(os.path.abspath(__file__)), "unit")
    if not os.path.relpath(unit).startswith(".."):
        unit = os.path.relpath(unit)
    print("BMC       %s (UDP, lanplus; workaround opensesspriv)\n"
          "admin     %s / %s\n"
          "operator  %s / %s\n"
          "console   127.0.0.1:%d (TCP, emu commands one per line)\n"
          "directory %s (sim.N.log, chassis.log, power)\n\n"
          "  make -C %s ipmi_bmc_probe\n"
          "  %s/ipmi_bmc_probe %s %s %s -W opensesspriv\n"
          "  ipmi-sensors %s --sdr-cache-directory=%s\n"
          "  wsman_ipmi %s user=%s password_file=FILE "
          "workaround=opensesspriv;\n\n"
          "Ctrl-C stops it."
          % (sim.host, USER, PASSWORD, OPERATOR, OPERATOR_PASSWORD,
             sim.console_port, sim.dir, unit, unit, sim.host, USER, PASSWORD,
             " ".join(sim.tool_args()), sim.sdr_cache, sim.host, USER),
          flush=True)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    while sim.running:
        time.sleep(0.5)
    print("ipmi_sim exited (rc=%s)" % sim.proc.returncode)


def _main():
    import argparse
    ap = argparse.ArgumentParser(
        description="Start the test BMC (OpenIPMI ipmi_sim) on 127.0.0.1.")
    ap.add_argument("--port", type=int, help="UDP port (default: free)")
    ap.add_argument("--dir", help="its directory, new or empty (default: "
                    "a temp dir, removed at the end unless --keep)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the directory")
    ap.add_argument("--demo", action="store_true",
                    help="print what freeipmi's tools read, drive power, "
                    "restart, and stop")
    args = ap.parse_args()
    if args.dir and os.path.isdir(args.dir) and os.listdir(args.dir):
        # a second first start would add the SEL records again
        ap.error("%s is not empty" % args.dir)
    d = args.dir or tempfile.mkdtemp(prefix="ipmisim-")
    sim = IpmiSim(d, port=args.port)
    try:
        t = time.time()
        sim.start()
        print("ipmi_sim on %s up in %.2fs" % (sim.host, time.time() - t),
              flush=True)
        if args.demo:
            _demo(sim)
        else:
            _serve(sim)
    except KeyboardInterrupt:
        pass
    finally:
        keep = args.keep or args.dir is not None
        sim.close(remove=not keep)
        if keep:
            print("directory kept:", d)


if __name__ == "__main__":
    _main()
