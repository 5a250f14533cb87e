#!/usr/bin/python3
"""An OMEMO peer that is not ours: Syndace's python-omemo with its
OMEMO 0.3 backend (python3-omemo, python3-oldmemo) and, with
$PEER_GENS, its OMEMO 2 one (python3-twomemo) over slixmpp's PEP.

    omemo_peer.py recv JID COUNT   publish our device and bundle (open
                                   access), say "ready" on stderr, then
                                   print COUNT messages as FROM<TAB>BODY
                                   (newlines as \\n); one that does not
                                   decrypt as FROM<TAB>ERROR: WHY
    omemo_peer.py send JID TO TEXT...
                                   encrypt each TEXT for TO's devices
                                   (and our other ones) and send it
    omemo_peer.py publish JID      publish, print our device id and the
                                   fingerprint of our identity key

$PEER_GENS: "0.3" (the default), "2" or "both": the generations this
device announces and speaks (one identity and device id for both, as
python-omemo does). Sending, a device that has both gets OMEMO 2; all
of a message's elements go in one stanza. OMEMO 2's plaintext is an
XEP-0420 envelope, built here (its to affix $PEER_SCE_TO when set, to
test that the receiver checks it); received, its body is printed.

Keys persist in $PEER_STATE/JID.json (a second run is the same device;
another PEER_STATE is another device of the same account). The password
comes from $PEER_PASSWORD; the server is 127.0.0.1:$XS_PORT, its
certificate trusted from $XS_CA. Trust is blind: every device is
trusted.
"""
import asyncio
import json
import os
import ssl
import sys

import omemo
import oldmemo
import oldmemo.etree
import secrets
import slixmpp
import twomemo
import twomemo.etree
from datetime import datetime, timezone
from xml.sax.saxutils import escape as xml_escape, quoteattr
from slixmpp.exceptions import IqError, IqTimeout
from slixmpp.xmlstream import ET
from slixmpp.xmlstream.handler import CoroutineCallback
from slixmpp.xmlstream.matcher import MatchXPath

NS = oldmemo.oldmemo.NAMESPACE
NS2 = twomemo.twomemo.NAMESPACE
GENS = os.environ.get("PEER_GENS", "0.3")
NAMESPACES = {"0.3": [NS], "2": [NS2], "both": [NS2, NS]}[GENS]
CLIENT = None  # the one slixmpp client; python-omemo's hooks are static


class Storage(omemo.Storage):
    def __init__(self, path):
        super().__init__()
        self.path = path
        self.data = {}
        if os.path.exists(path):
            with open(path) as f:
                self.data = json.load(f)

    def flush(self):
        with open(self.path + ".tmp", "w") as f:
            json.dump(self.data, f)
        os.replace(self.path + ".tmp", self.path)

    async def _load(self, key):
        if key in self.data:
            return omemo.Just(self.data[key])
        return omemo.Nothing()

    async def _store(self, key, value):
        self.data[key] = value
        self.flush()

    async def _delete(self, key):
        self.data.pop(key, None)
        self.flush()


def open_access(many=False):
    form = CLIENT["xep_0004"].make_form("submit")
    form.add_field(var="FORM_TYPE", ftype="hidden",
                   value="http://jabber.org/protocol/pubsub#publish-options")
    form.add_field(var="pubsub#access_model", value="open")
    if many:  # XEP-0384 v0.8 §4.3: every device's bundle in one node
        form.add_field(var="pubsub#max_items", value="max")
    return form


async def publish(node, payload, item="current", many=False):
    await CLIENT["xep_0060"].publish(None, node, id=item, payload=payload,
                                     options=open_access(many))


async def first_item(jid, node, item=None):
    try:
        if item is None:
            iq = await CLIENT["xep_0060"].get_items(jid, node, max_items=1)
        else:
            iq = await CLIENT["xep_0060"].get_items(jid, node,
                                                    item_ids=[item])
    except (IqError, IqTimeout):
        return None
    for item in iq["pubsub"]["items"]:
        return item.xml[0] if len(item.xml) else None
    return None


class Manager(omemo.SessionManager):
    @staticmethod
    async def _upload_bundle(bundle):
        if bundle.namespace == NS2:
            await publish(f"{NS2}:bundles", twomemo.etree.serialize_bundle(bundle),
                          item=str(bundle.device_id), many=True)
        else:
            await publish(f"{NS}.bundles:{bundle.device_id}",
                          oldmemo.etree.serialize_bundle(bundle))

    @staticmethod
    async def _download_bundle(namespace, bare_jid, device_id):
        if namespace == NS2:
            el = await first_item(bare_jid, f"{NS2}:bundles", str(device_id))
        else:
            el = await first_item(bare_jid, f"{NS}.bundles:{device_id}")
        if el is None:
            raise omemo.BundleDownloadFailed(f"no bundle {bare_jid}/{device_id}")
        etree = twomemo.etree if namespace == NS2 else oldmemo.etree
        return etree.parse_bundle(el, bare_jid, device_id)

    @staticmethod
    async def _delete_bundle(namespace, device_id):
        pass

    @staticmethod
    async def _upload_device_list(namespace, device_list):
        if namespace == NS2:
            await publish(f"{NS2}:devices",
                          twomemo.etree.serialize_device_list(device_list))
        else:
            await publish(f"{NS}.devicelist",
                          oldmemo.etree.serialize_device_list(device_list))

    @staticmethod
    async def _download_device_list(namespace, bare_jid):
        if namespace == NS2:
            el = await first_item(bare_jid, f"{NS2}:devices")
            return {} if el is None else twomemo.etree.parse_device_list(el)
        el = await first_item(bare_jid, f"{NS}.devicelist")
        return {} if el is None else oldmemo.etree.parse_device_list(el)

    async def _evaluate_custom_trust_level(self, device):
        return omemo.TrustLevel.TRUSTED

    async def _make_trust_decision(self, undecided, identifier):
        pass

    @staticmethod
    async def _send_message(message, bare_jid):
        CLIENT.send_encrypted(bare_jid, [serialize(message)])


def serialize(message):
    if message.namespace == NS2:
        return twomemo.etree.serialize_message(message)
    return oldmemo.etree.serialize_message(message)


def envelope(text, to, sender):
    """XEP-0420 §3: what OMEMO 2 encrypts (XEP-0384 v0.8 §4.4)."""
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    to = os.environ.get("PEER_SCE_TO", to)
    return ("<envelope xmlns='urn:xmpp:sce:1'><content>"
            f"<body xmlns='jabber:client'>{xml_escape(text)}</body></content>"
            f"<rpad>{secrets.token_hex(secrets.randbelow(40))}</rpad>"
            f"<to jid={quoteattr(to)}/><from jid={quoteattr(sender)}/>"
            f"<time stamp='{now}'/></envelope>").encode()


def envelope_body(plain):
    el = ET.fromstring(plain)
    body = el.find("{urn:xmpp:sce:1}content/{jabber:client}body")
    return "" if body is None or body.text is None else body.text


def escape(s):
    return s.replace("\\", "\\\\").replace("\n", "\\n")


class Peer(slixmpp.ClientXMPP):
    def __init__(self, jid, mode, args):
        super().__init__(jid, os.environ["PEER_PASSWORD"])
        self.mode, self.args, self.got, self.sm = mode, args, 0, None
        self.seen = set()
        self.lock = asyncio.Lock()  # one message at a time, in order
        self.ssl_context = ssl.create_default_context(cafile=os.environ["XS_CA"])
        # slixmpp 1.8 offers channel binding ("y,,") in SCRAM-SHA-1 where
        # the server has -PLUS, which ejabberd 24.12 rightly refuses as a
        # downgrade; PLAIN (under TLS) logs in everywhere.
        self["feature_mechanisms"].use_mech = "PLAIN"
        self.add_event_handler("session_start", self.start)
        # slixmpp's "message" event skips messages without a body, such
        # as the empty ones that repair sessions: match <encrypted/>.
        for ns in NAMESPACES:
            self.register_handler(CoroutineCallback(
                "OMEMO " + ns,
                MatchXPath(f"{{jabber:client}}message/{{{ns}}}encrypted"),
                self.on_message))
        self.add_event_handler("failed_auth", lambda _: self.fail("auth"))

    def fail(self, why):
        print(f"omemo_peer: {why} failed", file=sys.stderr, flush=True)
        os._exit(1)

    def send_encrypted(self, to, els):
        msg = self.make_message(mto=to, mtype="chat",
                                mbody="This message is OMEMO encrypted.")
        for el in els:
            msg.append(el)
        msg.append(ET.Element("{urn:xmpp:hints}store"))
        msg.send()

    async def start(self, _event):
        state = os.environ.get("PEER_STATE", ".")
        storage = Storage(os.path.join(state, self.boundjid.bare + ".json"))
        backends = {NS: lambda: oldmemo.Oldmemo(storage),
                    NS2: lambda: twomemo.Twomemo(storage)}
        self.sm = await Manager.create([backends[ns]() for ns in NAMESPACES],
                                       storage, self.boundjid.bare, None,
                                       "blind")
        if self.mode == "publish":
            own, _ = await self.sm.get_own_device_information()
            fpr = "".join(self.sm.format_identity_key(own.identity_key))
            print(f"{own.device_id}\t{fpr}", flush=True)
            await self.done()
        elif self.mode == "recv":
            self.send_presence()
            await self.get_roster()
            print("ready", file=sys.stderr, flush=True)
        else:
            # Take what waits offline first (a session repair, say): the
            # server hands it over on our presence, before the ping's
            # answer.
            self.send_presence()
            await self.plugin["xep_0199"].send_ping(self.boundjid.domain)
            async with self.lock:
                pass
            to = self.args[0]
            # Clients learn device lists from PEP notifications (+notify);
            # this one asks, once.
            for ns in NAMESPACES:
                await self.sm.refresh_device_list(ns, to)
            for text in self.args[1:]:
                plain = {NS: text.encode(),
                         NS2: envelope(text, to, self.boundjid.bare)}
                msgs, errors = await self.sm.encrypt(
                    frozenset([to]), {ns: plain[ns] for ns in NAMESPACES},
                    NAMESPACES)
                for e in errors:
                    print(f"omemo_peer: {e}", file=sys.stderr, flush=True)
                self.send_encrypted(to, [serialize(m) for m in msgs])
            await self.done()

    async def done(self):
        # A round trip proves the server has what we sent before we leave.
        await self.plugin["xep_0199"].send_ping(self.boundjid.domain)
        self.disconnect()

    async def on_message(self, msg):
        # One handler per namespace matches a message with both: the
        # first call takes it (OMEMO 2 first, as a client would).
        if self.sm is None or msg["id"] in self.seen:
            return
        self.seen.add(msg["id"])
        for ns in NAMESPACES:
            el = msg.xml.find(f"{{{ns}}}encrypted")
            if el is not None:
                break
        else:
            return
        async with self.lock:
            await self.decrypt(msg, el, ns)

    async def decrypt(self, msg, el, ns):
        sender = msg["from"].bare
        try:
            if ns == NS2:
                parsed = twomemo.etree.parse_message(el, sender)
            else:
                parsed = await oldmemo.etree.parse_message(
                    el, sender, self.boundjid.bare, self.sm)
            plain, device, _ = await self.sm.decrypt(parsed)
            if plain is not None and ns == NS2:
                plain = envelope_body(plain).encode()
        except Exception as e:  # the test asserts on what went wrong
            line = f"{sender}\tERROR: {type(e).__name__}: {e}"
        else:
            if plain is None:  # an empty message (session upkeep): no text
                print(f"omemo_peer: empty message from {sender}",
                      file=sys.stderr, flush=True)
                return
            tag = "" if GENS == "0.3" else f"[{'2' if ns == NS2 else '0.3'}] "
            line = f"{sender}\t{tag}{escape(plain.decode())}"
        if self.mode != "recv":
            print(f"omemo_peer: got {line}", file=sys.stderr, flush=True)
            return
        print(line, flush=True)
        self.got += 1
        if self.got >= int(self.args[0]):
            await self.done()


def main():
    global CLIENT
    mode, jid, *args = sys.argv[1:]
    CLIENT = peer = Peer(jid, mode, args)
    for p in ("xep_0004", "xep_0060", "xep_0199"):
        peer.register_plugin(p)
    peer.connect(address=("127.0.0.1", int(os.environ["XS_PORT"])))
    peer.loop.call_later(int(os.environ.get("PEER_DEADLINE", "30")),
                         lambda: peer.fail("deadline"))
    asyncio.get_event_loop().run_until_complete(peer.disconnected)


if __name__ == "__main__":
    main()
