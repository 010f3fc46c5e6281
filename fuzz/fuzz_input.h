/* fuzz/fuzz_input.h: what every harness shares: the input as a file the
 * reader opens by path (a memfd, so nothing touches the disk and the reader
 * runs its real open/stat/read path), and a context that needs no device
 * (the readers only record errors in it). */
#ifndef CLGRAD_FUZZ_INPUT_H
#define CLGRAD_FUZZ_INPUT_H

#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "engine/engine.h"

/* The path of a file holding exactly data[0..size). */
static inline const char *fuzz_file(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("clgrad-fuzz", 0);
        if (fd < 0) {
            perror("memfd_create");
            abort();
        }
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size)) {
        perror("fuzz input");
        abort();
    }
    return path;
}

/* A context for the host-side readers: zeroed, never given a device. */
static inline clg_context *fuzz_context(void)
{
    static clg_context *ctx;
    if (!ctx)
        ctx = calloc(1, sizeof *ctx);
    clg_context_clear_error(ctx);
    return ctx;
}

#endif
