/*
 * The SQLite side of schema drift (common/mig_engine_drift.h): the objects of the main database
 * as sqlite_schema holds them, and the table migrate_schema_history.
 *
 * SQLite keeps each object as the CREATE statement it was given (ALTER TABLE edits that text),
 * and .dump and VACUUM keep it as it is. Each statement is normalised the way SQLite reads it:
 * comments dropped, white space made one space (none around parentheses, one after a comma),
 * and everything outside quotes in lower case, since SQLite's keywords, unquoted identifiers,
 * type, collation and function names ignore case. A table is split into its columns and table
 * constraints (the text between its top-level commas), so a dropped column or a changed
 * default names the column; the table's own line holds what follows its parentheses
 * (WITHOUT ROWID, STRICT). Indexes, views and triggers are their whole statement. Internal
 * objects (sqlite_*), automatic indexes and migrate's own tables, with their triggers, are left
 * out. Column order is not compared.
 */
#include "sqlite_schema.h"
SQLITE_EXTENSION_INIT3

#include "sqlite_engine.h"

#include "../common/mig_alloc.h"
#include "../common/mig_buf.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define SCHEMA_HISTORY_TABLE "\"main\".\"migrate_schema_history\""

/* Whether c opens a quoted token, and the character that closes it. */
static char closing_quote(char c)
{
    return c == '\'' ? '\'' : c == '"' ? '"' : c == '`' ? '`' : c == '[' ? ']' : 0;
}

/* Where the quoted token starting at i ends (one past its closing quote, or len). */
static size_t skip_quoted(const char *s, size_t len, size_t i)
{
    char close = closing_quote(s[i]);
    for (i++; i < len; i++) {
        if (s[i] != close)
            continue;
        if (close != ']' && i + 1 < len && s[i + 1] == close) { /* a doubled quote */
            i++;
            continue;
        }
        return i + 1;
    }
    return len;
}

/* SQL text without comments, with white space as described above; lower: fold case too. */
static void normalise(const char *s, size_t len, bool lower, mig_buf *out)
{
    bool space = false;
    for (size_t i = 0; i < len;) {
        char c = s[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            space = true, i++;
            continue;
        }
        if (c == '-' && i + 1 < len && s[i + 1] == '-') {
            while (i < len && s[i] != '\n')
                i++;
            space = true;
            continue;
        }
        if (c == '/' && i + 1 < len && s[i + 1] == '*') {
            const char *end = i + 2 < len ? strstr(s + i + 2, "*/") : NULL;
            i = end && (size_t)(end - s) < len ? (size_t)(end - s) + 2 : len;
            space = true;
            continue;
        }
        char last = out->len ? out->data[out->len - 1] : '(';
        if (c == ',') {
            mig_buf_puts(out, ", ");
            space = false, i++;
            continue;
        }
        if (space && last != '(' && last != ' ' && c != '(' && c != ')')
            mig_buf_puts(out, " ");
        space = false;
        if (closing_quote(c)) {
            size_t end = skip_quoted(s, len, i);
            mig_buf_append(out, s + i, end - i);
            i = end;
            continue;
        }
        if (lower && c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        mig_buf_append(out, &c, 1);
        i++;
    }
    while (out->len && out->data[out->len - 1] == ' ') /* ", " at the very end */
        out->data[--out->len] = '\0';
}

/* s[0..len) normalised into a new string. */
static char *normalised(const char *s, size_t len, bool lower)
{
    mig_buf b = {0};
    normalise(s, len, lower, &b);
    return mig_buf_take(&b);
}

/* An identifier token without its quotes (doubled quotes made single). */
static char *unquote(const char *s, size_t len)
{
    char close = len ? closing_quote(s[0]) : 0;
    if (!close || len < 2)
        return mig_strndup(s, len);
    mig_buf b = {0};
    for (size_t i = 1; i + 1 < len; i++) {
        mig_buf_append(&b, s + i, 1);
        if (close != ']' && s[i] == close && i + 2 < len && s[i + 1] == close)
            i++;
    }
    return mig_buf_take(&b);
}

/* The length of the first token of s: a quoted identifier, or a word. */
static size_t first_token(const char *s, size_t len)
{
    if (len && closing_quote(s[0]))
        return skip_quoted(s, len, 0);
    size_t n = 0;
    while (n < len && s[n] != ' ' && s[n] != '(' && s[n] != ')' && s[n] != ',')
        n++;
    return n;
}

/* Whether the word s[0..n) is kw, ignoring case. */
static bool is_word(const char *s, size_t n, const char *kw)
{
    return n == strlen(kw) && strncasecmp(s, kw, n) == 0;
}

typedef struct emit_state {
    mig_row_fn fn;
    void *ctx;
} emit_state;

/* Hand one object to the core. */
static int emit(emit_state *em, const char *kind, const char *name, const char *def)
{
    const char *values[3] = {kind, name, def ? def : ""};
    return em->fn(em->ctx, 3, values);
}

/* One column or table constraint of table: the text between two top-level commas. */
static int emit_piece(emit_state *em, const char *table, const char *p, size_t len)
{
    size_t n = first_token(p, len);
    bool constraint = is_word(p, n, "constraint") || is_word(p, n, "primary") ||
                      is_word(p, n, "unique") || is_word(p, n, "check") || is_word(p, n, "foreign");
    char *def = NULL, *label = NULL, *name = NULL;
    if (!constraint) { /* a column: its name as written, then its definition */
        label = unquote(p, n);
        size_t rest = n < len && p[n] == ' ' ? n + 1 : n;
        def = normalised(p + rest, len - rest, true);
    } else {
        def = normalised(p, len, true);
        if (is_word(p, n, "constraint")) { /* named: the name is the next token */
            size_t at = n < len && p[n] == ' ' ? n + 1 : n;
            label = unquote(p + at, first_token(p + at, len - at));
        } else {
            label = def ? mig_strdup(def) : NULL;
        }
    }
    if (label)
        name = mig_printf("%s.%s", table, label);
    int rc = def && name ? emit(em, constraint ? "constraint" : "column", name, def) : MIG_NOMEM;
    mig_free(def);
    mig_free(label);
    mig_free(name);
    return rc;
}

/* A table: its line, then its columns and table constraints. */
static int emit_table(emit_state *em, const char *table, const char *sql)
{
    char *text = normalised(sql, strlen(sql), false);
    if (!text)
        return MIG_NOMEM;
    size_t len = strlen(text), i = 0;
    int rc = MIG_OK;
    if (strncasecmp(text, "create virtual table", 20) == 0) { /* its module says the rest */
        char *def = normalised(text, len, true);
        rc = def ? emit(em, "table", table, def) : MIG_NOMEM;
        mig_free(def);
        mig_free(text);
        return rc;
    }
    while (i < len && text[i] != '(') /* the name may be quoted, and hold a parenthesis */
        i = closing_quote(text[i]) ? skip_quoted(text, len, i) : i + 1;
    size_t start = i + 1, depth = 1;
    for (i = start; rc == MIG_OK && i < len && depth > 0;) {
        char c = text[i];
        if (closing_quote(c)) {
            i = skip_quoted(text, len, i);
            continue;
        }
        if (c == '(')
            depth++;
        else if (c == ')')
            depth--;
        if ((c == ',' && depth == 1) || depth == 0) {
            size_t from = start, to = i;
            while (from < to && text[from] == ' ')
                from++;
            while (to > from && text[to - 1] == ' ')
                to--;
            if (to > from)
                rc = emit_piece(em, table, text + from, to - from);
            start = i + 1;
        }
        i++;
    }
    char *options = rc == MIG_OK
                        ? normalised(text + (i < len ? i : len), len - (i < len ? i : len), true)
                        : NULL;
    if (rc == MIG_OK)
        rc = options ? emit(em, "table", table, options) : MIG_NOMEM;
    mig_free(options);
    mig_free(text);
    return rc;
}

/* drift.describe: every object of the main database but SQLite's and migrate's own. */
static int schema_describe(void *h, mig_row_fn fn, void *ctx, mig_error *err)
{
    sqlite_engine *se = h;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(se->db,
                           "SELECT type, name, sql FROM \"main\".sqlite_schema WHERE sql IS NOT "
                           "NULL AND substr(name, 1, 7) <> 'sqlite_' AND tbl_name NOT IN "
                           "('migrate_history', 'migrate_scripts', 'migrate_schema_history')",
                           -1, &st, NULL) != SQLITE_OK)
        return sqlite_engine_error(se->db, err);
    emit_state em = {fn, ctx};
    int step, rc = MIG_OK;
    while (rc == MIG_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *type = (const char *)sqlite3_column_text(st, 0);
        const char *name = (const char *)sqlite3_column_text(st, 1);
        const char *sql = (const char *)sqlite3_column_text(st, 2);
        if (!type || !name || !sql) {
            rc = sqlite3_errcode(se->db) == SQLITE_NOMEM ? MIG_NOMEM : MIG_OK;
            continue;
        }
        if (strcmp(type, "table") == 0) {
            rc = emit_table(&em, name, sql);
        } else {
            char *def = normalised(sql, strlen(sql), true);
            rc = def ? emit(&em, type, name, def) : MIG_NOMEM;
            mig_free(def);
        }
    }
    if (rc == MIG_OK && step != SQLITE_DONE)
        rc = sqlite_engine_error(se->db, err);
    sqlite3_finalize(st);
    return rc;
}

/* drift.prepare: look for migrate_schema_history, creating it when asked. */
static int schema_prepare(void *h, bool create, bool *exists, mig_error *err)
{
    sqlite_engine *se = h;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(se->db,
                           "SELECT 1 FROM \"main\".sqlite_schema WHERE type = 'table' AND name = "
                           "'migrate_schema_history'",
                           -1, &st, NULL) != SQLITE_OK)
        return sqlite_engine_error(se->db, err);
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return sqlite_engine_error(se->db, err);
    *exists = step == SQLITE_ROW;
    if (*exists || !create)
        return MIG_OK;
    if (sqlite3_exec(se->db,
                     "CREATE TABLE " SCHEMA_HISTORY_TABLE
                     " (\n" MIG_SCHEMA_HISTORY_COLUMNS(SQLITE_COLUMN, ",\n") "\n)",
                     NULL, NULL, NULL) != SQLITE_OK)
        return sqlite_engine_error(se->db, err);
    *exists = true;
    return MIG_OK;
}

/*
 * drift.warn: a function has no side channel to the shell, so the warning goes to standard
 * error, which the sqlite3 shell and a CI log show, and to SQLite's error log
 * (sqlite3_config(SQLITE_CONFIG_LOG)) for applications that keep one.
 */
static void schema_warn(void *h, const char *message)
{
    (void)h;
    sqlite3_log(SQLITE_WARNING, "migrate: %s", message);
    fprintf(stderr, "migrate: %s\n", message);
}

/* Schema drift: the main database described, migrate_schema_history in it. */
const mig_engine_drift sqlite_drift = {
    .table = SCHEMA_HISTORY_TABLE,
    .prepare = schema_prepare,
    .describe = schema_describe,
    .warn = schema_warn,
};
