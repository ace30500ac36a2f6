/* Errors the core reports: a message for the DBA plus what the engine said. */
#ifndef MIG_ERROR_H
#define MIG_ERROR_H

#include <stddef.h>

/*
 * Result codes of every core function: MIG_OK, or the class of the failure. Nonzero is failure,
 * so `rc != MIG_OK` tests for any of them. Each adapter maps the class through one table to what
 * its engine reports (pg_ext/pg_call.c: SQLSTATE; sqlite_ext/sqlite_functions.c: result code;
 * README, "Error codes"), unless err->sqlstate names a finer SQLSTATE.
 */
enum {
    MIG_OK = 0,
    /* a bad argument or bad source text: a target that is not a version, a negative count, a
     * file name without a version, a script that ends inside a string */
    MIG_ERR_ARGUMENT = 1,
    MIG_ERR_NULL,      /* argument: a value the call needs is NULL ("migrate_to needs a target") */
    MIG_ERR_NOT_FOUND, /* not found: a migration, a version, a column, a down script */
    MIG_ERR_NO_TABLE,  /* not found: a table (migrate_history, migrate_scripts, the user's) */
    MIG_ERR_NO_FILE,   /* not found: a file or folder that is missing or cannot be read */
    MIG_ERR_CONFLICT,  /* conflict: a duplicate version, an existing different index, duplicates */
    MIG_ERR_STATE,     /* state: failed or modified history, inside a transaction, re-entry */
    MIG_PRIVILEGE,     /* privilege: the caller may not do this */
    MIG_NOMEM,         /* resource: memory is exhausted */
    MIG_ERR_LIMIT,     /* resource: a limit is reached (a script over 32 MiB, nesting depth) */
    MIG_ENGINE,        /* the engine raised an error while running SQL (its SQLSTATE / code) */
};

typedef struct mig_error {
    int code;
    char sqlstate[6]; /* the engine's SQLSTATE (PostgreSQL) or "" */
    int engine_code;  /* the engine's own result code (SQLite) or 0 */
    char *message;    /* primary message, one line */
    char *detail;     /* further lines: each problem found, the engine's own message */
    char *hint;       /* what to do about it */
    char *context;    /* where it happened: migration, file, line, column */
    long offset;      /* byte offset in the script of the failing statement, or -1 */
    /*
     * What the engine said beyond the message, kept so the caller's client sees every field
     * (PostgreSQL's error fields; SQLite has only the position).
     */
    long position;        /* byte offset in the script of the failing token, or -1 */
    char *excerpt;        /* the file's line at position with a caret under it (set by the core) */
    char *engine_context; /* the engine's own context lines (PL/pgSQL frames), innermost first */
    char *schema_name;    /* the object the error concerns, when the engine names it */
    char *table_name;
    char *column_name;
    char *constraint_name;
    char *datatype_name;
    char *internal_query;  /* a query inside the script's statement (a function's) that failed */
    int internal_position; /* 1-based character position in internal_query, or 0 */
} mig_error;

void mig_error_init(mig_error *err);
void mig_error_clear(mig_error *err);
/* Record an error; returns code so callers can `return mig_fail(...)`. */
int mig_fail(mig_error *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int mig_fail_nomem(mig_error *err);
/* The class of a failed file operation by its errno (ENOENT: no file, EACCES: privilege...). */
int mig_errno_code(int errnum);
void mig_error_set_detail(mig_error *err, char *detail);
/* Say where the error happened (replacing any earlier context). */
void mig_error_set_context(mig_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void mig_error_set_hint(mig_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Move src into dst (dst is cleared first). */
void mig_error_move(mig_error *dst, mig_error *src);
/* Context, message, detail and hint joined for engines with one error string (SQLite). */
char *mig_error_render(const mig_error *err);

#endif
