/* cli_sandbox.c - `tmi-console sandbox-service`: the sandbox's mrf.exe (internal). */
#include <stdio.h>

#include "cli.h"
#include "mrf_sim.h"

static const char usage[] =
    "usage: tmi-console sandbox-service --scope ROOT --dir TMI_DIR\n\n"
    "Internal: the program of the sandbox's TMI service, started by the sandbox\n"
    "service manager. Like mrf.exe with the wrong MRF files, it logs event 800\n"
    "(errcode=-107) and exits at once unless every file in TMI_DIR is at the\n"
    "expected version; otherwise it runs until it is stopped.\n";

static int run(cli_ctx *ctx, int argc, char **argv)
{
    const char *scope = NULL, *dir = NULL;
    const cli_opt opts[] = {{"--scope", 1, &scope}, {"--dir", 1, &dir}};
    size_t npos = 0;
    if (cli_parse("sandbox-service", argc, argv, opts, 2, NULL, 0, &npos) != 0)
        return CLI_EXIT_ERROR;
    if (scope == NULL || dir == NULL) {
        cli_error("sandbox-service", "--scope and --dir are required");
        return CLI_EXIT_ERROR;
    }
    return mrf_sim_run(ctx->pb, scope, dir);
}

const cli_command cli_cmd_sandbox_service = {
    "sandbox-service", "the sandbox's stand-in for mrf.exe (internal)", usage, run};
