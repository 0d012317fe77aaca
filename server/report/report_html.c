/*
 * report_html.c - the report (report.h) as one HTML document: escaped text
 * only, no script, no inline style; sections a printer keeps together.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "hex.h"
#include "plat.h"
#include "report.h"
#include "strutil.h"
#include "timefmt.h"

/* ---- the text ---- */

void report_buf_add(report_buf *b, const char *s, size_t n)
{
    str_buf_add(b, s, n);
}

void report_buf_str(report_buf *b, const char *s)
{
    if (s != NULL)
        report_buf_add(b, s, strlen(s));
}

/* The length of the well-formed UTF-8 sequence at s (lead byte >= 0x80),
 * or 0. */
static size_t utf8_len(const unsigned char *s)
{
    size_t n = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 ? 2 : 0;
    if (n == 0 || s[0] > 0xF4)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if (s[i] == 0)
            return 0;
    }
    return str_utf8_valid((const char *)s, n) ? n : 0;
}

void report_buf_escaped(report_buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (p != NULL && *p != '\0') {
        size_t n;
        switch (*p) {
        case '&':
            report_buf_str(b, "&amp;");
            break;
        case '<':
            report_buf_str(b, "&lt;");
            break;
        case '>':
            report_buf_str(b, "&gt;");
            break;
        case '"':
            report_buf_str(b, "&quot;");
            break;
        case '\'':
            report_buf_str(b, "&#39;");
            break;
        default:
            if (*p >= 0x80) {
                n = utf8_len(p);
                if (n == 0) {
                    report_buf_str(b, "\xEF\xBF\xBD");
                    n = 1;
                } else {
                    report_buf_add(b, (const char *)p, n);
                }
                p += n;
                continue;
            }
            if (*p >= 0x20 || *p == '\t' || *p == '\n')
                report_buf_add(b, (const char *)p, 1);
        }
        p++;
    }
}

char *report_time(int64_t ns, char *buf, size_t buflen)
{
    int off = plat_utc_offset_minutes(ns);
    int a = off < 0 ? -off : off;
    time_civil c;
    time_to_civil(ns + (int64_t)off * 60 * 1000000000LL, &c);
    snprintf(buf, buflen, "%04d-%02d-%02d %02d:%02d:%02d %c%02d:%02d", c.year, c.month, c.day,
             c.hour, c.minute, c.second, off < 0 ? '-' : '+', a / 60, a % 60);
    return buf;
}

/* An RFC 3339 time from the store as report_time(), or the text as it is
 * when it does not parse, or "-" when NULL. */
static void put_time_text(report_buf *b, const char *rfc3339)
{
    char err[64], when[40];
    int64_t ns = 0;
    if (rfc3339 == NULL) {
        report_buf_str(b, "-");
    } else if (time_parse(rfc3339, &ns, err, sizeof(err)) == TMI_OK) {
        report_buf_str(b, report_time(ns, when, sizeof(when)));
    } else {
        report_buf_escaped(b, rfc3339);
    }
}

static const char *json_text(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* <tag class="cls">escaped text</tag>; cls may be NULL. */
static void put_elem(report_buf *b, const char *tag, const char *cls, const char *text)
{
    report_buf_str(b, "<");
    report_buf_str(b, tag);
    if (cls != NULL) {
        report_buf_str(b, " class=\"");
        report_buf_escaped(b, cls);
        report_buf_str(b, "\"");
    }
    report_buf_str(b, ">");
    report_buf_escaped(b, text != NULL && text[0] != '\0' ? text : "-");
    report_buf_str(b, "</");
    report_buf_str(b, tag);
    report_buf_str(b, ">");
}

/* A row's header cell: <th scope="row">text</th>. */
static void put_row_head(report_buf *b, const char *text)
{
    report_buf_str(b, "<th scope=\"row\">");
    report_buf_escaped(b, text != NULL && text[0] != '\0' ? text : "-");
    report_buf_str(b, "</th>");
}

/* A row of the facts list: <dt>term</dt><dd>text</dd>. */
static void put_fact(report_buf *b, const char *term, const char *text)
{
    put_elem(b, "dt", NULL, term);
    put_elem(b, "dd", NULL, text);
}

static void put_fact_time(report_buf *b, const char *term, const char *rfc3339)
{
    put_elem(b, "dt", NULL, term);
    report_buf_str(b, "<dd>");
    put_time_text(b, rfc3339);
    report_buf_str(b, "</dd>");
}

/* ---- the sections ---- */

static void put_head(report_buf *b, const report *r, const char *css)
{
    char title[160];
    if (r->job_id > 0)
        snprintf(title, sizeof(title), "Report of job %lld (%s) - tmi-console",
                 (long long)r->job_id, json_text(r->job, "action"));
    else
        snprintf(title, sizeof(title), "Report of the state now - tmi-console");
    report_buf_str(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    put_elem(b, "title", NULL, title);
    if (css == NULL) {
        report_buf_str(b, "\n<link rel=\"stylesheet\" href=\"/assets/report.css\">\n");
    } else {
        /* the stylesheet is ours, but a "</" in it would end the element */
        report_buf_str(b, "\n<style>\n");
        if (strstr(css, "</") == NULL)
            report_buf_str(b, css);
        report_buf_str(b, "</style>\n");
    }
    report_buf_str(b, "</head>\n<body>\n<header class=\"report-head\">\n");
    put_elem(b, "p", "brand", "tmi-console - TMI/MRF file version repair");
    put_elem(b, "h1", NULL, title);
    report_buf_str(b, "\n</header>\n<main>\n");
}

/* Who ran it, in words: "alice (web session)". */
static void who_text(const cJSON *job, char *buf, size_t buflen)
{
    const char *auth = json_text(job, "auth");
    const char *how = auth == NULL                   ? "?"
                      : strcmp(auth, "session") == 0 ? "web session"
                      : strcmp(auth, "token") == 0   ? "API token"
                      : strcmp(auth, "cli") == 0     ? "command line"
                      : strcmp(auth, "system") == 0  ? "tmi-console itself"
                                                     : auth;
    snprintf(buf, buflen, "%s (%s)", json_text(job, "actor") ? json_text(job, "actor") : "?", how);
}

static void put_verdicts(report_buf *b, const report *r)
{
    char text[96];
    if (r->job_id > 0) {
        snprintf(text, sizeof(text), "%s -> %s", r->verdict_before[0] ? r->verdict_before : "?",
                 r->verdict_after[0] ? r->verdict_after : "?");
        put_fact(b, "Verdict before -> after", text);
    } else {
        put_fact(b, "Verdict", r->verdict_after[0] ? r->verdict_after : "no scan yet");
    }
}

static void put_job_facts(report_buf *b, const report *r)
{
    const cJSON *job = r->job;
    const cJSON *rb = cJSON_GetObjectItemCaseSensitive(job, "rolled_back");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(job, "params");
    char who[320], when[40], id[32];
    snprintf(id, sizeof(id), "%lld", (long long)r->job_id);
    who_text(job, who, sizeof(who));
    report_buf_str(b, "<section class=\"facts\">\n<h2>What was done</h2>\n<dl>\n");
    put_fact(b, "Job", id);
    put_fact(b, "Action", json_text(job, "action"));
    put_fact(b, "Outcome", json_text(job, "status"));
    put_fact(b, "Result", json_text(job, "message"));
    put_fact(b, "Change", r->summary);
    put_fact(b, "Backup", json_text(job, "backup"));
    if (json_text(params, "backup") != NULL)
        put_fact(b, "Restored from", json_text(params, "backup"));
    if (json_text(params, "confirmed_plan") != NULL)
        put_fact(b, "Plan confirmed (digest)", json_text(params, "confirmed_plan"));
    put_fact(b, "Rolled back",
             cJSON_IsTrue(rb) ? "yes: every file restored from the backup" : "no");
    put_fact(b, "Server", r->host);
    put_fact(b, "Run by", who);
    put_fact_time(b, "Started", json_text(job, "created"));
    put_fact_time(b, "Finished", json_text(job, "finished"));
    put_verdicts(b, r);
    put_fact(b, "TMI folder", r->tmi_dir);
    put_fact(b, "Report made", report_time(r->made_ns, when, sizeof(when)));
    report_buf_str(b, "</dl>\n</section>\n");
}

static void put_now_facts(report_buf *b, const report *r)
{
    char when[40], scan[32];
    snprintf(scan, sizeof(scan), "%lld", (long long)r->scan_after);
    report_buf_str(b, "<section class=\"facts\">\n<h2>The state now</h2>\n<dl>\n");
    put_fact(b, "Server", r->host);
    put_verdicts(b, r);
    put_fact(b, "Latest scan", r->scan_after > 0 ? scan : "none");
    put_fact(b, "TMI folder", r->tmi_dir);
    put_fact(b, "Report made", report_time(r->made_ns, when, sizeof(when)));
    report_buf_str(b, "</dl>\n</section>\n");
}

/* A version and a status in one cell: "1.12.0.1156 (old)". */
static void put_version_cell(report_buf *b, const char *version, const char *status)
{
    report_buf_str(b, "<td class=\"version\">");
    report_buf_escaped(b, version[0] ? version : "-");
    if (status[0] != '\0') {
        report_buf_str(b, " <span class=\"status\">(");
        report_buf_escaped(b, status);
        report_buf_str(b, ")</span>");
    }
    report_buf_str(b, "</td>");
}

static void put_files(report_buf *b, const report *r)
{
    int job = r->job_id > 0;
    report_buf_str(b, "<section class=\"files\">\n<h2>Files</h2>\n");
    if (r->n_files == 0) {
        put_elem(b, "p", NULL, "No scan recorded the TMI folder's files.");
        report_buf_str(b, "</section>\n");
        return;
    }
    report_buf_str(
        b, job ? "<table>\n<thead><tr><th scope=\"col\">File</th>"
                 "<th scope=\"col\">Version before</th><th scope=\"col\">Version "
                 "after</th><th scope=\"col\">SHA-256 before</th><th scope=\"col\">"
                 "SHA-256 after</th><th scope=\"col\">Signature before</th><th scope=\"col\">"
                 "Signature after</th></tr></thead>\n<tbody>\n"
               : "<table>\n<thead><tr><th scope=\"col\">File</th><th scope=\"col\">"
                 "Version</th><th scope=\"col\">SHA-256</th><th scope=\"col\">"
                 "Signature</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < r->n_files; i++) {
        const report_file *f = &r->files[i];
        report_buf_str(b, "<tr>");
        put_row_head(b, f->name);
        if (job)
            put_version_cell(b, f->before_version, f->before_status);
        put_version_cell(b, f->after_version, f->after_status);
        if (job)
            put_elem(b, "td", "hash", f->before_sha256);
        put_elem(b, "td", "hash", f->after_sha256);
        if (job)
            put_elem(b, "td", "sig", f->before_sig[0] ? f->before_sig : "-");
        put_elem(b, "td", "sig", f->after_sig[0] ? f->after_sig : "-");
        report_buf_str(b, "</tr>\n");
    }
    report_buf_str(b, "</tbody>\n</table>\n</section>\n");
}

static void put_steps(report_buf *b, const report *r)
{
    const cJSON *st;
    report_buf_str(b, "<section class=\"steps\">\n<h2>Steps</h2>\n<table>\n<thead><tr>"
                      "<th scope=\"col\">Step</th><th scope=\"col\">Outcome</th>"
                      "<th scope=\"col\">Started</th><th scope=\"col\">Finished</th>"
                      "<th scope=\"col\">What and result</th></tr></thead>\n<tbody>\n");
    cJSON_ArrayForEach(st, cJSON_GetObjectItemCaseSensitive(r->job, "steps"))
    {
        const char *outcome = json_text(st, "outcome");
        char cls[48];
        snprintf(cls, sizeof(cls), "outcome-%s", outcome != NULL ? outcome : "unknown");
        report_buf_str(b, "<tr>");
        put_row_head(b, json_text(st, "step"));
        put_elem(b, "td", cls, outcome);
        report_buf_str(b, "<td class=\"time\">");
        put_time_text(b, json_text(st, "started"));
        report_buf_str(b, "</td><td class=\"time\">");
        put_time_text(b, json_text(st, "finished"));
        report_buf_str(b, "</td><td class=\"text\">");
        report_buf_escaped(b, json_text(st, "what"));
        if (json_text(st, "message") != NULL && json_text(st, "message")[0] != '\0') {
            report_buf_str(b, "<br>");
            report_buf_escaped(b, json_text(st, "message"));
        }
        report_buf_str(b, "</td></tr>\n");
    }
    report_buf_str(b, "</tbody>\n</table>\n</section>\n");
}

static void put_service(report_buf *b, const report *r)
{
    const cJSON *ev;
    report_buf_str(b, "<section class=\"service\">\n<h2>Service and event evidence</h2>\n"
                      "<p class=\"note\">Read when the report was made.</p>\n<dl>\n");
    put_fact(b, "Service", json_text(r->service, "display_name"));
    put_fact(b, "Service name", json_text(r->service, "name"));
    put_fact(b, "State", json_text(r->service, "state"));
    put_fact(b, "Detail", json_text(r->service, "detail"));
    report_buf_str(b, "</dl>\n");
    if (cJSON_GetArraySize(r->events) == 0) {
        put_elem(b, "p", NULL, "No record of the playbook's event in the event log.");
        report_buf_str(b, "</section>\n");
        return;
    }
    report_buf_str(b, "<table>\n<thead><tr><th scope=\"col\">Time</th><th scope=\"col\">Event"
                      "</th><th scope=\"col\">Message</th></tr></thead>\n<tbody>\n");
    cJSON_ArrayForEach(ev, r->events)
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(ev, "id");
        char what[300];
        snprintf(what, sizeof(what), "%s %d",
                 json_text(ev, "provider") ? json_text(ev, "provider") : "",
                 cJSON_IsNumber(id) ? id->valueint : 0);
        report_buf_str(b, "<tr><td class=\"time\">");
        put_time_text(b, json_text(ev, "time"));
        report_buf_str(b, "</td>");
        put_elem(b, "td", NULL, what);
        put_elem(b, "td", "text", json_text(ev, "message"));
        report_buf_str(b, "</tr>\n");
    }
    report_buf_str(b, "</tbody>\n</table>\n</section>\n");
}

/* Most bytes of a record's details shown when it has no message. */
#define DETAILS_SHOWN 300

/* A record's details in the table: its "message" when it has one (the
 * runner's steps do; the versions and hashes are in the files table), else
 * its JSON text, cut at DETAILS_SHOWN bytes on a character boundary (the
 * whole record is in the audit export). */
static void put_details(report_buf *b, const char *details)
{
    cJSON *d = details != NULL ? cJSON_Parse(details) : NULL;
    const char *msg = json_text(d, "message");
    size_t n = details != NULL ? strlen(details) : 0;
    report_buf_str(b, "<td class=\"text\">");
    if (msg != NULL && msg[0] != '\0') {
        report_buf_escaped(b, msg);
    } else if (n <= DETAILS_SHOWN) {
        report_buf_escaped(b, n > 0 ? details : "-");
    } else {
        char cut[DETAILS_SHOWN + 1];
        size_t k = DETAILS_SHOWN;
        while (k > 0 && ((unsigned char)details[k] & 0xC0) == 0x80)
            k--;
        memcpy(cut, details, k);
        cut[k] = '\0';
        report_buf_escaped(b, cut);
        report_buf_str(b, " \xE2\x80\xA6");
    }
    report_buf_str(b, "</td>");
    cJSON_Delete(d);
}

static void put_audit_row(report_buf *b, const audit_row *a)
{
    char when[40], seq[32], who[300];
    snprintf(seq, sizeof(seq), "%lld", (long long)a->seq);
    snprintf(who, sizeof(who), "%s (%s)", a->actor ? a->actor : "?", a->auth ? a->auth : "?");
    report_buf_str(b, "<tr>");
    put_elem(b, "td", "seq", seq);
    put_elem(b, "td", "time", report_time(a->time_ns, when, sizeof(when)));
    put_elem(b, "td", NULL, who);
    put_elem(b, "td", NULL, a->action);
    put_elem(b, "td", NULL, a->outcome);
    put_details(b, a->details);
    report_buf_str(b, "</tr>\n");
}

static void put_audit(report_buf *b, const report *r)
{
    char head[100];
    report_buf_str(b, "<section class=\"audit\">\n<h2>Audit records of the job</h2>\n");
    if (r->audit.count == 0) {
        put_elem(b, "p", NULL, "The audit trail holds no record of this job.");
        report_buf_str(b, "</section>\n");
        return;
    }
    report_buf_str(b, "<table>\n<thead><tr><th scope=\"col\">Seq</th><th scope=\"col\">Time"
                      "</th><th scope=\"col\">By</th><th scope=\"col\">Action</th>"
                      "<th scope=\"col\">Outcome</th><th scope=\"col\">Details</th></tr></thead>"
                      "\n<tbody>\n");
    for (size_t i = 0; i < r->audit.count; i++)
        put_audit_row(b, &r->audit.rows[i]);
    report_buf_str(b, "</tbody>\n</table>\n<p class=\"note\">Details: each record's message, "
                      "or the start of its details; the whole records are in the audit export."
                      "</p>\n<dl>\n");
    put_fact(b, "Chain head after the job's last record",
             audit_head_format(&r->job_head, head, sizeof(head)));
    report_buf_str(b, "</dl>\n</section>\n");
}

static void put_last_job(report_buf *b, const report *r)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(r->job, "id");
    char num[32], who[320];
    report_buf_str(b, "<section class=\"facts\">\n<h2>Last job</h2>\n");
    if (r->job == NULL) {
        put_elem(b, "p", NULL, "No job has run.");
        report_buf_str(b, "</section>\n");
        return;
    }
    snprintf(num, sizeof(num), "%lld", cJSON_IsNumber(id) ? (long long)id->valuedouble : 0LL);
    who_text(r->job, who, sizeof(who));
    report_buf_str(b, "<dl>\n");
    put_fact(b, "Job", num);
    put_fact(b, "Action", json_text(r->job, "action"));
    put_fact(b, "Outcome", json_text(r->job, "status"));
    put_fact(b, "Result", json_text(r->job, "message"));
    put_fact(b, "Backup", json_text(r->job, "backup"));
    put_fact(b, "Run by", who);
    put_fact_time(b, "Started", json_text(r->job, "created"));
    put_fact_time(b, "Finished", json_text(r->job, "finished"));
    report_buf_str(b, "</dl>\n</section>\n");
}

static void put_chain(report_buf *b, const report *r)
{
    const audit_report *v = &r->verify;
    char head[100], rows[48];
    report_buf_str(b, "<section class=\"chain\">\n<h2>Audit chain</h2>\n<dl>\n");
    if (!r->verify_ran) {
        put_fact(b, "Verified", "not checked");
    } else {
        put_fact(b, "Verified",
                 v->intact ? "yes: every record's hash and link checked from seq 1"
                           : "NO: the chain is broken");
        snprintf(rows, sizeof(rows), "%lld", (long long)v->rows);
        put_fact(b, "Records checked", rows);
        put_fact(b, "Chain head now", audit_head_format(&v->head, head, sizeof(head)));
        if (!v->intact)
            put_fact(b, audit_break_name(v->why), v->detail);
        if (v->unanchored > 0)
            put_fact(b, "Note", "the newest records are not yet anchored in audit-head");
    }
    report_buf_str(b, "</dl>\n<p class=\"note\">Check an exported trail against the head: "
                      "<code>tmi-console audit verify --file EXPORT.json --head SEQ:HASH</code>"
                      "</p>\n</section>\n");
}

int report_html(const report *r, const char *css, char **out, size_t *len)
{
    report_buf b = {NULL, 0, 0, 1};
    put_head(&b, r, css);
    if (r->job_id > 0) {
        put_job_facts(&b, r);
        put_files(&b, r);
        put_steps(&b, r);
        put_service(&b, r);
        put_audit(&b, r);
    } else {
        put_now_facts(&b, r);
        put_files(&b, r);
        put_service(&b, r);
        put_last_job(&b, r);
    }
    put_chain(&b, r);
    report_buf_str(&b, "</main>\n<footer class=\"report-foot\">");
    report_buf_escaped(&b, "Made by tmi-console on ");
    report_buf_escaped(&b, r->host);
    report_buf_str(&b, ". Times are the server's local time with its offset from UTC.</footer>\n"
                       "</body>\n</html>\n");
    if (!b.ok || b.p == NULL) {
        free(b.p);
        return TMI_ENOMEM;
    }
    *out = b.p;
    *len = b.len;
    return TMI_OK;
}
