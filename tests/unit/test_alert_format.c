/* test_alert_format.c - what the alert outputs write (server/alerts/
 * alert_format.h): the syslog URL parser with hostile input, RFC 5424
 * messages (exact bytes, escaping, UTF-8 and its BOM, the UDP bound), RFC
 * 6587 octet counting, the JSON line, the event log's insertion strings,
 * and alert_validate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "alert_format.h"
#include "alerts.h"
#include "err.h"
#include "strutil.h"

#define SHA_A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define SHA_B "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define BOM   "\xEF\xBB\xBF"

/* 2026-11-25T10:59:50.123Z */
static const int64_t when = 1795604390123000000LL;

static alert full_alert(void)
{
    alert a = {
        .kind = "outside_change",
        .severity = 4,
        .time_ns = when,
        .message = "mrf.exe changed outside tmi-console",
        .verdict = "affected",
        .tmi_dir = "C:\\TMI",
        .file = "mrf.exe",
        .old_version = "1.12.0.1266",
        .new_version = "1.12.0.1156",
        .old_sha256 = SHA_A,
        .new_sha256 = SHA_B,
        .job = 12,
        .changed_by = "outside",
        .audit_seq = 42,
    };
    return a;
}

/* Does buf[0..n) hold needle (C11 has no memmem)? */
static const char *has(const char *buf, size_t n, const char *needle, size_t len)
{
    for (size_t i = 0; len <= n && i <= n - len; i++)
        if (memcmp(buf + i, needle, len) == 0)
            return buf + i;
    return NULL;
}

static const alert_syslog_origin origin = {3, "srv01.example", "tmi-console", 4242};

/* ---- the URL ---- */

static void url_accepts_the_two_forms(void **state)
{
    alert_syslog_url u;
    char err[256];
    (void)state;
    assert_int_equal(alert_syslog_url_parse("udp://127.0.0.1:514", &u, err, sizeof(err)), TMI_OK);
    assert_int_equal(u.proto, ALERT_PROTO_UDP);
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 514);
    assert_int_equal(u.is_ip, 1);
    assert_int_equal(alert_syslog_url_parse("TCP://Log-1.example.com:65535", &u, err, sizeof(err)),
                     TMI_OK);
    assert_int_equal(u.proto, ALERT_PROTO_TCP);
    assert_string_equal(u.host, "Log-1.example.com");
    assert_int_equal(u.port, 65535);
    assert_int_equal(u.is_ip, 0);
    assert_int_equal(alert_syslog_url_parse("tcp://localhost:1", &u, err, sizeof(err)), TMI_OK);
    assert_int_equal(alert_syslog_url_parse("udp://0.0.0.0:6514", &u, err, sizeof(err)), TMI_OK);
    assert_int_equal(alert_syslog_url_parse("udp://255.255.255.255:514", &u, err, sizeof(err)),
                     TMI_OK);
}

static void url_refuses_hostile_input(void **state)
{
    static const struct {
        const char *url, *why;
    } bad[] = {
        {"", "empty"},
        {"127.0.0.1:514", "expected udp://"},
        {"http://h:80", "unsupported scheme 'http'"},
        {"tls://h:6514", "tls:// (RFC 5425)"},
        {"udp:/h:514", "expected udp://"},
        {"udp://h", "missing :PORT"},
        {"udp://:514", "missing host"},
        {"udp://h:", "bad port"},
        {"udp://h:0", "bad port"},
        {"udp://h:65536", "bad port"},
        {"udp://h:0514", "bad port"},
        {"udp://h:99999999999999999999", "bad port"},
        {"udp://h:-1", "bad port"},
        {"udp://h:+514", "bad port"},
        {"udp://h:514/path", "'/' is not allowed"},
        {"udp://h:514?x=1", "'?' is not allowed"},
        {"udp://user@h:514", "'@' is not allowed"},
        {"udp://[::1]:514", "IPv6"},
        {"udp://::1:514", "more than one ':'"},
        {"udp://h:514:1", "more than one ':'"},
        {"udp://256.1.1.1:514", "not a valid IPv4 address"},
        {"udp://1.2.3:514", "not a valid IPv4 address"},
        {"udp://1.2.3.4.5:514", "not a valid IPv4 address"},
        {"udp://01.2.3.4:514", "not a valid IPv4 address"},
        {"udp://1..2.3:514", "not a valid IPv4 address"},
        {"udp://-h:514", "starts or ends with '-'"},
        {"udp://h-.example:514", "starts or ends with '-'"},
        {"udp://a..b:514", "empty label"},
        {"udp://h.:514", "empty label"},
        {"udp://h_1:514", "only letters, digits"},
        {"udp://h%41:514", "only letters, digits"},
        {"udp://h\x01:514", "control character"},
        {"udp://h :514", "space"},
        {"udp://h\xc3\xa9:514", "non-ASCII"},
        {"udp://h:514\n", "control character"},
    };
    alert_syslog_url u;
    char err[256];
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        memset(&u, 0x5a, sizeof(u));
        if (alert_syslog_url_parse(bad[i].url, &u, err, sizeof(err)) != TMI_EINVAL ||
            strstr(err, bad[i].why) == NULL)
            fail_msg("'%s': expected an error with \"%s\", got \"%s\"", bad[i].url, bad[i].why,
                     err);
        assert_int_equal(u.port, 0); /* zeroed on failure */
        assert_string_equal(u.host, "");
    }
    assert_int_equal(alert_syslog_url_parse(NULL, &u, err, sizeof(err)), TMI_EINVAL);
}

static void url_bounds_lengths(void **state)
{
    char url[1200], label[70], err[256];
    alert_syslog_url u;
    (void)state;
    /* a 63-character label is fine, 64 is not */
    memset(label, 'a', 63);
    label[63] = '\0';
    snprintf(url, sizeof(url), "udp://%s.example:514", label);
    assert_int_equal(alert_syslog_url_parse(url, &u, err, sizeof(err)), TMI_OK);
    snprintf(url, sizeof(url), "udp://%sa.example:514", label);
    assert_int_equal(alert_syslog_url_parse(url, &u, err, sizeof(err)), TMI_EINVAL);
    assert_non_null(strstr(err, "longer than 63"));
    /* a 253-character name is fine, 254 is not */
    snprintf(url, sizeof(url), "udp://%s.%s.%s.%s:514", label, label, label, label);
    url[6 + 253] = '\0';
    strcat(url, ":514");
    assert_int_equal(alert_syslog_url_parse(url, &u, err, sizeof(err)), TMI_OK);
    assert_int_equal(strlen(u.host), 253);
    snprintf(url, sizeof(url), "udp://%s.%s.%s.%s:514", label, label, label, label);
    url[6 + 254] = '\0';
    strcat(url, ":514");
    assert_int_equal(alert_syslog_url_parse(url, &u, err, sizeof(err)), TMI_EINVAL);
    assert_non_null(strstr(err, "longer than 253"));
    /* the whole URL */
    memset(url, 'a', sizeof(url) - 1);
    url[sizeof(url) - 1] = '\0';
    memcpy(url, "udp://", 6);
    assert_int_equal(alert_syslog_url_parse(url, &u, err, sizeof(err)), TMI_EINVAL);
    assert_non_null(strstr(err, "longer than 300"));
}

/* ---- RFC 5424 ---- */

static void syslog_message_exact(void **state)
{
    alert a = full_alert();
    char buf[ALERT_SYSLOG_UDP_MAX];
    const char *want =
        "<28>1 2026-11-25T10:59:50.123Z srv01.example tmi-console 4242 outside_change "
        "[tmi@32473 kind=\"outside_change\" verdict=\"affected\" tmi_dir=\"C:\\\\TMI\" "
        "file=\"mrf.exe\" old_version=\"1.12.0.1266\" new_version=\"1.12.0.1156\" "
        "old_sha256=\"" SHA_A "\" new_sha256=\"" SHA_B "\" job=\"12\" changed_by=\"outside\" "
        "audit_seq=\"42\"] " BOM "mrf.exe changed outside tmi-console";
    size_t n;
    (void)state;
    n = alert_syslog_format(&a, &origin, buf, sizeof(buf));
    assert_int_equal(n, strlen(want));
    assert_memory_equal(buf, want, n);
}

static void syslog_leaves_out_what_is_not_set(void **state)
{
    alert a = {.kind = "chain_broken", .severity = 3, .time_ns = 0, .message = "chain broken"};
    alert_syslog_origin o = {23, "-", "tmi-console", 7};
    char buf[ALERT_SYSLOG_UDP_MAX];
    const char *want = "<187>1 1970-01-01T00:00:00.000Z - tmi-console 7 chain_broken "
                       "[tmi@32473 kind=\"chain_broken\"] " BOM "chain broken";
    size_t n;
    (void)state;
    n = alert_syslog_format(&a, &o, buf, sizeof(buf));
    assert_int_equal(n, strlen(want));
    assert_memory_equal(buf, want, n);
}

static void syslog_escapes_param_values(void **state)
{
    alert a = full_alert();
    char buf[ALERT_SYSLOG_UDP_MAX];
    size_t n;
    (void)state;
    a.tmi_dir = "D:\\a\"b]c";
    a.file = "x]\"\\";
    a.message = "quote \" backslash \\ bracket ] stay as they are";
    n = alert_syslog_format(&a, &origin, buf, sizeof(buf));
    buf[n] = '\0';
    assert_non_null(strstr(buf, " tmi_dir=\"D:\\\\a\\\"b\\]c\" "));
    assert_non_null(strstr(buf, " file=\"x\\]\\\"\\\\\" "));
    /* MSG is not escaped */
    assert_non_null(strstr(buf, "] " BOM "quote \" backslash \\ bracket ] stay as they are"));
}

static void syslog_replaces_bad_bytes(void **state)
{
    alert a = full_alert();
    char buf[ALERT_SYSLOG_UDP_MAX];
    size_t n;
    (void)state;
    a.file = "a\xff"
             "b\nc\x7f"
             "d\xc0\xaf"
             "e\xed\xa0\x80"
             "f\xc2\x85"
             "g\xc3\xa9";
    a.message = "line\r\nbreak\ttab \xe6\x97\xa5\xe6\x9c\xac";
    n = alert_syslog_format(&a, &origin, buf, sizeof(buf));
    assert_true(str_utf8_valid(buf, n));
    buf[n] = '\0';
    /* each bad byte, control and C1 character is U+FFFD; valid UTF-8 stays */
    assert_non_null(strstr(buf, " file=\"a\xef\xbf\xbd"
                                "b\xef\xbf\xbd"
                                "c\xef\xbf\xbd"
                                "d\xef\xbf\xbd\xef\xbf\xbd"
                                "e\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                                "f\xef\xbf\xbd"
                                "g\xc3\xa9\" "));
    assert_non_null(strstr(buf, BOM "line\xef\xbf\xbd\xef\xbf\xbd"
                                    "break\xef\xbf\xbdtab \xe6\x97\xa5\xe6\x9c\xac"));
    assert_null(memchr(buf, '\n', n));
}

/* Long values: the message is cut first, then the paths; never the hashes;
 * the result stays within the bound and valid UTF-8. */
static void syslog_stays_within_the_udp_bound(void **state)
{
    char *big = malloc(100001), *msg = malloc(100001), buf[ALERT_SYSLOG_UDP_MAX];
    alert a = full_alert();
    size_t n;
    (void)state;
    assert_non_null(big);
    assert_non_null(msg);
    for (size_t i = 0; i < 100000; i++)
        big[i] = "]\"\\\xe6\x97\xa5"[i % 6]; /* escapes and 3-byte characters */
    big[100000] = '\0';
    memset(msg, 'm', 100000);
    msg[100000] = '\0';
    a.tmi_dir = big;
    a.file = big;
    a.message = msg;
    n = alert_syslog_format(&a, &origin, buf, sizeof(buf));
    assert_true(n > 0 && n <= sizeof(buf));
    assert_true(str_utf8_valid(buf, n));
    assert_non_null(has(buf, n, SHA_A, 64));
    assert_non_null(has(buf, n, SHA_B, 64));
    assert_non_null(has(buf, n, "audit_seq=\"42\"] " BOM, 19));
    assert_non_null(has(buf, n, "\xe2\x80\xa6\" file=", 10)); /* tmi_dir cut, marked */
    /* the same with a host name of 255 characters */
    {
        char host[256];
        alert_syslog_origin o = origin;
        memset(host, 'h', 255);
        host[255] = '\0';
        o.hostname = host;
        n = alert_syslog_format(&a, &o, buf, sizeof(buf));
        assert_true(n > 0 && n <= sizeof(buf));
        assert_non_null(has(buf, n, SHA_B, 64));
    }
    /* TCP's bound leaves the paths whole up to 1024 bytes */
    {
        char *tcp = malloc(ALERT_SYSLOG_TCP_MAX);
        assert_non_null(tcp);
        a.tmi_dir = "C:\\TMI";
        n = alert_syslog_format(&a, &origin, tcp, ALERT_SYSLOG_TCP_MAX);
        assert_true(n > 2048 && n <= ALERT_SYSLOG_TCP_MAX);
        assert_true(str_utf8_valid(tcp, n));
        free(tcp);
    }
    free(big);
    free(msg);
}

static void octet_counting_frames(void **state)
{
    char buf[64];
    (void)state;
    assert_int_equal(alert_syslog_frame("hello", 5, buf, sizeof(buf)), 7);
    assert_memory_equal(buf, "5 hello", 7);
    assert_int_equal(alert_syslog_frame("", 0, buf, sizeof(buf)), 2);
    assert_memory_equal(buf, "0 ", 2);
    assert_int_equal(alert_syslog_frame("0123456789", 10, buf, sizeof(buf)), 13);
    assert_memory_equal(buf, "10 0123456789", 13);
    assert_int_equal(alert_syslog_frame("hello", 5, buf, 6), 0); /* does not fit */
    assert_int_equal(alert_syslog_frame("hello", 5, buf, 7), 7);
}

/* ---- JSON lines ---- */

static void json_line_has_every_key(void **state)
{
    alert a = full_alert();
    size_t len = 0;
    char *line;
    cJSON *o;
    (void)state;
    a.message = "bad \xff byte, \"quote\"\nand a newline";
    line = alert_json_line(&a, "srv01", "tmi-console", &len);
    assert_non_null(line);
    assert_int_equal(len, strlen(line));
    assert_int_equal(line[len - 1], '\n');
    assert_ptr_equal(strchr(line, '\n'), line + len - 1); /* one line */
    o = cJSON_Parse(line);
    assert_non_null(o);
    assert_string_equal(cJSON_GetObjectItem(o, "time")->valuestring, "2026-11-25T10:59:50.123Z");
    assert_string_equal(cJSON_GetObjectItem(o, "kind")->valuestring, "outside_change");
    assert_int_equal(cJSON_GetObjectItem(o, "event_id")->valueint, ALERT_EVENT_OUTSIDE_CHANGE);
    assert_int_equal(cJSON_GetObjectItem(o, "severity")->valueint, 4);
    assert_string_equal(cJSON_GetObjectItem(o, "severity_name")->valuestring, "warning");
    assert_string_equal(cJSON_GetObjectItem(o, "message")->valuestring,
                        "bad \xef\xbf\xbd byte, \"quote\"\xef\xbf\xbd"
                        "and a newline");
    assert_string_equal(cJSON_GetObjectItem(o, "tmi_dir")->valuestring, "C:\\TMI");
    assert_string_equal(cJSON_GetObjectItem(o, "new_sha256")->valuestring, SHA_B);
    assert_int_equal(cJSON_GetObjectItem(o, "job")->valueint, 12);
    assert_int_equal(cJSON_GetObjectItem(o, "audit_seq")->valueint, 42);
    assert_string_equal(cJSON_GetObjectItem(o, "changed_by")->valuestring, "outside");
    assert_string_equal(cJSON_GetObjectItem(o, "host")->valuestring, "srv01");
    assert_string_equal(cJSON_GetObjectItem(o, "app")->valuestring, "tmi-console");
    assert_int_equal(cJSON_GetArraySize(o), 18);
    cJSON_Delete(o);
    free(line);

    /* what is not set is null, never missing */
    {
        alert b = {.kind = "service_down", .severity = 3, .time_ns = when, .message = "down"};
        line = alert_json_line(&b, "-", "tmi-console", &len);
        assert_non_null(line);
        o = cJSON_Parse(line);
        assert_non_null(o);
        assert_int_equal(cJSON_GetArraySize(o), 18);
        assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "file")));
        assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "job")));
        assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "audit_seq")));
        assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "old_sha256")));
        cJSON_Delete(o);
        free(line);
    }
}

/* ---- the event log ---- */

static void event_strings_in_order(void **state)
{
    alert a = full_alert();
    const char *s[ALERT_EVENT_STRINGS];
    char buf[ALERT_EVENT_BUF_MAX];
    static const char *const want[ALERT_EVENT_STRINGS] = {"mrf.exe changed outside tmi-console",
                                                          "affected",
                                                          "C:\\TMI",
                                                          "mrf.exe",
                                                          "1.12.0.1266",
                                                          "1.12.0.1156",
                                                          SHA_A,
                                                          SHA_B,
                                                          "12",
                                                          "outside",
                                                          "42",
                                                          "2026-11-25T10:59:50.123Z"};
    (void)state;
    assert_true(alert_event_strings(&a, buf, sizeof(buf), s) > 0);
    for (size_t i = 0; i < ALERT_EVENT_STRINGS; i++)
        assert_string_equal(s[i], want[i]);
    /* not set: "-" */
    {
        alert b = {.kind = "job_failed", .severity = 3, .time_ns = when, .message = "failed"};
        assert_true(alert_event_strings(&b, buf, sizeof(buf), s) > 0);
        for (size_t i = 1; i < ALERT_EVENT_STRINGS - 1; i++)
            assert_string_equal(s[i], "-");
    }
    /* a buffer too small is refused, not overrun */
    assert_int_equal(alert_event_strings(&a, buf, 40, s), 0);
}

/* ---- alerts ---- */

static void validate_refuses_bad_alerts(void **state)
{
    alert a = full_alert();
    char err[128];
    (void)state;
    assert_int_equal(alert_validate(&a, err, sizeof(err)), TMI_OK);
    a.kind = "reboot";
    assert_int_equal(alert_validate(&a, err, sizeof(err)), TMI_EINVAL);
    assert_string_equal(err, "kind 'reboot' is not known");
    a = full_alert();
    a.severity = 8;
    assert_int_equal(alert_validate(&a, err, sizeof(err)), TMI_EINVAL);
    a = full_alert();
    a.message = NULL;
    assert_int_equal(alert_validate(&a, err, sizeof(err)), TMI_EINVAL);
    a = full_alert();
    a.new_sha256 = SHA_A "0";
    assert_int_equal(alert_validate(&a, err, sizeof(err)), TMI_EINVAL);
    a = full_alert();
    a.verdict = "affected now";
    assert_int_equal(alert_validate(&a, err, sizeof(err)), TMI_EINVAL);
    a = full_alert();
    a.old_version = "1.2\"]";
    assert_int_equal(alert_validate(&a, err, sizeof(err)), TMI_EINVAL);
    a = full_alert();
    a.time_ns = -1;
    assert_int_equal(alert_validate(&a, err, sizeof(err)), TMI_EINVAL);
    assert_int_equal(alert_validate(NULL, err, sizeof(err)), TMI_EINVAL);
    assert_int_equal(alert_kind_event_id("verdict_change"), ALERT_EVENT_VERDICT_CHANGE);
    assert_int_equal(alert_kind_event_id("chain_broken"), ALERT_EVENT_CHAIN_BROKEN);
    assert_int_equal(alert_kind_event_id("Chain_Broken"), 0);
    assert_int_equal(alert_kind_event_id(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(url_accepts_the_two_forms),
        cmocka_unit_test(url_refuses_hostile_input),
        cmocka_unit_test(url_bounds_lengths),
        cmocka_unit_test(syslog_message_exact),
        cmocka_unit_test(syslog_leaves_out_what_is_not_set),
        cmocka_unit_test(syslog_escapes_param_values),
        cmocka_unit_test(syslog_replaces_bad_bytes),
        cmocka_unit_test(syslog_stays_within_the_udp_bound),
        cmocka_unit_test(octet_counting_frames),
        cmocka_unit_test(json_line_has_every_key),
        cmocka_unit_test(event_strings_in_order),
        cmocka_unit_test(validate_refuses_bad_alerts),
    };
    return cmocka_run_group_tests_name("alerts/format", tests, NULL, NULL);
}
