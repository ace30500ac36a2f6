/* Errors, the text buffer and the string helpers the rest of the core reports through. */
#include "helpers.h"
#include "suites.h"

#include "mig_alloc.h"
#include "mig_buf.h"
#include "mig_error.h"
#include "mig_position.h"

#include <errno.h>
#include <string.h>

/* mig_fail records code and formatted message and replaces an earlier error entirely. */
START_TEST(fail_records_and_replaces)
{
    mig_error err;
    mig_error_init(&err);
    ck_assert_int_eq(err.code, MIG_OK);
    ck_assert_int_eq(err.offset, -1);
    ck_assert_str_eq(err.sqlstate, "");
    ck_assert_int_eq(mig_fail(&err, MIG_ENGINE, "bad %s at %d", "thing", 7), MIG_ENGINE);
    ck_assert_int_eq(err.code, MIG_ENGINE);
    ck_assert_str_eq(err.message, "bad thing at 7");
    mig_error_set_detail(&err, mig_strdup("d"));
    mig_error_set_hint(&err, "h%d", 1);
    mig_error_set_context(&err, "c%d", 1);
    err.offset = 12;
    ck_assert_int_eq(mig_fail(&err, MIG_ERR_STATE, "second"), MIG_ERR_STATE);
    ck_assert_str_eq(err.message, "second");
    ck_assert_ptr_null(err.detail);
    ck_assert_ptr_null(err.hint);
    ck_assert_ptr_null(err.context);
    ck_assert_int_eq(err.offset, -1);
    ck_assert_int_eq(mig_fail_nomem(&err), MIG_NOMEM);
    ck_assert_int_eq(err.code, MIG_NOMEM);
    ck_assert_ptr_null(err.message);
    mig_error_clear(&err);
}
END_TEST

/* render joins context, message, detail and hint; out of memory renders as such. */
START_TEST(render)
{
    mig_error err;
    mig_error_init(&err);
    mig_fail(&err, MIG_ERR_STATE, "2 problems");
    char *s = mig_error_render(&err);
    ck_assert_str_eq(s, "2 problems");
    mig_free(s);
    mig_error_set_context(&err, "migration %s", "1");
    mig_error_set_context(&err, "migration %s (f.sql, line %d)", "2", 3);
    mig_error_set_detail(&err, mig_strdup("line one\nline two"));
    mig_error_set_hint(&err, "fix it");
    s = mig_error_render(&err);
    ck_assert_str_eq(s,
                     "migration 2 (f.sql, line 3): 2 problems\nline one\nline two\nHINT: fix it");
    mig_free(s);
    mig_fail_nomem(&err);
    s = mig_error_render(&err);
    ck_assert_str_eq(s, "out of memory");
    mig_free(s);
    mig_error_clear(&err);
}
END_TEST

/* move hands an error over and leaves the source empty. */
START_TEST(move)
{
    mig_error a, b;
    mig_error_init(&a);
    mig_error_init(&b);
    mig_fail(&b, MIG_ERR_STATE, "old");
    mig_fail(&a, MIG_ENGINE, "engine said no");
    a.offset = 5;
    mig_error_move(&b, &a);
    ck_assert_int_eq(b.code, MIG_ENGINE);
    ck_assert_str_eq(b.message, "engine said no");
    ck_assert_int_eq(b.offset, 5);
    ck_assert_int_eq(a.code, MIG_OK);
    ck_assert_ptr_null(a.message);
    ck_assert_int_eq(a.offset, -1);
    mig_error_clear(&b);
}
END_TEST

/* A failed file operation is classed by its errno as PostgreSQL classes it. */
START_TEST(errno_classes)
{
    ck_assert_int_eq(mig_errno_code(ENOENT), MIG_ERR_NO_FILE);
    ck_assert_int_eq(mig_errno_code(EIO), MIG_ERR_NO_FILE);
    ck_assert_int_eq(mig_errno_code(EACCES), MIG_PRIVILEGE);
    ck_assert_int_eq(mig_errno_code(EEXIST), MIG_ERR_CONFLICT);
    ck_assert_int_eq(mig_errno_code(ENOTDIR), MIG_ERR_ARGUMENT);
    ck_assert_int_eq(mig_errno_code(ENOMEM), MIG_NOMEM);
    ck_assert_int_eq(mig_errno_code(ENOSPC), MIG_ERR_LIMIT);
}
END_TEST

/* The buffer grows past its first capacity and hands over its text. */
START_TEST(buffer)
{
    mig_buf b = {0};
    char *empty = mig_buf_take(&b);
    ck_assert_str_eq(empty, "");
    mig_free(empty);
    for (int i = 0; i < 100; i++)
        mig_buf_printf(&b, "%d,", i % 10);
    mig_buf_puts(&b, "end");
    mig_buf_append(&b, "xyz", 2);
    ck_assert_uint_eq(b.len, 205);
    char *text = mig_buf_take(&b);
    ck_assert_uint_eq(strlen(text), 205);
    ck_assert(strncmp(text, "0,1,2,", 6) == 0);
    ck_assert_str_eq(text + 200, "endxy");
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.len, 0);
    mig_free(text);
    mig_buf_puts(&b, "dropped");
    mig_buf_free(&b);
    ck_assert_ptr_null(b.data);
}
END_TEST

/* strdup, strndup and printf copy exactly. */
START_TEST(strings)
{
    char *a = mig_strndup("abcdef", 3);
    ck_assert_str_eq(a, "abc");
    char *b = mig_printf("%s-%03d", a, 7);
    ck_assert_str_eq(b, "abc-007");
    ck_assert_ptr_null(mig_strdup(NULL));
    char *c = mig_strdup("");
    ck_assert_str_eq(c, "");
    ck_assert_ptr_null(mig_calloc((size_t)-1, 2)); /* overflow is refused */
    mig_free(a);
    mig_free(b);
    mig_free(c);
    mig_free(NULL);
}
END_TEST

/* Line and column of a byte offset: columns count characters, not bytes. */
START_TEST(position_at)
{
    const char *text = "SELECT 1;\nSELECT 'é', x;\n";
    int line, column;
    mig_position_at(text, strlen(text), 0, &line, &column);
    ck_assert_int_eq(line, 1);
    ck_assert_int_eq(column, 1);
    mig_position_at(text, strlen(text), 10, &line, &column);
    ck_assert_int_eq(line, 2);
    ck_assert_int_eq(column, 1);
    const char *x = strchr(text, 'x');
    mig_position_at(text, strlen(text), (size_t)(x - text), &line, &column);
    ck_assert_int_eq(line, 2);
    ck_assert_int_eq(column, 13);
    mig_position_at(text, strlen(text), 999, &line, &column); /* past the end: the end */
    ck_assert_int_eq(line, 3);
    ck_assert_int_eq(column, 1);
}
END_TEST

/* The excerpt: the line (CRLF dropped), a caret under the character, long lines cut. */
START_TEST(position_excerpt)
{
    const char *text = "SELECT 1;\r\nSELECT 'é', x;\r\n";
    const char *x = strchr(text, 'x');
    char *s = mig_position_excerpt(text, strlen(text), (size_t)(x - text), 12);
    ck_assert_str_eq(s, "LINE 12: SELECT 'é', x;\n                     ^");
    mig_free(s);
    s = mig_position_excerpt(text, strlen(text), 0, 1);
    ck_assert_str_eq(s, "LINE 1: SELECT 1;\n        ^");
    mig_free(s);
    char long_line[301];
    memset(long_line, 'a', 300);
    long_line[300] = '\0';
    long_line[150] = 'X';
    s = mig_position_excerpt(long_line, 300, 150, 1);
    ck_assert_int_eq((int)strlen(s), 8 + 3 + 120 + 3 + 1 + 8 + 3 + 60 + 1);
    ck_assert_ptr_nonnull(strstr(s, "LINE 1: ...aaa"));
    ck_assert_ptr_nonnull(strstr(s, "aaa...\n"));
    ck_assert_int_eq(strchr(s, 'X') - s, 8 + 3 + 60);
    ck_assert_int_eq(strchr(s, '^') - strchr(s, '\n') - 1, 8 + 3 + 60);
    mig_free(s);
}
END_TEST

/* Clearing releases every field an engine fills (valgrind and ASan check nothing leaks). */
START_TEST(clear_releases_engine_fields)
{
    mig_error err;
    mig_error_init(&err);
    ck_assert_int_eq(err.position, -1);
    mig_fail(&err, MIG_ENGINE, "duplicate key");
    err.position = 3;
    err.excerpt = mig_strdup("LINE 1: x\n        ^");
    err.engine_context = mig_strdup("PL/pgSQL function f() line 3 at RAISE");
    err.schema_name = mig_strdup("s");
    err.table_name = mig_strdup("t");
    err.column_name = mig_strdup("c");
    err.constraint_name = mig_strdup("k");
    err.datatype_name = mig_strdup("d");
    err.internal_query = mig_strdup("SELECT 1");
    err.internal_position = 8;
    mig_error_clear(&err);
    ck_assert_ptr_null(err.schema_name);
    ck_assert_ptr_null(err.internal_query);
    ck_assert_int_eq(err.internal_position, 0);
    ck_assert_int_eq(err.position, -1);
}
END_TEST

Suite *error_suite(void)
{
    Suite *s = suite_create("error");
    TCase *tc = tcase_create("error");
    tcase_add_test(tc, fail_records_and_replaces);
    tcase_add_test(tc, render);
    tcase_add_test(tc, errno_classes);
    tcase_add_test(tc, position_at);
    tcase_add_test(tc, position_excerpt);
    tcase_add_test(tc, clear_releases_engine_fields);
    tcase_add_test(tc, move);
    tcase_add_test(tc, buffer);
    tcase_add_test(tc, strings);
    suite_add_tcase(s, tc);
    return s;
}
