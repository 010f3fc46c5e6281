/* data/npz.c: NumPy's .npz archives (np.savez, np.savez_compressed) as
 * datasets. An .npz is a zip archive holding one .npy file per array. The
 * reader finds the zip's central directory from the end of the file (zip64
 * records included: NumPy writes every entry with zip64 local headers),
 * reads the entries "x.npy" and "y.npy", stored or deflated (zlib, raw
 * deflate), checks each one's CRC-32, parses each .npy header strictly
 * (a Python dict literal with exactly 'descr', 'fortran_order' and 'shape')
 * and converts x to float32 and y to int32 (data_dataset_take checks the
 * values). Every size the archive or a header states is checked against
 * the file's length before anything is allocated for it; every message
 * names the file and the array. The file must be a regular file: a zip is
 * read from its end. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <zlib.h>

#include "data/dataset.h"
#include "data/file.h"
#include "engine/engine.h"

/* zip's records (PKWARE's APPNOTE.TXT, sections 4.3.7 to 4.3.16). */
#define LOCAL_SIGNATURE 0x04034b50u
#define CENTRAL_SIGNATURE 0x02014b50u
#define END_SIGNATURE 0x06054b50u
#define ZIP64_END_SIGNATURE 0x06064b50u
#define ZIP64_LOCATOR_SIGNATURE 0x07064b50u
#define LOCAL_SIZE 30
#define CENTRAL_SIZE 46
#define END_SIZE 22
#define ZIP64_LOCATOR_SIZE 20
#define ZIP64_END_SIZE 56
#define MAX_COMMENT 65535
#define ZIP64_EXTRA_ID 0x0001
#define METHOD_STORED 0
#define METHOD_DEFLATE 8
/* Deflate expands at most 1032:1 (zlib's technical details), so an entry
 * claiming more than that many times its compressed bytes is refused before
 * its buffer is allocated. */
#define DEFLATE_MAX_RATIO 1032
/* The inflated buffer grows by chunks as bytes arrive, so an entry whose
 * stream ends early costs what it held, not what its size claimed. */
#define CHUNK ((size_t)16 << 20)
#define MAX_RANK 8

typedef struct npz_entry {
    bool found;
    uint16_t flags, method;
    uint32_t crc;
    uint64_t compressed, size, offset; /* offset: of the local header */
} npz_entry;

typedef struct npz_archive {
    clg_context *ctx;
    const char *path;
    data_file file;
    uint64_t directory_start; /* every entry's data lies before it */
    npz_entry x, y;
    char names[256]; /* the archive's arrays, for a missing one's message */
} npz_archive;

/* One parsed .npy file: its dtype, shape and data inside the entry. */
typedef struct npy_array {
    char byteorder, kind; /* '<' or '|'; 'f', 'i', 'u', ... */
    int itemsize;
    char descr[32];
    int rank;
    int64_t shape[MAX_RANK];
    uint64_t count; /* elements */
    const unsigned char *data;
} npy_array;

static uint16_t get16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
    return get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* Reads n bytes at `offset`; false with the context error set, naming
 * `what`, when the file does not hold them. */
static bool read_at(npz_archive *a, uint64_t offset, void *buf, size_t n, const char *what)
{
    if (offset > a->file.size || n > a->file.size - offset) {
        eng_fail(a->ctx, CLG_STATUS_FORMAT,
                 "%s: truncated archive: the %s (bytes %llu to %llu) lies past the end of the "
                 "%llu-byte file",
                 a->path, what, (unsigned long long)offset,
                 (unsigned long long)offset + (unsigned long long)n,
                 (unsigned long long)a->file.size);
        return false;
    }
    if (fseeko(a->file.f, (off_t)offset, SEEK_SET) != 0) {
        eng_fail(a->ctx, CLG_STATUS_IO, "%s: cannot seek to the %s: %s", a->path, what,
                 strerror(errno));
        return false;
    }
    a->file.offset = offset;
    if (data_file_read(&a->file, buf, n) != n) {
        eng_fail(a->ctx, CLG_STATUS_IO, "%s: read error in the %s: %s", a->path, what,
                 ferror(a->file.f) ? strerror(errno) : "the file shrank while it was read");
        return false;
    }
    return true;
}

/* The message for a file that has no zip end record: a lone .npy is the
 * likeliest mistake, so it is named. */
static void not_an_archive(npz_archive *a)
{
    unsigned char magic[6] = {0};
    bool npy = a->file.size >= 6 && fseeko(a->file.f, 0, SEEK_SET) == 0 &&
               fread(magic, 1, 6, a->file.f) == 6 && memcmp(magic, "\x93NUMPY", 6) == 0;
    if (npy)
        eng_fail(a->ctx, CLG_STATUS_FORMAT,
                 "%s: a .npy file (one array), not an .npz archive: save the inputs and the "
                 "labels together with np.savez(path, x=x, y=y)",
                 a->path);
    else
        eng_fail(a->ctx, CLG_STATUS_FORMAT,
                 "%s: not an .npz archive (no zip end-of-directory record in its last %llu "
                 "bytes); write one with np.savez(path, x=x, y=y)",
                 a->path, (unsigned long long)a->file.size);
}

/* Records an entry of the central directory whose name is "x.npy" or
 * "y.npy"; the other names are kept for messages only. */
static bool note_entry(npz_archive *a, const char *name, size_t length, const npz_entry *e)
{
    size_t used = strlen(a->names);
    int shown = length > 40 ? 40 : (int)length;
    if (used + (size_t)shown + 8 < sizeof a->names)
        snprintf(a->names + used, sizeof a->names - used, "%s'%.*s'", used ? ", " : "", shown,
                 name);
    npz_entry *slot = length == 5 && memcmp(name, "x.npy", 5) == 0   ? &a->x
                      : length == 5 && memcmp(name, "y.npy", 5) == 0 ? &a->y
                                                                     : NULL;
    if (!slot)
        return true;
    if (slot->found) {
        eng_fail(a->ctx, CLG_STATUS_FORMAT, "%s: two entries named %.5s: a damaged archive",
                 a->path, name);
        return false;
    }
    *slot = *e;
    slot->found = true;
    return true;
}

/* The central directory: where it is (from the end record, or the zip64 end
 * record when the end record says 0xffff...), then each entry. */
static bool read_directory(npz_archive *a)
{
    uint64_t size = a->file.size;
    if (size < END_SIZE) {
        not_an_archive(a);
        return false;
    }
    size_t tail = size < END_SIZE + MAX_COMMENT ? (size_t)size : END_SIZE + MAX_COMMENT;
    unsigned char *buf = malloc(tail);
    unsigned char *directory = NULL;
    bool ok = false;
    if (!buf) {
        eng_fail(a->ctx, CLG_STATUS_OUT_OF_MEMORY, "%s: out of host memory", a->path);
        goto done;
    }
    if (!read_at(a, size - tail, buf, tail, "zip end record"))
        goto done;
    /* The end record is the last thing in the file but its comment, whose
     * length it states: the first match from the end that says so. */
    size_t pos = tail - END_SIZE + 1;
    bool found = false;
    while (!found && pos-- > 0)
        found = get32(buf + pos) == END_SIGNATURE && pos + END_SIZE + get16(buf + pos + 20) == tail;
    if (!found) {
        not_an_archive(a);
        goto done;
    }
    const unsigned char *end = buf + pos;
    uint64_t end_offset = size - tail + pos;
    uint64_t entries = get16(end + 10), entries_here = get16(end + 8);
    uint64_t directory_size = get32(end + 12), directory_start = get32(end + 16);
    uint32_t disk = get16(end + 4), directory_disk = get16(end + 6);
    uint64_t directory_end = end_offset; /* the zip64 end record, if any, comes between */
    if (entries == 0xffff || directory_size == 0xffffffff || directory_start == 0xffffffff) {
        unsigned char locator[ZIP64_LOCATOR_SIZE], end64[ZIP64_END_SIZE];
        bool room = end_offset >= ZIP64_LOCATOR_SIZE;
        if (room && !read_at(a, end_offset - ZIP64_LOCATOR_SIZE, locator, sizeof locator,
                             "zip64 end locator"))
            goto done;
        if (!room || get32(locator) != ZIP64_LOCATOR_SIGNATURE) {
            eng_fail(a->ctx, CLG_STATUS_FORMAT,
                     "%s: damaged archive: its end record defers to a zip64 record, but there "
                     "is no zip64 locator before it",
                     a->path);
            goto done;
        }
        /* the zip64 end record lies before its locator */
        uint64_t end64_offset = get64(locator + 8);
        room = end64_offset <= end_offset - ZIP64_LOCATOR_SIZE &&
               end_offset - ZIP64_LOCATOR_SIZE - end64_offset >= ZIP64_END_SIZE;
        if (room && !read_at(a, end64_offset, end64, sizeof end64, "zip64 end record"))
            goto done;
        if (!room || get32(end64) != ZIP64_END_SIGNATURE) {
            eng_fail(a->ctx, CLG_STATUS_FORMAT,
                     "%s: damaged archive: no zip64 end record at byte %llu, where its "
                     "locator points",
                     a->path, (unsigned long long)end64_offset);
            goto done;
        }
        disk = get32(end64 + 16);
        directory_disk = get32(end64 + 20);
        entries_here = get64(end64 + 24);
        entries = get64(end64 + 32);
        directory_size = get64(end64 + 40);
        directory_start = get64(end64 + 48);
        directory_end = end64_offset;
    }
    if (disk != 0 || directory_disk != 0 || entries_here != entries) {
        eng_fail(a->ctx, CLG_STATUS_FORMAT,
                 "%s: a zip archive split over several files (disk %u): not read", a->path,
                 (unsigned)disk);
        goto done;
    }
    if (directory_start > directory_end || directory_size > directory_end - directory_start ||
        entries > directory_size / CENTRAL_SIZE) {
        eng_fail(a->ctx, CLG_STATUS_FORMAT,
                 "%s: damaged archive: its directory of %llu entries (bytes %llu to %llu) does "
                 "not fit before its end record at byte %llu",
                 a->path, (unsigned long long)entries, (unsigned long long)directory_start,
                 (unsigned long long)directory_start + (unsigned long long)directory_size,
                 (unsigned long long)directory_end);
        goto done;
    }
    a->directory_start = directory_start;
    /* Checked above to lie inside the file, so this costs at most its size. */
    directory = malloc(directory_size ? (size_t)directory_size : 1);
    if (!directory) {
        eng_fail(a->ctx, CLG_STATUS_OUT_OF_MEMORY, "%s: out of host memory for the directory",
                 a->path);
        goto done;
    }
    if (!read_at(a, directory_start, directory, (size_t)directory_size, "zip directory"))
        goto done;
    size_t at = 0;
    for (uint64_t i = 0; i < entries; i++) {
        const unsigned char *c = directory + at;
        if (directory_size - at < CENTRAL_SIZE || get32(c) != CENTRAL_SIGNATURE) {
            eng_fail(a->ctx, CLG_STATUS_FORMAT,
                     "%s: damaged archive: entry %llu of the zip directory is not where the "
                     "directory says",
                     a->path, (unsigned long long)i + 1);
            goto done;
        }
        size_t name_length = get16(c + 28), extra_length = get16(c + 30),
               comment_length = get16(c + 32);
        if (directory_size - at - CENTRAL_SIZE < name_length + extra_length + comment_length) {
            eng_fail(a->ctx, CLG_STATUS_FORMAT,
                     "%s: damaged archive: entry %llu of the zip directory runs past its end",
                     a->path, (unsigned long long)i + 1);
            goto done;
        }
        npz_entry e = {.flags = get16(c + 8),
                       .method = get16(c + 10),
                       .crc = get32(c + 16),
                       .compressed = get32(c + 20),
                       .size = get32(c + 24),
                       .offset = get32(c + 42)};
        /* zip64: the fields that read 0xffffffff follow in the extra field
         * 0x0001, in this order, 8 bytes each. */
        uint64_t *wide[3] = {&e.size, &e.compressed, &e.offset};
        const unsigned char *extra = c + CENTRAL_SIZE + name_length;
        for (size_t x = 0; x + 4 <= extra_length;) {
            size_t id = get16(extra + x), length = get16(extra + x + 2);
            if (length > extra_length - x - 4)
                break;
            if (id == ZIP64_EXTRA_ID) {
                size_t k = 0;
                for (int f = 0; f < 3; f++) {
                    if (*wide[f] != 0xffffffff)
                        continue;
                    if (k + 8 > length) {
                        eng_fail(a->ctx, CLG_STATUS_FORMAT,
                                 "%s: damaged archive: entry %llu's zip64 field is too short",
                                 a->path, (unsigned long long)i + 1);
                        goto done;
                    }
                    *wide[f] = get64(extra + x + 4 + k);
                    k += 8;
                }
            }
            x += 4 + length;
        }
        if (!note_entry(a, (const char *)c + CENTRAL_SIZE, name_length, &e))
            goto done;
        at += CENTRAL_SIZE + name_length + extra_length + comment_length;
    }
    ok = true;
done:
    free(buf);
    free(directory);
    return ok;
}

/* The entry's bytes after decompression, exactly e->size of them, with its
 * CRC checked; malloc'ed (one spare byte), NULL with the context error set. */
static unsigned char *read_entry(npz_archive *a, const npz_entry *e, const char *array)
{
    clg_context *ctx = a->ctx;
    const char *path = a->path;
    unsigned char local[LOCAL_SIZE];
    if (e->flags & 1) {
        eng_fail(ctx, CLG_STATUS_FORMAT, "%s: array '%s' is encrypted: not read", path, array);
        return NULL;
    }
    if (e->method != METHOD_STORED && e->method != METHOD_DEFLATE) {
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: array '%s' is compressed with zip method %u, which is not read: "
                 "np.savez (stored, 0) and np.savez_compressed (deflate, 8) write the two "
                 "that are",
                 path, array, (unsigned)e->method);
        return NULL;
    }
    if (e->offset > a->directory_start || a->directory_start - e->offset < LOCAL_SIZE ||
        !read_at(a, e->offset, local, sizeof local, "local header"))
        goto damaged;
    if (get32(local) != LOCAL_SIGNATURE)
        goto damaged;
    uint64_t start = e->offset + LOCAL_SIZE + get16(local + 26) + get16(local + 28);
    if (start > a->directory_start || e->compressed > a->directory_start - start) {
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: array '%s': its %llu bytes from byte %llu run past the start of the zip "
                 "directory at byte %llu: the archive is truncated or damaged",
                 path, array, (unsigned long long)e->compressed, (unsigned long long)start,
                 (unsigned long long)a->directory_start);
        return NULL;
    }
    if ((e->method == METHOD_STORED && e->size != e->compressed) ||
        (e->method == METHOD_DEFLATE && e->size / DEFLATE_MAX_RATIO > e->compressed)) {
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: array '%s': the directory says %llu bytes %s %llu in the file%s", path, array,
                 (unsigned long long)e->size,
                 e->method == METHOD_STORED ? "stored as" : "deflated into",
                 (unsigned long long)e->compressed,
                 e->method == METHOD_STORED ? "" : ", more than deflate can expand (1032:1)");
        return NULL;
    }
    if (e->size >= SIZE_MAX / 2) {
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: array '%s' of %llu bytes is too large for host "
                 "memory",
                 path, array, (unsigned long long)e->size);
        return NULL;
    }
    if (fseeko(a->file.f, (off_t)start, SEEK_SET) != 0) {
        eng_fail(ctx, CLG_STATUS_IO, "%s: cannot seek to array '%s': %s", path, array,
                 strerror(errno));
        return NULL;
    }
    a->file.offset = start;
    size_t size = (size_t)e->size;
    size_t capacity = e->method == METHOD_STORED || size < CHUNK ? size : CHUNK, used = 0;
    unsigned char *buf = malloc(capacity + 1);
    if (!buf)
        goto out_of_memory;
    if (e->method == METHOD_STORED) {
        used = data_file_read(&a->file, buf, size);
    } else {
        z_stream z = {0};
        if (inflateInit2(&z, -MAX_WBITS) != Z_OK) {
            free(buf);
            goto out_of_memory;
        }
        unsigned char in[1 << 16];
        uint64_t left = e->compressed;
        int ret = Z_OK;
        while (ret == Z_OK) {
            if (z.avail_in == 0 && left > 0) {
                size_t want = left < sizeof in ? (size_t)left : sizeof in;
                size_t got = data_file_read(&a->file, in, want);
                left -= got;
                z.next_in = in;
                z.avail_in = (uInt)got;
                if (got < want)
                    left = 0; /* a read error, told below */
            }
            if (used == capacity && capacity < size) {
                size_t grown = size - capacity < capacity ? size : 2 * capacity;
                unsigned char *more = realloc(buf, grown + 1);
                if (!more) {
                    inflateEnd(&z);
                    free(buf);
                    goto out_of_memory;
                }
                buf = more;
                capacity = grown;
            }
            /* One byte of room past `size`, so a stream longer than stated
             * shows itself rather than stopping at the buffer's end. */
            size_t room = capacity - used + (capacity == size);
            z.next_out = buf + used;
            z.avail_out = room > UINT_MAX ? UINT_MAX : (uInt)room;
            uInt before = z.avail_out;
            ret = inflate(&z, Z_NO_FLUSH);
            used += before - z.avail_out;
            if (used > size || (ret == Z_BUF_ERROR && z.avail_in == 0 && left == 0))
                break;
            if (ret == Z_BUF_ERROR)
                ret = Z_OK; /* no progress possible yet: more room or input follows */
        }
        bool ended = ret == Z_STREAM_END;
        bool trailing = ended && (z.avail_in > 0 || left > 0);
        const char *why = z.msg;
        inflateEnd(&z);
        if (trailing) {
            eng_fail(ctx, CLG_STATUS_FORMAT,
                     "%s: array '%s': the deflate stream ends before the entry's %llu "
                     "compressed bytes: the archive is damaged",
                     path, array, (unsigned long long)e->compressed);
            free(buf);
            return NULL;
        }
        if (!ended && used <= size && !ferror(a->file.f)) {
            eng_fail(ctx, CLG_STATUS_FORMAT, "%s: array '%s': damaged deflate stream (%s)", path,
                     array,
                     why                  ? why
                     : ret == Z_BUF_ERROR ? "it ends before its last block"
                                          : zError(ret));
            free(buf);
            return NULL;
        }
    }
    if (ferror(a->file.f)) {
        eng_fail(ctx, CLG_STATUS_IO, "%s: read error in array '%s': %s", path, array,
                 strerror(errno));
        free(buf);
        return NULL;
    }
    if (used != size) {
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: array '%s': %s bytes where the zip directory says %llu: the archive is "
                 "damaged",
                 path, array, used > size ? "more" : "fewer", (unsigned long long)e->size);
        free(buf);
        return NULL;
    }
    uLong crc = crc32(0L, Z_NULL, 0);
    for (size_t done = 0; done < size;) {
        uInt piece = size - done > UINT_MAX ? UINT_MAX : (uInt)(size - done);
        crc = crc32(crc, buf + done, piece);
        done += piece;
    }
    if ((uint32_t)crc != e->crc) {
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: array '%s': CRC-32 %08lx where the zip directory says %08lx: the "
                 "archive is damaged",
                 path, array, (unsigned long)crc, (unsigned long)e->crc);
        free(buf);
        return NULL;
    }
    return buf;
out_of_memory:
    eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "%s: out of host memory for array '%s' (%llu bytes)",
             path, array, (unsigned long long)e->size);
    return NULL;
damaged:
    eng_fail(ctx, CLG_STATUS_FORMAT,
             "%s: array '%s': no zip local header at byte %llu, where the directory points: "
             "the archive is damaged",
             path, array, (unsigned long long)e->offset);
    return NULL;
}

/* ---- the .npy header: {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), } ---- */

typedef struct header_text {
    const char *p, *end;
} header_text;

static void skip_space(header_text *t)
{
    while (t->p < t->end && (*t->p == ' ' || *t->p == '\t' || *t->p == '\n'))
        t->p++;
}

static bool take(header_text *t, char c)
{
    skip_space(t);
    if (t->p < t->end && *t->p == c) {
        t->p++;
        return true;
    }
    return false;
}

/* A Python string literal in single or double quotes, without escapes (none
 * of the three keys or any dtype string has one); at most capacity - 1
 * characters. */
static bool take_string(header_text *t, char *out, size_t capacity)
{
    skip_space(t);
    if (t->p >= t->end || (*t->p != '\'' && *t->p != '"'))
        return false;
    char quote = *t->p++;
    size_t n = 0;
    while (t->p < t->end && *t->p != quote && *t->p != '\\' && n + 1 < capacity)
        out[n++] = *t->p++;
    out[n] = '\0';
    return t->p < t->end && *t->p++ == quote;
}

static bool take_word(header_text *t, const char *word)
{
    skip_space(t);
    size_t n = strlen(word);
    if ((size_t)(t->end - t->p) >= n && memcmp(t->p, word, n) == 0) {
        t->p += n;
        return true;
    }
    return false;
}

/* (3, 4), (3,) or (): whole numbers below 2^62 each. */
static bool take_shape(header_text *t, npy_array *out)
{
    if (!take(t, '('))
        return false;
    out->rank = 0;
    if (take(t, ')'))
        return true;
    for (;;) {
        skip_space(t);
        if (out->rank == MAX_RANK || t->p >= t->end || *t->p < '0' || *t->p > '9')
            return false;
        int64_t v = 0;
        while (t->p < t->end && *t->p >= '0' && *t->p <= '9') {
            if (v > (INT64_C(1) << 62) / 10)
                return false;
            v = 10 * v + (*t->p++ - '0');
        }
        out->shape[out->rank++] = v;
        if (take(t, ',')) {
            if (take(t, ')'))
                return true;
            continue;
        }
        /* "(3)" is a number in Python, not a tuple: rank 1 is written (3,) */
        return out->rank > 1 && take(t, ')');
    }
}

/* "(12, 5)" for messages. */
static void shape_text(const npy_array *v, char *buf, size_t capacity)
{
    size_t used = (size_t)snprintf(buf, capacity, "(");
    for (int d = 0; d < v->rank && used < capacity; d++)
        used += (size_t)snprintf(buf + used, capacity - used, "%s%lld", d ? ", " : "",
                                 (long long)v->shape[d]);
    if (used < capacity)
        snprintf(buf + used, capacity - used, "%s)", v->rank == 1 ? "," : "");
}

/* NumPy's name of a dtype, for messages: "float16" for '<f2'. */
static void dtype_name(const npy_array *v, char *buf, size_t capacity)
{
    const char *kind = v->kind == 'f'   ? "float"
                       : v->kind == 'i' ? "int"
                       : v->kind == 'u' ? "uint"
                       : v->kind == 'c' ? "complex"
                       : v->kind == 'b' ? "bool"
                                        : NULL;
    if (kind && v->kind != 'b')
        snprintf(buf, capacity, "%s%d", kind, 8 * v->itemsize);
    else if (kind)
        snprintf(buf, capacity, "bool");
    else
        snprintf(buf, capacity, "%s",
                 v->kind == 'O'   ? "object (pickled Python objects)"
                 : v->kind == 'U' ? "str"
                 : v->kind == 'S' ? "bytes"
                                  : "a kind clgrad does not read");
}

/* Parses an entry's .npy file: magic, version, header dict, and the data
 * size the header implies against the bytes the entry holds. */
static bool parse_npy(npz_archive *a, const char *array, const unsigned char *buf, size_t size,
                      npy_array *out)
{
    clg_context *ctx = a->ctx;
    const char *path = a->path;
    *out = (npy_array){0};
    if (size < 10 || memcmp(buf, "\x93NUMPY", 6) != 0) {
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: array '%s' is not a .npy file (no \\x93NUMPY magic at its start)", path,
                 array);
        return false;
    }
    unsigned major = buf[6];
    if (major < 1 || major > 3) {
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: array '%s': .npy format version %u.%u is not read "
                 "(1.0 to 3.0 are)",
                 path, array, major, (unsigned)buf[7]);
        return false;
    }
    size_t start = major == 1 ? 10 : 12;
    uint64_t header_length = size < start ? 0 : major == 1 ? get16(buf + 8) : get32(buf + 8);
    if (size < start || header_length > size - start) {
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: array '%s': truncated .npy header: %llu bytes stated, %zu held", path, array,
                 (unsigned long long)header_length, size < start ? 0 : size - start);
        return false;
    }
    header_text t = {(const char *)buf + start, (const char *)buf + start + header_length};
    bool descr = false, fortran = false, shape = false, fortran_order = false;
    char key[32];
    bool ok = take(&t, '{');
    while (ok && !take(&t, '}')) {
        ok = take_string(&t, key, sizeof key) && take(&t, ':');
        if (!ok)
            break;
        if (strcmp(key, "descr") == 0 && !descr) {
            skip_space(&t);
            if (t.p < t.end && *t.p == '[') {
                eng_fail(ctx, CLG_STATUS_FORMAT,
                         "%s: array '%s': a structured dtype (a list of fields): not read; "
                         "save a plain numeric array",
                         path, array);
                return false;
            }
            ok = descr = take_string(&t, out->descr, sizeof out->descr);
        } else if (strcmp(key, "fortran_order") == 0 && !fortran) {
            fortran_order = take_word(&t, "True");
            ok = fortran = fortran_order || take_word(&t, "False");
        } else if (strcmp(key, "shape") == 0 && !shape) {
            ok = shape = take_shape(&t, out);
        } else {
            eng_fail(ctx, CLG_STATUS_FORMAT,
                     "%s: array '%s': .npy header key '%s' is %s (expected 'descr', "
                     "'fortran_order' and 'shape', once each)",
                     path, array, key,
                     strcmp(key, "descr") == 0 || strcmp(key, "shape") == 0 ||
                             strcmp(key, "fortran_order") == 0
                         ? "repeated"
                         : "unknown");
            return false;
        }
        /* a comma after every item; the last one may go without */
        if (ok && !take(&t, ',')) {
            ok = take(&t, '}');
            break;
        }
    }
    skip_space(&t);
    if (!ok || t.p != t.end) {
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: array '%s': malformed .npy header near byte %zu of \"%.*s\"", path, array,
                 (size_t)(t.p - ((const char *)buf + start)),
                 (int)(header_length > 80 ? 80 : header_length), (const char *)buf + start);
        return false;
    }
    if (!descr || !fortran || !shape) {
        eng_fail(ctx, CLG_STATUS_FORMAT, "%s: array '%s': the .npy header has no '%s'", path, array,
                 !descr     ? "descr"
                 : !fortran ? "fortran_order"
                            : "shape");
        return false;
    }
    if (fortran_order) {
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: array '%s' is stored in Fortran (column-major) order: save "
                 "np.ascontiguousarray(%s) instead",
                 path, array, array);
        return false;
    }
    /* descr: byte order, kind, item size ("<f4", "|u1") */
    const char *d = out->descr;
    if (strlen(d) == 2 && d[1] == 'O') {
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: array '%s' holds Python objects (dtype '%s', which NumPy pickles): not "
                 "read; save a numeric array (%s.astype(np.%s))",
                 path, array, d, array, strcmp(array, "y") == 0 ? "int64" : "float32");
        return false;
    }
    char *end = NULL;
    long itemsize = strlen(d) >= 3 ? strtol(d + 2, &end, 10) : 0;
    if (strlen(d) < 3 || !strchr("<>|=", d[0]) || *end != '\0' || itemsize < 1 || itemsize > 16) {
        eng_fail(ctx, CLG_STATUS_FORMAT, "%s: array '%s': dtype '%s' is not one clgrad reads", path,
                 array, d);
        return false;
    }
    out->byteorder = d[0];
    out->kind = d[1];
    out->itemsize = (int)itemsize;
    if (d[0] == '>' && itemsize > 1) {
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: array '%s': big-endian dtype '%s' is not read: save %s.astype('<%c%ld')",
                 path, array, d, array, d[1], itemsize);
        return false;
    }
    /* Elements times item size against the bytes after the header, the
     * product checked as it grows. */
    uint64_t count = 1, held = size - start - header_length;
    for (int i = 0; i < out->rank; i++)
        if (out->shape[i] == 0)
            count = 0;
    for (int i = 0; count && i < out->rank; i++) {
        uint64_t dim = (uint64_t)out->shape[i];
        if (count > held / (uint64_t)itemsize / dim) {
            count = UINT64_MAX; /* more than the entry holds: told below */
            break;
        }
        count *= dim;
    }
    char shape_buf[160];
    shape_text(out, shape_buf, sizeof shape_buf);
    if (count == UINT64_MAX || count * (uint64_t)itemsize != held) {
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: array '%s': shape %s of '%s' does not match the %llu data bytes the "
                 "entry holds",
                 path, array, shape_buf, d, (unsigned long long)held);
        return false;
    }
    out->count = count;
    out->data = buf + start + header_length;
    return true;
}

/* x as float32 (n, features): float32 copied, float64 rounded, uint8 / 255. */
static float *convert_x(npz_archive *a, const npy_array *x)
{
    char name[64];
    dtype_name(x, name, sizeof name);
    bool f32 = x->kind == 'f' && x->itemsize == 4, f64 = x->kind == 'f' && x->itemsize == 8,
         u8 = x->kind == 'u' && x->itemsize == 1;
    if (!f32 && !f64 && !u8) {
        eng_fail(a->ctx, CLG_STATUS_FORMAT,
                 "%s: array 'x': dtype '%s' (%s) is not read: x must be float32, float64 or "
                 "uint8 (save x.astype(np.float32))",
                 a->path, x->descr, name);
        return NULL;
    }
    float *out = malloc((x->count ? (size_t)x->count : 1) * sizeof *out);
    if (!out) {
        eng_fail(a->ctx, CLG_STATUS_OUT_OF_MEMORY, "%s: out of host memory for array 'x'", a->path);
        return NULL;
    }
    /* memcpy per element: the data sits at any alignment inside the entry */
    for (uint64_t i = 0; i < x->count; i++) {
        if (f32) {
            memcpy(&out[i], x->data + 4 * i, 4);
        } else if (f64) {
            double v;
            memcpy(&v, x->data + 8 * i, 8);
            out[i] = (float)v;
        } else {
            out[i] = (float)x->data[i] / 255.0f;
        }
    }
    return out;
}

/* y as int32 (n): any integer type; a value outside int32 cannot be a class
 * index, and is refused here with its sample (data_dataset_take refuses the
 * negative and too large ones that fit). */
static int32_t *convert_y(npz_archive *a, const npy_array *y)
{
    char name[64];
    dtype_name(y, name, sizeof name);
    bool integer = (y->kind == 'i' || y->kind == 'u') &&
                   (y->itemsize == 1 || y->itemsize == 2 || y->itemsize == 4 || y->itemsize == 8);
    if (!integer) {
        eng_fail(a->ctx, CLG_STATUS_FORMAT,
                 "%s: array 'y': dtype '%s' (%s) is not read: labels must be integers (save "
                 "y.astype(np.int64))",
                 a->path, y->descr, name);
        return NULL;
    }
    int32_t *out = malloc((y->count ? (size_t)y->count : 1) * sizeof *out);
    if (!out) {
        eng_fail(a->ctx, CLG_STATUS_OUT_OF_MEMORY, "%s: out of host memory for array 'y'", a->path);
        return NULL;
    }
    for (uint64_t i = 0; i < y->count; i++) {
        const unsigned char *p = y->data + (size_t)i * (size_t)y->itemsize;
        uint64_t bits = 0;
        for (int b = 0; b < y->itemsize; b++)
            bits |= (uint64_t)p[b] << (8 * b);
        int64_t v;
        if (y->kind == 'u') {
            v = bits > INT64_MAX ? INT64_MAX : (int64_t)bits;
        } else {
            /* sign-extend from the item's width */
            int shift = 64 - 8 * y->itemsize;
            uint64_t widened = bits << shift;
            memcpy(&v, &widened, sizeof v);
            v >>= shift;
        }
        if (v < INT32_MIN || v > INT32_MAX) {
            eng_fail(a->ctx, CLG_STATUS_FORMAT,
                     "%s: array 'y': label %lld of sample %llu is not a class index (0, 1, ..., "
                     "C - 1)",
                     a->path, (long long)v, (unsigned long long)i);
            free(out);
            return NULL;
        }
        out[i] = (int32_t)v;
    }
    return out;
}

CLG_API clg_dataset *clg_dataset_load_npz(clg_context *ctx, const char *path)
{
    if (eng_failed(ctx))
        return NULL;
    npz_archive a = {.ctx = ctx, .path = path};
    unsigned char *x_bytes = NULL, *y_bytes = NULL;
    float *x = NULL;
    int32_t *y = NULL;
    clg_dataset *ds = NULL;
    if (!data_file_open(ctx, "", path, &a.file))
        return NULL;
    if (!a.file.regular) {
        eng_fail(ctx, CLG_STATUS_IO,
                 "%s: not a regular file: an .npz archive is read from its end (where the zip "
                 "directory is), so it cannot come from a pipe or a device",
                 path);
        goto done;
    }
    if (!read_directory(&a))
        goto done;
    if (!a.x.found || !a.y.found) {
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: no array '%s' (the archive holds %s); save the inputs as x and the labels "
                 "as y: np.savez(path, x=x, y=y)",
                 path, a.x.found ? "y" : "x", a.names[0] ? a.names : "no arrays");
        goto done;
    }
    npy_array xa, ya;
    x_bytes = read_entry(&a, &a.x, "x");
    if (!x_bytes || !parse_npy(&a, "x", x_bytes, (size_t)a.x.size, &xa))
        goto done;
    char shape[160];
    shape_text(&xa, shape, sizeof shape);
    if (xa.rank < 2 || xa.rank > 4) {
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: array 'x': shape %s: expected one row per sample, (N, features), or "
                 "images (N, C, H, W) or (N, H, W)",
                 path, shape);
        goto done;
    }
    y_bytes = read_entry(&a, &a.y, "y");
    if (!y_bytes || !parse_npy(&a, "y", y_bytes, (size_t)a.y.size, &ya))
        goto done;
    shape_text(&ya, shape, sizeof shape);
    if (ya.rank != 1) {
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: array 'y': shape %s: expected one label per sample, shape (N,) (save "
                 "y.ravel())",
                 path, shape);
        goto done;
    }
    if (ya.shape[0] != xa.shape[0]) {
        eng_fail(ctx, CLG_STATUS_FORMAT, "%s: array 'y': shape %s but x has %lld rows", path, shape,
                 (long long)xa.shape[0]);
        goto done;
    }
    x = convert_x(&a, &xa);
    free(x_bytes);
    x_bytes = NULL;
    y = x ? convert_y(&a, &ya) : NULL;
    if (!y)
        goto done;
    char x_name[4200], y_name[4200];
    snprintf(x_name, sizeof x_name, "%s: array 'x'", path);
    snprintf(y_name, sizeof y_name, "%s: array 'y'", path);
    /* An empty x is refused by data_dataset_take for its rows. */
    int64_t n = xa.shape[0];
    int64_t features = n ? (int64_t)(xa.count / (uint64_t)n) : 1;
    ds = data_dataset_take(ctx, x, y, n, features, x_name, y_name);
    x = NULL;
    y = NULL;
done:
    free(x_bytes);
    free(y_bytes);
    free(x);
    free(y);
    data_file_close(&a.file);
    return ds;
}
