#!/usr/bin/env bats
# xmpp ping: XEP-0199 pings, timed like ping(1).

load helpers

setup_file() { server_up; }
teardown_file() { server_down; }

@test "ping: one ping of the server by default: a reply line and a summary" {
    run xmpp_as alice ping
    assert_success
    assert_line --index 0 --regexp '^reply from localhost: seq=1 time=[0-9]+\.[0-9]{3} ms$'
    assert_line --index 1 "--- localhost ping statistics ---"
    assert_line --index 2 "1 sent, 1 received, 0% lost"
    assert_line --index 3 --regexp '^rtt min/avg/max = [0-9.]+/[0-9.]+/[0-9.]+ ms$'
    [ "${#lines[@]}" -eq 4 ]
}

@test "ping: -c counts the pings and -i spaces them" {
    run xmpp_as alice ping -c 3 -i 0.05 localhost
    assert_success
    assert_line --index 0 --partial "seq=1 "
    assert_line --index 1 --partial "seq=2 "
    assert_line --index 2 --partial "seq=3 "
    assert_line "3 sent, 3 received, 0% lost"
}

@test "ping: the interval is kept: -i 5 with a 2 s deadline sends only one of 3" {
    run xmpp_as alice ping -c 3 -i "$(slow 5)" -t "$(slow 2)"
    assert_success
    assert_line "1 sent, 1 received, 0% lost"
}

@test "ping: -c 0 pings until the deadline, then sums up and exits 0" {
    run xmpp_as alice ping -c 0 -i 0.1 -t "$(slow 1)"
    assert_success
    assert_line --partial "seq=2 "
    # The last ping may go out just before the deadline and count as
    # lost; an answer after the summary is not printed.
    assert_line --index -2 --regexp '^[0-9]+ sent, [0-9]+ received, [0-9]+% lost$'
    assert_line --index -1 --regexp '^rtt min/avg/max = '
}

@test "ping: a user's bare JID is answered by the server for the account" {
    run xmpp_as alice ping bob@localhost
    assert_success
    assert_line --index 0 --regexp '^reply from bob@localhost: seq=1 '
}

@test "ping: an error answer counts as an error and exits 1" {
    run xmpp_as alice ping -c 2 -i 0.05 nobody@localhost/gone
    assert_failure 1
    assert_line --index 0 --regexp "^error from nobody@localhost/gone: seq=1 cancel/service-unavailable$ERR_TEXT time="
    assert_line "2 sent, 0 received, 2 error(s), 0% lost"
    refute_line --partial "rtt"
}

@test "ping: no answer at all exits 75 (a monitoring check's CRITICAL)" {
    shell_bg bob "$BATS_TEST_TMPDIR/bob" --resource silent
    run xmpp_as alice ping -t "$(slow 1)" bob@localhost/silent
    shell_stop
    assert_failure 75
    assert_line "1 sent, 0 received, 100% lost"
    assert_line "xmpp ping: bob@localhost/silent: no answer to 1 ping(s)"
}

@test "ping: --json gives one object per answer and a summary, told apart by kind" {
    run xmpp_as alice ping --json -c 2 -i 0.05
    assert_success
    [ "$(jq -sc 'map(.kind)' <<<"$output")" = '["reply","reply","summary"]' ]
    [ "$(jq -sc 'map(select(.kind == "reply") | .seq)' <<<"$output")" = "[1,2]" ]
    [ "$(jq -r 'select(.seq == 1) | .from' <<<"$output")" = localhost ]
    [ "$(jq -r 'select(.kind == "summary") | "\(.sent) \(.received) \(.errors) \(.lost)"' <<<"$output")" = "2 2 0 0" ]
    jq -e 'select(.kind == "summary") | .min_ms <= .avg_ms and .avg_ms <= .max_ms' <<<"$output"
}

@test "ping: --xml prints the answers as stanzas" {
    run xmpp_as alice ping --xml
    assert_success
    assert_output --regexp '^<iq [^>]*id="xmpp-ping-1"[^>]*type="result"'
}

@test "ping: bad -c or -i exit 64, an invalid JID 65" {
    run xmpp_as alice ping -c x
    assert_failure 64
    run xmpp_as alice ping -i -1
    assert_failure 64
    run xmpp_as alice ping 'bob@'
    assert_failure 65
    run xmpp_as alice ping a b
    assert_failure 64
}

@test "ping: --help shows -c and -i" {
    run "$XMPP" ping --help
    assert_success
    assert_output --partial "usage: xmpp ping [options] [JID]"
    assert_output --partial "-c, --count N"
    assert_output --partial "-i, --interval SECONDS"
}
