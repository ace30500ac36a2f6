/* Naming: what a file or folder name in a migrations folder says. */
#include "helpers.h"
#include "suites.h"

#include "mig_name.h"

#include <stdbool.h>

static const char *kind_name(mig_name_kind kind)
{
    switch (kind) {
    case MIG_NAME_IGNORED:
        return "IGNORED";
    case MIG_NAME_UP:
        return "UP";
    case MIG_NAME_DOWN:
        return "DOWN";
    case MIG_NAME_SECTIONED:
        return "SECTIONED";
    case MIG_NAME_FOLDER:
        return "FOLDER";
    }
    return "?";
}

/* Parse entry and check its kind, version and name exactly. */
static void expect_name(const char *entry, bool is_folder, mig_name_kind kind, const char *version,
                        const char *name)
{
    mig_error err;
    mig_error_init(&err);
    mig_name_info info;
    int rc = mig_name_parse(entry, is_folder, &info, &err);
    ck_assert_msg(rc == MIG_OK, "%s: rc %d (%s)", entry, rc, err.message ? err.message : "");
    ck_assert_msg(info.kind == kind, "%s: kind %s, want %s", entry, kind_name(info.kind),
                  kind_name(kind));
    ck_assert_msg(info.version && strcmp(info.version, version) == 0,
                  "%s: version \"%s\", want \"%s\"", entry, info.version ? info.version : "(null)",
                  version);
    ck_assert_msg(info.name && strcmp(info.name, name) == 0, "%s: name \"%s\", want \"%s\"", entry,
                  info.name ? info.name : "(null)", name);
    ck_assert_ptr_null(err.message);
    mig_name_info_free(&info);
    ck_assert_ptr_null(info.version);
    ck_assert_ptr_null(info.name);
}

/* Parse entry and check that it is ignored, with nothing allocated. */
static void expect_ignored(const char *entry, bool is_folder)
{
    mig_error err;
    mig_error_init(&err);
    mig_name_info info;
    int rc = mig_name_parse(entry, is_folder, &info, &err);
    ck_assert_msg(rc == MIG_OK, "%s: rc %d", entry, rc);
    ck_assert_msg(info.kind == MIG_NAME_IGNORED, "%s: kind %s, want IGNORED", entry,
                  kind_name(info.kind));
    ck_assert_ptr_null(info.version);
    ck_assert_ptr_null(info.name);
    ck_assert_ptr_null(err.message);
    mig_name_info_free(&info);
}

/* Parse entry and check that it is refused with a message that contains entry and also. */
static void expect_refused(const char *entry, const char *also)
{
    mig_error err;
    mig_error_init(&err);
    mig_name_info info;
    int rc = mig_name_parse(entry, false, &info, &err);
    ck_assert_msg(rc == MIG_ERR_ARGUMENT, "%s: rc %d, want MIG_ERR_ARGUMENT", entry, rc);
    ck_assert_int_eq(err.code, MIG_ERR_ARGUMENT);
    ck_assert_str_contains(err.message, entry);
    if (also)
        ck_assert_str_contains(err.message, also);
    ck_assert_int_eq(info.kind, MIG_NAME_IGNORED);
    ck_assert_ptr_null(info.version);
    ck_assert_ptr_null(info.name);
    mig_error_clear(&err);
}

/* <version>_<name>.up.sql and .down.sql pairs, with '_' or '-' after the version. */
START_TEST(pairs)
{
    expect_name("20240101120000_create_users.up.sql", false, MIG_NAME_UP, "20240101120000",
                "create_users");
    expect_name("20240101120000_create_users.down.sql", false, MIG_NAME_DOWN, "20240101120000",
                "create_users");
    expect_name("20240101-create_users.up.sql", false, MIG_NAME_UP, "20240101", "create_users");
    expect_name("20240101-create_users.down.sql", false, MIG_NAME_DOWN, "20240101", "create_users");
    expect_name("3_add_index.up.sql", false, MIG_NAME_UP, "3", "add_index");
    expect_name("v3_add_index.down.sql", false, MIG_NAME_DOWN, "3", "add_index");
}
END_TEST

/* <version>_<name>.sql is a sectioned single file. */
START_TEST(single_files)
{
    expect_name("20240101_init.sql", false, MIG_NAME_SECTIONED, "20240101", "init");
    expect_name("20240101-init.sql", false, MIG_NAME_SECTIONED, "20240101", "init");
    expect_name("1.2.3_release.sql", false, MIG_NAME_SECTIONED, "1.2.3", "release");
    expect_name("20220204-01-add-billing.sql", false, MIG_NAME_SECTIONED, "20220204-01",
                "add-billing");
    expect_name("v2.15.0-series-column-unique.sql", false, MIG_NAME_SECTIONED, "2.15.0",
                "series-column-unique");
}
END_TEST

/* <version>_<name> folders are FOLDER migrations; folders without a version are ignored. */
START_TEST(folders)
{
    expect_name("20240101_init", true, MIG_NAME_FOLDER, "20240101", "init");
    expect_name("v3-add-index", true, MIG_NAME_FOLDER, "3", "add-index");
    expect_name("20220204-01-add-billing", true, MIG_NAME_FOLDER, "20220204-01", "add-billing");
    expect_ignored("docs", true);
    expect_ignored("sql", true);
    expect_ignored(".git", true);
    expect_ignored("2fa", true);
}
END_TEST

/* Flyway: V<version>__<name>.sql is an up script, U<version>__<name>.sql a down script. */
START_TEST(flyway)
{
    expect_name("V1__init.sql", false, MIG_NAME_UP, "1", "init");
    expect_name("U1__init.sql", false, MIG_NAME_DOWN, "1", "init");
    expect_name("V1_2__init.sql", false, MIG_NAME_UP, "1.2", "init");
    expect_name("U1_2__init.sql", false, MIG_NAME_DOWN, "1.2", "init");
    expect_name("V2.1.3__add_col.sql", false, MIG_NAME_UP, "2.1.3", "add_col");
    expect_name("V20240101__create_users_table.sql", false, MIG_NAME_UP, "20240101",
                "create_users_table");
    expect_name("V1__my__name.sql", false, MIG_NAME_UP, "1", "my__name");
    expect_name("V3__Init.SQL", false, MIG_NAME_UP, "3", "Init");
}
END_TEST

/* A run of digits followed by a letter belongs to the name. */
START_TEST(digits_in_name)
{
    expect_name("20240101_2fa_setup.up.sql", false, MIG_NAME_UP, "20240101", "2fa_setup");
    expect_name("20240101_2fa_setup.sql", false, MIG_NAME_SECTIONED, "20240101", "2fa_setup");
    expect_name("1.2a_x.sql", false, MIG_NAME_SECTIONED, "1", "2a_x");
    expect_name("20240101_3d_models", true, MIG_NAME_FOLDER, "20240101", "3d_models");
}
END_TEST

/* Leading zeros and long versions are kept as written. */
START_TEST(leading_zeros_and_long_versions)
{
    expect_name("0001_init.sql", false, MIG_NAME_SECTIONED, "0001", "init");
    expect_name("0001_init.up.sql", false, MIG_NAME_UP, "0001", "init");
    expect_name("12345678901234567890_big.sql", false, MIG_NAME_SECTIONED, "12345678901234567890",
                "big");
    expect_name("123456789012345678901234567890_bigger.down.sql", false, MIG_NAME_DOWN,
                "123456789012345678901234567890", "bigger");
}
END_TEST

/* Names may hold dots and dashes. */
START_TEST(names_with_dots_and_dashes)
{
    expect_name("20240101_add.users-table.up.sql", false, MIG_NAME_UP, "20240101",
                "add.users-table");
    expect_name("20240101_add.users-table.down.sql", false, MIG_NAME_DOWN, "20240101",
                "add.users-table");
    expect_name("20240101_add.users-table.sql", false, MIG_NAME_SECTIONED, "20240101",
                "add.users-table");
}
END_TEST

/* Extensions are matched without regard to case. */
START_TEST(uppercase_extensions)
{
    expect_name("20240101_init.SQL", false, MIG_NAME_SECTIONED, "20240101", "init");
    expect_name("20240101_init.UP.SQL", false, MIG_NAME_UP, "20240101", "init");
    expect_name("20240101_init.Down.Sql", false, MIG_NAME_DOWN, "20240101", "init");
}
END_TEST

/* A .sql file without a version is an error that names the file. */
START_TEST(sql_without_version)
{
    expect_refused("init.sql", "no version");
    expect_refused("create_users.up.sql", "no version");
    expect_refused("create_users.down.sql", "no version");
    expect_refused("schema.SQL", "no version");
    expect_refused("V__init.sql", "no version");
    expect_refused("v_init.sql", "no version");
    expect_refused("2fa_setup.sql", "no version");
}
END_TEST

/* Flyway's repeatable R__ migrations are refused with a message naming the file. */
START_TEST(repeatable_refused)
{
    expect_refused("R__x.sql", "repeatable");
    expect_refused("R__refresh_views.sql", "R__");
}
END_TEST

/* Files that are not .sql, and hidden entries, are ignored. */
START_TEST(ignored_files)
{
    expect_ignored("README.md", false);
    expect_ignored(".gitkeep", false);
    expect_ignored("notes.txt", false);
    expect_ignored("20240101_init.sql.bak", false);
    expect_ignored("20240101_init.txt", false);
    expect_ignored(".20240101_init.sql", false);
    expect_ignored(".20240101_init.sql.swp", false);
    expect_ignored("Makefile", false);
}
END_TEST

Suite *name_suite(void)
{
    Suite *s = suite_create("name");
    TCase *tc = tcase_create("layouts");
    tcase_add_test(tc, pairs);
    tcase_add_test(tc, single_files);
    tcase_add_test(tc, folders);
    tcase_add_test(tc, flyway);
    suite_add_tcase(s, tc);
    tc = tcase_create("tricky");
    tcase_add_test(tc, digits_in_name);
    tcase_add_test(tc, leading_zeros_and_long_versions);
    tcase_add_test(tc, names_with_dots_and_dashes);
    tcase_add_test(tc, uppercase_extensions);
    tcase_add_test(tc, sql_without_version);
    tcase_add_test(tc, repeatable_refused);
    tcase_add_test(tc, ignored_files);
    suite_add_tcase(s, tc);
    return s;
}
