/*
 * The core's memory and string helpers. Every allocation of common/ goes through the
 * allocator in force: during a call the engine's (mig_engine_enter), palloc in the call's
 * context on PostgreSQL, so an ERROR raised by the server cannot leak what the core holds;
 * outside calls the C library's, or the one the adapter set at load (SQLite's). The string helpers
 * (copies, printf into a fresh allocation) are built on the same three functions.
 */
#include "mig_alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *libc_alloc(void *cxt, size_t size)
{
    (void)cxt;
    return malloc(size ? size : 1);
}

static void *libc_resize(void *cxt, void *ptr, size_t size)
{
    (void)cxt;
    return realloc(ptr, size ? size : 1);
}

static void libc_release(void *cxt, void *ptr)
{
    (void)cxt;
    free(ptr);
}

const mig_allocator mig_libc_allocator = {libc_alloc, libc_resize, libc_release, NULL};
/*
 * The allocator in force outside calls, and the one in force now in this thread (NULL: the one
 * outside calls). Each thread has its own: migrate_fleet runs calls on several threads at once,
 * each with its engine's allocator in force while the others enter and leave theirs.
 */
static const mig_allocator *outside = &mig_libc_allocator;
static _Thread_local const mig_allocator *in_force = NULL;

/* The allocator in force now in this thread. */
static inline const mig_allocator *current(void)
{
    return in_force ? in_force : outside;
}

/* Install the allocator in force outside calls (and now). */
void mig_set_allocator(const mig_allocator *allocator)
{
    outside = allocator ? allocator : &mig_libc_allocator;
    in_force = NULL;
}

/* Put allocator in force (NULL: the one outside calls); returns the one it replaces. */
const mig_allocator *mig_alloc_swap(const mig_allocator *allocator)
{
    const mig_allocator *was = current();
    in_force = allocator;
    return was;
}

/* The state of the allocator in force. */
void *mig_alloc_context(void)
{
    return current()->cxt;
}

/* Allocate size bytes; NULL only when memory is exhausted. */
void *mig_malloc(size_t size)
{
    return current()->alloc(current()->cxt, size);
}

/* Allocate count zeroed elements, refusing sizes that overflow. */
void *mig_calloc(size_t count, size_t size)
{
    if (size && count > (size_t)-1 / size)
        return NULL;
    void *p = current()->alloc(current()->cxt, count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

/* Resize ptr (which may be NULL) to size bytes. */
void *mig_realloc(void *ptr, size_t size)
{
    return ptr ? current()->resize(current()->cxt, ptr, size)
               : current()->alloc(current()->cxt, size);
}

/* Release ptr; NULL is a no-op. */
void mig_free(void *ptr)
{
    if (ptr)
        current()->release(current()->cxt, ptr);
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
