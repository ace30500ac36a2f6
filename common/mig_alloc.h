/* Memory and string helpers of the core; the adapter chooses the allocator. */
#ifndef MIG_ALLOC_H
#define MIG_ALLOC_H

#include <stdarg.h>
#include <stddef.h>

/* The allocator the core uses; PostgreSQL routes it to palloc so an ERROR cannot leak. */
typedef struct mig_allocator {
    void *(*alloc)(size_t size);
    void *(*resize)(void *ptr, size_t size);
    void (*release)(void *ptr);
} mig_allocator;

/* Install the allocator; NULL restores the C library's. */
void mig_set_allocator(const mig_allocator *allocator);

void *mig_malloc(size_t size);
void *mig_calloc(size_t count, size_t size);
void *mig_realloc(void *ptr, size_t size);
void mig_free(void *ptr);

char *mig_strdup(const char *s);
char *mig_strndup(const char *s, size_t n);
char *mig_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *mig_vprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

#endif
