#!/usr/bin/env bats
# Finding the server without --server: the SRV records of
# _xmpps-client._tcp (XEP-0368, direct TLS) and _xmpp-client._tcp
# (STARTTLS), in RFC 2782 order, each target tried until one answers,
# and the domain itself when there are none (RFC 6120 §3.2.1).
#
# The test owns the DNS: a private network and mount namespace
# (`unshare -n -m`, as root) whose /etc/resolv.conf names 127.0.0.1,
# where each test runs a dnsmasq of its own with the records it needs.
# The file's server runs in the same namespace, so the records can
# point at its ports (and a relay can stand on 5222 or 5223 for the
# domain-itself cases); everything else runs through `in_ns`.

load helpers

# The namespace: a process that holds it, for nsenter to join.
setup_file() {
    [ "$(id -u)" -eq 0 ] ||
        skip "needs root: the DNS is faked in a private namespace (unshare -n -m)"
    local tool
    for tool in unshare nsenter ip dnsmasq; do
        command -v "$tool" >/dev/null ||
            skip "needs $tool (Debian: util-linux, iproute2, dnsmasq-base)"
    done
    local dir="$BATS_FILE_TMPDIR/ns"
    mkdir -p "$dir"
    echo "nameserver 127.0.0.1" >"$dir/resolv.conf"
    unshare -n -m sh -c "ip link set lo up &&
        mount --bind '$dir/resolv.conf' /etc/resolv.conf &&
        echo ready >'$dir/ready' && exec sleep 100000" \
        >/dev/null 2>&1 </dev/null 3>&- &
    export NS_PID=$!
    wait_for "$dir/ready" ready 10 || { kill "$NS_PID"; return 1; }
    # server_up, in the namespace.
    export XS_STATE="$BATS_FILE_TMPDIR/server"
    in_ns "$SERVER" start "$XS_STATE" alice
    set -a
    # shellcheck disable=SC1091
    . "$XS_STATE/env"
    set +a
    export XDG_CONFIG_HOME="$BATS_FILE_TMPDIR/config"
    unset XMPP_JID XMPP_PASSWORD XMPP_ACCOUNT
}

teardown_file() {
    [ -n "${XS_STATE:-}" ] && in_ns "$SERVER" stop "$XS_STATE"
    [ -n "${NS_PID:-}" ] && stop_bg "$NS_PID"
    return 0
}

teardown() {
    [ -n "${DNS_PID:-}" ] && stop_bg "$DNS_PID"
    [ -n "${RELAY_PID:-}" ] && stop_bg "$RELAY_PID"
    return 0
}

# in_ns COMMAND...: run it in the namespace.
in_ns() {
    nsenter -t "$NS_PID" -n -m --wd="$PWD" -- "$@"
}

# dns RECORD...: the namespace's DNS server, answering with these SRV
# records (dnsmasq's --srv-host=NAME,TARGET,PORT,PRIORITY,WEIGHT; NAME
# alone: the target "."), and nothing else. Sets DNS_PID.
dns() {
    local args=() r log="$BATS_TEST_TMPDIR/dnsmasq.log"
    for r in "$@"; do args+=(--srv-host="$r"); done
    # Not through in_ns: $! must be dnsmasq itself (nsenter execs it).
    nsenter -t "$NS_PID" -n -m -- dnsmasq --keep-in-foreground --no-resolv \
        --no-hosts --listen-address=127.0.0.1 --bind-interfaces --pid-file= \
        --log-facility=- "${args[@]}" >"$log" 2>&1 </dev/null 3>&- &
    DNS_PID=$!
    wait_for "$log" "started" 10 || { cat "$log" >&2; return 1; }
}

# relay PORT TARGET: 127.0.0.1:PORT to the server's TARGET port, in the
# namespace (a server on the domain's default port). Sets RELAY_PID.
relay() {
    local log="$BATS_TEST_TMPDIR/relay.log"
    nsenter -t "$NS_PID" -n -m -- "$BATS_TEST_DIRNAME/proxy.py" "$1" "$2" \
        >"$log" 2>&1 </dev/null 3>&- &
    RELAY_PID=$!
    local i
    for i in $(seq 1 100); do
        in_ns python3 -c "import socket; socket.create_connection(('127.0.0.1', $1)).close()" \
            2>/dev/null && return 0
        sleep 0.05
    done
    cat "$log" >&2
    return 1
}

# ask [ARGS...]: alice asks her server's software version with -v, no
# --server: the connection made from what the DNS says.
ask() {
    in_ns env XMPP_PASSWORD="$(pass_of alice)" "$XMPP" version \
        -j "$(jid_of alice)" --ca-file "$XS_CA" -v -t "$(slow 10)" "$@" \
        "$XS_DOMAIN"
}

XMPPS=_xmpps-client._tcp.localhost
XMPP_C=_xmpp-client._tcp.localhost

# The server's answer came (the session was up) and the first line of
# stdout is its software.
assert_answered() {
    assert_success
    assert_line --index 0 --regexp "^$(server_software)$TAB"
}

@test "srv: only _xmpps-client: direct TLS to its target" {
    dns "$XMPPS,localhost,$XS_TLS_PORT,0,0"
    run --separate-stderr ask
    assert_answered
    [[ $stderr == *"connecting to localhost:$XS_TLS_PORT (direct TLS, from SRV)"* ]]
    [[ $stderr != *"<starttls"* ]]
}

@test "srv: only _xmpp-client: STARTTLS to its target" {
    dns "$XMPP_C,localhost,$XS_PORT,0,0"
    run --separate-stderr ask
    assert_answered
    [[ $stderr == *"connecting to localhost:$XS_PORT (STARTTLS, from SRV)"* ]]
    [[ $stderr == *"SENT: <starttls"* ]]
}

@test "srv: both, _xmpps-client at the better priority: direct TLS" {
    dns "$XMPP_C,localhost,$XS_PORT,10,0" "$XMPPS,localhost,$XS_TLS_PORT,5,0"
    run --separate-stderr ask
    assert_answered
    [[ $stderr == *"connecting to localhost:$XS_TLS_PORT (direct TLS, from SRV)"* ]]
    [[ $stderr != *"connecting to localhost:$XS_PORT"* ]]
    [[ $stderr != *"<starttls"* ]]
}

@test "srv: both, _xmpp-client at the better priority: STARTTLS" {
    dns "$XMPP_C,localhost,$XS_PORT,5,0" "$XMPPS,localhost,$XS_TLS_PORT,10,0"
    run --separate-stderr ask
    assert_answered
    [[ $stderr == *"connecting to localhost:$XS_PORT (STARTTLS, from SRV)"* ]]
    [[ $stderr == *"SENT: <starttls"* ]]
}

@test "srv: a target that takes no connection: the next one is tried" {
    local dead
    dead=$(closed_port)
    dns "$XMPPS,localhost,$dead,0,0" "$XMPP_C,localhost,$XS_PORT,10,0"
    run --separate-stderr ask
    assert_answered
    [[ $stderr == *"connecting to localhost:$dead (direct TLS, from SRV)"* ]]
    [[ $stderr == *"localhost:$dead: Connection refused"* ]]
    [[ $stderr == *"connecting to localhost:$XS_PORT (STARTTLS, from SRV)"* ]]
}

@test "srv: no target takes a connection: 69, naming the domain and the count" {
    local dead1 dead2
    dead1=$(closed_port)
    dead2=$(closed_port)
    dns "$XMPPS,localhost,$dead1,0,0" "$XMPP_C,localhost,$dead2,10,0"
    run --separate-stderr ask
    assert_failure 69
    assert_equal "${stderr_lines[-1]}" \
        "xmpp version: cannot connect to localhost (SRV, 2 targets tried): Connection refused"
    [ -z "$output" ]
}

@test "srv: the target \".\" says there is no service: 69 at once" {
    dns "$XMPP_C" "$XMPPS"
    run --separate-stderr ask
    assert_failure 69
    assert_equal "${stderr_lines[-1]}" \
        "xmpp version: localhost has no XMPP service: its SRV records say so (target \".\", RFC 2782); if a server does serve it, give --server HOST"
    [[ $stderr != *"connecting to"* ]]
}

@test "srv: \".\" for _xmpps-client only: the _xmpp-client target is used" {
    dns "$XMPPS" "$XMPP_C,localhost,$XS_PORT,10,0"
    run --separate-stderr ask
    assert_answered
    [[ $stderr == *"connecting to localhost:$XS_PORT (STARTTLS, from SRV)"* ]]
}

@test "srv: no records: the domain itself on 5222 with STARTTLS" {
    dns
    relay 5222 "$XS_PORT"
    run --separate-stderr ask
    assert_answered
    [[ $stderr == *"connecting to localhost:5222 (STARTTLS, no SRV records)"* ]]
    [[ $stderr == *"SENT: <starttls"* ]]
}

@test "srv: no records and nothing on 5222: 69, naming where it dialled" {
    dns
    run --separate-stderr ask
    assert_failure 69
    assert_equal "${stderr_lines[-1]}" \
        "xmpp version: cannot connect to localhost:5222 (no SRV records): Connection refused"
}

@test "srv: --direct-tls looks up _xmpps-client only, else the domain on 5223" {
    dns "$XMPP_C,localhost,$XS_PORT,0,0"
    relay 5223 "$XS_TLS_PORT"
    run --separate-stderr ask --direct-tls
    assert_answered
    [[ $stderr == *"connecting to localhost:5223 (direct TLS, no SRV records)"* ]]
    [[ $stderr != *"connecting to localhost:$XS_PORT"* ]]
}

@test "srv: --server and the config's server skip the lookup" {
    dns "$XMPP_C" "$XMPPS" # no service, if it were asked
    run --separate-stderr ask --server "127.0.0.1:$XS_PORT"
    assert_answered
    [[ $stderr != *"connecting to"* ]]
    export XDG_CONFIG_HOME="$BATS_TEST_TMPDIR/config"
    mkdir -p "$XDG_CONFIG_HOME/xmpp"
    printf '[default]\njid = %s\nserver = 127.0.0.1\nport = %s\ndirect_tls = true\n' \
        "$(jid_of alice)" "$XS_TLS_PORT" >"$XDG_CONFIG_HOME/xmpp/config"
    chmod 600 "$XDG_CONFIG_HOME/xmpp/config"
    run --separate-stderr ask
    assert_answered
    [[ $stderr != *"connecting to"* ]]
    [[ $stderr != *"<starttls"* ]]
}
