/* cl/runtime.h: everything that calls the OpenCL API, behind one private
 * interface: device choice, the context and its one in-order queue, lazy
 * program builds with the on-disk binary cache, the device buffer pool and the
 * step arena, staged uploads, and the CLBlast bridge. Nothing above cl/ calls
 * OpenCL or CLBlast directly. Internal prefix: clrt_. */
#ifndef CLGRAD_CL_RUNTIME_H
#define CLGRAD_CL_RUNTIME_H

#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>

#include "clgrad/context.h"

/* The sticky error: the first failure wins until cleared, so the message
 * names the root cause rather than its consequences. */
typedef struct clrt_error {
    clg_status status;
    char message[4096];
} clrt_error;

/* One clCreateBuffer allocation. */
typedef struct clrt_block {
    cl_mem mem;
    size_t bytes;
    struct clrt_block *next; /* free list link */
} clrt_block;

/* Bump allocation over pooled blocks; reset at the end of each step. After
 * a reset that found the chunks too small, they are merged into one chunk
 * the size of the step's peak, so the next identical step allocates nothing. */
typedef struct clrt_arena {
    clrt_block **chunks;
    int n_chunks;
    int capacity;
    int current;      /* chunk being filled */
    size_t used;      /* bytes used in chunks[current] */
    size_t step_need; /* bytes requested since the last reset, alignment included */
    bool spilled;     /* a new chunk was needed this step */
} clrt_arena;

typedef struct clrt_program {
    const char *source_name;
    char *options;
    cl_program program;
} clrt_program;

typedef struct clrt_kernel_slot {
    uint64_t hash;
    const char *source_name; /* a string literal of the caller */
    char *kernel_name;       /* copies: callers may build these names */
    char *options;
    cl_kernel kernel;
} clrt_kernel_slot;

/* The GEMM dispatcher's state (cl/gemm.c): tuned choices for exact shapes,
 * read from the cache folder when the context opens, and the shapes noted
 * while recording. Candidates are indices into cl/gemm.c's list. */
#define CLRT_GEMM_TUNED_MAX 64
#define CLRT_GEMM_RECORD_MAX 64

typedef struct clrt_gemm_state {
    int vector_width; /* the device's preferred float vector width */
    int forced;       /* CLGRAD_GEMM's candidate for every GEMM, or -1 */
    struct {
        clg_gemm_shape shape;
        int candidate;
    } tuned[CLRT_GEMM_TUNED_MAX];
    int n_tuned;
    bool recording;
    clg_gemm_shape recorded[CLRT_GEMM_RECORD_MAX];
    int n_recorded;
    char table_path[4200]; /* "" when the disk cache is off */
} clrt_gemm_state;

/* The CLBlast bridge's state (cl/blas.c): the GEMM route this context last
 * forced on CLBlast (see force_route there). */
typedef struct clrt_blas_state {
    bool forced;         /* a route was forced since the context opened */
    size_t min_indirect; /* the XGEMM_MIN_INDIRECT_SIZE set then */
} clrt_blas_state;

typedef struct clrt_staging {
    void *host;
    size_t capacity;
    cl_event event; /* the write still reading `host`, or NULL */
    uint64_t write; /* that write's number (clrt's staging_writes) */
} clrt_staging;

#define CLRT_STAGING_SLOTS 4

/* Kernel profiling (cl/profile.c, clg_context_set_profiling): the events
 * kept since the last host sync, and the totals per kernel name. */
typedef struct clrt_profile_pending {
    cl_event begin; /* a marker before the command(s), or NULL: then event's start */
    cl_event event;
    cl_kernel kernel;  /* named by its function name, or */
    const char *label; /* a static name for CLBlast and buffer commands */
} clrt_profile_pending;

typedef struct clrt_profile {
    bool on;
    bool untimed; /* the driver's timer does not measure: times stay 0 */
    clrt_profile_pending *pending;
    int n_pending, pending_capacity;
    clg_profile_entry *totals;
    int n_totals, totals_capacity;
} clrt_profile;

/* The launch plan (cl/launch.c): how every op family shapes its launches on
 * this device, decided once when the context opens. Ops read it through
 * op_plan(); no launch size lives anywhere else.
 *   cpu: few long work-items (a row or plane each, vectorised along it by
 *        the compiler), small groups so that few of them still spread over
 *        every core;
 *   gpu: a work-item per output element, groups of 64-256 that are a
 *        multiple of the device's preferred multiple (its SIMD width), and
 *        two-stage tree reductions, so that tens of thousands of lanes have
 *        work. */
typedef enum clrt_plan_kind { CLRT_PLAN_CPU, CLRT_PLAN_GPU } clrt_plan_kind;

typedef struct clrt_plan {
    clrt_plan_kind kind;
    const char *name;    /* "cpu" or "gpu" */
    size_t group;        /* elementwise kernels' work-group size */
    bool per_element;    /* the gather families (convolution layout passes,
                          * im2col, col2im, pooling backward, bias and
                          * activation, recurrent state views) run a work-item
                          * per element rather than per row or plane */
    size_t row_group;    /* work-group size of the per-row/plane kernels */
    size_t block_rows;   /* rows a work-item of the blocked column kernels takes
                          * (bias + activation backward, cpu plan) ... */
    size_t block_bytes;  /* ... fewer where its walk down the rows would span
                          * more bytes than this (wide rows) */
    size_t fill_run;     /* 32-bit words a work-item of clrt_fill's kernel
                          * writes, in work-groups of row_group */
    int vector_width;    /* elements a work-item takes as one vector: 1, or the
                          * device's preferred float width, at least 4.
                          * Kernels with a float4 variant take it when this
                          * is 4 or more; the recurrent steps take the whole
                          * width (built in as -DCLG_VW) */
    size_t reduce_group; /* tree reductions: work-group size, a power of two */
    size_t reduce_split; /* two-stage reductions: most first-stage groups per output */
    size_t reduce_chunk; /* ... and least elements per first-stage work-item */
    size_t tile[2];      /* 2-D launches (column, row) */
    size_t preferred_multiple; /* CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE */
    /* Split K (clrt_gemm_slices): a GEMM with fewer than gemm_split_outputs
     * outputs (m n batch; 0: never split) and K >= gemm_split_long_k runs as
     * S slices of K, S the fewest that reach gemm_split_target outputs in
     * all, at most gemm_split_max and each slice at least gemm_split_min_k
     * long. */
    size_t gemm_split_outputs;
    size_t gemm_split_target;
    size_t gemm_split_long_k;
    size_t gemm_split_min_k;
    size_t gemm_split_max;
    bool gemm_split_rows; /* only products whose K runs down both operands'
                           * stored rows (A^T B, a weight gradient dY^T X),
                           * so that each slice is a contiguous block of
                           * each */
    bool gemm_split_item; /* each slice's tiles go to one work-item of the
                           * own kernels, so that a compute unit streams
                           * its slice through its own caches */
    /* The most loop iterations one work-item may run, over all the loops of
     * its kernel (0: no bound). OpenCL sets none, but Mesa's llvmpipe ends
     * every work-item's loops after 65,535 iterations in all, silently
     * (gallivm's LP_MAX_TGSI_LOOP_ITERATIONS; Mesa 22, Debian 12's): a GEMM over
     * K = 65,536 returned a partial sum there. GEMMs run in slices of K that
     * fit (clrt_gemm_run); a launch whose work-items would loop longer and
     * cannot be split fails with a message (clrt_loops_fit). */
    size_t loop_limit;
    char options[96];    /* -D options every kernel is built with (CLG_REDUCE_GROUP) */
} clrt_plan;

/* Every enqueue, with its sizes, while tracing (clgrad-bench --parallelism). */
typedef struct clrt_launch_record {
    char kernel[48];       /* the function name, or "gemm" */
    size_t global, local;  /* work-items and work-group size, all dimensions multiplied */
    size_t largest;        /* elements of the largest tensor argument */
    bool gemm;             /* a clrt_gemm call, counted once whatever it enqueues */
} clrt_launch_record;

typedef struct clrt_trace {
    bool on;
    int gemm_depth; /* > 0 inside clrt_gemm: its own enqueues are not listed */
    clrt_launch_record *records;
    int n, capacity;
} clrt_trace;

typedef struct clrt {
    cl_platform_id platform;
    cl_device_id device;
    cl_context context;
    cl_command_queue queue;
    clg_device_desc desc;
    clrt_error error;
    clg_counters counters;
    clg_memstats mem;

    clrt_block *free_blocks; /* the pool */
    clrt_arena arena;

    clrt_program *programs;
    int n_programs;
    int programs_capacity;
    clrt_kernel_slot *kernels; /* open addressing, power-of-two size */
    int kernels_capacity;
    int n_kernels;

    char *cache_dir; /* NULL when the disk cache is off */
    char *kernel_dir;

    clrt_block *gemm_temp;  /* CLBlast's and the own kernels' scratch, grown on demand */
    clrt_block *gemm_split; /* split K's partial products (cl/gemm.c), grown on demand */
    clrt_gemm_state gemm;
    clrt_blas_state blas;
    clrt_staging staging[CLRT_STAGING_SLOTS];
    int staging_next;
    uint64_t staging_writes; /* staged writes enqueued so far */
    clrt_profile profile;
    clrt_plan plan;
    clrt_trace trace;
} clrt;

/* ---- errors ---- */

/* Records an error unless one is pending; returns `status`. */
clg_status clrt_fail(clrt *rt, clg_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Maps an OpenCL or CLBlast code (CLBlast extends OpenCL's) to a status and a
 * message naming the call, file and line. */
clg_status clrt_fail_code(clrt *rt, int code, const char *call, const char *file, int line);
const char *clrt_code_name(int code);

/* Wraps every OpenCL and CLBlast call: on failure records the error and jumps
 * to the function's `cleanup` label. `status` must be a clg_status in scope. */
#define CLRT_CHECK(rt, call)                                                    \
    do {                                                                        \
        int code_ = (int)(call);                                                \
        if (code_ != CL_SUCCESS) {                                              \
            status = clrt_fail_code((rt), code_, #call, __FILE__, __LINE__);    \
            goto cleanup;                                                       \
        }                                                                       \
    } while (0)

/* ---- lifetime ---- */

clg_status clrt_init(clrt *rt, const clg_context_options *opts);
void clrt_release(clrt *rt);
clg_status clrt_finish(clrt *rt);

/* ---- memory ---- */

/* A block of at least `bytes` from the pool (sizes are rounded to classes so
 * blocks are reused); NULL with the error set on failure. */
clrt_block *clrt_pool_get(clrt *rt, size_t bytes);
void clrt_pool_put(clrt *rt, clrt_block *block);
/* The GEMMs' pooled scratch, at least `bytes` (rt->gemm_temp, grown: commands
 * queued on the old block run first, the queue being in order); NULL with the
 * error set. */
clrt_block *clrt_gemm_scratch(clrt *rt, size_t bytes);

/* Bump-allocates `bytes` (aligned to 256) for the current step; sets *mem and
 * the byte offset into it. */
clg_status clrt_arena_alloc(clrt *rt, size_t bytes, cl_mem *mem, size_t *offset);
/* Releases every arena allocation at once. */
void clrt_arena_reset(clrt *rt);

/* Non-blocking write of a host copy of `data` (staged, so the caller may
 * reuse `data` at once). */
clg_status clrt_write(clrt *rt, cl_mem mem, size_t offset, const void *data, size_t bytes);
/* After a host sync that the in-order queue has run every earlier command
 * before (a blocking read, clFinish): frees the staging slots without asking
 * their writes' events, which a driver may mark complete only later (rusticl
 * does, and a slot reused on that word would wait: a host sync nobody asked
 * for, 2 or 3 per autoencoder epoch instead of its 1 read). */
void clrt_staging_retire(clrt *rt);
/* Blocking read; counted as a host sync. */
clg_status clrt_read(clrt *rt, cl_mem mem, size_t offset, void *data, size_t bytes);
/* A read that does not block: enqueued (and flushed) with *event to wait
 * for, *writes the staged writes enqueued before it, for clrt_read_wait. */
clg_status clrt_read_start(clrt *rt, cl_mem mem, size_t offset, void *data, size_t bytes,
                           cl_event *event, uint64_t *writes);
/* Waits for and releases a clrt_read_start's event (a host sync), then
 * frees the staging slots of the `writes` staged writes the queue ran before
 * it (see clrt_staging_retire). */
clg_status clrt_read_wait(clrt *rt, cl_event event, uint64_t writes);
/* `bytes` from byte `offset` of mem = the pattern repeated. A 4-byte pattern
 * on whole words (every fill clgrad makes) runs as a kernel of
 * cl/memory.cl, others through clEnqueueFillBuffer; either way a fill, not a
 * kernel launch, to the counters, and "(fill)" to the profile. */
clg_status clrt_fill(clrt *rt, cl_mem mem, size_t offset, size_t bytes, const void *pattern,
                     size_t pattern_bytes);
clg_status clrt_copy(clrt *rt, cl_mem src, size_t src_offset, cl_mem dst, size_t dst_offset,
                     size_t bytes);

/* ---- kernels ---- */

/* The kernel `kernel_name` of the embedded source `source_name` (e.g.
 * "ops/binary.cl") built with `options` (may be NULL); built on first use,
 * from the disk cache when possible, and cached for the context's life
 * (source_name must outlive the context; kernel_name and options are copied).
 * NULL with the error set (the build log for a compile error). */
/* One on-disk kernel-cache entry (cl/program.c), checked without a device:
 * OK sets *binary (pointing into `file`) and *binary_size; OTHER_KEY is a
 * well-formed entry of another key (a hash collision); DAMAGED is anything
 * else: wrong magic, a length past the file's end, a checksum mismatch. */
typedef enum clrt_cache_entry {
    CLRT_CACHE_OK,
    CLRT_CACHE_OTHER_KEY,
    CLRT_CACHE_DAMAGED
} clrt_cache_entry;
clrt_cache_entry clrt_cache_parse(const unsigned char *file, size_t size, const char *key_text,
                                  const unsigned char **binary, size_t *binary_size);

cl_kernel clrt_kernel(clrt *rt, const char *source_name, const char *options,
                      const char *kernel_name);
/* mkdir -p: 0, or -1 with errno set. */
int clrt_make_dirs(const char *path);

/* One kernel argument: a pointer to the value and its size; for a tensor's
 * buffer also the tensor's element count (the launch trace's "largest
 * buffer"; 0 when unknown). */
typedef struct clrt_arg {
    size_t size;
    const void *value;
    size_t elements;
} clrt_arg;

#define CLRT_ARG_MEM(m) ((clrt_arg){sizeof(cl_mem), &(m), 0})
#define CLRT_ARG_BUFFER(m, n) ((clrt_arg){sizeof(cl_mem), &(m), (size_t)(n)})
#define CLRT_ARG_INT(v) ((clrt_arg){sizeof(cl_int), &(cl_int){(cl_int)(v)}, 0})
#define CLRT_ARG_FLOAT(v) ((clrt_arg){sizeof(cl_float), &(cl_float){(cl_float)(v)}, 0})
#define CLRT_ARG_INT4(a, b, c, d)                                               \
    ((clrt_arg){sizeof(cl_int4), &(cl_int4){{(cl_int)(a), (cl_int)(b), (cl_int)(c), (cl_int)(d)}}, 0})
#define CLRT_ARG_LOCAL(bytes) ((clrt_arg){(bytes), NULL, 0})
/* A vector argument from a variable: CLRT_ARG_VECTOR(sizes) of a cl_int16,
 * a cl_float2. Scalars packed so cost one argument instead of many (PoCL
 * copies each argument per launch). */
#define CLRT_ARG_VECTOR(v) ((clrt_arg){sizeof(v), &(v), 0})

/* Sets the arguments and enqueues over `global` work-items (`local` may be
 * NULL); does not block. Global sizes are rounded up to a multiple of local
 * sizes; kernels guard their tails. */
clg_status clrt_launch(clrt *rt, cl_kernel kernel, int dims, const size_t *global,
                       const size_t *local, int n_args, const clrt_arg *args);
/* clrt_launch for a kernel that is part of an operation counted on its own
 * (a GEMM's operand copies, a fill): neither counted as a launch nor traced;
 * profiled under `label` when not NULL, else under the kernel's name. */
clg_status clrt_enqueue(clrt *rt, cl_kernel kernel, int dims, const size_t *global,
                        const size_t *local, int n_args, const clrt_arg *args, const char *label);

/* ---- the launch plan and the launch trace (cl/launch.c) ---- */

/* Fills rt->plan from the device and CLGRAD_LAUNCH (cpu|gpu; default: gpu for
 * GPUs and accelerators, cpu for CPUs). Fails for any other CLGRAD_LAUNCH. */
clg_status clrt_plan_setup(clrt *rt);
/* The device's preferred float vector width as a width vloadN knows: 1, 2,
 * 4, 8 or 16. */
int clrt_preferred_float_width(const clrt *rt);
/* Whether a launch whose work-items loop `iterations` times in all fits
 * the plan's loop_limit; if not, fails rt with a message naming `op` and
 * returns false. */
bool clrt_loops_fit(clrt *rt, const char *op, size_t iterations);
/* Called with every kernel created: the first one tells the plan the
 * device's preferred work-group multiple (a per-kernel query in OpenCL). */
void clrt_plan_fit(clrt *rt, cl_kernel kernel);
/* Recording runs while rt->trace.on is set (clgrad-bench sets it); a
 * caller clears rt->trace.n to start afresh. */
/* Notes one enqueue while tracing. */
void clrt_trace_note(clrt *rt, cl_kernel kernel, int dims, const size_t *global,
                     const size_t *local, int n_args, const clrt_arg *args);
void clrt_trace_note_gemm(clrt *rt, size_t m, size_t n, size_t k, size_t batch);
void clrt_trace_release(clrt *rt);

/* ---- profiling ---- */

/* Finishes the queue, then recreates it with or without
 * CL_QUEUE_PROFILING_ENABLE; turning it on clears the totals. */
clg_status clrt_profile_set(clrt *rt, bool on);
/* Where an enqueue should put its event: NULL while profiling is off, so the
 * steady-state path creates no event. */
#define CLRT_PROFILE_EVENT(rt, event) ((rt)->profile.on ? &(event) : NULL)
/* Keeps the event of a command just enqueued (takes ownership), named by
 * `kernel`'s function name or by `label`. */
void clrt_profile_keep(clrt *rt, cl_event event, cl_kernel kernel, const char *label);
/* For a library call that enqueues several kernels and returns the last one's
 * event (CLBlast): clrt_profile_marker before the call gives `begin` (NULL
 * while off), and the time kept runs from its end to the end of `event`. */
cl_event clrt_profile_marker(clrt *rt);
void clrt_profile_keep_span(clrt *rt, cl_event begin, cl_event event, const char *label);
/* Counts every kept command in the totals, adds its device time (0 s where
 * the driver gives none) and releases its events; called only after a host
 * sync that the in-order queue has run every kept command before. */
void clrt_profile_drain(clrt *rt);
/* The totals, most device time first (after a finish and a drain). */
size_t clrt_profile_get(clrt *rt, clg_profile_entry *out, size_t capacity);
void clrt_profile_release(clrt *rt);

/* ---- GEMM ----
 *
 * Three files, called in one direction: the dispatcher and tuner
 * (cl/gemm.c) decides which implementation runs a product and calls down to
 * clgrad's own kernels (cl/gemm_kernels.c, the host side of cl/gemm.cl) or
 * to the CLBlast bridge (cl/blas.c); neither of those calls back up. */

typedef struct clrt_matrix {
    cl_mem mem;
    size_t offset; /* elements */
    size_t ld;     /* row-major leading dimension */
    bool trans;
} clrt_matrix;

/* One product, C(m x n) = alpha op(A) op(B) + beta C, row-major, written
 * with designated initialisers; the fields left out take the defaults of
 * the products clgrad runs:
 *     clrt_gemm(rt, (clrt_gemm_desc){.m = M, .n = N, .k = K,
 *                                    .a = a, .b = b, .c = c, .beta = 1.0f});
 *   - alpha 0 stands for 1 (a product scaled to nothing is k = 0);
 *   - beta 0 writes C without reading it (NaN in C does not leak), 1 adds;
 *   - batch 0 stands for 1; batch > 1 runs a strided batch with the given
 *     element strides (a caller whose batch may be empty skips the call). */
typedef struct clrt_gemm_epilogue clrt_gemm_epilogue;
typedef struct clrt_gemm_desc {
    size_t m, n, k;
    clrt_matrix a, b, c;
    float alpha, beta;
    size_t batch;
    size_t stride_a, stride_b, stride_c;
    /* NULL, or applied to C as it is stored: only where clrt_gemm_fuses */
    const clrt_gemm_epilogue *epilogue;
    /* The own kernels: one work-item per batch element, taking all of its
     * tiles, instead of one per tile (split K's slices where the plan says
     * gemm_split_item) */
    bool item_per_batch;
} clrt_gemm_desc;

/* An activation fused into a GEMM's store (cl/gemm.cl's GEMM_ACT):
 * C = act(alpha op(A) op(B) + beta C + bias), the bias a row of n floats
 * added to every row of C, for a linear layer's act(x W^T + b) in one pass
 * over C. The activation's functions come from ops/activation_math.cl, so
 * the layer above names it by its code and the build options that define
 * the codes (ops/internal.h's OP_KERNEL_OPTIONS). */
struct clrt_gemm_epilogue {
    const char *options; /* "-DACT_IDENTITY=0 -DACT_RELU=1 ..." */
    int act;             /* the activation's code (-DGEMM_ACT=act) */
    float param;         /* its parameter (a negative slope) */
    cl_mem bias;         /* NULL: none */
    size_t bias_offset;  /* elements */
};

/* Elements between consecutive k of op(A) and of op(B), as stored: the
 * columns of op(A) are rows of a transposed A. */
static inline size_t clrt_gemm_k_step_a(clrt_matrix a)
{
    return a.trans ? a.ld : 1;
}

static inline size_t clrt_gemm_k_step_b(clrt_matrix b)
{
    return b.trans ? 1 : b.ld;
}

/* The product over K's rows k0 .. k0 + kk - 1, added into C (beta 1) past
 * the first slice; the epilogue only with the last slice, over the whole sum. */
static inline clrt_gemm_desc clrt_gemm_k_slice(clrt_gemm_desc d, size_t k0, size_t kk)
{
    d.a.offset += k0 * clrt_gemm_k_step_a(d.a);
    d.b.offset += k0 * clrt_gemm_k_step_b(d.b);
    if (k0 + kk < d.k)
        d.epilogue = NULL;
    d.k = kk;
    if (k0 > 0)
        d.beta = 1.0f;
    return d;
}

/* How a GEMM runs one slice of K (see clrt_gemm_by_k). */
typedef struct clrt_gemm_candidate clrt_gemm_candidate;
typedef clg_status (*clrt_gemm_step)(clrt *rt, const clrt_gemm_candidate *cand, clrt_gemm_desc d);

/* Runs d through `step` in slices of at most `slice` (> 0) rows of K, each
 * added into C: the one place K is cut, for the launch plan's loop bound
 * (cl/gemm.c) and for the caches (cl/gemm_kernels.c). At least one step, so
 * that k = 0 still scales C by beta. */
static inline clg_status clrt_gemm_by_k(clrt *rt, const clrt_gemm_candidate *cand, clrt_gemm_desc d,
                                        size_t slice, clrt_gemm_step step)
{
    clg_status status;
    size_t k0 = 0;
    do {
        size_t kk = d.k - k0 < slice ? d.k - k0 : slice;
        status = step(rt, cand, clrt_gemm_k_slice(d, k0, kk));
        k0 += kk;
    } while (status == CLG_STATUS_OK && k0 < d.k);
    return status;
}

/* Every GEMM of clgrad. Picks the implementation (a tuned choice for this
 * exact shape, else the default for the device type and shape) and runs it
 * under the launch plan: in slices of K where the plan bounds a work-item's
 * loops or splits K. Scratch (CLBlast's padding, the own kernels' transposed
 * operands) comes from one pooled buffer grown on demand, so a steady-state
 * GEMM allocates nothing. */
clg_status clrt_gemm(clrt *rt, clrt_gemm_desc d);

/* Whether clrt_gemm would run d with an epilogue: when the implementation
 * it picks is one of the own kernels, over one batch element, and the
 * device's vector width is one cl/gemm.cl stamps the activations out for
 * (slices of K added into C run the epilogue with the last, a K split
 * into partial products with their sum). Otherwise (CLBlast, the usual
 * choice on a GPU) the caller runs the product and the activation apart;
 * clrt_gemm refuses an epilogue it cannot fuse. */
bool clrt_gemm_fuses(const clrt *rt, const clrt_gemm_desc *d);

/* The candidates the dispatcher chooses from, by index: CLBlast's routes and
 * the own kernels' parameter sets (cl/gemm.c). */
typedef enum clrt_gemm_kind {
    CLRT_GEMM_CLBLAST,          /* CLBlast, the route it picks itself */
    CLRT_GEMM_CLBLAST_DIRECT,   /* CLBlast's single-kernel route, forced */
    CLRT_GEMM_CLBLAST_INDIRECT, /* CLBlast's padded route, forced */
    CLRT_GEMM_OUTER,            /* gemm_outer in cl/gemm.cl */
    CLRT_GEMM_DOT               /* gemm_dot in cl/gemm.cl */
} clrt_gemm_kind;

struct clrt_gemm_candidate {
    const char *name; /* "clblast", "outer-6x2" (RM x NV), ... */
    clrt_gemm_kind kind;
    int rm, nv; /* own kernels' tile: RM rows x NV vectors (outer) or columns (dot) */
};

/* ---- the dispatcher and the tuner (cl/gemm.c) ----
 * The entries below clrt_gemm are for the tests and gemm-bench, which link
 * the library's objects (libclgrad.so exports only clg_ names). */

int clrt_gemm_candidate_count(void);
const clrt_gemm_candidate *clrt_gemm_candidate_get(int index);
/* Index of the candidate named `name`, or -1. */
int clrt_gemm_candidate_find(const char *name);
/* The candidate clrt_gemm uses for `shape` (tuned, else default). */
int clrt_gemm_pick(const clrt *rt, const clg_gemm_shape *shape);
/* clrt_gemm through candidate `candidate`, bypassing the choice; in slices
 * of K where the plan bounds a work-item's loops (loop_limit). */
clg_status clrt_gemm_run(clrt *rt, int candidate, clrt_gemm_desc d);
/* Split K: how many slices of K clrt_gemm runs this shape in under the
 * launch plan (1: whole). */
size_t clrt_gemm_slices(const clrt *rt, const clg_gemm_shape *shape);
/* clrt_gemm_run in `slices` slices of K: one strided-batched GEMM (batch =
 * slices; a batch > 1 runs one per element) of candidate `candidate` into a
 * pooled buffer of partial products, then gemm_split_sum adds them (and the
 * K % slices rows left over) into C in a fixed order, with alpha and beta.
 * slices < 2, or a K shorter than slices, runs clrt_gemm_run. */
clg_status clrt_gemm_split_run(clrt *rt, int candidate, size_t slices, clrt_gemm_desc d);

/* Called by clrt_init once the device and the cache folder are known: reads
 * the vector width, the forced implementation (`gemm`, clg_context_options'
 * field, else CLGRAD_GEMM) and the tuned table. Fails only for a forced name
 * that is no candidate (a missing or unreadable table means defaults). */
clg_status clrt_gemm_setup(clrt *rt, const char *gemm);
/* Notes `shape` while recording (clg_gemm_record). */
void clrt_gemm_note(clrt *rt, const clg_gemm_shape *shape);
void clrt_gemm_record(clrt *rt, bool on);
size_t clrt_gemm_recorded(const clrt *rt, clg_gemm_shape *out, size_t capacity);
/* See clg_gemm_tune. */
clg_status clrt_gemm_tune(clrt *rt, const clg_gemm_shape *shapes, size_t count,
                          clg_gemm_tuned *results);

/* ---- clgrad's own kernels (cl/gemm_kernels.c) ----
 * Descriptors reach them with the defaults filled in and the arguments
 * checked. */

/* Whether the own kernels can run this GEMM (their indices are int). */
bool clrt_gemm_own_fits(const clrt_gemm_desc *d);
/* dst (cols, rows), contiguous, = src (rows, cols; leading dimension src.ld)
 * transposed, for `batch` matrices `stride` apart in src and rows x cols
 * apart in dst: the GEMM's blocked transpose (gemm_transpose), counted as a
 * kernel launch. A strided copy of a transposed view reads a cache line per
 * element (W_hh^T, 128 x 512: 0.46 ms; blocked: see engine/tensor.c). Fails
 * past the kernel's int indices; clrt_transpose_fits says beforehand. */
bool clrt_transpose_fits(size_t rows, size_t cols, clrt_matrix src, size_t stride, size_t batch,
                         size_t dst_offset);
clg_status clrt_transpose(clrt *rt, size_t rows, size_t cols, clrt_matrix src, size_t stride,
                          size_t batch, cl_mem dst, size_t dst_offset);
/* Candidate `cand` (an own kind) over the whole of d.k; counts one GEMM. */
clg_status clrt_gemm_own(clrt *rt, const clrt_gemm_candidate *cand, clrt_gemm_desc d);
/* Whether split K's sum can run: the own kernels fit, and so do the partial
 * products (batch x slices x m x n) for its int indices. */
bool clrt_gemm_own_split_fits(const clrt_gemm_desc *d, size_t slices);
/* gemm_split_sum: C = alpha (the `slices` partial products in `partial`,
 * slices x m x n per element of the batch, plus the K % slices rows left
 * over) + beta C. Counts nothing: the split GEMM counts once. */
clg_status clrt_gemm_own_split_sum(clrt *rt, clrt_gemm_desc d, size_t slices, cl_mem partial);

/* ---- the CLBlast bridge (cl/blas.c) ---- */

/* d through CLBlast by `route` (one of the CLRT_GEMM_CLBLAST kinds); d.k > 0.
 * Counts one GEMM. */
clg_status clrt_blas_gemm(clrt *rt, clrt_gemm_kind route, clrt_gemm_desc d);

/* ---- devices ---- */

clg_status clrt_devices_list(clg_device_desc *descs, size_t capacity, size_t *count);
int clrt_devices_pick(const clg_device_desc *descs, size_t count, const char *spec);
bool clrt_device_handles(const clg_device_desc *desc, cl_platform_id *platform,
                         cl_device_id *device);

/* ---- embedded kernel sources (generated by tools/embed_kernels.py) ---- */

typedef struct clrt_source {
    const char *name; /* path relative to the source tree, e.g. "ops/binary.cl" */
    const char *text;
} clrt_source;

extern const clrt_source clrt_sources[];
extern const size_t clrt_source_count;

#endif
