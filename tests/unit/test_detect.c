/* test_detect.c - the scan: verdicts, sources, letter case, layouts, bad files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "detect.h"
#include "err.h"
#include "pathutil.h"
#include "pe_fixture.h"
#include "plat.h"
#include "playbook.h"
#include "sandbox.h"
#include "scan_json.h"
#include "testutil.h"

#define BAD  "1.12.0.1156"
#define GOOD "1.12.0.1266"

typedef struct fx {
    playbook *pb;
    char root[PLAT_PATH_MAX];
    char tmi[PLAT_PATH_MAX];
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    if (f == NULL || playbook_load_default(&f->pb) != TMI_OK)
        return -1;
    tu_mkdtemp(f->root, sizeof(f->root));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    plat = plat_os_ops; /* a test that failed half-way may leave an entry replaced */
    plat_remove_tree(f->root);
    playbook_free(f->pb);
    free(f);
    return 0;
}

static scan_result *scan(fx *f)
{
    tmi_target t;
    scan_result *r = NULL;
    tu_target(&t, f->pb, f->root, NULL);
    assert_int_equal(scan_run(&t, &r), TMI_OK);
    assert_non_null(r);
    return r;
}

static void make_sandbox(fx *f, const char *installed, const char *source_rel)
{
    sandbox_spec spec;
    sandbox_spec_init(&spec);
    spec.installed_version = installed;
    spec.source_rel = source_rel;
    assert_int_equal(sandbox_create(f->pb, f->root, &spec, f->tmi, sizeof(f->tmi)), TMI_OK);
}

static const scan_file *file_named(const scan_result *r, const char *name)
{
    for (size_t i = 0; i < r->n_files; i++) {
        if (strcmp(r->files[i].name, name) == 0)
            return &r->files[i];
    }
    fail_msg("no file %s in the scan", name);
    return NULL;
}

static void assert_all_status(const scan_result *r, file_status st)
{
    assert_int_equal(r->n_files, 8);
    for (size_t i = 0; i < r->n_files; i++) {
        if (r->files[i].status != st)
            fail_msg("%s is %s, wanted %s", r->files[i].name, file_status_name(r->files[i].status),
                     file_status_name(st));
    }
}

static void write_file_in(const char *dir, const char *name, const char *version, uint32_t seed)
{
    char path[PLAT_PATH_MAX];
    tu_join(path, sizeof(path), dir, name);
    tu_write_pe(path, version, 0, seed);
}

static void affected_when_article_layout(void **state)
{
    fx *f = *state;
    make_sandbox(f, NULL, NULL);
    scan_result *r = scan(f);
    assert_int_equal(r->verdict, SCAN_AFFECTED);
    assert_string_equal(r->tmi_dir, f->tmi);
    assert_string_equal(r->tmi_dir_origin, "default");
    assert_all_status(r, FILE_OLD);
    for (size_t i = 0; i < r->n_files; i++) {
        assert_true(r->files[i].known_bad);
        assert_true(r->files[i].has_sha256);
        assert_true(r->files[i].present);
    }
    assert_true(r->repair_possible);
    assert_int_equal(r->repair_source, 0);
    assert_non_null(strstr(r->sources[0].path, "filegroup100"));
    assert_true(r->sources[0].complete);
    assert_non_null(strstr(r->repair_reason, "SPNT 5.8 Patch 5"));
    scan_result_free(r);
}

static void healthy_when_good_set_installed(void **state)
{
    fx *f = *state;
    make_sandbox(f, GOOD, NULL);
    scan_result *r = scan(f);
    assert_int_equal(r->verdict, SCAN_HEALTHY);
    assert_all_status(r, FILE_OK);
    assert_false(r->repair_possible);
    assert_non_null(strstr(r->repair_reason, "nothing to repair"));
    scan_result_free(r);
}

static void healthy_when_newer_set_installed(void **state)
{
    fx *f = *state;
    make_sandbox(f, "1.13.0.100", NULL);
    scan_result *r = scan(f);
    assert_int_equal(r->verdict, SCAN_HEALTHY);
    assert_all_status(r, FILE_NEWER);
    assert_false(r->repair_possible);
    scan_result_free(r);
}

static void refuses_to_downgrade_a_newer_file(void **state)
{
    fx *f = *state;
    make_sandbox(f, NULL, NULL);
    write_file_in(f->tmi, "libMRF_DM.dll", "1.12.5.0", 77);
    scan_result *r = scan(f);
    assert_int_equal(r->verdict, SCAN_AFFECTED);
    assert_int_equal(file_named(r, "libMRF_DM.dll")->status, FILE_NEWER);
    assert_false(r->repair_possible);
    assert_int_equal(r->repair_source, -1);
    assert_non_null(strstr(r->repair_reason, "downgrade"));
    scan_result_free(r);
}

static void not_installed_without_trend_micro(void **state)
{
    fx *f = *state;
    char other[PLAT_PATH_MAX];
    tu_join(other, sizeof(other), f->root, "Program Files/Other Vendor");
    tu_mkdirs(other);
    scan_result *r = scan(f);
    assert_int_equal(r->verdict, SCAN_NOT_INSTALLED);
    assert_null(r->tmi_dir);
    assert_int_equal(r->n_files, 0);
    assert_false(r->repair_possible);
    assert_non_null(strstr(r->repair_reason, "no TMI folder"));
    scan_result_free(r);
}

static void not_installed_when_tmi_folder_is_empty(void **state)
{
    fx *f = *state;
    char tmi[PLAT_PATH_MAX];
    tu_join(tmi, sizeof(tmi), f->root, "Program Files (x86)/Trend Micro/COMMON/TMI");
    tu_mkdirs(tmi);
    scan_result *r = scan(f);
    assert_int_equal(r->verdict, SCAN_NOT_INSTALLED);
    assert_non_null(r->tmi_dir);
    assert_all_status(r, FILE_MISSING);
    scan_result_free(r);
}

static void partial_repair_mrf_new_dlls_old(void **state)
{
    fx *f = *state;
    make_sandbox(f, NULL, NULL);
    write_file_in(f->tmi, "mrf.exe", GOOD, 5);
    scan_result *r = scan(f);
    assert_int_equal(r->verdict, SCAN_AFFECTED);
    assert_int_equal(file_named(r, "mrf.exe")->status, FILE_OK);
    for (size_t i = 1; i < r->n_files; i++)
        assert_int_equal(r->files[i].status, FILE_OLD);
    assert_true(r->repair_possible);
    scan_result_free(r);
}

static void missing_file_in_tmi_folder(void **state)
{
    fx *f = *state;
    char path[PLAT_PATH_MAX];
    make_sandbox(f, GOOD, NULL);
    tu_join(path, sizeof(path), f->tmi, "libMRF_CM.dll");
    assert_int_equal(plat.remove_file(path), TMI_OK);
    scan_result *r = scan(f);
    assert_int_equal(r->verdict, SCAN_AFFECTED);
    const scan_file *m = file_named(r, "libMRF_CM.dll");
    assert_int_equal(m->status, FILE_MISSING);
    assert_false(m->present);
    assert_false(m->has_sha256);
    assert_true(r->repair_possible);
    scan_result_free(r);
}

static void source_missing_one_file(void **state)
{
    fx *f = *state;
    char path[PLAT_PATH_MAX];
    make_sandbox(f, NULL, NULL);
    tu_join(path, sizeof(path), f->tmi, "is_backup/filegroup100/libTMI_DataMarshal.dll");
    assert_int_equal(plat.remove_file(path), TMI_OK);
    scan_result *r = scan(f);
    assert_int_equal(r->verdict, SCAN_AFFECTED);
    assert_int_equal(r->n_sources, 1);
    assert_false(r->sources[0].complete);
    assert_non_null(strstr(r->sources[0].reason, "libTMI_DataMarshal.dll is missing"));
    assert_false(r->repair_possible);
    assert_non_null(strstr(r->repair_reason, "libTMI_DataMarshal.dll is missing"));
    scan_result_free(r);
}

static void source_with_old_file_is_not_used(void **state)
{
    fx *f = *state;
    char src[PLAT_PATH_MAX];
    make_sandbox(f, NULL, NULL);
    tu_join(src, sizeof(src), f->tmi, "is_backup/filegroup100");
    write_file_in(src, "MRF_CM.dll", BAD, 9);
    scan_result *r = scan(f);
    assert_false(r->sources[0].complete);
    assert_non_null(strstr(r->sources[0].reason, "MRF_CM.dll is 1.12.0.1156"));
    assert_false(r->repair_possible);
    scan_result_free(r);
}

static void finds_spnaf_backup_folders(void **state)
{
    fx *f = *state;
    char inc[PLAT_PATH_MAX];
    make_sandbox(f, NULL, "backup_2");
    /* an incomplete "backup" folder sorts first; the complete one must win */
    tu_join(inc, sizeof(inc), f->tmi, "Backup");
    tu_mkdirs(inc);
    write_file_in(inc, "mrf.exe", GOOD, 11);
    scan_result *r = scan(f);
    assert_int_equal(r->verdict, SCAN_AFFECTED);
    assert_int_equal(r->n_sources, 2);
    assert_false(r->sources[0].complete);
    assert_true(r->sources[1].complete);
    assert_int_equal(r->repair_source, 1);
    assert_string_equal(r->sources[1].variant, "SPNAF 5.8 SP1 Patch 1 or later");
    assert_true(r->repair_possible);
    scan_result_free(r);
}

static void no_source_folder_at_all(void **state)
{
    fx *f = *state;
    make_sandbox(f, NULL, "");
    scan_result *r = scan(f);
    assert_int_equal(r->verdict, SCAN_AFFECTED);
    assert_int_equal(r->n_sources, 0);
    assert_false(r->repair_possible);
    assert_non_null(strstr(r->repair_reason, "no backup folder"));
    scan_result_free(r);
}

static void odd_letter_case_everywhere(void **state)
{
    fx *f = *state;
    char tmi[PLAT_PATH_MAX], src[PLAT_PATH_MAX];
    static const char *const names[] = {
        "MRF.EXE",       "mrf_cm.DLL",        "LIBTMI_DATAMARSHAL.dll", "libmrf_entity.dll",
        "LibMrf_Dm.Dll", "libmrf_common.dll", "LIBMRF_CM.DLL",          "libMRF_ap.dll"};
    tu_join(tmi, sizeof(tmi), f->root, "program files (X86)/TREND MICRO/common/tmi");
    tu_join(src, sizeof(src), tmi, "IS_BACKUP/FileGroup100");
    tu_mkdirs(src);
    for (int i = 0; i < 8; i++) {
        write_file_in(tmi, names[i], BAD, (uint32_t)i);
        write_file_in(src, names[i], GOOD, (uint32_t)(100 + i));
    }
    scan_result *r = scan(f);
    assert_string_equal(r->tmi_dir, tmi);
    assert_int_equal(r->verdict, SCAN_AFFECTED);
    assert_all_status(r, FILE_OLD);
    assert_non_null(strstr(file_named(r, "mrf.exe")->path, "MRF.EXE"));
    assert_true(r->repair_possible);
    assert_string_equal(r->sources[0].path, src);
    scan_result_free(r);
}

static void program_files_32_bit_layout(void **state)
{
    fx *f = *state;
    sandbox_spec spec;
    sandbox_spec_init(&spec);
    spec.program_files_32 = 1;
    assert_int_equal(sandbox_create(f->pb, f->root, &spec, f->tmi, sizeof(f->tmi)), TMI_OK);
    assert_null(strstr(f->tmi, "(x86)"));
    scan_result *r = scan(f);
    assert_string_equal(r->tmi_dir, f->tmi);
    assert_int_equal(r->verdict, SCAN_AFFECTED);
    assert_true(r->repair_possible);
    scan_result_free(r);
}

/* SHA-256 of what is in path now. */
static void sha_of(const char *path, uint8_t out[32])
{
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(plat.read_file(path, 1 << 26, &buf, &len), TMI_OK);
    assert_int_equal(plat_sha256(buf, len, out), TMI_OK);
    free(buf);
}

/* Damage three TMI files the way a failed patch does: truncated, zeroed
 * (same size) and garbage. */
static void damage_three(const char *tmi)
{
    char path[PLAT_PATH_MAX];
    uint8_t *img = NULL;
    size_t len = 0;
    tu_join(path, sizeof(path), tmi, "libMRF_AP.dll");
    assert_int_equal(plat.read_file(path, 1 << 26, &img, &len), TMI_OK);
    tu_write(path, img, 200); /* headers cut off */
    tu_join(path, sizeof(path), tmi, "libMRF_DM.dll");
    memset(img, 0, len);
    tu_write(path, img, len);
    free(img);
    tu_join(path, sizeof(path), tmi, "libMRF_Entity.dll");
    tu_write(path, "this is not a PE file at all", 28);
}

/* Bytes that were read but are no PE file with a version: invalid, hashed
 * (evidence, and what the backup will hold), and no obstacle to the repair. */
static void damaged_files_are_invalid(void **state)
{
    static const char *const damaged[] = {"libMRF_AP.dll", "libMRF_DM.dll", "libMRF_Entity.dll"};
    fx *f = *state;
    char path[PLAT_PATH_MAX];
    uint8_t want[32];
    make_sandbox(f, NULL, NULL);
    damage_three(f->tmi);
    scan_result *r = scan(f);
    assert_int_equal(r->verdict, SCAN_AFFECTED);
    for (size_t i = 0; i < 3; i++) {
        const scan_file *d = file_named(r, damaged[i]);
        if (d->status != FILE_INVALID)
            fail_msg("%s is %s, wanted invalid", d->name, file_status_name(d->status));
        assert_true(d->present);
        assert_true(d->has_sha256);
        assert_false(d->has_version);
        assert_non_null(d->error);
        tu_join(path, sizeof(path), f->tmi, damaged[i]);
        sha_of(path, want);
        assert_memory_equal(d->sha256, want, 32);
    }
    assert_non_null(strstr(file_named(r, "libMRF_Entity.dll")->error, "not a PE file"));
    assert_int_equal(file_named(r, "mrf.exe")->status, FILE_OLD);
    assert_true(r->repair_possible);
    assert_int_equal(r->repair_source, 0);
    /* the JSON says so too */
    cJSON *o = scan_to_json(r);
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(o, "files");
    int invalid = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, files)
    {
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(it, "status");
        if (strcmp(st->valuestring, "invalid") == 0) {
            invalid++;
            assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(it, "sha256")));
        }
    }
    assert_int_equal(invalid, 3);
    cJSON_Delete(o);
    scan_result_free(r);
}

static void pe_without_version_is_invalid(void **state)
{
    fx *f = *state;
    make_sandbox(f, NULL, NULL);
    write_file_in(f->tmi, "MRF_CM.dll", NULL, 3);
    scan_result *r = scan(f);
    const scan_file *m = file_named(r, "MRF_CM.dll");
    assert_int_equal(m->status, FILE_INVALID);
    assert_true(m->has_sha256);
    assert_string_equal(m->error, "no version resource");
    assert_true(r->repair_possible);
    scan_result_free(r);
}

/* A damaged file in the source folder makes that source unusable. */
static void invalid_source_file_is_not_used(void **state)
{
    fx *f = *state;
    char src[PLAT_PATH_MAX], path[PLAT_PATH_MAX];
    make_sandbox(f, NULL, NULL);
    tu_join(src, sizeof(src), f->tmi, "is_backup/filegroup100");
    tu_join(path, sizeof(path), src, "libMRF_CM.dll");
    tu_write(path, "MZ", 2);
    scan_result *r = scan(f);
    assert_false(r->sources[0].complete);
    assert_non_null(strstr(r->sources[0].reason, "libMRF_CM.dll cannot be used"));
    assert_false(r->repair_possible);
    scan_result_free(r);
}

static const char *deny_name;
static int deny_read(const char *path, size_t max, plat_buf *buf, size_t *len)
{
    if (deny_name != NULL && strstr(path, deny_name) != NULL)
        return TMI_EACCES;
    return plat_os_ops.read_file_nofollow_buf(path, max, buf, len);
}

/* Bytes that cannot be read block the repair, with the reason: a folder in
 * place of the file (which stops root too), and a read the system refuses
 * (through the plat table: permission bits do not stop root). */
static void unreadable_file_blocks_the_repair(void **state)
{
    fx *f = *state;
    char path[PLAT_PATH_MAX];
    make_sandbox(f, NULL, NULL);
    tu_join(path, sizeof(path), f->tmi, "libMRF_DM.dll");
    assert_int_equal(plat.remove_file(path), TMI_OK);
    tu_mkdirs(path);
    scan_result *r = scan(f);
    const scan_file *d = file_named(r, "libMRF_DM.dll");
    assert_int_equal(d->status, FILE_UNREADABLE);
    assert_false(d->has_sha256);
    assert_string_equal(d->error, "is a folder, not a file");
    assert_false(r->repair_possible);
    assert_non_null(strstr(r->repair_reason, "libMRF_DM.dll cannot be read"));
    scan_result_free(r);

    plat_remove_tree(path);
    write_file_in(f->tmi, "libMRF_DM.dll", BAD, 9);
    deny_name = "libMRF_Common.dll";
    plat.read_file_nofollow_buf = deny_read;
    r = scan(f);
    plat.read_file_nofollow_buf = plat_os_ops.read_file_nofollow_buf;
    d = file_named(r, "libMRF_Common.dll");
    assert_int_equal(d->status, FILE_UNREADABLE);
    assert_non_null(strstr(d->error, tmi_strerror(TMI_EACCES)));
    assert_false(r->repair_possible);
    assert_non_null(strstr(r->repair_reason, "cannot be read"));
    /* a damaged file beside it does not change that */
    scan_result_free(r);
    damage_three(f->tmi);
    plat.read_file_nofollow_buf = deny_read;
    r = scan(f);
    plat.read_file_nofollow_buf = plat_os_ops.read_file_nofollow_buf;
    assert_int_equal(file_named(r, "libMRF_Entity.dll")->status, FILE_INVALID);
    assert_false(r->repair_possible);
    assert_non_null(strstr(r->repair_reason, "libMRF_Common.dll cannot be read"));
    scan_result_free(r);
}

/* Links, through the plat table: stat says a file is a link, or the checked
 * read finds that it became one. The scan must never read a TMI or source
 * file through plat.read_file, which follows links. */
static const char *link_name, *race_name;

static int link_stat(const char *path, plat_stat *st)
{
    int rc = plat_os_ops.stat(path, st);
    if (rc == TMI_OK && link_name != NULL && strstr(path, link_name) != NULL)
        st->is_link = 1;
    return rc;
}

static int race_read(const char *path, size_t max, plat_buf *buf, size_t *len)
{
    if (race_name != NULL && strstr(path, race_name) != NULL)
        return TMI_ELINK;
    return plat_os_ops.read_file_nofollow_buf(path, max, buf, len);
}

static int following_read(const char *path, size_t max, uint8_t **out, size_t *len)
{
    (void)max;
    (void)out;
    (void)len;
    fail_msg("the scan read %s with plat.read_file, which follows links", path);
    return TMI_EIO;
}

static scan_result *scan_with_links(fx *f, const char *as_link, const char *becomes_link)
{
    link_name = as_link;
    race_name = becomes_link;
    plat.stat = link_stat;
    plat.read_file_nofollow_buf = race_read;
    plat.read_file = following_read;
    scan_result *r = scan(f);
    plat = plat_os_ops;
    return r;
}

static void assert_is_link(const scan_file *d)
{
    assert_int_equal(d->status, FILE_UNREADABLE);
    assert_true(d->present);
    assert_string_equal(d->error, "is a link");
    assert_false(d->has_sha256); /* never hashed through the link */
    assert_false(d->has_version);
    assert_int_equal(d->size, 0);
}

static void links_are_reported_not_followed(void **state)
{
    fx *f = *state;
    make_sandbox(f, NULL, NULL);
    scan_result *r = scan_with_links(f, PLAT_SEP_STR "libMRF_CM.dll", "libMRF_DM.dll");
    assert_int_equal(r->verdict, SCAN_AFFECTED);
    assert_is_link(file_named(r, "libMRF_CM.dll"));
    assert_is_link(file_named(r, "libMRF_DM.dll"));
    assert_int_equal(file_named(r, "mrf.exe")->status, FILE_OLD);
    assert_false(r->repair_possible);
    if (strstr(r->repair_reason, "cannot be read (is a link)") == NULL)
        fail_msg("the reason does not name the link: %s", r->repair_reason);
    scan_result_free(r);
    /* a source file that is a link makes the source unusable */
    r = scan_with_links(f, "filegroup100" PLAT_SEP_STR "libMRF_AP.dll", NULL);
    assert_int_equal(file_named(r, "libMRF_AP.dll")->status, FILE_OLD);
    assert_false(r->sources[0].complete);
    assert_non_null(strstr(r->sources[0].reason, "libMRF_AP.dll cannot be used: is a link"));
    assert_false(r->repair_possible);
    scan_result_free(r);
}

static void fixed_version_wins_over_string(void **state)
{
    fx *f = *state;
    pe_fixture_spec spec;
    uint8_t *img = NULL;
    size_t len = 0;
    char path[PLAT_PATH_MAX];
    make_sandbox(f, NULL, NULL);
    memset(&spec, 0, sizeof(spec));
    version_parse(BAD, &spec.file_version);
    spec.product_version = spec.file_version;
    spec.strings[PE_STR_FILE_VERSION] = GOOD; /* the string lies */
    spec.strings[PE_STR_PRODUCT_VERSION] = GOOD;
    assert_int_equal(pe_fixture_build(&spec, &img, &len), TMI_OK);
    tu_join(path, sizeof(path), f->tmi, "mrf.exe");
    tu_write(path, img, len);
    free(img);
    scan_result *r = scan(f);
    const scan_file *m = file_named(r, "mrf.exe");
    char v[TMI_VERSION_STRLEN];
    assert_string_equal(version_format(&m->version, v, sizeof(v)), BAD);
    assert_int_equal(m->status, FILE_OLD);
    scan_result_free(r);
}

static void oversized_file_is_unreadable_not_fatal(void **state)
{
    fx *f = *state;
    make_sandbox(f, NULL, NULL);
    f->pb->max_file_size = 512; /* smaller than any fixture */
    scan_result *r = scan(f);
    assert_int_equal(r->verdict, SCAN_AFFECTED);
    assert_all_status(r, FILE_UNREADABLE);
    assert_non_null(strstr(r->files[0].error, "limit"));
    scan_result_free(r);
}

static void explicit_tmi_dir_and_bad_roots(void **state)
{
    fx *f = *state;
    char file[PLAT_PATH_MAX], none[PLAT_PATH_MAX];
    scan_result *r = NULL;
    make_sandbox(f, NULL, NULL);
    tmi_target t;
    tu_target(&t, f->pb, f->root, f->tmi);
    assert_int_equal(scan_run(&t, &r), TMI_OK);
    assert_string_equal(r->tmi_dir_origin, "option");
    scan_result_free(r);
    tu_join(none, sizeof(none), f->root, "nowhere");
    tu_target(&t, f->pb, f->root, none);
    assert_int_equal(scan_run(&t, &r), TMI_ENOENT);
    tu_target(&t, f->pb, none, NULL);
    assert_int_equal(scan_run(&t, &r), TMI_ENOENT);
    assert_null(r);
    tu_join(file, sizeof(file), f->root, SANDBOX_MARKER);
    tu_target(&t, f->pb, file, NULL);
    assert_int_equal(scan_run(&t, &r), TMI_ENOTDIR);
}

static void generic_engine_runs_another_playbook(void **state)
{
    fx *f = *state;
    static const char text[] =
        "{\"id\":\"other\",\"title\":\"Other\",\"expected_version\":\"3.0.0.0\","
        "\"known_bad_versions\":[\"2.0.0.0\"],\"files\":[\"a.dll\",\"b.exe\"],"
        "\"tmi_folders\":[\"Vendor/App\"],\"sources\":[{\"glob\":\"old*/keep\",\"variant\":"
        "\"v1\"}],\"service\":{\"display_name\":\"App\",\"image_name\":\"b.exe\"},"
        "\"allow_unsigned\":true}";
    char app[PLAT_PATH_MAX], keep[PLAT_PATH_MAX], err[256];
    playbook *pb = NULL;
    scan_result *r = NULL;
    assert_int_equal(playbook_load_json(text, sizeof(text) - 1, &pb, err, sizeof(err)), TMI_OK);
    tu_join(app, sizeof(app), f->root, "vendor/APP");
    tu_join(keep, sizeof(keep), app, "old-2024/Keep");
    tu_mkdirs(keep);
    write_file_in(app, "a.dll", "2.0.0.0", 1);
    write_file_in(app, "b.exe", "3.0.0.0", 2);
    write_file_in(keep, "a.dll", "3.0.0.0", 3);
    write_file_in(keep, "b.exe", "3.0.0.0", 4);
    tmi_target t;
    tu_target(&t, pb, f->root, NULL);
    assert_int_equal(scan_run(&t, &r), TMI_OK);
    assert_int_equal(r->n_files, 2);
    assert_int_equal(r->verdict, SCAN_AFFECTED);
    assert_int_equal(r->files[0].status, FILE_OLD);
    assert_true(r->files[0].known_bad);
    assert_int_equal(r->files[1].status, FILE_OK);
    assert_true(r->repair_possible);
    assert_string_equal(r->sources[0].path, keep);
    scan_result_free(r);
    playbook_free(pb);
}

static void json_follows_the_contract(void **state)
{
    fx *f = *state;
    make_sandbox(f, NULL, NULL);
    scan_result *r = scan(f);
    cJSON *o = scan_to_json(r);
    assert_non_null(o);
    assert_string_equal(cJSON_GetObjectItem(o, "verdict")->valuestring, "affected");
    assert_string_equal(cJSON_GetObjectItem(o, "tmi_dir")->valuestring, f->tmi);
    assert_string_equal(cJSON_GetObjectItem(o, "expected_version")->valuestring, GOOD);
    cJSON *files = cJSON_GetObjectItem(o, "files");
    assert_int_equal(cJSON_GetArraySize(files), 8);
    cJSON *f0 = cJSON_GetArrayItem(files, 0);
    assert_string_equal(cJSON_GetObjectItem(f0, "name")->valuestring, "mrf.exe");
    assert_string_equal(cJSON_GetObjectItem(f0, "version")->valuestring, BAD);
    assert_string_equal(cJSON_GetObjectItem(f0, "status")->valuestring, "old");
    assert_int_equal(strlen(cJSON_GetObjectItem(f0, "sha256")->valuestring), 64);
    assert_non_null(cJSON_GetObjectItem(f0, "path")->valuestring);
    cJSON *repair = cJSON_GetObjectItem(o, "repair");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(repair, "possible")));
    assert_string_equal(cJSON_GetObjectItem(repair, "source")->valuestring, r->sources[0].path);
    assert_true(cJSON_IsString(cJSON_GetObjectItem(repair, "reason")));
    cJSON_Delete(o);
    scan_result_free(r);
}

static void sandbox_refuses_foreign_folders(void **state)
{
    fx *f = *state;
    char path[PLAT_PATH_MAX];
    sandbox_spec spec;
    sandbox_spec_init(&spec);
    tu_join(path, sizeof(path), f->root, "precious.txt");
    tu_write(path, "keep me", 7);
    assert_int_equal(sandbox_create(f->pb, f->root, &spec, NULL, 0), TMI_EEXIST);
    assert_int_equal(sandbox_remove(f->root), TMI_EACCES);
    plat_stat st;
    assert_int_equal(plat.stat(path, &st), TMI_OK);
}

static void glob_and_wildcards(void **state)
{
    (void)state;
    assert_true(path_wildcard_match("backup*", "Backup"));
    assert_true(path_wildcard_match("backup*", "BACKUP_2"));
    assert_false(path_wildcard_match("backup*", "is_backup"));
    assert_true(path_wildcard_match("b?ck*p", "BACKUP"));
    assert_true(path_wildcard_match("*", ""));
    assert_false(path_wildcard_match("a*b", "a"));
    assert_true(path_wildcard_match("*a*b*", "xxAyyBzz"));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(affected_when_article_layout),
        T(healthy_when_good_set_installed),
        T(healthy_when_newer_set_installed),
        T(refuses_to_downgrade_a_newer_file),
        T(not_installed_without_trend_micro),
        T(not_installed_when_tmi_folder_is_empty),
        T(partial_repair_mrf_new_dlls_old),
        T(missing_file_in_tmi_folder),
        T(source_missing_one_file),
        T(source_with_old_file_is_not_used),
        T(finds_spnaf_backup_folders),
        T(no_source_folder_at_all),
        T(odd_letter_case_everywhere),
        T(program_files_32_bit_layout),
        T(damaged_files_are_invalid),
        T(pe_without_version_is_invalid),
        T(invalid_source_file_is_not_used),
        T(unreadable_file_blocks_the_repair),
        T(links_are_reported_not_followed),
        T(fixed_version_wins_over_string),
        T(oversized_file_is_unreadable_not_fatal),
        T(explicit_tmi_dir_and_bad_roots),
        T(generic_engine_runs_another_playbook),
        T(json_follows_the_contract),
        T(sandbox_refuses_foreign_folders),
        cmocka_unit_test(glob_and_wildcards),
    };
    return cmocka_run_group_tests_name("detect", tests, NULL, NULL);
}
