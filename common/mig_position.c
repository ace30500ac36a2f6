/*
 * An error's place in a script as people read it: the line and column of a byte offset
 * (columns count characters, not bytes), and an excerpt of that line with a caret under the
 * column, as psql shows a syntax error.
 */
#include "mig_position.h"

#include "mig_buf.h"

#include <stdio.h>
#include <string.h>

/* How much of a long line the excerpt shows on each side of the position, in bytes. */
#define EXCERPT_SIDE 60

/* A byte that continues a UTF-8 character rather than starting one. */
static int is_continuation(char c)
{
    return ((unsigned char)c & 0xC0) == 0x80;
}

/* Line and column: count newlines, then the characters between the line's start and pos. */
void mig_position_at(const char *text, size_t len, size_t pos, int *line, int *column)
{
    if (pos > len)
        pos = len;
    int l = 1, c = 1;
    for (size_t i = 0; i < pos; i++) {
        if (text[i] == '\n') {
            l++;
            c = 1;
        } else if (!is_continuation(text[i])) {
            c++;
        }
    }
    *line = l;
    *column = c;
}

/* Move back from pos to the start of the character it falls in. */
static size_t char_start(const char *text, size_t from, size_t pos)
{
    while (pos > from && is_continuation(text[pos]))
        pos--;
    return pos;
}

/* The line holding pos, cut to a window around it, then the caret line under it. */
char *mig_position_excerpt(const char *text, size_t len, size_t pos, int line_number)
{
    if (pos > len)
        pos = len;
    size_t start = pos, end = pos;
    while (start > 0 && text[start - 1] != '\n')
        start--;
    while (end < len && text[end] != '\n' && text[end] != '\r')
        end++;
    bool cut_before = pos - start > EXCERPT_SIDE, cut_after = end - pos > EXCERPT_SIDE;
    if (cut_before)
        start = char_start(text, start, pos - EXCERPT_SIDE);
    if (cut_after)
        end = char_start(text, pos, pos + EXCERPT_SIDE);
    mig_buf b = {0};
    char label[32];
    snprintf(label, sizeof label, "LINE %d: ", line_number);
    mig_buf_puts(&b, label);
    if (cut_before)
        mig_buf_puts(&b, "...");
    mig_buf_append(&b, text + start, end - start);
    if (cut_after)
        mig_buf_puts(&b, "...");
    mig_buf_puts(&b, "\n");
    /* one blank per character before pos; a tab stays a tab so the caret lines up under it */
    for (size_t n = strlen(label) + (cut_before ? 3 : 0); n > 0; n--)
        mig_buf_puts(&b, " ");
    for (size_t i = start; i < pos; i++)
        if (text[i] == '\t')
            mig_buf_puts(&b, "\t");
        else if (!is_continuation(text[i]))
            mig_buf_puts(&b, " ");
    mig_buf_puts(&b, "^");
    return mig_buf_take(&b);
}
