/*
 * service_posix.c - services, event log, locks and signals for the POSIX
 * backend (Linux).
 *
 * There is no service manager to ask on Linux, so this file is one, small and
 * faithful enough for the sandbox: `<scope>/.services/` holds one `NAME.svc`
 * file per registered service (display name, image path, program and
 * arguments). Starting a service forks a detached monitor process that runs
 * the program, writes `NAME.pid` while it runs, and when it ends writes its
 * exit status to `NAME.exit` - so a service that "started and then stopped"
 * is seen exactly as the Windows SCM shows it. The event log is the text file
 * `<scope>/.services/events.log`, one record per line.
 */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE

#include "plat.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "plat_posix_int.h"

#define SVC_DIR         ".services"
#define SVC_MAX_ARGS    32
#define EVENTS_FILE     "events.log"
#define EVENTS_READ_MAX (1024 * 1024)

typedef struct svc_config {
    char display_name[256];
    char image_path[PLAT_PATH_MAX];
    char *argv[SVC_MAX_ARGS + 1];
    size_t argc;
} svc_config;

static void svc_config_release(svc_config *c)
{
    for (size_t i = 0; i < c->argc; i++)
        free(c->argv[i]);
    c->argc = 0;
}

static int valid_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 128)
        return 0;
    for (const char *p = name; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == ' ' || *p == '_' || *p == '-' || *p == '.'))
            return 0;
    }
    return name[0] != '.';
}

static int svc_path(char *buf, size_t len, const char *scope, const char *name, const char *ext)
{
    int n;
    if (scope == NULL)
        return TMI_ENOTSUP;
    n = snprintf(buf, len, "%s/%s/%s%s", scope, SVC_DIR, name, ext);
    return (n < 0 || (size_t)n >= len) ? TMI_ETOOBIG : TMI_OK;
}

static int ci_equal(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        int x = (*a >= 'A' && *a <= 'Z') ? *a + 32 : *a;
        int y = (*b >= 'A' && *b <= 'Z') ? *b + 32 : *b;
        if (x != y)
            return 0;
    }
    return *a == *b;
}

/* Replace tabs, CR and LF so one record stays on one line. */
static void flatten(char *s)
{
    for (; *s; s++) {
        if (*s == '\t' || *s == '\n' || *s == '\r')
            *s = ' ';
    }
}

static int read_config(const char *scope, const char *name, svc_config *c)
{
    char path[PLAT_PATH_MAX], *line, *save = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = svc_path(path, sizeof(path), scope, name, ".svc");
    memset(c, 0, sizeof(*c));
    if (rc != TMI_OK)
        return rc;
    rc = plat.read_file(path, 64 * 1024, &buf, &len);
    if (rc != TMI_OK)
        return rc;
    for (line = strtok_r((char *)buf, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        char *eq = strchr(line, '=');
        if (eq == NULL)
            continue;
        *eq++ = '\0';
        if (strcmp(line, "display_name") == 0) {
            snprintf(c->display_name, sizeof(c->display_name), "%s", eq);
        } else if (strcmp(line, "image_path") == 0) {
            snprintf(c->image_path, sizeof(c->image_path), "%s", eq);
        } else if (strcmp(line, "arg") == 0 && c->argc < SVC_MAX_ARGS) {
            c->argv[c->argc] = strdup(eq);
            if (c->argv[c->argc] == NULL) {
                rc = TMI_ENOMEM;
                break;
            }
            c->argc++;
        }
    }
    free(buf);
    if (rc == TMI_OK && c->argc == 0)
        rc = TMI_ECORRUPT;
    if (rc != TMI_OK)
        svc_config_release(c);
    return rc;
}

int plat_svc_register(const char *scope, const char *name, const char *display_name,
                      const char *image_path, const char *const *argv)
{
    char path[PLAT_PATH_MAX], dir[PLAT_PATH_MAX];
    char *text = NULL;
    size_t cap = 0, used = 0;
    int rc, n;
    if (scope == NULL || !valid_name(name) || argv == NULL || argv[0] == NULL)
        return TMI_EINVAL;
    n = snprintf(dir, sizeof(dir), "%s/%s", scope, SVC_DIR);
    if (n < 0 || (size_t)n >= sizeof(dir))
        return TMI_ETOOBIG;
    rc = plat_make_dirs(dir);
    if (rc != TMI_OK)
        return rc;
    cap = 1024 + strlen(display_name) + strlen(image_path);
    for (size_t i = 0; argv[i] != NULL; i++) {
        if (i == SVC_MAX_ARGS)
            return TMI_ETOOBIG;
        cap += strlen(argv[i]) + 8;
    }
    text = malloc(cap);
    if (text == NULL)
        return TMI_ENOMEM;
    used += (size_t)snprintf(text + used, cap - used, "display_name=%s\nimage_path=%s\n",
                             display_name, image_path);
    for (size_t i = 0; argv[i] != NULL; i++)
        used += (size_t)snprintf(text + used, cap - used, "arg=%s\n", argv[i]);
    rc = svc_path(path, sizeof(path), scope, name, ".svc");
    if (rc == TMI_OK)
        rc = plat.write_file(path, text, used);
    free(text);
    return rc;
}

int posix_svc_resolve(const char *scope, const char *short_name, const char *display_name,
                      const char *image_name, char *name, size_t namelen)
{
    char dir[PLAT_PATH_MAX];
    plat_dirlist list = {NULL, 0};
    int rc, found = 0;
    if (scope == NULL)
        return TMI_ENOTSUP;
    if (short_name != NULL && valid_name(short_name)) {
        svc_config c;
        if (read_config(scope, short_name, &c) == TMI_OK) {
            svc_config_release(&c);
            snprintf(name, namelen, "%s", short_name);
            return strlen(short_name) < namelen ? TMI_OK : TMI_ETOOBIG;
        }
    }
    snprintf(dir, sizeof(dir), "%s/%s", scope, SVC_DIR);
    rc = plat.list_dir(dir, &list);
    if (rc != TMI_OK)
        return rc == TMI_ENOENT ? TMI_ENOENT : rc;
    /* two passes: display name first, then the image name */
    for (int pass = 0; pass < 2 && !found; pass++) {
        for (size_t i = 0; i < list.count && !found; i++) {
            char base[256];
            size_t n = strlen(list.names[i]);
            svc_config c;
            if (n < 5 || n - 4 >= sizeof(base) || strcmp(list.names[i] + n - 4, ".svc") != 0)
                continue;
            memcpy(base, list.names[i], n - 4);
            base[n - 4] = '\0';
            if (!valid_name(base) || read_config(scope, base, &c) != TMI_OK)
                continue;
            if (pass == 0 && display_name != NULL && ci_equal(c.display_name, display_name))
                found = 1;
            if (pass == 1 && image_name != NULL) {
                const char *slash = strrchr(c.image_path, '/');
                const char *file = slash ? slash + 1 : c.image_path;
                found = ci_equal(file, image_name);
            }
            svc_config_release(&c);
            if (found)
                snprintf(name, namelen, "%s", base);
        }
    }
    plat_dirlist_free(&list);
    return found ? TMI_OK : TMI_ENOENT;
}

/* Is pid a live (not zombie) process? */
static int alive(long pid)
{
    char path[64], buf[512];
    FILE *f;
    if (pid <= 0 || kill((pid_t)pid, 0) != 0)
        return 0;
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    f = fopen(path, "r");
    if (f == NULL)
        return 1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *rp = strrchr(buf, ')');
    return !(rp != NULL && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X'));
}

static long read_long_file(const char *path, int *ok)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    long v = 0;
    char *end;
    *ok = 0;
    if (plat.read_file(path, 256, &buf, &len) != TMI_OK)
        return 0;
    errno = 0;
    v = strtol((char *)buf, &end, 10);
    if (errno == 0 && end != (char *)buf)
        *ok = 1;
    free(buf);
    return v;
}

int posix_svc_query(const char *scope, const char *name, plat_svc_status *st)
{
    char path[PLAT_PATH_MAX];
    svc_config c;
    int ok, rc;
    long pid;
    memset(st, 0, sizeof(*st));
    if (!valid_name(name))
        return TMI_EINVAL;
    rc = read_config(scope, name, &c);
    if (rc == TMI_ENOENT) {
        st->state = PLAT_SVC_NOT_FOUND;
        return TMI_OK;
    }
    if (rc != TMI_OK)
        return rc;
    snprintf(st->display_name, sizeof(st->display_name), "%s", c.display_name);
    svc_config_release(&c);
    svc_path(path, sizeof(path), scope, name, ".exit");
    st->exit_code = (int)read_long_file(path, &ok);
    st->has_exit_code = ok;
    svc_path(path, sizeof(path), scope, name, ".pid");
    pid = read_long_file(path, &ok);
    if (ok && alive(pid)) {
        plat_stat sb;
        svc_path(path, sizeof(path), scope, name, ".stopping");
        st->state = plat.stat(path, &sb) == TMI_OK ? PLAT_SVC_STOP_PENDING : PLAT_SVC_RUNNING;
        st->pid = pid;
    } else {
        st->state = PLAT_SVC_STOPPED;
    }
    return TMI_OK;
}

static void write_small(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    ssize_t n = write(fd, text, strlen(text));
    (void)n;
    close(fd);
}

/* The monitor: runs the service program, records its pid and its exit. */
static void run_monitor(const char *scope, const char *name, svc_config *c, int ready_fd)
{
    char pidpath[PLAT_PATH_MAX], exitpath[PLAT_PATH_MAX], logpath[PLAT_PATH_MAX];
    char stoppath[PLAT_PATH_MAX], text[64];
    int status = 0;
    pid_t pid;
    svc_path(pidpath, sizeof(pidpath), scope, name, ".pid");
    svc_path(exitpath, sizeof(exitpath), scope, name, ".exit");
    svc_path(logpath, sizeof(logpath), scope, name, ".log");
    svc_path(stoppath, sizeof(stoppath), scope, name, ".stopping");
    unlink(stoppath);
    /* let go of the starter's terminal and pipes: a script that captures the
     * output of `tmi-console repair` must see its end when the command ends,
     * not when the service does */
    int null_fd = open("/dev/null", O_RDWR);
    if (null_fd >= 0) {
        dup2(null_fd, 0);
        dup2(null_fd, 1);
        dup2(null_fd, 2);
        if (null_fd > 2)
            close(null_fd);
    }
    pid = fork();
    if (pid < 0)
        _exit(1);
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int out = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW, 0644);
        if (in >= 0)
            dup2(in, 0);
        if (out >= 0) {
            dup2(out, 1);
            dup2(out, 2);
        }
        closefrom(3);
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        execv(c->argv[0], c->argv);
        _exit(127);
    }
    snprintf(text, sizeof(text), "%ld\n", (long)pid);
    write_small(pidpath, text);
    if (write(ready_fd, text, strlen(text)) < 0) {
        /* the starter went away; the service runs on regardless */
    }
    close(ready_fd);
    closefrom(3);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status))
        snprintf(text, sizeof(text), "%d\n", WEXITSTATUS(status));
    else
        snprintf(text, sizeof(text), "%d\n", 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0));
    write_small(exitpath, text);
    unlink(pidpath);
    unlink(stoppath);
    _exit(0);
}

int posix_svc_start(const char *scope, const char *name)
{
    plat_svc_status st;
    svc_config c;
    int fds[2];
    pid_t first;
    char buf[32];
    ssize_t n;
    int rc = posix_svc_query(scope, name, &st);
    if (rc != TMI_OK)
        return rc;
    if (st.state == PLAT_SVC_NOT_FOUND)
        return TMI_ENOENT;
    if (st.state == PLAT_SVC_RUNNING || st.state == PLAT_SVC_STOP_PENDING)
        return TMI_EBUSY;
    rc = read_config(scope, name, &c);
    if (rc != TMI_OK)
        return rc;
    if (pipe(fds) != 0) {
        svc_config_release(&c);
        return TMI_EIO;
    }
    first = fork();
    if (first < 0) {
        close(fds[0]);
        close(fds[1]);
        svc_config_release(&c);
        return TMI_EIO;
    }
    if (first == 0) {
        /* detach: the monitor becomes a child of init, not of the caller */
        close(fds[0]);
        setsid();
        if (fork() == 0)
            run_monitor(scope, name, &c, fds[1]);
        _exit(0);
    }
    close(fds[1]);
    svc_config_release(&c);
    while (waitpid(first, NULL, 0) < 0 && errno == EINTR) {
    }
    do {
        n = read(fds[0], buf, sizeof(buf) - 1);
    } while (n < 0 && errno == EINTR);
    close(fds[0]);
    return n > 0 ? TMI_OK : TMI_ESERVICE;
}

int posix_svc_stop(const char *scope, const char *name)
{
    char path[PLAT_PATH_MAX];
    plat_svc_status st;
    int rc = posix_svc_query(scope, name, &st);
    if (rc != TMI_OK)
        return rc;
    if (st.state == PLAT_SVC_NOT_FOUND)
        return TMI_ENOENT;
    if (st.state != PLAT_SVC_RUNNING && st.state != PLAT_SVC_STOP_PENDING)
        return TMI_OK;
    svc_path(path, sizeof(path), scope, name, ".stopping");
    write_small(path, "stop\n");
    if (kill((pid_t)st.pid, SIGTERM) != 0 && errno != ESRCH)
        return TMI_ESERVICE;
    return TMI_OK;
}

int plat_event_write(const char *scope, const char *provider, int event_id, int level,
                     const char *message)
{
    char path[PLAT_PATH_MAX], dir[PLAT_PATH_MAX], line[2048], prov[128], msg[1024];
    int fd, n, rc = TMI_OK;
    if (scope == NULL)
        return TMI_ENOTSUP;
    snprintf(dir, sizeof(dir), "%s/%s", scope, SVC_DIR);
    rc = plat_make_dirs(dir);
    if (rc != TMI_OK)
        return rc;
    n = snprintf(path, sizeof(path), "%s/%s", dir, EVENTS_FILE);
    if (n < 0 || (size_t)n >= sizeof(path))
        return TMI_ETOOBIG;
    snprintf(prov, sizeof(prov), "%s", provider);
    snprintf(msg, sizeof(msg), "%s", message);
    flatten(prov);
    flatten(msg);
    n = snprintf(line, sizeof(line), "%lld\t%d\t%d\t%s\t%s\n", (long long)plat_now_ns(), event_id,
                 level, prov, msg);
    if (n < 0 || (size_t)n >= sizeof(line))
        return TMI_ETOOBIG;
    fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return errno == ENOSPC ? TMI_ENOSPC : errno == ELOOP ? TMI_ELINK : TMI_EIO;
    if (write(fd, line, (size_t)n) != n)
        rc = TMI_EIO;
    close(fd);
    return rc;
}

int plat_event_report(const char *scope, const char *source, unsigned event_id, int level,
                      const char *const *strings, size_t n)
{
    if (event_id > 0xFFFF || level < 1 || level > 4 || n > PLAT_EVENT_STRINGS_MAX ||
        (n > 0 && strings == NULL))
        return TMI_EINVAL;
    if (scope == NULL)
        return TMI_ENOTSUP;
    /* the sandbox's log has one message per record: the first string */
    return plat_event_write(scope, source, (int)event_id, level,
                            n > 0 && strings[0] != NULL ? strings[0] : "");
}

int posix_event_query(const char *scope, const char *provider, int event_id, int64_t since_ns,
                      plat_event *out, size_t max, size_t *n)
{
    char path[PLAT_PATH_MAX];
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc;
    *n = 0;
    if (scope == NULL)
        return TMI_ENOTSUP;
    snprintf(path, sizeof(path), "%s/%s/%s", scope, SVC_DIR, EVENTS_FILE);
    rc = plat.read_file(path, EVENTS_READ_MAX, &buf, &len);
    if (rc == TMI_ENOENT)
        return TMI_OK;
    if (rc != TMI_OK)
        return rc;
    /* walk the lines backwards: newest first */
    char *text = (char *)buf;
    size_t end = len;
    while (end > 0 && *n < max) {
        size_t start = end;
        while (start > 0 && text[start - 1] != '\n')
            start--;
        if (end > start && text[end - 1] == '\n')
            text[end - 1] = '\0';
        else
            text[end] = '\0';
        char *f[5], *save = NULL, *p = text + start;
        int k = 0;
        for (char *tok = strtok_r(p, "\t", &save); tok != NULL && k < 5;
             tok = strtok_r(NULL, k == 4 ? "" : "\t", &save))
            f[k++] = tok;
        if (k == 5) {
            plat_event ev;
            memset(&ev, 0, sizeof(ev));
            ev.time_ns = strtoll(f[0], NULL, 10);
            ev.id = (int)strtol(f[1], NULL, 10);
            ev.level = (int)strtol(f[2], NULL, 10);
            snprintf(ev.provider, sizeof(ev.provider), "%s", f[3]);
            snprintf(ev.message, sizeof(ev.message), "%s", f[4]);
            if (ev.time_ns >= since_ns && (provider == NULL || ci_equal(ev.provider, provider)) &&
                (event_id < 0 || ev.id == event_id))
                out[(*n)++] = ev;
        }
        end = start > 0 ? start - 1 : 0;
        if (start == 0)
            break;
    }
    free(buf);
    return TMI_OK;
}

/* ---- locks ---- */

struct plat_lock {
    int fd;
};

int plat_lock_acquire(const char *path, plat_lock **out)
{
    plat_lock *l;
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno == EACCES ? TMI_EACCES : errno == ELOOP ? TMI_ELINK : TMI_EIO;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(fd);
        return e == EWOULDBLOCK ? TMI_EBUSY : TMI_EIO;
    }
    l = malloc(sizeof(*l));
    if (l == NULL) {
        close(fd);
        return TMI_ENOMEM;
    }
    l->fd = fd;
    *out = l;
    return TMI_OK;
}

void plat_lock_release(plat_lock *lock)
{
    if (lock == NULL)
        return;
    flock(lock->fd, LOCK_UN);
    close(lock->fd);
    free(lock);
}

/* ---- stop requests ---- */

static volatile sig_atomic_t stop_flag;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

void plat_install_stop_handler(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int plat_stop_requested(void)
{
    return stop_flag != 0;
}

int plat_self_exe(char *buf, size_t buflen)
{
    ssize_t n = readlink("/proc/self/exe", buf, buflen - 1);
    if (n < 0)
        return TMI_EIO;
    if ((size_t)n >= buflen - 1)
        return TMI_ETOOBIG;
    buf[n] = '\0';
    return TMI_OK;
}

long plat_pid(void)
{
    return (long)getpid();
}
