/*
 * plat_sig_int.h - helpers the signature backends share (plat_sig_common.c):
 * certificate text made safe, distinguished names in one format on every
 * platform, thumbprints.
 */
#ifndef TMI_PLAT_SIG_INT_H
#define TMI_PLAT_SIG_INT_H

#include <stddef.h>
#include <stdint.h>

#include "plat_sig.h"

/*
 * Copy len bytes of UTF-8 from src into dst[cap] (cap >= 1), always
 * NUL-terminated: invalid sequences, NULs and control characters become
 * U+FFFD; output that would not fit is dropped at a character boundary.
 */
void sig_text_copy(char *dst, size_t cap, const char *src, size_t len);

/*
 * Append one name attribute, the OID in dotted form and its UTF-8 value
 * (len bytes), to the distinguished name dn[cap] as "KEY=value": KEY is the
 * usual short name (CN, O, OU, C, L, ST, E, SERIALNUMBER, STREET, DC, ...)
 * or the dotted OID; the value is made safe as sig_text_copy does and
 * escaped as RFC 4514 does. next_rdn 1 starts a new RDN (", " before it
 * unless dn is empty), 0 adds to the current one ("+"). Callers give the
 * RDNs most specific first (CN before O before C), as RFC 4514 prints them.
 * An attribute that would not fit is dropped whole.
 */
void sig_dn_append(char *dn, size_t cap, const char *oid, const char *value, size_t len,
                   int next_rdn);

/* Fill r->thumb_sha1 and r->thumb_sha256 from the certificate's DER. */
int sig_thumbprints(const uint8_t *der, size_t len, sig_result *r);

#endif
