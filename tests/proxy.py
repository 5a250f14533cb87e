#!/usr/bin/python3
"""A TCP relay for fault tests: 127.0.0.1:LISTEN -> 127.0.0.1:TARGET.

Not a server: bytes pass through untouched (TLS included), so the client
talks to the real test server. Killing the relay cuts every connection at
once, like a network failure; starting it again on the same port heals it.

    tests/proxy.py LISTEN TARGET [CUT [once]]

With CUT, each connection is cut when the client's CUT-th chunk begins
(it and what follows are not passed on): a failure at a chosen point of
the handshake (TLS, stream, SASL, bind). A chunk is what one read gets
while the stream is plain XML, then one TLS record: reads join records
the client wrote one by one as the scheduler pleases, so counting reads
would move the cut from run to run. With "once", only one connection
is cut, the first that gets that far; the next ones pass (for retries).

SIGUSR1 black-holes every connection open at that moment, like a NAT
that forgot them: both sockets stay open, every byte from either side is
dropped, and neither side is told anything, not even when the other one
closes. Connections made afterwards pass as before.

    tests/proxy.py LISTEN TARGET mitm CERT KEY [STRIP...]

A man in the middle for downgrade tests: what a TLS-terminating
middlebox, or an attacker holding a certificate the client trusts, can
do. The plain start of the stream passes untouched up to the server's
<proceed/> (RFC 6120 §5.4.2.3); then the relay runs the client's TLS
handshake itself with CERT/KEY (the test server's: the client trusts it
through --ca-file) and opens its own TLS to the server. From then on the
bytes pass untouched both ways, except the server's <stream:features/>,
from which it strips each STRIP:
    plus        the -PLUS mechanisms (SASL and SASL2 lists)
    cb          XEP-0440 <sasl-channel-binding/>, which a server that
                offers -PLUS advertises: a careful attacker strips both
    sasl2       XEP-0388 <authentication xmlns='urn:xmpp:sasl:2'/>
    fast        XEP-0484 <fast xmlns='urn:xmpp:fast:0'/> (inside SASL2)
    plain-only  every mechanism but PLAIN, and SASL2, channel binding
It prints "features: STRIP..." for each element it rewrote. Channel
binding (SCRAM-*-PLUS with tls-exporter) sees through the relay even
with nothing stripped: the client's TLS session is not the server's.
"""
import asyncio
import re
import signal
import ssl
import sys

open_links = set()


class Link:
    """One relayed connection; black_holed once SIGUSR1 came."""
    black_holed = False


class Cut:
    """Where connections are cut: at the client's chunk `at` (0: never)."""

    def __init__(self, at, once):
        self.at = at
        self.once = once


class Chunks:
    """Counts the client's chunks (see the top comment)."""

    def __init__(self):
        self.count = 0
        self.tls = False
        self.header = b""  # the part of a record header read so far
        self.body = 0  # bytes of the current record still to come

    def before(self, data, cut):
        """The part of data that precedes the cut-th chunk, and whether
        that chunk began in it."""
        if not self.tls and not data.startswith(b"\x16"):
            self.count += 1
            return (b"", True) if self.count == cut else (data, False)
        self.tls = True
        i = 0
        while i < len(data):
            if self.body:
                step = min(self.body, len(data) - i)
                self.body -= step
                i += step
                continue
            if not self.header:
                self.count += 1
                if self.count == cut:
                    return data[:i], True
            take = data[i:i + 5 - len(self.header)]
            self.header += take
            i += len(take)
            if len(self.header) == 5:
                self.body = int.from_bytes(self.header[3:5], "big")
                self.header = b""
        return data, False


async def pipe(link, reader, writer, cut=None, others=()):
    chunks = Chunks()
    try:
        while data := await reader.read(65536):
            if link.black_holed:
                continue
            data, at_cut = chunks.before(data, cut.at if cut else 0)
            if data:
                writer.write(data)
                await writer.drain()
            if at_cut:
                if cut.once:
                    cut.at = 0
                break
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        if link.black_holed:  # nobody is told: the other side waits on
            await asyncio.Event().wait()
        writer.close()
        for w in others:
            w.close()


async def connect(target, client_writer):
    """The connection to the server for this client's, or None (and the
    client's closed) when the server is not there."""
    try:
        return await asyncio.open_connection("127.0.0.1", target)
    except OSError:
        client_writer.close()
        return None


async def relay(target, cut, client_reader, client_writer):
    if not (server := await connect(target, client_writer)):
        return
    server_reader, server_writer = server
    link = Link()
    open_links.add(link)
    try:
        await asyncio.gather(
            pipe(link, client_reader, server_writer, cut, (client_writer,)),
            pipe(link, server_reader, client_writer))
    finally:
        open_links.discard(link)


# ------------------------------------------------------- man in the middle

def element(name, ns):
    """A regexp for an element with this name and namespace, empty or not."""
    return (rf"<{name}\s[^>]*xmlns=['\"]{re.escape(ns)}['\"][^>]*?"
            rf"(?:/>|>.*?</{name}>)")


SASL2 = element("authentication", "urn:xmpp:sasl:2")
CB = element("sasl-channel-binding", "urn:xmpp:sasl-cb:0")
FAST = element("fast", "urn:xmpp:fast:0")
MECHANISM = r"<mechanism>([^<]*)</mechanism>"


def rewrite(features, strip):
    """The server's <stream:features>...</stream:features> (text) with
    strip (a set of STRIP words) applied."""
    if "plain-only" in strip:
        strip = strip | {"sasl2", "cb"}
        features = re.sub(MECHANISM, lambda m: m.group(0)
                          if m.group(1) == "PLAIN" else "", features)
    if "plus" in strip:
        features = re.sub(r"<mechanism>[^<]*-PLUS</mechanism>", "", features)
    for word, pattern in (("sasl2", SASL2), ("cb", CB), ("fast", FAST)):
        if word in strip:
            features = re.sub(pattern, "", features, flags=re.S)
    return features


async def until(reader, writer, pattern):
    """Pass bytes from reader to writer until what passed matches."""
    seen = b""
    while not re.search(pattern, seen, re.S):
        data = await reader.read(65536)
        if not data:
            raise ConnectionError("closed before TLS")
        writer.write(data)
        await writer.drain()
        seen += data


async def features_pipe(reader, writer, strip):
    """Pass the server's bytes on, each <stream:features> rewritten."""
    buf = b""
    start, end = b"<stream:features", b"</stream:features>"
    while data := await reader.read(65536):
        buf += data
        while True:
            i = buf.find(start)
            if i < 0:  # keep what may be the start of one
                keep = next((k for k in range(len(start) - 1, 0, -1)
                             if buf.endswith(start[:k])), 0)
                out, buf = buf[:len(buf) - keep], buf[len(buf) - keep:]
                break
            j = buf.find(end, i)
            empty = re.match(rb"<stream:features\s*/>", buf[i:])
            if empty:
                j = i + empty.end() - len(end)
            elif j < 0:
                out, buf = buf[:i], buf[i:]
                break
            j += len(end)
            before = buf[i:j].decode()
            after = rewrite(before, strip)
            if after != before:
                print("features:", " ".join(sorted(strip)), flush=True)
            writer.write(buf[:i] + after.encode())
            buf = buf[j:]
        if out:
            writer.write(out)
        await writer.drain()


async def mitm(target, cert, key, strip, client_reader, client_writer):
    if not (server := await connect(target, client_writer)):
        return
    server_reader, server_writer = server
    try:
        # RFC 6120 §5.4.2: <starttls/> up, <proceed/> down; the client's
        # ClientHello must stay in the socket until our TLS reads it.
        async def up():
            await until(client_reader, server_writer,
                        rb"<starttls[^>]*(?:/>|>.*?</starttls>)")
            client_writer.transport.pause_reading()
        await asyncio.gather(
            up(), until(server_reader, client_writer, rb"<proceed[^>]*/>"))
        as_server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        as_server.load_cert_chain(cert, key)
        as_client = ssl.create_default_context()
        as_client.check_hostname = False
        as_client.verify_mode = ssl.CERT_NONE
        await asyncio.gather(
            client_writer.start_tls(as_server),
            server_writer.start_tls(as_client, server_hostname="localhost"))
        await asyncio.gather(
            pipe(Link(), client_reader, server_writer, None, (client_writer,)),
            features_pipe(server_reader, client_writer, strip))
    except (ConnectionError, ssl.SSLError, asyncio.CancelledError):
        pass
    finally:
        client_writer.close()
        server_writer.close()


def black_hole():
    for link in open_links:
        link.black_holed = True


STRIPS = {"plus", "cb", "sasl2", "fast", "plain-only"}


async def main(listen, handle):
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, black_hole)
    server = await asyncio.start_server(handle, "127.0.0.1", listen,
                                        reuse_address=True)
    async with server:
        await server.serve_forever()


def handler(args):
    """What to do with each connection, from the command line."""
    target = int(args[1])
    if len(args) > 2 and args[2] == "mitm":
        cert, key, strip = args[3], args[4], set(args[5:])
        if not strip <= STRIPS:
            sys.exit(f"proxy.py: STRIP is one of {' '.join(sorted(STRIPS))}")
        return lambda r, w: mitm(target, cert, key, strip, r, w)
    cut = Cut(int(args[2]) if len(args) > 2 else 0,
              len(args) > 3 and args[3] == "once")
    return lambda r, w: relay(target, cut, r, w)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), handler(sys.argv[1:])))
