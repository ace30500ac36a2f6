/*
 * The source of migrations and its one loader, mig_source_load: the adapter says once per call
 * whether the call reads none (history alone), a folder, or the migrate_scripts table.
 *
 * A folder is opened once; its entries are listed in name order through that handle, then
 * classified (fstatat) and read (openat) relative to it, so no path is built but the one a
 * message or history shows. Each entry is classified by name (mig_name) and read into pieces
 * (an up or down half, or a file with sections); pieces are sorted by version and joined into
 * migrations, each with its checksums. migrate_scripts rows become the same pieces, so both
 * sources share the version rules, ordering, duplicate handling and errors. Every error names
 * the file.
 *
 * A script's text is read into a mig_text: its bytes checked and normalised in one pass, its
 * length and flags (no-transaction, blank) known from then on.
 *
 * A lazy load (MIG_LOAD_LAZY) holds one file at a time: each is read, checked and its up script
 * hashed, then its text is let go; the folder stays open, and mig_set_hold reads a migration
 * again when the call needs it, refusing a file whose checksum is no longer the one loaded.
 * The first MIG_LAZY_KEEP_BYTES of scripts are kept as read, so a small folder is read once.
 */
#include "mig_source.h"

#include "mig_alloc.h"
#include "mig_buf.h"
#include "mig_engine_hooks.h"
#include "mig_name.h"
#include "mig_sha256.h"
#include "mig_vec.h"
#include "mig_version.h"
#include "mig_script.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* One script file found in the folder, before up and down halves are joined. */
typedef struct piece {
    mig_name_kind kind; /* UP, DOWN or SECTIONED (a folder yields an UP and maybe a DOWN) */
    char *version;
    char *name;
    char *path;  /* relative to the folder */
    mig_text up; /* owned texts; ptr NULL when the piece has none (or let go: lazy) */
    mig_text down;
    char checksum[65]; /* lazy: the up text's, taken before it was let go */
    bool kept;         /* lazy: its texts were kept, within the set's MIG_LAZY_KEEP_BYTES */
} piece;

typedef struct piece_list {
    piece *items;
    size_t count, cap;
    const mig_engine *eng; /* lazy: whose quoting rules check a text before it is let go */
    bool lazy;
    size_t keep_left; /* lazy: bytes of script that may still be kept as read */
} piece_list;

static void piece_free(piece *p)
{
    mig_free(p->version);
    mig_free(p->name);
    mig_free(p->path);
    mig_free((char *)p->up.ptr);
    mig_free((char *)p->down.ptr);
}

/* Normalise in place: drop a UTF-8 BOM, read CRLF as LF. */
size_t mig_text_normalize(char *text, size_t len)
{
    size_t r = 0, w = 0;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        r = 3;
    for (; r < len; r++) {
        if (text[r] == '\r' && r + 1 < len && text[r + 1] == '\n')
            continue;
        text[w++] = text[r];
    }
    text[w] = '\0';
    return w;
}

/*
 * Read the file name of the folder dirfd as script text (checked and normalised in one pass,
 * *flags told whether it had CRLF); rel names it in errors. Links are followed, as a listed
 * link to a file is read like the file; what is opened is checked by fstat, so an entry swapped
 * between listing and reading for a folder, a pipe or a growing file is refused, never hung on.
 */
static int read_script(int dirfd, const char *name, const char *rel, char **out, size_t *outlen,
                       unsigned *flags, mig_error *err)
{
    /* non-blocking, so a FIFO is refused by fstat below instead of hanging the open */
    int fd = openat(dirfd, name, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return mig_fail(err, mig_errno_code(errno), "%s: cannot be read: %s", rel, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return mig_fail(err, MIG_ERR_ARGUMENT, "%s: is not a regular file", rel);
    }
    if ((unsigned long long)st.st_size > MIG_MAX_SCRIPT_BYTES) {
        close(fd);
        return mig_fail(err, MIG_ERR_LIMIT, "%s: is %lld bytes; scripts over %u MiB are refused",
                        rel, (long long)st.st_size, MIG_MAX_SCRIPT_BYTES >> 20);
    }
    size_t cap = (size_t)st.st_size, len = 0;
    char *text = mig_malloc(cap + 2); /* one byte to notice growth, one for the terminator */
    if (!text) {
        close(fd);
        return mig_fail_nomem(err);
    }
    int rc = MIG_OK;
    for (;;) {
        ssize_t n = read(fd, text + len, cap + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = mig_fail(err, mig_errno_code(errno), "%s: cannot be read: %s", rel,
                          strerror(errno));
            break;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > cap) {
            rc = mig_fail(err, MIG_ERR_STATE, "%s: changed while it was being read", rel);
            break;
        }
    }
    close(fd);
    if (rc == MIG_OK) /* quotes are checked by the engine's rules when the source is loaded */
        rc = mig_text_clean(text, &len, flags, rel, err);
    if (rc != MIG_OK) {
        mig_free(text);
        return rc;
    }
    *out = text;
    *outlen = len;
    return MIG_OK;
}

/*
 * A section of a file's text as a text of its own (the whole buffer is taken over when the
 * section is all of it; else copied). Flags: its no-transaction mark, blankness, CRLF.
 */
static int section_text(char **buf, size_t len, const mig_span *span, unsigned flags, mig_text *out,
                        mig_error *err)
{
    char *ptr;
    if (span->offset == 0 && span->len == len) {
        ptr = *buf;
        *buf = NULL;
    } else if (!(ptr = mig_strndup(*buf + span->offset, span->len))) {
        return mig_fail_nomem(err);
    }
    *out = mig_text_make(ptr, span->len, span->first_line);
    out->flags = flags | (span->no_transaction ? MIG_TEXT_NO_TRANSACTION : 0) |
                 (mig_script_is_blank(ptr, span->len) ? MIG_TEXT_BLANK : 0);
    return MIG_OK;
}

/* Split a file with sections (rel names it) into up and down texts; frees buf. */
static int split_sections(char *buf, size_t len, unsigned flags, const char *rel, mig_text *up,
                          mig_text *down, mig_error *err)
{
    mig_sections sec;
    int rc = mig_sections_parse(buf, len, rel, &sec, err);
    if (rc == MIG_OK && sec.down.present)
        rc = section_text(&buf, len, &sec.down, flags, down, err);
    if (rc == MIG_OK)
        rc = section_text(&buf, len, &sec.up, flags, up, err);
    mig_free(buf);
    return rc;
}

/*
 * Read the file name of the folder dirfd (rel names it) as the texts of kind: a file with
 * sections gives up and down, any other file the whole of up (or of down, for a down script).
 */
static int read_texts(int dirfd, const char *name, const char *rel, mig_name_kind kind,
                      mig_text *up, mig_text *down, mig_error *err)
{
    char *text = NULL;
    size_t len = 0;
    unsigned flags = 0;
    int rc = read_script(dirfd, name, rel, &text, &len, &flags, err);
    if (rc != MIG_OK)
        return rc;
    if (kind == MIG_NAME_SECTIONED)
        return split_sections(text, len, flags, rel, up, down, err);
    mig_text *t = kind == MIG_NAME_DOWN ? down : up;
    *t = mig_text_make(text, len, 1);
    t->flags = flags;
    mig_text_read_directives(t);
    return MIG_OK;
}

/*
 * Let go of a text that was checked, keeping its length, first line and flags; one that ends
 * inside a quote or comment is kept, for the loader to refuse in version order.
 */
static void release_text(const mig_engine *eng, mig_text *t)
{
    size_t at;
    if (!t->ptr || (eng && mig_engine_unclosed(eng, t->ptr, t->len, &at)))
        return;
    mig_free((char *)t->ptr);
    t->ptr = NULL;
    t->flags |= MIG_TEXT_RELEASED;
}

/* Add a piece, taking ownership of its strings. */
static int pieces_push(piece_list *list, piece *p, mig_error *err)
{
    if (mig_grow((void **)&list->items, &list->cap, list->count + 1, sizeof *list->items) !=
        MIG_OK) {
        piece_free(p);
        return mig_fail_nomem(err);
    }
    list->items[list->count++] = *p;
    return MIG_OK;
}

/*
 * Read the file name of the folder dirfd into a piece of the given kind; rel (taken over) is
 * the file relative to the migrations folder, as history and messages name it.
 */
static int read_piece(int dirfd, const char *name, char *rel, mig_name_kind kind,
                      const char *version, const char *mig_name, piece_list *list, mig_error *err)
{
    piece p = {.kind = kind, .path = rel};
    p.version = mig_strdup(version);
    p.name = mig_strdup(mig_name);
    if (!p.path || !p.version || !p.name) {
        piece_free(&p);
        return mig_fail_nomem(err);
    }
    int rc = read_texts(dirfd, name, rel, kind, &p.up, &p.down, err);
    if (rc != MIG_OK) {
        piece_free(&p);
        return rc;
    }
    size_t size = p.up.len + p.down.len;
    if (list->lazy && size <= list->keep_left) {
        list->keep_left -= size;
        p.kept = true;
    } else if (list->lazy) { /* the down script is hashed only if a call needs it */
        list->keep_left = 0; /* the first bytes read are kept, no later ones */
        if (p.up.ptr)
            mig_checksum(p.up.ptr, p.up.len, p.checksum);
        release_text(list->eng, &p.up);
        release_text(list->eng, &p.down);
    }
    return pieces_push(list, &p, err);
}

/* A file of a migration folder as messages and history name it: the one path built here. */
static char *entry_path(const char *entry, const char *file)
{
    return mig_printf("%s/%s", entry, file);
}

/* Read a <version>_<name>/ folder of the folder dirfd: up.sql is required, down.sql optional. */
static int read_folder_migration(int dirfd, const char *entry, const mig_name_info *info,
                                 piece_list *list, mig_error *err)
{
    const char *halves[2] = {"up.sql", "down.sql"};
    int sub = openat(dirfd, entry, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = MIG_OK;
    for (int i = 0; rc == MIG_OK && i < 2; i++) {
        struct stat st;
        bool found = sub >= 0 && fstatat(sub, halves[i], &st, 0) == 0;
        if (!found && i == 0)
            rc = mig_fail(err, MIG_ERR_NO_FILE, "%s/: a migration folder needs an up.sql", entry);
        else if (found)
            rc = read_piece(sub, halves[i], entry_path(entry, halves[i]),
                            i == 0 ? MIG_NAME_UP : MIG_NAME_DOWN, info->version, info->name, list,
                            err);
    }
    if (sub >= 0)
        close(sub);
    return rc;
}

/* One name of a folder, with what readdir said it is (DT_UNKNOWN when it did not say). */
typedef struct folder_entry {
    char *name;
    unsigned char type;
} folder_entry;

static int compare_entries(const void *a, const void *b)
{
    return strcmp(((const folder_entry *)a)->name, ((const folder_entry *)b)->name);
}

static void entries_free(folder_entry *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        mig_free(list[i].name);
    mig_free(list);
}

/* Order pieces by version, then up before down, then by path so errors are stable. */
static int compare_pieces(const void *a, const void *b)
{
    const piece *x = a, *y = b;
    int c = mig_version_compare(x->version, y->version);
    if (c)
        return c;
    if ((x->kind == MIG_NAME_DOWN) != (y->kind == MIG_NAME_DOWN))
        return x->kind == MIG_NAME_DOWN ? 1 : -1;
    return strcmp(x->path, y->path);
}

/* The folder as messages name it, with the directory a relative path was resolved against. */
char *mig_source_folder_label(const char *dir)
{
    if (dir[0] == '/')
        return mig_printf("\"%s\"", dir);
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd))
        return mig_printf("\"%s\" (a relative path)", dir);
    return mig_printf("\"%s\" (relative to the working directory \"%s\")", dir, cwd);
}

/* Fail naming the folder (with what a relative path meant) and why it cannot be read. */
static int folder_error(const char *dir, int code, const char *why, mig_error *err)
{
    char *where = mig_source_folder_label(dir);
    int rc = mig_fail(err, code, "migrations folder %s %s", where ? where : dir, why);
    mig_free(where);
    return rc;
}

/* Fail for a folder that open refused with errno e. */
static int open_folder_error(const char *dir, int e, mig_error *err)
{
    struct stat st;
    if (e == ENOENT)
        return folder_error(dir, MIG_ERR_NO_FILE, "does not exist", err);
    if (e == ENOTDIR && stat(dir, &st) == 0) /* the path is there, but not a folder */
        return folder_error(dir, MIG_ERR_ARGUMENT, "is not a folder", err);
    if (e == ENOTDIR)
        e = errno;
    return mig_fail(err, mig_errno_code(e), "migrations folder \"%s\" cannot be opened: %s", dir,
                    strerror(e));
}

/*
 * Open the folder once and list its entries, sorted by name; *d stays open (the caller closes
 * it) so every file is then opened relative to it, never by a path built again.
 */
static int list_entries(const char *dir, DIR **d, folder_entry **entries, size_t *count,
                        mig_error *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return open_folder_error(dir, errno, err);
    if (!(*d = fdopendir(fd))) {
        int e = errno;
        close(fd);
        return mig_fail(err, mig_errno_code(e), "migrations folder \"%s\" cannot be opened: %s",
                        dir, strerror(e));
    }
    size_t n = 0, cap = 0;
    folder_entry *list = NULL;
    struct dirent *e;
    int rc = MIG_OK;
    while ((e = readdir(*d)) != NULL) {
        if (e->d_name[0] == '.')
            continue; /* ., .., .gitkeep, editors' lock and swap files, hidden folders */
        if (mig_grow((void **)&list, &cap, n + 1, sizeof *list) != MIG_OK) {
            rc = mig_fail_nomem(err);
            break;
        }
        if (!(list[n].name = mig_strdup(e->d_name))) {
            rc = mig_fail_nomem(err);
            break;
        }
        list[n++].type = e->d_type;
    }
    if (rc != MIG_OK) {
        entries_free(list, n);
        return rc;
    }
    if (n)
        qsort(list, n, sizeof *list, compare_entries);
    *entries = list;
    *count = n;
    return MIG_OK;
}

/* True when name ends with .sql, in any case. */
static bool sql_name(const char *name)
{
    size_t len = strlen(name);
    return len >= 4 && strcasecmp(name + len - 4, ".sql") == 0;
}

/* What an entry of the folder is to the reader. */
typedef enum entry_class {
    ENTRY_SCRIPT,     /* named .sql and not a folder: read as a script */
    ENTRY_FOLDER,     /* a folder: a <version>_<name>/ migration, or ignored by its name */
    ENTRY_IGNORED,    /* cannot be a migration */
    ENTRY_UNREADABLE, /* err says why */
} entry_class;

/*
 * Classify an entry of the folder dirfd. Only what could be a migration is looked at: a plain
 * file not named .sql is ignored unseen, and an entry that vanished or dangles while the folder
 * is read (an editor's or uploader's temporary file) is ignored unless it is named like a
 * migration.
 */
static entry_class classify_entry(int dirfd, const folder_entry *e, mig_error *err)
{
    bool script = sql_name(e->name);
    if (e->type == DT_REG)
        return script ? ENTRY_SCRIPT : ENTRY_IGNORED;
    if (e->type == DT_DIR && !script)
        return ENTRY_FOLDER;
    /* readdir did not say, or said a link or a folder named .sql: ask stat */
    struct stat st;
    int failed = fstatat(dirfd, e->name, &st, 0) != 0 ? errno : 0;
    if (!failed && S_ISDIR(st.st_mode))
        return ENTRY_FOLDER;
    if (!failed)
        return script ? ENTRY_SCRIPT : ENTRY_IGNORED;
    /* a folder named <version>_<name> is a migration too */
    bool could_be = script || mig_version_prefix(e->name, strlen(e->name), NULL) > 0;
    if (!could_be && (failed == ENOENT || failed == ELOOP))
        return ENTRY_IGNORED;
    if (failed == ELOOP)
        mig_fail(err, MIG_ERR_ARGUMENT, "%s: is a symbolic link loop", e->name);
    else if (failed == ENOENT)
        mig_fail(err, MIG_ERR_NO_FILE,
                 "%s: is a dangling symbolic link, or was removed while the folder was read",
                 e->name);
    else
        mig_fail(err, mig_errno_code(failed), "%s: cannot be read: %s", e->name, strerror(failed));
    return ENTRY_UNREADABLE;
}

/* Classify and read one entry of the folder dirfd into pieces. */
static int collect_entry(int dirfd, const folder_entry *entry, piece_list *list, mig_error *err)
{
    const char *name = entry->name;
    entry_class class = classify_entry(dirfd, entry, err);
    if (class == ENTRY_UNREADABLE)
        return err->code;
    if (class == ENTRY_IGNORED)
        return MIG_OK;
    mig_name_info info;
    int rc = mig_name_parse(name, class == ENTRY_FOLDER, &info, err);
    if (rc == MIG_OK && info.kind != MIG_NAME_IGNORED && !mig_text_is_utf8(name, strlen(name))) {
        char *shown = mig_escape_utf8(name);
        rc = mig_fail(err, MIG_ERR_ARGUMENT,
                      "%s: the name is not valid UTF-8; rename the file (history keeps "
                      "names as text)",
                      shown ? shown : "?");
        mig_free(shown);
    }
    if (rc == MIG_OK && info.kind == MIG_NAME_FOLDER)
        rc = read_folder_migration(dirfd, name, &info, list, err);
    else if (rc == MIG_OK && info.kind != MIG_NAME_IGNORED)
        rc = read_piece(dirfd, name, mig_strdup(name), info.kind, info.version, info.name, list,
                        err);
    mig_name_info_free(&info);
    return rc;
}

/*
 * Open the folder once, then classify and read every entry relative to it; *keep (lazy, may be
 * NULL) receives the folder's handle, for reading scripts again.
 */
static int collect_pieces(const char *dir, piece_list *list, int *keep, mig_error *err)
{
    DIR *d = NULL;
    folder_entry *entries = NULL;
    size_t count = 0;
    int rc = list_entries(dir, &d, &entries, &count, err);
    for (size_t i = 0; rc == MIG_OK && i < count; i++)
        rc = collect_entry(dirfd(d), &entries[i], list, err);
    entries_free(entries, count);
    if (rc == MIG_OK && keep && (*keep = fcntl(dirfd(d), F_DUPFD_CLOEXEC, 0)) < 0)
        rc = mig_fail(err, mig_errno_code(errno),
                      "migrations folder \"%s\" cannot be kept open: %s", dir, strerror(errno));
    if (d)
        closedir(d);
    return rc;
}

/* Fill m's checksums from its texts. */
static void checksum_migration(mig_migration *m)
{
    mig_checksum(m->up.ptr, m->up.len, m->checksum);
    if (m->down.ptr)
        mig_checksum(m->down.ptr, m->down.len, m->down_checksum);
    else
        m->down_checksum[0] = '\0';
}

/* Move an up piece (and the down piece paired with it) into migration m. */
static int take_migration(mig_migration *m, piece *up, piece *down, bool lazy, mig_error *err)
{
    m->version = up->version, up->version = NULL;
    m->name = up->name, up->name = NULL;
    m->script = up->path, up->path = NULL;
    m->up = up->up, up->up.ptr = NULL;
    m->sectioned = up->kind == MIG_NAME_SECTIONED;
    if (down) {
        m->down_script = down->path, down->path = NULL;
        m->down = down->down, down->down.ptr = NULL;
    } else if (mig_text_present(&up->down)) { /* a file with sections holds its own down script */
        m->down_script = mig_strdup(m->script);
        m->down = up->down, up->down.ptr = NULL;
        if (!m->down_script)
            return mig_fail_nomem(err);
    }
    /* a lazy set keeps a migration as read only when all its texts were kept */
    m->kept = lazy && up->kept && (!down || down->kept);
    if (lazy && !m->kept) {
        if (up->kept) /* hashed now, before it is let go */
            mig_checksum(m->up.ptr, m->up.len, up->checksum);
        release_text(NULL, &m->up);
        release_text(NULL, &m->down);
    }
    if (!lazy)
        checksum_migration(m);
    else if (m->kept) /* the down script is hashed when held: status never needs it */
        mig_checksum(m->up.ptr, m->up.len, m->checksum), m->down_checksum[0] = '\0';
    else /* hashed before the text was let go */
        memcpy(m->checksum, up->checksum, sizeof m->checksum), m->down_checksum[0] = '\0';
    return MIG_OK;
}

/*
 * Join sorted pieces into migrations, one run of equal versions at a time: the first up piece
 * is the migration, a .down.sql of the same name its down half, and anything else in the run
 * a duplicate. With dups, duplicates are described there and skipped instead of failing.
 */
static int join_pieces(piece_list *list, mig_set *out, mig_buf *dups, mig_error *err)
{
    out->items = mig_calloc(list->count ? list->count : 1, sizeof *out->items);
    if (!out->items)
        return mig_fail_nomem(err);
    for (size_t i = 0; i < list->count;) {
        size_t end = i + 1;
        while (end < list->count &&
               mig_version_compare(list->items[i].version, list->items[end].version) == 0)
            end++;
        piece *up = list->items[i].kind != MIG_NAME_DOWN ? &list->items[i] : NULL;
        if (!up)
            return mig_fail(err, MIG_ERR_NO_FILE, "%s: down script of version %s has no up script",
                            list->items[i].path, list->items[i].version);
        piece *down = NULL;
        for (size_t k = i + 1; k < end && up->kind == MIG_NAME_UP; k++)
            if (list->items[k].kind == MIG_NAME_DOWN && !down &&
                strcmp(list->items[k].name, up->name) == 0)
                down = &list->items[k];
        for (size_t k = i + 1; k < end; k++) {
            piece *p = &list->items[k];
            if (p == down)
                continue;
            if (!dups)
                return mig_fail(err, MIG_ERR_CONFLICT, "duplicate version %s: %s and %s",
                                up->version, up->path, p->path);
            mig_buf_printf(dups, "%sduplicate version %s: %s and %s", dups->len ? "\n" : "",
                           up->version, up->path, p->path);
        }
        int rc = take_migration(&out->items[out->count++], up, down, list->lazy, err);
        if (rc != MIG_OK)
            return rc;
        i = end;
    }
    return MIG_OK;
}

/*
 * Order and join what was collected (when rc says collecting went well), then release the
 * pieces; on failure out is left empty.
 */
static int finish_pieces(piece_list *list, int rc, mig_set *out, mig_buf *dups, mig_error *err)
{
    if (rc == MIG_OK) {
        if (list->count)
            qsort(list->items, list->count, sizeof *list->items, compare_pieces);
        rc = join_pieces(list, out, dups, err);
    }
    for (size_t i = 0; i < list->count; i++)
        piece_free(&list->items[i]);
    mig_free(list->items);
    if (rc != MIG_OK)
        mig_set_free(out);
    return rc;
}

/*
 * Read and order the migrations of dir; dups (may be NULL) collects duplicate versions. lazy
 * (with eng): hold no text, keep the folder open in out.
 */
static int read_folder(const mig_engine *eng, bool lazy, const char *dir, mig_set *out,
                       mig_buf *dups, mig_error *err)
{
    if (!dir || !*dir)
        return mig_fail(err, MIG_ERR_NULL, "no migrations folder given");
    piece_list list = {.eng = eng, .lazy = lazy, .keep_left = lazy ? MIG_LAZY_KEEP_BYTES : 0};
    int keep = -1;
    int rc = collect_pieces(dir, &list, lazy ? &keep : NULL, err);
    rc = finish_pieces(&list, rc, out, dups, err);
    if (rc == MIG_OK && lazy) {
        out->lazy = true;
        out->dirfd = keep;
    } else if (keep >= 0) {
        close(keep);
    }
    return rc;
}

/* One migrate_scripts row, its strings owned until a piece takes them. */
typedef struct source_row {
    char *version, *name, *up_sql, *down_sql;
} source_row;

/* A stored script as script text, in place: checked as a file would be, CRLF read as LF. */
static int stored_text(char **sql, const char *label, mig_text *out, mig_error *err)
{
    size_t len = strlen(*sql); /* a database value comes without its length */
    unsigned flags = 0;
    if (len > MIG_MAX_SCRIPT_BYTES)
        return mig_fail(err, MIG_ERR_LIMIT, "%s: is %zu bytes; scripts over %u MiB are refused",
                        label, len, MIG_MAX_SCRIPT_BYTES / (1024u * 1024u));
    int rc = mig_text_clean(*sql, &len, &flags, label, err);
    if (rc != MIG_OK)
        return rc;
    *out = mig_text_make(*sql, len, 1);
    out->flags = flags;
    *sql = NULL;
    return MIG_OK;
}

/* One migrate_scripts row as a piece holding its own down script, like a file with sections. */
static int row_piece(source_row *row, piece_list *list, mig_error *err)
{
    if (!row->version || !mig_version_valid(row->version))
        return mig_fail(err, MIG_ERR_ARGUMENT,
                        "migrate_scripts: version \"%s\" is not a version (expected digits "
                        "joined by '.', '_' or '-', such as 20240101 or 2.15.0)",
                        row->version ? row->version : "(null)");
    piece p = {.kind = MIG_NAME_SECTIONED};
    p.path = mig_printf("migrate_scripts:%s", row->version);
    size_t digits;
    size_t vlen = mig_version_prefix(row->version, strlen(row->version), &digits);
    p.version = mig_strndup(row->version + digits, vlen - digits); /* without the leading v */
    p.name = mig_strdup(row->name ? row->name : "");
    if (!p.path || !p.version || !p.name) {
        piece_free(&p);
        return mig_fail_nomem(err);
    }
    int rc = MIG_OK;
    if (!row->up_sql)
        rc = mig_fail(err, MIG_ERR_ARGUMENT, "%s: up_sql is NULL", p.path);
    if (rc == MIG_OK)
        rc = stored_text(&row->up_sql, p.path, &p.up, err);
    if (rc == MIG_OK && row->down_sql)
        rc = stored_text(&row->down_sql, p.path, &p.down, err);
    if (rc != MIG_OK) {
        piece_free(&p);
        return rc;
    }
    mig_text_read_directives(&p.up);
    p.down.flags |= p.down.ptr && mig_script_is_blank(p.down.ptr, p.down.len) ? MIG_TEXT_BLANK : 0;
    return pieces_push(list, &p, err);
}

/* migrate_scripts rows as the engine returned them, before they become a set. */
typedef struct table_rows {
    source_row *rows;
    size_t count, cap;
} table_rows;

/* Copy one migrate_scripts row. */
static int on_script_row(void *ctx, int ncols, const char *const *v)
{
    table_rows *st = ctx;
    if (ncols != 4)
        return MIG_ERR_STATE;
    if (mig_grow((void **)&st->rows, &st->cap, st->count + 1, sizeof *st->rows) != MIG_OK)
        return MIG_NOMEM;
    source_row *r = &st->rows[st->count++];
    memset(r, 0, sizeof *r);
    char **fields[4] = {&r->version, &r->name, &r->up_sql, &r->down_sql};
    for (int i = 0; i < 4; i++)
        if (v[i] && !(*fields[i] = mig_strdup(v[i])))
            return MIG_NOMEM;
    return MIG_OK;
}

/* Release the copied rows (what pieces did not take). */
static void table_rows_free(table_rows *st)
{
    for (size_t i = 0; i < st->count; i++) {
        mig_free(st->rows[i].version);
        mig_free(st->rows[i].name);
        mig_free(st->rows[i].up_sql);
        mig_free(st->rows[i].down_sql);
    }
    mig_free(st->rows);
}

/*
 * Read the migrations held in migrate_scripts, with the same version rules, ordering,
 * checksums and duplicate handling as a folder. Errors name the row as migrate_scripts:<version>.
 */
static int read_table(const mig_engine *eng, mig_set *out, mig_buf *dups, mig_error *err)
{
    if (!eng || !eng->scripts_table)
        return mig_fail(err, MIG_ERR_NULL, "no migrations folder given");
    int rc = mig_engine_scripts_prepare(eng, err);
    if (rc != MIG_OK)
        return rc;
    char *sql = mig_printf("SELECT version, name, up_sql, down_sql FROM %s", eng->scripts_table);
    if (!sql)
        return mig_fail_nomem(err);
    table_rows st = {0};
    rc = eng->query(eng->handle, sql, 0, NULL, on_script_row, &st, err);
    mig_free(sql);
    if (rc == MIG_NOMEM)
        rc = mig_fail_nomem(err);
    piece_list list = {0};
    for (size_t i = 0; rc == MIG_OK && i < st.count; i++)
        rc = row_piece(&st.rows[i], &list, err);
    rc = finish_pieces(&list, rc, out, dups, err);
    table_rows_free(&st);
    return rc;
}

/* The first script of the set that ends inside a quote or comment, by the engine's rules. */
static int check_closed(const mig_engine *eng, const mig_set *set, mig_error *err)
{
    for (size_t i = 0; i < set->count; i++) {
        const mig_migration *m = &set->items[i];
        const mig_text *texts[2] = {&m->up, &m->down};
        const char *files[2] = {m->script, m->down_script ? m->down_script : m->script};
        for (int k = 0; k < 2; k++) {
            const mig_text *t = texts[k];
            size_t at;
            if (!t->ptr)
                continue;
            const char *what = mig_engine_unclosed(eng, t->ptr, t->len, &at);
            if (what)
                return mig_script_unclosed_error(t->ptr, t->len, files[k], t->first_line, what, at,
                                                 err);
        }
    }
    return MIG_OK;
}

/*
 * Refuse a source that holds no migration: a mistyped path must not pass as "nothing to do",
 * and a NULL meant as a folder must not make every applied migration look missing.
 */
static int refuse_empty(const mig_source *src, mig_error *err)
{
    if (src->kind == MIG_SOURCE_TABLE) {
        mig_fail(err, MIG_ERR_NOT_FOUND,
                 "no migrations found in migrate_scripts; nothing was changed");
        mig_error_set_hint(err, "a NULL folder means the migrate_scripts table: give the "
                                "migrations folder, or insert the migrations into migrate_scripts");
        return err->code;
    }
    char *where = mig_source_folder_label(src->folder);
    mig_fail(err, MIG_ERR_NO_FILE, "no migration files found in %s; nothing was changed",
             where ? where : src->folder);
    mig_free(where);
    mig_error_set_hint(err, "check the folder; migration files are named like "
                            "20240101120000_create_users.sql, V1__create_users.sql or "
                            "1_create_users.up.sql");
    return err->code;
}

/* Read the source the adapter chose, check it and order it. */
int mig_source_load(const mig_engine *eng, const mig_source *src, unsigned flags, mig_set *out,
                    char **dups, mig_error *err)
{
    memset(out, 0, sizeof *out);
    if (dups)
        *dups = NULL;
    if (src->kind == MIG_SOURCE_NONE)
        return MIG_OK;
    mig_buf found = {0};
    mig_buf *list = dups ? &found : NULL;
    bool lazy = (flags & MIG_LOAD_LAZY) && eng;
    int rc = src->kind == MIG_SOURCE_TABLE ? read_table(eng, out, list, err)
                                           : read_folder(eng, lazy, src->folder, out, list, err);
    if (rc == MIG_OK && eng)
        rc = check_closed(eng, out, err);
    if (rc == MIG_OK && (flags & MIG_LOAD_REQUIRED) && out->count == 0)
        rc = refuse_empty(src, err);
    if (rc == MIG_OK && found.len && !(*dups = mig_buf_take(&found)))
        rc = mig_fail_nomem(err);
    mig_buf_free(&found);
    if (rc != MIG_OK)
        mig_set_free(out);
    return rc;
}

/* Release a set and everything it holds. */
void mig_set_free(mig_set *set)
{
    for (size_t i = 0; i < set->count; i++) {
        mig_migration *m = &set->items[i];
        mig_free(m->version);
        mig_free(m->name);
        mig_free(m->script);
        mig_free(m->down_script);
        mig_free((char *)m->up.ptr);
        mig_free((char *)m->down.ptr);
    }
    mig_free(set->items);
    if (set->lazy)
        close(set->dirfd);
    memset(set, 0, sizeof *set);
}

/* Fail for a file whose text is not the one the call was planned with. */
static int changed_error(const char *file, mig_error *err)
{
    mig_fail(err, MIG_ERR_STATE,
             "%s: the file changed while the call was running (its checksum is no longer the "
             "one it had when the call read it); nothing of this call was kept",
             file);
    mig_error_set_hint(err, "run the call again once the file is as it should be");
    return err->code;
}

/* Read m's files again through the set's folder handle, into up and down. */
static int reread(const mig_set *set, const mig_migration *m, mig_text *up, mig_text *down,
                  mig_error *err)
{
    int rc = read_texts(set->dirfd, m->script, m->script,
                        m->sectioned ? MIG_NAME_SECTIONED : MIG_NAME_UP, up, down, err);
    if (rc == MIG_OK && m->down_script && !m->sectioned)
        rc = read_texts(set->dirfd, m->down_script, m->down_script, MIG_NAME_DOWN, up, down, err);
    return rc;
}

/* Hold m's texts: read again, checked against the checksums the set was loaded with. */
int mig_set_hold(const mig_set *set, mig_migration *m, mig_error *err)
{
    if (set->lazy && m->kept && m->down.ptr && !m->down_checksum[0])
        mig_checksum(m->down.ptr, m->down.len, m->down_checksum);
    if (!set->lazy || m->up.ptr)
        return MIG_OK;
    mig_text up = {0}, down = {0};
    char sum[65];
    int rc = reread(set, m, &up, &down, err);
    if (rc == MIG_OK) {
        mig_checksum(up.ptr, up.len, sum);
        if (strcmp(sum, m->checksum) != 0 || !mig_text_present(&m->down) != !down.ptr)
            rc = changed_error(m->script, err);
    }
    if (rc == MIG_OK && down.ptr) {
        mig_checksum(down.ptr, down.len, sum);
        if (!m->down_checksum[0])
            memcpy(m->down_checksum, sum, sizeof sum);
        else if (strcmp(sum, m->down_checksum) != 0)
            rc = changed_error(m->down_script, err);
    }
    if (rc != MIG_OK) {
        mig_free((char *)up.ptr);
        mig_free((char *)down.ptr);
        return rc;
    }
    m->up = up;
    m->down = down;
    return MIG_OK;
}

/* Let go of m's texts, keeping what is known of them. */
void mig_set_release(const mig_set *set, mig_migration *m)
{
    if (!set->lazy || m->kept)
        return;
    mig_text *texts[2] = {&m->up, &m->down};
    for (int i = 0; i < 2; i++) {
        if (!texts[i]->ptr)
            continue;
        mig_free((char *)texts[i]->ptr);
        texts[i]->ptr = NULL;
        texts[i]->flags |= MIG_TEXT_RELEASED;
    }
}
