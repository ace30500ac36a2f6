/* Folder reading: temporary migrations folders read into ordered sets. */
#include "helpers.h"
#include "suites.h"

#include "mig_alloc.h"
#include "mig_sha256.h"
#include "mig_source.h"

#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

/* SHA-256 hex of a text. */
static void sha_of(const char *text, char out[65])
{
    mig_sha256_hex(text, strlen(text), out);
}

/* Read the folder dir through the loader, as migrate_new and migrate_push do (no engine). */
static int source_read(const char *dir, mig_set *set, mig_error *err)
{
    return mig_source_load(NULL, FOLDER(dir), 0, set, NULL, err);
}

/* Read dir, which must succeed. */
static mig_set read_ok(const char *dir)
{
    mig_set set;
    mig_error err;
    mig_error_init(&err);
    int rc = source_read(dir, &set, &err);
    char msg[512];
    snprintf(msg, sizeof msg, "%s", err.message ? err.message : "");
    mig_error_clear(&err); /* nothing left to leak when the assertion fails */
    ck_assert_msg(rc == MIG_OK, "reading %s failed: %s", dir, msg);
    return set;
}

/*
 * Read dir, which must be refused (not an engine error); the message must contain each text.
 * Returns the class it was refused with.
 */
static int read_refused(const char *dir, const char *also1, const char *also2)
{
    mig_set set;
    mig_error err;
    mig_error_init(&err);
    int rc = source_read(dir, &set, &err);
    ck_assert_int_ne(rc, MIG_OK);
    ck_assert_int_ne(rc, MIG_ENGINE);
    ck_assert_int_ne(rc, MIG_NOMEM);
    ck_assert_int_eq(err.code, rc);
    if (also1)
        ck_assert_str_contains(err.message, also1);
    if (also2)
        ck_assert_str_contains(err.message, also2);
    ck_assert_uint_eq(set.count, 0);
    ck_assert_ptr_null(set.items);
    mig_error_clear(&err);
    return rc;
}

/* Check one migration of a set: identity, scripts, texts and their checksums. */
static void expect_migration(const mig_migration *m, const char *version, const char *name,
                             const char *script, const char *down_script, const char *up_text,
                             const char *down_text)
{
    char sum[65];
    ck_assert_str_eq(m->version, version);
    ck_assert_str_eq(m->name, name);
    ck_assert_str_eq(m->script, script);
    ck_assert_pstr_eq(m->down_script, down_script);
    ck_assert_str_eq(m->up.ptr, up_text);
    ck_assert_uint_eq(m->up.len, strlen(up_text));
    ck_assert_pstr_eq(m->down.ptr, down_text);
    sha_of(up_text, sum);
    ck_assert_str_eq(m->checksum, sum);
    if (down_text) {
        sha_of(down_text, sum);
        ck_assert_str_eq(m->down_checksum, sum);
        ck_assert_uint_eq(m->down.len, strlen(down_text));
    } else {
        ck_assert_str_eq(m->down_checksum, "");
        ck_assert_ptr_null(m->down.ptr);
    }
    ck_assert_ptr_nonnull(m->up.ptr);
}

/* Every layout in one folder, with ignored entries, read into one set ordered by version. */
START_TEST(mixed_folder)
{
    char *dir = tmp_dir();
    write_file(dir, "2.9.0_early.sql", "CREATE TABLE early (x int);\n");
    write_file(dir, "v2.15.0-later.sql", "CREATE TABLE later (x int);\n");
    write_file(dir, "20240101_create_users.up.sql", "CREATE TABLE users (id int);\n");
    write_file(dir, "20240101_create_users.down.sql", "DROP TABLE users;\n");
    write_file(dir, "20240102-add-email.sql",
               "-- migrate:up\nALTER TABLE users ADD email text;\n"
               "-- migrate:down\nALTER TABLE users DROP email;\n");
    make_dir(dir, "20240103_seed");
    write_file(dir, "20240103_seed/up.sql", "INSERT INTO users VALUES (1);\n");
    write_file(dir, "20240103_seed/down.sql", "DELETE FROM users;\n");
    write_file(dir, "20240103_seed/README.md", "not read\n");
    write_file(dir, "V20240104__flyway_thing.sql", "CREATE TABLE f (x int);\n");
    write_file(dir, "U20240104__flyway_thing.sql", "DROP TABLE f;\n");
    write_file(dir, "20240105_no_down.up.sql", "SELECT 1;\n");
    make_dir(dir, "20240106_folder_up_only");
    write_file(dir, "20240106_folder_up_only/up.sql", "SELECT 6;\n");
    /* ignored */
    write_file(dir, "README.md", "# migrations\n");
    write_file(dir, ".gitkeep", "");
    write_file(dir, "notes.txt", "no version here\n");
    make_dir(dir, "docs");
    write_file(dir, "docs/not_a_migration.sql", "this is never read \xFF\n");
    make_dir(dir, ".hidden");
    write_file(dir, ".hidden/1_x.sql", "SELECT 1;\n");

    mig_set set = read_ok(dir);
    ck_assert_uint_eq(set.count, 8);
    expect_migration(&set.items[0], "2.9.0", "early", "2.9.0_early.sql", NULL,
                     "CREATE TABLE early (x int);\n", NULL);
    expect_migration(&set.items[1], "2.15.0", "later", "v2.15.0-later.sql", NULL,
                     "CREATE TABLE later (x int);\n", NULL);
    expect_migration(&set.items[2], "20240101", "create_users", "20240101_create_users.up.sql",
                     "20240101_create_users.down.sql", "CREATE TABLE users (id int);\n",
                     "DROP TABLE users;\n");
    expect_migration(&set.items[3], "20240102", "add-email", "20240102-add-email.sql",
                     "20240102-add-email.sql", "ALTER TABLE users ADD email text;\n",
                     "ALTER TABLE users DROP email;\n");
    ck_assert_int_eq(set.items[3].up.first_line, 2);
    ck_assert_int_eq(set.items[3].down.first_line, 4);
    expect_migration(&set.items[4], "20240103", "seed", "20240103_seed/up.sql",
                     "20240103_seed/down.sql", "INSERT INTO users VALUES (1);\n",
                     "DELETE FROM users;\n");
    expect_migration(&set.items[5], "20240104", "flyway_thing", "V20240104__flyway_thing.sql",
                     "U20240104__flyway_thing.sql", "CREATE TABLE f (x int);\n", "DROP TABLE f;\n");
    expect_migration(&set.items[6], "20240105", "no_down", "20240105_no_down.up.sql", NULL,
                     "SELECT 1;\n", NULL);
    expect_migration(&set.items[7], "20240106", "folder_up_only", "20240106_folder_up_only/up.sql",
                     NULL, "SELECT 6;\n", NULL);
    for (size_t i = 0; i < set.count; i++)
        if (i != 3)
            ck_assert_int_eq(set.items[i].up.first_line, 1);
    mig_set_free(&set);
    ck_assert_uint_eq(set.count, 0);
    ck_assert_ptr_null(set.items);
    tmp_dir_free(dir);
}
END_TEST

/* Spans and directives of each layout are kept for line numbers and transactions. */
START_TEST(spans_and_directives)
{
    char *dir = tmp_dir();
    write_file(
        dir, "1_a.sql",
        "-- about a\n-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON t (x);\n"
        "-- migrate:down\nDROP INDEX i;\n");
    write_file(dir, "2_b.up.sql",
               "-- migrate:no-transaction\nCREATE INDEX CONCURRENTLY j ON t (y);\n");
    write_file(dir, "2_b.down.sql", "DROP INDEX j;\n");
    mig_set set = read_ok(dir);
    ck_assert_uint_eq(set.count, 2);
    ck_assert_int_eq(set.items[0].up.first_line, 3);
    ck_assert(mig_text_has(&set.items[0].up, MIG_TEXT_NO_TRANSACTION));
    ck_assert_int_eq(set.items[0].down.first_line, 5);
    ck_assert(!mig_text_has(&set.items[0].down, MIG_TEXT_NO_TRANSACTION));
    ck_assert(mig_text_has(&set.items[1].up, MIG_TEXT_NO_TRANSACTION));
    ck_assert_int_eq(set.items[1].up.first_line, 1);
    ck_assert_uint_eq(set.items[1].up.len, strlen(set.items[1].up.ptr));
    ck_assert(!mig_text_has(&set.items[1].down, MIG_TEXT_NO_TRANSACTION));
    mig_set_free(&set);
    tmp_dir_free(dir);
}
END_TEST

/* An empty folder, or one with only ignored files, is an empty set. */
START_TEST(empty_and_ignored_only)
{
    char *dir = tmp_dir();
    mig_set set = read_ok(dir);
    ck_assert_uint_eq(set.count, 0);
    mig_set_free(&set);

    write_file(dir, "README.md", "x");
    write_file(dir, ".gitkeep", "");
    write_file(dir, "notes.txt", "x");
    write_file(dir, "20240101_init.sql.orig", "x");
    make_dir(dir, "docs");
    set = read_ok(dir);
    ck_assert_uint_eq(set.count, 0);
    mig_set_free(&set);
    tmp_dir_free(dir);
}
END_TEST

/* Two migrations with the same version are refused, naming both files. */
START_TEST(duplicate_versions)
{
    char *dir = tmp_dir();
    write_file(dir, "1_a.sql", "SELECT 1;\n");
    write_file(dir, "001_b.sql", "SELECT 2;\n");
    read_refused(dir, "001_b.sql", "1_a.sql");
    tmp_dir_free(dir);

    dir = tmp_dir();
    write_file(dir, "20240101_a.up.sql", "SELECT 1;\n");
    write_file(dir, "20240101_a.down.sql", "SELECT 1;\n");
    write_file(dir, "20240101_b.sql", "SELECT 2;\n");
    read_refused(dir, "20240101_a.up.sql", "20240101_b.sql");
    tmp_dir_free(dir);

    dir = tmp_dir();
    write_file(dir, "V3__x.sql", "SELECT 1;\n");
    make_dir(dir, "3_y");
    write_file(dir, "3_y/up.sql", "SELECT 2;\n");
    read_refused(dir, "V3__x.sql", "3_y/up.sql");
    tmp_dir_free(dir);

    /* 1.0 and 1 are the same version */
    dir = tmp_dir();
    write_file(dir, "1_a.sql", "SELECT 1;\n");
    write_file(dir, "1.0_b.sql", "SELECT 2;\n");
    read_refused(dir, "1_a.sql", "1.0_b.sql");
    tmp_dir_free(dir);

    /* a second down script for a pair */
    dir = tmp_dir();
    write_file(dir, "5_a.up.sql", "SELECT 1;\n");
    write_file(dir, "5_a.down.sql", "SELECT 1;\n");
    write_file(dir, "5_b.down.sql", "SELECT 1;\n");
    read_refused(dir, "5_a.up.sql", "5_b.down.sql");
    tmp_dir_free(dir);
}
END_TEST

/* A .sql file without a version is refused, naming the file. */
START_TEST(sql_without_version)
{
    char *dir = tmp_dir();
    write_file(dir, "1_ok.sql", "SELECT 1;\n");
    write_file(dir, "create_users.sql", "SELECT 1;\n");
    read_refused(dir, "create_users.sql", "no version");
    tmp_dir_free(dir);
}
END_TEST

/* A down script without its up script is refused, naming the file. */
START_TEST(down_without_up)
{
    char *dir = tmp_dir();
    write_file(dir, "20240101_x.down.sql", "DROP TABLE x;\n");
    read_refused(dir, "20240101_x.down.sql", "no up script");
    tmp_dir_free(dir);

    dir = tmp_dir();
    write_file(dir, "U7__x.sql", "DROP TABLE x;\n");
    read_refused(dir, "U7__x.sql", "no up script");
    tmp_dir_free(dir);
}
END_TEST

/* A migration folder without up.sql is refused, naming the folder. */
START_TEST(folder_without_up)
{
    char *dir = tmp_dir();
    make_dir(dir, "20240101_x");
    write_file(dir, "20240101_x/down.sql", "DROP TABLE x;\n");
    read_refused(dir, "20240101_x/", "up.sql");
    tmp_dir_free(dir);

    dir = tmp_dir();
    make_dir(dir, "20240101_empty");
    read_refused(dir, "20240101_empty/", "up.sql");
    tmp_dir_free(dir);
}
END_TEST

/* Empty and comments-only up scripts are valid no-ops. */
START_TEST(empty_and_comment_scripts)
{
    char *dir = tmp_dir();
    write_file(dir, "1_empty.up.sql", "");
    write_file(dir, "2_comments.sql", "-- nothing\n/* here */\n");
    write_file(dir, "3_sections.sql", "-- migrate:up\n-- migrate:down\n");
    mig_set set = read_ok(dir);
    ck_assert_uint_eq(set.count, 3);
    expect_migration(&set.items[0], "1", "empty", "1_empty.up.sql", NULL, "", NULL);
    expect_migration(&set.items[1], "2", "comments", "2_comments.sql", NULL,
                     "-- nothing\n/* here */\n", NULL);
    expect_migration(&set.items[2], "3", "sections", "3_sections.sql", "3_sections.sql", "", "");
    mig_set_free(&set);
    tmp_dir_free(dir);
}
END_TEST

/* A CRLF file (and a BOM one) has the same checksum and text as its LF twin. */
START_TEST(crlf_twin)
{
    char *lf = tmp_dir(), *crlf = tmp_dir();
    write_file(lf, "1_x.sql",
               "-- migrate:up\nCREATE TABLE x (a int);\n-- migrate:down\nDROP TABLE x;\n");
    write_file(lf, "2_y.up.sql", "SELECT 'a\rb';\n");
    write_file(crlf, "1_x.sql",
               "\xEF\xBB\xBF-- migrate:up\r\nCREATE TABLE x (a int);\r\n-- migrate:down\r\nDROP "
               "TABLE x;\r\n");
    write_file(crlf, "2_y.up.sql", "SELECT 'a\rb';\r\n");
    mig_set a = read_ok(lf), b = read_ok(crlf);
    ck_assert_uint_eq(a.count, 2);
    ck_assert_uint_eq(b.count, 2);
    for (size_t i = 0; i < 2; i++) {
        ck_assert_str_eq(a.items[i].checksum, b.items[i].checksum);
        ck_assert_str_eq(a.items[i].down_checksum, b.items[i].down_checksum);
        ck_assert_str_eq(a.items[i].up.ptr, b.items[i].up.ptr);
        ck_assert_pstr_eq(a.items[i].down.ptr, b.items[i].down.ptr);
        ck_assert_int_eq(a.items[i].up.first_line, b.items[i].up.first_line);
    }
    ck_assert_str_eq(b.items[0].up.ptr, "CREATE TABLE x (a int);\n");
    ck_assert_str_eq(b.items[1].up.ptr, "SELECT 'a\rb';\n"); /* the lone CR stays */
    mig_set_free(&a);
    mig_set_free(&b);
    tmp_dir_free(lf);
    tmp_dir_free(crlf);
}
END_TEST

/* A folder that does not exist, a path that is a file, and no folder at all are clear errors. */
START_TEST(bad_folders)
{
    char *dir = tmp_dir();
    char *missing = path_join(dir, "no_such_folder");
    ck_assert_int_eq(read_refused(missing, missing, "does not exist"), MIG_ERR_NO_FILE);
    write_file(dir, "plain_file", "x");
    char *file = path_join(dir, "plain_file");
    ck_assert_int_eq(read_refused(file, file, "is not a folder"), MIG_ERR_ARGUMENT);
    ck_assert_int_eq(read_refused("", "no migrations folder", NULL), MIG_ERR_NULL);
    ck_assert_int_eq(read_refused(NULL, "no migrations folder", NULL), MIG_ERR_NULL);
    free(missing);
    free(file);
    tmp_dir_free(dir);
}
END_TEST

/* A symbolic link loop, and a dangling link, are refused naming the entry. */
START_TEST(symlinks)
{
    char *dir = tmp_dir();
    write_file(dir, "1_a.sql", "SELECT 1;\n");
    char *loop = path_join(dir, "2_loop");
    ck_assert_int_eq(symlink("2_loop", loop), 0);
    read_refused(dir, "2_loop", "symbolic link loop");
    free(loop);
    tmp_dir_free(dir);

    /* what cannot be a migration is ignored, whatever it points at: an editor's lock file */
    dir = tmp_dir();
    write_file(dir, "1_a.sql", "SELECT 1;\n");
    char *other = path_join(dir, "loop");
    ck_assert_int_eq(symlink("loop", other), 0);
    char *readme = path_join(dir, "README.md");
    ck_assert_int_eq(symlink("/nowhere", readme), 0);
    mig_set kept = read_ok(dir);
    ck_assert_uint_eq(kept.count, 1);
    mig_set_free(&kept);
    free(other);
    free(readme);
    tmp_dir_free(dir);

    dir = tmp_dir();
    char *dangling = path_join(dir, "2_b.sql");
    ck_assert_int_eq(symlink("nowhere.sql", dangling), 0);
    read_refused(dir, "2_b.sql", "dangling");
    free(dangling);
    tmp_dir_free(dir);

    /* a link to a real file is read like the file */
    dir = tmp_dir();
    write_file(dir, "shared.txt", "SELECT 3;\n");
    char *link = path_join(dir, "3_c.sql");
    ck_assert_int_eq(symlink("shared.txt", link), 0);
    mig_set set = read_ok(dir);
    ck_assert_uint_eq(set.count, 1);
    expect_migration(&set.items[0], "3", "c", "3_c.sql", NULL, "SELECT 3;\n", NULL);
    mig_set_free(&set);
    free(link);
    tmp_dir_free(dir);
}
END_TEST

/* A named pipe called *.sql is refused as not a regular file, without blocking on it. */
START_TEST(fifo_refused_without_blocking)
{
    char *dir = tmp_dir();
    char *fifo = path_join(dir, "20240101_pipe.sql");
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    /*
     * A watchdog unblocks a reader stuck opening the pipe and reports it on `result`; `done`
     * tells it the read returned. Nothing depends on timing but how long a hang would last.
     */
    int done[2], result[2];
    ck_assert_int_eq(pipe(done), 0);
    ck_assert_int_eq(pipe(result), 0);
    pid_t watchdog = fork();
    ck_assert_int_ne(watchdog, -1);
    if (watchdog == 0) {
        close(done[1]);
        close(result[0]);
        struct pollfd p = {done[0], POLLIN, 0};
        for (int i = 0; i < 100 && poll(&p, 1, 100) == 0; i++)
            if (open(fifo, O_WRONLY | O_NONBLOCK) >= 0) { /* only succeeds when a reader waits */
                ssize_t n = write(result[1], "B", 1);
                (void)n; /* a lost flag shows as a pass, never as a hang */
                break;
            }
        free(fifo); /* the watchdog's copies: valgrind checks its leaks too */
        free(dir);
        _exit(0);
    }
    close(done[0]);
    close(result[1]);
    mig_set set;
    mig_error err;
    mig_error_init(&err);
    int rc = source_read(dir, &set, &err);
    close(done[1]);
    waitpid(watchdog, NULL, 0);
    char flag = 0;
    bool blocked = read(result[0], &flag, 1) == 1 && flag == 'B';
    close(result[0]);
    char msg[512];
    snprintf(msg, sizeof msg, "%s", err.message ? err.message : "");
    mig_error_clear(&err);
    if (rc == MIG_OK)
        mig_set_free(&set);
    free(fifo);
    tmp_dir_free(dir);
    ck_assert_msg(!blocked, "reading the folder blocked opening a named pipe");
    ck_assert_int_eq(rc, MIG_ERR_ARGUMENT);
    ck_assert_str_contains(msg, "20240101_pipe.sql");
    ck_assert_str_contains(msg, "not a regular file");
}
END_TEST

/* Bad bytes and bad sections are refused with the file (relative to the folder) and line. */
START_TEST(bad_scripts)
{
    char *dir = tmp_dir();
    write_bytes(dir, "1_nul.sql", "SELECT 1;\nSE\0LECT 2;\n", 21);
    read_refused(dir, "1_nul.sql: line 2", "NUL");
    tmp_dir_free(dir);

    dir = tmp_dir();
    make_dir(dir, "2_latin1");
    write_file(dir, "2_latin1/up.sql", "SELECT 'caf\xE9';\n");
    read_refused(dir, "2_latin1/up.sql: line 1", "UTF-8");
    tmp_dir_free(dir);

    dir = tmp_dir();
    write_file(dir, "3_before.sql", "-- c\nSELECT 0;\n-- migrate:up\nSELECT 1;\n");
    read_refused(dir, "3_before.sql: line 2", NULL);
    tmp_dir_free(dir);

    dir = tmp_dir();
    write_file(dir, "4_nodown.sql", "-- migrate:down\nDROP TABLE x;\n");
    read_refused(dir, "4_nodown.sql", "no up");
    tmp_dir_free(dir);

    dir = tmp_dir();
    write_file(dir, "R__views.sql", "SELECT 1;\n");
    read_refused(dir, "R__views.sql", "repeatable");
    tmp_dir_free(dir);
}
END_TEST

/* A file larger than MIG_MAX_SCRIPT_BYTES is refused before it is read. */
START_TEST(too_large)
{
    char *dir = tmp_dir();
    char *path = path_join(dir, "1_big.up.sql");
    write_file(dir, "1_big.up.sql", "");
    ck_assert_int_eq(truncate(path, (off_t)MIG_MAX_SCRIPT_BYTES + 1), 0); /* sparse */
    ck_assert_int_eq(read_refused(dir, "1_big.up.sql", "MiB"), MIG_ERR_LIMIT);
    free(path);
    tmp_dir_free(dir);
}
END_TEST

/* A file of exactly MIG_MAX_SCRIPT_BYTES is read: only larger files are refused. */
START_TEST(largest_allowed)
{
    if (RUNNING_ON_VALGRIND)
        return; /* hashing 32 MiB under valgrind takes seconds, and this checks no memory use */
    const size_t n = MIG_MAX_SCRIPT_BYTES;
    char *text = malloc(n);
    ck_assert_ptr_nonnull(text);
    memset(text, '\n', n);
    memcpy(text, "SELECT 1;", 9);
    char *dir = tmp_dir();
    write_bytes(dir, "1_big.up.sql", text, n);
    free(text);
    mig_set set;
    mig_error err;
    mig_error_init(&err);
    int rc = source_read(dir, &set, &err);
    char msg[512];
    snprintf(msg, sizeof msg, "%s", err.message ? err.message : "");
    mig_error_clear(&err);
    size_t count = rc == MIG_OK ? set.count : 0;
    size_t len = count ? set.items[0].up.len : 0;
    if (rc == MIG_OK)
        mig_set_free(&set);
    tmp_dir_free(dir);
    ck_assert_msg(rc == MIG_OK, "a file of exactly MIG_MAX_SCRIPT_BYTES was refused: %s", msg);
    ck_assert_uint_eq(count, 1);
    ck_assert_uint_eq(len, n);
}
END_TEST

/* mig_text_normalize drops a leading BOM and the CR of each CRLF, in place, and terminates. */
START_TEST(text_normalize)
{
    char a[] = "\xEF\xBB\xBF"
               "a\r\nb\rc\r\n\r\r\n";
    size_t n = mig_text_normalize(a, strlen(a));
    ck_assert_uint_eq(n, 8);
    ck_assert_mem_eq(a, "a\nb\rc\n\r\n", 9);

    char b[] = "plain\n";
    ck_assert_uint_eq(mig_text_normalize(b, 6), 6);
    ck_assert_str_eq(b, "plain\n");

    char c[] = "\xEF\xBB\xBF";
    ck_assert_uint_eq(mig_text_normalize(c, 3), 0);
    ck_assert_str_eq(c, "");

    char d[] = "x\xEF\xBB\xBF\r";
    ck_assert_uint_eq(mig_text_normalize(d, 5), 5);
    ck_assert_str_eq(d, "x\xEF\xBB\xBF\r");

    /* normalising then hashing equals the checksum of the raw bytes */
    static const char *const raw[] = {"\xEF\xBB\xBFSELECT 1;\r\n", "a\r\r\nb\r", "\r\n\r\n", ""};
    for (size_t i = 0; i < sizeof raw / sizeof *raw; i++) {
        char *copy = strdup(raw[i]);
        ck_assert_ptr_nonnull(copy);
        size_t len = mig_text_normalize(copy, strlen(copy));
        char want[65], got[65];
        mig_sha256_hex(copy, len, want);
        mig_checksum(raw[i], strlen(raw[i]), got);
        ck_assert_str_eq(got, want);
        free(copy);
    }
}
END_TEST

/* The rows of a migrate_scripts table an engine answers with: version, name, up_sql, down_sql. */
typedef struct table_stub {
    const char *rows[4][4];
    int count;
    const char *query; /* the last query it was asked */
} table_stub;

/* engine.query over the stub's rows. */
static int stub_query(void *h, const char *sql, int nparams, const char *const *params,
                      mig_row_fn fn, void *ctx, mig_error *err)
{
    table_stub *t = h;
    (void)nparams, (void)params, (void)err;
    t->query = sql[0] ? "select" : "";
    ck_assert_str_contains(sql, "FROM \"main\".\"migrate_scripts\"");
    for (int i = 0; i < t->count; i++) {
        int rc = fn(ctx, 4, t->rows[i]);
        if (rc != MIG_OK)
            return rc;
    }
    return MIG_OK;
}

/* An engine whose only source is the stub's migrate_scripts. */
static mig_engine stub_engine(table_stub *t)
{
    mig_engine e = {.handle = t, .query = stub_query};
    e.scripts_table = "\"main\".\"migrate_scripts\"";
    return e;
}

/* Load src (with eng, flags); the message of a failure into msg. */
static int load(const mig_engine *eng, const mig_source *src, unsigned flags, mig_set *set,
                char **dups, char msg[512])
{
    mig_error err;
    mig_error_init(&err);
    int rc = mig_source_load(eng, src, flags, set, dups, &err);
    snprintf(msg, 512, "%s", err.message ? err.message : "");
    mig_error_clear(&err);
    return rc;
}

/* No source: an empty set, nothing read, whatever the flags. */
START_TEST(load_none)
{
    table_stub t = {.count = 0};
    mig_engine eng = stub_engine(&t);
    mig_set set;
    char *dups = (char *)"untouched", msg[512];
    ck_assert_int_eq(load(&eng, NO_SOURCE, MIG_LOAD_REQUIRED, &set, &dups, msg), MIG_OK);
    ck_assert_uint_eq(set.count, 0);
    ck_assert_ptr_null(set.items);
    ck_assert_ptr_null(dups);
    ck_assert_ptr_null(t.query); /* migrate_scripts was not read */
}
END_TEST

/* A folder: read with or without an engine; required, an empty one is refused naming it. */
START_TEST(load_folder)
{
    char *dir = tmp_dir();
    write_file(dir, "2_b.sql", "-- migrate:no-transaction\r\nCREATE INDEX i ON t (a);\r\n");
    write_file(dir, "1_a.up.sql", "-- only a comment\n");
    write_file(dir, "1_a.down.sql", "DROP TABLE a;\n");
    write_file(dir, "1_dup.sql", "SELECT 1;\n");
    mig_set set;
    char *dups = NULL, msg[512];
    ck_assert_int_eq(load(NULL, FOLDER(dir), MIG_LOAD_REQUIRED, &set, &dups, msg), MIG_OK);
    ck_assert_uint_eq(set.count, 2);
    ck_assert_str_eq(dups, "duplicate version 1: 1_a.up.sql and 1_dup.sql");
    mig_free(dups);
    ck_assert(mig_text_has(&set.items[0].up, MIG_TEXT_BLANK));
    ck_assert(!mig_text_has(&set.items[0].down, MIG_TEXT_BLANK));
    ck_assert_uint_eq(set.items[0].down.len, 14);
    const mig_text *b = &set.items[1].up;
    ck_assert_str_eq(b->ptr, "-- migrate:no-transaction\nCREATE INDEX i ON t (a);\n");
    ck_assert_uint_eq(b->len, strlen(b->ptr));
    ck_assert_uint_eq(b->flags, MIG_TEXT_NO_TRANSACTION | MIG_TEXT_HAD_CRLF);
    mig_set_free(&set);
    rm_tree(dir);
    make_dir(dir, "");
    ck_assert_int_eq(load(NULL, FOLDER(dir), 0, &set, NULL, msg), MIG_OK);
    ck_assert_uint_eq(set.count, 0);
    mig_set_free(&set);
    ck_assert_int_eq(load(NULL, FOLDER(dir), MIG_LOAD_REQUIRED, &set, NULL, msg), MIG_ERR_NO_FILE);
    ck_assert_str_contains(msg, "no migration files found in \"");
    ck_assert_str_contains(msg, "nothing was changed");
    ck_assert_int_eq(load(NULL, FOLDER(NULL), 0, &set, NULL, msg), MIG_ERR_NULL);
    ck_assert_str_eq(msg, "no migrations folder given");
    tmp_dir_free(dir);
}
END_TEST

/* migrate_scripts: rows become migrations as files would, named migrate_scripts:<version>. */
START_TEST(load_table)
{
    table_stub t = {.rows = {{"v2", "b", "SELECT 2;\r\n", NULL},
                             {"1", "a", "-- migrate:no-transaction\nSELECT 1;", "-- none\n"}},
                    .count = 2};
    mig_engine eng = stub_engine(&t);
    mig_set set;
    char msg[512];
    ck_assert_int_eq(
        load(&eng, &(mig_source){MIG_SOURCE_TABLE, NULL}, MIG_LOAD_REQUIRED, &set, NULL, msg),
        MIG_OK);
    ck_assert_uint_eq(set.count, 2);
    ck_assert_str_eq(set.items[0].version, "1");
    ck_assert_str_eq(set.items[0].script, "migrate_scripts:1");
    ck_assert_str_eq(set.items[0].down_script, "migrate_scripts:1");
    ck_assert(mig_text_has(&set.items[0].up, MIG_TEXT_NO_TRANSACTION));
    ck_assert(mig_text_has(&set.items[0].down, MIG_TEXT_BLANK));
    ck_assert_str_eq(set.items[1].version, "2");
    ck_assert_str_eq(set.items[1].up.ptr, "SELECT 2;\n");
    ck_assert_uint_eq(set.items[1].up.len, 10);
    ck_assert_uint_eq(set.items[1].up.flags, MIG_TEXT_HAD_CRLF);
    ck_assert_ptr_null(set.items[1].down.ptr);
    char sum[65];
    sha_of("SELECT 2;\n", sum);
    ck_assert_str_eq(set.items[1].checksum, sum);
    mig_set_free(&set);

    /* a script ending inside a quote is refused by the engine's rules, naming row and line */
    t.rows[1][2] = "SELECT 1;\nSELECT 'open;";
    ck_assert_int_eq(load(&eng, &(mig_source){MIG_SOURCE_TABLE, NULL}, 0, &set, NULL, msg),
                     MIG_ERR_ARGUMENT);
    ck_assert_str_eq(msg, "migrate_scripts:1: line 2: the script ends inside the string literal "
                          "that starts here");
    t.count = 0;
    ck_assert_int_eq(
        load(&eng, &(mig_source){MIG_SOURCE_TABLE, NULL}, MIG_LOAD_REQUIRED, &set, NULL, msg),
        MIG_ERR_NOT_FOUND);
    ck_assert_str_eq(msg, "no migrations found in migrate_scripts; nothing was changed");
    ck_assert_int_eq(load(NULL, &(mig_source){MIG_SOURCE_TABLE, NULL}, 0, &set, NULL, msg),
                     MIG_ERR_NULL);
    ck_assert_str_eq(msg, "no migrations folder given");
}
END_TEST

/* The quoting check needs the engine: without one (migrate_new, migrate_push) it is not made. */
START_TEST(load_quotes_by_engine)
{
    char *dir = tmp_dir();
    write_file(dir, "1_a.sql", "-- migrate:up\nSELECT 1;\n-- migrate:down\nSELECT $$x;\n");
    table_stub t = {.count = 0};
    mig_engine eng = stub_engine(&t);
    mig_set set;
    char msg[512];
    ck_assert_int_eq(load(NULL, FOLDER(dir), 0, &set, NULL, msg), MIG_OK);
    ck_assert_int_eq(set.items[0].down.first_line, 4);
    mig_set_free(&set);
    ck_assert_int_eq(load(&eng, FOLDER(dir), 0, &set, NULL, msg), MIG_ERR_ARGUMENT);
    ck_assert_str_eq(msg, "1_a.sql: line 4: the script ends inside the dollar-quoted string "
                          "that starts here");
    tmp_dir_free(dir);
}
END_TEST

/* Hold m of a lazy set; the error message (or "") into msg. */
static int hold(const mig_set *set, mig_migration *m, char msg[512])
{
    mig_error err;
    mig_error_init(&err);
    int rc = mig_set_hold(set, m, &err);
    snprintf(msg, 512, "%s", err.message ? err.message : "");
    mig_error_clear(&err);
    return rc;
}

/* A script bigger than what a lazy load keeps as read: what it reads after is let go. */
static void write_big(const char *dir, const char *rel)
{
    size_t n = MIG_LAZY_KEEP_BYTES + 100;
    char *big = malloc(n + 16);
    ck_assert_ptr_nonnull(big);
    memcpy(big, "-- ", 3);
    memset(big + 3, 'x', n - 3);
    strcpy(big + n, "\nSELECT 0;\n");
    write_file(dir, rel, big);
    free(big);
}

/* Whether two texts are both absent, or both there with the same bytes and first line. */
static bool same_text(const mig_text *a, const mig_text *b)
{
    if (!a->ptr || !b->ptr)
        return !a->ptr && !b->ptr;
    return a->len == b->len && memcmp(a->ptr, b->ptr, a->len) == 0 &&
           a->first_line == b->first_line;
}

/*
 * A lazy load holds no text beyond its first MIG_LAZY_KEEP_BYTES: each is checked and the up
 * script hashed, then let go; holding a migration reads its files again and gives what a full
 * load gives, down checksum included.
 */
START_TEST(lazy_load_holds_nothing_until_asked)
{
    char *dir = tmp_dir();
    write_big(dir, "0_big.up.sql");
    write_file(dir, "1_a.up.sql", "CREATE TABLE a (x int);\r\n");
    write_file(dir, "1_a.down.sql", "DROP TABLE a;\n");
    write_file(dir, "2_b.sql",
               "-- migrate:up\nCREATE TABLE b (x int);\n-- migrate:down\nDROP TABLE b;\n");
    make_dir(dir, "3_c");
    write_file(dir, "3_c/up.sql", "-- migrate:no-transaction\nCREATE INDEX c ON a (x);\n");
    write_file(dir, "4_d.sql", "-- only a comment\n");
    table_stub t = {.count = 0};
    mig_engine eng = stub_engine(&t);
    mig_set full, lazy;
    char msg[512];
    ck_assert_int_eq(load(&eng, FOLDER(dir), 0, &full, NULL, msg), MIG_OK);
    ck_assert_int_eq(load(&eng, FOLDER(dir), MIG_LOAD_LAZY, &lazy, NULL, msg), MIG_OK);
    ck_assert(!full.lazy && lazy.lazy);
    ck_assert_uint_eq(lazy.count, 5);
    for (size_t i = 0; i < lazy.count; i++) {
        mig_migration *f = &full.items[i], *m = &lazy.items[i];
        ck_assert(!m->kept);
        ck_assert_ptr_null(m->up.ptr);
        ck_assert_ptr_null(m->down.ptr);
        ck_assert(mig_text_has(&m->up, MIG_TEXT_RELEASED));
        ck_assert_int_eq(mig_text_present(&m->down), mig_text_present(&f->down));
        ck_assert_uint_eq(m->up.flags & ~MIG_TEXT_RELEASED, f->up.flags);
        ck_assert_str_eq(m->checksum, f->checksum);
        ck_assert_str_eq(m->down_checksum, ""); /* not hashed until a call needs it */
        ck_assert_int_eq(hold(&lazy, m, msg), MIG_OK);
        ck_assert_msg(same_text(&m->up, &f->up), "%s", m->script);
        ck_assert_msg(same_text(&m->down, &f->down), "%s", m->script);
        ck_assert_str_eq(m->down_checksum, f->down_checksum);
        mig_set_release(&lazy, m);
        ck_assert_ptr_null(m->up.ptr);
        ck_assert_ptr_null(m->down.ptr);
    }
    ck_assert(mig_text_has(&lazy.items[3].up, MIG_TEXT_NO_TRANSACTION));
    ck_assert(mig_text_has(&lazy.items[4].up, MIG_TEXT_BLANK));
    mig_set_free(&full);
    mig_set_free(&lazy);
    tmp_dir_free(dir);
}
END_TEST

/* A file changed or removed after a lazy load is refused when held, naming the file. */
START_TEST(lazy_hold_refuses_changed_files)
{
    char *dir = tmp_dir();
    write_big(dir, "0_big.up.sql");
    write_file(dir, "1_a.up.sql", "CREATE TABLE a (x int);\n");
    write_file(dir, "2_b.sql",
               "-- migrate:up\nCREATE TABLE b (x int);\n-- migrate:down\nDROP TABLE b;\n");
    make_dir(dir, "3_c");
    write_file(dir, "3_c/up.sql", "SELECT 3;\n");
    write_file(dir, "4_d.up.sql", "SELECT 4;\n");
    table_stub t = {.count = 0};
    mig_engine eng = stub_engine(&t);
    mig_set set;
    char msg[512];
    ck_assert_int_eq(load(&eng, FOLDER(dir), MIG_LOAD_LAZY, &set, NULL, msg), MIG_OK);
    /* the up script changed */
    write_file(dir, "1_a.up.sql", "CREATE TABLE a (x int, y int);\n");
    ck_assert_int_eq(hold(&set, &set.items[1], msg), MIG_ERR_STATE);
    ck_assert_str_contains(msg, "1_a.up.sql: the file changed while the call was running");
    ck_assert_ptr_null(set.items[1].up.ptr);
    /* a down section changed after it was hashed by an earlier hold */
    ck_assert_int_eq(hold(&set, &set.items[2], msg), MIG_OK);
    mig_set_release(&set, &set.items[2]);
    write_file(dir, "2_b.sql",
               "-- migrate:up\nCREATE TABLE b (x int);\n-- migrate:down\nDROP TABLE b2;\n");
    ck_assert_int_eq(hold(&set, &set.items[2], msg), MIG_ERR_STATE);
    ck_assert_str_contains(msg, "2_b.sql: the file changed");
    /* a file that is gone */
    char *gone = path_join(dir, "3_c/up.sql");
    ck_assert_int_eq(unlink(gone), 0);
    free(gone);
    ck_assert_int_ne(hold(&set, &set.items[3], msg), MIG_OK);
    ck_assert_str_contains(msg, "3_c/up.sql: cannot be read");
    /* a down script that appeared */
    write_file(dir, "4_d.down.sql", "SELECT 0;\n");
    ck_assert_int_eq(hold(&set, &set.items[4], msg), MIG_OK); /* the plan knew of no down file */
    ck_assert_ptr_null(set.items[4].down.ptr);
    mig_set_free(&set);
    tmp_dir_free(dir);
}
END_TEST

/* A small folder is kept as read by a lazy load: read once, held, never read again. */
START_TEST(lazy_load_keeps_a_small_folder)
{
    char *dir = tmp_dir();
    write_file(dir, "1_a.up.sql", "CREATE TABLE a (x int);\n");
    write_file(dir, "1_a.down.sql", "DROP TABLE a;\n");
    table_stub t = {.count = 0};
    mig_engine eng = stub_engine(&t);
    mig_set set;
    char msg[512], sum[65];
    ck_assert_int_eq(load(&eng, FOLDER(dir), MIG_LOAD_LAZY, &set, NULL, msg), MIG_OK);
    ck_assert(set.items[0].kept);
    ck_assert_str_eq(set.items[0].up.ptr, "CREATE TABLE a (x int);\n");
    ck_assert_str_eq(set.items[0].down_checksum, ""); /* hashed when held */
    write_file(dir, "1_a.up.sql", "CREATE TABLE a (x int, y int);\n");
    ck_assert_int_eq(hold(&set, &set.items[0], msg), MIG_OK); /* the text read is the one run */
    sha_of("DROP TABLE a;\n", sum);
    ck_assert_str_eq(set.items[0].down_checksum, sum);
    mig_set_release(&set, &set.items[0]);
    ck_assert_str_eq(set.items[0].up.ptr, "CREATE TABLE a (x int);\n");
    mig_set_free(&set);
    tmp_dir_free(dir);
}
END_TEST

/* A lazy load refuses an unclosed script as a full load does, in version order. */
START_TEST(lazy_load_refuses_unclosed)
{
    char *dir = tmp_dir();
    write_file(dir, "1_a.sql", "SELECT 1;\n");
    write_file(dir, "2_b.sql", "-- migrate:up\nSELECT 1;\n-- migrate:down\nSELECT 'x;\n");
    write_file(dir, "3_c.sql", "SELECT 'y;\n");
    table_stub t = {.count = 0};
    mig_engine eng = stub_engine(&t);
    mig_set set;
    char msg[512];
    ck_assert_int_eq(load(&eng, FOLDER(dir), MIG_LOAD_LAZY, &set, NULL, msg), MIG_ERR_ARGUMENT);
    ck_assert_str_contains(msg, "2_b.sql: line 4: the script ends inside the string literal");
    ck_assert_uint_eq(set.count, 0);
    tmp_dir_free(dir);
}
END_TEST

/* mig_text_clean checks and normalises in one pass, with mig_script_check_text's messages. */
START_TEST(text_clean)
{
    char a[] = "\xEF\xBB\xBF"
               "a\r\nb\rc\r\n";
    size_t len = strlen(a);
    unsigned flags = 0;
    mig_error err;
    mig_error_init(&err);
    ck_assert_int_eq(mig_text_clean(a, &len, &flags, "f.sql", &err), MIG_OK);
    ck_assert_uint_eq(len, 6);
    ck_assert_str_eq(a, "a\nb\rc\n");
    ck_assert_uint_eq(flags, MIG_TEXT_HAD_CRLF);

    char b[] = "x\n";
    len = 2, flags = 0;
    ck_assert_int_eq(mig_text_clean(b, &len, &flags, "f.sql", &err), MIG_OK);
    ck_assert_uint_eq(flags, 0);
    ck_assert_uint_eq(len, 2);

    static const char *const bad[] = {"\xEF\xBB\xBFSELECT 1;\r\nSE\0LECT", "a\r\nb\n\xE9",
                                      "ok\n\xC0\x80"};
    static const size_t lens[] = {22, 6, 5};
    for (size_t i = 0; i < 3; i++) {
        char want[512], copy[32];
        memcpy(copy, bad[i], lens[i]);
        ck_assert_int_eq(mig_script_check_text(bad[i], lens[i], "f.sql", &err), MIG_ERR_ARGUMENT);
        snprintf(want, sizeof want, "%s", err.message);
        mig_error_clear(&err);
        len = lens[i];
        ck_assert_int_eq(mig_text_clean(copy, &len, &flags, "f.sql", &err), MIG_ERR_ARGUMENT);
        ck_assert_str_eq(err.message, want);
        mig_error_clear(&err);
    }
}
END_TEST

/* A text's flags come from what precedes its first statement, read once. */
START_TEST(text_directives)
{
    static const struct {
        const char *text;
        unsigned flags;
    } cases[] = {
        {"", MIG_TEXT_BLANK},
        {"-- c\n/* d */\n", MIG_TEXT_BLANK},
        {"-- migrate:no-transaction\n", MIG_TEXT_BLANK | MIG_TEXT_NO_TRANSACTION},
        {"-- +goose NO TRANSACTION\nCREATE INDEX CONCURRENTLY i ON t (a);",
         MIG_TEXT_NO_TRANSACTION},
        {"SELECT 1;\n-- migrate:no-transaction\n", 0},
        {"SELECT '\n-- migrate:no-transaction';", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        mig_text t = mig_text_make(cases[i].text, strlen(cases[i].text), 3);
        mig_text_read_directives(&t);
        ck_assert_msg(t.flags == cases[i].flags, "case %zu: flags %u", i, t.flags);
        ck_assert_int_eq(t.first_line, 3);
        ck_assert(mig_text_has(&t, MIG_TEXT_BLANK) == ((cases[i].flags & MIG_TEXT_BLANK) != 0));
    }
    mig_text none = mig_text_make(NULL, 0, 1);
    none.flags = MIG_TEXT_BLANK;
    ck_assert(!mig_text_has(&none, MIG_TEXT_BLANK)); /* no text has no flag */
    mig_text s = mig_text_of_string("SELECT 1;");
    ck_assert_uint_eq(s.len, 9);
    ck_assert_int_eq(s.first_line, 1);
}
END_TEST

Suite *source_suite(void)
{
    Suite *s = suite_create("source");
    TCase *tc = tcase_create("read");
    tcase_add_unchecked_fixture(tc, tmp_root_setup, tmp_root_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, mixed_folder);
    tcase_add_test(tc, spans_and_directives);
    tcase_add_test(tc, empty_and_ignored_only);
    tcase_add_test(tc, duplicate_versions);
    tcase_add_test(tc, sql_without_version);
    tcase_add_test(tc, down_without_up);
    tcase_add_test(tc, folder_without_up);
    tcase_add_test(tc, empty_and_comment_scripts);
    tcase_add_test(tc, crlf_twin);
    tcase_add_test(tc, bad_folders);
    tcase_add_test(tc, symlinks);
    tcase_add_test(tc, fifo_refused_without_blocking);
    tcase_add_test(tc, bad_scripts);
    tcase_add_test(tc, too_large);
    tcase_add_test(tc, largest_allowed);
    suite_add_tcase(s, tc);
    tcase_add_test(tc, load_none);
    tcase_add_test(tc, load_folder);
    tcase_add_test(tc, load_table);
    tcase_add_test(tc, load_quotes_by_engine);
    tcase_add_test(tc, lazy_load_holds_nothing_until_asked);
    tcase_add_test(tc, lazy_hold_refuses_changed_files);
    tcase_add_test(tc, lazy_load_refuses_unclosed);
    tcase_add_test(tc, lazy_load_keeps_a_small_folder);
    suite_add_tcase(s, tc);
    tc = tcase_create("normalize");
    tcase_add_test(tc, text_normalize);
    tcase_add_test(tc, text_clean);
    tcase_add_test(tc, text_directives);
    suite_add_tcase(s, tc);
    return s;
}
