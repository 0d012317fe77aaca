/* fuzz_manifest.c - a backup manifest on disk is read back as untrusted input. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "backup.h"
#include "pathutil.h"
#include "playbook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static playbook *pb;
    backup_manifest *m = NULL;
    char err[256];
    if (pb == NULL && playbook_load_default(&pb) != 0)
        __builtin_trap();
    if (backup_parse_manifest(pb, (const char *)data, size, &m, err, sizeof(err)) == 0) {
        /* every accepted entry names a file of the set, in some letter case */
        for (size_t i = 0; i < m->n_files; i++) {
            if (!path_equal_ci(m->files[i].name, m->files[i].file) ||
                strchr(m->files[i].file, '/') != NULL || strchr(m->files[i].file, '\\') != NULL)
                __builtin_trap();
        }
        backup_manifest_free(m);
    }
    return 0;
}
