#!/bin/sh
# Start ipmi_sim with the test BMC on 127.0.0.1:PORT, everything under DIR
# (wiped first: ipmi_sim keeps the SEL and SDRs in its state directory and
# would add the .emu's records again on top of them).
#
#   t/ipmi/start_sim.sh DIR PORT [CONSOLE_PORT]
#
# prints the simulator's pid once it listens; stop it with kill PID.
# With CONSOLE_PORT, ipmi_sim also takes emu commands (sim.emu's language:
# sensor_set_value, sel_add, main_sdr_add ...) on 127.0.0.1:CONSOLE_PORT,
# one per line over TCP (e.g. printf 'sel_add ...\n' | nc -q1 ...).
set -eu

dir=$1
port=$2
console=${3:-}
here=$(cd "$(dirname "$0")" && pwd)

if ss -Hlun "sport = :$port" | grep -q .; then
    echo "UDP port $port is in use already" >&2
    exit 1
fi

rm -rf "$dir"
mkdir -p "$dir/state"
cp "$here/sim.emu" "$here/chassis_control.sh" "$dir/"
sed -e "s|@PORT@|$port|g" -e "s|@DIR@|$dir|g" "$here/lan.conf.in" \
    > "$dir/lan.conf"
if [ -n "$console" ]; then
    echo "console 127.0.0.1 $console" >> "$dir/lan.conf"
fi
echo 1 > "$dir/power"

ipmi_sim -c "$dir/lan.conf" -f "$dir/sim.emu" -s "$dir/state" -n \
    > "$dir/sim.log" 2>&1 &
pid=$!
echo $pid > "$dir/sim.pid"

# the emu file is read before the LAN port opens: listening is ready
i=0
while [ $i -lt 50 ]; do
    if ss -Hlun "sport = :$port" | grep -q .; then
        echo $pid
        exit 0
    fi
    if ! kill -0 $pid 2>/dev/null; then
        echo "ipmi_sim exited, see $dir/sim.log" >&2
        exit 1
    fi
    sleep 0.1
    i=$((i + 1))
done

echo "ipmi_sim does not listen on $port, see $dir/sim.log" >&2
kill $pid
exit 1
