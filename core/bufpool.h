/*
 * bufpool.h - a few read buffers that the threads of one scan pass around
 * and reuse, instead of a new buffer for every file.
 *
 * A scan reads each file whole into a buffer, hashes it, and hands it to the
 * signature thread (workq.h), which checks it while the next file is read.
 * A new buffer per file has to be mapped page by page by the system, which
 * for sixteen 1 MiB files cost more than the signature check's second pass
 * over them (measured: a third more CPU time for the whole scan). Buffers
 * given back here are taken again by the next reads, so a scan touches only
 * as many as are in use at once.
 *
 * Ownership: bufpool_take moves a buffer from the pool to the caller;
 * bufpool_give moves it back (or frees it, when the pool holds enough or the
 * buffer is too large to keep). bufpool_free frees what the pool holds;
 * buffers out at that time are their holders' to give back first.
 *
 * Limit: a pool may also bound the buffers out at once (taken and not yet
 * given back): bufpool_take then waits for one to come back. A scan limits
 * its files to one buffer, which the scanning thread hashes while the
 * signature thread makes its own pass over it, so a scan of signed files
 * uses no more memory than one of unsigned files (on the machine measured,
 * memory a process has not touched before cost a third of the signature
 * check). A thread must not take a second buffer while it holds one under
 * a limit of one: it would wait for itself.
 *
 * Threads: take and give may be called from any thread (one lock).
 */
#ifndef TMI_BUFPOOL_H
#define TMI_BUFPOOL_H

#include <stddef.h>

#include "plat.h"

typedef struct bufpool bufpool;

/* A pool that keeps at most keep buffers of at most max_cap bytes each, and
 * lets at most limit be out at once (0: no limit). TMI_OK with *out set, or
 * TMI_ENOMEM. */
int bufpool_new(size_t keep, size_t max_cap, size_t limit, bufpool **out);

/* Fill *buf with a kept buffer, the largest there is, or with an empty one
 * (data NULL) when the pool holds none or p is NULL; first wait while the
 * limit's count of buffers is out. Either way it counts as out until given
 * back, and must be (bufpool_give), even when empty. */
void bufpool_take(bufpool *p, plat_buf *buf);

/* Take *buf back and empty it: kept when the pool has room for it, else
 * freed (always, when p is NULL). */
void bufpool_give(bufpool *p, plat_buf *buf);

/* Free the pool and the buffers it holds. NULL: does nothing. */
void bufpool_free(bufpool *p);

#endif
