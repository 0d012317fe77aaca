/*
 * pe_resource_tool.c - `pe-resource`, a command-line front end to
 * pe_resource_find() for the tests: it copies one resource of a PE file
 * (the first name, first language of a type) to stdout, as bytes.
 *
 *   pe-resource FILE TYPE_ID      e.g. pe-resource tmi-console.exe 24
 *
 * The Windows stage reads the application manifest (RT_MANIFEST, 24) of the
 * shipped tmi-console.exe with it. The file is read up to 256 MiB.
 * Exit status: 0 written, 1 no resource of that type, 2 usage, unreadable
 * file or malformed PE (the reader's message on stderr).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "pe_version.h"
#include "plat.h"

#define MAX_FILE ((size_t)256 * 1024 * 1024)

int main(int argc, char **argv)
{
    pe_resource res;
    uint8_t *buf = NULL;
    size_t len = 0;
    char *end = NULL;
    unsigned long type;
    int rc, status = 2;
    if (argc != 3 || argv[2][0] < '0' || argv[2][0] > '9') {
        fprintf(stderr, "usage: pe-resource FILE TYPE_ID\n");
        return 2;
    }
    errno = 0;
    type = strtoul(argv[2], &end, 10);
    if (errno != 0 || *end != '\0' || type > 0xFFFF) {
        fprintf(stderr, "pe-resource: bad TYPE_ID '%s' (0..65535)\n", argv[2]);
        return 2;
    }
    rc = plat.read_file(argv[1], MAX_FILE, &buf, &len);
    if (rc != TMI_OK) {
        fprintf(stderr, "pe-resource: cannot read %s: %s\n", argv[1], tmi_strerror(rc));
        return 2;
    }
    rc = pe_resource_find(buf, len, (uint16_t)type, &res);
    if (rc == TMI_ENOENT) {
        fprintf(stderr, "pe-resource: %s has no resource of type %lu\n", argv[1], type);
        status = 1;
    } else if (rc != TMI_OK) {
        fprintf(stderr, "pe-resource: %s: %s\n", argv[1], res.error);
    } else {
        plat_stdout_binary();
        if (fwrite(buf + res.offset, 1, res.size, stdout) == res.size && fflush(stdout) == 0)
            status = 0;
        else
            fprintf(stderr, "pe-resource: cannot write to stdout\n");
    }
    free(buf);
    return status;
}
