#!/usr/bin/python3
"""A TCP relay for fault tests: 127.0.0.1:LISTEN -> 127.0.0.1:TARGET.

Not a server: bytes pass through untouched (TLS included), so the client
talks to the real test server. Killing the relay cuts every connection at
once, like a network failure; starting it again on the same port heals it.

    tests/proxy.py LISTEN TARGET [CUT [once]]

With CUT, each connection is cut when the client's CUT-th chunk of bytes
arrives (it is not passed on): a failure at a chosen point of the
handshake (TLS, stream, SASL, bind). With "once", only one connection
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


async def pipe(link, reader, writer, cut=None, others=()):
    chunks = 0
    try:
        while data := await reader.read(65536):
            if link.black_holed:
                continue
            chunks += 1
            if cut and cut.at and chunks == cut.at:
                if cut.once:
                    cut.at = 0
                break
            writer.write(data)
            await writer.drain()
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
