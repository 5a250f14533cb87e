#!/usr/bin/python3
"""An XMPP peer that is not ours (slixmpp), for interop tests.

    peer.py recv JID COUNT      print COUNT message bodies, one per line,
                                as FROM<TAB>BODY (newlines as \\n); says
                                "ready" on stderr once its presence is out
    peer.py chatstate JID TO    send TO a body-less <composing/> chat state,
                                then a message with the body "after"

The password comes from $PEER_PASSWORD (never argv); the server is
127.0.0.1:$XS_PORT, its certificate trusted from $XS_CA.
"""
import asyncio
import os
import ssl
import sys

import slixmpp

from peer_sasl import scram_without_channel_binding


class Peer(slixmpp.ClientXMPP):
    def __init__(self, jid, mode, arg):
        super().__init__(jid, os.environ["PEER_PASSWORD"])
        scram_without_channel_binding(self)
        self.mode, self.arg, self.got = mode, arg, 0
        ctx = ssl.create_default_context(cafile=os.environ["XS_CA"])
        self.ssl_context = ctx
        # slixmpp 1.8 offers channel binding ("y,,") in SCRAM-SHA-1 where
        # the server has -PLUS, which ejabberd 24.12 rightly refuses as a
        # downgrade; PLAIN (under TLS) logs in everywhere.
        self["feature_mechanisms"].use_mech = "PLAIN"
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("failed_auth", lambda _: self.fail("auth"))

    def fail(self, why):
        print(f"peer: {why} failed", file=sys.stderr, flush=True)
        os._exit(1)

    async def start(self, _event):
        if self.mode == "recv":
            self.send_presence()
            await self.get_roster()
            print("ready", file=sys.stderr, flush=True)
            return
        state = self.make_message(mto=self.arg, mtype="chat")
        state.append(slixmpp.xmlstream.ET.Element(
            "{http://jabber.org/protocol/chatstates}composing"))
        state.send()
        self.send_message(mto=self.arg, mbody="after", mtype="chat")
        # A round trip proves the server has both before we leave.
        await self.plugin["xep_0199"].send_ping(self.boundjid.domain)
        self.disconnect()

    def on_message(self, msg):
        if self.mode != "recv" or not msg["body"]:
            return
        body = msg["body"].replace("\\", "\\\\").replace("\n", "\\n")
        print(f"{msg['from']}\t{body}", flush=True)
        self.got += 1
        if self.got >= int(self.arg):
            self.disconnect()


def main():
    mode, jid, arg = sys.argv[1:4]
    peer = Peer(jid, mode, arg)
    peer.register_plugin("xep_0199")
    peer.connect(address=("127.0.0.1", int(os.environ["XS_PORT"])))
    peer.loop.call_later(20, lambda: peer.fail("deadline"))
    asyncio.get_event_loop().run_until_complete(peer.disconnected)


if __name__ == "__main__":
    main()
