#!/usr/bin/env bats
# xmpp vcard: XEP-0054 vCards, set then read back.

load helpers

setup_file() { server_up; }
teardown_file() { server_down; }

TAB=$'\t'

@test "vcard: set from JSON, then get: a line per field" {
    run xmpp_as alice vcard set <<<'{"FN":"Alice Liddell","N":{"FAMILY":"Liddell","GIVEN":"Alice"},"NICKNAME":"al"}'
    assert_success
    assert_output ""
    run xmpp_as alice vcard
    assert_success
    assert_line "FN${TAB}Alice Liddell"
    assert_line "N.FAMILY${TAB}Liddell"
    assert_line "N.GIVEN${TAB}Alice"
    assert_line "NICKNAME${TAB}al"
}

@test "vcard: another user reads it with 'get JID'" {
    xmpp_as carol vcard set <<<'{"FN":"Carol"}'
    run xmpp_as dave vcard get carol@localhost
    assert_success
    assert_line "FN${TAB}Carol"
}

@test "vcard: --json round-trips: repeated fields are arrays, flags empty strings" {
    cat >"$BATS_TEST_TMPDIR/v.json" <<'JSON'
{"FN":"Bob","EMAIL":[{"HOME":"","INTERNET":true,"USERID":"bob@home.example"},{"WORK":"","USERID":"bob@work.example"}],"NOTE":"line one\nline two"}
JSON
    run xmpp_as bob vcard set "$BATS_TEST_TMPDIR/v.json"
    assert_success
    run xmpp_as bob vcard --json
    assert_success
    [ "$(jq -r .FN <<<"$output")" = Bob ]
    [ "$(jq -r '.EMAIL | length' <<<"$output")" = 2 ]
    [ "$(jq -r '.EMAIL[1].USERID' <<<"$output")" = bob@work.example ]
    [ "$(jq -r '.EMAIL[0].HOME' <<<"$output")" = "" ]
    [ "$(jq -r .NOTE <<<"$output")" = $'line one\nline two' ]
    # What get --json prints, set takes back.
    printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/again.json"
    run xmpp_as bob vcard set "$BATS_TEST_TMPDIR/again.json"
    assert_success
    run xmpp_as bob vcard
    assert_line "EMAIL.USERID${TAB}bob@work.example"
    assert_line "NOTE${TAB}line one\\nline two"
}

@test "vcard: set from an XML file, get --xml prints the element" {
    printf '<vCard xmlns="vcard-temp">\n  <FN>Dave &amp; Co</FN>\n  <URL>https://example.org/</URL>\n</vCard>\n' \
        >"$BATS_TEST_TMPDIR/v.xml"
    run xmpp_as dave vcard set "$BATS_TEST_TMPDIR/v.xml"
    assert_success
    run xmpp_as dave vcard --xml
    assert_success
    assert_output --regexp '^<vCard xmlns="vcard-temp">.*<FN>Dave &amp; Co</FN>'
    assert_output --partial "<URL>https://example.org/</URL>"
}

@test "vcard: a missing file exits 66, bad content 65, nothing sent" {
    run xmpp_as alice vcard set /nonexistent/v.json
    assert_failure 66
    run xmpp_as alice vcard -v set <<<'{"FN": 5}'
    assert_failure 65
    assert_output --partial "stdin: .FN: must be a string, an object or true"
    refute_output --partial "SENT:"
    run xmpp_as alice vcard set <<<'<foo/>'
    assert_failure 65
    assert_output --partial "expected a <vCard xmlns='vcard-temp'> element"
    run xmpp_as alice vcard set <<<'<vCard xmlns="vcard-temp"><FN>x</vCard>'
    assert_failure 65
    assert_output --partial "stdin: line 1, column"
    run xmpp_as alice vcard set <<<'plain text'
    assert_failure 65
}

@test "vcard: an error answer exits 1" {
    run xmpp_as alice vcard nobody@localhost/gone
    assert_failure 1
    assert_output --partial "nobody@localhost/gone: cancel/service-unavailable"
}

@test "vcard: usage errors exit 64, an invalid JID 65" {
    run xmpp_as alice vcard set a b
    assert_failure 64
    run xmpp_as alice vcard get a@localhost b@localhost
    assert_failure 64
    run xmpp_as alice vcard get 'a@'
    assert_failure 65
}

@test "vcard: --help shows get and set" {
    run "$XMPP" vcard --help
    assert_success
    assert_output --partial "usage: xmpp vcard [options] [get] [JID]"
    assert_output --partial "xmpp vcard [options] set [FILE]"
}
