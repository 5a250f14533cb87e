#!/usr/bin/env bats
# xmpp send, end to end through the suite's own Prosody.

load helpers

setup_file() { server_up; }
teardown_file() { server_down; }

@test "send: a message arrives at recv as FROM TAB TYPE TAB BODY" {
    run xmpp_as alice send "$(jid_of bob)" -m "hello bob"
    assert_success
    run xmpp_as bob recv -n 1 -t 10
    assert_success
    assert_output --regexp "^alice@localhost/[^	]+	chat	hello bob$"
}
