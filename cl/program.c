/* cl/program.c: lazy program builds and the kernel cache.
 *
 * A kernel is named by (source, options, kernel name). Its program is built
 * the first time it is asked for: from the on-disk binary cache when a binary
 * with the same key is there, else from source, after which the binary is
 * written to the cache (temporary file, then rename, so a crash or a second
 * process never leaves a torn file). The key hashes the source text, the
 * options, and the device, driver and platform versions, so a driver upgrade
 * rebuilds. Kernels are kept in a hash table for the context's life. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cl/runtime.h"

/* Always-on flags: OpenCL C 1.2, and no fast-math (gradient checks and NaN
 * propagation depend on IEEE semantics), but float denormals flushed to zero,
 * as GPUs commonly do: on x86 an operation on a denormal takes a microcode
 * assist, about 50 times the cost of a normal one, and training makes them
 * wherever gradients vanish (an LSTM's BPTT over 400 steps: 0.85 s a step
 * instead of 0.11). PoCL honours the option by setting the FTZ and DAZ flags
 * of the threads that run the program's kernels; a device may ignore it. */
#define BASE_OPTIONS "-cl-std=CL1.2 -cl-denorms-are-zero"
/* v2 added the binary's checksum: v1 entries (and anything else) fail the
 * magic and are rebuilt. */
#define CACHE_MAGIC "clgrad-program-binary-v2"
/* A program binary is a few megabytes at most; an entry claiming more is
 * damaged. */
#define CACHE_MAX_BINARY ((uint64_t)1 << 30)

static uint64_t fnv1a(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static uint64_t fnv1a_str(uint64_t h, const char *s)
{
    /* The terminator is hashed too, so ("ab","c") and ("a","bc") differ. */
    return fnv1a(h, s ? s : "", (s ? strlen(s) : 0) + 1);
}

/* A growing string for expand_source. */
typedef struct text_buffer {
    char *data;
    size_t length, capacity;
    bool failed;
} text_buffer;

static void append(text_buffer *b, const char *text, size_t n)
{
    if (b->failed)
        return;
    if (b->length + n + 1 > b->capacity) {
        size_t capacity = 2 * (b->length + n + 1);
        char *grown = realloc(b->data, capacity);
        if (!grown) {
            b->failed = true;
            return;
        }
        b->data = grown;
        b->capacity = capacity;
    }
    memcpy(b->data + b->length, text, n);
    b->length += n;
    b->data[b->length] = '\0';
}

#define MAX_INCLUDES 32

/* kernel_dir/name with each line `#include "path.cl"` replaced by that file's
 * text, expanded the same way, each file once (what tools/embed_kernels.py
 * does to the embedded copies). Expanding here rather than passing -I to the
 * compiler matters twice: the cache key hashes the text the compiler sees,
 * so an edit to an included file rebuilds; and a compiler looks for a quoted
 * include in the working directory first, which from a source tree would be
 * the unedited copy. false with the error set. */
static bool expand_source(clrt *rt, const char *name, text_buffer *out, char seen[][256],
                          int *n_seen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", rt->kernel_dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        clrt_fail(rt, CLG_STATUS_IO, "cannot open kernel source %s (CLGRAD_KERNEL_DIR): %s", path,
                  strerror(errno));
        return false;
    }
    char line[4096];
    bool ok = true;
    while (ok && fgets(line, sizeof line, f)) {
        char included[256];
        const char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        bool directive = *p == '#';
        for (p += directive; directive && (*p == ' ' || *p == '\t'); p++)
            ;
        size_t n = strlen(line);
        size_t length =
            directive && sscanf(p, "include \"%255[^\"]\"", included) == 1 ? strlen(included) : 0;
        if (length > 3 && strcmp(included + length - 3, ".cl") == 0) {
            bool again = false;
            for (int i = 0; i < *n_seen; i++)
                again = again || strcmp(seen[i], included) == 0;
            if (again)
                continue;
            if (*n_seen == MAX_INCLUDES) {
                clrt_fail(rt, CLG_STATUS_IO, "kernel source %s: more than %d includes", path,
                          MAX_INCLUDES);
                ok = false;
                break;
            }
            snprintf(seen[(*n_seen)++], 256, "%s", included);
            ok = expand_source(rt, included, out, seen, n_seen);
        } else {
            append(out, line, n);
        }
    }
    if (ok && ferror(f)) {
        clrt_fail(rt, CLG_STATUS_IO, "cannot read kernel source %s", path);
        ok = false;
    }
    fclose(f);
    return ok;
}

static const char *find_source(clrt *rt, const char *name, char **owned)
{
    *owned = NULL;
    if (rt->kernel_dir) {
        text_buffer b = {0};
        char seen[MAX_INCLUDES][256];
        int n_seen = 0;
        append(&b, "", 0);
        if (expand_source(rt, name, &b, seen, &n_seen) && !b.failed) {
            *owned = b.data;
            return b.data;
        }
        if (b.failed)
            clrt_fail(rt, CLG_STATUS_OUT_OF_MEMORY, "out of host memory reading kernel source %s",
                      name);
        free(b.data);
        return NULL;
    }
    for (size_t i = 0; i < clrt_source_count; i++)
        if (strcmp(clrt_sources[i].name, name) == 0)
            return clrt_sources[i].text;
    clrt_fail(rt, CLG_STATUS_INVALID_ARGUMENT, "no embedded kernel source named %s", name);
    return NULL;
}

static void cache_path(const clrt *rt, uint64_t h1, uint64_t h2, char *out, size_t capacity)
{
    snprintf(out, capacity, "%s/%016llx%016llx.bin", rt->cache_dir, (unsigned long long)h1,
             (unsigned long long)h2);
}

/* An entry: the magic (with its NUL), the key's length (u64) and text, the
 * binary's length (u64) and FNV-1a 64 checksum (u64), then the binary; the
 * integers in host byte order, as the entry never leaves the machine. The
 * checksum is verified before the binary reaches the driver: a driver fed a
 * damaged binary may crash rather than fail. */
clrt_cache_entry clrt_cache_parse(const unsigned char *file, size_t size, const char *key_text,
                                  const unsigned char **binary, size_t *binary_size)
{
    size_t at = sizeof CACHE_MAGIC;
    uint64_t key_len = 0, bin_len = 0, checksum = 0;
    if (size < at + 8 || memcmp(file, CACHE_MAGIC, sizeof CACHE_MAGIC) != 0)
        return CLRT_CACHE_DAMAGED;
    memcpy(&key_len, file + at, 8);
    at += 8;
    /* every length checked against what is left of the file before use */
    if (key_len > size - at)
        return CLRT_CACHE_DAMAGED;
    bool same_key = key_len == strlen(key_text) && memcmp(file + at, key_text, key_len) == 0;
    at += (size_t)key_len;
    if (size - at < 16)
        return CLRT_CACHE_DAMAGED;
    memcpy(&bin_len, file + at, 8);
    memcpy(&checksum, file + at + 8, 8);
    at += 16;
    if (bin_len == 0 || bin_len > CACHE_MAX_BINARY || bin_len != size - at)
        return CLRT_CACHE_DAMAGED;
    if (fnv1a(0xcbf29ce484222325ULL, file + at, (size_t)bin_len) != checksum)
        return CLRT_CACHE_DAMAGED;
    if (!same_key)
        return CLRT_CACHE_OTHER_KEY; /* a hash collision: rebuild, overwrite */
    *binary = file + at;
    *binary_size = (size_t)bin_len;
    return CLRT_CACHE_OK;
}

/* The entry's bytes, at most CACHE_MAX_BINARY plus its header, read whole;
 * NULL when unreadable or larger (a damaged entry). */
static unsigned char *cache_read(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct stat st;
    unsigned char *bytes = NULL;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
        (uint64_t)st.st_size <= CACHE_MAX_BINARY + 65536) {
        *size = (size_t)st.st_size;
        bytes = malloc(*size);
        if (bytes && fread(bytes, 1, *size, f) != *size) {
            free(bytes);
            bytes = NULL;
        }
    }
    fclose(f);
    return bytes;
}

/* Returns a built program from the cache file, or NULL: no entry, another
 * key's entry, or a bad one, which is deleted here so the build from source
 * that follows writes a good one in its place. A binary the driver refuses
 * (a driver that changed without its version saying so) is bad too. */
static cl_program cache_load(clrt *rt, const char *path, const char *key_text,
                             const char *options)
{
    size_t size = 0;
    unsigned char *file = cache_read(path, &size);
    if (!file) {
        if (access(path, F_OK) == 0) { /* there, but empty or unreadable */
            remove(path);
            rt->counters.disk_cache_rejects++;
        }
        return NULL;
    }
    const unsigned char *binary = NULL;
    size_t length = 0;
    clrt_cache_entry entry = clrt_cache_parse(file, size, key_text, &binary, &length);
    cl_program program = NULL;
    if (entry == CLRT_CACHE_OK) {
        cl_int binary_status = CL_SUCCESS, err = CL_SUCCESS;
        program = clCreateProgramWithBinary(rt->context, 1, &rt->device, &length, &binary,
                                            &binary_status, &err);
        if (err != CL_SUCCESS || binary_status != CL_SUCCESS) {
            if (program)
                clReleaseProgram(program);
            program = NULL;
        } else {
            rt->counters.program_builds++;
            /* The build options again: a driver may keep some of them outside
             * the binary (PoCL's denormal flushing is a flag it sets when
             * it runs a kernel, taken from the options of this call). */
            if (clBuildProgram(program, 1, &rt->device, options, NULL, NULL) != CL_SUCCESS) {
                clReleaseProgram(program);
                program = NULL;
            } else {
                rt->counters.disk_cache_hits++;
            }
        }
        if (!program)
            entry = CLRT_CACHE_DAMAGED;
    }
    if (entry == CLRT_CACHE_DAMAGED) {
        remove(path);
        rt->counters.disk_cache_rejects++;
    }
    free(file);
    return program;
}

int clrt_make_dirs(const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    return (mkdir(tmp, 0755) != 0 && errno != EEXIST) ? -1 : 0;
}

/* Best effort: a cache that cannot be written only costs a rebuild later, so
 * failures here are not errors. */
static void cache_store(clrt *rt, const char *path, const char *key_text, cl_program program)
{
    size_t bin_len = 0;
    if (clGetProgramInfo(program, CL_PROGRAM_BINARY_SIZES, sizeof bin_len, &bin_len, NULL) !=
            CL_SUCCESS ||
        bin_len == 0)
        return;
    unsigned char *binary = malloc(bin_len);
    if (!binary)
        return;
    unsigned char *binaries[1] = {binary};
    if (clGetProgramInfo(program, CL_PROGRAM_BINARIES, sizeof binaries, binaries, NULL) !=
            CL_SUCCESS ||
        clrt_make_dirs(rt->cache_dir) != 0) {
        free(binary);
        return;
    }
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (f) {
        uint64_t key_len = strlen(key_text), len64 = bin_len;
        uint64_t checksum = fnv1a(0xcbf29ce484222325ULL, binary, bin_len);
        bool ok = fwrite(CACHE_MAGIC, 1, sizeof CACHE_MAGIC, f) == sizeof CACHE_MAGIC &&
                  fwrite(&key_len, sizeof key_len, 1, f) == 1 &&
                  fwrite(key_text, 1, key_len, f) == key_len &&
                  fwrite(&len64, sizeof len64, 1, f) == 1 &&
                  fwrite(&checksum, sizeof checksum, 1, f) == 1 &&
                  fwrite(binary, 1, bin_len, f) == bin_len;
        ok = (fclose(f) == 0) && ok;
        if (!ok || rename(tmp, path) != 0)
            remove(tmp);
    }
    free(binary);
}

static cl_program build_program(clrt *rt, const char *source_name, const char *options)
{
    char *owned = NULL;
    const char *text = find_source(rt, source_name, &owned);
    if (!text)
        return NULL;

    /* Sources from CLGRAD_KERNEL_DIR come with their includes expanded, as
     * the embedded ones (expand_source). */
    char full_options[2048];
    snprintf(full_options, sizeof full_options, "%s %s %s", BASE_OPTIONS, rt->plan.options,
             options ? options : "");

    const clg_device_desc *d = &rt->desc;
    size_t key_cap = strlen(source_name) + strlen(full_options) + 1024;
    char *key_text = malloc(key_cap);
    cl_program program = NULL;
    if (!key_text) {
        clrt_fail(rt, CLG_STATUS_OUT_OF_MEMORY, "out of host memory building %s", source_name);
        goto cleanup_nostatus;
    }
    uint64_t source_hash = fnv1a_str(0xcbf29ce484222325ULL, text);
    snprintf(key_text, key_cap, "%s|%016llx|%s|%s|%s|%s|%s", source_name,
             (unsigned long long)source_hash, full_options, d->name, d->version,
             d->driver_version, d->platform_version);
    char path[4096] = "";
    if (rt->cache_dir) {
        uint64_t h1 = fnv1a_str(0xcbf29ce484222325ULL, key_text);
        uint64_t h2 = fnv1a_str(0x84222325cbf29ce4ULL, key_text);
        cache_path(rt, h1, h2, path, sizeof path);
        program = cache_load(rt, path, key_text, full_options);
        if (program)
            goto cleanup_nostatus;
    }

    clg_status status = CLG_STATUS_OK;
    cl_int err = CL_SUCCESS;
    program = clCreateProgramWithSource(rt->context, 1, &text, NULL, &err);
    CLRT_CHECK(rt, err);
    rt->counters.program_builds++;
    err = clBuildProgram(program, 1, &rt->device, full_options, NULL, NULL);
    if (err != CL_SUCCESS) {
        size_t log_size = 0;
        clGetProgramBuildInfo(program, rt->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &log_size);
        char *log = calloc(log_size + 1, 1);
        if (log)
            clGetProgramBuildInfo(program, rt->device, CL_PROGRAM_BUILD_LOG, log_size, log, NULL);
        clrt_fail(rt, CLG_STATUS_BUILD, "kernel build of %s with \"%s\" failed (%s):\n%s",
                  source_name, full_options, clrt_code_name(err), log ? log : "(no log)");
        free(log);
        clReleaseProgram(program);
        program = NULL;
        goto cleanup_nostatus;
    }
    if (rt->cache_dir)
        cache_store(rt, path, key_text, program);
    goto cleanup_nostatus;
cleanup:
    (void)status; /* recorded in rt->error by CLRT_CHECK */
    if (program)
        clReleaseProgram(program);
    program = NULL;
cleanup_nostatus:
    free(key_text);
    free(owned);
    return program;
}

static cl_program get_program(clrt *rt, const char *source_name, const char *options)
{
    const char *opt = options ? options : "";
    for (int i = 0; i < rt->n_programs; i++)
        if (strcmp(rt->programs[i].source_name, source_name) == 0 &&
            strcmp(rt->programs[i].options, opt) == 0)
            return rt->programs[i].program;
    if (rt->n_programs == rt->programs_capacity) {
        int cap = rt->programs_capacity ? 2 * rt->programs_capacity : 32;
        clrt_program *grown = realloc(rt->programs, (size_t)cap * sizeof *grown);
        if (!grown) {
            clrt_fail(rt, CLG_STATUS_OUT_OF_MEMORY, "out of host memory");
            return NULL;
        }
        rt->programs = grown;
        rt->programs_capacity = cap;
    }
    char *opt_copy = strdup(opt);
    if (!opt_copy) {
        clrt_fail(rt, CLG_STATUS_OUT_OF_MEMORY, "out of host memory");
        return NULL;
    }
    cl_program program = build_program(rt, source_name, opt);
    if (!program) {
        free(opt_copy);
        return NULL;
    }
    rt->programs[rt->n_programs++] = (clrt_program){source_name, opt_copy, program};
    return program;
}

static bool slot_matches(const clrt_kernel_slot *s, uint64_t h, const char *source_name,
                         const char *options, const char *kernel_name)
{
    return s->hash == h && strcmp(s->kernel_name, kernel_name) == 0 &&
           strcmp(s->source_name, source_name) == 0 && strcmp(s->options, options) == 0;
}

static bool grow_kernel_table(clrt *rt)
{
    int cap = rt->kernels_capacity ? 2 * rt->kernels_capacity : 128;
    clrt_kernel_slot *table = calloc((size_t)cap, sizeof *table);
    if (!table)
        return false;
    for (int i = 0; i < rt->kernels_capacity; i++) {
        clrt_kernel_slot *s = &rt->kernels[i];
        if (!s->kernel)
            continue;
        int j = (int)(s->hash & (uint64_t)(cap - 1));
        while (table[j].kernel)
            j = (j + 1) & (cap - 1);
        table[j] = *s;
    }
    free(rt->kernels);
    rt->kernels = table;
    rt->kernels_capacity = cap;
    return true;
}

cl_kernel clrt_kernel(clrt *rt, const char *source_name, const char *options,
                      const char *kernel_name)
{
    const char *opt = options ? options : "";
    uint64_t h = fnv1a_str(fnv1a_str(fnv1a_str(0xcbf29ce484222325ULL, source_name), opt),
                           kernel_name);
    if (rt->kernels_capacity) {
        int mask = rt->kernels_capacity - 1;
        for (int j = (int)(h & (uint64_t)mask); rt->kernels[j].kernel; j = (j + 1) & mask)
            if (slot_matches(&rt->kernels[j], h, source_name, opt, kernel_name))
                return rt->kernels[j].kernel;
    }
    if (rt->error.status != CLG_STATUS_OK)
        return NULL;
    if ((rt->n_kernels + 1) * 2 > rt->kernels_capacity && !grow_kernel_table(rt)) {
        clrt_fail(rt, CLG_STATUS_OUT_OF_MEMORY, "out of host memory");
        return NULL;
    }
    cl_program program = get_program(rt, source_name, opt);
    if (!program)
        return NULL;
    cl_int err = CL_SUCCESS;
    cl_kernel kernel = clCreateKernel(program, kernel_name, &err);
    char *opt_copy = strdup(opt), *name_copy = strdup(kernel_name);
    if (err != CL_SUCCESS || !opt_copy || !name_copy) {
        free(opt_copy);
        free(name_copy);
        if (kernel)
            clReleaseKernel(kernel);
        clrt_fail(rt, CLG_STATUS_BUILD, "no kernel %s in %s (options \"%s\"): %s", kernel_name,
                  source_name, opt, clrt_code_name(err));
        return NULL;
    }
    int mask = rt->kernels_capacity - 1;
    int j = (int)(h & (uint64_t)mask);
    while (rt->kernels[j].kernel)
        j = (j + 1) & mask;
    /* source_name is a string literal of the caller; kernel names may be
     * built in a stack buffer (one kernel per activation), so they are copied. */
    rt->kernels[j] = (clrt_kernel_slot){h, source_name, name_copy, opt_copy, kernel};
    rt->n_kernels++;
    clrt_plan_fit(rt, kernel);
    return kernel;
}

/* Rounds `global` up to whole work-groups (an empty dimension to one item). */
static void round_global(int dims, const size_t *global, const size_t *local, size_t *rounded)
{
    for (int d = 0; d < dims; d++) {
        size_t g = global[d] ? global[d] : 1;
        rounded[d] = local ? (g + local[d] - 1) / local[d] * local[d] : g;
    }
}

clg_status clrt_enqueue(clrt *rt, cl_kernel kernel, int dims, const size_t *global,
                        const size_t *local, int n_args, const clrt_arg *args, const char *label)
{
    clg_status status = CLG_STATUS_OK;
    size_t rounded[3];
    round_global(dims, global, local, rounded);
    for (int i = 0; i < n_args; i++)
        CLRT_CHECK(rt, clSetKernelArg(kernel, (cl_uint)i, args[i].size, args[i].value));
    cl_event event = NULL;
    CLRT_CHECK(rt, clEnqueueNDRangeKernel(rt->queue, kernel, (cl_uint)dims, NULL, rounded, local, 0,
                                          NULL, CLRT_PROFILE_EVENT(rt, event)));
    if (event)
        clrt_profile_keep(rt, event, label ? NULL : kernel, label);
cleanup:
    return status;
}

clg_status clrt_launch(clrt *rt, cl_kernel kernel, int dims, const size_t *global,
                       const size_t *local, int n_args, const clrt_arg *args)
{
    clg_status status = clrt_enqueue(rt, kernel, dims, global, local, n_args, args, NULL);
    if (status != CLG_STATUS_OK)
        return status;
    rt->counters.kernel_launches++;
    if (rt->trace.on) {
        size_t rounded[3];
        round_global(dims, global, local, rounded);
        clrt_trace_note(rt, kernel, dims, rounded, local, n_args, args);
    }
    return status;
}

void clrt_programs_release(clrt *rt)
{
    for (int i = 0; i < rt->kernels_capacity; i++) {
        if (rt->kernels[i].kernel) {
            clReleaseKernel(rt->kernels[i].kernel);
            free(rt->kernels[i].kernel_name);
            free(rt->kernels[i].options);
        }
    }
    free(rt->kernels);
    rt->kernels = NULL;
    rt->kernels_capacity = rt->n_kernels = 0;
    for (int i = 0; i < rt->n_programs; i++) {
        clReleaseProgram(rt->programs[i].program);
        free(rt->programs[i].options);
    }
    free(rt->programs);
    rt->programs = NULL;
    rt->n_programs = rt->programs_capacity = 0;
}
