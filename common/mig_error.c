/*
 * The error every core function reports into: a code, the DBA's message with its detail, hint
 * and context (which migration, file and line), and whatever the engine said (SQLSTATE,
 * position, the object concerned). mig_fail replaces what was there, so the last failure is
 * the one reported; mig_error_render joins it all for engines with a single error text.
 */
#include "mig_error.h"

#include "mig_alloc.h"
#include "mig_buf.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

/* Start with no error recorded. */
void mig_error_init(mig_error *err)
{
    memset(err, 0, sizeof *err);
    err->offset = -1;
    err->position = -1;
}

/* Release what the error holds and reset it. */
void mig_error_clear(mig_error *err)
{
    mig_free(err->message);
    mig_free(err->detail);
    mig_free(err->hint);
    mig_free(err->context);
    mig_free(err->excerpt);
    mig_free(err->engine_context);
    mig_free(err->schema_name);
    mig_free(err->table_name);
    mig_free(err->column_name);
    mig_free(err->constraint_name);
    mig_free(err->datatype_name);
    mig_free(err->internal_query);
    mig_error_init(err);
}

/* Record code and a formatted message, replacing any earlier message. */
int mig_fail(mig_error *err, int code, const char *fmt, ...)
{
    mig_error_clear(err);
    va_list ap;
    va_start(ap, fmt);
    err->message = mig_vprintf(fmt, ap);
    va_end(ap);
    err->code = err->message ? code : MIG_NOMEM;
    return err->code;
}

/* Record that memory ran out. */
int mig_fail_nomem(mig_error *err)
{
    mig_error_clear(err);
    err->code = MIG_NOMEM;
    return MIG_NOMEM;
}

/* Classify errno as PostgreSQL's errcode_for_file_access does, so both engines agree. */
int mig_errno_code(int errnum)
{
    switch (errnum) {
    case EACCES:
    case EPERM:
    case EROFS:
        return MIG_PRIVILEGE;
    case EEXIST:
        return MIG_ERR_CONFLICT;
    case ENOTDIR:
    case EISDIR:
    case ELOOP:
        return MIG_ERR_ARGUMENT;
    case ENOMEM:
        return MIG_NOMEM;
    case ENOSPC:
    case EDQUOT:
    case EMFILE:
    case ENFILE:
    case EFBIG:
        return MIG_ERR_LIMIT;
    default: /* ENOENT, EIO and the rest: the file cannot be had */
        return MIG_ERR_NO_FILE;
    }
}

/* Take ownership of detail as the error's detail. */
void mig_error_set_detail(mig_error *err, char *detail)
{
    mig_free(err->detail);
    err->detail = detail;
}

/* Set where the error happened. */
void mig_error_set_context(mig_error *err, const char *fmt, ...)
{
    mig_free(err->context);
    va_list ap;
    va_start(ap, fmt);
    err->context = mig_vprintf(fmt, ap);
    va_end(ap);
}

/* Set the hint. */
void mig_error_set_hint(mig_error *err, const char *fmt, ...)
{
    mig_free(err->hint);
    va_list ap;
    va_start(ap, fmt);
    err->hint = mig_vprintf(fmt, ap);
    va_end(ap);
}

/* Move src into dst, leaving src empty. */
void mig_error_move(mig_error *dst, mig_error *src)
{
    mig_error_clear(dst);
    *dst = *src;
    mig_error_init(src);
}

/* One string for engines that carry a single error text. */
char *mig_error_render(const mig_error *err)
{
    if (err->code == MIG_NOMEM || !err->message)
        return mig_strdup("out of memory");
    mig_buf b = {0};
    if (err->context) {
        mig_buf_puts(&b, err->context);
        mig_buf_puts(&b, ": ");
    }
    mig_buf_puts(&b, err->message);
    if (err->detail && *err->detail) {
        mig_buf_puts(&b, "\n");
        mig_buf_puts(&b, err->detail);
    }
    if (err->hint && *err->hint) {
        mig_buf_puts(&b, "\nHINT: ");
        mig_buf_puts(&b, err->hint);
    }
    return mig_buf_take(&b);
}
