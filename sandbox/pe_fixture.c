/*
 * pe_fixture.c - write small, valid PE images with a chosen version resource
 * (see pe_fixture.h for the contract).
 *
 * Layout of the image (FileAlignment 0x200, SectionAlignment 0x1000):
 *
 *   0x000  DOS header + the usual DOS stub, e_lfanew = 0x80
 *   0x080  "PE\0\0", IMAGE_FILE_HEADER, optional header (PE32 or PE32+,
 *          16 data directories), section table
 *   0x200  .text  (RVA 0x1000): a minimal entry point
 *   0x400  .rsrc  (RVA 0x2000): root -> RT_VERSION -> ID 1 -> 0x0409 -> data
 *          entry -> VS_VERSIONINFO (VS_FIXEDFILEINFO, StringFileInfo with
 *          StringTable "040904B0", VarFileInfo with Translation); with a
 *          manifest, root -> RT_MANIFEST -> ID 1 -> 0x0409 -> its bytes too
 *   ....   overlay of pseudo-random bytes up to pad_to, when asked for
 *
 * The .text entry point returns at once (exit code 0 for an EXE, TRUE from
 * DllMain for a DLL), so the image also loads and runs under Windows or wine.
 * The image has no imports and no relocations (IMAGE_FILE_RELOCS_STRIPPED);
 * its checksum is the real PE checksum, computed last over the whole file.
 */
#include "pe_fixture.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"

#define FILE_ALIGN     0x200u
#define SECT_ALIGN     0x1000u
#define E_LFANEW       0x80u
#define HEADERS_SIZE   0x200u /* SizeOfHeaders: everything up to .text */
#define TEXT_RVA       0x1000u
#define RSRC_RVA       0x2000u
#define MAX_STRING_LEN 1024u
#define MAX_PAD_TO     ((size_t)256 * 1024 * 1024)
#define MAX_MANIFEST   ((size_t)8 * 1024)
/* room for 5 strings of 1024 UTF-8 bytes and a manifest of MAX_MANIFEST */
#define RSRC_CAP        ((size_t)24 * 1024)
#define OPT_SIZE_PE32   0xE0u
#define OPT_SIZE_PE32P  0xF0u
#define VS_FIXED_SIZE   52u
#define TRANSLATION     0x04B00409u /* LANG_ENGLISH/SUBLANG_ENGLISH_US, code page 1200 */
#define FIXED_TIMESTAMP 0x5F5E1000u /* any fixed value: output is deterministic */

static void wr16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void wr64(uint8_t *p, uint64_t v)
{
    wr32(p, (uint32_t)v);
    wr32(p + 4, (uint32_t)(v >> 32));
}

static size_t align_up(size_t x, size_t a)
{
    return (x + a - 1) / a * a;
}

/*
 * Decode one UTF-8 sequence at s (NUL-terminated). On success stores the
 * code point in *cp and returns the sequence length; returns 0 for invalid
 * UTF-8 (overlong forms, surrogates, values past U+10FFFF, truncation).
 */
static size_t utf8_decode(const unsigned char *s, uint32_t *cp)
{
    uint32_t c = s[0];
    size_t n;
    uint32_t min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xE0) == 0xC0) {
        n = 2;
        c &= 0x1F;
        min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3;
        c &= 0x0F;
        min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4;
        c &= 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0; /* also catches the terminating NUL */
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return n;
}

/* A bounded writer over the .rsrc buffer. Overflow sets `bad`. */
typedef struct rbuf {
    uint8_t *p;
    size_t len;
    size_t cap;
    int bad;
} rbuf;

static void rb_u16(rbuf *b, uint32_t v)
{
    if (b->cap - b->len < 2) {
        b->bad = 1;
        return;
    }
    wr16(b->p + b->len, v);
    b->len += 2;
}

static void rb_u32(rbuf *b, uint32_t v)
{
    if (b->cap - b->len < 4) {
        b->bad = 1;
        return;
    }
    wr32(b->p + b->len, v);
    b->len += 4;
}

/* Zero bytes up to the next multiple of 4 (buffer zeroed by the caller). */
static void rb_align4(rbuf *b)
{
    size_t to = align_up(b->len, 4);
    if (to > b->cap) {
        b->bad = 1;
        return;
    }
    b->len = to;
}

/* Write s (UTF-8, already validated) as UTF-16LE plus a NUL; returns the
 * number of UTF-16 units written, NUL included. */
static uint32_t rb_utf16(rbuf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    uint32_t units = 0;
    while (*p != '\0') {
        uint32_t cp = 0;
        size_t n = utf8_decode(p, &cp);
        if (n == 0) {
            b->bad = 1;
            return units;
        }
        p += n;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            rb_u16(b, 0xD800 | (cp >> 10));
            rb_u16(b, 0xDC00 | (cp & 0x3FF));
            units += 2;
        } else {
            rb_u16(b, cp);
            units++;
        }
    }
    rb_u16(b, 0);
    return units + 1;
}

/* Start a version block: header with wLength 0 (patched by block_end), key,
 * padding to 32 bits. Returns the block's offset. */
static size_t block_begin(rbuf *b, const char *key, uint32_t value_len, uint32_t type)
{
    rb_align4(b);
    size_t start = b->len;
    rb_u16(b, 0);
    rb_u16(b, value_len);
    rb_u16(b, type);
    rb_utf16(b, key);
    rb_align4(b);
    return start;
}

/* Set the wLength of the block started at start to end at the current
 * position (trailing padding after it is not part of the block). */
static void block_end(rbuf *b, size_t start)
{
    if (b->bad)
        return;
    size_t n = b->len - start;
    if (n > 0xFFFF) {
        b->bad = 1;
        return;
    }
    wr16(b->p + start, (uint32_t)n);
}

static void write_fixed_file_info(rbuf *b, const pe_fixture_spec *spec)
{
    const tmi_version *f = &spec->file_version;
    const tmi_version *p = &spec->product_version;
    rb_u32(b, 0xFEEF04BDu);                             /* dwSignature */
    rb_u32(b, 0x00010000u);                             /* dwStrucVersion */
    rb_u32(b, (uint32_t)f->part[0] << 16 | f->part[1]); /* dwFileVersionMS */
    rb_u32(b, (uint32_t)f->part[2] << 16 | f->part[3]); /* dwFileVersionLS */
    rb_u32(b, (uint32_t)p->part[0] << 16 | p->part[1]); /* dwProductVersionMS */
    rb_u32(b, (uint32_t)p->part[2] << 16 | p->part[3]); /* dwProductVersionLS */
    rb_u32(b, 0x3Fu);                                   /* dwFileFlagsMask */
    rb_u32(b, 0);                                       /* dwFileFlags */
    rb_u32(b, 0x00040004u);                             /* dwFileOS: VOS_NT_WINDOWS32 */
    rb_u32(b, spec->is_dll ? 2u : 1u);                  /* dwFileType: VFT_DLL / VFT_APP */
    rb_u32(b, 0);                                       /* dwFileSubtype */
    rb_u32(b, 0);                                       /* dwFileDateMS */
    rb_u32(b, 0);                                       /* dwFileDateLS */
}

/* Write VS_VERSIONINFO at the current (32-bit aligned) position. */
static void write_version_info(rbuf *b, const pe_fixture_spec *spec)
{
    size_t root = block_begin(b, "VS_VERSION_INFO", VS_FIXED_SIZE, 0);
    write_fixed_file_info(b, spec);

    size_t sfi = block_begin(b, "StringFileInfo", 0, 1);
    size_t table = block_begin(b, "040904B0", 0, 1);
    for (int k = 0; k < PE_STR_COUNT; k++) {
        if (spec->strings[k] == NULL)
            continue;
        size_t s = block_begin(b, pe_string_keys[k], 0, 1);
        uint32_t units = rb_utf16(b, spec->strings[k]);
        if (!b->bad)
            wr16(b->p + s + 2, units); /* wValueLength: UTF-16 units with the NUL */
        block_end(b, s);
    }
    block_end(b, table);
    block_end(b, sfi);

    size_t vfi = block_begin(b, "VarFileInfo", 0, 1);
    size_t var = block_begin(b, "Translation", 4, 0);
    rb_u32(b, TRANSLATION);
    block_end(b, var);
    block_end(b, vfi);

    block_end(b, root);
}

/* A directory header with n ID entries (written next by write_entry). */
static void write_dir_header(rbuf *b, uint32_t n)
{
    rb_u32(b, 0); /* Characteristics */
    rb_u32(b, 0); /* TimeDateStamp */
    rb_u16(b, 0); /* MajorVersion */
    rb_u16(b, 0); /* MinorVersion */
    rb_u16(b, 0); /* NumberOfNamedEntries */
    rb_u16(b, n); /* NumberOfIdEntries */
}

static void write_entry(rbuf *b, uint32_t id, uint32_t target)
{
    rb_u32(b, id);
    rb_u32(b, target);
}

/* One directory header with a single ID entry pointing at `target`. */
static void write_dir1(rbuf *b, uint32_t id, uint32_t target)
{
    write_dir_header(b, 1);
    write_entry(b, id, target);
}

/* An IMAGE_RESOURCE_DATA_ENTRY; its Size is patched once the data is written. */
static void write_data_entry(rbuf *b, uint32_t offset)
{
    rb_u32(b, RSRC_RVA + offset); /* OffsetToData (an RVA) */
    rb_u32(b, 0);                 /* Size */
    rb_u32(b, 0);                 /* CodePage */
    rb_u32(b, 0);                 /* Reserved */
}

/*
 * Build the .rsrc section contents into b (zeroed, RSRC_CAP bytes): the root
 * directory (RT_VERSION, and RT_MANIFEST when the spec has a manifest), for
 * each type a one-entry name directory (ID 1) and a one-entry language
 * directory (0x0409), the data entries, VS_VERSIONINFO, then the manifest.
 */
static void write_rsrc(rbuf *b, const pe_fixture_spec *spec)
{
    const uint32_t ntypes = spec->manifest != NULL ? 2 : 1;
    const uint32_t dir_len = 16 + 8;
    const uint32_t root_len = 16 + 8 * ntypes;
    const uint32_t data_entries = root_len + 2 * dir_len * ntypes;
    const uint32_t vinfo = data_entries + 16 * ntypes;
    static const uint32_t types[2] = {16 /* RT_VERSION */, 24 /* RT_MANIFEST */};

    write_dir_header(b, ntypes);
    for (uint32_t t = 0; t < ntypes; t++)
        write_entry(b, types[t], 0x80000000u | (root_len + 2 * dir_len * t));
    for (uint32_t t = 0; t < ntypes; t++) {
        uint32_t names = root_len + 2 * dir_len * t;
        write_dir1(b, 1, 0x80000000u | (names + dir_len));
        write_dir1(b, 0x0409, data_entries + 16 * t);
    }
    write_data_entry(b, vinfo);
    if (ntypes == 2)
        write_data_entry(b, 0); /* OffsetToData patched below */
    write_version_info(b, spec);
    if (!b->bad)
        wr32(b->p + data_entries + 4, (uint32_t)(b->len - vinfo));
    if (ntypes == 2) {
        rb_align4(b);
        size_t at = b->len;
        size_t n = strlen(spec->manifest);
        if (b->bad || n > b->cap - b->len) {
            b->bad = 1;
            return;
        }
        memcpy(b->p + at, spec->manifest, n);
        b->len += n;
        wr32(b->p + data_entries + 16, RSRC_RVA + (uint32_t)at);
        wr32(b->p + data_entries + 16 + 4, (uint32_t)n);
    }
}

/* The x86 / x64 entry point: an EXE returns 0, DllMain returns TRUE. */
static size_t entry_code(const pe_fixture_spec *spec, uint8_t *code)
{
    /* xor eax,eax; ret */
    static const uint8_t exe[] = {0x31, 0xC0, 0xC3};
    /* mov eax,1; ret 12 (stdcall DllMain pops its three arguments) */
    static const uint8_t dll32[] = {0xB8, 0x01, 0x00, 0x00, 0x00, 0xC2, 0x0C, 0x00};
    /* mov eax,1; ret */
    static const uint8_t dll64[] = {0xB8, 0x01, 0x00, 0x00, 0x00, 0xC3};
    const uint8_t *src = exe;
    size_t n = sizeof(exe);
    if (spec->is_dll) {
        src = spec->pe32plus ? dll64 : dll32;
        n = spec->pe32plus ? sizeof(dll64) : sizeof(dll32);
    }
    memcpy(code, src, n);
    return n;
}

static void write_section(uint8_t *s, const char *name, uint32_t vsize, uint32_t va,
                          uint32_t raw_size, uint32_t raw_ptr, uint32_t characteristics)
{
    memcpy(s, name, strlen(name)); /* at most 8 bytes, NUL-padded by the zeroed buffer */
    wr32(s + 8, vsize);
    wr32(s + 12, va);
    wr32(s + 16, raw_size);
    wr32(s + 20, raw_ptr);
    wr32(s + 36, characteristics);
}

static void write_dos_header(uint8_t *img)
{
    static const uint8_t stub[] = {0x0E, 0x1F, 0xBA, 0x0E, 0x00, 0xB4, 0x09,
                                   0xCD, 0x21, 0xB8, 0x01, 0x4C, 0xCD, 0x21};
    static const char msg[] = "This program cannot be run in DOS mode.\r\r\n$";
    img[0] = 'M';
    img[1] = 'Z';
    wr16(img + 0x02, 0x90);     /* e_cblp */
    wr16(img + 0x04, 3);        /* e_cp */
    wr16(img + 0x08, 4);        /* e_cparhdr */
    wr16(img + 0x0C, 0xFFFF);   /* e_maxalloc */
    wr16(img + 0x10, 0xB8);     /* e_sp */
    wr16(img + 0x18, 0x40);     /* e_lfarlc */
    wr32(img + 0x3C, E_LFANEW); /* e_lfanew */
    memcpy(img + 0x40, stub, sizeof(stub));
    memcpy(img + 0x40 + sizeof(stub), msg, sizeof(msg) - 1);
}

/* The PE checksum (as computed by CheckSumMappedFile): 16-bit one's
 * complement style sum of the file with the CheckSum field taken as 0,
 * plus the file length. */
static uint32_t pe_checksum(const uint8_t *img, size_t len, size_t checksum_off)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < len; i += 2) {
        uint32_t w = img[i];
        if (i + 1 < len)
            w |= (uint32_t)img[i + 1] << 8;
        if (i == checksum_off || i == checksum_off + 2)
            w = 0;
        sum += w;
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint32_t)sum + (uint32_t)len;
}

/* xorshift32: the padding stream. A zero seed is mapped to a fixed non-zero
 * state, because xorshift never leaves zero. */
static uint32_t xorshift32(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

static int spec_is_valid(const pe_fixture_spec *spec)
{
    if (spec->pad_to > MAX_PAD_TO)
        return 0;
    if (spec->manifest != NULL &&
        (spec->no_version_resource || strlen(spec->manifest) > MAX_MANIFEST))
        return 0;
    for (int k = 0; k < PE_STR_COUNT; k++) {
        const char *s = spec->strings[k];
        if (s == NULL)
            continue;
        size_t n = strlen(s);
        if (n > MAX_STRING_LEN)
            return 0;
        for (size_t i = 0; i < n;) {
            uint32_t cp;
            size_t step = utf8_decode((const unsigned char *)s + i, &cp);
            if (step == 0)
                return 0;
            i += step;
        }
    }
    return 1;
}

/* Where the parts of the image go. Headers and .text take one page each;
 * .rsrc follows at RSRC_RVA. */
typedef struct pe_layout {
    int plus;           /* PE32+ */
    int has_rsrc;       /* a resource section (no_version_resource not set) */
    unsigned nsections; /* .text, and .rsrc when has_rsrc */
    uint32_t text_raw;  /* file bytes of .text */
    size_t rsrc_len;    /* bytes of the resource section's data (0: none) */
    uint32_t rsrc_raw;  /* its file bytes, aligned */
    uint32_t rsrc_ptr;  /* its file offset */
    size_t image_len;   /* headers and sections */
    size_t file_len;    /* with the overlay padding */
} pe_layout;

/* The resource section's data (the version resource and any manifest) into
 * a new buffer, or *rsrc NULL for a spec without one. */
static int build_rsrc(const pe_fixture_spec *spec, uint8_t **rsrc, size_t *len)
{
    *rsrc = NULL;
    *len = 0;
    if (spec->no_version_resource)
        return TMI_OK;
    uint8_t *buf = calloc(1, RSRC_CAP);
    if (buf == NULL)
        return TMI_ENOMEM;
    rbuf b = {buf, 0, RSRC_CAP, 0};
    write_rsrc(&b, spec);
    if (b.bad) {
        free(buf);
        return TMI_EINVAL;
    }
    *rsrc = buf;
    *len = b.len;
    return TMI_OK;
}

static void plan_layout(const pe_fixture_spec *spec, const uint8_t *rsrc, size_t rsrc_len,
                        pe_layout *l)
{
    l->plus = spec->pe32plus != 0;
    l->has_rsrc = rsrc != NULL;
    l->nsections = l->has_rsrc ? 2 : 1;
    l->text_raw = 0x200;
    l->rsrc_len = rsrc_len;
    l->rsrc_raw = (uint32_t)align_up(rsrc_len, FILE_ALIGN);
    l->rsrc_ptr = HEADERS_SIZE + l->text_raw;
    l->image_len = HEADERS_SIZE + l->text_raw + l->rsrc_raw;
    l->file_len = l->image_len < spec->pad_to ? spec->pad_to : l->image_len;
}

/* The NT signature and IMAGE_FILE_HEADER at nt. */
static void write_file_header(uint8_t *nt, const pe_fixture_spec *spec, const pe_layout *l)
{
    uint8_t *fh = nt + 4;
    uint32_t characteristics = 0x0001 /* RELOCS_STRIPPED */ | 0x0002 /* EXECUTABLE_IMAGE */;
    characteristics |= l->plus ? 0x0020 /* LARGE_ADDRESS_AWARE */ : 0x0100 /* 32BIT_MACHINE */;
    if (spec->is_dll)
        characteristics |= 0x2000; /* DLL */
    memcpy(nt, "PE\0\0", 4);
    wr16(fh + 0, l->plus ? 0x8664 : 0x014C);
    wr16(fh + 2, l->nsections);
    wr32(fh + 4, FIXED_TIMESTAMP);
    wr16(fh + 16, l->plus ? OPT_SIZE_PE32P : OPT_SIZE_PE32);
    wr16(fh + 18, characteristics);
}

/* The sizes of stack and heap, the count of data directories and the
 * resource directory entry: the end of the optional header. */
static void write_optional_tail(uint8_t *opt, const pe_layout *l)
{
    size_t dirs;
    if (l->plus) {
        wr64(opt + 72, 0x100000); /* SizeOfStackReserve */
        wr64(opt + 80, 0x1000);   /* SizeOfStackCommit */
        wr64(opt + 88, 0x100000); /* SizeOfHeapReserve */
        wr64(opt + 96, 0x1000);   /* SizeOfHeapCommit */
        wr32(opt + 108, 16);      /* NumberOfRvaAndSizes */
        dirs = 112;
    } else {
        wr32(opt + 72, 0x100000);
        wr32(opt + 76, 0x1000);
        wr32(opt + 80, 0x100000);
        wr32(opt + 84, 0x1000);
        wr32(opt + 92, 16);
        dirs = 96;
    }
    if (l->has_rsrc) {
        wr32(opt + dirs + 2 * 8, RSRC_RVA);
        wr32(opt + dirs + 2 * 8 + 4, (uint32_t)l->rsrc_len);
    }
}

/* The optional header at opt, all but its CheckSum (filled in last). */
static void write_optional_header(uint8_t *opt, const pe_fixture_spec *spec, const pe_layout *l)
{
    uint32_t size_of_image = (uint32_t)align_up(RSRC_RVA + l->rsrc_len, SECT_ALIGN);
    wr16(opt + 0, l->plus ? 0x20B : 0x10B);
    opt[2] = 14;                /* MajorLinkerVersion */
    wr32(opt + 4, l->text_raw); /* SizeOfCode */
    wr32(opt + 8, l->rsrc_raw); /* SizeOfInitializedData */
    wr32(opt + 16, TEXT_RVA);   /* AddressOfEntryPoint */
    wr32(opt + 20, TEXT_RVA);   /* BaseOfCode */
    if (l->plus) {
        wr64(opt + 24, spec->is_dll ? 0x180000000ull : 0x140000000ull); /* ImageBase */
    } else {
        wr32(opt + 24, RSRC_RVA);                                 /* BaseOfData */
        wr32(opt + 28, spec->is_dll ? 0x10000000u : 0x00400000u); /* ImageBase */
    }
    wr32(opt + 32, SECT_ALIGN);
    wr32(opt + 36, FILE_ALIGN);
    wr16(opt + 40, 6); /* MajorOperatingSystemVersion */
    wr16(opt + 48, 6); /* MajorSubsystemVersion */
    wr32(opt + 56, size_of_image);
    wr32(opt + 60, HEADERS_SIZE);
    wr16(opt + 68, spec->is_dll ? 2 : 3); /* Subsystem: WINDOWS_GUI for a DLL, CUI for an EXE */
    wr16(opt + 70, 0x0100 | (spec->is_dll ? 0 : 0x8000)); /* NX_COMPAT, TERMINAL_SERVER_AWARE */
    write_optional_tail(opt, l);
}

/* The section table at sect, then the sections' contents: the entry code
 * and the resource data (rsrc: l->rsrc_len bytes when l->has_rsrc). */
static void write_sections(uint8_t *img, uint8_t *sect, const pe_fixture_spec *spec,
                           const pe_layout *l, const uint8_t *rsrc)
{
    size_t code_len = entry_code(spec, img + HEADERS_SIZE);
    write_section(sect, ".text", (uint32_t)code_len, TEXT_RVA, l->text_raw, HEADERS_SIZE,
                  0x60000020u /* CODE | EXECUTE | READ */);
    if (l->has_rsrc) {
        write_section(sect + 40, ".rsrc", (uint32_t)l->rsrc_len, RSRC_RVA, l->rsrc_raw, l->rsrc_ptr,
                      0x40000040u /* INITIALIZED_DATA | READ */);
        memcpy(img + l->rsrc_ptr, rsrc, l->rsrc_len);
    }
}

/* Overlay padding after the last section: the xorshift32 stream of seed. */
static void write_overlay(uint8_t *img, const pe_layout *l, uint32_t seed)
{
    uint32_t state = seed != 0 ? seed : 0x9E3779B9u;
    for (size_t i = l->image_len; i < l->file_len; i += 4) {
        uint32_t r = xorshift32(&state);
        size_t n = l->file_len - i < 4 ? l->file_len - i : 4;
        for (size_t j = 0; j < n; j++)
            img[i + j] = (uint8_t)(r >> (8 * j));
    }
}

int pe_fixture_build(const pe_fixture_spec *spec, uint8_t **out, size_t *out_len)
{
    uint8_t *rsrc = NULL, *img = NULL;
    size_t rsrc_len = 0;
    pe_layout l;
    if (spec == NULL || out == NULL || out_len == NULL || !spec_is_valid(spec))
        return TMI_EINVAL;
    *out = NULL;
    *out_len = 0;
    int rc = build_rsrc(spec, &rsrc, &rsrc_len);
    if (rc != TMI_OK)
        return rc;
    plan_layout(spec, rsrc, rsrc_len, &l);
    img = calloc(1, l.file_len);
    if (img == NULL) {
        free(rsrc);
        return TMI_ENOMEM;
    }
    uint8_t *nt = img + E_LFANEW;
    uint8_t *opt = nt + 4 + 20;
    write_dos_header(img);
    write_file_header(nt, spec, &l);
    write_optional_header(opt, spec, &l);
    write_sections(img, opt + (l.plus ? OPT_SIZE_PE32P : OPT_SIZE_PE32), spec, &l, rsrc);
    free(rsrc);
    write_overlay(img, &l, spec->seed);
    size_t checksum_off = (size_t)(opt + 64 - img);
    wr32(img + checksum_off, pe_checksum(img, l.file_len, checksum_off));
    *out = img;
    *out_len = l.file_len;
    return TMI_OK;
}
