/*
 * pe_headers.c - the headers of a PE image (see pe_headers.h for the
 * contract). What is an error here:
 *   - no "MZ", e_lfanew past the end, no "PE\0\0"      -> "not a PE file"
 *   - file or optional header cut short                -> "truncated headers"
 *   - optional header magic other than 0x10b / 0x20b    -> "unsupported optional header"
 *   - SizeOfOptionalHeader too small for its magic      -> "malformed optional header"
 *   - section table past the end of the buffer          -> "truncated section table"
 */
#include "pe_headers.h"

#include <string.h>

#include "err.h"

#define DOS_HEADER_SIZE    64
#define FILE_HEADER_SIZE   20
#define OPT_MAGIC_PE32     0x10b
#define OPT_MAGIC_PE32PLUS 0x20b
/* Offsets inside the optional header (the same for PE32 and PE32+ up to
 * CheckSum; the data directories start later in PE32+). */
#define OPT_FILE_ALIGNMENT  36
#define OPT_SIZE_OF_HEADERS 60
#define OPT_CHECKSUM        64
#define OPT_DIRS_PE32       96
#define OPT_DIRS_PE32PLUS   112

static int fail(pe_headers *h, const char **error, const char *msg)
{
    memset(h, 0, sizeof(*h));
    *error = msg;
    return TMI_EFORMAT;
}

int pe_headers_read(const uint8_t *buf, size_t len, pe_headers *h, const char **error)
{
    memset(h, 0, sizeof(*h));
    *error = NULL;
    if (buf == NULL || len < DOS_HEADER_SIZE || buf[0] != 'M' || buf[1] != 'Z')
        return fail(h, error, "not a PE file");
    size_t nt = pe_rd32(buf + 0x3C);
    if (!pe_fits(nt, 4, len) || memcmp(buf + nt, "PE\0\0", 4) != 0)
        return fail(h, error, "not a PE file");

    size_t fh = nt + 4;
    if (!pe_fits(fh, FILE_HEADER_SIZE, len))
        return fail(h, error, "truncated headers");
    h->machine = pe_rd16(buf + fh);
    h->nsections = pe_rd16(buf + fh + 2);
    h->opt_size = pe_rd16(buf + fh + 16);

    h->opt = fh + FILE_HEADER_SIZE;
    if (!pe_fits(h->opt, 2, len))
        return fail(h, error, "truncated headers");
    size_t dirs;
    switch (pe_rd16(buf + h->opt)) {
    case OPT_MAGIC_PE32:
        dirs = OPT_DIRS_PE32;
        break;
    case OPT_MAGIC_PE32PLUS:
        dirs = OPT_DIRS_PE32PLUS;
        h->is_pe32plus = 1;
        break;
    default:
        return fail(h, error, "unsupported optional header");
    }
    if (h->opt_size < dirs)
        return fail(h, error, "malformed optional header");
    if (!pe_fits(h->opt, h->opt_size, len))
        return fail(h, error, "truncated headers");

    h->sections = h->opt + h->opt_size;
    if (!pe_fits(h->sections, (size_t)h->nsections * PE_SECTION_SIZE, len))
        return fail(h, error, "truncated section table");
    h->file_alignment = pe_rd32(buf + h->opt + OPT_FILE_ALIGNMENT);
    h->size_of_headers = pe_rd32(buf + h->opt + OPT_SIZE_OF_HEADERS);
    h->checksum = h->opt + OPT_CHECKSUM;
    h->dirs = h->opt + dirs;
    /* NumberOfRvaAndSizes, capped by what the optional header holds. */
    h->ndirs = pe_rd32(buf + h->opt + dirs - 4);
    if (h->ndirs > (h->opt_size - dirs) / PE_DIR_SIZE)
        h->ndirs = (uint32_t)((h->opt_size - dirs) / PE_DIR_SIZE);
    return TMI_OK;
}

size_t pe_headers_dir_offset(const pe_headers *h, unsigned idx)
{
    return h->dirs + (size_t)idx * PE_DIR_SIZE;
}

int pe_headers_dir(const pe_headers *h, const uint8_t *buf, unsigned idx, uint32_t *va,
                   uint32_t *size)
{
    *va = 0;
    *size = 0;
    if (idx >= h->ndirs)
        return 0;
    const uint8_t *d = buf + pe_headers_dir_offset(h, idx);
    *va = pe_rd32(d);
    *size = pe_rd32(d + 4);
    return 1;
}
