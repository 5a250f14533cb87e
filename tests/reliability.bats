#!/usr/bin/env bats
# Delivery guarantees and faults: receipts, Stream Management, reconnects,
# a killed, stalled or restarted server, a cut or dead network (keepalive,
# --retry), bad certificates. The server is always the real one; faults
# are injected around it (a TCP relay we can kill or black-hole,
# SIGKILL/SIGSTOP, other certificates).

load helpers

setup_file() { server_up; }
teardown_file() { server_down; }

setup() {
    T=$BATS_TEST_TMPDIR
    EXTRA="$T/extra"
    : >"$EXTRA"
}

# Whatever a test started beyond the file's server, stopped even when it
# failed: relays by PID, servers by their directory.
teardown() {
    kill -CONT "$(server_pid)" 2>/dev/null || true
    while read -r kind what; do
        case $kind in
        pid) kill "$what" 2>/dev/null || true ;;
        server) "$SERVER" stop "$what" ;;
        esac
    done <"$EXTRA"
}

# The server's PID now: a restart in an earlier test changed it.
server_pid() {
    sed -n 's/^XS_PID=//p' "$XS_STATE/env"
}

free_port() { closed_port; }

# relay PORT TARGET [CUT]: a TCP relay to the server; sets RELAY_PID.
relay() {
    "$BATS_TEST_DIRNAME/proxy.py" "$@" 3>&- 4>&- &
    RELAY_PID=$!
    echo "pid $RELAY_PID" >>"$EXTRA"
    wait_port "$1"
}

# other_server DIR [ENV...]: a second server (e.g. with another
# certificate); its env is read into O_* by the caller.
other_server() {
    local dir=$1
    shift
    env "$@" "$SERVER" start "$dir" alice
    echo "server $dir" >>"$EXTRA"
}

# cert NAME CN NOTBEFORE NOTAFTER: a self-signed certificate for CN.
cert() {
    local d="$BATS_TEST_TMPDIR/$1"
    mkdir -p "$d/db"
    : >"$d/db/index"
    echo 01 >"$d/db/serial"
    cat >"$d/ca.cnf" <<EOF
[ca]
default_ca = d
[d]
database = $d/db/index
new_certs_dir = $d/db
serial = $d/db/serial
default_md = sha256
policy = p
x509_extensions = ext
[p]
commonName = supplied
[ext]
subjectAltName = DNS:$2
EOF
    openssl req -new -newkey rsa:2048 -nodes -subj "/CN=$2" \
        -keyout "$d/key.pem" -out "$d/req.csr" 2>/dev/null
    openssl ca -batch -config "$d/ca.cnf" -selfsign -keyfile "$d/key.pem" \
        -in "$d/req.csr" -out "$d/cert.pem" -startdate "$3" -enddate "$4" \
        2>/dev/null
}

# as_alice_at DIR TOOL ARGS...: run a tool as alice on another server.
as_alice_at() {
    local dir=$1 tool=$2
    shift 2
    (
        # shellcheck disable=SC1091
        . "$dir/env"
        XMPP_PASSWORD=$XS_PASS_alice "$XMPP" "$tool" -j "alice@$XS_DOMAIN" \
            --server "127.0.0.1:$XS_PORT" "$@"
    )
}

# ---- delivery ----

@test "send --receipt: exits 0 once the receiving client confirms" {
    recv_bg bob "$BATS_TEST_TMPDIR/out"
    run xmpp_as alice send --receipt "$(jid_of bob)" -m "receipt please"
    assert_success
    wait_for "$BATS_TEST_TMPDIR/out" "receipt please"
    kill "$RECV_PID"
}

@test "send --receipt: 75 at the deadline, naming who did not confirm" {
    recv_bg bob "$BATS_TEST_TMPDIR/out"
    run xmpp_as alice send --receipt -t "$(slow 3)" "$(jid_of bob)" "$(jid_of dave)" \
        -m "who confirms?"
    assert_failure 75
    assert_output --partial "no delivery receipt for 1 of 2 message(s)"
    assert_output --partial "dave@localhost"
    refute_output --partial "bob@localhost"
    kill "$RECV_PID"
}

@test "send --receipt --lines: names the lines each recipient did not confirm" {
    recv_bg bob "$BATS_TEST_TMPDIR/out"
    printf 'one\ntwo\nthree\n' >"$BATS_TEST_TMPDIR/in"
    run xmpp_as alice send --receipt --lines -t "$(slow 3)" "$(jid_of bob)" \
        "$(jid_of carol)" <"$BATS_TEST_TMPDIR/in"
    assert_failure 75
    assert_output --partial "no delivery receipt for 3 of 6 message(s)"
    assert_output --partial "carol@localhost (lines 1-3)"
    refute_output --partial "bob@localhost"
    kill "$RECV_PID"
}

@test "send --receipt with --id and several recipients is a usage error" {
    run xmpp_as alice send --receipt --id x1 "$(jid_of bob)" "$(jid_of carol)" -m hi
    assert_failure 64
    assert_output --partial "--id with --receipt"
}

@test "send: a message the server refuses exits 1 with the condition" {
    run xmpp_as alice send "nobody@$XS_DOMAIN" -m "to no one"
    assert_failure 1
    assert_output --partial "nobody@localhost: message refused: cancel/service-unavailable"
}

@test "send: with Stream Management asked for, a one-shot message is confirmed (-v shows it)" {
    # By an ack when <enabled/> came back in time, else by a ping sent
    # with the message: <r/> may not precede <enabled/>, and waiting for
    # <enabled/> would cost a round trip.
    run xmpp_as alice send -v "$(jid_of carol)" -m "acked"
    assert_success
    # Asked for after binding, or inline with Bind2 (ejabberd 24).
    assert_output --regexp "SENT: <enable xmlns='urn:xmpp:sm:3'/>|<bind xmlns=\"urn:xmpp:bind:0\">.*<enable xmlns=\"urn:xmpp:sm:3\"/>"
    assert_output --regexp "RECV: (<a [^>]*h=\"1\"|<iq id=\"xmpp-confirm-2\"[^>]* type=\"result\")"
    xmpp_as carol recv -n 1 -t 10 >/dev/null
}

@test "send --lines: once Stream Management is on, lines are confirmed by its acks" {
    # A line after <enabled/> came, with the input idle after it: asked
    # with <r/> (the last confirmation, at the end of the input, is a
    # ping: see session_confirm).
    mkfifo "$T/in"
    exec 4<>"$T/in"
    xmpp_as alice send --lines -v "$(jid_of carol)" <"$T/in" 2>"$T/err" 3>&- 4>&- &
    local pid=$!
    echo one >&4
    wait_for "$T/err" "<enabled "
    echo two >&4
    wait_for "$T/err" "SENT: <r xmlns='urn:xmpp:sm:3'/>"
    exec 4>&-
    wait "$pid"
    run cat "$T/err"
    assert_output --partial "SENT: <r xmlns='urn:xmpp:sm:3'/>"
    assert_output --regexp "RECV: <a [^>]*h=\"[0-9]+\""
    xmpp_as carol recv -n 2 -t 10 >/dev/null
}

@test "recv: messages beyond --count stay on the server for the next run" {
    xmpp_as dave recv --idle 1 -t 10 >/dev/null # what earlier tests left
    for i in 1 2 3; do
        xmpp_as alice send "$(jid_of dave)" -m "queued $i"
    done
    for i in 1 2 3; do
        run xmpp_as dave recv -n 1 -t 10
        assert_success
        assert_output --regexp "	queued $i$"
    done
    run xmpp_as dave recv -n 1 -t 2
    assert_failure 75
}

# ---- reconnecting ----

@test "recv --reconnect: messages sent after a server restart arrive" {
    recv_bg bob "$BATS_TEST_TMPDIR/out" --reconnect
    xmpp_as alice send "$(jid_of bob)" -m "before restart"
    wait_for "$BATS_TEST_TMPDIR/out" "before restart"
    "$SERVER" restart "$XS_STATE"
    # shellcheck disable=SC1091
    . "$XS_STATE/env"
    wait_for "$BATS_TEST_TMPDIR/out.err" "reconnected" 15
    xmpp_as alice send "$(jid_of bob)" -m "after restart"
    wait_for "$BATS_TEST_TMPDIR/out" "after restart"
    kill "$RECV_PID"
    wait "$RECV_PID" || true
    # Said once. ejabberd ends the stream with system-shutdown (RFC 6120
    # §4.9.3.20), which --reconnect rides out; Prosody 0.12 just closes
    # the connection of a session it could resume (mod_smacks).
    local said="connection lost"
    [ "$XS_IMPL" = ejabberd ] && said="the server closed the stream: system-shutdown; reconnecting in"
    run grep -c "$said" "$BATS_TEST_TMPDIR/out.err"
    assert_output 1
}

# cut_resumable_recv: bob's `recv --reconnect` through a relay on PORT,
# with a resumable session; then the relay is gone. Sets PORT and RECV.
cut_resumable_recv() {
    PORT=$(free_port)
    relay "$PORT" "$XS_PORT"
    XMPP_PASSWORD=$(pass_of bob) "$XMPP" recv --reconnect -j "$(jid_of bob)" \
        --server "127.0.0.1:$PORT" --ca-file "$XS_CA" -v \
        >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/out.err" 3>&- &
    RECV=$!
    echo "pid $RECV" >>"$EXTRA"
    wait_for "$BATS_TEST_TMPDIR/out.err" "<enabled [^>]*resume"
    kill "$RELAY_PID"
    wait "$RELAY_PID" || true
}

@test "recv --reconnect: a cut network resumes the session, nothing is lost" {
    cut_resumable_recv
    xmpp_as alice send "$(jid_of bob)" -m "sent during the cut"
    relay "$PORT" "$XS_PORT"
    wait_for "$BATS_TEST_TMPDIR/out.err" "reconnected; session resumed" 15
    wait_for "$BATS_TEST_TMPDIR/out" "sent during the cut" 20 || {
        grep -n "resume\|sent during\|<message" "$BATS_TEST_TMPDIR/out.err" | cut -c1-240 >&3
        false
    }
    kill "$RECV"
}

@test "recv --reconnect: the session is resumed after attempts that could not connect" {
    cut_resumable_recv
    xmpp_as alice send "$(jid_of bob)" -m "sent while unreachable"
    # The first attempt comes after about a second: it must find no one.
    wait_for "$BATS_TEST_TMPDIR/out.err" "cannot connect to 127.0.0.1:$PORT"
    relay "$PORT" "$XS_PORT"
    wait_for "$BATS_TEST_TMPDIR/out.err" "reconnected; session resumed" 15
    wait_for "$BATS_TEST_TMPDIR/out" "sent while unreachable"
    kill "$RECV"
}

@test "send --lines: a server killed mid-stream leaves every line accounted for" {
    recv_bg carol "$BATS_TEST_TMPDIR/out"
    # A deadline well past what the test needs: what is tested is the
    # loss at the kill, not the speed of a loaded server.
    # A pause after 5000 lines, until they have arrived and a second
    # more, lets acks for them come back first (by the input's progress,
    # not a guess at the machine's speed); the server dies while the
    # input still flows (line 6000 written).
    local spid
    spid=$(server_pid)
    (for i in $(seq 1 10000); do
        echo "line $i"
        if [ "$i" = 5000 ]; then
            wait_for "$BATS_TEST_TMPDIR/out" "	line 5000\$" 60
            sleep "$(slow 1)"
        fi
        [ "$i" = 6000 ] && kill -9 "$spid"
    done) | xmpp_as alice send --lines -t "$(slow 120)" "$(jid_of carol)" \
        2>"$BATS_TEST_TMPDIR/send.err" 3>&- &
    local send=$!
    local rc=0
    wait "$send" || rc=$?
    # Up again before anything can fail: the tests after this one need it.
    "$SERVER" restart "$XS_STATE"
    echo "exit $rc: $(cat "$BATS_TEST_TMPDIR/send.err")" >&3
    [ "$rc" -eq 74 ]
    # The report: "N line(s) not confirmed ...: stdin line(s) A-B[,..];
    # from line L on not sent", or "stdin from line L on was not sent".
    local last
    last=$(sed -n 's/.*from line \([0-9]*\) on \(was \)\?not sent.*/\1/p' \
        "$BATS_TEST_TMPDIR/send.err")
    [ -n "$last" ]
    last=$((last - 1))
    # Every line received was sent (<= last), so it was either confirmed
    # or reported unconfirmed: nothing arrived that the tool lost track of.
    local max
    max=$(sed -n 's/.*	line \([0-9]*\)$/\1/p' "$BATS_TEST_TMPDIR/out" | sort -n | tail -1)
    [ "$max" -le "$last" ]
    # Lines confirmed were received up to the first unconfirmed one.
    local first_unconfirmed
    first_unconfirmed=$(sed -n 's/.*stdin line(s) \([0-9]*\).*/\1/p' \
        "$BATS_TEST_TMPDIR/send.err")
    [ -z "$first_unconfirmed" ] || [ "$first_unconfirmed" -gt 5000 ]
}

# lines_to_dave: alice's `xmpp send --lines -v` to dave in the
# background, its stdin a FIFO written through fd 4, its stderr in
# $BATS_TEST_TMPDIR/err. Sets SEND_PID.
lines_to_dave() {
    mkfifo "$BATS_TEST_TMPDIR/in"
    XMPP_PASSWORD=$(pass_of alice) "$XMPP" send -j "$(jid_of alice)" -v \
        --server "127.0.0.1:$XS_PORT" --ca-file "$XS_CA" --lines "$(jid_of dave)" \
        <"$BATS_TEST_TMPDIR/in" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
    SEND_PID=$!
    exec 4>"$BATS_TEST_TMPDIR/in"
}

@test "send --lines: SIGTERM stops the reading, confirms what was sent, exits 0" {
    lines_to_dave
    printf 'first\nsecond\nhalf a li' >&4
    wait_for "$BATS_TEST_TMPDIR/err" "SENT: <message.*<body>second<"
    kill -TERM "$SEND_PID"
    local rc=0
    wait "$SEND_PID" || rc=$?
    exec 4>&-
    [ "$rc" -eq 0 ]
    grep -q "unfinished stdin line 3 was not sent" "$BATS_TEST_TMPDIR/err"
    run xmpp_as dave recv --idle 1 -t 10
    assert_line --partial "	first"
    assert_line --partial "	second"
    refute_output --partial "half a li"
}

@test "send --lines: after SIGINT it waits for the confirmation a stalled server owes, exits 0" {
    # Longer than the watchdog's grace after a signal (1 s), which must
    # not end the run once the tool has taken the signal over.
    drain dave
    lines_to_dave
    printf 'first\n' >&4
    wait_for "$BATS_TEST_TMPDIR/err" "SENT: <message.*<body>first<"
    kill -STOP "$(server_pid)"
    printf 'second\n' >&4
    wait_for "$BATS_TEST_TMPDIR/err" "SENT: <message.*<body>second<"
    kill -INT "$SEND_PID"
    sleep 2
    kill -CONT "$(server_pid)"
    local rc=0
    wait "$SEND_PID" || rc=$?
    exec 4>&-
    [ "$rc" -eq 0 ]
    run cat "$BATS_TEST_TMPDIR/err"
    refute_output --partial "interrupted (SIGINT)"
    run xmpp_as dave recv --idle 1 -t 10
    assert_line --partial "	first"
    assert_line --partial "	second"
}

# ---- dead links: keepalive ----

# in_background USER OUT PORT TOOL ARGS...: `xmpp TOOL ARGS` as USER
# through 127.0.0.1:PORT, in the background (BG): stdout to OUT, stderr
# with the XML console to OUT.err, stdin the caller's.
in_background() {
    local user=$1 out=$2 port=$3 tool=$4
    shift 4
    rm -f "$out.err" # what an earlier run left must not count as ready
    XMPP_PASSWORD=$(pass_of "$user") "$XMPP" "$tool" -j "$(jid_of "$user")" \
        --server "127.0.0.1:$port" --ca-file "$XS_CA" -v "$@" \
        <&0 >"$out" 2>"$out.err" 3>&- 4>&- &
    BG=$!
    echo "pid $BG" >>"$EXTRA"
}

# through_relay USER OUT TOOL ARGS...: the same through a relay of its
# own (PORT, RELAY_PID); returns once Stream Management is on (ours, or
# the library's with --reconnect).
through_relay() {
    local user=$1 out=$2
    shift 2
    PORT=$(free_port)
    relay "$PORT" "$XS_PORT"
    in_background "$user" "$out" "$PORT" "$@"
    wait_for "$out.err" "<enabled " 10 || {
        cat "$out.err" >&2
        return 1
    }
}

# stops_on_sigterm: the tool (BG) ends with 0 on SIGTERM, the way a
# listener is meant to stop.
stops_on_sigterm() {
    kill "$BG"
    local rc=0
    wait "$BG" || rc=$?
    [ "$rc" -eq 0 ]
}

# stdin_ends STATUS: the test closes the tool's stdin (fd 4), and the
# tool (BG) must end with STATUS.
stdin_ends() {
    exec 4>&-
    local rc=0
    wait "$BG" || rc=$?
    [ "$rc" -eq "$1" ]
}

# restart_server: the suite's server stops and starts again, with
# nothing to resume; it must not hold a test's stdin pipe (fd 4) open.
restart_server() {
    "$SERVER" restart "$XS_STATE" 4>&-
    # shellcheck disable=SC1091
    . "$XS_STATE/env"
}

# The NAT between the tool and the server forgets the connection: both
# ends stay open, and nothing passes any more.
black_hole() { kill -USR1 "$RELAY_PID"; }

# What the tool said on stderr, without the XML console.
said() { grep -v -e '^SENT: ' -e '^RECV: ' -e '^\[' "$1"; }

@test "recv --reconnect --keepalive 5: a dead link is noticed, the session resumed, what came meanwhile printed" {
    through_relay bob "$T/out" recv --reconnect --keepalive 5
    wait_for "$T/out.err" "RECV: <presence"
    black_hole
    xmpp_as alice send "$(jid_of bob)" -m "sent while the link was dead"
    wait_for "$T/out.err" "reconnected; session resumed" 30
    wait_for "$T/out" "sent while the link was dead"
    stops_on_sigterm
    run grep -c "sent while the link was dead" "$T/out"
    assert_output 1
    run said "$T/out.err"
    assert_line --index 0 --regexp "^xmpp recv: connection lost: no answer from the server for 1[0-2] s \(--keepalive 5\); reconnecting in [0-9.]+ s$"
    assert_line --index 1 "xmpp recv: reconnected; session resumed"
}

@test "recv --keepalive 5 without --reconnect: a dead link ends it with 74 within twice the keepalive" {
    through_relay bob "$T/out" recv --keepalive 5
    wait_for "$T/out.err" "RECV: <presence"
    local start=$EPOCHREALTIME rc=0
    black_hole
    wait "$BG" || rc=$?
    local took
    took=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { print int(b - a) }')
    echo "noticed after ${took} s" >&3
    [ "$rc" -eq 74 ]
    # 5 s of silence, then 5 s for an answer to the <r/>: within 2 x 5 s of
    # the last word from the server, which came before the link died.
    [ "$took" -le "$(slow 11)" ]
    run said "$T/out.err"
    assert_output --regexp "^xmpp recv: connection lost: no answer from the server for 1[0-2] s \(--keepalive 5\); --reconnect rides this out$"
    grep -q "SENT: <r xmlns='urn:xmpp:sm:3'/>" "$T/out.err"
}

@test "--keepalive 0 turns it off: a dead link goes unnoticed until the deadline" {
    through_relay bob "$T/out" recv --keepalive 0 -t "$(slow 6)"
    black_hole
    local rc=0
    wait "$BG" || rc=$?
    [ "$rc" -eq 0 ]
    run said "$T/out.err"
    assert_output ""
}

@test "every tool that stays connected notices a dead link: 74, one line" {
    local k tool args
    k=$(slow 2)
    local room="dead$BATS_TEST_NUMBER@conference.localhost"
    xmpp_as alice muc create "$room"
    mkfifo "$T/in"
    exec 4<>"$T/in" # shell's stdin stays open
    while read -r tool args; do
        # shellcheck disable=SC2086
        through_relay bob "$T/out" $tool $args --keepalive "$k" <"$T/in"
        black_hole
        local rc=0
        wait "$BG" || rc=$?
        echo "$tool $args: exit $rc: $(said "$T/out.err")" >&3
        [ "$rc" -eq 74 ]
        run said "$T/out.err"
        assert_output --regexp "^xmpp $tool: connection lost: no answer from the server for [0-9]+ s \(--keepalive $k\); --reconnect rides this out$"
    done <<EOF
recv
presence set
presence watch
presence wait $(jid_of bob)/elsewhere
pubsub listen
recv --muc $room
shell
EOF
    exec 4>&-
    xmpp_as alice muc destroy "$room"
}

@test "presence watch --reconnect: a presence sent while the link was dead is printed after resuming" {
    through_relay bob "$T/out" presence watch --reconnect --keepalive "$(slow 2)"
    wait_for "$T/out.err" "RECV: <presence"
    black_hole
    # Our own account's other resources always see each other.
    xmpp_as bob presence set --resource elsewhere --status "while dead" --for 0.5
    wait_for "$T/out.err" "reconnected; session resumed" 30
    wait_for "$T/out" "while dead"
    kill "$BG"
    run grep "while dead" "$T/out"
    assert_output --regexp "^bob@localhost/elsewhere${TAB}available${TAB}-1${TAB}while dead$"
}

@test "pubsub listen --reconnect: a notification sent while the link was dead is printed after resuming" {
    local n="deadlink$BATS_TEST_NUMBER"
    xmpp_as dave pubsub --service pubsub.localhost create "$n"
    xmpp_as bob pubsub --service pubsub.localhost subscribe "$n"
    through_relay bob "$T/out" pubsub --service pubsub.localhost listen "$n" \
        --reconnect --keepalive "$(slow 2)"
    wait_for "$T/out.err" "RECV: <presence"
    black_hole
    xmpp_as dave pubsub --service pubsub.localhost publish "$n" --id dead1 \
        '<note xmlns="urn:example">while dead</note>'
    wait_for "$T/out.err" "reconnected; session resumed" 30
    wait_for "$T/out" "while dead"
    kill "$BG"
    run cat "$T/out"
    assert_output "pubsub.localhost${TAB}$n${TAB}item${TAB}dead1${TAB}<note xmlns=\"urn:example\">while dead</note>"
    xmpp_as dave pubsub --service pubsub.localhost delete "$n"
}

# in_rooms OUT N: the listener writing OUT.err is in N rooms (the room's
# own presence for us carries status 110, once per join).
in_rooms() {
    local i
    for i in $(seq 1 200); do
        [ "$(grep -c 'status code="110"' "$1.err" 2>/dev/null)" -ge "$2" ] &&
            return 0
        sleep 0.05
    done
    cat "$1.err" >&2
    return 1
}

@test "recv --muc --reconnect: a room's message sent while the link was dead is printed after resuming" {
    local room="deadlink$BATS_TEST_NUMBER@conference.localhost"
    xmpp_as alice muc create "$room"
    through_relay bob "$T/out" recv --muc "$room" --reconnect \
        --keepalive "$(slow 2)"
    in_rooms "$T/out" 1
    black_hole
    xmpp_as alice send --muc "$room" -m "said while the link was dead"
    wait_for "$T/out.err" "reconnected; session resumed" 30
    wait_for "$T/out" "while the link was dead"
    stops_on_sigterm
    run cat "$T/out"
    # Held for us while the link was dead: the server may stamp it.
    assert_output --regexp "^$room/alice${TAB}groupchat( \\[delay: [^]]+\\])?${TAB}said while the link was dead\$"
    # Resumed: still in the room, not joined again (one join; the other
    # presence to the room is the leave at SIGTERM).
    run grep -c '^SENT: <presence .*<x xmlns="http://jabber.org/protocol/muc">' \
        "$T/out.err"
    assert_output 1
    xmpp_as alice muc destroy "$room"
}

@test "recv --muc --reconnect: after a server restart it is in the room again" {
    local room="restart$BATS_TEST_NUMBER@conference.localhost"
    xmpp_as alice muc create "$room"
    in_background bob "$T/out" "$XS_PORT" recv --muc "$room" --reconnect
    in_rooms "$T/out" 1
    restart_server
    wait_for "$T/out.err" "reconnected$" 15
    in_rooms "$T/out" 2 # the room (persistent) survived; bob joined again
    xmpp_as alice send --muc "$room" -m "after the restart"
    wait_for "$T/out" "after the restart"
    stops_on_sigterm
    run cat "$T/out"
    assert_output "$room/alice${TAB}groupchat${TAB}after the restart"
    xmpp_as alice muc destroy "$room"
}

@test "shell --reconnect: a message sent while the link was dead arrives after resuming; stdin goes on" {
    mkfifo "$T/in"
    exec 4<>"$T/in"
    through_relay bob "$T/out" shell --reconnect --keepalive "$(slow 2)" <"$T/in"
    echo '<presence/>' >&4
    wait_for "$T/out" "<presence"
    black_hole
    xmpp_as alice send "$(jid_of bob)" -m "while dead"
    wait_for "$T/out.err" "reconnected; session resumed" 30
    wait_for "$T/out" "while dead"
    echo '<iq type="get" id="after1"><ping xmlns="urn:xmpp:ping"/></iq>' >&4
    wait_for "$T/out" 'id="after1"'
    stdin_ends 0
    run grep -c "<body>while dead</body>" "$T/out"
    assert_output 1
}

@test "presence set --reconnect: after a server restart the new session is online again with the last status" {
    mkfifo "$T/in"
    exec 4<>"$T/in"
    in_background bob "$T/out" "$XS_PORT" presence set --stdin --reconnect \
        --resource setter <"$T/in"
    echo "the last word" >&4
    wait_for "$T/out.err" "RECV: <presence.*the last word"
    restart_server
    wait_for "$T/out.err" "reconnected$" 15
    run xmpp_as bob presence list
    assert_output "bob@localhost/setter${TAB}available${TAB}-1${TAB}the last word"
    stdin_ends 0
}

@test "shell --reconnect: after a server restart a new session takes stdin on; what was confirmed is not in doubt" {
    mkfifo "$T/in"
    exec 4<>"$T/in"
    in_background bob "$T/out" "$XS_PORT" shell --reconnect <"$T/in"
    echo "<message to='$(jid_of carol)'><body>before the restart</body></message>" >&4
    # While stdin pauses, the shell has what it sent confirmed: by a
    # ping, or an XEP-0198 ack once Stream Management is on.
    wait_for "$T/out.err" 'RECV: <iq id="xmpp-confirm-\|RECV: <a '
    restart_server
    wait_for "$T/out.err" "reconnected$" 15
    echo '<iq type="get" id="after"><ping xmlns="urn:xmpp:ping"/></iq>' >&4
    wait_for "$T/out" 'id="after"'
    stdin_ends 0
    run said "$T/out.err"
    # Whether the server's goodbye (a system-shutdown stream error) is
    # read before the connection closes depends on the server and timing.
    assert_line --index 0 --regexp "^xmpp shell: (connection lost: .*|the server closed the stream: system-shutdown.*); reconnecting in [0-9.]+ s$"
    assert_line --index -1 "xmpp shell: reconnected"
    drain carol
}

# ---- --retry ----

@test "send --retry 30: started while the server cannot be reached, it delivers once when it can" {
    drain dave
    PORT=$(free_port)
    XMPP_PASSWORD=$(pass_of alice) "$XMPP" send --retry 30 -j "$(jid_of alice)" \
        --server "127.0.0.1:$PORT" --ca-file "$XS_CA" "$(jid_of dave)" \
        -m "retried until it got through" 2>"$T/err" 3>&- &
    local send=$!
    echo "pid $send" >>"$EXTRA"
    sleep 4
    relay "$PORT" "$XS_PORT"
    local rc=0
    wait "$send" || rc=$?
    cat "$T/err" >&3
    [ "$rc" -eq 0 ]
    grep -q "^xmpp send: cannot connect to 127.0.0.1:$PORT: Connection refused; retrying in [0-9.]* s$" "$T/err"
    run xmpp_as dave recv --idle 1 -t 10
    assert_output --regexp "^alice@localhost/[^$TAB]+${TAB}chat \\[delay: [^]]+\\]${TAB}retried until it got through$"
}

@test "send --retry: a connection cut at any step is retried; only what was not confirmed is sent again" {
    libstrophe_leaks_ok # its SASL state, when cut mid-authentication
    drain dave
    local port n resent=0
    port=$(free_port)
    for n in $(seq 1 16); do
        relay "$port" "$XS_PORT" "$n" once
        run xmpp_as_port "$port" send --retry 10 "$(jid_of dave)" -m "cut $n"
        kill "$RELAY_PID"
        wait "$RELAY_PID" || true
        echo "cut after client chunk $n: exit $status: ${lines[*]}" >&3
        assert_success
        [[ $output != *" again"* ]] || resent=$((resent + 1))
        printf '%s\n' "$output" >"$T/err.$n"
    done
    [ "$resent" -ge 1 ] # a cut that lost the message itself
    xmpp_as dave recv --idle 1 -t 20 --json >"$T/got"
    for n in $(seq 1 16); do
        # Each message arrived; twice only if it was sent again, and then
        # with the same id, which lets the receiver drop the copy.
        local copies ids
        copies=$(jq -r "select(.body == \"cut $n\") | .id" "$T/got" | wc -l)
        ids=$(jq -r "select(.body == \"cut $n\") | .id" "$T/got" | sort -u | wc -l)
        [ "$copies" -ge 1 ] && [ "$ids" -eq 1 ]
        [ "$copies" -eq 1 ] || grep -q " again" "$T/err.$n"
    done
}

@test "send --lines --retry: a server restarted mid-stream; every line arrives, exit 0" {
    drain carol
    # The pause after 1000 lines lets acks for them come back first. The
    # restart is an orderly one: a server killed outright may lose what
    # it had acknowledged (ejabberd does), which no client can mend.
    (for i in $(seq 1 3000); do
        echo "line $i"
        [ "$i" = 1000 ] && sleep "$(slow 1)"
        [ "$i" = 1500 ] && restart_server >/dev/null
    done) | xmpp_as alice send --lines --retry 30 -t "$(slow 120)" "$(jid_of carol)" \
        2>"$T/err" 3>&- || echo "exit $?" >>"$T/err"
    # shellcheck disable=SC1091
    . "$XS_STATE/env"
    cat "$T/err" >&3
    run grep "^exit" "$T/err"
    assert_failure
    grep -q "reconnected" "$T/err"
    # The server hands the stored messages over in one burst, its first
    # byte only once it has them all ready: no idle limit before that.
    # What is beyond the first 3000 (copies) comes with the second run.
    (
        xmpp_as carol recv -n 3000 -t 120
        xmpp_as carol recv --idle 2 -t 30
    ) | sed -n 's/.*	line \([0-9]*\)$/\1/p' >"$T/got"
    run sort -un "$T/got"
    [ "${#lines[@]}" -eq 3000 ]
    [ "${lines[0]}" = 1 ] && [ "${lines[2999]}" = 3000 ]
    # A copy only of what was sent again.
    local copies again
    copies=$(($(wc -l <"$T/got") - 3000))
    again=$(sed -n 's/.*sending \([0-9]*\) unconfirmed stanza(s) again$/\1/p' "$T/err" |
        awk '{ n += $1 } END { print n + 0 }')
    [ "$copies" -le "$again" ]
}

@test "--retry: every one-shot tool gives up after SECONDS with the cause, keeping its status" {
    local port tool args
    port=$(closed_port)
    while read -r tool args; do
        # shellcheck disable=SC2086
        run xmpp_as_port "$port" $tool $args --retry 1
        echo "$tool $args: exit $status: ${lines[*]}" >&3
        assert_failure 69
        assert_line --index 0 --regexp "^xmpp $tool: cannot connect to 127.0.0.1:$port: Connection refused; retrying in [0-9.]+ s$"
        assert_line --index -1 "xmpp $tool: cannot connect to 127.0.0.1:$port: Connection refused; gave up after 1 s (--retry)"
    done <<EOF
send $(jid_of bob) -m x
roster list
presence list
presence probe $(jid_of bob)
iq get <query/>
disco
ping
version
time
vcard
muc subject room@conference.localhost
command list
pubsub nodes --service pubsub.localhost
EOF
}

@test "keepalive and retry come from the config file too; the command line wins" {
    export XDG_CONFIG_HOME="$T/config"
    mkdir -p "$XDG_CONFIG_HOME/xmpp"
    local port
    port=$(closed_port)
    printf '[a]\njid = %s\nretry = 1\n[b]\njid = %s\nkeepalive = x\n' \
        "$(jid_of alice)" "$(jid_of bob)" >"$XDG_CONFIG_HOME/xmpp/config"
    run xmpp_as_port "$port" version
    assert_failure 78
    assert_output --partial "config:6: [b]: keepalive 'x' is not a number of seconds"
    printf '[a]\njid = %s\nretry = 1\n[b]\njid = %s\nkeepalive = 2\n' \
        "$(jid_of alice)" "$(jid_of bob)" >"$XDG_CONFIG_HOME/xmpp/config"
    run xmpp_as_port "$port" version
    assert_failure 69
    assert_line --index -1 --partial "gave up after 1 s (--retry)"
    run xmpp_as_port "$port" version --retry 0
    assert_failure 69
    assert_output "xmpp version: cannot connect to 127.0.0.1:$port: Connection refused"
    through_relay bob "$T/out" recv
    black_hole
    local rc=0
    wait "$BG" || rc=$?
    [ "$rc" -eq 74 ]
    run said "$T/out.err"
    assert_output --partial "(--keepalive 2)"
}

@test "--keepalive, --reconnect and --retry go only with the tools they are for" {
    run "$XMPP" send --keepalive 5 bob@localhost -m x
    assert_failure 64
    assert_output --partial "--keepalive: unknown option"
    run "$XMPP" recv --retry 5
    assert_failure 64
    run "$XMPP" presence list --keepalive 5
    assert_failure 64
    assert_output --partial "--keepalive does not go with 'list'"
    run "$XMPP" presence watch --retry 5
    assert_failure 64
    assert_output --partial "--retry does not go with 'watch'"
    run "$XMPP" pubsub nodes --reconnect
    assert_failure 64
    run "$XMPP" recv --keepalive soon
    assert_failure 64
    assert_output "xmpp recv: --keepalive: 'soon' is not a number of seconds"
    run "$XMPP" send --retry -1 bob@localhost -m x
    assert_failure 64
}

# ---- stalls ----

@test "a stalled server (SIGSTOP) hits the deadline: 75, no hang" {
    kill -STOP "$(server_pid)"
    XMPP_PASSWORD=$(pass_of alice) run timeout 20 "$XMPP" send -j "$(jid_of alice)" --server "127.0.0.1:$XS_PORT" \
        --ca-file "$XS_CA" -t 2 "$(jid_of bob)" -m "stalled" \
        < /dev/null
    assert_failure 75
    assert_output --partial "timed out"
}

@test "a server that stalls mid-session: recv --count hits the deadline, 75" {
    recv_bg bob "$BATS_TEST_TMPDIR/out" -n 1 -t "$(slow 3)"
    kill -STOP "$(server_pid)"
    local rc=0
    wait "$RECV_PID" || rc=$?
    [ "$rc" -eq 75 ]
    grep -q "deadline reached after 0 of 1" "$BATS_TEST_TMPDIR/out.err"
}

@test "a connection cut at each step of the handshake fails cleanly" {
    libstrophe_leaks_ok # its SASL state, when cut mid-authentication
    local port n during_sasl=0 after_send=0
    port=$(free_port)
    for n in $(seq 1 16); do
        relay "$port" "$XS_PORT" "$n"
        run xmpp_as_port "$port" send "$(jid_of bob)" -m "cut at $n"
        kill "$RELAY_PID"
        wait "$RELAY_PID" || true
        echo "cut after client chunk $n: exit $status: $output" >&3
        case $status in
        0 | 69 | 74 | 76 | 77) ;;
        *) return 1 ;;
        esac
        [ "$status" -eq 0 ] || [ "${#lines[@]}" -eq 1 ]
        [[ $output != *"during authentication"* ]] || during_sasl=1
        # Lost after the message went out: one line, with the count.
        if [[ $output == *"connection lost"* ]]; then
            assert_output --partial "1 of 1 message(s) not confirmed"
            after_send=1
        fi
    done
    [ "$during_sasl" -eq 1 ]
    [ "$after_send" -eq 1 ]
    xmpp_as bob recv -t 3 --idle 1 >/dev/null || true
}

xmpp_as_port() {
    local port=$1 tool=$2
    shift 2
    XMPP_PASSWORD=$(pass_of alice) "$XMPP" "$tool" -j "$(jid_of alice)" \
        --server "127.0.0.1:$port" --ca-file "$XS_CA" -t 10 "$@"
}

# ---- certificates ----

@test "tls: an expired certificate is refused (77), even when trusted" {
    cert expired localhost 20200101000000Z 20200201000000Z
    local d="$BATS_TEST_TMPDIR/expired-server" c="$BATS_TEST_TMPDIR/expired"
    other_server "$d" XS_CERT="$c/cert.pem" XS_KEY="$c/key.pem"
    run as_alice_at "$d" send "$(jid_of bob)" -m x
    assert_failure 77
    assert_output --partial "certificate"
    run as_alice_at "$d" send --ca-file "$c/cert.pem" "$(jid_of bob)" -m x
    assert_failure 77
    assert_output --partial "expired"
    run as_alice_at "$d" send --insecure "alice@localhost" -m x
    assert_success
}

@test "tls: a certificate for another host is refused (77) unless --insecure" {
    cert wronghost example.net 20200101000000Z 20991231000000Z
    local d="$BATS_TEST_TMPDIR/wrong-server" c="$BATS_TEST_TMPDIR/wronghost"
    other_server "$d" XS_CERT="$c/cert.pem" XS_KEY="$c/key.pem"
    run as_alice_at "$d" send --ca-file "$c/cert.pem" "$(jid_of bob)" -m x
    assert_failure 77
    assert_output --partial "certificate"
    run as_alice_at "$d" send --insecure "alice@localhost" -m x
    assert_success
}

@test "tls: a server that offers no TLS is refused (77): no plaintext login" {
    local d="$BATS_TEST_TMPDIR/plain-server"
    other_server "$d" XS_NO_TLS=1
    run as_alice_at "$d" send --insecure "alice@localhost" -m x
    assert_failure 77
    assert_output --partial "offers no TLS"
}
