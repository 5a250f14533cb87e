#!/usr/bin/env bats
# Hostile and malformed input, end to end: what the sanitizer, valgrind
# and fuzz runs found, kept as behaviour (see fuzz/ for the parsers).

load helpers

setup_file() { server_up; }
teardown_file() { server_down; }

@test "input: send --lines --sanitize repairs a bad line and sends every line" {
    printf 'one\n\377bad\nthree\n' >"$BATS_TEST_TMPDIR/lines"
    run xmpp_as alice send --lines --sanitize "$(jid_of bob)" \
        <"$BATS_TEST_TMPDIR/lines"
    assert_success
    run xmpp_as bob recv -n 3 -t 10
    assert_success
    assert_line --index 0 --regexp "	chat$DELAYED	one\$"
    assert_line --index 1 --regexp "	chat$DELAYED	�bad\$"
    assert_line --index 2 --regexp "	chat$DELAYED	three\$"
}

@test "input: a JID with a bracketed domain that is no IPv6 address is refused (65)" {
    run xmpp_as alice send 'bob@[::1"]' -m hi
    assert_failure 65
    assert_output --partial 'invalid JID: invalid IPv6 address'
    run xmpp_as alice send 'bob@[]' -m hi
    assert_failure 65
}

@test "input: --server with junk after the address or a bad host is refused (64)" {
    run xmpp_as alice send --server '[::1]x' "$(jid_of bob)" -m hi
    assert_failure 64
    assert_output --partial "':PORT' or nothing may follow ']'"
    run xmpp_as alice send --server 'bad host:5222' "$(jid_of bob)" -m hi
    assert_failure 64
    assert_output --partial 'invalid host name'
    run xmpp_as alice send --server 'a:b:c' "$(jid_of bob)" -m hi
    assert_failure 64
    assert_output --partial 'invalid IPv6 address'
}

@test "input: --timeout nan is refused (64), not taken as no deadline" {
    run xmpp_as alice send --timeout nan "$(jid_of bob)" -m hi
    assert_failure 64
    assert_output --partial "--timeout: 'nan' is not a number of seconds"
}

@test "input: shell still sends the line after a malformed one that arrived alone" {
    local out="$BATS_TEST_TMPDIR/shell"
    shell_bg alice "$out"
    shell_in $'<iq type="get" id="bad" \xe6'
    # Let the shell read the bad line by itself: expat only notices the
    # error when the next line comes, which was then dropped unread.
    sleep 0.3
    shell_in '<iq type="get" id="good"><ping xmlns="urn:xmpp:ping"/></iq>'
    wait_for "$out" 'id="good"' 10
    shell_stop
    run cat "$out.err"
    assert_output --regexp "stdin: line 2, column [0-9]+: not well-formed \(invalid token\); skipped"
    run cat "$out"
    assert_line --regexp 'id="good".*type="result"'
}

@test "input: iq --json-in refuses a name expat (the server's parser) would not take (65)" {
    # U+07EF is a name character in XML 1.0 5th edition, not in the 4th
    # edition tables expat uses: the server would end the stream.
    run xmpp_as alice iq -v get --json-in \
        '{"name":"query","ns":"urn:x","children":[{"name":"T-\u07ef"}]}'
    assert_failure 65
    assert_output --partial 'payload: .children[0].name: must be an XML name'
    refute_output --partial "SENT:"
}

@test "input: --count takes up to 2147483647, the same on 32-bit systems" {
    # The bound was 1L << 40: undefined where long has 32 bits.
    run xmpp_as alice recv --count 2147483648 -t 1
    assert_failure 64
    assert_output "xmpp recv: --count 2147483648: give a positive number"
    run xmpp_as alice recv --count 2147483647 --no-presence -t "$(slow 1)"
    assert_failure 75
    assert_output --partial "deadline"
}
