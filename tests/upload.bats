#!/usr/bin/env bats
# xmpp send --attach: XEP-0363 HTTP upload to Prosody's mod_http_file_share
# (upload.localhost, http on 127.0.0.1:$XS_HTTP_PORT, 10 MiB limit), and
# the XEP-0066 pointer the receiver gets. Messages nobody reads go to
# dave; carol must receive nothing (her offline store stays empty); bob
# is read by each test that writes to him.

load helpers

setup_file() { server_up; }
teardown_file() { server_down; }

# other_server (helpers.bash) is stopped after each test that started one.
teardown() {
    [ -z "${OTHER:-}" ] || "$SERVER" stop "$OTHER"
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

# The oob URL of each --xml stanza in FILE, one per line.
oob_urls() { sed -n 's|.*<x xmlns="jabber:x:oob"><url[^>]*>\([^<]*\)</url>.*|\1|p' "$1"; }

@test "upload: the URL the receiver gets downloads the same bytes" {
    head -c 300000 /dev/urandom >"$BATS_TEST_TMPDIR/data.bin"
    recv_bg bob "$BATS_TEST_TMPDIR/in" -n 1
    run xmpp_as alice send "$(jid_of bob)" --attach "$BATS_TEST_TMPDIR/data.bin"
    assert_success
    wait "$RECV_PID"
    url=$(cut -f3 "$BATS_TEST_TMPDIR/in")
    assert_regex "$url" "^http://localhost:$XS_HTTP_PORT/.*/data\.bin$"
    # The sender printed that URL, and nothing else: $(...) captures it.
    assert_output "$url"
    curl -sSf -o "$BATS_TEST_TMPDIR/got.bin" "$url"
    [ "$(sha "$BATS_TEST_TMPDIR/got.bin")" = "$(sha "$BATS_TEST_TMPDIR/data.bin")" ]
}

@test "upload: the message carries the URL as body and in a jabber:x:oob element" {
    echo "report" >"$BATS_TEST_TMPDIR/report.txt"
    recv_bg bob "$BATS_TEST_TMPDIR/in" -n 1 --xml
    run xmpp_as alice send "$(jid_of bob)" --attach "$BATS_TEST_TMPDIR/report.txt"
    assert_success
    wait "$RECV_PID"
    run cat "$BATS_TEST_TMPDIR/in"
    assert_output --regexp '<body[^>]*>http://[^<]*/report\.txt</body>'
    assert_output --partial '<x xmlns="jabber:x:oob"><url'
    url=$(oob_urls "$BATS_TEST_TMPDIR/in")
    assert_output --partial ">$url</body>"
}

@test "upload: text from -m goes first, then one message per attached file, in order" {
    echo one >"$BATS_TEST_TMPDIR/one.txt"
    echo two >"$BATS_TEST_TMPDIR/two.txt"
    recv_bg bob "$BATS_TEST_TMPDIR/in" -n 3 --xml
    run xmpp_as alice send "$(jid_of bob)" -m "the logs" \
        --attach "$BATS_TEST_TMPDIR/one.txt" --attach "$BATS_TEST_TMPDIR/two.txt"
    assert_success
    wait "$RECV_PID"
    run sed -n 1p "$BATS_TEST_TMPDIR/in"
    assert_output --partial '>the logs</body>'
    refute_output --partial 'jabber:x:oob'
    run oob_urls "$BATS_TEST_TMPDIR/in"
    assert_line --index 0 --regexp '/one\.txt$'
    assert_line --index 1 --regexp '/two\.txt$'
    [ "$(curl -sSf "${lines[1]}")" = two ]
}

@test "upload: --content-type is the type the file is served with" {
    echo '{}' >"$BATS_TEST_TMPDIR/data.txt"
    recv_bg bob "$BATS_TEST_TMPDIR/in" -n 1
    run xmpp_as alice send "$(jid_of bob)" --attach "$BATS_TEST_TMPDIR/data.txt" \
        --content-type application/x-custom
    assert_success
    wait "$RECV_PID"
    if [ "$XS_IMPL" = ejabberd ]; then
        # ejabberd serves a file with the type of its extension, whatever
        # the upload said: check what the PUT said instead.
        run xmpp_as alice send "$(jid_of dave)" -v --content-type \
            application/x-custom --attach "$BATS_TEST_TMPDIR/data.txt"
        assert_line --regexp "^HTTP: PUT [^ ]*/data\.txt \(3 bytes, application/x-custom\): 20[01] "
        return
    fi
    run curl -sSf -o /dev/null -D - "$(cut -f3 "$BATS_TEST_TMPDIR/in")"
    assert_output --regexp $'[Cc]ontent-[Tt]ype: application/x-custom\r'
}

@test "upload: without --content-type the type comes from the file name" {
    echo hi >"$BATS_TEST_TMPDIR/notes.txt"
    head -c 100 /dev/urandom >"$BATS_TEST_TMPDIR/blob.weird"
    recv_bg bob "$BATS_TEST_TMPDIR/in" -n 2
    run xmpp_as alice send "$(jid_of bob)" --attach "$BATS_TEST_TMPDIR/notes.txt" \
        --attach "$BATS_TEST_TMPDIR/blob.weird"
    assert_success
    wait "$RECV_PID"
    run curl -sSf -o /dev/null -D - "$(sed -n 1p "$BATS_TEST_TMPDIR/in" | cut -f3)"
    assert_output --regexp $'[Cc]ontent-[Tt]ype: text/plain\r'
    run curl -sSf -o /dev/null -D - "$(sed -n 2p "$BATS_TEST_TMPDIR/in" | cut -f3)"
    assert_output --regexp $'[Cc]ontent-[Tt]ype: application/octet-stream\r'
}

@test "upload: a file name that is not UTF-8 is announced with U+FFFD" {
    name=$'caf\xe9.txt'
    echo menu >"$BATS_TEST_TMPDIR/$name"
    recv_bg bob "$BATS_TEST_TMPDIR/in" -n 1
    run xmpp_as alice send "$(jid_of bob)" --attach "$BATS_TEST_TMPDIR/$name"
    assert_success
    wait "$RECV_PID"
    url=$(cut -f3 "$BATS_TEST_TMPDIR/in")
    # ejabberd keeps [A-Za-z0-9._-] of a file name and makes the rest _.
    if [ "$XS_IMPL" = ejabberd ]; then
        assert_regex "$url" '/caf_\.txt$'
    else
        assert_regex "$url" '/caf%[Ee][Ff]%[Bb][Ff]%[Bb][Dd]\.txt$'
    fi
    [ "$(curl -sSf "$url")" = menu ]
}

@test "upload: a file over the service's limit exits 65 naming the limit, nothing sent" {
    truncate -s 10485761 "$BATS_TEST_TMPDIR/huge.bin"
    run xmpp_as alice send "$(jid_of carol)" -m "see attachment" \
        --attach "$BATS_TEST_TMPDIR/huge.bin"
    assert_failure 65
    assert_output --partial "huge.bin: 10.0 MiB (10485761 bytes) is larger than the 10.0 MiB (10485760 bytes) that upload.localhost accepts"
    [ ! -e "$XS_DIR/data/localhost/offline/carol.list" ]
}

@test "upload: a missing file exits 66 before connecting" {
    run xmpp_as alice send "$(jid_of bob)" --attach "$BATS_TEST_TMPDIR/nope.bin" \
        --server 127.0.0.1:1
    assert_failure 66
    assert_output --partial "nope.bin: No such file or directory"
}

@test "upload: a directory or a FIFO exits 66, without waiting for a writer" {
    run xmpp_as alice send "$(jid_of bob)" --attach "$BATS_TEST_TMPDIR"
    assert_failure 66
    assert_output --partial "not a regular file"
    mkfifo "$BATS_TEST_TMPDIR/fifo"
    run timeout 10 "$XMPP" send "$(jid_of bob)" --attach "$BATS_TEST_TMPDIR/fifo"
    assert_failure 66
    assert_output "xmpp send: $BATS_TEST_TMPDIR/fifo: not a regular file; --attach uploads files"
}

@test "upload: a server without an upload service exits 69" {
    other_server none
    echo x >"$BATS_TEST_TMPDIR/f.txt"
    run xmpp_as alice send "$(jid_of bob)" --attach "$BATS_TEST_TMPDIR/f.txt"
    assert_failure 69
    assert_output "xmpp send: localhost offers no HTTP file upload service (XEP-0363); --attach needs one"
}

@test "upload: an HTTP error status exits 74 and names the status" {
    # Slots that point at the first server's HTTP port, where no such
    # path exists: a real 404.
    main_http=$XS_HTTP_PORT
    other_server "http://127.0.0.1:$main_http/nowhere/"
    echo x >"$BATS_TEST_TMPDIR/f.txt"
    run xmpp_as alice send "$(jid_of carol)" --attach "$BATS_TEST_TMPDIR/f.txt"
    assert_failure 74
    assert_output "xmpp send: $BATS_TEST_TMPDIR/f.txt: upload to http://127.0.0.1:$main_http failed: HTTP 404 Not Found"
    [ ! -e "$XS_DIR/data/localhost/offline/carol.list" ]
}

@test "upload: an unreachable upload host exits 69" {
    other_server "http://127.0.0.1:1/"
    echo x >"$BATS_TEST_TMPDIR/f.txt"
    run xmpp_as alice send "$(jid_of bob)" --attach "$BATS_TEST_TMPDIR/f.txt"
    assert_failure 69
    assert_output --partial "cannot connect to upload host http://127.0.0.1:1"
}

@test "upload: the deadline covers the upload and exits 75" {
    # A host that takes the connection and never answers: the kernel
    # queues it on a socket that listens and never accepts.
    port_file="$BATS_TEST_TMPDIR/port"
    /usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
time.sleep(60)' "$port_file" &
    hole=$!
    wait_for "$port_file" .
    other_server "http://127.0.0.1:$(cat "$port_file")/"
    echo x >"$BATS_TEST_TMPDIR/f.txt"
    run xmpp_as alice send "$(jid_of bob)" -t "$(slow 2)" --attach "$BATS_TEST_TMPDIR/f.txt"
    kill "$hole"
    assert_failure 75
    assert_output --regexp "upload to http://127.0.0.1:[0-9]+ timed out after .* of 2 B; allow more with --timeout"
}

@test "upload: https uses the connection's trust: --ca-file, or --insecure" {
    other_server https
    echo secret >"$BATS_TEST_TMPDIR/f.txt"
    local https_ca=$XS_HTTPS_CA
    if [ "$XS_IMPL" = ejabberd ]; then
        # ejabberd picks certificates by name, not per listener: its HTTPS
        # service shows the XMPP certificate, so --ca-file vouches for both.
        https_ca=$XS_CA
    else
        # The XMPP certificate alone does not vouch for the HTTPS one.
        run xmpp_as alice send "$(jid_of bob)" --attach "$BATS_TEST_TMPDIR/f.txt"
        assert_failure 77
        assert_output --partial "TLS certificate of upload host https://127.0.0.1:$XS_HTTPS_PORT rejected"
    fi
    cat "$XS_CA" "$https_ca" >"$BATS_TEST_TMPDIR/both.pem"
    recv_bg bob "$BATS_TEST_TMPDIR/in" -n 2
    run xmpp_as alice send "$(jid_of bob)" --attach "$BATS_TEST_TMPDIR/f.txt" \
        --ca-file "$BATS_TEST_TMPDIR/both.pem"
    assert_success
    run xmpp_as alice send "$(jid_of bob)" --attach "$BATS_TEST_TMPDIR/f.txt" \
        --insecure
    assert_success
    wait "$RECV_PID"
    url=$(sed -n 1p "$BATS_TEST_TMPDIR/in" | cut -f3)
    assert_regex "$url" "^https://127.0.0.1:$XS_HTTPS_PORT/"
    [ "$(curl -sSf --cacert "$https_ca" "$url")" = secret ]
}

@test "upload: a progress bar on a terminal, none when stderr is not one or with -q" {
    head -c 200000 /dev/urandom >"$BATS_TEST_TMPDIR/p.bin"
    run --separate-stderr xmpp_as alice send "$(jid_of dave)" --attach "$BATS_TEST_TMPDIR/p.bin"
    assert_success
    assert_equal "$stderr" ""
    assert_output --regexp '^http://[^[:space:]]+/p\.bin$'
    # script(1) gives the command a terminal; its output is the screen.
    export XMPP XS_PORT XS_CA TO="$(jid_of dave)" PASS="$(pass_of alice)"
    export F="$BATS_TEST_TMPDIR/p.bin"
    cmd='XMPP_PASSWORD=$PASS $XMPP send -j alice@localhost --server 127.0.0.1:$XS_PORT --ca-file $XS_CA $TO --attach $F'
    run script -qec "$cmd" /dev/null
    assert_success
    assert_output --regexp 'p\.bin +\[#+\] 100% 195\.3 KiB / 195\.3 KiB'
    run script -qec "$cmd -q" /dev/null
    assert_success
    # Only the URL on standard output (the terminal ends it with CR LF).
    assert_output --regexp '^http://[^[:space:]]+/p\.bin[[:space:]]*$'
}

@test "upload: --content-type without --attach is a usage error" {
    run xmpp_as alice send "$(jid_of bob)" -m hi --content-type text/plain
    assert_failure 64
    assert_output --partial "--content-type applies to --attach files"
}

@test "upload: a malformed --content-type is a usage error" {
    echo x >"$BATS_TEST_TMPDIR/f.txt"
    run xmpp_as alice send "$(jid_of bob)" --attach "$BATS_TEST_TMPDIR/f.txt" \
        --content-type "text plain"
    assert_failure 64
    assert_output --partial "--content-type text plain: not TYPE/SUBTYPE"
}

@test "upload: --attach with --lines is a usage error" {
    echo x >"$BATS_TEST_TMPDIR/f.txt"
    run xmpp_as alice send "$(jid_of bob)" -l --attach "$BATS_TEST_TMPDIR/f.txt" </dev/null
    assert_failure 64
    assert_output --partial "--attach cannot be combined with --lines"
}

@test "upload: --attach as a component is a usage error" {
    echo x >"$BATS_TEST_TMPDIR/f.txt"
    run "$XMPP" send --component "component.$XS_DOMAIN" --server "127.0.0.1:$XS_COMP_PORT" \
        "$(jid_of bob)" --attach "$BATS_TEST_TMPDIR/f.txt"
    assert_failure 64
    assert_output --partial "--attach needs a client account"
}

@test "upload: --help lists --attach and --content-type" {
    run "$XMPP" send --help
    assert_success
    assert_output --partial "[--attach FILE]..."
    assert_output --partial "--attach FILE "
    assert_output --partial "--content-type TYPE "
}

@test "upload: -v shows the HTTP PUT and the server's answer" {
    echo x >"$BATS_TEST_TMPDIR/v.txt"
    run xmpp_as alice send "$(jid_of dave)" -v --attach "$BATS_TEST_TMPDIR/v.txt"
    assert_success
    assert_line --regexp "^HTTP: PUT http://localhost:$XS_HTTP_PORT/[^ ]*/v\.txt \(2 bytes, text/plain\): 201 Created$"
}

@test "upload: --receipt waits for the receiver's receipt of the attachment" {
    echo x >"$BATS_TEST_TMPDIR/r.txt"
    recv_bg bob "$BATS_TEST_TMPDIR/in" -n 1
    run xmpp_as alice send "$(jid_of bob)" --receipt -t 10 --attach "$BATS_TEST_TMPDIR/r.txt"
    assert_success
    wait "$RECV_PID"
    assert_regex "$(cat "$BATS_TEST_TMPDIR/in")" '/r\.txt$'
}

@test "upload: --id with --receipt and more than one message is a usage error" {
    echo x >"$BATS_TEST_TMPDIR/f.txt"
    run xmpp_as alice send "$(jid_of bob)" --receipt --id fixed -m text \
        --attach "$BATS_TEST_TMPDIR/f.txt"
    assert_failure 64
    assert_output --partial "--id with --receipt needs a single message"
}

@test "upload: text mode prints each attachment's URL once, --json one line per message with to, id and url" {
    echo one >"$BATS_TEST_TMPDIR/one.txt"
    echo two >"$BATS_TEST_TMPDIR/two.txt"
    recv_bg bob "$BATS_TEST_TMPDIR/in" -n 6 --json
    # Two recipients, one URL line per file.
    run --separate-stderr xmpp_as alice send "$(jid_of bob)" "$(jid_of dave)" -m "logs" \
        --attach "$BATS_TEST_TMPDIR/one.txt" --attach "$BATS_TEST_TMPDIR/two.txt"
    assert_success
    assert_equal "${#lines[@]}" 2
    assert_line --index 0 --regexp "^http://localhost:$XS_HTTP_PORT/.*/one\.txt$"
    assert_line --index 1 --regexp "^http://localhost:$XS_HTTP_PORT/.*/two\.txt$"
    [ "$(curl -sSf "${lines[1]}")" = two ]
    # --json: every message the server took, in the order sent.
    run --separate-stderr xmpp_as alice send --json "$(jid_of bob)" -m "logs" \
        --attach "$BATS_TEST_TMPDIR/one.txt" --attach "$BATS_TEST_TMPDIR/two.txt"
    assert_success
    local sent=$output
    run jq -r '[.kind, .to, .url // "-"] | @tsv' <<<"$sent"
    assert_equal "${#lines[@]}" 3
    assert_line --index 0 $'message\tbob@localhost\t-'
    assert_line --index 1 --regexp $'^message\tbob@localhost\thttp://.*/one\\.txt$'
    assert_line --index 2 --regexp $'^message\tbob@localhost\thttp://.*/two\\.txt$'
    wait "$RECV_PID"
    # The ids and URLs are the ones the recipient got.
    assert_equal "$(jq -r .id <<<"$sent")" \
        "$(tail -n 3 "$BATS_TEST_TMPDIR/in" | jq -r .id)"
    assert_equal "$(jq -r '.url // empty' <<<"$sent")" \
        "$(tail -n 2 "$BATS_TEST_TMPDIR/in" | jq -r .body)"
    drain dave
}
