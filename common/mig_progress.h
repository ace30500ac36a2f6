/*
 * The progress lines of a call, worded once for both engines: the line before each migration
 * runs, and the line naming a statement that ran long. The engines show them through the
 * progress hook (PostgreSQL: a NOTICE; SQLite: stderr when migrate_set('progress', 'on')).
 */
#ifndef MIG_PROGRESS_H
#define MIG_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>

/* A statement that runs at least this long is named in the progress output. */
#define MIG_SLOW_STATEMENT_MS 3000

/* "applying 3/10: 20240102 teams (20240102_teams.sql)" ("reverting" for a down step). */
char *mig_progress_step(bool up, int number, int total, const char *version, const char *name,
                        const char *script);
/*
 * "statement at line 4 ran for 3.2 s: UPDATE big SET ..." for the statement at offset (of
 * stmt_len bytes) in the script sql of len bytes; its start on one line, cut short.
 */
char *mig_progress_slow(const char *sql, size_t len, size_t offset, size_t stmt_len, long long ms);
/* The start of a statement on one line (runs of white space as one space), at most max bytes. */
char *mig_progress_excerpt(const char *stmt, size_t len, size_t max);

#endif
