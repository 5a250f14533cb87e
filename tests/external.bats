#!/usr/bin/env bats
# Logging in with a client certificate (issue 13; RFC 6120 §6.4.2 and
# XEP-0178: SASL EXTERNAL with an empty authzid, the server taking the
# identity from the certificate). The server runs with XS_CLIENT_CA=1
# (tests/server): a client CA, alice's certificate (xmppAddr
# alice@localhost) and a rogue one from an issuer the server does not
# trust. ejabberd offers EXTERNAL on its STARTTLS port (XS_PORT) and not
# on its direct TLS port (XS_TLS_PORT); Prosody 0.12 offers it nowhere
# (no EXTERNAL for clients in its main package).

load helpers

setup_file() {
    XS_CLIENT_CA=1 server_up
    CERT="$XS_CLIENT_DIR/alice.crt"
    KEY="$XS_CLIENT_DIR/alice.key"
    export CERT KEY
}
teardown_file() { server_down; }

setup() {
    # Pins (common/auth/state.h) of this test only.
    export XDG_STATE_HOME="$BATS_TEST_TMPDIR/state"
    BODY="external test $BATS_TEST_NUMBER $RANDOM"
}

teardown() { drain_if_failed bob; }

# as_alice [ARGS...]: xmpp send as alice without a password, to bob,
# with ARGS before the recipient.
as_alice() {
    "$XMPP" send -j "$(jid_of alice)" --ca-file "$XS_CA" \
        -t "$(slow 10)" "$@" "$(jid_of bob)" -m "$BODY" </dev/null
}

# at_starttls, at_direct: where ejabberd offers EXTERNAL, and where not.
at_starttls() { as_alice --server "127.0.0.1:$XS_PORT" "$@"; }
at_direct() { as_alice --direct-tls --server "127.0.0.1:$XS_TLS_PORT" "$@"; }

offers_external() {
    require_server ejabberd "Prosody 0.12 offers clients no SASL EXTERNAL (only the community module mod_auth_ccert does)"
}

# bob_got: bob received $BODY from alice.
bob_got() {
    run xmpp_as bob recv --idle "$(slow 1)" -t "$(slow 10)"
    assert_output --partial "$BODY"
    assert_output --partial "$(jid_of alice)"
}

# ------------------------------------------------------------ logging in

@test "external: --cert and --key, no password: logged in with EXTERNAL over SASL2, message delivered" {
    offers_external
    run --separate-stderr at_starttls --cert "$CERT" --key "$KEY" -v
    assert_success
    # XEP-0388 §2.2: an empty initial response ("=", redacted on -v).
    [[ $stderr == *'SENT: <authenticate mechanism="EXTERNAL" xmlns="urn:xmpp:sasl:2"><initial-response>'* ]] ||
        fail "no SASL2 EXTERNAL: $stderr"
    [[ $stderr == *'<authorization-identifier>alice@localhost/'* ]] || fail "not bound as alice"
    bob_got
    # The certificate's family is pinned like -PLUS (auth/mech.h).
    assert_equal "$(cat "$XDG_STATE_HOME/xmpp/$(jid_of alice).pin")" EXTERNAL
}

@test "external: over RFC 6120 SASL (--resource) the initial response is '=' too" {
    offers_external
    run --separate-stderr at_starttls --cert "$CERT" --key "$KEY" --resource ext -v
    assert_success
    [[ $stderr == *"SENT: <auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>"* ]] ||
        fail "no SASL EXTERNAL: $stderr"
    [[ $stderr == *'RECV: <success xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/>'* ]] || fail "no success"
    bob_got
}

@test "external: cert_file and key_file in the config log in without a password" {
    offers_external
    export XDG_CONFIG_HOME="$BATS_TEST_TMPDIR/config"
    mkdir -p "$XDG_CONFIG_HOME/xmpp"
    printf '[default]\njid = %s\ncert_file = %s\nkey_file = %s\n' \
        "$(jid_of alice)" "$CERT" "$KEY" >"$XDG_CONFIG_HOME/xmpp/config"
    run --separate-stderr "$XMPP" send --server "127.0.0.1:$XS_PORT" \
        --ca-file "$XS_CA" -t "$(slow 10)" -v "$(jid_of bob)" -m "$BODY" </dev/null
    assert_success
    [[ $stderr == *'mechanism="EXTERNAL"'* ]] || fail "no EXTERNAL: $stderr"
    bob_got
}

@test "external: XMPP_CERT_FILE and XMPP_KEY_FILE log in without a password" {
    offers_external
    XMPP_CERT_FILE=$CERT XMPP_KEY_FILE=$KEY run --separate-stderr at_starttls -v
    assert_success
    [[ $stderr == *'mechanism="EXTERNAL"'* ]] || fail "no EXTERNAL: $stderr"
    bob_got
}

@test "external: a certificate the server does not trust is refused: 77, naming it" {
    offers_external
    run --separate-stderr at_starttls --cert "$XS_CLIENT_DIR/rogue.crt" \
        --key "$XS_CLIENT_DIR/rogue.key"
    assert_failure 77
    assert_equal "${#stderr_lines[@]}" 1
    assert_equal "${stderr_lines[0]}" "xmpp send: the server refused the client certificate $XS_CLIENT_DIR/rogue.crt for alice@localhost: not-authorized (unable to verify the first certificate)"
}

# ---------------------------------------------- a server without EXTERNAL

@test "external: a server that does not offer EXTERNAL, no password: 77, saying so" {
    run --separate-stderr at_direct --cert "$CERT" --key "$KEY"
    assert_failure 77
    assert_equal "${#stderr_lines[@]}" 1
    assert_equal "${stderr_lines[0]}" "xmpp send: the server does not offer SASL EXTERNAL for the client certificate; have it verify client certificates (XEP-0178), or give a password too"
}

@test "external: a server that does not offer EXTERNAL takes the password given too" {
    XMPP_PASSWORD=$(pass_of alice) run --separate-stderr at_direct \
        --cert "$CERT" --key "$KEY" -v
    assert_success
    [[ $stderr == *'mechanism="SCRAM-'* || $stderr == *"mechanism='SCRAM-"* ]] ||
        fail "no SCRAM: $stderr"
    [[ $stderr != *EXTERNAL\"* && $stderr != *EXTERNAL\'* ]] || fail "EXTERNAL tried"
    bob_got
}

# ------------------------------------------------------------- the files

@test "external: a key others can read is warned about, once" {
    cp "$KEY" "$BATS_TEST_TMPDIR/open.key"
    chmod 644 "$BATS_TEST_TMPDIR/open.key"
    XMPP_PASSWORD=$(pass_of alice) run --separate-stderr at_direct \
        --cert "$CERT" --key "$BATS_TEST_TMPDIR/open.key"
    assert_success
    assert_equal "${#stderr_lines[@]}" 1
    assert_equal "${stderr_lines[0]}" "xmpp send: warning: --key $BATS_TEST_TMPDIR/open.key is readable by others; run chmod 600 $BATS_TEST_TMPDIR/open.key"
    bob_got
}

@test "external: --cert without --key, and --key without --cert: 64" {
    run --separate-stderr at_starttls --cert "$CERT"
    assert_failure 64
    assert_equal "$stderr" "xmpp send: --cert without --key: a client certificate needs both"
    run --separate-stderr at_starttls --key "$KEY"
    assert_failure 64
    assert_equal "$stderr" "xmpp send: --key without --cert: a client certificate needs both"
}

@test "external: one of XMPP_CERT_FILE and XMPP_KEY_FILE alone: 78" {
    XMPP_KEY_FILE=$KEY run --separate-stderr at_starttls
    assert_failure 78
    assert_equal "$stderr" "xmpp send: XMPP_KEY_FILE without XMPP_CERT_FILE: a client certificate needs both"
}

@test "external: cert_file without key_file in the config: 78, naming the line" {
    export XDG_CONFIG_HOME="$BATS_TEST_TMPDIR/config"
    local cfg="$XDG_CONFIG_HOME/xmpp/config"
    mkdir -p "$XDG_CONFIG_HOME/xmpp"
    printf '[default]\njid = %s\ncert_file = %s\n' "$(jid_of alice)" "$CERT" >"$cfg"
    run --separate-stderr "$XMPP" send "$(jid_of bob)" -m x
    assert_failure 78
    assert_equal "$stderr" "xmpp send: $cfg:3: [default]: cert_file without key_file; a client certificate needs both"
}

@test "external: a certificate file that cannot be read: 66, naming it" {
    run --separate-stderr at_starttls --cert "$BATS_TEST_TMPDIR/none.crt" --key "$KEY"
    assert_failure 66
    assert_equal "$stderr" "xmpp send: --cert $BATS_TEST_TMPDIR/none.crt: No such file or directory"
}

@test "external: a key that is not the certificate's, or an encrypted one: 78, before connecting" {
    run --separate-stderr at_direct --cert "$CERT" --key "$XS_CLIENT_DIR/rogue.key"
    assert_failure 78
    assert_equal "$stderr" "xmpp send: --key $XS_CLIENT_DIR/rogue.key is not the key of --cert $CERT"
    # Refused, not asked for (OpenSSL would prompt on the terminal).
    openssl pkey -in "$KEY" -aes128 -passout pass:secret -out "$BATS_TEST_TMPDIR/enc.key"
    chmod 600 "$BATS_TEST_TMPDIR/enc.key"
    run --separate-stderr at_direct --cert "$CERT" --key "$BATS_TEST_TMPDIR/enc.key"
    assert_failure 78
    assert_equal "$stderr" "xmpp send: --key $BATS_TEST_TMPDIR/enc.key: the key is encrypted; decrypt it (openssl pkey -in KEY -out NEW) and keep it 0600"
    run --separate-stderr at_direct --cert "$KEY" --key "$KEY"
    assert_failure 78
    assert_equal "$stderr" "xmpp send: --cert $KEY: not a PEM certificate"
}
