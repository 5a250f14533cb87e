/* The mechanism policy; see mech.h. */
#include "common/auth/mech.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/cli/exitcode.h"

/* Ours, best first, with their family rank. */
static const struct {
    const char *name;
    int rank;
    bool plus;
} ours[] = {
    {"SCRAM-SHA-512-PLUS", 3, true},
    {"SCRAM-SHA-256-PLUS", 3, true},
    {"SCRAM-SHA-1-PLUS", 3, true},
    {"SCRAM-SHA-512", 2, false},
    {"SCRAM-SHA-256", 2, false},
    {"SCRAM-SHA-1", 2, false},
    {"PLAIN", 1, false},
};
#define NOURS (sizeof ours / sizeof ours[0])

/* Channel-binding types we implement, best first (RFC 9266 §3:
 * tls-exporter binds the session, tls-server-end-point only the
 * certificate). tls-unique is undefined for TLS 1.3 and not done. */
static const char *const cb_pref[] = {"tls-exporter", "tls-server-end-point"};

__attribute__((format(printf, 2, 3))) static int refuse(struct mech_choice *c,
                                                        const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->error, sizeof c->error, fmt, ap);
    va_end(ap);
    c->mech = NULL;
    return XE_AUTH;
}

static bool listed(const char *const *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] && !strcmp(v[i], name))
            return true;
    return false;
}

int mech_rank(const char *mech)
{
    if (!mech)
        return 0;
    if (!strcmp(mech, "EXTERNAL"))
        return 3;
    for (size_t i = 0; i < NOURS; i++)
        if (!strcmp(mech, ours[i].name))
            return ours[i].rank;
    return 0;
}

bool mech_pin_raises(const char *pin, const char *mech)
{
    return mech_rank(mech) > mech_rank(pin);
}

static bool offers_plus(const struct mech_offer *o)
{
    for (size_t i = 0; i < NOURS; i++)
        if (ours[i].plus && listed(o->mechs, o->nmechs, ours[i].name))
            return true;
    return false;
}

/* The offered names, comma-separated, into buf (cut to fit). */
static const char *offer_list(const struct mech_offer *o, char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < o->nmechs && used < n; i++) {
        int k = snprintf(buf + used, n - used, "%s%s", i ? ", " : "",
                         o->mechs[i] ? o->mechs[i] : "");
        used += k > 0 ? (size_t)k : 0;
    }
    return buf;
}

/* The channel-binding type for -PLUS, NULL when we share none. Without
 * XEP-0440 the RFC 5802 default is tls-unique, which we do not do. */
static const char *cb_type(const struct mech_offer *o)
{
    if (!o->tls || !o->cb_types)
        return NULL;
    for (size_t i = 0; i < sizeof cb_pref / sizeof cb_pref[0]; i++)
        if (listed(o->cb_types, o->ncb, cb_pref[i]) &&
            listed(o->our_cb, o->nour, cb_pref[i]))
            return cb_pref[i];
    return NULL;
}

/* XEP-0440 §5 (business rules, with XEP-0474 §7's change to rule 6):
 * what a real server never advertises but an attacker stripping parts
 * of the features leaves. */
static int cb_consistent(const struct mech_offer *o, struct mech_choice *c)
{
    bool plus = offers_plus(o);
    if (o->cb_types && o->ncb && !plus)
        return refuse(c, "the server advertises channel-binding types but no "
                         "-PLUS mechanism: possible downgrade attack");
    if (o->sasl2 && plus && !o->cb_types)
        return refuse(c, "the server offers -PLUS mechanisms over SASL2 "
                         "without advertising channel-binding types: "
                         "possible downgrade attack");
    if (plus && o->cb_types && !cb_type(o) &&
        !listed(o->cb_types, o->ncb, "tls-server-end-point"))
        return refuse(c, "the server's channel-binding types lack "
                         "tls-server-end-point, which every server has: "
                         "possible downgrade attack");
    return 0;
}

/* The best of ours the offer has, or -1. */
static int best(const struct mech_offer *o, const char *cb)
{
    for (size_t i = 0; i < NOURS; i++) {
        if (!listed(o->mechs, o->nmechs, ours[i].name))
            continue;
        if (ours[i].plus && !cb)
            continue;
        if (ours[i].rank == 1 && (!o->allow_plain || !o->tls))
            continue;
        return (int)i;
    }
    return -1;
}

/* Nothing acceptable: say why, most specific first. */
static int none(const struct mech_offer *o, struct mech_choice *c)
{
    char list[200];
    bool plain = listed(o->mechs, o->nmechs, "PLAIN");
    bool scram = false;
    for (size_t i = 0; i < NOURS; i++)
        scram = scram ||
                (ours[i].rank > 1 && listed(o->mechs, o->nmechs, ours[i].name));
    if (!o->nmechs)
        return refuse(c, "the server offers no SASL mechanism");
    if (plain && !scram && !o->tls)
        return refuse(c, "the server offers PLAIN without TLS: refusing to "
                         "send the password");
    if (plain && !scram)
        return refuse(c, "the server offers only PLAIN; --allow-plain allows "
                         "it over TLS");
    return refuse(c, "the server offers no mechanism we accept (%s)",
                  offer_list(o, list, sizeof list));
}

int mech_choose(const struct mech_offer *o, struct mech_choice *c)
{
    memset(c, 0, sizeof *c);
    if (o->client_cert && o->tls && listed(o->mechs, o->nmechs, "EXTERNAL")) {
        c->mech = "EXTERNAL";
        return 0;
    }
    int rc = cb_consistent(o, c);
    if (rc)
        return rc;
    const char *cb = cb_type(o);
    int i = best(o, cb);
    int pin = mech_rank(o->pin);
    if (pin && (i < 0 || ours[i].rank < pin)) {
        char list[200];
        return refuse(c,
                      "the server offers only %s but this account has "
                      "logged in with %s before: possible downgrade attack; "
                      "if the server really changed, run again with "
                      "--reset-pin",
                      o->nmechs ? offer_list(o, list, sizeof list)
                                : "no mechanism",
                      o->pin);
    }
    if (i < 0)
        return none(o, c);
    c->mech = ours[i].name;
    if (ours[i].plus) {
        c->cb_flag = 'p';
        c->cb_type = cb;
    } else if (ours[i].rank == 2) {
        /* RFC 5802 §6: 'y' tells a server that did not offer -PLUS that
         * we could have bound, so it can detect -PLUS being stripped. */
        c->cb_flag = !offers_plus(o) && o->tls && o->nour ? 'y' : 'n';
    }
    return 0;
}
