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
"""
import asyncio
import signal
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


async def relay(target, cut, client_reader, client_writer):
    try:
        server_reader, server_writer = await asyncio.open_connection(
            "127.0.0.1", target)
    except OSError:
        client_writer.close()
        return
    link = Link()
    open_links.add(link)
    try:
        await asyncio.gather(
            pipe(link, client_reader, server_writer, cut, (client_writer,)),
            pipe(link, server_reader, client_writer))
    finally:
        open_links.discard(link)


def black_hole():
    for link in open_links:
        link.black_holed = True


async def main(listen, target, cut):
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, black_hole)
    server = await asyncio.start_server(
        lambda r, w: relay(target, cut, r, w), "127.0.0.1", listen,
        reuse_address=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    cut = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    once = len(sys.argv) > 4 and sys.argv[4] == "once"
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2]), Cut(cut, once)))
