#!/usr/bin/env bats
# Component mode (XEP-0114): every tool as component.localhost.

load helpers

setup_file() { server_up; }
teardown_file() { server_down; }

TAB=$'\t'

# recv as the component in the background; ready once the handshake is
# answered (a component sends no presence).
component_recv_bg() {
    local out=$1
    shift
    xmpp_component recv -v "$@" >"$out" 2>"$out.err" 3>&- &
    RECV_PID=$!
    wait_for "$out.err" "RECV: <handshake" 10
}

@test "component: send posts from the component's domain to a user" {
    run xmpp_component send alice@localhost -m "disk full on db1"
    assert_success
    run xmpp_as alice recv -n 1 -t 10
    assert_success
    assert_output --regexp "^component\.localhost${TAB}chat${DELAYED}${TAB}disk full on db1$"
}

@test "component: an address inside the domain sends from that address" {
    COMPONENT=alerts@component.localhost run xmpp_component send bob@localhost -m "from alerts"
    assert_success
    run xmpp_as bob recv -n 1 -t 10
    assert_output --regexp "^alerts@component\.localhost${TAB}chat${DELAYED}${TAB}from alerts$"
}

@test "component: recv gets the messages for any address of the domain" {
    component_recv_bg "$BATS_TEST_TMPDIR/comp" -n 2 -t 20
    xmpp_as alice send bot@component.localhost -m "hello bot"
    xmpp_as bob send component.localhost -m "hello component"
    wait "$RECV_PID"
    run cat "$BATS_TEST_TMPDIR/comp"
    assert_line --regexp "^alice@localhost/[^${TAB}]+${TAB}chat${TAB}hello bot$"
    assert_line --regexp "^bob@localhost/[^${TAB}]+${TAB}chat${TAB}hello component$"
    refute grep -q "SENT: <presence" "$BATS_TEST_TMPDIR/comp.err"
}

@test "component: -v shows the handshake with the secret redacted" {
    run xmpp_component send -v alice@localhost -m x
    assert_success
    assert_output --partial 'xmlns="jabber:component:accept"'
    assert_output --partial "SENT: <handshake>[redacted]</handshake>"
    refute_output --partial "$XS_COMP_SECRET"
    assert_output --regexp 'SENT: <message [^>]*from="component.localhost"'
}

@test "component: the IQ tools ask a JID and get the answer" {
    run xmpp_component ping localhost
    assert_success
    assert_line "1 sent, 1 received, 0% lost"
    run xmpp_component version localhost
    assert_output --regexp "^$(server_software)${TAB}"
    run xmpp_component disco localhost
    assert_line "feature${TAB}urn:xmpp:ping"
    run xmpp_component iq get --to localhost '<time xmlns="urn:xmpp:time"/>'
    assert_success
    assert_output --regexp '^<time xmlns="urn:xmpp:time">'
}

@test "component: without a JID the IQ tools exit 64 (a component has no server)" {
    for tool in ping version time disco vcard; do
        run xmpp_component "$tool"
        assert_failure 64
        assert_output --partial "a component has no server of its own to ask"
    done
    run xmpp_component iq get '<ping xmlns="urn:xmpp:ping"/>'
    assert_failure 64
}

@test "component: shell sends stanzas from the component" {
    run xmpp_component shell -t 10 <<<'<message to="carol@localhost"><body>via shell</body></message>'
    assert_success
    run xmpp_as carol recv -n 1 -t 10
    assert_output --regexp "^component\.localhost${TAB}normal${DELAYED}${TAB}via shell$"
}

@test "component: a wrong secret exits 77" {
    printf 'wrong\n' >"$BATS_TEST_TMPDIR/bad"
    run "$XMPP" send --component component.localhost --secret-file "$BATS_TEST_TMPDIR/bad" \
        --server "127.0.0.1:$XS_COMP_PORT" alice@localhost -m x
    assert_failure 77
    assert_output "xmpp send: authentication failed for component.localhost: check the secret (--secret-file)"
}

@test "component: a domain the server does not know exits 76 (ejabberd: 77)" {
    COMPONENT=nothere.localhost run xmpp_component send alice@localhost -m x
    if [ "$XS_IMPL" = ejabberd ]; then
        # ejabberd does not tell an unknown domain from a wrong secret: it
        # takes the stream and refuses the handshake (not-authorized).
        assert_failure 77
        assert_output --partial "authentication failed for nothere.localhost"
        return
    fi
    assert_failure 76
    assert_output --partial "host-unknown"
}

@test "component: options missing or wrong: 64, a missing secret file 66, no server 69" {
    run "$XMPP" send --component component.localhost --server "127.0.0.1:$XS_COMP_PORT" alice@localhost -m x
    assert_failure 64
    assert_output --partial "--component needs --secret-file"
    printf 's\n' >"$BATS_TEST_TMPDIR/s"
    run "$XMPP" send --component component.localhost --secret-file "$BATS_TEST_TMPDIR/s" alice@localhost -m x
    assert_failure 64
    assert_output --partial "--component needs --server HOST:PORT"
    run "$XMPP" send --component component.localhost --secret-file /nonexistent \
        --server "127.0.0.1:$XS_COMP_PORT" alice@localhost -m x
    assert_failure 66
    run "$XMPP" send --component component.localhost --secret-file "$BATS_TEST_TMPDIR/s" \
        --server 127.0.0.1:1 alice@localhost -m x
    assert_failure 69
    assert_output --partial "cannot connect to 127.0.0.1:1"
}
