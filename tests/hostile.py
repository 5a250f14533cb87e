#!/usr/bin/python3
"""A scripted hostile XMPP server, for the attack and fault cases that no
real server produces (stalls, malformed streams, abuse). Everything a
real server does is tested against the real servers (tests/server).

    tests/hostile.py MODE [ARG...]

Listens on a free port of 127.0.0.1, prints "listening PORT" as the
first line of stdout, and plays MODE on every connection until killed,
logging what it did to stdout, a line a step, for the test to read (the
client's stream error as "client said CONDITION"). Modes:

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
    scram-nosig CERT KEY PASSWORD
    scram-badsig CERT KEY PASSWORD
    scram-nonce CERT KEY PASSWORD
    ssdp-mismatch CERT KEY PASSWORD [MECHS]
        STARTTLS with CERT/KEY, offer SCRAM-SHA-1 only and play its
        server side honestly (RFC 5802: PASSWORD checks the client's
        proof; a wrong proof gets <not-authorized/>) but for one fault:
          scram-nosig    <success/> without the server signature (v=)
          scram-badsig   a v= that is not the server signature
          scram-nonce    a server-first whose nonce does not extend the
                         client's (the rest, v= included, is right for it)
          ssdp-mismatch  XEP-0474: the server-first carries h=, the hash
                         of MECHS (comma-separated; default SCRAM-SHA-1,
                         SCRAM-SHA-256): the offer the client saw was
                         stripped. With MECHS SCRAM-SHA-1 the hash matches
                         (the fixture's own check).
        A client that accepts the outcome gets a session (see plain-only).
    digest-md5 CERT KEY
        STARTTLS, then offer DIGEST-MD5 only; a client that picks it gets
        a challenge and, whatever it answers, <success/> and a session.
    no-mechs CERT KEY
        STARTTLS, then an empty <mechanisms/>.
    plain-only CERT KEY PASSWORD
        STARTTLS, then offer PLAIN only; an <auth/> with PASSWORD gets
        <success/> (another gets <not-authorized/>), then resource
        binding, a result for every IQ request and nothing else, until
        the client leaves.
    In every SASL mode the server logs what the client did: "client chose
    MECH", "client proof valid", "client aborted", "bound", and each
    stanza it sent after binding as "received <message ...>" (its start
    tag): a test asserts that no <message got through.
    xml CERT KEY CASE [ARG]
        Direct TLS (XEP-0368) with CERT/KEY, SASL PLAIN accepting anyone,
        resource binding; then CASE, an attack with the XML itself:
          malformed      a message, then a tag closed by the wrong name
          utf8           a message, then one with a byte that is not UTF-8
          doctype        a DOCTYPE with an internal entity before the stream
          laughs         the billion laughs DOCTYPE, its entity used in a body
          comment        a comment after the session starts
          big ARG        a message with a body of ARG bytes (streamed,
                         never built whole), then a small one
          lines ARG      a message with a body of ARG newlines
          names ARG      ARG elements with 100 attributes each, all names
                         new, then a message
          announce ARG   XEP-0478: announce ARG bytes as the limit, then a
                         message of 2 MiB and one of ARG + 1 MiB
          deep ARG       a message nested ARG elements deep
          wide ARG       a message with ARG children
          ping           after the client's first stanza, a message; after
                         its ping (the confirmation a one-shot tool waits
                         for), a malformed stanza
          redoctype      the first connection is dropped once the session
                         is up; every one after it gets the doctype case
    component FILE
        An XEP-0114 component server (no TLS, no SASL) that takes any
        handshake, pings the component until it answers (then its
        handlers are in place), and writes FILE as it is: stanzas with
        invalid 'from' addresses, a <stream:error/> whose text holds
        controls... If FILE ends with </stream:stream> the connection is
        closed after it; otherwise IQ requests get an empty result until
        the component leaves. Real servers check both (they refuse an
        invalid 'from' from a component, and write their own stream
        error texts), which is why this is scripted.

A new case is one `async def NAME(conn, *args)` decorated with
@mode("NAME"); the Conn helpers play the usual stream set-up, so a mode
says only what is hostile about it.
"""
import asyncio
import base64
import hashlib
import hmac
import os
import re
import ssl
import sys

MODES = {}

STREAM = ("<?xml version='1.0'?>{doctype}<stream:stream xmlns='{ns}'"
          " xmlns:stream='http://etherx.jabber.org/streams' id='{id}'"
          " from='{host}' version='1.0' xml:lang='en'>")
JID = "alice@localhost/hostile"
PEER = "mallory@localhost/x"
HEADER = rb"<stream:stream[^>]*>"
STANZA = rb"</(iq|message|presence)>|<(iq|message|presence)[^>]*/>"
IQ_REQUEST = rb"<iq[^>]*type=['\"](?:get|set)['\"][^>]*>"
ERROR = re.compile(rb"<stream:error><([a-z-]+) ")


def mode(name, direct_tls=False):
    """Register a mode; with direct_tls its first two arguments are the
    certificate and key of a listener that speaks TLS from the start."""
    def register(fn):
        MODES[name] = (fn, direct_tls)
        return fn
    return register


def log(*what):
    print(*what, flush=True)


class Conn:
    """One client connection: what it sent so far, and ways to answer."""

    count = 0  # connections so far, this one included

    def __init__(self, reader, writer):
        Conn.count += 1
        self.number = Conn.count
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

    async def send(self, data):
        self.writer.write(data.encode() if isinstance(data, str) else data)
        await self.writer.drain()

    async def open_stream(self, features, doctype="", ns="jabber:client"):
        """Wait for the client's stream header; answer with ours (and a
        DOCTYPE before it, if given) and these <stream:features/>."""
        await self.expect(HEADER)
        await self.send(STREAM.format(doctype=doctype, ns=ns, host="localhost",
                                      id="hostile-%d" % self.number)
                        + f"<stream:features>{features}</stream:features>")

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

    async def login(self, limits=""):
        """SASL PLAIN for anyone, then resource binding (with these
        extra features); returns once the client is bound."""
        await self.open_stream("<mechanisms xmlns='urn:ietf:params:xml:ns:"
                               "xmpp-sasl'><mechanism>PLAIN</mechanism>"
                               "</mechanisms>")
        await self.expect(rb"</auth>|<auth[^>]*/>")
        await self.send("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")
        await self.bind(limits)

    async def bind(self, limits=""):
        """After <success/>: the restarted stream and resource binding
        (with these extra features); returns once the client is bound."""
        await self.open_stream("<bind xmlns='urn:ietf:params:xml:ns:"
                               "xmpp-bind'/>" + limits)
        iq = await self.expect(rb"<iq[^>]*\bid=['\"]([^'\"]*).*?</iq>")
        bind_id = iq.group(1).decode()
        await self.send(f"<iq type='result' id='{bind_id}'><bind xmlns='urn:"
                        f"ietf:params:xml:ns:xmpp-bind'><jid>{JID}</jid>"
                        "</bind></iq>")
        log("bound")

    async def hold(self):
        """Read whatever comes, never answering, until the client closes;
        log the stream error it closed with (RFC 6120 §4.9)."""
        while data := await self.reader.read(65536):
            self.buf += data
        if m := ERROR.search(self.buf):
            log(f"client said {m.group(1).decode()}")
        log("client closed")


# ------------------------------------------------------------ stalls, SASL

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


SASL = "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'"
# What a client may answer a challenge with, or do instead (RFC 6120 §6.4).
ANSWER = (rb"<response[^>]*>([^<]*)</response>|<response[^>]*/>()"
          rb"|<abort[^>]*/>|</stream:stream>")


def mechanisms(*names):
    if not names:
        return f"<mechanisms {SASL}/>"
    return (f"<mechanisms {SASL}>"
            + "".join(f"<mechanism>{n}</mechanism>" for n in names)
            + "</mechanisms>")


def b64(data):
    return base64.b64encode(data).decode()


async def offer(conn, cert, key, *names):
    """STARTTLS, then these SASL mechanisms; returns the client's <auth/>
    match (group 1 the mechanism, group 2 the initial response). An
    <auth/> for a mechanism not offered (a client that guessed) gets
    <invalid-mechanism/> (RFC 6120 §6.4.5), and the next one is read."""
    await conn.starttls(cert, key)
    await conn.open_stream(mechanisms(*names))
    while True:
        auth = await conn.expect(
            rb"<auth [^>]*mechanism=['\"]([^'\"]*)['\"][^>]*?"
            rb"(?:/>|>([^<]*)</auth>)")
        mech = auth.group(1).decode()
        if mech in names:
            log(f"client chose {mech}")
            return auth
        log(f"client chose {mech}, not offered")
        await conn.send(f"<failure {SASL}><invalid-mechanism/></failure>")


async def answer(conn):
    """The client's answer to a challenge, base64-decoded; None (and
    logged) when it aborts or closes instead."""
    m = await conn.expect(ANSWER)
    if m.group(1) is None and m.group(2) is None:
        log("client aborted" if b"abort" in m.group(0) else "client closed")
        return None
    return base64.b64decode(m.group(1) or b"")


async def session(conn):
    """The client is authenticated: bind it, then log each stanza it
    sends (its start tag) and give every IQ request an empty result,
    until it leaves."""
    await conn.bind()
    while True:
        m = await conn.expect(rb"<(message|presence|iq)\b[^>]*>")
        log(f"received {m.group(0).decode()}")
        if m.group(1) == b"iq" and re.match(IQ_REQUEST, m.group(0)):
            iq_id = re.search(rb"\bid=['\"]([^'\"]*)", m.group(0))
            await conn.send(b"<iq type='result' id='%s'/>"
                            % (iq_id.group(1) if iq_id else b""))


def ssdp_hash(mechs):
    """XEP-0474 §5.1 without channel-binding types: SHA-1 of the sorted
    names joined by %x1E (this fixture offers no XEP-0440 feature)."""
    return b64(hashlib.sha1("\x1e".join(sorted(mechs)).encode()).digest())


async def scram_server(conn, tls, password, fault, ssdp_mechs=None):
    """RFC 5802 §3 and §7, the server side of SCRAM-SHA-1 after STARTTLS
    with tls (certificate, key), honest but for fault ("nosig",
    "badsig", "nonce" or None); h= with ssdp_mechs. Then a session for a
    client that accepts the outcome."""
    auth = await offer(conn, *tls, "SCRAM-SHA-1")
    first = base64.b64decode(auth.group(2) or b"").decode()
    cbflag, authzid, bare = first.split(",", 2)
    cnonce = re.search(r"(?:^|,)r=([^,]*)", bare).group(1)
    extra = b64(os.urandom(12))
    nonce = ("forged" + extra) if fault == "nonce" else cnonce + extra
    salt, count = os.urandom(16), 4096
    server_first = f"r={nonce},s={b64(salt)},i={count}"
    if ssdp_mechs:
        server_first += f",h={ssdp_hash(ssdp_mechs)}"
    await conn.send(f"<challenge {SASL}>{b64(server_first.encode())}"
                    "</challenge>")
    final = await answer(conn)
    if final is None:
        return
    final = final.decode()
    without_proof, proof = final.rsplit(",p=", 1)
    salted = hashlib.pbkdf2_hmac("sha1", password.encode(), salt, count)
    client_key = hmac.digest(salted, b"Client Key", "sha1")
    message = f"{bare},{server_first},{without_proof}".encode()
    signature = hmac.digest(hashlib.sha1(client_key).digest(), message, "sha1")
    expected = bytes(a ^ b for a, b in zip(client_key, signature))
    binding = re.search(r"(?:^|,)c=([^,]*)", without_proof).group(1)
    if (base64.b64decode(proof) != expected
            or binding != b64(f"{cbflag},{authzid},".encode())
            or f"r={nonce}" not in without_proof.split(",")):
        log("client proof wrong")
        await conn.send(f"<failure {SASL}><not-authorized/></failure>")
        await conn.hold()
        return
    log("client proof valid")
    server_key = hmac.digest(salted, b"Server Key", "sha1")
    v = hmac.digest(server_key, message, "sha1")
    if fault == "nosig":
        await conn.send(f"<success {SASL}/>")
    else:
        if fault == "badsig":
            v = bytes(b ^ 0x55 for b in v)
        await conn.send(f"<success {SASL}>{b64(b'v=' + b64(v).encode())}"
                        "</success>")
    await session(conn)


@mode("scram-nosig")
async def scram_nosig(conn, cert, key, password):
    await scram_server(conn, (cert, key), password, "nosig")


@mode("scram-badsig")
async def scram_badsig(conn, cert, key, password):
    await scram_server(conn, (cert, key), password, "badsig")


@mode("scram-nonce")
async def scram_nonce(conn, cert, key, password):
    await scram_server(conn, (cert, key), password, "nonce")


@mode("ssdp-mismatch")
async def ssdp_mismatch(conn, cert, key, password,
                        mechs="SCRAM-SHA-1,SCRAM-SHA-256"):
    await scram_server(conn, (cert, key), password, None, mechs.split(","))


@mode("digest-md5")
async def digest_md5(conn, cert, key):
    await offer(conn, cert, key, "DIGEST-MD5")
    # RFC 2831 §2.1.1: the digest-challenge; rspauth and the rest are not
    # checked, as nothing the client answers is acceptable.
    await conn.send(f"<challenge {SASL}>" + b64(
        b'realm="localhost",nonce="hostile",qop="auth",charset=utf-8,'
        b'algorithm=md5-sess') + "</challenge>")
    if await answer(conn) is not None:
        await conn.send(f"<success {SASL}/>")
        await session(conn)


@mode("no-mechs")
async def no_mechs(conn, cert, key):
    await offer(conn, cert, key)  # returns never: no <auth/> is right


@mode("plain-only")
async def plain_only(conn, cert, key, password):
    auth = await offer(conn, cert, key, "PLAIN")
    data = auth.group(2) or b""
    if data in (b"", b"="):  # RFC 6120 §6.4.2: the response comes apart
        await conn.send(f"<challenge {SASL}/>")
        data = base64.b64encode(await answer(conn) or b"")
    # RFC 4616: authzid NUL authcid NUL passwd
    if base64.b64decode(data).split(b"\0")[-1] != password.encode():
        log("client password wrong")
        await conn.send(f"<failure {SASL}><not-authorized/></failure>")
        await conn.hold()
        return
    log("client password right")
    await conn.send(f"<success {SASL}/>")
    await session(conn)


# --------------------------------------------------------- the XML itself

# Each entity ten of the one before: lol9 is 10^9 "lol"s.
LAUGHS = ("<!DOCTYPE stream:stream [<!ENTITY lol0 'lol'>"
          + "".join(f"<!ENTITY lol{i} '{f'&lol{i - 1};' * 10}'>"
                    for i in range(1, 10))
          + "]>")
DOCTYPES = {"doctype": "<!DOCTYPE stream:stream [<!ENTITY x 'boom'>]>",
            "laughs": LAUGHS}
LIMITS = ("<limits xmlns='urn:xmpp:stream-limits:0'><max-bytes>{}"
          "</max-bytes></limits>")


def message(body, to=JID):
    return (f"<message from='{PEER}' to='{to}' type='chat'><body>{body}"
            "</body></message>")


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
        raise EOFError
    elif case == "ping":
        await c.expect(rb"<ping xmlns=.urn:xmpp:ping.")
        await c.send("<iq from='localhost' type='result' id='x'><bad></iq>")
    log(f"sent {case}")


@mode("xml", direct_tls=True)
async def xml(conn, case, arg=""):
    if case == "redoctype":
        case = "doctype" if conn.number > 1 else "drop"
    if case in DOCTYPES:
        await conn.open_stream("<mechanisms xmlns='urn:ietf:params:xml:ns:"
                               "xmpp-sasl'><mechanism>PLAIN</mechanism>"
                               "</mechanisms>", doctype=DOCTYPES[case])
        if case == "laughs":  # and use it, if the client read on
            await conn.send(message("&lol9;"))
        log("sent doctype")
    else:
        await conn.login(LIMITS.format(arg) if case == "announce" else "")
        await attack(conn, case, arg)
    # The client is the one to close, saying why with a stream error.
    await conn.hold()


# ------------------------------------------------------ XEP-0114 component

async def ping_until_cancelled(writer):
    """XEP-0199 pings, every 50 ms."""
    while True:
        writer.write(b"<iq type='get' id='hostile-go'>"
                     b"<ping xmlns='urn:xmpp:ping'/></iq>")
        await writer.drain()
        await asyncio.sleep(0.05)


@mode("component")
async def component(conn, path):
    with open(path, "rb") as f:
        script = f.read()
    m = await conn.expect(HEADER)
    to = re.search(rb"to=['\"]([^'\"]*)", m.group(0))
    await conn.send(STREAM.format(
        doctype="", ns="jabber:component:accept", id="hostile-%d" % conn.number,
        host=to.group(1).decode() if to else "localhost"))
    await conn.expect(rb"</handshake>")
    await conn.send("<handshake/>")
    # The component is ready for the script once it answers a ping, or
    # asks something itself (a tool that answers no pings: its request
    # is left in buf, to be answered below).
    pinger = asyncio.create_task(ping_until_cancelled(conn.writer))
    try:
        while not re.search(rb"id=['\"]hostile-go|" + IQ_REQUEST, conn.buf):
            data = await conn.reader.read(65536)
            if not data:
                raise EOFError
            conn.buf += data
    finally:
        pinger.cancel()
    conn.buf = re.sub(rb"^.*?id=['\"]hostile-go", b"", conn.buf, 1, re.S)
    await conn.send(script)
    log("sent script")
    if script.rstrip().endswith(b"</stream:stream>"):
        return
    while True:  # answer IQ requests (pings) until the client leaves
        m = await conn.expect(IQ_REQUEST)
        attr = dict(re.findall(rb"(id|from|to)=['\"]([^'\"]*)", m.group(0)))
        await conn.send(b"<iq type='result' id='%s' from='%s' to='%s'/>" % (
            attr.get(b"id", b""), attr.get(b"to", b""), attr.get(b"from", b"")))


# ------------------------------------------------------------------ serving

async def serve(play, args, reader, writer):
    conn = Conn(reader, writer)
    try:
        await play(conn, *args)
    except (EOFError, ConnectionError, ssl.SSLError) as e:
        # A client that closes with our bytes unread resets the
        # connection, and a reset makes the reader drop what it holds:
        # the stream error the client sent before may be in there.
        conn.buf += bytes(getattr(reader, "_buffer", b""))
        if m := ERROR.search(conn.buf):
            log(f"client said {m.group(1).decode()}")
        log(f"client closed ({type(e).__name__})")
    finally:
        writer.close()


async def main(name, args):
    play, direct_tls = MODES[name]
    ctx = None
    if direct_tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args[0], args[1])
        args = args[2:]
    server = await asyncio.start_server(
        lambda r, w: serve(play, args, r, w), "127.0.0.1", 0, ssl=ctx)
    log("listening", server.sockets[0].getsockname()[1])
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in MODES:
        sys.exit(f"usage: {sys.argv[0]} {'|'.join(MODES)} [ARG...]")
    try:
        asyncio.run(main(sys.argv[1], sys.argv[2:]))
    except KeyboardInterrupt:
        pass
