#!/usr/bin/env bats
# xmpp time: XEP-0202 entity time.

load helpers

setup_file() { server_up; }
teardown_file() { server_down; }

@test "time: the server's local time, with its offset" {
    run xmpp_as alice time
    assert_success
    assert_output --regexp '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?[+-][0-9]{2}:[0-9]{2}$'
    # The same day as ours, give or take the offset.
    [ "$(( $(date -u -d "$output" +%s) - $(date -u +%s) ))" -lt 120 ]
}

@test "time: --json has utc, tzo and local" {
    run xmpp_as alice time --json localhost
    assert_success
    [ "$(jq -r .kind <<<"$output")" = time ]
    [ "$(jq -r .jid <<<"$output")" = localhost ]
    [[ "$(jq -r .utc <<<"$output")" == *Z ]]
    [[ "$(jq -r .tzo <<<"$output")" =~ ^[+-][0-9]{2}:[0-9]{2}$ ]]
    [[ "$(jq -r .local <<<"$output")" == *"$(jq -r .tzo <<<"$output")" ]]
}

@test "time: --xml prints the time element" {
    run xmpp_as alice time --xml
    assert_success
    assert_output --regexp '^<time xmlns="urn:xmpp:time"><tzo>'
}

@test "time: an error answer exits 1" {
    run xmpp_as alice time nobody@localhost/gone
    assert_failure 1
    assert_output --partial "cancel/service-unavailable"
}

@test "time: an invalid JID exits 65, two JIDs 64" {
    run xmpp_as alice time '@localhost'
    assert_failure 65
    run xmpp_as alice time a b
    assert_failure 64
}
