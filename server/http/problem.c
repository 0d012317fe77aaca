/* problem.c - problem+json documents and the TMI_E* -> HTTP status mapping. */
#include "problem.h"

#include <stdlib.h>

#include <cjson/cJSON.h>

#include "err.h"

int problem_status_for(int tmi_err)
{
    switch (tmi_err) {
    case TMI_OK:
        return 200;
    case TMI_EINVAL:
    case TMI_EFORMAT:
        return 400;
    case TMI_EAUTH:
        return 401;
    case TMI_EACCES:
        return 403;
    case TMI_ENOENT:
        return 404;
    case TMI_EBUSY:
    case TMI_EEXIST:
    case TMI_ECONFLICT:
        return 409;
    case TMI_ETOOBIG:
        return 413;
    case TMI_ENOTSUP:
        return 501;
    case TMI_ESERVICE:
        return 502;
    case TMI_ENOMEM:
    case TMI_EINTR:
        return 503;
    case TMI_ETIMEDOUT:
        return 504;
    case TMI_ENOSPC:
    case TMI_EROFS:
        return 507;
    default: /* TMI_EIO, TMI_ENOTDIR, TMI_ECORRUPT, TMI_ESCHEMA, unknown */
        return 500;
    }
}

const char *problem_title(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 303:
        return "See Other";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 421:
        return "Misdirected Request";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    case 507:
        return "Insufficient Storage";
    default:
        return "Error";
    }
}

char *problem_json(int status, const char *detail)
{
    char *text = NULL;
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return NULL;
    if (cJSON_AddStringToObject(o, "type", "about:blank") == NULL ||
        cJSON_AddStringToObject(o, "title", problem_title(status)) == NULL ||
        cJSON_AddNumberToObject(o, "status", status) == NULL ||
        cJSON_AddStringToObject(o, "detail", detail != NULL ? detail : problem_title(status)) ==
            NULL)
        goto out;
    text = cJSON_PrintUnformatted(o);
out:
    cJSON_Delete(o);
    return text;
}
