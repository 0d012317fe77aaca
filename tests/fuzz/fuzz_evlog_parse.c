/* fuzz_evlog_parse.c - EVENTLOGRECORD buffers as ReadEventLogW returns them
 * (core/plat/evlog_parse.h), read as the Win32 backend walks them: record
 * after record until one does not parse. The first byte picks how much of
 * the input is a message template (the provider's text) rather than the
 * buffer. Contracts: a record lies within the buffer and advances the walk;
 * its strings are within its text and NUL-terminated; a message fits its
 * buffer and is valid as C text. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "evlog_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_record(const evlog_record *e, size_t left, const char *tmpl)
{
    char msg[1024];
    int rc;
    if (e->length < EVLOG_FIXED_LEN || e->length > left || e->n_strings > EVLOG_STRINGS_MAX)
        __builtin_trap();
    if (memchr(e->source, 0, sizeof(e->source)) == NULL ||
        memchr(e->computer, 0, sizeof(e->computer)) == NULL)
        __builtin_trap();
    for (size_t i = 0; i < e->n_strings; i++) {
        const char *s = e->strings[i];
        if (s < e->text || s >= e->text + sizeof(e->text) ||
            memchr(s, 0, (size_t)(e->text + sizeof(e->text) - s)) == NULL)
            __builtin_trap();
    }
    rc = evlog_message(e, tmpl, msg, sizeof(msg));
    if ((rc != TMI_OK && rc != TMI_ETOOBIG) || strlen(msg) >= sizeof(msg))
        __builtin_trap();
    rc = evlog_message(e, NULL, msg, 7);
    if ((rc != TMI_OK && rc != TMI_ETOOBIG) || strlen(msg) >= 7)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    evlog_record *e;
    char *tmpl = NULL;
    size_t tlen, off = 0;
    if (size < 1)
        return 0;
    tlen = data[0] < size - 1 ? data[0] : size - 1;
    if (tlen > 0) {
        tmpl = malloc(tlen + 1);
        if (tmpl == NULL)
            return 0;
        memcpy(tmpl, data + 1, tlen);
        tmpl[tlen] = '\0';
    }
    data += 1 + tlen;
    size -= 1 + tlen;
    e = malloc(sizeof(*e));
    while (e != NULL && off < size && evlog_parse(data + off, size - off, e) == TMI_OK) {
        check_record(e, size - off, tmpl);
        off += e->length;
    }
    free(e);
    free(tmpl);
    return 0;
}
