/*
 * Reading and editing the text of a CREATE TABLE statement as SQLite stores and accepts it,
 * for migrate_rebuild and migrate_set_not_null: pure text work, no engine. Quotes ("", [], ``,
 * ''), comments and nested parentheses are honoured.
 */
#ifndef MIG_DDL_H
#define MIG_DDL_H

#include "mig_error.h"

#include <stdbool.h>

/*
 * The statement create_sql (CREATE TABLE [schema.]name (...) [options], or only its
 * parenthesised body) as one that creates new_name (written as given: quote it first) instead.
 * *named (caller frees) is the plain name the statement gave, NULL for a body alone. Refused:
 * anything but one CREATE TABLE with a column list (TEMP, IF NOT EXISTS, AS SELECT, a second
 * statement).
 */
int mig_ddl_retarget(const char *create_sql, const char *new_name, char **out, char **named,
                     mig_error *err);

/* create_sql with " NOT NULL" appended to the definition of column; an error when none. */
int mig_ddl_add_not_null(const char *create_sql, const char *column, char **out, mig_error *err);

/* Whether the statement holds word (a keyword, any case) outside quotes and comments. */
bool mig_ddl_has_word(const char *sql, const char *word);

#endif
