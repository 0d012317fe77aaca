/* test_target.c - resolving what tmi-console works on (core/target.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "err.h"
#include "plat.h"
#include "playbook.h"
#include "target.h"
#include "testutil.h"

static void root_is_absolute_and_canonical(void **state)
{
    char dir[PLAT_PATH_MAX], sub[PLAT_PATH_MAX], dotted[PLAT_PATH_MAX], err[256];
    tmi_target a, b;
    playbook *pb = NULL;
    (void)state;
    assert_int_equal(playbook_load_default(&pb), TMI_OK);
    tu_mkdtemp(dir, sizeof(dir));
    tu_join(sub, sizeof(sub), dir, "root");
    tu_mkdirs(sub);
    /* the same folder named two ways is one root */
    tu_join(dotted, sizeof(dotted), sub, "./../root");
    assert_int_equal(tmi_target_init(&a, pb, sub, NULL, NULL, err, sizeof(err)), TMI_OK);
    assert_int_equal(tmi_target_init(&b, pb, dotted, NULL, NULL, err, sizeof(err)), TMI_OK);
    assert_string_equal(a.root, b.root);
    assert_null(tmi_target_tmi_dir(&a));
    assert_null(tmi_target_service(&a));
    assert_int_equal(a.use_registry, 0);
    assert_ptr_equal(a.pb, pb);
    assert_int_equal(tmi_target_init(&a, pb, sub, sub, "svc", err, sizeof(err)), TMI_OK);
    assert_string_equal(tmi_target_tmi_dir(&a), b.root);
    assert_string_equal(tmi_target_service(&a), "svc");
    playbook_free(pb);
}

static void bad_roots_are_named(void **state)
{
    char dir[PLAT_PATH_MAX], none[PLAT_PATH_MAX], file[PLAT_PATH_MAX], err[PLAT_PATH_MAX + 64];
    char longname[TARGET_SERVICE_MAX + 8];
    tmi_target t;
    playbook *pb = NULL;
    (void)state;
    assert_int_equal(playbook_load_default(&pb), TMI_OK);
    tu_mkdtemp(dir, sizeof(dir));
    tu_join(none, sizeof(none), dir, "nowhere");
    assert_int_equal(tmi_target_init(&t, pb, none, NULL, NULL, err, sizeof(err)), TMI_ENOENT);
    assert_non_null(strstr(err, "--root"));
    assert_non_null(strstr(err, "no such folder"));
    tu_join(file, sizeof(file), dir, "file");
    tu_write(file, "x", 1);
    assert_int_equal(tmi_target_init(&t, pb, file, NULL, NULL, err, sizeof(err)), TMI_ENOTDIR);
    assert_non_null(strstr(err, "not a folder"));
    memset(longname, 's', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_int_equal(tmi_target_init(&t, pb, dir, NULL, longname, err, sizeof(err)), TMI_ETOOBIG);
    assert_non_null(strstr(err, "--service"));
#ifndef _WIN32
    /* no system drive to default to: the root must be given */
    assert_int_equal(tmi_target_init(&t, pb, NULL, NULL, NULL, err, sizeof(err)), TMI_EINVAL);
    assert_non_null(strstr(err, "--root DIR is required"));
#endif
    playbook_free(pb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(root_is_absolute_and_canonical),
        cmocka_unit_test(bad_roots_are_named),
    };
    return cmocka_run_group_tests_name("target", tests, NULL, NULL);
}
