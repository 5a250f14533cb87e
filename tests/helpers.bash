# Shared by every tests/*.bats: a real server per test file (Prosody, or
# ejabberd with XS_IMPL=ejabberd), started in setup_file and stopped by
# PID in teardown_file (which bats runs even when tests fail), and short
# ways to run xmpp as one of its users.
#
#   setup_file()    { server_up; }
#   teardown_file() { server_down; }
#
#   xmpp_as alice send bob@localhost -m hi   # xmpp TOOL as alice
#   run xmpp_as bob recv -n 1 -t 10
#   pass_of alice                             # alice's password
#   new_user erin                             # one more, fresh account
#   require_server prosody "reads Prosody's offline store"
#
# Users alice, bob, carol and dave exist on every server. $XMPP is the
# binary under test: ./xmpp, or what `make check` puts in XMPP_UNDER_TEST
# (the sanitizer build, or tests/valgrind-xmpp).

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
bats_require_minimum_version 1.5.0 # run --separate-stderr, run -N

XMPP="${XMPP_UNDER_TEST:-$(cd "$BATS_TEST_DIRNAME/.." && pwd)/xmpp}"

# Login state (common/auth/state.h) per test: a FAST token from an
# earlier test would log in whatever the password (that is what a token
# is for), and a pin or a remembered offer would carry one test's server
# over to the next. login.bats and auth.bats test that state itself.
[ -z "${BATS_TEST_TMPDIR:-}" ] || export XDG_STATE_HOME="$BATS_TEST_TMPDIR/state"
SERVER="$BATS_TEST_DIRNAME/server"
TEST_USERS="alice bob carol dave"

server_up() {
    export XS_STATE="$BATS_FILE_TMPDIR/server"
    # shellcheck disable=SC2086
    "$SERVER" start "$XS_STATE" $TEST_USERS
    set -a
    # shellcheck disable=SC1091
    . "$XS_STATE/env"
    set +a
    # No user config, environment or XDG state leaks into a test (the
    # state directory is the file's in setup_file, each test's in a test:
    # see the top of this file).
    export XDG_CONFIG_HOME="$BATS_FILE_TMPDIR/config"
    export XDG_STATE_HOME="$BATS_FILE_TMPDIR/state"
    unset XMPP_JID XMPP_PASSWORD XMPP_ACCOUNT
}

server_down() {
    [ -n "${XS_STATE:-}" ] && "$SERVER" stop "$XS_STATE"
}

# libstrophe_leaks_ok: for a test that cuts streams mid-handshake on
# purpose, where libstrophe itself leaks (tests/lsan-libstrophe.supp).
# Only that test's runs lose ASan's leak check inside libstrophe.
libstrophe_leaks_ok() {
    export LSAN_OPTIONS="suppressions=$BATS_TEST_DIRNAME/lsan-libstrophe.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
}

# require_server IMPL REASON: skip this test unless the suite's server is
# IMPL (prosody or ejabberd). Only for tests that are about one server's
# internals (its data files, its admin tool), never to hide a difference
# in behaviour that users would meet: handle that in the test.
require_server() {
    local impl=$1 why=$2
    [ "${XS_IMPL:-prosody}" = "$impl" ] || skip "$impl only: $why"
}

# other_server UPLOAD: a second server, alice and bob on it, with its
# upload service varied (XS_UPLOAD, see tests/server); its env replaces
# the file's server's. The test file's teardown stops it:
# [ -z "${OTHER:-}" ] || "$SERVER" stop "$OTHER"
other_server() {
    OTHER="$BATS_TEST_TMPDIR/other"
    XS_UPLOAD=$1 "$SERVER" start "$OTHER" alice bob
    set -a
    # shellcheck disable=SC1091
    . "$OTHER/env"
    set +a
}

# new_user NAME: a fresh account on this file's server, for tests that
# need one nobody else touched. pass_of and xmpp_as work with it.
new_user() {
    local pass
    pass=$("$SERVER" adduser "$XS_STATE" "$1") || return 1
    export "XS_PASS_$1=$pass"
}

# What the suite's server calls itself (disco identity, jabber:iq:version)
# and a regular expression for its version, for tests that name it.
server_software() {
    case ${XS_IMPL:-prosody} in
    prosody) echo Prosody ;;
    ejabberd) echo ejabberd ;;
    esac
}

server_version_re() {
    case ${XS_IMPL:-prosody} in
    prosody) echo '0\.12\.[0-9]+' ;;
    ejabberd) echo '24\.12(-[0-9A-Za-z.+~]+)?' ;;  # Debian's: 24.12-3~bpo12+1
    esac
}

TAB=$'\t'

# slow SECONDS: SECONDS times XS_SLOW (scripts/check sets 5 for the
# valgrind run, where connecting alone takes a second or more): for the
# deadlines and intervals a test's outcome depends on.
slow() {
    awk -v n="$1" -v k="${XS_SLOW:-1}" 'BEGIN { print n * k }'
}

# A stanza error's optional human text, as servers differ in giving one
# (ejabberd: "(User session not found)"): append to an error regexp.
ERR_TEXT='( \([^)]*\))?'

# What text recv writes after the type of a message from offline storage
# or room history (XEP-0203), as a regexp.
DELAYED=' \[delay: [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z\]'

# Characters a terminal acts on, as UTF-8 bytes (what printf '\u...'
# gives depends on the locale): U+009B CSI, a C1 control, and U+202E
# RIGHT-TO-LEFT OVERRIDE, a bidirectional control.
CSI=$'\xc2\x9b'
RLO=$'\xe2\x80\xae'

pass_of() {
    local var="XS_PASS_$1"
    printf '%s' "${!var}"
}

jid_of() {
    printf '%s@%s' "$1" "$XS_DOMAIN"
}

# The options that point a tool at the test server, trusting its cert.
server_opts() {
    printf '%s\n' --server "127.0.0.1:$XS_PORT" --ca-file "$XS_CA"
}

# xmpp_as USER TOOL [ARGS...]: run a tool logged in as USER. The password
# travels in the environment, never in argv.
xmpp_as() {
    local user=$1 tool=$2 conn=()
    shift 2
    given --server "$@" || conn+=(--server "127.0.0.1:$XS_PORT")
    given --ca-file "$@" || conn+=(--ca-file "$XS_CA")
    XMPP_PASSWORD="$(pass_of "$user")" "$XMPP" "$tool" -j "$(jid_of "$user")" \
        "${conn[@]}" "$@"
}

# given FLAG ARGS...: is FLAG among the options in ARGS? The helpers
# leave out their own default then: an option given twice is an error.
given() {
    local flag=$1 a
    shift
    for a in "$@"; do
        [ "$a" = -- ] && return 1
        [[ $a == "$flag" || $a == "$flag"=* ]] && return 0
    done
    return 1
}

# recv_bg USER OUT [ARGS...]: start `xmpp recv` as USER in the background,
# output to OUT (stderr, with the -v XML console, to OUT.err), and wait
# until the server has taken its presence (the server echoes it back,
# RFC 6121 §4.2.2) or, with --no-presence, until its resource is bound:
# from then on a message to the bare (or full) JID reaches it live.
# Sets RECV_PID.
recv_bg() {
    local user=$1 out=$2 ready='RECV: <presence'
    shift 2
    [[ " $* " == *" --no-presence "* ]] && ready='RECV: <iq'
    # Not through xmpp_as: $! must be xmpp itself, so that killing it
    # stops it; and fd 3 closed, or bats waits for it at the end.
    XMPP_PASSWORD="$(pass_of "$user")" "$XMPP" recv -j "$(jid_of "$user")" \
        --server "127.0.0.1:$XS_PORT" --ca-file "$XS_CA" -v "$@" \
        >"$out" 2>"$out.err" 3>&- &
    RECV_PID=$!
    if ! wait_for "$out.err" "$ready" 10; then
        cat "$out.err" >&2
        return 1
    fi
}

# stop_bg PID: end a background process of the test (if still running).
stop_bg() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# drain USER: read and drop whatever waits in USER's offline storage.
drain() {
    xmpp_as "$1" recv --idle 0.3 -t 10 >/dev/null 2>&1 || true
}

# drain_if_failed USER...: for teardown(): after a failed test, drop what
# it may have left in these users' offline storage, so that one failure
# does not turn the tests after it into failures too.
drain_if_failed() {
    [ -n "${BATS_TEST_COMPLETED:-}" ] && return 0
    local u
    for u in "$@"; do drain "$u"; done
}

# closed_port: a 127.0.0.1 port nothing listens on, for a test to bind
# or to find closed; no other test file running in parallel takes it
# (tests/server claims it for this file's server, or for the file).
closed_port() {
    "$SERVER" port "${XS_STATE:-$BATS_FILE_TMPDIR}"
}

# wait_for FILE PATTERN [SECONDS]: until FILE holds a line matching PATTERN
# (SECONDS scaled by slow, for the valgrind run).
wait_for() {
    local file=$1 pattern=$2 secs i
    secs=$(slow "${3:-10}")
    secs=${secs%.*}
    for i in $(seq 1 $((secs * 20))); do
        grep -q -- "$pattern" "$file" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# hostile MODE [ARG...]: start the scripted hostile server in the
# background (tests/hostile.py, see its top comment for the modes); sets
# HOSTILE_PORT, HOSTILE_PID and HOSTILE_LOG (what it did, a line a step).
# A file that uses it stops it in teardown: stop_bg "$HOSTILE_PID".
hostile() {
    HOSTILE_LOG="$BATS_TEST_TMPDIR/hostile.log"
    "$BATS_TEST_DIRNAME/hostile.py" "$@" >"$HOSTILE_LOG" 2>&1 3>&- &
    HOSTILE_PID=$!
    wait_for "$HOSTILE_LOG" '^listening' 10 || { cat "$HOSTILE_LOG" >&2; return 1; }
    HOSTILE_PORT=$(sed -n 's/^listening //p' "$HOSTILE_LOG")
}

# wait_port PORT: until something listens on 127.0.0.1:PORT (5 s).
wait_port() {
    local _
    for _ in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# wait_lines FILE N [SECONDS]: until FILE has at least N lines (SECONDS
# scaled by slow).
wait_lines() {
    local file=$1 n=$2 secs i
    secs=$(slow "${3:-10}")
    secs=${secs%.*}
    for i in $(seq 1 $((secs * 20))); do
        [ "$(wc -l <"$file" 2>/dev/null || echo 0)" -ge "$n" ] && return 0
        sleep 0.05
    done
    return 1
}

# xmpp_component TOOL [ARGS...]: run a tool as the suite's XEP-0114
# component, as $COMPONENT (default component.$XS_DOMAIN; an address
# inside it, like alerts@component.localhost, sends from that address).
xmpp_component() {
    local tool=$1 secret="$BATS_FILE_TMPDIR/component.secret" conn=()
    shift
    printf '%s\n' "$XS_COMP_SECRET" >"$secret"
    given --server "$@" || conn+=(--server "127.0.0.1:$XS_COMP_PORT")
    "$XMPP" "$tool" --component "${COMPONENT:-component.$XS_DOMAIN}" \
        --secret-file "$secret" "${conn[@]}" "$@"
}

# shell_bg USER OUT [ARGS...]: start `xmpp shell -v` as USER in the
# background with its stdin on a pipe that the test writes with
# `shell_in LINE...`; it sends <presence/> and is waited for. Output to
# OUT, stderr to OUT.err. `shell_stop` closes its stdin and waits for it
# (its status in SHELL_STATUS). Useful as a peer that answers no IQ.
shell_bg() {
    local user=$1 out=$2 fifo="$BATS_TEST_TMPDIR/shell.in.$RANDOM"
    shift 2
    mkfifo "$fifo"
    xmpp_as "$user" shell -v "$@" <"$fifo" >"$out" 2>"$out.err" 3>&- &
    SHELL_PID=$!
    exec {SHELL_FD}>"$fifo"
    shell_in '<presence/>'
    if ! wait_for "$out.err" "SENT: <presence" 10; then
        cat "$out.err" >&2
        return 1
    fi
}

shell_in() {
    printf '%s\n' "$@" >&"$SHELL_FD"
}

shell_stop() {
    exec {SHELL_FD}>&-
    SHELL_STATUS=0
    wait "$SHELL_PID" || SHELL_STATUS=$?
}

# failing_alloc RANGE COMMAND...: run COMMAND (xmpp_as ... will do) with
# every allocation of RANGE bytes (MIN, or MIN-MAX) failing, as when
# memory runs out: tests/failalloc.c, preloaded, built once per file.
failing_alloc() {
    local range=$1 so="$BATS_FILE_TMPDIR/failalloc.so"
    shift
    [ -e "$so" ] || cc -shared -fPIC -O2 -Wl,-soname,libxmppfailalloc.so \
        -o "$so" "$BATS_TEST_DIRNAME/failalloc.c" -ldl || return 1
    # AddressSanitizer wants to be first, and valgrind replaces malloc in
    # every library it can: both are told to let the shim be.
    XMPP_FAIL_ALLOC=$range LD_PRELOAD=$so \
        ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
        VALGRIND_OPTS="--soname-synonyms=somalloc=nouserintercepts" "$@"
}
