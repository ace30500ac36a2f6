/* The growable-array helper: growth by doubling, and refusals that leave the array as it was. */
#include "helpers.h"
#include "suites.h"

#include "mig_alloc.h"
#include "mig_error.h"
#include "mig_vec.h"

#include <stdint.h>

/* Appending one item at a time keeps every item and doubles the capacity from 16. */
START_TEST(grows_by_doubling)
{
    int *items = NULL;
    size_t cap = 0;
    for (size_t n = 0; n < 100; n++) {
        ck_assert_int_eq(mig_grow((void **)&items, &cap, n + 1, sizeof *items), MIG_OK);
        ck_assert_uint_ge(cap, n + 1);
        items[n] = (int)n;
    }
    ck_assert_uint_eq(cap, 128);
    for (size_t n = 0; n < 100; n++)
        ck_assert_int_eq(items[n], (int)n);
    mig_free(items);
}
END_TEST

/* Bytes start at 64, and one call makes room for a large need at once. */
START_TEST(first_and_large_needs)
{
    char *bytes = NULL;
    size_t cap = 0;
    ck_assert_int_eq(mig_grow((void **)&bytes, &cap, 1, 1), MIG_OK);
    ck_assert_uint_eq(cap, 64);
    ck_assert_int_eq(mig_grow((void **)&bytes, &cap, 1000, 1), MIG_OK);
    ck_assert_uint_eq(cap, 1024);
    ck_assert_int_eq(mig_grow((void **)&bytes, &cap, 10, 1), MIG_OK); /* never shrinks */
    ck_assert_uint_eq(cap, 1024);
    mig_free(bytes);
}
END_TEST

/* A need whose size overflows is refused before anything is allocated. */
START_TEST(overflow_refused)
{
    long *items = NULL;
    size_t cap = 0;
    ck_assert_int_eq(mig_grow((void **)&items, &cap, SIZE_MAX / 2, sizeof *items), MIG_NOMEM);
    ck_assert_ptr_null(items);
    ck_assert_uint_eq(cap, 0);
    ck_assert_int_eq(mig_grow((void **)&items, &cap, 3, sizeof *items), MIG_OK);
    ck_assert_int_eq(mig_grow((void **)&items, &cap, SIZE_MAX, sizeof *items), MIG_NOMEM);
    ck_assert_ptr_nonnull(items);
    ck_assert_uint_eq(cap, 16);
    mig_free(items);
}
END_TEST

Suite *vec_suite(void)
{
    Suite *s = suite_create("vec");
    TCase *tc = tcase_create("grow");
    tcase_add_test(tc, grows_by_doubling);
    tcase_add_test(tc, first_and_large_needs);
    tcase_add_test(tc, overflow_refused);
    suite_add_tcase(s, tc);
    return s;
}
