/* logincode.c - one-time login codes kept (hashed) in the store. */
#include "logincode.h"

#include <stdio.h>
#include <string.h>

#include "err.h"
#include "plat.h"
#include "store_int.h"
#include "hex.h"

static const char create_sql[] =
    "CREATE TABLE IF NOT EXISTS login_codes ("
    " code_sha BLOB PRIMARY KEY NOT NULL CHECK (length(code_sha) = 32),"
    " user TEXT NOT NULL,"
    " issued_ns INTEGER NOT NULL,"
    " expires_ns INTEGER NOT NULL,"
    " used_ns INTEGER"
    ") WITHOUT ROWID";

static int ensure_table(store *s)
{
    char *msg = NULL;
    int rc = sqlite3_exec(s->db, create_sql, NULL, NULL, &msg);
    sqlite3_free(msg);
    if (rc != SQLITE_OK)
        return store_fail_sqlite(s, rc, "cannot create the login code table");
    return TMI_OK;
}

static int code_sha(const char *code, uint8_t sha[32])
{
    size_t len = 0;
    while (len <= LOGINCODE_HEX_LEN && code[len] != '\0')
        len++;
    if (len != LOGINCODE_HEX_LEN)
        return TMI_EAUTH;
    for (size_t i = 0; i < len; i++) {
        char c = code[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return TMI_EAUTH;
    }
    return plat_sha256(code, len, sha) == TMI_OK ? TMI_OK : TMI_EIO;
}

int logincode_issue(store *s, const char *user, int64_t now_ns, int64_t ttl_ns, char *code)
{
    uint8_t raw[LOGINCODE_HEX_LEN / 2], sha[32];
    sqlite3_stmt *st = NULL;
    char hex[LOGINCODE_HEX_LEN + 1];
    int rc;

    store_clear_error(s);
    if (user == NULL || strlen(user) >= LOGINCODE_MAX_USER || ttl_ns <= 0)
        return store_fail(s, TMI_EINVAL, "login code: bad user or lifetime");
    rc = plat_random(raw, sizeof(raw));
    if (rc != TMI_OK)
        return store_fail(s, rc, "login code: no random bytes");
    hex_encode(raw, sizeof(raw), hex);
    rc = code_sha(hex, sha);
    if (rc != TMI_OK)
        return store_fail(s, TMI_EIO, "login code: cannot hash");
    rc = ensure_table(s);
    if (rc != TMI_OK)
        return rc;
    rc = store_prepare(s, "DELETE FROM login_codes WHERE expires_ns < ?1", &st);
    if (rc != TMI_OK)
        goto out;
    sqlite3_bind_int64(st, 1, now_ns - 3600LL * 1000000000LL);
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        rc = store_fail_sqlite(s, rc, "cannot delete old login codes");
        goto out;
    }
    sqlite3_finalize(st);
    st = NULL;
    rc = store_prepare(s,
                       "INSERT INTO login_codes (code_sha, user, issued_ns, expires_ns)"
                       " VALUES (?1, ?2, ?3, ?4)",
                       &st);
    if (rc != TMI_OK)
        goto out;
    sqlite3_bind_blob(st, 1, sha, sizeof(sha), SQLITE_TRANSIENT);
    store_bind_text(st, 2, user);
    sqlite3_bind_int64(st, 3, now_ns);
    sqlite3_bind_int64(st, 4, now_ns + ttl_ns);
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        rc = store_fail_sqlite(s, rc, "cannot store the login code");
        goto out;
    }
    memcpy(code, hex, sizeof(hex));
    rc = TMI_OK;
out:
    sqlite3_finalize(st);
    memset(raw, 0, sizeof(raw));
    memset(hex, 0, sizeof(hex));
    return rc;
}

int logincode_redeem(store *s, const char *code, int64_t now_ns, char *user, size_t userlen)
{
    uint8_t sha[32];
    sqlite3_stmt *st = NULL;
    int rc;

    store_clear_error(s);
    rc = code != NULL ? code_sha(code, sha) : TMI_EAUTH;
    if (rc != TMI_OK)
        return store_fail(s, rc, "login code: malformed");
    rc = ensure_table(s);
    if (rc != TMI_OK)
        return rc;
    rc = store_prepare(s,
                       "UPDATE login_codes SET used_ns = ?2"
                       " WHERE code_sha = ?1 AND used_ns IS NULL AND expires_ns > ?2"
                       " RETURNING user",
                       &st);
    if (rc != TMI_OK)
        goto out;
    sqlite3_bind_blob(st, 1, sha, sizeof(sha), SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, now_ns);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const unsigned char *u = sqlite3_column_text(st, 0);
        snprintf(user, userlen, "%s", u != NULL ? (const char *)u : "");
        rc = sqlite3_step(st);
        rc = rc == SQLITE_DONE ? TMI_OK : store_fail_sqlite(s, rc, "cannot redeem the login code");
    } else if (rc == SQLITE_DONE) {
        rc = store_fail(s, TMI_EAUTH, "login code unknown, used or expired");
    } else {
        rc = store_fail_sqlite(s, rc, "cannot redeem the login code");
    }
out:
    sqlite3_finalize(st);
    return rc;
}
