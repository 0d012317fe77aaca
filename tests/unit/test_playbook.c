/* test_playbook.c - loading and validating playbooks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "plat.h"
#include "playbook.h"
#include "testutil.h"

static void default_describes_the_fault(void **state)
{
    (void)state;
    playbook *pb = NULL;
    char v[TMI_VERSION_STRLEN];
    assert_int_equal(playbook_load_default(&pb), TMI_OK);
    assert_string_equal(version_format(&pb->expected_version, v, sizeof(v)), "1.12.0.1266");
    assert_int_equal(pb->n_known_bad, 1);
    assert_string_equal(version_format(&pb->known_bad[0], v, sizeof(v)), "1.12.0.1156");
    assert_int_equal(pb->n_files, 8);
    assert_string_equal(pb->files[0], "mrf.exe");
    assert_string_equal(pb->files[7], "libMRF_AP.dll");
    assert_int_equal(pb->n_tmi_folders, 2);
    assert_string_equal(pb->tmi_folders[0], "Program Files (x86)/Trend Micro/COMMON/TMI");
    assert_int_equal(pb->n_sources, 2);
    assert_string_equal(pb->sources[0].glob, "is_backup/filegroup100");
    assert_string_equal(pb->sources[1].glob, "backup*");
    assert_string_equal(pb->service_display_name, "Trend Micro Management Infrastructure");
    assert_string_equal(pb->service_image_name, "mrf.exe");
    assert_null(pb->service_short_name);
    assert_string_equal(pb->registry_key, "SOFTWARE\\TrendMicro\\TMI");
    assert_int_equal(pb->event_id, 800);
    assert_int_equal(pb->n_event_tokens, 2);
    assert_string_equal(pb->event_tokens[0], "errcode=-107");
    assert_int_equal(pb->max_file_size, 64 * 1024 * 1024);
    assert_true(playbook_is_known_bad(pb, &pb->known_bad[0]));
    assert_false(playbook_is_known_bad(pb, &pb->expected_version));
    playbook_free(pb);
}

#define MINIMAL_HEAD                                                                               \
    "{\"id\":\"t\",\"title\":\"T\",\"expected_version\":\"2.0.0.0\",\"files\":[\"a.dll\"],"        \
    "\"tmi_folders\":[\"X/TMI\"],\"sources\":[{\"glob\":\"bak*\",\"variant\":\"v\"}],"             \
    "\"service\":{\"display_name\":\"S\",\"image_name\":\"a.exe\"}"

/* 63 hex digits: a thumbprint is this and one more */
#define HEX63 "abababababababababababababababababababababababababababababababa"

static void minimal_playbook_loads(void **state)
{
    (void)state;
    playbook *pb = NULL;
    char err[256];
    const char *text = MINIMAL_HEAD "}";
    assert_int_equal(playbook_load_json(text, strlen(text), &pb, err, sizeof(err)), TMI_OK);
    assert_int_equal(pb->n_files, 1);
    assert_int_equal(pb->event_id, -1);
    assert_null(pb->registry_key);
    playbook_free(pb);
}

typedef struct bad_case {
    const char *json;
    const char *message_part;
} bad_case;

static void rejects_bad_playbooks(void **state)
{
    (void)state;
    static const bad_case cases[] = {
        {"not json", "not valid JSON"},
        {"[1,2]", "top level must be an object"},
        {MINIMAL_HEAD ",\"colour\":\"red\"}", "unknown key \"colour\""},
        {MINIMAL_HEAD ",\"id\":\"again\"}", "appears twice"},
        {"{\"title\":\"T\"}", "\"id\" is required"},
        {MINIMAL_HEAD ",\"known_bad_versions\":[\"2.0.0.0\"]}", "also listed as known bad"},
        {MINIMAL_HEAD ",\"known_bad_versions\":[\"1.2.3\"]}", "must be a version"},
        {MINIMAL_HEAD ",\"max_file_size\":0}", "max_file_size"},
        {MINIMAL_HEAD ",\"max_file_size\":1.5}", "max_file_size"},
        {MINIMAL_HEAD ",\"event\":{\"provider\":\"p\",\"id\":70000,\"tokens\":[\"x\"]}}",
         "0-65535"},
        {MINIMAL_HEAD ",\"event\":{\"provider\":\"p\",\"id\":1,\"tokens\":[]}}", "tokens"},
        {MINIMAL_HEAD ",\"registry\":{\"key\":\"k\"}}", "\"value\" is required"},
        {"{\"id\":\"bad id!\",\"title\":\"T\"}", "\"id\" may hold only"},
        {"{\"id\":\"t\",\"title\":\"\"}", "must not be empty"},
        {"{\"id\":\"t\",\"title\":\"a\\u0001b\"}", "control characters"},
        {"{\"id\":\"t\",\"title\":\"T\",\"expected_version\":\"x\"}", "expected_version"},
        {"{\"id\":\"t\",\"title\":\"T\",\"expected_version\":\"1.0.0.0\",\"files\":[\"../x\"]}",
         "plain file name"},
        {"{\"id\":\"t\",\"title\":\"T\",\"expected_version\":\"1.0.0.0\",\"files\":[\"a\\\\b\"]}",
         "plain file name"},
        {"{\"id\":\"t\",\"title\":\"T\",\"expected_version\":\"1.0.0.0\",\"files\":[]}",
         "at least 1"},
        {"{\"id\":\"t\",\"title\":\"T\",\"expected_version\":\"1.0.0.0\",\"files\":[\"a\","
         "\"A\"]}",
         "twice"},
        {"{\"id\":\"t\",\"title\":\"T\",\"expected_version\":\"1.0.0.0\",\"files\":[\"a\"],"
         "\"tmi_folders\":[\"/abs\"]}",
         "tmi_folders"},
        {"{\"id\":\"t\",\"title\":\"T\",\"expected_version\":\"1.0.0.0\",\"files\":[\"a\"],"
         "\"tmi_folders\":[\"a/../../b\"]}",
         "tmi_folders"},
        {"{\"id\":\"t\",\"title\":\"T\",\"expected_version\":\"1.0.0.0\",\"files\":[\"a\"],"
         "\"tmi_folders\":[\"C:/x\"]}",
         "tmi_folders"},
        {"{\"id\":\"t\",\"title\":\"T\",\"expected_version\":\"1.0.0.0\",\"files\":[\"a\"],"
         "\"tmi_folders\":[\"x\"],\"sources\":[{\"glob\":\"../*\",\"variant\":\"v\"}]}",
         "glob"},
        {"{\"id\":\"t\",\"title\":\"T\",\"expected_version\":\"1.0.0.0\",\"files\":[\"a\"],"
         "\"tmi_folders\":[\"x\"],\"sources\":[{\"glob\":\"b\",\"variant\":\"v\",\"x\":1}]}",
         "unknown key \"x\""},
        {"{\"id\":\"t\",\"title\":\"T\",\"expected_version\":\"1.0.0.0\",\"files\":[\"a\"],"
         "\"tmi_folders\":[\"x\"],\"sources\":[],\"service\":{\"display_name\":\"S\","
         "\"image_name\":\"x/mrf.exe\"}}",
         "image_name"},
        /* the signature policy */
        {MINIMAL_HEAD ",\"allow_unsigned\":\"yes\"}", "\"allow_unsigned\" must be true or false"},
        {MINIMAL_HEAD ",\"allow_unsigned\":1}", "\"allow_unsigned\" must be true or false"},
        {MINIMAL_HEAD ",\"signer\":\"Trend Micro, Inc.\"}", "\"signer\" must be an object"},
        {MINIMAL_HEAD ",\"signer\":{}}", "\"organization\" is required"},
        {MINIMAL_HEAD ",\"signer\":{\"organization\":\"\"}}", "must not be empty"},
        {MINIMAL_HEAD ",\"signer\":{\"organization\":\"O\",\"cn\":\"x\"}}", "unknown key \"cn\""},
        {MINIMAL_HEAD ",\"signer\":{\"organization\":\"O\",\"thumbprints\":[]}}", "array of 1-16"},
        {MINIMAL_HEAD ",\"signer\":{\"organization\":\"O\",\"thumbprints\":[\"abcd\"]}}",
         "64 hex digits"},
        {MINIMAL_HEAD ",\"signer\":{\"organization\":\"O\",\"thumbprints\":[\"" HEX63 "g\"]}}",
         "64 hex digits"},
        {MINIMAL_HEAD ",\"signer\":{\"organization\":\"O\",\"thumbprints\":[1]}}", "64 hex digits"},
        {MINIMAL_HEAD ",\"trust_store\":\"roots.pem\"}", "absolute path"},
        {MINIMAL_HEAD ",\"trust_store\":\"C:roots.pem\"}", "absolute path"},
        {MINIMAL_HEAD ",\"trust_store\":7}", "\"trust_store\" must be a string"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        playbook *pb = (playbook *)0x1;
        char err[256] = "";
        int rc = playbook_load_json(cases[i].json, strlen(cases[i].json), &pb, err, sizeof(err));
        if (rc == TMI_OK || strstr(err, cases[i].message_part) == NULL)
            fail_msg("case %zu: rc %d, message \"%s\", wanted \"%s\"", i, rc, err,
                     cases[i].message_part);
        assert_ptr_equal(pb, (playbook *)0x1); /* untouched */
    }
}

/* The signature policy: absent, it is the strict one (signed files only, any
 * publisher, the system's roots); given, every part is kept. */
static void signature_policy_loads(void **state)
{
    (void)state;
    playbook *pb = NULL;
    char err[256];
    const char *text = MINIMAL_HEAD "}";
    assert_int_equal(playbook_load_json(text, strlen(text), &pb, err, sizeof(err)), TMI_OK);
    assert_null(pb->sig.signer_org);
    assert_int_equal(pb->sig.n_thumbprints, 0);
    assert_false(pb->sig.allow_unsigned);
    assert_null(pb->sig.trust_store);
    playbook_free(pb);
    text =
        MINIMAL_HEAD ",\"signer\":{\"organization\":\"Trend Micro, Inc.\",\"thumbprints\":[\"" HEX63
                     "F\",\"" HEX63 "0\"]},\"allow_unsigned\":true,"
                     "\"trust_store\":\"C:\\\\tmi\\\\roots.pem\"}";
    assert_int_equal(playbook_load_json(text, strlen(text), &pb, err, sizeof(err)), TMI_OK);
    assert_string_equal(pb->sig.signer_org, "Trend Micro, Inc.");
    assert_int_equal(pb->sig.n_thumbprints, 2);
    assert_int_equal(pb->sig.thumbprints[0][0], 0xab);
    assert_int_equal(pb->sig.thumbprints[0][31], 0xaf);
    assert_int_equal(pb->sig.thumbprints[1][31], 0xa0);
    assert_true(pb->sig.allow_unsigned);
    assert_string_equal(pb->sig.trust_store, "C:\\tmi\\roots.pem");
    playbook_free(pb);
    /* 17 thumbprints: too many */
    char big[4096];
    int n = snprintf(big, sizeof(big), "%s,\"signer\":{\"organization\":\"O\",\"thumbprints\":[",
                     MINIMAL_HEAD);
    for (int i = 0; i < 17; i++)
        n += snprintf(big + n, sizeof(big) - (size_t)n, "%s\"" HEX63 "1\"", i ? "," : "");
    snprintf(big + n, sizeof(big) - (size_t)n, "]}}");
    pb = (playbook *)0x1;
    assert_int_equal(playbook_load_json(big, strlen(big), &pb, err, sizeof(err)), TMI_ETOOBIG);
    assert_non_null(strstr(err, "more than 16"));
    assert_ptr_equal(pb, (playbook *)0x1);
    /* the built-in one: Trend Micro, unsigned allowed (for unsigned files), system roots */
    assert_int_equal(playbook_load_default(&pb), TMI_OK);
    assert_string_equal(pb->sig.signer_org, "Trend Micro, Inc.");
    assert_true(pb->sig.allow_unsigned);
    assert_null(pb->sig.trust_store);
    playbook_free(pb);
}

static void rejects_too_many_files(void **state)
{
    (void)state;
    char text[4096];
    size_t n = 0;
    playbook *pb = NULL;
    char err[256];
    n += (size_t)snprintf(text + n, sizeof(text) - n,
                          "{\"id\":\"t\",\"title\":\"T\",\"expected_version\":\"1.0.0.0\","
                          "\"files\":[");
    for (int i = 0; i < PLAYBOOK_MAX_FILES + 1; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "%s\"f%d\"", i ? "," : "", i);
    n += (size_t)snprintf(text + n, sizeof(text) - n, "]}");
    assert_int_equal(playbook_load_json(text, n, &pb, err, sizeof(err)), TMI_ETOOBIG);
    assert_non_null(strstr(err, "more than 32"));
}

static void rejects_oversized_and_missing_files(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX], path[PLAT_PATH_MAX], err[256];
    playbook *pb = NULL;
    size_t big = PLAYBOOK_MAX_BYTES + 1;
    char *text = malloc(big);
    assert_non_null(text);
    memset(text, ' ', big);
    text[0] = '{';
    text[big - 1] = '}';
    tu_mkdtemp(dir, sizeof(dir));
    tu_join(path, sizeof(path), dir, "big.json");
    tu_write(path, text, big);
    free(text);
    assert_int_equal(playbook_load_file(path, &pb, err, sizeof(err)), TMI_ETOOBIG);
    assert_non_null(strstr(err, "larger than"));
    tu_join(path, sizeof(path), dir, "absent.json");
    assert_int_equal(playbook_load_file(path, &pb, err, sizeof(err)), TMI_ENOENT);
    assert_non_null(strstr(err, "absent.json"));
    tu_join(path, sizeof(path), dir, "default.json");
    tu_write(path, playbook_default_json(), strlen(playbook_default_json()));
    assert_int_equal(playbook_load_file(path, &pb, err, sizeof(err)), TMI_OK);
    assert_int_equal(pb->n_files, 8);
    playbook_free(pb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(default_describes_the_fault),
        cmocka_unit_test(minimal_playbook_loads),
        cmocka_unit_test(rejects_bad_playbooks),
        cmocka_unit_test(signature_policy_loads),
        cmocka_unit_test(rejects_too_many_files),
        cmocka_unit_test(rejects_oversized_and_missing_files),
    };
    return cmocka_run_group_tests_name("playbook", tests, NULL, NULL);
}
