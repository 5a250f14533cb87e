#!/usr/bin/env bats
# xmpp iq: raw IQ requests, end to end through the suite's server.

load helpers

setup_file() { server_up; }
teardown_file() { server_down; }

@test "iq: a raw roster payload is set, then got back" {
    run xmpp_as alice iq set \
        '<query xmlns="jabber:iq:roster"><item jid="bob@localhost" name="Bob"><group>Friends</group></item></query>'
    assert_success
    assert_output ""
    run xmpp_as alice iq get '<query xmlns="jabber:iq:roster"/>'
    assert_success
    assert_output --regexp '^<query xmlns="jabber:iq:roster"[^>]*><item [^>]*jid="bob@localhost"[^>]*><group>Friends</group></item></query>$'
    assert_output --partial 'name="Bob"'
}

@test "iq: the payload comes from stdin when not given" {
    run xmpp_as alice iq get --to localhost <<<$'<query\n xmlns="jabber:iq:version"/>'
    assert_success
    assert_output --regexp "^<query xmlns=\"jabber:iq:version\"><name>$(server_software)</name>"
}

@test "iq: a malformed payload exits 65 with line and column, and nothing is sent" {
    run xmpp_as alice iq -v get $'<query xmlns="jabber:iq:roster">\n  <item jid="a@b">\n</query>'
    assert_failure 65
    assert_output --partial "xmpp iq: payload: line 3, column 3: mismatched tag"
    refute_output --partial "SENT:"
}

@test "iq: a payload over --max-size is refused before connecting: 65" {
    run xmpp_as alice iq --max-size 10 get '<query xmlns="jabber:iq:roster"/>'
    assert_failure 65
    assert_output --partial "larger than 10 bytes"
    head -c 2000000 /dev/zero | tr '\0' a >"$BATS_TEST_TMPDIR/big"
    run "$XMPP" iq -j "$(jid_of alice)" --server 127.0.0.1:1 get <"$BATS_TEST_TMPDIR/big"
    assert_failure 65
    assert_output --partial "larger than 1048576 bytes"
    run xmpp_as alice iq --max-size 0 get '<a xmlns="b"/>'
    assert_failure 64
}

@test "iq: two elements, text or a DTD are not one payload: 65" {
    run xmpp_as alice iq get '<a xmlns="x"/><b xmlns="x"/>'
    assert_failure 65
    assert_output --partial "junk after document element"
    run xmpp_as alice iq get 'hello'
    assert_failure 65
    run xmpp_as alice iq get '<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>'
    assert_failure 65
    assert_output --partial "DTDs are not allowed"
    run xmpp_as alice iq get ''
    assert_failure 65
    assert_output --partial "no element found"
}

@test "iq: namespaces survive: a prefixed payload is stored and read back" {
    run xmpp_as alice iq set \
        '<query xmlns="jabber:iq:private"><p:prefs xmlns:p="urn:example:prefs" xml:lang="en"><p:nick>Alice &amp; co</p:nick></p:prefs></query>'
    assert_success
    run xmpp_as alice iq get '<query xmlns="jabber:iq:private"><prefs xmlns="urn:example:prefs"/></query>'
    assert_success
    assert_output --partial '<prefs xmlns="urn:example:prefs"'
    assert_output --partial '<nick>Alice &amp; co</nick>'
}

@test "iq: an error answer exits 1 and names its type and condition" {
    run xmpp_as alice iq get --to nobody@localhost/gone '<ping xmlns="urn:xmpp:ping"/>'
    assert_failure 1
    assert_output --regexp "^xmpp iq: nobody@localhost/gone: cancel/service-unavailable$ERR_TEXT$"
}

@test "iq: --to sends the request to that JID" {
    run xmpp_as alice iq -v get --to localhost '<time xmlns="urn:xmpp:time"/>'
    assert_success
    assert_output --regexp 'SENT: <iq [^>]*to="localhost"'
    assert_output --regexp '<time xmlns="urn:xmpp:time"><tzo>'
}

@test "iq: --json maps the answer: name, ns, attrs, text, children" {
    run xmpp_as alice iq get --json --to localhost '<query xmlns="jabber:iq:version"/>'
    assert_success
    [ "$(jq -r .name <<<"$output")" = query ]
    [ "$(jq -r .ns <<<"$output")" = jabber:iq:version ]
    [ "$(jq -r '.children[] | select(.name == "name") | .text' <<<"$output")" = "$(server_software)" ]
    [ "$(jq -r '.children[0] | has("ns")' <<<"$output")" = false ]
}

@test "iq: --json-in takes the payload in the same mapping" {
    run xmpp_as alice iq set --json-in \
        '{"name":"query","ns":"jabber:iq:private","children":[{"name":"cfg","ns":"urn:example:cfg","attrs":{"v":"2"},"text":"on"}]}'
    assert_success
    run xmpp_as alice iq get --json '<query xmlns="jabber:iq:private"><cfg xmlns="urn:example:cfg"/></query>'
    assert_success
    [ "$(jq -c '.children[0]' <<<"$output")" = '{"name":"cfg","ns":"urn:example:cfg","attrs":{"v":"2"},"text":"on"}' ]
}

@test "iq: --json-in refuses what XML could not say, with the path: 65" {
    run xmpp_as alice iq -v get --json-in '{"name":"query","attrs":{"type":1}}'
    assert_failure 65
    assert_output --partial "payload: .attrs.type: must be a string"
    refute_output --partial "SENT:"
    run xmpp_as alice iq get --json-in '{"name":"query","childs":[]}'
    assert_failure 65
    assert_output --partial 'unknown key "childs"'
    run xmpp_as alice iq get --json-in '{"name":'
    assert_failure 65
    assert_output --partial "payload: line 1, column"
}

@test "iq: --xml prints the answer as the default does" {
    run xmpp_as alice iq get --xml '<query xmlns="jabber:iq:roster"/>'
    assert_success
    assert_output --regexp '^<query xmlns="jabber:iq:roster"'
}

@test "iq: no answer by the deadline exits 75" {
    shell_bg bob "$BATS_TEST_TMPDIR/bob" --resource silent
    run xmpp_as alice iq get -t "$(slow 2)" --to bob@localhost/silent '<query xmlns="jabber:iq:version"/>'
    shell_stop
    assert_failure 75
    assert_output --partial "bob@localhost/silent: no answer by the deadline"
    grep -q '<iq [^>]*type="get"' "$BATS_TEST_TMPDIR/bob"
}

@test "iq: usage errors exit 64, an invalid --to 65" {
    run xmpp_as alice iq
    assert_failure 64
    assert_output --partial "no subcommand; see 'xmpp iq --help'"
    run xmpp_as alice iq result '<a/>'
    assert_failure 64
    assert_output --partial "'result' is not a subcommand; see 'xmpp iq --help'"
    run xmpp_as alice iq get '<a/>' '<b/>'
    assert_failure 64
    assert_output --partial "get: unexpected argument '<b/>'"
    run xmpp_as alice iq get --to 'bob@' '<a/>'
    assert_failure 65
    assert_output --partial "invalid JID"
}

@test "iq: --help lists every option" {
    run "$XMPP" iq --help
    assert_success
    assert_output --partial "usage: xmpp iq [options] get [PAYLOAD] [--to JID] [--json-in] [--max-size BYTES]"
    assert_output --partial "xmpp iq [options] set [PAYLOAD] [--to JID] [--json-in] [--max-size BYTES]"
    assert_output --partial "--to JID"
    assert_output --partial "--json-in"
    assert_output --partial "--max-size BYTES"
}

@test "iq: a wrong password exits 77, an unreachable server 69" {
    run env XMPP_PASSWORD=wrong "$XMPP" iq -j alice@localhost --server "127.0.0.1:$XS_PORT" \
        --ca-file "$XS_CA" get '<query xmlns="jabber:iq:roster"/>'
    assert_failure 77
    run env XMPP_PASSWORD=x "$XMPP" iq -j alice@localhost --server 127.0.0.1:1 get '<query xmlns="jabber:iq:roster"/>'
    assert_failure 69
}
