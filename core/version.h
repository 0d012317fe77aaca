/*
 * version.h - four-part file versions "a.b.c.d" with 16-bit parts, as in a PE
 * file's VS_FIXEDFILEINFO (dwFileVersionMS = a<<16|b, dwFileVersionLS = c<<16|d).
 * Values are plain structs; nothing here allocates.
 */
#ifndef TMI_VERSION_H
#define TMI_VERSION_H

#include <stddef.h>
#include <stdint.h>

typedef struct tmi_version {
    uint16_t part[4];
} tmi_version;

/* Longest formatted version: "65535.65535.65535.65535" plus NUL. */
#define TMI_VERSION_STRLEN 24

/*
 * Parse exactly four dot-separated decimal parts, each 0..65535, no sign, no
 * spaces, no leading '+', at most 5 digits each. Returns TMI_OK and fills *out,
 * or TMI_EINVAL (and leaves *out untouched) for anything else.
 */
int version_parse(const char *s, tmi_version *out);

/* Build a version from VS_FIXEDFILEINFO's MS/LS words. */
tmi_version version_from_ms_ls(uint32_t ms, uint32_t ls);

/* Format into buf (at least TMI_VERSION_STRLEN bytes); returns buf. */
char *version_format(const tmi_version *v, char *buf, size_t buflen);

/* Compare part by part: <0, 0, >0 like strcmp. */
int version_compare(const tmi_version *a, const tmi_version *b);

#endif
