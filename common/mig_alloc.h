/* Memory and string helpers of the core; the engine chooses the allocator for its calls. */
#ifndef MIG_ALLOC_H
#define MIG_ALLOC_H

#include <stdarg.h>
#include <stddef.h>

/*
 * An allocator the core uses; PostgreSQL's allocates with palloc in the call's memory context
 * (cxt), so an ERROR cannot leak. Each function gets cxt as its first argument.
 */
typedef struct mig_allocator {
    void *(*alloc)(void *cxt, size_t size);
    void *(*resize)(void *cxt, void *ptr, size_t size);
    void (*release)(void *cxt, void *ptr);
    void *cxt; /* the allocator's own state, or NULL */
} mig_allocator;

/* The C library's allocator: in force outside calls unless the adapter sets another. */
extern const mig_allocator mig_libc_allocator;

/*
 * The allocator in force outside any call (SQLite: its own, set once at load, so what a table
 * cursor holds between calls is freed the way it was allocated); NULL restores the C
 * library's. During a call the engine's allocator is in force (mig_engine_enter).
 */
void mig_set_allocator(const mig_allocator *allocator);
/* Put allocator in force and return the one it replaces; only mig_engine.c calls this. */
const mig_allocator *mig_alloc_swap(const mig_allocator *allocator);
/* The cxt of the allocator in force (PostgreSQL: the call's memory context). */
void *mig_alloc_context(void);

void *mig_malloc(size_t size);
void *mig_calloc(size_t count, size_t size);
void *mig_realloc(void *ptr, size_t size);
void mig_free(void *ptr);

char *mig_strdup(const char *s);
char *mig_strndup(const char *s, size_t n);
char *mig_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *mig_vprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

#endif
