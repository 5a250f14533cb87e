#!/usr/bin/python3
"""Print what a test server offers at each step of a login, for the table
in tests/README.md. Not part of the suite.

    tests/server start DIR alice && set -a && . DIR/env && set +a
    tests/stream_features.py [sasl|sasl2]

sasl (default): STARTTLS on XS_PORT, the features before and after TLS,
SCRAM-SHA-1 (GS2 flag "n") showing the server-first message (an "h="
attribute there is XEP-0474 downgrade protection), the features after
the restart; then the features on the direct TLS port (XEP-0368).
sasl2: SASL2 (XEP-0388) with Bind2 (XEP-0386), SM enable and a FAST
token request (XEP-0484) inline, printing the server's <success>.
fast: the raw bytes the server sends (each read as it came, after
"raw:") through a FAST life: a password login that asks for a token and
resumable SM, logins with the token over HT-SHA-256-NONE and -ENDP
(tls-server-end-point computed here), one with a wrong token, one that
invalidates the token and one after that, and a wrong password. The
unit tests (tests/unit/sasl2.c) and fuzz seeds (fuzz/corpus/sasl2/) are
these bytes.
"""
import base64
import hashlib
import hmac
import os
import socket
import ssl
import sys
import xml.etree.ElementTree as ET

# With a "from" once under TLS (RFC 6120 §4.7.1): ejabberd 24.12 offers
# SASL2 only to a stream that names its account.
HEADER = ("<?xml version='1.0'?><stream:stream to='localhost' version='1.0'{} "
          "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>")


RAW = False


class Stream:
    def __init__(self, sock, secure=False):
        self.sock, self.secure = sock, secure
        self.restart()

    def restart(self):
        self.parser = ET.XMLPullParser(events=("start", "end"))
        self.depth = 0
        sender = " from='alice@localhost'" if self.secure else ""
        self.sock.sendall(HEADER.format(sender).encode())

    def send(self, xml):
        self.sock.sendall(xml.encode())

    def next(self):
        """The next top-level element from the server."""
        while True:
            for event, elem in self.parser.read_events():
                self.depth += 1 if event == "start" else -1
                if event == "end" and self.depth == 1:
                    return elem
            data = self.sock.recv(65536)
            if RAW and data:
                print(f"raw: {data.decode(errors='replace')}")
            if not data:
                sys.exit("stream_features: the server closed the stream")
            self.parser.feed(data)


def show(label, elem):
    text = ET.tostring(elem, encoding="unicode")
    print(f"{label}: {text}")


def tls(sock):
    ctx = ssl.create_default_context(cafile=os.environ["XS_CA"])
    ctx.check_hostname = False
    tsock = ctx.wrap_socket(sock, server_hostname="localhost")
    print(f"tls: {tsock.version()} {tsock.cipher()[0]}")
    return tsock


class Scram:
    """SCRAM-SHA-1 without channel binding (RFC 5802)."""

    def __init__(self, user, password):
        self.password = password
        self.cnonce = base64.b64encode(os.urandom(18)).decode()
        self.bare = f"n={user},r={self.cnonce}"

    def first(self):
        return base64.b64encode(("n,," + self.bare).encode()).decode()

    def final(self, challenge):
        server_first = base64.b64decode(challenge).decode()
        print(f"server-first: {server_first}")
        attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
        salted = hashlib.pbkdf2_hmac("sha1", self.password.encode(),
                                     base64.b64decode(attrs["s"]), int(attrs["i"]))
        client_key = hmac.digest(salted, b"Client Key", "sha1")
        without_proof = f"c=biws,r={attrs['r']}"
        auth = f"{self.bare},{server_first},{without_proof}".encode()
        signature = hmac.digest(hashlib.sha1(client_key).digest(), auth, "sha1")
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        msg = f"{without_proof},p={base64.b64encode(proof).decode()}"
        return base64.b64encode(msg.encode()).decode()


def starttls(stream):
    show("features", stream.next())
    stream.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
    stream.next()
    stream.sock, stream.secure = tls(stream.sock), True
    stream.restart()


def sasl(stream, scram):
    stream.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
                f"mechanism='SCRAM-SHA-1'>{scram.first()}</auth>")
    challenge = stream.next().text
    stream.send("<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
                f"{scram.final(challenge)}</response>")
    show("sasl result", stream.next())
    stream.restart()
    show("features after auth", stream.next())


def sasl2(stream, scram):
    stream.send(
        "<authenticate xmlns='urn:xmpp:sasl:2' mechanism='SCRAM-SHA-1'>"
        f"<initial-response>{scram.first()}</initial-response>"
        "<user-agent id='d4565fa7-4d72-4749-b3d3-740edbf87770'>"
        "<software>stream_features.py</software></user-agent>"
        "<bind xmlns='urn:xmpp:bind:0'><tag>probe</tag>"
        "<enable xmlns='urn:xmpp:sm:3'/></bind>"
        "<request-token xmlns='urn:xmpp:fast:0' mechanism='HT-SHA-256-NONE'/>"
        "</authenticate>")
    challenge = stream.next().text
    stream.send("<response xmlns='urn:xmpp:sasl:2'>"
                f"{scram.final(challenge)}</response>")
    while True:
        elem = stream.next()
        show("sasl2 answer", elem)
        if not elem.tag.endswith("}challenge"):
            break


def connect():
    stream = Stream(socket.create_connection(("127.0.0.1", int(os.environ["XS_PORT"]))))
    starttls(stream)
    stream.next()
    return stream


def authenticate(stream, mech, initial, inline):
    stream.send(
        f"<authenticate xmlns='urn:xmpp:sasl:2' mechanism='{mech}'>"
        f"<initial-response>{initial}</initial-response>"
        "<user-agent id='d4565fa7-4d72-4749-b3d3-740edbf87770'>"
        "<software>stream_features.py</software></user-agent>"
        f"{inline}</authenticate>")
    return stream.next()


def ht(stream, token, variant, inline="<fast xmlns='urn:xmpp:fast:0'/>"):
    """HT-SHA-256-variant (draft-schmaus-kitten-sasl-ht): authcid NUL
    HMAC(token, "Initiator" || cb-data); the server's additional-data is
    HMAC(token, "Responder" || cb-data), checked here."""
    cb = b""
    if variant == "ENDP":  # RFC 5929 §4.1: SHA-256 for a SHA-256 signature
        cb = hashlib.sha256(stream.sock.getpeercert(binary_form=True)).digest()
    proof = hmac.digest(token.encode(), b"Initiator" + cb, "sha256")
    initial = base64.b64encode(b"alice\0" + proof).decode()
    print(f"ht {variant}: token {token} cb {cb.hex()}")
    answer = authenticate(stream, f"HT-SHA-256-{variant}", initial,
                          "<bind xmlns='urn:xmpp:bind:0'><tag>fast</tag></bind>" + inline)
    data = answer.find("{urn:xmpp:sasl:2}additional-data")
    if data is not None:
        want = hmac.digest(token.encode(), b"Responder" + cb, "sha256")
        print(f"ht {variant}: additional-data is Responder HMAC: "
              f"{base64.b64decode(data.text) == want}")
    return answer


def fast_life():
    global RAW
    RAW = True
    stream = connect()
    scram = Scram("alice", os.environ["XS_PASS_alice"])
    answer = authenticate(
        stream, "SCRAM-SHA-1", scram.first(),
        "<bind xmlns='urn:xmpp:bind:0'><tag>probe</tag>"
        "<enable xmlns='urn:xmpp:sm:3' resume='true'/></bind>"
        "<request-token xmlns='urn:xmpp:fast:0' mechanism='HT-SHA-256-NONE'/>")
    stream.send("<response xmlns='urn:xmpp:sasl:2'>"
                f"{scram.final(answer.text)}</response>")
    token = stream.next().find("{urn:xmpp:fast:0}token").get("token")
    for variant in ("NONE", "ENDP"):
        answer = ht(connect(), token, variant)
        new = answer.find("{urn:xmpp:fast:0}token")
        token = new.get("token") if new is not None else token
    ht(connect(), token + "x", "NONE")
    ht(connect(), token, "NONE", "<fast xmlns='urn:xmpp:fast:0' invalidate='true'/>")
    ht(connect(), token, "NONE")
    bad = Scram("alice", "wrong")
    stream = connect()
    answer = authenticate(stream, "SCRAM-SHA-1", bad.first(), "")
    stream.send("<response xmlns='urn:xmpp:sasl:2'>"
                f"{bad.final(answer.text)}</response>")
    stream.next()


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "sasl"
    if mode == "fast":
        fast_life()
        return
    scram = Scram("alice", os.environ["XS_PASS_alice"])
    stream = Stream(socket.create_connection(("127.0.0.1", int(os.environ["XS_PORT"]))))
    starttls(stream)
    features = stream.next()
    show("features after TLS", features)
    if mode == "sasl2":
        if features.find("{urn:xmpp:sasl:2}authentication") is None:
            sys.exit("stream_features: no SASL2 offered")
        sasl2(stream, scram)
        return
    sasl(stream, scram)
    sock = socket.create_connection(("127.0.0.1", int(os.environ["XS_TLS_PORT"])))
    stream = Stream(tls(sock), secure=True)
    show("direct TLS features", stream.next())


if __name__ == "__main__":
    main()
