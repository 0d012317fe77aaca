/*
 * plat.h - the one platform interface. Backends: plat_posix.c and
 * plat_win32.c, chosen by CMake. Everything above core/plat/ is portable.
 *
 * Paths are UTF-8 at this interface (backends convert to UTF-16 at the Win32
 * call). Every error is a TMI_E* code from err.h, translated from errno /
 * GetLastError() once, inside the backend.
 *
 * File system calls go through the table `plat` so that tests can replace one
 * entry to inject a failure at any step (save the old pointer, restore after).
 *
 * Links: a "link" is a symbolic link (POSIX) or a name-surrogate reparse
 * point - a symbolic link or a junction (Windows; other reparse points, such
 * as deduplicated files, are ordinary files). Only the last component of a
 * path is examined: folders on the way are the administrator's layout. No
 * write ever goes through a link: write_file and plat_write_file_private
 * remove what is at the name (the link itself) and create a new file
 * exclusively (O_CREAT|O_EXCL|O_NOFOLLOW; CREATE_NEW with
 * FILE_FLAG_OPEN_REPARSE_POINT), and rename_replace replaces a link at the
 * target name, never what it points to. read_file_nofollow reads a file only
 * when it is not a link.
 */
#ifndef TMI_PLAT_H
#define TMI_PLAT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef _WIN32
#define PLAT_SEP     '\\'
#define PLAT_SEP_STR "\\"
#else
#define PLAT_SEP     '/'
#define PLAT_SEP_STR "/"
#endif

/* Longest path handled anywhere, in bytes of UTF-8 including the NUL. */
#define PLAT_PATH_MAX 4096
/* Most entries list_dir returns before failing with TMI_ETOOBIG. */
#define PLAT_DIR_MAX_ENTRIES 100000

typedef struct plat_stat {
    int is_link; /* the path itself is a link (see the top); what follows then describes
                    what it points to on POSIX (all 0 when that does not exist) and the
                    link itself on Windows */
    int is_dir;
    int is_file;
    uint64_t size;
    int64_t mtime_ns; /* modification time, ns since the Unix epoch (UTC) */
} plat_stat;

/* Names in one folder ("." and ".." left out), in no particular order. */
typedef struct plat_dirlist {
    char **names;
    size_t count;
} plat_dirlist;

/* Release the names; the struct itself is the caller's. Safe on a zeroed one. */
void plat_dirlist_free(plat_dirlist *list);

/* A buffer that successive reads reuse (read_file_nofollow_buf): data is
 * NULL (cap 0) or cap bytes from malloc, and its owner frees it. Reading a
 * set of files into one or a few buffers spares the system mapping fresh
 * pages for every file (measured: a scan of sixteen 1 MiB files whose
 * bytes a second thread still held took a third more CPU time with a new
 * buffer per file). */
typedef struct plat_buf {
    uint8_t *data;
    size_t cap;
} plat_buf;

/* Make buf hold at least need bytes: kept when it does, else replaced by a
 * new one (old contents dropped) with room to spare, so that files of
 * slightly different sizes share it. TMI_ENOMEM leaves buf empty. */
int plat_buf_reserve(plat_buf *buf, size_t need);
/* Free the bytes and empty buf. Safe on an empty one. */
void plat_buf_free(plat_buf *buf);

/* ---- services and the event log ----
 *
 * `scope` names the machine whose services are meant: on Windows NULL (or the
 * system root) is the local Service Control Manager; the POSIX backend keeps
 * a small service database for the sandbox in `<scope>/.services/`, where a
 * service is a real child process (see core/sandbox.h). */
typedef enum plat_svc_state {
    PLAT_SVC_NOT_FOUND = 0,
    PLAT_SVC_STOPPED,
    PLAT_SVC_START_PENDING,
    PLAT_SVC_STOP_PENDING,
    PLAT_SVC_RUNNING,
} plat_svc_state;

typedef struct plat_svc_status {
    plat_svc_state state;
    long pid;          /* process id while running, else 0 */
    int has_exit_code; /* exit_code holds the last exit of the service */
    int exit_code;     /* Win32ExitCode / service-specific code, or the process status */
    char display_name[256];
} plat_svc_status;

/* One event-log record (Windows Application log, or the sandbox's log). */
typedef struct plat_event {
    int64_t time_ns;
    int id;
    int level; /* 1 critical, 2 error, 3 warning, 4 information */
    char provider[128];
    char message[1024];
} plat_event;

struct plat_ops {
    /* Fill *st. TMI_ENOENT when the path does not exist. */
    int (*stat)(const char *path, plat_stat *st);
    /* Read a whole regular file into a new buffer (caller frees). Reads at
     * most max_bytes: a larger file fails with TMI_ETOOBIG and reads nothing.
     * Follows links (for files the user names: playbooks, inspect). */
    int (*read_file)(const char *path, size_t max_bytes, uint8_t **out, size_t *out_len);
    /* read_file for the files tmi-console examines and copies (the TMI
     * folder, the sources, the backups): TMI_ELINK, and nothing read, when
     * path itself is a link; never reads what a link points to. */
    int (*read_file_nofollow)(const char *path, size_t max_bytes, uint8_t **out, size_t *out_len);
    /* read_file_nofollow into buf (see plat_buf), reused when the file and a
     * NUL after it fit, else replaced by a larger one. On success the file
     * is buf->data[0..*out_len). On any result buf is still the caller's. */
    int (*read_file_nofollow_buf)(const char *path, size_t max_bytes, plat_buf *buf,
                                  size_t *out_len);
    /* List a folder. On success the caller frees with plat_dirlist_free(). */
    int (*list_dir)(const char *path, plat_dirlist *out);
    /* Write len bytes to a new file at path and flush them to stable
     * storage. Whatever is at path first is removed (a file, or a link -
     * the link itself); the new file is then created exclusively, never
     * through a link: if something appears at the name in between,
     * TMI_EEXIST and nothing is written. A folder at path: an error. */
    int (*write_file)(const char *path, const void *data, size_t len);
    /* Create one folder. TMI_EEXIST when it exists already. */
    int (*make_dir)(const char *path);
    /* Remove one file. TMI_ENOENT when it does not exist. */
    int (*remove_file)(const char *path);
    /* Rename `from` over `to` atomically (same folder), replacing `to`; a
     * link at `to` is replaced itself, what it points to is not touched. */
    int (*rename_replace)(const char *from, const char *to);

    /* Find a service's short name: the one given if it exists, else the
     * service whose display name is display_name, else the one whose program
     * path ends in image_name (case-insensitive). TMI_ENOENT when none. */
    int (*svc_resolve)(const char *scope, const char *short_name, const char *display_name,
                       const char *image_name, char *name, size_t namelen);
    /* Current state. TMI_OK with state PLAT_SVC_NOT_FOUND for an unknown name. */
    int (*svc_query)(const char *scope, const char *name, plat_svc_status *st);
    /* Ask the service to start / stop; neither waits (see core/service.h). */
    int (*svc_start)(const char *scope, const char *name);
    int (*svc_stop)(const char *scope, const char *name);
    /* Up to max records of provider (and event_id unless it is < 0) written
     * at or after since_ns, newest first; *n is set to how many. */
    int (*event_query)(const char *scope, const char *provider, int event_id, int64_t since_ns,
                       plat_event *out, size_t max, size_t *n);
};

/* The table in use; starts as the OS backend. */
extern struct plat_ops plat;
/* The OS backend, untouched: tests restore entries from it. */
extern const struct plat_ops plat_os_ops;

/* SHA-256 of a buffer (libcrypto on POSIX, CNG on Windows). TMI_EIO if the
 * crypto library fails. */
int plat_sha256(const void *data, size_t len, uint8_t out[32]);

/* Incremental SHA-256 for data that arrives in pieces. The context is opaque
 * and heap-allocated by init; final (or free on error paths) releases it. */
typedef struct plat_sha256_ctx plat_sha256_ctx;
int plat_sha256_init(plat_sha256_ctx **ctx);
int plat_sha256_update(plat_sha256_ctx *ctx, const void *data, size_t len);
int plat_sha256_final(plat_sha256_ctx *ctx, uint8_t out[32]); /* frees ctx */
void plat_sha256_free(plat_sha256_ctx *ctx);

/* Fill buf with cryptographically secure random bytes. */
int plat_random(void *buf, size_t len);

/* Make a folder and any missing parents (like mkdir -p). Existing is fine. */
int plat_make_dirs(const char *path);

/* Create a folder readable by its owner only (mode 0700 on POSIX; on
 * Windows a protected ACL, inherited by what is made inside it: full access
 * for Administrators, SYSTEM and the creating user, nobody else), and its
 * parents as usual. An existing folder is left as it is. */
int plat_make_private_dir(const char *path);

/*
 * Is the folder at path (the data folder) safe to use: can nobody but this
 * user and the system's administrators change it or anything in it?
 *   POSIX: the folder and everything in it are owned by the effective user
 *   and not writable by group or others.
 *   Windows: the owner of each is Administrators, SYSTEM or this process's
 *   user (an elevated administrator owns what it creates), and no
 *   access-allowed ACE grants anyone else a right to change it: write or
 *   append data, add or delete children, delete, change the DACL or the
 *   owner (generic write or all, maximum allowed); a NULL DACL is refused.
 *   CREATOR OWNER / OWNER RIGHTS entries are the owner's, checked above.
 *   Both: a link (plat.h) inside it is refused - tmi-console makes none.
 * The folder itself may be reached through a link (it is what --data names).
 * TMI_OK; TMI_EACCES when it is not safe, with why (a sentence, NUL-ended)
 * naming the first path that is wrong, what is wrong, and the command that
 * fixes it (chmod/chown, or icacls); TMI_ENOENT / TMI_ENOTDIR when there is
 * no such folder; TMI_ETOOBIG past PLAT_DIR_MAX_ENTRIES entries; other
 * codes when it cannot be examined.
 */
int plat_check_private_dir(const char *path, char *why, size_t whylen);

/* Can this process write `path` (a file, or create files in a folder)?
 * TMI_OK, TMI_EACCES, TMI_EROFS or TMI_ENOENT. Advisory: used to give a clear
 * message before a library fails with a vague one. */
int plat_check_writable(const char *path);

/* Remove a folder tree (used for sandboxes and tests only). Missing is fine. */
int plat_remove_tree(const char *path);

/* The per-machine data folder: %ProgramData%\tmi-console on Windows,
 * $XDG_STATE_HOME/tmi-console or ~/.local/state/tmi-console on POSIX. */
int plat_default_data_dir(char *buf, size_t buflen);

/* The absolute, canonical form of path: on POSIX, links and "." / ".."
 * resolved (realpath) when the path exists, else the path made absolute
 * against the working folder; on Windows GetFullPathNameW (absolute, "." and
 * ".." resolved, separators normalised). TMI_ETOOBIG when it does not fit. */
int plat_full_path(const char *path, char *buf, size_t buflen);

/* The default scan root: the system drive ("C:\") on Windows; TMI_ENOTSUP on
 * POSIX, where --root is required. */
int plat_default_root(char *buf, size_t buflen);

/* A string value from HKLM (both registry views are tried, 64-bit first).
 * TMI_ENOENT when absent; TMI_ENOTSUP on POSIX. */
int plat_registry_string(const char *key, const char *value, char *buf, size_t buflen);

/* Name of the user running this process, UTF-8. */
int plat_user_name(char *buf, size_t buflen);

/* Current time in ns since the Unix epoch, UTC. */
int64_t plat_now_ns(void);

/* The local time zone's offset from UTC, in minutes east (Tokyo +540), at
 * the time t_ns (ns since the Unix epoch): daylight saving time included.
 * 0 when the zone cannot be read. */
int plat_utc_offset_minutes(int64_t t_ns);

/* Monotonic clock in ns, for timeouts and measurements. */
int64_t plat_monotonic_ns(void);

/* Sleep for ms milliseconds. */
void plat_sleep_ms(unsigned ms);

/* This process's id. */
long plat_pid(void);

/* Path of the running executable (for the sandbox service to run itself). */
int plat_self_exe(char *buf, size_t buflen);

/* The program's arguments in UTF-8, for main() to use instead of its own argv.
 * Windows: split from the UTF-16 command line (GetCommandLineW,
 * CommandLineToArgvW), so an argument outside the ANSI code page (a Japanese
 * folder name on a server whose code page is 1252) arrives intact; the array
 * and its strings live until the process ends. TMI_EINVAL when the command
 * line is not valid UTF-16, TMI_ENOMEM; *argc and *argv are unchanged then.
 * POSIX: arguments are bytes (UTF-8 by convention), left as they are. */
int plat_utf8_args(int *argc, char ***argv);

/* Append one record to the event log of scope (the sandbox's log on POSIX;
 * the Application log on Windows, where provider must be a registered source
 * or the record is written under it anyway). */
int plat_event_write(const char *scope, const char *provider, int event_id, int level,
                     const char *message);

/* Append one record to the event log, for tmi-console's own alerts: event
 * event_id (0..65535, an ID of the program's message table) from source,
 * level as in plat_event (2 error, 3 warning, 4 information), and n
 * insertion strings (UTF-8, at most PLAT_EVENT_STRINGS_MAX; the message
 * table's texts refer to them as %1, %2, ...).
 * Windows: ReportEventW to the Application log (scope is ignored); the
 * record is written even when source is not registered, but the Event Viewer
 * then shows the strings without the message text. POSIX: the sandbox's log
 * of scope, as plat_event_write with the first string as the message, so the
 * demo and the tests see the same IDs and levels; TMI_ENOTSUP when scope is
 * NULL. TMI_EINVAL for a bad ID, level or count. */
#define PLAT_EVENT_STRINGS_MAX 32
/* 1 where the event log is the sandbox's (scope is needed), 0 on Windows. */
#ifdef _WIN32
#define PLAT_EVENT_LOG_SANDBOX 0
#else
#define PLAT_EVENT_LOG_SANDBOX 1
#endif
int plat_event_report(const char *scope, const char *source, unsigned event_id, int level,
                      const char *const *strings, size_t n);

/* Register this executable as the message file of event source `source` in
 * the Application log: the key
 * HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application\<source>
 * with EventMessageFile (REG_EXPAND_SZ, this exe's full path) and
 * TypesSupported (REG_DWORD 7: error, warning, information). An existing
 * registration is overwritten. TMI_EACCES when not elevated; TMI_ENOTSUP on
 * POSIX (no event log to register with). */
int plat_event_source_install(const char *source);

/* Remove that key. TMI_ENOENT when it is not there; TMI_ENOTSUP on POSIX. */
int plat_event_source_uninstall(const char *source);

/* Register a sandbox service in scope (POSIX only; TMI_ENOTSUP on Windows,
 * where real services are registered with the SCM). `argv` is the program and
 * its arguments, NULL-terminated; image_path is what svc_resolve matches. */
int plat_svc_register(const char *scope, const char *name, const char *display_name,
                      const char *image_path, const char *const *argv);

/* An exclusive lock held by this process on a lock file (flock on POSIX,
 * LockFileEx on Windows), released by plat_lock_release or when the process
 * dies. TMI_EBUSY when another holder has it. */
typedef struct plat_lock plat_lock;
int plat_lock_acquire(const char *path, plat_lock **out);
void plat_lock_release(plat_lock *lock);

/* Install handlers so that SIGINT/SIGTERM (console close on Windows) set a
 * flag instead of killing the process; plat_stop_requested() reads it. */
void plat_install_stop_handler(void);
int plat_stop_requested(void);

/* Append len bytes to the file at path with a single write, for files that
 * other programs tail (the alert file): the file is created when missing,
 * private as with plat_write_file_private, and never truncated or replaced;
 * each call opens and closes it, so a file moved away by log rotation is
 * created anew. Nothing at path is followed: a symbolic link (a reparse
 * point on Windows) is TMI_ELINK, and a folder, pipe or socket is
 * TMI_EINVAL (a character device such as /dev/null is written to). When a
 * non-empty regular file does not end with "\n" (a line cut short by a full
 * disk), a "\n" is written first, so the record starts a line of its own.
 * len 0 only opens (creating) and checks. A write that does not complete is
 * TMI_ENOSPC (or the error the system gives); TMI_EACCES, TMI_EROFS,
 * TMI_ENOENT (no such folder), TMI_ENOTDIR as usual. */
int plat_append_record(const char *path, const void *data, size_t len);

/* This machine's name, for the syslog HOSTNAME field: the fully qualified
 * DNS name on Windows (GetComputerNameExW), gethostname() on POSIX; UTF-8.
 * TMI_ETOOBIG when it does not fit. */
int plat_host_name(char *buf, size_t buflen);

/* ---- elevation, and tmi-console as a Windows service of its own ---- */

/* 1 when this process may change the system, else 0. Windows: the token is
 * elevated (GetTokenInformation(TokenElevation); an administrator's
 * unelevated prompt answers 0). POSIX: always 1 - there is no split token, the
 * file system refuses what the user may not do at each call (TMI_EACCES), and
 * the sandbox, the only use there, needs no root. */
int plat_is_elevated(void);

/* Register this executable with the Service Control Manager as service
 * `name` (own process, demand start, LocalSystem) whose command line is the
 * executable followed by args (NULL-terminated; each quoted as needed).
 * TMI_EEXIST when the name is taken, TMI_EACCES when not elevated;
 * TMI_ENOTSUP on POSIX. */
int plat_service_install(const char *name, const char *display_name, const char *description,
                         const char *const *args);

/* Stop service `name` if it runs (without waiting) and delete it from the
 * SCM. TMI_ENOENT when there is no such service; TMI_ENOTSUP on POSIX. */
int plat_service_uninstall(const char *name);

/* Run main_fn(arg) as the body of this process's service, for a process
 * started by the SCM: connects to the SCM (StartServiceCtrlDispatcherW),
 * reports RUNNING, calls main_fn, and reports STOPPED with its result as the
 * service-specific exit code when it is not 0. A stop or shutdown request
 * from the SCM sets the flag plat_stop_requested() reads, so main_fn must
 * return soon after that flag is set. Returns main_fn's result (>= 0), or
 * TMI_EINVAL when the process was not started by the SCM, TMI_ESERVICE when
 * the SCM connection failed; TMI_ENOTSUP on POSIX. */
int plat_run_as_service(int (*main_fn)(void *), void *arg);

/* ---- for the HTTP server (server/) ---- */

/* Like write_file (a fresh file, created exclusively, never through a link),
 * readable and writable by its owner only (mode 0600 on POSIX, whatever the
 * umask; the Windows backend sets an owner-and-administrators ACL). A file
 * that exists is replaced by a fresh one, so it never keeps a wider mode. */
int plat_write_file_private(const char *path, const void *data, size_t len);

/* Create path, which must not exist yet (an existing file or link there is
 * TMI_EEXIST: nothing is followed or overwritten), and open it for writing as
 * a binary stdio stream in *out; the caller fcloses it. The file gets the
 * default permissions, as with fopen. The path is UTF-8 on every platform
 * (the C runtime's fopen on Windows takes the ANSI code page). */
int plat_fopen_new(const char *path, FILE **out);

/* Put stdout in binary mode, so that bytes written (CSV's CRLF) reach it
 * unchanged; Windows' C runtime translates "\n" otherwise. No-op on POSIX. */
void plat_stdout_binary(void);

/* Run fn(arg) on a new detached thread. TMI_OK, or TMI_EIO / TMI_ENOMEM when
 * no thread could be made (fn is then not called). */
int plat_thread_start(void (*fn)(void *), void *arg);

/* A mutex for short critical sections between threads of one process.
 * plat_mutex_new: TMI_OK with *out set, or TMI_ENOMEM. lock/unlock never fail
 * on a valid mutex; free accepts NULL. */
typedef struct plat_mutex plat_mutex;
int plat_mutex_new(plat_mutex **out);
void plat_mutex_lock(plat_mutex *m);
void plat_mutex_unlock(plat_mutex *m);
void plat_mutex_free(plat_mutex *m);

/* A condition variable, used with a plat_mutex. wait releases m (held by
 * the caller), sleeps until signalled (spurious wake-ups happen: callers
 * loop on their condition) and takes m again. new: TMI_OK or TMI_ENOMEM;
 * free accepts NULL. */
typedef struct plat_cond plat_cond;
int plat_cond_new(plat_cond **out);
void plat_cond_wait(plat_cond *c, plat_mutex *m);
void plat_cond_signal(plat_cond *c);
void plat_cond_broadcast(plat_cond *c);
void plat_cond_free(plat_cond *c);

/* Run fn(arg) on a new thread that plat_thread_join waits for (and frees).
 * TMI_OK with *out set, or TMI_EIO / TMI_ENOMEM (fn is then not called). */
typedef struct plat_thread plat_thread;
int plat_thread_spawn(void (*fn)(void *), void *arg, plat_thread **out);
void plat_thread_join(plat_thread *t);

/* The processor the calling thread runs on now, or -1 when unknown. */
int plat_cpu_current(void);

/* Best effort: move the calling thread to a processor other than cpu (one
 * plat_cpu_current gave), when the process may run on another, and leave
 * it free to move again (its affinity is as before). For a helper thread
 * that is to run beside the thread that made it: a new thread starts on
 * its maker's processor, and the scheduler may take milliseconds to
 * spread the two. Windows: sets the thread's ideal processor, a hint. */
void plat_thread_avoid_cpu(int cpu);

/* ---- watching folders (watch_inotify.c, watch_win32.c) ----
 *
 * Change notifications for a set of folders: a file made, written, renamed
 * or removed in one of them, or the folder itself removed or renamed.
 * Notifications say only "something changed" (the caller scans to learn
 * what); they may come in bursts and may be merged. A folder that cannot be
 * watched with notifications (TMI_ENOTSUP: a network path, a file system
 * without them) is the caller's to poll. Waiting costs no CPU. */
typedef struct plat_watch plat_watch;

/* A new, empty watch set. TMI_OK with *out, TMI_ENOMEM, or TMI_ENOTSUP when
 * this system has no notifications at all. */
int plat_watch_new(plat_watch **out);

/* Watch one more folder (at most PLAT_WATCH_MAX). TMI_ENOENT / TMI_ENOTDIR
 * when it is not a folder, TMI_ENOTSUP when it cannot be watched (poll it),
 * TMI_ETOOBIG past the limit. */
#define PLAT_WATCH_MAX 32
int plat_watch_add(plat_watch *w, const char *dir);

/* Forget every folder (to add a new set). */
void plat_watch_clear(plat_watch *w);

/* Wait up to timeout_ms (-1: no limit) for a change in a watched folder or a
 * plat_watch_wake. 1 when a folder changed (the notifications are taken),
 * 0 on timeout or wake, or a TMI_E* code. A watched folder that was removed
 * counts as a change and stops being watched. */
int plat_watch_wait(plat_watch *w, int timeout_ms);

/* Make a plat_watch_wait in another thread return now. */
void plat_watch_wake(plat_watch *w);

void plat_watch_free(plat_watch *w);

/* ---- TCP for the HTTP server (net_posix.c, net_win32.c) ----
 *
 * Sockets are non-blocking once made. Calls return TMI_E* codes; would-block
 * is TMI_EBUSY. plat_net_init must be called once before the first socket
 * (it starts Winsock; nothing on POSIX). */
typedef intptr_t plat_socket;
#define PLAT_SOCKET_NONE ((plat_socket)-1)

int plat_net_init(void);

/* Listen on ip:port (IPv4 dotted; port 0 picks a free one, written to
 * *bound_port). The port is never shared with another process
 * (SO_EXCLUSIVEADDRUSE on Windows). TMI_EBUSY when the port is taken. */
int plat_tcp_listen(const char *ip, int port, int backlog, plat_socket *out, int *bound_port);

/* Accept one pending connection: TMI_OK with *out (non-blocking, no Nagle,
 * not inherited by children) and the peer's IPv4 address in peer (at least
 * 16 bytes); TMI_EBUSY when none is pending. */
int plat_tcp_accept(plat_socket listener, plat_socket *out, char *peer, size_t peerlen);

/* Receive up to len bytes: the count (> 0), 0 when the peer closed its side,
 * TMI_EBUSY when nothing is there yet, or another TMI_E* code. */
long plat_sock_recv(plat_socket s, void *buf, size_t len);

/* Send up to len bytes: the count sent (>= 0; never raises SIGPIPE),
 * TMI_EBUSY when the send buffer is full, or another TMI_E* code. */
long plat_sock_send(plat_socket s, const void *buf, size_t len);

/* No more sends on s (the peer reads an end of stream); receiving goes on. */
void plat_sock_shutdown_send(plat_socket s);

void plat_sock_close(plat_socket s);

/* Wait until a socket is ready or timeout_ms passes (-1: no limit). */
#define PLAT_POLL_IN  1
#define PLAT_POLL_OUT 2
#define PLAT_POLL_ERR 4 /* (got only) error or hang-up */
typedef struct plat_pollfd {
    plat_socket sock;
    short want; /* PLAT_POLL_IN | PLAT_POLL_OUT */
    short got;  /* set by plat_sock_poll */
} plat_pollfd;
/* How many entries are ready (0 on timeout), or a TMI_E* code. */
int plat_sock_poll(plat_pollfd *fds, size_t n, int timeout_ms);

/* ---- client sockets (the syslog alert output, server/alerts/) ----
 *
 * Connection errors are TMI_EREFUSED (nothing listens), TMI_ERESET (reset
 * or closed by the peer), TMI_EUNREACH (no route), TMI_ETIMEDOUT. */

/* The first IPv4 address of host (a DNS name or an IPv4 literal) as dotted
 * text into ip (at least 16 bytes). Blocks for as long as the system's
 * resolver takes (its own timeouts bound it): call it from a thread that may
 * wait. TMI_ENOENT when the name has no IPv4 address, TMI_EUNREACH when the
 * resolver answered "try again later" (no name server reachable). */
int plat_resolve_ipv4(const char *host, char *ip, size_t iplen);

/* Connect a TCP socket to ip:port (IPv4 dotted, port 1..65535), waiting at
 * most timeout_ms. On TMI_OK *out is connected, non-blocking, without Nagle
 * and not inherited by children. TMI_EINVAL for a bad address. */
int plat_tcp_connect(const char *ip, int port, int timeout_ms, plat_socket *out);

/* A non-blocking UDP socket connected to ip:port: each plat_sock_send is one
 * datagram, sent whole or not at all (TMI_ETOOBIG when larger than the
 * system allows). An ICMP "port unreachable" for an earlier datagram may
 * show as TMI_EREFUSED on a later send (or TMI_ERESET on Windows). */
int plat_udp_connect(const char *ip, int port, plat_socket *out);

/* Two connected sockets, to wake a thread waiting in plat_sock_poll
 * (socketpair on POSIX; a loopback TCP pair on Windows, whose accepted end
 * is checked to be the one this process connected). */
int plat_sock_pair(plat_socket pair[2]);

#endif
