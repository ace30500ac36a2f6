/*
 * The one growable-array helper of the core. An array is a pointer plus a capacity kept by
 * its owner, next to its own count; mig_grow doubles the capacity until need items fit and
 * resizes through mig_realloc, so on PostgreSQL the memory lives in the call's context like
 * every other allocation. Doubling keeps appending n items to O(n) copies; the size is
 * checked for overflow before anything is allocated.
 */
#include "mig_vec.h"

#include "mig_alloc.h"
#include "mig_error.h"

#include <string.h>

/* Make room for need items, doubling the capacity; MIG_NOMEM leaves the array untouched. */
int mig_grow(void **items, size_t *cap, size_t need, size_t item_size)
{
    if (need <= *cap)
        return MIG_OK;
    size_t most = (size_t)-1 / item_size;
    if (need > most)
        return MIG_NOMEM;
    size_t first = 64 / item_size > 16 ? 64 / item_size : 16; /* small arrays grow once */
    size_t grown = *cap ? *cap : first;
    if (grown > most)
        grown = most;
    while (grown < need)
        grown = grown > most / 2 ? most : grown * 2;
    /*
     * Callers pass the address of their own T * as void **: read and write it as bytes, which
     * the aliasing rules allow, rather than as a void * object, which they do not.
     */
    void *old, *p;
    memcpy(&old, items, sizeof old);
    p = mig_realloc(old, grown * item_size);
    if (!p)
        return MIG_NOMEM;
    memcpy(items, &p, sizeof p);
    *cap = grown;
    return MIG_OK;
}
