/*
 * libFuzzer target: reading script text.
 *
 * The input is a script's bytes, given to the functions as read_script gives them (length plus
 * a terminating NUL). Properties:
 *   - mig_script_check_text accepts exactly the NUL-free, well-formed UTF-8 texts (compared with
 *     an independent validator), and its errors name the file;
 *   - mig_sections_parse never crashes; on success the up section is present, every span lies
 *     within the text, up and down do not overlap, and first_line is the line the span starts
 *     on (or the next, for an empty section at the end); without markers the whole text is up;
 *     errors name the file;
 *   - mig_script_directives never crashes and keeps the span;
 *   - mig_script_skip_blank(pos) is within [pos, len]; mig_script_is_blank agrees with it;
 *   - mig_script_statement_start(pos) <= pos, and it is idempotent: the start of the statement
 *     that holds a start is that start;
 *   - mig_script_line_at is 1 plus the newlines before the position.
 */
#include "mig_error.h"
#include "mig_script.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"

/* Well-formed UTF-8 (Unicode table 3-7) without NUL: an independent reference. */
static bool reference_utf8(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        unsigned char lo = 0x80, hi = 0xBF;
        size_t n;
        if (c >= 0xC2 && c <= 0xDF)
            n = 1;
        else if (c == 0xE0)
            n = 2, lo = 0xA0;
        else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF)
            n = 2;
        else if (c == 0xED)
            n = 2, hi = 0x9F;
        else if (c == 0xF0)
            n = 3, lo = 0x90;
        else if (c >= 0xF1 && c <= 0xF3)
            n = 3;
        else if (c == 0xF4)
            n = 3, hi = 0x8F;
        else
            return false;
        if (i + n >= len)
            return false; /* the sequence is cut short */
        if (s[i + 1] < lo || s[i + 1] > hi)
            return false;
        for (size_t k = 2; k <= n; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xBF)
                return false;
        i += n + 1;
    }
    return true;
}

static int count_lines(const char *text, size_t upto)
{
    int line = 1;
    for (size_t i = 0; i < upto; i++)
        if (text[i] == '\n')
            line++;
    return line;
}

static void check_span(const char *text, size_t len, const mig_span *s, bool markers,
                       const char *what)
{
    if (!s->present)
        return;
    CHECK(s->offset <= len && s->len <= len - s->offset, "%s span %zu+%zu of %zu", what, s->offset,
          s->len, len);
    CHECK(s->first_line >= 1, "%s first_line %d", what, s->first_line);
    /* (an empty section at the end of a file without a final newline names the next line) */
    int line = count_lines(text, s->offset);
    if (markers)
        CHECK(s->first_line == line || (s->len == 0 && s->first_line == line + 1),
              "%s starts on line %d, says %d", what, line, s->first_line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    size_t len = size;
    const char *file = "V1__fuzz.sql";

    mig_error err;
    mig_error_init(&err);
    int rc = mig_script_check_text(text, len, file, &err);
    bool ref = reference_utf8((const unsigned char *)text, len);
    CHECK((rc == MIG_OK) == ref, "check_text says %d, the reference %d: %s", rc, ref,
          err.message ? err.message : "");
    if (rc != MIG_OK)
        CHECK(err.message && strncmp(err.message, file, strlen(file)) == 0, "error: %s",
              err.message ? err.message : "(none)");
    mig_error_clear(&err);

    mig_sections sec;
    mig_error_init(&err);
    rc = mig_sections_parse(text, len, file, &sec, &err);
    if (rc == MIG_OK) {
        CHECK(sec.up.present, "no up section");
        check_span(text, len, &sec.up, sec.has_markers, "up");
        check_span(text, len, &sec.down, sec.has_markers, "down");
        if (sec.down.present)
            CHECK(sec.up.offset + sec.up.len <= sec.down.offset ||
                      sec.down.offset + sec.down.len <= sec.up.offset,
                  "up %zu+%zu and down %zu+%zu overlap", sec.up.offset, sec.up.len, sec.down.offset,
                  sec.down.len);
        if (!sec.has_markers)
            CHECK(sec.up.offset == 0 && sec.up.len == len && !sec.down.present,
                  "without markers the whole text is up");
    } else {
        CHECK(err.message && strncmp(err.message, file, strlen(file)) == 0, "error: %s",
              err.message ? err.message : "(none)");
    }
    mig_error_clear(&err);

    mig_span span = {0, len, 1, false, true};
    mig_script_directives(text, len, &span);
    CHECK(span.offset == 0 && span.len == len && span.first_line == 1, "directives moved the span");

    size_t blank0 = mig_script_skip_blank(text, len, 0);
    CHECK(blank0 <= len, "skip_blank(0) = %zu > %zu", blank0, len);
    CHECK(mig_script_is_blank(text, len) == (blank0 >= len), "is_blank disagrees");

    /* a few positions: the ends, and positions the input itself picks */
    size_t probes[8] = {0, len, len / 2, len ? len - 1 : 0};
    for (int i = 4; i < 8; i++)
        probes[i] =
            size >= 2 ? ((size_t)data[i % size] << 8 | data[(i * 7) % size]) % (len + 1) : 0;
    for (int i = 0; i < 8; i++) {
        size_t pos = probes[i];
        size_t skip = mig_script_skip_blank(text, len, pos);
        CHECK(skip >= pos && skip <= len, "skip_blank(%zu) = %zu", pos, skip);
        size_t start = mig_script_statement_start(text, len, pos);
        CHECK(start <= pos, "statement_start(%zu) = %zu", pos, start);
        size_t again = mig_script_statement_start(text, len, start);
        CHECK(again == start, "statement_start(%zu) = %zu, but statement_start(%zu) = %zu", pos,
              start, start, again);
        int line = mig_script_line_at(text, len, pos);
        CHECK(line == count_lines(text, pos), "line_at(%zu) = %d", pos, line);
    }
    free(text);
    return 0;
}
