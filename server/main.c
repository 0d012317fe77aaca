/*
 * main.c - tmi-console's entry point: global options, then one subcommand
 * from the table below.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "err.h"
#include "plat.h"
#include "playbook.h"
#include "program_version.h"

/* clang-format off */
static const cli_command *const commands[] = {
    &cli_cmd_scan,
    &cli_cmd_inspect,
    &cli_cmd_repair,
    &cli_cmd_backup,
    &cli_cmd_replace,
    &cli_cmd_restart,
    &cli_cmd_restore,
    &cli_cmd_recover,
    &cli_cmd_backups,
    &cli_cmd_jobs,
    &cli_cmd_history,
    &cli_cmd_audit,
    &cli_cmd_export,
    &cli_cmd_report,
    &cli_cmd_alerts,
    &cli_cmd_serve,
    &cli_cmd_token,
    &cli_cmd_login_url,
    &cli_cmd_service,
    &cli_cmd_demo,
};
/* clang-format on */

/* Internal commands: run by tmi-console itself, left out of --help. */
static const cli_command *const internal_commands[] = {
    &cli_cmd_sandbox_service,
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void print_help(void)
{
    printf("tmi-console %s - find and repair the Trend Micro Management Infrastructure (TMI)\n"
           "file-version fault: ServerProtect patches put 1.12.0.1156 MRF files where Control\n"
           "Manager 6.0 SP3+ / Apex Central needs 1.12.0.1266, and the TMI service stops.\n\n"
           "usage: tmi-console [--data DIR] [--playbook FILE] COMMAND [OPTIONS]\n\n"
           "commands:\n",
           TMI_PROGRAM_VERSION);
    for (size_t i = 0; i < N_COMMANDS; i++)
        printf("  %-10s %s\n", commands[i]->name, commands[i]->summary);
    printf("\nglobal options:\n"
           "  --data DIR        data folder (database, backups, token); default: the\n"
           "                    per-machine folder (%%ProgramData%%\\tmi-console on Windows,\n"
           "                    $XDG_STATE_HOME/tmi-console or ~/.local/state/tmi-console);\n"
           "                    refused when anyone else could change it (see the README)\n"
           "  --playbook FILE   use this playbook (JSON) instead of the built-in one\n"
           "  --help            this text; 'tmi-console COMMAND --help' for a command\n"
           "  --version         print the version\n\n"
           "exit codes: 0 success, 1 a finding (affected, chain broken), 2 an error\n");
}

static const cli_command *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (strcmp(commands[i]->name, name) == 0)
            return commands[i];
    }
    for (size_t i = 0; i < sizeof(internal_commands) / sizeof(internal_commands[0]); i++) {
        if (strcmp(internal_commands[i]->name, name) == 0)
            return internal_commands[i];
    }
    return NULL;
}

/* Take the global options out of argv wherever they stand (before "--"). */
static int take_globals(int *argc, char **argv, const char **data, const char **pb)
{
    int out = 1;
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i];
        const char **dst = NULL;
        const char *val = NULL;
        if (strcmp(a, "--") == 0) {
            while (i < *argc)
                argv[out++] = argv[i++];
            break;
        }
        if (strcmp(a, "--data") == 0 || strncmp(a, "--data=", 7) == 0)
            dst = data;
        else if (strcmp(a, "--playbook") == 0 || strncmp(a, "--playbook=", 11) == 0)
            dst = pb;
        if (dst == NULL) {
            argv[out++] = argv[i];
            continue;
        }
        val = strchr(a, '=');
        if (val != NULL) {
            val++;
        } else if (i + 1 < *argc) {
            val = argv[++i];
        } else {
            cli_error(NULL, "option '%s' needs a value", a);
            return -1;
        }
        if (val[0] == '\0') {
            cli_error(NULL, "option '%.10s' needs a non-empty value", a);
            return -1;
        }
        *dst = val;
    }
    *argc = out;
    argv[out] = NULL;
    return 0;
}

/* Does argv (before "--") hold the option name, alone or as name=value? */
static int has_option(int argc, char **argv, const char *name)
{
    size_t n = strlen(name);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (strncmp(argv[i], name, n) == 0 && (argv[i][n] == '\0' || argv[i][n] == '='))
            return 1;
    }
    return 0;
}

/* The commands that never touch the data folder (inspect reads the files it
 * is given; service install only passes the folder on to the service, which
 * checks it when it starts; `audit verify --file` checks an exported file,
 * often on another machine than the server's). */
static int uses_data_folder(const cli_command *cmd, int argc, char **argv)
{
    if (cmd == &cli_cmd_audit && has_option(argc, argv, "--file"))
        return 0;
    return cmd != &cli_cmd_inspect && cmd != &cli_cmd_service && cmd != &cli_cmd_sandbox_service;
}

/* Refuse a data folder that someone other than this user (and the system's
 * administrators) could change: whoever can write it can replace the API
 * token or a backup, and so drive tmi-console. A folder that does not exist
 * yet is made now, private, and checked like any other (made by someone
 * else in between, it is refused). 0, or -1 after saying why. */
static int check_data_folder(const char *dir)
{
    char why[2048];
    int rc = plat_check_private_dir(dir, why, sizeof(why));
    if (rc == TMI_ENOENT) {
        rc = plat_make_private_dir(dir);
        if (rc == TMI_OK)
            rc = plat_check_private_dir(dir, why, sizeof(why));
    }
    if (rc == TMI_OK)
        return 0;
    if (rc == TMI_EACCES && why[0] != '\0')
        cli_error(NULL,
                  "refusing the data folder %s: %s\n(whoever can change the data folder can "
                  "replace the API token or a backup, and so drive tmi-console)",
                  dir, why);
    else
        cli_error(NULL, "cannot check the data folder %s: %s", dir, tmi_strerror(rc));
    return -1;
}

static int wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    cli_ctx ctx;
    const char *data = NULL;
    const cli_command *cmd;
    char err[512];
    int rc;

    memset(&ctx, 0, sizeof(ctx));
    /* Windows hands main() its arguments in the ANSI code page: take them
     * from the UTF-16 command line instead, as UTF-8 like every other path */
    if ((rc = plat_utf8_args(&argc, &argv)) != TMI_OK) {
        cli_error(NULL, "cannot read the command line: %s", tmi_strerror(rc));
        return CLI_EXIT_ERROR;
    }
    ctx.prog = argv[0];
    if (take_globals(&argc, argv, &data, &ctx.playbook_path) != 0)
        return CLI_EXIT_ERROR;
    if (argc < 2) {
        print_help();
        return CLI_EXIT_ERROR;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        print_help();
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("tmi-console %s\n", TMI_PROGRAM_VERSION);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "help") == 0) {
        cmd = argc > 2 ? find_command(argv[2]) : NULL;
        if (cmd != NULL)
            fputs(cmd->usage, stdout);
        else
            print_help();
        return CLI_EXIT_OK;
    }
    cmd = find_command(argv[1]);
    if (cmd == NULL) {
        cli_error(NULL, "unknown command '%s' (see 'tmi-console --help')", argv[1]);
        return CLI_EXIT_ERROR;
    }
    if (wants_help(argc - 1, argv + 1)) {
        fputs(cmd->usage, stdout);
        return CLI_EXIT_OK;
    }
    if (data != NULL) {
        if (strlen(data) >= sizeof(ctx.data_dir)) {
            cli_error(NULL, "--data: path too long");
            return CLI_EXIT_ERROR;
        }
        snprintf(ctx.data_dir, sizeof(ctx.data_dir), "%s", data);
    } else if ((rc = plat_default_data_dir(ctx.data_dir, sizeof(ctx.data_dir))) != TMI_OK) {
        cli_error(NULL, "cannot find the default data folder (%s); give --data DIR",
                  tmi_strerror(rc));
        return CLI_EXIT_ERROR;
    }
    if (uses_data_folder(cmd, argc - 1, argv + 1) && check_data_folder(ctx.data_dir) != 0)
        return CLI_EXIT_ERROR;
    if (ctx.playbook_path != NULL)
        rc = playbook_load_file(ctx.playbook_path, &ctx.pb, err, sizeof(err));
    else
        rc = playbook_load_default(&ctx.pb);
    if (rc != TMI_OK) {
        cli_error(NULL, "%s", ctx.playbook_path ? err : "built-in playbook is invalid");
        return CLI_EXIT_ERROR;
    }
    rc = cmd->run(&ctx, argc - 1, argv + 1);
    playbook_free(ctx.pb);
    fflush(stdout);
    return rc;
}
