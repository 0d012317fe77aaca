/*
 * logincode.h - one-time login codes for the web UI.
 *
 * `tmi-console serve` prints a login URL (http://127.0.0.1:PORT/login?code=C)
 * and `tmi-console login-url` makes a fresh one for a server that is already
 * running, from another process. The code is therefore kept where both
 * processes see it: in the store (table login_codes, created on first use
 * with CREATE TABLE IF NOT EXISTS; it is not part of the versioned schema
 * because nothing in it outlives a few minutes).
 *
 * Only the SHA-256 of a code is stored, with who asked for it and when it
 * expires. Redeeming is one UPDATE ... WHERE unused AND unexpired, so a code
 * works once even when two requests (or two processes) race for it. Anyone
 * who can write the store can mint a code; that is the same trust as reading
 * the API token, which lives in the same owner-only folder.
 */
#ifndef TMI_LOGINCODE_H
#define TMI_LOGINCODE_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define LOGINCODE_HEX_LEN  64                     /* 256 random bits */
#define LOGINCODE_TTL_NS   (120LL * 1000000000LL) /* valid for 2 minutes */
#define LOGINCODE_MAX_USER 256

/*
 * Make a new code for `user` (who asked: shown in the audit trail at login),
 * valid from now_ns (UTC, ns since the epoch) for ttl_ns. Writes the code
 * (LOGINCODE_HEX_LEN + 1 bytes) into code. Codes expired for more than an
 * hour are deleted on the way. TMI_OK, or a store error (store_errmsg()).
 */
int logincode_issue(store *s, const char *user, int64_t now_ns, int64_t ttl_ns, char *code);

/*
 * Redeem code at now_ns: if it is known, unused and unexpired, mark it used
 * and copy its user into user (userlen bytes); TMI_OK. TMI_EAUTH when the
 * code is malformed, unknown, used or expired (the caller cannot tell which:
 * neither can a guesser); other codes for storage errors.
 */
int logincode_redeem(store *s, const char *code, int64_t now_ns, char *user, size_t userlen);

#endif
