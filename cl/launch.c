/* cl/launch.c: the launch plan, the one place that decides how every op
 * family shapes its launches on this device (see clrt_plan in runtime.h),
 * and the launch trace that counts what was really enqueued.
 *
 * The plan is filled once per context from the device's properties: its
 * type picks the kind (CLGRAD_LAUNCH=cpu|gpu overrides it, so both kinds run
 * and are tested on any device), the maximum work-group size, the local
 * memory and the preferred work-group multiple bound the sizes. Kernels that
 * depend on a size (the tree reductions' local arrays) receive it as a -D
 * option built into every program (rt->plan.options), with an #ifndef
 * default in the kernel so the .cl file compiles on its own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl/runtime.h"

/* The smallest CLGRAD_LOOP_LIMIT: a GEMM's slice of K is a quarter of the
 * bound (cl/gemm.c's clrt_gemm_run), 128 here, and much shorter slices would
 * mostly run the kernels' partial blocks of K (KB, 256). */
#define LOOP_LIMIT_MIN 512

/* The largest power of two <= n (n >= 1). */
static size_t floor_pow2(size_t n)
{
    size_t p = 1;
    while (p * 2 <= n)
        p *= 2;
    return p;
}

int clrt_preferred_float_width(const clrt *rt)
{
    cl_uint width = 0;
    if (clGetDeviceInfo(rt->device, CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT, sizeof width, &width,
                        NULL) != CL_SUCCESS)
        width = 1;
    int vw = 1;
    while (vw < 16 && (cl_uint)(2 * vw) <= width)
        vw *= 2;
    return vw;
}

clg_status clrt_plan_setup(clrt *rt)
{
    clrt_plan *plan = &rt->plan;
    const char *forced = getenv("CLGRAD_LAUNCH");
    if (forced && forced[0] && strcmp(forced, "cpu") != 0 && strcmp(forced, "gpu") != 0)
        return clrt_fail(rt, CLG_STATUS_INVALID_ARGUMENT,
                         "CLGRAD_LAUNCH=%s: the launch plans are cpu and gpu", forced);
    bool gpu = forced && forced[0] ? strcmp(forced, "gpu") == 0
                                   : rt->desc.type != CLG_DEVICE_TYPE_CPU;

    size_t max_group = 0;
    cl_ulong local_bytes = 0;
    if (clGetDeviceInfo(rt->device, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof max_group, &max_group,
                        NULL) != CL_SUCCESS ||
        max_group == 0)
        max_group = 1; /* every device runs groups of 1 */
    if (clGetDeviceInfo(rt->device, CL_DEVICE_LOCAL_MEM_SIZE, sizeof local_bytes, &local_bytes,
                        NULL) != CL_SUCCESS)
        local_bytes = 0;
    /* A reduction's local array holds a float per work-item; OpenCL 1.2
     * guarantees 32 KiB of local memory, so 256 floats (1 KiB) always fit,
     * but the bound is kept for a device that reports less. */
    size_t by_local = local_bytes >= 4 ? (size_t)(local_bytes / 4) : 1;

    *plan = (clrt_plan){0};
    if (!gpu) {
        /* Measured with PoCL on two AVX-512 cores (the figures are in the
         * commits that set them): groups of 64 for elementwise kernels and
         * reductions; 8 for the long per-row work-items, so that a launch
         * of 64 planes still covers every core; 16 x 4 tiles. */
        plan->kind = CLRT_PLAN_CPU;
        plan->name = "cpu";
        plan->group = 64;
        plan->per_element = false;
        plan->row_group = 8;
        /* bias + activation backward over 2048 x 100: blocks of 128 rows
         * give 16 x 7 work-items of float16s (see ops/activation.cl) */
        plan->block_rows = 128;
        /* ... but a work-item that walks its column chunk down rows far
         * apart loses the prefetchers (a cache line a row, 2 KiB between
         * rows) and waits on the last-level cache for every line: the
         * LSTM's bias gradient over dgates (6400 x 512, T = 100) took
         * 0.48-0.71 ms in blocks of 128 rows (256 KiB a walk), 0.30 ms in
         * blocks of 64 (128 KiB), 0.33 in blocks of 32 (whose partial sums
         * then take longer to add) */
        plan->block_bytes = 128 * 1024;
        /* a fill's work-item writes 16 KiB in whole vectors: a work-group
         * of 8 such runs per core at a time (smaller runs pay PoCL's cost
         * per work-group) */
        plan->fill_run = 4096;
        /* PoCL vectorises a work-item's vector arithmetic, not the
         * work-items of a group, in kernels with a runtime switch or
         * transcendental calls; its vector built-ins run at the host's full
         * width (exp on float16s three times as fast per element as on
         * float4s with AVX-512). So the device's preferred width, 4 at
         * least (the float4 kernels): 16 on AVX-512, 8 on AVX2. */
        int preferred = clrt_preferred_float_width(rt);
        plan->vector_width = preferred > 4 ? preferred : 4;
        plan->reduce_group = 64;
        plan->reduce_split = 1;
        plan->reduce_chunk = 1;
        plan->tile[0] = 16;
        plan->tile[1] = 4;
        plan->preferred_multiple = 1;
        /* Split K: only a weight gradient's A^T B with few outputs over a
         * long K, in one slice per compute unit, each slice's tiles taken
         * by one work-item. Inside a training step its operands come from
         * the last-level cache or the other core's (dY just written, X from
         * the forward pass), and a work-item per tile sends every core down
         * the whole of both; a slice per core streams half of each, in
         * contiguous rows, once, and then reads it from its own L2. The
         * autoencoder's step (PoCL, two AVX-512 cores, device time of the
         * weight gradients over K = 2048, the sum's launch included): 100 x
         * 100 300-350 -> 230-240 us, 30 x 100 130-150 -> 90, 100 x 15
         * 100-110 -> 70, 15 x 100 105-120 -> 60, 100 x 30 125-130 -> 80.
         * (PoCL starts the sum 15-20 us after the slices end, against 2-5 us
         * between other launches: still 0.3 ms less a step.) Standalone,
         * with hot operands, a split with a work-item per tile gains nothing
         * (gemm-bench --split, best of five, whole vs 2-64 slices a tile per
         * work-item: LeNet-5 conv1 dW 6x25x50176 29.5 vs 29.3 GFLOP/s, conv2
         * dW 16x150x6400 127 vs 100, MLP fc3 dW 28 vs 13), and products with
         * more outputs have tiles enough for both cores. */
        size_t units = rt->desc.compute_units > 0 ? (size_t)rt->desc.compute_units : 1;
        plan->gemm_split_outputs = 16384;
        plan->gemm_split_target = plan->gemm_split_outputs * units;
        plan->gemm_split_long_k = 1024;
        plan->gemm_split_min_k = 512;
        plan->gemm_split_max = units;
        plan->gemm_split_rows = true;
        plan->gemm_split_item = true;
    } else {
        /* 256 work-items a group: enough warps per group to hide memory
         * latency, few enough that several groups fit a compute unit; the
         * first kernel built rounds it to the SIMD width (clrt_plan_fit). */
        size_t group = 256 < max_group ? 256 : max_group;
        plan->kind = CLRT_PLAN_GPU;
        plan->name = "gpu";
        plan->group = group;
        plan->per_element = true;
        plan->row_group = group;
        plan->block_rows = 128; /* unused: the gpu plan's kernels go per element */
        plan->block_bytes = 128 * 1024; /* unused likewise */
        plan->fill_run = 1;     /* neighbours write neighbouring words */
        plan->vector_width = 1; /* lanes are the vector: a work-item each */
        plan->reduce_group = floor_pow2(group < by_local ? group : by_local);
        /* A sum of n elements into one output runs in up to reduce_split
         * groups with at least reduce_chunk elements per work-item, then a
         * second pass adds the partial sums: a 50,000-element row becomes
         * 49 groups of 256 instead of one. */
        plan->reduce_split = 64;
        plan->reduce_chunk = 4;
        plan->tile[0] = 16 <= group ? 16 : group;
        plan->tile[1] = group / plan->tile[0];
        plan->preferred_multiple = 0; /* not known before a kernel exists */
        /* Split K: a GEMM with fewer than 4,096 outputs over K >= 128
         * (LeNet-5's conv1 dW, 6 x 25 over K = 50,176) runs in slices of K
         * until the slices hold a group's worth of outputs per compute unit
         * (4,096 at least: an H100's 132 x 256 makes conv1 dW 64 slices of
         * 784, conv2 dW 16 x 150 x 6,400 15 slices of 426); slices of at
         * least 32 (the MLP's fc3, 1,280 outputs over K = 128: 4 slices), 64
         * at most. A shorter K (LeNet-5's fc3, K = 84 and 64) stays whole:
         * two short slices would not pay for the second launch. */
        size_t per_unit = (size_t)rt->desc.compute_units * group;
        plan->gemm_split_outputs = 4096;
        plan->gemm_split_target = per_unit > 4096 ? per_unit : 4096;
        plan->gemm_split_long_k = 128;
        plan->gemm_split_min_k = 32;
        plan->gemm_split_max = 64;
    }
    /* Either plan: the loop bound is the driver's, not the launch shape's.
     * No OpenCL query reports it; the device name is Mesa's (rusticl and
     * clover alike). CLGRAD_LOOP_LIMIT=N imposes a bound on any device, so
     * that the sliced and refused paths are tested where the driver has
     * none (tests/cl/test_launch.c). */
    if (strncmp(rt->desc.name, "llvmpipe", 8) == 0)
        plan->loop_limit = 65535;
    const char *limit = getenv("CLGRAD_LOOP_LIMIT");
    if (limit && limit[0]) {
        char *end = NULL;
        unsigned long long value = strtoull(limit, &end, 10);
        if (*end != '\0' || limit[0] == '-' || value < LOOP_LIMIT_MIN)
            return clrt_fail(rt, CLG_STATUS_INVALID_ARGUMENT,
                             "CLGRAD_LOOP_LIMIT=%s: a number of loop iterations, at least %d",
                             limit, LOOP_LIMIT_MIN);
        plan->loop_limit = (size_t)value;
    }
    /* A work-item that takes a whole slice's tiles loops over all of them:
     * under a bound, no such work-items, and so no split on the cpu plan. */
    if (plan->loop_limit != 0 && plan->gemm_split_item) {
        plan->gemm_split_outputs = 0;
        plan->gemm_split_item = false;
    }
    snprintf(plan->options, sizeof plan->options, "-DCLG_REDUCE_GROUP=%zu -DCLG_VW=%d",
             plan->reduce_group, plan->vector_width);
    return CLG_STATUS_OK;
}

bool clrt_loops_fit(clrt *rt, const char *op, size_t iterations)
{
    size_t limit = rt->plan.loop_limit;
    if (limit == 0 || iterations <= limit)
        return true;
    clrt_fail(rt, CLG_STATUS_DEVICE,
              "%s: a work-item would loop %zu times, and %s ends a work-item's loops after %zu "
              "iterations in all (Mesa's llvmpipe does, silently; CLGRAD_LOOP_LIMIT sets the "
              "bound): the result would be wrong",
              op, iterations, rt->desc.name, limit);
    return false;
}

/* The SIMD width the device schedules work-items in, as the driver reports
 * it for a kernel (OpenCL 1.2 has no device-wide query): NVIDIA says 32, AMD
 * 64 or 32, Intel 8-32. The gpu plan's groups are rounded down to a multiple
 * of it. Reductions keep their power-of-two size (their local arrays are
 * already compiled with it, and 256 is a multiple of every power-of-two
 * width). */
void clrt_plan_fit(clrt *rt, cl_kernel kernel)
{
    clrt_plan *plan = &rt->plan;
    if (plan->preferred_multiple != 0)
        return;
    size_t multiple = 0;
    if (clGetKernelWorkGroupInfo(kernel, rt->device, CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE,
                                 sizeof multiple, &multiple, NULL) != CL_SUCCESS ||
        multiple == 0 || multiple > plan->group)
        multiple = 1;
    plan->preferred_multiple = multiple;
    plan->group = plan->group / multiple * multiple;
    plan->row_group = plan->group;
    plan->tile[1] = plan->group / plan->tile[0] > 0 ? plan->group / plan->tile[0] : 1;
}

/* ---- the trace ---- */

static clrt_launch_record *trace_next(clrt *rt)
{
    clrt_trace *t = &rt->trace;
    if (t->n == t->capacity) {
        int capacity = t->capacity ? 2 * t->capacity : 256;
        clrt_launch_record *grown = realloc(t->records, (size_t)capacity * sizeof *grown);
        if (!grown)
            return NULL; /* a trace is a measurement: a lost record is not an error */
        t->records = grown;
        t->capacity = capacity;
    }
    clrt_launch_record *r = &t->records[t->n++];
    memset(r, 0, sizeof *r);
    return r;
}

void clrt_trace_note(clrt *rt, cl_kernel kernel, int dims, const size_t *global,
                     const size_t *local, int n_args, const clrt_arg *args)
{
    if (!rt->trace.on || rt->trace.gemm_depth > 0)
        return;
    clrt_launch_record *r = trace_next(rt);
    if (!r)
        return;
    if (clGetKernelInfo(kernel, CL_KERNEL_FUNCTION_NAME, sizeof r->kernel, r->kernel, NULL) !=
        CL_SUCCESS)
        snprintf(r->kernel, sizeof r->kernel, "?");
    r->kernel[sizeof r->kernel - 1] = '\0';
    r->global = r->local = 1;
    for (int d = 0; d < dims; d++) {
        r->global *= global[d];
        r->local *= local ? local[d] : 0;
    }
    for (int i = 0; i < n_args; i++)
        if (args[i].elements > r->largest)
            r->largest = args[i].elements;
}

void clrt_trace_note_gemm(clrt *rt, size_t m, size_t n, size_t k, size_t batch)
{
    if (!rt->trace.on || rt->trace.gemm_depth > 0)
        return;
    clrt_launch_record *r = trace_next(rt);
    if (!r)
        return;
    snprintf(r->kernel, sizeof r->kernel, "gemm %zux%zux%zu", m, n, k);
    r->gemm = true;
    r->global = m * n * batch;
    size_t a = m * k * batch, b = k * n * batch;
    r->largest = a > b ? (a > r->global ? a : r->global) : (b > r->global ? b : r->global);
}

void clrt_trace_release(clrt *rt)
{
    free(rt->trace.records);
    rt->trace = (clrt_trace){0};
}
