/*
 * fuzz_pe_version.c - libFuzzer target for pe_version_read(), the parser of
 * untrusted PE files. Besides the sanitizers' checks it asserts the
 * reader's contract: the result is TMI_OK or TMI_EFORMAT, error is set
 * exactly on failure, and every reported string is NUL-terminated, valid
 * UTF-8 of at most PE_STR_MAX - 1 bytes (empty when absent). It also runs
 * pe_resource_find() for RT_MANIFEST and RT_VERSION: a resource it reports
 * lies inside the input, error is set exactly on TMI_EFORMAT, and a fixed
 * version read by pe_version_read() implies an RT_VERSION found by it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "pe_version.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 1 when s[0..n) is well-formed UTF-8 (no overlongs, surrogates or values
 * past U+10FFFF). */
static int valid_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t len;
        unsigned cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1F;
            min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0F;
            min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07;
            min = 0x10000;
        } else {
            return 0;
        }
        if (n - i < len)
            return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += len;
    }
    return 1;
}

/* pe_resource_find's contract for one type; returns its result. */
static int check_find(const uint8_t *data, size_t size, uint16_t type)
{
    pe_resource res;
    int rc = pe_resource_find(data, size, type, &res);
    if (rc != TMI_OK && rc != TMI_ENOENT && rc != TMI_EFORMAT)
        abort();
    if ((rc == TMI_EFORMAT) != (res.error != NULL))
        abort();
    if (rc != TMI_OK && (res.offset != 0 || res.size != 0))
        abort();
    if (rc == TMI_OK && (res.offset > size || res.size > size - res.offset))
        abort();
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pe_version_info info;
    int rc = pe_version_read(data, size, &info);
    if (rc != TMI_OK && rc != TMI_EFORMAT)
        abort();
    if ((rc == TMI_OK) != (info.error == NULL))
        abort();
    if (rc != TMI_OK && info.has_fixed)
        abort();
    check_find(data, size, PE_RT_MANIFEST);
    if (check_find(data, size, PE_RT_VERSION) != TMI_OK && info.has_fixed)
        abort();
    for (int k = 0; k < PE_STR_COUNT; k++) {
        const char *s = info.strings[k];
        const char *nul = memchr(s, '\0', PE_STR_MAX);
        if (nul == NULL)
            abort();
        size_t n = (size_t)(nul - s);
        if (!info.has_string[k] && n != 0)
            abort();
        if (!valid_utf8((const unsigned char *)s, n))
            abort();
    }
    return 0;
}
