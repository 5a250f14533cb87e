#!/usr/bin/env bats
# OMEMO (XEP-0384 v0.3 and, for OMEMO 2, v0.8): `xmpp omemo`,
# `send --omemo` and decryption in `recv`, against an implementation
# that is not ours: Syndace's python-omemo with its OMEMO 0.3 backend
# and, with PEER_GENS, its OMEMO 2 one (tests/omemo_peer.py).
# Every test takes fresh accounts, so that no key state is shared.

load helpers

setup_file() {
    server_up
    export XDG_DATA_HOME="$BATS_FILE_TMPDIR/data"
}
teardown_file() { server_down; }
teardown() {
    [ -z "${OTHER:-}" ] || "$SERVER" stop "$OTHER"
}

setup() {
    export PEER_STATE="$BATS_TEST_TMPDIR"
    U1="a$BATS_TEST_NUMBER" U2="b$BATS_TEST_NUMBER"
    new_user "$U1"
    new_user "$U2"
}

# peer MODE USER ARGS...: tests/omemo_peer.py as USER.
peer() {
    local mode=$1 user=$2
    shift 2
    PEER_PASSWORD=$(pass_of "$user") PEER_DEADLINE=$(slow 30) \
        /usr/bin/python3 "$BATS_TEST_DIRNAME/omemo_peer.py" "$mode" \
        "$(jid_of "$user")" "$@"
}

# peer_recv_bg USER COUNT: the peer waiting for COUNT messages, its
# output in $BATS_TEST_TMPDIR/peer. Sets PEER_PID.
peer_recv_bg() {
    peer recv "$1" "$2" >"$BATS_TEST_TMPDIR/peer" \
        2>"$BATS_TEST_TMPDIR/peer.err" 3>&- &
    PEER_PID=$!
    wait_for "$BATS_TEST_TMPDIR/peer.err" '^ready$' 30
}

store_of() {
    printf '%s/xmpp/omemo/%s.db' "$XDG_DATA_HOME" "$(jid_of "$1")"
}

FPR_RE='[0-9a-f]{8}( [0-9a-f]{8}){7}'

@test "omemo: publish makes an identity in a 0600 store; fingerprint repeats it" {
    run --separate-stderr xmpp_as "$U1" omemo publish
    assert_success
    assert_output --regexp "^[0-9]+${TAB}${FPR_RE}\$"
    local dev=${output%%"$TAB"*} fpr=${output#*"$TAB"}
    run stat -c %a "$(store_of "$U1")" "$XDG_DATA_HOME/xmpp/omemo"
    assert_output $'600\n700'
    run xmpp_as "$U1" omemo fingerprint
    assert_success
    assert_output "$fpr"
    # A second publish keeps the identity.
    run xmpp_as "$U1" omemo publish --json
    assert_success
    assert_output "{\"jid\":\"$(jid_of "$U1")\",\"device\":$dev,\"fingerprint\":\"$fpr\"}"
}

@test "omemo: fingerprint before any publish says what to do (66)" {
    run --separate-stderr xmpp_as "$U1" omemo fingerprint
    assert_failure 66
    assert_equal "$stderr" "xmpp omemo: no OMEMO keys for $(jid_of "$U1") yet; run 'xmpp omemo publish'"
}

@test "omemo: devices shows another account's device, key and blind trust" {
    xmpp_as "$U1" omemo publish >"$BATS_TEST_TMPDIR/id"
    run xmpp_as "$U2" omemo devices "$(jid_of "$U1")"
    assert_success
    assert_output "$(cut -f1 "$BATS_TEST_TMPDIR/id")${TAB}blind${TAB}$(cut -f2 "$BATS_TEST_TMPDIR/id")${TAB}omemo,omemo2"
    run xmpp_as "$U1" omemo devices --json
    assert_success
    assert_output --regexp '^\{"jid":"'"$(jid_of "$U1")"'","device":[0-9]+,"fingerprint":"'"$FPR_RE"'","trust":"own","own":true,"generations":\["omemo","omemo2"\]\}$'
}

@test "omemo: python-omemo's device shows with the fingerprint it gives" {
    run --separate-stderr peer publish "$U2"
    assert_success
    local dev=${output%%"$TAB"*} hex=${output#*"$TAB"}
    run xmpp_as "$U1" omemo devices "$(jid_of "$U2")"
    assert_success
    assert_output "$dev${TAB}blind${TAB}$(printf '%s' "$hex" | sed 's/.\{8\}/& /g; s/ $//')${TAB}omemo"
}

@test "send --omemo: a recipient without OMEMO is refused (69), nothing sent" {
    run --separate-stderr xmpp_as "$U1" send --omemo "$(jid_of "$U2")" -m secret
    assert_failure 69
    assert_equal "$stderr" "xmpp send: $(jid_of "$U2") announces no OMEMO device; nothing sent (it must enable OMEMO, or send without --omemo)"
    run xmpp_as "$U2" recv --idle "$(slow 1)" -t 10
    assert_success
    assert_output ""
}

@test "send --omemo: python-omemo decrypts the prekey message and the next one" {
    peer_recv_bg "$U2" 2
    run xmpp_as "$U1" send --omemo "$(jid_of "$U2")" -m $'secret é 🎉\nline two'
    assert_success
    run xmpp_as "$U1" send --omemo "$(jid_of "$U2")" -m "second"
    assert_success
    wait "$PEER_PID"
    run cat "$BATS_TEST_TMPDIR/peer"
    assert_output "$(jid_of "$U1")${TAB}secret é 🎉\\nline two
$(jid_of "$U1")${TAB}second"
}

@test "send --omemo: both devices of the recipient decrypt the one message" {
    # Two python-omemo devices of one account, each with keys of its own;
    # the second adds itself to the device list the first published.
    mkdir "$BATS_TEST_TMPDIR/dev1" "$BATS_TEST_TMPDIR/dev2"
    local d i
    for d in dev1 dev2; do
        PEER_STATE="$BATS_TEST_TMPDIR/$d" peer publish "$U2" >"$BATS_TEST_TMPDIR/$d.id"
    done
    run xmpp_as "$U1" omemo devices "$(jid_of "$U2")"
    assert_success
    assert_equal "${#lines[@]}" 2
    local pids=()
    for d in dev1 dev2; do
        PEER_STATE="$BATS_TEST_TMPDIR/$d" peer recv "$U2" 1 >"$BATS_TEST_TMPDIR/$d.out" \
            2>"$BATS_TEST_TMPDIR/$d.err" 3>&- &
        pids+=($!)
        wait_for "$BATS_TEST_TMPDIR/$d.err" '^ready$' 30
    done
    run xmpp_as "$U1" send --omemo "$(jid_of "$U2")" -m "to every device"
    assert_success
    for i in "${pids[@]}"; do wait "$i"; done
    for d in dev1 dev2; do
        assert_equal "$(cat "$BATS_TEST_TMPDIR/$d.out")" "$(jid_of "$U1")${TAB}to every device"
    done
}

@test "send --omemo: nothing readable travels; fallback body and store hint do" {
    peer publish "$U2" >/dev/null
    run xmpp_as "$U1" send --omemo "$(jid_of "$U2")" -m "the-secret-text"
    assert_success
    run xmpp_as "$U2" recv -n 1 -t 10 --xml
    assert_success
    refute_output --partial "the-secret-text"
    assert_output --regexp '<encrypted xmlns="eu.siacs.conversations.axolotl"><header sid="[0-9]+"><key prekey="true" rid="[0-9]+">[A-Za-z0-9+/=]+</key><iv>[A-Za-z0-9+/=]{16}</iv></header><payload>'
    assert_output --partial '<body>This message is OMEMO encrypted.</body>'
    assert_output --partial '<store xmlns="urn:xmpp:hints"/>'
}

# decrypts_json SCHEME: the peer's messages decrypt in recv --json,
# which says encrypted SCHEME and the sender device's trust.
decrypts_json() {
    xmpp_as "$U1" omemo publish >/dev/null
    recv_bg "$U1" "$BATS_TEST_TMPDIR/out" -n 2 --json
    run peer send "$U2" "$(jid_of "$U1")" "first" $'tab\there'
    assert_success
    wait "$RECV_PID"
    run jq -c '[.from, .body, .encrypted, .trust]' "$BATS_TEST_TMPDIR/out"
    assert_output --regexp "^\[\"$(jid_of "$U2")/[^\"]+\",\"first\",\"$1\",\"blind\"\]
\[\"$(jid_of "$U2")/[^\"]+\",\"tab\\\\there\",\"$1\",\"blind\"\]\$"
}

@test "recv: decrypts python-omemo's messages; JSON says encrypted and trust" {
    decrypts_json omemo
}

# converses TAG: a conversation with the peer goes on both ways across
# messages; TAG is what the peer puts before what it decrypts.
converses() {
    xmpp_as "$U1" omemo publish >/dev/null
    recv_bg "$U1" "$BATS_TEST_TMPDIR/out" -n 1
    peer send "$U2" "$(jid_of "$U1")" "hello from python"
    wait "$RECV_PID"
    run cut -f3 "$BATS_TEST_TMPDIR/out"
    assert_output "hello from python"
    peer_recv_bg "$U2" 2
    xmpp_as "$U1" send --omemo "$(jid_of "$U2")" -m "answer 1"
    xmpp_as "$U1" send --omemo "$(jid_of "$U2")" -m "answer 2"
    wait "$PEER_PID"
    run cut -f2 "$BATS_TEST_TMPDIR/peer"
    assert_output "$1answer 1
$1answer 2"
    recv_bg "$U1" "$BATS_TEST_TMPDIR/out2" -n 1
    peer send "$U2" "$(jid_of "$U1")" "and back again"
    wait "$RECV_PID"
    run cut -f3 "$BATS_TEST_TMPDIR/out2"
    assert_output "and back again"
}

@test "omemo: a conversation continues both ways across messages" {
    converses ""
}

@test "recv: a message not for our device is printed with the reason; remove-device" {
    xmpp_as "$U1" omemo publish >"$BATS_TEST_TMPDIR/id1"
    XDG_DATA_HOME="$BATS_TEST_TMPDIR/other" xmpp_as "$U1" omemo publish >"$BATS_TEST_TMPDIR/id2"
    run xmpp_as "$U1" omemo remove-device "$(cut -f1 "$BATS_TEST_TMPDIR/id1")"
    assert_success
    run xmpp_as "$U1" omemo devices
    assert_output "$(cut -f1 "$BATS_TEST_TMPDIR/id2")${TAB}blind${TAB}$(cut -f2 "$BATS_TEST_TMPDIR/id2")${TAB}omemo,omemo2"
    recv_bg "$U1" "$BATS_TEST_TMPDIR/out" -n 1
    peer send "$U2" "$(jid_of "$U1")" "for the other device"
    wait "$RECV_PID"
    run cat "$BATS_TEST_TMPDIR/out"
    assert_output --regexp "^$(jid_of "$U2")/[^$TAB]+${TAB}chat${TAB}\\[OMEMO message not decrypted: not encrypted for this device\\]\$"
    run --separate-stderr xmpp_as "$U1" omemo remove-device 12345
    assert_failure 65
    assert_equal "$stderr" "xmpp omemo: device 12345 is not in our device list"
}

@test "send --omemo --trusted-only: refuses a blindly trusted device (67) until trust" {
    peer publish "$U2" >"$BATS_TEST_TMPDIR/id"
    run --separate-stderr xmpp_as "$U1" send --omemo --trusted-only "$(jid_of "$U2")" -m x
    assert_failure 67
    [[ $(head -n 1 <<<"$stderr") =~ ^xmpp\ send:\ $(jid_of "$U2")\ device\ [0-9]+\ \(${FPR_RE}\)\ is\ not\ verified\;\ not\ encrypting\ for\ it$ ]]
    assert_equal "$(tail -n 1 <<<"$stderr")" "xmpp send: $(jid_of "$U2") has no verified OMEMO device (--trusted-only); nothing sent; verify one with 'xmpp omemo trust'"
    local fpr
    fpr=$(cut -f2 "$BATS_TEST_TMPDIR/id")
    run xmpp_as "$U1" omemo trust "$(jid_of "$U2")" "$fpr"
    assert_success
    run xmpp_as "$U1" omemo devices "$(jid_of "$U2")"
    assert_output --regexp "^[0-9]+${TAB}verified${TAB}"
    peer_recv_bg "$U2" 1
    run xmpp_as "$U1" send --omemo --trusted-only "$(jid_of "$U2")" -m "to the verified"
    assert_success
    wait "$PEER_PID"
    run cut -f2 "$BATS_TEST_TMPDIR/peer"
    assert_output "to the verified"
}

@test "omemo distrust: the device gets nothing; no device left is 69" {
    peer publish "$U2" >"$BATS_TEST_TMPDIR/id"
    xmpp_as "$U1" omemo devices "$(jid_of "$U2")" >/dev/null
    run xmpp_as "$U1" omemo distrust "$(jid_of "$U2")" "$(cut -f2 "$BATS_TEST_TMPDIR/id" | tr a-f A-F)"
    assert_success
    run --separate-stderr xmpp_as "$U1" send --omemo "$(jid_of "$U2")" -m x
    assert_failure 69
    assert_equal "$(tail -n 1 <<<"$stderr")" "xmpp send: $(jid_of "$U2") has no OMEMO device we can encrypt for; nothing sent"
}

@test "omemo trust: an unknown fingerprint is refused (65)" {
    run --separate-stderr xmpp_as "$U1" omemo trust "$(jid_of "$U2")" "$(printf '%064d' 0)"
    assert_failure 65
    assert_equal "$stderr" "xmpp omemo: $(jid_of "$U2"): no device with that fingerprint seen yet; run 'xmpp omemo devices $(jid_of "$U2")' first"
    run --separate-stderr xmpp_as "$U1" omemo trust "$(jid_of "$U2")" nothex
    assert_failure 65
}

@test "send --omemo: a corrupt key store is 78 naming the file; nothing sent" {
    peer publish "$U2" >/dev/null
    mkdir -p "$XDG_DATA_HOME/xmpp/omemo"
    head -c 4096 /dev/urandom >"$(store_of "$U1")"
    run --separate-stderr xmpp_as "$U1" send --omemo "$(jid_of "$U2")" -m x
    assert_failure 78
    assert_equal "$stderr" "xmpp send: $(store_of "$U1"): unusable OMEMO key store (reading: file is not a database); move it away and run 'xmpp omemo publish' to start a new identity"
    run xmpp_as "$U2" recv --idle "$(slow 1)" -t 10
    assert_output ""
}

@test "send --omemo: what would go out in the clear is refused (64)" {
    run --separate-stderr xmpp_as "$U1" send --omemo "$(jid_of "$U2")" -s subj -m x
    assert_failure 64
    assert_equal "$stderr" "xmpp send: --subject would go out in the clear; not with --omemo"
    run --separate-stderr xmpp_as "$U1" send --trusted-only "$(jid_of "$U2")" -m x
    assert_failure 64
    assert_equal "$stderr" "xmpp send: --trusted-only applies to --omemo"
}

@test "send --omemo: 10 runs at once leave a consistent store; all decrypt" {
    peer_recv_bg "$U2" 10
    local i pids=()
    for i in $(seq 1 10); do
        xmpp_as "$U1" send --omemo "$(jid_of "$U2")" -m "parallel $i" -t "$(slow 30)" &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i"; done
    wait "$PEER_PID"
    run sort -V "$BATS_TEST_TMPDIR/peer"
    assert_output "$(for i in $(seq 1 10); do printf '%s\tparallel %s\n' "$(jid_of "$U1")" "$i"; done)"
    run xmpp_as "$U1" omemo devices "$(jid_of "$U2")"
    assert_success
    assert_equal "${#lines[@]}" 1
}

@test "send --omemo: our own other device gets the key too" {
    # The recipient speaks 0.3 only, our other device (xmpp) OMEMO 2 as
    # well: one message with both elements, each with its key.
    peer publish "$U2" >"$BATS_TEST_TMPDIR/id"
    XDG_DATA_HOME="$BATS_TEST_TMPDIR/second" xmpp_as "$U1" omemo publish >"$BATS_TEST_TMPDIR/id2"
    xmpp_as "$U1" send --omemo "$(jid_of "$U2")" -m x
    run xmpp_as "$U2" recv -n 1 -t 10 --xml
    assert_output --regexp "<encrypted xmlns=\"urn:xmpp:omemo:2\"><header sid=\"[0-9]+\"><keys jid=\"$(jid_of "$U1")\"><key kex=\"true\" rid=\"$(cut -f1 "$BATS_TEST_TMPDIR/id2")\">"
    assert_output --regexp "<encrypted xmlns=\"eu.siacs.conversations.axolotl\"><header sid=\"[0-9]+\"><key prekey=\"true\" rid=\"$(cut -f1 "$BATS_TEST_TMPDIR/id")\">"
}

@test "send: omemo = true in the account's config encrypts; trusted_only too" {
    peer publish "$U2" >/dev/null
    mkdir -p "$XDG_CONFIG_HOME/xmpp"
    printf '[enc]\njid = %s\nomemo = true\n' "$(jid_of "$U1")" >"$XDG_CONFIG_HOME/xmpp/config"
    peer_recv_bg "$U2" 1
    run xmpp_as "$U1" send -a enc "$(jid_of "$U2")" -m "by config"
    assert_success
    wait "$PEER_PID"
    run cut -f2 "$BATS_TEST_TMPDIR/peer"
    assert_output "by config"
    printf 'trusted_only = yes\n' >>"$XDG_CONFIG_HOME/xmpp/config"
    run --separate-stderr xmpp_as "$U1" send -a enc "$(jid_of "$U2")" -m x
    assert_failure 67
    printf 'omemo = maybe\n' >>"$XDG_CONFIG_HOME/xmpp/config"
    run --separate-stderr xmpp_as "$U1" send -a enc "$(jid_of "$U2")" -m x
    assert_failure 78
    [[ $stderr == *"[enc]: omemo 'maybe' is not true/false"* ]]
    rm "$XDG_CONFIG_HOME/xmpp/config"
}

@test "send --omemo: several recipients, stdin and --lines" {
    local u3="c$BATS_TEST_NUMBER"
    new_user "$u3"
    xmpp_as "$u3" omemo publish >/dev/null
    peer_recv_bg "$U2" 3
    run xmpp_as "$U1" send --omemo "$(jid_of "$U2")" "$(jid_of "$u3")" <<<"from stdin"
    assert_success
    run xmpp_as "$U1" send --omemo --lines "$(jid_of "$U2")" "$(jid_of "$u3")" <<<$'line 1\nline 2'
    assert_success
    wait "$PEER_PID"
    run cut -f2 "$BATS_TEST_TMPDIR/peer"
    assert_output $'from stdin\nline 1\nline 2'
    run xmpp_as "$u3" recv -n 3 -t 10
    assert_success
    run cut -f3 <<<"$output"
    assert_output $'from stdin\nline 1\nline 2'
}

@test "recv: a used prekey is replaced and the bundle published again" {
    local dev node
    dev=$(xmpp_as "$U1" omemo publish | cut -f1)
    node="eu.siacs.conversations.axolotl.bundles:$dev"
    run xmpp_as "$U2" pubsub items --service "$(jid_of "$U1")" "$node" --xml
    assert_output --partial 'preKeyId="100"'
    refute_output --partial 'preKeyId="101"'
    recv_bg "$U1" "$BATS_TEST_TMPDIR/out" -n 1
    peer send "$U2" "$(jid_of "$U1")" "uses a prekey"
    wait "$RECV_PID"
    run cut -f3 "$BATS_TEST_TMPDIR/out"
    assert_output "uses a prekey"
    run xmpp_as "$U2" pubsub items --service "$(jid_of "$U1")" "$node" --xml
    assert_output --partial 'preKeyId="101"'
    assert_equal "$(grep -o '<preKeyPublic ' <<<"$output" | wc -l)" 100
    # One set of prekeys for both generations: OMEMO 2's bundle too.
    run xmpp_as "$U2" pubsub items --service "$(jid_of "$U1")" urn:xmpp:omemo:2:bundles
    assert_output --partial '<pk id="101">'
    assert_equal "$(grep -o '<pk ' <<<"$output" | wc -l)" 100
}

@test "recv: a contact device whose identity key changed is reported" {
    local dev
    dev=$(XDG_DATA_HOME="$BATS_TEST_TMPDIR/old" xmpp_as "$U2" omemo publish | cut -f1)
    xmpp_as "$U1" omemo publish >/dev/null
    XDG_DATA_HOME="$BATS_TEST_TMPDIR/old" xmpp_as "$U2" send --omemo "$(jid_of "$U1")" -m "old key"
    run xmpp_as "$U1" recv -n 1 -t 10
    assert_output --regexp "${TAB}old key\$"
    # The same device id with a new identity key (a reinstall that kept
    # the id, or an attack).
    XDG_DATA_HOME="$BATS_TEST_TMPDIR/new" xmpp_as "$U2" omemo publish >/dev/null
    /usr/bin/python3 -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE meta SET v = ? WHERE k = ?", (int(sys.argv[2]), "device_id"))
db.commit()' "$BATS_TEST_TMPDIR/new/xmpp/omemo/$(jid_of "$U2").db" "$dev"
    XDG_DATA_HOME="$BATS_TEST_TMPDIR/new" xmpp_as "$U2" omemo publish >/dev/null
    XDG_DATA_HOME="$BATS_TEST_TMPDIR/new" xmpp_as "$U2" send --omemo "$(jid_of "$U1")" -m "new key"
    run --separate-stderr xmpp_as "$U1" recv -n 1 -t 10
    assert_output --regexp "${TAB}new key\$"
    [[ $stderr =~ ^xmpp\ recv:\ $(jid_of "$U2")\ device\ $dev:\ identity\ key\ changed\ from\ ${FPR_RE}\ to\ ${FPR_RE}\;\ verify\ it\ with\ \'xmpp\ omemo\ devices\'$ ]]
}

@test "send --omemo: a malformed bundle or device list is a clear warning, no crash" {
    local ns=eu.siacs.conversations.axolotl open=(--field pubsub#access_model=open --id current)
    xmpp_as "$U2" pubsub publish "$ns.devicelist" \
        "<list xmlns='$ns'><device id='1234'/><device id='0'/><device id='99999999999'/><device id='x'/></list>" "${open[@]}" >/dev/null
    xmpp_as "$U2" pubsub publish "$ns.bundles:1234" \
        "<bundle xmlns='$ns'><signedPreKeyPublic signedPreKeyId='1'>AAAA</signedPreKeyPublic></bundle>" "${open[@]}" >/dev/null
    run --separate-stderr xmpp_as "$U1" send --omemo "$(jid_of "$U2")" -m x
    assert_failure 69
    assert_equal "$stderr" "xmpp send: $(jid_of "$U2") device 1234: no session (a malformed signed prekey); not encrypting for it
xmpp send: $(jid_of "$U2") has no OMEMO device we can encrypt for; nothing sent"
    run xmpp_as "$U1" omemo devices "$(jid_of "$U2")"
    assert_success
    assert_output "1234${TAB}blind${TAB}${TAB}omemo"
}

# repairs SCHEME: the peer's session with us is lost on our side (as a
# restored backup would); the message that cannot be decrypted gets a
# repair (an empty message of that generation starting a new session),
# after which the peer's next message decrypts. SCHEME: what recv --json
# says the messages were.
repairs() {
    xmpp_as "$U1" omemo publish >/dev/null
    recv_bg "$U1" "$BATS_TEST_TMPDIR/out" -n 1
    peer send "$U2" "$(jid_of "$U1")" "before"
    wait "$RECV_PID"
    assert_equal "$(cut -f3 "$BATS_TEST_TMPDIR/out")" "before"
    /usr/bin/python3 -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1]); db.execute("DELETE FROM sessions"); db.commit()' "$(store_of "$U1")"
    recv_bg "$U1" "$BATS_TEST_TMPDIR/out2" -n 1 --json
    peer send "$U2" "$(jid_of "$U1")" "lost"
    wait "$RECV_PID"
    run jq -r '[.encrypted, .decrypt_error, .body] | @tsv' "$BATS_TEST_TMPDIR/out2"
    assert_output --regexp "^$1${TAB}(it uses a prekey we no longer have \\(already used\\)|no session with the sender's device \\(it must start a new one\\))${TAB}\$"
    # The repair waits offline for the sender, whose next message
    # decrypts again.
    recv_bg "$U1" "$BATS_TEST_TMPDIR/out3" -n 1
    peer send "$U2" "$(jid_of "$U1")" "after the repair" 2>"$BATS_TEST_TMPDIR/peer.err"
    grep -q "^omemo_peer: empty message from $(jid_of "$U1")\$" "$BATS_TEST_TMPDIR/peer.err"
    wait "$RECV_PID"
    run cut -f3 "$BATS_TEST_TMPDIR/out3"
    assert_output "after the repair"
}

@test "recv: a broken session is repaired; the sender's next message decrypts" {
    repairs omemo
}

# XEP-0454: the file is AES-256-GCM ciphertext then tag, under the key
# and IV in the URL's fragment (hex: 12 bytes IV, then 32 bytes key).
aesgcm_open() {
    /usr/bin/python3 -c 'import sys
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
frag = bytes.fromhex(sys.argv[1])
data = open(sys.argv[2], "rb").read()
sys.stdout.buffer.write(AESGCM(frag[12:]).decrypt(frag[:12], data, None))' "$@"
}

@test "send --omemo --attach: python-omemo gets the aesgcm:// URL; the file decrypts" {
    other_server https
    local https_ca=$XS_HTTPS_CA url shown
    # ejabberd shows its XMPP certificate on every listener (upload.bats).
    [ "$XS_IMPL" != ejabberd ] || https_ca=$XS_CA
    cat "$XS_CA" "$https_ca" >"$BATS_TEST_TMPDIR/both.pem"
    export XDG_DATA_HOME="$BATS_TEST_TMPDIR/data"
    head -c 100000 /dev/urandom >"$BATS_TEST_TMPDIR/dashboard.png"
    peer_recv_bg bob 1
    run --separate-stderr xmpp_as alice send --omemo "$(jid_of bob)" \
        --attach "$BATS_TEST_TMPDIR/dashboard.png" --ca-file "$BATS_TEST_TMPDIR/both.pem"
    assert_success
    # Printed: where the ciphertext lies, under a random name, no key.
    shown=$output
    assert_regex "$shown" "^https://127\.0\.0\.1:$XS_HTTPS_PORT/.*/[0-9a-f]{24}\.png\$"
    wait "$PEER_PID"
    url=$(cut -f2 "$BATS_TEST_TMPDIR/peer")
    assert_regex "$url" "^aesgcm://127\.0\.0\.1:$XS_HTTPS_PORT/.*/[0-9a-f]{24}\.png#[0-9a-f]{88}\$"
    assert_equal "${url%%#*}" "aesgcm://${shown#https://}"
    curl -sSf --cacert "$https_ca" -o "$BATS_TEST_TMPDIR/cipher" "$shown"
    assert_equal "$(stat -c %s "$BATS_TEST_TMPDIR/cipher")" 100016
    aesgcm_open "${url#*#}" "$BATS_TEST_TMPDIR/cipher" >"$BATS_TEST_TMPDIR/plain"
    cmp "$BATS_TEST_TMPDIR/plain" "$BATS_TEST_TMPDIR/dashboard.png"
}

@test "send --omemo --attach: nothing in the clear names the file; our recv decrypts" {
    other_server https
    local https_ca=$XS_HTTPS_CA
    [ "$XS_IMPL" != ejabberd ] || https_ca=$XS_CA
    cat "$XS_CA" "$https_ca" >"$BATS_TEST_TMPDIR/both.pem"
    export XDG_DATA_HOME="$BATS_TEST_TMPDIR/data"
    echo "disk full on db1" >"$BATS_TEST_TMPDIR/secret-report.txt"
    XDG_DATA_HOME="$BATS_TEST_TMPDIR/bob" xmpp_as bob omemo publish >/dev/null
    run --separate-stderr xmpp_as alice send -v --omemo "$(jid_of bob)" -m "see attached" \
        --attach "$BATS_TEST_TMPDIR/secret-report.txt" --ca-file "$BATS_TEST_TMPDIR/both.pem"
    assert_success
    # The XML console shows all that went out: slot request, messages.
    [[ $stderr == *"SENT: <message"* ]]
    [[ $stderr =~ SENT:\ \<iq[^$'\n']*filename=\"[0-9a-f]{24}\.txt\"[^$'\n']*content-type=\"application/octet-stream\" ]]
    [[ $stderr != *secret-report* && $stderr != *jabber:x:oob* && $stderr != *aesgcm* ]]
    XDG_DATA_HOME="$BATS_TEST_TMPDIR/bob" xmpp_as bob recv -n 2 -t 10 >"$BATS_TEST_TMPDIR/in"
    run cut -f3 "$BATS_TEST_TMPDIR/in"
    assert_line -n 0 "see attached"
    assert_line -n 1 --regexp '^aesgcm://[^#]+#[0-9a-f]{88}$'
    local url=${lines[1]}
    curl -sSf --cacert "$https_ca" -o "$BATS_TEST_TMPDIR/cipher" "https://${url#aesgcm://}"
    run aesgcm_open "${url#*#}" "$BATS_TEST_TMPDIR/cipher"
    assert_output "disk full on db1"
}

@test "send --omemo --attach: an upload service without https is refused (69), nothing sent" {
    peer publish "$U2" >/dev/null
    echo x >"$BATS_TEST_TMPDIR/f.txt"
    run --separate-stderr xmpp_as "$U1" send --omemo "$(jid_of "$U2")" -m text --attach "$BATS_TEST_TMPDIR/f.txt"
    assert_failure 69
    assert_equal "$stderr" "xmpp send: $BATS_TEST_TMPDIR/f.txt: upload.$XS_DOMAIN uploads over plain http; an encrypted file (aesgcm://, XEP-0454) needs https"
    run xmpp_as "$U2" recv --idle "$(slow 1)" -t 10
    assert_success
    assert_output ""
}

# sql USER QUERY: run QUERY on USER's key store; prints what it returns.
sql() {
    /usr/bin/python3 -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for row in db.execute(sys.argv[2]):
    print(*row, sep="\t")
db.commit()' "$(store_of "$1")" "$2"
}

@test "omemo: the signed prekey is rotated weekly; the old one decrypts a month more" {
    local dev node
    dev=$(xmpp_as "$U1" omemo publish | cut -f1)
    node="eu.siacs.conversations.axolotl.bundles:$dev"
    # A prekey message built on the first signed prekey waits offline.
    peer send "$U2" "$(jid_of "$U1")" "in flight"
    # A week later (the store's clock set back), publishing rotates.
    sql "$U1" "UPDATE meta SET v = v - 8 * 86400 WHERE k = 'spk_made'"
    run xmpp_as "$U1" omemo publish
    assert_success
    run xmpp_as "$U2" pubsub items --service "$(jid_of "$U1")" "$node" --xml
    assert_output --partial 'signedPreKeyId="2"'
    run sql "$U1" "SELECT id FROM spks ORDER BY id"
    assert_output $'1\n2'
    # The message from before still decrypts.
    run xmpp_as "$U1" recv -n 1 -t 10
    assert_success
    assert_output --regexp "${TAB}in flight\$"
    # A new contact builds on the new one, whose signature holds.
    local u3="c$BATS_TEST_NUMBER"
    new_user "$u3"
    recv_bg "$U1" "$BATS_TEST_TMPDIR/out" -n 1
    peer send "$u3" "$(jid_of "$U1")" "on the new key"
    wait "$RECV_PID"
    run cut -f3 "$BATS_TEST_TMPDIR/out"
    assert_output "on the new key"
    # A month after the rotation, a send drops the old key for good and
    # rotates nothing (the current one is new).
    sql "$U1" "UPDATE spk_retired SET at = at - 31 * 86400"
    run xmpp_as "$U1" send --omemo "$(jid_of "$U2")" -m "later"
    assert_success
    run sql "$U1" "SELECT id FROM spks"
    assert_output 2
    run sql "$U1" "SELECT count(*) FROM spk_retired"
    assert_output 0
}

@test "send --omemo: a week-old signed prekey is rotated and published first" {
    local dev node
    dev=$(xmpp_as "$U1" omemo publish | cut -f1)
    node="eu.siacs.conversations.axolotl.bundles:$dev"
    peer publish "$U2" >/dev/null
    sql "$U1" "UPDATE meta SET v = v - 7 * 86400 WHERE k = 'spk_made'"
    peer_recv_bg "$U2" 1
    run xmpp_as "$U1" send --omemo "$(jid_of "$U2")" -m "after rotation"
    assert_success
    wait "$PEER_PID"
    run cut -f2 "$BATS_TEST_TMPDIR/peer"
    assert_output "after rotation"
    run xmpp_as "$U2" pubsub items --service "$(jid_of "$U1")" "$node" --xml
    assert_output --partial 'signedPreKeyId="2"'
    refute_output --partial 'signedPreKeyId="1"'
}

# ---- OMEMO 2 (XEP-0384 v0.8, urn:xmpp:omemo:2): the peer with
# PEER_GENS=2 (python3-twomemo) or both; it tags what it decrypts with
# the generation ([2] or [0.3]).

@test "omemo publish: OMEMO 2 device list and bundle beside 0.3, one identity" {
    xmpp_as "$U1" omemo publish >"$BATS_TEST_TMPDIR/id"
    local dev
    dev=$(cut -f1 "$BATS_TEST_TMPDIR/id")
    run xmpp_as "$U2" pubsub items urn:xmpp:omemo:2:devices --service "$(jid_of "$U1")"
    assert_success
    assert_output "current${TAB}<devices xmlns=\"urn:xmpp:omemo:2\"><device id=\"$dev\"/></devices>"
    run xmpp_as "$U2" pubsub items urn:xmpp:omemo:2:bundles --service "$(jid_of "$U1")"
    assert_success
    assert_output --regexp "^$dev${TAB}<bundle xmlns=\"urn:xmpp:omemo:2\"><spk id=\"[0-9]+\">[^<]{44}</spk><spks>[^<]{88}</spks><ik>[^<]{44}</ik><prekeys><pk id=\"[0-9]+\">"
    # python-omemo shows the one identity under OMEMO 2 too.
    PEER_GENS=2 peer publish "$U2" >/dev/null
    run xmpp_as "$U2" omemo devices "$(jid_of "$U1")"
    assert_output "$dev${TAB}blind${TAB}$(cut -f2 "$BATS_TEST_TMPDIR/id")${TAB}omemo,omemo2"
}

@test "send --omemo: an OMEMO 2 peer decrypts the key exchange and the next one" {
    PEER_GENS=2 peer_recv_bg "$U2" 2
    run xmpp_as "$U1" send --omemo "$(jid_of "$U2")" -m $'secret é 🎉 <&>\nline two'
    assert_success
    run xmpp_as "$U1" send --omemo "$(jid_of "$U2")" -m "second"
    assert_success
    wait "$PEER_PID"
    run cat "$BATS_TEST_TMPDIR/peer"
    assert_output "$(jid_of "$U1")${TAB}[2] secret é 🎉 <&>\\nline two
$(jid_of "$U1")${TAB}[2] second"
    run xmpp_as "$U1" omemo devices "$(jid_of "$U2")" --json
    assert_output --regexp '"generations":\["omemo2"\]\}$'
}

@test "recv: decrypts OMEMO 2 from python-omemo; JSON says omemo2 and trust" {
    export PEER_GENS=2
    decrypts_json omemo2
}

@test "omemo: an OMEMO 2 conversation continues both ways across messages" {
    export PEER_GENS=2
    converses "[2] "
}

@test "send --omemo: an OMEMO 2 device and a 0.3-only one of a recipient both decrypt" {
    # One message, both elements: each device reads its own.
    mkdir "$BATS_TEST_TMPDIR/two" "$BATS_TEST_TMPDIR/old"
    PEER_STATE="$BATS_TEST_TMPDIR/two" PEER_GENS=2 peer publish "$U2" >/dev/null
    PEER_STATE="$BATS_TEST_TMPDIR/old" peer publish "$U2" >/dev/null
    PEER_STATE="$BATS_TEST_TMPDIR/two" PEER_GENS=2 \
        peer recv "$U2" 1 >"$BATS_TEST_TMPDIR/peer2" 2>"$BATS_TEST_TMPDIR/peer2.err" 3>&- &
    local p2=$!
    wait_for "$BATS_TEST_TMPDIR/peer2.err" '^ready$' 30
    PEER_STATE="$BATS_TEST_TMPDIR/old" peer_recv_bg "$U2" 1
    run xmpp_as "$U1" send --omemo "$(jid_of "$U2")" -m "to both"
    assert_success
    wait "$p2"
    wait "$PEER_PID"
    run cat "$BATS_TEST_TMPDIR/peer2" "$BATS_TEST_TMPDIR/peer"
    assert_output "$(jid_of "$U1")${TAB}[2] to both
$(jid_of "$U1")${TAB}to both"
}

@test "send --omemo: a device with both generations gets OMEMO 2" {
    PEER_GENS=both peer_recv_bg "$U2" 1
    run xmpp_as "$U1" send --omemo "$(jid_of "$U2")" -m "the newer"
    assert_success
    wait "$PEER_PID"
    run cut -f2 "$BATS_TEST_TMPDIR/peer"
    assert_output "[2] the newer"
    run xmpp_as "$U1" omemo devices "$(jid_of "$U2")"
    assert_output --regexp "^[0-9]+${TAB}blind${TAB}${FPR_RE}${TAB}omemo,omemo2\$"
}

@test "recv: an OMEMO 2 envelope addressed to someone else is not shown (XEP-0420)" {
    xmpp_as "$U1" omemo publish >/dev/null
    recv_bg "$U1" "$BATS_TEST_TMPDIR/out" -n 1 --json
    PEER_GENS=2 PEER_SCE_TO=mallory@localhost peer send "$U2" "$(jid_of "$U1")" "replayed"
    wait "$RECV_PID"
    run jq -c '[.body, .encrypted, .decrypt_error]' "$BATS_TEST_TMPDIR/out"
    assert_output '[null,"omemo2","the envelope is addressed to someone else (to affix)"]'
}

@test "recv: a broken OMEMO 2 session is repaired; the sender's next message decrypts" {
    export PEER_GENS=2
    repairs omemo2
}

@test "send --omemo --attach: an OMEMO 2 peer gets the aesgcm:// URL in the envelope" {
    other_server https
    local https_ca=$XS_HTTPS_CA url shown
    [ "$XS_IMPL" != ejabberd ] || https_ca=$XS_CA
    cat "$XS_CA" "$https_ca" >"$BATS_TEST_TMPDIR/both.pem"
    export XDG_DATA_HOME="$BATS_TEST_TMPDIR/data" PEER_GENS=2
    head -c 1000 /dev/urandom >"$BATS_TEST_TMPDIR/graph.png"
    peer_recv_bg bob 1
    run --separate-stderr xmpp_as alice send --omemo "$(jid_of bob)" \
        --attach "$BATS_TEST_TMPDIR/graph.png" --ca-file "$BATS_TEST_TMPDIR/both.pem"
    assert_success
    shown=$output
    wait "$PEER_PID"
    url=$(cut -f2 "$BATS_TEST_TMPDIR/peer")
    assert_regex "$url" "^\[2\] aesgcm://127\.0\.0\.1:$XS_HTTPS_PORT/.*/[0-9a-f]{24}\.png#[0-9a-f]{88}\$"
    url=${url#"[2] "}
    assert_equal "${url%%#*}" "aesgcm://${shown#https://}"
    curl -sSf --cacert "$https_ca" -o "$BATS_TEST_TMPDIR/cipher" "$shown"
    aesgcm_open "${url#*#}" "$BATS_TEST_TMPDIR/cipher" >"$BATS_TEST_TMPDIR/plain"
    cmp "$BATS_TEST_TMPDIR/plain" "$BATS_TEST_TMPDIR/graph.png"
}

@test "send --omemo --trusted-only: an OMEMO 2 device too, until trust" {
    export PEER_GENS=2
    peer publish "$U2" >"$BATS_TEST_TMPDIR/id"
    run --separate-stderr xmpp_as "$U1" send --omemo --trusted-only "$(jid_of "$U2")" -m x
    assert_failure 67
    run xmpp_as "$U1" omemo trust "$(jid_of "$U2")" "$(cut -f2 "$BATS_TEST_TMPDIR/id")"
    assert_success
    peer_recv_bg "$U2" 1
    run xmpp_as "$U1" send --omemo --trusted-only "$(jid_of "$U2")" -m "to the verified"
    assert_success
    wait "$PEER_PID"
    run cut -f2 "$BATS_TEST_TMPDIR/peer"
    assert_output "[2] to the verified"
}

@test "send --omemo: a store that published OMEMO 0.3 only publishes OMEMO 2 once" {
    # As a store made before OMEMO 2 was added: published, 0.3 only.
    local dev
    dev=$(xmpp_as "$U1" omemo publish | cut -f1)
    xmpp_as "$U1" pubsub publish urn:xmpp:omemo:2:devices \
        "<devices xmlns='urn:xmpp:omemo:2'/>" --id current --field pubsub#access_model=open >/dev/null
    /usr/bin/python3 -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1]); db.execute("UPDATE meta SET v = 1 WHERE k = '"'published'"'"); db.commit()' "$(store_of "$U1")"
    PEER_GENS=2 peer_recv_bg "$U2" 1
    run xmpp_as "$U1" send --omemo "$(jid_of "$U2")" -m "after the upgrade"
    assert_success
    wait "$PEER_PID"
    run cut -f2 "$BATS_TEST_TMPDIR/peer"
    assert_output "[2] after the upgrade"
    run xmpp_as "$U2" pubsub items urn:xmpp:omemo:2:devices --service "$(jid_of "$U1")"
    assert_output "current${TAB}<devices xmlns=\"urn:xmpp:omemo:2\"><device id=\"$dev\"/></devices>"
}
