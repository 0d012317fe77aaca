/*
 * plat_common.h - code both backends share (internal to core/plat; not part
 * of plat.h's contract).
 *
 * plat_dirlist_add() appends one name to a listing being built, taking
 * ownership of name (freed on failure too), and keeps the listing within
 * PLAT_DIR_MAX_ENTRIES. *cap is the capacity of list->names, 0 at the start.
 * Returns TMI_OK, TMI_ETOOBIG (the folder holds more entries than a listing
 * may) or TMI_ENOMEM. On failure the caller frees the listing with
 * plat_dirlist_free() (plat.h).
 *
 * plat_read_new() is a read into a new buffer (read_file, read_file_nofollow)
 * made of a read into a reused one (read_buf): on success *out takes the
 * bytes over (the caller frees them); on failure nothing is left allocated.
 */
#ifndef TMI_PLAT_COMMON_H
#define TMI_PLAT_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "plat.h"

int plat_dirlist_add(plat_dirlist *list, size_t *cap, char *name);

typedef int (*plat_read_buf_fn)(const char *path, size_t max_bytes, plat_buf *buf, size_t *out_len);
int plat_read_new(plat_read_buf_fn read_buf, const char *path, size_t max_bytes, uint8_t **out,
                  size_t *out_len);

#endif
