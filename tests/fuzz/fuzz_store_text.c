/*
 * fuzz_store_text.c - the store's parsers of text that comes from users:
 * times (--since/--until and the API's since/until, db/timefmt.h) and chain
 * heads (--head SEQ:HASH, db/audit.h). Besides the sanitizers' checks it
 * asserts their contracts: an accepted time is not before 1970 and formats
 * back to a time that parses to the same instant; an accepted head has a
 * positive seq and formats back to text that parses to the same head.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "err.h"
#include "scan_json.h"
#include "timefmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MUST(cond)                                                                                 \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[256], err[128], back[100];
    int64_t ns = 0, again = 0;
    audit_head h;
    if (size >= sizeof(text))
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    err[0] = '\0';
    if (time_parse(text, &ns, err, sizeof(err)) == TMI_OK) {
        MUST(ns >= 0);
        MUST(time_format_utc(ns, back, sizeof(back)) != NULL);
        MUST(time_parse(back, &again, err, sizeof(err)) == TMI_OK);
        /* format_utc keeps milliseconds: the same instant to the millisecond */
        MUST(again / 1000000 == ns / 1000000);
    } else {
        MUST(err[0] != '\0' && memchr(err, '\0', sizeof(err)) != NULL);
    }

    if (audit_head_parse(text, &h) == TMI_OK) {
        audit_head h2;
        MUST(h.seq > 0);
        audit_head_format(&h, back, sizeof(back));
        MUST(audit_head_parse(back, &h2) == TMI_OK);
        MUST(h2.seq == h.seq && memcmp(h2.hash, h.hash, 32) == 0);
    }
    return 0;
}
