/*
 * test_sigpolicy.c - the playbook's signature policy as a scan applies it
 * (detect.h), on the signed fixtures of tests/tools/sig_fixtures.sh (the
 * folder TMI_SIG_FIXTURES names; skipped without it): which source folders
 * are complete, which are refused and why, and what the admin's
 * accept_untrusted_root override accepts and what it never does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "authenticode.h"
#include "detect.h"
#include "err.h"
#include "plat.h"
#include "playbook.h"
#include "scan_json.h"
#include "testutil.h"

#define PUBLISHER "TMI Test Publisher, Inc."

typedef struct fx {
    char root[PLAT_PATH_MAX];
    char tmi[PLAT_PATH_MAX];
    char src[PLAT_PATH_MAX];
    char trust[PLAT_PATH_MAX];
} fx;

static const char *fixtures_dir(void)
{
    const char *d = getenv("TMI_SIG_FIXTURES");
    return d != NULL && d[0] != '\0' ? d : NULL;
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    tu_mkdtemp(f->root, sizeof(f->root));
    tu_join(f->tmi, sizeof(f->tmi), f->root, "App");
    tu_join(f->src, sizeof(f->src), f->tmi, "good");
    tu_mkdirs(f->src);
    if (fixtures_dir() != NULL)
        tu_join(f->trust, sizeof(f->trust), fixtures_dir(), "trust.pem");
    /* the TMI folder: the old, unsigned set */
    char path[PLAT_PATH_MAX];
    tu_join(path, sizeof(path), f->tmi, "a.exe");
    tu_write_pe(path, "1.12.0.1156", 0, 1);
    tu_join(path, sizeof(path), f->tmi, "b.dll");
    tu_write_pe(path, "1.12.0.1156", 0, 2);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    plat_remove_tree(f->root);
    free(f);
    return 0;
}

/* Copy the fixture name to dir/as. */
static void put(const char *dir, const char *as, const char *name)
{
    char from[PLAT_PATH_MAX], to[PLAT_PATH_MAX];
    uint8_t *buf = NULL;
    size_t len = 0;
    tu_join(from, sizeof(from), fixtures_dir(), name);
    tu_join(to, sizeof(to), dir, as);
    assert_int_equal(plat.read_file(from, 64u << 20, &buf, &len), TMI_OK);
    assert_int_equal(plat.write_file(to, buf, len), TMI_OK);
    free(buf);
}

/* Scan with a playbook of two files and the policy given as JSON members
 * (", \"signer\": ..."), with or without the override, and the digests a
 * cache keeps (NULL: none). */
static scan_result *scan_cached(fx *f, const char *policy, int accept_root,
                                const scan_digest_cache *cache)
{
    char text[8192], err[256];
    playbook *pb = NULL;
    tmi_target t;
    scan_result *r = NULL;
    scan_options opt = {accept_root, cache};
    snprintf(text, sizeof(text),
             "{\"id\":\"p\",\"title\":\"P\",\"expected_version\":\"1.12.0.1266\","
             "\"files\":[\"a.exe\",\"b.dll\"],\"tmi_folders\":[\"App\"],"
             "\"sources\":[{\"glob\":\"good\",\"variant\":\"v\"}],"
             "\"service\":{\"display_name\":\"S\",\"image_name\":\"a.exe\"},"
             "\"trust_store\":\"%s\"%s}",
             f->trust, policy);
    if (playbook_load_json(text, strlen(text), &pb, err, sizeof(err)) != TMI_OK)
        fail_msg("playbook: %s", err);
    tu_target(&t, pb, f->root, NULL);
    assert_int_equal(scan_run_opts(&t, &opt, &r), TMI_OK);
    playbook_free(pb); /* the result owns copies of what it keeps */
    assert_int_equal(r->n_sources, 1);
    return r;
}

static scan_result *scan_with(fx *f, const char *policy, int accept_root)
{
    return scan_cached(f, policy, accept_root, NULL);
}

static void expect_refused(scan_result *r, const char *part)
{
    const scan_source *s = &r->sources[0];
    assert_false(s->complete);
    assert_false(r->repair_possible);
    assert_string_equal(scan_source_state(s), "untrusted");
    if (s->reason == NULL || strstr(s->reason, part) == NULL)
        fail_msg("reason \"%s\", wanted \"%s\"", s->reason ? s->reason : "(null)", part);
    assert_non_null(strstr(r->repair_reason, part));
    scan_result_free(r);
}

#define SKIP_WITHOUT_FIXTURES()                                                                    \
    do {                                                                                           \
        if (fixtures_dir() == NULL)                                                                \
            skip();                                                                                \
    } while (0)

static void valid_set_is_complete(void **state)
{
    fx *f = *state;
    SKIP_WITHOUT_FIXTURES();
    put(f->src, "a.exe", "signed.exe");
    put(f->src, "b.dll", "signed64.dll");
    scan_result *r = scan_with(f, ",\"signer\":{\"organization\":\"" PUBLISHER "\"}", 0);
    const scan_source *s = &r->sources[0];
    assert_true(s->complete);
    assert_string_equal(scan_source_state(s), "complete");
    assert_true(r->repair_possible);
    for (size_t i = 0; i < s->n_files; i++) {
        assert_true(s->files[i].has_sig);
        assert_int_equal(s->files[i].sig.status, SIG_VALID);
        assert_string_equal(s->files[i].sig.signer_o, PUBLISHER);
        assert_false(s->files[i].sig_override);
    }
    assert_int_equal(r->files[0].sig.status, SIG_UNSIGNED);
    /* in the JSON: the signature and the state */
    cJSON *o = scan_to_json(r);
    const cJSON *so = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "sources"), 0);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(so, "state")->valuestring, "complete");
    const cJSON *sf = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(so, "files"), 1);
    const cJSON *sig = cJSON_GetObjectItemCaseSensitive(sf, "signature");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(sig, "status")->valuestring, "valid");
    cJSON_Delete(o);
    scan_result_free(r);
}

/* A changed file is never accepted: not by version, not by the override. */
static void tampered_file_is_refused_whatever_its_version(void **state)
{
    fx *f = *state;
    SKIP_WITHOUT_FIXTURES();
    put(f->src, "a.exe", "signed.exe");
    put(f->src, "b.dll", "tampered-header.dll");
    scan_result *r = scan_with(f, "", 0);
    assert_int_equal(r->sources[0].files[1].sig.reason, SIG_REASON_DIGEST_MISMATCH);
    expect_refused(r, "b.dll has an invalid signature (digest_mismatch");
    expect_refused(scan_with(f, "", 1), "b.dll has an invalid signature (digest_mismatch");
    /* named first, even when another file is also wrong */
    char path[PLAT_PATH_MAX];
    tu_join(path, sizeof(path), f->src, "a.exe");
    plat.remove_file(path);
    expect_refused(scan_with(f, "", 0), "b.dll has an invalid signature");
    /* other faults than a root: never accepted either */
    put(f->src, "a.exe", "tampered-sig.exe");
    expect_refused(scan_with(f, "", 1), "a.exe has an invalid signature (bad_signature");
    put(f->src, "a.exe", "noeku.exe");
    expect_refused(scan_with(f, "", 1), "a.exe has an invalid signature (wrong_key_usage");
}

/* The override accepts a root outside the trust store, and only that, and
 * only from the expected publisher. */
static void untrusted_root_needs_the_override(void **state)
{
    fx *f = *state;
    SKIP_WITHOUT_FIXTURES();
    put(f->src, "a.exe", "unknown-root.exe");
    put(f->src, "b.dll", "signed64.dll");
    expect_refused(scan_with(f, "", 0), "a.exe has an invalid signature (untrusted_root");
    scan_result *r = scan_with(f, "", 1);
    const scan_source *s = &r->sources[0];
    assert_true(s->complete);
    assert_int_equal(s->n_override, 1);
    assert_true(s->files[0].sig_override);
    assert_false(s->files[1].sig_override);
    assert_true(r->accept_untrusted_root);
    cJSON *o = scan_to_json(r);
    const cJSON *so = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "sources"), 0);
    const cJSON *acc = cJSON_GetObjectItemCaseSensitive(so, "untrusted_root_accepted");
    assert_int_equal(cJSON_GetArraySize(acc), 1);
    assert_string_equal(cJSON_GetArrayItem(acc, 0)->valuestring, "a.exe");
    cJSON_Delete(o);
    scan_result_free(r);
    /* that chain's publisher is not the expected one: refused even so */
    expect_refused(scan_with(f, ",\"signer\":{\"organization\":\"" PUBLISHER "\"}", 1),
                   "a.exe is signed by \"Elsewhere Software\"");
}

static void publisher_and_thumbprints(void **state)
{
    fx *f = *state;
    SKIP_WITHOUT_FIXTURES();
    put(f->src, "a.exe", "signed.exe");
    put(f->src, "b.dll", "signed64.dll");
    expect_refused(scan_with(f, ",\"signer\":{\"organization\":\"Trend Micro, Inc.\"}", 0),
                   "not by the expected publisher \"Trend Micro, Inc.\"");
    expect_refused(scan_with(f,
                             ",\"signer\":{\"organization\":\"" PUBLISHER "\",\"thumbprints\":[\""
                             "0000000000000000000000000000000000000000000000000000000000000000"
                             "\"]}",
                             0),
                   "not one of the playbook's thumbprints");
    /* the leaf's own thumbprint pinned */
    scan_result *r = scan_with(f, "", 0);
    char hex[65], policy[512];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", r->sources[0].files[0].sig.thumb_sha256[i]);
    scan_result_free(r);
    snprintf(policy, sizeof(policy),
             ",\"signer\":{\"organization\":\"" PUBLISHER "\",\"thumbprints\":[\"%s\"]}", hex);
    r = scan_with(f, policy, 0);
    assert_true(r->sources[0].complete);
    scan_result_free(r);
}

/* Unsigned copies: only with allow_unsigned, and only for unsigned files. */
static void unsigned_only_for_unsigned(void **state)
{
    fx *f = *state;
    SKIP_WITHOUT_FIXTURES();
    put(f->src, "a.exe", "unsigned.exe");
    put(f->src, "b.dll", "unsigned64.dll");
    expect_refused(scan_with(f, "", 0), "a.exe is not signed, and the playbook accepts signed");
    scan_result *r = scan_with(f, ",\"allow_unsigned\":true", 0);
    assert_true(r->sources[0].complete);
    scan_result_free(r);
    /* a signed file in the TMI folder is never replaced by an unsigned one */
    put(f->tmi, "b.dll", "signed64.dll");
    expect_refused(scan_with(f, ",\"allow_unsigned\":true", 0),
                   "b.dll is not signed, but the file it would replace is");
    /* a missing one may be */
    char path[PLAT_PATH_MAX];
    tu_join(path, sizeof(path), f->tmi, "b.dll");
    plat.remove_file(path);
    r = scan_with(f, ",\"allow_unsigned\":true", 0);
    assert_true(r->sources[0].complete);
    scan_result_free(r);
}

/* A trust store that cannot be used: nothing is complete, and the scan says why. */
static void unusable_trust_store(void **state)
{
    fx *f = *state;
    SKIP_WITHOUT_FIXTURES();
    put(f->src, "a.exe", "signed.exe");
    put(f->src, "b.dll", "signed64.dll");
    tu_join(f->trust, sizeof(f->trust), f->root, "no-such.pem");
    scan_result *r = scan_with(f, "", 0);
    assert_non_null(r->sig_error);
    assert_non_null(strstr(r->sig_error, "no-such.pem"));
    assert_false(r->sources[0].complete);
    assert_false(r->files[0].has_sig);
    scan_result_free(r);
}

/* One signed or tampered fixture of fixtures.txt, read, for a check. */
typedef struct fixture {
    const char *name, *path;
    uint8_t *buf;
    size_t len;
} fixture;

/* Call fn for every fixture listed in fixtures.txt; how many there were. */
static size_t each_fixture(fx *f, void (*fn)(fx *f, const fixture *x, void *ctx), void *ctx)
{
    char list[PLAT_PATH_MAX], line[256], path[PLAT_PATH_MAX];
    size_t n = 0;
    tu_join(list, sizeof(list), fixtures_dir(), "fixtures.txt");
    FILE *fp = fopen(list, "r");
    assert_non_null(fp);
    while (fgets(line, sizeof(line), fp) != NULL) {
        char name[128];
        if (sscanf(line, "%127s", name) != 1)
            continue;
        fixture x = {name, path, NULL, 0};
        tu_join(path, sizeof(path), fixtures_dir(), name);
        assert_int_equal(plat.read_file(path, 64u << 20, &x.buf, &x.len), TMI_OK);
        fn(f, &x, ctx);
        free(x.buf);
        n++;
    }
    fclose(fp);
    return n;
}

/* Fixture name's two results a (got as how_a) and b (as how_b) agree on
 * the verdict: status and reason (named on failure) and the detail. */
static void assert_same_verdict(const char *name, const char *how_a, const char *how_b,
                                const sig_result *a, const sig_result *b)
{
    if (a->status != b->status || a->reason != b->reason)
        fail_msg("%s: %d/%d %s, %d/%d %s", name, a->status, a->reason, how_a, b->status, b->reason,
                 how_b);
    assert_string_equal(a->detail, b->detail);
}

/* ... and on the signer: subject, root, thumbprint, a signing time or not. */
static void assert_same_signer(const sig_result *a, const sig_result *b)
{
    assert_string_equal(a->signer_dn, b->signer_dn);
    assert_string_equal(a->root_dn, b->root_dn);
    assert_memory_equal(a->thumb_sha256, b->thumb_sha256, 32);
    assert_int_equal(a->has_signing_time, b->has_signing_time);
}

static void same_with_handle(fx *f, const fixture *x, void *ctx)
{
    plat_sig_trust *trust = ctx;
    ac_options plain = {f->trust, 0, 1, NULL, NULL, SIG_ALG_NONE},
               cached = {f->trust, 0, 1, trust, NULL, SIG_ALG_NONE};
    sig_result a, b;
    int rc_a = authenticode_check(x->path, x->buf, x->len, &plain, &a);
    for (int k = 0; k < 2; k++) {
        int rc_b = authenticode_check(x->path, x->buf, x->len, &cached, &b);
        assert_int_equal(rc_a, rc_b);
        assert_same_verdict(x->name, "without the handle", "with it", &a, &b);
        assert_same_signer(&a, &b);
        assert_int_equal(a.valid_by_timestamp, b.valid_by_timestamp);
    }
}

/* A scan checks its files with one trust handle, which keeps the
 * certificates it decoded: every fixture gets the same verdict with it as
 * without it, checked twice so the second check uses the cached ones. */
static void trust_handle_changes_no_verdict(void **state)
{
    fx *f = *state;
    SKIP_WITHOUT_FIXTURES();
    plat_sig_trust *trust = NULL;
    assert_int_equal(plat_sig_trust_open(f->trust, &trust), TMI_OK);
    assert_true(each_fixture(f, same_with_handle, trust) >= 20);
    plat_sig_trust_free(trust);
}

static void same_with_known_digest(fx *f, const fixture *x, void *ctx)
{
    size_t *n_digest = ctx;
    ac_options plain = {f->trust, 0, 1, NULL, NULL, SIG_ALG_NONE};
    sig_result a, b;
    int rc_a = authenticode_check(x->path, x->buf, x->len, &plain, &a);
    assert_false(a.digest_cached);
    if (rc_a != TMI_OK || !a.has_digest)
        return;
    size_t dlen = sig_digest_size(a.digest_alg);
    uint8_t known[SIG_DIGEST_MAX];
    memcpy(known, a.digest, dlen);
    ac_options warm = {f->trust, 0, 1, NULL, known, a.digest_alg};
    assert_int_equal(authenticode_check(x->path, x->buf, x->len, &warm, &b), TMI_OK);
    assert_same_verdict(x->name, "computed", "known", &a, &b);
    assert_memory_equal(a.digest, b.digest, dlen);
    assert_true(b.digest_cached);
    known[0] ^= 0xFF; /* believed: a mismatch now */
    assert_int_equal(authenticode_check(x->path, x->buf, x->len, &warm, &b), TMI_OK);
    assert_int_equal(b.status, SIG_INVALID);
    assert_int_equal(b.reason, SIG_REASON_DIGEST_MISMATCH);
    warm.known_alg = a.digest_alg == SIG_ALG_SHA512 ? SIG_ALG_SHA256 : SIG_ALG_SHA512;
    assert_int_equal(authenticode_check(x->path, x->buf, x->len, &warm, &b), TMI_OK);
    assert_false(b.digest_cached); /* another algorithm: computed */
    assert_int_equal(a.status, b.status);
    (*n_digest)++;
}

/* A digest an earlier check reported for the same bytes gives the same
 * verdict without the pass over them, for every fixture (the tampered ones
 * stay digest_mismatch); a wrong one is believed (so it is used: the store
 * that keeps them must be trusted), one under another algorithm is not. */
static void known_digest_gives_the_same_verdict(void **state)
{
    fx *f = *state;
    SKIP_WITHOUT_FIXTURES();
    size_t n_digest = 0;
    assert_true(each_fixture(f, same_with_known_digest, &n_digest) >= 20);
    assert_true(n_digest >= 10);
}

/* A cache the test keeps: one entry, and the lookups it was asked. */
typedef struct test_cache {
    uint8_t sha256[32];
    sig_digest_alg alg;
    uint8_t digest[SIG_DIGEST_MAX];
    int have;
    int lookups;
} test_cache;

static int test_lookup(void *ctx, const uint8_t sha256[32], sig_digest_alg alg,
                       uint8_t digest[SIG_DIGEST_MAX])
{
    test_cache *c = ctx;
    c->lookups++;
    if (!c->have || c->alg != alg || memcmp(c->sha256, sha256, 32) != 0)
        return 0;
    memcpy(digest, c->digest, sig_digest_size(alg));
    return 1;
}

/* The scan asks the cache for each signed file by the SHA-256 it computed,
 * and uses what it is given: the right digest, the same verdict with no
 * pass; a wrong one, a mismatch (the repair's scans take no cache). */
static void scan_asks_the_cache_by_sha256(void **state)
{
    fx *f = *state;
    SKIP_WITHOUT_FIXTURES();
    const char *policy = ",\"signer\":{\"organization\":\"" PUBLISHER "\"}";
    put(f->src, "a.exe", "signed.exe");
    put(f->src, "b.dll", "signed64.dll");
    scan_result *cold = scan_with(f, policy, 0);
    const scan_file *b = &cold->sources[0].files[1];
    assert_true(b->has_sig && b->sig.has_digest && !b->sig.digest_cached);
    test_cache c = {{0}, b->sig.digest_alg, {0}, 1, 0};
    scan_digest_cache cache = {test_lookup, &c};
    memcpy(c.sha256, b->sha256, 32);
    memcpy(c.digest, b->sig.digest, sig_digest_size(c.alg));

    scan_result *warm = scan_cached(f, policy, 0, &cache);
    assert_int_equal(c.lookups, 2); /* the two signed sources; a TMI file is unsigned */
    const scan_file *wb = &warm->sources[0].files[1];
    assert_true(wb->sig.digest_cached);
    assert_false(warm->sources[0].files[0].sig.digest_cached); /* not in the cache */
    assert_int_equal(wb->sig.status, SIG_VALID);
    assert_true(warm->sources[0].complete);

    c.digest[3] ^= 0x01;
    scan_result *fooled = scan_cached(f, policy, 0, &cache);
    assert_int_equal(fooled->sources[0].files[1].sig.reason, SIG_REASON_DIGEST_MISMATCH);
    assert_false(fooled->sources[0].complete);
    scan_result_free(cold);
    scan_result_free(warm);
    scan_result_free(fooled);
}

/* The check in two steps gives authenticode_check's verdict for every
 * fixture, with the file's bytes overwritten and freed between the two:
 * the second step needs nothing of them. */
static void same_in_two_steps(fx *f, const fixture *x, void *ctx)
{
    size_t *n_embedded = ctx;
    ac_options opt = {f->trust, 0, 1, NULL, NULL, SIG_ALG_NONE};
    sig_result a, b;
    ac_pending *p = NULL;
    int rc_a = authenticode_check(x->path, x->buf, x->len, &opt, &a);
    uint8_t *copy = malloc(x->len);
    assert_non_null(copy);
    memcpy(copy, x->buf, x->len);
    int rc_b = authenticode_begin(copy, x->len, &opt, &b, &p);
    memset(copy, 0xAA, x->len);
    free(copy);
    if (rc_b == TMI_OK && p != NULL) {
        rc_b = authenticode_end(p, x->path, &opt, &b);
        (*n_embedded)++;
    }
    assert_int_equal(rc_a, rc_b);
    assert_same_verdict(x->name, "at once", "in two steps", &a, &b);
    assert_same_signer(&a, &b);
    assert_int_equal(a.has_digest, b.has_digest);
    assert_memory_equal(a.digest, b.digest, sizeof(a.digest));
    assert_int_equal(a.signing_time, b.signing_time);
}

static void two_steps_give_the_same_verdict(void **state)
{
    fx *f = *state;
    SKIP_WITHOUT_FIXTURES();
    size_t n_embedded = 0;
    assert_true(each_fixture(f, same_in_two_steps, &n_embedded) >= 20);
    assert_true(n_embedded >= 15);
}

/* Every read of a scan gets the buffer the read before it filled: the
 * scanning thread waits for the signature thread's pass over a file's bytes
 * instead of taking a second buffer (bufpool.h, detect.c). */
static const uint8_t *last_filled;
static int reads, fresh_reads;

static int watching_read(const char *path, size_t max, plat_buf *buf, size_t *len)
{
    if (reads > 0 && buf->data != last_filled)
        fresh_reads++;
    reads++;
    int rc = plat_os_ops.read_file_nofollow_buf(path, max, buf, len);
    last_filled = buf->data;
    return rc;
}

static void signed_files_share_one_buffer(void **state)
{
    fx *f = *state;
    SKIP_WITHOUT_FIXTURES();
    const char *policy = ",\"signer\":{\"organization\":\"" PUBLISHER "\"}";
    put(f->src, "a.exe", "signed.exe");
    put(f->src, "b.dll", "signed64.dll");
    put(f->tmi, "a.exe", "signed64.dll");
    reads = fresh_reads = 0;
    last_filled = NULL;
    plat.read_file_nofollow_buf = watching_read;
    scan_result *r = scan_with(f, policy, 0);
    plat.read_file_nofollow_buf = plat_os_ops.read_file_nofollow_buf;
    assert_int_equal(reads, 4);
    assert_int_equal(fresh_reads, 0);
    assert_int_equal(r->sources[0].files[0].sig.status, SIG_VALID);
    assert_int_equal(r->sources[0].files[1].sig.status, SIG_VALID);
    assert_int_equal(r->files[0].sig.status, SIG_VALID);
    assert_true(r->sources[0].complete);
    scan_result_free(r);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(valid_set_is_complete),
        T(tampered_file_is_refused_whatever_its_version),
        T(untrusted_root_needs_the_override),
        T(publisher_and_thumbprints),
        T(unsigned_only_for_unsigned),
        T(unusable_trust_store),
        T(trust_handle_changes_no_verdict),
        T(known_digest_gives_the_same_verdict),
        T(two_steps_give_the_same_verdict),
        T(signed_files_share_one_buffer),
        T(scan_asks_the_cache_by_sha256),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
