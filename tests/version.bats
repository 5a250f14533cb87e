#!/usr/bin/env bats
# xmpp version: XEP-0092 software version.

load helpers

setup_file() { server_up; }
teardown_file() { server_down; }

@test "version: of the server by default: NAME TAB VERSION TAB OS" {
    run xmpp_as alice version
    assert_success
    assert_output --regexp "^$(server_software)${TAB}$(server_version_re)${TAB}[^${TAB}]+$"
}

@test "version: --json names the fields" {
    run xmpp_as alice version --json localhost
    assert_success
    [ "$(jq -r .kind <<<"$output")" = version ]
    [ "$(jq -r .jid <<<"$output")" = localhost ]
    [ "$(jq -r .name <<<"$output")" = "$(server_software)" ]
    [[ "$(jq -r .version <<<"$output")" =~ ^$(server_version_re)$ ]]
}

@test "version: --xml prints the query element" {
    run xmpp_as alice version --xml
    assert_success
    assert_output --regexp "^<query xmlns=\"jabber:iq:version\"><name>$(server_software)</name>"
}

@test "version: an entity without it answers an error: exit 1" {
    run xmpp_as alice version nobody@localhost/gone
    assert_failure 1
    assert_output --regexp "^xmpp version: nobody@localhost/gone: cancel/service-unavailable$ERR_TEXT$"
}

@test "version: a peer's error text reaches stderr as one escaped line" {
    # bob answers by hand (xmpp shell), with a text that tries to forge a
    # second line and to recolour and reorder the terminal.
    shell_bg bob "$BATS_TEST_TMPDIR/bob" --resource sh
    xmpp_as alice version bob@localhost/sh -t "$(slow 10)" \
        >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
    local v=$! rc=0 id from
    wait_for "$BATS_TEST_TMPDIR/bob" '<iq [^>]*type="get"'
    id=$(grep -o '<iq [^>]*type="get"[^>]*>' "$BATS_TEST_TMPDIR/bob" | grep -o ' id="[^"]*"' | cut -d'"' -f2)
    from=$(grep -o '<iq [^>]*type="get"[^>]*>' "$BATS_TEST_TMPDIR/bob" | grep -o ' from="[^"]*"' | cut -d'"' -f2)
    shell_in "<iq type='error' id='$id' to='$from'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>gone&#10;xmpp version: ok ${CSI}32m${RLO}</text></error></iq>"
    wait "$v" || rc=$?
    shell_stop
    [ "$rc" -eq 1 ]
    run cat "$BATS_TEST_TMPDIR/err"
    assert_output 'xmpp version: bob@localhost/sh: cancel/item-not-found (gone\nxmpp version: ok \u009b32m\u202e)'
}

@test "version: an invalid JID exits 65, two JIDs 64" {
    run xmpp_as alice version 'a@'
    assert_failure 65
    run xmpp_as alice version localhost localhost
    assert_failure 64
}

# main checks stdout once the tool is done (every tool goes through it).
version_to_full() { xmpp_as alice version >/dev/full; }

@test "version: an answer that cannot be written (stdout full) exits 74 with one line" {
    run -74 --separate-stderr version_to_full
    assert_output ""
    [ "$stderr" = "xmpp version: stdout: No space left on device" ]
}
