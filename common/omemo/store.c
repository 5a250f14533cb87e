/* The OMEMO key store: one SQLite file per account, and the session,
 * prekey, signed prekey and identity stores libomemo-c reads and writes
 * through (signal_protocol.h). Callers wrap each operation in
 * store_begin/store_commit, so that what libomemo-c changes during one
 * encryption or decryption lands whole or not at all. */
#include <errno.h>
#include <fcntl.h>
#include <key_helper.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/omemo/omemo_priv.h"

/* Prekeys a bundle offers (XEP-0384 §5.3.2: at least 20; 100 as
 * Conversations). */
#define PREKEYS 100
#define SCHEMA  1
/* XEP-0384 leaves the signed prekey's life to the client. As Signal
 * and Conversations: a new one every week, and the one it replaces
 * kept a month, for prekey messages built from a bundle fetched
 * before (offline, or a phone that was off). */
#define SPK_ROTATE (7 * 86400)
#define SPK_GRACE  (30 * 86400)

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v BLOB);"
    "CREATE TABLE IF NOT EXISTS prekeys (id INTEGER PRIMARY KEY, rec BLOB);"
    "CREATE TABLE IF NOT EXISTS spks (id INTEGER PRIMARY KEY, rec BLOB);"
    "CREATE TABLE IF NOT EXISTS sessions (jid TEXT, dev INTEGER, rec BLOB,"
    " PRIMARY KEY (jid, dev));"
    "CREATE TABLE IF NOT EXISTS peers (jid TEXT, dev INTEGER, key BLOB,"
    " trust INTEGER, PRIMARY KEY (jid, dev));"
    /* Signed prekeys replaced, and when: removed SPK_GRACE later. */
    "CREATE TABLE IF NOT EXISTS spk_retired (id INTEGER PRIMARY KEY,"
    " at INTEGER);";

int store_fail(struct omemo *om, const char *what)
{
    return fail(XE_CONFIG,
                "%s: unusable OMEMO key store (%s: %s); move it away and run "
                "'xmpp omemo publish' to start a new identity",
                om->path, what, om->db ? sqlite3_errmsg(om->db) : "?");
}

/* ---- small SQL helpers ---- */

static sqlite3_stmt *sql(struct omemo *om, const char *q)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(om->db, q, -1, &st, NULL) != SQLITE_OK) {
        om->failed = true;
        return NULL;
    }
    return st;
}

/* Run a statement that returns no rows; finalizes it. 0 or -1. */
static int sql_done(struct omemo *om, sqlite3_stmt *st)
{
    int rc = st ? sqlite3_step(st) : SQLITE_ERROR;
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        om->failed = true;
        return -1;
    }
    return 0;
}

static int meta_set(struct omemo *om, const char *k, const void *v, size_t n)
{
    sqlite3_stmt *st = sql(om, "INSERT OR REPLACE INTO meta VALUES (?, ?)");
    if (st) {
        sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, v, (int)n, SQLITE_TRANSIENT);
    }
    return sql_done(om, st);
}

static int meta_set_int(struct omemo *om, const char *k, long long v)
{
    sqlite3_stmt *st = sql(om, "INSERT OR REPLACE INTO meta VALUES (?, ?)");
    if (st) {
        sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, v);
    }
    return sql_done(om, st);
}

/* A meta value as a signal_buffer (NULL: none). */
static signal_buffer *meta_get(struct omemo *om, const char *k)
{
    sqlite3_stmt *st = sql(om, "SELECT v FROM meta WHERE k = ?");
    signal_buffer *b = NULL;
    if (!st)
        return NULL;
    sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        b = signal_buffer_create(sqlite3_column_blob(st, 0),
                                 (size_t)sqlite3_column_bytes(st, 0));
    sqlite3_finalize(st);
    return b;
}

static long long meta_get_int(struct omemo *om, const char *k, long long dflt)
{
    sqlite3_stmt *st = sql(om, "SELECT v FROM meta WHERE k = ?");
    long long v = dflt;
    if (!st)
        return dflt;
    sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* A record by integer id from table prekeys or spks. */
static int rec_load(struct omemo *om, const char *q, uint32_t id,
                    signal_buffer **out)
{
    sqlite3_stmt *st = sql(om, q);
    if (!st)
        return SG_ERR_UNKNOWN;
    sqlite3_bind_int64(st, 1, id);
    int rc = SG_ERR_INVALID_KEY_ID;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *out = signal_buffer_create(sqlite3_column_blob(st, 0),
                                    (size_t)sqlite3_column_bytes(st, 0));
        rc = *out ? SG_SUCCESS : SG_ERR_NOMEM;
    }
    sqlite3_finalize(st);
    return rc;
}

static int rec_store(struct omemo *om, const char *q, uint32_t id,
                     const uint8_t *rec, size_t len)
{
    sqlite3_stmt *st = sql(om, q);
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_blob(st, 2, rec, (int)len, SQLITE_TRANSIENT);
    }
    return sql_done(om, st) ? SG_ERR_UNKNOWN : 0;
}

static int rec_exists(struct omemo *om, const char *q, uint32_t id)
{
    sqlite3_stmt *st = sql(om, q);
    if (!st)
        return 0;
    sqlite3_bind_int64(st, 1, id);
    int found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return found;
}

static int rec_delete(struct omemo *om, const char *q, uint32_t id)
{
    sqlite3_stmt *st = sql(om, q);
    if (st)
        sqlite3_bind_int64(st, 1, id);
    return sql_done(om, st) ? SG_ERR_UNKNOWN : 0;
}

/* Bind a signal address (jid, device) at 1 and 2. */
static void bind_addr(sqlite3_stmt *st, const signal_protocol_address *a)
{
    sqlite3_bind_text(st, 1, a->name, (int)a->name_len, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, a->device_id);
}

/* ---- session store ---- */

static int load_session(signal_buffer **rec, signal_buffer **user,
                        const signal_protocol_address *a, void *ud)
{
    struct omemo *om = ud;
    (void)user;
    sqlite3_stmt *st =
        sql(om, "SELECT rec FROM sessions WHERE jid = ? AND dev = ?");
    if (!st)
        return SG_ERR_UNKNOWN;
    bind_addr(st, a);
    int rc = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *rec = signal_buffer_create(sqlite3_column_blob(st, 0),
                                    (size_t)sqlite3_column_bytes(st, 0));
        rc = *rec ? 1 : SG_ERR_NOMEM;
    }
    sqlite3_finalize(st);
    return rc;
}

static int sub_device_sessions(signal_int_list **out, const char *name,
                               size_t len, void *ud)
{
    struct omemo *om = ud;
    sqlite3_stmt *st = sql(om, "SELECT dev FROM sessions WHERE jid = ?");
    signal_int_list *l = signal_int_list_alloc();
    if (!st || !l) {
        sqlite3_finalize(st);
        signal_int_list_free(l);
        return SG_ERR_NOMEM;
    }
    sqlite3_bind_text(st, 1, name, (int)len, SQLITE_TRANSIENT);
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW && ++n)
        signal_int_list_push_back(l, sqlite3_column_int(st, 0));
    sqlite3_finalize(st);
    *out = l;
    return n;
}

static int store_session(const signal_protocol_address *a, uint8_t *rec,
                         size_t len, uint8_t *user, size_t ulen, void *ud)
{
    struct omemo *om = ud;
    (void)user, (void)ulen;
    sqlite3_stmt *st =
        sql(om, "INSERT OR REPLACE INTO sessions VALUES (?, ?, ?)");
    if (st) {
        bind_addr(st, a);
        sqlite3_bind_blob(st, 3, rec, (int)len, SQLITE_TRANSIENT);
    }
    return sql_done(om, st) ? SG_ERR_UNKNOWN : 0;
}

static int contains_session(const signal_protocol_address *a, void *ud)
{
    struct omemo *om = ud;
    sqlite3_stmt *st =
        sql(om, "SELECT 1 FROM sessions WHERE jid = ? AND dev = ?");
    if (!st)
        return 0;
    bind_addr(st, a);
    int found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return found;
}

static int delete_session(const signal_protocol_address *a, void *ud)
{
    struct omemo *om = ud;
    sqlite3_stmt *st =
        sql(om, "DELETE FROM sessions WHERE jid = ? AND dev = ?");
    if (st)
        bind_addr(st, a);
    return sql_done(om, st) ? SG_ERR_UNKNOWN : sqlite3_changes(om->db);
}

static int delete_all_sessions(const char *name, size_t len, void *ud)
{
    struct omemo *om = ud;
    sqlite3_stmt *st = sql(om, "DELETE FROM sessions WHERE jid = ?");
    if (st)
        sqlite3_bind_text(st, 1, name, (int)len, SQLITE_TRANSIENT);
    return sql_done(om, st) ? SG_ERR_UNKNOWN : sqlite3_changes(om->db);
}

/* ---- prekeys and signed prekeys ---- */

static int load_pre_key(signal_buffer **rec, uint32_t id, void *ud)
{
    return rec_load(ud, "SELECT rec FROM prekeys WHERE id = ?", id, rec);
}

static int store_pre_key(uint32_t id, uint8_t *rec, size_t len, void *ud)
{
    return rec_store(ud, "INSERT OR REPLACE INTO prekeys VALUES (?, ?)", id,
                     rec, len);
}

static int contains_pre_key(uint32_t id, void *ud)
{
    return rec_exists(ud, "SELECT 1 FROM prekeys WHERE id = ?", id);
}

/* A one-time prekey is gone once a session was built on it; the
 * caller makes a new one and publishes the bundle (omemo_refill). */
static int remove_pre_key(uint32_t id, void *ud)
{
    struct omemo *om = ud;
    om->prekey_used = true;
    return rec_delete(ud, "DELETE FROM prekeys WHERE id = ?", id);
}

static int load_spk(signal_buffer **rec, uint32_t id, void *ud)
{
    return rec_load(ud, "SELECT rec FROM spks WHERE id = ?", id, rec);
}

static int store_spk(uint32_t id, uint8_t *rec, size_t len, void *ud)
{
    return rec_store(ud, "INSERT OR REPLACE INTO spks VALUES (?, ?)", id, rec,
                     len);
}

static int contains_spk(uint32_t id, void *ud)
{
    return rec_exists(ud, "SELECT 1 FROM spks WHERE id = ?", id);
}

static int remove_spk(uint32_t id, void *ud)
{
    return rec_delete(ud, "DELETE FROM spks WHERE id = ?", id);
}

/* ---- identities ---- */

static int get_identity(signal_buffer **pub, signal_buffer **priv, void *ud)
{
    struct omemo *om = ud;
    *pub = meta_get(om, "ik_pub");
    *priv = meta_get(om, "ik_priv");
    return *pub && *priv ? 0 : SG_ERR_UNKNOWN;
}

static int get_registration_id(void *ud, uint32_t *id)
{
    struct omemo *om = ud;
    *id = om->device_id;
    return 0;
}

/* The key and trust we hold for a device. Returns 1 (found), 0, -1. */
static int peer_get(struct omemo *om, const char *jid, size_t jlen,
                    uint32_t dev, uint8_t key[33], enum omemo_trust *t)
{
    sqlite3_stmt *st =
        sql(om, "SELECT key, trust FROM peers WHERE jid = ? AND dev = ?");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, jid, (int)jlen, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, dev);
    int found = 0;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 33) {
        memcpy(key, sqlite3_column_blob(st, 0), 33);
        *t = (enum omemo_trust)sqlite3_column_int(st, 1);
        found = 1;
    }
    sqlite3_finalize(st);
    return found;
}

static int peer_put(struct omemo *om, const char *jid, size_t jlen,
                    uint32_t dev, const uint8_t key[33], enum omemo_trust t)
{
    sqlite3_stmt *st =
        sql(om, "INSERT OR REPLACE INTO peers VALUES (?, ?, ?, ?)");
    if (st) {
        sqlite3_bind_text(st, 1, jid, (int)jlen, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, dev);
        sqlite3_bind_blob(st, 3, key, 33, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 4, (int)t);
    }
    return sql_done(om, st);
}

/* Remember a contact device's key; a key that changed is said on
 * stderr (XEP-0384 §5.4: the user must know) and is trusted blindly
 * again, unverified. */
static int save_identity(const signal_protocol_address *a, uint8_t *key,
                         size_t len, void *ud)
{
    struct omemo *om = ud;
    uint8_t old[33];
    enum omemo_trust t = OMEMO_BLIND;
    if (!key || len != 33)
        return 0;
    size_t jlen;
    const char *jid = omemo_addr_jid(a->name, a->name_len, &jlen);
    int found = peer_get(om, jid, jlen, (uint32_t)a->device_id, old, &t);
    if (found < 0)
        return SG_ERR_UNKNOWN;
    if (found && !memcmp(old, key, 33))
        return 0;
    if (found) {
        char was[OMEMO_FPR_LEN], now[OMEMO_FPR_LEN];
        omemo_fingerprint(old, was);
        omemo_fingerprint(key, now);
        warnx("%.*s device %d: identity key changed from %s to %s; verify "
              "it with 'xmpp omemo devices'",
              (int)jlen, jid, a->device_id, was, now);
        t = t == OMEMO_DISTRUSTED ? OMEMO_DISTRUSTED : OMEMO_BLIND;
    }
    return peer_put(om, jid, jlen, (uint32_t)a->device_id, key, t)
               ? SG_ERR_UNKNOWN
               : 0;
}

/* Blind trust: only a key the user distrusted is refused. */
static int is_trusted(const signal_protocol_address *a, uint8_t *key,
                      size_t len, void *ud)
{
    struct omemo *om = ud;
    uint8_t old[33];
    enum omemo_trust t;
    size_t jlen;
    const char *jid = omemo_addr_jid(a->name, a->name_len, &jlen);
    if (len != 33)
        return 0;
    int found = peer_get(om, jid, jlen, (uint32_t)a->device_id, old, &t);
    if (found < 0)
        return SG_ERR_UNKNOWN;
    return !(found && !memcmp(old, key, 33) && t == OMEMO_DISTRUSTED);
}

/* ---- opening, identity ---- */

static int attach_stores(struct omemo *om)
{
    signal_protocol_session_store ss = {
        .load_session_func = load_session,
        .get_sub_device_sessions_func = sub_device_sessions,
        .store_session_func = store_session,
        .contains_session_func = contains_session,
        .delete_session_func = delete_session,
        .delete_all_sessions_func = delete_all_sessions,
        .user_data = om,
    };
    signal_protocol_pre_key_store ps = {
        .load_pre_key = load_pre_key,
        .store_pre_key = store_pre_key,
        .contains_pre_key = contains_pre_key,
        .remove_pre_key = remove_pre_key,
        .user_data = om,
    };
    signal_protocol_signed_pre_key_store sps = {
        .load_signed_pre_key = load_spk,
        .store_signed_pre_key = store_spk,
        .contains_signed_pre_key = contains_spk,
        .remove_signed_pre_key = remove_spk,
        .user_data = om,
    };
    signal_protocol_identity_key_store is = {
        .get_identity_key_pair = get_identity,
        .get_local_registration_id = get_registration_id,
        .save_identity = save_identity,
        .is_trusted_identity = is_trusted,
        .user_data = om,
    };
    if (signal_context_create(&om->sg, om) ||
        signal_context_set_crypto_provider(om->sg, &omemo_crypto) ||
        signal_protocol_store_context_create(&om->store, om->sg) ||
        signal_protocol_store_context_set_session_store(om->store, &ss) ||
        signal_protocol_store_context_set_pre_key_store(om->store, &ps) ||
        signal_protocol_store_context_set_signed_pre_key_store(om->store,
                                                               &sps) ||
        signal_protocol_store_context_set_identity_key_store(om->store, &is))
        return fail_oom(NULL);
    return 0;
}

/* mkdir -p, each new directory 0700. */
static int make_dirs(char *path)
{
    for (char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
        *p = '\0';
        int rc = mkdir(path, 0700);
        *p = '/';
        if (rc && errno != EEXIST)
            return -1;
    }
    return 0;
}

int store_open(struct omemo *om, const char *path, bool create)
{
    if (!(om->path = strdup(path)))
        return fail_oom(NULL);
    if (access(path, F_OK)) {
        if (!create)
            return fail(XE_NOINPUT,
                        "no OMEMO keys for %s yet; run 'xmpp omemo publish'",
                        om->jid);
        int fd = -1;
        if (make_dirs(om->path) ||
            (fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600)) < 0) {
            if (errno != EEXIST) /* another run made it meanwhile */
                return fail(XE_CONFIG, "%s: %s", path, strerror(errno));
        }
        if (fd >= 0)
            close(fd);
    }
    if (sqlite3_open_v2(path, &om->db, SQLITE_OPEN_READWRITE, NULL) !=
        SQLITE_OK)
        return store_fail(om, "open");
    /* Wait for another run's transaction (a cron job sending at the
     * same minute) rather than fail. */
    sqlite3_busy_timeout(om->db, 60000);
    char *err = NULL;
    if (sqlite3_exec(om->db, "PRAGMA synchronous = FULL", NULL, NULL, &err) ||
        sqlite3_exec(om->db, schema, NULL, NULL, &err)) {
        sqlite3_free(err);
        return store_fail(om, "reading");
    }
    long long v = 0;
    sqlite3_stmt *st = sql(om, "PRAGMA user_version");
    if (st && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (v == 0 &&
        sqlite3_exec(om->db, "PRAGMA user_version = 1", NULL, NULL, NULL))
        return store_fail(om, "writing");
    if (v > SCHEMA)
        return fail(XE_CONFIG,
                    "%s: OMEMO key store of a newer xmpp (schema %lld)", path,
                    v);
    return attach_stores(om);
}

void store_close(struct omemo *om)
{
    if (om->store)
        signal_protocol_store_context_destroy(om->store);
    if (om->sg)
        signal_context_destroy(om->sg);
    sqlite3_close(om->db);
    free(om->path);
}

int store_begin(struct omemo *om)
{
    om->failed = false;
    if (sqlite3_exec(om->db, "BEGIN IMMEDIATE", NULL, NULL, NULL))
        return store_fail(om, "locking");
    return 0;
}

int store_commit(struct omemo *om)
{
    if (om->failed) {
        store_rollback(om);
        return store_fail(om, "writing");
    }
    if (sqlite3_exec(om->db, "COMMIT", NULL, NULL, NULL)) {
        store_rollback(om);
        return store_fail(om, "writing");
    }
    return 0;
}

void store_rollback(struct omemo *om)
{
    sqlite3_exec(om->db, "ROLLBACK", NULL, NULL, NULL);
}

static int gen_prekeys(struct omemo *om, uint32_t start, unsigned count)
{
    signal_protocol_key_helper_pre_key_list_node *head = NULL, *n;
    if (signal_protocol_key_helper_generate_pre_keys(&head, start, count,
                                                     om->sg))
        return -1;
    int rc = 0;
    for (n = head; n && !rc; n = signal_protocol_key_helper_key_list_next(n))
        rc = signal_protocol_pre_key_store_key(
            om->store, signal_protocol_key_helper_key_list_element(n));
    signal_protocol_key_helper_key_list_free(head);
    return rc ? -1 : 0;
}

/* A fresh identity (XEP-0384 §5.3): key pair, device id, signed
 * prekey, prekeys; inside the caller's transaction. */
static int make_identity(struct omemo *om)
{
    ratchet_identity_key_pair *ik = NULL;
    session_signed_pre_key *spk = NULL;
    signal_buffer *pub = NULL, *priv = NULL;
    uint32_t dev = 0;
    int rc = -1;
    while (!dev && !omemo_random(&dev, sizeof dev))
        dev &= 0x7fffffff; /* §5.3.1: 1 .. 2^31 - 1 */
    uint64_t now = (uint64_t)time(NULL) * 1000;
    if (!dev ||
        signal_protocol_key_helper_generate_identity_key_pair(&ik, om->sg))
        goto done;
    if (ec_public_key_serialize(&pub,
                                ratchet_identity_key_pair_get_public(ik)) ||
        ec_private_key_serialize(&priv,
                                 ratchet_identity_key_pair_get_private(ik)))
        goto done;
    om->device_id = dev;
    if (meta_set_int(om, "device_id", dev) ||
        meta_set(om, "ik_pub", signal_buffer_data(pub),
                 signal_buffer_len(pub)) ||
        meta_set(om, "ik_priv", signal_buffer_data(priv),
                 signal_buffer_len(priv)) ||
        meta_set_int(om, "spk_id", 1) ||
        meta_set_int(om, "spk_made", (long long)(now / 1000)) ||
        meta_set_int(om, "next_prekey", PREKEYS + 1))
        goto done;
    if (signal_protocol_key_helper_generate_signed_pre_key(&spk, ik, 1, now,
                                                           om->sg) ||
        signal_protocol_signed_pre_key_store_key(om->store, spk) ||
        gen_prekeys(om, 1, PREKEYS))
        goto done;
    rc = 0;
done:
    signal_buffer_free(pub);
    signal_buffer_bzero_free(priv);
    SIGNAL_UNREF(ik);
    SIGNAL_UNREF(spk);
    return rc;
}

int store_identity(struct omemo *om, bool create)
{
    int rc = store_begin(om);
    if (rc)
        return rc;
    long long dev = meta_get_int(om, "device_id", 0);
    if (!dev && create && make_identity(om)) {
        store_rollback(om);
        return store_fail(om, "making an identity");
    }
    if ((rc = store_commit(om)))
        return rc;
    dev = meta_get_int(om, "device_id", 0);
    signal_buffer *pub = meta_get(om, "ik_pub");
    if (dev <= 0 || dev > 0x7fffffff || !pub || signal_buffer_len(pub) != 33) {
        signal_buffer_free(pub);
        if (!dev && !create)
            return fail(XE_NOINPUT,
                        "no OMEMO keys for %s yet; run 'xmpp omemo publish'",
                        om->jid);
        return fail(XE_CONFIG,
                    "%s: unusable OMEMO key store (no valid identity); move "
                    "it away and run 'xmpp omemo publish' to start a new "
                    "identity",
                    om->path);
    }
    om->device_id = (uint32_t)dev;
    memcpy(om->pub, signal_buffer_data(pub), 33);
    signal_buffer_free(pub);
    om->published = store_is_published(om);
    return 0;
}

void store_set_published(struct omemo *om)
{
    if (om->published)
        return;
    if (!store_begin(om)) {
        store_mark_published(om);
        store_commit(om);
    }
}

/* "published" is 1 in a store that published OMEMO 0.3 only (before
 * OMEMO 2 was added here): it publishes once more, both generations. */
#define PUBLISHED_BOTH 2

bool store_is_published(struct omemo *om)
{
    return meta_get_int(om, "published", 0) == PUBLISHED_BOTH;
}

void store_mark_published(struct omemo *om)
{
    meta_set_int(om, "published", PUBLISHED_BOTH);
    om->published = true;
}

int store_bundle_keys(struct omemo *om, session_signed_pre_key **spk,
                      session_pre_key ***pks, size_t *npk)
{
    uint32_t id = (uint32_t)meta_get_int(om, "spk_id", 1);
    *pks = NULL;
    *npk = 0;
    if (signal_protocol_signed_pre_key_load_key(om->store, spk, id))
        return store_fail(om, "signed prekey");
    sqlite3_stmt *st = sql(om, "SELECT id FROM prekeys ORDER BY id");
    size_t cap = 0;
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        session_pre_key *pk = NULL;
        if (signal_protocol_pre_key_load_key(
                om->store, &pk, (uint32_t)sqlite3_column_int64(st, 0)))
            continue;
        if (*npk == cap) {
            cap = cap ? cap * 2 : 128;
            session_pre_key **p = realloc(*pks, cap * sizeof *p);
            if (!p) {
                SIGNAL_UNREF(pk);
                break;
            }
            *pks = p;
        }
        (*pks)[(*npk)++] = pk;
    }
    sqlite3_finalize(st);
    return 0;
}

/* ---- the signed prekey's schedule ---- */

/* When the current signed prekey was made: meta spk_made, or for a
 * store from before it was kept, the record's own timestamp. */
static long long spk_made(struct omemo *om)
{
    long long made = meta_get_int(om, "spk_made", -1);
    session_signed_pre_key *spk = NULL;
    if (made >= 0 ||
        signal_protocol_signed_pre_key_load_key(
            om->store, &spk, (uint32_t)meta_get_int(om, "spk_id", 1)))
        return made;
    made = (long long)(session_signed_pre_key_get_timestamp(spk) / 1000);
    SIGNAL_UNREF(spk);
    return made;
}

bool store_spk_due(struct omemo *om)
{
    long long now = (long long)time(NULL), made = spk_made(om);
    if (made >= 0 && now - made >= SPK_ROTATE)
        return true;
    sqlite3_stmt *st = sql(om, "SELECT 1 FROM spk_retired WHERE at <= ?");
    bool expired = false;
    if (st) {
        sqlite3_bind_int64(st, 1, now - SPK_GRACE);
        expired = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return expired;
}

/* Retire the current signed prekey for a new one, signed by our
 * identity key, with the next id. 0 or -1. */
static int new_spk(struct omemo *om, long long now)
{
    uint32_t id = (uint32_t)meta_get_int(om, "spk_id", 1);
    uint32_t next = id % PRE_KEY_MEDIUM_MAX_VALUE + 1;
    ratchet_identity_key_pair *ik = NULL;
    session_signed_pre_key *spk = NULL;
    sqlite3_stmt *st =
        sql(om, "INSERT OR REPLACE INTO spk_retired VALUES (?, ?)");
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, now);
    }
    int rc = sql_done(om, st) ||
                     signal_protocol_identity_get_key_pair(om->store, &ik) ||
                     signal_protocol_key_helper_generate_signed_pre_key(
                         &spk, ik, next, (uint64_t)now * 1000, om->sg) ||
                     signal_protocol_signed_pre_key_store_key(om->store, spk) ||
                     meta_set_int(om, "spk_id", next) ||
                     meta_set_int(om, "spk_made", now)
                 ? -1
                 : 0;
    SIGNAL_UNREF(ik);
    SIGNAL_UNREF(spk);
    return rc;
}

int store_rotate_spk(struct omemo *om)
{
    long long now = (long long)time(NULL), made = spk_made(om);
    bool rotate = made >= 0 && now - made >= SPK_ROTATE;
    if (rotate && new_spk(om, now))
        return -1;
    sqlite3_stmt *del = sql(om, "DELETE FROM spks WHERE id IN (SELECT id "
                                "FROM spk_retired WHERE at <= ?1) AND id != "
                                "(SELECT v FROM meta WHERE k = 'spk_id')");
    if (del)
        sqlite3_bind_int64(del, 1, now - SPK_GRACE);
    sqlite3_stmt *forget = sql(om, "DELETE FROM spk_retired WHERE at <= ?");
    if (forget)
        sqlite3_bind_int64(forget, 1, now - SPK_GRACE);
    if (sql_done(om, del) | sql_done(om, forget))
        return -1;
    return rotate;
}

int store_new_prekey(struct omemo *om)
{
    int rc = store_begin(om);
    if (rc)
        return rc;
    long long next = meta_get_int(om, "next_prekey", PREKEYS + 1);
    /* Keep the bundle at PREKEYS keys: one more for each used. */
    sqlite3_stmt *st = sql(om, "SELECT count(*) FROM prekeys");
    long long have = st && sqlite3_step(st) == SQLITE_ROW
                         ? sqlite3_column_int64(st, 0)
                         : PREKEYS;
    sqlite3_finalize(st);
    if (have < PREKEYS) {
        unsigned n = (unsigned)(PREKEYS - have);
        if (gen_prekeys(om, (uint32_t)next, n) ||
            meta_set_int(om, "next_prekey",
                         (next + n) % PRE_KEY_MEDIUM_MAX_VALUE + 1))
            om->failed = true;
    }
    return store_commit(om);
}

int store_peer(struct omemo *om, const char *jid, uint32_t dev, uint8_t key[33],
               bool *known, enum omemo_trust *trust)
{
    int found = peer_get(om, jid, strlen(jid), dev, key, trust);
    if (found < 0)
        return store_fail(om, "reading");
    *known = found;
    if (!found)
        *trust = OMEMO_BLIND;
    if (*trust == OMEMO_BLIND && store_jid_has_verified(om, jid))
        *trust = OMEMO_UNDECIDED;
    return 0;
}

bool store_jid_has_verified(struct omemo *om, const char *jid)
{
    sqlite3_stmt *st = sql(om, "SELECT 1 FROM peers WHERE jid = ? AND "
                               "trust = 1");
    if (!st)
        return false;
    sqlite3_bind_text(st, 1, jid, -1, SQLITE_TRANSIENT);
    bool v = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return v;
}

int store_set_trust(struct omemo *om, const char *jid, const uint8_t key[33],
                    enum omemo_trust t, int *changed)
{
    int rc = store_begin(om);
    if (rc)
        return rc;
    sqlite3_stmt *st =
        sql(om, "UPDATE peers SET trust = ? WHERE jid = ? AND key = ?");
    if (st) {
        sqlite3_bind_int(st, 1, (int)t);
        sqlite3_bind_text(st, 2, jid, -1, SQLITE_TRANSIENT);
        sqlite3_bind_blob(st, 3, key, 33, SQLITE_TRANSIENT);
    }
    sql_done(om, st);
    *changed = sqlite3_changes(om->db);
    return store_commit(om);
}

bool store_has_session(struct omemo *om, const char *jid, uint32_t dev,
                       unsigned gen)
{
    struct omemo_addr a;
    omemo_addr(&a, jid, dev, gen);
    return contains_session(&a.a, om) == 1;
}

int store_remember_peer(struct omemo *om, const char *jid, uint32_t dev,
                        const uint8_t key[33])
{
    signal_protocol_address a = {jid, strlen(jid), (int32_t)dev};
    return save_identity(&a, (uint8_t *)key, 33, om) ? -1 : 0;
}
