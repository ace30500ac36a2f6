/* SQLite's own rules for the text of a script: statements, quotes, comments (no dollar quotes). */
#ifndef SQLITE_SCRIPT_H
#define SQLITE_SCRIPT_H

#include "../common/mig_engine.h"

#include <stdbool.h>
#include <stddef.h>

/*
 * Split a script where sqlite3_complete would say a statement ends (a trigger body's inner ';'
 * are not its end), in one pass. Empty statements are left out; *out is freed with mig_free.
 */
int sqlite_script_split(const char *sql, size_t len, mig_statement **out, size_t *count,
                        mig_error *err);

/*
 * What the script ends inside by SQLite's rules ("string literal", "block comment", ...), with
 * *at the offset where it starts; NULL when everything is closed.
 */
const char *sqlite_script_unclosed(const char *sql, size_t len, size_t *at);

/*
 * Refuse a statement migrate_script cannot hand to the sqlite3 shell: one that does not begin
 * with a keyword (not SQL, such as a shell command), or one with a line beginning with '.',
 * which the shell could read as one of its commands. err->offset says where.
 */
int sqlite_script_check_statement(const char *sql, size_t len, const mig_statement *st,
                                  mig_error *err);

/* The leading keyword of a statement, upper-cased into buf (empty when there is none). */
void sqlite_script_keyword(const char *sql, size_t len, size_t pos, char *buf, size_t size,
                           size_t *after);

/* Offset of the first byte at or after pos that is neither white space nor in a comment. */
size_t sqlite_script_skip_blank(const char *sql, size_t len, size_t pos);

#endif
