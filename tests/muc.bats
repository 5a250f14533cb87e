#!/usr/bin/env bats
# Group chat (XEP-0045): send --muc, recv --muc and xmpp muc against the
# suite's Prosody and its MUC service conference.localhost.

load helpers

setup_file() { server_up; }
teardown_file() { server_down; }

# A room name of this test's own: a destroyed room leaves a tombstone.
room() {
    printf '%s%s@conference.%s' "${1:-room}" "$BATS_TEST_NUMBER" "$XS_DOMAIN"
}

# muc_recv_bg USER OUT [N] ARGS...: `xmpp recv` as USER in the background
# (stderr with the XML console in OUT.err) until it is in N rooms (the
# room's own presence for us carries status 110). Sets RECV_PID.
muc_recv_bg() {
    local user=$1 out=$2 n=$3 i
    shift 3
    # Not through xmpp_as: RECV_PID must be xmpp itself, for kill.
    XMPP_PASSWORD="$(pass_of "$user")" "$XMPP" recv -j "$(jid_of "$user")" \
        --server "127.0.0.1:$XS_PORT" --ca-file "$XS_CA" -v "$@" \
        >"$out" 2>"$out.err" &
    RECV_PID=$!
    for i in $(seq 1 200); do
        [ "$(grep -c 'status code="110"' "$out.err" 2>/dev/null)" -ge "$n" ] &&
            return 0
        kill -0 "$RECV_PID" 2>/dev/null || break
        sleep 0.05
    done
    cat "$out.err" >&2
    return 1
}

# ---- send --muc and recv --muc ----

@test "muc: a message sent to a room reaches another account's recv as ROOM/NICK" {
    R=$(room)
    xmpp_as alice muc create "$R"
    muc_recv_bg bob "$BATS_TEST_TMPDIR/out" 1 --muc "$R" -n 1 -t 20
    run xmpp_as alice send --muc "$R" -m "build 42 passed"
    assert_success
    assert_output ""
    wait "$RECV_PID"
    run cat "$BATS_TEST_TMPDIR/out"
    assert_output "$R/alice	groupchat	build 42 passed"
}

@test "send --muc --json: a line for the room with the id the room passed on" {
    R=$(room)
    xmpp_as alice muc create "$R"
    muc_recv_bg bob "$BATS_TEST_TMPDIR/out" 1 --muc "$R" -n 1 -t 20 --json
    run --separate-stderr xmpp_as alice send --json --muc "$R" -m "tagged"
    assert_success
    assert_equal "$(jq -r '[.kind, .to] | @tsv' <<<"$output")" "message	$R"
    local id
    id=$(jq -r .id <<<"$output")
    wait "$RECV_PID"
    assert_equal "$(jq -r .id "$BATS_TEST_TMPDIR/out")" "$id"
}

@test "send --muc: one message goes to several rooms and to a JID at once" {
    R1=$(room a) R2=$(room b)
    xmpp_as alice muc create "$R1"
    xmpp_as alice muc create "$R2"
    muc_recv_bg bob "$BATS_TEST_TMPDIR/out" 2 --muc "$R1" --muc "$R2" -n 2 -t 20
    run xmpp_as alice send --muc "$R1" --muc "$R2" "$(jid_of carol)" -m "deploy done"
    assert_success
    wait "$RECV_PID"
    run sort "$BATS_TEST_TMPDIR/out"
    assert_line --index 0 "$R1/alice	groupchat	deploy done"
    assert_line --index 1 "$R2/alice	groupchat	deploy done"
    run xmpp_as carol recv -n 1 -t 10
    assert_output --regexp "^alice@localhost/[^	]+	chat$DELAYED	deploy done\$"
}

@test "send --muc --nick: the message comes from the nick given" {
    R=$(room)
    xmpp_as alice muc create "$R"
    muc_recv_bg bob "$BATS_TEST_TMPDIR/out" 1 --muc "$R" -n 1 -t 20
    run xmpp_as alice send --muc "$R" --nick "CI bot" -m "hi"
    assert_success
    wait "$RECV_PID"
    run cat "$BATS_TEST_TMPDIR/out"
    assert_output "$R/CI bot	groupchat	hi"
}

@test "send --muc --lines: every line reaches the room, in order" {
    R=$(room)
    xmpp_as alice muc create "$R"
    muc_recv_bg bob "$BATS_TEST_TMPDIR/out" 1 --muc "$R" -n 3 -t 20
    run xmpp_as alice send --muc "$R" --lines <<<$'one\ntwo\nthree'
    assert_success
    wait "$RECV_PID"
    run cut -f3 "$BATS_TEST_TMPDIR/out"
    assert_output $'one\ntwo\nthree'
}

@test "recv --muc: our own messages are skipped, --all shows them" {
    R=$(room)
    xmpp_as alice muc create "$R"
    muc_recv_bg bob "$BATS_TEST_TMPDIR/out" 1 --muc "$R" -n 1 -t 20
    muc_recv_bg bob "$BATS_TEST_TMPDIR/all" 1 --muc "$R" --all -n 2 -t 20
    ALL_PID=$RECV_PID
    xmpp_as bob send --muc "$R" -m "mine"
    xmpp_as alice send --muc "$R" -m "theirs"
    wait "$ALL_PID"
    run cat "$BATS_TEST_TMPDIR/out"
    assert_output "$R/alice	groupchat	theirs"
    # --all: the subject sent on joining (no body), then our own message.
    run cat "$BATS_TEST_TMPDIR/all"
    assert_line --index 1 "$R/bob	groupchat	mine"
}

@test "recv --muc: only the room's messages are printed, not direct ones" {
    R=$(room)
    xmpp_as alice muc create "$R"
    muc_recv_bg bob "$BATS_TEST_TMPDIR/out" 1 --muc "$R" -n 1 -t 20 --resource here
    xmpp_as carol send "$(jid_of bob)/here" -m "direct"
    xmpp_as alice send --muc "$R" -m "in the room"
    wait "$RECV_PID"
    run cat "$BATS_TEST_TMPDIR/out"
    assert_output "$R/alice	groupchat	in the room"
}

@test "recv --muc --history N: the last N messages, with their delay in JSON" {
    R=$(room)
    xmpp_as alice muc create "$R"
    for m in first second third; do
        xmpp_as alice send --muc "$R" -m "$m"
    done
    run xmpp_as bob recv --muc "$R" --history 2 -n 2 -t 10 --json
    assert_success
    assert_line --index 0 --regexp '"from":"'"$R"'/alice".*"type":"groupchat".*"body":"second","delay":"[0-9T:.-]+Z"'
    assert_line --index 1 --regexp '"body":"third","delay":'
    # Without --history nothing old arrives: the deadline ends it.
    run xmpp_as bob recv --muc "$R" -t "$(slow 1)"
    assert_success
    assert_output ""
}

@test "muc: a password-protected room takes the right password only" {
    R=$(room)
    echo "s3cret" >"$BATS_TEST_TMPDIR/pw"
    echo "wrong" >"$BATS_TEST_TMPDIR/bad"
    run xmpp_as alice muc create "$R" --room-password-file "$BATS_TEST_TMPDIR/pw"
    assert_success
    run xmpp_as bob send --muc "$R" -m "no password"
    assert_failure 1
    assert_output --regexp "^xmpp send: $R: cannot join: auth/not-authorized$ERR_TEXT: wrong or missing room password \\(--room-password-file\\)$"
    run xmpp_as bob send --muc "$R" --room-password-file "$BATS_TEST_TMPDIR/bad" -m "bad"
    assert_failure 1
    assert_output --partial "auth/not-authorized"
    muc_recv_bg carol "$BATS_TEST_TMPDIR/out" 1 --muc "$R" -n 1 -t 20 \
        --room-password-file "$BATS_TEST_TMPDIR/pw"
    run xmpp_as bob send --muc "$R" --room-password-file "$BATS_TEST_TMPDIR/pw" -m "right"
    assert_success
    wait "$RECV_PID"
    run cat "$BATS_TEST_TMPDIR/out"
    assert_output "$R/bob	groupchat	right"
    # The password never shows in the XML console.
    run xmpp_as bob send -v --muc "$R" --room-password-file "$BATS_TEST_TMPDIR/pw" -m "again"
    assert_success
    assert_output --partial "<password>[redacted]</password>"
    refute_output --partial "s3cret"
}

@test "muc: a taken nick is retried as NICK-2, with a warning" {
    R=$(room)
    xmpp_as alice muc create "$R"
    muc_recv_bg bob "$BATS_TEST_TMPDIR/out" 1 --muc "$R" --nick ci --all -n 3 -t 20
    run xmpp_as carol send --muc "$R" --nick ci -m "from carol"
    assert_success
    assert_output "xmpp send: $R: nick 'ci' is taken; joined as 'ci-2'"
    run xmpp_as carol send -q --muc "$R" --nick ci -m "quietly"
    assert_success
    assert_output ""
    wait "$RECV_PID"
    run cat "$BATS_TEST_TMPDIR/out"
    assert_line "$R/ci-2	groupchat	from carol"
    assert_line "$R/ci-2	groupchat	quietly"
}

@test "send --muc: a room that does not exist is refused (exit 1) and not left behind" {
    R=$(room nosuch)
    run xmpp_as alice send --muc "$R" -m "typo"
    assert_failure 1
    assert_output "xmpp send: $R: no such room; create it with 'xmpp muc create $R'"
    run xmpp_as bob recv --muc "$R" -t 5
    assert_failure 1
    assert_output "xmpp recv: $R: no such room; create it with 'xmpp muc create $R'"
    # Still creatable: our join did not leave a locked room behind.
    run xmpp_as alice muc create "$R"
    assert_success
}

@test "send --muc: nothing is sent when one of the rooms refuses us" {
    R1=$(room open) R2=$(room shut)
    xmpp_as alice muc create "$R1"
    echo pw >"$BATS_TEST_TMPDIR/pw"
    xmpp_as alice muc create "$R2" --room-password-file "$BATS_TEST_TMPDIR/pw"
    run xmpp_as bob send --muc "$R1" --muc "$R2" -m "half"
    assert_failure 1
    assert_output --partial "$R2: cannot join: auth/not-authorized"
    run xmpp_as carol recv --muc "$R1" --history 5 -t "$(slow 2)"
    assert_success
    assert_output ""
}

@test "send --muc: a JID that is not a room times out (exit 75)" {
    run xmpp_as alice send --muc "$(jid_of bob)" -m "hello?" -t "$(slow 2)"
    assert_failure 75
    assert_output --partial "$(jid_of bob): no answer to our join by the deadline; is it a group chat room?"
}

@test "send --muc: a visitor in a moderated room is refused (exit 1)" {
    R=$(room)
    # ejabberd makes newcomers participants unless told otherwise.
    local visitors=()
    [ "$XS_IMPL" = ejabberd ] && visitors=(--field members_by_default=false)
    xmpp_as alice muc create "$R" --field muc#roomconfig_moderatedroom=true \
        "${visitors[@]}"
    run xmpp_as bob send --muc "$R" -m "may I?"
    assert_failure 1
    assert_output --partial "message refused: auth/forbidden"
}

@test "recv --muc: exits 1 when the room is destroyed under it, with the reason" {
    R=$(room)
    xmpp_as alice muc create "$R"
    muc_recv_bg bob "$BATS_TEST_TMPDIR/out" 1 --muc "$R" -t 20
    run xmpp_as alice muc destroy "$R" --reason "moved on"
    assert_success
    # Not through run: its subshell cannot wait for our child.
    local rc=0
    wait "$RECV_PID" || rc=$?
    assert_equal "$rc" 1
    run grep -v '^SENT\|^RECV\|^\[' "$BATS_TEST_TMPDIR/out.err"
    assert_output "xmpp recv: $R: the room was destroyed (moved on)"
}

@test "send/recv --muc: bad room JIDs and nicks are exit 65, misplaced options 64" {
    run xmpp_as alice send --muc "conference.localhost" -m x
    assert_failure 65
    assert_output --partial "invalid room JID: no room name before '@'"
    run xmpp_as alice send --muc "r@conference.localhost/nick" -m x
    assert_failure 65
    assert_output --partial "a room JID has no resource; give the nick with --nick"
    run xmpp_as alice recv --muc "r@conference.localhost" --nick "$(printf 'a\tb')"
    assert_failure 65
    run xmpp_as alice send --nick ci "$(jid_of bob)" -m x
    assert_failure 64
    assert_output "xmpp send: --nick goes with --muc ROOM"
    run xmpp_as alice recv --history 3
    assert_failure 64
    run xmpp_as alice recv --muc "r@conference.localhost" --history many
    assert_failure 64
    run xmpp_as alice send --muc "r@conference.localhost" --room-password-file /nonexistent -m x
    assert_failure 66
    : >"$BATS_TEST_TMPDIR/empty"
    run xmpp_as alice send --muc "r@conference.localhost" --room-password-file "$BATS_TEST_TMPDIR/empty" -m x
    assert_failure 78
}

# ---- xmpp muc ----

@test "muc subject: the owner sets it, another account reads it (text, JSON, XML)" {
    R=$(room)
    xmpp_as alice muc create "$R"
    run xmpp_as bob muc subject "$R"
    assert_success
    assert_output ""
    run xmpp_as alice muc subject "$R" "Release 1.0: freeze"
    assert_success
    run xmpp_as bob muc subject "$R"
    assert_output "Release 1.0: freeze"
    run xmpp_as bob muc subject "$R" --json
    assert_output "{\"kind\":\"subject\",\"room\":\"$R\",\"subject\":\"Release 1.0: freeze\"}"
    run xmpp_as bob muc subject "$R" --xml
    assert_output --partial "<subject>Release 1.0: freeze</subject>"
    # Setting the same subject again is fine; "" clears it.
    run xmpp_as alice muc subject "$R" "Release 1.0: freeze"
    assert_success
    run xmpp_as alice muc subject "$R" ""
    assert_success
    run xmpp_as bob muc subject "$R" --json
    assert_output "{\"kind\":\"subject\",\"room\":\"$R\",\"subject\":null}"
}

@test "muc subject: a participant may not set it (exit 1)" {
    R=$(room)
    xmpp_as alice muc create "$R"
    run xmpp_as bob muc subject "$R" "mine now"
    assert_failure 1
    assert_output --regexp "^xmpp muc: $R: cannot set the subject: auth/forbidden$ERR_TEXT$"
}

@test "muc occupants: nick, role, affiliation, and the JID for moderators" {
    R=$(room)
    xmpp_as alice muc create "$R"
    muc_recv_bg bob "$BATS_TEST_TMPDIR/out" 1 --muc "$R" --nick builder -t 30
    run xmpp_as carol muc occupants "$R"
    assert_success
    assert_output "builder	participant	none	"
    run xmpp_as alice muc occupants "$R" --json
    assert_output --regexp "^\\{\"kind\":\"occupant\",\"room\":\"$R\",\"nick\":\"builder\",\"role\":\"participant\",\"affiliation\":\"none\",\"jid\":\"bob@localhost/[^\"]+\"\\}$"
    run xmpp_as carol muc occupants "$R" --xml
    assert_output --regexp "^<presence .*from=\"$R/builder\""
    kill "$RECV_PID"
    wait "$RECV_PID" || true
    run xmpp_as carol muc occupants "$R"
    assert_success
    assert_output ""
}

@test "muc invite: the invitee gets the room's invitation with the reason" {
    R=$(room)
    xmpp_as alice muc create "$R"
    recv_bg bob "$BATS_TEST_TMPDIR/out" -n 1 -t 20 --xml --from "$R"
    run xmpp_as alice muc invite "$R" "$(jid_of bob)" --reason "standup"
    if [ "$XS_IMPL" = ejabberd ]; then
        # ejabberd takes invitations only from occupants; invite does
        # not join the room.
        assert_failure 1
        assert_output --partial "invitation refused: modify/not-acceptable"
        kill "$RECV_PID"
        return
    fi
    assert_success
    assert_output ""
    wait "$RECV_PID"
    run cat "$BATS_TEST_TMPDIR/out"
    assert_output --regexp "^<message .*from=\"$R\""
    assert_output --regexp "<invite [^>]*from=\"alice@localhost/"
    assert_output --regexp "<reason[^>]*>standup</reason>"
}

@test "muc invite: a room that does not exist refuses (exit 1); bad JIDs are 65" {
    R=$(room nosuch)
    run xmpp_as alice muc invite "$R" "$(jid_of bob)"
    assert_failure 1
    assert_output --partial "xmpp muc: $R: invitation refused: cancel/item-not-found"
    run xmpp_as alice muc invite "$R" "bob@"
    assert_failure 65
    run xmpp_as alice muc invite "$R"
    assert_failure 64
}

@test "muc create: configured from --field and a JSON form file; config shows it" {
    R=$(room)
    cat >"$BATS_TEST_TMPDIR/form.json" <<'EOF'
{"muc#roomconfig_roomdesc": "Builds and deploys", "muc#roomconfig_publicroom": false,
 "muc#roomconfig_presencebroadcast": ["moderator", "participant"]}
EOF
    run xmpp_as alice muc create "$R" --field "muc#roomconfig_roomname=CI" \
        --form "$BATS_TEST_TMPDIR/form.json"
    assert_success
    run xmpp_as alice muc config "$R"
    assert_success
    # Labels are the server's own ("Title", "Room title").
    assert_line --regexp "^field	muc#roomconfig_roomname	text-single	CI	"
    assert_line --regexp "^field	muc#roomconfig_roomdesc	text-single	Builds and deploys	"
    assert_line --regexp "^field	muc#roomconfig_persistentroom	boolean	1	"
    assert_line --regexp "^field	muc#roomconfig_publicroom	boolean	0	"
    assert_line --regexp "^option	muc#roomconfig_whois	anyone	"
    refute_line --regexp "^field	muc#roomconfig_presencebroadcast	list-multi	visitor"
    run xmpp_as alice muc config "$R" --json
    assert_output --regexp '^\{"type":"form",.*"fields":\[.*\{"var":"muc#roomconfig_roomname","type":"text-single","label":"[^"]*","required":false,"values":\["CI"\]\}'
    run xmpp_as alice muc config "$R" --xml
    assert_output --regexp '^<x xmlns="jabber:x:data" type="form">'
    # Created persistent: it outlives our leaving, and exists.
    run xmpp_as alice muc create "$R"
    assert_failure 1
    assert_output "xmpp muc: $R: already exists; see 'xmpp muc config' to change it"
}

@test "muc create --field muc#roomconfig_persistentroom=false: the room goes when we leave" {
    R=$(room)
    run xmpp_as alice muc create "$R" --field muc#roomconfig_persistentroom=false
    assert_success
    run xmpp_as bob muc occupants "$R"
    assert_failure 1
    assert_output --partial "no such room"
}

@test "muc create: bad field values are exit 65, unknown fields 64, and leave no room" {
    R=$(room)
    run xmpp_as alice muc create "$R" --field muc#roomconfig_publicroom=maybe
    assert_failure 65
    assert_output "xmpp muc: $R: field muc#roomconfig_publicroom: 'maybe' is not a boolean; give true or false"
    run xmpp_as alice muc create "$R" --field muc#roomconfig_whois=everybody
    assert_failure 65
    assert_output "xmpp muc: $R: field muc#roomconfig_whois: 'everybody' is not one of: moderators, anyone"
    run xmpp_as alice muc create "$R" --field no_such_field=1
    assert_failure 64
    assert_output "xmpp muc: $R: the form has no field no_such_field"
    run xmpp_as alice muc create "$R" --field muc#roomconfig_roomname=a --field muc#roomconfig_roomname=b
    assert_failure 64
    assert_output --partial "takes one value, not 2"
    run xmpp_as alice muc create "$R" --field novalue
    assert_failure 64
    echo '{"a": {"b": 1}}' >"$BATS_TEST_TMPDIR/nested.json"
    run xmpp_as alice muc create "$R" --form "$BATS_TEST_TMPDIR/nested.json"
    assert_failure 65
    echo '{"a": ' >"$BATS_TEST_TMPDIR/broken.json"
    run xmpp_as alice muc create "$R" --form "$BATS_TEST_TMPDIR/broken.json"
    assert_failure 65
    assert_output --partial "broken.json: line 2, column 0:"
    run xmpp_as alice muc create "$R" --form /nonexistent.json
    assert_failure 66
    # None of the failures left the room behind.
    run xmpp_as alice muc create "$R"
    assert_success
}

@test "muc config: only the owner may read or change it (exit 1)" {
    R=$(room)
    xmpp_as alice muc create "$R"
    run xmpp_as bob muc config "$R"
    assert_failure 1
    assert_output --partial "xmpp muc: $R: cannot get the configuration form: auth/forbidden"
    run xmpp_as alice muc config "$R" --field muc#roomconfig_roomname=Renamed
    assert_success
    run xmpp_as alice muc config "$R"
    assert_line --regexp "^field	muc#roomconfig_roomname	text-single	Renamed	"
}

@test "muc destroy: the owner destroys the room; others may not (exit 1)" {
    R=$(room)
    xmpp_as alice muc create "$R"
    run xmpp_as bob muc destroy "$R"
    assert_failure 1
    assert_output --partial "xmpp muc: $R: cannot destroy the room: auth/forbidden"
    run xmpp_as alice muc destroy "$R" --reason "obsolete" --alternate "$(room other)"
    assert_success
    assert_output ""
    # ejabberd keeps no trace of a destroyed room: joining makes it anew.
    [ "$XS_IMPL" = ejabberd ] && return
    run xmpp_as bob send --muc "$R" -m "anyone?"
    assert_failure 1
    run xmpp_as alice muc destroy "$R"
    assert_failure 1
}

@test "muc: usage errors are exit 64, bad input 65 or 66" {
    run "$XMPP" muc
    assert_failure 64
    run "$XMPP" muc frobnicate "$(room)"
    assert_failure 64
    assert_output "xmpp muc: 'frobnicate' is not a subcommand; see 'xmpp muc --help'"
    run "$XMPP" muc subject
    assert_failure 64
    run "$XMPP" muc occupants "$(room)" extra
    assert_failure 64
    run "$XMPP" muc subject "$(room)" --field a=b
    assert_failure 64
    assert_output "xmpp muc: --field does not go with 'subject'; see 'xmpp muc --help'"
    run "$XMPP" muc subject "not a room"
    assert_failure 65
    run "$XMPP" muc destroy "$(room)" --alternate "@bad"
    assert_failure 65
    run "$XMPP" muc subject "$(room)" "$(printf 'bad\001char')"
    assert_failure 65
    run "$XMPP" muc subject "$(room)" --room-password-file /nonexistent
    assert_failure 66
}

@test "muc: connection and authentication failures keep their statuses (69, 77)" {
    run env XMPP_PASSWORD=wrong "$XMPP" muc occupants "$(room)" -j "$(jid_of alice)" \
        --server "127.0.0.1:$XS_PORT" --ca-file "$XS_CA"
    assert_failure 77
    run env XMPP_PASSWORD=x "$XMPP" muc occupants "$(room)" -j "$(jid_of alice)" \
        --server "127.0.0.1:1" --ca-file "$XS_CA"
    assert_failure 69
}

@test "muc --help: every option and subcommand is listed" {
    run "$XMPP" muc --help
    assert_success
    for word in subject occupants invite create config destroy --nick \
        --room-password-file --field --form --reason --alternate; do
        assert_output --partial -- "$word"
    done
}

# Last in the file: it restarts the server.
@test "recv --muc --reconnect: after a server restart it joins the room again" {
    R=$(room)
    xmpp_as alice muc create "$R"
    muc_recv_bg bob "$BATS_TEST_TMPDIR/out" 1 --muc "$R" --reconnect -n 2 -t 60
    xmpp_as alice send --muc "$R" -m "before restart"
    wait_for "$BATS_TEST_TMPDIR/out" "before restart"
    "$SERVER" restart "$XS_STATE"
    # shellcheck disable=SC1091
    . "$XS_STATE/env"
    wait_for "$BATS_TEST_TMPDIR/out.err" "reconnected" 20
    # Our own presence in the room, a second time: we are back in.
    for i in $(seq 1 200); do
        [ "$(grep -c 'status code="110"' "$BATS_TEST_TMPDIR/out.err")" -ge 2 ] && break
        sleep 0.05
    done
    run xmpp_as alice send --muc "$R" -m "after restart"
    assert_success
    wait "$RECV_PID"
    run cat "$BATS_TEST_TMPDIR/out"
    assert_line --index 0 "$R/alice	groupchat	before restart"
    assert_line --index 1 "$R/alice	groupchat	after restart"
}
