/* storetest.c - see storetest.h. */
#include "storetest.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "err.h"
#include "plat.h"
#include "testutil.h"

const audit_actor st_actor = {"tester", "cli"};

const st_details_case st_details_cases[] = {
    {"{\"scan_id\":1,\"verdict\":\"healthy\",\"changed\":0}", 1},
    {"{\"scan_id\":0,\"verdict\":\"not_installed\",\"changed\":9223372036854775807}", 1},
    {"{\"scan_id\":9223372036854775807,\"verdict\":\"a.b-c_9\",\"changed\":17}", 1},
    {"{\"scan_id\":1,\"verdict\":\"0123456789abcdefghijklmnopqrstuv\",\"changed\":0}", 1},
    {"{\"scan_id\":1,\"verdict\":\"0123456789abcdefghijklmnopqrstuvw\",\"changed\":0}", 0},
    {"{\"scan_id\":9223372036854775808,\"verdict\":\"healthy\",\"changed\":0}", 0},
    {"{\"scan_id\":-1,\"verdict\":\"healthy\",\"changed\":0}", 0},
    {"{\"scan_id\":1,\"verdict\":\"healthy\",\"changed\":-0}", 0},
    {"{\"scan_id\":1.0,\"verdict\":\"healthy\",\"changed\":0}", 0},
    {"{\"scan_id\":1e3,\"verdict\":\"healthy\",\"changed\":0}", 0},
    {"{\"scan_id\":1,\"verdict\":\"Healthy\",\"changed\":0}", 0},
    {"{\"scan_id\":1,\"verdict\":\"he\\u0061lthy\",\"changed\":0}", 0},
    {"{\"scan_id\":1,\"verdict\":\"\",\"changed\":0}", 0},
    {"{\"scan_id\":1, \"verdict\":\"healthy\",\"changed\":0}", 0},
    {"{\"scan_id\":1,\"verdict\":\"healthy\",\"changed\":0,\"x\":1}", 0},
    {"{\"scan_id\":1,\"verdict\":\"healthy\",\"changed\":0,\"verdict\":\"x\"}", 0},
    {"{\"changed\":0,\"scan_id\":1,\"verdict\":\"healthy\"}", 0},
    {"{\"scan_id\":\"1\",\"verdict\":\"healthy\",\"changed\":0}", 0},
    {"[{\"scan_id\":1,\"verdict\":\"healthy\",\"changed\":0}]", 0},
    {"{\"scan_id\":12,\"verdict\":\"a\\\",\\\"changed\\\":3,\\\"b\\\":\\\"x\",\"changed\":0}", 0},
    {"{\"scan_id\":01,\"verdict\":\"healthy\",\"changed\":0}", 0},
    {"{\"scan_id\":1,\"verdict\":\"healthy\",\"changed\":00}", 0},
    {NULL, 0},
};
const size_t st_n_details_cases = sizeof(st_details_cases) / sizeof(st_details_cases[0]);

void st_tmpdir(char *buf, size_t buflen)
{
    tu_mkdtemp(buf, buflen);
}

store *st_open(const char *dir)
{
    char err[512];
    store *s = NULL;
    int rc = store_open(dir, &s, err, sizeof(err));
    if (rc != TMI_OK)
        fail_msg("store_open(%s): %s (%s)", dir, tmi_strerror(rc), err);
    return s;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    assert_non_null(p);
    memcpy(p, s, n);
    return p;
}

/* The synthetic scans' paths are plain strings ("/tmi/f0.dll") on every
 * platform: the tests compare them as such. */
static char *xjoin(const char *a, const char *b)
{
    char buf[PLAT_PATH_MAX];
    snprintf(buf, sizeof(buf), "%s/%s", a, b);
    return xstrdup(buf);
}

static void fill_file(scan_file *f, const char *dir, size_t i, uint32_t salt)
{
    char name[32];
    snprintf(name, sizeof(name), "f%zu.dll", i);
    f->name = xstrdup(name);
    f->path = xjoin(dir, name);
    f->status = FILE_OK;
    f->present = 1;
    f->size = 100000 + i;
    f->mtime_ns = 1764064790000000000LL + (int64_t)i * 1000000;
    f->has_sha256 = 1;
    plat_sha256(f->path, strlen(f->path), f->sha256);
    f->sha256[0] ^= (uint8_t)salt;
    f->has_version = 1;
    version_parse("1.12.0.1266", &f->version);
}

scan_result *st_scan(const char *tmi_dir, size_t n_files, size_t n_sources, size_t per_source)
{
    scan_result *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    r->verdict = SCAN_HEALTHY;
    r->root = xstrdup("/root");
    r->tmi_dir = xstrdup(tmi_dir);
    r->tmi_dir_origin = xstrdup("option");
    r->playbook_id = xstrdup("tmi-mrf-1156");
    version_parse("1.12.0.1266", &r->expected_version);
    r->files = calloc(n_files > 0 ? n_files : 1, sizeof(*r->files));
    assert_non_null(r->files);
    r->n_files = n_files;
    for (size_t i = 0; i < n_files; i++)
        fill_file(&r->files[i], tmi_dir, i, 0);
    r->sources = calloc(n_sources > 0 ? n_sources : 1, sizeof(*r->sources));
    assert_non_null(r->sources);
    r->n_sources = n_sources;
    for (size_t s = 0; s < n_sources; s++) {
        char name[32];
        scan_source *src = &r->sources[s];
        snprintf(name, sizeof(name), "backup%zu", s);
        src->path = xjoin(tmi_dir, name);
        src->variant = xstrdup("SPNAF 5.8 SP1 Patch 1+");
        src->complete = 1;
        src->files = calloc(per_source > 0 ? per_source : 1, sizeof(*src->files));
        assert_non_null(src->files);
        src->n_files = per_source;
        for (size_t i = 0; i < per_source; i++)
            fill_file(&src->files[i], src->path, i, (uint32_t)(s + 1));
    }
    r->repair_possible = 0;
    r->repair_source = -1;
    r->repair_reason = xstrdup("nothing to repair");
    r->started_ns = 1764064790000000000LL;
    r->finished_ns = r->started_ns + 5000000;
    return r;
}

int st_exec_rc(store *s, const char *sql)
{
    return sqlite3_exec(store_handle(s), sql, NULL, NULL, NULL) & 0xff;
}

void st_exec(store *s, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(store_handle(s), sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fail_msg("SQL failed: %s: %s", sql, msg ? msg : "?");
    sqlite3_free(msg);
}

int64_t st_int(store *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int64_t v = 0;
    int rc = sqlite3_prepare_v2(store_handle(s), sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        fail_msg("prepare failed: %s: %s", sql, sqlite3_errmsg(store_handle(s)));
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

uint8_t *st_slurp(const char *path, size_t *len)
{
    uint8_t *buf = NULL;
    int rc = plat.read_file(path, 512u * 1024 * 1024, &buf, len);
    if (rc != TMI_OK)
        fail_msg("read %s: %s", path, tmi_strerror(rc));
    return buf;
}

void st_assert_file_is(const char *path, const uint8_t *data, size_t len)
{
    size_t n = 0;
    uint8_t *now = st_slurp(path, &n);
    assert_int_equal(n, len);
    assert_memory_equal(now, data, len);
    free(now);
}

void st_path(char *buf, size_t buflen, const char *dir, const char *name)
{
    tu_join(buf, buflen, dir, name);
}

int st_sink_write(void *arg, const char *buf, size_t len)
{
    st_sink *k = arg;
    k->calls++;
    if (k->fail_after > 0 && k->calls >= (size_t)k->fail_after)
        return TMI_EIO;
    if (len > k->max_piece)
        k->max_piece = len;
    if (k->len + len + 1 > k->cap) {
        size_t cap = (k->cap + len + 1) * 2;
        char *p = realloc(k->data, cap);
        if (p == NULL)
            return TMI_ENOMEM;
        k->data = p;
        k->cap = cap;
    }
    memcpy(k->data + k->len, buf, len);
    k->len += len;
    k->data[k->len] = '\0';
    return 0;
}

void st_sink_free(st_sink *k)
{
    free(k->data);
    memset(k, 0, sizeof(*k));
}
