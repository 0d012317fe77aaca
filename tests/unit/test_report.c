/*
 * test_report.c - the incident report's HTML (server/report/report.h):
 * every text from the store or the system escaped, no script and no inline
 * style, the stylesheet linked or held, the sections a job's report and the
 * report of now carry, times with the server's offset.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "report.h"

/* A cmocka test named like a path. */
#define T(name, fn)                                                                                \
    {                                                                                              \
        name, fn, NULL, NULL, NULL                                                                 \
    }

#define EVIL "<script>alert('x')</script>&\"quoted\""

static char *escaped(const char *s)
{
    report_buf b = {NULL, 0, 0, 1};
    report_buf_escaped(&b, s);
    assert_true(b.ok);
    return b.p != NULL ? b.p : calloc(1, 1);
}

static void expect_escaped(const char *s, const char *want)
{
    char *got = escaped(s);
    assert_string_equal(got, want);
    free(got);
}

static void escapes_text(void **state)
{
    (void)state;
    expect_escaped(NULL, "");
    expect_escaped("", "");
    expect_escaped("plain", "plain");
    expect_escaped("<a href=\"x\">'&'</a>",
                   "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    expect_escaped("tab\tline\nbell\a\x1b[31mesc", "tab\tline\nbell[31mesc");
    expect_escaped("J\xC3\xBCrgen \xE2\x86\x92 \xF0\x9F\x94\x92",
                   "J\xC3\xBCrgen \xE2\x86\x92 \xF0\x9F\x94\x92");
    /* not UTF-8: a stray continuation byte, an overlong '<', a cut sequence */
    expect_escaped("a\x80z", "a\xEF\xBF\xBDz");
    expect_escaped("\xC0\xBC", "\xEF\xBF\xBD\xEF\xBF\xBD");
    expect_escaped("x\xE2\x86", "x\xEF\xBF\xBD\xEF\xBF\xBD");
}

static void formats_times(void **state)
{
    char buf[40];
    (void)state;
    report_time(1796210871125270266LL, buf, sizeof(buf));
    /* "YYYY-MM-DD hh:mm:ss +hh:mm" */
    assert_int_equal(strlen(buf), 26);
    assert_true(buf[4] == '-' && buf[10] == ' ' && buf[19] == ' ');
    assert_true(buf[20] == '+' || buf[20] == '-');
    assert_int_equal(buf[23], ':');
}

/* A report of job 12 with hostile text in every field that comes from
 * outside; the caller releases it. */
static void hostile_job(report *r)
{
    cJSON *steps, *st, *ev;
    memset(r, 0, sizeof(*r));
    r->job_id = 12;
    snprintf(r->host, sizeof(r->host), "%s", EVIL);
    r->made_ns = 1796210871125270266LL;
    r->job = cJSON_CreateObject();
    cJSON_AddStringToObject(r->job, "action", "repair");
    cJSON_AddStringToObject(r->job, "status", "succeeded");
    cJSON_AddStringToObject(r->job, "actor", EVIL);
    cJSON_AddStringToObject(r->job, "auth", "session");
    cJSON_AddStringToObject(r->job, "backup", "2026-12-02T11-32-50-870Z-job12");
    cJSON_AddStringToObject(r->job, "message", EVIL);
    cJSON_AddStringToObject(r->job, "created", "2026-12-02T11:32:50.865Z");
    cJSON_AddStringToObject(r->job, "finished", "not a time " EVIL);
    steps = cJSON_AddArrayToObject(r->job, "steps");
    st = cJSON_CreateObject();
    cJSON_AddStringToObject(st, "step", "backup");
    cJSON_AddStringToObject(st, "what", EVIL);
    cJSON_AddStringToObject(st, "outcome", "ok\" onmouseover=\"x");
    cJSON_AddStringToObject(st, "message", EVIL);
    cJSON_AddStringToObject(st, "started", "2026-12-02T11:32:50.870Z");
    cJSON_AddItemToArray(steps, st);
    snprintf(r->summary, sizeof(r->summary), "8 files: 1.12.0.1156 -> 1.12.0.1266");
    snprintf(r->verdict_before, sizeof(r->verdict_before), "affected");
    snprintf(r->verdict_after, sizeof(r->verdict_after), "healthy");
    snprintf(r->tmi_dir, sizeof(r->tmi_dir), "C:\\TMI\\%s", EVIL);
    r->n_files = 1;
    snprintf(r->files[0].name, sizeof(r->files[0].name), "mrf.exe");
    snprintf(r->files[0].before_version, sizeof(r->files[0].before_version), "1.12.0.1156");
    snprintf(r->files[0].after_version, sizeof(r->files[0].after_version), "1.12.0.1266");
    memset(r->files[0].before_sha256, 'a', 64);
    memset(r->files[0].after_sha256, 'b', 64);
    r->service = cJSON_CreateObject();
    cJSON_AddStringToObject(r->service, "state", "running");
    cJSON_AddStringToObject(r->service, "display_name", EVIL);
    r->events = cJSON_CreateArray();
    ev = cJSON_CreateObject();
    cJSON_AddStringToObject(ev, "time", "2026-12-02T11:32:50Z");
    cJSON_AddStringToObject(ev, "provider", "Trend Micro Control Manager");
    cJSON_AddNumberToObject(ev, "id", 800);
    cJSON_AddStringToObject(ev, "message", "errcode=-107, MRFServer.cpp|108 " EVIL);
    cJSON_AddItemToArray(r->events, ev);
    r->audit.rows = calloc(1, sizeof(audit_row));
    r->audit.count = 1;
    r->audit.rows[0].seq = 7;
    r->audit.rows[0].actor = strdup(EVIL);
    r->audit.rows[0].auth = strdup("session");
    r->audit.rows[0].action = strdup("repair.backup");
    r->audit.rows[0].outcome = strdup("ok");
    r->audit.rows[0].details = strdup("{\"job\":12,\"message\":\"<b>bold</b>\"}");
    r->job_head.seq = 7;
    r->verify_ran = 1;
    r->verify.intact = 1;
    r->verify.rows = 7;
    r->verify.head.seq = 7;
}

/* Nothing in html that a browser would run or style inline. */
static void assert_inert(const char *html)
{
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "<b>"));
    assert_null(strstr(html, " style="));
    assert_null(strstr(html, "onmouseover=\""));
    assert_null(strstr(html, "'x'"));
}

static void job_report_escapes_everything(void **state)
{
    report r;
    char *html = NULL, name[64];
    size_t len = 0;
    (void)state;
    hostile_job(&r);
    assert_int_equal(report_html(&r, NULL, &html, &len), TMI_OK);
    assert_int_equal(strlen(html), len);
    assert_inert(html);
    assert_non_null(
        strstr(html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;quoted&quot;"));
    assert_non_null(strstr(html, "<link rel=\"stylesheet\" href=\"/assets/report.css\">"));
    assert_null(strstr(html, "<style>"));
    /* what a change ticket needs */
    assert_non_null(strstr(html, "<title>Report of job 12 (repair)"));
    assert_non_null(strstr(html, "2026-12-02T11-32-50-870Z-job12"));
    assert_non_null(strstr(html, "1.12.0.1156"));
    assert_non_null(strstr(html, "1.12.0.1266"));
    assert_non_null(
        strstr(html, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
    assert_non_null(
        strstr(html, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"));
    assert_non_null(strstr(html, "affected -&gt; healthy"));
    assert_non_null(strstr(html, "&lt;b&gt;bold&lt;/b&gt;"));
    assert_non_null(strstr(html, "Chain head after the job&#39;s last record"));
    assert_non_null(strstr(html, "errcode=-107"));
    assert_non_null(strstr(html, "</html>\n"));
    report_file_name(&r, name, sizeof(name));
    assert_string_equal(name, "tmi-console-job-12.html");
    free(html);
    report_release(&r);
    assert_null(r.job);
}

static void stylesheet_held_for_a_file(void **state)
{
    report r;
    char *html = NULL;
    size_t len = 0;
    (void)state;
    hostile_job(&r);
    assert_int_equal(report_html(&r, "body { color: black; }\n", &html, &len), TMI_OK);
    assert_non_null(strstr(html, "<style>\nbody { color: black; }\n</style>"));
    assert_null(strstr(html, "/assets/report.css"));
    free(html);
    /* a stylesheet that could end its element is left out */
    assert_int_equal(report_html(&r, "x{}</style><script>", &html, &len), TMI_OK);
    assert_inert(html);
    free(html);
    report_release(&r);
}

static void report_of_now(void **state)
{
    report r;
    char *html = NULL, name[64];
    size_t len = 0;
    (void)state;
    hostile_job(&r);
    r.job_id = 0;
    r.verify.intact = 0;
    r.verify.why = AUDIT_BAD_HASH;
    snprintf(r.verify.detail, sizeof(r.verify.detail), "row 3 %s", EVIL);
    assert_int_equal(report_html(&r, NULL, &html, &len), TMI_OK);
    assert_inert(html);
    assert_non_null(strstr(html, "The state now"));
    assert_non_null(strstr(html, "Last job"));
    assert_non_null(strstr(html, "healthy"));
    assert_non_null(strstr(html, "NO: the chain is broken"));
    /* one version column and one hash column: the files now */
    assert_null(strstr(html, "Version before"));
    assert_non_null(strstr(html, "bbbbbbbb"));
    report_file_name(&r, name, sizeof(name));
    assert_string_equal(name, "tmi-console-report.html");
    free(html);
    report_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T("/report/html/escapes-text", escapes_text),
        T("/report/html/times-with-offset", formats_times),
        T("/report/html/job-report-escapes-everything", job_report_escapes_everything),
        T("/report/html/stylesheet-held-for-a-file", stylesheet_held_for_a_file),
        T("/report/html/report-of-now", report_of_now),
    };
    return cmocka_run_group_tests_name("report", tests, NULL, NULL);
}
