#!/bin/sh
# ipmi_sim's external chassis control program (lan.conf: chassis_control
# "chassis_control.sh STATEFILE").  ipmi_sim runs it through popen() as
#
#   chassis_control.sh STATEFILE get power            -> prints "power:0|1"
#   chassis_control.sh STATEFILE set power "0|1"      (power down/up)
#   chassis_control.sh STATEFILE set reset "1"        (hard reset)
#   chassis_control.sh STATEFILE set shutdown "1"     (soft shutdown)
#   chassis_control.sh STATEFILE set boot "pxe" ...   (boot device)
#
# A non-zero exit makes ipmi_sim answer the command with completion code
# 0xff.  The power state lives in STATEFILE ("1" or "0", on when absent);
# every call is appended to STATEFILE.log so tests can see what was asked.

state=$1
shift
op=$1
shift

echo "$op $*" >> "$state.log"

power() {
    if [ -f "$state" ]; then cat "$state"; else echo 1; fi
}

case $op in
get)
    for parm in "$@"; do
        case $parm in
        power) echo "power:$(power)" ;;
        boot)  echo "boot:default" ;;
        *)     echo "unknown parameter $parm"; exit 1 ;;
        esac
    done
    ;;
set)
    while [ $# -ge 2 ]; do
        case $1 in
        power)    echo "$2" > "$state" ;;
        shutdown) echo 0 > "$state" ;;      # the OS "shuts down" at once
        reset)    ;;                         # a pulse: power stays as is
        boot)     ;;
        identify) shift ;;                   # takes interval and force
        *)        echo "unknown parameter $1"; exit 1 ;;
        esac
        shift 2
    done
    ;;
*)
    echo "unknown operation $op"
    exit 1
    ;;
esac
exit 0
