/*
 * evlog_parse.h - reading the records of the Windows event log as
 * ReadEventLogW returns them (EVENTLOGRECORD), without windows.h: the Win32
 * backend reads the log and hands the bytes here, and the tests build
 * records by hand on any system. Nothing here trusts the buffer: every
 * length, offset and count is checked against the record's bounds.
 *
 * The layout (all integers little-endian, offsets from the record's start),
 * as documented for EVENTLOGRECORD:
 *
 *     0  Length               u32  bytes of the whole record (repeated as
 *                                  the record's last u32)
 *     4  Reserved             u32  0x654C664C, "LfLe"
 *     8  RecordNumber         u32
 *    12  TimeGenerated        u32  seconds since 1970-01-01 UTC
 *    16  TimeWritten          u32
 *    20  EventID              u32  the event's code in its low 16 bits
 *    24  EventType            u16  1 error, 2 warning, 4 information, ...
 *    26  NumStrings           u16  insertion strings at StringOffset
 *    28  EventCategory        u16
 *    30  ReservedFlags        u16
 *    32  ClosingRecordNumber  u32
 *    36  StringOffset         u32
 *    40  UserSidLength        u32
 *    44  UserSidOffset        u32
 *    48  DataLength           u32
 *    52  DataOffset           u32
 *    56  SourceName           UTF-16LE, NUL-terminated (the provider)
 *        Computername         UTF-16LE, NUL-terminated
 *        ... the SID, the insertion strings (each UTF-16LE, NUL-terminated,
 *        one after the other), the data, padding, and Length again.
 *
 * Text comes out as UTF-8 (an unpaired surrogate becomes U+FFFD).
 */
#ifndef TMI_EVLOG_PARSE_H
#define TMI_EVLOG_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define EVLOG_FIXED_LEN   56 /* the fixed part, up to SourceName */
#define EVLOG_MAGIC       0x654C664Cu
#define EVLOG_STRINGS_MAX 32      /* insertion strings kept */
#define EVLOG_TEXT_MAX    4096    /* bytes of UTF-8 for all of them */
#define EVLOG_NAME_MAX    256     /* bytes of UTF-8 for a source or computer name */
#define EVLOG_RECORD_MAX  0x7FFF0 /* the largest record the log writes */

typedef struct evlog_record {
    uint32_t length; /* bytes of the record: the next one starts there */
    uint32_t record_number;
    uint32_t time_generated; /* seconds since the epoch, UTC */
    uint32_t time_written;
    uint32_t event_id; /* whole: a message file is keyed by all 32 bits */
    uint16_t event_type;
    uint16_t category;
    uint16_t num_strings; /* as the record says */
    char source[EVLOG_NAME_MAX];
    char computer[EVLOG_NAME_MAX];
    size_t n_strings;                       /* kept: at most EVLOG_STRINGS_MAX */
    const char *strings[EVLOG_STRINGS_MAX]; /* into text */
    int strings_cut;                        /* 1: fewer strings kept than num_strings, or one cut */
    char text[EVLOG_TEXT_MAX];
} evlog_record;

/*
 * Parse the record at buf[0..len) (len: the bytes left in the read buffer)
 * into *out. TMI_OK; TMI_ECORRUPT when it is not a whole record: shorter
 * than the fixed part, a Length below it, past len or above
 * EVLOG_RECORD_MAX, a wrong "LfLe", a source name without its NUL, or a
 * StringOffset outside the record while NumStrings > 0 (then *out is zeroed
 * and nothing after this record can be trusted either). Insertion strings
 * that run past the record, or more of them than EVLOG_STRINGS_MAX or
 * EVLOG_TEXT_MAX hold, are cut: the ones before are kept and strings_cut
 * is set.
 */
int evlog_parse(const uint8_t *buf, size_t len, evlog_record *out);

/* 1 when the record's source is name (ASCII letters in any case), else 0. */
int evlog_source_is(const evlog_record *r, const char *name);

/* The level of plat_event for EventType: 2 error (1), 3 warning (2), 4
 * information (anything else). */
int evlog_level(const evlog_record *r);

/*
 * The record's message as UTF-8 into buf (buflen >= 1). tmpl is the
 * provider's message text for the event, as FormatMessage gives it with
 * its inserts left in (UTF-8), or NULL when the provider has none known.
 * With tmpl: %1 .. %99 are replaced by the insertion strings (an optional
 * !printf-format! after the number is skipped: every string is text); an
 * insert the record does not have stays as written; %n is a line break, %r
 * a carriage return, %t a tab, %0 ends the message, and %% %. %! and "% "
 * stand for the character after the %; trailing line breaks and spaces go.
 * Without tmpl: the insertion strings joined by spaces. TMI_OK, or
 * TMI_ETOOBIG when the message was cut to fit buf (at a whole UTF-8
 * character; buf still holds the start); TMI_EINVAL for NULL arguments.
 */
int evlog_message(const evlog_record *r, const char *tmpl, char *buf, size_t buflen);

#endif
