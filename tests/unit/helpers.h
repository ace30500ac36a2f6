/* Helpers shared by the unit tests: string assertions and temporary migrations folders. */
#ifndef UNIT_HELPERS_H
#define UNIT_HELPERS_H

#include <check.h>
#include <stddef.h>
#include <string.h>

/* Assert that hay (which may be NULL) contains needle. */
#define ck_assert_str_contains(hay, needle)                                                        \
    do {                                                                                           \
        const char *hay_ = (hay);                                                                  \
        const char *needle_ = (needle);                                                            \
        ck_assert_msg(hay_ != NULL && strstr(hay_, needle_) != NULL,                               \
                      "expected \"%s\" to contain \"%s\"", hay_ ? hay_ : "(null)", needle_);       \
    } while (0)

/* Assert that hay (which may be NULL) does not contain needle. */
#define ck_assert_str_lacks(hay, needle)                                                           \
    do {                                                                                           \
        const char *hay_ = (hay);                                                                  \
        const char *needle_ = (needle);                                                            \
        ck_assert_msg(hay_ == NULL || strstr(hay_, needle_) == NULL,                               \
                      "expected \"%s\" not to contain \"%s\"", hay_, needle_);                     \
    } while (0)

/*
 * Temporary folders. A TCase that uses them installs tmp_root_setup/tmp_root_teardown as an
 * unchecked fixture: the root (mkdtemp under /tmp) is made in the runner's process and removed
 * with everything in it after the TCase, even when a test failed half-way.
 */
void tmp_root_setup(void);
void tmp_root_teardown(void);
/* A new empty folder under the root; release with tmp_dir_free (which removes it). */
char *tmp_dir(void);
void tmp_dir_free(char *dir);

/* dir/rel joined; release with free. */
char *path_join(const char *dir, const char *rel);
/* Write text (or len bytes of data) to dir/rel, replacing the file. */
void write_file(const char *dir, const char *rel, const char *text);
void write_bytes(const char *dir, const char *rel, const void *data, size_t len);
/* Make the folder dir/rel. */
void make_dir(const char *dir, const char *rel);
/* Remove path and everything under it, never following symbolic links. */
void rm_tree(const char *path);

#include "mig_run.h"

/* The migrations folder dir as a call's source. */
#define FOLDER(dir) (&(mig_source){MIG_SOURCE_FOLDER, (dir)})
/* No source: history alone. */
#define NO_SOURCE (&(mig_source){MIG_SOURCE_NONE, NULL})

/* Conveniences over the core's calls with the default policy, as the tests use them. */
int mig_apply(const mig_engine *eng, const char *dir, const char *target, int *applied,
              mig_error *err);
int mig_plan_load(const mig_engine *eng, const char *dir, const char *target, mig_snapshot *snap,
                  mig_error *err);
int mig_status_check(const mig_status *status, mig_error *err);
int mig_plan_build(const mig_status *status, const char *target, mig_plan *out, mig_error *err);

#endif
