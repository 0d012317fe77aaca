/*
 * page.h - the one JSON shape of a page of rows, as the JSON API and the
 * CLI's --json print every keyset-paginated list (audit, history, files,
 * scans):
 *
 *     {"items": [ row, ... ], "next_before": N or null}
 *
 * next_before is the cursor of the next (older) page: pass it as `before`
 * (?before=N, --before N). It is null on the last page, i.e. when the page
 * holds fewer rows than were asked for; a full page always names a next
 * one, which may then be empty.
 */
#ifndef TMI_PAGE_H
#define TMI_PAGE_H

#include <stddef.h>
#include <stdint.h>

struct cJSON;

/*
 * The page object around items (a JSON array: taken over, whatever
 * happens): count rows of limit asked for, next the cursor of the last row
 * (its id or seq). New tree, caller frees; NULL when out of memory (items
 * freed) or when items is NULL.
 */
struct cJSON *page_json(struct cJSON *items, size_t count, size_t limit, int64_t next);

#endif
