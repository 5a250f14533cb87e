#!/usr/bin/env bats
# The shared layer: dispatch, options, credentials, the config file, TLS,
# exit statuses and install, through the suite's own Prosody.

load helpers

setup_file() { server_up; }
teardown_file() { server_down; }

ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"

# Each test has a config directory of its own, empty unless it writes one.
setup() { export XDG_CONFIG_HOME="$BATS_TEST_TMPDIR/config"; }
teardown() {
    export XDG_CONFIG_HOME="$BATS_TEST_TMPDIR/config.drain"
    drain_if_failed bob
}

# write_config MODE: the config file from stdin, with that mode.
write_config() {
    mkdir -p "$XDG_CONFIG_HOME/xmpp"
    cat >"$XDG_CONFIG_HOME/xmpp/config"
    chmod "$1" "$XDG_CONFIG_HOME/xmpp/config"
}

# account_section NAME USER: a config section that logs in as USER.
account_section() {
    cat <<EOF
[$1]
jid = $(jid_of "$2")
password = $(pass_of "$2")
server = 127.0.0.1
port = $XS_PORT
ca_file = $XS_CA
EOF
}

# last_from USER: the sender of the next message waiting for USER.
last_from() {
    xmpp_as "$1" recv -n 1 -t 10 --json | jq -r .from
}

# ---- dispatch ----

@test "common: xmpp --help lists every tool with its summary" {
    run "$XMPP" --help
    assert_success
    assert_line --regexp '^  send +Send messages$'
    assert_line --regexp '^  recv +Print incoming messages$'
    assert_output --partial "usage: xmpp TOOL"
}

@test "common: xmpp without a tool prints the list on stderr and exits 64" {
    run --separate-stderr "$XMPP"
    assert_failure 64
    [[ "$stderr" == *"send "*"Send messages"* ]]
    [ -z "$output" ]
}

@test "common: an unknown tool exits 64 and points at --help" {
    run "$XMPP" frobnicate
    assert_failure 64
    assert_output "xmpp: 'frobnicate' is not a tool; see 'xmpp --help'"
}

@test "common: TOOL --help prints the tool's usage and the shared options" {
    run "$XMPP" send --help
    assert_success
    assert_line --index 0 --partial "usage: xmpp send [options] JID... [-m TEXT | -f FILE | -l]"
    assert_line --partial "--max-size BYTES"
    assert_line --partial "--password-cmd CMD"
    assert_line --partial "--direct-tls"
    run "$XMPP" recv -h
    assert_success
    assert_line --index 0 "usage: xmpp recv [options]"
    assert_line --partial "--no-presence"
}

@test "common: --version and -V print the version, at top level and per tool" {
    run "$XMPP" --version
    assert_success
    assert_output --regexp '^xmpp [0-9]+\.[0-9]+\.[0-9]+$'
    local v=$output
    run "$XMPP" send --version
    assert_output "$v"
    run "$XMPP" recv -V
    assert_output "$v"
}

@test "common: the tool is chosen by the name it runs as (xmpp-send, xmpp-recv)" {
    ln -s "$XMPP" "$BATS_TEST_TMPDIR/xmpp-send"
    ln -s "$XMPP" "$BATS_TEST_TMPDIR/xmpp-recv"
    run "$BATS_TEST_TMPDIR/xmpp-send" --help
    assert_line --index 0 --partial "usage: xmpp send"
    XMPP_PASSWORD=$(pass_of alice) run "$BATS_TEST_TMPDIR/xmpp-send" \
        -j "$(jid_of alice)" $(server_opts) "$(jid_of bob)" -m "via symlink"
    assert_success
    XMPP_PASSWORD=$(pass_of bob) run "$BATS_TEST_TMPDIR/xmpp-recv" \
        -j "$(jid_of bob)" $(server_opts) -n 1 -t 10
    assert_success
    assert_output --regexp "	chat$DELAYED	via symlink\$"
}

@test "common: an unknown option or a missing option argument exits 64" {
    run "$XMPP" send --frob bob@localhost
    assert_failure 64
    assert_output "xmpp send: --frob: unknown option; see 'xmpp send --help'"
    run "$XMPP" recv --count
    assert_failure 64
    assert_output --partial "--count: needs an argument"
}

@test "common: a --timeout that is not a number of seconds exits 64" {
    run "$XMPP" send -t soon bob@localhost -m x
    assert_failure 64
    assert_output --partial "--timeout: 'soon' is not a number of seconds"
}

# ---- connecting and TLS ----

@test "common: a wrong password exits 77 and says so" {
    XMPP_PASSWORD=wrong run "$XMPP" send -j "$(jid_of alice)" $(server_opts) \
        "$(jid_of bob)" -m x
    assert_failure 77
    assert_output "xmpp send: authentication failed for alice@localhost: check the password (XMPP_PASSWORD)"
}

@test "common: a closed port exits 69 naming host and port" {
    local port
    port=$(closed_port)
    run xmpp_as alice send --server "127.0.0.1:$port" "$(jid_of bob)" -m x
    assert_failure 69
    assert_output "xmpp send: cannot connect to 127.0.0.1:$port: Connection refused"
}

@test "common: a server that never answers runs into --timeout: exit 75" {
    /usr/bin/python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
print(s.getsockname()[1], flush=True); time.sleep(30)' >"$BATS_TEST_TMPDIR/port" &
    local pid=$!
    wait_lines "$BATS_TEST_TMPDIR/port" 1
    local port
    port=$(cat "$BATS_TEST_TMPDIR/port")
    # The kernel completes the TCP handshake (the backlog): the stream
    # header is what gets no answer.
    run xmpp_as alice send --server "127.0.0.1:$port" -t "$(slow 0.5)" "$(jid_of bob)" -m x
    stop_bg "$pid"
    assert_failure 75
    assert_output "xmpp send: timed out connecting to 127.0.0.1:$port (--timeout) while opening the stream"
}

@test "common: a self-signed certificate is rejected (77) without --ca-file or --insecure" {
    XMPP_PASSWORD=$(pass_of alice) run "$XMPP" send -j "$(jid_of alice)" \
        --server "127.0.0.1:$XS_PORT" "$(jid_of bob)" -m "must not arrive"
    assert_failure 77
    assert_output --partial "TLS certificate rejected"
    assert_output --partial "--ca-file"
    xmpp_as alice send "$(jid_of bob)" -m marker
    run xmpp_as bob recv -n 1 -t 10
    assert_output --regexp $'\tmarker$'
}

@test "common: --ca-file trusts the server's certificate" {
    XMPP_PASSWORD=$(pass_of alice) run "$XMPP" send -j "$(jid_of alice)" \
        --server "127.0.0.1:$XS_PORT" --ca-file "$XS_CA" "$(jid_of bob)" -m "with ca"
    assert_success
    run xmpp_as bob recv -n 1 -t 10
    assert_output --regexp $'\twith ca$'
}

@test "common: a --ca-file that does not exist exits 66" {
    run xmpp_as alice send --ca-file /nonexistent/ca.pem "$(jid_of bob)" -m x
    assert_failure 66
    assert_output "xmpp send: --ca-file /nonexistent/ca.pem: No such file or directory"
}

@test "common: --insecure connects without checking the certificate" {
    XMPP_PASSWORD=$(pass_of alice) run "$XMPP" send -j "$(jid_of alice)" \
        --server "127.0.0.1:$XS_PORT" --insecure "$(jid_of bob)" -m "insecure"
    assert_success
    run xmpp_as bob recv -n 1 -t 10
    assert_output --regexp $'\tinsecure$'
}

@test "common: --direct-tls speaks TLS from the first byte (XEP-0368)" {
    XMPP_PASSWORD=$(pass_of alice) run "$XMPP" send -j "$(jid_of alice)" \
        --server "127.0.0.1:$XS_TLS_PORT" --direct-tls --ca-file "$XS_CA" \
        -v "$(jid_of bob)" -m "direct tls"
    assert_success
    refute_output --partial "<starttls"
    run xmpp_as bob recv -n 1 -t 10
    assert_output --regexp $'\tdirect tls$'
    # and its certificate is checked as well
    XMPP_PASSWORD=$(pass_of alice) run "$XMPP" send -j "$(jid_of alice)" \
        --server "127.0.0.1:$XS_TLS_PORT" --direct-tls "$(jid_of bob)" -m x
    assert_failure 77
    assert_output --partial "TLS certificate rejected"
}

@test "common: a stream error from the server exits 76 with its condition" {
    XMPP_PASSWORD=x run "$XMPP" send -j bob@elsewhere.example $(server_opts) \
        "$(jid_of bob)" -m x
    assert_failure 76
    # Prosody adds "This server does not serve elsewhere.example"; ejabberd
    # gives the condition alone.
    assert_output --regexp "^xmpp send: the server closed the stream: host-unknown( \(This server does not serve elsewhere\.example\))?$"
}

@test "common: --direct-tls to a STARTTLS port exits 69 with OpenSSL's reason" {
    run xmpp_as alice send --direct-tls "$(jid_of bob)" -m x
    assert_failure 69
    assert_output --regexp "^xmpp send: cannot connect to 127.0.0.1:$XS_PORT: TLS handshake failed \(error:.*\); is it a direct TLS port\?$"
}

@test "common: --server with a bad port exits 64" {
    run xmpp_as alice send --server 127.0.0.1:99999 "$(jid_of bob)" -m x
    assert_failure 64
    assert_output --partial "port must be 1-65535"
}

@test "common: --resource binds that resource" {
    run xmpp_as alice send --resource "build bot" "$(jid_of bob)" -m "from a resource"
    assert_success
    run xmpp_as bob recv -n 1 -t 10 --json
    assert_equal "$(jq -r .from <<<"$output")" "alice@localhost/build bot"
}

@test "common: an invalid --jid exits 65 before connecting" {
    XMPP_PASSWORD=x run "$XMPP" send -j "alice@" --server 127.0.0.1:1 \
        "$(jid_of bob)" -m x
    assert_failure 65
    assert_output "xmpp send: alice@: invalid JID: empty domainpart"
}

@test "common: --component and --secret-file log in as an external component (XEP-0114)" {
    printf '%s\n' "$XS_COMP_SECRET" >"$BATS_TEST_TMPDIR/secret"
    run "$XMPP" send --component "component.$XS_DOMAIN" \
        --secret-file "$BATS_TEST_TMPDIR/secret" --server "127.0.0.1:$XS_COMP_PORT" \
        "$(jid_of bob)" -m "from a component"
    assert_success
    run xmpp_as bob recv -n 1 -t 10
    assert_output --regexp "^component\\.localhost	chat$DELAYED	from a component\$"
}

@test "common: a wrong component secret exits 77" {
    echo wrong >"$BATS_TEST_TMPDIR/secret"
    run "$XMPP" send --component "component.$XS_DOMAIN" \
        --secret-file "$BATS_TEST_TMPDIR/secret" --server "127.0.0.1:$XS_COMP_PORT" \
        "$(jid_of bob)" -m x
    assert_failure 77
    assert_output "xmpp send: authentication failed for component.localhost: check the secret (--secret-file)"
}

# ---- credentials ----

@test "common: XMPP_JID and XMPP_PASSWORD log in without flags" {
    XMPP_JID=$(jid_of carol) XMPP_PASSWORD=$(pass_of carol) \
        run "$XMPP" send $(server_opts) "$(jid_of bob)" -m "env login"
    assert_success
    run last_from bob
    assert_output --regexp '^carol@localhost/'
}

@test "common: --password-file reads the password from the file's first line" {
    printf '%s\nsecond line\n' "$(pass_of alice)" >"$BATS_TEST_TMPDIR/pw"
    run "$XMPP" send -j "$(jid_of alice)" --password-file "$BATS_TEST_TMPDIR/pw" \
        $(server_opts) "$(jid_of bob)" -m "password file"
    assert_success
    run last_from bob
    assert_output --regexp '^alice@localhost/'
}

@test "common: a missing --password-file exits 66, an empty one 78" {
    run "$XMPP" send -j "$(jid_of alice)" --password-file /nonexistent/pw \
        $(server_opts) "$(jid_of bob)" -m x
    assert_failure 66
    assert_output "xmpp send: --password-file /nonexistent/pw: No such file or directory"
    : >"$BATS_TEST_TMPDIR/empty"
    run "$XMPP" send -j "$(jid_of alice)" --password-file "$BATS_TEST_TMPDIR/empty" \
        $(server_opts) "$(jid_of bob)" -m x
    assert_failure 78
    assert_output --partial "is empty"
}

@test "common: --password-cmd uses the command's first output line" {
    printf '%s\n' "$(pass_of alice)" >"$BATS_TEST_TMPDIR/pw"
    run "$XMPP" send -j "$(jid_of alice)" \
        --password-cmd "cat '$BATS_TEST_TMPDIR/pw'; echo ignored" \
        $(server_opts) "$(jid_of bob)" -m "password cmd"
    assert_success
    run last_from bob
    assert_output --regexp '^alice@localhost/'
}

@test "common: a failing or silent --password-cmd exits 78" {
    run "$XMPP" send -j "$(jid_of alice)" --password-cmd "exit 3" \
        $(server_opts) "$(jid_of bob)" -m x
    assert_failure 78
    assert_output "xmpp send: --password-cmd failed (exit 3): exit 3"
    run "$XMPP" send -j "$(jid_of alice)" --password-cmd "true" \
        $(server_opts) "$(jid_of bob)" -m x
    assert_failure 78
    assert_output "xmpp send: --password-cmd printed nothing: true"
}

@test "common: flags beat the environment: --password-file over XMPP_PASSWORD, -j over XMPP_JID" {
    printf '%s\n' "$(pass_of alice)" >"$BATS_TEST_TMPDIR/pw"
    XMPP_JID=$(jid_of carol) XMPP_PASSWORD=wrong run "$XMPP" send \
        -j "$(jid_of alice)" --password-file "$BATS_TEST_TMPDIR/pw" \
        $(server_opts) "$(jid_of bob)" -m "flags win"
    assert_success
    run last_from bob
    assert_output --regexp '^alice@localhost/'
}

@test "common: with no account anywhere, exit 78 and say where one can come from" {
    run "$XMPP" send $(server_opts) "$(jid_of bob)" -m x
    assert_failure 78
    assert_output "xmpp send: no account: give --jid, set XMPP_JID, or write a config file (see xmpp(1))"
}

@test "common: with no password anywhere, exit 78" {
    run "$XMPP" send -j "$(jid_of alice)" $(server_opts) "$(jid_of bob)" -m x </dev/null
    assert_failure 78
    assert_output "xmpp send: no password for alice@localhost: use --password-file, --password-cmd, XMPP_PASSWORD, the config file, or run on a terminal to be asked"
}

@test "common: the password is in no process's argv while tools run" {
    local pw
    pw=$(pass_of bob)
    printf '%s\n' "$pw" >"$BATS_TEST_TMPDIR/pw"
    # Password from a command, and from the environment (recv_bg).
    "$XMPP" recv -j "$(jid_of bob)" $(server_opts) -v \
        --password-cmd "cat '$BATS_TEST_TMPDIR/pw'" \
        >"$BATS_TEST_TMPDIR/out1" 2>"$BATS_TEST_TMPDIR/err1" &
    local p1=$!
    recv_bg bob "$BATS_TEST_TMPDIR/out2"
    local p2=$RECV_PID
    wait_for "$BATS_TEST_TMPDIR/err1" "RECV: <presence"
    # The scan must see our tools; grep reads the password from a file, as
    # in its own argv it would match itself.
    local seen
    seen=$(grep -l -a -- "--password-cmd" /proc/[0-9]*/cmdline 2>/dev/null | wc -l)
    run --separate-stderr grep -l -a -F -f "$BATS_TEST_TMPDIR/pw" /proc/[0-9]*/cmdline
    stop_bg "$p1"
    stop_bg "$p2"
    [ "$seen" -ge 1 ]
    assert_output ""
}

@test "common: -v shows the XML console with credentials redacted" {
    local pw
    pw=$(pass_of alice)
    run --separate-stderr xmpp_as alice send -v "$(jid_of bob)" -m "verbose"
    assert_success
    [[ "$stderr" == *"SENT: <message"* ]]
    # RFC 6120 SASL, or SASL2's initial response (ejabberd 24).
    [[ "$stderr" == *"<auth "*"[redacted]</auth>"* ||
        "$stderr" == *"<initial-response>[redacted]</initial-response>"* ]]
    [[ "$stderr" != *"$pw"* ]]
    xmpp_as bob recv -n 1 -t 10 >/dev/null
}

# ---- the config file ----

@test "common: the config file's 'default' section is used when none is chosen" {
    { account_section work carol; echo; account_section default alice; } | write_config 600
    run "$XMPP" send "$(jid_of bob)" -m "from default"
    assert_success
    assert_output ""
    run last_from bob
    assert_output --regexp '^alice@localhost/'
}

@test "common: without a 'default' section the first one is used" {
    { account_section first carol; echo; account_section second alice; } | write_config 600
    run "$XMPP" send "$(jid_of bob)" -m "from first"
    assert_success
    run last_from bob
    assert_output --regexp '^carol@localhost/'
}

@test "common: -a picks a section and beats XMPP_ACCOUNT, which beats the default" {
    { account_section default alice; echo; account_section ops carol
      echo; account_section ci dave; } | write_config 600
    XMPP_ACCOUNT=ops run "$XMPP" send "$(jid_of bob)" -m "env account"
    assert_success
    run last_from bob
    assert_output --regexp '^carol@localhost/'
    XMPP_ACCOUNT=ops run "$XMPP" send -a ci "$(jid_of bob)" -m "flag account"
    assert_success
    run last_from bob
    assert_output --regexp '^dave@localhost/'
}

@test "common: -j or XMPP_JID picks the config section of that account" {
    { account_section default alice; echo; account_section ops carol; } | write_config 600
    run "$XMPP" send -j CAROL@localhost "$(jid_of bob)" -m "by jid"
    assert_success
    run last_from bob
    # ejabberd keeps the case the account logged in with in 'from'
    # (CAROL@localhost/...); Prosody case-folds it. Both are carol.
    assert_regex "${output,,}" '^carol@localhost/'
    XMPP_JID=$(jid_of carol) run "$XMPP" send "$(jid_of bob)" -m "by env jid"
    assert_success
    run last_from bob
    assert_output --regexp '^carol@localhost/'
}

@test "common: -j for an account the config file does not hold uses none of it" {
    account_section default alice | write_config 600
    run "$XMPP" send -j "$(jid_of dave)" "$(jid_of bob)" -m x </dev/null
    assert_failure 78
    assert_output --partial "no password for dave@localhost"
}

@test "common: an account that is not in the config file exits 78" {
    account_section default alice | write_config 600
    run "$XMPP" send -a nosuch "$(jid_of bob)" -m x
    assert_failure 78
    assert_output "xmpp send: $XDG_CONFIG_HOME/xmpp/config: no section [nosuch]"
}

@test "common: the environment beats the config file, flags beat both" {
    account_section default alice | write_config 600
    # XMPP_PASSWORD and --resource over the file's password and resource
    echo "resource = file" >>"$XDG_CONFIG_HOME/xmpp/config"
    XMPP_PASSWORD=$(pass_of alice) run "$XMPP" send --resource flag \
        "$(jid_of bob)" -m "env over file"
    assert_success
    run last_from bob
    assert_output "alice@localhost/flag"
    # a wrong XMPP_PASSWORD is what is used, not the file's good one
    XMPP_PASSWORD=wrong run "$XMPP" send "$(jid_of bob)" -m x
    assert_failure 77
    # --server over the file's server and port
    local port
    port=$(closed_port)
    run "$XMPP" send --server "127.0.0.1:$port" "$(jid_of bob)" -m x
    assert_failure 69
    assert_output --partial "127.0.0.1:$port"
}

@test "common: config keys password_cmd, direct_tls and resource are honoured" {
    printf '%s\n' "$(pass_of alice)" >"$BATS_TEST_TMPDIR/pw"
    write_config 644 <<CFG
[default]
jid = $(jid_of alice)
password_cmd = cat '$BATS_TEST_TMPDIR/pw'
server = 127.0.0.1
port = $XS_TLS_PORT
direct_tls = true
ca_file = $XS_CA
resource = from-config
CFG
    run "$XMPP" send "$(jid_of bob)" -m "config keys"
    assert_success
    assert_output ""
    run last_from bob
    assert_output "alice@localhost/from-config"
}

@test "common: a config file with a password readable by others gets a warning" {
    account_section default alice | write_config 644
    run "$XMPP" send "$(jid_of bob)" -m "mode 644"
    assert_success
    assert_output "xmpp send: warning: $XDG_CONFIG_HOME/xmpp/config holds a password and is readable by others; run chmod 600 $XDG_CONFIG_HOME/xmpp/config"
    chmod 600 "$XDG_CONFIG_HOME/xmpp/config"
    run "$XMPP" send "$(jid_of bob)" -m "mode 600"
    assert_success
    assert_output ""
    xmpp_as bob recv -n 2 -t 10 >/dev/null
}

@test "common: -q silences the config mode warning" {
    account_section default alice | write_config 644
    run "$XMPP" send -q "$(jid_of bob)" -m "quiet"
    assert_success
    assert_output ""
    xmpp_as bob recv -n 1 -t 10 >/dev/null
}

@test "common: a broken config file exits 78 naming the file and the fault" {
    local cfg="$BATS_TEST_TMPDIR/config/xmpp/config"
    printf '[default\njid = a@localhost\n' | write_config 600
    run "$XMPP" send "$(jid_of bob)" -m x
    assert_failure 78
    assert_output "xmpp send: $cfg:1: syntax error (not [section] nor key = value)"
    printf '[default]\ncolour = blue\n' | write_config 600
    run "$XMPP" send "$(jid_of bob)" -m x
    assert_failure 78
    assert_output "xmpp send: $cfg:2: [default]: unknown key 'colour'"
    printf '[default]\nport = 99999\n' | write_config 600
    run "$XMPP" send "$(jid_of bob)" -m x
    assert_failure 78
    assert_output "xmpp send: $cfg:2: [default]: port '99999' is not 1-65535"
    printf '[default]\ndirect_tls = maybe\n' | write_config 600
    run "$XMPP" send "$(jid_of bob)" -m x
    assert_failure 78
    assert_output --partial "direct_tls 'maybe' is not true/false"
    printf 'jid = a@localhost\n' | write_config 600
    run "$XMPP" send "$(jid_of bob)" -m x
    assert_failure 78
    assert_output "xmpp send: $cfg:1: 'jid' outside any [section]"
}

@test "common: a config file that cannot be read exits 78" {
    mkdir -p "$XDG_CONFIG_HOME/xmpp/config"
    run "$XMPP" send "$(jid_of bob)" -m x
    assert_failure 78
    assert_output --partial "$XDG_CONFIG_HOME/xmpp/config: "
}

@test "common: without XDG_CONFIG_HOME the config is ~/.config/xmpp/config" {
    unset XDG_CONFIG_HOME
    export HOME="$BATS_TEST_TMPDIR/home"
    mkdir -p "$HOME/.config/xmpp"
    account_section default dave >"$HOME/.config/xmpp/config"
    chmod 600 "$HOME/.config/xmpp/config"
    run "$XMPP" send "$(jid_of bob)" -m "from home"
    assert_success
    run last_from bob
    assert_output --regexp '^dave@localhost/'
}

# ---- docs ----

# has_flag PAGE OPTION: the page names --OPTION in an mdoc Fl macro
# ("Fl -count", or "Fl c , -count").
has_flag() {
    grep -E '(^|[ .])Fl ' "$1" | grep -qE -- "(^|[ ])-${2#--}([^a-z0-9-]|$)"
}

@test "common: every exit status of exitcode.h is in README's table and man/man1/xmpp.1" {
    local n
    for n in $(sed -n 's/^ *XE_[A-Z]* = \([0-9]*\),.*/\1/p' "$ROOT/common/cli/exitcode.h" | sort -un); do
        grep -q "^| $n *|" "$ROOT/README.md" || fail "README.md: no status $n"
        grep -q "^\.It $n\$" "$ROOT/man/man1/xmpp.1" || fail "man/man1/xmpp.1: no status $n"
    done
}

@test "common: out of memory exits 71 with one line, not abort()" {
    # roster: the copy of a group name (1500 bytes and its NUL) used to
    # abort().
    local group
    group=$(printf 'g%.0s' $(seq 1500))
    run failing_alloc 1501 xmpp_as alice roster add "$(jid_of dave)" --group "$group"
    assert_failure 71
    assert_output "xmpp roster: out of memory"
    run xmpp_as alice roster list
    refute_output --partial dave@
}

@test "common: out of memory copying a second --muc room leaves nothing dangling (71)" {
    # muc_add grew the room list, then failed to copy the name, and the
    # list it had freed was used again at exit (ASan: use-after-free).
    local room
    room="$(printf 'r%.0s' $(seq 1000))@$(printf 's%.0s' $(seq 60)).conference.$XS_DOMAIN"
    run failing_alloc $((${#room} + 1)) xmpp_as alice send --muc "first@conference.$XS_DOMAIN" \
        --muc "$room" -m "never sent"
    assert_failure 71
    assert_output "xmpp send: out of memory"
}

@test "common: every tool has a mandoc-clean man page naming each option of its --help" {
    run mandoc -Tlint -W warning "$ROOT"/man/man1/*.1
    assert_success
    assert_output ""
    local tools t opt page
    tools=$("$XMPP" --help | sed -n 's/^  \([a-z][a-z0-9-]*\)  .*/\1/p')
    for t in $tools; do
        page="$ROOT/man/man1/xmpp-$t.1"
        [ -f "$page" ] || fail "no man page for $t"
        # the tool's own part of --help, before the shared options
        for opt in $("$XMPP" "$t" --help | sed '/^Connection (shared/,$d' |
                     sed -nE 's/^ {2,6}(-[A-Za-z0-9], )?(--[a-z][a-z0-9-]*).*/\2/p'); do
            has_flag "$page" "$opt" || fail "xmpp-$t.1 lacks $opt"
        done
        grep -q "^\.Xr xmpp 1" "$page" || fail "xmpp-$t.1 lacks SEE ALSO xmpp(1)"
        grep -q "^\.Xr xmpp-$t 1" "$ROOT/man/man1/xmpp.1" || fail "xmpp.1 lacks xmpp-$t"
    done
    for opt in $("$XMPP" send --help | sed -n '/^Connection (shared/,$p' |
                 sed -nE 's/^ {2,6}(-[A-Za-z0-9], )?(--[a-z][a-z0-9-]*).*/\2/p'); do
        has_flag "$ROOT/man/man1/xmpp.1" "$opt" || fail "xmpp.1 lacks $opt"
    done
}

@test "common: the man pages are under man/man1, so MANPATH=./man works from a checkout" {
    run ls "$ROOT"/man/*.1
    assert_failure # a page outside man/man1 is neither found nor installed
    cd "$ROOT"
    run env MANPATH=./man MANPAGER=cat MANWIDTH=80 man xmpp-send
    assert_success
    assert_output --partial "xmpp-send"
    assert_output --partial "--attach"
    run env MANPATH=./man MANPAGER=cat MANWIDTH=80 man 1 xmpp
    assert_success
    assert_output --partial "EXIT STATUS"
}

# The SYNOPSIS section of a man page, as mdoc source.
man_synopsis() { sed -n '/^\.Sh SYNOPSIS/,/^\.Sh /p' "$1"; }

@test "common: each man page's SYNOPSIS names every subcommand of the tool, and no option it lacks" {
    local tools t page sub opt subs opts
    tools=$("$XMPP" --help | sed -n 's/^  \([a-z][a-z0-9-]*\)  .*/\1/p')
    for t in $tools; do
        page="$ROOT/man/man1/xmpp-$t.1"
        subs=$("$XMPP" "$t" --help | sed -n '/^Commands:/,/^[A-Z]/s/^  \([a-z][a-z0-9-]*\).*/\1/p')
        for sub in $subs; do
            man_synopsis "$page" | grep -E '(^|[ .])Cm ' |
                grep -qE "(^|[ |])$sub([ |]|$)" ||
                fail "xmpp-$t.1: SYNOPSIS lacks the subcommand $sub"
        done
        opts=$("$XMPP" "$t" --help | grep -oE -- '(^|[ [])--?[a-zA-Z][a-z0-9-]*' | tr -d ' [' | sort -u)
        for opt in $(man_synopsis "$page" | grep -oE 'Fl [a-zA-Z-][a-z0-9-]*' | sed 's/^Fl /-/' | sort -u); do
            grep -qx -- "$opt" <<<"$opts" || fail "xmpp-$t.1: SYNOPSIS names $opt, which xmpp $t --help does not"
        done
    done
}

# ---- install ----

@test "common: make install puts the binary, a symlink per tool and the man pages under DESTDIR; uninstall removes them" {
    local d="$BATS_TEST_TMPDIR/dest"
    run make -s -C "$ROOT" install DESTDIR="$d" PREFIX=/opt/x
    assert_success
    [ -x "$d/opt/x/bin/xmpp" ]
    local tools
    tools=$("$XMPP" --help | sed -n 's/^  \([a-z][a-z0-9-]*\)  .*/\1/p')
    [ -n "$tools" ]
    for t in $tools; do
        [ "$(readlink "$d/opt/x/bin/xmpp-$t")" = xmpp ]
        [ -f "$d/opt/x/share/man/man1/xmpp-$t.1" ]
    done
    [ -f "$d/opt/x/share/man/man1/xmpp.1" ]
    run "$d/opt/x/bin/xmpp-send" --help
    assert_line --index 0 --partial "usage: xmpp send"
    run make -s -C "$ROOT" uninstall DESTDIR="$d" PREFIX=/opt/x
    assert_success
    run find "$d" -type f -o -type l
    assert_output ""
}
