#!/usr/bin/env bats
# Logging in: our own stream negotiation (common/net/negotiate.c) on the
# real servers. What the server offered is remembered, so the next login
# pipelines (XEP-0305); the strongest mechanism is used and pinned.
# Attacks and downgrades are in auth.bats.

load helpers

setup_file() { server_up; }
teardown_file() { server_down; }

setup() {
    export XDG_STATE_HOME="$BATS_TEST_TMPDIR/state"
}

state_file() {
    printf '%s/xmpp/%s.%s' "$XDG_STATE_HOME" "$(jid_of "$1")" "$2"
}

# The -v console of a send from alice to bob.
console_send() {
    run --separate-stderr xmpp_as alice send -v "$@" "$(jid_of bob)" -m login
    assert_success
}

# Line number of the first console line matching a regexp.
line_of() {
    printf '%s\n' "$stderr" | grep -n -m1 -E "$1" | cut -d: -f1
}

@test "login: the first login waits for the features, and remembers them (0600)" {
    console_send
    # The <auth/> (SASL2: <authenticate/>) goes after the SASL features.
    [ "$(line_of '^SENT: <auth')" -gt "$(line_of '^RECV: <features.*<mechanisms')" ]
    run stat -c %a "$(state_file alice offer)" "$XDG_STATE_HOME/xmpp"
    assert_output "600
700"
    run cat "$(state_file alice offer)"
    assert_line --regexp '^mechanisms .*SCRAM-SHA-1'
    assert_line 'sm yes'
}

@test "login: the next login pipelines the SASL initial response and the bind request" {
    require_server prosody "ejabberd offers SASL2 with Bind2: no restart, no bind request (next test)"
    console_send
    console_send
    # <auth/> right behind the header after TLS, before any features.
    [ "$(line_of '^SENT: <auth ')" -lt "$(line_of '^RECV: <features.*<mechanisms')" ]
    # The bind request and the message go before the server's features
    # of the restarted stream.
    local restart bind msg feats
    restart=$(printf '%s\n' "$stderr" | grep -n '^SENT: <?xml' | tail -1 | cut -d: -f1)
    bind=$(line_of '^SENT: <iq id="_xmpp_bind1"')
    msg=$(line_of '^SENT: <message ')
    feats=$(printf '%s\n' "$stderr" | grep -n '^RECV: <features.*xmpp-bind' | cut -d: -f1)
    [ "$restart" -lt "$bind" ] && [ "$bind" -lt "$msg" ] && [ "$msg" -lt "$feats" ]
    # And bob has it.
    run xmpp_as bob recv -n 2 -t "$(slow 5)"
    assert_success
    assert_line --partial $'\tlogin'
}

@test "login: SASL2 with Bind2 and inline Stream Management; then FAST, pipelined" {
    require_server ejabberd "Prosody 0.12 offers no SASL2 (tests/README.md)"
    console_send
    # A password login over SASL2 asks for a FAST token, binds and
    # enables Stream Management inline: no restart, no bind request.
    printf '%s\n' "$stderr" | grep -q '^SENT: <authenticate mechanism="SCRAM-SHA-1-PLUS".*<request-token [^>]*mechanism="HT-SHA-256-EXPR"'
    printf '%s\n' "$stderr" | grep -q '<bind xmlns="urn:xmpp:bind:0"><tag>xmpp-[0-9a-f]*</tag><enable xmlns="urn:xmpp:sm:3"/></bind>'
    [[ $stderr != *_xmpp_bind1* ]]
    [ "$(printf '%s\n' "$stderr" | grep -c '^SENT: <?xml')" -eq 2 ]
    run stat -c %a "$(state_file alice fast)"
    assert_output 600
    # The next login uses the token, sent before the features come.
    console_send
    [ "$(line_of '^SENT: <authenticate mechanism="HT-SHA-256-EXPR"')" -lt "$(line_of '^RECV: <features.*<mechanisms')" ]
    [[ $stderr != *'<authenticate mechanism="SCRAM'* ]]
    run xmpp_as bob recv -n 2 -t "$(slow 5)"
    assert_success
    assert_line --partial $'\tlogin'
}

@test "login: a FAST token the server refuses is given up once for the password, said with -v" {
    require_server ejabberd "Prosody 0.12 offers no FAST (tests/README.md)"
    console_send
    sed -i 's/^token .*/token revoked-or-forged/' "$(state_file alice fast)"
    console_send
    printf '%s\n' "$stderr" | grep -qx 'FAST: the token was refused (not-authorized); logging in with the password'
    printf '%s\n' "$stderr" | grep -q '^SENT: <authenticate mechanism="SCRAM-SHA-1-PLUS"'
    # A new token came with the password login.
    run grep -c '^token revoked-or-forged' "$(state_file alice fast)"
    assert_output 0
}

@test "login: --reset-token has the server invalidate the token, and asks for none" {
    require_server ejabberd "Prosody 0.12 offers no FAST (tests/README.md)"
    console_send
    local old
    old=$(sed -n 's/^token //p' "$(state_file alice fast)")
    console_send --reset-token
    printf '%s\n' "$stderr" | grep -q '<fast [^>]*invalidate="true"'
    [ ! -e "$(state_file alice fast)" ]
    # The server no longer takes it.
    printf 'mechanism HT-SHA-256-EXPR\ntoken %s\nexpiry 0\n' "$old" >"$(state_file alice fast)"
    chmod 600 "$(state_file alice fast)"
    console_send
    printf '%s\n' "$stderr" | grep -q 'FAST: the token was refused'
}

@test "login: a remembered offer that is wrong costs a round trip, not the login" {
    console_send
    # The server offers SCRAM-SHA-1 (and -PLUS on ejabberd), not -512.
    printf 'mechanisms SCRAM-SHA-512-PLUS SCRAM-SHA-512\nchannel-binding tls-exporter tls-server-end-point\nsm yes\n' \
        >"$(state_file alice offer)"
    console_send
    printf '%s\n' "$stderr" | grep -q "SENT: <auth .*mechanism='SCRAM-SHA-512"
    printf '%s\n' "$stderr" | grep -q "RECV: <failure "
    printf '%s\n' "$stderr" | grep -q "SENT: <auth.*mechanism=.SCRAM-SHA-1"
    run cat "$(state_file alice offer)"
    assert_line --regexp '^mechanisms .*SCRAM-SHA-1'
}

@test "login: the strongest mechanism is used and pinned; --reset-pin forgets it" {
    console_send
    local want=SCRAM-SHA-1
    # ejabberd 24.12 offers channel binding (tests/README.md).
    [ "$XS_IMPL" = ejabberd ] && want=SCRAM-SHA-1-PLUS
    printf '%s\n' "$stderr" | grep -q "SENT: <auth.*mechanism=.$want[\"']"
    run cat "$(state_file alice pin)"
    assert_output "$want"
    run stat -c %a "$(state_file alice pin)"
    assert_output 600
    console_send --reset-pin
    run cat "$(state_file alice pin)"
    assert_output "$want" # pinned again by the login that followed
}

@test "login: ejabberd's channel binding is tls-exporter under TLS 1.3" {
    require_server ejabberd "Prosody 0.12 offers no -PLUS mechanism"
    console_send
    console_send --direct-tls --server "127.0.0.1:$XS_TLS_PORT"
    run cat "$(state_file alice offer)"
    assert_line 'channel-binding tls-exporter tls-server-end-point'
}

@test "login: a wrong password is still a wrong password: 77" {
    XMPP_PASSWORD=wrong-password run "$XMPP" send -j "$(jid_of alice)" \
        $(server_opts) "$(jid_of bob)" -m x
    assert_failure 77
    assert_output "xmpp send: authentication failed for $(jid_of alice): check the password (XMPP_PASSWORD)"
}

@test "login: presence list learns its bound JID with a pipelined bind" {
    console_send # remembered: the next login pipelines the bind
    run --separate-stderr xmpp_as alice presence list -v --wait 0.5
    assert_success
    if [ "$XS_IMPL" = ejabberd ]; then # Bind2, inline (XEP-0386)
        printf '%s\n' "$stderr" | grep -q "<authorization-identifier>$(jid_of alice)/"
    else
        printf '%s\n' "$stderr" | grep -q "SENT: <iq id=\"_xmpp_bind1\""
    fi
}

@test "login: --allow-plain and --reset-pin are in --help" {
    run "$XMPP" send --help
    assert_output --partial "--allow-plain"
    assert_output --partial "--reset-pin"
}

@test "login: allow_plain in the config, XMPP_ALLOW_PLAIN in the environment" {
    mkdir -p "$XDG_CONFIG_HOME/xmpp"
    printf '[default]\njid = %s\nallow_plain = maybe\n' "$(jid_of alice)" \
        >"$XDG_CONFIG_HOME/xmpp/config"
    run "$XMPP" send $(server_opts) "$(jid_of bob)" -m x
    assert_failure 78
    assert_output --partial "allow_plain"
    rm "$XDG_CONFIG_HOME/xmpp/config"
    XMPP_ALLOW_PLAIN=perhaps run xmpp_as alice send "$(jid_of bob)" -m x
    assert_failure 78
    assert_output --partial "XMPP_ALLOW_PLAIN"
    XMPP_ALLOW_PLAIN=true run xmpp_as alice send "$(jid_of bob)" -m x
    assert_success
}
