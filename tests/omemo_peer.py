#!/usr/bin/python3
"""An OMEMO peer that is not ours: Syndace's python-omemo with its
OMEMO 0.3 backend (python3-omemo, python3-oldmemo) over slixmpp's PEP.

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
import slixmpp
from slixmpp.exceptions import IqError, IqTimeout
from slixmpp.xmlstream import ET
from slixmpp.xmlstream.handler import CoroutineCallback
from slixmpp.xmlstream.matcher import MatchXPath

NS = oldmemo.oldmemo.NAMESPACE
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


def open_access():
    form = CLIENT["xep_0004"].make_form("submit")
    form.add_field(var="FORM_TYPE", ftype="hidden",
                   value="http://jabber.org/protocol/pubsub#publish-options")
    form.add_field(var="pubsub#access_model", value="open")
    return form


async def publish(node, payload):
    await CLIENT["xep_0060"].publish(None, node, id="current",
                                     payload=payload, options=open_access())


async def first_item(jid, node):
    try:
        iq = await CLIENT["xep_0060"].get_items(jid, node, max_items=1)
    except (IqError, IqTimeout):
        return None
    for item in iq["pubsub"]["items"]:
        return item.xml[0] if len(item.xml) else None
    return None


class Manager(omemo.SessionManager):
    @staticmethod
    async def _upload_bundle(bundle):
        await publish(f"{NS}.bundles:{bundle.device_id}",
                      oldmemo.etree.serialize_bundle(bundle))

    @staticmethod
    async def _download_bundle(namespace, bare_jid, device_id):
        el = await first_item(bare_jid, f"{NS}.bundles:{device_id}")
        if el is None:
            raise omemo.BundleDownloadFailed(f"no bundle {bare_jid}/{device_id}")
        return oldmemo.etree.parse_bundle(el, bare_jid, device_id)

    @staticmethod
    async def _delete_bundle(namespace, device_id):
        pass

    @staticmethod
    async def _upload_device_list(namespace, device_list):
        await publish(f"{NS}.devicelist",
                      oldmemo.etree.serialize_device_list(device_list))

    @staticmethod
    async def _download_device_list(namespace, bare_jid):
        el = await first_item(bare_jid, f"{NS}.devicelist")
        return {} if el is None else oldmemo.etree.parse_device_list(el)

    async def _evaluate_custom_trust_level(self, device):
        return omemo.TrustLevel.TRUSTED

    async def _make_trust_decision(self, undecided, identifier):
        pass

    @staticmethod
    async def _send_message(message, bare_jid):
        CLIENT.send_encrypted(bare_jid, oldmemo.etree.serialize_message(message))


def escape(s):
    return s.replace("\\", "\\\\").replace("\n", "\\n")


class Peer(slixmpp.ClientXMPP):
    def __init__(self, jid, mode, args):
        super().__init__(jid, os.environ["PEER_PASSWORD"])
        self.mode, self.args, self.got, self.sm = mode, args, 0, None
        self.lock = asyncio.Lock()  # one message at a time, in order
        self.ssl_context = ssl.create_default_context(cafile=os.environ["XS_CA"])
        # slixmpp 1.8 offers channel binding ("y,,") in SCRAM-SHA-1 where
        # the server has -PLUS, which ejabberd 24.12 rightly refuses as a
        # downgrade; PLAIN (under TLS) logs in everywhere.
        self["feature_mechanisms"].use_mech = "PLAIN"
        self.add_event_handler("session_start", self.start)
        # slixmpp's "message" event skips messages without a body, such
        # as the empty ones that repair sessions: match <encrypted/>.
        self.register_handler(CoroutineCallback(
            "OMEMO", MatchXPath(f"{{jabber:client}}message/{{{NS}}}encrypted"),
            self.on_message))
        self.add_event_handler("failed_auth", lambda _: self.fail("auth"))

    def fail(self, why):
        print(f"omemo_peer: {why} failed", file=sys.stderr, flush=True)
        os._exit(1)

    def send_encrypted(self, to, el):
        msg = self.make_message(mto=to, mtype="chat",
                                mbody="This message is OMEMO encrypted.")
        msg.append(el)
        msg.append(ET.Element("{urn:xmpp:hints}store"))
        msg.send()

    async def start(self, _event):
        state = os.environ.get("PEER_STATE", ".")
        storage = Storage(os.path.join(state, self.boundjid.bare + ".json"))
        self.sm = await Manager.create([oldmemo.Oldmemo(storage)], storage,
                                       self.boundjid.bare, None, "blind")
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
            await self.sm.refresh_device_list(NS, to)
            for text in self.args[1:]:
                msgs, errors = await self.sm.encrypt(frozenset([to]),
                                                     {NS: text.encode()})
                for e in errors:
                    print(f"omemo_peer: {e}", file=sys.stderr, flush=True)
                for m in msgs:
                    self.send_encrypted(to, oldmemo.etree.serialize_message(m))
            await self.done()

    async def done(self):
        # A round trip proves the server has what we sent before we leave.
        await self.plugin["xep_0199"].send_ping(self.boundjid.domain)
        self.disconnect()

    async def on_message(self, msg):
        el = msg.xml.find(f"{{{NS}}}encrypted")
        if el is None or self.sm is None:
            return
        async with self.lock:
            await self.decrypt(msg, el)

    async def decrypt(self, msg, el):
        sender = msg["from"].bare
        try:
            parsed = await oldmemo.etree.parse_message(
                el, sender, self.boundjid.bare, self.sm)
            plain, device, _ = await self.sm.decrypt(parsed)
        except Exception as e:  # the test asserts on what went wrong
            line = f"{sender}\tERROR: {type(e).__name__}: {e}"
        else:
            if plain is None:  # an empty message (session upkeep): no text
                print(f"omemo_peer: empty message from {sender}",
                      file=sys.stderr, flush=True)
                return
            line = f"{sender}\t{escape(plain.decode())}"
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
