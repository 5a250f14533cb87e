#!/usr/bin/python3
"""A scripted hostile server for what no real server sends: an XEP-0114
component server (no TLS, no SASL) that accepts any handshake and then
writes a file of raw bytes to the component.

    tests/hostile_stream.py PORT FILE

Listens on 127.0.0.1:PORT; prints "ready" on stdout once it does. For
each connection: reads the component's stream header, answers with its
own (an id, as XEP-0114 §3 needs), takes any <handshake/>, answers
<handshake/>, and pings the component until it answers: then its
handlers are in place (what comes with the handshake, in the same read,
would reach none). Then it writes FILE as it is: stanzas with invalid
'from' addresses, a <stream:error/> whose text holds controls, and so
on. If FILE ends with </stream:stream> the connection is closed after
it; otherwise IQ requests are answered with an empty result until the
component closes. Real servers check both (Prosody and ejabberd refuse
an invalid 'from' from a component, and write their own stream error
texts), which is why this is scripted.
"""
import asyncio
import re
import sys

HEADER = (b"<?xml version='1.0'?><stream:stream"
          b" xmlns='jabber:component:accept'"
          b" xmlns:stream='http://etherx.jabber.org/streams'"
          b" id='hostile-%d' from='%s'>")


async def read_until(reader, buf, pattern):
    """Read until pattern matches buf; return (match, buf)."""
    while not (m := re.search(pattern, buf, re.S)):
        data = await reader.read(65536)
        if not data:
            raise ConnectionError("closed")
        buf += data
    return m, buf


async def ping(writer):
    """XEP-0199 pings, every 50 ms, until cancelled."""
    while True:
        writer.write(b"<iq type='get' id='hostile-go'>"
                     b"<ping xmlns='urn:xmpp:ping'/></iq>")
        await writer.drain()
        await asyncio.sleep(0.05)


IQ_REQUEST = rb"<iq[^>]*type=['\"](?:get|set)['\"][^>]*>"


async def session(script, count, reader, writer):
    try:
        m, buf = await read_until(reader, b"", rb"<stream:stream[^>]*>")
        to = re.search(rb"to=['\"]([^'\"]*)", m.group(0))
        writer.write(HEADER % (count, to.group(1) if to else b"localhost"))
        m, buf = await read_until(reader, buf, rb"</handshake>")
        buf = buf[m.end():]
        writer.write(b"<handshake/>")
        # The component is ready for the script once it answers a ping,
        # or asks something itself (a tool that answers no pings).
        pinger = asyncio.create_task(ping(writer))
        try:  # (a request is left in buf, to be answered below)
            m, buf = await read_until(reader, buf,
                                      rb"id=['\"]hostile-go|" + IQ_REQUEST)
        finally:
            pinger.cancel()
        if m.group(0).startswith(b"id="):
            buf = buf[m.end():]
        writer.write(script)
        await writer.drain()
        if script.rstrip().endswith(b"</stream:stream>"):
            return
        while True:  # answer IQ requests (pings) until the client leaves
            m, buf = await read_until(reader, buf, IQ_REQUEST)
            buf = buf[m.end():]
            attr = dict(re.findall(rb"(id|from|to)=['\"]([^'\"]*)",
                                   m.group(0)))
            writer.write(b"<iq type='result' id='%s' from='%s' to='%s'/>" % (
                attr.get(b"id", b""), attr.get(b"to", b""),
                attr.get(b"from", b"")))
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def main(port, path):
    with open(path, "rb") as f:
        script = f.read()
    count = 0

    def accept(reader, writer):
        nonlocal count
        count += 1
        return session(script, count, reader, writer)

    server = await asyncio.start_server(accept, "127.0.0.1", port,
                                        reuse_address=True)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
