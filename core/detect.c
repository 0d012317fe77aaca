/*
 * detect.c - the scan: locate the TMI folder, examine the playbook's files
 * there and in every candidate source folder, and reach a verdict with a
 * repair plan (see detect.h for the rules).
 */
#include "detect.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authenticode.h"
#include "bufpool.h"
#include "err.h"
#include "hex.h"
#include "pathutil.h"
#include "pe_version.h"
#include "plat.h"
#include "strutil.h"
#include "workq.h"

const char *scan_verdict_name(scan_verdict v)
{
    switch (v) {
    case SCAN_HEALTHY:
        return "healthy";
    case SCAN_AFFECTED:
        return "affected";
    case SCAN_NOT_INSTALLED:
    default:
        return "not_installed";
    }
}

const char *file_status_name(file_status s)
{
    switch (s) {
    case FILE_OK:
        return "ok";
    case FILE_NEWER:
        return "newer";
    case FILE_OLD:
        return "old";
    case FILE_MISSING:
        return "missing";
    case FILE_INVALID:
        return "invalid";
    case FILE_UNREADABLE:
    default:
        return "unreadable";
    }
}

static void file_release(scan_file *f)
{
    free(f->name);
    free(f->path);
    free(f->error);
}

void scan_result_free(scan_result *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n_files; i++)
        file_release(&r->files[i]);
    free(r->files);
    for (size_t s = 0; s < r->n_sources; s++) {
        scan_source *src = &r->sources[s];
        for (size_t i = 0; i < src->n_files; i++)
            file_release(&src->files[i]);
        free(src->files);
        free(src->path);
        free(src->variant);
        free(src->reason);
    }
    free(r->sources);
    free(r->root);
    free(r->tmi_dir);
    free(r->tmi_dir_origin);
    free(r->playbook_id);
    free(r->repair_reason);
    free(r->sig_error);
    free(r);
}

/* The system's trust store, opened at the first signed file: most scans
 * meet none (the demo's files, a server whose files are unsigned), and
 * reading the system's roots costs more than hashing the whole set. Only
 * one signature check runs at a time (read_bytes joins it), so no lock. */
typedef struct lazy_trust {
    int pending; /* 1: not opened yet */
    int rc;      /* the open's result once tried */
} lazy_trust;

/* The thread that checks the signatures needing a pass over the bytes,
 * started for the first such file (a scan of unsigned files, or of files
 * whose digests are all known, never starts it). */
typedef struct sig_queue {
    workq *q; /* NULL: not started, or no thread could be made (checked inline) */
    int tried;
} sig_queue;

/* What every file of one scan is examined with. */
typedef struct scan_ctx {
    const playbook *pb;
    const scan_options *opt;
    const char *trust_pem;       /* the playbook's trust store; NULL: the system's */
    plat_sig_trust *trust;       /* it, loaded once for the whole scan (NULL on Windows) */
    int check_sigs;              /* 0 when the trust store cannot be used */
    lazy_trust *lazy;            /* the system's store, opened when first needed */
    plat_sig_trust **trust_slot; /* where the lazy open puts it (&trust) */
    sig_queue *sigq;             /* the signature checks' thread */
    bufpool *bufs;               /* the files' read buffers, shared with that thread
                                    (NULL: a new one per file) */
} scan_ctx;

/* The bytes the unfinished signature checks may hold together (a single
 * larger file is checked alone). With one buffer for the files (below) the
 * queue holds at most one job with bytes; its other jobs hold a signature
 * each. A bound all the same. */
#define SIG_QUEUE_BYTES ((size_t)32 * 1024 * 1024)

/* The files' read buffer (bufpool.h): one, filled with the next file once
 * the scanning thread and the signature check's pass are both done with it
 * (the two passes run side by side over the same bytes). A second buffer
 * would let the scanning thread read ahead, but memory the process has not
 * touched before costs more than the wait (measured on sixteen 1 MiB
 * files, the check added 40% to the scan with a new buffer per file, 15 to
 * 20% with two buffers, 10 to 13% with one). Not kept over 8 MiB, so that
 * one large file does not stay held for the rest of the scan. */
#define SCAN_BUFS_KEPT 1
#define SCAN_BUFS_OUT  1
#define SCAN_BUF_MAX   ((size_t)8 * 1024 * 1024)

const char *scan_source_state(const scan_source *src)
{
    return src->complete ? "complete" : (src->untrusted ? "untrusted" : "incomplete");
}

/* Record why f is unreadable or invalid; msg is a new string (NULL when out
 * of memory). */
static int set_error(scan_file *f, char *msg)
{
    f->error = msg;
    return msg == NULL ? TMI_ENOMEM : TMI_OK;
}

/* What the signature check of a file takes. */
typedef enum sig_work {
    SIG_WORK_NONE,    /* decided from the headers at once: not a PE file, a
                         malformed certificate table, or no signature where
                         there are no catalogs */
    SIG_WORK_DIGEST,  /* an embedded signature: a pass for its digest, then
                         the signature and the chain */
    SIG_WORK_CATALOG, /* no signature, but the system's catalogs to search
                         (which hashes the file too) */
} sig_work;

static sig_work sig_work_of(const uint8_t *buf, size_t len, sig_digest_alg *alg)
{
    ac_embedded emb;
    int found = 0;
    sig_reason reason;
    const char *error = NULL;
    if (ac_parse(buf, len, &emb, &found, &reason, &error) != TMI_OK)
        return SIG_WORK_NONE;
    if (found) {
        *alg = emb.alg;
        return SIG_WORK_DIGEST;
    }
    return plat_sig_has_catalogs() ? SIG_WORK_CATALOG : SIG_WORK_NONE;
}

/* f->sig is final, rc being the check's result: an error leaves the
 * signature unknown; a file that is not a PE image is unsigned. */
static void sig_done(scan_file *f, int rc)
{
    f->has_sig = rc == TMI_OK || rc == TMI_EFORMAT;
}

static void hash_file(scan_file *f, const uint8_t *buf, size_t len)
{
    if (plat_sha256(buf, len, f->sha256) == TMI_OK)
        f->has_sha256 = 1;
}

/* The signature check of one file, on the scan's signature thread. The
 * file's bytes are shared with the scanning thread, which hashes them and
 * reads the version meanwhile; the check's first half (authenticode_begin:
 * the digest pass, the signature copied out) needs them, its second half
 * (authenticode_end: the signature and the chain) does not. Whichever of
 * the two threads is done with the bytes last gives the buffer back (to be
 * filled with the next file), whichever is done with the job last frees
 * it. */
typedef struct sig_job {
    workq_job base;
    const scan_ctx *sc;
    scan_file *f; /* only f->sig and f->has_sig are written here */
    plat_buf buf; /* the file's bytes, [0..len) */
    size_t len;
    atomic_int buf_refs; /* the bytes: the scanning thread and the first half */
    atomic_int refs;     /* the job: the scanning thread and the check */
    sig_work work;       /* SIG_WORK_DIGEST or SIG_WORK_CATALOG */
    sig_digest_alg alg;  /* the signature's digest algorithm (SIG_WORK_DIGEST) */
    int known;           /* digest below is an earlier check's (scan_digest_cache) */
    uint8_t digest[SIG_DIGEST_MAX];
} sig_job;

static void sig_job_drop_bytes(sig_job *j)
{
    if (atomic_fetch_sub(&j->buf_refs, 1) == 1)
        bufpool_give(j->sc->bufs, &j->buf);
}

static void sig_job_release(sig_job *j)
{
    if (atomic_fetch_sub(&j->refs, 1) == 1)
        free(j);
}

/* Run on the signature thread, or on the scanning thread (a known digest,
 * once the signature thread has drained; or when no thread could be made):
 * one thread at a time uses the trust store and opens the lazy one (for the
 * first signed file), so no lock is needed around them. */
static void sig_job_run(workq_job *base)
{
    sig_job *j = (sig_job *)base;
    const scan_ctx *sc = j->sc;
    ac_options ao = {sc->trust_pem, 0, 0, NULL, NULL, SIG_ALG_NONE};
    ac_pending *p = NULL;
    if (j->known) {
        ao.known_digest = j->digest;
        ao.known_alg = j->alg;
    }
    int rc = authenticode_begin(j->buf.data, j->len, &ao, &j->f->sig, &p);
    sig_job_drop_bytes(j); /* the rest is done from the copy, or the path */
    if (rc == TMI_OK && p != NULL) {
        if (j->work == SIG_WORK_DIGEST && sc->lazy != NULL && sc->lazy->pending) {
            sc->lazy->pending = 0;
            sc->lazy->rc = plat_sig_trust_open(NULL, sc->trust_slot);
        }
        ao.trust = *sc->trust_slot;
        rc = authenticode_end(p, j->f->path, &ao, &j->f->sig);
    }
    sig_done(j->f, rc);
    sig_job_release(j);
}

/* Check job: here, when the cache knows its digest (no pass left to
 * overlap: measured, a thread for the signature and chain alone cost more
 * CPU time than it saved), once the signature thread (which shares the
 * trust store) has finished what it had; else on that thread, started for
 * the first such job (when no thread can be made, here too). */
static void sig_job_queue(const scan_ctx *sc, sig_job *job)
{
    const scan_digest_cache *cache = sc->opt->digests;
    if (job->work == SIG_WORK_DIGEST && cache != NULL) {
        hash_file(job->f, job->buf.data, job->len); /* the cache's key */
        job->known = job->f->has_sha256 &&
                     cache->lookup(cache->ctx, job->f->sha256, job->alg, job->digest) == 1;
    }
    if (job->known) {
        workq_drain(sc->sigq->q);
        workq_submit(NULL, &job->base, job->len);
        return;
    }
    if (!sc->sigq->tried) {
        sc->sigq->tried = 1;
        (void)workq_start(SIG_QUEUE_BYTES, &sc->sigq->q); /* failed: q stays NULL */
    }
    workq_submit(sc->sigq->q, &job->base, job->len);
}

/* Hash the file's bytes, buf->data[0..len) (buf, which this takes over and
 * gives back to the scan's pool), read its version (pe_version_read's
 * result, TMI_ENOMEM when no job can be made for the signature check) and
 * check its signature: at once when the headers decide it, else through
 * sig_job_queue, whose thread runs it while this thread goes on; f->sig and
 * f->has_sig are then set only once the queue is drained (scan_run_opts). */
static int read_bytes(const scan_ctx *sc, scan_file *f, plat_buf *buf, size_t len,
                      pe_version_info *info)
{
    sig_job *job = NULL;
    sig_digest_alg alg = SIG_ALG_NONE;
    const uint8_t *bytes = buf->data;
    sig_work work = sc->check_sigs ? sig_work_of(bytes, len, &alg) : SIG_WORK_NONE;
    if (sc->check_sigs && work == SIG_WORK_NONE) {
        ac_options ao = {sc->trust_pem, 0, 0, NULL, NULL, SIG_ALG_NONE}; /* no store needed */
        sig_done(f, authenticode_check(f->path, bytes, len, &ao, &f->sig));
    } else if (sc->check_sigs) {
        job = calloc(1, sizeof(*job));
        if (job == NULL) {
            bufpool_give(sc->bufs, buf);
            return TMI_ENOMEM;
        }
        job->base.run = sig_job_run;
        job->sc = sc;
        job->f = f;
        job->buf = *buf; /* the job's now: given back through it */
        job->len = len;
        atomic_init(&job->buf_refs, 2);
        atomic_init(&job->refs, 2);
        job->work = work;
        job->alg = alg;
        sig_job_queue(sc, job);
    }
    if (!f->has_sha256) /* sig_job_queue may have hashed it */
        hash_file(f, bytes, len);
    int rc = pe_version_read(bytes, len, info);
    if (job != NULL) {
        sig_job_drop_bytes(job);
        sig_job_release(job);
    } else {
        bufpool_give(sc->bufs, buf);
    }
    return rc;
}

/* Read, hash and judge the file at f->path, which exists. Only TMI_ENOMEM is
 * returned as an error. */
static int examine_present(const scan_ctx *sc, scan_file *f)
{
    const playbook *pb = sc->pb;
    plat_buf buf;
    size_t len = 0;
    plat_stat st;
    pe_version_info info;
    int rc = plat.stat(f->path, &st);
    f->status = FILE_UNREADABLE;
    /* a link is never hashed, copied or written through: what it points to
     * is not the file the playbook names */
    if (rc == TMI_OK && st.is_link)
        return set_error(f, str_dup(tmi_strerror(TMI_ELINK)));
    if (rc == TMI_OK) {
        f->size = st.size;
        f->mtime_ns = st.mtime_ns;
        if (st.is_dir)
            return set_error(f, str_dup("is a folder, not a file"));
    }
    bufpool_take(sc->bufs, &buf);
    rc = plat.read_file_nofollow_buf(f->path, pb->max_file_size, &buf, &len);
    if (rc != TMI_OK)
        bufpool_give(sc->bufs, &buf);
    if (rc == TMI_ENOMEM)
        return rc;
    if (rc == TMI_ELINK) { /* became one since the stat */
        f->size = 0;
        f->mtime_ns = 0;
        return set_error(f, str_dup(tmi_strerror(TMI_ELINK)));
    }
    if (rc == TMI_ETOOBIG)
        return set_error(f, str_printf("larger than the %zu-byte limit", pb->max_file_size));
    if (rc != TMI_OK)
        return set_error(f, str_printf("cannot read: %s", tmi_strerror(rc)));
    f->size = len;
    rc = read_bytes(sc, f, &buf, len, &info);
    if (rc == TMI_ENOMEM)
        return rc;
    if (rc != TMI_OK || !info.has_fixed) {
        /* the bytes are there (and hashed): damaged, not unreadable */
        f->status = FILE_INVALID;
        return set_error(f, str_dup(rc != TMI_OK ? (info.error ? info.error : "not a PE file")
                                                 : "no version resource"));
    }
    f->has_version = 1;
    f->version = info.file_version;
    f->known_bad = playbook_is_known_bad(pb, &f->version);
    int cmp = version_compare(&f->version, &pb->expected_version);
    f->status = cmp < 0 ? FILE_OLD : (cmp == 0 ? FILE_OK : FILE_NEWER);
    return TMI_OK;
}

/* Examine one file of the set in folder dir. Only TMI_ENOMEM is returned as
 * an error; anything wrong with the file itself is recorded in *f. */
static int examine_file(const scan_ctx *sc, const char *dir, const char *name, scan_file *f)
{
    char path[PLAT_PATH_MAX];
    int rc;

    memset(f, 0, sizeof(*f));
    f->name = str_dup(name);
    if (f->name == NULL)
        return TMI_ENOMEM;
    rc = path_find_ci(dir, name, path, sizeof(path));
    if (rc != TMI_OK && path_join(path, sizeof(path), dir, name) != TMI_OK)
        path[0] = '\0';
    f->path = str_dup(path);
    if (f->path == NULL)
        return TMI_ENOMEM;
    if (rc == TMI_ENOENT) {
        f->status = FILE_MISSING;
        return TMI_OK;
    }
    if (rc != TMI_OK) { /* the folder itself could not be listed */
        f->status = FILE_UNREADABLE;
        return set_error(f, str_printf("cannot list folder: %s", tmi_strerror(rc)));
    }
    f->present = 1;
    return examine_present(sc, f);
}

static int examine_set(const scan_ctx *sc, const char *dir, scan_file **files, size_t *n)
{
    const playbook *pb = sc->pb;
    int rc = TMI_OK;
    *files = calloc(pb->n_files, sizeof(**files));
    *n = 0;
    if (*files == NULL)
        return TMI_ENOMEM;
    for (size_t i = 0; i < pb->n_files && rc == TMI_OK; i++) {
        rc = examine_file(sc, dir, pb->files[i], &(*files)[i]);
        (*n)++;
    }
    return rc;
}

/* A signature's fault in words: "digest_mismatch: the file changed ...". */
static char *sig_fault(const scan_file *f)
{
    const char *why = sig_reason_name(f->sig.reason);
    return str_printf("%s has an invalid signature (%s%s%s)", f->name, why ? why : "invalid",
                      f->sig.detail[0] ? ": " : "", f->sig.detail);
}

/* Is the source file s's signature invalid in a way no policy accepts? */
static int sig_refused(const scan_ctx *sc, const scan_file *s)
{
    if (!s->has_sig || s->sig.status != SIG_INVALID)
        return 0;
    return !(sc->opt->accept_untrusted_root && s->sig.reason == SIG_REASON_UNTRUSTED_ROOT);
}

/* Does the valid (or overridden) signature of s come from the expected
 * publisher? NULL, or why not. */
static char *publisher_problem(const playbook_sig_policy *sp, const scan_file *s)
{
    char hex[65];
    int pinned = sp->n_thumbprints == 0;
    if (sp->signer_org != NULL && strcmp(s->sig.signer_o, sp->signer_org) != 0)
        return str_printf("%s is signed by \"%s\" (%s), not by the expected publisher \"%s\"",
                          s->name, s->sig.signer_o[0] ? s->sig.signer_o : "no organization",
                          s->sig.signer_cn[0] ? s->sig.signer_cn : "no common name",
                          sp->signer_org);
    for (size_t k = 0; k < sp->n_thumbprints; k++)
        pinned |= memcmp(sp->thumbprints[k], s->sig.thumb_sha256, 32) == 0;
    if (!pinned)
        return str_printf("%s is signed with a certificate (SHA-256 %s) that is not one of the "
                          "playbook's thumbprints",
                          s->name, hex_encode(s->sig.thumb_sha256, 32, hex));
    return NULL;
}

/* Why the source file s may not replace t (the TMI folder's file, may be
 * NULL) under the signature policy, or NULL. Sets s->sig_override when the
 * admin's override is what accepts it. */
static char *sig_policy_problem(const scan_ctx *sc, scan_file *s, const scan_file *t)
{
    const playbook_sig_policy *sp = &sc->pb->sig;
    if (!s->has_sig)
        return str_printf("the signature of %s could not be checked", s->name);
    if (s->sig.status == SIG_UNSIGNED) {
        if (!sp->allow_unsigned)
            return str_printf("%s is not signed, and the playbook accepts signed files only",
                              s->name);
        if (t != NULL && t->has_sig && t->sig.status != SIG_UNSIGNED)
            return str_printf("%s is not signed, but the file it would replace is", s->name);
        if (t != NULL && t->present && !t->has_sig)
            return str_printf("%s is not signed, and the signature of the file it would replace "
                              "could not be checked",
                              s->name);
        return NULL;
    }
    char *why = publisher_problem(sp, s);
    if (why == NULL && s->sig.status == SIG_INVALID)
        s->sig_override = 1; /* untrusted_root only: sig_refused let the rest through */
    return why;
}

/* Why a candidate source folder cannot serve as the repair source, or NULL.
 * An invalid signature is named first, whatever else is wrong; then the
 * versions; then the publisher. */
static char *source_problem(const scan_ctx *sc, const scan_result *r, scan_source *src)
{
    const playbook *pb = sc->pb;
    char want[TMI_VERSION_STRLEN], got[TMI_VERSION_STRLEN];
    version_format(&pb->expected_version, want, sizeof(want));
    src->untrusted = 1;
    if (sc->check_sigs == 0)
        return str_printf("signatures cannot be checked: %s", r->sig_error);
    for (size_t i = 0; i < src->n_files; i++) {
        if (sig_refused(sc, &src->files[i]))
            return sig_fault(&src->files[i]);
    }
    src->untrusted = 0;
    for (size_t i = 0; i < src->n_files; i++) {
        const scan_file *f = &src->files[i];
        switch (f->status) {
        case FILE_OK:
            break;
        case FILE_MISSING:
            return str_printf("%s is missing", f->name);
        case FILE_UNREADABLE:
        case FILE_INVALID:
            return str_printf("%s cannot be used: %s", f->name,
                              f->error ? f->error : file_status_name(f->status));
        case FILE_OLD:
        case FILE_NEWER:
        default:
            return str_printf("%s is %s, not %s", f->name,
                              version_format(&f->version, got, sizeof(got)), want);
        }
    }
    for (size_t i = 0; i < src->n_files; i++) {
        char *why = sig_policy_problem(sc, &src->files[i], i < r->n_files ? &r->files[i] : NULL);
        if (why != NULL) {
            src->untrusted = 1;
            return why;
        }
        src->n_override += src->files[i].sig_override;
    }
    return NULL;
}

static int add_source(const scan_ctx *sc, scan_result *r, const char *path, const char *variant)
{
    scan_source *grown;
    scan_source *src;
    for (size_t i = 0; i < r->n_sources; i++) {
        if (strcmp(r->sources[i].path, path) == 0)
            return TMI_OK; /* matched by an earlier glob */
    }
    grown = realloc(r->sources, (r->n_sources + 1) * sizeof(*grown));
    if (grown == NULL)
        return TMI_ENOMEM;
    r->sources = grown;
    src = &r->sources[r->n_sources++];
    memset(src, 0, sizeof(*src));
    src->path = str_dup(path);
    src->variant = str_dup(variant);
    if (src->path == NULL || src->variant == NULL)
        return TMI_ENOMEM;
    return examine_set(sc, path, &src->files, &src->n_files);
}

/* Judge every examined source, once their signatures are checked. */
static void judge_sources(const scan_ctx *sc, scan_result *r)
{
    for (size_t s = 0; s < r->n_sources; s++) {
        scan_source *src = &r->sources[s];
        src->reason = source_problem(sc, r, src);
        src->complete = src->reason == NULL;
        if (!src->complete) {
            src->n_override = 0;
            for (size_t i = 0; i < src->n_files; i++)
                src->files[i].sig_override = 0;
        }
    }
}

static int find_sources(const scan_ctx *sc, scan_result *r)
{
    const playbook *pb = sc->pb;
    for (size_t g = 0; g < pb->n_sources; g++) {
        char **dirs = NULL;
        size_t n = 0;
        int rc = path_glob_dirs(r->tmi_dir, pb->sources[g].glob, &dirs, &n);
        if (rc == TMI_ENOMEM)
            return rc;
        if (rc != TMI_OK)
            continue; /* too many matches or an unreadable folder: no candidates */
        for (size_t i = 0; i < n && rc == TMI_OK; i++)
            rc = add_source(sc, r, dirs[i], pb->sources[g].variant);
        path_list_free(dirs, n);
        if (rc != TMI_OK)
            return rc;
    }
    return TMI_OK;
}

static int is_dir(const char *path)
{
    plat_stat st;
    return plat.stat(path, &st) == TMI_OK && st.is_dir;
}

/* Fill r->tmi_dir and r->tmi_dir_origin, or leave them NULL. */
static int locate_tmi(const tmi_target *t, scan_result *r)
{
    const playbook *pb = t->pb;
    char path[PLAT_PATH_MAX];
    const char *origin = NULL;
    if (tmi_target_tmi_dir(t) != NULL) {
        if (!is_dir(t->tmi_dir))
            return TMI_ENOENT;
        snprintf(path, sizeof(path), "%s", t->tmi_dir);
        origin = "option";
    }
    if (origin == NULL && t->use_registry && pb->registry_key != NULL &&
        pb->registry_value != NULL &&
        plat_registry_string(pb->registry_key, pb->registry_value, path, sizeof(path)) == TMI_OK &&
        is_dir(path)) {
        origin = "registry";
    }
    for (size_t i = 0; origin == NULL && i < pb->n_tmi_folders; i++) {
        if (path_resolve_ci(t->root, pb->tmi_folders[i], path, sizeof(path)) == TMI_OK &&
            is_dir(path))
            origin = "default";
    }
    if (origin == NULL)
        return TMI_OK;
    r->tmi_dir = str_dup(path);
    r->tmi_dir_origin = str_dup(origin);
    return (r->tmi_dir == NULL || r->tmi_dir_origin == NULL) ? TMI_ENOMEM : TMI_OK;
}

/* Set verdict, repair_possible, repair_source and repair_reason. */
static int judge(const playbook *pb, scan_result *r)
{
    char want[TMI_VERSION_STRLEN], got[TMI_VERSION_STRLEN];
    size_t n_present = 0, n_bad = 0;
    const scan_file *newer = NULL, *unreadable = NULL;
    version_format(&pb->expected_version, want, sizeof(want));
    r->repair_source = -1;
    if (r->tmi_dir == NULL) {
        r->verdict = SCAN_NOT_INSTALLED;
        r->repair_reason = str_printf("no TMI folder found under %s", r->root);
        return r->repair_reason == NULL ? TMI_ENOMEM : TMI_OK;
    }
    for (size_t i = 0; i < r->n_files; i++) {
        const scan_file *f = &r->files[i];
        n_present += f->present;
        if (f->status == FILE_OLD || f->status == FILE_MISSING || f->status == FILE_UNREADABLE ||
            f->status == FILE_INVALID)
            n_bad++;
        if (f->status == FILE_NEWER && newer == NULL)
            newer = f;
        if (f->status == FILE_UNREADABLE && unreadable == NULL)
            unreadable = f;
    }
    if (n_present == 0) {
        r->verdict = SCAN_NOT_INSTALLED;
        r->repair_reason =
            str_printf("the TMI folder %s holds none of the %zu files", r->tmi_dir, pb->n_files);
    } else if (n_bad == 0) {
        r->verdict = SCAN_HEALTHY;
        r->repair_reason = str_printf("nothing to repair: every file is at %s%s", want,
                                      newer != NULL ? " or newer" : "");
    } else if (newer != NULL) {
        r->verdict = SCAN_AFFECTED;
        r->repair_reason =
            str_printf("refused: %s is %s, newer than %s; replacing the set would downgrade it",
                       newer->name, version_format(&newer->version, got, sizeof(got)), want);
    } else if (unreadable != NULL) {
        r->verdict = SCAN_AFFECTED;
        r->repair_reason =
            str_printf("refused: %s cannot be read (%s), so it cannot be backed up",
                       unreadable->name, unreadable->error ? unreadable->error : "unreadable");
    } else {
        r->verdict = SCAN_AFFECTED;
        for (size_t s = 0; s < r->n_sources; s++) {
            if (r->sources[s].complete) {
                r->repair_source = (int)s;
                break;
            }
        }
        if (r->repair_source >= 0) {
            const scan_source *src = &r->sources[r->repair_source];
            r->repair_possible = 1;
            r->repair_reason = str_printf("all %zu files at %s found in %s (%s)", pb->n_files, want,
                                          src->path, src->variant);
        } else if (r->n_sources == 0) {
            r->repair_reason =
                str_printf("no backup folder with the good files was found in %s", r->tmi_dir);
        } else {
            const scan_source *src = &r->sources[0];
            r->repair_reason = str_printf(
                "no complete source at %s: %s: %s%s", want, src->path, src->reason,
                r->n_sources > 1 ? " (and the other candidates are incomplete too)" : "");
        }
    }
    return r->repair_reason == NULL ? TMI_ENOMEM : TMI_OK;
}

/* The trust store the playbook names, checked once before any file is read:
 * sc->check_sigs, or r->sig_error saying why not. Windows decides with the
 * system's store whatever the playbook says (authenticode.h). */
static int prepare_sigs(scan_ctx *sc, scan_result *r)
{
    const char *pem = sc->pb->sig.trust_store;
    int rc = TMI_OK;
    sc->trust_pem = pem;
    if (pem != NULL)
        rc = plat_sig_trust_open(pem, &sc->trust);
    if (pem == NULL || rc == TMI_ENOTSUP) {
        sc->trust_pem = NULL; /* the system's: opened at the first signed file */
        sc->lazy->pending = 1;
        rc = TMI_OK;
    }
    if (rc == TMI_ENOMEM)
        return rc;
    sc->check_sigs = rc == TMI_OK;
    if (rc == TMI_OK)
        return TMI_OK;
    r->sig_error = str_printf("the trust store %s cannot be used (%s)", pem, tmi_strerror(rc));
    return r->sig_error == NULL ? TMI_ENOMEM : TMI_OK;
}

/* The system's store failed to open at the first signed file: say so. */
static int lazy_trust_error(const lazy_trust *lazy, scan_result *r)
{
    if (lazy->rc == TMI_ENOMEM)
        return TMI_ENOMEM;
    r->sig_error =
        str_printf("the system's trust store cannot be used (%s)", tmi_strerror(lazy->rc));
    return r->sig_error == NULL ? TMI_ENOMEM : TMI_OK;
}

int scan_run(const tmi_target *t, scan_result **out)
{
    return scan_run_opts(t, NULL, out);
}

int scan_run_opts(const tmi_target *t, const scan_options *opt, scan_result **out)
{
    static const scan_options defaults = {0};
    const playbook *pb = t != NULL ? t->pb : NULL;
    lazy_trust lazy = {0, TMI_OK};
    sig_queue sigq = {NULL, 0};
    scan_ctx sc = {pb, opt != NULL ? opt : &defaults, NULL, NULL, 0, &lazy, NULL, &sigq, NULL};
    plat_stat st;
    scan_result *r;
    int rc;
    *out = NULL;
    sc.trust_slot = &sc.trust;
    if (pb == NULL || t->root[0] == '\0')
        return TMI_EINVAL;
    rc = plat.stat(t->root, &st);
    if (rc != TMI_OK)
        return rc;
    if (!st.is_dir)
        return TMI_ENOTDIR;
    r = calloc(1, sizeof(*r));
    if (r == NULL)
        return TMI_ENOMEM;
    r->started_ns = plat_now_ns();
    r->accept_untrusted_root = sc.opt->accept_untrusted_root;
    r->root = str_dup(t->root);
    r->playbook_id = str_dup(pb->id);
    r->expected_version = pb->expected_version;
    rc = (r->root == NULL || r->playbook_id == NULL) ? TMI_ENOMEM : TMI_OK;
    if (rc == TMI_OK &&
        bufpool_new(SCAN_BUFS_KEPT, SCAN_BUF_MAX, SCAN_BUFS_OUT, &sc.bufs) != TMI_OK)
        sc.bufs = NULL; /* a new buffer per file */
    if (rc == TMI_OK)
        rc = prepare_sigs(&sc, r);
    if (rc == TMI_OK)
        rc = locate_tmi(t, r);
    if (rc == TMI_OK && r->tmi_dir != NULL)
        rc = examine_set(&sc, r->tmi_dir, &r->files, &r->n_files);
    if (rc == TMI_OK && r->tmi_dir != NULL)
        rc = find_sources(&sc, r);
    workq_stop(sigq.q);    /* every check done: f->sig is final from here on */
    bufpool_free(sc.bufs); /* every buffer given back */
    if (rc == TMI_OK)
        judge_sources(&sc, r);
    if (rc == TMI_OK && lazy.rc != TMI_OK) /* its signed files said "could not be checked" */
        rc = lazy_trust_error(&lazy, r);
    if (rc == TMI_OK)
        rc = judge(pb, r);
    plat_sig_trust_free(sc.trust);
    r->finished_ns = plat_now_ns();
    if (rc != TMI_OK) {
        scan_result_free(r);
        return rc;
    }
    *out = r;
    return TMI_OK;
}
