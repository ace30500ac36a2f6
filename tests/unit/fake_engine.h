/* A fake database engine for the runner's tests: it records every call in memory. */
#ifndef UNIT_FAKE_ENGINE_H
#define UNIT_FAKE_ENGINE_H

#include "mig_engine_hooks.h"

#include <stdbool.h>
#include <stddef.h>

enum { FAKE_COLS = 11, FAKE_MAX_ROWS = 32, FAKE_MAX_PROGRESS = 16 };

/* One row of the fake migrate_history, as text like an engine returns it. */
typedef struct fake_row {
    char *col[FAKE_COLS]; /* id, version, name, direction, checksum, down_checksum, script,
                             applied_at, applied_by, execution_ms, success */
    char *up_sql, *down_sql;
} fake_row;

/*
 * The fake engine: a call log ("savepoint(migrate_call) lock prepare(create) load ..."), a
 * history table that a rollback undoes, and switches that make calls fail.
 */
typedef struct fake {
    char log[4096];
    bool exists;
    fake_row rows[FAKE_MAX_ROWS];
    size_t nrows, nrows_at_savepoint;
    long long next_id;
    const char *fail_exec_on;      /* a statement holding this text fails */
    bool fail_exec_without_offset; /* ... and says no offset */
    bool fail_exec_with_position;  /* ... and gives the failing text's position too */
    const char *refuse_check_on;   /* check_script refuses a script holding this */
    const char *fail_call;         /* "lock", "release", "insert", "prepare", "steps_end" */
    char *progress[FAKE_MAX_PROGRESS];
    size_t nprogress;
} fake;

/* The engine whose calls go to f, with fake_hooks. */
mig_engine fake_engine(fake *f);
/* Its hooks: steps_begin, steps_end, progress; the same with check_script (refuse_check_on). */
extern const mig_engine_hooks fake_hooks, fake_hooks_checking;
/* A row already in history before the call (script "<version>_<name>.sql", up_sql "SELECT 1;"). */
void fake_add_row(fake *f, const char *version, const char *name, const char *direction,
                  const char *checksum, bool success);
/* The same with the scripts history keeps. */
void fake_add_row_scripts(fake *f, const char *version, const char *name, const char *checksum,
                          const char *script, const char *up_sql, const char *down_sql);
/* Forget the log (keeping the table). */
void fake_clear_log(fake *f);
/* Release everything the fake holds; it can be reused after. */
void fake_free(fake *f);

#endif
