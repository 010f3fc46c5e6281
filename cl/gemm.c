/* cl/gemm.c: the GEMM dispatcher and its tuner. Every GEMM of clgrad goes
 * through clrt_gemm, which picks a candidate (a tuned choice for the exact
 * shape, else the default for the device type and shape class) and runs it
 * under the launch plan, in slices of K where the plan bounds a work-item's
 * loops or splits K, on one of clgrad's own kernels (cl/gemm_kernels.c) or
 * on CLBlast (cl/blas.c). Here also: the list of candidates (CLBlast's routes
 * and the own kernels' parameter sets), the tuned table (exact shapes ->
 * candidate) read from the cache folder when a context opens and written by
 * the tuner, and the tuner.
 *
 * Defaults need no tuning: on a CPU device the own kernels (PoCL turns them
 * into the vector FMAs of the host; CLBlast's kernels, written for GPUs, run
 * at a fraction of that), on a GPU CLBlast, which is tuned for GPUs. The
 * tile follows the preferred vector width: a CPU that prefers 16 floats (PoCL
 * on AVX-512) has 32 vector registers, room for twice the tile of an AVX2
 * one (16 registers). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cl/runtime.h"

/* The own kernels' tiles (RM x NV, in vectors for gemm_outer) are sized for
 * 16 vector registers (AVX2: 6x2 and 4x3 leave room for B's vectors and a
 * broadcast) or 32 (AVX-512: 8x2, dot-4x4 and dot-8x3 hold 16 to 24
 * accumulators); the small ones give small products more work-items. Names
 * are what tuned tables store. Bigger gemm_outer tiles (8x3, 6x4, 14x2)
 * beat 8x2 by 10-20% on some of the MLP's and the LSTM's products on
 * AVX-512 but are not here: every candidate is built and checked at every
 * vector width on every device the suite runs on, and on llvmpipe those
 * builds took cl/test_gemm past its time limit (over 10 minutes). */
static const clrt_gemm_candidate candidates[] = {
    {"clblast", CLRT_GEMM_CLBLAST, 0, 0},
    {"clblast-direct", CLRT_GEMM_CLBLAST_DIRECT, 0, 0},
    {"clblast-indirect", CLRT_GEMM_CLBLAST_INDIRECT, 0, 0},
    {"outer-4x1", CLRT_GEMM_OUTER, 4, 1},
    {"outer-8x1", CLRT_GEMM_OUTER, 8, 1},
    {"outer-4x2", CLRT_GEMM_OUTER, 4, 2},
    {"outer-6x2", CLRT_GEMM_OUTER, 6, 2},
    {"outer-4x3", CLRT_GEMM_OUTER, 4, 3},
    {"outer-8x2", CLRT_GEMM_OUTER, 8, 2},
    {"dot-4x2", CLRT_GEMM_DOT, 4, 2},
    {"dot-4x3", CLRT_GEMM_DOT, 4, 3},
    {"dot-4x4", CLRT_GEMM_DOT, 4, 4},
    {"dot-8x3", CLRT_GEMM_DOT, 8, 3},
};
#define N_CANDIDATES ((int)(sizeof candidates / sizeof candidates[0]))

int clrt_gemm_candidate_count(void)
{
    return N_CANDIDATES;
}

const clrt_gemm_candidate *clrt_gemm_candidate_get(int index)
{
    return index >= 0 && index < N_CANDIDATES ? &candidates[index] : NULL;
}

int clrt_gemm_candidate_find(const char *name)
{
    for (int i = 0; i < N_CANDIDATES; i++)
        if (strcmp(candidates[i].name, name) == 0)
            return i;
    return -1;
}

/* ---- running a candidate ---- */

/* The descriptor's defaults made explicit (see clrt_gemm_desc). */
static clrt_gemm_desc with_defaults(clrt_gemm_desc d)
{
    if (d.alpha == 0.0f)
        d.alpha = 1.0f;
    if (d.batch == 0)
        d.batch = 1;
    return d;
}

static bool is_own(const clrt_gemm_candidate *cand)
{
    return cand->kind == CLRT_GEMM_OUTER || cand->kind == CLRT_GEMM_DOT;
}

/* One candidate over the whole of K (a clrt_gemm_step). */
static clg_status run_whole(clrt *rt, const clrt_gemm_candidate *cand, clrt_gemm_desc d)
{
    clg_status status = CLG_STATUS_OK;
    if (d.m == 0 || d.n == 0)
        return status;
    bool fits = clrt_gemm_own_fits(&d);
    if (d.k == 0 && !fits) {
        /* C = beta C, too large for the own kernels' int indices, and CLBlast
         * rejects k = 0: fill rows (beta is 0 or 1 in clgrad). */
        if (d.beta != 0.0f && d.beta != 1.0f)
            return clrt_fail(rt, CLG_STATUS_INVALID_ARGUMENT,
                             "clrt_gemm: k = 0 with beta %g on a matrix past 2^31 elements",
                             d.beta);
        if (d.beta == 0.0f)
            for (size_t i = 0; i < d.batch; i++)
                for (size_t r = 0; r < d.m; r++) {
                    const float zero = 0.0f;
                    status = clrt_fill(rt, d.c.mem,
                                       (d.c.offset + i * d.stride_c + r * d.c.ld) * sizeof(float),
                                       d.n * sizeof(float), &zero, sizeof zero);
                    if (status != CLG_STATUS_OK)
                        return status;
                }
        return status;
    }
    /* k = 0 (C = beta C) goes to an own kernel, whose K loop just runs no
     * times; sizes past the own kernels' int indices go to CLBlast. */
    if (d.k == 0 && !is_own(cand)) {
        int i = 0;
        while (candidates[i].kind != CLRT_GEMM_OUTER)
            i++;
        cand = &candidates[i];
    } else if (is_own(cand) && !fits) {
        cand = &candidates[0];
    }
    if (is_own(cand))
        return clrt_gemm_own(rt, cand, d);
    if (d.epilogue) /* the caller asks clrt_gemm_fuses first */
        return clrt_fail(rt, CLG_STATUS_INVALID_ARGUMENT,
                         "clrt_gemm: an epilogue on a %zu x %zu x %zu product that %s runs", d.m,
                         d.n, d.k, cand->name);
    return clrt_blas_gemm(rt, cand->kind, d);
}

/* On a device that bounds a work-item's loops (clrt_plan's loop_limit), K
 * runs in slices of a quarter of the bound, each added into C (beta 1 after
 * the first): every GEMM kernel, the own ones and CLBlast's, loops over K
 * once per element or vector of it, and gemm_outer has two such loops (its
 * last tile column's and the others'). llvmpipe, the device with a bound,
 * runs work-items as the lanes of a vector and counts the group's
 * iterations, so a group holding both kinds of tile runs both loops and
 * counts 2 K (with half the bound, K = 100,352 lost 1.5% of its terms).
 * The rest leaves room for the loops over blocks of K and the tiles. */
clg_status clrt_gemm_run(clrt *rt, int candidate, clrt_gemm_desc d)
{
    const clrt_gemm_candidate *cand = clrt_gemm_candidate_get(candidate);
    if (!cand)
        return clrt_fail(rt, CLG_STATUS_INVALID_ARGUMENT, "clrt_gemm_run: no GEMM candidate %d",
                         candidate);
    d = with_defaults(d);
    size_t slice = rt->plan.loop_limit ? rt->plan.loop_limit / 4 : d.k;
    if (d.k <= slice)
        return run_whole(rt, cand, d);
    uint64_t calls = rt->counters.gemm_calls;
    clg_status status = clrt_gemm_by_k(rt, cand, d, slice, run_whole);
    if (status == CLG_STATUS_OK)
        rt->counters.gemm_calls = calls + 1; /* one GEMM, however many slices */
    return status;
}

/* ---- split K ----
 *
 * A GEMM with few outputs over a long K (LeNet-5's conv1 dW: 6 x 25 over K =
 * 50,176) keeps only as many work-items busy as it has tiles of C, each
 * running the whole of K: a GPU's lanes stay idle, and CLBlast has no route
 * of its own for it. Split, it runs as one strided-batched GEMM whose batch
 * is the slices of K (each slice's A and B an offset into the operands, as
 * stored: columns of op(A) are rows of a transposed A), writing slices x M x
 * N partial products into a pooled buffer, then gemm_split_sum adds them into
 * C. The launch plan decides when (clrt_plan's gemm_split_*). */
#define SPLIT_BATCH_MAX 4 /* a batched GEMM runs a launch per element: few */

size_t clrt_gemm_slices(const clrt *rt, const clg_gemm_shape *shape)
{
    const clrt_plan *plan = &rt->plan;
    size_t m = (size_t)shape->m, n = (size_t)shape->n, k = (size_t)shape->k;
    size_t batch = (size_t)shape->batch, below = plan->gemm_split_outputs;
    if (below == 0 || k < plan->gemm_split_long_k || batch > SPLIT_BATCH_MAX || m >= below ||
        n >= below || m * n * batch >= below || m * n * batch == 0 ||
        (plan->gemm_split_rows && !(shape->trans_a && !shape->trans_b)))
        return 1;
    size_t outputs = m * n * batch;
    size_t slices = (plan->gemm_split_target + outputs - 1) / outputs;
    size_t by_k = plan->gemm_split_min_k ? k / plan->gemm_split_min_k : k;
    if (slices > by_k)
        slices = by_k;
    if (slices > plan->gemm_split_max)
        slices = plan->gemm_split_max;
    return slices >= 2 ? slices : 1;
}

clg_status clrt_gemm_split_run(clrt *rt, int candidate, size_t slices, clrt_gemm_desc d)
{
    d = with_defaults(d);
    if (d.m == 0 || d.n == 0)
        return CLG_STATUS_OK;
    if (slices < 2 || d.k < slices || !clrt_gemm_own_split_fits(&d, slices))
        return clrt_gemm_run(rt, candidate, d);
    if (!clrt_gemm_candidate_get(candidate))
        return clrt_fail(rt, CLG_STATUS_INVALID_ARGUMENT,
                         "clrt_gemm_split_run: no GEMM candidate %d", candidate);
    /* A pooled block of its own, not the scratch (the slices' GEMM may copy
     * its operands there), kept and grown like the scratch: handed back to
     * the pool after each GEMM, it could be taken by a tensor created later
     * in the first step (a gradient, an optimizer's state) and the second
     * step would allocate again. */
    size_t mn = d.m * d.n, bytes = d.batch * slices * mn * sizeof(float);
    if (!rt->gemm_split || rt->gemm_split->bytes < bytes) {
        clrt_pool_put(rt, rt->gemm_split); /* queued commands on it run first */
        rt->gemm_split = clrt_pool_get(rt, bytes);
        if (!rt->gemm_split)
            return rt->error.status;
    }
    cl_mem partial = rt->gemm_split->mem;
    size_t slice_k = d.k / slices;
    uint64_t calls = rt->counters.gemm_calls;
    clg_status status = CLG_STATUS_OK;
    for (size_t z = 0; z < d.batch && status == CLG_STATUS_OK; z++) {
        /* The slices of K as a strided batch over element z's operands. */
        clrt_gemm_desc parts = {.m = d.m,
                                .n = d.n,
                                .k = slice_k,
                                .a = d.a,
                                .b = d.b,
                                .c = {partial, z * slices * mn, d.n, false},
                                .batch = slices,
                                .stride_a = slice_k * clrt_gemm_k_step_a(d.a),
                                .stride_b = slice_k * clrt_gemm_k_step_b(d.b),
                                .stride_c = mn,
                                .item_per_batch = rt->plan.gemm_split_item};
        parts.a.offset += z * d.stride_a;
        parts.b.offset += z * d.stride_b;
        status = clrt_gemm_run(rt, candidate, parts);
    }
    if (status == CLG_STATUS_OK)
        status = clrt_gemm_own_split_sum(rt, d, slices, partial);
    if (status == CLG_STATUS_OK)
        rt->counters.gemm_calls = calls + 1; /* one GEMM, however many launches */
    return status;
}

/* ---- the choice ---- */

static bool same_shape(const clg_gemm_shape *x, const clg_gemm_shape *y)
{
    return x->m == y->m && x->n == y->n && x->k == y->k && x->batch == y->batch &&
           x->trans_a == y->trans_a && x->trans_b == y->trans_b;
}

/* The defaults, per device type and shape class (measured with PoCL on an
 * AVX2 CPU, where the own kernels run at 75-90% of the FMA peak of a core):
 *   - A B^T with K >= 256: gemm_dot, which reads both operands as they are
 *     stored (a linear layer's forward x W^T), where gemm_outer would first
 *     pack B;
 *   - A B^T with fewer than two vectors of columns and K >= 128: gemm_dot
 *     with two columns per work-item, since gemm_outer's vectors along N
 *     would be mostly idle;
 *   - fewer than 64 rows, where tiles of 4 rows leave fewer rows idle than
 *     tiles of 6 (M = 8, 15, 16, 25: LeNet's conv2 forward and conv1 dcol):
 *     gemm_outer with 4 x 3 vectors (15-30% faster there);
 *   - the rest (A B^T with short K too, where the dot's final sums across
 *     lanes cost more than packing B): gemm_outer.
 * On AVX-512 (measured with PoCL on a Xeon with 2 cores, every candidate on
 * gemm-bench's 48 shapes, two rounds): A B^T in both classes takes dot-8x3
 * (16% less time than dot-4x4 over the long-K shapes, 19% less than dot-4x2
 * over the narrow ones; LeNet-5's conv2 weight gradient 16x150x6400 at 208
 * GFLOP/s against 134); fewer than 4 rows (a bias gradient's ones^T dY, M =
 * 1) takes 4 x 3 vectors, where the 8-row tile computed 8 rows for 1 and ran
 * at half the speed; other few rows (15, 16, 25, 28) and the rest keep 8 x 2,
 * which no bigger tile beat over all of the models' shapes.
 * GPUs and other devices get CLBlast, tuned for them, unless a tuned table
 * says otherwise. */
typedef enum shape_class {
    CLASS_NT_NARROW,
    CLASS_NT_LONG_K,
    CLASS_TINY_M,
    CLASS_FEW_ROWS,
    CLASS_OTHER
} shape_class;

static const struct {
    bool wide; /* preferred vector width >= 16 (AVX-512: 32 registers) */
    shape_class cls;
    const char *candidate;
} cpu_defaults[] = {
    {false, CLASS_NT_NARROW, "dot-4x2"}, {false, CLASS_NT_LONG_K, "dot-4x3"},
    {false, CLASS_TINY_M, "outer-4x3"},  {false, CLASS_FEW_ROWS, "outer-4x3"},
    {false, CLASS_OTHER, "outer-6x2"},   {true, CLASS_NT_NARROW, "dot-8x3"},
    {true, CLASS_NT_LONG_K, "dot-8x3"},  {true, CLASS_TINY_M, "outer-4x3"},
    {true, CLASS_FEW_ROWS, "outer-8x2"}, {true, CLASS_OTHER, "outer-8x2"},
};

/* Rows computed past M by tiles of `rows` rows. */
static int64_t idle_rows(int64_t m, int64_t rows)
{
    return (m + rows - 1) / rows * rows - m;
}

static shape_class classify(const clg_gemm_shape *s, int vw)
{
    bool nt = !s->trans_a && s->trans_b;
    if (nt && s->n < 2 * vw && s->k >= 128)
        return CLASS_NT_NARROW;
    if (nt && s->k >= 256)
        return CLASS_NT_LONG_K;
    if (s->m < 4)
        return CLASS_TINY_M;
    if (s->m < 64 && idle_rows(s->m, 4) < idle_rows(s->m, 6))
        return CLASS_FEW_ROWS;
    return CLASS_OTHER;
}

static int default_pick(const clrt *rt, const clg_gemm_shape *s)
{
    if (rt->desc.type == CLG_DEVICE_TYPE_CPU) {
        bool wide = rt->gemm.vector_width >= 16;
        shape_class cls = classify(s, rt->gemm.vector_width);
        for (size_t i = 0; i < sizeof cpu_defaults / sizeof cpu_defaults[0]; i++)
            if (cpu_defaults[i].wide == wide && cpu_defaults[i].cls == cls)
                return clrt_gemm_candidate_find(cpu_defaults[i].candidate);
    }
    return clrt_gemm_candidate_find("clblast");
}

int clrt_gemm_pick(const clrt *rt, const clg_gemm_shape *shape)
{
    if (rt->gemm.forced >= 0)
        return rt->gemm.forced;
    for (int i = 0; i < rt->gemm.n_tuned; i++)
        if (same_shape(&rt->gemm.tuned[i].shape, shape))
            return rt->gemm.tuned[i].candidate;
    return default_pick(rt, shape);
}

void clrt_gemm_note(clrt *rt, const clg_gemm_shape *shape)
{
    for (int i = 0; i < rt->gemm.n_recorded; i++)
        if (same_shape(&rt->gemm.recorded[i], shape))
            return;
    if (rt->gemm.n_recorded < CLRT_GEMM_RECORD_MAX)
        rt->gemm.recorded[rt->gemm.n_recorded++] = *shape;
}

void clrt_gemm_record(clrt *rt, bool on)
{
    if (on && !rt->gemm.recording)
        rt->gemm.n_recorded = 0;
    rt->gemm.recording = on;
}

size_t clrt_gemm_recorded(const clrt *rt, clg_gemm_shape *out, size_t capacity)
{
    for (int i = 0; i < rt->gemm.n_recorded && (size_t)i < capacity; i++)
        out[i] = rt->gemm.recorded[i];
    return (size_t)rt->gemm.n_recorded;
}

static void set_tuned(clrt *rt, const clg_gemm_shape *shape, int candidate)
{
    clrt_gemm_state *g = &rt->gemm;
    for (int i = 0; i < g->n_tuned; i++)
        if (same_shape(&g->tuned[i].shape, shape)) {
            g->tuned[i].candidate = candidate;
            return;
        }
    if (g->n_tuned == CLRT_GEMM_TUNED_MAX) {
        /* Full: the oldest entry makes room. */
        memmove(&g->tuned[0], &g->tuned[1], (CLRT_GEMM_TUNED_MAX - 1) * sizeof g->tuned[0]);
        g->n_tuned--;
    }
    g->tuned[g->n_tuned].shape = *shape;
    g->tuned[g->n_tuned].candidate = candidate;
    g->n_tuned++;
}

/* ---- the tuned table on disk ----
 *
 * A text file in the cache folder named after a hash of the device name and
 * driver version, which it also states on its second and third lines:
 *     clgrad-gemm-table 1
 *     device pthread-haswell-AMD EPYC
 *     driver 3.1+debian
 *     gemm 128 256 784 1 0 1 dot-4x3 95.2
 * (m n k batch trans_a trans_b candidate GFLOP/s measured). Unknown
 * candidates and malformed lines are skipped: a table from another clgrad
 * version costs speed, never correctness. */
#define TABLE_MAGIC "clgrad-gemm-table 1"

static uint64_t fnv1a(uint64_t h, const char *s)
{
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

static void read_table(clrt *rt)
{
    FILE *f = rt->gemm.table_path[0] ? fopen(rt->gemm.table_path, "r") : NULL;
    if (!f)
        return;
    char line[512], want[256];
    bool ok = fgets(line, sizeof line, f) && strncmp(line, TABLE_MAGIC "\n", sizeof line) == 0;
    snprintf(want, sizeof want, "device %s\n", rt->desc.name);
    ok = ok && fgets(line, sizeof line, f) && strcmp(line, want) == 0;
    snprintf(want, sizeof want, "driver %s\n", rt->desc.driver_version);
    ok = ok && fgets(line, sizeof line, f) && strcmp(line, want) == 0;
    while (ok && fgets(line, sizeof line, f)) {
        long long m, n, k, batch;
        int ta, tb;
        char name[64];
        if (sscanf(line, "gemm %lld %lld %lld %lld %d %d %63s", &m, &n, &k, &batch, &ta, &tb,
                   name) != 7 ||
            m < 1 || n < 1 || k < 0 || batch < 1 || (ta != 0 && ta != 1) || (tb != 0 && tb != 1))
            continue;
        int candidate = clrt_gemm_candidate_find(name);
        clg_gemm_shape shape = {m, n, k, batch, ta == 1, tb == 1};
        if (candidate >= 0)
            set_tuned(rt, &shape, candidate);
    }
    fclose(f);
}

/* Writes every tuned entry, with the speeds just measured where known. */
static clg_status write_table(clrt *rt, const clg_gemm_tuned *results, size_t count)
{
    const char *path = rt->gemm.table_path;
    if (!path[0])
        return clrt_fail(rt, CLG_STATUS_IO,
                         "clg_gemm_tune: the disk cache is off (CLGRAD_CACHE=off or no cache "
                         "folder), so the tuned table cannot be kept");
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = clrt_make_dirs(rt->cache_dir) == 0 ? fopen(tmp, "w") : NULL;
    if (!f)
        return clrt_fail(rt, CLG_STATUS_IO, "clg_gemm_tune: cannot write %s: %s", tmp,
                         strerror(errno));
    fprintf(f, TABLE_MAGIC "\ndevice %s\ndriver %s\n", rt->desc.name, rt->desc.driver_version);
    for (int i = 0; i < rt->gemm.n_tuned; i++) {
        const clg_gemm_shape *s = &rt->gemm.tuned[i].shape;
        fprintf(f, "gemm %lld %lld %lld %lld %d %d %s", (long long)s->m, (long long)s->n,
                (long long)s->k, (long long)s->batch, s->trans_a, s->trans_b,
                candidates[rt->gemm.tuned[i].candidate].name);
        for (size_t r = 0; results && r < count; r++)
            if (same_shape(&results[r].shape, s)) {
                fprintf(f, " %.1f", results[r].best_gflops);
                break;
            }
        fputc('\n', f);
    }
    bool ok = !ferror(f);
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        int err = errno;
        remove(tmp);
        return clrt_fail(rt, CLG_STATUS_IO, "clg_gemm_tune: cannot write %s: %s", path,
                         strerror(err));
    }
    return CLG_STATUS_OK;
}

clg_status clrt_gemm_setup(clrt *rt, const char *gemm)
{
    rt->gemm.vector_width = clrt_preferred_float_width(rt);
    const char *forced = gemm ? gemm : getenv("CLGRAD_GEMM");
    rt->gemm.forced = forced && forced[0] ? clrt_gemm_candidate_find(forced) : -1;
    if (forced && forced[0] && rt->gemm.forced < 0) {
        char names[512] = "";
        size_t used = 0;
        for (int i = 0; i < N_CANDIDATES && used < sizeof names; i++)
            used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
                                     candidates[i].name);
        return clrt_fail(rt, CLG_STATUS_INVALID_ARGUMENT,
                         "%s%s names no GEMM implementation (there are %s)",
                         gemm ? "the context option gemm " : "CLGRAD_GEMM=", forced, names);
    }
    if (rt->cache_dir) {
        uint64_t h = fnv1a(fnv1a(0xcbf29ce484222325ULL, rt->desc.name), "|");
        h = fnv1a(h, rt->desc.driver_version);
        snprintf(rt->gemm.table_path, sizeof rt->gemm.table_path, "%s/gemm-%016llx.txt",
                 rt->cache_dir, (unsigned long long)h);
        read_table(rt);
    }
    return CLG_STATUS_OK;
}

/* ---- the tuner ---- */

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct tune_case {
    clg_gemm_shape shape;
    clrt_gemm_desc desc; /* C = op(A) op(B) */
} tune_case;

static clg_status run_case(clrt *rt, int candidate, const tune_case *t, int reps)
{
    const clg_gemm_shape *s = &t->shape;
    for (int r = 0; r < reps; r++) {
        /* As clrt_gemm runs it: in slices of K where the plan splits it. */
        size_t slices = clrt_gemm_slices(rt, s);
        clg_status status = clrt_gemm_split_run(rt, candidate, slices, t->desc);
        if (status != CLG_STATUS_OK)
            return status;
    }
    return clrt_finish(rt);
}

/* GFLOP/s of a candidate, best of three rounds of about 10 ms each; 0 when
 * it fails here (its error is cleared: another candidate will do). */
static double measure(clrt *rt, int candidate, const tune_case *t)
{
    const clg_gemm_shape *s = &t->shape;
    double flops = 2.0 * (double)s->m * (double)s->n * (double)s->k * (double)s->batch;
    if (run_case(rt, candidate, t, 1) != CLG_STATUS_OK) { /* builds the kernels */
        rt->error = (clrt_error){0};
        return 0.0;
    }
    int reps = 1;
    double best = 1e30;
    for (int round = 0; round < 3; round++) {
        double start = seconds();
        if (run_case(rt, candidate, t, reps) != CLG_STATUS_OK) {
            rt->error = (clrt_error){0};
            return 0.0;
        }
        double per_run = (seconds() - start) / reps;
        if (per_run < best)
            best = per_run;
        if (round == 0 && per_run * reps < 0.01) { /* too short to time: once more, longer */
            reps = (int)(0.01 / (per_run > 1e-7 ? per_run : 1e-7)) + 1;
            round = -1;
            best = 1e30;
            if (reps > 10000)
                reps = 10000;
        }
    }
    return flops / best * 1e-9;
}

static clg_status tune_one(clrt *rt, clg_gemm_tuned *result, int pass)
{
    const clg_gemm_shape *s = &result->shape;
    size_t m = (size_t)s->m, n = (size_t)s->n, k = (size_t)s->k, batch = (size_t)s->batch;
    tune_case t = {*s,
                   {.m = m,
                    .n = n,
                    .k = k,
                    .a = {NULL, 0, s->trans_a ? m : k, s->trans_a},
                    .b = {NULL, 0, s->trans_b ? k : n, s->trans_b},
                    .c = {NULL, 0, n, false},
                    .batch = batch,
                    .stride_a = m * k,
                    .stride_b = k * n,
                    .stride_c = m * n}};
    clrt_block *blocks[3] = {clrt_pool_get(rt, (batch * m * k + 1) * sizeof(float)),
                             clrt_pool_get(rt, (batch * k * n + 1) * sizeof(float)),
                             clrt_pool_get(rt, (batch * m * n + 1) * sizeof(float))};
    clg_status status = rt->error.status;
    if (status == CLG_STATUS_OK) {
        t.desc.a.mem = blocks[0]->mem;
        t.desc.b.mem = blocks[1]->mem;
        t.desc.c.mem = blocks[2]->mem;
        const float values[3] = {0.5f, 0.25f, 0.0f};
        for (int i = 0; i < 3 && status == CLG_STATUS_OK; i++)
            status =
                clrt_fill(rt, blocks[i]->mem, 0, blocks[i]->bytes, &values[i], sizeof values[i]);
    }
    if (status == CLG_STATUS_OK && pass == 0) {
        int before = clrt_gemm_pick(rt, s);
        result->before = candidates[before].name;
        result->before_gflops = measure(rt, before, &t);
    } else if (status == CLG_STATUS_OK) {
        int best = -1;
        for (int i = 0; i < N_CANDIDATES; i++) {
            /* "clblast" is whichever route was forced last (see cl/blas.c):
             * the forced routes stand for it. */
            if (candidates[i].kind == CLRT_GEMM_CLBLAST)
                continue;
            double gflops = measure(rt, i, &t);
            if (gflops > 0.0 && (best < 0 || gflops > result->best_gflops)) {
                best = i;
                result->best_gflops = gflops;
            }
        }
        if (best < 0 || result->before_gflops >= result->best_gflops) {
            /* Nothing beat the untuned choice: keep it (it may be "clblast"). */
            best = clrt_gemm_pick(rt, s);
            result->best_gflops = result->before_gflops;
        }
        result->best = candidates[best].name;
        set_tuned(rt, s, best);
    }
    for (int i = 0; i < 3; i++)
        clrt_pool_put(rt, blocks[i]);
    return status;
}

clg_status clrt_gemm_tune(clrt *rt, const clg_gemm_shape *shapes, size_t count,
                          clg_gemm_tuned *results)
{
    if (rt->error.status != CLG_STATUS_OK)
        return rt->error.status;
    clg_gemm_tuned *all = calloc(count ? count : 1, sizeof *all);
    if (!all)
        return clrt_fail(rt, CLG_STATUS_OUT_OF_MEMORY, "clg_gemm_tune: out of host memory");
    clg_status status = CLG_STATUS_OK;
    for (size_t i = 0; i < count && status == CLG_STATUS_OK; i++) {
        const clg_gemm_shape *s = &shapes[i];
        if (s->m < 1 || s->n < 1 || s->k < 1 || s->batch < 1 ||
            (double)s->batch * (double)s->k * (double)(s->m > s->n ? s->m : s->n) >= 2e9 ||
            (double)s->batch * (double)s->m * (double)s->n >= 2e9)
            status = clrt_fail(rt, CLG_STATUS_INVALID_ARGUMENT,
                               "clg_gemm_tune: shape %zu (m %lld, n %lld, k %lld, batch %lld) "
                               "is empty or too large",
                               i, (long long)s->m, (long long)s->n, (long long)s->k,
                               (long long)s->batch);
        all[i].shape = *s;
    }
    /* Every untuned choice is timed before any CLBlast route is forced. */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < count && status == CLG_STATUS_OK; i++)
            status = tune_one(rt, &all[i], pass);
    if (status == CLG_STATUS_OK) {
        /* Entries another process wrote meanwhile stay; ours win. */
        clrt_gemm_state keep = rt->gemm;
        read_table(rt);
        for (int i = 0; i < keep.n_tuned; i++)
            set_tuned(rt, &keep.tuned[i].shape, keep.tuned[i].candidate);
        status = write_table(rt, all, count);
    }
    if (results)
        memcpy(results, all, count * sizeof *all);
    free(all);
    return status;
}

/* ---- the dispatcher ---- */

/* A split GEMM is one record of the launch trace, like any GEMM: its
 * global size is the outputs of all its slices (m n batch slices), which is
 * what its slices' GEMM runs over, and its name says into how many slices
 * (gemm_split_sum, an element of C per work-item, runs inside it). */
static void trace_split(clrt *rt, size_t slices)
{
    clrt_trace *t = &rt->trace;
    if (!t->on || t->gemm_depth > 0 || t->n == 0 || slices < 2 || !t->records[t->n - 1].gemm)
        return;
    clrt_launch_record *r = &t->records[t->n - 1];
    r->global *= slices;
    size_t used = strlen(r->kernel);
    snprintf(r->kernel + used, sizeof r->kernel - used, " split %zu", slices);
}

static clg_gemm_shape shape_of(const clrt_gemm_desc *d)
{
    return (clg_gemm_shape){(int64_t)d->m,     (int64_t)d->n, (int64_t)d->k,
                            (int64_t)d->batch, d->a.trans,    d->b.trans};
}

bool clrt_gemm_fuses(const clrt *rt, const clrt_gemm_desc *desc)
{
    clrt_gemm_desc d = with_defaults(*desc);
    clg_gemm_shape shape = shape_of(&d);
    const clrt_gemm_candidate *cand = clrt_gemm_candidate_get(clrt_gemm_pick(rt, &shape));
    int vw = rt->gemm.vector_width;
    const clrt_gemm_epilogue *ep = d.epilogue;
    if (ep && ep->bias && ep->bias_offset + d.n >= (size_t)INT_MAX) /* an int in the kernel */
        return false;
    return cand && is_own(cand) && d.batch == 1 && clrt_gemm_own_fits(&d) &&
           (vw == 1 || vw == 2 || vw == 4 || vw == 8 || vw == 16);
}

clg_status clrt_gemm(clrt *rt, clrt_gemm_desc d)
{
    d = with_defaults(d);
    if (d.epilogue && !clrt_gemm_fuses(rt, &d))
        return clrt_fail(rt, CLG_STATUS_INVALID_ARGUMENT,
                         "clrt_gemm: an epilogue on a %zu x %zu x %zu product (batch %zu) that "
                         "cannot fuse one",
                         d.m, d.n, d.k, d.batch);
    if (d.m == 0 || d.n == 0)
        return CLG_STATUS_OK;
    clg_gemm_shape shape = shape_of(&d);
    if (rt->gemm.recording)
        clrt_gemm_note(rt, &shape);
    /* The candidate is the one for the whole shape (tuned, forced or the
     * default): the tuner times candidates as they run here, split or not. */
    size_t slices = clrt_gemm_slices(rt, &shape);
    clrt_trace_note_gemm(rt, d.m, d.n, d.k, d.batch);
    trace_split(rt, slices);
    rt->trace.gemm_depth++;
    clg_status status = clrt_gemm_split_run(rt, clrt_gemm_pick(rt, &shape), slices, d);
    rt->trace.gemm_depth--;
    return status;
}
