#!/usr/bin/env bats
# Settings from the config file and the environment, as good as the
# options (option > environment > config, every message naming its
# source); the way in from sendxmpp and go-sendxmpp (-p, --password-file
# -, the password prompt, xmpp config import), against the real server.

load helpers

setup_file() { server_up; }
teardown_file() { server_down; }

setup() {
    export XDG_CONFIG_HOME="$BATS_TEST_TMPDIR/config"
    export HOME="$BATS_TEST_TMPDIR/home"
    mkdir -p "$HOME"
    CFG="$XDG_CONFIG_HOME/xmpp/config"
}
teardown() {
    export XDG_CONFIG_HOME="$BATS_TEST_TMPDIR/config.drain"
    drain_if_failed bob
}

# write_config: the config file from stdin, mode 600.
write_config() {
    mkdir -p "$XDG_CONFIG_HOME/xmpp"
    cat >"$CFG"
    chmod 600 "$CFG"
}

# alice_section CA_FILE: a [default] that logs in as alice, HOST:PORT in
# one server key.
alice_section() {
    printf '[default]\njid = %s\npassword = %s\nserver = 127.0.0.1:%s\nca_file = %s\n' \
        "$(jid_of alice)" "$(pass_of alice)" "$XS_PORT" "$1"
}

# last_from USER: the sender of the next message waiting for USER.
last_from() {
    xmpp_as "$1" recv -n 1 -t "$(slow 10)" --json | jq -r .from
}

# on_tty PASSWORD COMMAND...: run COMMAND on a terminal of its own (stdin,
# stdout and stderr), type PASSWORD when it asks for one; prints what
# the terminal showed and exits as COMMAND did.
on_tty() {
    /usr/bin/python3 - "$@" <<'PY'
import os, pty, select, sys, time
pw, argv = sys.argv[1].encode(), sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
out, typed, end = b"", False, time.time() + 300
while time.time() < end:
    if select.select([fd], [], [], 0.2)[0]:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    if not typed and b"Password for" in out:
        os.write(fd, pw + b"\n")
        typed = True
_, st = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
sys.exit(os.waitstatus_to_exitcode(st))
PY
}

# ---- the config file ----

@test "config: 'server = HOST:PORT' connects there (not HOST:PORT:5222)" {
    alice_section "$XS_CA" | write_config
    run "$XMPP" send "$(jid_of bob)" -m "server with port"
    assert_success
    assert_output ""
    run last_from bob
    assert_output --regexp '^alice@localhost/'
}

@test "config: password_file, timeout, insecure and nick keys are honoured" {
    printf '%s\n' "$(pass_of alice)" >"$BATS_TEST_TMPDIR/pw"
    write_config <<CFG
[default]
jid = $(jid_of alice)
password_file = $BATS_TEST_TMPDIR/pw
server = 127.0.0.1:$XS_PORT
insecure = true
timeout = $(slow 20)
nick = config-bot
CFG
    local r="cfg$BATS_TEST_NUMBER@conference.$XS_DOMAIN"
    xmpp_as alice muc create "$r"
    recv_bg bob "$BATS_TEST_TMPDIR/out" --muc "$r" -n 1 -t "$(slow 20)"
    wait_for "$BATS_TEST_TMPDIR/out.err" 'status code="110"'
    # no --ca-file: insecure = true; no --nick: nick = config-bot
    run "$XMPP" send --muc "$r" -m "from the config"
    assert_success
    wait "$RECV_PID"
    run cat "$BATS_TEST_TMPDIR/out"
    assert_output "$r/config-bot${TAB}groupchat${TAB}from the config"
}

@test "config: a component section logs in as the component" {
    printf '%s\n' "$XS_COMP_SECRET" >"$BATS_TEST_TMPDIR/secret"
    write_config <<CFG
[alerts]
component = component.$XS_DOMAIN
secret_file = $BATS_TEST_TMPDIR/secret
server = 127.0.0.1:$XS_COMP_PORT
CFG
    run "$XMPP" send -a alerts "$(jid_of bob)" -m "from a component"
    assert_success
    run last_from bob
    assert_output "component.$XS_DOMAIN"
}

@test "config: unknown keys and bad values are refused at load with FILE:LINE" {
    printf '[default]\njid = a@localhost\n\npassword_command = pass x\n' | write_config
    run "$XMPP" send "$(jid_of bob)" -m x
    assert_failure 78
    assert_output "xmpp send: $CFG:4: [default]: unknown key 'password_command'"
    printf '[a]\njid = a@localhost\n[b]\ntimeout = soon\n' | write_config
    run "$XMPP" send -a a "$(jid_of bob)" -m x
    assert_failure 78
    assert_output "xmpp send: $CFG:4: [b]: timeout 'soon' is not a number of seconds"
    printf '[default]\nserver = [::1\n' | write_config
    run "$XMPP" send "$(jid_of bob)" -m x
    assert_failure 78
    assert_output "xmpp send: $CFG:2: [default]: server '[::1': missing ']'"
    printf '[default]\nserver = h:5222\nport = 5223\n' | write_config
    run "$XMPP" send "$(jid_of bob)" -m x
    assert_failure 78
    assert_output "xmpp send: $CFG:3: [default]: port given, and server on line 2 has one"
    printf '[default]\njid = bob@\n' | write_config
    run "$XMPP" send "$(jid_of bob)" -m x
    assert_failure 78
    assert_output "xmpp send: $CFG:2: [default]: jid 'bob@' is not a valid JID: empty domainpart"
    printf '[default]\ninsecure = perhaps\n' | write_config
    run "$XMPP" send "$(jid_of bob)" -m x
    assert_failure 78
    assert_output "xmpp send: $CFG:2: [default]: insecure 'perhaps' is not true/false"
    printf '[default]\njid = a@localhost\npassword = x\npassword_cmd = echo y\n' | write_config
    run "$XMPP" send "$(jid_of bob)" -m x
    assert_failure 78
    assert_output "xmpp send: $CFG:4: [default]: both password and password_cmd; keep one"
    printf '[default]\nca_file =\n' | write_config
    run "$XMPP" send "$(jid_of bob)" -m x
    assert_failure 78
    assert_output "xmpp send: $CFG:2: [default]: ca_file is empty"
}

@test "config: errors about a setting name its source: config line, variable or option" {
    alice_section /nonexistent/ca.pem | write_config
    run "$XMPP" send "$(jid_of bob)" -m x
    assert_failure 66
    assert_output "xmpp send: $CFG:5: ca_file /nonexistent/ca.pem: No such file or directory"
    XMPP_CA_FILE=/nonexistent/env.pem run "$XMPP" send "$(jid_of bob)" -m x
    assert_failure 66
    assert_output "xmpp send: XMPP_CA_FILE /nonexistent/env.pem: No such file or directory"
    XMPP_CA_FILE=/nonexistent/env.pem run "$XMPP" send --ca-file /nonexistent/opt.pem "$(jid_of bob)" -m x
    assert_failure 66
    assert_output "xmpp send: --ca-file /nonexistent/opt.pem: No such file or directory"
    # a wrong password says where it came from
    sed -i "s|^ca_file = .*|ca_file = $XS_CA|; s|^password = .*|password = wrong|" "$CFG"
    run "$XMPP" send "$(jid_of bob)" -m x
    assert_failure 77
    assert_output "xmpp send: authentication failed for alice@localhost: check the password ($CFG:3: password)"
}

# ---- the environment ----

@test "config: XMPP_SERVER, XMPP_CA_FILE and XMPP_RESOURCE stand in for their options" {
    XMPP_JID=$(jid_of alice) XMPP_PASSWORD=$(pass_of alice) \
        XMPP_SERVER="127.0.0.1:$XS_PORT" XMPP_CA_FILE="$XS_CA" \
        XMPP_RESOURCE=from-env run "$XMPP" send "$(jid_of bob)" -m "env only"
    assert_success
    assert_output ""
    run last_from bob
    assert_output "alice@localhost/from-env"
}

@test "config: XMPP_PASSWORD_FILE, XMPP_DIRECT_TLS and XMPP_TIMEOUT are honoured; bad values name the variable" {
    printf '%s\n' "$(pass_of alice)" >"$BATS_TEST_TMPDIR/pw"
    XMPP_PASSWORD_FILE="$BATS_TEST_TMPDIR/pw" XMPP_DIRECT_TLS=yes \
        XMPP_TIMEOUT="$(slow 20)" run "$XMPP" send -j "$(jid_of alice)" \
        --server "127.0.0.1:$XS_TLS_PORT" --ca-file "$XS_CA" "$(jid_of bob)" -m "direct"
    assert_success
    run last_from bob
    assert_output --regexp '^alice@localhost/'
    XMPP_DIRECT_TLS=maybe run xmpp_as alice send "$(jid_of bob)" -m x
    assert_failure 78
    assert_output "xmpp send: XMPP_DIRECT_TLS='maybe' is not true/false"
    XMPP_TIMEOUT=soon run xmpp_as alice send "$(jid_of bob)" -m x
    assert_failure 78
    assert_output "xmpp send: XMPP_TIMEOUT='soon' is not a number of seconds"
    XMPP_SERVER="127.0.0.1:99999" run xmpp_as alice send "$(jid_of bob)" -m x
    # xmpp_as gives --server, which beats XMPP_SERVER: no complaint
    assert_success
    XMPP_SERVER="127.0.0.1:99999" XMPP_JID=$(jid_of alice) XMPP_PASSWORD=x \
        run "$XMPP" send "$(jid_of bob)" -m x
    assert_failure 78
    assert_output "xmpp send: XMPP_SERVER 127.0.0.1:99999: port must be 1-65535"
    XMPP_PASSWORD=x XMPP_PASSWORD_FILE="$BATS_TEST_TMPDIR/pw" \
        run "$XMPP" send -j "$(jid_of alice)" $(server_opts) "$(jid_of bob)" -m x
    assert_failure 78
    assert_output "xmpp send: both XMPP_PASSWORD and XMPP_PASSWORD_FILE give the password; keep one"
    xmpp_as bob recv -n 1 -t "$(slow 10)" >/dev/null
}

@test "config: the environment beats the config, the option beats the environment" {
    local closed
    closed=$(closed_port)
    { alice_section "$XS_CA"; echo "timeout = 0.001"; } | write_config
    # the config's tiny timeout is beaten by XMPP_TIMEOUT
    XMPP_TIMEOUT="$(slow 20)" run "$XMPP" send "$(jid_of bob)" -m "env timeout"
    assert_success
    # XMPP_SERVER replaces the config's server and port
    XMPP_TIMEOUT="$(slow 20)" XMPP_SERVER="127.0.0.1:$closed" run "$XMPP" send "$(jid_of bob)" -m x
    assert_failure 69
    assert_output --partial "127.0.0.1:$closed"
    # and --server beats XMPP_SERVER
    XMPP_TIMEOUT="$(slow 20)" XMPP_SERVER="127.0.0.1:$closed" run "$XMPP" send \
        --server "127.0.0.1:$XS_PORT" "$(jid_of bob)" -m "option server"
    assert_success
    # the config's timeout holds when nothing beats it
    run "$XMPP" send "$(jid_of bob)" -m x
    assert_failure 75
    xmpp_as bob recv -n 2 -t "$(slow 10)" >/dev/null
}

# ---- passwords, as sendxmpp users give them ----

@test "config: -p and --password say where passwords go (64), never echoing one" {
    run "$XMPP" send -p s3cret "$(jid_of bob)" -m x
    assert_failure 64
    assert_output "xmpp send: -p: no password on the command line, where ps shows it to everyone; use --password-file FILE (or - for stdin), --password-cmd CMD, XMPP_PASSWORD or the config file"
    run "$XMPP" send --password=s3cret "$(jid_of bob)" -m x
    assert_failure 64
    assert_output --partial "xmpp send: --password: no password on the command line"
    refute_output --partial s3cret
    run "$XMPP" roster list --pwd s3cret
    assert_failure 64
    assert_output --partial "xmpp roster: --pwd: no password on the command line"
}

@test "config: --password-file - reads the password from stdin" {
    run "$XMPP" send -j "$(jid_of alice)" --password-file - $(server_opts) \
        "$(jid_of bob)" -m "password on stdin" <<<"$(pass_of alice)"
    assert_success
    assert_output ""
    run last_from bob
    assert_output --regexp '^alice@localhost/'
}

@test "config: --password-file - and a message from stdin are refused together (64)" {
    run "$XMPP" send -j "$(jid_of alice)" --password-file - $(server_opts) \
        "$(jid_of bob)" <<<"$(pass_of alice)"
    assert_failure 64
    assert_output "xmpp send: --password-file - reads the password from stdin, so the input cannot come from stdin too; give it as an argument or a file"
    run "$XMPP" send --lines -j "$(jid_of alice)" --password-file - $(server_opts) \
        "$(jid_of bob)" <<<"$(pass_of alice)"
    assert_failure 64
    assert_output --partial "--password-file - reads the password from stdin"
    run "$XMPP" shell -j "$(jid_of alice)" --password-file - $(server_opts) \
        <<<"$(pass_of alice)"
    assert_failure 64
    XMPP_PASSWORD_FILE=- run "$XMPP" send -j "$(jid_of alice)" $(server_opts) \
        "$(jid_of bob)" -m x
    assert_failure 78
    assert_output --partial "XMPP_PASSWORD_FILE=-: stdin only on the command line"
}

@test "config: on a terminal with no password anywhere, xmpp asks for one without echo" {
    local pw
    pw=$(pass_of alice)
    run on_tty "$pw" "$XMPP" send -j "$(jid_of alice)" $(server_opts) \
        "$(jid_of bob)" -m "typed password"
    assert_success
    assert_output "Password for alice@localhost: "
    refute_output --partial "$pw"
    run last_from bob
    assert_output --regexp '^alice@localhost/'
    # a wrong one is named as typed at the prompt (with a state directory
    # of its own: the FAST token of the login above would log in)
    XDG_STATE_HOME="$BATS_TEST_TMPDIR/fresh" \
        run on_tty wrong "$XMPP" send -j "$(jid_of alice)" $(server_opts) \
        "$(jid_of bob)" -m x
    assert_failure 77
    assert_line "xmpp send: authentication failed for alice@localhost: check the password (typed at the prompt)"
    # not a terminal: no prompt, the usual error
    run "$XMPP" send -j "$(jid_of alice)" $(server_opts) "$(jid_of bob)" -m x </dev/null
    assert_failure 78
    refute_output --partial "Password for"
}

# ---- xmpp config import ----

@test "config import: a sendxmpprc with comments, blanks and odd spacing becomes a section that logs in" {
    cat >"$HOME/.sendxmpprc" <<RC
# sendxmpp account

   # an indented comment
	$(jid_of alice);127.0.0.1:$XS_PORT    $(pass_of alice)   
RC
    chmod 600 "$HOME/.sendxmpprc"
    run "$XMPP" config import
    assert_success
    assert_output "default${TAB}alice@localhost${TAB}$CFG"
    run stat -c %a "$CFG"
    assert_output 600
    run cat "$CFG"
    assert_output "[default]
; imported from $HOME/.sendxmpprc
jid = alice@localhost
server = 127.0.0.1:$XS_PORT
password = $(pass_of alice)"
    # the test server's certificate is self-signed: trust it from the env
    XMPP_CA_FILE=$XS_CA run "$XMPP" send "$(jid_of bob)" -m "imported"
    assert_success
    run last_from bob
    assert_output --regexp '^alice@localhost/'
}

@test "config import: a go-sendxmpp config (username, jserver, port, eval_password, alias) logs in" {
    mkdir -p "$XDG_CONFIG_HOME/go-sendxmpp"
    printf '%s\n' "$(pass_of carol)" >"$BATS_TEST_TMPDIR/pw"
    cat >"$XDG_CONFIG_HOME/go-sendxmpp/config" <<RC
username: $(jid_of carol)
jserver: 127.0.0.1
port: $XS_PORT
eval_password: cat $BATS_TEST_TMPDIR/pw
alias: carol-bot
RC
    # no ~/.sendxmpprc: go-sendxmpp's file is the default
    run "$XMPP" config import -a go
    assert_success
    assert_output "go${TAB}carol@localhost${TAB}$CFG"
    run cat "$CFG"
    assert_output "[go]
; imported from $XDG_CONFIG_HOME/go-sendxmpp/config
jid = carol@localhost
server = 127.0.0.1:$XS_PORT
password_cmd = cat $BATS_TEST_TMPDIR/pw
nick = carol-bot"
    XMPP_CA_FILE=$XS_CA run "$XMPP" send -a go "$(jid_of bob)" -m "from go"
    assert_success
    run last_from bob
    assert_output --regexp '^carol@localhost/'
}

@test "config import: sendxmpp 1.24 keys with a local username, and a password INI cannot hold" {
    cat >"$BATS_TEST_TMPDIR/rc" <<RC
username:   dave
jserver: 127.0.0.1
port:$XS_PORT
component: $XS_DOMAIN
password: $(pass_of dave)
tls: 1
RC
    run --separate-stderr "$XMPP" config import -a d "$BATS_TEST_TMPDIR/rc"
    assert_success
    assert_output "d${TAB}dave@localhost${TAB}$CFG"
    [ "$stderr" = "xmpp config: $BATS_TEST_TMPDIR/rc:6: 'tls' is not imported" ]
    XMPP_CA_FILE=$XS_CA run "$XMPP" send -a d "$(jid_of bob)" -m "from d"
    assert_success
    run last_from bob
    assert_output --regexp '^dave@localhost/'
    # ' ;' would start a comment and blanks would be trimmed: a file then
    printf 'username: x@localhost\npassword: a ;b  \n' >"$BATS_TEST_TMPDIR/rc2"
    run "$XMPP" config import -a semi "$BATS_TEST_TMPDIR/rc2" --json
    assert_success
    assert_output "{\"section\":\"semi\",\"jid\":\"x@localhost\",\"from\":\"$BATS_TEST_TMPDIR/rc2\",\"config\":\"$CFG\"}"
    run grep -A3 '^\[semi\]' "$CFG"
    assert_line "password_file = $XDG_CONFIG_HOME/xmpp/semi.password"
    run cat -A "$XDG_CONFIG_HOME/xmpp/semi.password"
    assert_output 'a ;b  $'
    run stat -c %a "$XDG_CONFIG_HOME/xmpp/semi.password"
    assert_output 600
}

@test "config import: an existing section is never replaced, a bad line or file is refused" {
    printf 'a@localhost pw\n' >"$BATS_TEST_TMPDIR/rc"
    printf '[default]\njid = b@localhost\n' | write_config
    run "$XMPP" config import "$BATS_TEST_TMPDIR/rc"
    assert_failure 78
    assert_output "xmpp config: $CFG already has a section [default]; name this one with -a NAME"
    run cat "$CFG"
    assert_output $'[default]\njid = b@localhost'
    printf 'a@localhost pw\nnot an account line\n' >"$BATS_TEST_TMPDIR/rc"
    run "$XMPP" config import -a x "$BATS_TEST_TMPDIR/rc"
    assert_failure 65
    assert_output "xmpp config: $BATS_TEST_TMPDIR/rc:2: neither 'key: value' nor 'user@server password [domain]'"
    printf 'password: x\n' >"$BATS_TEST_TMPDIR/rc"
    run "$XMPP" config import -a x "$BATS_TEST_TMPDIR/rc"
    assert_failure 65
    assert_output "xmpp config: $BATS_TEST_TMPDIR/rc: no account in it (username)"
    run "$XMPP" config import -a x "$BATS_TEST_TMPDIR/nonexistent"
    assert_failure 66
    run "$XMPP" config import
    assert_failure 66
    assert_output --partial "give the FILE to import"
    run "$XMPP" config import -a 'a]b' "$BATS_TEST_TMPDIR/rc"
    assert_failure 64
    printf '[default\n' | write_config
    printf 'a@localhost pw\n' >"$BATS_TEST_TMPDIR/rc"
    run "$XMPP" config import -a y "$BATS_TEST_TMPDIR/rc"
    assert_failure 78
    assert_output --partial "$CFG:1: syntax error"
    # a missing password is imported as none (the prompt or the env gives it)
    rm "$CFG"
    printf '  a@localhost   \n' >"$BATS_TEST_TMPDIR/rc"
    run --separate-stderr "$XMPP" config import "$BATS_TEST_TMPDIR/rc"
    assert_success
    [ "$stderr" = "xmpp config: $BATS_TEST_TMPDIR/rc:1: no password on the line" ]
    run cat "$CFG"
    assert_output "[default]
; imported from $BATS_TEST_TMPDIR/rc
jid = a@localhost"
}
