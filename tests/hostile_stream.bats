#!/usr/bin/env bats
# What only a hostile or broken server sends, from a scripted one
# (tests/hostile.py component, an XEP-0114 component server): 'from'
# addresses that are not JIDs (Prosody and ejabberd refuse them) and
# stream errors whose text carries controls (real servers write their
# own texts). Everything a real server can deliver is tested against
# one: recv.bats, send.bats, common.bats.

load helpers

setup() {
    printf 'secret\n' >"$BATS_TEST_TMPDIR/secret"
    HOSTILE_PID=
}

teardown() {
    [ -z "$HOSTILE_PID" ] || stop_bg "$HOSTILE_PID"
}

# hostile_up XML: the scripted server's component mode, sending XML
# after the handshake; sets HOSTILE_PORT and HOSTILE_PID.
hostile_up() {
    printf '%s' "$1" >"$BATS_TEST_TMPDIR/script.xml"
    hostile component "$BATS_TEST_TMPDIR/script.xml"
}

# as_component TOOL [ARGS...]: a tool as component x.localhost of it.
as_component() {
    local tool=$1
    shift
    "$XMPP" "$tool" --component x.localhost --secret-file "$BATS_TEST_TMPDIR/secret" \
        --server "127.0.0.1:$HOSTILE_PORT" "$@"
}

STREAMS_NS="xmlns='urn:ietf:params:xml:ns:xmpp-streams'"

# msg FROM BODY: a message to the component.
msg() {
    printf "<message from='%s' to='x.localhost'><body>%s</body></message>" "$1" "$2"
}

@test "hostile: a message whose from is not a JID is dropped with one escaped warning, in every format" {
    hostile_up "$(msg 'a b@x.localhost' space)$(msg "x.localhost/${RLO}exe.gnp" bidi)$(msg "mallory${CSI}@x.localhost" c1)$(msg '--muc=x' option)$(msg 'ok@x.localhost/r' valid)"
    local fmt
    for fmt in text --json --xml; do
        run --separate-stderr as_component recv -n 1 -t "$(slow 10)" \
            $([ "$fmt" = text ] || echo "$fmt")
        assert_success
        case $fmt in
        text) assert_output "ok@x.localhost/r${TAB}normal${TAB}valid" ;;
        --json) assert_equal "$(jq -r .from <<<"$output")" ok@x.localhost/r ;;
        --xml) assert_output --regexp "^<message [^>]*from=\"ok@x.localhost/r\"" ;;
        esac
        assert_equal "${#lines[@]}" 1
        # One line each, the address escaped (xmpp(1), TEXT OUTPUT).
        assert_equal "${#stderr_lines[@]}" 4
        assert_equal "${stderr_lines[0]}" "xmpp recv: ignored a <message> whose from is not a JID (forbidden character in localpart): a b@x.localhost"
        assert_equal "${stderr_lines[1]}" 'xmpp recv: ignored a <message> whose from is not a JID (control character in resourcepart): x.localhost/\u202eexe.gnp'
        assert_equal "${stderr_lines[2]}" 'xmpp recv: ignored a <message> whose from is not a JID (forbidden character in localpart): mallory\u009b@x.localhost'
        assert_equal "${stderr_lines[3]}" "xmpp recv: ignored a <message> whose from is not a JID (forbidden character in domainpart): --muc=x"
    done
}

@test "hostile: presence watch and pubsub listen drop what comes from no JID as well" {
    hostile_up "<presence from='a b@x.localhost/r' to='x.localhost'/><presence from='ok@x.localhost/r' to='x.localhost'/>"
    run --separate-stderr as_component presence watch -n 1 -t "$(slow 10)"
    assert_success
    assert_output "ok@x.localhost/r${TAB}available${TAB}0${TAB}"
    assert_equal "$stderr" "xmpp presence: ignored a <presence> whose from is not a JID (forbidden character in localpart): a b@x.localhost/r"
    stop_bg "$HOSTILE_PID"
    local ev="<event xmlns='http://jabber.org/protocol/pubsub#event'><items node='n'><item id='ID'/></items></event>"
    hostile_up "<message from='ps.x.localhost/${RLO}' to='x.localhost'>${ev/ID/1}</message><message from='ps.x.localhost' to='x.localhost'>${ev/ID/2}</message>"
    run --separate-stderr as_component pubsub listen --service ps.x.localhost -n 1 -t "$(slow 10)"
    assert_success
    assert_output "ps.x.localhost${TAB}n${TAB}item${TAB}2${TAB}"
    assert_equal "$stderr" 'xmpp pubsub: ignored a <message> whose from is not a JID (control character in resourcepart): ps.x.localhost/\u202e'
}

@test "hostile: -q drops a stanza with a bad from silently" {
    hostile_up "$(msg 'a b@x.localhost' space)$(msg 'ok@x.localhost' valid)"
    run --separate-stderr as_component recv -q -n 1 -t "$(slow 10)"
    assert_success
    assert_output "ok@x.localhost${TAB}normal${TAB}valid"
    assert_equal "$stderr" ""
}

@test "hostile: C0, C1 and bidirectional controls in a body are escaped in text, exact in --json, references in --xml" {
    # ESC cannot be in XML at all; DEL, C1 and bidi controls can.
    local body="a"$'\x7f'"${CSI}31m${RLO}"$'\xe2\x80\xa8'"b"
    hostile_up "$(msg 'ok@x.localhost' "$body&#10;\\")"
    run as_component recv -n 1 -t "$(slow 10)"
    assert_success
    assert_output 'ok@x.localhost	normal	a\x7f\u009b31m\u202e\u2028b\n\\'
    run as_component recv -n 1 -t "$(slow 10)" --json
    assert_equal "$(jq -j .body <<<"$output")" "$body"$'\n\\'
    run as_component recv -n 1 -t "$(slow 10)" --xml
    assert_output --partial '<body>a&#x7f;&#x9b;31m&#x202e;&#x2028;b&#10;\</body>'
}

@test "hostile: a stream error's text is one escaped line; 76 names the condition" {
    # The text first: the condition is found wherever it is (RFC 6120
    # §4.9.2), and the text cannot forge a second line.
    hostile_up "<stream:error><text $STREAMS_NS>evil&#10;xmpp recv: forged ${CSI}31m${RLO}</text><policy-violation $STREAMS_NS/></stream:error></stream:stream>"
    run --separate-stderr as_component recv -t "$(slow 10)"
    assert_failure 76
    assert_equal "${#stderr_lines[@]}" 1
    assert_equal "$stderr" 'xmpp recv: the server closed the stream: policy-violation (evil\nxmpp recv: forged \u009b31m\u202e)'
    # The -v console shows it escaped as well: no raw control on stderr.
    run --separate-stderr as_component recv -t "$(slow 10)" -v
    assert_failure 76
    [[ "$stderr" != *"$CSI"* && "$stderr" != *"$RLO"* ]]
    [[ "$stderr" == *'forged \u009b31m\u202e'* ]]
}

@test "hostile: send names the stream error and what it left unconfirmed, on one line (76)" {
    hostile_up "<stream:error><conflict $STREAMS_NS/></stream:error></stream:stream>"
    run as_component send bob@localhost -m hi -t "$(slow 10)"
    assert_failure 76
    assert_output "xmpp send: the server closed the stream: conflict; another login took over this session (give each client its own --resource); 1 of 1 message(s) not confirmed by the server"
}

@test "hostile: a stream error without a known condition is undefined-condition" {
    hostile_up "<stream:error><text $STREAMS_NS>no condition</text></stream:error></stream:stream>"
    run as_component recv -t "$(slow 10)"
    assert_failure 76
    assert_output "xmpp recv: the server closed the stream: undefined-condition (no condition)"
}

@test "hostile: see-other-host says where to connect" {
    hostile_up "<stream:error><see-other-host $STREAMS_NS>[2001:db8::1]:5222</see-other-host></stream:error></stream:stream>"
    run as_component recv -t "$(slow 10)"
    assert_failure 76
    assert_output "xmpp recv: the server closed the stream: see-other-host; connect to [2001:db8::1]:5222 instead (--server)"
}

@test "hostile: recv --reconnect rides out reset and system-shutdown, not policy-violation" {
    local cond
    for cond in reset system-shutdown; do
        hostile_up "<stream:error><$cond $STREAMS_NS/></stream:error></stream:stream>"
        as_component recv --reconnect -t "$(slow 30)" >/dev/null \
            2>"$BATS_TEST_TMPDIR/err" 3>&- &
        local recv=$!
        # Backoff of about a second, then a new stream: slow under ASan
        # on a loaded machine.
        wait_for "$BATS_TEST_TMPDIR/err" "^xmpp recv: reconnected$" 30
        stop_bg "$recv"
        stop_bg "$HOSTILE_PID"
        run head -1 "$BATS_TEST_TMPDIR/err"
        assert_output --regexp "^xmpp recv: the server closed the stream: $cond; reconnecting in [0-9.]+ s$"
    done
    hostile_up "<stream:error><policy-violation $STREAMS_NS/></stream:error></stream:stream>"
    run as_component recv --reconnect -t "$(slow 10)"
    assert_failure 76
    assert_output "xmpp recv: the server closed the stream: policy-violation"
}
