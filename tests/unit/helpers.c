/* Helpers shared by the unit tests: temporary migrations folders. */
#include "helpers.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char *tmp_root;

/* Make the root that every temporary folder of a TCase lives under. */
void tmp_root_setup(void)
{
    char tmpl[] = "/tmp/mig_unit_XXXXXX";
    char *made = mkdtemp(tmpl);
    ck_assert_ptr_nonnull(made);
    tmp_root = strdup(made);
    ck_assert_ptr_nonnull(tmp_root);
}

/* Remove the root and what the tests left in it. */
void tmp_root_teardown(void)
{
    if (tmp_root)
        rm_tree(tmp_root);
    free(tmp_root);
    tmp_root = NULL;
}

/* A new empty folder under the root (under /tmp when no root was set up). */
char *tmp_dir(void)
{
    char *tmpl = path_join(tmp_root ? tmp_root : "/tmp", "dXXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpl));
    return tmpl;
}

/* Remove a temporary folder and release its path. */
void tmp_dir_free(char *dir)
{
    if (dir)
        rm_tree(dir);
    free(dir);
}

/* dir/rel in a fresh allocation. */
char *path_join(const char *dir, const char *rel)
{
    size_t n = strlen(dir) + strlen(rel) + 2;
    char *p = malloc(n);
    ck_assert_ptr_nonnull(p);
    snprintf(p, n, "%s/%s", dir, rel);
    return p;
}

/* Write len bytes to dir/rel. */
void write_bytes(const char *dir, const char *rel, const void *data, size_t len)
{
    char *path = path_join(dir, rel);
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot create %s", path);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
    free(path);
}

/* Write a NUL-terminated text to dir/rel. */
void write_file(const char *dir, const char *rel, const char *text)
{
    write_bytes(dir, rel, text, strlen(text));
}

/* Make the folder dir/rel. */
void make_dir(const char *dir, const char *rel)
{
    char *path = path_join(dir, rel);
    ck_assert_msg(mkdir(path, 0700) == 0, "cannot make %s", path);
    free(path);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

/* Remove a tree, depth first, without following links. */
void rm_tree(const char *path)
{
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* migrate_apply(dir, target) with the default policy. */
int mig_apply(const mig_engine *eng, const char *dir, const char *target, int *applied,
              mig_error *err)
{
    mig_call call = {MIG_PLAN_APPLY, target, MIG_STEPS_ALL, {false, false, 0}};
    return mig_run(eng, FOLDER(dir), &call, applied, err);
}

/* migrate_plan(dir [, target]) with the default policy. */
int mig_plan_load(const mig_engine *eng, const char *dir, const char *target, mig_snapshot *snap,
                  mig_error *err)
{
    mig_call call = {
        target ? MIG_PLAN_TO : MIG_PLAN_APPLY, target, MIG_STEPS_ALL, {false, false, 0}};
    return mig_plan_load_call(eng, FOLDER(dir), &call, snap, err);
}

/* Every problem of a status under the default policy. */
int mig_status_check(const mig_status *status, mig_error *err)
{
    return mig_status_check_policy(status, NULL, NULL, err);
}

/* An apply's plan under the default policy. */
int mig_plan_build(const mig_status *status, const char *target, mig_plan *out, mig_error *err)
{
    return mig_plan_make(status, NULL, MIG_PLAN_APPLY, target, 0, out, err);
}
