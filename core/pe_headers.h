/*
 * pe_headers.h - the headers of a PE32 / PE32+ image held in memory: DOS
 * header, NT headers, optional header, data directories and section table.
 *
 * Shared by the readers of what the headers point to (pe_version.c for the
 * version resource, authenticode.c for the certificate table and the image
 * digest), so that there is one place where the header bytes are judged.
 * Input is untrusted: pe_headers_read() checks that every structure it
 * reports lies inside the buffer; it never allocates.
 */
#ifndef TMI_PE_HEADERS_H
#define TMI_PE_HEADERS_H

#include <stddef.h>
#include <stdint.h>

#define PE_SECTION_SIZE 40 /* one IMAGE_SECTION_HEADER */
#define PE_DIR_SIZE     8  /* one IMAGE_DATA_DIRECTORY */
#define PE_DIR_RESOURCE 2
#define PE_DIR_SECURITY 4 /* the certificate table: a file offset, not an RVA */

/* Little-endian loads from a checked offset. */
static inline uint16_t pe_rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t pe_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* 1 when [off, off + n) lies inside a buffer of len bytes (no overflow). */
static inline int pe_fits(size_t off, size_t n, size_t len)
{
    return off <= len && n <= len - off;
}

/* Where the header fields are. Offsets are file offsets into the buffer. */
typedef struct pe_headers {
    uint16_t machine;         /* IMAGE_FILE_HEADER.Machine */
    int is_pe32plus;          /* 1 for PE32+ (64-bit optional header) */
    size_t opt;               /* the optional header */
    size_t opt_size;          /* SizeOfOptionalHeader (all of it in the buffer) */
    size_t checksum;          /* OptionalHeader.CheckSum (4 bytes, in the buffer) */
    size_t dirs;              /* the data directory array */
    uint32_t ndirs;           /* NumberOfRvaAndSizes, capped to what the header holds */
    size_t sections;          /* the section table (nsections entries, in the buffer) */
    unsigned nsections;       /* NumberOfSections */
    uint32_t file_alignment;  /* OptionalHeader.FileAlignment */
    uint32_t size_of_headers; /* OptionalHeader.SizeOfHeaders (not checked) */
} pe_headers;

/*
 * Read the headers of buf[0..len). Returns TMI_OK, or TMI_EFORMAT with
 * *error set to a short static message: "not a PE file", "truncated
 * headers", "unsupported optional header", "malformed optional header" or
 * "truncated section table". *h is zeroed first.
 */
int pe_headers_read(const uint8_t *buf, size_t len, pe_headers *h, const char **error);

/*
 * Data directory idx: 1 and its two fields when the header holds it, else 0
 * (*va and *size set to 0). For PE_DIR_SECURITY, *va is a file offset.
 */
int pe_headers_dir(const pe_headers *h, const uint8_t *buf, unsigned idx, uint32_t *va,
                   uint32_t *size);

/* File offset of data directory idx (8 bytes); idx must be < h->ndirs. */
size_t pe_headers_dir_offset(const pe_headers *h, unsigned idx);

#endif
