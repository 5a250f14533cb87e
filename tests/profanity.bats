#!/usr/bin/env bats
# OMEMO 0.3 against a real client: Debian's profanity (its OMEMO is
# libsignal-protocol-c), run in a tmux session of its own and driven with
# send-keys; what it shows is read with capture-pane. One exchange each
# way, on fresh accounts, profanity with its own HOME and XDG dirs and
# trusting only the suite's CA.

load helpers

setup_file() {
    server_up
    export XDG_DATA_HOME="$BATS_FILE_TMPDIR/data"
}
teardown_file() { server_down; }

setup() {
    U1="a$BATS_TEST_NUMBER" U2="p$BATS_TEST_NUMBER"
    new_user "$U1"
    new_user "$U2"
    # A tmux server of this test's own; its socket goes with the tmpdir.
    TMUX_SOCK="$BATS_TEST_TMPDIR/tmux"
}
teardown() {
    tmux -S "$TMUX_SOCK" kill-server 2>/dev/null || true
}

# profanity_up USER: profanity logged in as USER (resource "prof").
profanity_up() {
    local user=$1 home="$BATS_TEST_TMPDIR/prof"
    mkdir -p "$home/config/profanity" "$home/data/profanity" "$home/ca"
    # An OpenSSL CA directory (libstrophe's capath) holding only the
    # suite's CA; tls.policy=force, so a certificate it does not vouch
    # for stops at profanity's "/tls allow" prompt.
    ln -s "$XS_CA" "$home/ca/$(openssl x509 -hash -noout -in "$XS_CA").0"
    printf '[connection]\ntls.certpath=%s\n' "$home/ca" \
        >"$home/config/profanity/profrc"
    (
        umask 077
        cat >"$home/data/profanity/accounts" <<EOF
[$(jid_of "$user")]
enabled=true
jid=$(jid_of "$user")
server=127.0.0.1
port=$XS_PORT
password=$(pass_of "$user")
tls.policy=force
resource=prof
EOF
    )
    tmux -S "$TMUX_SOCK" -f /dev/null new-session -d -x 200 -y 50 \
        env -i PATH=/usr/bin:/bin HOME="$home" XDG_CONFIG_HOME="$home/config" \
        XDG_DATA_HOME="$home/data" TERM=xterm-256color LANG=C.UTF-8 \
        profanity -l DEBUG -a "$(jid_of "$user")"
    pane_wait "$(jid_of "$user")/prof logged in successfully" 30
    # Until the server's disco#info is in, profanity publishes its bundle
    # without publish-options ("Cannot publish bundle: no PUBSUB feature
    # announced" in its log); on ejabberd the node then stays readable
    # only by contacts, and profanity's repair (reconfiguring the node)
    # submits the form unchanged. Its debug log is the one sign.
    wait_for "$home/data/profanity/logs/profanity.log" \
        "Received disco#info response from: $XS_DOMAIN\$" 30 || {
        echo "profanity never logged the server's disco#info" >&2
        return 1
    }
}

# profanity_omemo USER: profanity generates its OMEMO keys and publishes
# its device; returns once our side sees that device with its bundle.
profanity_omemo() {
    local user=$1 dev secs
    # Prosody 0.12 answers profanity's request for its own (not yet
    # existing) device list with item-not-found but without the legacy
    # code="404", which profanity 0.13 alone takes for "no list yet": it
    # then never publishes its device ("[OMEMO] can't get OMEMO device
    # list" in its log). ejabberd adds the code. On Prosody the account
    # starts with an empty device list, as another client may leave one.
    if [ "${XS_IMPL:-prosody}" = prosody ]; then
        xmpp_as "$user" pubsub publish eu.siacs.conversations.axolotl.devicelist \
            '<list xmlns="eu.siacs.conversations.axolotl"/>' --id current \
            --field pubsub#access_model=open >/dev/null
    fi
    keys '/omemo gen'
    pane_wait 'Your Device ID is [0-9]+' 30
    dev=$(pane | sed -n 's/.*Your Device ID is \([0-9]*\).*/\1/p' | head -n 1)
    pane_wait "Going to publish own device ID: $dev" 30
    secs=$(slow 30)
    for _ in $(seq 1 $((${secs%.*} * 4))); do
        xmpp_as "$U1" omemo devices "$(jid_of "$user")" 2>/dev/null |
            grep -qE "^$dev${TAB}blind${TAB}$FPR_RE${TAB}omemo\$" && return 0
        sleep 0.25
    done
    echo "profanity's device $dev never showed in $(jid_of "$user")'s list" >&2
    return 1
}

FPR_RE='[0-9a-f]{8}( [0-9a-f]{8}){7}'

# What profanity shows now.
pane() { tmux -S "$TMUX_SOCK" capture-pane -p -J; }

# pane_wait REGEXP [SECONDS]: until profanity shows a line matching
# REGEXP (SECONDS scaled by slow); else print what it shows and fail.
pane_wait() {
    local re=$1 secs
    secs=$(slow "${2:-10}")
    for _ in $(seq 1 $((${secs%.*} * 10))); do
        pane | grep -qE -- "$re" && return 0
        sleep 0.1
    done
    echo "profanity never showed /$re/; it shows:" >&2
    pane >&2
    return 1
}

# keys LINE: type LINE into profanity and press Enter.
keys() {
    tmux -S "$TMUX_SOCK" send-keys -l -- "$1"
    tmux -S "$TMUX_SOCK" send-keys Enter
}

@test "profanity: decrypts what send --omemo sends it" {
    profanity_up "$U2"
    profanity_omemo "$U2"
    run xmpp_as "$U1" send --omemo "$(jid_of "$U2")" -m "hello profanity é"
    assert_success
    pane_wait "<< chat message: $(jid_of "$U1")/[^ ]+ \(win 2\)"
    keys '/win 2'
    # "~" is profanity's mark of a message that came OMEMO encrypted.
    pane_wait "^[0-9:]{8} ~ $(jid_of "$U1")/[^:]+: hello profanity é *\$"
    run pane
    refute_output --partial "This message is OMEMO encrypted"
}

@test "profanity: recv decrypts what it sends with /omemo start" {
    xmpp_as "$U1" omemo publish >/dev/null
    profanity_up "$U2"
    profanity_omemo "$U2"
    # Blind trust, as ours: profanity encrypts for our device unverified.
    keys '/omemo trustmode blind'
    keys "/msg $(jid_of "$U1")"
    pane_wait "^ $(jid_of "$U1") "
    keys '/omemo start'
    pane_wait "^ $(jid_of "$U1") .*\[OMEMO\]"
    recv_bg "$U1" "$BATS_TEST_TMPDIR/out" -n 1 --json -t "$(slow 30)"
    keys 'hello xmpp ü'
    pane_wait "^[0-9:]{8} ~ me: hello xmpp ü *\$"
    wait "$RECV_PID"
    run jq -c '[.from, .body, .encrypted, .trust]' "$BATS_TEST_TMPDIR/out"
    assert_output "[\"$(jid_of "$U2")/prof\",\"hello xmpp ü\",\"omemo\",\"blind\"]"
}
