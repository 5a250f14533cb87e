#!/usr/bin/env bats
# xmpp disco: service discovery (XEP-0030) against the suite's server.

load helpers

setup_file() { server_up; }
teardown_file() { server_down; }

TAB=$'\t'

@test "disco: info of the server lists urn:xmpp:ping and its identity" {
    run xmpp_as alice disco
    assert_success
    assert_line "feature${TAB}urn:xmpp:ping"
    assert_line "identity${TAB}server${TAB}im${TAB}$(server_software)"
}

@test "disco: info is the default; 'info' and the server's JID say the same" {
    run xmpp_as alice disco info localhost
    assert_success
    assert_line "feature${TAB}urn:xmpp:ping"
}

@test "disco: items of the server list its components" {
    run xmpp_as alice disco items
    assert_success
    assert_line "conference.localhost${TAB}${TAB}"
    assert_line "pubsub.localhost${TAB}${TAB}"
}

@test "disco: --node asks about a node: the server's ad-hoc commands" {
    run xmpp_as alice disco info --node http://jabber.org/protocol/commands
    assert_success
    assert_line --regexp "^identity${TAB}automation${TAB}command-list${TAB}(Ad-Hoc )?Commands$"
    run xmpp_as alice disco items --node http://jabber.org/protocol/commands
    assert_success
    # The command each server offers a plain user: Prosody's mod_uptime,
    # ejabberd's mod_adhoc ping.
    local cmd=uptime
    [ "$XS_IMPL" = ejabberd ] && cmd=ping
    assert_line --regexp "^localhost${TAB}${cmd}${TAB}"
}

@test "disco: --json gives info as one object, items one object each" {
    run xmpp_as alice disco --json
    assert_success
    [ "$(jq -r .kind <<<"$output")" = info ]
    [ "$(jq -r .jid <<<"$output")" = localhost ]
    [ "$(jq -r '.features | index("urn:xmpp:ping") != null' <<<"$output")" = true ]
    # ejabberd lists its PEP identity first.
    [ "$(jq -r '[.identities[].category] | index("server") != null' <<<"$output")" = true ]
    run xmpp_as alice disco items --json
    assert_success
    jq -se 'map(select(.jid == "conference.localhost" and .kind == "item")) | length == 1' <<<"$output"
}

@test "disco: extended info forms (XEP-0128) are printed field by field" {
    shell_bg alice "$BATS_TEST_TMPDIR/alice" --resource muc
    shell_in '<presence to="lobby@conference.localhost/alice"><x xmlns="http://jabber.org/protocol/muc"/></presence>'
    wait_for "$BATS_TEST_TMPDIR/alice" 'from="lobby@conference.localhost/alice"'
    run xmpp_as bob disco info lobby@conference.localhost
    run2_json=$(xmpp_as bob disco --json lobby@conference.localhost)
    shell_stop
    assert_success
    assert_line "identity${TAB}conference${TAB}text${TAB}"
    assert_line "form${TAB}http://jabber.org/protocol/muc#roominfo${TAB}muc#roominfo_occupants${TAB}1"
    [ "$(jq -r '.forms[0].FORM_TYPE' <<<"$run2_json")" = http://jabber.org/protocol/muc#roominfo ]
    [ "$(jq -r '.forms[0].fields["muc#roominfo_occupants"][0]' <<<"$run2_json")" = 1 ]
}

@test "disco: --xml prints the query element" {
    run xmpp_as alice disco --xml
    assert_success
    assert_output --regexp '^<query xmlns="http://jabber.org/protocol/disco#info"><identity '
}

@test "disco: an error answer exits 1 with its condition" {
    run xmpp_as alice disco nobody@localhost/gone
    assert_failure 1
    assert_output --regexp "^xmpp disco: nobody@localhost/gone: cancel/service-unavailable$ERR_TEXT$"
}

@test "disco: an invalid JID exits 65, extra arguments 64" {
    run xmpp_as alice disco info 'a@b@c'
    assert_failure 65
    run xmpp_as alice disco info localhost more
    assert_failure 64
    assert_output --partial "unexpected argument 'more'"
}

@test "disco: --help shows the synopsis and --node" {
    run "$XMPP" disco --help
    assert_success
    assert_output --partial "usage: xmpp disco [options] [info] [JID] [--node NODE]"
    assert_output --partial "xmpp disco [options] items [JID] [--node NODE]"
    assert_output --partial "--node NODE"
}
