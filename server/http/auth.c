/* auth.c - API token file, token cache, web sessions and the failure brake. */
#include "auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "reqparse.h"
#include "pathutil.h"
#include "plat.h"
#include "hex.h"

#define TOKEN_TMP_SUFFIX ".tmp"
#define TOKEN_RECHECK_NS 1000000000LL

int auth_ct_equal(const void *a, const void *b, size_t n)
{
    const volatile unsigned char *x = a;
    const volatile unsigned char *y = b;
    unsigned char d = 0;
    for (size_t i = 0; i < n; i++)
        d |= (unsigned char)(x[i] ^ y[i]);
    return d == 0;
}

int auth_random_hex(size_t n, char *hex)
{
    uint8_t buf[64];
    int rc;
    if (n > sizeof(buf))
        return TMI_EINVAL;
    rc = plat_random(buf, n);
    if (rc != TMI_OK)
        return rc;
    hex_encode(buf, n, hex);
    memset(buf, 0, sizeof(buf));
    return TMI_OK;
}

/* ---- the API token file ---- */

static int token_path(const char *data_dir, const char *name, char *buf, size_t buflen)
{
    return path_join(buf, buflen, data_dir, name);
}

/* Parse the file's bytes: 64 lower-case hex digits and an optional newline. */
static int token_parse(const uint8_t *data, size_t len, char *hex)
{
    if (len == AUTH_TOKEN_HEX_LEN + 1 && data[AUTH_TOKEN_HEX_LEN] == '\n')
        len--;
    else if (len == AUTH_TOKEN_HEX_LEN + 2 && data[AUTH_TOKEN_HEX_LEN] == '\r' &&
             data[AUTH_TOKEN_HEX_LEN + 1] == '\n')
        len -= 2;
    if (len != AUTH_TOKEN_HEX_LEN || !hex_is_lower((const char *)data, len))
        return TMI_ECORRUPT;
    memcpy(hex, data, AUTH_TOKEN_HEX_LEN);
    hex[AUTH_TOKEN_HEX_LEN] = '\0';
    return TMI_OK;
}

int auth_token_read(const char *data_dir, char *hex)
{
    char path[PLAT_PATH_MAX];
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = token_path(data_dir, AUTH_TOKEN_FILE, path, sizeof(path));
    if (rc != TMI_OK)
        return rc;
    rc = plat.read_file(path, 256, &data, &len);
    if (rc == TMI_ETOOBIG)
        return TMI_ECORRUPT;
    if (rc != TMI_OK)
        return rc;
    rc = token_parse(data, len, hex);
    memset(data, 0, len);
    free(data);
    return rc;
}

/* Write a fresh token to a private temp file and rename it over the token. */
static int token_write_new(const char *data_dir, char *hex)
{
    char path[PLAT_PATH_MAX], tmp[PLAT_PATH_MAX], line[AUTH_TOKEN_HEX_LEN + 2];
    int rc = token_path(data_dir, AUTH_TOKEN_FILE, path, sizeof(path));
    if (rc == TMI_OK)
        rc = token_path(data_dir, AUTH_TOKEN_FILE TOKEN_TMP_SUFFIX, tmp, sizeof(tmp));
    if (rc == TMI_OK)
        rc = auth_random_hex(AUTH_TOKEN_HEX_LEN / 2, hex);
    if (rc != TMI_OK)
        return rc;
    memcpy(line, hex, AUTH_TOKEN_HEX_LEN);
    line[AUTH_TOKEN_HEX_LEN] = '\n';
    rc = plat_write_file_private(tmp, line, AUTH_TOKEN_HEX_LEN + 1);
    memset(line, 0, sizeof(line));
    if (rc != TMI_OK)
        return rc;
    rc = plat.rename_replace(tmp, path);
    if (rc != TMI_OK)
        plat.remove_file(tmp);
    return rc;
}

int auth_token_ensure(const char *data_dir, char *hex, int *created)
{
    int rc = auth_token_read(data_dir, hex);
    *created = 0;
    if (rc != TMI_ENOENT)
        return rc;
    rc = token_write_new(data_dir, hex);
    if (rc != TMI_OK)
        return rc;
    *created = 1;
    /* another process may have made one at the same moment: the file wins */
    return auth_token_read(data_dir, hex);
}

int auth_token_rotate(const char *data_dir, char *hex)
{
    return token_write_new(data_dir, hex);
}

/* ---- the token as the server sees it ---- */

struct auth_token_cache {
    plat_mutex *mu;
    char data_dir[PLAT_PATH_MAX];
    int have;           /* sha holds the current token's hash */
    uint8_t sha[32];    /* SHA-256 of the token's hex text */
    int64_t checked_ns; /* when the file was last read (monotonic) */
    int ever_checked;
};

int auth_token_cache_new(const char *data_dir, auth_token_cache **out)
{
    auth_token_cache *c = calloc(1, sizeof(*c));
    int rc;
    if (c == NULL)
        return TMI_ENOMEM;
    rc = strlen(data_dir) < sizeof(c->data_dir) ? TMI_OK : TMI_ETOOBIG;
    if (rc == TMI_OK)
        rc = plat_mutex_new(&c->mu);
    if (rc != TMI_OK) {
        free(c);
        return rc;
    }
    snprintf(c->data_dir, sizeof(c->data_dir), "%s", data_dir);
    *out = c;
    return TMI_OK;
}

void auth_token_cache_free(auth_token_cache *c)
{
    if (c == NULL)
        return;
    plat_mutex_free(c->mu);
    memset(c, 0, sizeof(*c));
    free(c);
}

/* Re-read the token file if the last look is more than a second old. The
 * file is read (65 bytes) rather than stat'ed, so a rotation is seen even
 * where the file system's timestamps are coarse. Locked. */
static void token_refresh(auth_token_cache *c, int64_t now_ns)
{
    char hex[AUTH_TOKEN_HEX_LEN + 1];
    if (c->ever_checked && now_ns - c->checked_ns < TOKEN_RECHECK_NS)
        return;
    c->checked_ns = now_ns;
    c->ever_checked = 1;
    c->have = 0;
    if (auth_token_read(c->data_dir, hex) != TMI_OK)
        return;
    if (plat_sha256(hex, AUTH_TOKEN_HEX_LEN, c->sha) == TMI_OK)
        c->have = 1;
    memset(hex, 0, sizeof(hex));
}

int auth_token_check(auth_token_cache *c, const char *tok, size_t len, int64_t now_ns)
{
    uint8_t got[32];
    int ok;
    if (plat_sha256(tok, len, got) != TMI_OK)
        return 0;
    plat_mutex_lock(c->mu);
    token_refresh(c, now_ns);
    ok = c->have && auth_ct_equal(got, c->sha, sizeof(got));
    plat_mutex_unlock(c->mu);
    return ok;
}

/* ---- web sessions ---- */

int auth_cookie_name(int port, char *buf, size_t buflen)
{
    int n;
    if (port < 1 || port > 65535)
        return TMI_EINVAL;
    n = snprintf(buf, buflen, "%s%d", AUTH_COOKIE_PREFIX, port);
    return n > 0 && (size_t)n < buflen ? TMI_OK : TMI_ETOOBIG;
}

typedef struct session {
    int used;
    uint8_t id_sha[32];
    uint8_t secret_sha[32];
    char user[AUTH_MAX_USER];
    int64_t created_ns;
    int64_t last_ns;
} session;

struct auth_sessions {
    plat_mutex *mu;
    session s[AUTH_MAX_SESSIONS];
};

int auth_sessions_new(auth_sessions **out)
{
    auth_sessions *s = calloc(1, sizeof(*s));
    int rc;
    if (s == NULL)
        return TMI_ENOMEM;
    rc = plat_mutex_new(&s->mu);
    if (rc != TMI_OK) {
        free(s);
        return rc;
    }
    *out = s;
    return TMI_OK;
}

void auth_sessions_free(auth_sessions *s)
{
    if (s == NULL)
        return;
    plat_mutex_free(s->mu);
    memset(s, 0, sizeof(*s));
    free(s);
}

static int session_expired(const session *e, int64_t now_ns)
{
    return now_ns - e->last_ns > AUTH_SESSION_IDLE_NS ||
           now_ns - e->created_ns > AUTH_SESSION_MAX_NS;
}

/* The slot for a new session: a free one (expired ones are freed on the
 * way), else the least recently used. Locked. */
static session *session_slot(auth_sessions *s, int64_t now_ns)
{
    session *slot = NULL;
    for (size_t i = 0; i < AUTH_MAX_SESSIONS; i++) {
        session *e = &s->s[i];
        if (e->used && session_expired(e, now_ns))
            memset(e, 0, sizeof(*e));
        if (!e->used) {
            if (slot == NULL || slot->used)
                slot = e;
        } else if (slot == NULL || (slot->used && e->last_ns < slot->last_ns)) {
            slot = e; /* least recently used, if no free slot turns up */
        }
    }
    return slot;
}

int auth_session_create(auth_sessions *s, const char *user, int64_t now_ns, char *id, char *secret)
{
    session fresh, *slot;
    int rc;
    if (strlen(user) >= AUTH_MAX_USER)
        return TMI_ETOOBIG;
    memset(&fresh, 0, sizeof(fresh));
    rc = auth_random_hex(AUTH_SECRET_HEX_LEN / 2, id);
    if (rc == TMI_OK)
        rc = auth_random_hex(AUTH_SECRET_HEX_LEN / 2, secret);
    if (rc == TMI_OK)
        rc = plat_sha256(id, AUTH_SECRET_HEX_LEN, fresh.id_sha);
    if (rc == TMI_OK)
        rc = plat_sha256(secret, AUTH_SECRET_HEX_LEN, fresh.secret_sha);
    if (rc != TMI_OK)
        goto out;
    fresh.used = 1;
    snprintf(fresh.user, sizeof(fresh.user), "%s", user);
    fresh.created_ns = now_ns;
    fresh.last_ns = now_ns;
    plat_mutex_lock(s->mu);
    slot = session_slot(s, now_ns);
    *slot = fresh;
    plat_mutex_unlock(s->mu);
out:
    memset(&fresh, 0, sizeof(fresh));
    return rc;
}

/* Index of the live session with this id hash, or -1. Locked. Looks at every
 * slot, so the time taken does not depend on where (or whether) it is. */
static int session_find(auth_sessions *s, const uint8_t sha[32])
{
    int found = -1;
    for (int i = 0; i < AUTH_MAX_SESSIONS; i++) {
        int eq = auth_ct_equal(s->s[i].id_sha, sha, 32);
        if (s->s[i].used && eq && found < 0)
            found = i;
    }
    return found;
}

/* SHA-256 of a 64-digit lower-case hex value (a session id or secret). */
static int secret_sha(const char *v, uint8_t sha[32])
{
    size_t len = v != NULL ? req_bounded_len(v, AUTH_SECRET_HEX_LEN) : 0;
    if (len != AUTH_SECRET_HEX_LEN || !hex_is_lower(v, len))
        return TMI_EAUTH;
    return plat_sha256(v, len, sha) == TMI_OK ? TMI_OK : TMI_EAUTH;
}

int auth_session_check(auth_sessions *s, const char *id, const char *secret, int64_t now_ns,
                       auth_session_info *info)
{
    uint8_t sha[32], given[32];
    int i, rc = TMI_EAUTH, have_secret, secret_ok;
    if (secret_sha(id, sha) != TMI_OK)
        return TMI_EAUTH;
    /* a missing or malformed secret is compared all the same (as zeros), so
     * the time taken does not tell whether the id was live */
    have_secret = secret_sha(secret, given) == TMI_OK;
    if (!have_secret)
        memset(given, 0, sizeof(given));
    plat_mutex_lock(s->mu);
    i = session_find(s, sha);
    if (i >= 0) {
        session *e = &s->s[i];
        secret_ok = auth_ct_equal(given, e->secret_sha, sizeof(given)) && have_secret;
        if (session_expired(e, now_ns)) {
            memset(e, 0, sizeof(*e));
        } else if (secret_ok) {
            e->last_ns = now_ns;
            snprintf(info->user, sizeof(info->user), "%s", e->user);
            info->created_ns = e->created_ns;
            rc = TMI_OK;
        }
    }
    plat_mutex_unlock(s->mu);
    return rc;
}

int auth_session_end(auth_sessions *s, const char *id)
{
    uint8_t sha[32];
    int i;
    if (secret_sha(id, sha) != TMI_OK)
        return TMI_ENOENT;
    plat_mutex_lock(s->mu);
    i = session_find(s, sha);
    if (i >= 0)
        memset(&s->s[i], 0, sizeof(s->s[i]));
    plat_mutex_unlock(s->mu);
    return i >= 0 ? TMI_OK : TMI_ENOENT;
}

size_t auth_session_count(auth_sessions *s)
{
    size_t n = 0;
    plat_mutex_lock(s->mu);
    for (size_t i = 0; i < AUTH_MAX_SESSIONS; i++)
        n += s->s[i].used != 0;
    plat_mutex_unlock(s->mu);
    return n;
}

/* ---- the brake on failed authentication ---- */

unsigned auth_throttle_wait_ms(const auth_throttle *t, int64_t now_ns)
{
    int64_t left;
    if (t->blocked_until <= now_ns)
        return 0;
    left = t->blocked_until - now_ns;
    return (unsigned)((left + 999999) / 1000000);
}

unsigned auth_throttle_fail(auth_throttle *t, int64_t now_ns)
{
    unsigned over, ms = AUTH_THROTTLE_BASE_MS;
    if (t->failures > 0 && now_ns - t->last_fail_ns > AUTH_THROTTLE_RESET_NS)
        t->failures = 0;
    t->failures++;
    t->total++;
    t->last_fail_ns = now_ns;
    if (t->failures <= AUTH_THROTTLE_FREE)
        return 0;
    over = t->failures - AUTH_THROTTLE_FREE - 1;
    while (over-- > 0 && ms < AUTH_THROTTLE_MAX_MS)
        ms *= 2;
    if (ms > AUTH_THROTTLE_MAX_MS)
        ms = AUTH_THROTTLE_MAX_MS;
    t->blocked_until = now_ns + (int64_t)ms * 1000000LL;
    return ms;
}

unsigned auth_throttle_hold(auth_throttle *t, int64_t now_ns)
{
    unsigned ms = auth_throttle_wait_ms(t, now_ns);
    if (ms == 0 || t->held >= AUTH_HOLD_MAX_HELD)
        return 0;
    t->held++;
    return ms < AUTH_HOLD_MAX_MS ? ms : AUTH_HOLD_MAX_MS;
}

void auth_throttle_release(auth_throttle *t)
{
    if (t->held > 0)
        t->held--;
}
