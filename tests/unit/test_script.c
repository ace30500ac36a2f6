/* Scripts: sections and their markers, directives, blank scripts, line numbers, text checks. */
#include "helpers.h"
#include "suites.h"

#include "mig_script.h"

#define FILE_NAME "20240101_x.sql"

/* Check that span is present, covers exactly want in text and begins on first_line. */
static void expect_span(const char *text, const mig_span *span, const char *want, int first_line)
{
    ck_assert_msg(span->present, "span should be present (want \"%s\")", want);
    ck_assert_uint_le(span->offset + span->len, strlen(text));
    ck_assert_msg(span->len == strlen(want) && memcmp(text + span->offset, want, span->len) == 0,
                  "span is \"%.*s\", want \"%s\"", (int)span->len, text + span->offset, want);
    ck_assert_int_eq(span->first_line, first_line);
}

/* Parse text that must be valid. */
static mig_sections parse_ok(const char *text)
{
    mig_sections sec;
    mig_error err;
    mig_error_init(&err);
    int rc = mig_sections_parse(text, strlen(text), FILE_NAME, &sec, &err);
    ck_assert_msg(rc == MIG_OK, "parse failed: %s", err.message ? err.message : "");
    ck_assert_ptr_null(err.message);
    return sec;
}

/* Parse text that must be refused; the message must name the file and contain each of also. */
static void parse_refused(const char *text, const char *also1, const char *also2)
{
    mig_sections sec;
    mig_error err;
    mig_error_init(&err);
    int rc = mig_sections_parse(text, strlen(text), FILE_NAME, &sec, &err);
    ck_assert_int_eq(rc, MIG_ERR_ARGUMENT);
    ck_assert_int_eq(err.code, MIG_ERR_ARGUMENT);
    ck_assert_str_contains(err.message, FILE_NAME);
    if (also1)
        ck_assert_str_contains(err.message, also1);
    if (also2)
        ck_assert_str_contains(err.message, also2);
    mig_error_clear(&err);
}

/* dbmate markers split the file into up and down with their first lines. */
START_TEST(dbmate_markers)
{
    const char *t = "-- migrate:up\n"
                    "CREATE TABLE t (id int);\n"
                    "\n"
                    "-- migrate:down\n"
                    "DROP TABLE t;\n";
    mig_sections sec = parse_ok(t);
    ck_assert(sec.has_markers);
    expect_span(t, &sec.up, "CREATE TABLE t (id int);\n\n", 2);
    ck_assert_uint_eq(sec.up.offset, 14);
    expect_span(t, &sec.down, "DROP TABLE t;\n", 5);
    ck_assert(!sec.up.no_transaction);
    ck_assert(!sec.down.no_transaction);
}
END_TEST

/* goose markers work the same, and StatementBegin/End lines stay inside the section. */
START_TEST(goose_markers)
{
    const char *t = "-- +goose Up\n"
                    "-- +goose StatementBegin\n"
                    "CREATE TABLE t (id int);\n"
                    "-- +goose StatementEnd\n"
                    "\n"
                    "-- +goose Down\n"
                    "DROP TABLE t;\n";
    mig_sections sec = parse_ok(t);
    ck_assert(sec.has_markers);
    expect_span(t, &sec.up,
                "-- +goose StatementBegin\nCREATE TABLE t (id int);\n-- +goose StatementEnd\n\n",
                2);
    expect_span(t, &sec.down, "DROP TABLE t;\n", 7);

    const char *lower = "-- +goose up\nSELECT 1;\n-- +GOOSE DOWN\nSELECT 2;\n";
    sec = parse_ok(lower);
    expect_span(lower, &sec.up, "SELECT 1;\n", 2);
    expect_span(lower, &sec.down, "SELECT 2;\n", 4);
}
END_TEST

/* Markers may carry extra spaces and tabs around them and no space after the dashes. */
START_TEST(markers_with_spaces_and_tabs)
{
    const char *t = "  --   migrate:up \t\n"
                    "SELECT 1;\n"
                    "\t--\tmigrate:down\t \n"
                    "SELECT 2;\n";
    mig_sections sec = parse_ok(t);
    expect_span(t, &sec.up, "SELECT 1;\n", 2);
    expect_span(t, &sec.down, "SELECT 2;\n", 4);

    const char *tight = "--migrate:up\nSELECT 1;\n--migrate:down\nSELECT 2;";
    sec = parse_ok(tight);
    expect_span(tight, &sec.up, "SELECT 1;\n", 2);
    expect_span(tight, &sec.down, "SELECT 2;", 4);

    const char *goose = "--  +goose \t Up  \nSELECT 1;\n";
    sec = parse_ok(goose);
    ck_assert(sec.has_markers);
    expect_span(goose, &sec.up, "SELECT 1;\n", 2);
    ck_assert(!sec.down.present);
}
END_TEST

/* A file without markers is all up and has no down. */
START_TEST(no_markers)
{
    const char *t = "CREATE TABLE t (id int);\n-- a comment\nINSERT INTO t VALUES (1);\n";
    mig_sections sec = parse_ok(t);
    ck_assert(!sec.has_markers);
    ck_assert_uint_eq(sec.up.offset, 0);
    expect_span(t, &sec.up, t, 1);
    ck_assert(!sec.down.present);
    ck_assert(!sec.up.no_transaction);

    sec = parse_ok("");
    ck_assert(!sec.has_markers);
    expect_span("", &sec.up, "", 1);
    ck_assert(!sec.down.present);
}
END_TEST

/* first_line is the file line after each marker, however far down the markers are. */
START_TEST(first_lines)
{
    const char *t = "-- header comment\n"
                    "\n"
                    "-- migrate:up\n"
                    "CREATE TABLE a (x int);\n"
                    "CREATE TABLE b (y int);\n"
                    "/* a comment\n"
                    "   over two lines */\n"
                    "-- migrate:down\n"
                    "DROP TABLE b;\n"
                    "DROP TABLE a;\n";
    mig_sections sec = parse_ok(t);
    expect_span(
        t, &sec.up,
        "CREATE TABLE a (x int);\nCREATE TABLE b (y int);\n/* a comment\n   over two lines */\n",
        4);
    expect_span(t, &sec.down, "DROP TABLE b;\nDROP TABLE a;\n", 9);

    /* a marker on the last line without a newline gives an empty section on the next line */
    const char *last = "-- migrate:up\nSELECT 1;\n-- migrate:down";
    sec = parse_ok(last);
    expect_span(last, &sec.up, "SELECT 1;\n", 2);
    expect_span(last, &sec.down, "", 4);
}
END_TEST

/* A marker inside a single-quoted string literal does not split. */
START_TEST(marker_in_string_literal)
{
    const char *t = "-- migrate:up\n"
                    "INSERT INTO t VALUES ('a\n"
                    "-- migrate:down\n"
                    "b', 'it''s\n"
                    "-- migrate:down\n"
                    "');\n"
                    "-- migrate:down\n"
                    "DELETE FROM t;\n";
    mig_sections sec = parse_ok(t);
    expect_span(t, &sec.up,
                "INSERT INTO t VALUES ('a\n-- migrate:down\nb', 'it''s\n-- migrate:down\n');\n", 2);
    expect_span(t, &sec.down, "DELETE FROM t;\n", 8);

    const char *only = "-- migrate:up\nSELECT '\n-- migrate:down\n';\n";
    sec = parse_ok(only);
    expect_span(only, &sec.up, "SELECT '\n-- migrate:down\n';\n", 2);
    ck_assert(!sec.down.present);

    const char *estr = "-- migrate:up\nSELECT E'\\'\n-- migrate:down\n';\n";
    sec = parse_ok(estr);
    ck_assert(!sec.down.present);

    const char *ident = "-- migrate:up\nCREATE TABLE \"a\n-- migrate:down\n\" (x int);\n";
    sec = parse_ok(ident);
    ck_assert(!sec.down.present);
}
END_TEST

/* A marker inside a block comment (nested or not) does not split. */
START_TEST(marker_in_block_comment)
{
    const char *t = "-- migrate:up\n"
                    "/* disabled:\n"
                    "-- migrate:down\n"
                    "*/\n"
                    "SELECT 1;\n";
    mig_sections sec = parse_ok(t);
    expect_span(t, &sec.up, "/* disabled:\n-- migrate:down\n*/\nSELECT 1;\n", 2);
    ck_assert(!sec.down.present);

    const char *nested = "-- migrate:up\n"
                         "/* outer /* inner */\n"
                         "-- migrate:down\n"
                         "*/\n"
                         "SELECT 1;\n"
                         "-- migrate:down\n"
                         "SELECT 2;\n";
    sec = parse_ok(nested);
    expect_span(nested, &sec.up, "/* outer /* inner */\n-- migrate:down\n*/\nSELECT 1;\n", 2);
    expect_span(nested, &sec.down, "SELECT 2;\n", 7);
}
END_TEST

/* A marker inside a dollar-quoted body ($$ or $tag$) does not split. */
START_TEST(marker_in_dollar_quotes)
{
    const char *t = "-- migrate:up\n"
                    "CREATE FUNCTION f() RETURNS int AS $$\n"
                    "-- migrate:down\n"
                    "SELECT 1\n"
                    "$$ LANGUAGE sql;\n"
                    "-- migrate:down\n"
                    "DROP FUNCTION f();\n";
    mig_sections sec = parse_ok(t);
    expect_span(
        t, &sec.up,
        "CREATE FUNCTION f() RETURNS int AS $$\n-- migrate:down\nSELECT 1\n$$ LANGUAGE sql;\n", 2);
    expect_span(t, &sec.down, "DROP FUNCTION f();\n", 7);

    const char *tagged = "-- migrate:up\n"
                         "CREATE FUNCTION g() RETURNS text AS $body$\n"
                         "-- migrate:down\n"
                         "SELECT $$ not the end $$;\n"
                         "-- +goose Down\n"
                         "$body$ LANGUAGE sql;\n"
                         "-- migrate:down\n"
                         "DROP FUNCTION g();\n";
    sec = parse_ok(tagged);
    expect_span(tagged, &sec.up,
                "CREATE FUNCTION g() RETURNS text AS $body$\n-- migrate:down\n"
                "SELECT $$ not the end $$;\n-- +goose Down\n$body$ LANGUAGE sql;\n",
                2);
    expect_span(tagged, &sec.down, "DROP FUNCTION g();\n", 8);

    /* $1 is a parameter, not a quote: the marker after it counts */
    const char *param = "-- migrate:up\nPREPARE p AS SELECT $1;\n-- migrate:down\nDEALLOCATE p;\n";
    sec = parse_ok(param);
    expect_span(param, &sec.up, "PREPARE p AS SELECT $1;\n", 2);
    expect_span(param, &sec.down, "DEALLOCATE p;\n", 4);
}
END_TEST

/* Lines that only look like markers are comments: migrate:upgrade, +goose Upgrade, trailing ones.
 */
START_TEST(lookalikes_are_not_markers)
{
    const char *t = "-- migrate:upgrade notes\nSELECT 1;\n";
    mig_sections sec = parse_ok(t);
    ck_assert(!sec.has_markers);
    expect_span(t, &sec.up, t, 1);

    const char *more[] = {"-- migrate:upgrade\nSELECT 1;\n", "-- migrate:up-to-date\nSELECT 1;\n",
                          "-- +goose Upgrade\nSELECT 1;\n",  "-- +gooseUp\nSELECT 1;\n",
                          "-- migrate: up\nSELECT 1;\n",     "-- +goose\nSELECT 1;\n",
                          "SELECT 1; -- migrate:up\n",       "- migrate:up\n"};
    for (size_t i = 0; i < sizeof more / sizeof *more; i++) {
        sec = parse_ok(more[i]);
        ck_assert_msg(!sec.has_markers, "\"%s\" has no marker", more[i]);
        expect_span(more[i], &sec.up, more[i], 1);
    }

    /* a down marker after SQL on the same line does not count */
    const char *inline_down = "-- migrate:up\nSELECT 1; -- migrate:down\nSELECT 2;\n";
    sec = parse_ok(inline_down);
    expect_span(inline_down, &sec.up, "SELECT 1; -- migrate:down\nSELECT 2;\n", 2);
    ck_assert(!sec.down.present);
}
END_TEST

/* SQL before the first marker is refused, naming the file and the line of that SQL. */
START_TEST(sql_before_first_marker)
{
    parse_refused("-- header\n\nSELECT 1;\n-- migrate:up\nSELECT 2;\n", "line 3", "no section");
    parse_refused("SELECT 1;\n-- migrate:up\nSELECT 2;\n", "line 1", NULL);
    parse_refused("/* c */\nINSERT INTO t VALUES (1);\n-- +goose Up\nSELECT 2;\n", "line 2", NULL);
    /* comments only before the first marker are fine */
    const char *ok = "-- header\n/* more */\n\n-- migrate:up\nSELECT 2;\n";
    mig_sections sec = parse_ok(ok);
    expect_span(ok, &sec.up, "SELECT 2;\n", 5);
}
END_TEST

/* A second up (or down) marker is refused with its line. */
START_TEST(second_marker_refused)
{
    parse_refused("-- migrate:up\nSELECT 1;\n-- migrate:up\nSELECT 2;\n", "line 3", "second up");
    parse_refused("-- migrate:up\nA;\n-- migrate:down\nB;\n-- migrate:down\nC;\n", "line 5",
                  "second down");
    parse_refused("-- +goose Up\nA;\n-- migrate:up\nB;\n", "line 3", "second up");
}
END_TEST

/* A down marker without an up marker is refused. */
START_TEST(down_without_up_refused)
{
    parse_refused("-- migrate:down\nDROP TABLE t;\n", "no up", NULL);
    parse_refused("-- +goose Down\nDROP TABLE t;\n", "no up", NULL);
}
END_TEST

/* transaction:false, -- migrate:no-transaction and -- +goose NO TRANSACTION set no_transaction. */
START_TEST(no_transaction_directives)
{
    const char *t = "-- migrate:up transaction:false\n"
                    "CREATE INDEX CONCURRENTLY i ON t (x);\n"
                    "-- migrate:down\n"
                    "DROP INDEX i;\n";
    mig_sections sec = parse_ok(t);
    expect_span(t, &sec.up, "CREATE INDEX CONCURRENTLY i ON t (x);\n", 2);
    ck_assert(sec.up.no_transaction);
    ck_assert(!sec.down.no_transaction);

    sec = parse_ok("-- migrate:up\nA;\n-- migrate:down\ttransaction:false\nB;\n");
    ck_assert(!sec.up.no_transaction);
    ck_assert(sec.down.no_transaction);

    sec = parse_ok("-- migrate:up transaction:true\nA;\n");
    ck_assert(!sec.up.no_transaction);

    sec = parse_ok(
        "-- migrate:up\n-- migrate:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (x);\n");
    ck_assert(sec.up.no_transaction);

    sec = parse_ok("-- migrate:no-transaction\n-- migrate:up\nA;\n-- migrate:down\nB;\n");
    ck_assert(sec.up.no_transaction);
    ck_assert(!sec.down.no_transaction);

    const char *goose = "-- +goose NO TRANSACTION\n"
                        "-- +goose Up\n"
                        "CREATE INDEX CONCURRENTLY i ON t (x);\n"
                        "-- +goose Down\n"
                        "DROP INDEX i;\n";
    sec = parse_ok(goose);
    expect_span(goose, &sec.up, "CREATE INDEX CONCURRENTLY i ON t (x);\n", 3);
    ck_assert(sec.up.no_transaction);
    ck_assert(!sec.down.no_transaction);

    sec = parse_ok("-- +goose Up\n-- +goose no transaction\nA;\n");
    ck_assert(sec.up.no_transaction);

    /* after the section's first statement the directive no longer counts */
    sec = parse_ok("-- migrate:up\nA;\n-- migrate:no-transaction\nB;\n");
    ck_assert(!sec.up.no_transaction);

    /* in a file without sections it counts before the first statement */
    sec = parse_ok("-- migrate:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (x);\n");
    ck_assert(!sec.has_markers);
    ck_assert(sec.up.no_transaction);
    sec = parse_ok("CREATE TABLE t (x int);\n-- migrate:no-transaction\n");
    ck_assert(!sec.up.no_transaction);
}
END_TEST

/* transaction:false is a whole word: neither a longer word nor one ending in it counts. */
START_TEST(no_transaction_whole_word)
{
    mig_sections sec = parse_ok("-- migrate:up notransaction:false\nA;\n");
    ck_assert(!sec.up.no_transaction);
    sec = parse_ok("-- migrate:up transaction:false\t\nA;\n");
    ck_assert(sec.up.no_transaction);
    sec = parse_ok("-- migrate:up transaction:falsey\nA;\n");
    ck_assert_msg(!sec.up.no_transaction, "transaction:falsey is not transaction:false");
}
END_TEST

/* Directives of a whole script: only lines before the first statement count. */
START_TEST(script_directives)
{
    static const struct {
        const char *text;
        bool no_tx;
    } cases[] = {
        {"-- migrate:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (x);\n", true},
        {"/* c */\n-- +goose NO TRANSACTION\nA;\n", true},
        {"-- migrate:up transaction:false\nA;\n", true},
        {"CREATE TABLE t (x int);\n-- migrate:no-transaction\n", false},
        {"SELECT '\n-- migrate:no-transaction\n';\n", false},
        {"-- just a comment\nA;\n", false},
        {"", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        mig_span span = {0, strlen(cases[i].text), 1, false, true};
        mig_script_directives(cases[i].text, strlen(cases[i].text), &span);
        ck_assert_msg(span.no_transaction == cases[i].no_tx, "\"%s\": no_transaction %d",
                      cases[i].text, span.no_transaction);
        ck_assert_uint_eq(span.offset, 0);
        ck_assert_int_eq(span.first_line, 1);
    }
}
END_TEST

/* Blank scripts: empty, white space, comments only. */
START_TEST(blank_scripts)
{
    static const char *const blank[] = {"",
                                        "   \n\t\r\n",
                                        "-- only a comment",
                                        "-- x\n/* y */\n",
                                        "/* a /* nested */ still */",
                                        "-- migrate:up\n-- migrate:down\n"};
    for (size_t i = 0; i < sizeof blank / sizeof *blank; i++)
        ck_assert_msg(mig_script_is_blank(blank[i], strlen(blank[i])), "\"%s\" is blank", blank[i]);
    static const char *const not_blank[] = {"SELECT 1", "-- c\nSELECT 1;",  "/* c */ x", ";",
                                            "-",        "/* a /* b */ */ x"};
    for (size_t i = 0; i < sizeof not_blank / sizeof *not_blank; i++)
        ck_assert_msg(!mig_script_is_blank(not_blank[i], strlen(not_blank[i])),
                      "\"%s\" is not blank", not_blank[i]);
    /* only len bytes count */
    ck_assert(mig_script_is_blank("  SELECT 1", 2));
}
END_TEST

/* skip_blank goes past white space and comments to the first statement byte. */
START_TEST(skip_blank)
{
    const char *t = "  -- c\n  /* d */ SELECT 1;\n";
    size_t len = strlen(t);
    ck_assert_uint_eq(mig_script_skip_blank(t, len, 0), (size_t)(strstr(t, "SELECT") - t));
    ck_assert_uint_eq(mig_script_skip_blank(t, len, 17), 17);
    ck_assert_uint_eq(mig_script_skip_blank(t, len, 26), len);
    ck_assert_uint_eq(mig_script_skip_blank(t, len, len), len);
    ck_assert_uint_eq(mig_script_skip_blank("-1", 2, 0), 0);
    ck_assert_uint_eq(mig_script_skip_blank("/1", 2, 0), 0);
    ck_assert_uint_eq(mig_script_skip_blank("-- x", 4, 0), 4);
    ck_assert_uint_eq(mig_script_skip_blank("/* never closed", 15, 0), 15);
    ck_assert_uint_eq(mig_script_skip_blank("A;\n\n  B;", 8, 2), 6);
}
END_TEST

/* line_at counts the newlines before the offset. */
START_TEST(line_at)
{
    const char *t = "a\nbb\n\nccc";
    size_t len = strlen(t);
    ck_assert_int_eq(mig_script_line_at(t, len, 0), 1);
    ck_assert_int_eq(mig_script_line_at(t, len, 1), 1);
    ck_assert_int_eq(mig_script_line_at(t, len, 2), 2);
    ck_assert_int_eq(mig_script_line_at(t, len, 4), 2);
    ck_assert_int_eq(mig_script_line_at(t, len, 5), 3);
    ck_assert_int_eq(mig_script_line_at(t, len, 6), 4);
    ck_assert_int_eq(mig_script_line_at(t, len, len), 4);
    ck_assert_int_eq(mig_script_line_at(t, len, len + 100), 4);
    ck_assert_int_eq(mig_script_line_at("", 0, 0), 1);
}
END_TEST

/* Plain ASCII and valid multibyte UTF-8 (2, 3 and 4 bytes, U+10FFFF, a BOM) are accepted. */
START_TEST(check_text_valid)
{
    static const char *const ok[] = {"",
                                     "SELECT 1;\nSELECT 2;\n",
                                     "INSERT INTO t VALUES ('caf\xC3\xA9');",
                                     "SELECT '\xE2\x82\xAC';",
                                     "SELECT '\xF0\x9F\x98\x80';",
                                     "SELECT '\xF4\x8F\xBF\xBF';",
                                     "\xEF\xBB\xBFSELECT 1;",
                                     "\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        mig_error err;
        mig_error_init(&err);
        ck_assert_msg(mig_script_check_text(ok[i], strlen(ok[i]), FILE_NAME, &err) == MIG_OK,
                      "case %zu refused: %s", i, err.message ? err.message : "");
        ck_assert_ptr_null(err.message);
    }
}
END_TEST

/* A NUL byte is refused, naming the file and the line it is on. */
START_TEST(check_text_nul)
{
    const char t[] = "SELECT 1;\nSELECT 2;\nSE\0LECT 3;\n";
    mig_error err;
    mig_error_init(&err);
    ck_assert_int_eq(mig_script_check_text(t, sizeof t - 1, FILE_NAME, &err), MIG_ERR_ARGUMENT);
    ck_assert_int_eq(err.code, MIG_ERR_ARGUMENT);
    ck_assert_str_contains(err.message, FILE_NAME);
    ck_assert_str_contains(err.message, "line 3");
    ck_assert_str_contains(err.message, "NUL");
    mig_error_clear(&err);

    ck_assert_int_eq(mig_script_check_text("\0", 1, "a.sql", &err), MIG_ERR_ARGUMENT);
    ck_assert_str_contains(err.message, "a.sql: line 1");
    mig_error_clear(&err);
}
END_TEST

/* Invalid UTF-8 (bad bytes, overlongs, surrogates, > U+10FFFF, truncated) names file and line. */
START_TEST(check_text_invalid_utf8)
{
    static const struct {
        const char *text;
        const char *line;
    } bad[] = {
        {"SELECT 'caf\xE9';", "line 1"},          /* Latin-1 */
        {"A;\nB;\nSELECT '\xC3\x28';", "line 3"}, /* interrupted */
        {"\x80", "line 1"},                       /* lone continuation byte */
        {"\xFF", "line 1"},                       /* never valid */
        {"\xC0\xAF", "line 1"},                   /* overlong '/' */
        {"\xE0\x80\xAF", "line 1"},               /* overlong, 3 bytes */
        {"\xF0\x80\x80\xAF", "line 1"},           /* overlong, 4 bytes */
        {"x\n\xED\xA0\x80", "line 2"},            /* surrogate U+D800 */
        {"\xF4\x90\x80\x80", "line 1"},           /* U+110000 */
        {"\xF8\x88\x80\x80\x80", "line 1"},       /* 5-byte form */
        {"SELECT '\xE2\x82", "line 1"},           /* truncated at the end */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        mig_error err;
        mig_error_init(&err);
        int rc = mig_script_check_text(bad[i].text, strlen(bad[i].text), FILE_NAME, &err);
        ck_assert_msg(rc == MIG_ERR_ARGUMENT, "case %zu accepted", i);
        ck_assert_str_contains(err.message, FILE_NAME);
        ck_assert_str_contains(err.message, bad[i].line);
        ck_assert_str_contains(err.message, "UTF-8");
        mig_error_clear(&err);
    }
}
END_TEST

Suite *script_suite(void)
{
    Suite *s = suite_create("script");
    TCase *tc = tcase_create("sections");
    tcase_add_test(tc, dbmate_markers);
    tcase_add_test(tc, goose_markers);
    tcase_add_test(tc, markers_with_spaces_and_tabs);
    tcase_add_test(tc, no_markers);
    tcase_add_test(tc, first_lines);
    tcase_add_test(tc, marker_in_string_literal);
    tcase_add_test(tc, marker_in_block_comment);
    tcase_add_test(tc, marker_in_dollar_quotes);
    tcase_add_test(tc, lookalikes_are_not_markers);
    tcase_add_test(tc, sql_before_first_marker);
    tcase_add_test(tc, second_marker_refused);
    tcase_add_test(tc, down_without_up_refused);
    tcase_add_test(tc, no_transaction_directives);
    tcase_add_test(tc, no_transaction_whole_word);
    tcase_add_test(tc, script_directives);
    suite_add_tcase(s, tc);
    tc = tcase_create("text");
    tcase_add_test(tc, blank_scripts);
    tcase_add_test(tc, skip_blank);
    tcase_add_test(tc, line_at);
    tcase_add_test(tc, check_text_valid);
    tcase_add_test(tc, check_text_nul);
    tcase_add_test(tc, check_text_invalid_utf8);
    suite_add_tcase(s, tc);
    return s;
}
