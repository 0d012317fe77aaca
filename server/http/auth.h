/*
 * auth.h - who may use the API: the API token, web sessions (cookie and
 * page secret), constant-time comparison, and the brake on repeated failures.
 *
 * API token. 256 random bits as 64 lower-case hex digits in the file
 * AUTH_TOKEN_FILE of the data folder, readable by its owner only (the data
 * folder itself is too). Made on first need; `tmi-console token --rotate`
 * replaces it atomically (temp file + rename). Scripts send it as
 * "Authorization: Bearer <token>". The server re-reads the file when it
 * changes, so a rotation takes effect within a second without a restart.
 *
 * Web sessions. A browser logs in with a one-time login code (db/logincode.h)
 * and gets a session with two random 256-bit parts, of which the server keeps
 * only the SHA-256:
 *   - the session id, in an HttpOnly, SameSite=Strict cookie whose name
 *     carries the port (auth_cookie_name: "tmi_session_8917"), so two
 *     consoles on one machine do not replace each other's cookie;
 *   - the page secret, handed to the page once, in the fragment of the login
 *     redirect ("/#secret=..."; fragments are never sent to a server), which
 *     the page keeps in its tab (sessionStorage) and sends in the
 *     AUTH_SECRET_HEADER header on every API call.
 * A request is a session request only when it carries both and they belong
 * together (auth_session_check). Browsers send 127.0.0.1's cookies to every
 * port of 127.0.0.1, so the cookie alone can reach another local user's
 * server: on its own it is worth nothing, and nothing the API answers
 * reveals the secret. The secret never travels in a cookie, and pages of
 * another port are another origin, which cannot read this one's storage.
 * Sessions live in the memory of the serving process only: they end when it
 * stops (a restart needs a new login URL), after AUTH_SESSION_IDLE_NS without
 * use, or AUTH_SESSION_MAX_NS after login. Nothing about them is written to
 * disk.
 *
 * Comparisons of secrets are constant-time (auth_ct_equal); tokens are
 * compared through their SHA-256 so that not even their length leaks.
 *
 * Thread safety: auth_token_cache and auth_sessions lock internally;
 * auth_throttle is a plain value the caller locks.
 */
#ifndef TMI_AUTH_H
#define TMI_AUTH_H

#include <stddef.h>
#include <stdint.h>

#define AUTH_TOKEN_FILE      "api-token"
#define AUTH_TOKEN_HEX_LEN   64             /* 256 bits */
#define AUTH_COOKIE_PREFIX   "tmi_session_" /* + the port */
#define AUTH_COOKIE_NAME_MAX 32
#define AUTH_SECRET_HEADER   "X-TMI-Secret"
#define AUTH_SECRET_HEX_LEN  64 /* session ids and page secrets: 256 bits */
#define AUTH_MAX_USER        256

#define AUTH_SESSION_IDLE_NS (12LL * 3600 * 1000000000LL) /* 12 h without use */
#define AUTH_SESSION_MAX_NS  (24LL * 3600 * 1000000000LL) /* 24 h after login */
#define AUTH_MAX_SESSIONS    64                           /* oldest is dropped beyond */

/* Do a[0..n) and b[0..n) hold the same bytes? Time depends on n only. */
int auth_ct_equal(const void *a, const void *b, size_t n);

/* n random bytes as 2n lower-case hex digits into hex (2n + 1 bytes). */
int auth_random_hex(size_t n, char *hex);

/* ---- the API token file ---- */

/* Read the token of data_dir into hex (AUTH_TOKEN_HEX_LEN + 1 bytes).
 * TMI_ENOENT when there is none, TMI_ECORRUPT when the file does not hold
 * exactly 64 hex digits (and an optional newline). */
int auth_token_read(const char *data_dir, char *hex);

/* Read the token, making one first if there is none (*created set to 1 then,
 * else 0). The data folder must exist. */
int auth_token_ensure(const char *data_dir, char *hex, int *created);

/* Replace the token with a new random one, atomically (the old one works
 * until the rename, the new one from then on); new token into hex. */
int auth_token_rotate(const char *data_dir, char *hex);

/* ---- the token as the server sees it ---- */

typedef struct auth_token_cache auth_token_cache;

/* A cache of data_dir's token file. TMI_OK with *out set (free with
 * auth_token_cache_free), TMI_ENOMEM. A missing token file is not an error:
 * every check then fails until one exists. */
int auth_token_cache_new(const char *data_dir, auth_token_cache **out);
void auth_token_cache_free(auth_token_cache *c);

/* Does tok[0..len) equal the current token? The file is looked at again
 * (re-read) at most once per second of now_ns
 * (a monotonic clock). 1 yes, 0 no. */
int auth_token_check(auth_token_cache *c, const char *tok, size_t len, int64_t now_ns);

/* ---- web sessions ---- */

/* The session cookie's name for a server on port ("tmi_session_8917") into
 * buf (AUTH_COOKIE_NAME_MAX bytes is enough). TMI_OK, TMI_EINVAL for a port
 * outside 1..65535, TMI_ETOOBIG when buf is too small. */
int auth_cookie_name(int port, char *buf, size_t buflen);

typedef struct auth_sessions auth_sessions;

/* What a valid session tells the request that presented it. */
typedef struct auth_session_info {
    char user[AUTH_MAX_USER];
    int64_t created_ns;
} auth_session_info;

int auth_sessions_new(auth_sessions **out);
void auth_sessions_free(auth_sessions *s);

/* Start a session for user at now_ns (monotonic). Writes the session id (for
 * the cookie) into id and the page secret into secret, both
 * AUTH_SECRET_HEX_LEN + 1 bytes; neither is kept, only their hashes. Drops
 * the least recently used session when AUTH_MAX_SESSIONS are open. */
int auth_session_create(auth_sessions *s, const char *user, int64_t now_ns, char *id, char *secret);

/* Check a session request: `id` as sent in the cookie and `secret` as sent
 * in AUTH_SECRET_HEADER (either may be NULL). TMI_OK with *info filled only
 * when the id names a live session and the secret is that session's (both
 * compared through their SHA-256 in constant time); only then is the session
 * marked used at now_ns, so a cookie alone never keeps a session alive.
 * TMI_EAUTH otherwise: unknown, malformed or expired id (an expired session
 * is forgotten), missing or wrong secret; the answer does not tell which. */
int auth_session_check(auth_sessions *s, const char *id, const char *secret, int64_t now_ns,
                       auth_session_info *info);

/* End the session with this id (logout). TMI_OK, or TMI_ENOENT if none. */
int auth_session_end(auth_sessions *s, const char *id);

/* Number of live sessions (for tests and the status line). */
size_t auth_session_count(auth_sessions *s);

/* ---- the brake on failed authentication ----
 *
 * Every failed credential counts: a wrong token, an unknown login code, a
 * session cookie that names no live session or comes without its page
 * secret or with a wrong one. The first AUTH_THROTTLE_FREE failures cost
 * nothing; each one after that blocks every credential check for
 * AUTH_THROTTLE_BASE_MS, doubling per failure up to AUTH_THROTTLE_MAX_MS. A
 * quiet spell of AUTH_THROTTLE_RESET_NS forgets the count. Times are
 * monotonic ns. A right credential is checked first and always passes: the
 * brake slows guessing, it never locks out the holder of a real credential.
 *
 * While the brake holds, a failing request is also answered late: held for
 * the rest of the block but at most AUTH_HOLD_MAX_MS, and never more than
 * AUTH_HOLD_MAX_HELD requests at once (the others are answered at once), so
 * a flood of failures slows the guesser without tying up the server's
 * workers. */
#define AUTH_THROTTLE_FREE     5
#define AUTH_THROTTLE_BASE_MS  500
#define AUTH_THROTTLE_MAX_MS   30000
#define AUTH_THROTTLE_RESET_NS (15LL * 60 * 1000000000LL)
#define AUTH_HOLD_MAX_MS       1000
#define AUTH_HOLD_MAX_HELD     4

typedef struct auth_throttle {
    unsigned failures;     /* counted failures (consecutive, up to the reset) */
    uint64_t total;        /* all failures since start */
    int64_t last_fail_ns;  /* when the last failure was counted */
    int64_t blocked_until; /* no credential checks before this */
    unsigned held;         /* failing requests being held now */
} auth_throttle;

/* Milliseconds until a credential may be checked (0: now). */
unsigned auth_throttle_wait_ms(const auth_throttle *t, int64_t now_ns);

/* Count one failure at now_ns; returns the block it starts, in ms (0 while
 * the failures are still free). */
unsigned auth_throttle_fail(auth_throttle *t, int64_t now_ns);

/* How long to hold a failing request answered at now_ns: 0 when the brake
 * does not hold or AUTH_HOLD_MAX_HELD requests are held already, else
 * min(the rest of the block, AUTH_HOLD_MAX_MS), and the request counts as
 * held until auth_throttle_release (call it exactly once for every non-zero
 * answer, after the wait). */
unsigned auth_throttle_hold(auth_throttle *t, int64_t now_ns);
void auth_throttle_release(auth_throttle *t);

#endif
