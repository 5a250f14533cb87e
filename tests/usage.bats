#!/usr/bin/env bats
# Usage help and usage errors: `xmpp help TOOL`, "did you mean" for a
# mistyped tool, subcommand or option, options that contradict each
# other and options given twice. All refused before any connection, with
# status 64 and one line on stderr. No server needed.

load helpers

@test "usage: xmpp help TOOL prints that tool's --help on stdout" {
    run --separate-stderr "$XMPP" help send
    assert_success
    [ "$output" = "$("$XMPP" send --help)" ]
    assert_line --index 0 --partial "usage: xmpp send [options] JID..."
    [ -z "$stderr" ]
    run "$XMPP" help roster
    assert_success
    assert_line --partial "Commands:"
    assert_line --regexp '^  add '
}

@test "usage: xmpp help alone lists the tools and points at xmpp help TOOL" {
    run "$XMPP" help
    assert_success
    assert_line --regexp '^  send +Send messages$'
    assert_output --partial "'xmpp help TOOL' shows a tool's options"
}

@test "usage: xmpp help with an unknown or mistyped tool is a usage error" {
    run --separate-stderr "$XMPP" help sned
    assert_failure 64
    [ "$stderr" = "xmpp: 'sned' is not a tool; did you mean 'send'?" ]
    [ -z "$output" ]
    run "$XMPP" help frobnicate
    assert_failure 64
    assert_output "xmpp: 'frobnicate' is not a tool; see 'xmpp --help'"
    run "$XMPP" help send recv
    assert_failure 64
    assert_output "xmpp: help: unexpected argument 'recv'"
}

@test "usage: a mistyped tool gets a suggestion: a swap, a missing letter, a prefix" {
    run "$XMPP" sned bob@localhost -m hi
    assert_failure 64
    assert_output "xmpp: 'sned' is not a tool; did you mean 'send'?"
    run "$XMPP" rostr list
    assert_failure 64
    assert_output "xmpp: 'rostr' is not a tool; did you mean 'roster'?"
    run "$XMPP" pubs
    assert_failure 64
    assert_output "xmpp: 'pubs' is not a tool; did you mean 'pubsub'?"
}

@test "usage: a word far from every tool gets no suggestion" {
    run "$XMPP" xyzzy
    assert_failure 64
    assert_output "xmpp: 'xyzzy' is not a tool; see 'xmpp --help'"
    # Two letters: any other two-letter word would be "one edit" away.
    run "$XMPP" iw
    assert_failure 64
    assert_output "xmpp: 'iw' is not a tool; see 'xmpp --help'"
}

@test "usage: a mistyped subcommand gets a suggestion, before any connection" {
    run "$XMPP" roster ad bob@localhost --server 127.0.0.1:1
    assert_failure 64
    assert_output "xmpp roster: 'ad' is not a subcommand; did you mean 'add'?"
    run "$XMPP" muc subjetc room@muc.localhost
    assert_failure 64
    assert_output "xmpp muc: 'subjetc' is not a subcommand; did you mean 'subject'?"
    run "$XMPP" roster frobnicate
    assert_failure 64
    assert_output "xmpp roster: 'frobnicate' is not a subcommand; see 'xmpp roster --help'"
}

@test "usage: a mistyped option gets a suggestion, the tool's own or a shared one" {
    run "$XMPP" send --mesage hi bob@localhost
    assert_failure 64
    assert_output "xmpp send: --mesage: unknown option; did you mean --message?"
    run "$XMPP" send --mesage=hi bob@localhost
    assert_failure 64
    assert_output "xmpp send: --mesage: unknown option; did you mean --message?"
    run "$XMPP" recv --timout 3
    assert_failure 64
    assert_output "xmpp recv: --timout: unknown option; did you mean --timeout?"
    # An option of another tool is no suggestion here.
    run "$XMPP" ping --attach x
    assert_failure 64
    assert_output "xmpp ping: --attach: unknown option; see 'xmpp ping --help'"
}

@test "usage: --json with --xml is a usage error" {
    run --separate-stderr "$XMPP" recv --json --xml -n 1
    assert_failure 64
    [ "$stderr" = "xmpp recv: choose one of --json and --xml" ]
    run "$XMPP" version --xml --json
    assert_failure 64
    assert_output "xmpp version: choose one of --json and --xml"
}

@test "usage: --password-file with --password-cmd is a usage error" {
    run "$XMPP" send --password-file /dev/null --password-cmd true bob@localhost -m hi
    assert_failure 64
    assert_output "xmpp send: choose one of --password-file and --password-cmd"
}

@test "usage: an option that takes one value, given twice, is a usage error" {
    run --separate-stderr "$XMPP" send -m a -m b bob@localhost
    assert_failure 64
    [ "$stderr" = "xmpp send: --message given twice; give it once" ]
    run "$XMPP" send --message a -m b bob@localhost
    assert_failure 64
    assert_output "xmpp send: --message given twice; give it once"
    # A shared option too, and a flag.
    run "$XMPP" ping -t 1 -t 2
    assert_failure 64
    assert_output "xmpp ping: --timeout given twice; give it once"
    run "$XMPP" recv --json --json
    assert_failure 64
    assert_output "xmpp recv: --json given twice; give it once"
}

@test "usage: options marked as repeatable may be given again" {
    # --attach and -v repeat: the run gets as far as needing an account.
    touch "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
    run env -u XMPP_JID XDG_CONFIG_HOME="$BATS_TEST_TMPDIR" HOME="$BATS_TEST_TMPDIR" \
        "$XMPP" send -v -v --attach "$BATS_TEST_TMPDIR/a" --attach "$BATS_TEST_TMPDIR/b" bob@localhost
    refute_output --partial "given twice"
    assert_output --partial "no account"
    run env -u XMPP_JID XDG_CONFIG_HOME="$BATS_TEST_TMPDIR" HOME="$BATS_TEST_TMPDIR" \
        "$XMPP" roster add -g a -g b bob@localhost
    refute_output --partial "given twice"
    assert_output --partial "no account"
}
