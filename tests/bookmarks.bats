#!/usr/bin/env bats
# xmpp bookmarks: PEP native bookmarks (XEP-0402) on the suite's servers,
# which both offer PEP with publish options; and private XML storage
# (XEP-0048) on a second server started without PEP (XS_NO_PEP).

load helpers

setup_file() { server_up; }
teardown_file() { server_down; }

teardown() {
    [ -d "$BATS_TEST_TMPDIR/nopep" ] && "$SERVER" stop "$BATS_TEST_TMPDIR/nopep"
    return 0
}

# fresh NAME: a new account with no bookmarks.
fresh() { new_user "$1$BATS_TEST_NUMBER"; }

R1=ops@conference.localhost
R2=dev@conference.localhost

# round_trip USER STORE: add, list (text and --json), replace, remove,
# with -v saying which STORE was used.
round_trip() {
    local u=$1 store=$2
    run xmpp_as "$u" bookmarks
    assert_success
    assert_output ""
    run --separate-stderr xmpp_as "$u" bookmarks add "$R1" --name "Ops room" --nick ann --autojoin -v
    assert_success
    assert_output ""
    grep -qx "bookmarks: $store" <<<"$stderr"
    run xmpp_as "$u" bookmarks add "$R2"
    assert_success
    run xmpp_as "$u" bookmarks list
    assert_success
    [ "${#lines[@]}" -eq 2 ]
    assert_line "$R1${TAB}Ops room${TAB}ann${TAB}yes"
    assert_line "$R2${TAB}${TAB}${TAB}no"
    run xmpp_as "$u" bookmarks --json
    assert_success
    run jq -c 'select(.room == "'"$R1"'")' <<<"$output"
    assert_output '{"room":"'"$R1"'","name":"Ops room","nick":"ann","autojoin":true}'
    # add replaces the bookmark of a room.
    run xmpp_as "$u" bookmarks add "$R1" --name "Ops"
    assert_success
    run xmpp_as "$u" bookmarks
    assert_line "$R1${TAB}Ops${TAB}${TAB}no"
    [ "${#lines[@]}" -eq 2 ]
    run xmpp_as "$u" bookmarks remove "$R1"
    assert_success
    assert_output ""
    run xmpp_as "$u" bookmarks
    assert_output "$R2${TAB}${TAB}${TAB}no"
    run xmpp_as "$u" bookmarks remove "$R1"
    assert_failure 1
    assert_output "xmpp bookmarks: $R1: no such bookmark"
}

@test "bookmarks: add, list, replace and remove round trip in PEP (XEP-0402)" {
    fresh ann
    round_trip "ann$BATS_TEST_NUMBER" "PEP native bookmarks (XEP-0402)"
}

@test "bookmarks: the XEP-0402 node is private, with the room as item id" {
    fresh ann
    a=ann$BATS_TEST_NUMBER
    xmpp_as "$a" bookmarks add "$R1" --nick ann
    run xmpp_as "$a" bookmarks --xml
    assert_success
    assert_output '<pubsub xmlns="http://jabber.org/protocol/pubsub"><items node="urn:xmpp:bookmarks:1"><item id="'"$R1"'"><conference xmlns="urn:xmpp:bookmarks:1" autojoin="false"><nick>ann</nick></conference></item></items></pubsub>'
    # Another account may not read it (access model whitelist).
    run xmpp_as bob pubsub --service "$(jid_of "$a")" items urn:xmpp:bookmarks:1
    assert_failure 1
    # Prosody says forbidden, ejabberd closed-node (XEP-0060 §6.5.9.5).
    assert_output --regexp "cannot get the items: (auth/forbidden|cancel/closed-node)$ERR_TEXT\$"
}

@test "bookmarks: a server without PEP keeps them in private XML storage (XEP-0048)" {
    XS_NO_PEP=1 "$SERVER" start "$BATS_TEST_TMPDIR/nopep" alice
    set -a
    . "$BATS_TEST_TMPDIR/nopep/env"
    set +a
    round_trip alice "private XML storage (XEP-0048)"
    xmpp_as alice bookmarks add "$R1" --nick al
    run xmpp_as alice bookmarks --xml
    assert_output '<storage xmlns="storage:bookmarks"><conference autojoin="false" jid="'"$R2"'"/><conference autojoin="false" jid="'"$R1"'"><nick>al</nick></conference></storage>'
}

@test "bookmarks: the room and options are checked before connecting" {
    run xmpp_as alice bookmarks add 'bad@'
    assert_failure 65
    assert_output "xmpp bookmarks: bad@: invalid JID: empty domainpart"
    run xmpp_as alice bookmarks add "$R1/nick"
    assert_failure 65
    run xmpp_as alice bookmarks add "$R1" --nick ''
    assert_failure 65
    run xmpp_as alice bookmarks remove "$R1" --autojoin
    assert_failure 64
    run xmpp_as alice bookmarks add
    assert_failure 64
    run xmpp_as alice bookmarks list "$R1"
    assert_failure 64
}
