/*
 * strutil.h - the small string helpers every module shares: heap copies,
 * printf-style formatting into a new string, the attribute that lets the
 * compiler check a printf-style format, and UTF-8 validation.
 *
 * Ownership: every string returned is new heap memory, the caller's to
 * free(); NULL means out of memory. Inputs are not kept.
 */
#ifndef TMI_STRUTIL_H
#define TMI_STRUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Mark a function as taking a printf format at argument fmt, its values
 * from argument args on. mingw builds use the C99 printf
 * (__USE_MINGW_ANSI_STDIO), checked as gnu_printf, not as msvcrt's. */
#if defined(__MINGW32__)
#define TMI_PRINTF(fmt, args) __attribute__((format(gnu_printf, fmt, args)))
#elif defined(__GNUC__)
#define TMI_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define TMI_PRINTF(fmt, args)
#endif

/* A copy of s (which must not be NULL). */
char *str_dup(const char *s);

/* The formatted text as a new string, cut at STR_PRINTF_MAX - 1 bytes. */
#define STR_PRINTF_MAX 2048
char *str_printf(const char *fmt, ...) TMI_PRINTF(1, 2);

/* Is s[0..n) well-formed UTF-8 (no overlong forms, surrogates, or code
 * points above U+10FFFF, no NUL)? 1 or 0. */
int str_utf8_valid(const char *s, size_t n);

/* Code point cp (at most U+10FFFF; the caller maps surrogates to U+FFFD)
 * as UTF-8 into out; returns its length in bytes (1..4). */
size_t str_utf8_encode(uint32_t cp, char out[4]);

/* Are a and b the same in their first n bytes, ASCII letters compared
 * without regard to case? Stops early, equal, at a NUL both share. 1 or 0. */
int str_ascii_ieq(const char *a, const char *b, size_t n);

/* A growing text or byte buffer. Zero-initialise it and set ok = 1;
 * str_buf_add() appends n bytes and keeps p NUL-terminated (the NUL is not
 * counted in len). On allocation failure the buffer stops growing and
 * remembers it (ok = 0), so a writer checks once at the end. The caller
 * owns p and frees it. */
typedef struct str_buf {
    char *p;
    size_t len, cap;
    int ok;
} str_buf;

void str_buf_add(str_buf *b, const void *data, size_t n);

#endif
