/* page.c - the JSON shape of a page of rows (see page.h). */
#include "page.h"

#include <cjson/cJSON.h>

cJSON *page_json(cJSON *items, size_t count, size_t limit, int64_t next)
{
    cJSON *o = items != NULL ? cJSON_CreateObject() : NULL;
    if (o == NULL) {
        cJSON_Delete(items);
        return NULL;
    }
    cJSON_AddItemToObject(o, "items", items);
    if (count >= limit && count > 0 && next > 0) {
        if (cJSON_AddNumberToObject(o, "next_before", (double)next) == NULL)
            goto fail;
    } else if (cJSON_AddNullToObject(o, "next_before") == NULL) {
        goto fail;
    }
    return o;
fail:
    cJSON_Delete(o);
    return NULL;
}
