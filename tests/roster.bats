#!/usr/bin/env bats
# xmpp roster, end to end through the suite's own Prosody. Contacts on
# example.net are plain roster items (no server behind them); the
# subscription tests use the suite's users, a different pair each.

load helpers

setup_file() { server_up; }
teardown_file() { server_down; }

TAB=$'\t'

@test "roster: add then list shows the contact with its name and groups" {
    run xmpp_as alice roster add ann@example.net --name "Ann Example" \
        -g Work --group Friends
    assert_success
    assert_output ""
    run xmpp_as alice roster list
    assert_success
    assert_line "ann@example.net${TAB}none${TAB}Ann Example${TAB}Friends,Work"
}

@test "roster: with no command it lists" {
    xmpp_as alice roster add list-default@example.net
    run xmpp_as alice roster
    assert_success
    assert_line "list-default@example.net${TAB}none${TAB}${TAB}"
}

@test "roster: --json gives one object per contact with groups as an array" {
    xmpp_as alice roster add json@example.net --name J -g "G 1" -g G2
    run xmpp_as alice roster --json
    assert_success
    assert_line '{"kind":"contact","jid":"json@example.net","subscription":"none","name":"J","groups":["G 1","G2"]}'
    run jq -r 'select(.jid == "json@example.net") | .groups[1]' <<<"$output"
    assert_output "G2"
}

@test "roster: --xml prints the server's roster result on one line" {
    xmpp_as alice roster add xml@example.net
    run xmpp_as alice roster --xml
    assert_success
    assert_equal "${#lines[@]}" 1
    assert_output --regexp '^<iq .*type="result".*<query xmlns="jabber:iq:roster".*<item jid="xml@example.net"'
}

@test "roster: add to a contact already there adds groups and keeps the name" {
    xmpp_as alice roster add merge@example.net --name Keep -g One
    run xmpp_as alice roster add merge@example.net -g Two
    assert_success
    run xmpp_as alice roster
    assert_line "merge@example.net${TAB}none${TAB}Keep${TAB}One,Two"
}

@test "roster: add takes several JIDs at once" {
    run xmpp_as alice roster add m1@example.net m2@example.net -g Many
    assert_success
    run xmpp_as alice roster
    assert_line "m1@example.net${TAB}none${TAB}${TAB}Many"
    assert_line "m2@example.net${TAB}none${TAB}${TAB}Many"
}

@test "roster: set replaces the groups given and keeps the name" {
    xmpp_as alice roster add set1@example.net --name Name -g Old1 -g Old2
    run xmpp_as alice roster set set1@example.net -g New
    assert_success
    run xmpp_as alice roster
    assert_line "set1@example.net${TAB}none${TAB}Name${TAB}New"
}

@test "roster: set --name replaces the name and keeps the groups" {
    xmpp_as alice roster add set2@example.net --name Old -g Keep
    run xmpp_as alice roster set set2@example.net --name New
    assert_success
    run xmpp_as alice roster
    assert_line "set2@example.net${TAB}none${TAB}New${TAB}Keep"
}

@test "roster: set --name '' and --no-groups clear the name and the groups" {
    xmpp_as alice roster add set3@example.net --name Old -g G
    run xmpp_as alice roster set set3@example.net --name '' --no-groups
    assert_success
    run xmpp_as alice roster
    assert_line "set3@example.net${TAB}none${TAB}${TAB}"
}

@test "roster: set on a contact not in the roster exits 1" {
    run xmpp_as alice roster set nobody@example.net --name X
    assert_failure 1
    assert_output --partial "nobody@example.net: not in the roster (item-not-found)"
}

@test "roster: remove drops the contact" {
    xmpp_as alice roster add gone@example.net
    run xmpp_as alice roster remove gone@example.net
    assert_success
    run xmpp_as alice roster
    refute_line --partial "gone@example.net"
}

@test "roster: removing a contact not in the roster exits 1 with item-not-found" {
    run xmpp_as alice roster remove never@example.net
    if [ "$XS_IMPL" = ejabberd ]; then
        # ejabberd answers the removal with a result, not item-not-found
        # (RFC 6121 §2.5.3 wants the error): nothing to report.
        assert_success
        assert_output ""
        return
    fi
    assert_failure 1
    assert_output "xmpp roster: never@example.net: modify/item-not-found"
}

@test "roster: remove goes on after an error and still exits 1" {
    # The error comes from removing a missing contact (see above), which
    # ejabberd does not refuse.
    require_server prosody "ejabberd removes a missing contact without an error to go on after"
    xmpp_as alice roster add r2@example.net
    run xmpp_as alice roster remove never2@example.net r2@example.net
    assert_failure 1
    assert_output --partial "never2@example.net: modify/item-not-found"
    run xmpp_as alice roster
    refute_line --partial "r2@example.net"
}

@test "roster: adding our own JID exits 1 with not-allowed" {
    run xmpp_as alice roster add alice@localhost
    if [ "$XS_IMPL" = ejabberd ]; then
        # ejabberd lets an account put itself in its roster.
        assert_success
        xmpp_as alice roster remove alice@localhost
        return
    fi
    assert_failure 1
    assert_output "xmpp roster: alice@localhost: cancel/not-allowed"
}

@test "roster: a comma inside a group name is escaped in text" {
    xmpp_as alice roster add comma@example.net -g "a,b" -g c
    run xmpp_as alice roster
    assert_line "comma@example.net${TAB}none${TAB}${TAB}a\\,b,c"
}

@test "roster: a backslash in a name is doubled in text" {
    xmpp_as alice roster add bs@example.net --name 'x\y'
    run xmpp_as alice roster
    assert_line "bs@example.net${TAB}none${TAB}x\\\\y${TAB}"
}

@test "roster: subscribe, pending, approve: both sides see to, from, then both" {
    require_server prosody "ejabberd gives stored subscription requests only to a resource of priority >= 0; roster's session uses -1"
    run xmpp_as carol roster subscribe "$(jid_of dave)" --name Dave
    assert_success
    run xmpp_as carol roster
    assert_line "dave@localhost${TAB}none+ask${TAB}Dave${TAB}"
    run xmpp_as dave roster pending
    assert_success
    assert_output "carol@localhost"
    run xmpp_as dave roster approve "$(jid_of carol)"
    assert_success
    run xmpp_as carol roster
    assert_line "dave@localhost${TAB}to${TAB}Dave${TAB}"
    run xmpp_as dave roster
    assert_line "carol@localhost${TAB}from${TAB}${TAB}"
    run xmpp_as dave roster pending
    assert_output ""

    xmpp_as dave roster subscribe "$(jid_of carol)"
    xmpp_as carol roster approve "$(jid_of dave)"
    run xmpp_as carol roster
    assert_line "dave@localhost${TAB}both${TAB}Dave${TAB}"
    run xmpp_as dave roster
    assert_line "carol@localhost${TAB}both${TAB}${TAB}"
}

@test "roster: pending --json names each requester" {
    require_server prosody "ejabberd gives stored subscription requests only to a resource of priority >= 0; roster's session uses -1"
    xmpp_as bob roster subscribe "$(jid_of alice)"
    run xmpp_as alice roster pending --json
    assert_success
    assert_line '{"kind":"request","jid":"bob@localhost"}'
    xmpp_as alice roster deny "$(jid_of bob)"
}

@test "roster: approve --all-pending approves every waiting request" {
    require_server prosody "ejabberd gives stored subscription requests only to a resource of priority >= 0; roster's session uses -1"
    xmpp_as alice roster subscribe "$(jid_of dave)"
    xmpp_as bob roster subscribe "$(jid_of dave)"
    run xmpp_as dave roster approve --all-pending
    assert_success
    assert_line "approved${TAB}alice@localhost"
    assert_line "approved${TAB}bob@localhost"
    run xmpp_as dave roster pending
    assert_output ""
    run xmpp_as alice roster
    assert_line --regexp "^dave@localhost${TAB}to${TAB}"
    run xmpp_as bob roster
    assert_line --regexp "^dave@localhost${TAB}to${TAB}"
}

@test "roster: approve --all-pending with nothing pending prints nothing" {
    run xmpp_as carol roster approve --all-pending
    assert_success
    assert_output ""
}

@test "roster: deny refuses a pending request" {
    xmpp_as bob roster subscribe "$(jid_of carol)"
    run xmpp_as bob roster
    assert_line "carol@localhost${TAB}none+ask${TAB}${TAB}"
    run xmpp_as carol roster deny "$(jid_of bob)"
    assert_success
    run xmpp_as carol roster pending
    refute_output --partial "bob@localhost"
    run xmpp_as bob roster
    assert_line "carol@localhost${TAB}none${TAB}${TAB}"
}

@test "roster: unsubscribe stops seeing the contact's presence on both sides" {
    xmpp_as alice roster subscribe "$(jid_of carol)"
    xmpp_as carol roster approve "$(jid_of alice)"
    run xmpp_as alice roster
    assert_line --regexp "^carol@localhost${TAB}to${TAB}"
    run xmpp_as alice roster unsubscribe "$(jid_of carol)"
    assert_success
    run xmpp_as alice roster
    assert_line --regexp "^carol@localhost${TAB}none${TAB}"
    run xmpp_as carol roster
    assert_line --regexp "^alice@localhost${TAB}none${TAB}"
}

@test "roster: export then import: the same account changes nothing, another gets the contacts once" {
    xmpp_as alice roster add exp1@example.net --name "Ex One" -g Team
    xmpp_as alice roster add exp2@example.net -g Team -g Ops
    xmpp_as alice roster export >"$BATS_TEST_TMPDIR/roster.jsonl"
    run jq -r 'select(.jid == "exp1@example.net") | .name' \
        "$BATS_TEST_TMPDIR/roster.jsonl"
    assert_output "Ex One"

    run xmpp_as alice roster import "$BATS_TEST_TMPDIR/roster.jsonl"
    assert_success
    assert_output ""

    grep '@example.net' "$BATS_TEST_TMPDIR/roster.jsonl" >"$BATS_TEST_TMPDIR/ex.jsonl"
    run xmpp_as carol roster import "$BATS_TEST_TMPDIR/ex.jsonl"
    assert_success
    assert_line "added${TAB}exp1@example.net"
    assert_line "added${TAB}exp2@example.net"
    run xmpp_as carol roster import <"$BATS_TEST_TMPDIR/ex.jsonl"
    assert_success
    assert_output ""
    run xmpp_as carol roster
    assert_line "exp1@example.net${TAB}none${TAB}Ex One${TAB}Team"
    assert_line "exp2@example.net${TAB}none${TAB}${TAB}Ops,Team"
}

@test "roster: import updates a contact whose name or groups differ" {
    xmpp_as bob roster add upd@example.net --name Old -g A
    printf '%s\n' '{"jid":"upd@example.net","name":"New","groups":["B"]}' \
        >"$BATS_TEST_TMPDIR/upd.jsonl"
    run xmpp_as bob roster import --json "$BATS_TEST_TMPDIR/upd.jsonl"
    assert_success
    assert_output '{"kind":"change","action":"updated","jid":"upd@example.net"}'
    run xmpp_as bob roster
    assert_line "upd@example.net${TAB}none${TAB}New${TAB}B"
}

@test "roster: import --prune removes the contacts the file lacks" {
    xmpp_as dave roster add keep@example.net drop@example.net
    xmpp_as dave roster export | grep -v drop@example.net >"$BATS_TEST_TMPDIR/p.jsonl"
    run xmpp_as dave roster import --prune "$BATS_TEST_TMPDIR/p.jsonl"
    assert_success
    assert_output "removed${TAB}drop@example.net"
    run xmpp_as dave roster
    assert_line --partial "keep@example.net"
    refute_line --partial "drop@example.net"
}

@test "roster: import --subscribe asks contacts marked to or both, once" {
    printf '%s\n' '{"jid":"carol@localhost","subscription":"both"}' \
        '{"jid":"noask@example.net","subscription":"from"}' \
        >"$BATS_TEST_TMPDIR/s.jsonl"
    run xmpp_as bob roster import --subscribe "$BATS_TEST_TMPDIR/s.jsonl"
    assert_success
    assert_line "asked${TAB}carol@localhost"
    refute_line --partial "asked${TAB}noask"
    run xmpp_as bob roster
    assert_line "carol@localhost${TAB}none+ask${TAB}${TAB}"
    run xmpp_as bob roster import --subscribe "$BATS_TEST_TMPDIR/s.jsonl"
    assert_success
    assert_output ""
}

@test "roster: import of a malformed line exits 65 and changes nothing" {
    printf '%s\n' '{"jid":"first@example.net"}' '{"jid": oops}' \
        >"$BATS_TEST_TMPDIR/bad.jsonl"
    run xmpp_as alice roster import "$BATS_TEST_TMPDIR/bad.jsonl"
    assert_failure 65
    assert_output --partial "bad.jsonl line 2: invalid JSON"
    run xmpp_as alice roster
    refute_line --partial "first@example.net"
}

@test "roster: import refuses an invalid JID, a group that is not a string, a JID twice" {
    printf '%s\n' '{"jid":"bad@"}' >"$BATS_TEST_TMPDIR/j.jsonl"
    run xmpp_as alice roster import "$BATS_TEST_TMPDIR/j.jsonl"
    assert_failure 65
    assert_output --partial "line 1: bad@: invalid JID"
    printf '%s\n' '{"jid":"g@example.net","groups":[1]}' >"$BATS_TEST_TMPDIR/g.jsonl"
    run xmpp_as alice roster import "$BATS_TEST_TMPDIR/g.jsonl"
    assert_failure 65
    assert_output --partial "group 1 is not a non-empty string"
    printf '%s\n' '{"jid":"d@example.net"}' '{"jid":"d@example.net"}' \
        >"$BATS_TEST_TMPDIR/d.jsonl"
    run xmpp_as alice roster import "$BATS_TEST_TMPDIR/d.jsonl"
    assert_failure 65
    assert_output --partial "line 2: d@example.net is in the file twice"
}

@test "roster: import of a missing file exits 66" {
    run xmpp_as alice roster import "$BATS_TEST_TMPDIR/nope.jsonl"
    assert_failure 66
    assert_output --partial "nope.jsonl"
}

@test "roster: an invalid or full JID exits 65" {
    run xmpp_as alice roster add "bob@"
    assert_failure 65
    assert_output --partial "bob@: invalid JID"
    run xmpp_as alice roster subscribe "bob@localhost/phone"
    assert_failure 65
    assert_output --partial "contacts are bare JIDs"
}

@test "roster: a name with a character XML forbids exits 65" {
    run xmpp_as alice roster add ctl@example.net --name "$(printf 'a\001b')"
    assert_failure 65
    assert_output --partial "--name"
}

@test "roster: usage errors exit 64" {
    run xmpp_as alice roster frobnicate
    assert_failure 64
    assert_output --partial "'frobnicate' is not a subcommand"
    run xmpp_as alice roster list --name X
    assert_failure 64
    assert_output --partial "--name does not go with 'list'"
    run xmpp_as alice roster add
    assert_failure 64
    run xmpp_as alice roster set x@example.net
    assert_failure 64
    assert_output --partial "nothing to change"
    run xmpp_as alice roster approve bob@localhost --all-pending
    assert_failure 64
    run xmpp_as alice roster add a@example.net b@example.net --name N
    assert_failure 64
    run xmpp_as alice roster add a@example.net -g ''
    assert_failure 64
}

@test "roster: a wrong password exits 77, a closed port 69, a tiny deadline 75" {
    run env XMPP_PASSWORD=wrong "$XMPP" roster -j "$(jid_of alice)" $(server_opts)
    assert_failure 77
    run xmpp_as alice roster --server 127.0.0.1:1
    assert_failure 69
    run xmpp_as alice roster -t 0.001
    assert_failure 75
}

@test "roster: --help shows every command and option" {
    run "$XMPP" roster --help
    assert_success
    for word in list pending export add set remove subscribe approve deny \
        unsubscribe import --name --group --no-groups --all-pending \
        --subscribe --prune; do
        assert_output --partial "$word"
    done
}
