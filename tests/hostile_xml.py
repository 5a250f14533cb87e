#!/usr/bin/python3
"""A hostile XMPP server for the attack tests of tests/hostile_xml.bats.

Not a stand-in for a real server: it does just enough of the handshake
(direct TLS, XEP-0368; SASL PLAIN, accepting anyone; resource binding)
for a client to reach the point where the attack lands, then sends what
no real server sends: malformed XML, bytes that are not UTF-8, a DOCTYPE,
a stanza of hundreds of megabytes.

    tests/hostile_xml.py CERT KEY CASE [ARG]

Listens on a free port of 127.0.0.1 ("listening PORT" on stdout), serves
each connection the same way, and logs what it did to stdout, a line a
step, for the test to read; the client's stream error as "client said
CONDITION". CASE:

    malformed      a message, then a tag closed by the wrong name
    utf8           a message, then one with a byte that is not UTF-8
    doctype        a DOCTYPE with an internal entity before the stream
    laughs         the billion laughs DOCTYPE, its entity used in a body
    comment        a comment after the session starts
    big ARG        a message with a body of ARG bytes (streamed, never
                   built whole), then a small one
    lines ARG      a message with a body of ARG newlines
    names ARG      ARG elements with 100 attributes each, all names new,
                   then a message
    announce ARG   XEP-0478: announce ARG bytes as the limit, then a
                   message of 2 MiB and one of ARG + 1 MiB
    deep ARG       a message nested ARG elements deep
    wide ARG       a message with ARG children
    ping           after the client's first stanza, a message; after its
                   ping (the confirmation a one-shot tool waits for),
                   a malformed stanza
    redoctype      the first connection is dropped once the session is
                   up; every one after it gets the doctype case
"""
import asyncio
import re
import ssl
import sys

STREAM = ("<?xml version='1.0'?>{doctype}<stream:stream xmlns='jabber:client'"
          " xmlns:stream='http://etherx.jabber.org/streams' id='{id}'"
          " from='localhost' version='1.0' xml:lang='en'>")
MECHS = ("<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:"
         "xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms>"
         "</stream:features>")
BIND = ("<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
        "{limits}</stream:features>")
LIMITS = ("<limits xmlns='urn:xmpp:stream-limits:0'><max-bytes>{}"
          "</max-bytes></limits>")
JID = "alice@localhost/hostile"
PEER = "mallory@localhost/x"

HEADER = re.compile(rb"<stream:stream[^>]*>")
AUTH = re.compile(rb"</auth>|<auth[^>]*/>")
STANZA = re.compile(rb"</(iq|message|presence)>|<(iq|message|presence)[^>]*/>")
ERROR = re.compile(rb"<stream:error><([a-z-]+) ")
PING = re.compile(rb"<ping xmlns=.urn:xmpp:ping.")

# Each entity ten of the one before: lol9 is 10^9 "lol"s.
LAUGHS = ("<!DOCTYPE stream:stream [<!ENTITY lol0 'lol'>"
          + "".join(f"<!ENTITY lol{i} '{f'&lol{i - 1};' * 10}'>"
                    for i in range(1, 10))
          + "]>")


def message(body, to="alice@localhost/hostile"):
    return f"<message from='{PEER}' to='{to}' type='chat'><body>{body}</body></message>"


class Client:
    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer
        self.buf = b""

    async def expect(self, pattern):
        """Wait for the client to send pattern; return what it sent up
        to the end of the match."""
        while not (m := pattern.search(self.buf)):
            data = await self.reader.read(65536)
            if not data:
                raise ConnectionError("client closed")
            self.buf += data
        got, self.buf = self.buf[:m.end()], self.buf[m.end():]
        return got

    async def send(self, data):
        self.writer.write(data.encode() if isinstance(data, str) else data)
        await self.writer.drain()


def log(*what):
    print(*what, flush=True)


async def handshake(c, case, arg):
    await c.expect(HEADER)
    doctype = {"doctype": "<!DOCTYPE stream:stream [<!ENTITY x 'boom'>]>",
               "laughs": LAUGHS}.get(case, "")
    await c.send(STREAM.format(doctype=doctype, id="s1") + MECHS)
    if doctype:
        if case == "laughs":  # and use it, if the client read on
            await c.send(message("&lol9;"))
        log("sent doctype")
        return False
    await c.expect(AUTH)
    await c.send("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")
    await c.expect(HEADER)
    limits = LIMITS.format(arg) if case == "announce" else ""
    await c.send(STREAM.format(doctype="", id="s2") + BIND.format(limits=limits))
    iq = await c.expect(STANZA)
    bind_id = re.search(rb"id=.([^'\"]*)", iq).group(1).decode()
    await c.send(f"<iq type='result' id='{bind_id}'><bind xmlns='urn:ietf:"
                 f"params:xml:ns:xmpp-bind'><jid>{JID}</jid></bind></iq>")
    log("bound")
    return True


async def big(c, size, body_char="A"):
    """A message whose body is size bytes, written as the client reads."""
    await c.send(f"<message from='{PEER}' type='chat'><body>")
    chunk = (body_char * 65536).encode()
    sent = 0
    while sent < size:
        n = min(len(chunk), size - sent)
        await c.send(chunk[:n])
        sent += n
    await c.send("</body></message>")
    log(f"sent {size} bytes")


async def attack(c, case, arg):
    await c.expect(STANZA)  # the client's first stanza: the session is up
    if case == "malformed":
        await c.send(message("before the fault"))
        await c.send(f"<message from='{PEER}'><body>x</bdy></message>")
    elif case == "utf8":
        await c.send(message("before the fault"))
        await c.send(message("caf\xe9").encode("latin-1"))
    elif case == "comment":
        await c.send("<!-- a comment -->" + message("after the comment"))
    elif case == "big":
        await big(c, int(arg))
        await c.send(message("after the big one"))
    elif case == "names":
        # Names expat keeps for the rest of the stream unless renewed:
        # 100 new attribute names a stanza.
        for i in range(int(arg)):
            attrs = "".join(f" a{i}x{j}=''" for j in range(100))
            c.writer.write(f"<junk{i}{attrs}/>".encode())
        await c.writer.drain()
        await c.send(message("after the names"))
    elif case == "lines":
        await c.send(message("\n" * int(arg)))
    elif case == "announce":
        await big(c, 2 << 20, "B")
        await big(c, int(arg) + (1 << 20), "C")
    elif case == "deep":
        n = int(arg)
        await c.send(f"<message from='{PEER}'>" + "<x>" * n + "</x>" * n
                     + "</message>")
    elif case == "wide":
        await c.send(f"<message from='{PEER}'><body>w</body>"
                     + "<x/>" * int(arg) + "</message>")
    elif case == "drop":
        log("dropping")
        raise ConnectionError("dropped")
    elif case == "ping":
        await c.expect(PING)
        await c.send(f"<iq from='localhost' type='result' id='x'><bad></iq>")
    log(f"sent {case}")


connections = 0


async def serve(case, arg, reader, writer):
    global connections
    connections += 1
    c = Client(reader, writer)
    if case == "redoctype":
        case = "doctype" if connections > 1 else "drop"
    try:
        if await handshake(c, case, arg):
            await attack(c, case, arg)
        # Hold the connection: the client is the one to close it, saying
        # why with a stream error (RFC 6120 §4.9), which is logged.
        while data := await reader.read(65536):
            c.buf += data
        if m := ERROR.search(c.buf):
            log(f"client said {m.group(1).decode()}")
        log("client closed")
    except (ConnectionError, ssl.SSLError) as e:
        log(f"client closed ({type(e).__name__})")
    finally:
        writer.close()


async def main(cert, key, case, arg):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server = await asyncio.start_server(
        lambda r, w: serve(case, arg, r, w), "127.0.0.1", 0, ssl=ctx)
    log("listening", server.sockets[0].getsockname()[1])
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    cert, key, case = sys.argv[1:4]
    asyncio.run(main(cert, key, case, sys.argv[4] if len(sys.argv) > 4 else ""))
