/*
 * libFuzzer target: where migrations stand and what a call would run.
 *
 * The input builds, in memory, a folder (migrations with unique versions, spelled in many ways:
 * 3, 03, 3.0, v3_0) and a history of any rows (up, down, baseline, repair; successful or not;
 * checksums that match the files or not, versions spelled differently from the files'), a
 * policy and a call (apply, to, rollback with a target or a number of steps). Properties:
 *   - mig_status_build: rows strictly ordered by version; a row is applied/modified/missing
 *     exactly when a record is in force; pending/out_of_order rows have a file and no record;
 *     modified means the checksums differ, applied (not baselined, with a file) that they match;
 *     without a folder nothing is pending or missing;
 *   - mig_plan_make refuses exactly a negative count or number of steps, a target that is no
 *     migration's version (other than "0"), and a rollback of every migration in force (but the
 *     one step of a database with one);
 *   - apply: only up steps, strictly increasing versions, none above the target, each pending
 *     (or out of order when allowed), and every such row up to the target is in the plan, or
 *     the first `count` of them (the plan agrees with the states);
 *   - to: down steps first, newest first, each in force and newer than the target, then up steps
 *     as for apply;
 *   - rollback: only down steps, newest first, each in force, as many as asked;
 *   - never re-applies: after recording the apply plan's steps as successful up rows, every
 *     planned migration is applied, the other rows keep their state, and a new plan (without a
 *     count) is empty.
 */
#include "mig_error.h"
#include "mig_history.h"
#include "mig_sha256.h"
#include "mig_source.h"
#include "mig_state.h"
#include "mig_version.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"

typedef struct input {
    const uint8_t *p;
    size_t n;
} input;

static unsigned take(input *in, unsigned mod)
{
    if (!in->n)
        return 0;
    unsigned v = *in->p++;
    in->n--;
    return mod ? v % mod : v;
}

/* A version from a small value space, spelled many ways. */
static char *make_version(input *in)
{
    char buf[64];
    size_t n = 0;
    if (take(in, 8) == 0)
        buf[n++] = 'v';
    int segs = 1 + (int)take(in, 3);
    for (int s = 0; s < segs; s++) {
        if (s)
            buf[n++] = ".-_"[take(in, 3)];
        unsigned value = s == 0 ? take(in, 12) : take(in, 3);
        if (take(in, 4) == 0)
            buf[n++] = '0';
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%u", value);
    }
    buf[n] = '\0';
    CHECK(mig_version_valid(buf), "generated [%s]", buf);
    return strdup(buf);
}

static const char *const texts[] = {"CREATE TABLE a (x int);", "CREATE TABLE b (x int);", "",
                                    "-- only a comment"};

static int compare_migrations(const void *a, const void *b)
{
    return mig_version_compare(((const mig_migration *)a)->version,
                               ((const mig_migration *)b)->version);
}

static const char *state_name(mig_state s)
{
    return mig_state_name(s);
}

static bool in_force(const mig_status_row *row)
{
    return row->record != NULL && !(row->baselined && !row->file);
}

static bool runs_up(const mig_status_row *row, const mig_policy *policy)
{
    return row->state == MIG_STATE_PENDING ||
           (row->state == MIG_STATE_OUT_OF_ORDER && policy->allow_out_of_order);
}

static void check_status(const mig_status *st, bool with_files)
{
    for (size_t i = 0; i < st->count; i++) {
        const mig_status_row *r = &st->rows[i];
        CHECK(r->version != NULL, "row %zu has no version", i);
        if (i)
            CHECK(mig_version_compare(st->rows[i - 1].version, r->version) < 0,
                  "rows %s and %s out of order", st->rows[i - 1].version, r->version);
        switch (r->state) {
        case MIG_STATE_APPLIED:
            CHECK(r->record != NULL, "%s applied without a record", r->version);
            if (r->file && !r->baselined && with_files)
                CHECK(r->applied_checksum && strcmp(r->applied_checksum, r->checksum) == 0,
                      "%s applied with another checksum", r->version);
            break;
        case MIG_STATE_MODIFIED:
            CHECK(r->record && r->file, "%s modified without record or file", r->version);
            CHECK(!r->applied_checksum || strcmp(r->applied_checksum, r->checksum) != 0,
                  "%s modified with the same checksum", r->version);
            break;
        case MIG_STATE_MISSING:
            CHECK(with_files && r->record && !r->file, "%s missing", r->version);
            break;
        case MIG_STATE_PENDING:
        case MIG_STATE_OUT_OF_ORDER:
            CHECK(with_files && r->file && !r->record && !r->failed, "%s %s", r->version,
                  state_name(r->state));
            break;
        case MIG_STATE_FAILED:
            CHECK(!r->record && r->failed, "%s failed", r->version);
            break;
        }
    }
}

/*
 * Why a plan must be refused, or NULL: a negative count or number of steps, a target that is
 * no migration's version (other than "0"), a rollback of every migration in force (unless the
 * one step of a database with one).
 */
static const char *refusal_expected(const mig_status *st, mig_plan_kind kind, const char *target,
                                    long steps)
{
    if (kind != MIG_PLAN_TO && steps < 0)
        return "a negative count";
    if (target && mig_version_compare(target, "0") != 0) {
        bool found = false;
        for (size_t k = 0; k < st->count && !found; k++)
            found = mig_version_compare(st->rows[k].version, target) == 0;
        if (!found)
            return "a target that is no migration's version";
    }
    size_t in_force_count = 0;
    for (size_t k = 0; k < st->count; k++)
        in_force_count += in_force(&st->rows[k]);
    if (kind == MIG_PLAN_ROLLBACK && in_force_count && (size_t)steps >= in_force_count &&
        !(steps == 1 && in_force_count == 1))
        return "a rollback of everything";
    return NULL;
}

/* Check a plan against the status it was made from. */
static void check_plan(const mig_status *st, const mig_plan *plan, const mig_policy *policy,
                       mig_plan_kind kind, const char *target, long steps)
{
    size_t i = 0;
    size_t downs = 0;
    /* down steps: newest first, in force, newer than the target */
    for (; i < plan->count && strcmp(plan->steps[i].direction, "down") == 0; i++, downs++) {
        const mig_status_row *r = plan->steps[i].row;
        CHECK(kind != MIG_PLAN_APPLY, "apply plan reverts %s", r->version);
        CHECK(in_force(r), "reverts %s, which is %s and not in force", r->version,
              state_name(r->state));
        if (kind == MIG_PLAN_TO)
            CHECK(mig_version_compare(r->version, target) > 0, "reverts %s, not above %s",
                  r->version, target);
        if (i)
            CHECK(mig_version_compare(plan->steps[i - 1].row->version, r->version) > 0,
                  "reverts %s then %s", plan->steps[i - 1].row->version, r->version);
    }
    size_t in_force_count = 0, in_force_above = 0;
    for (size_t k = 0; k < st->count; k++)
        if (in_force(&st->rows[k])) {
            in_force_count++;
            if (target && mig_version_compare(st->rows[k].version, target) > 0)
                in_force_above++;
        }
    if (kind == MIG_PLAN_ROLLBACK) {
        CHECK(i == plan->count, "rollback plan has up steps");
        size_t want = (size_t)steps < in_force_count ? (size_t)steps : in_force_count;
        CHECK(downs == want, "rollback of %ld reverts %zu of %zu in force", steps, downs,
              in_force_count);
        return;
    }
    if (kind == MIG_PLAN_TO)
        CHECK(downs == in_force_above, "to %s reverts %zu of %zu above it", target, downs,
              in_force_above);
    /* up steps: increasing, pending (or allowed out of order), up to the target */
    size_t ups = 0;
    for (; i < plan->count; i++, ups++) {
        const mig_status_row *r = plan->steps[i].row;
        CHECK(strcmp(plan->steps[i].direction, "up") == 0, "a down step after up steps");
        CHECK(runs_up(r, policy), "applies %s, which is %s", r->version, state_name(r->state));
        CHECK(r->file && plan->steps[i].text.ptr == r->file->up.ptr, "applies %s without its file",
              r->version);
        CHECK(!target || mig_version_compare(r->version, target) <= 0, "applies %s above %s",
              r->version, target);
        if (ups)
            CHECK(mig_version_compare(plan->steps[i - 1].row->version, r->version) < 0,
                  "applies %s then %s", plan->steps[i - 1].row->version, r->version);
    }
    size_t want = 0;
    for (size_t k = 0; k < st->count; k++)
        if (runs_up(&st->rows[k], policy) &&
            (!target || mig_version_compare(st->rows[k].version, target) <= 0))
            want++;
    if (kind == MIG_PLAN_APPLY && steps > 0 && want > (size_t)steps)
        want = (size_t)steps; /* a count: the first ones only */
    CHECK(ups == want, "the plan applies %zu migrations, the states say %zu", ups, want);
}

static void free_history(mig_history *h)
{
    for (size_t i = 0; i < h->count; i++) {
        mig_history_row *r = &h->rows[i];
        free(r->version);
        free(r->name);
        free(r->direction);
        free(r->checksum);
        free(r->down_checksum);
        free(r->script);
        free(r->applied_at);
        free(r->applied_by);
    }
    free(h->rows);
}

static void push_row(mig_history *h, const char *version, const char *direction, bool success,
                     const char *checksum)
{
    if (h->count == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 16;
        h->rows = realloc(h->rows, h->cap * sizeof *h->rows);
    }
    mig_history_row *r = &h->rows[h->count];
    memset(r, 0, sizeof *r);
    r->id = (long long)h->count + 1;
    r->version = strdup(version);
    r->name = strdup("h");
    r->direction = strdup(direction);
    r->checksum = checksum ? strdup(checksum) : NULL;
    r->script = strdup("h.sql");
    r->applied_at = strdup("2024-01-01T00:00:00.000Z");
    r->applied_by = strdup("fuzz");
    r->success = success;
    h->count++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    input in = {data, size};
    char sums[4][65];
    for (int t = 0; t < 4; t++)
        mig_checksum(texts[t], strlen(texts[t]), sums[t]);

    /* the folder */
    mig_set files = {.items = calloc(16, sizeof(mig_migration)), .count = 0};
    unsigned nfiles = take(&in, 10);
    for (unsigned f = 0; f < nfiles; f++) {
        char *v = make_version(&in);
        bool dup = false;
        for (size_t k = 0; k < files.count; k++)
            dup = dup || mig_version_compare(files.items[k].version, v) == 0;
        if (dup) {
            free(v);
            continue;
        }
        mig_migration *m = &files.items[files.count++];
        unsigned t = take(&in, 4);
        m->version = v;
        m->name = strdup("f");
        m->script = malloc(strlen(v) + 8);
        sprintf(m->script, "%s_f.sql", v);
        m->up = mig_text_make(strdup(texts[t]), strlen(texts[t]), 1);
        memcpy(m->checksum, sums[t], 65);
        if (take(&in, 2)) {
            m->down_script = strdup(m->script);
            m->down = mig_text_make(strdup("DROP TABLE a;"), 13, 1);
            mig_checksum(m->down.ptr, m->down.len, m->down_checksum);
        }
    }
    if (files.count)
        qsort(files.items, files.count, sizeof *files.items, compare_migrations);

    /* the history */
    mig_history hist = {NULL, 0, 0, true};
    unsigned nrows = take(&in, 16);
    static const char *const directions[] = {"up",   "up",       "up",     "down",
                                             "down", "baseline", "repair", "repair"};
    for (unsigned r = 0; r < nrows; r++) {
        char *v = make_version(&in);
        const char *dir = directions[take(&in, 8)];
        bool success = take(&in, 5) != 0;
        unsigned c = take(&in, 5);
        const char *sum = c < 4 ? sums[c] : NULL;
        if (strcmp(dir, "baseline") == 0)
            sum = NULL;
        push_row(&hist, v, dir, success, sum);
        free(v);
    }

    mig_policy policy = {take(&in, 2) != 0, take(&in, 2) != 0, 0};
    bool with_files = take(&in, 5) != 0;
    mig_plan_kind kind = (mig_plan_kind)take(&in, 3);
    char *target = take(&in, 3) || kind == MIG_PLAN_TO ? make_version(&in) : NULL;
    long steps = (long)take(&in, 6) - 1;

    mig_status st;
    mig_error err;
    mig_error_init(&err);
    int rc = mig_status_build(with_files ? &files : NULL, &hist, &st, &err);
    CHECK(rc == MIG_OK, "status: %s", err.message ? err.message : "");
    check_status(&st, with_files);

    mig_plan plan;
    rc = mig_plan_make(&st, &policy, kind, target, steps, &plan, &err);
    const char *refusal = refusal_expected(&st, kind, target, steps);
    CHECK((rc == MIG_OK) == (refusal == NULL), "plan %s, expected %s (%s)",
          rc == MIG_OK ? "made" : "refused", refusal ? refusal : "a plan",
          err.message ? err.message : "");
    if (rc == MIG_OK) {
        check_plan(&st, &plan, &policy, kind, target, steps);
        if (kind == MIG_PLAN_APPLY && with_files) {
            /* record the plan's steps as the runner does, then look again */
            size_t before_count = st.count;
            char **versions = calloc(before_count + 1, sizeof *versions);
            mig_state *states = calloc(before_count + 1, sizeof *states);
            bool *planned = calloc(before_count + 1, sizeof *planned);
            for (size_t k = 0; k < st.count; k++) {
                versions[k] = strdup(st.rows[k].version);
                states[k] = st.rows[k].state;
                for (size_t s = 0; s < plan.count; s++)
                    planned[k] = planned[k] || plan.steps[s].row == &st.rows[k];
            }
            for (size_t s = 0; s < plan.count; s++)
                push_row(&hist, plan.steps[s].row->version, "up", true,
                         plan.steps[s].row->file->checksum);
            mig_plan_free(&plan);
            mig_status_free(&st);
            rc = mig_status_build(&files, &hist, &st, &err);
            CHECK(rc == MIG_OK, "status after applying");
            check_status(&st, true);
            CHECK(st.count == before_count, "%zu rows before applying, %zu after", before_count,
                  st.count);
            for (size_t k = 0; k < st.count; k++) {
                CHECK(strcmp(st.rows[k].version, versions[k]) == 0, "row %zu changed version", k);
                if (planned[k])
                    CHECK(st.rows[k].state == MIG_STATE_APPLIED, "%s is %s after it was applied",
                          versions[k], state_name(st.rows[k].state));
                else /* pending rows left are above the target, so still newer than any */
                    CHECK(st.rows[k].state == states[k], "%s went from %s to %s", versions[k],
                          state_name(states[k]), state_name(st.rows[k].state));
            }
            rc = mig_plan_make(&st, &policy, MIG_PLAN_APPLY, target, 0, &plan, &err);
            CHECK(rc == MIG_OK, "second plan");
            CHECK(steps > 0 || plan.count == 0, "a second apply plan would run %zu more, first %s",
                  plan.count, plan.count ? plan.steps[0].row->version : "");
            for (size_t k = 0; k < before_count; k++)
                free(versions[k]);
            free(versions);
            free(states);
            free(planned);
        }
        mig_plan_free(&plan);
    } else {
        CHECK(err.message != NULL, "a refused plan without a message");
    }
    mig_error_clear(&err);
    mig_status_free(&st);
    free(target);
    free_history(&hist);
    for (size_t k = 0; k < files.count; k++) {
        mig_migration *m = &files.items[k];
        free(m->version);
        free(m->name);
        free(m->script);
        free(m->down_script);
        free((char *)m->up.ptr);
        free((char *)m->down.ptr);
    }
    free(files.items);
    return 0;
}
