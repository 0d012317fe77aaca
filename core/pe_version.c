/*
 * pe_version.c - read the version resource of a PE32 / PE32+ image held in
 * memory (see pe_version.h for the contract). The headers are read by
 * pe_headers.c; this file walks the resource tree they point to.
 *
 * The bytes are untrusted. Every multi-byte field is read with explicit
 * little-endian loads from a checked offset (never through a cast pointer),
 * every offset and length is checked against the buffer and against the
 * enclosing structure, and every loop advances by at least one structure
 * size, so the parser terminates on any input. Nothing is allocated.
 *
 * What counts as an error (TMI_EFORMAT) and what does not:
 *   - the header errors of pe_headers_read()            -> its message
 *   - resource directory unmappable, out of its section,
 *     or not shaped type -> name -> language -> data    -> "malformed resource directory"
 *   - the VS_VERSIONINFO block or its VS_FIXEDFILEINFO
 *     broken (data outside the file, wLength 0 or past
 *     the data, wrong key, value too short, signature
 *     other than 0xFEEF04BD)                            -> "malformed version resource"
 * A PE with no resource directory, no RT_VERSION entry, or an RT_VERSION
 * directory with no entries is TMI_OK with has_fixed = 0: it simply has no
 * version. A VS_VERSIONINFO whose wValueLength is 0 carries no fixed info and
 * is TMI_OK with has_fixed = 0 as well.
 *
 * The StringFileInfo strings are best effort, like Windows' VerQueryValue:
 * the first malformed child block (length past its parent, unterminated key)
 * ends the walk, strings read before it are kept, and the fixed version is
 * still reported. The fixed version is what the repair decisions use, and a
 * file whose Properties dialog shows a file version must not become
 * "unreadable" here because of a damaged string table.
 *
 * pe_resource_find() walks the same headers and the same three levels of the
 * resource tree for any resource type given by ID (RT_MANIFEST, ...), and
 * reports where the first one's bytes are; it reads nothing of them.
 *
 * Choices where real files and readers differ:
 *   - PointerToRawData is rounded down to a multiple of 0x200 when
 *     FileAlignment >= 0x200, as the Windows loader does.
 *   - Resource types are looked up among the ID entries only (those after
 *     the named ones), comparing the low 16 bits of the ID, as the loader does.
 *   - Only the first name entry of a type and its first language are read.
 *   - Version blocks are 32-bit aligned relative to the start of the
 *     VS_VERSIONINFO data (as in the buffer GetFileVersionInfo fills).
 *   - When a StringTable holds the same key twice, the first one wins.
 *   - A String value is read up to its wValueLength characters, the end of
 *     its block, or the first NUL, whichever comes first.
 */
#include "pe_version.h"

#include <string.h>

#include "err.h"
#include "pe_headers.h"
#include "strutil.h"

const char *const pe_string_keys[PE_STR_COUNT] = {
    "CompanyName", "FileDescription", "FileVersion", "ProductName", "ProductVersion",
};

#define MSG_RSRC    "malformed resource directory"
#define MSG_VERSION "malformed version resource"

#define MSG_RSRC_DATA "resource data outside the file"

#define RSRC_DIR_SIZE   16
#define RSRC_ENTRY_SIZE 8
#define RSRC_DATA_SIZE  16
#define RSRC_HIGH_BIT   0x80000000u

#define VS_FIXED_SIZE      52
#define VS_FIXED_SIGNATURE 0xFEEF04BDu
#define VS_HEADER_SIZE     6 /* wLength, wValueLength, wType */

static size_t align4(size_t x)
{
    return (x + 3) & ~(size_t)3;
}

/* The parts of the headers the resource walk needs. */
typedef struct pe_image {
    const uint8_t *buf;
    size_t len;
    size_t sections; /* file offset of the section table */
    unsigned nsections;
    uint32_t file_alignment;
} pe_image;

/*
 * Map an RVA to a file offset through the section table. On success *off is
 * the file offset and *avail the number of bytes from there that are both in
 * the section's raw data and in the buffer (at least 1). Returns 0 when the
 * RVA is in no section or its bytes are not in the file. The first section
 * that holds the RVA and has its bytes in the file wins, so a section whose
 * virtual size runs over the next one (a zero-filled tail) does not hide the
 * next one's data.
 */
static int rva_to_offset(const pe_image *img, uint32_t rva, size_t *off, size_t *avail)
{
    for (unsigned i = 0; i < img->nsections; i++) {
        const uint8_t *s = img->buf + img->sections + (size_t)i * PE_SECTION_SIZE;
        uint64_t vsize = pe_rd32(s + 8);
        uint64_t va = pe_rd32(s + 12);
        uint64_t raw_size = pe_rd32(s + 16);
        uint64_t raw_ptr = pe_rd32(s + 20);
        uint64_t span = vsize > raw_size ? vsize : raw_size;
        if (rva < va || rva >= va + span)
            continue;
        if (img->file_alignment >= 0x200)
            raw_ptr &= ~(uint64_t)0x1FF;
        uint64_t delta = rva - va;
        if (delta >= raw_size)
            continue; /* in the zero-filled tail: nothing in the file */
        uint64_t start = raw_ptr + delta;
        uint64_t end = raw_ptr + raw_size;
        if (end > img->len)
            end = img->len;
        if (start >= end)
            continue;
        *off = (size_t)start;
        *avail = (size_t)(end - start);
        return 1;
    }
    return 0;
}

/* The resource tree, seen from the start of its root directory. */
typedef struct rsrc_view {
    const uint8_t *base; /* root directory */
    size_t len;          /* bytes available from base */
} rsrc_view;

/*
 * Read the directory at offset dir (relative to the root). On success
 * *entries is the offset of its first entry and *count the number of named
 * plus ID entries, all of which lie inside the view. Returns 0 if the
 * directory or its entry array does not fit.
 */
static int rsrc_dir(const rsrc_view *r, uint32_t dir, uint32_t *entries, uint32_t *count)
{
    if (!pe_fits(dir, RSRC_DIR_SIZE, r->len))
        return 0;
    uint32_t n = (uint32_t)pe_rd16(r->base + dir + 12) + pe_rd16(r->base + dir + 14);
    if (!pe_fits((size_t)dir + RSRC_DIR_SIZE, (size_t)n * RSRC_ENTRY_SIZE, r->len))
        return 0;
    *entries = dir + RSRC_DIR_SIZE;
    *count = n;
    return 1;
}

/*
 * Walk root -> type `type_id` -> first name -> first language -> data entry.
 * Returns TMI_OK with *found = 1 and the data entry's RVA and size, TMI_OK
 * with *found = 0 when there is no version resource, or TMI_EFORMAT.
 * The walk has a fixed depth of three and each level requires the kind of
 * entry it expects, so a subdirectory offset pointing back at an ancestor
 * cannot make it loop; such offsets are refused explicitly all the same.
 */
static int find_entry(const rsrc_view *r, uint16_t type_id, int *found, uint32_t *data_rva,
                      uint32_t *data_size)
{
    uint32_t entries, count;
    *found = 0;

    /* Level 1: resource types. The standard types are ID entries. */
    if (!rsrc_dir(r, 0, &entries, &count))
        return TMI_EFORMAT;
    uint32_t named = pe_rd16(r->base + 12);
    uint32_t target = 0;
    int have_type = 0;
    for (uint32_t i = named; i < count; i++) {
        const uint8_t *e = r->base + entries + (size_t)i * RSRC_ENTRY_SIZE;
        uint32_t name = pe_rd32(e);
        /* An ID entry's ID is the low WORD, as in the loader's union. */
        if ((name & RSRC_HIGH_BIT) == 0 && (name & 0xFFFF) == type_id) {
            target = pe_rd32(e + 4);
            have_type = 1;
            break;
        }
    }
    if (!have_type)
        return TMI_OK;
    if ((target & RSRC_HIGH_BIT) == 0)
        return TMI_EFORMAT;
    uint32_t names_dir = target & ~RSRC_HIGH_BIT;
    if (names_dir == 0)
        return TMI_EFORMAT;

    /* Level 2: names (IDs) of version resources: take the first. */
    if (!rsrc_dir(r, names_dir, &entries, &count))
        return TMI_EFORMAT;
    if (count == 0)
        return TMI_OK;
    target = pe_rd32(r->base + entries + 4);
    if ((target & RSRC_HIGH_BIT) == 0)
        return TMI_EFORMAT;
    uint32_t langs_dir = target & ~RSRC_HIGH_BIT;
    if (langs_dir == 0 || langs_dir == names_dir)
        return TMI_EFORMAT;

    /* Level 3: languages: take the first; it must be a data entry. */
    if (!rsrc_dir(r, langs_dir, &entries, &count))
        return TMI_EFORMAT;
    if (count == 0)
        return TMI_OK;
    target = pe_rd32(r->base + entries + 4);
    if ((target & RSRC_HIGH_BIT) != 0)
        return TMI_EFORMAT;
    if (!pe_fits(target, RSRC_DATA_SIZE, r->len))
        return TMI_EFORMAT;
    *data_rva = pe_rd32(r->base + target);
    *data_size = pe_rd32(r->base + target + 4);
    *found = 1;
    return TMI_OK;
}

/* One block of the version resource: VS_VERSIONINFO, StringFileInfo,
 * StringTable, String, VarFileInfo or Var. Offsets are relative to the start
 * of the VS_VERSIONINFO data. */
typedef struct vs_block {
    size_t start;       /* first byte of the block */
    size_t end;         /* start + wLength */
    uint16_t value_len; /* wValueLength: bytes or UTF-16 units, by block kind */
    size_t key;         /* UTF-16LE key */
    size_t key_units;   /* key length in units, without its NUL */
    size_t value;       /* 32-bit aligned offset after the key's NUL (<= end) */
} vs_block;

/*
 * Parse the block header at v[start..] inside a parent ending at limit.
 * Returns 1 on success; 0 when wLength is below the header size or past the
 * parent, or the key has no NUL inside the block.
 */
static int vs_block_parse(const uint8_t *v, size_t start, size_t limit, vs_block *b)
{
    if (start > limit || limit - start < VS_HEADER_SIZE)
        return 0;
    size_t wlength = pe_rd16(v + start);
    if (wlength < VS_HEADER_SIZE || wlength > limit - start)
        return 0;
    b->start = start;
    b->end = start + wlength;
    b->value_len = pe_rd16(v + start + 2);
    b->key = start + VS_HEADER_SIZE;
    size_t p = b->key;
    while (p + 2 <= b->end && pe_rd16(v + p) != 0)
        p += 2;
    if (p + 2 > b->end)
        return 0;
    b->key_units = (p - b->key) / 2;
    b->value = align4(p + 2);
    if (b->value > b->end)
        b->value = b->end;
    return 1;
}

/* 1 when the block's UTF-16 key equals the ASCII string s. */
static int vs_key_is(const uint8_t *v, const vs_block *b, const char *s)
{
    size_t n = strlen(s);
    if (b->key_units != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (pe_rd16(v + b->key + 2 * i) != (uint8_t)s[i])
            return 0;
    }
    return 1;
}

/*
 * Convert units UTF-16LE code units at p (stopping early at a NUL) to UTF-8
 * in dst[dstsize], always NUL-terminated. Surrogate pairs are combined; a
 * lone surrogate becomes U+FFFD. Output that would not fit is dropped at a
 * character boundary, so dst never ends in a partial sequence.
 */
static void utf16le_to_utf8(const uint8_t *p, size_t units, char *dst, size_t dstsize)
{
    size_t o = 0;
    size_t i = 0;
    while (i < units) {
        uint32_t c = pe_rd16(p + 2 * i);
        i++;
        if (c == 0)
            break;
        if (c >= 0xD800 && c <= 0xDBFF) {
            uint32_t lo = i < units ? pe_rd16(p + 2 * i) : 0;
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
                i++;
            } else {
                c = 0xFFFD;
            }
        } else if (c >= 0xDC00 && c <= 0xDFFF) {
            c = 0xFFFD;
        }
        char enc[4];
        size_t n = str_utf8_encode(c, enc);
        if (n > dstsize - 1 - o)
            break;
        memcpy(dst + o, enc, n);
        o += n;
    }
    dst[o] = '\0';
}

/* Record the String block s if its key is one of pe_string_keys and has not
 * been seen yet in this table. */
static void read_string(const uint8_t *v, const vs_block *s, pe_version_info *out)
{
    for (int k = 0; k < PE_STR_COUNT; k++) {
        if (out->has_string[k] || !vs_key_is(v, s, pe_string_keys[k]))
            continue;
        size_t units = (s->end - s->value) / 2;
        if (s->value_len < units)
            units = s->value_len;
        utf16le_to_utf8(v + s->value, units, out->strings[k], PE_STR_MAX);
        out->has_string[k] = 1;
        return;
    }
}

/*
 * Read the Strings of the first StringTable of the StringFileInfo block sfi.
 * Returns 1 once a StringTable was read (even an empty one), 0 when sfi
 * holds none. Malformed children end the walk quietly.
 */
static int read_string_file_info(const uint8_t *v, const vs_block *sfi, pe_version_info *out)
{
    vs_block table;
    size_t pos = align4(sfi->value);
    if (pos + VS_HEADER_SIZE > sfi->end || pe_rd16(v + pos) == 0)
        return 0;
    if (!vs_block_parse(v, pos, sfi->end, &table))
        return 0;
    /* StringTable has no value: its children start right after the key. */
    pos = table.value;
    while (pos + VS_HEADER_SIZE <= table.end && pe_rd16(v + pos) != 0) {
        vs_block s;
        if (!vs_block_parse(v, pos, table.end, &s))
            break;
        read_string(v, &s, out);
        pos = align4(s.end);
    }
    return 1;
}

/*
 * Parse VS_VERSIONINFO in v[0..size). Returns TMI_OK or TMI_EFORMAT (only
 * for the block header and VS_FIXEDFILEINFO; see the file comment).
 */
static int read_version_info(const uint8_t *v, size_t size, pe_version_info *out)
{
    vs_block root;
    if (!vs_block_parse(v, 0, size, &root))
        return TMI_EFORMAT;
    if (!vs_key_is(v, &root, "VS_VERSION_INFO"))
        return TMI_EFORMAT;
    size_t children = root.value;
    if (root.value_len != 0) {
        if (root.value_len < VS_FIXED_SIZE || !pe_fits(root.value, root.value_len, root.end))
            return TMI_EFORMAT;
        const uint8_t *f = v + root.value;
        if (pe_rd32(f) != VS_FIXED_SIGNATURE)
            return TMI_EFORMAT;
        out->file_version = version_from_ms_ls(pe_rd32(f + 8), pe_rd32(f + 12));
        out->product_version = version_from_ms_ls(pe_rd32(f + 16), pe_rd32(f + 20));
        out->has_fixed = 1;
        children = align4(root.value + root.value_len);
    }

    size_t pos = children;
    while (pos + VS_HEADER_SIZE <= root.end && pe_rd16(v + pos) != 0) {
        vs_block child;
        if (!vs_block_parse(v, pos, root.end, &child))
            break;
        if (vs_key_is(v, &child, "StringFileInfo") && read_string_file_info(v, &child, out))
            break;
        pos = align4(child.end);
    }
    return TMI_OK;
}

static int fail(pe_version_info *out, const char *msg)
{
    memset(out, 0, sizeof(*out));
    out->error = msg;
    return TMI_EFORMAT;
}

/* The image and its resource tree, from checked headers. NULL on success,
 * else the static message of a TMI_EFORMAT; *has_rsrc 0 when the file has
 * no resource directory. */
static const char *locate_rsrc(const uint8_t *buf, size_t len, pe_headers *h, pe_image *img,
                               rsrc_view *r, int *has_rsrc)
{
    const char *error = NULL;
    uint32_t rsrc_rva, rsrc_size;
    size_t rsrc_off;
    *has_rsrc = 0;
    if (pe_headers_read(buf, len, h, &error) != TMI_OK)
        return error;
    img->buf = buf;
    img->len = len;
    img->sections = h->sections;
    img->nsections = h->nsections;
    img->file_alignment = h->file_alignment;
    if (!pe_headers_dir(h, buf, PE_DIR_RESOURCE, &rsrc_rva, &rsrc_size) || rsrc_rva == 0)
        return NULL;
    if (!rva_to_offset(img, rsrc_rva, &rsrc_off, &r->len))
        return MSG_RSRC;
    r->base = buf + rsrc_off;
    *has_rsrc = 1;
    return NULL;
}

int pe_version_read(const uint8_t *buf, size_t len, pe_version_info *out)
{
    pe_headers h;
    pe_image img;
    rsrc_view r;
    int has_rsrc = 0, found = 0;
    uint32_t data_rva = 0, data_size = 0;
    size_t voff, vavail;
    const char *msg;

    memset(out, 0, sizeof(*out));
    msg = locate_rsrc(buf, len, &h, &img, &r, &has_rsrc);
    if (msg != NULL)
        return fail(out, msg);
    out->machine = h.machine;
    out->is_pe32plus = h.is_pe32plus;
    if (!has_rsrc)
        return TMI_OK;
    if (find_entry(&r, PE_RT_VERSION, &found, &data_rva, &data_size) != TMI_OK)
        return fail(out, MSG_RSRC);
    if (!found)
        return TMI_OK;
    if (!rva_to_offset(&img, data_rva, &voff, &vavail) || data_size > vavail)
        return fail(out, MSG_VERSION);
    if (read_version_info(buf + voff, data_size, out) != TMI_OK)
        return fail(out, MSG_VERSION);
    return TMI_OK;
}

int pe_resource_find(const uint8_t *buf, size_t len, uint16_t type_id, pe_resource *out)
{
    pe_headers h;
    pe_image img;
    rsrc_view r;
    int has_rsrc = 0, found = 0;
    uint32_t data_rva = 0, data_size = 0;
    size_t off, avail;

    memset(out, 0, sizeof(*out));
    out->error = locate_rsrc(buf, len, &h, &img, &r, &has_rsrc);
    if (out->error != NULL)
        return TMI_EFORMAT;
    if (!has_rsrc)
        return TMI_ENOENT;
    if (find_entry(&r, type_id, &found, &data_rva, &data_size) != TMI_OK) {
        out->error = MSG_RSRC;
        return TMI_EFORMAT;
    }
    if (!found)
        return TMI_ENOENT;
    if (!rva_to_offset(&img, data_rva, &off, &avail) || data_size > avail) {
        out->error = MSG_RSRC_DATA;
        return TMI_EFORMAT;
    }
    out->offset = off;
    out->size = data_size;
    return TMI_OK;
}
