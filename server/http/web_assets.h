/*
 * web_assets.h - the files of web/ (index.html, app.js, app.css,
 * openapi.json, ...), embedded into the binary at build time.
 *
 * cmake/Embed.cmake turns every regular file in web/ and in its folders one
 * level down into a constant byte array and a row of the table behind these
 * functions, so the server needs no document root and cannot be made to
 * serve anything else. Names are paths relative to web/ ("app.css",
 * "js/api.js"); each array is followed by a NUL byte not counted in len, so
 * text assets can be used as C strings.
 */
#ifndef TMI_WEB_ASSETS_H
#define TMI_WEB_ASSETS_H

#include <stddef.h>

typedef struct web_asset {
    const char *name;          /* "app.css", "js/api.js" */
    const unsigned char *data; /* len bytes, then a NUL */
    size_t len;
    const char *content_type; /* from the extension: "text/javascript; charset=utf-8" */
} web_asset;

/* The asset called name (exact, case-sensitive), or NULL. */
const web_asset *web_asset_find(const char *name);

#endif
