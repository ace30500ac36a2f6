/* Reading a script's text: sections, directives, comments and line numbers. */
#ifndef MIG_SCRIPT_H
#define MIG_SCRIPT_H

#include "mig_error.h"

#include <stdbool.h>
#include <stddef.h>

/* One part of a file: where it starts and how long it is. */
typedef struct mig_span {
    size_t offset;
    size_t len;
    int first_line;      /* 1-based line of the file on which the part begins */
    bool no_transaction; /* -- migrate:no-transaction, transaction:false, +goose NO TRANSACTION */
    bool present;
} mig_span;

/*
 * A script's text as it travels from the loader through checksum, split, check and execution:
 * its length is known once it is read and never measured again.
 */
typedef struct mig_text {
    const char *ptr; /* NUL-terminated at ptr[len]; NULL when there is no script */
    size_t len;
    int first_line; /* 1-based line of its file on which the text begins */
    unsigned flags; /* MIG_TEXT_* */
} mig_text;

#define MIG_TEXT_NO_TRANSACTION 0x1u /* marked no-transaction: run outside any transaction */
#define MIG_TEXT_BLANK          0x2u /* nothing but white space and comments: a valid no-op */
#define MIG_TEXT_HAD_CRLF       0x4u /* its file ended lines with CRLF, now read as LF */
/* read, checked and hashed, then let go (ptr NULL): read again from its file when needed */
#define MIG_TEXT_RELEASED 0x8u

/* A text over len bytes of ptr (NUL-terminated there), beginning on its file's line first_line. */
mig_text mig_text_make(const char *ptr, size_t len, int first_line);

/* A text over a NUL-terminated string that comes without its length (a database value). */
mig_text mig_text_of_string(const char *s);

/* Whether there is such a text: held (ptr set) or let go to be read again (MIG_TEXT_RELEASED). */
static inline bool mig_text_present(const mig_text *t)
{
    return t->ptr || (t->flags & MIG_TEXT_RELEASED) != 0;
}

/* Whether the text is there (held or not) and has flag. */
static inline bool mig_text_has(const mig_text *t, unsigned flag)
{
    return mig_text_present(t) && (t->flags & flag) != 0;
}

/*
 * In one pass over a file's bytes: check they are text the engines can run (no NUL byte, valid
 * UTF-8), drop a UTF-8 BOM and read CRLF as LF, in place; *len becomes the new length and
 * *flags gets MIG_TEXT_HAD_CRLF when it applies. file names the file in the error.
 */
int mig_text_clean(char *text, size_t *len, unsigned *flags, const char *file, mig_error *err);

/*
 * Read a whole script's directives and blankness in one look at what comes before its first
 * statement: sets MIG_TEXT_BLANK and MIG_TEXT_NO_TRANSACTION in t->flags.
 */
void mig_text_read_directives(mig_text *t);

typedef struct mig_sections {
    mig_span up;
    mig_span down;
    bool has_markers; /* dbmate or goose markers were found */
} mig_sections;

/*
 * Split a single-file migration into its up and down parts by dbmate (-- migrate:up / down) or
 * goose (-- +goose Up / Down) markers. Only markers on a line of their own and outside string
 * literals, quoted identifiers, dollar quotes and block comments count. A file without markers
 * is all up. file names the file in errors.
 */
int mig_sections_parse(const char *text, size_t len, const char *file, mig_sections *out,
                       mig_error *err);

/* Directives of a whole script (a pair's .up.sql, a folder's up.sql, a Flyway file). */
void mig_script_directives(const char *text, size_t len, mig_span *span);

/* Offset of the first byte at or after pos that is neither white space nor inside a comment. */
size_t mig_script_skip_blank(const char *text, size_t len, size_t pos);

/*
 * Where the statement holding the byte at pos starts: after the last ';' before pos that is
 * outside quotes and comments, past white space and comments.
 */
size_t mig_script_statement_start(const char *text, size_t len, size_t pos);

/*
 * Refuse a script that ends inside a string literal, quoted identifier, dollar quote or block
 * comment (SQLite would run it, PostgreSQL would not): the error names file and the line where
 * the unclosed part starts.
 */
int mig_script_check_closed(const char *text, size_t len, const char *file, mig_error *err);

/* What the script ends inside by PostgreSQL's rules, *at where it starts; NULL when closed. */
const char *mig_script_unclosed(const char *text, size_t len, size_t *at);

/* The error mig_script_check_closed raises, for what starts at at; first_line: text's line 1. */
int mig_script_unclosed_error(const char *text, size_t len, const char *file, int first_line,
                              const char *what, size_t at, mig_error *err);

/* A copy of s with bytes that are not valid UTF-8 written as \xHH, for messages. */
char *mig_escape_utf8(const char *s);

/* True when the bytes are valid UTF-8. */
bool mig_text_is_utf8(const char *text, size_t len);

/* Offset of the next ';' at or after pos outside quotes and comments, or len. */
size_t mig_script_next_semicolon(const char *text, size_t len, size_t pos);

/* True when the script holds nothing but white space and comments (a valid no-op). */
bool mig_script_is_blank(const char *text, size_t len);

/* 1-based line number of the byte at offset. */
int mig_script_line_at(const char *text, size_t len, size_t offset);

/*
 * Check that a file's bytes are text the engines can run: no NUL byte, valid UTF-8.
 * file names the file in the error.
 */
int mig_script_check_text(const char *text, size_t len, const char *file, mig_error *err);

#endif
