/*
 * The text of CREATE TABLE statements, read token by token: enough of SQLite's lexer to find
 * the table's name and each top-level definition between the parentheses.
 */
#include "mig_ddl.h"

#include "mig_alloc.h"
#include "mig_buf.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

enum { TOK_END, TOK_WORD, TOK_QUOTED, TOK_STRING, TOK_PUNCT };

typedef struct token {
    int kind;
    size_t start, len;
} token;

/* Skip white space and comments from pos. */
static size_t skip_blank(const char *s, size_t pos)
{
    for (;;) {
        while (s[pos] && isspace((unsigned char)s[pos]))
            pos++;
        if (s[pos] == '-' && s[pos + 1] == '-') {
            while (s[pos] && s[pos] != '\n')
                pos++;
        } else if (s[pos] == '/' && s[pos + 1] == '*') {
            const char *end = strstr(s + pos + 2, "*/");
            pos = end ? (size_t)(end - s) + 2 : strlen(s);
        } else {
            return pos;
        }
    }
}

/* The token at or after *pos; *pos moves past it. An unclosed quote runs to the end. */
static token next_token(const char *s, size_t *pos)
{
    size_t p = skip_blank(s, *pos);
    token t = {TOK_END, p, 0};
    char c = s[p];
    if (!c) {
        *pos = p;
        return t;
    }
    if (c == '"' || c == '`' || c == '\'' || c == '[') {
        char close = c == '[' ? ']' : c;
        size_t q = p + 1;
        for (; s[q]; q++) {
            if (s[q] == close) {
                if (close != ']' && s[q + 1] == close) {
                    q++;
                    continue;
                }
                break;
            }
        }
        if (s[q])
            q++;
        t.kind = c == '\'' ? TOK_STRING : TOK_QUOTED;
        t.len = q - p;
    } else if (isalnum((unsigned char)c) || c == '_' || c == '$' || (unsigned char)c >= 0x80) {
        size_t q = p;
        while (s[q] && (isalnum((unsigned char)s[q]) || s[q] == '_' || s[q] == '$' ||
                        (unsigned char)s[q] >= 0x80))
            q++;
        t.kind = TOK_WORD;
        t.len = q - p;
    } else {
        t.kind = TOK_PUNCT;
        t.len = 1;
    }
    *pos = p + t.len;
    return t;
}

/* Whether token t of s is the keyword word (any case). */
static bool is_word(const char *s, token t, const char *word)
{
    return t.kind == TOK_WORD && t.len == strlen(word) &&
           strncasecmp(s + t.start, word, t.len) == 0;
}

/* Whether token t is the punctuation character c. */
static bool is_punct(const char *s, token t, char c)
{
    return t.kind == TOK_PUNCT && s[t.start] == c;
}

/* The plain name a word or quoted identifier token spells (quotes removed, doubled ones halved). */
static char *plain_name(const char *s, token t)
{
    if (t.kind == TOK_WORD)
        return mig_strndup(s + t.start, t.len);
    mig_buf b = {0};
    char close = s[t.start] == '[' ? ']' : s[t.start];
    size_t end = t.start + t.len - (t.len > 1 && s[t.start + t.len - 1] == close ? 1 : 0);
    for (size_t i = t.start + 1; i < end; i++) {
        mig_buf_append(&b, s + i, 1);
        if (close != ']' && s[i] == close && i + 1 < end && s[i + 1] == close)
            i++;
    }
    return mig_buf_take(&b);
}

/* Whether a token can name a table or column. */
static bool is_name(token t)
{
    return t.kind == TOK_WORD || t.kind == TOK_QUOTED || t.kind == TOK_STRING;
}

/* After the body's closing parenthesis only options and one final ';' may follow. */
static int check_tail(const char *s, size_t pos, mig_error *err)
{
    for (;;) {
        token t = next_token(s, &pos);
        if (t.kind == TOK_END)
            return MIG_OK;
        if (is_punct(s, t, ';')) {
            if (next_token(s, &pos).kind == TOK_END)
                return MIG_OK;
            return mig_fail(err, MIG_ERR_ARGUMENT,
                            "the new definition must be one CREATE TABLE statement, not several");
        }
        if (is_punct(s, t, '(') || is_punct(s, t, ')'))
            return mig_fail(err, MIG_ERR_ARGUMENT,
                            "the new definition has text after its column list that is not a "
                            "table option");
    }
}

/* Find the body's parentheses: *open at '(' and *close at its ')' (both offsets). */
static int find_body(const char *s, size_t from, size_t *open, size_t *close, mig_error *err)
{
    size_t pos = from;
    token t = next_token(s, &pos);
    if (!is_punct(s, t, '('))
        return mig_fail(err, MIG_ERR_ARGUMENT,
                        "the new definition must give the table's columns in parentheses "
                        "(CREATE TABLE ... AS SELECT is not accepted)");
    *open = t.start;
    int depth = 1;
    while (depth > 0) {
        t = next_token(s, &pos);
        if (t.kind == TOK_END)
            return mig_fail(err, MIG_ERR_ARGUMENT,
                            "the new definition ends before its column list is closed");
        if (t.kind == TOK_QUOTED || t.kind == TOK_STRING) {
            char q = s[t.start] == '[' ? ']' : s[t.start];
            if (t.len < 2 || s[t.start + t.len - 1] != q)
                return mig_fail(err, MIG_ERR_ARGUMENT,
                                "the new definition ends inside a quoted name or string");
        }
        if (is_punct(s, t, '('))
            depth++;
        else if (is_punct(s, t, ')'))
            depth--;
        else if (is_punct(s, t, ';'))
            return mig_fail(err, MIG_ERR_ARGUMENT,
                            "the new definition must be one CREATE TABLE statement, not several");
    }
    *close = t.start;
    return check_tail(s, pos, err);
}

/*
 * Read the head of a CREATE TABLE: *body_from is where the column list starts; *named the
 * plain table name (NULL for a body alone), *name_start and *name_end its span.
 */
static int read_head(const char *s, size_t *body_from, char **named, size_t *name_start,
                     size_t *name_end, mig_error *err)
{
    *named = NULL;
    size_t pos = 0;
    token t = next_token(s, &pos);
    if (is_punct(s, t, '(')) {
        *body_from = t.start;
        *name_start = *name_end = t.start;
        return MIG_OK;
    }
    if (!is_word(s, t, "CREATE"))
        return mig_fail(err, MIG_ERR_ARGUMENT,
                        "the new definition must be a CREATE TABLE statement or a column list in "
                        "parentheses");
    t = next_token(s, &pos);
    if (is_word(s, t, "TEMP") || is_word(s, t, "TEMPORARY"))
        return mig_fail(err, MIG_ERR_ARGUMENT,
                        "the new definition may not create a temporary table");
    if (!is_word(s, t, "TABLE"))
        return mig_fail(err, MIG_ERR_ARGUMENT,
                        "the new definition must be a CREATE TABLE statement");
    size_t at = pos;
    t = next_token(s, &pos);
    if (is_word(s, t, "IF"))
        return mig_fail(err, MIG_ERR_ARGUMENT,
                        "the new definition may not say IF NOT EXISTS: the table exists");
    if (!is_name(t))
        return mig_fail(err, MIG_ERR_ARGUMENT, "the new definition does not name its table");
    *name_start = skip_blank(s, at);
    size_t after = pos;
    token dot = next_token(s, &after);
    if (is_punct(s, dot, '.')) {
        t = next_token(s, &after);
        if (!is_name(t))
            return mig_fail(err, MIG_ERR_ARGUMENT, "the new definition does not name its table");
        pos = after;
    }
    *name_end = t.start + t.len;
    *named = plain_name(s, t);
    *body_from = pos;
    return *named ? MIG_OK : mig_fail_nomem(err);
}

/* The same statement creating new_name. */
int mig_ddl_retarget(const char *create_sql, const char *new_name, char **out, char **named,
                     mig_error *err)
{
    *out = NULL;
    *named = NULL;
    if (!create_sql)
        return mig_fail(err, MIG_ERR_NULL, "migrate_rebuild needs the table's new definition");
    size_t body, open, close, name_start, name_end;
    int rc = read_head(create_sql, &body, named, &name_start, &name_end, err);
    if (rc == MIG_OK)
        rc = find_body(create_sql, body, &open, &close, err);
    if (rc != MIG_OK) {
        mig_free(*named);
        *named = NULL;
        return rc;
    }
    mig_buf b = {0};
    if (!*named)
        mig_buf_printf(&b, "CREATE TABLE %s ", new_name);
    else {
        mig_buf_append(&b, create_sql, name_start);
        mig_buf_puts(&b, new_name);
        create_sql += name_end;
    }
    mig_buf_puts(&b, create_sql);
    if (!(*out = mig_buf_take(&b))) {
        mig_free(*named);
        *named = NULL;
        return mig_fail_nomem(err);
    }
    return MIG_OK;
}

/* Whether a top-level definition starting with token t is a table constraint. */
static bool is_table_constraint(const char *s, token t)
{
    static const char *const words[] = {"CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (is_word(s, t, words[i]))
            return true;
    return false;
}

/* Append NOT NULL to column's definition. */
int mig_ddl_add_not_null(const char *create_sql, const char *column, char **out, mig_error *err)
{
    *out = NULL;
    size_t body, open, close, name_start, name_end;
    char *named = NULL;
    int rc = read_head(create_sql, &body, &named, &name_start, &name_end, err);
    mig_free(named);
    if (rc == MIG_OK)
        rc = find_body(create_sql, body, &open, &close, err);
    if (rc != MIG_OK)
        return rc;
    size_t pos = open + 1, insert_at = 0;
    bool found = false, first = true, target = false;
    int depth = 0;
    size_t last_end = pos;
    while (pos <= close && !found) {
        token t = next_token(create_sql, &pos);
        if (first) {
            char *name = is_name(t) && !is_table_constraint(create_sql, t)
                             ? plain_name(create_sql, t)
                             : NULL;
            target = name && strcasecmp(name, column) == 0;
            mig_free(name);
            first = false;
        }
        bool ends = depth == 0 && (is_punct(create_sql, t, ',') || t.start == close);
        if (ends) {
            if (target) {
                insert_at = last_end;
                found = true;
            }
            first = true;
            continue;
        }
        if (is_punct(create_sql, t, '('))
            depth++;
        else if (is_punct(create_sql, t, ')'))
            depth--;
        last_end = t.start + t.len;
    }
    if (!found)
        return mig_fail(err, MIG_ERR_NOT_FOUND, "the table's definition has no column \"%s\"",
                        column);
    mig_buf b = {0};
    mig_buf_append(&b, create_sql, insert_at);
    mig_buf_puts(&b, " NOT NULL");
    mig_buf_puts(&b, create_sql + insert_at);
    *out = mig_buf_take(&b);
    return *out ? MIG_OK : mig_fail_nomem(err);
}

/* Whether word appears as a keyword of sql. */
bool mig_ddl_has_word(const char *sql, const char *word)
{
    size_t pos = 0;
    for (;;) {
        token t = next_token(sql, &pos);
        if (t.kind == TOK_END)
            return false;
        if (is_word(sql, t, word))
            return true;
    }
}
