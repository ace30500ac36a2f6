/* Growing an array held as a pointer and a capacity, through the project's allocator. */
#ifndef MIG_VEC_H
#define MIG_VEC_H

#include <stddef.h>

/*
 * Make room for need items of item_size bytes in *items (which may be NULL), doubling *cap
 * from at least 16 items and 64 bytes. Returns MIG_OK, or MIG_NOMEM (the size overflows or
 * memory is exhausted) with *items and *cap as they were.
 */
int mig_grow(void **items, size_t *cap, size_t need, size_t item_size);

#endif
