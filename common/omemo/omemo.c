/* Opening an account's OMEMO store, fingerprints and trust. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/omemo/omemo_priv.h"
#include "common/xmpp/jid.h"

const char *omemo_trust_name(enum omemo_trust t)
{
    switch (t) {
    case OMEMO_VERIFIED: return "verified";
    case OMEMO_DISTRUSTED: return "distrusted";
    case OMEMO_UNDECIDED: return "undecided";
    default: return "blind";
    }
}

/* $XDG_DATA_HOME/xmpp/omemo/JID.db, else ~/.local/share/... */
static char *store_path(const char *jid)
{
    const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    char *p = NULL;
    int n;
    if (xdg && *xdg == '/')
        n = asprintf(&p, "%s/xmpp/omemo/%s.db", xdg, jid);
    else
        n = asprintf(&p, "%s/.local/share/xmpp/omemo/%s.db",
                     home && *home ? home : ".", jid);
    return n < 0 ? NULL : p;
}

/* The bare JID, lowercased (RFC 7622: localpart and domainpart compare
 * without case for the ASCII we meet): the name sessions are kept by. */
char *omemo_bare(const char *jid)
{
    size_t n = jid_bare_len(jid);
    char *b = strndup(jid, n);
    for (char *p = b; p && *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return b;
}

bool omemo_has_keys(const char *jid)
{
    char *bare = omemo_bare(jid), *path = bare ? store_path(bare) : NULL;
    bool has = path && access(path, F_OK) == 0;
    free(path);
    free(bare);
    return has;
}

int omemo_open(struct omemo **out, const char *jid, bool create)
{
    struct omemo *om = calloc(1, sizeof *om);
    char *path = NULL;
    int rc;
    *out = om;
    if (!om || !(om->jid = omemo_bare(jid)) || !(path = store_path(om->jid)))
        return fail_oom(NULL);
    rc = store_open(om, path, create);
    free(path);
    return rc ? rc : store_identity(om, create);
}

void omemo_close(struct omemo *om)
{
    if (!om)
        return;
    store_close(om);
    omemo_targets_free(om);
    free(om->jid);
    free(om);
}

uint32_t omemo_device_id(const struct omemo *om)
{
    return om->device_id;
}

void omemo_fingerprint(const uint8_t *key33, char buf[OMEMO_FPR_LEN])
{
    char *p = buf;
    for (int i = 1; i < 33; i++) {
        p += sprintf(p, "%02x", key33[i]);
        if (i % 4 == 0 && i < 32)
            *p++ = ' ';
    }
    *p = '\0';
}

void omemo_own_fingerprint(struct omemo *om, char buf[OMEMO_FPR_LEN])
{
    omemo_fingerprint(om->pub, buf);
}

/* A fingerprint as the user typed it (spaces, colons and case
 * ignored) as a serialized key. Returns 0, or -1 when it is not 64 hex
 * digits. */
static int parse_fpr(const char *s, uint8_t key[33])
{
    size_t n = 0;
    key[0] = 0x05;
    for (; *s; s++) {
        if (isspace((unsigned char)*s) || *s == ':')
            continue;
        if (!isxdigit((unsigned char)*s) || n == 64)
            return -1;
        int v = isdigit((unsigned char)*s)
                    ? *s - '0'
                    : tolower((unsigned char)*s) - 'a' + 10;
        if (n % 2 == 0)
            key[1 + n / 2] = (uint8_t)(v << 4);
        else
            key[1 + n / 2] |= (uint8_t)v;
        n++;
    }
    return n == 64 ? 0 : -1;
}

int omemo_set_trust(struct omemo *om, const char *jid, const char *fpr,
                    enum omemo_trust t)
{
    uint8_t key[33];
    if (parse_fpr(fpr, key))
        return fail(XE_DATA,
                    "%s: not a fingerprint: give the 64 hex digits "
                    "'xmpp omemo devices' shows",
                    fpr);
    char *bare = omemo_bare(jid);
    int changed = 0;
    if (!bare)
        return fail_oom(NULL);
    int rc = store_set_trust(om, bare, key, t, &changed);
    if (!rc && !changed)
        rc = fail(XE_DATA,
                  "%s: no device with that fingerprint seen yet; run 'xmpp "
                  "omemo devices %s' first",
                  jid, bare);
    free(bare);
    return rc;
}

void omemo_addr(struct omemo_addr *x, const char *jid, uint32_t dev,
                unsigned gen)
{
    int n = snprintf(x->name, sizeof x->name, "%s%s",
                     gen == OMEMO_V2 ? "2:" : "", jid);
    x->a.name = x->name;
    x->a.name_len = n < 0 ? 0 : strnlen(x->name, sizeof x->name);
    x->a.device_id = (int32_t)dev;
}

const char *omemo_addr_jid(const char *name, size_t len, size_t *jlen)
{
    bool two = len >= 2 && name[0] == '2' && name[1] == ':';
    *jlen = two ? len - 2 : len;
    return two ? name + 2 : name;
}
