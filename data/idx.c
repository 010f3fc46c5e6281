/* data/idx.c: IDX files, the container of MNIST and Fashion-MNIST (LeCun's
 * format: two zero bytes, a type byte, a rank byte, big-endian u32 dims, then
 * the elements in row-major order). Only unsigned bytes (type 0x08) are read,
 * which is all the image datasets use. zlib's gzread inflates a gzipped file
 * and passes a plain one through unchanged, so both read the same way and
 * the format is told by content, not by the name. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "clgrad/data.h"
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

/* Reads up to `want` bytes; returns how many arrived (fewer at the end of the
 * file or on an error, which gzerror then holds). */
static size_t read_some(gzFile gz, void *buf, size_t want)
{
    size_t got = 0;
    while (got < want) {
        size_t chunk = want - got;
        if (chunk > (size_t)INT_MAX)
            chunk = (size_t)INT_MAX;
        int n = gzread(gz, (unsigned char *)buf + got, (unsigned)chunk);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    return got;
}

/* Records why a read stopped early: a read error (IO), a damaged gzip stream,
 * or the file simply ending, said as `part` with the bytes expected and
 * found. Returns false so callers can `return fail_short(...)`. */
static bool fail_short(clg_context *ctx, gzFile gz, const char *path, const char *part, size_t want,
                       size_t got)
{
    int code = Z_OK;
    const char *text = gzerror(gz, &code);
    /* zlib prefixes its message with the path, which ours already names. */
    size_t path_len = strlen(path);
    if (strncmp(text, path, path_len) == 0 && strncmp(text + path_len, ": ", 2) == 0)
        text += path_len + 2;
    if (code == Z_ERRNO)
        eng_fail(ctx, CLG_STATUS_IO, "%s: read error in the %s: %s", path, part, strerror(errno));
    else if (code == Z_DATA_ERROR || code == Z_MEM_ERROR)
        /* No part named: zlib inflates ahead of the reader, so a bad CRC at
         * the end already fails the first read. */
        eng_fail(ctx, CLG_STATUS_FORMAT, "%s: damaged gzip stream (gzip: %s)", path, text);
    else if (code != Z_OK) /* Z_BUF_ERROR: the compressed stream was cut */
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: truncated %s: expected %zu bytes, found %zu (gzip: %s)", path, part, want,
                 got, text);
    else
        eng_fail(ctx, CLG_STATUS_FORMAT, "%s: truncated %s: expected %zu bytes, found %zu", path,
                 part, want, got);
    return false;
}

static bool read_exactly(clg_context *ctx, gzFile gz, const char *path, const char *part, void *buf,
                         size_t want)
{
    size_t got = read_some(gz, buf, want);
    return got == want || fail_short(ctx, gz, path, part, want, got);
}

/* The header: magic, then the dims. */
static bool read_header(clg_context *ctx, gzFile gz, const char *path, clg_idx *idx)
{
    unsigned char magic[4];
    size_t got = read_some(gz, magic, 4);
    if (got == 0 && gzeof(gz)) {
        int code = Z_OK;
        gzerror(gz, &code);
        if (code == Z_OK) {
            eng_fail(ctx, CLG_STATUS_FORMAT, "%s: empty file, not an IDX file", path);
            return false;
        }
    }
    if (got < 4)
        return fail_short(ctx, gz, path, "IDX header (magic number)", 4, got);
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
    if (!read_exactly(ctx, gz, path, part, dims, 4 * (size_t)idx->rank))
        return false;
    for (int d = 0; d < idx->rank; d++) {
        const unsigned char *b = dims + 4 * d;
        idx->dims[d] = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    }
    return true;
}

CLG_API clg_idx *clg_idx_read(clg_context *ctx, const char *path)
{
    if (eng_failed(ctx))
        return NULL;
    errno = 0;
    gzFile gz = gzopen(path, "rb");
    if (!gz) {
        eng_fail(ctx, CLG_STATUS_IO, "%s: cannot open IDX file: %s", path,
                 errno ? strerror(errno) : "out of memory");
        return NULL;
    }
    gzbuffer(gz, 1u << 17);
    clg_idx *idx = calloc(1, sizeof *idx);
    if (!idx) {
        eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "%s: out of host memory", path);
        goto fail;
    }
    if (!read_header(ctx, gz, path, idx))
        goto fail;
    /* Each dim is below 2^32 and there are at most four: check the product
     * against SIZE_MAX as it grows. */
    size_t total = 1;
    for (int d = 0; d < idx->rank; d++) {
        size_t v = (size_t)idx->dims[d];
        if (v && total > SIZE_MAX / v) {
            eng_fail(ctx, CLG_STATUS_FORMAT, "%s: IDX dims too large for host memory", path);
            goto fail;
        }
        total *= v;
    }
    idx->data = malloc(total ? total : 1);
    if (!idx->data) {
        eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "%s: out of host memory for %zu bytes", path,
                 total);
        goto fail;
    }
    if (!read_exactly(ctx, gz, path, "IDX data", idx->data, total))
        goto fail;
    /* Bytes after the data mean the dims do not describe the file (a wrong
     * header, or two files run together): refuse rather than guess. Reading on
     * to the end also checks a gzip stream's CRC. */
    unsigned char extra;
    size_t more = read_some(gz, &extra, 1);
    if (more) {
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: IDX file is longer than its dims say (%zu data bytes expected)", path, total);
        goto fail;
    }
    int code = Z_OK;
    gzerror(gz, &code);
    if (code != Z_OK) {
        fail_short(ctx, gz, path, "end of the IDX file", 1, 0);
        goto fail;
    }
    gzclose(gz);
    return idx;
fail:
    gzclose(gz);
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
