/*
 * cli.h - the command-line interface: one table of subcommands, one handler
 * signature, one small option parser.
 *
 * Exit codes (scripts rely on them): 0 success / nothing wrong, 1 a finding
 * (e.g. scan says affected, audit chain broken), 2 an error (bad arguments,
 * unreadable input, failed action).
 */
#ifndef TMI_CLI_H
#define TMI_CLI_H

#include <stddef.h>

#include "plat.h"
#include "playbook.h"
#include "strutil.h"
#include "target.h"

#define CLI_EXIT_OK      0
#define CLI_EXIT_FINDING 1
#define CLI_EXIT_ERROR   2

/* State shared by every subcommand: the global options, resolved once. */
typedef struct cli_ctx {
    const char *prog;             /* argv[0] as invoked */
    char data_dir[PLAT_PATH_MAX]; /* --data, or the platform default */
    const char *playbook_path;    /* --playbook FILE, or NULL for the default */
    playbook *pb;                 /* loaded before the command runs */
} cli_ctx;

typedef struct cli_command {
    const char *name;
    const char *summary; /* one line for `tmi-console --help` */
    const char *usage;   /* the whole `tmi-console NAME --help` text */
    /* argv[0] is the command name; returns a CLI_EXIT_* code. */
    int (*run)(cli_ctx *ctx, int argc, char **argv);
} cli_command;

/* One option of a subcommand. For a flag (takes_value 0) *value is set to "1". */
typedef struct cli_opt {
    const char *name; /* "--root" */
    int takes_value;
    const char **value;
} cli_opt;

/*
 * Parse argv[1..argc) against opts. Options may come before or after the
 * positional arguments; "--name=value" and "--name value" both work; "--"
 * ends the options. Positionals go to pos[0..max_pos). On an unknown option,
 * a missing value or too many positionals, prints a one-line error naming the
 * command to stderr and returns -1; otherwise returns 0 and sets *npos.
 */
int cli_parse(const char *cmd, int argc, char **argv, const cli_opt *opts, size_t nopts, char **pos,
              size_t max_pos, size_t *npos);

/* Parse a whole decimal number 0..max (digits only, no sign or spaces).
 * Returns 0 and sets *out, or -1. */
int cli_parse_size(const char *s, size_t max, size_t *out);

/* Print "tmi-console CMD: message" to stderr (printf-style). */
void cli_error(const char *cmd, const char *fmt, ...) TMI_PRINTF(2, 3);

/* Print a cJSON tree (pretty) followed by a newline to stdout; frees nothing. */
struct cJSON;
int cli_print_json(const struct cJSON *json);

/* Print a scan for a person (aligned, verdict first) or as JSON; returns the
 * scan's exit code (0 healthy / not_installed, 1 affected) or 2 on error. */
struct scan_result;
int cli_print_scan(const struct scan_result *r, int json);

/* Resolve the target from the --root, --tmi-dir and --service options (each
 * may be NULL), printing the error as `tmi-console CMD: ...`. 0 or -1. */
int cli_target(const cli_ctx *ctx, const char *cmd, const char *root, const char *tmi_dir,
               const char *service, tmi_target *t);

/* A temporary name beside out for a file written and then renamed over
 * it: "OUT.tmp-" and 8 random hex digits. 0, or -1 when the name does not
 * fit buflen bytes or no random bytes could be had. */
int cli_temp_name(const char *out, char *buf, size_t buflen);

/* Open the store of data_dir (store_open_ex flags), printing the error. With
 * STORE_OPEN_EXISTING a missing store is said as "nothing recorded yet ...
 * (run 'tmi-console scan' first, or give --data DIR)". TMI_OK or the error. */
typedef struct store store;
int cli_open_store(const char *cmd, const char *data_dir, unsigned flags, store **s);

/* The lock file a running `serve` holds in its data folder, and the file
 * that tells `login-url` its port (cli_token.c). */
#define CLI_SERVER_LOCK     "server.lock"
#define CLI_SERVER_JSON     "server.json"
#define CLI_SERVER_JSON_MAX 4096

/* Is a `serve` running on data_dir (is its lock held)? 1 yes, 0 no (also
 * when the folder does not exist), < 0 a TMI_E* error. */
int cli_server_running(const char *data_dir);

/* Append an audit row by this process's user (auth "cli"); a failure is
 * reported on stderr and returned. (cli_token.c, as the three below.) */
int cli_audit(store *s, const char *cmd, const char *action, const char *target,
              const char *outcome, const char *details);

/* Read the API token of data_dir into hex (AUTH_TOKEN_HEX_LEN + 1 bytes),
 * making one (and its audit row in s) when there is none. */
int cli_ensure_token(const char *cmd, store *s, const char *data_dir, char *hex);

/* Mint a one-time login code in s and write the login URL for port into url
 * (with its audit row). */
int cli_mint_login_url(const char *cmd, store *s, int port, char *url, size_t urllen);

/* The subcommands, each defined in its own cli_*.c file. */
extern const cli_command cli_cmd_inspect;
extern const cli_command cli_cmd_scan;
extern const cli_command cli_cmd_demo;
extern const cli_command cli_cmd_serve;
extern const cli_command cli_cmd_token;
extern const cli_command cli_cmd_login_url;
extern const cli_command cli_cmd_service;
extern const cli_command cli_cmd_sandbox_service;
extern const cli_command cli_cmd_repair;
extern const cli_command cli_cmd_replace;
extern const cli_command cli_cmd_backup;
extern const cli_command cli_cmd_restart;
extern const cli_command cli_cmd_restore;
extern const cli_command cli_cmd_backups;
extern const cli_command cli_cmd_jobs;
extern const cli_command cli_cmd_recover;
extern const cli_command cli_cmd_history;
extern const cli_command cli_cmd_audit;
extern const cli_command cli_cmd_export;
extern const cli_command cli_cmd_report;
extern const cli_command cli_cmd_alerts;

#endif
