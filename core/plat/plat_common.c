/*
 * plat_common.c - the parts of the POSIX and Win32 backends that are the
 * same on both: freeing and growing a folder listing, reusable read buffers.
 */
#include <stdint.h>
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

/* Room to spare when a buffer grows: a multiple of 64 KiB, and at least a
 * quarter more than before. */
#define BUF_GRAIN ((size_t)64 * 1024)

int plat_buf_reserve(plat_buf *buf, size_t need)
{
    if (buf->data != NULL && need <= buf->cap)
        return TMI_OK;
    size_t want = need;
    if (buf->cap / 4 < SIZE_MAX - buf->cap && want < buf->cap + buf->cap / 4)
        want = buf->cap + buf->cap / 4;
    if (want <= SIZE_MAX - (BUF_GRAIN - 1))
        want = (want + BUF_GRAIN - 1) / BUF_GRAIN * BUF_GRAIN;
    plat_buf_free(buf);
    buf->data = malloc(want);
    if (buf->data == NULL)
        return TMI_ENOMEM;
    buf->cap = want;
    return TMI_OK;
}

void plat_buf_free(plat_buf *buf)
{
    free(buf->data);
    buf->data = NULL;
    buf->cap = 0;
}

int plat_read_new(plat_read_buf_fn read_buf, const char *path, size_t max_bytes, uint8_t **out,
                  size_t *out_len)
{
    plat_buf buf = {NULL, 0};
    int rc = read_buf(path, max_bytes, &buf, out_len);
    if (rc != TMI_OK) {
        plat_buf_free(&buf);
        return rc;
    }
    *out = buf.data;
    return TMI_OK;
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
