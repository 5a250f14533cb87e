#!/usr/bin/env bats
# xmpp block: the block list (XEP-0191) on the suite's servers (Prosody's
# blocklist, ejabberd's mod_blocking).

load helpers

# Archives on: a blocked message is not archived either (history).
setup_file() {
    export XS_MAM=1
    server_up
}
teardown_file() { server_down; }

teardown() {
    [ -z "${RECV_PID:-}" ] || stop_bg "$RECV_PID"
}

# fresh NAME: a new account with an empty block list.
fresh() { new_user "$1$BATS_TEST_NUMBER"; }

@test "block: add, list in text, --json and --xml, remove" {
    fresh ann
    a=ann$BATS_TEST_NUMBER
    run xmpp_as "$a" block
    assert_success
    assert_output ""
    run xmpp_as "$a" block add spam@example.net spam.example.com
    assert_success
    assert_output ""
    # In the server's order.
    run xmpp_as "$a" block list
    assert_success
    [ "$(sort <<<"$output" | paste -sd,)" = "spam.example.com,spam@example.net" ]
    run xmpp_as "$a" block --json
    assert_success
    [ "$(jq -r .jid <<<"$output" | sort | paste -sd,)" = "spam.example.com,spam@example.net" ]
    run xmpp_as "$a" block --xml
    assert_success
    assert_output --regexp '^<blocklist xmlns="urn:xmpp:blocking"><item jid="spam[^"]*"/><item jid="spam[^"]*"/></blocklist>$'
    # Blocking again is no error.
    run xmpp_as "$a" block add spam@example.net
    assert_success
    run xmpp_as "$a" block remove spam@example.net
    assert_success
    run xmpp_as "$a" block
    assert_output "spam.example.com"
    run xmpp_as "$a" block remove spam.example.com
    assert_success
    run xmpp_as "$a" block
    assert_output ""
}

@test "block: a blocked contact's message is not delivered; unblocked, it is" {
    fresh ann
    fresh ben
    a=ann$BATS_TEST_NUMBER b=ben$BATS_TEST_NUMBER
    xmpp_as "$a" block add "$(jid_of "$b")"
    # Stopped by the test; the deadline only bounds a failed run.
    recv_bg "$a" "$BATS_TEST_TMPDIR/out" -t "$(slow 120)"
    run xmpp_as "$b" send "$(jid_of "$a")" -m "while blocked"
    if [ "$XS_IMPL" = ejabberd ]; then
        # ejabberd drops it at the recipient's session and tells the
        # sender nothing (XEP-0191 §3.5 says it SHOULD bounce).
        assert_success
    else
        # Prosody bounces it, as §3.5 recommends.
        assert_failure 1
        assert_output --regexp "^xmpp send: $a@localhost: message refused: cancel/service-unavailable$ERR_TEXT\$"
    fi
    xmpp_as "$a" block remove "$(jid_of "$b")"
    run xmpp_as "$b" send "$(jid_of "$a")" -m "after unblock"
    assert_success
    wait_for "$BATS_TEST_TMPDIR/out" "after unblock" 20
    stop_bg "$RECV_PID"
    RECV_PID=
    run cut -f3 "$BATS_TEST_TMPDIR/out"
    assert_output "after unblock"
    # Nor archived.
    run xmpp_as "$a" history "$(jid_of "$b")"
    assert_output --regexp "${TAB}after unblock\$"
    refute_output --partial "while blocked"
}

@test "block: JIDs are checked before connecting; add and remove need one" {
    run xmpp_as alice block add ok@example.net 'bad@'
    assert_failure 65
    assert_output "xmpp block: bad@: invalid JID: empty domainpart"
    run xmpp_as alice block add
    assert_failure 64
    run xmpp_as alice block remove
    assert_failure 64
    run xmpp_as alice block list extra@example.net
    assert_failure 64
}
