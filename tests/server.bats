#!/usr/bin/env bats
# The suite's own server (tests/server), Prosody or ejabberd: what every
# other test file takes for granted.

load helpers

setup_file() { server_up; }
teardown_file() { server_down; }

@test "server: an account made with new_user logs in and gets messages" {
    new_user erin
    run xmpp_as alice send "$(jid_of erin)" -m "welcome erin"
    assert_success
    run xmpp_as erin recv -n 1 -t 10
    assert_success
    assert_output --regexp "^alice@localhost/[^	]+	chat$DELAYED	welcome erin\$"
}

@test "server: direct TLS (XEP-0368) works on XS_TLS_PORT" {
    run xmpp_as bob send --server "127.0.0.1:$XS_TLS_PORT" --direct-tls \
        "$(jid_of carol)" -m "over direct TLS"
    assert_success
    run xmpp_as carol recv -n 1 -t 10
    assert_output --regexp "	over direct TLS$"
}

@test "server: listens on 127.0.0.1 only, on the ports in its env" {
    # The server's listening TCP sockets, from /proc: ADDRESS:PORT each.
    run /usr/bin/python3 - "$XS_PID" <<'EOF'
import os, sys
pid = sys.argv[1]
inodes = set()
for fd in os.listdir(f"/proc/{pid}/fd"):
    try:
        link = os.readlink(f"/proc/{pid}/fd/{fd}")
    except OSError:
        continue
    if link.startswith("socket:["):
        inodes.add(link[8:-1])
for table in ("tcp", "tcp6"):
    for line in open(f"/proc/{pid}/net/{table}").readlines()[1:]:
        f = line.split()
        if f[3] == "0A" and f[9] in inodes:  # LISTEN
            addr, port = f[1].split(":")
            ip = ".".join(str(int(addr[i:i + 2], 16)) for i in (6, 4, 2, 0)) \
                if table == "tcp" else addr
            print(f"{ip}:{int(port, 16)}")
EOF
    assert_success
    for port in "$XS_PORT" "$XS_TLS_PORT" "$XS_COMP_PORT" "$XS_HTTP_PORT"; do
        assert_line "127.0.0.1:$port"
    done
    refute_line --regexp '^(0\.0\.0\.0|[0-9A-F]{32}):'
    run grep -v '^127\.0\.0\.1:' <<<"$output"
    assert_output ""
}
