/* A growable text buffer for building messages and SQL. */
#ifndef MIG_BUF_H
#define MIG_BUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct mig_buf {
    char *data; /* always NUL-terminated once anything was appended */
    size_t len;
    size_t cap;
    bool failed; /* an allocation failed; later appends are ignored */
} mig_buf;

void mig_buf_append(mig_buf *b, const char *s, size_t n);
void mig_buf_puts(mig_buf *b, const char *s);
void mig_buf_printf(mig_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hand the text over to the caller (an empty string when nothing was appended); NULL on failure. */
char *mig_buf_take(mig_buf *b);
void mig_buf_free(mig_buf *b);

#endif
