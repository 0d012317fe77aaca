/* cli.c - option parsing and output helpers shared by the subcommands. */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "hex.h"
#include "pathutil.h"
#include "plat.h"
#include "store.h"

void cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "tmi-console%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static const cli_opt *find_opt(const cli_opt *opts, size_t nopts, const char *name, size_t len)
{
    for (size_t i = 0; i < nopts; i++) {
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0)
            return &opts[i];
    }
    return NULL;
}

int cli_parse(const char *cmd, int argc, char **argv, const cli_opt *opts, size_t nopts, char **pos,
              size_t max_pos, size_t *npos)
{
    int only_pos = 0;
    *npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!only_pos && strcmp(a, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (!only_pos && a[0] == '-' && a[1] != '\0') {
            const char *eq = strchr(a, '=');
            size_t len = eq ? (size_t)(eq - a) : strlen(a);
            const cli_opt *o = find_opt(opts, nopts, a, len);
            if (o == NULL) {
                cli_error(cmd, "unknown option '%.*s' (see 'tmi-console %s --help')", (int)len, a,
                          cmd);
                return -1;
            }
            if (!o->takes_value) {
                if (eq != NULL) {
                    cli_error(cmd, "option '%s' takes no value", o->name);
                    return -1;
                }
                *o->value = "1";
            } else if (eq != NULL) {
                *o->value = eq + 1;
            } else if (i + 1 < argc) {
                *o->value = argv[++i];
            } else {
                cli_error(cmd, "option '%s' needs a value", o->name);
                return -1;
            }
            continue;
        }
        if (*npos >= max_pos) {
            cli_error(cmd, "unexpected argument '%s' (see 'tmi-console %s --help')", a, cmd);
            return -1;
        }
        pos[(*npos)++] = argv[i];
    }
    return 0;
}

int cli_print_json(const cJSON *json)
{
    char *text = cJSON_Print(json);
    if (text == NULL) {
        cli_error(NULL, "out of memory");
        return -1;
    }
    fputs(text, stdout);
    fputc('\n', stdout);
    free(text);
    return 0;
}

int cli_parse_size(const char *s, size_t max, size_t *out)
{
    size_t v = 0;
    if (s == NULL || *s == '\0')
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        if (v > (max - (size_t)(*s - '0')) / 10)
            return -1;
        v = v * 10 + (size_t)(*s - '0');
    }
    *out = v;
    return 0;
}

int cli_target(const cli_ctx *ctx, const char *cmd, const char *root, const char *tmi_dir,
               const char *service, tmi_target *t)
{
    char err[PLAT_PATH_MAX + 128];
    if (tmi_target_init(t, ctx->pb, root, tmi_dir, service, err, sizeof(err)) != TMI_OK) {
        cli_error(cmd, "%s", err);
        return -1;
    }
    return 0;
}

int cli_open_store(const char *cmd, const char *data_dir, unsigned flags, store **s)
{
    char err[512];
    int rc = store_open_ex(data_dir, flags, s, err, sizeof(err));
    if (rc == TMI_ENOENT && (flags & STORE_OPEN_EXISTING))
        cli_error(cmd,
                  "nothing recorded yet: no database in %s (run 'tmi-console scan' first, or "
                  "give --data DIR)",
                  data_dir);
    else if (rc != TMI_OK)
        cli_error(cmd, "%s", err);
    return rc;
}

int cli_server_running(const char *data_dir)
{
    char path[PLAT_PATH_MAX];
    plat_lock *lock = NULL;
    plat_stat st;
    int rc;
    if (plat.stat(data_dir, &st) != TMI_OK)
        return 0;
    rc = path_join(path, sizeof(path), data_dir, CLI_SERVER_LOCK);
    if (rc == TMI_OK)
        rc = plat_lock_acquire(path, &lock);
    if (rc == TMI_EBUSY)
        return 1;
    if (rc != TMI_OK)
        return rc;
    plat_lock_release(lock);
    return 0;
}

int cli_temp_name(const char *out, char *buf, size_t buflen)
{
    uint8_t r[4];
    char h[9];
    if (plat_random(r, sizeof(r)) != TMI_OK)
        return -1;
    hex_encode(r, sizeof(r), h);
    int n = snprintf(buf, buflen, "%s.tmp-%s", out, h);
    return n < 0 || (size_t)n >= buflen ? -1 : 0;
}
