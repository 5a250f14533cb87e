#!/usr/bin/env bats
# A server that attacks with its XML: malformed or non-UTF-8 bytes, a
# DOCTYPE, stanzas too big or too deep. No real server sends these, so a
# scripted one does (tests/hostile.py xml, direct TLS with a certificate
# of its own); the suite's server is not involved, and every test holds
# whichever one the run is for. Each fault ends the run with 76 and one
# line naming it, the stream closed with the stream error that names it
# (RFC 6120 §4.9.3), within the deadline.

load helpers

setup_file() {
    export HX_DIR="$BATS_FILE_TMPDIR/hostile"
    mkdir -p "$HX_DIR"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
        -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        -keyout "$HX_DIR/key.pem" -out "$HX_DIR/cert.pem" 2>/dev/null
}

# No user config, environment or XDG state leaks into a test.
setup() {
    export XDG_CONFIG_HOME="$BATS_TEST_TMPDIR/config"
    # The scripted server offers PLAIN only: no pin from a real login.
    export XDG_STATE_HOME="$BATS_TEST_TMPDIR/state"
    unset XMPP_JID XMPP_PASSWORD XMPP_ACCOUNT
}

teardown() {
    [ -z "${HOSTILE_PID:-}" ] || stop_bg "$HOSTILE_PID"
}

# hostile_xml CASE [ARG]: the hostile server's xml mode, with the
# file's certificate.
hostile_xml() {
    hostile xml "$HX_DIR/cert.pem" "$HX_DIR/key.pem" "$@"
}

# against TOOL [ARGS...]: run a tool logged in to the hostile server.
against() {
    local tool=$1
    shift
    XMPP_PASSWORD=secret "$XMPP" "$tool" -j alice@localhost \
        --server "127.0.0.1:$HOSTILE_PORT" --direct-tls --allow-plain \
        --ca-file "$HX_DIR/cert.pem" "$@"
}

# said CONDITION: the client closed the stream with this stream error.
said() {
    wait_for "$HOSTILE_LOG" "^client said $1\$" 5 || { cat "$HOSTILE_LOG" >&2; return 1; }
}

# said_or_reset CONDITION: as said, for a client that stops reading in
# the middle of what the server is still sending: closing with those
# bytes unread resets the connection (RFC 793 §3.5), and the kernel
# drops the stream error it sent just before along with them, at times.
said_or_reset() {
    wait_for "$HOSTILE_LOG" "^client said $1\$\|^client closed (ConnectionResetError)\$" 5 ||
        { cat "$HOSTILE_LOG" >&2; return 1; }
    ! grep "^client said" "$HOSTILE_LOG" | grep -qv "^client said $1\$"
}

# The end of every fault's line but a too big stanza's.
OPERATOR='; connection closed: report it to the server'"'"'s operator$'

@test "hostile: malformed XML ends recv with 76, one line, after what came before" {
    hostile_xml malformed
    run --separate-stderr against recv -t "$(slow 6)"
    [ "$status" -eq 76 ]
    assert_output $'mallory@localhost/x\tchat\tbefore the fault'
    [[ "$stderr" =~ ^"xmpp recv: 127.0.0.1:$HOSTILE_PORT sent malformed XML (mismatched tag after "[0-9]+" bytes of the stream)"$OPERATOR ]]
    [ "${#stderr_lines[@]}" -eq 1 ]
    said not-well-formed
}

@test "hostile: a byte that is not UTF-8 ends recv with 76 (unsupported-encoding)" {
    hostile_xml utf8
    run --separate-stderr against recv -t "$(slow 6)"
    [ "$status" -eq 76 ]
    assert_output $'mallory@localhost/x\tchat\tbefore the fault'
    [[ "$stderr" =~ ^"xmpp recv: 127.0.0.1:$HOSTILE_PORT sent invalid UTF-8 (after "[0-9]+" bytes of the stream)"$OPERATOR ]]
    [ "${#stderr_lines[@]}" -eq 1 ]
    said unsupported-encoding
}

@test "hostile: a DOCTYPE with an internal entity is refused before login (restricted-xml)" {
    hostile_xml doctype
    run --separate-stderr against recv -t "$(slow 6)"
    [ "$status" -eq 76 ]
    [ -z "$output" ]
    [[ "$stderr" =~ ^"xmpp recv: 127.0.0.1:$HOSTILE_PORT sent a DOCTYPE, which XMPP forbids (RFC 6120 §11.1)"$OPERATOR ]]
    [ "${#stderr_lines[@]}" -eq 1 ]
    said restricted-xml
}

@test "hostile: the billion laughs are refused at once, not expanded past -t" {
    hostile_xml laughs
    local t0=$SECONDS
    run --separate-stderr against recv -t "$(slow 5)"
    [ "$status" -eq 76 ] # expanding it would reach the deadline: 75
    [[ "$stderr" == *"sent a DOCTYPE, which XMPP forbids"* ]]
    [ $((SECONDS - t0)) -lt "$(slow 3)" ]
    said restricted-xml
}

@test "hostile: a comment in the stream ends recv with 76 (restricted-xml)" {
    hostile_xml comment
    run --separate-stderr against recv -t "$(slow 6)"
    [ "$status" -eq 76 ]
    [ -z "$output" ] # the message after it is not taken
    [[ "$stderr" =~ ^"xmpp recv: 127.0.0.1:$HOSTILE_PORT sent a comment, which XMPP forbids (RFC 6120 §11.1)"$OPERATOR ]]
    said restricted-xml
}

@test "hostile: -v redacts a password of one character only where it travels" {
    # Only the scripted server takes any password: a one-letter one here.
    hostile_xml comment
    run --separate-stderr env XMPP_PASSWORD=e "$XMPP" recv -v -j alice@localhost \
        --server "127.0.0.1:$HOSTILE_PORT" --direct-tls --allow-plain \
        --ca-file "$HX_DIR/cert.pem" -t "$(slow 6)"
    [ "$status" -eq 76 ]
    [[ "$stderr" == *"<auth "*">[redacted]</auth>"* ]]
    [[ "$stderr" == *"<stream:stream"* ]] # every other e as it is
    [[ "$stderr" != *"str[redacted]am"* ]]
}

@test "hostile: a 200 MB stanza is refused while read, in bounded memory" {
    hostile_xml big 200000000
    # Peak memory of the whole run, valgrind's own included: a client that
    # held the stanza would need more than 200 MB.
    run --separate-stderr /usr/bin/time -f %M -o "$BATS_TEST_TMPDIR/rss" \
        env XMPP_PASSWORD=secret "$XMPP" recv -j alice@localhost \
        --server "127.0.0.1:$HOSTILE_PORT" --direct-tls --allow-plain \
        --ca-file "$HX_DIR/cert.pem" -t "$(slow 10)"
    [ "$status" -eq 76 ]
    [ -z "$output" ]
    assert_equal "$stderr" "xmpp recv: 127.0.0.1:$HOSTILE_PORT sent a stanza over 1048576 bytes; connection closed (--max-stanza raises the limit)"
    local kb
    kb=$(tail -1 "$BATS_TEST_TMPDIR/rss")
    echo "peak RSS: $kb kB"
    [ "$kb" -lt 131072 ]
}

@test "hostile: --max-stanza sets the limit, both ways" {
    hostile_xml big 200000
    run --separate-stderr against recv --max-stanza 100000 -t "$(slow 6)"
    [ "$status" -eq 76 ]
    assert_equal "$stderr" "xmpp recv: 127.0.0.1:$HOSTILE_PORT sent a stanza over 100000 bytes; connection closed (--max-stanza raises the limit)"
    said_or_reset policy-violation
    run against recv --max-stanza 300000 -n 2 --json -t "$(slow 6)"
    assert_success
    assert_equal "$(jq -r '.body | length' <<<"$output" | tr '\n' ' ')" "200000 17 "
}

@test "hostile: max_stanza in the config file sets the limit" {
    hostile_xml big 200000
    mkdir -p "$XDG_CONFIG_HOME/xmpp"
    printf '[default]\njid = alice@localhost\nmax_stanza = 100000\n' \
        >"$XDG_CONFIG_HOME/xmpp/config"
    run --separate-stderr against recv -t "$(slow 6)"
    [ "$status" -eq 76 ]
    [[ "$stderr" == *"sent a stanza over 100000 bytes"* ]]
    run against recv -n 1 --max-stanza 300000 -t "$(slow 6)" # flag beats file
    assert_success
}

@test "hostile: a --max-stanza or max_stanza that is not 1024 to 1 GiB bytes is refused" {
    run "$XMPP" recv --max-stanza 100 -j alice@localhost
    assert_failure 64
    assert_output "xmpp recv: --max-stanza 100: give bytes, 1024 to 1 GiB"
    mkdir -p "$XDG_CONFIG_HOME/xmpp"
    printf '[default]\njid = alice@localhost\nmax_stanza = lots\n' \
        >"$XDG_CONFIG_HOME/xmpp/config"
    XMPP_PASSWORD=x run "$XMPP" recv
    assert_failure 78
    assert_output --partial "max_stanza 'lots' is not 1024 to 1073741824 bytes"
}

@test "hostile: recv --reconnect does not retry a server whose stream it refused" {
    hostile_xml redoctype
    run --separate-stderr against recv --reconnect -t "$(slow 20)"
    [ "$status" -eq 76 ]
    # The drop is retried (once, after about a second); the DOCTYPE not.
    assert_equal "${#stderr_lines[@]}" 2
    [[ "${stderr_lines[0]}" == "xmpp recv: connection lost: "*"; reconnecting in "* ]]
    [[ "${stderr_lines[1]}" =~ ^"xmpp recv: 127.0.0.1:$HOSTILE_PORT sent a DOCTYPE, which XMPP forbids (RFC 6120 §11.1)"$OPERATOR ]]
    assert_equal "$(grep -c '^sent doctype' "$HOSTILE_LOG")" 1
}

@test "hostile: a server's XEP-0478 limit above the default raises it" {
    hostile_xml announce 4194304
    run --separate-stderr against recv --json -t "$(slow 10)"
    [ "$status" -eq 76 ]
    # 2 MiB (over the default) arrives; 5 MiB (over what it announced) not.
    assert_equal "$(jq -r '.body | length' <<<"$output")" 2097152
    assert_equal "$stderr" "xmpp recv: 127.0.0.1:$HOSTILE_PORT sent a stanza over 4194304 bytes; connection closed (--max-stanza raises the limit)"
}

@test "hostile: a stanza nested 300 deep or with 20000 children is refused (policy-violation)" {
    hostile_xml deep 300
    run --separate-stderr against recv -t "$(slow 6)"
    [ "$status" -eq 76 ]
    [[ "$stderr" =~ ^"xmpp recv: 127.0.0.1:$HOSTILE_PORT sent a stanza nested over 256 elements deep"$OPERATOR ]]
    said policy-violation
    stop_bg "$HOSTILE_PID"
    hostile_xml wide 20000
    run --separate-stderr against recv -t "$(slow 6)"
    [ "$status" -eq 76 ]
    [[ "$stderr" =~ ^"xmpp recv: 127.0.0.1:$HOSTILE_PORT sent an element with over 10000 children"$OPERATOR ]]
}

@test "hostile: a body of a million newlines arrives in linear time" {
    # libstrophe alone joins text piece by piece with strncat: a piece per
    # newline, seconds for this one.
    hostile_xml lines 1000000
    run against recv -n 1 --json -t "$(slow 3)"
    assert_success
    assert_equal "$(jq -r '.body | length' <<<"$output")" 1000000
}

@test "hostile: recv reads on across the renewal of its parser (new names, 350 KiB)" {
    # Expat keeps every name it meets until reset, so the checks renew it
    # between stanzas every 256 KiB (bounding what a server can make it
    # keep); the stream goes on as if nothing happened.
    hostile_xml names 300
    run against recv -n 1 -t "$(slow 10)"
    assert_success
    assert_output $'mallory@localhost/x\tchat\tafter the names'
}

@test "hostile: send meets malformed XML: 76, one line with the cause and what is unconfirmed" {
    hostile_xml ping
    run --separate-stderr against send bob@localhost -m hi -t "$(slow 6)"
    [ "$status" -eq 76 ]
    [[ "$stderr" =~ ^"xmpp send: 127.0.0.1:$HOSTILE_PORT sent malformed XML (mismatched tag after "[0-9]+" bytes of the stream); connection closed: report it to the server's operator; 1 of 1 message(s) not confirmed by the server"$ ]]
    [ "${#stderr_lines[@]}" -eq 1 ]
    said not-well-formed
}
