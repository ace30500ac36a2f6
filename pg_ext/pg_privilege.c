/*
 * Whose rights each step of a call runs with, and what proves a caller may do it.
 *
 *   pg_engine_check_file_access   reading a migrations folder is reading server files:
 *                                 superusers and pg_read_server_files only, as pg_read_file
 *   pg_engine_with_pinned_search_path
 *                                 the extension's own SQL runs with search_path pg_catalog,
 *                                 pg_temp, so no object another role put on the caller's path
 *                                 runs with the caller's rights
 *   engine.record                 the history INSERT runs as the owner of migrate_history
 *                                 (SetUserIdAndSecContext, restricted as a maintenance
 *                                 command is): no deploying role needs, or has, INSERT on it
 *   export.script_record          migrate_script's output records each migration through
 *   pg_engine_check_token         migrate_record with a token: an HMAC-SHA256, under the key in
 *                                 migrate_key (readable by its owner alone), of the record's
 *                                 values and of how many history rows its version has, so a
 *                                 role that may run the script can record nothing else, and a
 *                                 token cannot be replayed once that migration's history moves
 */
#include "pg_engine_internal.h"

#include "catalog/pg_authid.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "../common/mig_alloc.h"
#include "../common/mig_sha256.h"

/*
 * Refuse unless the caller has the privileges of role (superuser included), as pg_read_file
 * and its kin check them; what names the action ("read", "write") and the role's name.
 */
static void require_file_role(const char *function, Oid role, const char *what,
                              const char *role_name, const char *hint)
{
    if (!has_privs_of_role(GetUserId(), role))
        ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                        errmsg("permission denied for function %s", function),
                        errdetail("Role \"%s\" may not %s server files: only superusers and "
                                  "members of %s may.",
                                  GetUserNameFromId(GetUserId(), false), what, role_name),
                        errhint("%s", hint)));
}

/* Reading a server folder is reading server files: the rule pg_read_file follows. */
void pg_engine_check_file_access(const char *function)
{
    require_file_role(function, ROLE_PG_READ_SERVER_FILES, "read", "pg_read_server_files",
                      "GRANT pg_read_server_files TO the role that deploys migrations.");
}

/* Creating files in a server folder is writing server files: the rule of pg_write_server_files. */
void pg_engine_check_file_write(const char *function)
{
    require_file_role(function, ROLE_PG_WRITE_SERVER_FILES, "write", "pg_write_server_files",
                      "Create the files where the migrations are kept, or give a NULL folder "
                      "for the INSERT into migrate_scripts that stands for them.");
}

/*
 * Run fn(arg) with search_path set to pg_catalog, pg_temp, as PostgreSQL runs a function with a
 * SET clause: the extension's own SQL then resolves every operator and function in pg_catalog,
 * so nothing a less privileged role creates in a schema on the caller's search_path runs with
 * the caller's rights. The setting is put back on every exit, an ERROR included.
 */
void pg_engine_with_pinned_search_path(void (*fn)(void *arg), void *arg)
{
    int nestlevel = NewGUCNestLevel();
    (void)set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
                            GUC_ACTION_SAVE, true, 0, false);
    PG_TRY();
    {
        fn(arg);
    }
    PG_FINALLY();
    {
        AtEOXact_GUC(false, nestlevel);
    }
    PG_END_TRY();
}

/*
 * engine.query with the rights of the owner of migrate_history (the extension's owner): history
 * is written only through the extension, so no role needs INSERT on it, and no role that may
 * deploy can forge a row whose down script a later, more privileged call would run. As
 * PostgreSQL runs a maintenance command as a table's owner: SET ROLE and the like are refused
 * while it runs (SECURITY_RESTRICTED_OPERATION), and the caller's identity comes back on every
 * exit. keep: the statement's plan is kept for the call (pg_engine_query_kept), fn is unused.
 */
static int run_as_owner(pg_engine *pe, const char *sql, int nparams, const char *const *params,
                        mig_row_fn fn, void *ctx, bool keep, mig_error *err)
{
    Oid save_user;
    int save_sec;
    volatile int rc = MIG_OK;
    if (!OidIsValid(pe->history_owner))
        return mig_fail(err, MIG_ERR_NO_TABLE, "migrate: table %s is missing", pe->history_table);
    GetUserIdAndSecContext(&save_user, &save_sec);
    SetUserIdAndSecContext(pe->history_owner,
                           save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
    PG_TRY();
    {
        rc = keep ? pg_engine_query_kept(pe, sql, nparams, params, err)
                  : pg_engine_query(pe, sql, nparams, params, fn, ctx, err);
    }
    PG_FINALLY();
    {
        SetUserIdAndSecContext(save_user, save_sec);
    }
    PG_END_TRY();
    return rc;
}

/*
 * engine.record: the history INSERT, as the history's owner, prepared once per call: the core
 * builds the same statement for every migration.
 */
int pg_engine_record(void *h, const char *sql, int nparams, const char *const *params,
                     mig_error *err)
{
    return run_as_owner(h, sql, nparams, params, NULL, NULL, true, err);
}

/* Keep the one row of migrate_key. */
static int on_key_row(void *ctx, int ncols, const char *const *values)
{
    char **key = ctx;
    if (ncols != 1 || !values[0])
        return MIG_ERR_STATE;
    *key = mig_strdup(values[0]);
    return *key ? MIG_OK : MIG_NOMEM;
}

/*
 * The database's secret for migrate_script's record tokens, read as the history's owner (no
 * other role may read migrate_key), once per call.
 */
static const char *script_key(pg_engine *pe)
{
    if (pe->key)
        return pe->key;
    char *sql = psprintf("SELECT key FROM %s", pe->key_table);
    mig_error err;
    mig_error_init(&err);
    int rc = run_as_owner(pe, sql, 0, NULL, on_key_row, &pe->key, false, &err);
    mig_error_clear(&err);
    if (rc != MIG_OK || !pe->key)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("migrate: %s holds no key; DROP and CREATE EXTENSION migrate "
                               "again",
                               pe->key_table)));
    return pe->key;
}

/* Feed one value to the MAC: N for NULL, else S<length>: and the bytes, so nothing is ambiguous. */
static void mac_value(mig_sha256 *ctx, const char *value)
{
    char head[32];
    if (!value) {
        mig_sha256_update(ctx, "N", 1);
        return;
    }
    size_t len = strlen(value);
    snprintf(head, sizeof head, "S%zu:", len);
    mig_sha256_update(ctx, head, strlen(head));
    mig_sha256_update(ctx, value, len);
}

/* Keep a count. */
static int on_count_row(void *ctx, int ncols, const char *const *values)
{
    if (ncols != 1 || !values[0])
        return MIG_ERR_STATE;
    strlcpy(ctx, values[0], 24);
    return MIG_OK;
}

/*
 * How many history rows the version has: part of what a token vouches for, so a token is good
 * only while nothing else happens to that migration (it cannot be replayed after a revert).
 */
static void version_rows(pg_engine *pe, const char *version, char out[24])
{
    const char *params[1] = {version};
    char *sql =
        psprintf("SELECT pg_catalog.count(*) FROM %s h WHERE h.version = $1", pe->history_table);
    mig_error err;
    mig_error_init(&err);
    strlcpy(out, "?", 24);
    if (pg_engine_query(pe, sql, 1, params, on_count_row, out, &err) != MIG_OK) {
        mig_error_clear(&err);
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
                        errmsg("migrate: could not read %s", pe->history_table)));
    }
    pfree(sql);
}

/*
 * HMAC-SHA256 (RFC 2104) under the database's key of the values of one record and of how many
 * history rows its version has now, in hex.
 */
static void record_token(pg_engine *pe, const char *const values[7], char out[65])
{
    char rows[24];
    version_rows(pe, values[0], rows);
    const char *key = script_key(pe);
    unsigned char block[64] = {0}, inner[32], outer[32];
    size_t klen = strlen(key);
    unsigned char pad[64];
    mig_sha256 ctx;
    if (klen > sizeof block) { /* a longer key is hashed first, as RFC 2104 says */
        mig_sha256_init(&ctx);
        mig_sha256_update(&ctx, key, klen);
        mig_sha256_final(&ctx, block);
    } else
        memcpy(block, key, klen);
    for (int i = 0; i < 64; i++)
        pad[i] = block[i] ^ 0x36;
    mig_sha256_init(&ctx);
    mig_sha256_update(&ctx, pad, sizeof pad);
    mig_sha256_update(&ctx, "migrate_record", 14);
    for (int i = 0; i < 7; i++)
        mac_value(&ctx, values[i]);
    mac_value(&ctx, rows);
    mig_sha256_final(&ctx, inner);
    for (int i = 0; i < 64; i++)
        pad[i] = block[i] ^ 0x5c;
    mig_sha256_init(&ctx);
    mig_sha256_update(&ctx, pad, sizeof pad);
    mig_sha256_update(&ctx, inner, sizeof inner);
    mig_sha256_final(&ctx, outer);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", outer[i]);
}

/*
 * export.script_record: migrate_script records a migration through migrate_record, whose token
 * proves that migrate_script wrote these values: a role that may run the script cannot record
 * anything else with it.
 */
char *pg_engine_script_record(void *h, const char *const values[7], const char *guard)
{
    pg_engine *pe = h;
    char token[65];
    StringInfoData b;
    record_token(pe, values, token);
    initStringInfo(&b);
    appendStringInfo(&b, "SELECT %s(", pe->record_function);
    for (int i = 0; i < 7; i++)
        appendStringInfo(&b, "%s, ", values[i] ? quote_literal_cstr(values[i]) : "NULL");
    appendStringInfo(&b, "'%s')", token);
    if (guard) /* never recorded out of turn, whatever ran before */
        appendStringInfo(&b, " FROM (SELECT %s) AS migrate_guard", guard);
    appendStringInfoChar(&b, ';');
    char *statement = mig_strdup(b.data);
    pfree(b.data);
    return statement;
}

/* Refuse a record whose token migrate_script did not write for exactly these values. */
int pg_engine_check_token(const mig_engine *eng, const char *const values[7], const char *token,
                          mig_error *err)
{
    char expected[65];
    record_token(eng->handle, values, expected);
    int diff = token ? (int)strlen(token) ^ 64 : 1;
    for (int i = 0; token && i < 64 && token[i]; i++)
        diff |= token[i] ^ expected[i];
    if (diff == 0)
        return MIG_OK;
    mig_fail(err, MIG_PRIVILEGE,
             "migrate_record: the token does not match these values: only the statements "
             "migrate_script wrote can record a migration, and only while its history is as "
             "it was then");
    mig_error_set_hint(err, "apply migrations with migrate_apply, or run the output of a new "
                            "migrate_script call as it is");
    strcpy(err->sqlstate, "42501"); /* insufficient_privilege */
    return err->code;
}
