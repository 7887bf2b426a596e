#!/usr/bin/env python3
"""Compares t/unit/ipmi_bmc_probe's dump with freeipmi's tools.

    python3 t/ipmi/compare_tools.py HOST:PORT [USER PASSWORD]

Runs the probe and ipmi-sensors, ipmi-sel, ipmi-fru, ipmi-chassis and
bmc-info against the same BMC (LAN_2_0, -W opensesspriv, ADMIN: what
ipmi_sim needs) and prints one line per compared value, "ok" or
"DIFF"; the exit status is 1 when anything differs.
"""

import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PROBE = os.path.join(HERE, '..', 'unit', 'ipmi_bmc_probe')

failures = 0


def check(what, mine, theirs):
    global failures
    same = mine == theirs
    if not same:
        failures += 1
    print('%-4s %s: probe %r, tool %r' % ('ok' if same else 'DIFF', what,
                                          mine, theirs))


def run(cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True,
                          text=True).stdout


def parse_probe(text):
    """the probe's dump as dicts"""
    sensors, sel, frus, chassis = {}, {}, {}, {}
    cur = None
    for line in text.splitlines():
        m = re.match(r'sensor (\d+)\.(\d+)\.(\d+) "(.*)"$', line)
        if m:
            # keyed by name: ipmi-sensors' ID column is the record id
            cur = sensors.setdefault(m.group(4), {'name': m.group(4)})
            continue
        m = re.match(r'record (\d+) type', line)
        if m:
            cur = sel.setdefault(int(m.group(1)), {})
            continue
        m = re.match(r'fru (\d+) "(.*)"$', line)
        if m:
            cur = frus.setdefault(int(m.group(1)), {'name': m.group(2)})
            continue
        if line.startswith('chassis:') or line.startswith('sel:'):
            cur = chassis if line.startswith('chassis:') else sel
        if cur is None:
            continue
        for k, v in re.findall(r'(\w+) "([^"]*)"', line):
            cur[k] = v
        m = re.search(r'reading (N/A|-?[\d.]+)', line)
        if m and line.startswith('  reading'):
            cur['reading'] = m.group(1)
        m = re.match(r'  type 0x\w+ "(.*)" event', line)
        if m:
            cur['type'] = m.group(1)
        m = re.match(r'  units \d+ rate \d+ "(.*)" r_exp', line)
        if m:
            cur['units'] = m.group(1)
        if line.startswith('  thresholds'):
            cur['thresholds'] = dict(re.findall(r'(L\w+|U\w+) (-?[\d.]+)',
                                                line))
        m = re.match(r'  event_type 0x\w+ (\w+) message "(.*)"$', line)
        if m:
            cur['direction'] = m.group(1)
            cur['message'] = m.group(2)
        m = re.match(r'  generator \S+ sensor_type \S+ "(.*)" number \d+'
                     r' name "(.*)"$', line)
        if m:
            cur['type_name'] = m.group(1)
            cur['sensor_name'] = m.group(2)
        for k, v in re.findall(r'(\w+) (\d+|0x\w+)(?= |$)', line):
            cur.setdefault(k, v)
    return sensors, sel, frus, chassis


def main():
    host = sys.argv[1]
    user = sys.argv[2] if len(sys.argv) > 2 else 'admin'
    password = sys.argv[3] if len(sys.argv) > 3 else 'Passw0rd1'
    auth = ['-h', host, '-u', user, '-p', password, '-D', 'LAN_2_0',
            '-W', 'opensesspriv', '-l', 'ADMIN']

    probe = run([PROBE, host, user, password, '-W', 'opensesspriv'])
    sensors, sel, _, chassis = parse_probe(probe)

    cache = tempfile.mkdtemp(prefix='compare-sdr-')
    sdr = ['--sdr-cache-directory=' + cache, '--quiet-cache']

    # ipmi-sensors: ID,Name,Type,State,Reading,Units,LNR,LC,LNC,UNC,UC,UNR,
    # Event
    out = run(['ipmi-sensors'] + auth + sdr + [
        '--comma-separated-output', '--no-header-output',
        '--output-sensor-thresholds', '--output-sensor-state',
        '--non-abbreviated-units', '--shared-sensors'])
    check('sensor count', len(sensors), len(out.splitlines()))
    names = ['LNR', 'LC', 'LNC', 'UNC', 'UC', 'UNR']
    for line in out.splitlines():
        f = line.split(',')
        num = f[1]
        mine = sensors.get(num, {})
        check('sensor %s name' % num, mine.get('name'), f[1])
        check('sensor %s type' % num, mine.get('type'), f[2])
        state = {'Nominal': 'OK', 'N/A': 'Unknown'}.get(f[3], f[3])
        check('sensor %s state' % num, mine.get('state'), state)
        threshold = mine.get('threshold') == '1'
        if threshold:
            check('sensor %s reading' % num, mine.get('reading'), f[4])
            check('sensor %s units' % num, mine.get('units'), f[5])
        theirs = {n: v for n, v in zip(names, f[6:12]) if v != 'N/A'}
        check('sensor %s thresholds' % num, mine.get('thresholds'), theirs)
        event = f[12].strip("'")
        event = '' if event in ('OK', 'N/A') else event
        check('sensor %s events' % num, mine.get('events'),
              event.replace("' '", '; '))

    # ipmi-sel: ID,Date,Time,Name,Type,Event Direction,Event
    out = run(['ipmi-sel'] + auth + sdr + [
        '--comma-separated-output', '--no-header-output', '-v'])
    records = [r for r in sel if isinstance(r, int)]
    check('SEL record count', len(records), len(out.splitlines()))
    for line in out.splitlines():
        f = line.split(',', 6)
        rid = int(f[0])
        mine = sel.get(rid, {})
        name = f[3]
        if name == 'N/A' or name.startswith('Sensor #'):
            name = ''
        check('SEL %d sensor name' % rid, mine.get('sensor_name'), name)
        check('SEL %d type' % rid, mine.get('type_name') or 'N/A', f[4])
        if f[5] != 'N/A':
            check('SEL %d direction' % rid, mine.get('direction'),
                  f[5].replace(' Event', ''))
        check('SEL %d message' % rid, mine.get('message'), f[6])

    out = run(['ipmi-sel'] + auth + ['--info'])
    info = dict(re.findall(r'^(.*?)\s+: (.*)$', out, re.M))
    check('SEL entries', sel.get('entries'), info['Number of log entries'])
    check('SEL free space', sel.get('free_space') + ' bytes',
          info['Free space remaining'])
    check('SEL version', sel.get('version'),
          '0x%s%s' % tuple(reversed(info['SEL version'].split('.'))))

    # ipmi-fru (exits 1 when a device does not answer)
    out = run(['ipmi-fru'] + auth + sdr, check=False)
    fields = {
        'FRU Chassis Part Number': ('chassis', 'part'),
        'FRU Chassis Serial Number': ('chassis', 'serial'),
        'FRU Board Manufacturer': ('board', 'manufacturer'),
        'FRU Board Product Name': ('board', 'product'),
        'FRU Board Serial Number': ('board', 'serial'),
        'FRU Board Part Number': ('board', 'part'),
        'FRU Product Manufacturer Name': ('product', 'manufacturer'),
        'FRU Product Name': ('product', 'name'),
        'FRU Product Part/Model Number': ('product', 'part'),
        'FRU Product Version': ('product', 'version'),
        'FRU Product Serial Number': ('product', 'serial'),
        'FRU Product Asset Tag': ('product', 'asset'),
    }
    fru_lines = {}
    dev = None
    for line in out.splitlines():
        m = re.match(r'FRU Inventory Device: (.*) \(ID (\w+)h\)', line)
        if m:
            dev = int(m.group(2), 16)
            fru_lines[dev] = {'name': m.group(1)}
            continue
        m = re.match(r'\s+(FRU [^:]*): (.*)$', line)
        if m and dev is not None:
            fru_lines[dev][m.group(1)] = m.group(2)
    probe_frus = {}
    for line in probe.splitlines():
        m = re.match(r'fru (\d+) "(.*)"$', line)
        if m:
            dev = int(m.group(1))
            probe_frus[dev] = {'name': m.group(2)}
            continue
        m = re.match(r'  (chassis|board|product) (.*)$', line)
        if m:
            for k, v in re.findall(r'(\w+) "([^"]*)"', m.group(2)):
                probe_frus[dev][(m.group(1), k)] = v
    for dev, tool in fru_lines.items():
        if len(tool) == 1:
            # listed by ipmi-fru but unreadable: the probe skips it
            check('FRU %d skipped' % dev, dev in probe_frus, False)
            continue
        for label, key in fields.items():
            check('FRU %d %s' % (dev, label),
                  probe_frus.get(dev, {}).get(key, ''), tool.get(label, ''))
        name = probe_frus.get(dev, {}).get('name')
        tool_name = tool['name']
        if tool_name == 'Default FRU Device':
            tool_name = 'FRU %d' % dev
        check('FRU %d name' % dev, name, tool_name)

    # ipmi-chassis --get-status
    out = run(['ipmi-chassis'] + auth + ['--get-status'])
    status = dict(re.findall(r'^(.*?)\s+: (.*)$', out, re.M))
    check('power on', chassis.get('power_on'),
          '1' if status['System Power'] == 'on' else '0')
    policies = {'Always off': '0', 'Restore power to state when AC '
                'power was lost': '1', 'Always on': '2', 'Unknown': '3'}
    check('restore policy', chassis.get('restore_policy'),
          policies.get(status['Power restore policy']))
    check('intrusion', chassis.get('intrusion'),
          '0' if status['Chassis intrusion'] == 'inactive' else '1')
    check('power fault', chassis.get('power_fault'),
          '0' if status['Power fault'] == 'false' else '1')

    # bmc-info
    out = run(['bmc-info'] + auth)
    info = dict(re.findall(r'^(\S.*?)\s+: (.*)$', out, re.M))
    check('firmware', chassis.get('firmware'), info['Firmware Revision'])
    check('manufacturer id', chassis.get('manufacturer_id'),
          re.search(r'\((\d+)\)', info['Manufacturer ID']).group(1))
    check('product id', chassis.get('product_id'), info['Product ID'])
    check('GUID', chassis.get('guid'), info['System GUID'])

    subprocess.run(['rm', '-rf', cache])
    print('%d differences' % failures)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
