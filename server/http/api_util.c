/* api_util.c - helpers the API handlers share: store, paging, time ranges. */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "api.h"
#include "err.h"
#include "http.h"
#include "page.h"
#include "store.h"
#include "timefmt.h"

int api_store(http_req *req, store **s)
{
    int rc = http_req_store(req, s);
    if (rc != TMI_OK)
        return http_send_problem(req, 503, "the store cannot be opened: %s", tmi_strerror(rc));
    return 0;
}

int api_page(http_req *req, int64_t *before, size_t *limit)
{
    const char *b = req_query_get(&req->query, "before");
    const char *l = req_query_get(&req->query, "limit");
    uint64_t v;
    *before = 0;
    *limit = STORE_DEFAULT_LIMIT;
    if (b != NULL) {
        if (req_parse_u64(b, 1, INT64_MAX, &v) != TMI_OK)
            return http_send_problem(req, 400, "before must be a whole number from 1 to %lld",
                                     (long long)INT64_MAX);
        *before = (int64_t)v;
    }
    if (l != NULL) {
        if (req_parse_u64(l, 1, STORE_MAX_LIMIT, &v) != TMI_OK)
            return http_send_problem(req, 400, "limit must be a whole number from 1 to %d",
                                     STORE_MAX_LIMIT);
        *limit = (size_t)v;
    }
    return 0;
}

static int one_time(http_req *req, const char *name, int *has, int64_t *ns)
{
    const char *v = req_query_get(&req->query, name);
    char err[160];
    *has = 0;
    if (v == NULL)
        return 0;
    if (time_parse(v, ns, err, sizeof(err)) != TMI_OK)
        return http_send_problem(req, 400,
                                 "%s: %s (use YYYY-MM-DD or RFC 3339, e.g. "
                                 "2026-01-31T08:00:00Z; encode '+' as %%2B)",
                                 name, err);
    *has = 1;
    return 0;
}

int api_range(http_req *req, int *has_since, int64_t *since_ns, int *has_until, int64_t *until_ns)
{
    int st = one_time(req, "since", has_since, since_ns);
    if (st == 0)
        st = one_time(req, "until", has_until, until_ns);
    if (st != 0)
        return st;
    if (*has_since && *has_until && *until_ns <= *since_ns)
        return http_send_problem(req, 400, "until must be later than since");
    return 0;
}

int api_send_page(http_req *req, cJSON *items, size_t count, size_t limit, int64_t next)
{
    cJSON *o = page_json(items, count, limit, next);
    int st;
    if (o == NULL)
        return http_send_problem(req, 503, "out of memory");
    st = http_send_json(req, 200, o);
    cJSON_Delete(o);
    return st;
}
