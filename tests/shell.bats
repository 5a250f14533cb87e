#!/usr/bin/env bats
# xmpp shell: stanzas in on stdin, stanzas out on stdout.

load helpers

setup_file() { server_up; }
teardown_file() { server_down; }

@test "shell: three stanzas in, their answers out, one line each" {
    run xmpp_as alice shell -t 10 <<'EOF2'
<iq type="get" to="localhost" id="v"><query xmlns="jabber:iq:version"/></iq>
<iq type="get" to="localhost" id="t"><time xmlns="urn:xmpp:time"/></iq>
<iq type="get" id="r"><query xmlns="jabber:iq:roster"/></iq>
EOF2
    assert_success
    [ "${#lines[@]}" -eq 3 ]
    assert_line --regexp "^<iq [^>]*id=\"v\" [^>]*type=\"result\"><query xmlns=\"jabber:iq:version\"><name>$(server_software)</name>"
    assert_line --regexp '^<iq [^>]*id="t" [^>]*type="result"><time xmlns="urn:xmpp:time">'
    assert_line --regexp '^<iq [^>]*id="r" [^>]*type="result"><query xmlns="jabber:iq:roster"'
}

@test "shell: many stanzas on one line, or one over many lines" {
    run xmpp_as alice shell -t 10 <<'EOF2'
<?xml version="1.0"?>
<iq type="get" to="localhost" id="a"><ping xmlns="urn:xmpp:ping"/></iq><iq type="get" to="localhost" id="b"><ping xmlns="urn:xmpp:ping"/></iq>
<iq type="get"
    to="localhost" id="c">
  <ping xmlns="urn:xmpp:ping"/>
</iq>
EOF2
    assert_success
    assert_line --regexp '^<iq [^>]*id="a" [^>]*type="result"'
    assert_line --regexp '^<iq [^>]*id="b" [^>]*type="result"'
    assert_line --regexp '^<iq [^>]*id="c" [^>]*type="result"'
}

@test "shell: an IQ request without an id gets one, and its answer is awaited" {
    run xmpp_as alice shell -t 10 <<<'<iq type="get" to="localhost"><ping xmlns="urn:xmpp:ping"/></iq>'
    assert_success
    assert_output --regexp '^<iq [^>]*id="[0-9a-f-]{36}" [^>]*type="result"'
}

@test "shell: a malformed stanza is reported with line and column and skipped; the rest goes out; 65" {
    run xmpp_as alice shell -v -t 10 <<'EOF2'
<iq type="get" to="localhost" id="one"><ping xmlns="urn:xmpp:ping"/></iq>
<message to="bob@localhost"><body>fish & chips</body></message>
<iq type="get" to="localhost" id="two"><ping xmlns="urn:xmpp:ping"/></iq>
EOF2
    assert_failure 65
    assert_line "xmpp shell: stdin: line 2, column 41: not well-formed (invalid token); skipped"
    assert_line "xmpp shell: 1 stanza(s) were not sent"
    assert_line --regexp '^<iq [^>]*id="one" [^>]*type="result"'
    assert_line --regexp '^<iq [^>]*id="two" [^>]*type="result"'
    refute_output --partial "SENT: <message"
}

@test "shell: only message, presence and iq may be sent" {
    run xmpp_as alice shell -t 10 <<<'<foo xmlns="jabber:client"/>'
    assert_failure 65
    assert_output --partial "stdin: line 1, column 1: <foo> is not allowed here (expected message, presence, iq); skipped"
}

@test "shell: 'from' is left to the server" {
    run xmpp_as alice shell -v -t 10 <<<'<message to="bob@localhost"><body>hi</body></message>'
    assert_success
    assert_output --regexp 'SENT: <message to="bob@localhost"><body>hi</body></message>'
    run xmpp_as bob recv -n 1 -t 10
    assert_output --regexp "^alice@localhost/[^	]+	normal$DELAYED	hi\$"
}

@test "shell: incoming stanzas are printed as they arrive" {
    shell_bg bob "$BATS_TEST_TMPDIR/bob" --resource sh
    xmpp_as alice send bob@localhost/sh -m "to the shell"
    wait_for "$BATS_TEST_TMPDIR/bob" "to the shell"
    shell_stop
    [ "$SHELL_STATUS" -eq 0 ]
    run grep '<message ' "$BATS_TEST_TMPDIR/bob"
    assert_output --regexp '^<message [^>]*from="alice@localhost/[^"]+"[^>]*><body>to the shell</body>'
    refute_output --partial 'xmlns="jabber:client"'
}

@test "shell: --json prints each stanza in the xmpp-iq(1) mapping" {
    run xmpp_as alice shell --json -t 10 <<<'<iq type="get" to="localhost" id="v"><query xmlns="jabber:iq:version"/></iq>'
    assert_success
    [ "$(jq -r .name <<<"$output")" = iq ]
    [ "$(jq -r .attrs.id <<<"$output")" = v ]
    [ "$(jq -r '.children[0].ns' <<<"$output")" = jabber:iq:version ]
    [ "$(jq -r 'has("ns")' <<<"$output")" = false ]
}

@test "shell: JSON in and out round-trips through jq" {
    out=$(jq -nc '{name: "iq", attrs: {type: "get", to: "localhost", id: ("q" + (.|tostring))},
                   children: [{name: "query", ns: "jabber:iq:version"}]}' |
        xmpp_as alice shell --json-in --json -t 10 |
        jq -c '{id: .attrs.id, software: (.children[0].children[] | select(.name == "name") | .text)}')
    [ "$out" = "{\"id\":\"qnull\",\"software\":\"$(server_software)\"}" ]
    # And what comes out goes back in: the answer's payload, re-asked.
    xmpp_as alice shell --json -t 10 >"$BATS_TEST_TMPDIR/answer.json" \
        <<<'<iq type="get" to="localhost" id="t"><time xmlns="urn:xmpp:time"/></iq>'
    jq -c '{name: "iq", attrs: {type: "get", to: "localhost", id: "again"},
            children: [.children[0] | del(.children)]}' \
        "$BATS_TEST_TMPDIR/answer.json" >"$BATS_TEST_TMPDIR/ask.json"
    run xmpp_as alice shell --json-in --json -t 10 <"$BATS_TEST_TMPDIR/ask.json"
    assert_success
    [ "$(jq -r '.attrs.id + " " + .children[0].ns' <<<"$output")" = "again urn:xmpp:time" ]
}

@test "shell: --json-in reports a bad line with its number and skips it" {
    run xmpp_as alice shell --json-in -t 10 <<'EOF2'
{"name":"iq","attrs":{"type":"get","to":"localhost","id":"ok"},"children":[{"name":"ping","ns":"urn:xmpp:ping"}]}
{"name":"iq","attrs":{"type":"get"
{"name":"body","text":"not a stanza"}
EOF2
    assert_failure 65
    assert_line --regexp '^xmpp shell: stdin: line 2, column [0-9]+: .*; skipped$'
    assert_line "xmpp shell: stdin line 3: <body> is not a stanza (message, presence or iq); skipped"
    assert_line "xmpp shell: 2 stanza(s) were not sent"
    assert_line --regexp '^<iq [^>]*id="ok" [^>]*type="result"'
}

@test "shell: --max-size refuses a larger stanza" {
    body=$(head -c 300 /dev/zero | tr '\0' x)
    run xmpp_as alice shell --max-size 200 -t 10 <<<"<message to=\"bob@localhost\"><body>$body</body></message>"
    assert_failure 65
    assert_output --partial "stdin: line 1, column 1: element larger than 200 bytes; skipped"
    run xmpp_as alice shell --json-in --max-size 50 -t 10 <<<"{\"name\":\"message\",\"text\":\"$body\"}"
    assert_failure 65
    assert_output --partial "stdin: line 1: larger than 50 bytes (--max-size); skipped"
}

@test "shell: the deadline with an IQ unanswered exits 75" {
    shell_bg bob "$BATS_TEST_TMPDIR/bob" --resource silent
    run xmpp_as alice shell -t "$(slow 2)" <<<'<iq type="get" to="bob@localhost/silent" id="x"><query xmlns="jabber:iq:version"/></iq>'
    shell_stop
    assert_failure 75
    assert_output "xmpp shell: deadline reached with 1 IQ request(s) unanswered"
}

@test "shell: arguments are a usage error: 64" {
    run xmpp_as alice shell '<message/>'
    assert_failure 64
    assert_output --partial "stanzas come from stdin"
    run xmpp_as alice shell --max-size 0
    assert_failure 64
}

@test "shell: --help shows --json-in and --max-size" {
    run "$XMPP" shell --help
    assert_success
    assert_output --partial "usage: xmpp shell [options] [--json-in] [--max-size BYTES]"
    assert_output --partial "--json-in"
    assert_output --partial "--max-size BYTES"
}
