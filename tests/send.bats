#!/usr/bin/env bats
# xmpp send, end to end through the suite's own Prosody. Each test reads
# back what it sent, so bob's offline storage is empty between tests.

load helpers

setup_file() { server_up; }
teardown_file() { server_down; }
teardown() {
    [ -z "${S2S_STATE:-}" ] || "$SERVER" stop "$S2S_STATE"
    drain_if_failed bob carol dave
}

# s2s_up: a second server of the suite's kind that tries other domains
# (tests/server XS_S2S=1), with alice on it; s2s_as USER TOOL ... runs
# xmpp against it. Stopped in teardown.
s2s_up() {
    S2S_STATE="$BATS_TEST_TMPDIR/s2s"
    XS_S2S=1 "$SERVER" start "$S2S_STATE" alice >/dev/null
}

s2s_as() {
    (
        set -a
        # shellcheck disable=SC1091
        . "$S2S_STATE/env"
        set +a
        xmpp_as "$@"
    )
}

# send_held OUT [ARGS...]: alice's `send -v --lines --resource sender`
# in the background, its stdin held open (SEND_FD) so that the session
# lasts, output to OUT and OUT.err; waits until its first line is sent.
send_held() {
    local out=$1 fifo="$BATS_TEST_TMPDIR/send.in.$RANDOM"
    shift
    mkfifo "$fifo"
    xmpp_as alice send -v --lines --resource sender "$@" <"$fifo" \
        >"$out" 2>"$out.err" 3>&- &
    SEND_PID=$!
    exec {SEND_FD}>"$fifo"
    echo "first" >&"$SEND_FD"
    wait_for "$out.err" "SENT: <message" 10
}

# error_to ID CONDITION: an error message about our message ID, to
# alice's `send_held` session.
error_to() {
    printf '%s' "<message to='$(jid_of alice)/sender' type='error' id='$1'>" \
        "<error type='cancel'><$2 xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>" \
        "</error></message>"
}

# body_of USER: the body of the next message waiting for USER.
body_of() {
    xmpp_as "$1" recv -n 1 -t 10 --json | jq -j .body
}

@test "send: a message arrives at recv as FROM TAB TYPE TAB BODY" {
    run xmpp_as alice send "$(jid_of bob)" -m "hello bob"
    assert_success
    assert_output ""
    run xmpp_as bob recv -n 1 -t 10
    assert_success
    assert_output --regexp "^alice@localhost/[^	]+	chat$DELAYED	hello bob\$"
}

@test "send: recv --json gives from, to, type, id and body, parsed by jq" {
    xmpp_as alice send --resource ci "$(jid_of bob)" -m "as json" --id fixed-id
    run xmpp_as bob recv -n 1 -t 10 --json
    assert_success
    assert_equal "$(jq -r .from <<<"$output")" "alice@localhost/ci"
    assert_equal "$(jq -r .to <<<"$output")" "bob@localhost"
    assert_equal "$(jq -r .type <<<"$output")" "chat"
    assert_equal "$(jq -r .id <<<"$output")" "fixed-id"
    assert_equal "$(jq -r .body <<<"$output")" "as json"
}

@test "send: recv --xml prints the stanza as one line of XML" {
    xmpp_as alice send "$(jid_of bob)" -m "as <xml> & more"
    run xmpp_as bob recv -n 1 -t 10 --xml
    assert_success
    assert_equal "${#lines[@]}" 1
    assert_output --regexp '^<message .*</message>$'
    assert_output --partial "<body>as &lt;xml&gt; &amp; more</body>"
    run /usr/bin/python3 -c 'import sys, xml.etree.ElementTree as E
m = E.fromstring(sys.argv[1]); print(m.find("{jabber:client}body").text)
print(m.get("{http://www.w3.org/XML/1998/namespace}lang"))' "$output"
    assert_output $'as <xml> & more\nen'

}

@test "send: Unicode arrives byte for byte" {
    local text='héllo wörld — 日本語 עברית 🎉 ∀x∈ℝ'
    xmpp_as alice send "$(jid_of bob)" -m "$text"
    run body_of bob
    assert_output "$text"
}

@test "send: a multi-line body arrives whole, as one escaped line in text" {
    xmpp_as alice send "$(jid_of bob)" -m $'line one\n\tline two\\\nline three'
    run xmpp_as bob recv -n 1 -t 10
    assert_output --regexp $'\tchat'"$DELAYED"$'\tline one\\\\n\\\\tline two\\\\\\\\\\\\nline three$'
    assert_equal "${#lines[@]}" 1
    xmpp_as alice send "$(jid_of bob)" -m $'line one\n\tline two\\\nline three'
    run body_of bob
    assert_output $'line one\n\tline two\\\nline three'
}

@test "send: a body with markup arrives verbatim and nothing else is sent" {
    local evil="</body></message><message to='x'><body>injected"
    run --separate-stderr xmpp_as alice send -v "$(jid_of bob)" -m "$evil"
    assert_success
    # exactly one message left, with the markup escaped inside its body
    [ "$(grep -c '^SENT: <message' <<<"$stderr")" -eq 1 ]
    [[ "$stderr" == *"<body>&lt;/body&gt;&lt;/message&gt;&lt;message to='x'&gt;&lt;body&gt;injected</body></message>"* ]] ||
        [[ "$stderr" == *"<body>&lt;/body&gt;&lt;/message&gt;&lt;message to=&apos;x&apos;&gt;&lt;body&gt;injected</body></message>"* ]]
    xmpp_as alice send "$(jid_of bob)" -m marker
    run xmpp_as bob recv -n 2 -t 10 --all --json
    assert_equal "$(jq -r .body <<<"${lines[0]}")" "$evil"
    assert_equal "$(jq -r .body <<<"${lines[1]}")" "marker"
}

@test "send: with neither -m nor -f the body is stdin, less the newline that ends it" {
    run xmpp_as alice send "$(jid_of bob)" < <(printf 'from stdin\n\nlast line\n')
    assert_success
    run xmpp_as bob recv -n 1 -t 10 --json
    assert_equal "$(jq -c .body <<<"$output")" '"from stdin\n\nlast line"'
    # only one newline goes, and a lone one is an empty message
    run xmpp_as alice send "$(jid_of bob)" < <(printf 'two\n\n')
    run xmpp_as bob recv -n 1 -t 10 --json
    assert_equal "$(jq -c .body <<<"$output")" '"two\n"'
    run xmpp_as alice send "$(jid_of bob)" < <(printf '\r\n')
    assert_failure 65
    assert_output "xmpp send: stdin: empty message; nothing sent"
}

@test "send: -f reads the body from a file; a missing file exits 66" {
    printf 'from a file\nsecond line' >"$BATS_TEST_TMPDIR/body"
    run xmpp_as alice send "$(jid_of bob)" -f "$BATS_TEST_TMPDIR/body"
    assert_success
    run body_of bob
    assert_output $'from a file\nsecond line'
    run xmpp_as alice send "$(jid_of bob)" -f - < <(printf 'caf\xe9')
    assert_failure 65
    assert_output --partial "xmpp send: stdin: invalid UTF-8"
    run xmpp_as alice send "$(jid_of bob)" -f "$BATS_TEST_TMPDIR/nope"
    assert_failure 66
    assert_output "xmpp send: $BATS_TEST_TMPDIR/nope: No such file or directory"
}

@test "send: --subject, --thread, --id and --type normal reach the recipient" {
    run xmpp_as alice send "$(jid_of bob)" -m "with extras" -s "Build 42" \
        --thread t-1 --id m-1 --type normal
    assert_success
    run xmpp_as bob recv -n 1 -t 10 --json
    assert_equal "$(jq -r .type <<<"$output")" normal
    assert_equal "$(jq -r .subject <<<"$output")" "Build 42"
    assert_equal "$(jq -r .thread <<<"$output")" t-1
    assert_equal "$(jq -r .id <<<"$output")" m-1
    assert_equal "$(jq -r .body <<<"$output")" "with extras"
}

@test "send: --type headline reaches an online recipient as headline" {
    recv_bg bob "$BATS_TEST_TMPDIR/out" -n 1 -t 10
    run xmpp_as alice send --type headline "$(jid_of bob)" -m "news"
    assert_success
    wait "$RECV_PID"
    run cat "$BATS_TEST_TMPDIR/out"
    assert_output --regexp $'\theadline\tnews$'
}

@test "send: an unknown --type exits 64" {
    run xmpp_as alice send --type groupchat "$(jid_of bob)" -m x
    assert_failure 64
    assert_output "xmpp send: --type groupchat: use chat, normal or headline"
}

@test "send: several recipients each get the message, over one connection" {
    run --separate-stderr xmpp_as alice send -v "$(jid_of bob)" "$(jid_of carol)" \
        "$(jid_of dave)" -m "to all three"
    assert_success
    # Stream restarts: after TLS, after SASL (none after SASL2 with Bind2).
    local restarts=3
    [ "$XS_IMPL" = ejabberd ] && restarts=2
    [ "$(grep -c '^SENT: <?xml' <<<"$stderr")" -eq "$restarts" ]
    [ "$(grep -c '^SENT: <message' <<<"$stderr")" -eq 3 ]
    for u in bob carol dave; do
        run body_of "$u"
        assert_output "to all three"
    done
}

@test "send: --lines sends 1000 lines as 1000 messages, all received in order" {
    recv_bg bob "$BATS_TEST_TMPDIR/out" -n 1000 -t 60
    seq 1 1000 | xmpp_as alice send --lines "$(jid_of bob)"
    wait "$RECV_PID"
    run diff <(cut -f3 "$BATS_TEST_TMPDIR/out") <(seq 1 1000)
    assert_success
}

@test "send: --lines sends each line as it arrives, before the input ends" {
    mkfifo "$BATS_TEST_TMPDIR/fifo"
    recv_bg bob "$BATS_TEST_TMPDIR/out" -n 3 -t 30
    xmpp_as alice send --lines "$(jid_of bob)" <"$BATS_TEST_TMPDIR/fifo" &
    local send=$!
    exec 7>"$BATS_TEST_TMPDIR/fifo" # bats owns fd 3
    echo "first" >&7
    wait_for "$BATS_TEST_TMPDIR/out" $'\tfirst$'
    echo "second" >&7
    wait_for "$BATS_TEST_TMPDIR/out" $'\tsecond$'
    printf 'third, without a newline' >&7
    exec 7>&-
    wait "$send"
    wait "$RECV_PID"
    run cut -f3 "$BATS_TEST_TMPDIR/out"
    assert_output $'first\nsecond\nthird, without a newline'
}

@test "send: --lines stops at an explicit --timeout with 75 and says so" {
    run xmpp_as alice send --lines -t "$(slow 1)" "$(jid_of bob)" \
        < <(echo one; sleep "$(slow 3)"; echo two)
    assert_failure 75
    assert_line --index 0 "xmpp send: deadline reached (--timeout) after 1 input line(s); stdin from line 2 on was not sent"
    run xmpp_as bob recv -n 1 -t 10
    assert_output --regexp $'\tone$'
}

@test "send: --lines skips a bad line, sends the rest, and exits 65" {
    run xmpp_as alice send --lines "$(jid_of bob)" < <(printf 'good 1\nbad \xff\n\ngood 2\n')
    assert_failure 65
    assert_line "xmpp send: stdin line 2: invalid UTF-8 at byte 4; fix the input or use --sanitize"
    assert_line "xmpp send: 1 line(s) were not sent"
    run xmpp_as bob recv -n 2 -t 10
    assert_line --index 0 --regexp $'\tgood 1$'
    assert_line --index 1 --regexp $'\tgood 2$'
}

@test "send: an invalid recipient JID exits 65 and sends nothing" {
    run xmpp_as alice send "$(jid_of bob)" "bob@" -m "must not arrive"
    assert_failure 65
    assert_output "xmpp send: bob@: invalid JID: empty domainpart"
    xmpp_as alice send "$(jid_of bob)" -m marker
    run body_of bob
    assert_output marker
}

@test "send: -- ends the options: '--muc=x' after it is a recipient, refused as an invalid JID (65)" {
    run xmpp_as alice send -m "must not arrive" -- --muc=x
    assert_failure 65
    # RFC 7622 §3.2 (IDNA2008): '=' has no place in a domain name.
    assert_output "xmpp send: --muc=x: invalid JID: forbidden character in domainpart"
    # Without --, the same word is the option --muc (a room), and fails
    # as one: the difference is what the bot loop in README.md relies on.
    run xmpp_as alice send -m "must not arrive" --muc=x
    assert_failure 65
    assert_output --partial "invalid room JID"
}

@test "send: a JID holding a control, a bidirectional control or a label with a leading '-' exits 65" {
    local jid
    for jid in "bob${RLO}@localhost" "bob@localhost/a${CSI}31m" \
        $'bob@localhost/\xe2\x81\xa6x' "bob@-localhost" "bob@local_host"; do
        run xmpp_as alice send -m "must not arrive" -- "$jid"
        assert_failure 65
        assert_output --partial ": invalid JID: "
    done
    # The refused JID is shown escaped (xmpp(1), TEXT OUTPUT).
    assert_output "xmpp send: bob@local_host: invalid JID: forbidden character in domainpart"
    run xmpp_as alice send -m x -- "bob@localhost/a${CSI}31m"
    assert_output 'xmpp send: bob@localhost/a\u009b31m: invalid JID: control character in resourcepart'
}

@test "send: the bot loop of README.md answers a sender whose address reads as an option" {
    # --muc=x@component.localhost is a valid JID (a component address):
    # a bot that passed it without -- would send to a room instead.
    COMPONENT=--muc=x@component.localhost run xmpp_component send "$(jid_of bob)" -m '!uptime'
    assert_success
    xmpp_component recv -n 1 -t 20 -v >"$BATS_TEST_TMPDIR/comp" 2>"$BATS_TEST_TMPDIR/comp.err" 3>&- &
    local comp=$!
    wait_for "$BATS_TEST_TMPDIR/comp.err" "RECV: <handshake"
    xmpp_as bob recv -n 1 -t 10 --json |
        jq --unbuffered -r 'select(.body | startswith("!uptime")) | .from' |
        while read -r who; do
            xmpp_as bob send -m "up" -- "$who"
        done
    wait "$comp"
    run cat "$BATS_TEST_TMPDIR/comp"
    assert_output --regexp "^bob@localhost/[^	]+	chat	up$"
}

@test "send: invalid UTF-8 exits 65 and sends nothing" {
    run xmpp_as alice send "$(jid_of bob)" < <(printf 'caf\xe9\n')
    assert_failure 65
    assert_output "xmpp send: stdin: invalid UTF-8 at byte 3; fix the input or use --sanitize"
    xmpp_as alice send "$(jid_of bob)" -m marker
    run body_of bob
    assert_output marker
}

@test "send: a control character XML forbids exits 65; --sanitize sends U+FFFD instead" {
    run xmpp_as alice send "$(jid_of bob)" -m $'bell\a here'
    assert_failure 65
    assert_output "xmpp send: --message: character not allowed in XML at byte 4; fix the input or use --sanitize"
    run xmpp_as alice send --sanitize "$(jid_of bob)" < <(printf 'bell\a caf\xe9')
    assert_success
    run body_of bob
    assert_output $'bell\uFFFD caf\uFFFD'
}

@test "send: a body over --max-size exits 65 and sends nothing" {
    run xmpp_as alice send --max-size 10 "$(jid_of bob)" -m "eleven char"
    assert_failure 65
    assert_output "xmpp send: --message: larger than 10 bytes (--max-size)"
    head -c 5000 /dev/zero | tr '\0' x >"$BATS_TEST_TMPDIR/big"
    run xmpp_as alice send --max-size 4096 "$(jid_of bob)" <"$BATS_TEST_TMPDIR/big"
    assert_failure 65
    assert_output "xmpp send: stdin: larger than 4096 bytes (--max-size)"
    run xmpp_as alice send --max-size 5000 "$(jid_of bob)" -f "$BATS_TEST_TMPDIR/big"
    assert_success
    run body_of bob
    assert_equal "${#output}" 5000
    run xmpp_as alice send --max-size lots "$(jid_of bob)" -m x
    assert_failure 64
}

@test "send: an empty body exits 65 and sends nothing" {
    run xmpp_as alice send "$(jid_of bob)" </dev/null
    assert_failure 65
    assert_output "xmpp send: stdin: empty message; nothing sent"
}

@test "send: no recipient, or two body sources, is a usage error (64)" {
    run xmpp_as alice send -m x
    assert_failure 64
    assert_output --partial "no recipient"
    run xmpp_as alice send "$(jid_of bob)" -m x -f /dev/null
    assert_failure 64
    assert_output "xmpp send: choose one of --message, --file and --lines"
}

@test "send: --receipt waits for the recipient's client to confirm (XEP-0184)" {
    recv_bg bob "$BATS_TEST_TMPDIR/out" -n 1 -t 20
    run xmpp_as alice send --receipt "$(jid_of bob)" -m "with a receipt"
    assert_success
    assert_output ""
    wait "$RECV_PID"
    # nobody online: no receipt by the deadline
    run xmpp_as alice send --receipt -t "$(slow 1)" "$(jid_of bob)" -m "no one there"
    assert_failure 75
    assert_output "xmpp send: no delivery receipt for 1 of 1 message(s) by the deadline: bob@localhost"
    run xmpp_as bob recv -n 1 -t 10
    assert_output --regexp $'\tno one there$'
}

@test "send: a message the server refuses exits 1 with the stanza error" {
    run xmpp_as alice send "nobody@$XS_DOMAIN" -m "to no one"
    assert_failure 1
    assert_output "xmpp send: nobody@localhost: message refused: cancel/service-unavailable"
}

@test "send: a typo'd domain exits 1 naming what the server answers" {
    run xmpp_as alice send "bob@locahost" -m "to a typo"
    assert_failure 1
    # The suite's servers speak to no other server (no s2s), and say so.
    if [ "$XS_IMPL" = ejabberd ]; then
        assert_output "xmpp send: bob@locahost: message refused: auth/forbidden (Access denied by service policy)"
    else
        assert_output "xmpp send: bob@locahost: message refused: cancel/not-allowed (Communication with remote domains is not enabled)"
    fi
}

@test "send: a domain that cannot be reached exits 1, though the server acked first; with --receipt too" {
    # A server that does try other domains acks the message before it
    # finds the domain unreachable (Prosody); the route check (a ping to
    # the domain) waits for the bounce. 127.0.0.1 needs no DNS: nothing
    # listens on its s2s port.
    (exec 3<>/dev/tcp/127.0.0.1/5269) 2>/dev/null && skip "something listens on 127.0.0.1:5269"
    s2s_up
    run s2s_as alice send -v "bob@127.0.0.1" -m "to nowhere"
    assert_failure 1
    assert_line --regexp "^xmpp send: bob@127.0.0.1: message refused: (cancel/remote-server-not-found|wait/remote-server-timeout) \(.*connection refused\)$"
    assert_line --regexp '^SENT: <iq id="xmpp-route-1" to="127.0.0.1" type="get"><ping xmlns="urn:xmpp:ping"/></iq>$'
    run --separate-stderr s2s_as alice send --receipt "bob@127.0.0.1" -m "to nowhere"
    assert_failure 1
    assert_equal "$stderr" "$(printf '%s' "$stderr" | grep -E '^xmpp send: bob@127.0.0.1: message refused: [a-z]+/remote-server-(not-found|timeout)')"
    # A domain on the server itself is not pinged: no extra wait.
    run s2s_as alice send -v "$(jid_of alice)" -m "to me"
    assert_success
    refute_output --partial "xmpp-route"
}

@test "send: an error forged by someone else with our message's id is no bounce; the recipient's is" {
    # RFC 6120 §8.3: only the recipient or its server answers for a
    # message. carol learnt the id; her error changes nothing.
    local out="$BATS_TEST_TMPDIR/send"
    send_held "$out" --id forged-1 "$(jid_of bob)"
    shell_bg carol "$BATS_TEST_TMPDIR/carol"
    shell_in "$(error_to forged-1 item-not-found)"
    wait_for "$out.err" 'RECV: <message[^>]*type="error"' 10
    shell_stop
    exec {SEND_FD}>&-
    local status=0
    wait "$SEND_PID" || status=$?
    assert_equal "$status" 0
    run grep -c "refused" "$out.err"
    assert_output 0
    run body_of bob
    assert_output "first"
    # The same error from bob, the recipient, is a bounce.
    send_held "$out" --id real-1 "$(jid_of bob)"
    shell_bg bob "$BATS_TEST_TMPDIR/bob"
    shell_in "$(error_to real-1 item-not-found)"
    wait_for "$out.err" 'RECV: <message[^>]*type="error"' 10
    shell_stop
    exec {SEND_FD}>&-
    status=0
    wait "$SEND_PID" || status=$?
    assert_equal "$status" 1
    run grep "^xmpp send:" "$out.err"
    assert_output "xmpp send: bob@localhost: message refused: cancel/item-not-found"
    drain bob
}

@test "send --receipt: a bounce from the recipient's client ends the wait: 1, not 75" {
    shell_bg bob "$BATS_TEST_TMPDIR/bob" --resource phone
    xmpp_as alice send --receipt --id r-1 --resource sender -t "$(slow 20)" \
        "$(jid_of bob)/phone" -m "bounce me" 2>"$BATS_TEST_TMPDIR/err" &
    local pid=$!
    wait_for "$BATS_TEST_TMPDIR/bob" "bounce me" 10
    local start=$SECONDS
    shell_in "$(error_to r-1 service-unavailable)"
    local status=0
    wait "$pid" || status=$?
    assert_equal "$status" 1
    [ $((SECONDS - start)) -lt "$(slow 10)" ]
    run cat "$BATS_TEST_TMPDIR/err"
    assert_output "xmpp send: bob@localhost/phone: message refused: cancel/service-unavailable"
    shell_stop
}

@test "send --lines: out of memory for the read buffer exits 71, not 0" {
    # The buffer holds a line at the limit and a read's worth: over 1 GiB.
    run failing_alloc 536870912 xmpp_as alice send --lines --max-size 1073741824 \
        "$(jid_of bob)" <<<"never sent"
    assert_failure 71
    assert_output "xmpp send: stdin: out of memory"
}

@test "send: a slixmpp client (not ours) receives what xmpp send sent" {
    PEER_PASSWORD=$(pass_of carol) /usr/bin/python3 "$BATS_TEST_DIRNAME/peer.py" \
        recv "$(jid_of carol)" 1 >"$BATS_TEST_TMPDIR/peer" 2>"$BATS_TEST_TMPDIR/peer.err" &
    local peer=$!
    wait_for "$BATS_TEST_TMPDIR/peer.err" '^ready$' 20
    run xmpp_as alice send "$(jid_of carol)" -m $'interop: é 🎉\nsecond line'
    assert_success
    wait "$peer"
    run cat "$BATS_TEST_TMPDIR/peer"
    assert_output --regexp $'^alice@localhost/[^\t]+\tinterop: é 🎉\\\\nsecond line$'
}

@test "send --json: one line per message the server took, with kind, to and id" {
    run --separate-stderr xmpp_as alice send --json "$(jid_of bob)" "$(jid_of carol)" -m "counted"
    assert_success
    local sent=$output
    run jq -r '[.kind, .to, (.url // "-")] | @tsv' <<<"$sent"
    assert_output $'message\tbob@localhost\t-\nmessage\tcarol@localhost\t-'
    # The ids are the messages' own.
    run xmpp_as bob recv -n 1 -t 10 --json
    assert_equal "$(jq -r .id <<<"$output")" "$(jq -r 'select(.to == "bob@localhost") | .id' <<<"$sent")"
    run xmpp_as carol recv -n 1 -t 10 --json
    assert_equal "$(jq -r .id <<<"$output")" "$(jq -r 'select(.to == "carol@localhost") | .id' <<<"$sent")"
    # --id is every message's id.
    run xmpp_as alice send --json --id mine "$(jid_of bob)" -m "with my id"
    assert_output '{"kind":"message","to":"bob@localhost","id":"mine"}'
    drain bob
}

@test "send --lines --json: each line's message is said as the server confirms it" {
    run --separate-stderr bash -c 'printf "one\ntwo\n\nthree\n" | "$@"' _ \
        env XMPP_PASSWORD="$(pass_of alice)" "$XMPP" send -j "$(jid_of alice)" \
        $(server_opts) --lines --json "$(jid_of bob)"
    assert_success
    assert_equal "${#lines[@]}" 3
    local sent=$output
    run xmpp_as bob recv -n 3 -t 10 --json
    assert_equal "$(jq -r .id <<<"$output")" "$(jq -r .id <<<"$sent")"
    assert_equal "$(jq -r .body <<<"$output")" $'one\ntwo\nthree'
}
