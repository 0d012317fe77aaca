/*
 * problem.h - API errors as RFC 9457 problem details
 * (Content-Type: application/problem+json):
 *
 *     {"type": "about:blank", "title": "Not Found", "status": 404,
 *      "detail": "no route for GET /api/nothing"}
 *
 * `title` is the HTTP reason phrase of `status`; `detail` says what was
 * wrong with this request in plain English. The HTTP status for a TMI_E*
 * error code is chosen here, in problem_status_for(), and nowhere else.
 */
#ifndef TMI_PROBLEM_H
#define TMI_PROBLEM_H

#include <stddef.h>

#define PROBLEM_CONTENT_TYPE "application/problem+json"

/* The HTTP status that answers a TMI_E* code (TMI_OK: 200). */
int problem_status_for(int tmi_err);

/* The reason phrase of an HTTP status ("Not Found"); "Error" if unknown. */
const char *problem_title(int status);

/*
 * The problem document as compact JSON text in a new heap string (caller
 * frees); detail may be NULL (then tmi-console says only the title). NULL
 * when out of memory.
 */
char *problem_json(int status, const char *detail);

#endif
