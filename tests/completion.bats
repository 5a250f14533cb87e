#!/usr/bin/env bats
# Shell completions: `xmpp --completion bash|zsh|fish` builds them from
# the binary's own tool and option tables. These tests press TAB in a
# real bash (the completion function, as bash calls it), a real zsh (on a
# pseudo-terminal, tests/zsh-complete) and a real fish (`complete -C`)
# and compare what is offered with what `xmpp --help` and `xmpp TOOL
# --help` document. No server needed.

load helpers

setup_file() {
    export COMPDIR="$BATS_FILE_TMPDIR/comp"
    mkdir -p "$COMPDIR"
    "$XMPP" --completion bash >"$COMPDIR/xmpp.bash"
    "$XMPP" --completion zsh >"$COMPDIR/_xmpp"
    "$XMPP" --completion fish >"$COMPDIR/xmpp.fish"
    # The scripts ask the binary on the command line (xmpp) for the
    # config file's accounts: that is the one under test.
    mkdir -p "$COMPDIR/bin"
    ln -sf "$XMPP" "$COMPDIR/bin/xmpp"
    export PATH="$COMPDIR/bin:$PATH"
    export XDG_CONFIG_HOME="$BATS_FILE_TMPDIR/config"
    unset XMPP_ACCOUNT
}

# The tools `xmpp --help` lists (failing when it lists none).
help_tools() {
    "$XMPP" --help | sed -n '/^Tools:/,/^$/s/^  \([a-z][a-z0-9-]*\) .*/\1/p' | grep .
}

# The long options a tool's --help names, sorted.
help_long_opts() { "$XMPP" "$1" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u; }

# The short options a tool's --help lists at the start of a line.
help_short_opts() { "$XMPP" "$1" --help | grep -o -- '^  -[a-zA-Z],' | tr -d ' ,' | sort -u; }

# The subcommands a tool's --help lists under "Commands:".
help_subs() {
    "$XMPP" "$1" --help | sed -n '/^Commands:/,/^[A-Z]/s/^  \([a-z][a-z0-9-]*\).*/\1/p' | sort -u
}

# bash_complete WORD...: what bash offers for the command line WORD...,
# the last word being the one under the cursor (give "" for a new word).
# Words are split the way bash splits them: "--attach=x" is "--attach" "=" "x".
bash_complete() {
    bash -c 'source "$COMPDIR/xmpp.bash"
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
        _xmpp 2>/dev/null
        printf "%s\n" "${COMPREPLY[@]}"' _ "$@"
}

zsh_complete() { "$BATS_TEST_DIRNAME/zsh-complete" "$COMPDIR" "$1"; }

# fish_complete LINE: what fish offers after LINE, without descriptions.
fish_complete() {
    fish --no-config -c 'source $argv[1]; complete -C $argv[2]' "$COMPDIR/xmpp.fish" "$1" |
        cut -f1
}

# A config file with these sections.
config_with() {
    mkdir -p "$XDG_CONFIG_HOME/xmpp"
    local name
    for name in "$@"; do
        printf '[%s]\njid = %s@localhost\n' "$name" "$name"
    done >"$XDG_CONFIG_HOME/xmpp/config"
}

@test "completion: bash offers every tool that xmpp --help lists" {
    run bash_complete xmpp ""
    assert_success
    tools=$(help_tools)
    for t in $tools; do
        assert_line "$t"
    done
    assert_line --partial "send"
}

@test "completion: bash offers exactly the long options of each tool's --help" {
    tools=$(help_tools)
    for t in $tools; do
        want=$(help_long_opts "$t")
        got=$(bash_complete xmpp "$t" -- | sort -u)
        [ "$got" = "$want" ] || { diff <(echo "$want") <(echo "$got"); return 1; }
        got=$(bash_complete "xmpp-$t" -- | sort -u)
        [ "$got" = "$want" ] || { echo "as xmpp-$t"; return 1; }
    done
}

@test "completion: bash offers every short option of each tool's --help" {
    tools=$(help_tools)
    for t in $tools; do
        got=$(bash_complete xmpp "$t" -)
        for o in $(help_short_opts "$t"); do
            grep -qx -- "$o" <<<"$got" || { echo "$t: $o missing"; return 1; }
        done
    done
}

@test "completion: bash completes file names after --attach, -f and --ca-file" {
    cd "$BATS_TEST_TMPDIR"
    touch report.pdf rest.txt
    run bash_complete xmpp send --attach re
    assert_line report.pdf
    assert_line rest.txt
    run bash_complete xmpp send -f rep
    assert_output report.pdf
    run bash_complete xmpp-recv --ca-file rep
    assert_output report.pdf
    run bash_complete xmpp send --attach = rep
    assert_output report.pdf
}

@test "completion: bash offers nothing after an option whose value is free text" {
    cd "$BATS_TEST_TMPDIR"
    touch chat.txt
    run bash_complete xmpp send --subject ""
    assert_output ""
    run bash_complete xmpp send -m c
    assert_output ""
}

@test "completion: bash and zsh offer the values of an option that takes one of a set" {
    cd "$BATS_TEST_TMPDIR"
    touch chat.txt
    run bash_complete xmpp send --type ""
    assert_output "$(printf 'chat\nnormal\nheadline')"
    run bash_complete xmpp send --type = h
    assert_output headline
    run zsh_complete "xmpp send --type "
    assert_output "$(printf 'chat\nnormal\nheadline')"
}

@test "completion: bash completes the shell after xmpp --completion" {
    run bash_complete xmpp --completion ""
    assert_line bash
    assert_line zsh
    assert_line fish
}

@test "completion: the bash script registers xmpp and every xmpp-TOOL" {
    run bash -c 'source "$COMPDIR/xmpp.bash"; complete -p'
    assert_line "complete -F _xmpp xmpp"
    tools=$(help_tools)
    for t in $tools; do
        assert_line "complete -F _xmpp xmpp-$t"
    done
}

@test "completion: the zsh script parses and names xmpp and every xmpp-TOOL" {
    zsh -n "$COMPDIR/_xmpp"
    run head -1 "$COMPDIR/_xmpp"
    assert_output "#compdef xmpp $(help_tools | sed 's/^/xmpp-/' | paste -sd' ')"
}

@test "completion: zsh offers every tool that xmpp --help lists" {
    run zsh_complete "xmpp "
    assert_success
    tools=$(help_tools)
    for t in $tools; do
        assert_line "$t"
    done
}

@test "completion: zsh and fish offer exactly the long options of each tool's --help" {
    tools=$(help_tools)
    local sh
    for sh in zsh fish; do
        for t in $tools; do
            want=$(help_long_opts "$t")
            got=$(${sh}_complete "xmpp $t --" | sort -u)
            [ "$got" = "$want" ] || { echo "$sh, $t:"; diff <(echo "$want") <(echo "$got"); return 1; }
        done
        got=$(${sh}_complete "xmpp-recv --" | sort -u)
        [ "$got" = "$(help_long_opts recv)" ]
    done
}

@test "completion: zsh completes file names after --attach and none after --subject" {
    cd "$BATS_TEST_TMPDIR"
    touch report.pdf
    run zsh_complete "xmpp send --attach rep"
    assert_output report.pdf
    run zsh_complete "xmpp send --attach=rep"
    assert_output report.pdf
    run zsh_complete "xmpp send --subject "
    assert_output ""
}

@test "completion: zsh offers --attach again, as it may be repeated" {
    cd "$BATS_TEST_TMPDIR"
    run zsh_complete "xmpp send --attach a.txt --att"
    assert_output "--attach"
}

@test "completion: bash, zsh and fish offer exactly the subcommands of each tool's --help" {
    tools=$(help_tools)
    local n=0
    for t in $tools; do
        want=$(help_subs "$t")
        [ -n "$want" ] || continue
        n=$((n + 1))
        got=$(bash_complete xmpp "$t" "" | sort -u)
        [ "$got" = "$want" ] || { echo "bash, $t:"; diff <(echo "$want") <(echo "$got"); return 1; }
        got=$(zsh_complete "xmpp $t " | sort -u)
        [ "$got" = "$want" ] || { echo "zsh, $t:"; diff <(echo "$want") <(echo "$got"); return 1; }
        got=$(fish_complete "xmpp $t " | sort -u)
        [ "$got" = "$want" ] || { echo "fish, $t:"; diff <(echo "$want") <(echo "$got"); return 1; }
    done
    [ "$n" -gt 0 ]
    # Once a subcommand is there, no other is offered.
    run bash_complete xmpp roster add ""
    refute_output --partial list
    run fish_complete "xmpp roster add "
    refute_output --partial list
}

@test "completion: an unknown shell is a usage error" {
    run "$XMPP" --completion tcsh
    assert_failure 64
    assert_output "xmpp: --completion: give bash, zsh or fish"
}

@test "completion: xmpp --help mentions --completion" {
    run "$XMPP" --help
    assert_output --partial "xmpp --completion bash|zsh|fish"
}

# ---- fish ----

@test "completion: the fish script parses and offers every tool that xmpp --help lists" {
    fish --no-config -n "$COMPDIR/xmpp.fish"
    run fish_complete "xmpp "
    assert_success
    tools=$(help_tools)
    for t in $tools; do
        assert_line "$t"
    done
    assert_line help
}

@test "completion: fish offers values, file names after --attach, and nothing after --subject" {
    cd "$BATS_TEST_TMPDIR"
    touch report.pdf
    run fish_complete "xmpp send --type "
    assert_output "$(printf 'chat\nheadline\nnormal')"
    run fish_complete "xmpp send --attach rep"
    assert_output report.pdf
    run fish_complete "xmpp-send -f rep"
    assert_output report.pdf
    run fish_complete "xmpp send --subject "
    assert_output ""
    # Operands are not file names.
    run fish_complete "xmpp send rep"
    assert_output ""
    run fish_complete "xmpp --completion "
    assert_output "$(printf 'bash\nfish\nzsh')"
}

# ---- xmpp help TOOL, account names ----

@test "completion: bash, zsh and fish offer the tools after xmpp help" {
    want=$(help_tools | sort)
    got=$(bash_complete xmpp help "" | sort)
    [ "$got" = "$want" ] || { echo bash; diff <(echo "$want") <(echo "$got"); return 1; }
    got=$(zsh_complete "xmpp help " | sort)
    [ "$got" = "$want" ] || { echo zsh; diff <(echo "$want") <(echo "$got"); return 1; }
    got=$(fish_complete "xmpp help " | sort)
    [ "$got" = "$want" ] || { echo fish; diff <(echo "$want") <(echo "$got"); return 1; }
}

@test "completion: xmpp --completion accounts lists the config file's sections" {
    config_with default work
    run --separate-stderr "$XMPP" --completion accounts
    assert_success
    assert_output "$(printf 'default\nwork')"
    rm "$XDG_CONFIG_HOME/xmpp/config"
    run --separate-stderr "$XMPP" --completion accounts
    assert_success
    assert_output ""
}

@test "completion: a section name a shell would expand is not offered" {
    mkdir -p "$XDG_CONFIG_HOME/xmpp"
    # shellcheck disable=SC2016
    printf '[$(touch %s/ran)]\njid = a@localhost\n[ok]\njid = b@localhost\n' \
        "$BATS_TEST_TMPDIR" >"$XDG_CONFIG_HOME/xmpp/config"
    run "$XMPP" --completion accounts
    assert_output ok
    run bash_complete xmpp send -a ""
    assert_output ok
    [ ! -e "$BATS_TEST_TMPDIR/ran" ]
}

@test "completion: bash, zsh and fish offer the config file's accounts after -a and --account" {
    config_with default work home
    want=$(printf 'default\nhome\nwork')
    got=$(bash_complete xmpp send --account "" | sort)
    [ "$got" = "$want" ] || { echo bash; diff <(echo "$want") <(echo "$got"); return 1; }
    run bash_complete xmpp-recv -a w
    assert_output work
    run bash_complete xmpp roster --account = h
    assert_output home
    got=$(zsh_complete "xmpp send --account " | sort)
    [ "$got" = "$want" ] || { echo zsh; diff <(echo "$want") <(echo "$got"); return 1; }
    run zsh_complete "xmpp-recv -a w"
    assert_output work
    got=$(fish_complete "xmpp send --account " | sort)
    [ "$got" = "$want" ] || { echo fish; diff <(echo "$want") <(echo "$got"); return 1; }
    run fish_complete "xmpp-recv -a w"
    assert_output work
}
