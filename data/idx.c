/* data/idx.c: IDX files, the container of MNIST and Fashion-MNIST (LeCun's
 * format: two zero bytes, a type byte, a rank byte, big-endian u32 dims, then
 * the elements in row-major order). Only unsigned bytes (type 0x08) are read,
 * which is all the image datasets use. A gzipped file (magic 1f 8b) is
 * inflated as it is read, a plain one passed through, so the format is told
 * by content, not by the name. The dims are checked against what the file
 * can hold before the data is allocated. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "clgrad/data.h"
#include "data/file.h"
#include "engine/engine.h"

#define IDX_TYPE_UBYTE 0x08

struct clg_idx {
    int rank;
    int64_t dims[4];
    uint8_t *data;
};

CLG_API void clg_idx_destroy(clg_idx *idx)
{
    if (!idx)
        return;
    free(idx->data);
    free(idx);
}

/* Deflate expands at most 1032:1 (zlib's technical details), so a gzipped
 * file of n bytes never holds more than this many times n: dims claiming more
 * are refused before anything is allocated for them. */
#define GZIP_MAX_RATIO 1032
/* Allocation grows by chunks as the bytes arrive, so a stream that ends early
 * costs what it held, not what its header claimed. */
#define CHUNK ((size_t)16 << 20)

/* The file's bytes after decompression: plain files pass through; a gzip
 * file (told by its magic 1f 8b) is inflated here with zlib's inflate
 * rather than gzread, so that a stream cut before its trailer, or followed by
 * anything but another gzip member, is an error rather than the end. */
typedef struct idx_stream {
    clg_context *ctx;
    data_file file;
    bool gzip;
    z_stream z;
    bool z_ready;  /* inflateInit2 done */
    bool z_end;    /* the last member's trailer was read */
    unsigned char in[1 << 16];
    unsigned char peek[2];
    size_t peeked; /* bytes of peek not yet handed out (plain files) */
} idx_stream;

/* Reads up to `want` bytes; fewer at the end of the data. false with the
 * context error set on a damaged or truncated gzip stream or a read error;
 * `part` names what was being read. */
static bool stream_read(idx_stream *s, const char *part, void *buf, size_t want, size_t *got)
{
    const char *path = s->file.path;
    unsigned char *out = buf;
    *got = 0;
    if (!s->gzip) {
        size_t n = 0;
        for (; s->peeked && n < want; n++)
            out[n] = s->peek[2 - s->peeked--];
        n += data_file_read(&s->file, out + n, want - n);
        *got = n;
        if (ferror(s->file.f)) {
            eng_fail(s->ctx, CLG_STATUS_IO, "%s: read error in the %s: %s", path, part,
                     strerror(errno));
            return false;
        }
        return true;
    }
    while (*got < want && !s->z_end) {
        if (s->z.avail_in == 0) {
            size_t n = data_file_read(&s->file, s->in, sizeof s->in);
            if (ferror(s->file.f)) {
                eng_fail(s->ctx, CLG_STATUS_IO, "%s: read error in the %s: %s", path, part,
                         strerror(errno));
                return false;
            }
            if (n == 0) {
                eng_fail(s->ctx, CLG_STATUS_FORMAT,
                         "%s: truncated %s: the gzip stream ends before its trailer (gzip: "
                         "unexpected end of file)",
                         path, part);
                return false;
            }
            s->z.next_in = s->in;
            s->z.avail_in = (uInt)n;
        }
        size_t room = want - *got;
        s->z.next_out = out + *got;
        s->z.avail_out = room > UINT_MAX ? UINT_MAX : (uInt)room;
        uInt before = s->z.avail_out;
        int ret = inflate(&s->z, Z_NO_FLUSH);
        *got += before - s->z.avail_out;
        if (ret == Z_STREAM_END) {
            /* Another member may follow (gzip's concatenation); anything
             * else after the trailer is not gzip data. */
            if (s->z.avail_in == 0) {
                size_t n = data_file_read(&s->file, s->in, sizeof s->in);
                s->z.next_in = s->in;
                s->z.avail_in = (uInt)n;
            }
            if (s->z.avail_in == 0) {
                s->z_end = true;
            } else if (s->z.avail_in >= 2 && s->z.next_in[0] == 0x1f && s->z.next_in[1] == 0x8b) {
                inflateReset(&s->z);
            } else {
                eng_fail(s->ctx, CLG_STATUS_FORMAT,
                         "%s: damaged gzip stream (gzip: bytes after the end of the stream)",
                         path);
                return false;
            }
        } else if (ret != Z_OK && !(ret == Z_BUF_ERROR && s->z.avail_in == 0)) {
            eng_fail(s->ctx, CLG_STATUS_FORMAT, "%s: damaged gzip stream (gzip: %s)", path,
                     s->z.msg ? s->z.msg : zError(ret));
            return false;
        }
    }
    return true;
}

static bool read_exactly(idx_stream *s, const char *part, void *buf, size_t want)
{
    size_t got = 0;
    if (!stream_read(s, part, buf, want, &got))
        return false;
    if (got != want)
        eng_fail(s->ctx, CLG_STATUS_FORMAT, "%s: truncated %s: expected %zu bytes, found %zu",
                 s->file.path, part, want, got);
    return got == want;
}

static bool stream_open(clg_context *ctx, const char *path, idx_stream *s)
{
    s->ctx = ctx;
    if (!data_file_open(ctx, "", path, &s->file))
        return false;
    s->peeked = data_file_read(&s->file, s->peek, 2);
    s->gzip = s->peeked == 2 && s->peek[0] == 0x1f && s->peek[1] == 0x8b;
    if (!s->gzip) {
        if (s->peeked < 2)
            memmove(s->peek + 2 - s->peeked, s->peek, s->peeked);
        return true;
    }
    memcpy(s->in, s->peek, 2);
    s->peeked = 0;
    s->z.next_in = s->in;
    s->z.avail_in = 2;
    if (inflateInit2(&s->z, 15 + 16) != Z_OK) {
        eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "%s: out of host memory for gzip", path);
        return false;
    }
    s->z_ready = true;
    return true;
}

static void stream_close(idx_stream *s)
{
    if (s->z_ready)
        inflateEnd(&s->z);
    data_file_close(&s->file);
}

/* The header: magic, then the dims. */
static bool read_header(idx_stream *s, clg_idx *idx)
{
    clg_context *ctx = s->ctx;
    const char *path = s->file.path;
    unsigned char magic[4];
    size_t got = 0;
    if (!stream_read(s, "IDX header (magic number)", magic, 4, &got))
        return false;
    if (got == 0) {
        eng_fail(ctx, CLG_STATUS_FORMAT, "%s: empty file, not an IDX file", path);
        return false;
    }
    if (got < 4) {
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: truncated IDX header (magic number): expected 4 bytes, found %zu", path, got);
        return false;
    }
    if (magic[0] != 0 || magic[1] != 0) {
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: wrong magic %02x %02x %02x %02x: not an IDX file (expected 00 00 08 0r)",
                 path, magic[0], magic[1], magic[2], magic[3]);
        return false;
    }
    if (magic[2] != IDX_TYPE_UBYTE) {
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: unsupported IDX element type 0x%02x (only 0x08, unsigned byte, is read)",
                 path, magic[2]);
        return false;
    }
    idx->rank = magic[3];
    if (idx->rank < 1 || idx->rank > 4) {
        eng_fail(ctx, CLG_STATUS_FORMAT, "%s: IDX rank %d (only 1 to 4 are read)", path, idx->rank);
        return false;
    }
    unsigned char dims[16];
    char part[64];
    snprintf(part, sizeof part, "IDX header (dims for rank %d)", idx->rank);
    if (!read_exactly(s, part, dims, 4 * (size_t)idx->rank))
        return false;
    for (int d = 0; d < idx->rank; d++) {
        const unsigned char *b = dims + 4 * d;
        idx->dims[d] = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    }
    return true;
}

/* What the file can hold after its header, checked before allocating the
 * `total` bytes the dims claim: a plain regular file's remaining length, a
 * gzipped one's times deflate's largest ratio. Devices and pipes say nothing
 * up front; reading them allocates as bytes arrive. */
static bool check_room(idx_stream *s, uint64_t total)
{
    if (!s->file.regular)
        return true;
    uint64_t left = data_file_left(&s->file);
    if (!s->gzip && total > left) {
        eng_fail(s->ctx, CLG_STATUS_FORMAT,
                 "%s: truncated IDX data: expected %llu bytes, found %llu", s->file.path,
                 (unsigned long long)total, (unsigned long long)left);
        return false;
    }
    if (s->gzip && total / GZIP_MAX_RATIO > s->file.size) {
        eng_fail(s->ctx, CLG_STATUS_FORMAT,
                 "%s: truncated IDX data: the dims say %llu bytes, more than a %llu-byte gzip "
                 "file can hold (deflate expands at most %d:1)",
                 s->file.path, (unsigned long long)total, (unsigned long long)s->file.size,
                 GZIP_MAX_RATIO);
        return false;
    }
    return true;
}

CLG_API clg_idx *clg_idx_read(clg_context *ctx, const char *path)
{
    if (eng_failed(ctx))
        return NULL;
    idx_stream *s = calloc(1, sizeof *s);
    clg_idx *idx = calloc(1, sizeof *idx);
    if (!s || !idx) {
        eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "%s: out of host memory", path);
        free(s);
        free(idx);
        return NULL;
    }
    if (!stream_open(ctx, path, s) || !read_header(s, idx))
        goto fail;
    /* Each dim is below 2^32 and there are at most four: check the product
     * as it grows, before it can overflow. */
    uint64_t total = 1;
    for (int d = 0; d < idx->rank; d++) {
        uint64_t v = (uint64_t)idx->dims[d];
        if (v && total > (uint64_t)(SIZE_MAX / 2) / v) {
            eng_fail(ctx, CLG_STATUS_FORMAT, "%s: IDX dims too large for host memory", path);
            goto fail;
        }
        total *= v;
    }
    if (!check_room(s, total))
        goto fail;
    size_t capacity = (size_t)total < CHUNK ? (size_t)total : CHUNK, used = 0;
    idx->data = malloc(capacity ? capacity : 1);
    while (idx->data) {
        size_t got = 0;
        if (!stream_read(s, "IDX data", idx->data + used, capacity - used, &got))
            goto fail;
        used += got;
        if (used < capacity || capacity == (size_t)total)
            break;
        size_t grown_capacity = (size_t)total - capacity < capacity ? (size_t)total : 2 * capacity;
        uint8_t *grown = realloc(idx->data, grown_capacity);
        if (!grown)
            break;
        idx->data = grown;
        capacity = grown_capacity;
    }
    if (!idx->data || used < capacity) {
        if (idx->data)
            eng_fail(ctx, CLG_STATUS_FORMAT, "%s: truncated IDX data: expected %llu bytes, found %zu",
                     path, (unsigned long long)total, used);
        else
            eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "%s: out of host memory for %llu bytes", path,
                     (unsigned long long)total);
        goto fail;
    }
    /* Bytes after the data mean the dims do not describe the file (a wrong
     * header, or two files run together): refuse rather than guess. Reading on
     * to the end also checks a gzip stream's CRC and trailer. */
    unsigned char extra;
    size_t more = 0;
    if (!stream_read(s, "end of the IDX file", &extra, 1, &more))
        goto fail;
    if (more) {
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: IDX file is longer than its dims say (%llu data bytes expected)", path,
                 (unsigned long long)total);
        goto fail;
    }
    stream_close(s);
    free(s);
    return idx;
fail:
    stream_close(s);
    free(s);
    clg_idx_destroy(idx);
    return NULL;
}

CLG_API int clg_idx_rank(const clg_idx *idx)
{
    return idx->rank;
}

/* Negative axes count from the end, as in clg_tensor_dim; 0 out of range. */
CLG_API int64_t clg_idx_dim(const clg_idx *idx, int axis)
{
    if (axis < 0)
        axis += idx->rank;
    return axis >= 0 && axis < idx->rank ? idx->dims[axis] : 0;
}

CLG_API const uint8_t *clg_idx_data(const clg_idx *idx)
{
    return idx->data;
}
