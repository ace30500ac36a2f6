/*
 * The core's memory and string helpers. Every allocation of common/ goes through the
 * allocator installed here: the C library's by default, palloc and friends on PostgreSQL, so
 * an ERROR raised by the server cannot leak what the core holds. The string helpers (copies,
 * printf into a fresh allocation) are built on the same three functions.
 */
#include "mig_alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *libc_alloc(size_t size)
{
    return malloc(size ? size : 1);
}

static void *libc_resize(void *ptr, size_t size)
{
    return realloc(ptr, size ? size : 1);
}

static const mig_allocator libc_allocator = {libc_alloc, libc_resize, free};
static const mig_allocator *current = &libc_allocator;

/* Install the allocator every later core allocation uses. */
void mig_set_allocator(const mig_allocator *allocator)
{
    current = allocator ? allocator : &libc_allocator;
}

/* Allocate size bytes; NULL only when memory is exhausted. */
void *mig_malloc(size_t size)
{
    return current->alloc(size);
}

/* Allocate count zeroed elements, refusing sizes that overflow. */
void *mig_calloc(size_t count, size_t size)
{
    if (size && count > (size_t)-1 / size)
        return NULL;
    void *p = current->alloc(count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

/* Resize ptr (which may be NULL) to size bytes. */
void *mig_realloc(void *ptr, size_t size)
{
    return ptr ? current->resize(ptr, size) : current->alloc(size);
}

/* Release ptr; NULL is a no-op. */
void mig_free(void *ptr)
{
    if (ptr)
        current->release(ptr);
}

/* Copy a NUL-terminated string. */
char *mig_strdup(const char *s)
{
    return s ? mig_strndup(s, strlen(s)) : NULL;
}

/* Copy the first n bytes of s and terminate them. */
char *mig_strndup(const char *s, size_t n)
{
    char *p = mig_malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* Format into a fresh allocation. */
char *mig_vprintf(const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0)
        return NULL;
    char *p = mig_malloc((size_t)n + 1);
    if (p)
        vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

/* Format into a fresh allocation. */
char *mig_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = mig_vprintf(fmt, ap);
    va_end(ap);
    return p;
}
