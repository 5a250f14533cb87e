#!/usr/bin/python3
"""A TCP relay for fault tests: 127.0.0.1:LISTEN -> 127.0.0.1:TARGET.

Not a server: bytes pass through untouched (TLS included), so the client
talks to the real test server. Killing the relay cuts every connection at
once, like a network failure; starting it again on the same port heals it.

    tests/proxy.py LISTEN TARGET [CUT]

With CUT, each connection is cut when the client's CUT-th chunk of bytes
arrives (it is not passed on): a failure at a chosen point of the
handshake (TLS, stream, SASL, bind).
"""
import asyncio
import sys


async def pipe(reader, writer, cut=0, others=()):
    chunks = 0
    try:
        while data := await reader.read(65536):
            chunks += 1
            if chunks == cut:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
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
    await asyncio.gather(
        pipe(client_reader, server_writer, cut, (client_writer,)),
        pipe(server_reader, client_writer))


async def main(listen, target, cut):
    server = await asyncio.start_server(
        lambda r, w: relay(target, cut, r, w), "127.0.0.1", listen,
        reuse_address=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    cut = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2]), cut))
