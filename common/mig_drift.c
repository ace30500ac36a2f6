/*
 * Schema drift, engine-neutral: the description's line format and order, the fingerprint, the
 * diff of two descriptions, reading and writing migrate_schema_history, and what the drift
 * setting decides. The engine only lists the objects (mig_engine_drift.h).
 */
#include "mig_drift.h"

#include "mig_alloc.h"
#include "mig_buf.h"
#include "mig_catalog.h"
#include "mig_engine_drift.h"
#include "mig_engine_hooks.h"
#include "mig_sha256.h"
#include "mig_vec.h"

#include <stdlib.h>
#include <string.h>

static const char *const mode_names[] = {"warn", "error", "ignore"};

/* The setting's name for a mode. */
const char *mig_drift_mode_name(int mode)
{
    return mode >= 0 && mode <= MIG_DRIFT_IGNORE ? mode_names[mode] : "warn";
}

/* One of the three names, or false. */
bool mig_drift_mode_parse(const char *text, int *mode)
{
    for (int i = 0; text && i <= MIG_DRIFT_IGNORE; i++)
        if (strcmp(text, mode_names[i]) == 0) {
            *mode = i;
            return true;
        }
    return false;
}

/* One object of a description: its fields as the description writes them (escaped). */
typedef struct schema_item {
    char *kind, *name, *def;
} schema_item;

typedef struct schema_items {
    schema_item *items;
    size_t count, cap;
    bool failed;
} schema_items;

/* Append text with the four characters that would break a line or a field escaped. */
static void put_escaped(mig_buf *b, const char *s)
{
    for (const char *p = s ? s : ""; *p; p++) {
        const char *esc = *p == '\\'   ? "\\\\"
                          : *p == '\t' ? "\\t"
                          : *p == '\n' ? "\\n"
                          : *p == '\r' ? "\\r"
                                       : NULL;
        if (esc)
            mig_buf_puts(b, esc);
        else
            mig_buf_append(b, p, 1);
    }
}

/* A field escaped into a new string. */
static char *escaped(const char *s)
{
    mig_buf b = {0};
    put_escaped(&b, s);
    return mig_buf_take(&b);
}

/* Collect one object the engine listed. */
static int on_object(void *ctx, int ncols, const char *const *v)
{
    schema_items *list = ctx;
    if (ncols != 3 || !v[0] || !v[1])
        return MIG_ERR_STATE;
    if (mig_grow((void **)&list->items, &list->cap, list->count + 1, sizeof *list->items) != MIG_OK)
        return MIG_NOMEM;
    schema_item *it = &list->items[list->count++];
    it->kind = escaped(v[0]);
    it->name = escaped(v[1]);
    it->def = escaped(v[2]);
    if (!it->kind || !it->name || !it->def)
        return MIG_NOMEM;
    return MIG_OK;
}

/* The description's order: by name, then kind, bytewise. */
static int item_compare(const void *a, const void *b)
{
    const schema_item *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->kind, y->kind);
}

/* Release a list of objects. */
static void items_free(schema_items *list)
{
    for (size_t i = 0; i < list->count; i++) {
        mig_free(list->items[i].kind);
        mig_free(list->items[i].name);
        mig_free(list->items[i].def);
    }
    mig_free(list->items);
    memset(list, 0, sizeof *list);
}

/* The live schema, described by the engine and sorted. */
int mig_schema_describe(const mig_engine *eng, char **out, mig_error *err)
{
    *out = NULL;
    schema_items list = {0};
    int rc = eng->drift->describe(eng->handle, on_object, &list, err);
    if (rc == MIG_NOMEM)
        rc = mig_fail_nomem(err);
    else if (rc != MIG_OK && !err->message)
        rc =
            mig_fail(err, MIG_ERR_STATE, "the schema description has a row without a kind or name");
    mig_buf b = {0};
    if (rc == MIG_OK) {
        if (list.count)
            qsort(list.items, list.count, sizeof *list.items, item_compare);
        for (size_t i = 0; i < list.count; i++)
            mig_buf_printf(&b, "%s\t%s\t%s\n", list.items[i].kind, list.items[i].name,
                           list.items[i].def);
        if (!(*out = mig_buf_take(&b)))
            rc = mig_fail_nomem(err);
    }
    mig_buf_free(&b);
    items_free(&list);
    return rc;
}

/* Split a description into its objects (the fields stay escaped). */
static int parse_description(const char *text, schema_items *list)
{
    memset(list, 0, sizeof *list);
    const char *p = text ? text : "";
    while (*p) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *t1 = memchr(p, '\t', len);
        const char *t2 = t1 ? memchr(t1 + 1, '\t', len - (size_t)(t1 + 1 - p)) : NULL;
        if (t2) {
            if (mig_grow((void **)&list->items, &list->cap, list->count + 1, sizeof *list->items) !=
                MIG_OK)
                return MIG_NOMEM;
            schema_item *it = &list->items[list->count++];
            it->kind = mig_strndup(p, (size_t)(t1 - p));
            it->name = mig_strndup(t1 + 1, (size_t)(t2 - t1 - 1));
            it->def = mig_strndup(t2 + 1, len - (size_t)(t2 + 1 - p));
            if (!it->kind || !it->name || !it->def)
                return MIG_NOMEM;
        }
        p += len + (end ? 1 : 0);
    }
    if (list->count)
        qsort(list->items, list->count, sizeof *list->items, item_compare);
    return MIG_OK;
}

/* Append one differing object. */
static int add_row(mig_drift *d, const schema_item *it, const char *change, const char *recorded,
                   const char *live)
{
    if (mig_grow((void **)&d->rows, &d->cap, d->count + 1, sizeof *d->rows) != MIG_OK)
        return MIG_NOMEM;
    mig_drift_row *r = &d->rows[d->count++];
    memset(r, 0, sizeof *r);
    r->change = change;
    r->kind = mig_strdup(it->kind);
    r->name = mig_strdup(it->name);
    r->recorded = recorded ? mig_strdup(recorded) : NULL;
    r->live = live ? mig_strdup(live) : NULL;
    if (!r->kind || !r->name || (recorded && !r->recorded) || (live && !r->live))
        return MIG_NOMEM;
    return MIG_OK;
}

/* Walk both sorted lists at once: what only one has was added or removed. */
int mig_schema_diff(const char *recorded, const char *live, mig_drift *out, mig_error *err)
{
    schema_items a, b;
    int rc = parse_description(recorded, &a);
    if (rc == MIG_OK)
        rc = parse_description(live, &b);
    else
        memset(&b, 0, sizeof b);
    size_t i = 0, j = 0;
    while (rc == MIG_OK && (i < a.count || j < b.count)) {
        int c = i >= a.count ? 1 : j >= b.count ? -1 : item_compare(&a.items[i], &b.items[j]);
        if (c < 0) {
            rc = add_row(out, &a.items[i], "removed", a.items[i].def, NULL);
            i++;
        } else if (c > 0) {
            rc = add_row(out, &b.items[j], "added", NULL, b.items[j].def);
            j++;
        } else {
            if (strcmp(a.items[i].def, b.items[j].def) != 0)
                rc = add_row(out, &a.items[i], "changed", a.items[i].def, b.items[j].def);
            i++;
            j++;
        }
    }
    items_free(&a);
    items_free(&b);
    return rc == MIG_OK ? MIG_OK : mig_fail_nomem(err);
}

/* Release a comparison. */
void mig_drift_free(mig_drift *d)
{
    for (size_t i = 0; i < d->count; i++) {
        mig_free(d->rows[i].kind);
        mig_free(d->rows[i].name);
        mig_free(d->rows[i].recorded);
        mig_free(d->rows[i].live);
    }
    mig_free(d->rows);
    memset(d, 0, sizeof *d);
}

/* The fingerprint in force, as read from the newest row. */
typedef struct recorded_state {
    char *row_id, *history_id, *fingerprint, *newest_history;
    bool found;
} recorded_state;

/* Keep the newest row's id, history_id, fingerprint and the newest history id. */
static int on_recorded(void *ctx, int ncols, const char *const *v)
{
    recorded_state *st = ctx;
    if (ncols != 4)
        return MIG_ERR_STATE;
    st->found = true;
    char **dst[] = {&st->row_id, &st->history_id, &st->fingerprint, &st->newest_history};
    for (int i = 0; i < 4; i++)
        if (v[i] && !(*dst[i] = mig_strdup(v[i])))
            return MIG_NOMEM;
    return MIG_OK;
}

/* Keep one text value. */
static int on_text(void *ctx, int ncols, const char *const *v)
{
    char **out = ctx;
    if (ncols != 1)
        return MIG_ERR_STATE;
    mig_free(*out);
    *out = v[0] ? mig_strdup(v[0]) : mig_strdup("");
    return *out ? MIG_OK : MIG_NOMEM;
}

/* Whether two texts that may be NULL are the same. */
static bool same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Run the core's own query, with a clean error when memory ran out. */
static int run_query(const mig_engine *eng, const char *sql, int nparams, const char *const *params,
                     mig_row_fn fn, void *ctx, mig_error *err)
{
    if (!sql)
        return mig_fail_nomem(err);
    int rc = eng->query(eng->handle, sql, nparams, params, fn, ctx, err);
    if (rc == MIG_NOMEM)
        rc = mig_fail_nomem(err);
    else if (rc != MIG_OK && !err->message)
        rc = mig_fail(err, MIG_ERR_STATE,
                      "migrate_schema_history has rows this version cannot read");
    return rc;
}

/* Compare the live schema with the fingerprint in force. */
int mig_drift_load(const mig_engine *eng, mig_drift *out, mig_error *err)
{
    memset(out, 0, sizeof *out);
    const mig_engine_drift *ops = eng->drift;
    bool exists = false, history = false;
    int rc = ops->prepare(eng->handle, false, &exists, err);
    if (rc == MIG_OK && exists)
        rc = eng->history_prepare(eng->handle, false, &history, err);
    if (rc != MIG_OK || !exists)
        return rc;
    recorded_state st = {0};
    char *sql = history ? mig_printf("SELECT s.id, s.history_id, s.fingerprint, (SELECT max(h.id) "
                                     "FROM %s h) FROM %s s ORDER BY s.id DESC LIMIT 1",
                                     eng->history_table, ops->table)
                        : mig_printf("SELECT s.id, s.history_id, s.fingerprint, NULL FROM %s s "
                                     "ORDER BY s.id DESC LIMIT 1",
                                     ops->table);
    rc = run_query(eng, sql, 0, NULL, on_recorded, &st, err);
    mig_free(sql);
    /* history moved on without a fingerprint (a migrate_script run): nothing to compare with */
    out->known =
        rc == MIG_OK && st.found && st.fingerprint && same_text(st.history_id, st.newest_history);
    char *live = NULL, *recorded = NULL;
    if (out->known)
        rc = mig_schema_describe(eng, &live, err);
    if (rc == MIG_OK && out->known) {
        char hex[65];
        mig_sha256_hex(live, strlen(live), hex);
        if (strcmp(hex, st.fingerprint) != 0) {
            const char *params[1] = {st.row_id};
            sql = mig_printf("SELECT description FROM %s WHERE id = $1", ops->table);
            rc = run_query(eng, sql, 1, params, on_text, &recorded, err);
            mig_free(sql);
            if (rc == MIG_OK)
                rc = mig_schema_diff(recorded, live, out, err);
        }
    }
    mig_free(live);
    mig_free(recorded);
    mig_free(st.row_id);
    mig_free(st.history_id);
    mig_free(st.fingerprint);
    mig_free(st.newest_history);
    if (rc != MIG_OK)
        mig_drift_free(out);
    return rc;
}

/* Name the first max objects that drifted, and how many more there are. */
char *mig_drift_summary(const mig_drift *d, size_t max)
{
    mig_buf b = {0};
    for (size_t i = 0; i < d->count && i < max; i++)
        mig_buf_printf(&b, "%s%s %s %s", i ? ", " : "", d->rows[i].kind, d->rows[i].name,
                       d->rows[i].change);
    if (d->count > max)
        mig_buf_printf(&b, " and %zu more", d->count - max);
    return mig_buf_take(&b);
}

/* How many objects a refusal or a warning names. */
enum { SUMMARY_OBJECTS = 5 };

/* Look before a call runs anything, as the drift setting says. */
int mig_drift_check(const mig_engine *eng, int mode, mig_error *err)
{
    if (mode == MIG_DRIFT_IGNORE)
        return MIG_OK;
    mig_drift d;
    int rc = mig_drift_load(eng, &d, err);
    if (rc != MIG_OK || d.count == 0) {
        mig_drift_free(&d);
        return rc;
    }
    char *names = mig_drift_summary(&d, SUMMARY_OBJECTS);
    if (!names) {
        rc = mig_fail_nomem(err);
    } else if (mode == MIG_DRIFT_ERROR) {
        rc = mig_fail(err, MIG_ERR_STATE,
                      "schema drift: the schema was changed outside migrate since its last call "
                      "(%s); nothing was run",
                      names);
        mig_error_set_hint(err, "SELECT * FROM migrate_drift() lists every change; write it as a "
                                "migration, or accept the live schema with migrate_repair; the "
                                "drift setting 'warn' lets the call go on");
    } else {
        char *msg = mig_printf("schema drift: the schema was changed outside migrate since its "
                               "last call (%s); going on as the drift setting is 'warn'",
                               names);
        if (!msg)
            rc = mig_fail_nomem(err);
        else if (eng->drift->warn)
            eng->drift->warn(eng->handle, msg);
        else
            mig_engine_progress(eng, msg);
        mig_free(msg);
    }
    mig_free(names);
    mig_drift_free(&d);
    return rc;
}

/* Record the live schema after a call changed it. */
int mig_drift_record(const mig_engine *eng, const char *operation, mig_error *err)
{
    const mig_engine_drift *ops = eng->drift;
    bool exists = false, history = false;
    int rc = ops->prepare(eng->handle, true, &exists, err);
    if (rc == MIG_OK)
        rc = eng->history_prepare(eng->handle, false, &history, err);
    char *description = NULL;
    if (rc == MIG_OK)
        rc = mig_schema_describe(eng, &description, err);
    if (rc != MIG_OK)
        return rc;
    char hex[65];
    mig_sha256_hex(description, strlen(description), hex);
    char *at = eng->now_utc(eng->handle);
    char *by = eng->current_user(eng->handle);
    char *newest = history ? mig_printf("(SELECT max(h.id) FROM %s h)", eng->history_table)
                           : mig_strdup("NULL");
    char *sql = newest ? mig_printf("INSERT INTO %s (" MIG_SCHEMA_HISTORY_INSERT_LIST
                                    ") VALUES (%s, $1, $2, $3, $4, $5)",
                                    ops->table, newest)
                       : NULL;
    const char *params[5] = {operation, hex, description, at, by};
    if (!at || !sql)
        rc = mig_fail_nomem(err);
    else /* with the rights writing history needs, as migrate_history's rows are */
        rc = eng->record(eng->handle, sql, 5, params, err);
    mig_free(newest);
    mig_free(sql);
    mig_free(at);
    mig_free(by);
    mig_free(description);
    return rc;
}

/* Whether a call that changes a table itself looks for drift and records the schema. */
static bool change_tracked(const mig_engine *eng)
{
    return mig_engine_has_drift(eng) && !eng->drift->nested;
}

/* Before migrate_add_unique or a column call changes anything: drift under the setting. */
int mig_drift_before_change(const mig_engine *eng, mig_error *err)
{
    return change_tracked(eng) ? mig_drift_check(eng, eng->drift->mode, err) : MIG_OK;
}

/* After it changed the schema: its description and fingerprint, in the call's transaction. */
int mig_drift_after_change(const mig_engine *eng, const char *operation, mig_error *err)
{
    return change_tracked(eng) ? mig_drift_record(eng, operation, err) : MIG_OK;
}

/* migrate_schema: the description, from an engine that can give one. */
int mig_schema(const mig_engine *eng, char **out, mig_error *err)
{
    *out = NULL;
    if (!mig_engine_has_drift(eng))
        return mig_fail(err, MIG_ERR_STATE, "migrate_schema is not available on this engine");
    return mig_schema_describe(eng, out, err);
}

/* migrate_drift: the comparison, from an engine that can describe its schema. */
int mig_drift_list(const mig_engine *eng, mig_drift *out, mig_error *err)
{
    memset(out, 0, sizeof *out);
    if (!mig_engine_has_drift(eng))
        return mig_fail(err, MIG_ERR_STATE, "migrate_drift is not available on this engine");
    return mig_drift_load(eng, out, err);
}
