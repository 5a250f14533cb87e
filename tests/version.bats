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
