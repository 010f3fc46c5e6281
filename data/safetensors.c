/* data/safetensors.c: the safetensors format (8-byte little-endian header
 * length, a JSON header naming each tensor's dtype, shape and byte range,
 * then the raw little-endian data), read whole, and checkpoints written
 * through a temporary file renamed into place. What clgrad stores is read
 * as is: F32 and I32 tensors of rank <= 4 and string metadata; F64, F16 and
 * BF16 tensors, which PyTorch users save, are converted to F32 on reading
 * (every later user of a checkpoint takes F32), and I64 ones (a state_dict's
 * integers: BatchNorm's num_batches_tracked) to I32, each value checked. */
/* O_TMPFILE (Linux's unnamed files) is a GNU extension of <fcntl.h>. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>


#include "clgrad/data.h"
#include "data/file.h"
#include "data/safetensors.h"
#include "engine/engine.h"

/* Header lengths above this are refused before anything is allocated; a
 * checkpoint's header is a few kilobytes. */
#define MAX_HEADER (64u << 20)

typedef struct entry {
    char *name;
    clg_dtype dtype; /* as read: F32 or I32 for the converted dtypes */
    int rank;
    int64_t shape[CLG_MAX_RANK];
    int64_t begin, end; /* data_offsets: bytes after the header */
    const char *file_dtype; /* static: "F64", "F16", "BF16", "I64", or NULL: stored as dtype */
    int element_size;       /* bytes per element in the file */
    const void *data;
    void *converted; /* owned: the F32 or I32 values of a converted entry */
} entry;

/* The dtypes read: safetensors' name, the dtype given to callers, the bytes
 * per element in the file, and whether the values are converted. */
static const struct {
    const char *name;
    clg_dtype dtype;
    int element_size;
    bool converted;
} dtypes[] = {
    {"F32", CLG_DTYPE_F32, 4, false}, {"I32", CLG_DTYPE_I32, 4, false},
    {"F64", CLG_DTYPE_F32, 8, true},  {"F16", CLG_DTYPE_F32, 2, true},
    {"BF16", CLG_DTYPE_F32, 2, true}, {"I64", CLG_DTYPE_I32, 8, true},
};

struct clg_safetensors {
    unsigned char *data; /* the tensors' bytes, after the header */
    size_t data_size;
    entry *entries;
    size_t count;
    char **meta_keys;
    char **meta_values;
    size_t meta_count;
};

/* ---- a small JSON reader for the header's fixed shape ---- */

typedef struct parser {
    const char *start, *p, *end;
    const char *path;
    clg_context *ctx;
    bool failed;
} parser;

static void parse_fail(parser *ps, const char *what)
{
    if (!ps->failed)
        eng_fail(ps->ctx, CLG_STATUS_FORMAT, "%s: malformed safetensors header: %s", ps->path,
                 what);
    ps->failed = true;
}

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t'))
        ps->p++;
}

static bool expect(parser *ps, char c)
{
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == c) {
        ps->p++;
        return true;
    }
    char what[48];
    snprintf(what, sizeof what, "expected '%c' at header byte %ld", c, (long)(ps->p - ps->start));
    parse_fail(ps, what);
    return false;
}

static bool peek(parser *ps, char c)
{
    skip_ws(ps);
    return ps->p < ps->end && *ps->p == c;
}

/* Four hex digits after "\u"; -1 when they are not there. */
static long parse_hex4(parser *ps)
{
    if (ps->end - ps->p < 4)
        return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        char h = *ps->p++;
        int digit = h >= '0' && h <= '9'   ? h - '0'
                    : h >= 'a' && h <= 'f' ? h - 'a' + 10
                    : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                           : -1;
        if (digit < 0)
            return -1;
        v = v << 4 | digit;
    }
    return v;
}

/* One \u escape (two for a surrogate pair) as UTF-8 into out; its length,
 * or 0 when malformed. Python's json.dumps escapes every non-ASCII character
 * this way, so names and metadata written by PyTorch-side code need it. */
static int parse_unicode_escape(parser *ps, char *out)
{
    long cp = parse_hex4(ps);
    if (cp >= 0xd800 && cp <= 0xdbff) {
        if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u')
            return 0;
        ps->p += 2;
        long low = parse_hex4(ps);
        if (low < 0xdc00 || low > 0xdfff)
            return 0;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
    } else if (cp < 0 || (cp >= 0xdc00 && cp <= 0xdfff)) {
        return 0;
    }
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* A JSON string with the escapes JSON allows. */
static char *parse_string(parser *ps)
{
    if (!expect(ps, '"'))
        return NULL;
    size_t cap = 32, len = 0;
    char *s = malloc(cap);
    while (s && ps->p < ps->end && *ps->p != '"') {
        char bytes[4] = {*ps->p++};
        int n = 1;
        if (bytes[0] == '\\' && ps->p < ps->end) {
            char e = *ps->p++;
            switch (e) {
            case 'n': bytes[0] = '\n'; break;
            case 't': bytes[0] = '\t'; break;
            case 'r': bytes[0] = '\r'; break;
            case 'b': bytes[0] = '\b'; break;
            case 'f': bytes[0] = '\f'; break;
            case 'u':
                n = parse_unicode_escape(ps, bytes);
                if (n == 0) {
                    parse_fail(ps, "bad \\u escape");
                    free(s);
                    return NULL;
                }
                break;
            default: bytes[0] = e;
            }
        }
        if (len + (size_t)n + 1 > cap) {
            char *grown = realloc(s, cap *= 2);
            if (!grown) {
                free(s);
                s = NULL;
                break;
            }
            s = grown;
        }
        memcpy(s + len, bytes, (size_t)n);
        len += (size_t)n;
    }
    if (!s || ps->p >= ps->end) {
        free(s);
        parse_fail(ps, "unterminated string");
        return NULL;
    }
    ps->p++;
    s[len] = '\0';
    return s;
}

static bool parse_int(parser *ps, int64_t *out)
{
    skip_ws(ps);
    char *stop = NULL;
    errno = 0;
    long long v = strtoll(ps->p, &stop, 10);
    if (stop == ps->p || errno || stop > ps->end) {
        parse_fail(ps, "expected an integer");
        return false;
    }
    ps->p = stop;
    *out = v;
    return true;
}

/* [n, n, ...] into out (at most max); returns the count or -1. */
static int parse_int_array(parser *ps, int64_t *out, int max)
{
    if (!expect(ps, '['))
        return -1;
    int n = 0;
    if (peek(ps, ']')) {
        ps->p++;
        return 0;
    }
    for (;;) {
        int64_t v;
        if (!parse_int(ps, &v))
            return -1;
        if (n == max) {
            parse_fail(ps, "array too long (rank above 4?)");
            return -1;
        }
        out[n++] = v;
        if (peek(ps, ',')) {
            ps->p++;
            continue;
        }
        return expect(ps, ']') ? n : -1;
    }
}

static bool push_meta(clg_safetensors *st, char *key, char *value)
{
    char **k = realloc(st->meta_keys, (st->meta_count + 1) * sizeof *k);
    if (k)
        st->meta_keys = k;
    char **v = realloc(st->meta_values, (st->meta_count + 1) * sizeof *v);
    if (v)
        st->meta_values = v;
    if (!k || !v)
        return false;
    st->meta_keys[st->meta_count] = key;
    st->meta_values[st->meta_count] = value;
    st->meta_count++;
    return true;
}

static bool parse_metadata(parser *ps, clg_safetensors *st)
{
    if (!expect(ps, '{'))
        return false;
    if (peek(ps, '}')) {
        ps->p++;
        return true;
    }
    for (;;) {
        char *key = parse_string(ps);
        /* Say what is wrong before parse_string would only say it wanted a
         * quote. */
        if (key && expect(ps, ':') && !peek(ps, '"'))
            parse_fail(ps, "a __metadata__ value is not a string (string values only)");
        char *value = ps->failed ? NULL : parse_string(ps);
        if (!value || !push_meta(st, key, value)) {
            free(key);
            free(value);
            parse_fail(ps, "bad __metadata__ (string values only)");
            return false;
        }
        if (peek(ps, ',')) {
            ps->p++;
            continue;
        }
        return expect(ps, '}');
    }
}

/* {"dtype": "F32", "shape": [..], "data_offsets": [b, e]} */
static bool parse_entry(parser *ps, entry *e, uint64_t data_size)
{
    if (!expect(ps, '{'))
        return false;
    bool have_dtype = false, have_shape = false, have_offsets = false;
    int64_t offsets[2] = {0, 0};
    for (;;) {
        char *key = parse_string(ps);
        if (!key || !expect(ps, ':')) {
            free(key);
            return false;
        }
        if (strcmp(key, "dtype") == 0) {
            char *dtype = parse_string(ps);
            if (!dtype) {
                free(key);
                return false;
            }
            size_t d = 0;
            while (d < sizeof dtypes / sizeof dtypes[0] && strcmp(dtype, dtypes[d].name) != 0)
                d++;
            if (d == sizeof dtypes / sizeof dtypes[0]) {
                /* A well-formed file, only of a type clgrad does not take. */
                if (!ps->failed)
                    eng_fail(ps->ctx, CLG_STATUS_FORMAT,
                             "%s: tensor \"%s\" has dtype %.40s, which clgrad does not read "
                             "(F32 and I32; F64, F16 and BF16 are converted to F32, I64 to I32)",
                             ps->path, e->name, dtype);
                ps->failed = true;
                free(dtype);
                free(key);
                return false;
            }
            e->dtype = dtypes[d].dtype;
            e->element_size = dtypes[d].element_size;
            e->file_dtype = dtypes[d].converted ? dtypes[d].name : NULL;
            free(dtype);
            have_dtype = true;
        } else if (strcmp(key, "shape") == 0) {
            e->rank = parse_int_array(ps, e->shape, CLG_MAX_RANK);
            have_shape = e->rank >= 0;
        } else if (strcmp(key, "data_offsets") == 0) {
            have_offsets = parse_int_array(ps, offsets, 2) == 2;
        } else {
            parse_fail(ps, "unknown field in a tensor entry");
        }
        free(key);
        if (ps->failed)
            return false;
        if (peek(ps, ',')) {
            ps->p++;
            continue;
        }
        if (!expect(ps, '}'))
            return false;
        break;
    }
    if (!have_dtype || !have_shape || !have_offsets) {
        parse_fail(ps, "a tensor entry lacks dtype, shape or data_offsets");
        return false;
    }
    /* Any shape whose byte count passes INT64_MAX cannot fit the file; stop
     * there rather than overflow. */
    int64_t numel = 1;
    for (int i = 0; i < e->rank; i++) {
        if (e->shape[i] < 0) {
            parse_fail(ps, "negative dimension");
            return false;
        }
        if (e->shape[i] && numel > INT64_MAX / e->element_size / e->shape[i]) {
            parse_fail(ps, "shape too large");
            return false;
        }
        numel *= e->shape[i];
    }
    /* data_size is UINT64_MAX when the file cannot say (a pipe): the data
     * read later must then hold the largest end. */
    if (offsets[0] < 0 || offsets[1] < offsets[0] || (uint64_t)offsets[1] > data_size ||
        offsets[1] - offsets[0] != numel * e->element_size) {
        char what[320];
        char bytes[32] = "";
        if (data_size != UINT64_MAX)
            snprintf(bytes, sizeof bytes, "%llu", (unsigned long long)data_size);
        snprintf(what, sizeof what,
                 "tensor \"%s\": data_offsets [%lld, %lld] do not fit its shape or the file "
                 "(%s data bytes)",
                 e->name, (long long)offsets[0], (long long)offsets[1], *bytes ? bytes : "unknown");
        parse_fail(ps, what);
        return false;
    }
    e->begin = offsets[0];
    e->end = offsets[1];
    return true;
}

CLG_API void clg_safetensors_destroy(clg_safetensors *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->count; i++) {
        free(st->entries[i].name);
        free(st->entries[i].converted);
    }
    for (size_t i = 0; i < st->meta_count; i++) {
        free(st->meta_keys[i]);
        free(st->meta_values[i]);
    }
    free(st->entries);
    free(st->meta_keys);
    free(st->meta_values);
    free(st->data);
    free(st);
}

static const entry *find(const clg_safetensors *st, const char *name)
{
    for (size_t i = 0; i < st->count; i++)
        if (strcmp(st->entries[i].name, name) == 0)
            return &st->entries[i];
    return NULL;
}

static int by_begin(const void *a, const void *b)
{
    const entry *x = *(const entry *const *)a, *y = *(const entry *const *)b;
    return (x->begin > y->begin) - (x->begin < y->begin);
}

/* The tensors must tile the data exactly, as the format requires: no two
 * overlap (one write would change the other), no gap, nothing after the
 * last. Returns the data's length, or -1 with the error set. */
static int64_t check_layout(clg_context *ctx, const char *path, clg_safetensors *st)
{
    if (st->count == 0)
        return 0;
    const entry **order = malloc(st->count * sizeof *order);
    if (!order) {
        eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "%s: out of host memory", path);
        return -1;
    }
    for (size_t i = 0; i < st->count; i++)
        order[i] = &st->entries[i];
    qsort(order, st->count, sizeof *order, by_begin);
    int64_t end = 0;
    const entry *previous = NULL;
    for (size_t i = 0; i < st->count; i++) {
        const entry *e = order[i];
        if (e->begin < end) {
            eng_fail(ctx, CLG_STATUS_FORMAT,
                     "%s: tensors \"%s\" (bytes %lld to %lld) and \"%s\" (bytes %lld to %lld) "
                     "overlap",
                     path, previous->name, (long long)previous->begin, (long long)previous->end,
                     e->name, (long long)e->begin, (long long)e->end);
            end = -1;
            break;
        }
        if (e->begin > end) {
            eng_fail(ctx, CLG_STATUS_FORMAT,
                     "%s: data bytes %lld to %lld belong to no tensor (before \"%s\")", path,
                     (long long)end, (long long)e->begin, e->name);
            end = -1;
            break;
        }
        end = e->end;
        previous = e;
    }
    free(order);
    return end;
}

/* IEEE half precision to float, exactly (every half is a float). */
static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31, exponent = h >> 10 & 0x1f, mantissa = h & 0x3ff;
    uint32_t bits;
    if (exponent == 0) { /* zero or subnormal: mantissa * 2^-24 */
        float magnitude = ldexpf((float)mantissa, -24);
        return sign ? -magnitude : magnitude;
    }
    if (exponent == 31) /* infinity or NaN, payload kept */
        bits = sign | 0x7f800000u | mantissa << 13;
    else /* rebias 15 -> 127 */
        bits = sign | (exponent + 112) << 23 | mantissa << 13;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* Double to float rounded to nearest, as a cast would be where it is
 * defined: C leaves a cast of a double beyond FLT_MAX undefined, so the
 * halfway point above FLT_MAX, from which rounding goes to infinity, is
 * handled here. */
static float double_to_float(double d)
{
    if (fabs(d) >= 0x1.ffffffp127)
        return d > 0 ? INFINITY : -INFINITY;
    return (float)d;
}

/* e's values (F64, F16, BF16 or I64, little endian in the file) as F32 or
 * I32 in e->converted; false with the error set (an I64 value outside
 * int32's range is CLG_STATUS_FORMAT naming the tensor, element and value). */
static bool convert(clg_context *ctx, const char *path, entry *e)
{
    int64_t n = eng_numel(e->rank, e->shape);
    bool to_int = e->dtype == CLG_DTYPE_I32;
    e->converted = malloc((size_t)(n > 0 ? n : 1) * 4);
    if (!e->converted) {
        eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY,
                 "%s: out of host memory converting tensor \"%s\" from %s to %s", path, e->name,
                 e->file_dtype, to_int ? "I32" : "F32");
        return false;
    }
    const unsigned char *bytes = e->data;
    float *floats = e->converted;
    int32_t *ints = e->converted;
    for (int64_t i = 0; i < n; i++) {
        if (to_int) {
            int64_t v;
            memcpy(&v, bytes + 8 * i, sizeof v);
            if (v < INT32_MIN || v > INT32_MAX) {
                eng_fail(ctx, CLG_STATUS_FORMAT,
                         "%s: tensor \"%s\" (I64) holds %lld at element %lld, outside the int32 "
                         "range clgrad reads I64 into",
                         path, e->name, (long long)v, (long long)i);
                return false;
            }
            ints[i] = (int32_t)v;
        } else if (e->element_size == 8) {
            double d;
            memcpy(&d, bytes + 8 * i, sizeof d);
            floats[i] = double_to_float(d);
        } else {
            uint16_t h = (uint16_t)(bytes[2 * i] | bytes[2 * i + 1] << 8);
            if (strcmp(e->file_dtype, "BF16") == 0) { /* the top half of a float */
                uint32_t bits = (uint32_t)h << 16;
                memcpy(&floats[i], &bits, sizeof bits);
            } else {
                floats[i] = half_to_float(h);
            }
        }
    }
    e->data = e->converted;
    return true;
}

CLG_API clg_safetensors *clg_safetensors_read(clg_context *ctx, const char *path)
{
    if (eng_failed(ctx))
        return NULL;
    clg_safetensors *st = calloc(1, sizeof *st);
    if (!st) {
        eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "%s: out of host memory", path);
        return NULL;
    }
    char *text = NULL;
    data_file file;
    if (!data_file_open(ctx, "", path, &file))
        goto fail;
    unsigned char len8[8];
    size_t got = data_file_read(&file, len8, 8);
    if (got < 8) {
        if (ferror(file.f))
            eng_fail(ctx, CLG_STATUS_IO, "%s: read error: %s", path, strerror(errno));
        else
            eng_fail(ctx, CLG_STATUS_FORMAT, "%s: not a safetensors file (%zu bytes, too short)",
                     path, got);
        goto fail;
    }
    uint64_t header = 0;
    for (int i = 7; i >= 0; i--)
        header = header << 8 | len8[i];
    if (header < 2 || header > MAX_HEADER || header > data_file_left(&file)) {
        if (file.regular)
            eng_fail(ctx, CLG_STATUS_FORMAT,
                     "%s: not a safetensors file (header length %llu does not fit the "
                     "%llu-byte file)",
                     path, (unsigned long long)header, (unsigned long long)file.size);
        else
            eng_fail(ctx, CLG_STATUS_FORMAT,
                     "%s: not a safetensors file (header length %llu; at most %u is read)",
                     path, (unsigned long long)header, MAX_HEADER);
        goto fail;
    }
    text = (char *)data_file_read_upto(ctx, &file, "safetensors header", header, &got);
    if (!text)
        goto fail;
    if (got < header) {
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: not a safetensors file (header length %llu, but the file ends after %zu "
                 "bytes of it)",
                 path, (unsigned long long)header, got);
        goto fail;
    }
    uint64_t data_room = data_file_left(&file);
    parser ps = {text, text, text + header, path, ctx, false};
    if (!expect(&ps, '{'))
        goto fail;
    bool empty = peek(&ps, '}');
    if (empty)
        ps.p++;
    while (!empty) {
        char *name = parse_string(&ps);
        if (!name || !expect(&ps, ':')) {
            free(name);
            goto fail;
        }
        if (strcmp(name, "__metadata__") == 0) {
            free(name);
            if (!parse_metadata(&ps, st))
                goto fail;
        } else if (find(st, name)) {
            char what[320];
            snprintf(what, sizeof what, "tensor \"%s\" appears twice", name);
            free(name);
            parse_fail(&ps, what);
            goto fail;
        } else {
            entry *grown = realloc(st->entries, (st->count + 1) * sizeof *grown);
            if (!grown) {
                free(name);
                eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "%s: out of host memory", path);
                goto fail;
            }
            st->entries = grown;
            entry *e = &st->entries[st->count++];
            memset(e, 0, sizeof *e);
            e->name = name;
            if (!parse_entry(&ps, e, data_room))
                goto fail;
        }
        if (peek(&ps, ',')) {
            ps.p++;
            continue;
        }
        if (!expect(&ps, '}'))
            goto fail;
        break;
    }
    /* Only the padding spaces may follow the closing brace. */
    skip_ws(&ps);
    if (ps.p != ps.end) {
        parse_fail(&ps, "text after the closing '}'");
        goto fail;
    }
    int64_t data_size = check_layout(ctx, path, st);
    if (data_size < 0)
        goto fail;
    if (file.regular && (uint64_t)data_size < data_room) {
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: %llu bytes after the last tensor (the tensors end at data byte %lld of "
                 "%llu)",
                 path, (unsigned long long)(data_room - (uint64_t)data_size), (long long)data_size,
                 (unsigned long long)data_room);
        goto fail;
    }
    st->data = data_file_read_upto(ctx, &file, "tensor data", (uint64_t)data_size, &got);
    if (!st->data)
        goto fail;
    if (got < (size_t)data_size) {
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: truncated: the tensors need %lld data bytes, the file holds %zu", path,
                 (long long)data_size, got);
        goto fail;
    }
    unsigned char extra;
    if (data_file_read(&file, &extra, 1) != 0) {
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: bytes after the last tensor (the tensors end at data byte %lld)", path,
                 (long long)data_size);
        goto fail;
    }
    st->data_size = (size_t)data_size;
    for (size_t i = 0; i < st->count; i++) {
        entry *e = &st->entries[i];
        e->data = st->data + e->begin;
        if (e->file_dtype && !convert(ctx, path, e))
            goto fail;
    }
    free(text);
    data_file_close(&file);
    return st;
fail:
    free(text);
    data_file_close(&file);
    clg_safetensors_destroy(st);
    return NULL;
}

CLG_API int64_t clg_safetensors_nonfinite(const clg_safetensors *st, const char *name)
{
    const entry *e = find(st, name);
    if (!e || e->dtype != CLG_DTYPE_F32)
        return 0;
    int64_t count = 0, n = eng_numel(e->rank, e->shape);
    for (int64_t i = 0; i < n; i++) {
        float v;
        memcpy(&v, (const unsigned char *)e->data + 4 * i, 4);
        count += !isfinite(v);
    }
    return count;
}

CLG_API size_t clg_safetensors_count(const clg_safetensors *st) { return st->count; }

CLG_API const char *clg_safetensors_name(const clg_safetensors *st, size_t index)
{
    return index < st->count ? st->entries[index].name : NULL;
}

CLG_API bool clg_safetensors_get(const clg_safetensors *st, const char *name, clg_dtype *dtype,
                                 int *rank, const int64_t **shape, const void **data)
{
    const entry *e = find(st, name);
    if (!e)
        return false;
    if (dtype)
        *dtype = e->dtype;
    if (rank)
        *rank = e->rank;
    if (shape)
        *shape = e->shape;
    if (data)
        *data = e->data;
    return true;
}

CLG_API const char *clg_safetensors_metadata(const clg_safetensors *st, const char *key)
{
    for (size_t i = 0; i < st->meta_count; i++)
        if (strcmp(st->meta_keys[i], key) == 0)
            return st->meta_values[i];
    return NULL;
}

CLG_API clg_tensor *clg_safetensors_tensor(const clg_safetensors *st, clg_context *ctx,
                                           const char *name)
{
    if (eng_failed(ctx))
        return NULL;
    const entry *e = find(st, name);
    if (!e) {
        eng_fail(ctx, CLG_STATUS_MISMATCH, "safetensors: no tensor named \"%s\"", name);
        return NULL;
    }
    clg_tensor *t = clg_tensor_create(ctx, e->dtype, e->rank, e->shape);
    if (t && clg_tensor_upload(t, e->data, (size_t)eng_numel(e->rank, e->shape)) != CLG_STATUS_OK) {
        clg_tensor_destroy(t);
        return NULL;
    }
    return t;
}

/* ---- writing ---- */

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

/* Builds the header in memory (so its length is known before writing). */
static char *build_header(const clg_params *params, const char *const *keys,
                          const char *const *values, size_t n_meta, size_t *length)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    if (!f)
        return NULL;
    fputc('{', f);
    bool first = true;
    if (n_meta) {
        fputs("\"__metadata__\":{", f);
        for (size_t i = 0; i < n_meta; i++) {
            if (i)
                fputc(',', f);
            json_string(f, keys[i]);
            fputc(':', f);
            json_string(f, values[i]);
        }
        fputc('}', f);
        first = false;
    }
    size_t offset = 0;
    for (size_t i = 0; i < clg_params_count(params); i++) {
        const clg_tensor *t = clg_params_tensor(params, i);
        size_t bytes = (size_t)clg_tensor_numel(t) * 4;
        if (!first)
            fputc(',', f);
        first = false;
        json_string(f, clg_params_name(params, i));
        fprintf(f, ":{\"dtype\":\"%s\",\"shape\":[", t->dtype == CLG_DTYPE_F32 ? "F32" : "I32");
        for (int d = 0; d < t->rank; d++)
            fprintf(f, "%s%lld", d ? "," : "", (long long)t->shape[d]);
        fprintf(f, "],\"data_offsets\":[%zu,%zu]}", offset, offset + bytes);
        offset += bytes;
    }
    fputc('}', f);
    /* Pad with spaces to a multiple of 8 so the data is aligned, as the
     * format recommends. */
    long pos = ftell(f);
    while (pos % 8) {
        fputc(' ', f);
        pos++;
    }
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    *length = size;
    return text;
}

/* "<path>.tmp.<pid>" files that a killed save left behind (a crash between
 * fopen and rename): removed when their process is gone, so kills do not
 * pile them up. Only names of exactly that form, and never a live
 * process's. */
static void remove_stale_temporaries(const char *path)
{
    const char *slash = strrchr(path, '/');
    char folder[4096];
    const char *base = slash ? slash + 1 : path;
    if (!slash)
        snprintf(folder, sizeof folder, ".");
    else
        snprintf(folder, sizeof folder, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    size_t base_len = strlen(base);
    DIR *dir = opendir(folder);
    if (!dir)
        return;
    for (struct dirent *e; (e = readdir(dir)) != NULL;) {
        const char *name = e->d_name;
        if (strncmp(name, base, base_len) != 0 || strncmp(name + base_len, ".tmp.", 5) != 0)
            continue;
        const char *digits = name + base_len + 5;
        char *end = NULL;
        errno = 0;
        long pid = *digits >= '1' && *digits <= '9' ? strtol(digits, &end, 10) : 0;
        if (pid <= 0 || *end != '\0' || errno || pid == (long)getpid() || pid > INT32_MAX)
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue; /* alive, or not ours to ask about */
        char stale[4096 + 300];
        snprintf(stale, sizeof stale, "%s/%s", folder, name);
        remove(stale);
    }
    closedir(dir);
}

/* The checkpoint's bytes into f: the length, the header, then each tensor
 * read back from the device. */
static bool write_checkpoint(FILE *f, const clg_params *params, const char *header,
                             size_t header_len)
{
    unsigned char len8[8];
    for (int i = 0; i < 8; i++)
        len8[i] = (unsigned char)((uint64_t)header_len >> (8 * i));
    bool ok = fwrite(len8, 1, 8, f) == 8 && fwrite(header, 1, header_len, f) == header_len;
    float *host = NULL;
    size_t host_cap = 0;
    for (size_t i = 0; ok && i < clg_params_count(params); i++) {
        const clg_tensor *t = clg_params_tensor(params, i);
        size_t n = (size_t)clg_tensor_numel(t);
        if (n > host_cap) {
            float *grown = realloc(host, n * sizeof *host);
            if (!grown) {
                ok = false;
                break;
            }
            host = grown;
            host_cap = n;
        }
        /* The host is little endian on every platform clgrad targets, as is
         * safetensors. */
        ok = clg_tensor_download(t, host, n) == CLG_STATUS_OK && fwrite(host, 4, n, f) == n;
    }
    free(host);
    /* The data must reach the disk before the rename does, or a crash could
     * leave the new name pointing at an empty file. */
    return ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
}

/* Where Linux offers it, the checkpoint is written into an unnamed file
 * (O_TMPFILE) in the target's folder and given the temporary name only once
 * it is whole, just before the rename: a process killed while writing
 * (mpirun ending a job whose other rank died, kill -9) leaves nothing
 * behind. 1: saved; 0: failed, errno set; -1: unnamed files are not
 * available here (no O_TMPFILE, a file system without it, no /proc to name
 * one), so the caller writes a named temporary instead. */
static int save_unnamed(const clg_params *params, const char *header, size_t header_len,
                        const char *path, const char *tmp)
{
#ifdef O_TMPFILE
    const char *slash = strrchr(path, '/');
    char folder[4096];
    if (!slash)
        snprintf(folder, sizeof folder, ".");
    else
        snprintf(folder, sizeof folder, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    int fd = open(folder, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
    if (fd < 0)
        return errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL ? -1 : 0;
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
    if (access(self, F_OK) != 0) {
        close(fd);
        return -1;
    }
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        int saved = errno;
        close(fd);
        errno = saved;
        return 0;
    }
    bool ok = write_checkpoint(f, params, header, header_len) &&
              linkat(AT_FDCWD, self, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) == 0;
    int saved = errno;
    ok = (fclose(f) == 0) && ok;
    if (ok && rename(tmp, path) == 0)
        return 1;
    saved = errno ? errno : saved;
    remove(tmp);
    errno = saved;
    return 0;
#else
    (void)params, (void)header, (void)header_len, (void)path, (void)tmp;
    return -1;
#endif
}

CLG_API clg_status clg_checkpoint_save(clg_context *ctx, const clg_params *params,
                                       const char *path, const char *const *keys,
                                       const char *const *values, size_t n_meta)
{
    if (eng_failed(ctx))
        return ctx->rt.error.status;
    size_t header_len = 0;
    char *header = build_header(params, keys, values, n_meta, &header_len);
    if (!header)
        return eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "%s: out of host memory", path);
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp) {
        free(header);
        return eng_fail(ctx, CLG_STATUS_IO, "%.200s...: cannot write checkpoint: path too long",
                        path);
    }
    /* The rename below would replace a device node or a pipe with a regular
     * file (a save to /dev/full once did): refuse anything but a file. */
    struct stat existing;
    if (stat(path, &existing) == 0 && !S_ISREG(existing.st_mode)) {
        free(header);
        return eng_fail(ctx, CLG_STATUS_IO,
                        "%s: cannot write checkpoint: it exists and is not a regular file", path);
    }
    remove_stale_temporaries(path);
    errno = 0;
    int unnamed = save_unnamed(params, header, header_len, path, tmp);
    bool ok = unnamed == 1;
    if (unnamed < 0) {
        FILE *f = fopen(tmp, "wb");
        ok = f && write_checkpoint(f, params, header, header_len);
        int saved = errno;
        ok = f && (fclose(f) == 0) && ok;
        ok = ok && rename(tmp, path) == 0;
        if (!ok) {
            saved = errno ? errno : saved;
            remove(tmp);
            errno = saved;
        }
    }
    free(header);
    if (!ok) {
        int saved = errno;
        if (eng_failed(ctx))
            return ctx->rt.error.status;
        return eng_fail(ctx, CLG_STATUS_IO, "%s: cannot write checkpoint: %s", path,
                        strerror(saved ? saved : EIO));
    }
    return CLG_STATUS_OK;
}

void data_safetensors_names(const clg_safetensors *st, char *buffer, size_t capacity)
{
    enum { SHOWN = 8 };
    if (st->count == 0) {
        snprintf(buffer, capacity, "it holds no tensors");
        return;
    }
    size_t used = (size_t)snprintf(buffer, capacity, "it holds");
    size_t shown = 0;
    /* room for the tail ", and 99999 more" */
    for (; shown < st->count && shown < SHOWN; shown++) {
        const char *name = st->entries[shown].name;
        bool last = shown + 1 == st->count;
        size_t need = strlen(name) + 8 + (last ? 0 : 24);
        if (used + need >= capacity)
            break;
        used += (size_t)snprintf(buffer + used, capacity - used, "%s \"%s\"",
                                 shown == 0 ? ""
                                 : last     ? " and"
                                            : ",",
                                 name);
    }
    if (shown < st->count && used < capacity)
        snprintf(buffer + used, capacity - used, shown ? " and %zu more" : " %zu tensors",
                 st->count - shown);
}

clg_status data_checkpoint_load_from(clg_context *ctx, const clg_params *params, const char *path,
                                     const clg_safetensors *st)
{
    if (eng_failed(ctx))
        return ctx->rt.error.status;
    /* Check every name and shape before touching any parameter, so a
     * mismatched file leaves the model as it was. */
    for (size_t i = 0; i < clg_params_count(params); i++) {
        const char *name = clg_params_name(params, i);
        const clg_tensor *t = clg_params_tensor(params, i);
        const entry *e = find(st, name);
        char want[64];
        eng_shape_str(t, want, sizeof want);
        if (!e) {
            char names[400];
            data_safetensors_names(st, names, sizeof names);
            eng_fail(ctx, CLG_STATUS_MISMATCH,
                     "%s: checkpoint has no tensor \"%s\" (the model expects shape %s); %s", path,
                     name, want, names);
            break;
        }
        bool same = e->rank == t->rank && e->dtype == t->dtype;
        for (int d = 0; same && d < t->rank; d++)
            same = e->shape[d] == t->shape[d];
        if (!same) {
            clg_tensor fake = {.rank = e->rank};
            memcpy(fake.shape, e->shape, sizeof fake.shape);
            char got[64];
            eng_fail(ctx, CLG_STATUS_MISMATCH,
                     "%s: tensor \"%s\" has shape %s %s in the checkpoint but %s %s in the model",
                     path, name, eng_shape_str(&fake, got, sizeof got),
                     e->dtype == CLG_DTYPE_F32 ? "F32" : "I32", want,
                     t->dtype == CLG_DTYPE_F32 ? "F32" : "I32");
            break;
        }
    }
    for (size_t i = 0; !eng_failed(ctx) && i < clg_params_count(params); i++) {
        clg_tensor *t = clg_params_tensor(params, i);
        const entry *e = find(st, clg_params_name(params, i));
        clg_tensor_upload(t, e->data, (size_t)clg_tensor_numel(t));
    }
    return ctx->rt.error.status;
}

CLG_API clg_status clg_checkpoint_load(clg_context *ctx, const clg_params *params,
                                       const char *path)
{
    clg_safetensors *st = clg_safetensors_read(ctx, path);
    if (!st)
        return ctx->rt.error.status;
    data_checkpoint_load_from(ctx, params, path, st);
    clg_safetensors_destroy(st);
    return ctx->rt.error.status;
}
