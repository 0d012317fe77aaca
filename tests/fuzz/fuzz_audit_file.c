/*
 * fuzz_audit_file.c - the offline check of an exported audit trail
 * (db/audit_file.h): the auditor is handed the file, and it is read without
 * trusting it. Besides the sanitizers' checks it asserts the contract: the
 * check runs or refuses with a reason; an intact result has no break and a
 * break names a row from 1 on; rows counted never exceed the cap given.
 * The first input byte chooses whether an expected head is given.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit_file.h"
#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MUST(cond)                                                                                 \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

#define FUZZ_MAX_ROWS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    audit_file_report rep;
    audit_head head;
    int rc;
    if (size == 0)
        return 0;
    memset(&head, 0, sizeof(head));
    head.seq = data[0] & 7;
    memset(head.hash, data[0], sizeof(head.hash));
    rc = audit_file_verify((const char *)data + 1, size - 1, (data[0] & 8) ? &head : NULL,
                           FUZZ_MAX_ROWS, &rep);
    MUST(rc == TMI_OK || rc == TMI_EFORMAT || rc == TMI_ETOOBIG || rc == TMI_ENOMEM);
    MUST(memchr(rep.detail, '\0', sizeof(rep.detail)) != NULL);
    MUST(rep.rows >= 0 && rep.rows <= FUZZ_MAX_ROWS);
    if (rc != TMI_OK)
        return 0;
    if (rep.intact)
        MUST(rep.why == AUDIT_INTACT && rep.broken_seq == 0);
    else
        MUST(rep.why != AUDIT_INTACT && rep.broken_seq >= 1);
    return 0;
}
