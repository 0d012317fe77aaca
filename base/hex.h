/*
 * hex.h - hexadecimal text of bytes, the one implementation every layer uses
 * (hashes, tokens, session ids, percent-escapes). Nothing here allocates.
 */
#ifndef TMI_HEX_H
#define TMI_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Lower-case hex of n bytes into out (at least 2n + 1 bytes, NUL-terminated).
 * Returns out, so a call can stand inside an expression. */
char *hex_encode(const uint8_t *bytes, size_t n, char *out);

/* The value 0..15 of one hex digit (either case), or -1 for anything else. */
int hex_digit(char c);

/* Parse exactly hexlen hex digits (either case) into hexlen / 2 bytes.
 * TMI_OK, or TMI_EINVAL for an odd length or a non-digit (out may then be
 * partly written). hex may be NULL only when hexlen is 0. */
int hex_decode(const char *hex, size_t hexlen, uint8_t *out);

/* Are the first n bytes of s all lower-case hex digits? 0 when s is NULL or
 * shorter than n (a NUL is not a digit). Looks at no byte past s[n]. */
int hex_is_lower(const char *s, size_t n);

#endif
