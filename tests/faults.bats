#!/usr/bin/env bats
# Faults and attacks that no real server produces, played by a scripted
# hostile server (tests/hostile.py MODE): a TLS handshake that stalls, a
# SCRAM iteration count that takes hours. Whatever the library is doing,
# -t and SIGTERM/SIGINT end the run in time (common/net/watchdog.c).
# What a real server does is tested against the real server, here too.

load helpers

setup_file() { server_up; }
teardown_file() { server_down; }

teardown() {
    [ -z "${HOSTILE_PID:-}" ] || stop_bg "$HOSTILE_PID"
}

# at_hostile TOOL [ARGS...]: run a tool as alice against the hostile
# server, trusting the test certificate (which scram-iterations serves).
at_hostile() {
    local tool=$1
    shift
    XMPP_PASSWORD=$(pass_of alice) "$XMPP" "$tool" -j "$(jid_of alice)" \
        --server "127.0.0.1:$HOSTILE_PORT" --ca-file "$XS_CA" "$@"
}

# timed CMD...: run CMD (through bats' run) and set ELAPSED, in seconds.
timed() {
    local start
    start=$(date +%s.%N)
    run "$@"
    ELAPSED=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
}

# within SECONDS: ELAPSED is at most SECONDS (scaled by slow).
within() {
    echo "took $ELAPSED s, allowed $(slow "$1") s" >&3
    awk -v e="$ELAPSED" -v m="$(slow "$1")" 'BEGIN { exit !(e <= m) }'
}

# Bounds: the deadline, the watchdog's grace (1 s), and 1 s for start-up
# and a loaded machine.

@test "deadline: a TLS handshake stalled after <proceed/> ends at -t: 75 and one line" {
    hostile starttls-stall
    timed at_hostile send -t "$(slow 3)" "$(jid_of bob)" -m x
    assert_failure 75
    assert_output "xmpp send: timed out connecting to 127.0.0.1:$HOSTILE_PORT (--timeout) during the TLS handshake"
    within 5
}

@test "deadline: a direct TLS port that never answers the ClientHello ends at -t: 75" {
    hostile silent
    timed at_hostile send --direct-tls -t "$(slow 3)" "$(jid_of bob)" -m x
    assert_failure 75
    assert_output "xmpp send: timed out connecting to 127.0.0.1:$HOSTILE_PORT (--timeout) during the TLS handshake"
    within 5
}

@test "signals: SIGTERM and SIGINT during a stalled TLS handshake end the run within 2 s: 128+N" {
    hostile starttls-stall
    local sig rc pid start
    for sig in TERM INT; do
        # Not through at_hostile: $! must be xmpp itself.
        XMPP_PASSWORD=$(pass_of alice) "$XMPP" send -j "$(jid_of alice)" -v \
            --server "127.0.0.1:$HOSTILE_PORT" --ca-file "$XS_CA" \
            "$(jid_of bob)" -m x 2>"$BATS_TEST_TMPDIR/$sig.err" 3>&- &
        pid=$!
        wait_for "$BATS_TEST_TMPDIR/$sig.err" "RECV: <proceed"
        start=$(date +%s.%N)
        kill -"$sig" "$pid"
        rc=0
        wait "$pid" || rc=$?
        ELAPSED=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
        within 2
        case $sig in
        TERM) [ "$rc" -eq 143 ]
            grep -qx "xmpp send: terminated (SIGTERM) while connecting to 127.0.0.1:$HOSTILE_PORT during the TLS handshake" \
                "$BATS_TEST_TMPDIR/$sig.err" ;;
        INT) [ "$rc" -eq 130 ]
            grep -qx "xmpp send: interrupted (SIGINT) while connecting to 127.0.0.1:$HOSTILE_PORT during the TLS handshake" \
                "$BATS_TEST_TMPDIR/$sig.err" ;;
        esac
    done
}

# ---- the real server: the watchdog stays out of normal runs ----

@test "deadline: a run that ends at the deadline and closes after it exits 0, nothing said" {
    # ping -c 0 pings until the deadline; the answers make it a success,
    # and the goodbye comes after the deadline, under the watchdog.
    timed --separate-stderr xmpp_as alice ping -c 0 -i 0.2 -t "$(slow 2)"
    assert_success
    assert_output --partial "--- localhost ping statistics ---"
    assert_output --partial " 0% lost"
    [ -z "$stderr" ]
    within 3
}

@test "deadline: a reader that stops reading does not hold recv past -t: 75, naming stdout" {
    new_user erin
    local big
    big=$(printf '%3000s' '' | tr ' ' a)
    # 120 KB waiting for erin: more than a pipe holds.
    for i in $(seq 1 40); do echo "$big $i"; done |
        xmpp_as alice send --lines "$(jid_of erin)"
    # A FIFO nobody reads (opened read-write here, so that it opens).
    mkfifo "$BATS_TEST_TMPDIR/out"
    exec 5<>"$BATS_TEST_TMPDIR/out"
    recv_stuck() { xmpp_as erin recv -t "$(slow 3)" >&5; }
    timed recv_stuck
    exec 5>&-
    assert_failure 75
    assert_output --partial "xmpp recv: deadline reached (--timeout) while writing to standard output, which is not being read"
    within 5
}
