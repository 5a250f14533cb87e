/* common/omemo/wire.c: what a server or a contact hands us as OMEMO
 * 0.3 or OMEMO 2 (device lists, bundles, <encrypted/> elements), and
 * libomemo-c's reading of the <key/> bytes in them, which come from the
 * network as they are; common/omemo/sce.c: the XEP-0420 envelope an
 * OMEMO 2 payload opens to. Any element: the parsers accept it or give
 * a reason, and what they accept holds what was checked (ids in range,
 * keys of 33 bytes with the Curve25519 type, a 64-byte signature, a
 * 12-byte IV). */
#include <protocol.h>
#include <stdlib.h>
#include <string.h>

#include "common/io/xmlin.h"
#include "common/omemo/omemo_priv.h"
#include "fuzz.h"

static xmpp_ctx_t *ctx;
static signal_context *sg;

/* The JID OMEMO 2 keys are looked for under (the seeds' recipient). */
#define TO "s2@localhost"

static void devices(xmpp_stanza_t *el, unsigned gen)
{
    uint32_t *ids = NULL;
    size_t n = 0;
    if (!wire_parse_devices(el, gen, &ids, &n))
        for (size_t i = 0; i < n; i++) {
            CHECK(ids[i] >= 1 && ids[i] <= 0x7fffffff);
            for (size_t j = 0; j < i; j++)
                CHECK(ids[i] != ids[j]);
        }
    free(ids);
}

static void bundle(xmpp_stanza_t *el, unsigned gen)
{
    struct wire_bundle b;
    if (!wire_parse_bundle(ctx, el, gen, &b)) {
        CHECK(b.spk[0] == 0x05 && b.ik[0] == 0x05 && b.pk[0] == 0x05);
        CHECK(b.sig && b.sig_len == 64);
        CHECK(b.spk_id >= 1 && b.pk_id >= 1);
        CHECK(b.gen == gen);
        ec_public_key *k = NULL;
        if (!curve_decode_point(&k, b.ik, 33, sg))
            SIGNAL_UNREF(k);
        if (gen == OMEMO_V2 && !curve_decode_point_ed(&k, b.ik_ed, 32, sg))
            SIGNAL_UNREF(k);
    }
    wire_bundle_free(&b);
}

/* libomemo-c's deserializers on each key's bytes, as decrypt does. */
static void keys(const struct wire_msg *m, unsigned gen)
{
    bool two = gen == OMEMO_V2;
    for (size_t i = 0; i < m->nkeys; i++) {
        const struct wire_key *k = &m->keys[i];
        CHECK(k->len > 0 && k->rid >= 1);
        pre_key_signal_message *pk = NULL;
        signal_message *sm = NULL;
        if (!(two ? pre_key_signal_message_deserialize_omemo(&pk, k->data,
                                                             k->len, 7, sg)
                  : pre_key_signal_message_deserialize(&pk, k->data, k->len,
                                                       sg)))
            SIGNAL_UNREF(pk);
        if (!(two ? signal_message_deserialize_omemo(&sm, k->data, k->len, sg)
                  : signal_message_deserialize(&sm, k->data, k->len, sg)))
            SIGNAL_UNREF(sm);
    }
}

static void encrypted(xmpp_stanza_t *el, unsigned gen)
{
    struct wire_msg m;
    if (!(gen == OMEMO_V2 ? wire_parse_msg2(ctx, el, TO, &m)
                          : wire_parse_msg(ctx, el, &m))) {
        CHECK(m.sid >= 1 && m.sid <= 0x7fffffff);
        CHECK(!m.payload || m.payload_len > 0);
        keys(&m, gen);
    }
    wire_msg_free(&m);
}

/* The envelope checks: a text only from alice to bob. */
static void envelope(const uint8_t *data, size_t size)
{
    char *text = NULL;
    const char *why = sce_open(ctx, (const char *)data, size, "bob@localhost",
                               "alice@localhost", &text);
    CHECK(!why == !!text);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ctx) {
        ctx = xmpp_ctx_new(NULL, NULL);
        signal_context_create(&sg, NULL);
        signal_context_set_crypto_provider(sg, &omemo_crypto);
    }
    envelope(data, size);
    xmpp_stanza_t *st = NULL;
    if (xmlin_parse_one(ctx, "fuzz", (const char *)data, size, &st))
        return 0;
    for (unsigned gen = OMEMO_V03; gen <= OMEMO_V2; gen++) {
        devices(st, gen);
        bundle(st, gen);
        encrypted(st, gen);
        xmpp_stanza_t *enc = xmpp_stanza_get_child_by_name_and_ns(
            st, "encrypted", gen == OMEMO_V2 ? NS_OMEMO2 : NS_OMEMO);
        if (enc)
            encrypted(enc, gen);
    }
    xmpp_stanza_release(st);
    return 0;
}
