/* tests/cl/test_runtime.c: device choice, the program cache on disk, kernel
 * build errors, the buffer pool and fills (cl/). Links the library's
 * objects, for clrt_fill. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/engine.h"
#include "support.h"

static clg_device_desc fake(int p, int d, clg_device_type type, const char *name)
{
    clg_device_desc desc = {0};
    desc.platform_index = p;
    desc.device_index = d;
    desc.type = type;
    snprintf(desc.name, sizeof desc.name, "%s", name);
    return desc;
}

START_TEST(test_devices_pick_rules)
{
    clg_device_desc descs[3] = {fake(0, 0, CLG_DEVICE_TYPE_CPU, "pthread-haswell-AMD EPYC"),
                                fake(1, 0, CLG_DEVICE_TYPE_GPU, "NVIDIA H100"),
                                fake(1, 1, CLG_DEVICE_TYPE_GPU, "Radeon RX 7900")};
    ck_assert_int_eq(clg_devices_pick(descs, 3, ""), 1); /* first GPU */
    ck_assert_int_eq(clg_devices_pick(descs, 1, ""), 0); /* else first CPU */
    ck_assert_int_eq(clg_devices_pick(descs, 3, "cpu"), 0);
    ck_assert_int_eq(clg_devices_pick(descs, 3, "gpu"), 1);
    ck_assert_int_eq(clg_devices_pick(descs, 3, "1:1"), 2);
    ck_assert_int_eq(clg_devices_pick(descs, 3, "radeon"), 2); /* substring, any case */
    ck_assert_int_eq(clg_devices_pick(descs, 3, "2:0"), -1);
    ck_assert_int_eq(clg_devices_pick(descs, 3, "tpu"), -1);
    ck_assert_int_eq(clg_devices_pick(descs, 1, "gpu"), -1);
    /* Mesa rusticl's llvmpipe calls itself a CPU: with PoCL's platform
     * listed first (Debian with both installed and RUSTICL_ENABLE=llvmpipe),
     * the default and "cpu" stay on PoCL; llvmpipe is taken by name. */
    clg_device_desc both[2] = {fake(0, 0, CLG_DEVICE_TYPE_CPU, "pthread-skylake-avx512-Intel Xeon"),
                               fake(1, 0, CLG_DEVICE_TYPE_CPU, "llvmpipe (LLVM 15.0.6, 256 bits)")};
    ck_assert_int_eq(clg_devices_pick(both, 2, ""), 0);
    ck_assert_int_eq(clg_devices_pick(both, 2, "cpu"), 0);
    ck_assert_int_eq(clg_devices_pick(both, 2, "llvmpipe"), 1);
}
END_TEST

START_TEST(test_devices_list_and_unknown_device)
{
    clg_device_desc descs[8];
    size_t count = 0;
    if (clg_devices_list(descs, 8, &count) != CLG_STATUS_OK || count == 0)
        exit(77);
    ck_assert_str_ne(descs[0].name, "");
    ck_assert_uint_gt(descs[0].compute_units, 0);
    ck_assert_uint_gt(descs[0].global_mem_bytes, 0);
    clg_context_options o = clg_context_options_default();
    o.device = "no-such-device-anywhere";
    clg_context *ctx = NULL;
    ck_assert_int_eq(clg_context_create(&o, &ctx), CLG_STATUS_NO_DEVICE);
    ck_assert_ptr_nonnull(ctx);
    const char *msg = clg_context_error(ctx);
    ck_assert_msg(strstr(msg, "no-such-device-anywhere") && strstr(msg, descs[0].name),
                  "message should name the spec and list the devices: %s", msg);
    clg_context_destroy(ctx);
}
END_TEST

static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".bin") && !strstr(e->d_name, ".tmp"))
            n++;
    closedir(d);
    return n;
}

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[2048];
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            remove(path);
        }
    closedir(d);
    rmdir(dir);
}

static clg_context *context_with_cache(const char *dir, bool disk_cache)
{
    clg_context_options o = clg_context_options_default();
    o.cache_dir = dir;
    o.disk_cache = disk_cache;
    clg_context *ctx = NULL;
    ck_assert_int_eq(clg_context_create(&o, &ctx), CLG_STATUS_OK);
    return ctx;
}

static void add_once(clg_context *ctx)
{
    clg_tensor *a = test_tensor(ctx, 1, (int64_t[]){4}, (float[]){1, 2, 3, 4}, false);
    clg_step_begin(ctx);
    clg_tensor *s = clg_add(a, a);
    float *got = test_download(s);
    ck_assert_float_eq(got[3], 8.0f);
    free(got);
    clg_step_end(ctx);
    clg_tensor_destroy(a);
}

START_TEST(test_program_cache_on_disk)
{
    clg_context_destroy(test_context()); /* exits 77 without a device */
    char dir[] = "/tmp/clgrad-cache-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char sub[1100];
    snprintf(sub, sizeof sub, "%s/nested/cache", dir); /* created on demand */
    clg_counters c;

    clg_context *first = context_with_cache(sub, true);
    add_once(first);
    clg_counters_get(first, &c);
    ck_assert_uint_eq(c.disk_cache_hits, 0);
    ck_assert_uint_ge(c.program_builds, 1);
    clg_context_destroy(first);
    int files = count_files(sub);
    ck_assert_int_ge(files, 1);

    clg_context *second = context_with_cache(sub, true);
    add_once(second);
    clg_counters_get(second, &c);
    ck_assert_uint_eq(c.disk_cache_hits, c.program_builds); /* every program from disk */
    clg_context_destroy(second);
    ck_assert_int_eq(count_files(sub), files);

    char off[1100];
    snprintf(off, sizeof off, "%s/off", dir);
    clg_context *uncached = context_with_cache(off, false);
    add_once(uncached);
    clg_counters_get(uncached, &c);
    ck_assert_uint_eq(c.disk_cache_hits, 0);
    clg_context_destroy(uncached);
    ck_assert_int_eq(count_files(off), 0);

    remove_tree(sub);
    snprintf(sub, sizeof sub, "%s/nested", dir);
    rmdir(sub);
    rmdir(dir);
}
END_TEST

/* Copies the source tree's `name` (under CLGRAD_GOLDEN_DIR/../..) to
 * dir/name, appending `extra`. */
static void copy_kernel(const char *dir, const char *name, const char *extra)
{
    char from[2048], to[2048], buffer[4096];
    snprintf(from, sizeof from, "%s/../../%s", CLGRAD_GOLDEN_DIR, name);
    snprintf(to, sizeof to, "%s/%s", dir, name);
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    ck_assert_msg(in && out, "copying %s to %s", from, to);
    for (size_t n; (n = fread(buffer, 1, sizeof buffer, in)) > 0;)
        ck_assert_uint_eq(fwrite(buffer, 1, n, out), n);
    fputs(extra, out);
    fclose(in);
    fclose(out);
}

/* Builds clg_add(a, a) in a context whose kernels come from a temporary
 * folder (CLGRAD_KERNEL_DIR-style) holding ops/binary.cl = `binary` and
 * ops/included.cl = `included`, which must fail to compile, besides the
 * tree's cl/memory.cl (a new tensor is zero-filled by its kernel); returns
 * the error message (static storage). */
static const char *failed_build(const char *binary, const char *included)
{
    static char msg[4096];
    char dir[] = "/tmp/clgrad-kernels-XXXXXX", path[1100];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    const char *folders[2] = {"ops", "cl"};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, folders[i]);
        ck_assert_int_eq(mkdir(path, 0755), 0);
    }
    copy_kernel(dir, "cl/memory.cl", "");
    const char *names[2] = {"binary.cl", "included.cl"}, *texts[2] = {binary, included};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/ops/%s", dir, names[i]);
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fputs(texts[i], f);
        fclose(f);
    }
    clg_context_options o = clg_context_options_default();
    o.kernel_dir = dir;
    o.disk_cache = false;
    clg_context *ctx = NULL;
    ck_assert_int_eq(clg_context_create(&o, &ctx), CLG_STATUS_OK);
    clg_tensor *a = test_tensor(ctx, 1, (int64_t[]){2}, NULL, false);
    ck_assert_ptr_null(clg_add(a, a));
    ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_BUILD);
    snprintf(msg, sizeof msg, "%s", clg_context_error(ctx));
    clg_tensor_destroy(a);
    clg_context_destroy(ctx);
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, folders[i]);
        remove_tree(path);
    }
    rmdir(dir);
    return msg;
}

/* A kernel that does not compile: the error carries the build log and names
 * the source. Loading from a folder makes this testable without touching the
 * embedded sources. */
/* Denormals are flushed (-cl-denorms-are-zero, cl/program.c) whether the
 * program comes from source or from the disk cache: PoCL takes the flag from
 * the options of clBuildProgram, which the cache used to call without them,
 * so a warm cache ran denormals at ~50x the cost. Returns 1e-39 + 1e-39 as
 * the device computes it. */
static float denormal_sum(clg_context *ctx)
{
    clg_tensor *a = test_tensor(ctx, 1, (int64_t[]){2}, (float[]){1e-39f, 1.0f}, false);
    clg_step_begin(ctx);
    float *got = test_download(clg_add(a, a));
    float sum = got[0];
    ck_assert_float_eq(got[1], 2.0f);
    free(got);
    clg_step_end(ctx);
    clg_tensor_destroy(a);
    return sum;
}

START_TEST(test_denormals_flushed_from_cache_too)
{
    clg_context_destroy(test_context()); /* exits 77 without a device */
    char dir[] = "/tmp/clgrad-cache-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    clg_counters c;
    clg_context *built = context_with_cache(dir, true);
    float from_source = denormal_sum(built);
    clg_counters_get(built, &c);
    ck_assert_uint_eq(c.disk_cache_hits, 0);
    /* PoCL's CPU device honours the option (a device may ignore it) */
    if (strncmp(clg_context_device_name(built), "pthread", 7) == 0)
        ck_assert_float_eq(from_source, 0.0f);
    clg_context_destroy(built);

    clg_context *cached = context_with_cache(dir, true);
    float from_cache = denormal_sum(cached);
    clg_counters_get(cached, &c);
    ck_assert_uint_ge(c.disk_cache_hits, 1);
    ck_assert_msg(from_cache == from_source, "1e-39 + 1e-39: %g from source, %g from the cache",
                  (double)from_source, (double)from_cache);
    clg_context_destroy(cached);
    remove_tree(dir);
}
END_TEST

START_TEST(test_program_build_error_has_log)
{
    clg_context_destroy(test_context()); /* exits 77 without a device */
    const char *msg = failed_build(
        "__kernel void binary_forward(__global float *x) { x[0] = undeclared_name; }\n", "");
    ck_assert_msg(strstr(msg, "ops/binary.cl") && strstr(msg, "undeclared_name"),
                  "message should name the source and carry the log: %s", msg);
}
END_TEST

/* Sources loaded from a kernel folder find their #include files there,
 * whatever the working directory: the included file stops the build with an
 * #error of its own, which the log shows only if it was found. */
START_TEST(test_kernel_dir_includes)
{
    clg_context_destroy(test_context());
    const char *msg = failed_build("#include \"ops/included.cl\"\n",
                                   "#error the included file was found\n");
    ck_assert_msg(strstr(msg, "the included file was found"), "include not found: %s", msg);
}
END_TEST

/* ops/binary.cl and the cl/common.cl it includes (and cl/memory.cl, whose
 * kernel zero-fills a new tensor), copied into a kernel folder, build and
 * are cached; an edit to the included file alone must
 * rebuild (the cache key hashes the expanded source), which the #error
 * appended to it shows. */
START_TEST(test_kernel_dir_edited_include_rebuilds)
{
    clg_context_destroy(test_context());
    char dir[] = "/tmp/clgrad-kernels-XXXXXX", cache[] = "/tmp/clgrad-cache-XXXXXX", path[1100];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_ptr_nonnull(mkdtemp(cache));
    const char *folders[2] = {"ops", "cl"};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, folders[i]);
        ck_assert_int_eq(mkdir(path, 0755), 0);
    }
    copy_kernel(dir, "ops/binary.cl", "");
    copy_kernel(dir, "cl/common.cl", "");
    copy_kernel(dir, "cl/memory.cl", "");
    clg_context_options o = clg_context_options_default();
    o.kernel_dir = dir;
    o.cache_dir = cache;
    for (int edited = 0; edited < 2; edited++) {
        if (edited)
            copy_kernel(dir, "cl/common.cl", "\n#error the edited include was compiled\n");
        clg_context *ctx = NULL;
        ck_assert_int_eq(clg_context_create(&o, &ctx), CLG_STATUS_OK);
        clg_tensor *a = test_tensor(ctx, 1, (int64_t[]){2}, (float[]){1, 2}, false);
        clg_step_begin(ctx);
        clg_tensor *sum = clg_add(a, a);
        if (!edited) {
            ck_assert_msg(sum != NULL, "%s", clg_context_error(ctx));
            ck_assert_int_ge(count_files(cache), 1);
        } else {
            ck_assert_ptr_null(sum);
            ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_BUILD);
            ck_assert_msg(strstr(clg_context_error(ctx), "the edited include was compiled"), "%s",
                          clg_context_error(ctx));
        }
        clg_step_end(ctx);
        clg_tensor_destroy(a);
        clg_context_destroy(ctx);
    }
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, folders[i]);
        remove_tree(path);
    }
    rmdir(dir);
    remove_tree(cache);
}
END_TEST

START_TEST(test_pool_reuses_buffers)
{
    clg_context *ctx = test_context();
    clg_counters c0, c1;
    clg_memstats m0, m1;
    clg_tensor *t = test_tensor(ctx, 2, (int64_t[]){100, 100}, NULL, false);
    clg_memstats_get(ctx, &m0);
    clg_tensor_destroy(t);
    clg_memstats_get(ctx, &m1);
    ck_assert_uint_lt(m1.bytes_in_use, m0.bytes_in_use);
    ck_assert_uint_eq(m1.bytes_held, m0.bytes_held); /* kept for reuse */
    clg_counters_get(ctx, &c0);
    t = test_tensor(ctx, 2, (int64_t[]){99, 101}, NULL, false); /* same size class */
    clg_counters_get(ctx, &c1);
    ck_assert_uint_eq(c1.device_allocations, c0.device_allocations);
    clg_tensor_destroy(t);
    ck_assert_uint_ge(m0.bytes_peak, 40000);
    clg_context_destroy(ctx);
}
END_TEST

/* The step arena: the first step may grow it, identical later steps do not
 * allocate, even when the first step needed several chunks. */
START_TEST(test_arena_steady_state_allocates_nothing)
{
    clg_context *ctx = test_context();
    clg_tensor *a = test_tensor(ctx, 2, (int64_t[]){512, 512}, NULL, true);
    clg_counters before, after;
    for (int step = 0; step < 4; step++) {
        if (step == 2)
            clg_counters_get(ctx, &before);
        clg_step_begin(ctx);
        clg_tensor *x = a;
        for (int i = 0; i < 6; i++) /* 6 x 1 MiB: more than the first chunk */
            x = clg_add(x, a);
        clg_tensor *g = clg_tensor_full(ctx, 2, (int64_t[]){512, 512}, 1.0f);
        ck_assert_int_eq(clg_backward_with(x, g), CLG_STATUS_OK);
        clg_step_end(ctx);
    }
    test_expect_steady(ctx, &before, &after, 0, "steady steps");
    clg_tensor_destroy(a);
    clg_context_destroy(ctx);
}
END_TEST

/* clrt_fill: 4-byte patterns through the fill_words kernel, any offset and
 * length in words (inside a work-item's run, across runs and work-groups,
 * ending mid-vector), writing exactly its range; other patterns through
 * clEnqueueFillBuffer. A fill is no kernel launch to the counters. */
START_TEST(test_fill_exact_ranges)
{
    clg_context *ctx = test_context();
    clrt *rt = &ctx->rt;
    const size_t run = rt->plan.fill_run, words = 2 * run * rt->plan.row_group + 3 * run + 53;
    clrt_block *block = clrt_pool_get(rt, words * 4);
    ck_assert_ptr_nonnull(block);
    uint32_t *want = malloc(words * 4), *got = malloc(words * 4);
    const unsigned char byte = 0xa5;
    ck_assert_int_eq(clrt_fill(rt, block->mem, 0, words * 4, &byte, 1), CLG_STATUS_OK);
    memset(want, byte, words * 4);
    const size_t ranges[][2] = {{0, words},         {3, 1},           {5, run + 7},
                                {17, 2 * run + 16}, {words - 21, 21}, {1, words - 2}};
    clg_counters before, after;
    clg_counters_get(ctx, &before);
    for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++) {
        const uint32_t value = 0x3f800000u + (uint32_t)r; /* 1.0f and its neighbours */
        ck_assert_int_eq(clrt_fill(rt, block->mem, ranges[r][0] * 4, ranges[r][1] * 4, &value, 4),
                         CLG_STATUS_OK);
        for (size_t i = 0; i < ranges[r][1]; i++)
            want[ranges[r][0] + i] = value;
        ck_assert_int_eq(clrt_read(rt, block->mem, 0, got, words * 4), CLG_STATUS_OK);
        for (size_t i = 0; i < words; i++)
            ck_assert_msg(got[i] == want[i],
                          "fill %zu (from %zu, %zu words): word %zu is %08x, not %08x", r,
                          ranges[r][0], ranges[r][1], i, got[i], want[i]);
    }
    clg_counters_get(ctx, &after);
    ck_assert_uint_eq(after.kernel_launches, before.kernel_launches);
    free(want);
    free(got);
    clrt_pool_put(rt, block);
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_devices_pick_rules,
                            test_devices_list_and_unknown_device,
                            test_program_cache_on_disk,
                            test_denormals_flushed_from_cache_too,
                            test_program_build_error_has_log,
                            test_kernel_dir_includes,
                            test_kernel_dir_edited_include_rebuilds,
                            test_pool_reuses_buffers,
                            test_arena_steady_state_allocates_nothing,
                            test_fill_exact_ranges,
                            NULL};
    return test_main("cl/runtime", "runtime", 0, tests);
}
