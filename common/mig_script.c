/*
 * Reading a script's text without an SQL parser: comments, quotes and dollar quotes are
 * skipped by a small scanner so that markers (-- migrate:up, -- migrate:down,
 * no-transaction) are found only at the start of a line outside them. Also line numbers,
 * blank scripts, unclosed quotes and the UTF-8 check every script passes before it is used.
 */
#include "mig_script.h"

#include "mig_buf.h"

#include <string.h>
#include <strings.h>

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           (unsigned char)c >= 0x80;
}

/*
 * Offset after the block comment that starts at pos; *closed says whether it ends. PostgreSQL
 * nests block comments; SQLite never needs to.
 */
static size_t block_comment_end(const char *text, size_t len, size_t pos, bool *closed)
{
    int depth = 0;
    *closed = false;
    while (pos < len) {
        if (text[pos] == '/' && pos + 1 < len && text[pos + 1] == '*') {
            depth++;
            pos += 2;
        } else if (text[pos] == '*' && pos + 1 < len && text[pos + 1] == '/') {
            pos += 2;
            if (--depth == 0) {
                *closed = true;
                return pos;
            }
        } else {
            pos++;
        }
    }
    return len;
}

static size_t skip_block_comment(const char *text, size_t len, size_t pos)
{
    bool closed;
    return block_comment_end(text, len, pos, &closed);
}

/* Skip white space and comments from pos on. */
size_t mig_script_skip_blank(const char *text, size_t len, size_t pos)
{
    while (pos < len) {
        if (is_space(text[pos])) {
            pos++;
        } else if (text[pos] == '-' && pos + 1 < len && text[pos + 1] == '-') {
            const char *nl = memchr(text + pos, '\n', len - pos);
            pos = nl ? (size_t)(nl - text) : len;
        } else if (text[pos] == '/' && pos + 1 < len && text[pos + 1] == '*') {
            pos = skip_block_comment(text, len, pos);
        } else {
            break;
        }
    }
    return pos;
}

/* A script of only white space and comments. */
bool mig_script_is_blank(const char *text, size_t len)
{
    return mig_script_skip_blank(text, len, 0) >= len;
}

/* Count the newlines before offset. */
int mig_script_line_at(const char *text, size_t len, size_t offset)
{
    int line = 1;
    for (size_t i = 0; i < offset && i < len; i++)
        if (text[i] == '\n')
            line++;
    return line;
}

/*
 * Skip the quoted or commented token that starts at pos, if one does; returns the offset after
 * it (len when it never ends), or pos when no such token starts there.
 */
static size_t token_end(const char *text, size_t len, size_t pos, bool *closed)
{
    char c = text[pos];
    *closed = true;
    if (c == '\'' || c == '"' || c == '`') {
        bool backslash = c == '\'' && pos > 0 && (text[pos - 1] == 'E' || text[pos - 1] == 'e') &&
                         (pos < 2 || !is_ident_char(text[pos - 2]));
        for (size_t i = pos + 1; i < len; i++) {
            if (backslash && text[i] == '\\') {
                i++;
            } else if (text[i] == c) {
                if (i + 1 < len && text[i + 1] == c)
                    i++; /* doubled quote */
                else
                    return i + 1;
            }
        }
        *closed = false;
        return len;
    }
    if (c == '[') { /* SQLite's [identifier] */
        const char *end = memchr(text + pos, ']', len - pos);
        *closed = end != NULL;
        return end ? (size_t)(end - text) + 1 : len;
    }
    if (c == '/' && pos + 1 < len && text[pos + 1] == '*')
        return block_comment_end(text, len, pos, closed);
    if (c == '$' && (pos == 0 || !is_ident_char(text[pos - 1]))) {
        size_t i = pos + 1;
        if (i < len && text[i] >= '0' && text[i] <= '9')
            return pos; /* $1 is a parameter */
        while (i < len && is_ident_char(text[i]) && text[i] != '$')
            i++;
        if (i >= len || text[i] != '$')
            return pos;
        size_t taglen = i + 1 - pos;
        for (size_t j = i + 1; j + taglen <= len; j++)
            if (text[j] == '$' && memcmp(text + j, text + pos, taglen) == 0)
                return j + taglen;
        *closed = false;
        return len;
    }
    return pos;
}

/*
 * Skip the quoted or commented token that starts at pos, if one does; returns the offset after
 * it (len when it never ends), or pos when no such token starts there.
 */
static size_t skip_quoted(const char *text, size_t len, size_t pos)
{
    bool closed;
    return token_end(text, len, pos, &closed);
}

/* The first quoted token or block comment that never ends, by PostgreSQL's rules. */
const char *mig_script_unclosed(const char *text, size_t len, size_t *at)
{
    for (size_t i = 0; i < len;) {
        bool closed;
        size_t next;
        if (text[i] == '-' && i + 1 < len && text[i + 1] == '-') {
            const char *nl = memchr(text + i, '\n', len - i);
            i = nl ? (size_t)(nl - text) : len;
        } else if ((next = token_end(text, len, i, &closed)) != i) {
            if (!closed) {
                *at = i;
                return text[i] == '/'    ? "block comment"
                       : text[i] == '$'  ? "dollar-quoted string"
                       : text[i] == '\'' ? "string literal"
                                         : "quoted identifier";
            }
            i = next;
        } else {
            i++;
        }
    }
    return NULL;
}

/* The error for a script that ends inside what starts at offset at (first_line: its line 1). */
int mig_script_unclosed_error(const char *text, size_t len, const char *file, int first_line,
                              const char *what, size_t at, mig_error *err)
{
    return mig_fail(err, MIG_ERR_ARGUMENT,
                    "%s: line %d: the script ends inside the %s that starts here", file,
                    first_line - 1 + mig_script_line_at(text, len, at), what);
}

/* Refuse a script that ends inside a quoted token or a block comment. */
int mig_script_check_closed(const char *text, size_t len, const char *file, mig_error *err)
{
    size_t at;
    const char *what = mig_script_unclosed(text, len, &at);
    return what ? mig_script_unclosed_error(text, len, file, 1, what, at, err) : MIG_OK;
}

/* The next top-level ';' from pos. */
size_t mig_script_next_semicolon(const char *text, size_t len, size_t pos)
{
    size_t i = pos;
    while (i < len) {
        size_t next;
        if (text[i] == ';')
            return i;
        if (text[i] == '-' && i + 1 < len && text[i + 1] == '-') {
            const char *nl = memchr(text + i, '\n', len - i);
            i = nl ? (size_t)(nl - text) : len;
        } else if ((next = skip_quoted(text, len, i)) != i) {
            i = next;
        } else {
            i++;
        }
    }
    return len;
}

/* Start of the statement that holds pos. */
size_t mig_script_statement_start(const char *text, size_t len, size_t pos)
{
    if (pos > len)
        pos = len;
    size_t start = 0;
    for (size_t semi; (semi = mig_script_next_semicolon(text, pos, start)) < pos;)
        start = semi + 1;
    start = mig_script_skip_blank(text, len, start);
    return start < pos ? start : pos;
}

typedef enum marker_kind { MARK_NONE, MARK_UP, MARK_DOWN, MARK_NO_TX } marker_kind;

/* Match the word at p (case-insensitive) and return the text after it, or NULL. */
static const char *match_word(const char *p, const char *end, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(end - p) < n || strncasecmp(p, word, n) != 0)
        return NULL;
    return p + n;
}

/* Read a marker line [p, end): what it says and whether it turns transactions off. */
static marker_kind read_marker(const char *p, const char *end, bool *no_tx)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (end - p < 2 || p[0] != '-' || p[1] != '-')
        return MARK_NONE;
    p += 2;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    while (end > p && is_space(end[-1]))
        end--;
    const char *rest;
    marker_kind kind = MARK_NONE;
    if ((rest = match_word(p, end, "migrate:up")) != NULL)
        kind = MARK_UP;
    else if ((rest = match_word(p, end, "migrate:down")) != NULL)
        kind = MARK_DOWN;
    else if ((rest = match_word(p, end, "migrate:no-transaction")) != NULL)
        kind = MARK_NO_TX;
    else if ((rest = match_word(p, end, "+goose")) != NULL && rest < end && is_space(*rest)) {
        while (rest < end && is_space(*rest))
            rest++;
        const char *after;
        if ((after = match_word(rest, end, "up")) != NULL)
            kind = MARK_UP, rest = after;
        else if ((after = match_word(rest, end, "down")) != NULL)
            kind = MARK_DOWN, rest = after;
        else if ((after = match_word(rest, end, "no transaction")) != NULL)
            kind = MARK_NO_TX, rest = after;
        else
            return MARK_NONE;
    }
    if (kind == MARK_NONE || (rest < end && !is_space(*rest)))
        return MARK_NONE; /* "-- migrate:upgrade notes" is a comment */
    *no_tx = kind == MARK_NO_TX;
    for (const char *q = rest; q < end; q++) {
        const char *after = match_word(q, end, "transaction:false");
        if (after && (q == rest || is_space(q[-1])) && (after == end || is_space(*after)))
            *no_tx = true; /* the whole word: transaction:falsey is not it */
    }
    return kind;
}

/*
 * Walk text line by line and report every marker line that starts outside quotes and comments.
 * visit returns false to stop.
 */
typedef bool (*marker_visit)(void *ctx, marker_kind kind, bool no_tx, size_t line_start,
                             size_t line_end, int line);

static void scan_markers(const char *text, size_t len, marker_visit visit, void *ctx)
{
    size_t pos = 0;
    int line = 1;
    bool at_line_start = true;
    while (pos < len) {
        if (at_line_start) {
            const char *nl = memchr(text + pos, '\n', len - pos);
            size_t line_end = nl ? (size_t)(nl - text) : len;
            bool no_tx = false;
            marker_kind kind = read_marker(text + pos, text + line_end, &no_tx);
            if (kind != MARK_NONE) {
                if (!visit(ctx, kind, no_tx, pos, line_end, line))
                    return;
                pos = line_end;
                continue;
            }
            at_line_start = false;
        }
        char c = text[pos];
        if (c == '\n') {
            line++;
            pos++;
            at_line_start = true;
        } else if (c == '-' && pos + 1 < len && text[pos + 1] == '-') {
            const char *nl = memchr(text + pos, '\n', len - pos);
            pos = nl ? (size_t)(nl - text) : len;
        } else {
            size_t next = skip_quoted(text, len, pos);
            if (next == pos) {
                pos++;
                continue;
            }
            for (size_t i = pos; i < next; i++)
                if (text[i] == '\n')
                    line++;
            pos = next;
        }
    }
}

typedef struct section_state {
    const char *text;
    size_t len;
    const char *file;
    mig_sections *out;
    mig_span *open; /* the section being read */
    size_t first_marker;
    bool pending_no_tx; /* a no-transaction line seen in the current section */
    mig_error *err;
    int rc;
} section_state;

/* Close the section being read at offset end. */
static void close_section(section_state *st, size_t end)
{
    if (st->open)
        st->open->len = end - st->open->offset;
    st->open = NULL;
}

/* Handle one marker line of a sectioned file. */
static bool on_section_marker(void *ctx, marker_kind kind, bool no_tx, size_t line_start,
                              size_t line_end, int line)
{
    section_state *st = ctx;
    if (kind == MARK_NO_TX) {
        /* it counts before the section's first statement; goose writes it above the Up marker */
        if (!st->open)
            st->pending_no_tx = true;
        else if (mig_script_is_blank(st->text + st->open->offset, line_start - st->open->offset))
            st->open->no_transaction = true;
        return true;
    }
    if (!st->out->has_markers)
        st->first_marker = line_start;
    st->out->has_markers = true;
    mig_span *span = kind == MARK_UP ? &st->out->up : &st->out->down;
    if (span->present) {
        st->rc = mig_fail(st->err, MIG_ERR_ARGUMENT, "%s: line %d: a second %s section marker",
                          st->file, line, kind == MARK_UP ? "up" : "down");
        return false;
    }
    close_section(st, line_start);
    size_t body = line_end < st->len ? line_end + 1 : line_end;
    span->present = true;
    span->offset = body;
    span->first_line = line + 1;
    span->no_transaction = no_tx || (kind == MARK_UP && st->pending_no_tx);
    st->open = span;
    return true;
}

/* Split a single-file migration into its sections. */
int mig_sections_parse(const char *text, size_t len, const char *file, mig_sections *out,
                       mig_error *err)
{
    memset(out, 0, sizeof *out);
    section_state st = {text, len, file, out, NULL, 0, false, err, MIG_OK};
    scan_markers(text, len, on_section_marker, &st);
    if (st.rc != MIG_OK)
        return st.rc;
    close_section(&st, len);
    if (!out->has_markers) {
        out->up = (mig_span){0, len, 1, false, true};
        mig_script_directives(text, len, &out->up);
        return MIG_OK;
    }
    if (!out->up.present)
        return mig_fail(err, MIG_ERR_ARGUMENT,
                        "%s: has a down section marker but no up section marker", file);
    if (!mig_script_is_blank(text, st.first_marker))
        return mig_fail(err, MIG_ERR_ARGUMENT,
                        "%s: line %d: SQL before the first section marker belongs to no section",
                        file, mig_script_line_at(text, len, mig_script_skip_blank(text, len, 0)));
    return MIG_OK;
}

/* Note a no-transaction directive found before a whole-file script's first statement. */
static bool on_directive(void *ctx, marker_kind kind, bool no_tx, size_t line_start,
                         size_t line_end, int line)
{
    mig_span *span = ctx;
    (void)kind, (void)line_start, (void)line_end, (void)line;
    if (no_tx)
        span->no_transaction = true;
    return true;
}

/* Look for directives in a whole-file script: only lines before its first statement count. */
void mig_script_directives(const char *text, size_t len, mig_span *span)
{
    scan_markers(text, mig_script_skip_blank(text, len, 0), on_directive, span);
}

/* Length of the valid UTF-8 sequence at s (at most len bytes), or 0 when it is not one. */
static size_t utf8_sequence(const unsigned char *s, size_t len)
{
    unsigned char c = s[0];
    size_t n;
    unsigned min;
    if (c < 0x80)
        return c ? 1 : 0;
    if ((c & 0xE0) == 0xC0)
        n = 2, min = 0x80;
    else if ((c & 0xF0) == 0xE0)
        n = 3, min = 0x800;
    else if ((c & 0xF8) == 0xF0)
        n = 4, min = 0x10000;
    else
        return 0;
    if (n > len)
        return 0;
    unsigned cp = c & (0xFF >> (n + 1));
    for (size_t k = 1; k < n; k++) {
        if ((s[k] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

/* A copy of s with every byte that is not valid UTF-8 written as \xHH, fit for a message. */
char *mig_escape_utf8(const char *s)
{
    mig_buf b = {0};
    size_t len = strlen(s);
    for (size_t i = 0; i < len;) {
        size_t n = utf8_sequence((const unsigned char *)s + i, len - i);
        if (n) {
            mig_buf_append(&b, s + i, n);
            i += n;
        } else {
            mig_buf_printf(&b, "\\x%02X", (unsigned char)s[i++]);
        }
    }
    return mig_buf_take(&b);
}

/* True when the bytes are valid UTF-8 (names of files, which history keeps as text). */
bool mig_text_is_utf8(const char *text, size_t len)
{
    mig_error err;
    mig_error_init(&err);
    bool ok = mig_script_check_text(text, len, "", &err) == MIG_OK;
    mig_error_clear(&err);
    return ok;
}

/* Validate that text is UTF-8 without NUL bytes. */
int mig_script_check_text(const char *text, size_t len, const char *file, mig_error *err)
{
    const unsigned char *s = (const unsigned char *)text;
    for (size_t i = 0; i < len;) {
        if (s[i] == 0)
            return mig_fail(err, MIG_ERR_ARGUMENT,
                            "%s: line %d: contains a NUL byte; is it a binary file?", file,
                            mig_script_line_at(text, len, i));
        size_t n = utf8_sequence(s + i, len - i);
        if (!n)
            return mig_fail(err, MIG_ERR_ARGUMENT,
                            "%s: line %d: is not valid UTF-8 (byte 0x%02X at offset %zu)", file,
                            mig_script_line_at(text, len, i), s[i], i);
        i += n;
    }
    return MIG_OK;
}

/* A text over len bytes of ptr, flags to be read by whoever knows them. */
mig_text mig_text_make(const char *ptr, size_t len, int first_line)
{
    return (mig_text){ptr, len, first_line, 0};
}

/* A database value as text: its one measurement, where it crosses into the core. */
mig_text mig_text_of_string(const char *s)
{
    return mig_text_make(s, s ? strlen(s) : 0, 1);
}

/* Check, drop the BOM and fold CRLF, one byte sequence at a time. */
int mig_text_clean(char *text, size_t *len, unsigned *flags, const char *file, mig_error *err)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t n = *len, r = 0, w = 0;
    int line = 1;
    if (n >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        r = 3;
    while (r < n) {
        if (s[r] == 0)
            return mig_fail(err, MIG_ERR_ARGUMENT,
                            "%s: line %d: contains a NUL byte; is it a binary file?", file, line);
        size_t k = utf8_sequence(s + r, n - r);
        if (!k)
            return mig_fail(err, MIG_ERR_ARGUMENT,
                            "%s: line %d: is not valid UTF-8 (byte 0x%02X at offset %zu)", file,
                            line, s[r], r);
        if (s[r] == '\r' && r + 1 < n && s[r + 1] == '\n') {
            *flags |= MIG_TEXT_HAD_CRLF;
            r++;
            continue;
        }
        line += s[r] == '\n';
        while (k--)
            text[w++] = text[r++];
    }
    text[w] = '\0';
    *len = w;
    return MIG_OK;
}

/* Blank and no-transaction, from the part before the first statement. */
void mig_text_read_directives(mig_text *t)
{
    size_t first = mig_script_skip_blank(t->ptr, t->len, 0);
    if (first >= t->len)
        t->flags |= MIG_TEXT_BLANK;
    mig_span span = {0, t->len, t->first_line, false, true};
    scan_markers(t->ptr, first, on_directive, &span);
    if (span.no_transaction)
        t->flags |= MIG_TEXT_NO_TRANSACTION;
}
