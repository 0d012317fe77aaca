/*
 * alert_format.h - what the alert outputs write, as pure functions (no I/O,
 * no allocation except alert_json_line): the syslog URL, RFC 5424 messages
 * and their TCP framing (RFC 6587 octet counting), the JSON line, and the
 * event log's insertion strings.
 *
 * Text from outside (paths, messages) is made valid UTF-8 on the way out:
 * a byte that does not start a well-formed UTF-8 character, and a control
 * character (U+0000-U+001F, U+007F-U+009F), become U+FFFD. Every function
 * takes an alert that passed alert_validate().
 */
#ifndef TMI_ALERT_FORMAT_H
#define TMI_ALERT_FORMAT_H

#include <stddef.h>

#include "alerts.h"

/* ---- the syslog URL ---- */

#define ALERT_URL_MAX  300 /* longest URL accepted, in bytes */
#define ALERT_HOST_MAX 254 /* a DNS name's 253 characters and the NUL */

typedef enum alert_proto { ALERT_PROTO_UDP, ALERT_PROTO_TCP } alert_proto;

typedef struct alert_syslog_url {
    alert_proto proto;
    char host[ALERT_HOST_MAX]; /* as given */
    int port;                  /* 1..65535 */
    int is_ip;                 /* host is an IPv4 literal (nothing to resolve) */
} alert_syslog_url;

/*
 * Parse url strictly as "udp://HOST:PORT" or "tcp://HOST:PORT": the scheme
 * in any case; HOST an IPv4 address in dotted decimal (four numbers 0..255,
 * no leading zeros) or a DNS name (labels of 1..63 letters, digits and
 * hyphens, not starting or ending with a hyphen, at most 253 characters, no
 * empty label, not all digits and dots); PORT 1..65535 in decimal without
 * leading zeros; nothing else (no user, path, query, IPv6 literal, space or
 * non-ASCII byte), at most ALERT_URL_MAX bytes. TMI_OK with *out filled, or
 * TMI_EINVAL with a one-line reason in err that names the fault; *out is
 * then zeroed.
 */
int alert_syslog_url_parse(const char *url, alert_syslog_url *out, char *err, size_t errlen);

/* ---- RFC 5424 ---- */

/* The structured-data ID: a private SD-ID must be NAME@<IANA private
 * enterprise number> (RFC 5424 7.2.2); 32473 is the number RFC 5612
 * reserves for documentation, used until the project registers its own. */
#define ALERT_SD_ID "tmi@32473"

/* Longest message for UDP (RFC 5426 3.2: a sender SHOULD keep to 2048
 * octets when it does not know the path's MTU) and for TCP (before the
 * framing). */
#define ALERT_SYSLOG_UDP_MAX 2048
#define ALERT_SYSLOG_TCP_MAX 8192

/* The header fields that are the same for every message. */
typedef struct alert_syslog_origin {
    int facility;         /* 0..23 */
    const char *hostname; /* 1..255 PRINTUSASCII, or "-" */
    const char *app_name; /* 1..48 PRINTUSASCII */
    long procid;          /* the process id */
} alert_syslog_origin;

/*
 * Write a as one RFC 5424 message into buf (no NUL; at most max bytes,
 * max >= 1024) and return its length:
 *
 *   <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] BOM MSG
 *
 * PRI = facility * 8 + severity; TIMESTAMP in UTC with milliseconds
 * (2026-11-25T10:59:50.123Z); MSGID the kind; one SD element ALERT_SD_ID
 * with the params kind, verdict, tmi_dir, file, old_version, new_version,
 * old_sha256, new_sha256, job, changed_by, audit_seq in that order, those
 * not set left out; '"', '\' and ']' in a value escaped with '\'; MSG the
 * message in UTF-8 after the BOM (EF BB BF). To stay within max, the
 * message is cut first, then tmi_dir and file (at a character boundary, an
 * ellipsis "..." (U+2026) marking the cut); no other value is ever cut.
 */
size_t alert_syslog_format(const alert *a, const alert_syslog_origin *origin, char *buf,
                           size_t max);

/* RFC 6587 octet counting: "LEN SP MSG" into buf (at most max bytes) and its
 * length, or 0 when it does not fit. */
size_t alert_syslog_frame(const char *msg, size_t len, char *buf, size_t max);

/* ---- JSON lines ---- */

/*
 * a as one JSON object on one line, ending with "\n", in a new string (the
 * caller frees it; NULL when out of memory), *len its length:
 *   {"time":"2026-11-25T10:59:50.123Z","kind":"outside_change",
 *    "event_id":1002,"severity":4,"severity_name":"warning","message":"...",
 *    "verdict":"affected","tmi_dir":"...","file":"mrf.exe",
 *    "old_version":"1.12.0.1266","new_version":"1.12.0.1156",
 *    "old_sha256":"...","new_sha256":"...","job":null,
 *    "changed_by":"outside","audit_seq":42,"host":"srv01","app":"tmi-console"}
 * Every key is always there (null when not set); the message and the paths
 * are cut at ALERT_TEXT_MAX bytes.
 */
#define ALERT_TEXT_MAX 4096
char *alert_json_line(const alert *a, const char *hostname, const char *app_name, size_t *len);

/* ---- event log ---- */

/*
 * The insertion strings of the message table's texts, in this order:
 *   %1 message      %2 verdict       %3 TMI folder   %4 file
 *   %5 old version  %6 new version   %7 old SHA-256  %8 new SHA-256
 *   %9 job          %10 changed by   %11 audit row   %12 time (UTC)
 * A value not set is "-". They are written one after the other into buf,
 * each ending with a NUL, and strings[i] points at each (into buf). Returns
 * the bytes used, or 0 when max is too small (ALERT_EVENT_BUF_MAX always
 * fits).
 */
#define ALERT_EVENT_STRINGS 12
#define ALERT_EVENT_BUF_MAX (3 * ALERT_TEXT_MAX + 1024)
size_t alert_event_strings(const alert *a, char *buf, size_t max,
                           const char *strings[ALERT_EVENT_STRINGS]);

/* The RFC 5424 name of a severity 0..7 ("error", "warning", ...). */
const char *alert_severity_name(int severity);

#endif
