/*
 * plat_posix.c - the POSIX backend of plat.h (Linux, for development, tests
 * and the demo sandbox). errno is translated to TMI_E* codes here only.
 */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE

#include "plat.h"
#include "plat_common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <ftw.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "err.h"
#include "plat_posix_int.h"

static int err_from_errno(int e)
{
    switch (e) {
    case 0:
        return TMI_OK;
    case ENOENT:
        return TMI_ENOENT;
    case EACCES:
    case EPERM:
        return TMI_EACCES;
    case ENOMEM:
        return TMI_ENOMEM;
    case ENOSPC:
    case EDQUOT:
        return TMI_ENOSPC;
    case EEXIST:
        return TMI_EEXIST;
    case ENOTDIR:
        return TMI_ENOTDIR;
    case EROFS:
        return TMI_EROFS;
    case ETXTBSY:
    case EBUSY:
        return TMI_EBUSY;
    case EFBIG:
        return TMI_ETOOBIG;
    case ENAMETOOLONG:
    case EINVAL:
        return TMI_EINVAL;
    case EINTR:
        return TMI_EINTR;
    default:
        return TMI_EIO;
    }
}

int posix_err(int e)
{
    return err_from_errno(e);
}

static int posix_stat(const char *path, plat_stat *st)
{
    struct stat sb;
    memset(st, 0, sizeof(*st));
    if (lstat(path, &sb) != 0)
        return err_from_errno(errno);
    if (S_ISLNK(sb.st_mode)) {
        st->is_link = 1;
        if (stat(path, &sb) != 0)
            return TMI_OK; /* a dangling link: it is there, and points nowhere */
    }
    st->is_dir = S_ISDIR(sb.st_mode);
    st->is_file = S_ISREG(sb.st_mode);
    st->size = (uint64_t)sb.st_size;
    st->mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000LL + sb.st_mtim.tv_nsec;
    return TMI_OK;
}

/* Read the regular file open on fd (at most max_bytes) into buf. */
static int read_fd(int fd, size_t max_bytes, plat_buf *buf, size_t *out_len)
{
    int rc;
    struct stat sb;
    size_t got = 0;
    if (fstat(fd, &sb) != 0)
        return err_from_errno(errno);
    if (!S_ISREG(sb.st_mode))
        return TMI_EINVAL; /* a folder, a device, a pipe */
    if ((uint64_t)sb.st_size > (uint64_t)max_bytes)
        return TMI_ETOOBIG;
    rc = plat_buf_reserve(buf, (size_t)sb.st_size + 1);
    if (rc != TMI_OK)
        return rc;
    while (got < (size_t)sb.st_size) {
        ssize_t n = read(fd, buf->data + got, (size_t)sb.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return err_from_errno(errno);
        if (n == 0)
            break; /* shrank while reading: return what is there */
        got += (size_t)n;
    }
    buf->data[got] = 0;
    *out_len = got;
    return TMI_OK;
}

/* Open path and read it into buf. nofollow: refuse a link (TMI_ELINK), and
 * open with O_NONBLOCK, so that a FIFO planted at the name cannot hang the
 * open. */
static int read_path(const char *path, int nofollow, size_t max_bytes, plat_buf *buf,
                     size_t *out_len)
{
    int rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC | (nofollow ? O_NOFOLLOW | O_NONBLOCK : 0));
    if (fd < 0)
        return nofollow && errno == ELOOP ? TMI_ELINK : err_from_errno(errno);
    rc = read_fd(fd, max_bytes, buf, out_len);
    close(fd);
    return rc;
}

static int posix_read_file_buf(const char *path, size_t max_bytes, plat_buf *buf, size_t *out_len)
{
    return read_path(path, 0, max_bytes, buf, out_len);
}

static int posix_read_file_nofollow_buf(const char *path, size_t max_bytes, plat_buf *buf,
                                        size_t *out_len)
{
    return read_path(path, 1, max_bytes, buf, out_len);
}

static int posix_read_file(const char *path, size_t max_bytes, uint8_t **out, size_t *out_len)
{
    return plat_read_new(posix_read_file_buf, path, max_bytes, out, out_len);
}

static int posix_read_file_nofollow(const char *path, size_t max_bytes, uint8_t **out,
                                    size_t *out_len)
{
    return plat_read_new(posix_read_file_nofollow_buf, path, max_bytes, out, out_len);
}

static int posix_list_dir(const char *path, plat_dirlist *out)
{
    int rc = TMI_OK;
    plat_dirlist list = {NULL, 0};
    size_t cap = 0;
    struct dirent *de;
    DIR *d = opendir(path);
    if (d == NULL)
        return err_from_errno(errno);
    for (;;) {
        errno = 0;
        de = readdir(d);
        if (de == NULL) {
            if (errno != 0)
                rc = err_from_errno(errno);
            break;
        }
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        rc = plat_dirlist_add(&list, &cap, strdup(de->d_name));
        if (rc != TMI_OK)
            break;
    }
    closedir(d);
    if (rc != TMI_OK) {
        plat_dirlist_free(&list);
        return rc;
    }
    *out = list;
    return TMI_OK;
}

/* Write all of data to fd and flush it to stable storage. */
static int write_all_sync(int fd, const void *data, size_t len)
{
    const uint8_t *p = data;
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, p + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return err_from_errno(errno);
        done += (size_t)n;
    }
    if (fsync(fd) != 0)
        return err_from_errno(errno);
    return TMI_OK;
}

/* Remove what is at path (unlink never follows a link), then create a new
 * file there exclusively with mode, never through a link. */
static int create_fresh(const char *path, mode_t mode, int *fd)
{
    if (unlink(path) != 0 && errno != ENOENT)
        return errno == EISDIR ? TMI_EINVAL : err_from_errno(errno);
    *fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (*fd < 0)
        return err_from_errno(errno);
    return TMI_OK;
}

static int posix_write_file(const char *path, const void *data, size_t len)
{
    int fd = -1;
    int rc = create_fresh(path, 0644, &fd);
    if (rc != TMI_OK)
        return rc;
    rc = write_all_sync(fd, data, len);
    if (close(fd) != 0 && rc == TMI_OK)
        rc = err_from_errno(errno);
    return rc;
}

static int posix_make_dir(const char *path)
{
    if (mkdir(path, 0755) != 0)
        return err_from_errno(errno);
    return TMI_OK;
}

static int posix_remove_file(const char *path)
{
    if (unlink(path) != 0)
        return err_from_errno(errno);
    return TMI_OK;
}

static int posix_rename_replace(const char *from, const char *to)
{
    if (rename(from, to) != 0)
        return err_from_errno(errno);
    return TMI_OK;
}

const struct plat_ops plat_os_ops = {
    .stat = posix_stat,
    .read_file = posix_read_file,
    .read_file_nofollow = posix_read_file_nofollow,
    .read_file_nofollow_buf = posix_read_file_nofollow_buf,
    .list_dir = posix_list_dir,
    .write_file = posix_write_file,
    .make_dir = posix_make_dir,
    .remove_file = posix_remove_file,
    .rename_replace = posix_rename_replace,
    .svc_resolve = posix_svc_resolve,
    .svc_query = posix_svc_query,
    .svc_start = posix_svc_start,
    .svc_stop = posix_svc_stop,
    .event_query = posix_event_query,
};

struct plat_ops plat = {
    .stat = posix_stat,
    .read_file = posix_read_file,
    .read_file_nofollow = posix_read_file_nofollow,
    .read_file_nofollow_buf = posix_read_file_nofollow_buf,
    .list_dir = posix_list_dir,
    .write_file = posix_write_file,
    .make_dir = posix_make_dir,
    .remove_file = posix_remove_file,
    .rename_replace = posix_rename_replace,
    .svc_resolve = posix_svc_resolve,
    .svc_query = posix_svc_query,
    .svc_start = posix_svc_start,
    .svc_stop = posix_svc_stop,
    .event_query = posix_event_query,
};

/* ---- hashing and randomness (libcrypto) ---- */

struct plat_sha256_ctx {
    EVP_MD_CTX *md;
};

int plat_sha256_init(plat_sha256_ctx **ctx)
{
    plat_sha256_ctx *c = malloc(sizeof(*c));
    if (c == NULL)
        return TMI_ENOMEM;
    c->md = EVP_MD_CTX_new();
    if (c->md == NULL || EVP_DigestInit_ex(c->md, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(c->md);
        free(c);
        return TMI_EIO;
    }
    *ctx = c;
    return TMI_OK;
}

int plat_sha256_update(plat_sha256_ctx *ctx, const void *data, size_t len)
{
    if (EVP_DigestUpdate(ctx->md, data, len) != 1)
        return TMI_EIO;
    return TMI_OK;
}

int plat_sha256_final(plat_sha256_ctx *ctx, uint8_t out[32])
{
    unsigned int n = 0;
    int ok = EVP_DigestFinal_ex(ctx->md, out, &n) == 1 && n == 32;
    plat_sha256_free(ctx);
    return ok ? TMI_OK : TMI_EIO;
}

void plat_sha256_free(plat_sha256_ctx *ctx)
{
    if (ctx == NULL)
        return;
    EVP_MD_CTX_free(ctx->md);
    free(ctx);
}

int plat_sha256(const void *data, size_t len, uint8_t out[32])
{
    unsigned int n = 0;
    if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1 || n != 32)
        return TMI_EIO;
    return TMI_OK;
}

int plat_random(void *buf, size_t len)
{
    if (len > (size_t)0x7fffffff || RAND_bytes(buf, (int)len) != 1)
        return TMI_EIO;
    return TMI_OK;
}

/* ---- folders ---- */

int plat_make_dirs(const char *path)
{
    char tmp[PLAT_PATH_MAX];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof(tmp))
        return TMI_EINVAL;
    memcpy(tmp, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (tmp[i] != '/' && tmp[i] != '\0')
            continue;
        char saved = tmp[i];
        tmp[i] = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST) {
            return err_from_errno(errno);
        }
        tmp[i] = saved;
    }
    struct stat sb;
    if (stat(path, &sb) != 0)
        return err_from_errno(errno);
    return S_ISDIR(sb.st_mode) ? TMI_OK : TMI_ENOTDIR;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path) != 0 && errno != ENOENT ? -1 : 0;
}

int plat_remove_tree(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return errno == ENOENT ? TMI_OK : err_from_errno(errno);
    if (nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        return err_from_errno(errno);
    return TMI_OK;
}

int plat_make_private_dir(const char *path)
{
    char parent[PLAT_PATH_MAX];
    struct stat sb;
    size_t len;
    int rc;
    if (path == NULL || path[0] == '\0')
        return TMI_EINVAL;
    len = strlen(path);
    if (len >= sizeof(parent))
        return TMI_EINVAL;
    if (stat(path, &sb) == 0)
        return S_ISDIR(sb.st_mode) ? TMI_OK : TMI_ENOTDIR;
    memcpy(parent, path, len + 1);
    while (len > 1 && parent[len - 1] == '/')
        parent[--len] = '\0';
    char *slash = strrchr(parent, '/');
    if (slash != NULL && slash != parent) {
        *slash = '\0';
        rc = plat_make_dirs(parent);
        if (rc != TMI_OK)
            return rc;
    }
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return err_from_errno(errno);
    if (stat(path, &sb) != 0)
        return err_from_errno(errno);
    return S_ISDIR(sb.st_mode) ? TMI_OK : TMI_ENOTDIR;
}

int plat_check_writable(const char *path)
{
    if (access(path, W_OK) != 0)
        return err_from_errno(errno);
    return TMI_OK;
}

int plat_default_data_dir(char *buf, size_t buflen)
{
    const char *xdg = getenv("XDG_STATE_HOME");
    int n;
    if (xdg != NULL && xdg[0] == '/') {
        n = snprintf(buf, buflen, "%s/tmi-console", xdg);
    } else {
        const char *home = getenv("HOME");
        if (home == NULL || home[0] != '/') {
            struct passwd *pw = getpwuid(getuid());
            home = pw != NULL ? pw->pw_dir : NULL;
        }
        if (home == NULL)
            return TMI_ENOENT;
        n = snprintf(buf, buflen, "%s/.local/state/tmi-console", home);
    }
    if (n < 0 || (size_t)n >= buflen)
        return TMI_ETOOBIG;
    return TMI_OK;
}

int plat_default_root(char *buf, size_t buflen)
{
    (void)buf;
    (void)buflen;
    return TMI_ENOTSUP;
}

int plat_registry_string(const char *key, const char *value, char *buf, size_t buflen)
{
    (void)key;
    (void)value;
    (void)buf;
    (void)buflen;
    return TMI_ENOTSUP;
}

int plat_user_name(char *buf, size_t buflen)
{
    struct passwd *pw = getpwuid(geteuid());
    int n;
    if (pw != NULL)
        n = snprintf(buf, buflen, "%s", pw->pw_name);
    else
        n = snprintf(buf, buflen, "uid%u", (unsigned)geteuid());
    return (n < 0 || (size_t)n >= buflen) ? TMI_ETOOBIG : TMI_OK;
}

int64_t plat_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int plat_utc_offset_minutes(int64_t t_ns)
{
    struct tm tm;
    time_t t = (time_t)(t_ns / 1000000000LL);
    if (localtime_r(&t, &tm) == NULL)
        return 0;
    return (int)(tm.tm_gmtoff / 60);
}

int64_t plat_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void plat_sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ---- for the HTTP server ---- */

int plat_write_file_private(const char *path, const void *data, size_t len)
{
    int fd = -1;
    int rc = create_fresh(path, 0600, &fd);
    if (rc != TMI_OK)
        return rc;
    if (fchmod(fd, 0600) != 0) /* whatever the umask */
        rc = err_from_errno(errno);
    if (rc == TMI_OK)
        rc = write_all_sync(fd, data, len);
    if (close(fd) != 0 && rc == TMI_OK)
        rc = err_from_errno(errno);
    if (rc != TMI_OK)
        unlink(path);
    return rc;
}

void plat_stdout_binary(void)
{
    /* POSIX streams never translate line ends */
}

int plat_fopen_new(const char *path, FILE **out)
{
    int fd, rc;
    *out = NULL;
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0)
        return err_from_errno(errno);
    *out = fdopen(fd, "wb");
    if (*out == NULL) {
        rc = err_from_errno(errno);
        close(fd);
        unlink(path);
        return rc;
    }
    return TMI_OK;
}

int plat_utf8_args(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return TMI_OK;
}

int plat_full_path(const char *path, char *buf, size_t buflen)
{
    char resolved[PATH_MAX], cwd[PATH_MAX];
    int n;
    if (path == NULL || path[0] == '\0')
        return TMI_EINVAL;
    if (realpath(path, resolved) != NULL) {
        n = snprintf(buf, buflen, "%s", resolved);
    } else if (path[0] == '/') {
        n = snprintf(buf, buflen, "%s", path);
    } else {
        if (getcwd(cwd, sizeof(cwd)) == NULL)
            return err_from_errno(errno);
        n = snprintf(buf, buflen, "%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd, path);
    }
    return n < 0 || (size_t)n >= buflen ? TMI_ETOOBIG : TMI_OK;
}

/* ---- append-only records (the alert file) ---- */

/* Open path for appending without following a link, creating it private;
 * *can_read says whether the descriptor may also read (for the last byte). */
static int append_open(const char *path, int *fd, int *can_read)
{
    const int flags = O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
    *can_read = 1;
    *fd = open(path, O_RDWR | flags, 0600);
    if (*fd < 0 && errno == EACCES) { /* a file we may append to but not read */
        *can_read = 0;
        *fd = open(path, O_WRONLY | flags, 0600);
    }
    if (*fd >= 0)
        return TMI_OK;
    switch (errno) {
    case ELOOP:
        return TMI_ELINK;
    case EISDIR:
    case ENXIO: /* a pipe with no reader */
        return TMI_EINVAL;
    default:
        return err_from_errno(errno);
    }
}

/* Write all of iov (one writev, more only after a short count). */
static int append_all(int fd, struct iovec *iov, int n)
{
    while (n > 0) {
        ssize_t w = writev(fd, iov, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return err_from_errno(errno);
        if (w == 0)
            return TMI_ENOSPC;
        while (n > 0 && (size_t)w >= iov->iov_len) {
            w -= (ssize_t)iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
    return TMI_OK;
}

int plat_append_record(const char *path, const void *data, size_t len)
{
    struct stat sb;
    struct iovec iov[2];
    char last = '\n';
    int fd, can_read, n = 0, rc;
    if (path == NULL || path[0] == '\0' || (data == NULL && len > 0))
        return TMI_EINVAL;
    rc = append_open(path, &fd, &can_read);
    if (rc != TMI_OK)
        return rc;
    if (fstat(fd, &sb) != 0) {
        rc = err_from_errno(errno);
        goto out;
    }
    if (!S_ISREG(sb.st_mode) && !S_ISCHR(sb.st_mode)) {
        rc = TMI_EINVAL;
        goto out;
    }
    if (fcntl(fd, F_SETFL, O_APPEND) != 0) { /* blocking writes from here */
        rc = err_from_errno(errno);
        goto out;
    }
    if (len == 0)
        goto out;
    if (S_ISREG(sb.st_mode) && sb.st_size > 0 && can_read &&
        pread(fd, &last, 1, sb.st_size - 1) == 1 && last != '\n') {
        iov[n].iov_base = (void *)"\n";
        iov[n++].iov_len = 1;
    }
    iov[n].iov_base = (void *)data;
    iov[n++].iov_len = len;
    rc = append_all(fd, iov, n);
out:
    if (close(fd) != 0 && rc == TMI_OK)
        rc = err_from_errno(errno);
    return rc;
}

int plat_host_name(char *buf, size_t buflen)
{
    char name[256];
    int n;
    if (gethostname(name, sizeof(name)) != 0)
        return err_from_errno(errno);
    name[sizeof(name) - 1] = '\0';
    n = snprintf(buf, buflen, "%s", name);
    return n < 0 || (size_t)n >= buflen ? TMI_ETOOBIG : TMI_OK;
}
