/* data/file.h: bounded reading of the files data/ parses (IDX, CSV,
 * safetensors). Every count or size a file states is checked against what
 * the file can hold before anything is allocated for it: a regular file's
 * length is known up front; a device or pipe (/dev/zero, a shell's <(...))
 * is read in chunks, the buffer growing only as bytes arrive, up to a bound
 * named in the error. Internal prefix: data_. */
#ifndef CLGRAD_DATA_FILE_H
#define CLGRAD_DATA_FILE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/engine.h"

typedef struct data_file {
    FILE *f;
    const char *path;
    const char *prefix; /* put before the path in messages: "" or "fn: " */
    bool regular;       /* a regular file, whose length is `size` */
    uint64_t size;
    uint64_t offset; /* bytes read so far */
} data_file;

/* Opens `path` for reading; a folder is refused. false with the context
 * error set (CLG_STATUS_IO). */
bool data_file_open(clg_context *ctx, const char *prefix, const char *path, data_file *file);
void data_file_close(data_file *file);
/* Up to `n` bytes; fewer only at the end of the file or on a read error
 * (ferror then says which). */
size_t data_file_read(data_file *file, void *buf, size_t n);
/* Bytes left to read, as far as the file can say: a regular file's remaining
 * length, else UINT64_MAX. */
uint64_t data_file_left(const data_file *file);
/* Reads up to `want` bytes into a malloc'ed buffer (one spare byte, set to
 * NUL, after them), allocating as the bytes arrive rather than up front, so a
 * short or endless file costs what it holds or `want`, never what a header
 * claimed. *got says how many arrived; NULL with the context error set on a
 * read error or out of memory (the message names `what`). */
unsigned char *data_file_read_upto(clg_context *ctx, data_file *file, const char *what,
                                   uint64_t want, size_t *got);

#endif
