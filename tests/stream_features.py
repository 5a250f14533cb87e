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


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "sasl"
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
