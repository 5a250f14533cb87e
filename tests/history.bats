#!/usr/bin/env bats
# xmpp history: message archives (XEP-0313) on the suite's servers,
# which archive every account's messages (tests/server: Prosody's mam,
# ejabberd's mod_mam with default: always) and every room's.

load helpers

# Message archives are on only where a file asks (tests/server).
setup_file() {
    export XS_MAM=1
    server_up
}
teardown_file() { server_down; }

# fresh NAME: a new account, so that no other test's messages are in
# its archive.
fresh() { new_user "$1$BATS_TEST_NUMBER"; }

# TYPE as text output writes it for an archived message: with when it
# was sent (XEP-0082; ejabberd gives microseconds, Prosody seconds).
DELAYED=' \[delay: 20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}(\.[0-9]+)?Z\]'

# bodies: the third field of each line of $output, comma-separated.
bodies() { cut -f3 <<<"$output" | paste -sd,; }

@test "history: messages exchanged both ways come back oldest first, ours with our JID" {
    fresh ann
    fresh ben
    a=ann$BATS_TEST_NUMBER b=ben$BATS_TEST_NUMBER
    xmpp_as "$a" send "$(jid_of "$b")" -m "one"
    xmpp_as "$b" send "$(jid_of "$a")" -m "two"$'\t'"tabbed"
    xmpp_as "$a" send "$(jid_of "$b")" -m "three"
    run xmpp_as "$a" history
    assert_success
    [ "${#lines[@]}" -eq 3 ]
    assert_line --index 0 --regexp "^$a@localhost/[^$TAB]+${TAB}chat$DELAYED${TAB}one\$"
    assert_line --index 1 --regexp "^$b@localhost/[^$TAB]+${TAB}chat$DELAYED${TAB}two\\\\ttabbed\$"
    assert_line --index 2 --regexp "^$a@localhost/[^$TAB]+${TAB}chat$DELAYED${TAB}three\$"
    # The other side's archive has the same conversation.
    run xmpp_as "$b" history "$(jid_of "$a")"
    assert_success
    [ "$(bodies)" = "one,two\\ttabbed,three" ]
    # Only the conversation with JID.
    run xmpp_as "$a" history "$(jid_of carol)"
    assert_success
    assert_output ""
}

@test "history: --json and --xml carry when each message was sent" {
    fresh ann
    a=ann$BATS_TEST_NUMBER
    xmpp_as alice send "$(jid_of "$a")" -m "stamped"
    run xmpp_as "$a" history --json
    assert_success
    run jq -r '[.kind, .from, .to, .type, .body] | @tsv' <<<"$output"
    assert_output --regexp "^message${TAB}alice@localhost/[^$TAB]+${TAB}$a@localhost${TAB}chat${TAB}stamped\$"
    run jq -r .delay <<<"$(xmpp_as "$a" history --json)"
    # XEP-0082 UTC; ejabberd gives microseconds, Prosody whole seconds.
    assert_output --regexp '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}(\.[0-9]+)?Z$'
    run xmpp_as "$a" history --xml
    assert_success
    assert_output --regexp '^<message .*<body>stamped</body>.*<delay xmlns="urn:xmpp:delay"[^>]* stamp="20'
}

@test "history: more messages than a page all come back in order, over several queries" {
    fresh ann
    a=ann$BATS_TEST_NUMBER
    # Both servers give at most 50 per page.
    seq 1 60 | xmpp_as alice send --lines "$(jid_of "$a")"
    run --separate-stderr xmpp_as "$a" history -v
    assert_success
    [ "$(cut -f3 <<<"$output")" = "$(seq 1 60)" ]
    [ "$(grep -c 'SENT: <iq .*urn:xmpp:mam:2' <<<"$stderr")" -ge 2 ]
}

@test "history --max: the newest N, oldest first, also when N spans pages" {
    fresh ann
    a=ann$BATS_TEST_NUMBER
    seq 1 60 | xmpp_as alice send --lines "$(jid_of "$a")"
    run xmpp_as "$a" history --max 3
    assert_success
    [ "$(bodies)" = "58,59,60" ]
    run xmpp_as "$a" history --max 55
    assert_success
    [ "$(cut -f3 <<<"$output")" = "$(seq 6 60)" ]
    run xmpp_as "$a" history --max 100
    assert_success
    [ "$(cut -f3 <<<"$output")" = "$(seq 1 60)" ]
}

@test "history --since/--until: ISO 8601 and a span back from now pick by when it was sent" {
    fresh ann
    a=ann$BATS_TEST_NUMBER
    xmpp_as alice send "$(jid_of "$a")" -m "early"
    # Prosody keeps whole seconds: "early" is in a second before mark,
    # "late" in one after it.
    sleep 1.2
    mark=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    sleep 1.2
    xmpp_as alice send "$(jid_of "$a")" -m "late"
    run xmpp_as "$a" history --since "$mark"
    assert_success
    [ "$(cut -f3 <<<"$output")" = "late" ]
    run xmpp_as "$a" history --until "$mark"
    assert_success
    [ "$(cut -f3 <<<"$output")" = "early" ]
    run xmpp_as "$a" history --since 1h
    assert_success
    [ "$(bodies)" = "early,late" ]
    run xmpp_as "$a" history --until 1h
    assert_success
    assert_output ""
    # The same instant with a zone offset.
    local_mark=$(date -d "$mark" +%Y-%m-%dT%H:%M:%S%:z)
    run xmpp_as "$a" history --since "$local_mark"
    [ "$(cut -f3 <<<"$output")" = "late" ]
}

@test "history: a TIME that is neither ISO 8601 nor a span is a usage error (64)" {
    run xmpp_as alice history --since yesterday
    assert_failure 64
    assert_output "xmpp history: --since yesterday: give an ISO 8601 time (2024-05-01T12:00:00Z) or a span back from now (30s, 10m, 2h, 1d)"
    for bad in 2026-02-30 2026-11-30T25:00 10 10x 1h1 ""; do
        run xmpp_as alice history --until "$bad"
        assert_failure 64
    done
    run xmpp_as alice history --since 1h --until 2h
    assert_failure 64
    assert_output "xmpp history: --since is later than --until"
    run xmpp_as alice history --max 0
    assert_failure 64
    run xmpp_as alice history alice@localhost bob@localhost
    assert_failure 64
    run xmpp_as alice history 'bad@'
    assert_failure 65
    assert_output "xmpp history: bad@: invalid JID: empty domainpart"
}

@test "history --muc: a room's archive, from ROOM/NICK, readable by a non-occupant" {
    R="hist$BATS_TEST_NUMBER@conference.localhost"
    xmpp_as alice muc create "$R"
    xmpp_as alice send --muc "$R" -m "first in room"
    xmpp_as bob send --muc "$R" -m "second in room"
    run xmpp_as carol history --muc "$R"
    assert_success
    assert_line --index 0 --regexp "^$R/alice${TAB}groupchat$DELAYED${TAB}first in room\$"
    assert_line --index 1 --regexp "^$R/bob${TAB}groupchat$DELAYED${TAB}second in room\$"
    [ "${#lines[@]}" -eq 2 ]
    run xmpp_as carol history --muc "$R" --max 1 --json
    assert_success
    run jq -r '[.from, .type, .body] | @tsv' <<<"$output"
    assert_output "$R/bob${TAB}groupchat${TAB}second in room"
}

@test "history: a query the server refuses prints its error on one line (1)" {
    run xmpp_as alice history --muc "nosuch$BATS_TEST_NUMBER@conference.localhost"
    assert_failure 1
    assert_output --regexp "^xmpp history: nosuch$BATS_TEST_NUMBER@conference.localhost: cancel/item-not-found$ERR_TEXT\$"
    run xmpp_as alice history --muc "room@conference.localhost/nick"
    assert_failure 64
}
