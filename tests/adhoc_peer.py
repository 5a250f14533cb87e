#!/usr/bin/python3
"""An ad-hoc command provider that is not ours (slixmpp, XEP-0050), for
tests/command.bats: commands with more than one form, which Prosody's
own admin commands never have.

    adhoc_peer.py JID     log in as JID (with a resource), offer the
                          commands below, say "ready" on stderr, and
                          stay until killed or 30 seconds pass

  deploy   stage 1: env (list-single: staging, production; required);
           stage 2: version (text-single, required), hosts (jid-multi),
                    notify (boolean, default 0);
           completes with the note "deployed VERSION to ENV" and a
           result form (env, version, hosts, notify).
  broken   completes at once with an error note "disk full".

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
    def __init__(self, jid):
        super().__init__(jid, os.environ["PEER_PASSWORD"])
        scram_without_channel_binding(self)
        self.ssl_context = ssl.create_default_context(cafile=os.environ["XS_CA"])
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("failed_auth", lambda _: self.fail("auth"))
        self.chosen = {}

    def fail(self, why):
        print(f"adhoc_peer: {why} failed", file=sys.stderr, flush=True)
        os._exit(1)

    async def start(self, _event):
        adhoc = self.plugin["xep_0050"]
        adhoc.add_command(node="deploy", name="Deploy", handler=self.deploy)
        adhoc.add_command(node="broken", name="Always fails", handler=self.broken)
        self.send_presence()
        print("ready", file=sys.stderr, flush=True)

    def form(self, title):
        return self.plugin["xep_0004"].make_form("form", title)

    def deploy(self, _iq, session):
        form = self.form("Deploy: where")
        form.add_field(var="env", ftype="list-single", label="Environment",
                       required=True,
                       options=[{"label": "Staging", "value": "staging"},
                                {"label": "Production", "value": "production"}])
        session.update(payload=form, next=self.deploy_what, has_next=True)
        return session

    def deploy_what(self, payload, session):
        self.chosen["env"] = payload.get_values()["env"]
        form = self.form("Deploy: what")
        form.add_field(var="version", ftype="text-single", label="Version",
                       required=True)
        form.add_field(var="hosts", ftype="jid-multi", label="Hosts")
        form.add_field(var="notify", ftype="boolean", label="Notify",
                       value=False)
        session.update(payload=form, next=self.deploy_done, has_next=False)
        return session

    def deploy_done(self, payload, session):
        v = payload.get_values()
        result = self.plugin["xep_0004"].make_form("result", "Deployed")
        result.add_field(var="env", ftype="text-single",
                         value=self.chosen["env"])
        result.add_field(var="version", ftype="text-single",
                         value=v["version"])
        result.add_field(var="hosts", ftype="jid-multi",
                         value=v.get("hosts") or [])
        result.add_field(var="notify", ftype="boolean", value=v["notify"])
        note = f"deployed {v['version']} to {self.chosen['env']}"
        session.update(payload=result, next=None, has_next=False,
                       notes=[("info", note)])
        return session

    def broken(self, _iq, session):
        session.update(payload=None, next=None, notes=[("error", "disk full")])
        return session


def main():
    peer = Peer(sys.argv[1])
    for plugin in ("xep_0004", "xep_0030", "xep_0050"):
        peer.register_plugin(plugin)
    peer.connect(address=("127.0.0.1", int(os.environ["XS_PORT"])))
    peer.loop.call_later(30, peer.disconnect)
    asyncio.get_event_loop().run_until_complete(peer.disconnected)


if __name__ == "__main__":
    main()
