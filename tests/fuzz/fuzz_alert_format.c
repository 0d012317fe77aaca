/* fuzz_alert_format.c - the alert outputs' input from outside: the syslog URL
 * (a command-line option) and the free text of an alert (paths and messages
 * that name files an attacker may have created). The input is split at NUL
 * bytes into a URL, a message, a TMI folder and a file name. Contracts:
 * an accepted URL has a host and a port 1..65535 and no byte outside
 * '!'..'~'; a syslog message stays within its bound, is valid UTF-8 and has
 * no line end; the JSON line is one line of valid JSON. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "alert_format.h"
#include "err.h"
#include "strutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The next NUL-terminated piece of data (a copy), or "" past the end. */
static char *piece(const uint8_t *data, size_t size, size_t *pos)
{
    size_t start = *pos, n = 0;
    char *s;
    while (start + n < size && data[start + n] != 0)
        n++;
    s = malloc(n + 1);
    if (s == NULL)
        __builtin_trap();
    memcpy(s, data + start, n);
    s[n] = '\0';
    *pos = start + n + (start + n < size);
    return s;
}

static void check_url(const char *url)
{
    alert_syslog_url u;
    char err[256];
    if (alert_syslog_url_parse(url, &u, err, sizeof(err)) != TMI_OK)
        return;
    if (u.host[0] == '\0' || u.port < 1 || u.port > 65535)
        __builtin_trap();
    for (const char *p = u.host; *p; p++)
        if (*p < '!' || *p > '~' || *p == ':' || *p == '/')
            __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const alert_syslog_origin origin = {3, "host", "tmi-console", 1};
    static char buf[ALERT_SYSLOG_UDP_MAX];
    size_t pos = 0, n, len = 0;
    char *url = piece(data, size, &pos), *msg = piece(data, size, &pos);
    char *dir = piece(data, size, &pos), *file = piece(data, size, &pos), *line;
    alert a = {.kind = "outside_change", .severity = 4, .time_ns = 0, .message = msg};
    cJSON *j;
    check_url(url);
    a.tmi_dir = dir;
    a.file = file;
    n = alert_syslog_format(&a, &origin, buf, sizeof(buf));
    if (n == 0 || n > sizeof(buf) || !str_utf8_valid(buf, n) || memchr(buf, '\n', n) != NULL)
        __builtin_trap();
    line = alert_json_line(&a, "host", "tmi-console", &len);
    if (line == NULL || len == 0 || line[len - 1] != '\n' || strchr(line, '\n') != line + len - 1)
        __builtin_trap();
    j = cJSON_Parse(line);
    if (j == NULL)
        __builtin_trap();
    cJSON_Delete(j);
    free(line);
    free(url);
    free(msg);
    free(dir);
    free(file);
    return 0;
}
