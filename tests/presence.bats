#!/usr/bin/env bats
# xmpp presence, end to end through the suite's own Prosody. alice and
# bob see each other's presence, alice sees carol's, nobody sees dave's.

load helpers

TAB=$'\t'

setup_file() {
    server_up
    xmpp_as alice roster subscribe "$(jid_of bob)"
    xmpp_as bob roster approve "$(jid_of alice)"
    xmpp_as bob roster subscribe "$(jid_of alice)"
    xmpp_as alice roster approve "$(jid_of bob)"
    xmpp_as alice roster subscribe "$(jid_of carol)"
    xmpp_as carol roster approve "$(jid_of alice)"
}

teardown_file() { server_down; }

setup() {
    T=$BATS_TEST_TMPDIR
    BG_PIDS=()
}

# Nothing a test started in the background outlives it.
teardown() {
    local pid
    for pid in "${BG_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
}

# presence_bg USER OUT ARGS...: `xmpp presence ARGS` as USER in the
# background, stdout to OUT, stderr with the XML console to OUT.err;
# returns once it has sent its presence. BG_PID is the tool's own PID,
# so that signals reach it; stdin is the caller's.
presence_bg() {
    local user=$1 out=$2
    shift 2
    XMPP_PASSWORD="$(pass_of "$user")" "$XMPP" presence -j "$(jid_of "$user")" \
        --server "127.0.0.1:$XS_PORT" --ca-file "$XS_CA" -v "$@" \
        <&0 >"$out" 2>"$out.err" 3>&- 4>&- &
    BG_PID=$!
    BG_PIDS+=("$BG_PID")
    if ! wait_for "$out.err" "SENT: <presence" 10; then
        cat "$out.err" >&2
        return 1
    fi
}

# wait_exit PID [SECONDS]: until PID ends; returns its exit status, or
# 124 (after killing it) when it is still running.
wait_exit() {
    local pid=$1 secs=${2:-10} i
    for i in $(seq 1 $((secs * 20))); do
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid"
            return
        fi
        sleep 0.05
    done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 124
}

@test "presence: set with show, status and priority is seen by the contact's list" {
    presence_bg bob "$T/bob" set --show away --status "at lunch" \
        --priority 5 --resource desk
    xmpp_as alice presence wait "$(jid_of bob)" -t 10
    run xmpp_as alice presence list --wait 1
    assert_success
    assert_line "bob@localhost/desk${TAB}away${TAB}5${TAB}at lunch"
    refute_line --partial "carol@localhost"
}

@test "presence: list with no command given; --json gives jid, show, priority, status" {
    presence_bg bob "$T/bob" set --show dnd --status "deep work" --resource j
    xmpp_as alice presence wait "$(jid_of bob)" -t 10
    run xmpp_as alice presence --wait 1 --json
    assert_success
    run jq -r 'select(.jid == "bob@localhost/j") |
        [.kind, .show, (.priority | tostring), .status] | join(",")' <<<"$output"
    assert_output "presence,dnd,-1,deep work"
}

@test "presence: list --all shows subscribed contacts with no resource as unavailable" {
    run xmpp_as alice presence list --wait 0 --all
    assert_success
    assert_line "carol@localhost${TAB}unavailable${TAB}${TAB}"
    assert_line "bob@localhost${TAB}unavailable${TAB}${TAB}"
    refute_line --partial "dave@localhost"
}

@test "presence: list --xml prints the presence stanzas" {
    presence_bg bob "$T/bob" set --resource x
    xmpp_as alice presence wait "$(jid_of bob)" -t 10
    run xmpp_as alice presence list --wait 1 --xml
    assert_success
    assert_line --regexp '^<presence .*from="bob@localhost/x".*</presence>$'
}

@test "presence: list shows our own account's other resources" {
    presence_bg alice "$T/alice" set --resource other --status elsewhere
    run xmpp_as alice presence list --wait 1
    assert_success
    assert_line "alice@localhost/other${TAB}available${TAB}-1${TAB}elsewhere"
}

@test "presence: list, wait and set leave offline messages in storage" {
    xmpp_as bob send "$(jid_of alice)" -m "kept for later"
    xmpp_as alice presence list --wait 0
    xmpp_as alice presence set --for 0
    run xmpp_as alice recv -n 1 -t 10
    assert_success
    assert_output --partial "kept for later"
}

@test "presence: watch prints a contact's changes with show, status and priority" {
    # Prosody answers the probe for offline bob with unavailable (RFC 6121
    # §4.3.2 lets it); ejabberd stays silent, so its watch starts later.
    local first=1
    [ "$XS_IMPL" = ejabberd ] && first=0
    presence_bg alice "$T/watch" watch "$(jid_of bob)" -n $((first + 2))
    run xmpp_as bob presence set --for 0 --show dnd --status busy \
        --priority 3 --resource w
    assert_success
    local rc=0
    wait_exit "${BG_PIDS[0]}" || rc=$?
    assert_equal "$rc" 0
    run cat "$T/watch"
    [ "$first" = 0 ] ||
        assert_line --index 0 "bob@localhost${TAB}unavailable${TAB}${TAB}"
    assert_line --index "$first" "bob@localhost/w${TAB}dnd${TAB}3${TAB}busy"
    assert_line --index $((first + 1)) "bob@localhost/w${TAB}unavailable${TAB}${TAB}"
    assert_equal "${#lines[@]}" $((first + 2))
}

@test "presence: SIGTERM ends set with 0 and the watcher sees it unavailable" {
    presence_bg alice "$T/watch" watch --json
    local watcher=$BG_PID
    presence_bg bob "$T/bob" set --resource term --status up
    local setter=$BG_PID
    wait_for "$T/watch" '"jid":"bob@localhost/term","show":"available"'
    kill -TERM "$setter"
    local rc=0
    wait_exit "$setter" || rc=$?
    assert_equal "$rc" 0
    wait_for "$T/watch" '"jid":"bob@localhost/term","show":"unavailable"'
    kill -INT "$watcher"
    rc=0
    wait_exit "$watcher" || rc=$?
    assert_equal "$rc" 0
    run grep -c 'bob@localhost/term' "$T/watch"
    assert_output 2
}

@test "presence: watch -n exits 75 at the deadline before N presences" {
    run xmpp_as alice presence watch "$(jid_of dave)" -n 1 -t "$(slow 1)"
    assert_failure 75
    assert_output --partial "deadline reached after 0 of 1 presences"
}

@test "presence: set --for goes unavailable by itself with 0" {
    presence_bg bob "$T/bob" set --for 0.3 --resource brief
    local rc=0
    wait_exit "$BG_PID" || rc=$?
    assert_equal "$rc" 0
    run grep -c 'SENT: <presence type="unavailable"' "$T/bob.err"
    assert_output 1
}

@test "presence: set --stdin makes each line the status and ends when stdin closes" {
    presence_bg alice "$T/watch" watch "$(jid_of bob)"
    mkfifo "$T/in"
    exec 4<>"$T/in"
    presence_bg bob "$T/bob" set --stdin --resource pipe <"$T/in"
    local setter=$BG_PID
    echo "first status" >&4
    wait_for "$T/watch" "bob@localhost/pipe${TAB}available${TAB}-1${TAB}first status"
    echo "second status" >&4
    wait_for "$T/watch" "bob@localhost/pipe${TAB}available${TAB}-1${TAB}second status"
    exec 4>&-
    local rc=0
    wait_exit "$setter" || rc=$?
    assert_equal "$rc" 0
    wait_for "$T/watch" "bob@localhost/pipe${TAB}unavailable"
}

@test "presence: set --stdin skips a line that is not UTF-8 and exits 65" {
    run xmpp_as bob presence set --stdin < <(printf 'fine\n\377\n')
    assert_failure 65
    assert_output --partial "stdin line 2: "
}

@test "presence: wait --online returns when the contact logs in" {
    presence_bg alice "$T/wait" wait "$(jid_of bob)" --online -t 20
    local waiter=$BG_PID
    kill -0 "$waiter"
    presence_bg bob "$T/bob" set --resource late
    local rc=0
    wait_exit "$waiter" || rc=$?
    assert_equal "$rc" 0
    run cat "$T/wait"
    assert_output "bob@localhost/late${TAB}available${TAB}-1${TAB}"
}

@test "presence: wait exits 75 at the deadline when the contact stays offline" {
    run xmpp_as alice presence wait "$(jid_of bob)" -t "$(slow 1)"
    assert_failure 75
    assert_output --partial "bob@localhost never came online before the deadline"
}

@test "presence: wait --offline returns at once when the contact is offline" {
    if [ "$XS_IMPL" = ejabberd ]; then
        # ejabberd does not answer the probe for an offline contact: no
        # news of carol until the deadline.
        run xmpp_as alice presence wait "$(jid_of carol)" --offline -t "$(slow 1)"
        assert_failure 75
        assert_output --partial "carol@localhost never went offline before the deadline"
        return
    fi
    run xmpp_as alice presence wait "$(jid_of carol)" --offline -t 10
    assert_success
    assert_output "carol@localhost${TAB}unavailable${TAB}${TAB}"
}

@test "presence: wait --offline returns when the contact goes" {
    presence_bg bob "$T/bob" set --resource leaving
    local setter=$BG_PID
    xmpp_as alice presence wait "$(jid_of bob)" -t 10
    presence_bg alice "$T/wait" wait "$(jid_of bob)" --offline -t 20
    local waiter=$BG_PID
    kill -0 "$waiter"
    kill -TERM "$setter"
    local rc=0
    wait_exit "$waiter" || rc=$?
    assert_equal "$rc" 0
    run cat "$T/wait"
    assert_output "bob@localhost${TAB}unavailable${TAB}${TAB}"
}

@test "presence: wait warns when we cannot see the contact, and a signal ends it with 75" {
    presence_bg alice "$T/wait" wait "$(jid_of dave)"
    kill -TERM "$BG_PID"
    local rc=0
    wait_exit "$BG_PID" || rc=$?
    assert_equal "$rc" 75
    run grep -v -e '^SENT' -e '^RECV' "$T/wait.err"
    assert_line --partial "dave@localhost: not subscribed to its presence (subscription: none)"
    assert_line --partial "interrupted before dave@localhost came online"
}

@test "presence: probe prints an online contact's resources" {
    presence_bg bob "$T/bob" set --show chat --resource probed
    xmpp_as alice presence wait "$(jid_of bob)" -t 10
    run xmpp_as alice presence probe "$(jid_of bob)"
    assert_success
    assert_output "bob@localhost/probed${TAB}chat${TAB}-1${TAB}"
}

@test "presence: probe prints unavailable for an offline contact" {
    run xmpp_as alice presence probe "$(jid_of carol)"
    if [ "$XS_IMPL" = ejabberd ]; then
        # ejabberd answers a probe only for a contact that is online.
        assert_failure 75
        assert_output --partial "carol@localhost: no answer to the probe within 2 s"
        return
    fi
    assert_success
    assert_output "carol@localhost${TAB}unavailable${TAB}${TAB}"
}

@test "presence: probe of a contact we are not subscribed to exits 1" {
    run xmpp_as alice presence probe "$(jid_of dave)"
    assert_failure 1
    assert_output --partial "dave@localhost: not subscribed to its presence"
}

@test "presence: usage errors exit 64, bad JIDs and status text 65" {
    run xmpp_as alice presence set --show bogus
    assert_failure 64
    assert_output --partial "--show bogus"
    run xmpp_as alice presence set --priority 200
    assert_failure 64
    run xmpp_as alice presence wait
    assert_failure 64
    run xmpp_as alice presence wait bob@localhost --online --offline
    assert_failure 64
    run xmpp_as alice presence list --for 3
    assert_failure 64
    assert_output --partial "--for does not go with 'list'"
    run xmpp_as alice presence frobnicate
    assert_failure 64
    run xmpp_as alice presence wait "bob@"
    assert_failure 65
    run xmpp_as alice presence set --status "$(printf 'a\001')"
    assert_failure 65
}

@test "presence: --help shows every command and option" {
    run "$XMPP" presence --help
    assert_success
    for word in set list wait watch probe --show --status --priority --for \
        --stdin --wait --all --online --offline --count; do
        assert_output --partial "$word"
    done
}

@test "presence: probe of our own account is a usage error" {
    run xmpp_as alice presence probe "$(jid_of alice)"
    assert_failure 64
    assert_output --partial "is our own account"
}

@test "presence: list --wait collects presences that arrive after login" {
    presence_bg alice "$T/list" list --wait "$(slow 3)"
    local lister=$BG_PID
    presence_bg bob "$T/bob" set --resource latecomer --status hello
    local rc=0
    wait_exit "$lister" 15 || rc=$?
    assert_equal "$rc" 0
    run cat "$T/list"
    assert_output "bob@localhost/latecomer${TAB}available${TAB}-1${TAB}hello"
}

# Last: it takes the server down.
@test "presence: set exits 74 when the server goes away" {
    presence_bg bob "$T/bob" set --resource doomed
    kill -9 "$XS_PID"
    local rc=0
    wait_exit "$BG_PID" || rc=$?
    assert_equal "$rc" 74
    run grep -v -e '^SENT' -e '^RECV' "$T/bob.err"
    assert_output --partial "connection lost"
}
