/*
 * test_plat.c - the file rules of the platform backend (plat.h) on the real
 * file system, through the `plat` table: a write never goes through a link
 * (the link at the name is removed, the file created anew and exclusively),
 * a checked read refuses a link, stat says what is a link, a rename or a
 * remove acts on the link and never on what it points to; and fileops on top.
 *
 * Real links: symlink(2) on POSIX. On Windows a symbolic link
 * (CreateSymbolicLinkW, unprivileged flag: needs developer mode or the
 * privilege) and a junction (FSCTL_SET_REPARSE_POINT). Where the system
 * cannot make one - wine 8 answers CreateSymbolicLinkW with success but
 * makes nothing, and refuses FSCTL_SET_REPARSE_POINT - the case says so and
 * is skipped; the cases without links run everywhere.
 */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L /* symlink() */
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <windows.h>
#include <winioctl.h>
#else
#include <sys/stat.h>
#include <unistd.h>
#endif

#include "err.h"
#include "fileops.h"
#include "plat.h"
#include "testutil.h"

static char dir[PLAT_PATH_MAX];

static int setup(void **state)
{
    (void)state;
    tu_mkdtemp(dir, sizeof(dir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    plat = plat_os_ops;
    plat_remove_tree(dir);
    return 0;
}

#ifdef _WIN32
static wchar_t *wide(const char *s)
{
    int n = MultiByteToWideChar(CP_UTF8, 0, s, -1, NULL, 0);
    wchar_t *w = calloc((size_t)n + 1, sizeof(*w));
    assert_non_null(w);
    MultiByteToWideChar(CP_UTF8, 0, s, -1, w, n);
    return w;
}

/* The mount-point form of REPARSE_DATA_BUFFER (ntifs.h, not in the SDK). */
typedef struct mount_point_buffer {
    DWORD tag;
    USHORT data_len;
    USHORT reserved;
    USHORT sub_off, sub_len, print_off, print_len;
    WCHAR path[PLAT_PATH_MAX];
} mount_point_buffer;

static int make_junction(const wchar_t *wt, const wchar_t *wl)
{
    mount_point_buffer b;
    DWORD got = 0;
    BOOL ok;
    size_t tl = wcslen(wt);
    HANDLE h;
    if (!CreateDirectoryW(wl, NULL))
        return 0;
    h = CreateFileW(wl, GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                    FILE_FLAG_OPEN_REPARSE_POINT | FILE_FLAG_BACKUP_SEMANTICS, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        RemoveDirectoryW(wl);
        return 0;
    }
    memset(&b, 0, sizeof(b));
    b.tag = IO_REPARSE_TAG_MOUNT_POINT;
    memcpy(b.path, L"\\??\\", 4 * sizeof(WCHAR));
    memcpy(b.path + 4, wt, tl * sizeof(WCHAR));
    b.sub_len = (USHORT)((tl + 4) * sizeof(WCHAR));
    b.print_off = (USHORT)(b.sub_len + sizeof(WCHAR));
    b.data_len = (USHORT)(8 + b.print_off + sizeof(WCHAR));
    ok =
        DeviceIoControl(h, FSCTL_SET_REPARSE_POINT, &b, (DWORD)b.data_len + 8, NULL, 0, &got, NULL);
    CloseHandle(h);
    if (!ok)
        RemoveDirectoryW(wl);
    return ok != 0;
}
#endif

/* Make a link at `link` pointing to `target` (folder: to a folder, a
 * junction on Windows). 1 when made; 0 when this system cannot make one,
 * after saying so. */
static int make_link(const char *target, const char *link, int folder)
{
    int made;
#ifdef _WIN32
    wchar_t *wt = wide(target), *wl = wide(link);
    DWORD attrs;
    if (folder) {
        made = make_junction(wt, wl);
    } else {
        CreateSymbolicLinkW(wl, wt, 0x2 /* SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE */);
        attrs = GetFileAttributesW(wl);
        made = attrs != INVALID_FILE_ATTRIBUTES && (attrs & FILE_ATTRIBUTE_REPARSE_POINT);
    }
    free(wt);
    free(wl);
#else
    (void)folder;
    made = symlink(target, link) == 0;
#endif
    if (!made)
        fprintf(stderr, "test_plat: this system cannot make a %s here: case skipped\n",
                folder ? "folder link (junction)" : "symbolic link");
    return made;
}

static void assert_file_is(const char *path, const char *want)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(plat_os_ops.read_file(path, 1 << 20, &buf, &len), TMI_OK);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(buf, want, len);
    free(buf);
}

/* A file outside the folder under test, and a link to it at name. */
static int plant(const char *name, char *victim, char *link)
{
    tu_join(victim, PLAT_PATH_MAX, dir, "victim.txt");
    tu_write(victim, "precious", 8);
    tu_join(link, PLAT_PATH_MAX, dir, name);
    return make_link(victim, link, 0);
}

static void stat_reports_a_link(void **state)
{
    char victim[PLAT_PATH_MAX], link[PLAT_PATH_MAX], nowhere[PLAT_PATH_MAX];
    char dangling[PLAT_PATH_MAX];
    plat_stat st;
    (void)state;
    if (!plant("link.dll", victim, link))
        skip();
    assert_int_equal(plat.stat(victim, &st), TMI_OK);
    assert_false(st.is_link);
    assert_true(st.is_file);
    assert_int_equal(plat.stat(link, &st), TMI_OK);
    assert_true(st.is_link);
    tu_join(nowhere, sizeof(nowhere), dir, "nowhere");
    tu_join(dangling, sizeof(dangling), dir, "dangling.dll");
    assert_true(make_link(nowhere, dangling, 0));
    assert_int_equal(plat.stat(dangling, &st), TMI_OK); /* the name is taken */
    assert_true(st.is_link);
}

static void checked_read_refuses_a_link(void **state)
{
    char victim[PLAT_PATH_MAX], link[PLAT_PATH_MAX];
    uint8_t *buf = NULL;
    size_t len = 0;
    (void)state;
    if (!plant("link.dll", victim, link))
        skip();
    assert_int_equal(plat.read_file_nofollow(link, 1 << 20, &buf, &len), TMI_ELINK);
    assert_null(buf);
    assert_int_equal(plat.read_file_nofollow(victim, 1 << 20, &buf, &len), TMI_OK);
    free(buf);
    buf = NULL;
    /* a file the user names (a playbook) may be a link */
    assert_int_equal(plat.read_file(link, 1 << 20, &buf, &len), TMI_OK);
    free(buf);
    /* the same refusal into a buffer, which stays the caller's */
    plat_buf b = {NULL, 0};
    assert_int_equal(plat.read_file_nofollow_buf(victim, 1 << 20, &b, &len), TMI_OK);
    uint8_t *kept = b.data;
    assert_int_equal(plat.read_file_nofollow_buf(link, 1 << 20, &b, &len), TMI_ELINK);
    assert_ptr_equal(b.data, kept);
    plat_buf_free(&b);
}

/* Reads into one buffer: reused while the file fits (its bytes, a NUL
 * after them), replaced by a larger one with room to spare when it does
 * not; a refused read leaves it the caller's, and what it held. */
static void buffer_is_reused_across_reads(void **state)
{
    char big[PLAT_PATH_MAX], small[PLAT_PATH_MAX], huge[PLAT_PATH_MAX], sub[PLAT_PATH_MAX];
    static uint8_t bytes[300000];
    plat_buf b = {NULL, 0};
    size_t len = 0;
    (void)state;
    for (size_t i = 0; i < sizeof(bytes); i++)
        bytes[i] = (uint8_t)(i * 7 + 1);
    tu_join(big, sizeof(big), dir, "big.dll");
    tu_join(small, sizeof(small), dir, "small.dll");
    tu_join(huge, sizeof(huge), dir, "huge.dll");
    tu_join(sub, sizeof(sub), dir, "sub");
    tu_write(big, bytes, 100000);
    tu_write(small, bytes + 5, 1000);
    tu_write(huge, bytes, sizeof(bytes));
    assert_int_equal(plat.make_dir(sub), TMI_OK);

    assert_int_equal(plat.read_file_nofollow_buf(big, 1 << 20, &b, &len), TMI_OK);
    assert_int_equal(len, 100000);
    assert_true(b.cap > len);
    assert_int_equal(b.cap % 65536, 0);
    assert_memory_equal(b.data, bytes, len);
    assert_int_equal(b.data[len], 0);
    uint8_t *first = b.data;
    size_t cap = b.cap;

    assert_int_equal(plat.read_file_nofollow_buf(small, 1 << 20, &b, &len), TMI_OK);
    assert_ptr_equal(b.data, first);
    assert_int_equal(b.cap, cap);
    assert_int_equal(len, 1000);
    assert_memory_equal(b.data, bytes + 5, len);
    assert_int_equal(b.data[len], 0);

    /* refused: too large, a folder, missing; the buffer is unchanged */
    assert_int_equal(plat.read_file_nofollow_buf(huge, 200000, &b, &len), TMI_ETOOBIG);
    assert_int_equal(plat.read_file_nofollow_buf(sub, 1 << 20, &b, &len), TMI_EINVAL);
    assert_int_equal(plat.read_file_nofollow_buf(small, 1 << 20, &b, &len), TMI_OK);
    assert_ptr_equal(b.data, first);
    assert_memory_equal(b.data, bytes + 5, len);
    tu_join(sub, sizeof(sub), dir, "absent.dll");
    assert_int_equal(plat.read_file_nofollow_buf(sub, 1 << 20, &b, &len), TMI_ENOENT);
    assert_ptr_equal(b.data, first);

    assert_int_equal(plat.read_file_nofollow_buf(huge, 1 << 20, &b, &len), TMI_OK);
    assert_int_equal(len, sizeof(bytes));
    assert_true(b.cap > len);
    assert_memory_equal(b.data, bytes, len);
    plat_buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.cap, 0);
    plat_buf_free(&b); /* safe on an empty one */
}

/* plat_buf_reserve: keeps a buffer that is large enough, grows by at least
 * a quarter, in multiples of 64 KiB. */
static void buffer_reserve_grows_with_room(void **state)
{
    plat_buf b = {NULL, 0};
    (void)state;
    assert_int_equal(plat_buf_reserve(&b, 1), TMI_OK);
    assert_int_equal(b.cap, 65536);
    uint8_t *first = b.data;
    assert_int_equal(plat_buf_reserve(&b, 65536), TMI_OK);
    assert_ptr_equal(b.data, first);
    assert_int_equal(plat_buf_reserve(&b, 65537), TMI_OK);
    assert_int_equal(b.cap, 131072);
    assert_int_equal(plat_buf_reserve(&b, 1000000), TMI_OK);
    assert_int_equal(b.cap, 1048576); /* 1,000,000 rounded to 64 KiB */
    assert_int_equal(plat_buf_reserve(&b, 1048577), TMI_OK);
    assert_int_equal(b.cap, 1310720); /* a quarter more */
    plat_buf_free(&b);
}

/* The attack: a link at a temporary name, pointing at a file elsewhere. */
static void write_never_goes_through_a_link(void **state)
{
    char victim[PLAT_PATH_MAX], link[PLAT_PATH_MAX], nowhere[PLAT_PATH_MAX];
    char dangling[PLAT_PATH_MAX];
    plat_stat st;
    (void)state;
    if (!plant(".libMRF_AP.dll" FILEOPS_TEMP_SUFFIX, victim, link))
        skip();
    assert_int_equal(plat.write_file(link, "staged", 6), TMI_OK);
    assert_file_is(victim, "precious");
    assert_int_equal(plat.stat(link, &st), TMI_OK);
    assert_false(st.is_link); /* the link itself was replaced by the file */
    assert_file_is(link, "staged");
    /* a dangling link must not create its target either */
    tu_join(nowhere, sizeof(nowhere), dir, "created-through-a-link");
    tu_join(dangling, sizeof(dangling), dir, ".mrf.exe" FILEOPS_TEMP_SUFFIX);
    assert_true(make_link(nowhere, dangling, 0));
    assert_int_equal(plat.write_file(dangling, "staged", 6), TMI_OK);
    assert_int_equal(plat.stat(nowhere, &st), TMI_ENOENT);
    assert_file_is(dangling, "staged");
}

static void private_write_never_goes_through_a_link(void **state)
{
    char victim[PLAT_PATH_MAX], link[PLAT_PATH_MAX];
    (void)state;
    if (!plant("api-token.tmp", victim, link))
        skip();
    assert_int_equal(plat_write_file_private(link, "secret", 6), TMI_OK);
    assert_file_is(victim, "precious");
    assert_file_is(link, "secret");
}

/* No link: a file at the name is replaced by a fresh one, a folder at the
 * name is an error and stays as it was. Runs everywhere. */
static void write_replaces_a_file_and_refuses_a_folder(void **state)
{
    char path[PLAT_PATH_MAX], sub[PLAT_PATH_MAX], inside[PLAT_PATH_MAX];
    plat_dirlist list = {NULL, 0};
    (void)state;
    tu_join(path, sizeof(path), dir, "f.tmp");
    assert_int_equal(plat.write_file(path, "a longer first version", 22), TMI_OK);
    assert_int_equal(plat.write_file(path, "second", 6), TMI_OK);
    assert_file_is(path, "second");
    tu_join(sub, sizeof(sub), dir, "d.tmp");
    tu_mkdirs(sub);
    tu_join(inside, sizeof(inside), sub, "keep");
    tu_write(inside, "kept", 4);
    assert_int_not_equal(plat.write_file(sub, "x", 1), TMI_OK);
    assert_file_is(inside, "kept");
    assert_int_equal(plat.list_dir(sub, &list), TMI_OK);
    assert_int_equal(list.count, 1);
    plat_dirlist_free(&list);
}

static void rename_and_remove_act_on_the_link(void **state)
{
    char victim[PLAT_PATH_MAX], link[PLAT_PATH_MAX], tmp[PLAT_PATH_MAX];
    plat_stat st;
    (void)state;
    if (!plant("mrf.exe", victim, link))
        skip();
    tu_join(tmp, sizeof(tmp), dir, ".mrf.exe" FILEOPS_TEMP_SUFFIX);
    tu_write(tmp, "new", 3);
    assert_int_equal(plat.rename_replace(tmp, link), TMI_OK);
    assert_file_is(victim, "precious");
    assert_int_equal(plat.stat(link, &st), TMI_OK);
    assert_false(st.is_link);
    assert_file_is(link, "new");
    assert_int_equal(plat.remove_file(link), TMI_OK);
    assert_true(make_link(victim, link, 0));
    assert_int_equal(plat.remove_file(link), TMI_OK);
    assert_int_equal(plat.stat(link, &st), TMI_ENOENT);
    assert_file_is(victim, "precious");
}

/* A link to a folder at a temporary name: nothing lands in that folder. */
static void folder_link_is_never_written_into(void **state)
{
    char target[PLAT_PATH_MAX], link[PLAT_PATH_MAX];
    plat_dirlist list = {NULL, 0};
    (void)state;
    tu_join(target, sizeof(target), dir, "elsewhere");
    tu_mkdirs(target);
    tu_join(link, sizeof(link), dir, ".libMRF_CM.dll" FILEOPS_TEMP_SUFFIX);
    if (!make_link(target, link, 1))
        skip();
    plat.write_file(link, "staged", 6); /* may fail (a junction is a folder), never lands */
    assert_int_equal(plat.list_dir(target, &list), TMI_OK);
    assert_int_equal(list.count, 0);
    plat_dirlist_free(&list);
}

static void fileops_refuse_and_replace_links(void **state)
{
    char victim[PLAT_PATH_MAX], link[PLAT_PATH_MAX];
    uint8_t sha[32], want[32];
    (void)state;
    if (!plant(".libMRF_DM.dll" FILEOPS_TEMP_SUFFIX, victim, link))
        skip();
    assert_int_equal(fileops_read_hash(link, 1 << 20, NULL, NULL, sha), TMI_ELINK);
    assert_int_equal(plat_sha256("staged", 6, want), TMI_OK);
    assert_int_equal(fileops_write_verified(link, "staged", 6, want), TMI_OK);
    assert_file_is(victim, "precious");
    assert_int_equal(fileops_read_hash(link, 1 << 20, NULL, NULL, sha), TMI_OK);
    assert_memory_equal(sha, want, 32);
    /* the stale-temporary sweep removes a planted link, not its target */
    assert_int_equal(plat.remove_file(link), TMI_OK);
    assert_true(make_link(victim, link, 0));
    assert_int_equal(fileops_clean_temps(dir), 1);
    assert_file_is(victim, "precious");
}

/* The data-folder check on the real file system (POSIX; Windows' ACL side
 * runs under wine in tests/windows/run.sh, and the CLI's use of it in
 * tests/integration/test_datadir.py). */
static void private_dir_check(void **state)
{
#ifdef _WIN32
    (void)state;
    skip();
#else
    char data[PLAT_PATH_MAX], file[PLAT_PATH_MAX], sub[PLAT_PATH_MAX], link[PLAT_PATH_MAX];
    char why[1024];
    (void)state;
    tu_join(data, sizeof(data), dir, "data");
    assert_int_equal(plat_check_private_dir(data, why, sizeof(why)), TMI_ENOENT);
    assert_int_equal(plat_make_private_dir(data), TMI_OK);
    tu_join(file, sizeof(file), data, "api-token");
    assert_int_equal(plat_write_file_private(file, "x", 1), TMI_OK);
    tu_join(sub, sizeof(sub), data, "backups/job-1");
    tu_mkdirs(sub);
    assert_int_equal(plat_check_private_dir(data, why, sizeof(why)), TMI_OK);
    assert_int_equal(chmod(sub, 0777), 0);
    assert_int_equal(plat_check_private_dir(data, why, sizeof(why)), TMI_EACCES);
    assert_non_null(strstr(why, sub));
    assert_non_null(strstr(why, "chmod -R go-w"));
    assert_int_equal(chmod(sub, 0755), 0);
    assert_int_equal(chmod(file, 0602), 0);
    assert_int_equal(plat_check_private_dir(data, why, sizeof(why)), TMI_EACCES);
    assert_non_null(strstr(why, "writable by others (mode 0602)"));
    assert_int_equal(chmod(file, 0600), 0);
    tu_join(link, sizeof(link), sub, "mrf.exe");
    assert_int_equal(symlink(file, link), 0);
    assert_int_equal(plat_check_private_dir(data, why, sizeof(why)), TMI_EACCES);
    assert_non_null(strstr(why, "is a link"));
    assert_int_equal(plat.remove_file(link), TMI_OK);
    assert_int_equal(plat_check_private_dir(data, why, sizeof(why)), TMI_OK);
    assert_int_equal(plat_check_private_dir(file, why, sizeof(why)), TMI_ENOTDIR);
#endif
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(stat_reports_a_link),
        T(checked_read_refuses_a_link),
        T(buffer_is_reused_across_reads),
        T(buffer_reserve_grows_with_room),
        T(write_never_goes_through_a_link),
        T(private_write_never_goes_through_a_link),
        T(write_replaces_a_file_and_refuses_a_folder),
        T(rename_and_remove_act_on_the_link),
        T(folder_link_is_never_written_into),
        T(fileops_refuse_and_replace_links),
        T(private_dir_check),
    };
    return cmocka_run_group_tests_name("plat", tests, NULL, NULL);
}
