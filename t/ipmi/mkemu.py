#!/usr/bin/env python3
"""Writes sim.emu, the ipmi_sim command file of the test BMC.

The SDR records and FRU images are byte strings in the .emu file; this
script builds them from named fields so they can be read and changed.
Run it after editing and commit both files:

    python3 t/ipmi/mkemu.py > t/ipmi/sim.emu

See README.md for what the simulated BMC contains.
"""

import datetime

BMC = 0x20

# IPMI units (IPMI 2.0 table 43-15)
DEG_C, VOLTS, RPM = 1, 4, 18

# sensor types (table 42-3)
TEMPERATURE, VOLTAGE, FAN, PHYS_SECURITY, ENTITY_PRESENCE = 1, 2, 4, 5, 0x25


def id_string(s):
    b = s.encode('ascii')
    assert len(b) <= 16
    return [0xC0 | len(b)] + list(b)


def sdr(record_type, body):
    # record id 0: ipmi_sim numbers the records itself
    return [0x00, 0x00, 0x51, record_type, len(body)] + body


def full_sensor(num, name, stype, entity, inst, unit, m, r_exp, thr,
                readable, scanning=True, fmt=0):
    """A Full Sensor Record of a threshold sensor; thr: raw thresholds
    (lnc, lc, lnr, unc, uc, unr), readable: the same order, 0/1."""
    # SDR threshold mask order: lnc, lc, lnr, unc, uc, unr
    mask = sum(1 << i for i, on in enumerate(readable) if on)
    lnc, lc, lnr, unc, uc, unr = thr
    # assertion/deassertion events: lower ones going low, upper ones
    # going high; bits 12-14: which comparisons Get Sensor Reading returns
    events, lower, upper = 0, 0, 0
    for i, (going, cmp_bit) in enumerate(((0, 12), (2, 13), (4, 14),
                                          (7, 12), (9, 13), (11, 14))):
        if readable[i]:
            events |= 1 << going
            if i < 3:
                lower |= 1 << cmp_bit
            else:
                upper |= 1 << cmp_bit
    amask, dmask = events | lower, events | upper
    body = [
        BMC, 0x00, num, entity, inst,
        0x7f if scanning else 0x7e,      # init: scanning/events/thresholds
        0x68 if mask else 0x40,          # auto re-arm, thresholds settable
        stype, 0x01,                     # event/reading type: threshold
        amask & 0xff, amask >> 8,        # assertions, lower comparisons
        dmask & 0xff, dmask >> 8,        # deassertions, upper comparisons
        mask, mask,                      # readable, settable thresholds
        fmt << 6, unit, 0x00,            # units 1 (data format), 2, 3
        0x00,                            # linear
        m & 0xff, (m >> 8) & 0x03,       # M, tolerance 0
        0x00, 0x00,                      # B 0, accuracy 0
        0x00,                            # accuracy, direction unspecified
        (r_exp & 0x0f) << 4,             # R exponent, B exponent 0
        0x00, 0x00, 0x00, 0x00,          # analog flags, nominal, max, min
        0xff if fmt == 0 else 0x7f,      # sensor maximum reading
        0x00 if fmt == 0 else 0x80,      # sensor minimum reading
        unr, uc, unc, lnr, lc, lnc,
        0x00, 0x00,                      # hysteresis
        0x00, 0x00, 0x00,                # reserved, OEM
    ] + id_string(name)
    return sdr(0x01, body)


def compact_sensor(num, name, stype, entity, inst, states, share=1):
    """A Compact Sensor Record of a sensor-specific discrete sensor whose
    assertions of the listed state offsets are supported; share > 1: the
    record stands for sensors num .. num + share - 1, named name + 0, 1
    ... (numeric modifier from 0), entity instances inst, inst + 1 ..."""
    mask = sum(1 << s for s in states)
    body = [
        BMC, 0x00, num, entity, inst,
        0x63,                            # scanning, events enabled
        0x40,                            # auto re-arm, no thresholds
        stype, 0x6f,                     # sensor-specific discrete
        mask & 0xff, mask >> 8,          # assertion events
        mask & 0xff, mask >> 8,          # deassertion events
        mask & 0xff, mask >> 8,          # readable states
        0x00, 0x00, 0x00,                # units: unspecified
        share & 0x0f,                    # share count, numeric modifier
        0x80 if share > 1 else 0x00,     # instances increment, from 0
        0x00, 0x00,                      # hysteresis
        0x00, 0x00, 0x00, 0x00,          # reserved, OEM
    ] + id_string(name)
    return sdr(0x02, body)


def fru_locator(dev, name, entity, inst):
    body = [
        BMC, dev,
        0x80,                            # logical FRU device, LUN 0
        0x00, 0x00,                      # channel 0, reserved
        0x10, 0x00,                      # FRU behind the controller
        entity, inst, 0x00,
    ] + id_string(name)
    return sdr(0x11, body)


def mc_locator(name):
    body = [
        BMC, 0x00,
        0x00,                            # no power state notification
        0x9f,                            # chassis, SEL, SDR, FRU, sensors
        0x00, 0x00, 0x00,
        0x2e, 0x01, 0x00,                # entity: management controller
    ] + id_string(name)
    return sdr(0x12, body)


# FRU information (Platform Management FRU Information Storage Definition)

def fru_field(s):
    b = s.encode('ascii')
    return [0xC0 | len(b)] + list(b)


def fru_area(body):
    """version, length in 8-byte units, body, end marker, pad, checksum"""
    data = [0x01, 0x00] + body + [0xC1]
    while (len(data) + 1) % 8:
        data.append(0x00)
    data[1] = (len(data) + 1) // 8
    return data + [(-sum(data)) & 0xff]


def fru_image(chassis=None, board=None, product=None):
    areas, offsets = [], []
    at = 8
    for area in (chassis, board, product):
        if area is None:
            offsets.append(0)
            continue
        offsets.append(at // 8)
        areas += area
        at += len(area)
    header = [0x01, 0x00] + offsets + [0x00, 0x00]
    header.append((-sum(header)) & 0xff)
    return header + areas


def chassis_area(ctype, part, serial):
    return fru_area([ctype] + fru_field(part) + fru_field(serial))


def board_area(when, mfr, name, serial, part):
    epoch = datetime.datetime(1996, 1, 1, tzinfo=datetime.timezone.utc)
    minutes = int((when - epoch).total_seconds()) // 60
    return fru_area([0x00, minutes & 0xff, (minutes >> 8) & 0xff,
                     minutes >> 16]
                    + fru_field(mfr) + fru_field(name) + fru_field(serial)
                    + fru_field(part) + fru_field(''))


def product_area(mfr, name, part, version, serial, asset):
    return fru_area([0x00] + fru_field(mfr) + fru_field(name)
                    + fru_field(part) + fru_field(version)
                    + fru_field(serial) + fru_field(asset) + fru_field(''))


def hexbytes(data, per_line=16, indent='    '):
    lines = []
    for i in range(0, len(data), per_line):
        lines.append(indent + ' '.join('0x%02x' % b
                                       for b in data[i:i + per_line]))
    return ' \\\n'.join(lines)


def main():
    out = []
    emit = out.append

    emit('# ipmi_sim command file of the ngx_wsman IPMI tests: generated by')
    emit('# mkemu.py (edit that, not this).  See README.md.')
    emit('')
    emit('mc_setbmc 0x20')
    emit('# BMC: device id 0, revision 3, firmware 2.47 (minor is BCD),')
    emit('# IPMI 2.0 (0x02 is "IPMI 2.0" in the Get Device ID sense),')
    emit('# chassis+SEL+SDR+FRU+sensor device, manufacturer 0x1291,')
    emit('# product 0x0f02')
    emit('mc_add 0x20 0 no-device-sdrs 0x03 2 0x47 0x9f 0x1291 0xf02')
    emit('sel_enable 0x20 64 0x0a')
    emit('')

    sensors = [
        # num, name, type, entity, inst, unit, M, R, raw thresholds
        # (lnc, lc, lnr, unc, uc, unr), readable, raw value
        (1, 'CPU Temp', TEMPERATURE, 0x03, 1, DEG_C, 1, 0,
         (10, 5, 2, 75, 85, 95), (1, 1, 1, 1, 1, 1), 45),
        (2, '12V', VOLTAGE, 0x07, 1, VOLTS, 6, -2,
         (190, 180, 170, 210, 220, 230), (1, 1, 1, 1, 1, 1), 200),
        (3, 'FAN1', FAN, 0x1d, 1, RPM, 5, 1,
         (20, 10, 0, 0, 0, 0), (1, 1, 0, 0, 0, 0), 72),
        (4, 'Inlet Temp', TEMPERATURE, 0x37, 1, DEG_C, 1, 0,
         (0, 0, 0, 35, 45, 50), (0, 0, 0, 1, 1, 1), 40),
    ]

    for (num, name, stype, ent, inst, unit, m, r, thr, rd, val) in sensors:
        # ipmi_sim's bit order: 0 lnc, 1 lc, 2 lnr, 3 unc, 4 uc, 5 unr
        bits = [rd[0], rd[1], rd[2], rd[3], rd[4], rd[5]]
        enabled = ''.join('1' if b else '0' for b in reversed(bits))
        lnc, lc, lnr, unc, uc, unr = thr
        emit('# sensor %d "%s"' % (num, name))
        emit('sensor_add 0x20 0 %d 0x%02x 0x01' % (num, stype))
        emit('sensor_set_threshold 0x20 0 %d settable %s'
             ' %d %d %d %d %d %d' % (num, enabled, unr, uc, unc, lnr, lc,
                                     lnc))
        emit('sensor_set_event_support 0x20 0 %d enable scanning per-state'
             ' \\\n    000111111111111 000111111111111 \\\n'
             '    000111111111111 000111111111111' % num)
        emit('sensor_set_value 0x20 0 %d %d 1' % (num, val))
        emit('main_sdr_add 0x20 \\\n' + hexbytes(
            full_sensor(num, name, stype, ent, inst, unit, m, r, thr, rd)))
        emit('')

    emit('# sensor 5 "PSU1 Presence": Entity Presence, "Entity Present"')
    emit('sensor_add 0x20 0 5 0x25 0x6f')
    emit('sensor_set_event_support 0x20 0 5 enable scanning per-state \\\n'
         '    000000000000111 000000000000111 \\\n'
         '    000000000000111 000000000000111')
    emit('sensor_set_bit_clr_rest 0x20 0 5 0 0')
    emit('main_sdr_add 0x20 \\\n' + hexbytes(
        compact_sensor(5, 'PSU1 Presence', ENTITY_PRESENCE, 0x0a, 1,
                       (0, 1, 2))))
    emit('')

    emit('# sensor 6 "Chassis Intru": Physical Security,'
         ' "General Chassis Intrusion"')
    emit('sensor_add 0x20 0 6 0x05 0x6f')
    emit('sensor_set_event_support 0x20 0 6 enable scanning per-state \\\n'
         '    000000001111111 000000001111111 \\\n'
         '    000000001111111 000000001111111')
    emit('sensor_set_bit_clr_rest 0x20 0 6 0 0')
    emit('main_sdr_add 0x20 \\\n' + hexbytes(
        compact_sensor(6, 'Chassis Intru', PHYS_SECURITY, 0x17, 1,
                       range(7))))
    emit('')

    emit('# sensors 10 and 11 "DIMM0", "DIMM1": one shared Compact record;')
    emit('# DIMM0 present, DIMM1 absent')
    for num, bit in ((10, 0), (11, 1)):
        emit('sensor_add 0x20 0 %d 0x25 0x6f' % num)
        emit('sensor_set_event_support 0x20 0 %d enable scanning per-state'
             ' \\\n    000000000000011 000000000000011 \\\n'
             '    000000000000011 000000000000011' % num)
        emit('sensor_set_bit_clr_rest 0x20 0 %d %d 0' % (num, bit))
    emit('main_sdr_add 0x20 \\\n' + hexbytes(
        compact_sensor(10, 'DIMM', ENTITY_PRESENCE, 0x20, 1, (0, 1),
                       share=2)))
    emit('')

    emit('# sensor 7 "PSU2 Temp": scanning disabled, no reading')
    emit('sensor_add 0x20 0 7 0x01 0x01')
    emit('sensor_set_value 0x20 0 7 50 0')
    emit('main_sdr_add 0x20 \\\n' + hexbytes(
        full_sensor(7, 'PSU2 Temp', TEMPERATURE, 0x0a, 2, DEG_C, 1, 0,
                    (0, 0, 0, 0, 0, 0), (0, 0, 0, 0, 0, 0),
                    scanning=False)))
    emit('')

    emit('# sensor 8 "Ambient Temp": 2\'s complement, -5 C, no thresholds')
    emit('sensor_add 0x20 0 8 0x01 0x01')
    emit('sensor_set_event_support 0x20 0 8 enable scanning per-state \\\n'
         '    000000000000000 000000000000000 \\\n'
         '    000000000000000 000000000000000')
    emit('sensor_set_value 0x20 0 8 0xfb 0')
    emit('main_sdr_add 0x20 \\\n' + hexbytes(
        full_sensor(8, 'Ambient Temp', TEMPERATURE, 0x37, 2, DEG_C, 1, 0,
                    (0, 0, 0, 0, 0, 0), (0, 0, 0, 0, 0, 0), fmt=2)))
    emit('')

    emit('# FRU device locators: 1 has data, 2 does not answer')
    emit('main_sdr_add 0x20 \\\n' + hexbytes(
        fru_locator(1, 'PSU1 FRU', 0x0a, 1)))
    emit('main_sdr_add 0x20 \\\n' + hexbytes(
        fru_locator(2, 'PSU2 FRU', 0x0a, 2)))
    emit('main_sdr_add 0x20 \\\n' + hexbytes(mc_locator('Feas BMC')))
    emit('')

    when = datetime.datetime(2024, 1, 15, 8, 30,
                             tzinfo=datetime.timezone.utc)
    fru0 = fru_image(
        chassis=chassis_area(0x17, 'CH-1000-01', 'CHS123456'),
        board=board_area(when, 'Feas Systems', 'FS-MB-9', 'MB00042',
                         'MB-9-REV-B'),
        product=product_area('Feas Systems', 'FeasServer 9000', 'FS9000-A',
                             '1.2', 'SRV-0001', 'ASSET-77'))
    fru1 = fru_image(
        board=board_area(when, 'PowerCo', 'PSU 800W', 'PSU1-9999',
                         'PWR-800-A'))
    for dev, image in ((0, fru0), (1, fru1)):
        size = (len(image) + 15) // 16 * 16
        image = image + [0] * (size - len(image))
        emit('# FRU device %d' % dev)
        emit('mc_add_fru_data 0x20 %d 0x%x data \\\n%s'
             % (dev, size, hexbytes(image)))
        emit('')

    sel = [
        # record type, generator id, sensor type, number, dir|type,
        # data 1-3
        ('CPU Temp upper critical going high, reading 90, threshold 85',
         0x02, (0x20, 0x00), TEMPERATURE, 1, 0x01, (0x59, 90, 85)),
        ('the same, deasserted',
         0x02, (0x20, 0x00), TEMPERATURE, 1, 0x81, (0x59, 80, 85)),
        ('General Chassis Intrusion',
         0x02, (0x20, 0x00), PHYS_SECURITY, 6, 0x6f, (0x00, 0xff, 0xff)),
        ('PSU1 Presence: Entity Present',
         0x02, (0x20, 0x00), ENTITY_PRESENCE, 5, 0x6f, (0x00, 0xff, 0xff)),
        ('memory correctable ECC from a sensor without SDR (0x40)',
         0x02, (0x20, 0x00), 0x0c, 0x40, 0x6f, (0x00, 0xff, 0xff)),
    ]
    emit('# SEL: the sensor_set_value ... 1 above already logged the')
    emit('# threshold crossings of sensor 4 (Inlet Temp, upper non-critical')
    emit('# going high); these follow')
    for (what, rtype, gen, stype, num, evt, data) in sel:
        rec = [0, 0, 0, 0, gen[0], gen[1], 0x04, stype, num, evt] \
            + list(data)
        emit('# ' + what)
        emit('sel_add 0x20 0x%02x %s' % (rtype, ' '.join('0x%02x' % b
                                                         for b in rec)))
    emit('# an OEM timestamped record (type 0xc1): manufacturer 0x1291')
    emit('sel_add 0x20 0xc1 0 0 0 0 0x91 0x12 0x00 1 2 3 4 5 6')
    emit('')
    emit('mc_enable 0x20')
    print('\n'.join(out))


if __name__ == '__main__':
    main()
