# quiet.sh: sourced by bench scripts (sh). The machine is shared: wait for it to be quiet
# before a measured run, and say how busy it was.

# Percentage of both CPUs busy over 2 s.
busy() {
    set -- $(head -1 /proc/stat); t1=$(($2+$3+$4+$5+$6+$7+$8+$9)); i1=$(($5+$6))
    sleep 2
    set -- $(head -1 /proc/stat); t2=$(($2+$3+$4+$5+$6+$7+$8+$9)); i2=$(($5+$6))
    echo $((100 - (i2 - i1) * 100 / (t2 - t1)))
}

# quiet [PERCENT]: waits, up to QUIET_WAIT seconds (default 180), until other jobs leave
# the machine below PERCENT busy (default 30); prints the last reading.
quiet() {
    waited=0
    while b=$(busy) && [ "$b" -ge "${1:-30}" ] && [ $waited -lt "${QUIET_WAIT:-180}" ]; do
        waited=$((waited + 2))
    done
    echo "$b"
}
