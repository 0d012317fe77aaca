/* hex.c - see hex.h. */
#include "hex.h"

#include "err.h"

char *hex_encode(const uint8_t *bytes, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 0x0f];
    }
    out[2 * n] = '\0';
    return out;
}

int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int hex_decode(const char *hex, size_t hexlen, uint8_t *out)
{
    if (hexlen % 2 != 0)
        return TMI_EINVAL;
    for (size_t i = 0; i < hexlen; i += 2) {
        int hi = hex_digit(hex[i]);
        int lo = hi < 0 ? -1 : hex_digit(hex[i + 1]);
        if (hi < 0 || lo < 0)
            return TMI_EINVAL;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    return TMI_OK;
}

int hex_is_lower(const char *s, size_t n)
{
    if (s == NULL)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    }
    return 1;
}
