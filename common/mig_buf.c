/*
 * A growable, always NUL-terminated text buffer for building messages and SQL. Appends grow
 * it through mig_grow; once an allocation fails the buffer remembers it, ignores later
 * appends, and mig_buf_take returns NULL, so a builder checks for memory once, at the end.
 */
#include "mig_buf.h"

#include "mig_alloc.h"
#include "mig_error.h"
#include "mig_vec.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Make room for n more bytes plus the terminator. */
static bool buf_reserve(mig_buf *b, size_t n)
{
    if (b->failed)
        return false;
    if (n > (size_t)-1 - b->len - 1 ||
        mig_grow((void **)&b->data, &b->cap, b->len + n + 1, 1) != MIG_OK) {
        b->failed = true;
        return false;
    }
    return true;
}

/* Append n bytes of s. */
void mig_buf_append(mig_buf *b, const char *s, size_t n)
{
    if (!buf_reserve(b, n))
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

/* Append a NUL-terminated string. */
void mig_buf_puts(mig_buf *b, const char *s)
{
    mig_buf_append(b, s, strlen(s));
}

/* Append formatted text. */
void mig_buf_printf(mig_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !buf_reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Give the caller ownership of the text and reset the buffer. */
char *mig_buf_take(mig_buf *b)
{
    if (!b->failed && !b->data && buf_reserve(b, 0))
        b->data[0] = '\0';
    char *p = b->failed ? NULL : b->data;
    if (b->failed)
        mig_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = false;
    return p;
}

/* Release whatever the buffer holds. */
void mig_buf_free(mig_buf *b)
{
    mig_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = false;
}
