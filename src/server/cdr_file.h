/*
 * A shard's call detail record file (cdr.file): the JSON lines of the
 * calls its routes took or refused (b2bua/cdr.h) appended to one file that
 * every shard opens with O_APPEND, so that each write lands whole at the end
 * whatever the other shards write (POSIX write(): the offset is set to the end
 * and the data written with no intervening modification).
 *
 * Lines wait in memory (at most 4 MiB) and go together in one write on
 * libuv's thread pool, one write at a time: the loop never waits for the
 * disk. A line waits at most 200 ms for others to share its write (64
 * KiB waiting go at once), or for the write before it: a write costs a
 * thread-pool round trip, and one per call cost a third of the CPU of
 * relaying the call. A write that fails loses its lines (counted in
 * cdrs_lost, logged at most every 10 s); the lines after it are tried
 * again.
 *
 * Rotation: rename the file, then reload (SIGHUP); each shard opens the
 * path anew and writes what follows there, and closes the old file once
 * its write in flight is done.
 */
#ifndef CAY_SERVER_CDR_FILE_H
#define CAY_SERVER_CDR_FILE_H

#include <stddef.h>

#include "shard/shard.h"

typedef struct cay__cdr_file cay__cdr_file_t;

/**
 * Open @p path for appending (created 0640 if absent) for shard @p shard.
 *
 * @param shard  Whose loop writes, whose counters (cdrs_lost) count, and
 *               whose number the log lines carry. Borrowed; outlives the
 *               file.
 * @param path   Copied.
 * @param out    Receives the file. Returned (close with
 *               cay__cdr_file_close()).
 * @return 0, -ENOMEM, or open(2)'s -errno (logged with the path).
 * @thread the shard's, or the one that creates the server before it runs
 */
int cay__cdr_file_open(cay__shard_t *shard, const char *path,
                       cay__cdr_file_t **out);

/**
 * Append one record line to @p f. @p line: @p len bytes, '\n' included.
 * Borrowed; copied.
 * @thread the shard's
 */
void cay__cdr_file_append(cay__cdr_file_t *f, const char *line, size_t len);

/**
 * Open @p path anew (the same path after a rotation, or another): the
 * lines from now on go there; the old file is closed once its write in
 * flight is done.
 * @return 0, or open(2)'s -errno (logged; the old file is kept).
 * @thread the shard's
 */
int cay__cdr_file_reopen(cay__cdr_file_t *f, const char *path);

/**
 * Write what waits (at once), close, free @p f, then call @p cb(@p arg) (NULL:
 * nobody; the caller runs the loop until the write in flight is done).
 * @thread the shard's
 */
void cay__cdr_file_close(cay__cdr_file_t *f, void (*cb)(void *arg), void *arg);

#endif
