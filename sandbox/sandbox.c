/* sandbox.c - build the fault's folder tree with real PE files (see sandbox.h). */
#include "sandbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "pathutil.h"
#include "pe_fixture.h"
#include "plat.h"

void sandbox_spec_init(sandbox_spec *spec)
{
    memset(spec, 0, sizeof(*spec));
}

static int has_marker(const char *root)
{
    char path[PLAT_PATH_MAX];
    plat_stat st;
    return path_join(path, sizeof(path), root, SANDBOX_MARKER) == TMI_OK &&
           plat.stat(path, &st) == TMI_OK;
}

int sandbox_remove(const char *root)
{
    plat_stat st;
    int rc = plat.stat(root, &st);
    if (rc == TMI_ENOENT)
        return TMI_OK;
    if (rc != TMI_OK)
        return rc;
    if (!has_marker(root))
        return TMI_EACCES;
    return plat_remove_tree(root);
}

/* Write one set of files into dir, each with its own padding seed. */
static int write_set(const playbook *pb, const char *dir, const tmi_version *v, size_t pad_to,
                     uint32_t seed_base)
{
    char path[PLAT_PATH_MAX], vs[TMI_VERSION_STRLEN];
    int rc = plat_make_dirs(dir);
    if (rc != TMI_OK)
        return rc;
    version_format(v, vs, sizeof(vs));
    for (size_t i = 0; i < pb->n_files; i++) {
        const char *name = pb->files[i];
        size_t n = strlen(name);
        int is_dll = n > 4 && path_equal_ci(name + n - 4, ".dll");
        pe_fixture_spec spec;
        uint8_t *img = NULL;
        size_t len = 0;
        memset(&spec, 0, sizeof(spec));
        spec.file_version = *v;
        spec.product_version = *v;
        spec.is_dll = is_dll;
        spec.strings[PE_STR_COMPANY_NAME] = "Trend Micro Inc.";
        spec.strings[PE_STR_FILE_DESCRIPTION] = "Trend Micro Management Infrastructure";
        spec.strings[PE_STR_FILE_VERSION] = vs;
        spec.strings[PE_STR_PRODUCT_NAME] = "Trend Micro Management Infrastructure";
        spec.strings[PE_STR_PRODUCT_VERSION] = vs;
        spec.pad_to = pad_to;
        spec.seed = seed_base + (uint32_t)i;
        rc = pe_fixture_build(&spec, &img, &len);
        if (rc == TMI_OK)
            rc = path_join(path, sizeof(path), dir, name);
        if (rc == TMI_OK)
            rc = plat.write_file(path, img, len);
        free(img);
        if (rc != TMI_OK)
            return rc;
    }
    return TMI_OK;
}

int sandbox_create(const playbook *pb, const char *root, const sandbox_spec *spec, char *tmi_dir,
                   size_t tmi_dir_len)
{
    char tmi[PLAT_PATH_MAX], src[PLAT_PATH_MAX], marker[PLAT_PATH_MAX];
    tmi_version installed, good;
    const char *rel = spec->program_files_32 ? "Program Files/Trend Micro/COMMON/TMI"
                                             : "Program Files (x86)/Trend Micro/COMMON/TMI";
    const char *source_rel = spec->source_rel ? spec->source_rel : "is_backup/filegroup100";
    plat_dirlist list = {NULL, 0};
    int rc;

    if (spec->installed_version != NULL) {
        if (version_parse(spec->installed_version, &installed) != TMI_OK)
            return TMI_EINVAL;
    } else if (pb->n_known_bad > 0) {
        installed = pb->known_bad[0];
    } else {
        return TMI_EINVAL;
    }
    good = pb->expected_version;
    if (spec->source_version != NULL && version_parse(spec->source_version, &good) != TMI_OK)
        return TMI_EINVAL;

    rc = plat_make_dirs(root);
    if (rc != TMI_OK)
        return rc;
    rc = plat.list_dir(root, &list);
    if (rc != TMI_OK)
        return rc;
    if (list.count > 0 && !has_marker(root)) {
        plat_dirlist_free(&list);
        return TMI_EEXIST;
    }
    plat_dirlist_free(&list);
    rc = path_join(marker, sizeof(marker), root, SANDBOX_MARKER);
    if (rc == TMI_OK) {
        static const char text[] = "This folder is a tmi-console sandbox and may be deleted.\n";
        rc = plat.write_file(marker, text, sizeof(text) - 1);
    }
    if (rc == TMI_OK)
        rc = path_join(tmi, sizeof(tmi), root, rel);
    if (rc == TMI_OK)
        rc = write_set(pb, tmi, &installed, spec->pad_to, 1000);
    if (rc == TMI_OK && source_rel[0] != '\0') {
        rc = path_join(src, sizeof(src), tmi, source_rel);
        if (rc == TMI_OK)
            rc = write_set(pb, src, &good, spec->pad_to, 2000);
    }
    if (rc == TMI_OK && spec->service_program != NULL) {
        const char *argv[12];
        int k = 0;
        char image[PLAT_PATH_MAX];
        argv[k++] = spec->service_program;
        if (spec->playbook_path != NULL) {
            argv[k++] = "--playbook";
            argv[k++] = spec->playbook_path;
        }
        argv[k++] = "sandbox-service";
        argv[k++] = "--scope";
        argv[k++] = root;
        argv[k++] = "--dir";
        argv[k++] = tmi;
        argv[k] = NULL;
        rc = path_join(image, sizeof(image), tmi, pb->service_image_name);
        if (rc == TMI_OK)
            rc = plat_svc_register(root, SANDBOX_SERVICE_NAME, pb->service_display_name, image,
                                   argv);
    }
    if (rc == TMI_OK && tmi_dir != NULL) {
        if (strlen(tmi) >= tmi_dir_len)
            return TMI_ETOOBIG;
        snprintf(tmi_dir, tmi_dir_len, "%s", tmi);
    }
    return rc;
}
