/* fuzz_playbook.c - playbook JSON from --playbook FILE is untrusted input. */
#include <stddef.h>
#include <stdint.h>

#include "playbook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    playbook *pb = NULL;
    char err[256];
    if (playbook_load_json((const char *)data, size, &pb, err, sizeof(err)) == 0) {
        /* a playbook that loads must be usable by the engine's invariants */
        if (pb->n_files == 0 || pb->n_files > PLAYBOOK_MAX_FILES || pb->n_tmi_folders == 0)
            __builtin_trap();
        playbook_free(pb);
    } else if (pb != NULL || err[0] == '\0') {
        __builtin_trap(); /* a refusal always says why and returns nothing */
    }
    return 0;
}
