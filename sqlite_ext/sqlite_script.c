/*
 * SQLite's rules for the text of a script, as its tokenizer and sqlite3_complete apply them:
 * '...', "...", `...` and [...] quote; -- and non-nesting block comments; '$' is a character
 * of identifiers, never a quote. The core's own scanner follows PostgreSQL (dollar quotes,
 * nested comments), which would split or hide SQLite text wrongly.
 */
#include "sqlite_script.h"

#include "../common/mig_alloc.h"

#include <string.h>
#include <strings.h>

/* The tokens and states of sqlite3_complete (complete.c). */
enum { TK_SEMI, TK_WS, TK_OTHER, TK_EXPLAIN, TK_CREATE, TK_TEMP, TK_TRIGGER, TK_END };
enum { ST_START = 1 };

static const unsigned char transition[8][8] = {
    /*            SEMI WS OTHER EXPLAIN CREATE TEMP TRIGGER END */
    /* INVALID */ {1, 0, 2, 3, 4, 2, 2, 2},
    /* START   */ {1, 1, 2, 3, 4, 2, 2, 2},
    /* NORMAL  */ {1, 2, 2, 2, 2, 2, 2, 2},
    /* EXPLAIN */ {1, 3, 3, 2, 4, 2, 2, 2},
    /* CREATE  */ {1, 4, 2, 2, 2, 4, 5, 2},
    /* TRIGGER */ {6, 5, 5, 5, 5, 5, 5, 5},
    /* SEMI    */ {6, 6, 5, 5, 5, 5, 5, 7},
    /* END     */ {1, 7, 5, 5, 5, 5, 5, 5},
};

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* A character of an identifier or keyword, as SQLite's IdChar says. */
static bool is_id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '$' || (unsigned char)c >= 0x80;
}

/* Whether the n bytes at p spell word, ignoring case. */
static bool is_word(const char *p, size_t n, const char *word)
{
    return strlen(word) == n && strncasecmp(p, word, n) == 0;
}

/*
 * The token at pos: its kind, where it ends, and (for quotes and block comments that never
 * end) what it is, so the caller can report it.
 */
static int next_token(const char *sql, size_t len, size_t pos, size_t *end, const char **unclosed)
{
    char c = sql[pos];
    *unclosed = NULL;
    if (c == ';') {
        *end = pos + 1;
        return TK_SEMI;
    }
    if (is_space(c)) {
        *end = pos + 1;
        return TK_WS;
    }
    if (c == '-' && pos + 1 < len && sql[pos + 1] == '-') {
        const char *nl = memchr(sql + pos, '\n', len - pos);
        *end = nl ? (size_t)(nl - sql) + 1 : len;
        return TK_WS;
    }
    if (c == '/' && pos + 1 < len && sql[pos + 1] == '*') {
        for (size_t i = pos + 2; i + 1 < len; i++)
            if (sql[i] == '*' && sql[i + 1] == '/') {
                *end = i + 2;
                return TK_WS;
            }
        *unclosed = "block comment";
        *end = len;
        return TK_WS;
    }
    if (c == '\'' || c == '"' || c == '`' || c == '[') {
        const char *close = memchr(sql + pos + 1, c == '[' ? ']' : c, len - pos - 1);
        if (!close) {
            *unclosed = c == '\'' ? "string literal" : "quoted identifier";
            *end = len;
        } else {
            *end = (size_t)(close - sql) + 1; /* a doubled quote is two tokens here, as in SQLite */
        }
        return TK_OTHER;
    }
    if (!is_id_char(c)) {
        *end = pos + 1;
        return TK_OTHER;
    }
    size_t n = 1;
    while (pos + n < len && is_id_char(sql[pos + n]))
        n++;
    *end = pos + n;
    const char *w = sql + pos;
    if (is_word(w, n, "create"))
        return TK_CREATE;
    if (is_word(w, n, "trigger"))
        return TK_TRIGGER;
    if (is_word(w, n, "temp") || is_word(w, n, "temporary"))
        return TK_TEMP;
    if (is_word(w, n, "end"))
        return TK_END;
    if (is_word(w, n, "explain"))
        return TK_EXPLAIN;
    return TK_OTHER;
}

/* Skip white space and comments from pos on. */
size_t sqlite_script_skip_blank(const char *sql, size_t len, size_t pos)
{
    while (pos < len) {
        size_t end;
        const char *unclosed;
        if (next_token(sql, len, pos, &end, &unclosed) != TK_WS)
            break;
        pos = end;
    }
    return pos;
}

/* Add one statement to a growing list. */
static int push_statement(mig_statement **list, size_t *n, size_t *cap, size_t offset, size_t len,
                          mig_error *err)
{
    if (*n == *cap) {
        size_t bigger_cap = *cap ? *cap * 2 : 16;
        mig_statement *bigger = mig_realloc(*list, bigger_cap * sizeof **list);
        if (!bigger)
            return mig_fail_nomem(err);
        *list = bigger;
        *cap = bigger_cap;
    }
    (*list)[(*n)++] = (mig_statement){offset, len};
    return MIG_OK;
}

/* One pass of sqlite3_complete's state machine, cutting where a statement is complete. */
int sqlite_script_split(const char *sql, size_t len, mig_statement **out, size_t *count,
                        mig_error *err)
{
    mig_statement *list = NULL;
    size_t n = 0, cap = 0;
    int rc = MIG_OK, state = 0;
    bool empty = true; /* nothing but blanks and ';' since the statement began */
    size_t start = sqlite_script_skip_blank(sql, len, 0);
    for (size_t pos = start; rc == MIG_OK && pos < len;) {
        size_t end;
        const char *unclosed;
        int token = next_token(sql, len, pos, &end, &unclosed);
        state = transition[state][token];
        if (token != TK_WS && token != TK_SEMI)
            empty = false;
        if (token == TK_SEMI && state == ST_START) {
            if (!empty) /* an empty statement (";") is skipped, as running the script skips it */
                rc = push_statement(&list, &n, &cap, start, end - start, err);
            start = end = sqlite_script_skip_blank(sql, len, end);
            empty = true;
        }
        pos = end;
    }
    if (rc == MIG_OK && !empty && start < len)
        rc = push_statement(&list, &n, &cap, start, len - start, err);
    if (rc != MIG_OK) {
        mig_free(list);
        return rc;
    }
    *out = list;
    *count = n;
    return MIG_OK;
}

/* The first quote or block comment that never ends. */
const char *sqlite_script_unclosed(const char *sql, size_t len, size_t *at)
{
    for (size_t pos = 0; pos < len;) {
        size_t end;
        const char *unclosed;
        next_token(sql, len, pos, &end, &unclosed);
        if (unclosed) {
            *at = pos;
            return unclosed;
        }
        pos = end;
    }
    return NULL;
}

/* Refuse what is not SQL, and lines the sqlite3 shell could take for its own commands. */
int sqlite_script_check_statement(const char *sql, size_t len, const mig_statement *st,
                                  mig_error *err)
{
    const char *p = sql + st->offset;
    char c = st->len ? p[0] : ' ';
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
        if (c == '.')
            mig_fail(err, MIG_ERR_ARGUMENT,
                     "this is not SQL: a line that begins with '.' is a command of the sqlite3 "
                     "shell, and a migration holds SQL only");
        else
            mig_fail(err, MIG_ERR_ARGUMENT, "this is not SQL: a statement cannot begin with '%c'",
                     c);
        err->offset = (long)st->offset;
        return err->code;
    }
    for (size_t i = 0; i < st->len; i++) {
        if (p[i] != '\n')
            continue;
        size_t j = i + 1;
        while (j < st->len && (p[j] == ' ' || p[j] == '\t'))
            j++;
        if (j < st->len && p[j] == '.') {
            mig_fail(err, MIG_ERR_ARGUMENT,
                     "a line of this statement begins with '.', which the sqlite3 shell could "
                     "read as one of its commands: migrate_script cannot write it safely");
            mig_error_set_hint(err, "start the line with something else, or run the migration "
                                    "with migrate_apply");
            err->offset = (long)(st->offset + i + 1);
            return err->code;
        }
    }
    (void)len;
    return MIG_OK;
}

/* The leading keyword from pos on, upper-cased; *after is where it ends. */
void sqlite_script_keyword(const char *sql, size_t len, size_t pos, char *buf, size_t size,
                           size_t *after)
{
    size_t i = sqlite_script_skip_blank(sql, len, pos), n = 0;
    bool fits = true;
    while (i < len && ((sql[i] >= 'a' && sql[i] <= 'z') || (sql[i] >= 'A' && sql[i] <= 'Z') ||
                       sql[i] == '_')) {
        if (n + 1 < size)
            buf[n++] = (char)(sql[i] >= 'a' && sql[i] <= 'z' ? sql[i] - 32 : sql[i]);
        else
            fits = false;
        i++;
    }
    buf[fits ? n : 0] = '\0'; /* a longer word is none of the keywords asked about */
    if (after)
        *after = i;
}
