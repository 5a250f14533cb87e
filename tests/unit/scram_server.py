#!/usr/bin/python3
"""Our SCRAM client (`AUTH client ...`, tests/unit/auth.c) against two
server sides that are not ours: one written here from RFC 5802 §3, §7
with Python's hashlib and hmac (every mechanism, with and without channel
binding, and the attacks: wrong or missing signature, foreign nonce), and
Prosody's own util.sasl (tests/unit/scram_prosody.lua). It must log in
where the password is right and fail where a server says no.

    tests/unit/scram_server.py build/unit/auth

Last line: "unit scram interop: N passed, N failed". (Debian has no
python3-scramp; the Python server is the few lines it would give.)
"""
import base64
import hashlib
import hmac
import os
import subprocess
import sys

HASHES = {"SCRAM-SHA-1": "sha1", "SCRAM-SHA-256": "sha256",
          "SCRAM-SHA-512": "sha512"}


def b64(b):
    return base64.b64encode(b).decode()


def attrs(msg):
    return dict((a[0], a[2:]) for a in msg.split(","))


def serve(client, mech, password, cb_data=b"", tamper=None):
    """Play the server for one exchange on the client's pipes. Returns
    what the server concluded ("ok", "bad-proof", ...)."""
    h = HASHES[mech.removesuffix("-PLUS")]
    first = client.stdout.readline().rstrip("\n")
    cbflag, authzid, bare = first.split(",", 2)
    gs2 = f"{cbflag},{authzid},"
    a = attrs(bare)
    user = a["n"].replace("=2C", ",").replace("=3D", "=")
    nonce = a["r"] + b64(os.urandom(18))
    salt = os.urandom(16)
    server_first = f"r={nonce},s={b64(salt)},i=4096"
    if tamper == "foreign-nonce":
        server_first = f"r=X{nonce},s={b64(salt)},i=4096"
    client.stdin.write(server_first + "\n")
    client.stdin.flush()
    final = client.stdout.readline().rstrip("\n")
    if not final:
        return "client stopped"
    without_proof, proof = final.rsplit(",p=", 1)
    f = attrs(without_proof)
    if base64.b64decode(f["c"]) != gs2.encode() + cb_data:
        return "bad-channel-binding"
    if f["r"] != nonce:
        return "bad-nonce"
    salted = hashlib.pbkdf2_hmac(h, password.encode(), salt, 4096)
    client_key = hmac.new(salted, b"Client Key", h).digest()
    stored_key = hashlib.new(h, client_key).digest()
    auth = f"{bare},{server_first},{without_proof}".encode()
    signature = hmac.new(stored_key, auth, h).digest()
    recovered = bytes(x ^ y for x, y in
                      zip(base64.b64decode(proof), signature))
    if hashlib.new(h, recovered).digest() != stored_key:
        client.stdin.write("e=invalid-proof\n")
        client.stdin.flush()
        return "bad-proof"
    server_key = hmac.new(salted, b"Server Key", h).digest()
    v = hmac.new(server_key, auth, h).digest()
    if tamper == "wrong-signature":
        v = bytes([v[0] ^ 1]) + v[1:]
    client.stdin.write(("" if tamper == "no-signature" else f"v={b64(v)}")
                       + "\n")
    client.stdin.flush()
    return f"ok {user}"


def relay_prosody(client, mech, password, cb_data):
    """Prosody's util.sasl as the server: relay each line both ways."""
    here = os.path.dirname(os.path.abspath(__file__))
    server = subprocess.Popen(["lua5.4", os.path.join(here, "scram_prosody.lua"),
                               mech, password, cb_data.hex()],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    reply = ""
    for _ in range(2):
        line = client.stdout.readline()
        if not line:
            break
        server.stdin.write(line)
        server.stdin.flush()
        reply = server.stdout.readline()
        client.stdin.write(reply)
        client.stdin.flush()
    server.stdin.close()
    server.wait()
    return "ok" if reply.startswith("v=") else "refused " + reply.strip()


def exchange(binary, mech, user, client_pw, server_pw, cb=None, tamper=None):
    args = [binary, "client", mech, user, client_pw]
    cb_data = b""
    if cb:
        cb_data = cb[1]
        args += [cb[0], cb[1].hex()]
    client = subprocess.Popen(args, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    if tamper == "prosody":
        said = relay_prosody(client, mech, server_pw, cb_data)
    else:
        said = serve(client, mech, server_pw, cb_data, tamper)
    client.stdin.close()
    rc = client.wait()
    return said, rc, client.stderr.read()


def main():
    binary = sys.argv[1]
    passed = failed = 0

    def check(what, ok):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print(f"not ok: {what}")

    cb = ("tls-exporter", os.urandom(32))
    for mech in HASHES:
        for plus in (False, True):
            name = mech + ("-PLUS" if plus else "")
            said, rc, _ = exchange(binary, name, "alice", "s3cret pw",
                                   "s3cret pw", cb if plus else None)
            check(f"{name}: login", said == "ok alice" and rc == 0)
            said, rc, err = exchange(binary, name, "alice", "wrong",
                                     "s3cret pw", cb if plus else None)
            check(f"{name}: wrong password refused by the server, 77",
                  said == "bad-proof" and rc == 77 and
                  "refused the SCRAM proof: invalid-proof" in err)
    # Prosody 0.12's util.sasl: SCRAM-SHA-1 and -256, with and without
    # channel binding (it has tls-unique only, so tls-exporter's data is
    # given to it the way mod_saslauth gives tls-unique's).
    for mech in ("SCRAM-SHA-1", "SCRAM-SHA-256"):
        for plus in (False, True):
            name = mech + ("-PLUS" if plus else "")
            said, rc, _ = exchange(binary, name, "alice", "s3cret pw",
                                   "s3cret pw", cb if plus else None,
                                   tamper="prosody")
            check(f"Prosody {name}: login", said == "ok" and rc == 0)
            said, rc, err = exchange(binary, name, "alice", "wrong",
                                     "s3cret pw", cb if plus else None,
                                     tamper="prosody")
            check(f"Prosody {name}: wrong password, 77",
                  said == "refused e=not-authorized" and rc == 77 and
                  "refused the SCRAM proof: not-authorized" in err)
    said, rc, _ = exchange(binary, "SCRAM-SHA-256", "a,b=c", "pw", "pw")
    check("escaped user name arrives as given", said == "ok a,b=c" and rc == 0)
    for tamper, why in (("wrong-signature", "signature is wrong"),
                        ("no-signature", "carries no signature")):
        said, rc, err = exchange(binary, "SCRAM-SHA-256", "alice", "pw",
                                 "pw", tamper=tamper)
        check(f"{tamper}: client refuses, 77",
              said == "ok alice" and rc == 77 and why in err)
    said, rc, err = exchange(binary, "SCRAM-SHA-1", "alice", "pw", "pw",
                             tamper="foreign-nonce")
    check("foreign nonce: client stops before its proof, 77",
          said == "client stopped" and rc == 77 and
          "does not extend ours" in err)
    print(f"unit scram interop: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
