/*
 * test_alert_state.c - the alert states on a real store: which states are
 * open alerts, the open list's order, bound and copies, and the alert list's
 * JSON (open alerts, recent alert rows as a page).
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "alert_list.h"
#include "alert_state.h"
#include "audit.h"
#include "err.h"
#include "store.h"
#include "storetest.h"

static store *fresh(void)
{
    char dir[4096];
    st_tmpdir(dir, sizeof(dir));
    return st_open(dir);
}

static void put(store *s, const char *kind, const char *subject, const char *state, int64_t since,
                int64_t sent)
{
    alert_state_row row;
    memset(&row, 0, sizeof(row));
    snprintf(row.state, sizeof(row.state), "%s", state);
    row.since_ns = since;
    row.sent_ns = sent;
    assert_int_equal(alert_state_put(s, kind, subject, &row), TMI_OK);
}

static void bad_states(void **state)
{
    (void)state;
    assert_true(alert_state_is_bad("verdict", "affected"));
    assert_true(alert_state_is_bad("service", "down"));
    assert_true(alert_state_is_bad("chain", "broken:12"));
    assert_true(alert_state_is_bad("chain", "broken"));
    assert_false(alert_state_is_bad("verdict", "healthy"));
    assert_false(alert_state_is_bad("verdict", "not_installed"));
    assert_false(alert_state_is_bad("verdict", "affectedx"));
    assert_false(alert_state_is_bad("service", "up"));
    assert_false(alert_state_is_bad("chain", "intact"));
    assert_false(alert_state_is_bad("chain", "brokenx"));
    assert_false(alert_state_is_bad("auto_repair", "impossible"));
    assert_false(alert_state_is_bad("other", "down"));
    assert_false(alert_state_is_bad(NULL, "down"));
    assert_false(alert_state_is_bad("service", NULL));
}

static void lists_only_open_oldest_first(void **state)
{
    alert_state_open_list l = {NULL, 0};
    store *s = fresh();
    (void)state;
    assert_int_equal(alert_state_list_open(s, &l), TMI_OK);
    assert_int_equal(l.count, 0);
    alert_state_open_list_free(&l);

    put(s, "verdict", "/srv/tmi", "affected", 3000, 3500);
    put(s, "service", "TMI", "down", 1000, 0);
    put(s, "service", "Other", "up", 500, 500);
    put(s, "chain", "audit", "intact", 100, 100);
    put(s, "auto_repair", "/srv/tmi", "scheduled", 200, 200);
    assert_int_equal(alert_state_list_open(s, &l), TMI_OK);
    assert_int_equal(l.count, 2);
    assert_string_equal(l.rows[0].kind, "service");
    assert_string_equal(l.rows[0].subject, "TMI");
    assert_string_equal(l.rows[0].state, "down");
    assert_int_equal(l.rows[0].since_ns, 1000);
    assert_int_equal(l.rows[0].sent_ns, 0);
    assert_string_equal(l.rows[1].kind, "verdict");
    assert_string_equal(l.rows[1].subject, "/srv/tmi");
    assert_int_equal(l.rows[1].since_ns, 3000);
    assert_int_equal(l.rows[1].sent_ns, 3500);
    alert_state_open_list_free(&l);
    assert_null(l.rows);
    assert_int_equal(l.count, 0);
    alert_state_open_list_free(&l); /* twice is fine */

    /* the verdict turns healthy: closed; the chain breaks: open */
    put(s, "verdict", "/srv/tmi", "healthy", 4000, 4000);
    put(s, "chain", "audit", "broken:7", 5000, 5000);
    assert_int_equal(alert_state_list_open(s, &l), TMI_OK);
    assert_int_equal(l.count, 2);
    assert_string_equal(l.rows[0].kind, "service");
    assert_string_equal(l.rows[1].kind, "chain");
    assert_string_equal(l.rows[1].state, "broken:7");
    alert_state_open_list_free(&l);
    store_close(s);
}

static void open_list_is_bounded(void **state)
{
    alert_state_open_list l = {NULL, 0};
    char name[32];
    store *s = fresh();
    (void)state;
    st_exec(s, "BEGIN");
    for (int i = 0; i < ALERT_STATE_OPEN_MAX + 20; i++) {
        snprintf(name, sizeof(name), "svc%03d", i);
        put(s, "service", name, "down", 1000 + i, 0);
    }
    st_exec(s, "COMMIT");
    assert_int_equal(alert_state_list_open(s, &l), TMI_OK);
    assert_int_equal(l.count, ALERT_STATE_OPEN_MAX);
    assert_string_equal(l.rows[0].subject, "svc000");
    assert_string_equal(l.rows[ALERT_STATE_OPEN_MAX - 1].subject, "svc099");
    alert_state_open_list_free(&l);
    assert_int_equal(alert_state_list_open(NULL, &l), TMI_EINVAL);
    assert_int_equal(alert_state_list_open(s, NULL), TMI_EINVAL);
    store_close(s);
}

static void append_alert(store *s, const char *kind, const char *details)
{
    audit_actor system = {NULL, "system"};
    audit_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.action = "alert";
    ev.target = kind;
    ev.outcome = "raised";
    ev.details = details;
    assert_int_equal(audit_append(s, &system, &ev, NULL), TMI_OK);
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    assert_true(cJSON_IsString(v));
    return v->valuestring;
}

static void list_json(void **state)
{
    audit_event other;
    cJSON *o = NULL, *open, *recent, *items, *first, *next;
    store *s = fresh();
    (void)state;
    memset(&other, 0, sizeof(other));
    other.action = "scan";
    other.outcome = "ok";
    append_alert(s, "outside_change",
                 "{\"message\":\"mrf.exe changed outside tmi-console\",\"file\":\"mrf.exe\","
                 "\"old_version\":\"1.12.0.1266\",\"new_version\":\"1.12.0.1156\"}");
    assert_int_equal(audit_append(s, &st_actor, &other, NULL), TMI_OK);
    append_alert(s, "verdict_change", "{\"message\":\"The TMI folder is now affected\"}");
    append_alert(s, "chain_broken", "[1,2]"); /* not an object: details {} */
    put(s, "verdict", "/srv/tmi", "affected", 1764000000000000000LL, 0);

    assert_int_equal(alert_list_json(s, 0, 2, &o), TMI_OK);
    open = cJSON_GetObjectItemCaseSensitive(o, "open");
    assert_int_equal(cJSON_GetArraySize(open), 1);
    first = cJSON_GetArrayItem(open, 0);
    assert_string_equal(str(first, "kind"), "verdict");
    assert_string_equal(str(first, "subject"), "/srv/tmi");
    assert_string_equal(str(first, "state"), "affected");
    assert_string_equal(str(first, "since"), "2025-11-24T16:00:00.000Z");
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(first, "last_sent")));
    recent = cJSON_GetObjectItemCaseSensitive(o, "recent");
    items = cJSON_GetObjectItemCaseSensitive(recent, "items");
    assert_int_equal(cJSON_GetArraySize(items), 2);
    first = cJSON_GetArrayItem(items, 0);
    assert_string_equal(str(first, "kind"), "chain_broken");
    assert_string_equal(str(first, "message"), "");
    assert_true(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(first, "details")));
    assert_string_equal(str(cJSON_GetArrayItem(items, 1), "kind"), "verdict_change");
    next = cJSON_GetObjectItemCaseSensitive(recent, "next_before");
    assert_true(cJSON_IsNumber(next));
    assert_int_equal((int64_t)next->valuedouble, 3);
    cJSON_Delete(o);

    /* the next page skips the scan row: only alerts */
    assert_int_equal(alert_list_json(s, 3, 2, &o), TMI_OK);
    items =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "recent"), "items");
    assert_int_equal(cJSON_GetArraySize(items), 1);
    first = cJSON_GetArrayItem(items, 0);
    assert_int_equal((int64_t)cJSON_GetObjectItemCaseSensitive(first, "seq")->valuedouble, 1);
    assert_string_equal(str(first, "message"), "mrf.exe changed outside tmi-console");
    assert_string_equal(str(cJSON_GetObjectItemCaseSensitive(first, "details"), "new_version"),
                        "1.12.0.1156");
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(o, "recent"), "next_before")));
    cJSON_Delete(o);

    /* bad arguments: nothing made */
    o = (cJSON *)1;
    assert_int_equal(alert_list_json(s, 0, 0, &o), TMI_EINVAL);
    assert_null(o);
    assert_int_equal(alert_list_json(s, 0, STORE_MAX_LIMIT + 1, &o), TMI_EINVAL);
    assert_int_equal(alert_list_json(s, -1, 10, &o), TMI_EINVAL);
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        ST_TEST("/store/alert-state/bad-states", bad_states),
        ST_TEST("/store/alert-state/lists-only-open-oldest-first", lists_only_open_oldest_first),
        ST_TEST("/store/alert-state/open-list-is-bounded", open_list_is_bounded),
        ST_TEST("/store/alert-list/json", list_json),
    };
    return cmocka_run_group_tests_name("alert_state", tests, NULL, NULL);
}
