/*
 * evlog_parse.c - EVENTLOGRECORD buffers, read with explicit little-endian
 * loads and bounds on every offset (see evlog_parse.h). Compiled in both
 * backends; the Win32 one feeds it what ReadEventLogW returned.
 */
#include "evlog_parse.h"

#include <string.h>

#include "err.h"
#include "strutil.h"

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

/* ---- UTF-8 output with a bound ---- */

typedef struct out_buf {
    char *p;
    size_t cap; /* bytes, the NUL included */
    size_t used;
    int cut;
} out_buf;

/* Append n bytes (one whole UTF-8 character or ASCII run) or nothing. */
static void put(out_buf *o, const char *s, size_t n)
{
    if (o->cut || n >= o->cap - o->used) {
        o->cut = 1;
        return;
    }
    memcpy(o->p + o->used, s, n);
    o->used += n;
    o->p[o->used] = '\0';
}

static void put_cp(out_buf *o, uint32_t cp)
{
    char b[4];
    put(o, b, str_utf8_encode(cp, b));
}

/*
 * The UTF-16LE string at rec[*off..end) up to its NUL, as UTF-8 into o.
 * 1 with *off just past the NUL; 0 when no NUL comes before end (*off is
 * then end). A character that does not fit sets o->cut, and the rest of
 * the string is skipped.
 */
static int utf16_string(const uint8_t *rec, size_t *off, size_t end, out_buf *o)
{
    size_t i = *off;
    while (i + 2 <= end) {
        uint32_t u = rd16(rec + i);
        i += 2;
        if (u == 0) {
            *off = i;
            return 1;
        }
        if (u >= 0xD800 && u <= 0xDBFF && i + 2 <= end) {
            uint32_t lo = rd16(rec + i);
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                i += 2;
                u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
            } else {
                u = 0xFFFD;
            }
        } else if (u >= 0xD800 && u <= 0xDFFF) {
            u = 0xFFFD;
        }
        put_cp(o, u);
    }
    *off = end;
    return 0;
}

/* ---- parsing ---- */

static int names(const uint8_t *buf, evlog_record *out)
{
    size_t off = EVLOG_FIXED_LEN;
    out_buf o = {out->source, sizeof(out->source), 0, 0};
    out->source[0] = '\0';
    out->computer[0] = '\0';
    if (!utf16_string(buf, &off, out->length, &o))
        return TMI_ECORRUPT;
    o = (out_buf){out->computer, sizeof(out->computer), 0, 0};
    utf16_string(buf, &off, out->length, &o); /* optional: not needed for the event */
    return TMI_OK;
}

static void insertion_strings(const uint8_t *buf, uint32_t string_offset, evlog_record *out)
{
    size_t off = string_offset;
    out_buf o = {out->text, sizeof(out->text), 0, 0};
    out->text[0] = '\0';
    for (uint16_t i = 0; i < out->num_strings; i++) {
        size_t start = o.used;
        int whole;
        if (out->n_strings == EVLOG_STRINGS_MAX || off >= out->length || o.used + 1 >= o.cap) {
            out->strings_cut = 1;
            return;
        }
        whole = utf16_string(buf, &off, out->length, &o);
        if (!whole || o.cut) {
            out->strings_cut = 1;
            if (o.cut)
                return;
        }
        o.used++; /* keep this string's NUL: the next starts after it */
        out->strings[out->n_strings++] = out->text + start;
        if (o.used < o.cap)
            out->text[o.used] = '\0';
        if (!whole)
            return;
    }
}

int evlog_parse(const uint8_t *buf, size_t len, evlog_record *out)
{
    uint32_t string_offset;
    if (out == NULL)
        return TMI_EINVAL;
    memset(out, 0, sizeof(*out));
    if (buf == NULL || len < EVLOG_FIXED_LEN)
        return TMI_ECORRUPT;
    out->length = rd32(buf);
    if (out->length < EVLOG_FIXED_LEN + 2 || out->length > len || out->length > EVLOG_RECORD_MAX ||
        rd32(buf + 4) != EVLOG_MAGIC)
        goto corrupt;
    out->record_number = rd32(buf + 8);
    out->time_generated = rd32(buf + 12);
    out->time_written = rd32(buf + 16);
    out->event_id = rd32(buf + 20);
    out->event_type = rd16(buf + 24);
    out->num_strings = rd16(buf + 26);
    out->category = rd16(buf + 28);
    string_offset = rd32(buf + 36);
    if (out->num_strings > 0 && (string_offset < EVLOG_FIXED_LEN || string_offset >= out->length))
        goto corrupt;
    if (names(buf, out) != TMI_OK)
        goto corrupt;
    insertion_strings(buf, string_offset, out);
    return TMI_OK;
corrupt:
    memset(out, 0, sizeof(*out));
    return TMI_ECORRUPT;
}

int evlog_source_is(const evlog_record *r, const char *name)
{
    const char *a = r->source;
    if (name == NULL)
        return 0;
    for (; *a != '\0' && *name != '\0'; a++, name++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
        char y = *name >= 'A' && *name <= 'Z' ? (char)(*name - 'A' + 'a') : *name;
        if (x != y)
            return 0;
    }
    return *a == '\0' && *name == '\0';
}

int evlog_level(const evlog_record *r)
{
    switch (r->event_type) {
    case 1:
        return 2;
    case 2:
        return 3;
    default:
        return 4;
    }
}

/* ---- the message ---- */

/* Put len bytes of UTF-8, cutting them only between characters. */
static void put_text(out_buf *o, const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && !o->cut) {
        size_t n = 1;
        unsigned char c = (unsigned char)s[i];
        if (c >= 0xC0)
            n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        while (n > 1 && (i + n > len || ((unsigned char)s[i + n - 1] & 0xC0) != 0x80))
            n--; /* a malformed sequence: its bytes one by one */
        put(o, s + i, n);
        i += n;
    }
}

/* At tmpl[*i] just after "%": one escape or insert. 0 when %0 ends it. */
static int format_escape(const evlog_record *r, const char *tmpl, size_t *i, out_buf *o)
{
    char c = tmpl[*i];
    if (c >= '1' && c <= '9') {
        size_t start = *i - 1, num = (size_t)(c - '0');
        (*i)++;
        if (tmpl[*i] >= '0' && tmpl[*i] <= '9')
            num = num * 10 + (size_t)(tmpl[(*i)++] - '0');
        if (tmpl[*i] == '!') {
            const char *end = strchr(tmpl + *i + 1, '!');
            if (end != NULL)
                *i = (size_t)(end - tmpl) + 1;
        }
        if (num <= r->n_strings)
            put_text(o, r->strings[num - 1], strlen(r->strings[num - 1]));
        else
            put(o, tmpl + start, *i - start); /* an insert the record lacks */
        return 1;
    }
    (*i)++;
    switch (c) {
    case '0':
        return 0;
    case 'n':
        put(o, "\n", 1);
        break;
    case 'r':
        put(o, "\r", 1);
        break;
    case 't':
        put(o, "\t", 1);
        break;
    case '\0':
        (*i)--;
        put(o, "%", 1);
        break;
    default:
        put(o, &c, 1); /* %% %. %! "% " and anything else */
        break;
    }
    return 1;
}

static void format_template(const evlog_record *r, const char *tmpl, out_buf *o)
{
    size_t i = 0;
    while (tmpl[i] != '\0' && !o->cut) {
        size_t run = strcspn(tmpl + i, "%");
        if (run > 0) {
            put_text(o, tmpl + i, run);
            i += run;
            continue;
        }
        i++;
        if (!format_escape(r, tmpl, &i, o))
            break;
    }
    while (o->used > 0 &&
           (o->p[o->used - 1] == '\n' || o->p[o->used - 1] == '\r' || o->p[o->used - 1] == ' '))
        o->p[--o->used] = '\0';
}

int evlog_message(const evlog_record *r, const char *tmpl, char *buf, size_t buflen)
{
    out_buf o = {buf, buflen, 0, 0};
    if (r == NULL || buf == NULL || buflen == 0)
        return TMI_EINVAL;
    buf[0] = '\0';
    if (tmpl != NULL) {
        format_template(r, tmpl, &o);
    } else {
        for (size_t k = 0; k < r->n_strings && !o.cut; k++) {
            if (k > 0)
                put(&o, " ", 1);
            put_text(&o, r->strings[k], strlen(r->strings[k]));
        }
    }
    return o.cut ? TMI_ETOOBIG : TMI_OK;
}
