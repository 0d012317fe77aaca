/*
 * alerts.h - the alert outputs: each alert is delivered, once, to every
 * configured output, and the caller never waits for one of them.
 *
 * Outputs (any of them, or none):
 *   syslog     RFC 5424 messages to a collector over UDP (one datagram each,
 *              at most ALERT_SYSLOG_UDP_MAX bytes) or TCP (octet-counting
 *              framing, RFC 6587); reconnects with backoff.
 *   file       JSON lines: one object per alert appended to a file (created
 *              private when missing, never truncated or rewritten, a link at
 *              the path never followed; see plat_append_record).
 *   event_log  the Windows Application log, under the program's own event
 *              source, whose message table (server/alerts/messages.mc, one
 *              event ID per kind) is compiled into the exe. On POSIX the
 *              records go to the sandbox's log (plat_event_report), with the
 *              same IDs and levels, when a sandbox scope is given.
 *
 * How: alert_outputs_send() formats the alert for each output (no I/O, no
 * waiting) and appends it to that output's bounded queue; each output has a
 * thread of its own that delivers its queue in order. When a queue is full
 * the new alert is dropped for that output and counted. An output that
 * fails (collector down, disk full) is reported once when it starts failing
 * and once when it works again (through cfg->report, default: stderr), and
 * its state, last error and counts are in alert_outputs_status_get(). The syslog
 * output keeps undelivered alerts queued and retries; the file and event-log
 * outputs drop an alert they could not write (counted) and try the next one.
 *
 * Threads: alert_outputs_send, alert_outputs_status_get and
 * alert_outputs_status_json may be called from any thread at any time
 * between alert_outputs_new and alert_outputs_free.
 */
#ifndef TMI_ALERTS_H
#define TMI_ALERTS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* One alert. Every pointer is borrowed for the duration of the call that
 * takes it (alert_outputs_send copies what it needs). Optional text fields
 * are NULL when they do not apply; optional numbers are 0. */
typedef struct alert {
    /* What happened, one of ALERT_KINDS: "verdict_change", "outside_change",
     * "job_failed", "service_down", "chain_broken". Required. */
    const char *kind;
    /* RFC 5424 severity 0..7 (3 error, 4 warning, 5 notice, 6 informational).
     * The Windows event type follows it: 0-3 error, 4 warning, 5-7
     * information. */
    int severity;
    /* When it happened: ns since the Unix epoch, UTC; >= 0. */
    int64_t time_ns;
    /* One line of English for people ("TMI files changed outside
     * tmi-console: mrf.exe is 1.12.0.1156 again"). Required; any bytes
     * (malformed UTF-8 and control characters are shown as U+FFFD). */
    const char *message;
    /* The scan's verdict after the change ("affected", "healthy",
     * "not_installed"): a token of 1..32 printable ASCII characters. */
    const char *verdict;
    /* The TMI folder, and the file concerned: free text (paths). */
    const char *tmi_dir;
    const char *file;
    /* The file's version before and after ("1.12.0.1156"): tokens of 1..32
     * printable ASCII characters. */
    const char *old_version, *new_version;
    /* Its SHA-256 before and after: 64 hex digits. */
    const char *old_sha256, *new_sha256;
    /* The tmi-console job concerned (its id), 0 when none. */
    int64_t job;
    /* Who made the change: "job", "outside" or "policy" (a token as
     * verdict). */
    const char *changed_by;
    /* The audit row that records this alert (its seq), 0 when none. */
    int64_t audit_seq;
} alert;

/* The event source of the Application log the alerts are written under
 * (the default app name; `tmi-console service install` registers it). */
#define ALERT_EVENT_SOURCE "tmi-console"

/* The kinds and their event IDs in the Windows message table
 * (server/alerts/messages.mc; the Windows build checks that the two agree). */
#define ALERT_EVENT_VERDICT_CHANGE 1001
#define ALERT_EVENT_OUTSIDE_CHANGE 1002
#define ALERT_EVENT_JOB_FAILED     1003
#define ALERT_EVENT_SERVICE_DOWN   1004
#define ALERT_EVENT_CHAIN_BROKEN   1005

/* The event ID of kind, or 0 when kind is not one of the kinds above. */
unsigned alert_kind_event_id(const char *kind);

/* Check a against the rules above. TMI_OK, or TMI_EINVAL with a one-line
 * reason in err ("kind 'x' is not known", "new_sha256 is not 64 hex
 * digits"). */
int alert_validate(const alert *a, char *err, size_t errlen);

/* Where alerts go. Strings are copied by alert_outputs_new. */
typedef struct alert_outputs_config {
    /* "udp://HOST:PORT" or "tcp://HOST:PORT" (HOST an IPv4 address or a DNS
     * name, resolved when the output starts and again at each reconnect), or
     * NULL for no syslog output. See alert_syslog_url_parse. */
    const char *syslog_url;
    /* The syslog facility, 0..23 (default 3, "daemon"). */
    int syslog_facility;
    /* The JSON-lines file, or NULL for none. */
    const char *file_path;
    /* 1: write to the event log: the Windows Application log, or on POSIX
     * the sandbox's log in event_log_scope (the target's root), which is then
     * required. The scope is ignored on Windows, so the target's root can be
     * given on every system. */
    int event_log;
    const char *event_log_scope;
    /* APP-NAME in syslog, "app" in JSON, the event source on Windows:
     * 1..48 printable ASCII characters (default "tmi-console"). */
    const char *app_name;
    /* HOSTNAME in syslog, "host" in JSON: 1..255 printable ASCII characters,
     * or NULL for this machine's name (plat_host_name; "-", syslog's nil
     * value, when that name is not printable ASCII). */
    const char *hostname;
    /* Most alerts waiting per output (default 256; 1..65536). */
    size_t queue_max;
    /* Syslog reconnect backoff: the first wait and the longest (defaults 250
     * and 30000 ms); the wait doubles after each failed attempt. */
    unsigned retry_min_ms, retry_max_ms;
    /* TCP: the longest wait for a connection and for one message to be
     * taken by the collector (defaults 3000 and 5000 ms). */
    unsigned connect_timeout_ms, send_timeout_ms;
    /* How long alert_outputs_free keeps delivering what is queued (default
     * 2000 ms). */
    unsigned flush_ms;
    /* Called (from an output's thread) with one line of English when an
     * output starts failing, starts dropping alerts, or works again; NULL:
     * "tmi-console: alerts: LINE" on stderr. Must not call back into this
     * module. */
    void (*report)(void *arg, const char *line);
    void *report_arg;
} alert_outputs_config;

/* Fill cfg with the defaults above and no output. */
void alert_outputs_config_init(alert_outputs_config *cfg);

typedef struct alert_outputs alert_outputs;

/*
 * Check cfg and start a thread per configured output (a config with no
 * output gives an object that accepts alerts and does nothing). Nothing is
 * sent, resolved or written here: a collector that is down or a file that
 * cannot be written is reported by the output's thread, never an error of
 * this call. TMI_OK with *out set (free with alert_outputs_free);
 * TMI_EINVAL with a one-line reason in err (a malformed syslog URL, a bad
 * facility, app name, host name, queue size or timeout, event_log without a
 * scope on POSIX); TMI_ENOMEM, TMI_EIO (no thread or socket could be made).
 */
int alert_outputs_new(const alert_outputs_config *cfg, alert_outputs **out, char *err,
                      size_t errlen);

/*
 * Queue a for every configured output and return at once: the time it
 * takes does not depend on the outputs' state (formatting and a short lock;
 * no I/O). TMI_OK when a was taken (queued for each output, or dropped and
 * counted where that output's queue is full); TMI_EINVAL when a breaks the
 * rules of alert_validate (nothing queued); TMI_ENOMEM (nothing queued for
 * the outputs that could not get their copy; counted as dropped). o NULL is
 * allowed: TMI_OK, nothing done.
 */
int alert_outputs_send(alert_outputs *o, const alert *a);

/* The outputs, in this order in the status. */
enum { ALERT_OUT_SYSLOG, ALERT_OUT_FILE, ALERT_OUT_EVENT_LOG, ALERT_OUT_COUNT };

/* An output's state. */
enum {
    ALERT_STATE_UNKNOWN = 0, /* nothing tried yet */
    ALERT_STATE_OK,          /* the last attempt worked */
    ALERT_STATE_FAILING,     /* the last attempt failed: see error */
};

#define ALERT_TARGET_MAX 4200 /* a path, and words around it */
#define ALERT_ERROR_MAX  512

typedef struct alert_output_status {
    int configured;
    int state;                     /* ALERT_STATE_* */
    char target[ALERT_TARGET_MAX]; /* "tcp://HOST:PORT", the file's path, "Application log" */
    char error[ALERT_ERROR_MAX];   /* the last error ("" when none), kept after recovery */
    int64_t error_ns;              /* when it happened (0: never) */
    int64_t last_sent_ns;          /* the last delivery (0: none yet) */
    uint64_t sent;                 /* delivered: written, or handed to the network */
    uint64_t dropped;              /* lost: queue full, not writable, left at shutdown */
    size_t queued;                 /* waiting now */
} alert_output_status;

typedef struct alert_outputs_status {
    alert_output_status out[ALERT_OUT_COUNT];
} alert_outputs_status;

/* A consistent snapshot of each output (a NULL o gives "not configured"). */
void alert_outputs_status_get(alert_outputs *o, alert_outputs_status *st);

/*
 * The status as a new JSON object, for GET /api/status (caller frees with
 * cJSON_Delete; NULL when out of memory):
 *   {"syslog":    {"configured": true, "target": "tcp://10.0.0.5:514",
 *                  "working": false, "error": "cannot connect to ...",
 *                  "error_time": "2026-...Z", "last_sent": null,
 *                  "sent": 3, "dropped": 0, "queued": 2},
 *    "file":      {...}, "event_log": {...}}
 * "working" is null until something was tried; an output not configured has
 * "configured": false, "target": null and zero counts.
 */
cJSON *alert_outputs_status_json(alert_outputs *o);

/*
 * Stop the outputs: each goes on delivering what is queued for at most
 * cfg->flush_ms, then stops; what is left is counted as dropped and
 * reported. Returns within flush_ms, unless an output is inside a system
 * call that cannot be cut (a TCP connect, up to connect_timeout_ms; a DNS
 * lookup; a write to a hung disk): then it waits at most
 * max(connect_timeout_ms, 1 s) more, and an output thread still busy after
 * that is left behind with its memory (the process is about to exit).
 * NULL is fine.
 */
void alert_outputs_free(alert_outputs *o);

#endif
