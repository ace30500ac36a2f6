/*
 * migrate_nulls, migrate_set_not_null and migrate_rebuild: changing columns of a table that
 * already has data, checking the rows first (the engine's part: mig_engine_columns.h).
 */
#ifndef MIG_COLUMNS_H
#define MIG_COLUMNS_H

#include "mig_engine_columns.h"

#include <stddef.h>

typedef enum mig_on_null { MIG_NULL_FAIL, MIG_NULL_QUARANTINE } mig_on_null;

/* The rows whose column is NULL: each one's identity, as migrate_duplicates writes it. */
typedef struct mig_null_report {
    char **rows;
    size_t count, cap;
} mig_null_report;

/* 'fail' (also NULL) or 'quarantine'. */
int mig_columns_on_null(const char *text, mig_on_null *out, mig_error *err);

/*
 * Check that fill is one SQL expression: no ';', quotes and comments closed, parentheses
 * balanced, so that it stays inside the parentheses it is put in.
 */
int mig_columns_fill_check(const char *fill, mig_error *err);
/* The same check of any argument holding SQL text; arg names it in errors ("type", "default"). */
int mig_columns_sql_check(const char *arg, const char *sql, mig_error *err);

/* migrate_nulls: the rows of table whose column is NULL, ordered by identity. */
int mig_nulls(const mig_engine *eng, const char *table, const char *column, mig_null_report *out,
              mig_error *err);
void mig_null_report_free(mig_null_report *report);

/*
 * migrate_set_not_null: fill the NULLs of column from the expression fill (each row's own
 * value; NULL: no fill), then 'fail' when NULLs remain (nothing changed, the rows named) or
 * move those rows to <table>_nulls ('quarantine'), then make the column NOT NULL, all in one
 * savepoint. *result (caller frees) says what was done.
 */
int mig_set_not_null(const mig_engine *eng, const char *table, const char *column, const char *fill,
                     const char *on_null, char **result, mig_error *err);

/*
 * migrate_add_column: add column (of type, SQL text) to a table that has rows, NOT NULL from
 * the start: added nullable with default_sql (NULL: none) as its default, every existing row
 * given fill's value (or, without fill, the default's), then made NOT NULL as
 * migrate_set_not_null does; rows still NULL refuse the call ('fail': nothing changed, the rows
 * named). One savepoint; *result (caller frees) says what was done.
 */
int mig_add_column(const mig_engine *eng, const char *table, const char *column, const char *type,
                   const char *fill, const char *default_sql, char **result, mig_error *err);

/*
 * migrate_rebuild: rebuild table from create_sql (SQLite's generalized ALTER TABLE); drop_columns
 * (comma-separated, or NULL) names the columns whose values may be dropped.
 */
int mig_rebuild(const mig_engine *eng, const char *table, const char *create_sql,
                const char *drop_columns, char **result, mig_error *err);

/*
 * The entries of after (sorted) that are not in before (sorted): how many, and a detail
 * listing the first ten (caller frees; NULL when none).
 */
size_t mig_columns_fresh(char *const *before, size_t nbefore, char *const *after, size_t nafter,
                         char **detail);

#endif
