/*
 * detect.h - find the TMI folder, read the files of the playbook's set,
 * judge them against the expected version, and look for a repair source.
 *
 * Input: a target (target.h: the playbook and the root folder standing for
 * the system drive). The TMI
 * folder is taken from (1) an explicit folder, (2) the registry value the
 * playbook names (Windows only, and only when scanning the real system root),
 * (3) the playbook's folder candidates under the root. Names are matched
 * case-insensitively at every level, as Windows does. Each file is read once
 * (bounded by playbook->max_file_size): size, mtime, SHA-256, PE fixed version.
 * A file that cannot be read is reported with a reason, never fatal.
 *
 * Two kinds of bad file, kept apart because a repair treats them apart:
 * unreadable - its bytes could not be read (permission, lock, I/O error, too
 * large), so it cannot be backed up and the repair is refused with the reason;
 * invalid - its bytes were read and hashed, but they are not a PE file with
 * a version resource (truncated, zeroed, garbage): backed up byte for byte
 * and replaced like an old file.
 *
 * Signatures: every present PE file's Authenticode signature is checked
 * (authenticode.h) against the playbook's trust store (the system's when it
 * names none). The playbook's policy (playbook_sig_policy) decides which
 * source folders may serve: a source is complete only when every file in it
 * is at the expected version and its signature is valid and from the
 * expected publisher (organization, and one of the pinned thumbprints when
 * the playbook pins any), or - when the playbook allows unsigned files - the
 * source file is unsigned and so is the file it would replace. A source file
 * whose signature is invalid is never accepted, whatever its version; the
 * one exception is scan_options.accept_untrusted_root, which accepts a
 * signature whose only fault is a root outside the trust store (never a
 * digest mismatch or another fault), and only from the expected publisher.
 * The verdict of the TMI folder itself stays the versions' alone: its files'
 * signatures are reported, not judged.
 *
 * Verdicts: not_installed (no TMI folder, or none of the files in it),
 * healthy (every file present at the expected version or newer), affected
 * (any file older, missing, invalid or unreadable). A newer file is never a
 * fault, and a repair that would downgrade one is refused.
 *
 * Ownership: scan_run() returns a heap object freed with scan_result_free().
 */
#ifndef TMI_DETECT_H
#define TMI_DETECT_H

#include <stddef.h>
#include <stdint.h>

#include "plat_sig.h"
#include "playbook.h"
#include "target.h"
#include "version.h"

typedef enum scan_verdict {
    SCAN_NOT_INSTALLED = 0,
    SCAN_HEALTHY = 1,
    SCAN_AFFECTED = 2,
} scan_verdict;

typedef enum file_status {
    FILE_OK = 0,     /* at the expected version */
    FILE_NEWER,      /* newer than expected: not a fault */
    FILE_OLD,        /* older than expected */
    FILE_MISSING,    /* not in the folder */
    FILE_UNREADABLE, /* present, but its bytes could not be read: blocks a repair */
    FILE_INVALID,    /* read and hashed, but not a PE file or no version resource */
} file_status;

typedef struct scan_file {
    char *name; /* the playbook's name, e.g. "mrf.exe" */
    char *path; /* full path as found (real letter case); expected path if missing */
    file_status status;
    int present; /* the file exists */
    uint64_t size;
    int64_t mtime_ns;
    int has_sha256;
    uint8_t sha256[32];
    int has_version; /* VS_FIXEDFILEINFO was read */
    tmi_version version;
    int known_bad; /* version is one of the playbook's known-bad ones */
    char *error;   /* why unreadable or invalid, or NULL */
    int has_sig;   /* sig holds the file's signature (a PE file was read and checked) */
    sig_result sig;
    int sig_override; /* a source file accepted through accept_untrusted_root */
} scan_file;

typedef struct scan_source {
    char *path;        /* the candidate folder */
    char *variant;     /* product variant from the playbook */
    int complete;      /* every file present, at exactly the expected version, and
                          signed as the playbook's policy asks */
    int untrusted;     /* incomplete because of a signature (reason says which file) */
    size_t n_override; /* files accepted through accept_untrusted_root */
    char *reason;      /* why incomplete, or NULL */
    scan_file *files;  /* n_files entries, same order as the playbook */
    size_t n_files;
} scan_source;

typedef struct scan_result {
    scan_verdict verdict;
    char *root;           /* as given */
    char *tmi_dir;        /* NULL when not found */
    char *tmi_dir_origin; /* "option", "registry" or "default"; NULL when not found */
    char *playbook_id;
    tmi_version expected_version;
    scan_file *files; /* n_files entries, playbook order; empty when no TMI folder */
    size_t n_files;
    scan_source *sources; /* every candidate folder examined */
    size_t n_sources;
    int repair_possible;
    int repair_source;   /* index into sources, or -1 */
    char *repair_reason; /* always set: why possible / why not */
    int64_t started_ns;  /* UTC, ns since the epoch */
    int64_t finished_ns;
    char *sig_error;           /* the trust store could not be used: no signature was checked
                                  and no source is complete; NULL otherwise */
    int accept_untrusted_root; /* the scan ran with that override */
} scan_result;

/*
 * Digests an earlier check computed, so that a signed file seen before is
 * not hashed a second time for its signature (the pass that makes most of
 * the check's cost). lookup: 1 with digest filled (sig_digest_size(alg)
 * bytes) when an earlier check reported that Authenticode image digest
 * under alg for a file whose SHA-256 is sha256; 0 when none did, or on any
 * error (the digest is then computed). Called on the scanning thread, after
 * it has hashed the file's bytes itself. The signature, the chain and the
 * trust are checked anew every time; only the digest is reused.
 *
 * Who may use it: the digests are only as trustworthy as where they are
 * kept (the store, in the data folder only administrators may write). A
 * scan that decides what is copied - a repair's - takes none.
 */
typedef struct scan_digest_cache {
    int (*lookup)(void *ctx, const uint8_t sha256[32], sig_digest_alg alg,
                  uint8_t digest[SIG_DIGEST_MAX]);
    void *ctx;
} scan_digest_cache;

typedef struct scan_options {
    int accept_untrusted_root;        /* see the file comment: an admin's explicit override */
    const scan_digest_cache *digests; /* NULL: every digest computed */
} scan_options;

/*
 * Run one scan. TMI_OK with *out set (caller frees), even when files are
 * unreadable. TMI_ENOENT / TMI_ENOTDIR when the root does not exist or is not
 * a folder; TMI_ENOMEM.
 *
 * Threads and memory: the scan reads and hashes the files on the calling
 * thread, and checks the signatures that take a pass over a file (its
 * Authenticode digest) on one thread of its own (workq.h), ended before
 * this returns. Each file is read once into memory (at most the playbook's
 * max_file_size), into one buffer that the two threads share (bufpool.h):
 * the next file is read once both are done with the bytes of this one; the
 * rest of a check holds a copy of the signature only.
 */
int scan_run(const tmi_target *t, scan_result **out);

/* scan_run with options (NULL: the defaults, as scan_run). */
int scan_run_opts(const tmi_target *t, const scan_options *opt, scan_result **out);

/* "complete", "incomplete" or "untrusted" (incomplete because of a signature). */
const char *scan_source_state(const scan_source *src);

void scan_result_free(scan_result *r);

const char *scan_verdict_name(scan_verdict v); /* "affected", "healthy", "not_installed" */
/* "ok", "newer", "old", "missing", "unreadable", "invalid" */
const char *file_status_name(file_status s);

#endif
