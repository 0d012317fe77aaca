/*
 * fileops.h - file steps of a repair, each verified, all through the `plat`
 * table (so tests can make any single call fail).
 *
 * Atomic replacement: the new content is written to a temporary file in the
 * same folder as the target (`.NAME.tmi-new`), flushed, read back and
 * checked against the expected SHA-256, and only then renamed over the
 * target. A reader of the folder sees the old file or the new one, never a
 * part of either.
 *
 * Links (plat.h): nothing here reads or writes through one. A file that is
 * a link is not read (TMI_ELINK); a temporary file is always a new file,
 * created exclusively after whatever was at its name (a stale temporary, a
 * planted link) is removed - the entry itself, never what a link points to.
 */
#ifndef TMI_FILEOPS_H
#define TMI_FILEOPS_H

#include <stddef.h>
#include <stdint.h>

/* Suffix of the temporary files; leftovers are removed by fileops_clean_temps. */
#define FILEOPS_TEMP_SUFFIX ".tmi-new"

/* Read a whole file (at most max bytes) and hash it. *data (may be NULL when
 * only the hash is wanted) is the caller's to free. TMI_ELINK, and nothing
 * read, when path is a link. */
int fileops_read_hash(const char *path, size_t max, uint8_t **data, size_t *len, uint8_t sha[32]);

/* Write data to a new file at path (plat.write_file: what was at the name is
 * removed first, the file is created exclusively, never through a link;
 * flushed), then read it back and check its SHA-256 against want. TMI_EIO
 * when the read-back differs; on any error the partial file is removed. */
int fileops_write_verified(const char *path, const void *data, size_t len, const uint8_t want[32]);

/* The temporary path used for target: same folder, ".NAME.tmi-new". */
int fileops_temp_path(const char *target, char *buf, size_t buflen);

/* Remove every leftover ".*.tmi-new" entry in dir (a link there is removed
 * itself, never followed). Returns how many were removed, or a negative
 * TMI_E* code. */
int fileops_clean_temps(const char *dir);

#endif
