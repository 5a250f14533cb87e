#!/usr/bin/env bats
# xmpp command: ad-hoc commands (XEP-0050) and their data forms
# (XEP-0004), against Prosody's admin commands (dave is an admin in
# tests/server) and a slixmpp peer with multi-stage commands.

load helpers

setup_file() { server_up; }
teardown_file() { server_down; }

ADMIN=http://jabber.org/protocol/admin

# peer_up USER: tests/adhoc_peer.py as USER/bot until killed; PEER_PID.
peer_up() {
    PEER_PASSWORD="$(pass_of "$1")" /usr/bin/python3 \
        "$BATS_TEST_DIRNAME/adhoc_peer.py" "$(jid_of "$1")/bot" \
        2>"$BATS_TEST_TMPDIR/peer.err" &
    PEER_PID=$!
    wait_for "$BATS_TEST_TMPDIR/peer.err" "ready" 20 || {
        cat "$BATS_TEST_TMPDIR/peer.err" >&2
        return 1
    }
    BOT="$(jid_of "$1")/bot"
}

peer_down() {
    kill "$PEER_PID" 2>/dev/null || true
    wait "$PEER_PID" 2>/dev/null || true
}

@test "command list: an admin sees the server's admin commands as NODE TAB NAME" {
    run xmpp_as dave command list
    assert_success
    assert_line "$ADMIN#add-user	Add User"
    assert_line "$ADMIN#get-online-users-list	Get List of Online Users"
    run xmpp_as dave command list localhost --json
    assert_line "{\"kind\":\"command\",\"jid\":\"localhost\",\"node\":\"$ADMIN#add-user\",\"name\":\"Add User\"}"
    run xmpp_as dave command list --xml
    assert_output --regexp '^<iq .*<query xmlns="http://jabber.org/protocol/disco#items" node="http://jabber.org/protocol/commands">'
}

@test "command list: a user who is not an admin does not see them" {
    run xmpp_as alice command list
    assert_success
    refute_output --partial "$ADMIN#add-user"
    # The one command each server offers everybody.
    if [ "$XS_IMPL" = ejabberd ]; then
        assert_line "ping	Ping"
    else
        assert_line "uptime	Get uptime"
    fi
}

@test "command show: prints the form with its required field, and cancels" {
    require_server prosody "uses Prosody's admin commands: their titles, fields and notes"
    run xmpp_as dave command show localhost "$ADMIN#add-user"
    assert_success
    assert_line --index 0 "title	Adding a User"
    assert_line "field	accountjid	jid-single		The Jabber ID for the account to be added (required)"
    assert_line "field	password	text-private		The password for this account"
    run xmpp_as dave command show localhost "$ADMIN#get-online-users-list" --json
    assert_success
    assert_output --regexp '"status":"executing"'
    assert_output --regexp '\{"var":"max_items","type":"list-single","label":"Maximum number of users","required":false,"values":\[\],"options":\[\{"value":"25","label":"25"\},'
}

@test "command run: an admin command with form fields adds a user who can then log in" {
    require_server prosody "uses Prosody's admin commands: their titles, fields and notes"
    cat >"$BATS_TEST_TMPDIR/secret.json" <<'EOF'
{"password": "pa55word", "password-verify": "pa55word"}
EOF
    run xmpp_as dave command run localhost "$ADMIN#add-user" \
        --field accountjid=eve@localhost --form "$BATS_TEST_TMPDIR/secret.json"
    assert_success
    assert_output "note	info	Account successfully created"
    run env XMPP_PASSWORD=pa55word "$XMPP" send -j eve@localhost \
        --server "127.0.0.1:$XS_PORT" --ca-file "$XS_CA" "$(jid_of bob)" -m "I exist"
    assert_success
}

@test "command run: a completed command with an error note exits 1" {
    require_server prosody "uses Prosody's admin commands: their titles, fields and notes"
    run xmpp_as dave command run localhost "$ADMIN#add-user" \
        --field accountjid=alice@localhost --field password=x --field password-verify=x
    assert_failure 1
    assert_output "xmpp command: localhost $ADMIN#add-user: Account already exists"
}

@test "command run: a required field left out is exit 64 and nothing happens" {
    require_server prosody "uses Prosody's admin commands: their titles, fields and notes"
    run xmpp_as dave command run localhost "$ADMIN#add-user" --field password=x
    assert_failure 64
    assert_output "xmpp command: localhost $ADMIN#add-user: field accountjid (The Jabber ID for the account to be added) is required; give --field accountjid=VALUE"
}

@test "command run: the result form lists online users (text and JSON)" {
    require_server prosody "uses Prosody's admin commands: their titles, fields and notes"
    recv_bg alice "$BATS_TEST_TMPDIR/out" -t 30
    run xmpp_as dave command run localhost "$ADMIN#get-online-users-list" \
        --field max_items=all
    assert_success
    assert_line "field	onlineuserjids	text-multi	alice@localhost	The list of all online users"
    assert_line "field	onlineuserjids	text-multi	dave@localhost	The list of all online users"
    run xmpp_as dave command run localhost "$ADMIN#get-online-users-list" --json
    assert_success
    assert_output --regexp '^\{"kind":"answer","jid":"localhost","node":"'"$ADMIN"'#get-online-users-list","status":"completed","notes":\[\],"form":\{"type":"result",'
    assert_output --regexp '"values":\[[^]]*"alice@localhost"'
    run xmpp_as dave command run localhost "$ADMIN#get-online-users-list" --xml
    assert_output --regexp '^<iq .*type="result".*status="completed"'
    kill "$RECV_PID"
}

@test "command run: values that do not fit the form are exit 65" {
    require_server prosody "uses Prosody's admin commands: their titles, fields and notes"
    run xmpp_as dave command run localhost "$ADMIN#get-online-users-list" --field max_items=7
    assert_failure 65
    assert_output "xmpp command: localhost $ADMIN#get-online-users-list: field max_items: '7' is not one of: 25, 50, 75, 100, 150, 200, all"
    run xmpp_as dave command run localhost "$ADMIN#get-online-users-list" --field details=perhaps
    assert_failure 65
    run xmpp_as dave command run localhost "$ADMIN#add-user" --field accountjid=@bad
    assert_failure 65
    assert_output --partial "field accountjid: '@bad' is not a JID"
}

@test "command run: a field the form does not have is exit 64" {
    require_server prosody "uses Prosody's admin commands: their titles, fields and notes"
    run xmpp_as dave command run localhost "$ADMIN#get-online-users-list" --field colour=red
    assert_failure 64
    assert_output "xmpp command: localhost $ADMIN#get-online-users-list: the form has no field colour"
}

@test "command run: a user who may not run it gets forbidden (exit 1)" {
    run xmpp_as alice command run localhost "$ADMIN#add-user" --field accountjid=mallory@localhost
    assert_failure 1
    assert_output --partial "xmpp command: localhost $ADMIN#add-user: auth/forbidden"
}

@test "command run: a command without a form prints its note" {
    require_server prosody "uses Prosody's admin commands: their titles, fields and notes"
    run xmpp_as alice command run localhost uptime
    assert_success
    assert_output --regexp "^note	info	This server has been running for "
}

@test "command run: a multi-stage command takes each stage's fields from one command line" {
    peer_up carol
    run xmpp_as alice command run "$BOT" deploy --field env=staging \
        --field version=1.2 --field hosts=web1@localhost --field hosts=web2@localhost \
        --field notify=yes
    assert_success
    assert_line --index 0 "note	info	deployed 1.2 to staging"
    assert_line "title	Deployed"
    assert_line "field	env	text-single	staging	"
    assert_line "field	hosts	jid-multi	web1@localhost	"
    assert_line "field	hosts	jid-multi	web2@localhost	"
    assert_line "field	notify	boolean	1	"
    run xmpp_as alice command list "$BOT"
    assert_line "deploy	Deploy"
    # A required field of the second stage is missing: exit 64.
    run xmpp_as alice command run "$BOT" deploy --field env=production
    assert_failure 64
    assert_output --partial "field version (Version) is required"
    # A value outside the first stage's list: exit 65.
    run xmpp_as alice command run "$BOT" deploy --field env=moon
    assert_failure 65
    run xmpp_as alice command run "$BOT" broken --json
    assert_failure 1
    assert_line --index 0 --regexp '"notes":\[\{"type":"error","text":"disk full"\}\]'
    assert_line --index 1 "xmpp command: $BOT broken: disk full"
    peer_down
}

@test "command run: fields from a JSON file, with --field winning" {
    peer_up carol
    cat >"$BATS_TEST_TMPDIR/f.json" <<'EOF'
{"env": "production", "version": 7, "hosts": ["a@localhost", "b@localhost"], "notify": false}
EOF
    run xmpp_as alice command run "$BOT" deploy --form "$BATS_TEST_TMPDIR/f.json" \
        --field version=8 --json
    assert_success
    assert_output --partial '"text":"deployed 8 to production"'
    assert_output --partial '{"var":"hosts","type":"jid-multi","required":false,"values":["a@localhost","b@localhost"]}'
    assert_output --partial '{"var":"notify","type":"boolean","required":false,"values":["0"]}'
    run xmpp_as alice command run "$BOT" deploy --form - <"$BATS_TEST_TMPDIR/f.json"
    assert_success
    assert_line "note	info	deployed 7 to production"
    peer_down
}

@test "command: usage errors are exit 64, bad input 65 and 66" {
    run "$XMPP" command
    assert_failure 64
    run "$XMPP" command launch localhost x
    assert_failure 64
    run "$XMPP" command run localhost
    assert_failure 64
    run "$XMPP" command list a b
    assert_failure 64
    run "$XMPP" command list --field a=b
    assert_failure 64
    run "$XMPP" command show localhost node --field a=b
    assert_failure 64
    assert_output "xmpp command: --field does not go with 'show'; see 'xmpp command --help'"
    run "$XMPP" command run localhost node --field =x
    assert_failure 64
    run "$XMPP" command run "bad@" node
    assert_failure 65
    run "$XMPP" command run localhost ""
    assert_failure 65
    run "$XMPP" command run localhost node --form /nonexistent.json
    assert_failure 66
    echo '[1, 2]' >"$BATS_TEST_TMPDIR/list.json"
    run "$XMPP" command run localhost node --form "$BATS_TEST_TMPDIR/list.json"
    assert_failure 65
    assert_output --partial "give a JSON object of field values"
}

@test "command: an entity that does not answer is exit 75; a bad login 77" {
    # `send --lines` waiting on a FIFO is online and answers no IQ.
    mkfifo "$BATS_TEST_TMPDIR/fifo"
    xmpp_as bob send -v --lines --resource mute "$(jid_of alice)" \
        <"$BATS_TEST_TMPDIR/fifo" 2>"$BATS_TEST_TMPDIR/mute.err" &
    exec 5>"$BATS_TEST_TMPDIR/fifo"
    wait_for "$BATS_TEST_TMPDIR/mute.err" "<enabled "
    run xmpp_as alice command list "$(jid_of bob)/mute" -t "$(slow 2)"
    exec 5>&-
    assert_failure 75
    run xmpp_as alice command list "$(jid_of bob)/nobody"
    assert_failure 1
    assert_output --partial "cancel/service-unavailable"
    # A state directory of its own: alice's FAST token (ejabberd) would
    # log in whatever the password.
    run env XMPP_PASSWORD=wrong XDG_STATE_HOME="$BATS_TEST_TMPDIR/fresh" \
        "$XMPP" command list -j "$(jid_of alice)" \
        --server "127.0.0.1:$XS_PORT" --ca-file "$XS_CA"
    assert_failure 77
}

@test "command --help: every option and subcommand is listed" {
    run "$XMPP" command --help
    assert_success
    for word in list show run --field --form; do
        assert_output --partial -- "$word"
    done
}
