/*
 * pe_version.h - read the version resource of a PE32 / PE32+ file from memory.
 *
 * The reader walks DOS header -> NT headers -> section table -> resource
 * directory (RT_VERSION, first name, first language) -> VS_VERSIONINFO, and
 * from there VS_FIXEDFILEINFO and the first StringFileInfo string table.
 * Input is untrusted: every offset and size is checked against the buffer,
 * the resource walk is depth- and count-bounded, and nothing loops forever.
 * It never allocates; the caller owns both the buffer and *out.
 *
 * pe_resource_find() uses the same checked walk to locate a resource of
 * another type (the application manifest, a message table) without
 * interpreting it.
 */
#ifndef TMI_PE_VERSION_H
#define TMI_PE_VERSION_H

#include <stddef.h>
#include <stdint.h>

#include "version.h"

/* The StringFileInfo values reported. Longer values are truncated (at a UTF-8
 * character boundary) to PE_STR_MAX - 1 bytes. */
enum pe_string_id {
    PE_STR_COMPANY_NAME,
    PE_STR_FILE_DESCRIPTION,
    PE_STR_FILE_VERSION,
    PE_STR_PRODUCT_NAME,
    PE_STR_PRODUCT_VERSION,
    PE_STR_COUNT
};
#define PE_STR_MAX 256

/* Key names as they appear in the resource: "CompanyName", ... */
extern const char *const pe_string_keys[PE_STR_COUNT];

typedef struct pe_version_info {
    uint16_t machine;            /* IMAGE_FILE_HEADER.Machine */
    int is_pe32plus;             /* 1 for PE32+ (64-bit optional header) */
    int has_fixed;               /* 1 when VS_FIXEDFILEINFO was found and valid */
    tmi_version file_version;    /* from dwFileVersionMS/LS (valid if has_fixed) */
    tmi_version product_version; /* from dwProductVersionMS/LS (valid if has_fixed) */
    int has_string[PE_STR_COUNT];
    char strings[PE_STR_COUNT][PE_STR_MAX]; /* UTF-8, NUL-terminated */
    const char *error;                      /* static message when the return value is not TMI_OK */
} pe_version_info;

/*
 * Parse buf[0..len). Returns:
 *   TMI_OK      - a well-formed PE image; has_fixed says whether it carries a
 *                 VS_FIXEDFILEINFO. A PE without a resource directory, without
 *                 RT_VERSION, or whose VS_VERSIONINFO holds no value is not an
 *                 error. The strings are best effort: a damaged StringFileInfo
 *                 costs strings (has_string 0), never the fixed version.
 *   TMI_EFORMAT - not a PE file, or a malformed header / resource; out->error
 *                 holds a short static message: "not a PE file", "truncated
 *                 headers", "unsupported optional header", "malformed optional
 *                 header", "truncated section table", "malformed resource
 *                 directory", or "malformed version resource" (VS_VERSIONINFO
 *                 or its VS_FIXEDFILEINFO is broken: the version cannot be
 *                 trusted, so none is reported).
 * *out is always fully initialised (zeroed first); after TMI_EFORMAT only
 * out->error is set. A NULL buf is "not a PE file".
 */
int pe_version_read(const uint8_t *buf, size_t len, pe_version_info *out);

/* Resource types (the RT_* integer IDs of <winuser.h>). */
#define PE_RT_VERSION      16
#define PE_RT_MANIFEST     24
#define PE_RT_MESSAGETABLE 11

typedef struct pe_resource {
    size_t offset;     /* file offset of the resource's first byte */
    size_t size;       /* its length in bytes; offset + size <= len */
    const char *error; /* static message when the return value is TMI_EFORMAT */
} pe_resource;

/*
 * Locate the first resource of type type_id (an integer ID: PE_RT_MANIFEST,
 * ...) in buf[0..len): its first name (ID or string) and that name's first
 * language, as pe_version_read() does for RT_VERSION. The bytes are not
 * interpreted. Returns:
 *   TMI_OK      - found: out->offset and out->size give the bytes inside buf
 *                 (size may be 0);
 *   TMI_ENOENT  - a well-formed image with no resource of that type (no
 *                 resource directory, no such type, or an empty directory
 *                 below it);
 *   TMI_EFORMAT - as pe_version_read(), with out->error one of its header and
 *                 resource-directory messages, or "resource data outside the
 *                 file" when the data entry points past the file's bytes.
 * *out is always initialised (zeroed first). The walk is bounded as above:
 * fixed depth, every entry array checked against the resource section.
 */
int pe_resource_find(const uint8_t *buf, size_t len, uint16_t type_id, pe_resource *out);

#endif
