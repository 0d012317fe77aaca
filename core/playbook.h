/*
 * playbook.h - the fault described as data.
 *
 * A playbook names the files of the set, the version they must have, the
 * versions known to cause the fault, where the TMI folder may be, where good
 * copies may be found (with the product variant each location belongs to),
 * the service, and the event-log signature. The engine (detect.h, repair) is
 * generic; the default playbook for the TMI/MRF 1.12.0.1156 fault is compiled
 * in as JSON text and parsed by the same loader as --playbook FILE.
 *
 * Ownership: playbook_load_* return a heap object the caller releases with
 * playbook_free(). All strings inside are owned by the playbook.
 */
#ifndef TMI_PLAYBOOK_H
#define TMI_PLAYBOOK_H

#include <stddef.h>
#include <stdint.h>

#include "version.h"

#define PLAYBOOK_MAX_BYTES (256 * 1024) /* largest playbook file accepted */
#define PLAYBOOK_MAX_FILES 32
#define PLAYBOOK_MAX_LIST  16  /* folders, sources, known-bad versions, tokens */
#define PLAYBOOK_MAX_STR   512 /* longest single string value, bytes */

typedef struct playbook_source {
    char *glob;    /* relative to the TMI folder, '/'-separated, '*' '?' per part */
    char *variant; /* product variant this location belongs to */
} playbook_source;

#define PLAYBOOK_MAX_THUMBPRINTS 16 /* pinned signer certificates */

/*
 * The signature policy (see detect.h for how a scan applies it):
 *   signer_org      the subject O every source file's signer must have
 *                   (NULL: any publisher whose signature is valid);
 *   thumbprints     when any are given, the signer's certificate must also
 *                   be one of them (SHA-256 of its DER);
 *   allow_unsigned  an unsigned source file may replace a file that is
 *                   unsigned too (absent, or without a signature), never a
 *                   signed one; false: every source file must be signed;
 *   trust_store     a PEM bundle of trusted roots (NULL: the system's).
 * A source file whose signature is invalid is never accepted, whatever the
 * policy.
 */
typedef struct playbook_sig_policy {
    char *signer_org;
    uint8_t thumbprints[PLAYBOOK_MAX_THUMBPRINTS][32];
    size_t n_thumbprints;
    int allow_unsigned;
    char *trust_store;
} playbook_sig_policy;

typedef struct playbook {
    char *id;
    char *title;
    char *note; /* shown to the admin: why the old version is a fault */
    tmi_version expected_version;
    tmi_version known_bad[PLAYBOOK_MAX_LIST];
    size_t n_known_bad;
    char *files[PLAYBOOK_MAX_FILES];
    size_t n_files;
    char *tmi_folders[PLAYBOOK_MAX_LIST]; /* relative to the root, '/'-separated */
    size_t n_tmi_folders;
    char *registry_key;   /* under HKLM, e.g. "SOFTWARE\\TrendMicro\\TMI"; may be NULL */
    char *registry_value; /* e.g. "HomeDirectory"; may be NULL */
    playbook_source sources[PLAYBOOK_MAX_LIST];
    size_t n_sources;
    char *service_display_name;
    char *service_image_name;
    char *service_short_name; /* may be NULL: resolved at run time */
    char *event_provider;
    int event_id;
    char *event_tokens[PLAYBOOK_MAX_LIST];
    size_t n_event_tokens;
    size_t max_file_size; /* bounded read of each file, bytes */
    playbook_sig_policy sig;
} playbook;

/*
 * Parse and validate playbook JSON. Unknown keys, wrong types, missing
 * required keys, bad versions, file names with path separators or "..",
 * absolute or escaping globs, over-long lists, a "signer" without an
 * organization, thumbprints that are not 64 hex digits, a relative
 * "trust_store" are refused: returns
 * TMI_EFORMAT (or TMI_ETOOBIG) and writes a one-line reason into err.
 * On TMI_OK, *out is the caller's.
 */
int playbook_load_json(const char *text, size_t len, playbook **out, char *err, size_t errlen);

/* Read FILE (at most PLAYBOOK_MAX_BYTES) and parse it as above. */
int playbook_load_file(const char *path, playbook **out, char *err, size_t errlen);

/* The compiled-in default playbook (parsed from its JSON text). */
int playbook_load_default(playbook **out);

/* The compiled-in JSON text itself (static, NUL-terminated). */
const char *playbook_default_json(void);

/* Is v one of the playbook's known-bad versions? */
int playbook_is_known_bad(const playbook *pb, const tmi_version *v);

void playbook_free(playbook *pb);

#endif
