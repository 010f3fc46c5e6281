/* data/file.c: bounded reading for the file formats of data/ (file.h says
 * why). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/file.h"

bool data_file_open(clg_context *ctx, const char *prefix, const char *path, data_file *file)
{
    *file = (data_file){.path = path, .prefix = prefix};
    FILE *f = fopen(path, "rb");
    if (!f) {
        eng_fail(ctx, CLG_STATUS_IO, "%s%s: cannot open: %s", prefix, path, strerror(errno));
        return false;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        eng_fail(ctx, CLG_STATUS_IO, "%s%s: cannot open: %s", prefix, path, strerror(errno));
        fclose(f);
        return false;
    }
    if (S_ISDIR(st.st_mode)) {
        eng_fail(ctx, CLG_STATUS_IO, "%s%s: cannot open: is a folder, not a file", prefix, path);
        fclose(f);
        return false;
    }
    file->f = f;
    file->regular = S_ISREG(st.st_mode);
    file->size = file->regular && st.st_size > 0 ? (uint64_t)st.st_size : 0;
    return true;
}

void data_file_close(data_file *file)
{
    if (file->f)
        fclose(file->f);
    file->f = NULL;
}

size_t data_file_read(data_file *file, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        size_t more = fread((unsigned char *)buf + got, 1, n - got, file->f);
        if (more == 0)
            break;
        got += more;
    }
    file->offset += got;
    return got;
}

uint64_t data_file_left(const data_file *file)
{
    if (!file->regular)
        return UINT64_MAX;
    return file->size > file->offset ? file->size - file->offset : 0;
}

/* Chunks of 16 MiB once past the first: large enough that the copies of
 * growing cost little next to the reading, small enough that a file
 * claiming gigabytes it does not hold costs at most one chunk more than it
 * holds. */
#define CHUNK ((size_t)16 << 20)

unsigned char *data_file_read_upto(clg_context *ctx, data_file *file, const char *what,
                                   uint64_t want, size_t *got)
{
    *got = 0;
    if (want >= SIZE_MAX / 2) {
        eng_fail(ctx, CLG_STATUS_FORMAT, "%s%s: %s of %llu bytes is too large for host memory",
                 file->prefix, file->path, what, (unsigned long long)want);
        return NULL;
    }
    /* A regular file's length is known: no more than it holds is needed. */
    uint64_t left = data_file_left(file);
    size_t target = (size_t)(want < left ? want : left);
    size_t capacity = target < CHUNK ? target : CHUNK, used = 0;
    unsigned char *buf = malloc(capacity + 1);
    while (buf) {
        used += data_file_read(file, buf + used, capacity - used);
        if (used < capacity || capacity == target)
            break;
        size_t grown_capacity = target - capacity < capacity ? target : 2 * capacity;
        unsigned char *grown = realloc(buf, grown_capacity + 1);
        if (!grown) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = grown;
        capacity = grown_capacity;
    }
    if (!buf) {
        eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "%s%s: out of host memory for the %s (%zu bytes)",
                 file->prefix, file->path, what, capacity + 1);
        return NULL;
    }
    if (ferror(file->f)) {
        eng_fail(ctx, CLG_STATUS_IO, "%s%s: read error in the %s: %s", file->prefix, file->path,
                 what, strerror(errno));
        free(buf);
        return NULL;
    }
    buf[used] = 0;
    *got = used;
    return buf;
}
