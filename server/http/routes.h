/*
 * routes.h - the one route table of the HTTP server.
 *
 * Each route names a method, a path pattern, who may call it, whether it
 * takes a JSON body, which query parameters it accepts, and its handler.
 * Every handler has the same signature. The request pipeline (http.c) runs
 * the access check for the route before the handler is called, so a handler
 * never sees an unauthenticated request to a ROUTE_AUTH route.
 *
 * Patterns are the paths of web/openapi.json exactly: literal segments and
 * whole-segment parameters ("/api/files/{name}/history"). A unit test checks
 * that the table and the OpenAPI document list the same method+path pairs.
 */
#ifndef TMI_ROUTES_H
#define TMI_ROUTES_H

#include <stddef.h>

#include "reqparse.h"

struct http_req;

/* A handler answers the request (through the http_send* helpers) and returns
 * the HTTP status it sent. */
typedef int (*route_handler)(struct http_req *req);

typedef enum route_access {
    ROUTE_PUBLIC = 0, /* anyone who passed the guard (health, login, static files) */
    ROUTE_AUTH = 1,   /* a bearer token, or a web session: cookie and page secret */
} route_access;

typedef enum route_body {
    ROUTE_NO_BODY = 0,   /* a request body is refused */
    ROUTE_JSON_BODY = 1, /* an optional application/json body, parsed into req->body */
} route_body;

typedef struct route {
    const char *method;  /* "GET", "POST", "DELETE" */
    const char *pattern; /* "/api/files/{name}/history" */
    route_access access;
    route_body body;
    const char *query; /* accepted query parameters, space-separated; NULL: none */
    route_handler handler;
} route;

#define ROUTE_MAX_PARAMS 2

typedef struct route_params {
    size_t n;
    struct {
        char name[REQ_MAX_NAME];
        char value[REQ_MAX_PATH + 1];
    } p[ROUTE_MAX_PARAMS];
} route_params;

/* The table and its length. */
const route *routes_table(size_t *count);

/*
 * Does a decoded path match pattern? 1 with params filled (parameters match
 * one whole non-empty segment), else 0.
 */
int route_match(const char *pattern, const char *path, route_params *params);

/*
 * Find the route for method and path. Returns 0 with *out and params set;
 * 404 when no pattern matches the path; 405 when some do, but not with this
 * method: then allow (allowlen bytes) lists their methods ("GET, HEAD, POST";
 * HEAD wherever GET is, since a GET route answers HEAD too).
 */
int routes_find(const char *method, const char *path, const route **out, route_params *params,
                char *allow, size_t allowlen);

/* The value of path parameter name, or NULL. */
const char *route_param(const route_params *params, const char *name);

#endif
