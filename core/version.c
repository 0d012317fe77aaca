/* version.c - parse, format and compare four-part file versions. */
#include "version.h"

#include <stdio.h>

#include "err.h"

int version_parse(const char *s, tmi_version *out)
{
    tmi_version v = {{0, 0, 0, 0}};
    if (s == NULL || out == NULL)
        return TMI_EINVAL;
    for (int i = 0; i < 4; i++) {
        uint32_t n = 0;
        int digits = 0;
        while (*s >= '0' && *s <= '9') {
            if (digits == 5)
                return TMI_EINVAL;
            n = n * 10 + (uint32_t)(*s - '0');
            digits++;
            s++;
        }
        if (digits == 0 || n > 0xFFFF)
            return TMI_EINVAL;
        v.part[i] = (uint16_t)n;
        if (i < 3) {
            if (*s != '.')
                return TMI_EINVAL;
            s++;
        }
    }
    if (*s != '\0')
        return TMI_EINVAL;
    *out = v;
    return TMI_OK;
}

tmi_version version_from_ms_ls(uint32_t ms, uint32_t ls)
{
    tmi_version v;
    v.part[0] = (uint16_t)(ms >> 16);
    v.part[1] = (uint16_t)(ms & 0xFFFF);
    v.part[2] = (uint16_t)(ls >> 16);
    v.part[3] = (uint16_t)(ls & 0xFFFF);
    return v;
}

char *version_format(const tmi_version *v, char *buf, size_t buflen)
{
    if (buflen == 0)
        return buf;
    snprintf(buf, buflen, "%u.%u.%u.%u", (unsigned)v->part[0], (unsigned)v->part[1],
             (unsigned)v->part[2], (unsigned)v->part[3]);
    return buf;
}

int version_compare(const tmi_version *a, const tmi_version *b)
{
    for (int i = 0; i < 4; i++) {
        if (a->part[i] != b->part[i])
            return a->part[i] < b->part[i] ? -1 : 1;
    }
    return 0;
}
