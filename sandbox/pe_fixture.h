/*
 * pe_fixture.h - write small, valid PE files with a chosen version resource.
 *
 * Used by the tests and by the demo sandbox to stand in for mrf.exe and the
 * MRF DLLs. The output is a loadable-looking PE32 (or PE32+) image with one
 * .rsrc section holding RT_VERSION: VS_VERSIONINFO with VS_FIXEDFILEINFO and a
 * StringFileInfo table (040904B0) holding the strings given, optionally an
 * application manifest (RT_MANIFEST, ID 1) after it, and optionally
 * deterministic padding (derived from `seed`) to reach a realistic size.
 */
#ifndef TMI_PE_FIXTURE_H
#define TMI_PE_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "pe_version.h"
#include "version.h"

typedef struct pe_fixture_spec {
    tmi_version file_version;          /* VS_FIXEDFILEINFO dwFileVersionMS/LS */
    tmi_version product_version;       /* VS_FIXEDFILEINFO dwProductVersionMS/LS */
    int no_version_resource;           /* 1: write a PE with no .rsrc at all */
    int pe32plus;                      /* 1: PE32+ (AMD64), 0: PE32 (i386) */
    int is_dll;                        /* 1: IMAGE_FILE_DLL characteristic */
    const char *strings[PE_STR_COUNT]; /* UTF-8 values; NULL = key omitted */
    const char *manifest;              /* RT_MANIFEST bytes (NUL-terminated); NULL = none */
    size_t pad_to;                     /* grow the file to at least this many bytes */
    uint32_t seed;                     /* padding content, so equal specs can differ */
} pe_fixture_spec;

/*
 * Build the image in a new heap buffer. On TMI_OK *out (caller frees with
 * free()) and *out_len are set. TMI_EINVAL for an impossible spec (a string
 * longer than 1024 bytes or not valid UTF-8, pad_to over 256 MiB, a manifest
 * over 8 KiB or with no_version_resource), TMI_ENOMEM.
 * The output depends only on the spec: equal specs give equal bytes.
 */
int pe_fixture_build(const pe_fixture_spec *spec, uint8_t **out, size_t *out_len);

#endif
