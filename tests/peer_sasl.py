"""How the slixmpp test peers (peer.py, adhoc_peer.py) log in: SCRAM
without channel binding, on both servers.

slixmpp 1.8.3 (bookworm) binds SCRAM-*-PLUS to tls-unique, which TLS 1.3
does not define; ejabberd 24.12 offers tls-exporter and
tls-server-end-point only and refuses it ("Invalid channel binding").
Given a binding but a mechanism without -PLUS, slixmpp sends the GS2
flag "y" (client could bind, server seems unable), which a server that
offers -PLUS must refuse as well (RFC 5802 §6, downgrade detection). So
the peers log in as a client without channel binding does: SCRAM, flag
"n".
"""


def scram_without_channel_binding(client):
    sasl = client["feature_mechanisms"]
    sasl.use_mechs = {"SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-512"}
    credentials = sasl.sasl_callback

    def no_binding(required, optional):
        values = credentials(required, optional)
        if "channel_binding" in values:
            values["channel_binding"] = None
        return values

    sasl.sasl_callback = no_binding
