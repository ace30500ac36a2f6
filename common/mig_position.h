/*
 * An error's position in a script as people read it: the line and column of a byte offset, and
 * the line itself with a caret under the column, as psql shows a syntax error. Shared by every
 * engine: PostgreSQL gives a character position, SQLite (sqlite3_error_offset) a byte offset;
 * both become a byte offset in the script before they reach this file.
 */
#ifndef MIG_POSITION_H
#define MIG_POSITION_H

#include <stddef.h>

/* 1-based line and column of byte offset pos in text; the column counts UTF-8 characters. */
void mig_position_at(const char *text, size_t len, size_t pos, int *line, int *column);
/*
 * "LINE n: <the line holding pos>" and below it a caret under pos, where n is line_number (the
 * caller's numbering: the line in the file). A long line is cut around pos, with "..." where it
 * was cut. NULL when memory runs out.
 */
char *mig_position_excerpt(const char *text, size_t len, size_t pos, int line_number);

#endif
