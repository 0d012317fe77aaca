/*
 * plat_common.c - the parts of the POSIX and Win32 backends that are the
 * same on both: freeing and growing a folder listing.
 */
#include <stdlib.h>

#include "err.h"
#include "plat.h"
#include "plat_common.h"

void plat_dirlist_free(plat_dirlist *list)
{
    if (list == NULL)
        return;
    for (size_t i = 0; i < list->count; i++)
        free(list->names[i]);
    free(list->names);
    list->names = NULL;
    list->count = 0;
}

int plat_dirlist_add(plat_dirlist *list, size_t *cap, char *name)
{
    if (name == NULL)
        return TMI_ENOMEM;
    if (list->count == PLAT_DIR_MAX_ENTRIES) {
        free(name);
        return TMI_ETOOBIG;
    }
    if (list->count == *cap) {
        size_t ncap = *cap ? *cap * 2 : 32;
        char **nn = realloc(list->names, ncap * sizeof(*nn));
        if (nn == NULL) {
            free(name);
            return TMI_ENOMEM;
        }
        list->names = nn;
        *cap = ncap;
    }
    list->names[list->count++] = name;
    return TMI_OK;
}
