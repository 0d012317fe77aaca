/*
 * textutil.h - small text helpers of the store: hex, UTF-8 validation.
 * Nothing here allocates.
 */
#ifndef TMI_TEXTUTIL_H
#define TMI_TEXTUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Lower-case hex of n bytes into out (at least 2n+1 bytes, NUL-terminated). */
void text_hex(const uint8_t *bytes, size_t n, char *out);

/* Parse exactly hexlen hex digits (either case) into hexlen/2 bytes.
 * TMI_OK or TMI_EINVAL (out may be partly written). */
int text_unhex(const char *hex, size_t hexlen, uint8_t *out);

/* Is s[0..n) well-formed UTF-8 (no overlong forms, surrogates, or code
 * points above U+10FFFF, no NUL)? */
int text_utf8_valid(const char *s, size_t n);

#endif
