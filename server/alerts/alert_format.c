/*
 * alert_format.c - the syslog URL parser and what each alert output writes
 * (alert_format.h): RFC 5424 messages, octet-counting frames, JSON lines,
 * event-log insertion strings.
 */
#include "alert_format.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "strutil.h"
#include "timefmt.h"

static void fail(char *err, size_t errlen, const char *fmt, ...) TMI_PRINTF(3, 4);
static void fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---- the syslog URL ---- */

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_ldh(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

/* A decimal number of 1..maxdigits digits without a leading zero, at most
 * maxval, spanning s[0..n). -1 when it is not one. */
static long decimal(const char *s, size_t n, size_t maxdigits, long maxval)
{
    long v = 0;
    if (n == 0 || n > maxdigits || (n > 1 && s[0] == '0'))
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v <= maxval ? v : -1;
}

/* host[0..n) as a dotted-decimal IPv4 address: 0, or -1. */
static int ipv4_literal(const char *h, size_t n)
{
    size_t start = 0, parts = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && h[i] != '.')
            continue;
        if (parts == 4 || decimal(h + start, i - start, 3, 255) < 0)
            return -1;
        parts++;
        start = i + 1;
    }
    return parts == 4 ? 0 : -1;
}

/* host[0..n) as a DNS name (see the header): NULL, or what is wrong. */
static const char *dns_name_fault(const char *h, size_t n)
{
    size_t start = 0;
    if (n > 253)
        return "longer than 253 characters";
    for (size_t i = 0; i <= n; i++) {
        if (i < n && h[i] != '.') {
            if (!is_ldh(h[i]))
                return "only letters, digits, '-' and '.' may appear in a host name";
            continue;
        }
        if (i == start)
            return "empty label (two dots, or a dot at either end)";
        if (i - start > 63)
            return "a label is longer than 63 characters";
        if (h[start] == '-' || h[i - 1] == '-')
            return "a label starts or ends with '-'";
        start = i + 1;
    }
    return NULL;
}

/* Is url's scheme (before sep, the "://") name, in any case? */
static int scheme_is(const char *url, const char *sep, const char *name)
{
    if (sep != url + 3)
        return 0;
    for (size_t i = 0; i < 3; i++) {
        char c = url[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != name[i])
            return 0;
    }
    return 1;
}

/* The scheme at the start of url: ALERT_PROTO_*, or -1 (err set). */
static int parse_scheme(const char *url, char *err, size_t errlen)
{
    const char *sep = strstr(url, "://");
    if (scheme_is(url, sep, "udp"))
        return ALERT_PROTO_UDP;
    if (scheme_is(url, sep, "tcp"))
        return ALERT_PROTO_TCP;
    if (sep == NULL)
        fail(err, errlen, "expected udp://HOST:PORT or tcp://HOST:PORT");
    else if (scheme_is(url, sep, "tls"))
        fail(err, errlen, "tls:// (RFC 5425) is not supported: use udp:// or tcp://");
    else
        fail(err, errlen, "unsupported scheme '%.*s' (udp:// or tcp://)",
             (int)(sep - url > 16 ? 16 : sep - url), url);
    return -1;
}

/* HOST:PORT (the part after the scheme) into out. */
static int parse_authority(const char *s, alert_syslog_url *out, char *err, size_t errlen)
{
    const char *colon = strchr(s, ':'), *bad = strpbrk(s, "/?#@[]");
    const char *fault;
    size_t hlen;
    long port;
    if (bad != NULL && (*bad == '[' || *bad == ']')) {
        fail(err, errlen, "IPv6 addresses are not supported: give an IPv4 address or a host name");
        return TMI_EINVAL;
    }
    if (bad != NULL) {
        fail(err, errlen, "'%c' is not allowed: only HOST:PORT may follow the scheme", *bad);
        return TMI_EINVAL;
    }
    if (colon == NULL) {
        fail(err, errlen, "missing :PORT after the host (syslog collectors usually listen on 514)");
        return TMI_EINVAL;
    }
    if (strchr(colon + 1, ':') != NULL) {
        fail(err, errlen, "more than one ':' (IPv6 addresses are not supported)");
        return TMI_EINVAL;
    }
    hlen = (size_t)(colon - s);
    if (hlen == 0) {
        fail(err, errlen, "missing host before :PORT");
        return TMI_EINVAL;
    }
    port = decimal(colon + 1, strlen(colon + 1), 5, 65535);
    if (port < 1) {
        fail(err, errlen, "bad port '%.8s': expected a number from 1 to 65535", colon + 1);
        return TMI_EINVAL;
    }
    if (strspn(s, "0123456789.") >= hlen) {
        if (ipv4_literal(s, hlen) != 0) {
            fail(err, errlen, "'%.*s' is not a valid IPv4 address", (int)(hlen > 64 ? 64 : hlen),
                 s);
            return TMI_EINVAL;
        }
        out->is_ip = 1;
    } else if ((fault = dns_name_fault(s, hlen)) != NULL) {
        fail(err, errlen, "bad host name: %s", fault);
        return TMI_EINVAL;
    }
    memcpy(out->host, s, hlen);
    out->host[hlen] = '\0';
    out->port = (int)port;
    return TMI_OK;
}

int alert_syslog_url_parse(const char *url, alert_syslog_url *out, char *err, size_t errlen)
{
    size_t n;
    int proto, rc;
    memset(out, 0, sizeof(*out));
    if (url == NULL || url[0] == '\0') {
        fail(err, errlen, "empty: expected udp://HOST:PORT or tcp://HOST:PORT");
        return TMI_EINVAL;
    }
    for (n = 0; n <= ALERT_URL_MAX && url[n] != '\0'; n++) {
    }
    if (n > ALERT_URL_MAX) {
        fail(err, errlen, "longer than %d characters", ALERT_URL_MAX);
        return TMI_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= 0x20 || c >= 0x7f) {
            fail(err, errlen, "a space, control character or non-ASCII byte at offset %zu", i);
            return TMI_EINVAL;
        }
    }
    proto = parse_scheme(url, err, errlen);
    if (proto < 0)
        return TMI_EINVAL;
    out->proto = (alert_proto)proto;
    rc = parse_authority(url + 6, out, err, errlen);
    if (rc != TMI_OK)
        memset(out, 0, sizeof(*out));
    return rc;
}

/* ---- text: valid UTF-8 on the way out ---- */

/* The well-formed UTF-8 character at s (n bytes left): its length, or 0. */
static size_t utf8_char(const unsigned char *s, size_t n, uint32_t *cp)
{
    size_t len;
    uint32_t c, min;
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        len = 2, c = s[0] & 0x1F, min = 0x80;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        len = 3, c = s[0] & 0x0F, min = 0x800;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        len = 4, c = s[0] & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return len;
}

#define REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD */
#define ELLIPSIS    "\xE2\x80\xA6" /* U+2026 */

/* The output of the character at s (n bytes left) into out (up to 5
 * bytes), and its length; *used is set to the input bytes it stands for.
 * sd: escape '"', '\' and ']' as an RFC 5424 PARAM-VALUE needs. */
static size_t char_out(const unsigned char *s, size_t n, int sd, char out[5], size_t *used)
{
    uint32_t cp = 0;
    size_t len = utf8_char(s, n, &cp);
    if (len == 0 || cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) {
        *used = len == 0 ? 1 : len;
        memcpy(out, REPLACEMENT, 3);
        return 3;
    }
    *used = len;
    if (sd && (cp == '"' || cp == '\\' || cp == ']')) {
        out[0] = '\\';
        out[1] = (char)cp;
        return 2;
    }
    memcpy(out, s, len);
    return len;
}

/* s as clean text of at most cap bytes into dst (NULL: only measure);
 * returns the bytes it takes. Cut at a character boundary, with an
 * ellipsis, when the whole does not fit. */
static size_t text_out(const char *s, size_t cap, int sd, char *dst)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), full = 0, total = 0, used, k, limit;
    char c[5];
    for (size_t i = 0; i < n && full <= cap; i += used)
        full += char_out(p + i, n - i, sd, c, &used);
    limit = full <= cap ? cap : (cap >= 3 ? cap - 3 : 0);
    for (size_t i = 0; i < n; i += used) {
        k = char_out(p + i, n - i, sd, c, &used);
        if (total + k > limit)
            break;
        if (dst != NULL)
            memcpy(dst + total, c, k);
        total += k;
    }
    if (full > cap && cap >= 3) {
        if (dst != NULL)
            memcpy(dst + total, ELLIPSIS, 3);
        total += 3;
    }
    return total;
}

/* An output buffer: writes past max fail and set full. */
typedef struct wbuf {
    char *p;
    size_t len, max;
    int full;
} wbuf;

static void put(wbuf *b, const char *s, size_t n)
{
    if (b->full || n > b->max - b->len) {
        b->full = 1;
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void puts_(wbuf *b, const char *s)
{
    put(b, s, strlen(s));
}

static void put_text(wbuf *b, const char *s, size_t cap, int sd)
{
    size_t room = b->full ? 0 : b->max - b->len;
    if (b->full || text_out(s, cap, sd, NULL) > room) {
        b->full = 1;
        return;
    }
    b->len += text_out(s, cap, sd, b->p + b->len);
}

/* ---- RFC 5424 ---- */

static void put_param(wbuf *b, const char *name, const char *value, size_t cap)
{
    if (value == NULL)
        return;
    puts_(b, " ");
    puts_(b, name);
    puts_(b, "=\"");
    put_text(b, value, cap, 1);
    puts_(b, "\"");
}

static void put_number_param(wbuf *b, const char *name, int64_t v)
{
    char num[24];
    if (v <= 0)
        return;
    snprintf(num, sizeof(num), "%lld", (long long)v);
    put_param(b, name, num, sizeof(num));
}

static void put_header(wbuf *b, const alert *a, const alert_syslog_origin *o)
{
    char head[512], ts[TIME_UTC_LEN];
    int n = snprintf(head, sizeof(head), "<%d>1 %s %s %s %ld %s ", o->facility * 8 + a->severity,
                     time_format_utc(a->time_ns, ts, sizeof(ts)), o->hostname, o->app_name,
                     o->procid, a->kind);
    if (n < 0 || (size_t)n >= sizeof(head))
        b->full = 1;
    else
        put(b, head, (size_t)n);
}

/* The SD element, free text (tmi_dir, file) cut at cap bytes each. */
static void put_sd(wbuf *b, const alert *a, size_t cap)
{
    puts_(b, "[" ALERT_SD_ID);
    put_param(b, "kind", a->kind, 64);
    put_param(b, "verdict", a->verdict, 64);
    put_param(b, "tmi_dir", a->tmi_dir, cap);
    put_param(b, "file", a->file, cap);
    put_param(b, "old_version", a->old_version, 64);
    put_param(b, "new_version", a->new_version, 64);
    put_param(b, "old_sha256", a->old_sha256, 64);
    put_param(b, "new_sha256", a->new_sha256, 64);
    put_number_param(b, "job", a->job);
    put_param(b, "changed_by", a->changed_by, 64);
    put_number_param(b, "audit_seq", a->audit_seq);
    puts_(b, "]");
}

size_t alert_syslog_format(const alert *a, const alert_syslog_origin *origin, char *buf, size_t max)
{
    /* the caps for tmi_dir and file, tried in turn: the last always fits
     * in 1024 bytes with the longest header (see the header's sizes) */
    static const size_t caps[] = {1024, 256, 64};
    wbuf b;
    for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
        b.p = buf;
        b.len = 0;
        b.max = max;
        b.full = 0;
        put_header(&b, a, origin);
        put_sd(&b, a, caps[i]);
        if (b.full)
            continue;
        /* MSG: " " BOM text, the text cut to what is left */
        if (b.max - b.len >= 4) {
            puts_(&b, " \xEF\xBB\xBF");
            put_text(&b, a->message, b.max - b.len, 0);
        }
        return b.len;
    }
    return 0;
}

size_t alert_syslog_frame(const char *msg, size_t len, char *buf, size_t max)
{
    char num[24];
    int n = snprintf(num, sizeof(num), "%zu ", len);
    if (n < 0 || (size_t)n > max || len > max - (size_t)n)
        return 0;
    memcpy(buf, num, (size_t)n);
    memcpy(buf + n, msg, len);
    return (size_t)n + len;
}

/* ---- JSON lines ---- */

static const char *const severity_names[8] = {"emergency", "alert",  "critical",      "error",
                                              "warning",   "notice", "informational", "debug"};

const char *alert_severity_name(int severity)
{
    return severity >= 0 && severity <= 7 ? severity_names[severity] : "unknown";
}

/* key: the clean text of s (cut at ALERT_TEXT_MAX), or null. */
static int add_text(cJSON *o, const char *key, const char *s, char *tmp)
{
    size_t n;
    if (s == NULL)
        return cJSON_AddNullToObject(o, key) != NULL ? 0 : -1;
    n = text_out(s, ALERT_TEXT_MAX, 0, tmp);
    tmp[n] = '\0';
    return cJSON_AddStringToObject(o, key, tmp) != NULL ? 0 : -1;
}

static int add_number(cJSON *o, const char *key, int64_t v)
{
    if (v <= 0)
        return cJSON_AddNullToObject(o, key) != NULL ? 0 : -1;
    return cJSON_AddNumberToObject(o, key, (double)v) != NULL ? 0 : -1;
}

static cJSON *json_object(const alert *a, const char *hostname, const char *app, char *tmp)
{
    char ts[TIME_UTC_LEN];
    cJSON *o = cJSON_CreateObject();
    int bad = o == NULL;
    bad = bad || add_text(o, "time", time_format_utc(a->time_ns, ts, sizeof(ts)), tmp) != 0;
    bad = bad || add_text(o, "kind", a->kind, tmp) != 0;
    bad = bad || add_number(o, "event_id", (int64_t)alert_kind_event_id(a->kind)) != 0;
    bad = bad || cJSON_AddNumberToObject(o, "severity", a->severity) == NULL;
    bad = bad || add_text(o, "severity_name", alert_severity_name(a->severity), tmp) != 0;
    bad = bad || add_text(o, "message", a->message, tmp) != 0;
    bad = bad || add_text(o, "verdict", a->verdict, tmp) != 0;
    bad = bad || add_text(o, "tmi_dir", a->tmi_dir, tmp) != 0;
    bad = bad || add_text(o, "file", a->file, tmp) != 0;
    bad = bad || add_text(o, "old_version", a->old_version, tmp) != 0;
    bad = bad || add_text(o, "new_version", a->new_version, tmp) != 0;
    bad = bad || add_text(o, "old_sha256", a->old_sha256, tmp) != 0;
    bad = bad || add_text(o, "new_sha256", a->new_sha256, tmp) != 0;
    bad = bad || add_number(o, "job", a->job) != 0;
    bad = bad || add_text(o, "changed_by", a->changed_by, tmp) != 0;
    bad = bad || add_number(o, "audit_seq", a->audit_seq) != 0;
    bad = bad || add_text(o, "host", hostname, tmp) != 0;
    bad = bad || add_text(o, "app", app, tmp) != 0;
    if (bad) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

char *alert_json_line(const alert *a, const char *hostname, const char *app_name, size_t *len)
{
    char *tmp = malloc(ALERT_TEXT_MAX + 1), *text = NULL, *line = NULL;
    cJSON *o = NULL;
    size_t n;
    if (tmp == NULL)
        goto out;
    o = json_object(a, hostname, app_name, tmp);
    if (o == NULL)
        goto out;
    text = cJSON_PrintUnformatted(o);
    if (text == NULL)
        goto out;
    n = strlen(text);
    line = malloc(n + 2);
    if (line == NULL)
        goto out;
    memcpy(line, text, n);
    line[n] = '\n';
    line[n + 1] = '\0';
    *len = n + 1;
out:
    free(text);
    cJSON_Delete(o);
    free(tmp);
    return line;
}

/* ---- event log ---- */

/* Append s (or "-" when NULL) as clean text of at most cap bytes and a NUL. */
static const char *put_string(wbuf *b, const char *s, size_t cap)
{
    const char *start = b->p + b->len;
    put_text(b, s != NULL ? s : "-", cap, 0);
    put(b, "", 1);
    return b->full ? NULL : start;
}

size_t alert_event_strings(const alert *a, char *buf, size_t max,
                           const char *strings[ALERT_EVENT_STRINGS])
{
    char job[24], seq[24], ts[TIME_UTC_LEN];
    wbuf b = {buf, 0, max, 0};
    snprintf(job, sizeof(job), "%lld", (long long)a->job);
    snprintf(seq, sizeof(seq), "%lld", (long long)a->audit_seq);
    strings[0] = put_string(&b, a->message, ALERT_TEXT_MAX);
    strings[1] = put_string(&b, a->verdict, 64);
    strings[2] = put_string(&b, a->tmi_dir, ALERT_TEXT_MAX);
    strings[3] = put_string(&b, a->file, ALERT_TEXT_MAX);
    strings[4] = put_string(&b, a->old_version, 64);
    strings[5] = put_string(&b, a->new_version, 64);
    strings[6] = put_string(&b, a->old_sha256, 64);
    strings[7] = put_string(&b, a->new_sha256, 64);
    strings[8] = put_string(&b, a->job > 0 ? job : NULL, 64);
    strings[9] = put_string(&b, a->changed_by, 64);
    strings[10] = put_string(&b, a->audit_seq > 0 ? seq : NULL, 64);
    strings[11] = put_string(&b, time_format_utc(a->time_ns, ts, sizeof(ts)), 64);
    return b.full ? 0 : b.len;
}
