#!/usr/bin/python3
"""A scripted hostile XMPP server, for the attack and fault cases that no
real server produces (stalls, malformed streams, abuse). Everything a
real server does is tested against the real servers (tests/server).

    tests/hostile.py MODE [ARG...]

Listens on a free port of 127.0.0.1, prints the port as the first line
of stdout, and plays MODE on every connection until killed. Modes:

    silent
        Accept and never answer: a TLS port whose handshake stalls at
        the ClientHello (xmpp --direct-tls), or a server that is gone.
    starttls-stall
        Offer STARTTLS, answer <proceed/>, then never answer the TLS
        handshake.
    scram-iterations CERT KEY [COUNT]
        STARTTLS with CERT/KEY, offer SCRAM-SHA-1 only and challenge
        with COUNT (default 2^31-1) PBKDF2 iterations: the client's key
        derivation runs for hours unless it refuses the count.

A new case is one `async def NAME(conn, *args)` decorated with
@mode("NAME"); the Conn helpers play the usual stream set-up, so a mode
says only what is hostile about it.
"""
import asyncio
import base64
import re
import ssl
import sys

MODES = {}


def mode(name):
    def register(fn):
        MODES[name] = fn
        return fn
    return register


class Conn:
    """One client connection: what it sent so far, and ways to answer."""

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer
        self.buf = b""

    async def expect(self, pattern):
        """Read until the regexp (bytes) matches what came since the last
        match; return the match. EOFError when the client hangs up."""
        while True:
            m = re.search(pattern, self.buf, re.S)
            if m:
                self.buf = self.buf[m.end():]
                return m
            data = await self.reader.read(65536)
            if not data:
                raise EOFError
            self.buf += data

    async def send(self, text):
        self.writer.write(text.encode() if isinstance(text, str) else text)
        await self.writer.drain()

    async def open_stream(self, features):
        """Wait for the client's stream header; answer with ours and
        these <stream:features/> contents."""
        await self.expect(rb"<stream:stream[^>]*>")
        await self.send(
            "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
            "xmlns:stream='http://etherx.jabber.org/streams' "
            "from='localhost' id='hostile' version='1.0'>"
            f"<stream:features>{features}</stream:features>")

    async def starttls(self, cert=None, key=None):
        """RFC 6120 §5.4: offer STARTTLS and say <proceed/>. With a
        certificate, then run the server's side of the handshake."""
        await self.open_stream("<starttls xmlns='urn:ietf:params:xml:ns:"
                               "xmpp-tls'><required/></starttls>")
        await self.expect(rb"<starttls[^>]*/>")
        await self.send("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        if cert:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(cert, key)
            await self.writer.start_tls(ctx)

    async def hold(self):
        """Read and drop whatever comes, never answering."""
        while await self.reader.read(65536):
            pass


@mode("silent")
async def silent(conn):
    await conn.hold()


@mode("starttls-stall")
async def starttls_stall(conn):
    await conn.starttls()
    await conn.hold()


@mode("scram-iterations")
async def scram_iterations(conn, cert, key, count="2147483647"):
    await conn.starttls(cert, key)
    await conn.open_stream(
        "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
        "<mechanism>SCRAM-SHA-1</mechanism></mechanisms>")
    auth = await conn.expect(rb"<auth [^>]*>([^<]*)</auth>")
    first = base64.b64decode(auth.group(1)).decode()
    nonce = re.search(r"r=([^,]*)", first).group(1)
    salt = base64.b64encode(b"hostile salt").decode()
    challenge = f"r={nonce}hostile,s={salt},i={count}"
    await conn.send("<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
                    + base64.b64encode(challenge.encode()).decode()
                    + "</challenge>")
    await conn.hold()


async def serve(play, args, reader, writer):
    try:
        await play(Conn(reader, writer), *args)
    except (EOFError, ConnectionError, ssl.SSLError):
        pass
    finally:
        writer.close()


async def main(name, args):
    play = MODES[name]
    server = await asyncio.start_server(
        lambda r, w: serve(play, args, r, w), "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in MODES:
        sys.exit(f"usage: {sys.argv[0]} {'|'.join(MODES)} [ARG...]")
    try:
        asyncio.run(main(sys.argv[1], sys.argv[2:]))
    except KeyboardInterrupt:
        pass
