/* cl/gemm.c: clgrad's own GEMM kernels (cl/gemm.cl) and what the dispatcher
 * in cl/blas.c decides with: the list of candidates (CLBlast's routes and the
 * own kernels' parameter sets), the own kernels' launch (operand copies,
 * packing and panels for cache, work-group sizes), the default choice per
 * device type and shape class, the tuned table (exact shapes -> candidate)
 * read from the cache folder when a context opens and written by the tuner,
 * and the tuner.
 *
 * Defaults need no tuning: on a CPU device the own kernels (PoCL turns them
 * into the vector FMAs of the host; CLBlast's kernels, written for GPUs, run
 * at a fraction of that), on a GPU CLBlast, which is tuned for GPUs. The
 * tile follows the preferred vector width: a CPU that prefers 16 floats (PoCL
 * on AVX-512) has 32 vector registers, room for twice the tile of an AVX2
 * one (16 registers). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cl/runtime.h"

/* The own kernels' tiles (RM x NV, in vectors for gemm_outer) are sized for
 * 16 vector registers (AVX2: 6x2 and 4x3 leave room for B's vectors and a
 * broadcast) or 32 (AVX-512: 8x2, dot-4x4); the small ones give small
 * products more work-items. Names are what tuned tables store. */
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
};
#define N_CANDIDATES ((int)(sizeof candidates / sizeof candidates[0]))

CLG_API int clrt_gemm_candidate_count(void)
{
    return N_CANDIDATES;
}

CLG_API const clrt_gemm_candidate *clrt_gemm_candidate_get(int index)
{
    return index >= 0 && index < N_CANDIDATES ? &candidates[index] : NULL;
}

CLG_API int clrt_gemm_candidate_find(const char *name)
{
    for (int i = 0; i < N_CANDIDATES; i++)
        if (strcmp(candidates[i].name, name) == 0)
            return i;
    return -1;
}

/* ---- the own kernels ---- */

#define INT_LIMIT ((size_t)0x7fffffff)

/* One past the last element a matrix of `rows` x `cols` (as stored) touches
 * over the batch, or INT_LIMIT when that overflows. */
static size_t extent(clrt_matrix x, size_t rows, size_t cols, size_t batch, size_t stride)
{
    if (rows > INT_LIMIT || cols > INT_LIMIT || x.ld > INT_LIMIT || batch > INT_LIMIT ||
        stride > INT_LIMIT || x.offset > INT_LIMIT)
        return INT_LIMIT;
    unsigned long long e = (unsigned long long)x.offset + (unsigned long long)(batch - 1) * stride +
                           (unsigned long long)(rows ? rows - 1 : 0) * x.ld + cols;
    return e >= INT_LIMIT ? INT_LIMIT : (size_t)e;
}

bool clrt_gemm_own_fits(size_t m, size_t n, size_t k, clrt_matrix a, clrt_matrix b, clrt_matrix c,
                        size_t batch, size_t stride_a, size_t stride_b, size_t stride_c)
{
    /* Transposed copies hold batch * m * k or batch * k * n elements, packed
     * ones batch * k * (n rounded up to a tile, at most 64 more). */
    unsigned long long copies = (unsigned long long)batch * k * (m > n + 64 ? m : n + 64);
    return copies < INT_LIMIT &&
           extent(a, a.trans ? k : m, a.trans ? m : k, batch, stride_a) < INT_LIMIT &&
           extent(b, b.trans ? n : k, b.trans ? k : n, batch, stride_b) < INT_LIMIT &&
           extent(c, m, n, batch, stride_c) < INT_LIMIT;
}

clrt_block *clrt_gemm_scratch(clrt *rt, size_t bytes)
{
    if (!rt->gemm_temp || rt->gemm_temp->bytes < bytes) {
        /* Commands already queued on the old block run before anything that
         * reuses it: the queue is in order. */
        clrt_pool_put(rt, rt->gemm_temp);
        rt->gemm_temp = clrt_pool_get(rt, bytes);
    }
    return rt->gemm_temp;
}

/* clrt_launch without counting: a GEMM counts once, in gemm_calls, whatever
 * it enqueues. */
static clg_status enqueue(clrt *rt, cl_kernel kernel, const size_t *global, const size_t *local,
                          int n_args, const clrt_arg *args)
{
    clg_status status = CLG_STATUS_OK;
    size_t rounded[3];
    for (int d = 0; d < 3; d++)
        rounded[d] = local ? (global[d] + local[d] - 1) / local[d] * local[d] : global[d];
    for (int i = 0; i < n_args; i++)
        CLRT_CHECK(rt, clSetKernelArg(kernel, (cl_uint)i, args[i].size, args[i].value));
    cl_event event = NULL;
    CLRT_CHECK(rt, clEnqueueNDRangeKernel(rt->queue, kernel, 3, NULL, rounded, local, 0, NULL,
                                          CLRT_PROFILE_EVENT(rt, event)));
    if (event)
        clrt_profile_keep(rt, event, kernel, NULL);
cleanup:
    return status;
}

/* dst (cols x rows, contiguous, batch after batch) = src^T. */
static clg_status transpose(clrt *rt, size_t rows, size_t cols, clrt_matrix src, size_t stride,
                            size_t batch, cl_mem dst, size_t dst_offset)
{
    cl_kernel kernel = clrt_kernel(rt, "cl/gemm.cl", NULL, "gemm_transpose");
    if (!kernel)
        return rt->error.status;
    clrt_arg args[] = {
        CLRT_ARG_INT(rows),       CLRT_ARG_INT(cols),       CLRT_ARG_MEM(src.mem),
        CLRT_ARG_INT(src.offset), CLRT_ARG_INT(src.ld),     CLRT_ARG_INT(stride),
        CLRT_ARG_MEM(dst),        CLRT_ARG_INT(dst_offset), CLRT_ARG_INT(rows * cols)};
    /* Blocks of TB (32) x TB elements, one per work-group: a fixed local
     * size, so that PoCL compiles the kernel once (see below). */
    const size_t global[3] = {(rows + 31) / 32, (cols + 31) / 32, batch}, local[3] = {1, 1, 1};
    return enqueue(rt, kernel, global, local, 9, args);
}

/* dst = op(B) packed for gemm_outer (see gemm_pack in cl/gemm.cl), by the
 * kernel of the same program as the GEMM's (`options`). */
static clg_status pack(clrt *rt, const char *options, size_t n, size_t k, size_t tile_n,
                       clrt_matrix b, size_t stride, size_t batch, cl_mem dst, size_t dst_offset)
{
    cl_kernel kernel = clrt_kernel(rt, "cl/gemm.cl", options, "gemm_pack");
    if (!kernel)
        return rt->error.status;
    size_t tiles_n = (n + tile_n - 1) / tile_n;
    clrt_arg args[] = {CLRT_ARG_INT(n),
                       CLRT_ARG_INT(k),
                       CLRT_ARG_MEM(b.mem),
                       CLRT_ARG_INT(b.offset),
                       CLRT_ARG_INT(b.trans ? 1 : b.ld),
                       CLRT_ARG_INT(b.trans ? b.ld : 1),
                       CLRT_ARG_INT(stride),
                       CLRT_ARG_MEM(dst),
                       CLRT_ARG_INT(dst_offset),
                       CLRT_ARG_INT(tiles_n * tile_n * k)};
    /* PACK_ROWS (64) rows of a block per work-item, one per work-group. */
    const size_t global[3] = {(k + 63) / 64, tiles_n, batch}, local[3] = {1, 1, 1};
    return enqueue(rt, kernel, global, local, 10, args);
}

/* Cache sizes the own kernels plan with (measured with PoCL on an AVX2 CPU
 * with 512 KiB of L2 per core and 8 MiB of L3):
 *   - gemm_outer reads B packed (gemm_pack) when it is stored transposed,
 *     or when it is large (PACK_MIN_BYTES), each column strip is read by
 *     several tile rows and B's rows are a multiple of 2 KiB apart: such a
 *     stride maps a strip's rows to a few cache sets, which evict each other
 *     (squares n = 512 and 1024: +15% and +40%; with other strides packing
 *     gains nothing, and on small products the copy's launch costs more);
 *   - past PANEL_MIN_BYTES of B, which then no longer stays in the last-level
 *     cache between tile rows, tiles run in panels of tile rows holding about
 *     PANEL_BYTES of A (n = 2048: +60%; below that, panels gain nothing). */
#define PACK_MIN_BYTES ((size_t)512 * 1024)
#define PANEL_MIN_BYTES ((size_t)4 * 1024 * 1024)
#define PANEL_BYTES ((size_t)2 * 1024 * 1024)

/* One launch of an own kernel (with its operand copies). */
static clg_status own_launch(clrt *rt, const clrt_gemm_candidate *cand, size_t m, size_t n,
                             size_t k, float alpha, clrt_matrix a, clrt_matrix b, float beta,
                             clrt_matrix c, size_t batch, size_t stride_a, size_t stride_b,
                             size_t stride_c)
{
    clg_status status = CLG_STATUS_OK;
    bool outer = cand->kind == CLRT_GEMM_OUTER;
    int vw = rt->gemm.vector_width, nv = cand->nv;
    /* gemm_outer's vectors must fit in N (the last ones slide left):
     * narrower ones, down to one float. */
    while (outer && (size_t)vw > n)
        vw /= 2;
    size_t tile_n = outer ? (size_t)(vw * nv) : (size_t)nv, rm = (size_t)cand->rm;
    size_t tiles_n = (n + tile_n - 1) / tile_n, tiles_m = (m + rm - 1) / rm;
    char options[64];
    snprintf(options, sizeof options, "-D VW=%d -D RM=%d -D NV=%d", vw, cand->rm, nv);

    /* gemm_outer reads B row by row (any A), packed when B is stored
     * transposed or its strips would thrash the cache (see above); gemm_dot
     * reads A and B^T row by row, and operands stored otherwise are
     * transposed into the scratch first. */
    size_t b_bytes = k * n * sizeof(float);
    bool copy_a = !outer && a.trans;
    bool pack_b = outer && k > 0 &&
                  (b.trans || (b_bytes >= PACK_MIN_BYTES && tiles_m >= 4 && k >= 64 &&
                               b.ld * sizeof(float) % 2048 == 0));
    bool copy_b = !outer && !b.trans;
    if (copy_a || copy_b || pack_b) {
        size_t a_elems = copy_a ? (batch * m * k + 63) / 64 * 64 : 0;
        size_t b_elems = pack_b ? batch * tiles_n * tile_n * k : copy_b ? batch * k * n : 0;
        clrt_block *scratch = clrt_gemm_scratch(rt, (a_elems + b_elems) * sizeof(float));
        if (!scratch)
            return rt->error.status;
        if (copy_a) {
            status = transpose(rt, k, m, a, stride_a, batch, scratch->mem, 0);
            a = (clrt_matrix){scratch->mem, 0, k, false};
            stride_a = m * k;
        }
        if (pack_b && status == CLG_STATUS_OK) {
            status = pack(rt, options, n, k, tile_n, b, stride_b, batch, scratch->mem, a_elems);
            b = (clrt_matrix){scratch->mem, a_elems, tile_n, false};
            stride_b = tiles_n * tile_n * k;
        } else if (copy_b && status == CLG_STATUS_OK) {
            status = transpose(rt, k, n, b, stride_b, batch, scratch->mem, a_elems);
            b = (clrt_matrix){scratch->mem, a_elems, k, true};
            stride_b = k * n;
        }
        if (status != CLG_STATUS_OK)
            return status;
    }

    /* Panels of tile rows (see TILE_MAP in cl/gemm.cl) once B outgrows the
     * cache: as many rows of A as PANEL_BYTES holds. */
    size_t panel = b_bytes > PANEL_MIN_BYTES ? PANEL_BYTES / (rm * k * sizeof(float)) : 1;
    panel = panel < 1 ? 1 : panel > tiles_m ? tiles_m : panel;

    cl_kernel kernel = clrt_kernel(rt, "cl/gemm.cl", options, outer ? "gemm_outer" : "gemm_dot");
    if (!kernel)
        return rt->error.status;
    size_t global[3] = {tiles_n * tiles_m, 1, batch};
    /* A (row stride, k stride): gemm_outer reads op(A) either way. */
    size_t a_row = a.trans ? 1 : a.ld, a_k = a.trans ? a.ld : 1;
    size_t b_tile = pack_b ? tile_n * k : 0;
    clrt_arg outer_args[] = {CLRT_ARG_INT(m),        CLRT_ARG_INT(n),        CLRT_ARG_INT(k),
                             CLRT_ARG_FLOAT(alpha),  CLRT_ARG_MEM(a.mem),    CLRT_ARG_INT(a.offset),
                             CLRT_ARG_INT(a_row),    CLRT_ARG_INT(a_k),      CLRT_ARG_INT(stride_a),
                             CLRT_ARG_MEM(b.mem),    CLRT_ARG_INT(b.offset), CLRT_ARG_INT(b.ld),
                             CLRT_ARG_INT(b_tile),   CLRT_ARG_INT(stride_b), CLRT_ARG_FLOAT(beta),
                             CLRT_ARG_MEM(c.mem),    CLRT_ARG_INT(c.offset), CLRT_ARG_INT(c.ld),
                             CLRT_ARG_INT(stride_c), CLRT_ARG_INT(panel)};
    clrt_arg dot_args[] = {CLRT_ARG_INT(m),        CLRT_ARG_INT(n),        CLRT_ARG_INT(k),
                           CLRT_ARG_FLOAT(alpha),  CLRT_ARG_MEM(a.mem),    CLRT_ARG_INT(a.offset),
                           CLRT_ARG_INT(a.ld),     CLRT_ARG_INT(stride_a), CLRT_ARG_MEM(b.mem),
                           CLRT_ARG_INT(b.offset), CLRT_ARG_INT(b.ld),     CLRT_ARG_INT(stride_b),
                           CLRT_ARG_FLOAT(beta),   CLRT_ARG_MEM(c.mem),    CLRT_ARG_INT(c.offset),
                           CLRT_ARG_INT(c.ld),     CLRT_ARG_INT(stride_c), CLRT_ARG_INT(panel)};
    /* A fixed local size: PoCL compiles a kernel once per local size (left
     * to it, it picks one per global size, so a new shape would mean a new
     * compile). PoCL spends about 0.1 us per work-group, as much as a light
     * tile's work (MLP fc3: 6 x 8 x 128 FMAs), so light tiles go eight to a
     * work-group where there are enough of them to keep the cores busy
     * (fc3: 15-20% faster than one per work-group); heavier ones one to a
     * work-group, which balances best over the cores. */
    size_t tiles = tiles_n * tiles_m;
    size_t local[3] = {rm * tile_n * k <= 16384 && tiles >= 40 ? 8 : 1, 1, 1};
    return outer ? enqueue(rt, kernel, global, local, 20, outer_args)
                 : enqueue(rt, kernel, global, local, 18, dot_args);
}

/* Long K over a B larger than the caches (LSTM dW_hh, 512 x 128 x 6336 TN)
 * runs in slices of K, a launch each adding into C (beta 1 after the
 * first): a slice of B, KSLICE_BYTES, stays in L2 while every tile row reads
 * it, where one pass streams all of B from the last-level cache once per
 * tile row (dW_hh: 14 -> 52 GFLOP/s). Only where K holds at least 8 slices:
 * squares up to n = 1024 gain nothing from it. Summing by slices also keeps
 * the rounding of a long K in bounds, as KB does inside the kernel. */
#define KSLICE_BYTES ((size_t)256 * 1024)
#define KSLICE_MIN_BYTES ((size_t)1024 * 1024)

clg_status clrt_gemm_own(clrt *rt, const clrt_gemm_candidate *cand, size_t m, size_t n, size_t k,
                         float alpha, clrt_matrix a, clrt_matrix b, float beta, clrt_matrix c,
                         size_t batch, size_t stride_a, size_t stride_b, size_t stride_c)
{
    size_t slice = KSLICE_BYTES / (n * sizeof(float));
    slice = slice < 256 ? 256 : slice;
    size_t tiles_m = (m + (size_t)cand->rm - 1) / (size_t)cand->rm;
    if (cand->kind != CLRT_GEMM_OUTER || k * n * sizeof(float) <= KSLICE_MIN_BYTES ||
        tiles_m < 8 || k < 8 * slice)
        slice = k;
    clg_status status = CLG_STATUS_OK;
    size_t k0 = 0;
    do { /* once when k is 0: beta still scales C */
        size_t kk = k - k0 < slice ? k - k0 : slice;
        clrt_matrix as = a, bs = b;
        as.offset += a.trans ? k0 * a.ld : k0;
        bs.offset += b.trans ? k0 : k0 * b.ld;
        status = own_launch(rt, cand, m, n, kk, alpha, as, bs, k0 ? 1.0f : beta, c, batch,
                            stride_a, stride_b, stride_c);
        k0 += kk;
    } while (status == CLG_STATUS_OK && k0 < k);
    if (status == CLG_STATUS_OK)
        rt->counters.gemm_calls++;
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

CLG_API size_t clrt_gemm_slices(const clrt *rt, size_t m, size_t n, size_t k, size_t batch)
{
    const clrt_plan *plan = &rt->plan;
    size_t below = plan->gemm_split_outputs;
    if (below == 0 || k < plan->gemm_split_long_k || batch > SPLIT_BATCH_MAX || m >= below ||
        n >= below || m * n * batch >= below || m * n * batch == 0)
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

CLG_API clg_status clrt_gemm_split_run(clrt *rt, int candidate, size_t slices, size_t m, size_t n,
                                       size_t k, float alpha, clrt_matrix a, clrt_matrix b,
                                       float beta, clrt_matrix c, size_t batch, size_t stride_a,
                                       size_t stride_b, size_t stride_c)
{
    if (m == 0 || n == 0 || batch == 0)
        return CLG_STATUS_OK;
    /* The sum's indices are int, like the own kernels'. */
    unsigned long long parts = (unsigned long long)batch * slices * m * n;
    if (slices < 2 || k < slices || parts >= INT_LIMIT ||
        !clrt_gemm_own_fits(m, n, k, a, b, c, batch, stride_a, stride_b, stride_c))
        return clrt_gemm_run(rt, candidate, m, n, k, alpha, a, b, beta, c, batch, stride_a,
                             stride_b, stride_c);
    if (!clrt_gemm_candidate_get(candidate))
        return clrt_fail(rt, CLG_STATUS_INVALID_ARGUMENT,
                         "clrt_gemm_split_run: no GEMM candidate %d", candidate);
    cl_kernel kernel = clrt_kernel(rt, "cl/gemm.cl", NULL, "gemm_split_sum");
    if (!kernel)
        return rt->error.status;
    /* A pooled block of its own, not the scratch (the slices' GEMM may copy
     * its operands there), kept and grown like the scratch: handed back to
     * the pool after each GEMM, it could be taken by a tensor created later
     * in the first step (a gradient, an optimizer's state) and the second
     * step would allocate again. */
    size_t bytes = (size_t)parts * sizeof(float);
    if (!rt->gemm_split || rt->gemm_split->bytes < bytes) {
        clrt_pool_put(rt, rt->gemm_split); /* queued commands on it run first */
        rt->gemm_split = clrt_pool_get(rt, bytes);
        if (!rt->gemm_split)
            return rt->error.status;
    }
    clrt_block *partial = rt->gemm_split;
    size_t slice_k = k / slices, k0 = slice_k * slices, mn = m * n;
    size_t slice_a = a.trans ? slice_k * a.ld : slice_k;
    size_t slice_b = b.trans ? slice_k : slice_k * b.ld;
    uint64_t calls = rt->counters.gemm_calls;
    clg_status status = CLG_STATUS_OK;
    for (size_t z = 0; z < batch && status == CLG_STATUS_OK; z++) {
        clrt_matrix az = a, bz = b, pz = {partial->mem, z * slices * mn, n, false};
        az.offset += z * stride_a;
        bz.offset += z * stride_b;
        status = clrt_gemm_run(rt, candidate, m, n, slice_k, 1.0f, az, bz, 0.0f, pz, slices,
                               slice_a, slice_b, mn);
    }
    if (status == CLG_STATUS_OK) {
        size_t count = batch * mn;
        clrt_arg args[] = {CLRT_ARG_INT(m),
                           CLRT_ARG_INT(n),
                           CLRT_ARG_INT(slices),
                           CLRT_ARG_INT(count),
                           CLRT_ARG_FLOAT(alpha),
                           CLRT_ARG_MEM(partial->mem),
                           CLRT_ARG_INT(slices * mn),
                           CLRT_ARG_MEM(a.mem),
                           CLRT_ARG_INT(a.offset),
                           CLRT_ARG_INT(a.trans ? 1 : a.ld),
                           CLRT_ARG_INT(a.trans ? a.ld : 1),
                           CLRT_ARG_INT(stride_a),
                           CLRT_ARG_MEM(b.mem),
                           CLRT_ARG_INT(b.offset),
                           CLRT_ARG_INT(b.trans ? 1 : b.ld),
                           CLRT_ARG_INT(b.trans ? b.ld : 1),
                           CLRT_ARG_INT(stride_b),
                           CLRT_ARG_INT(k0),
                           CLRT_ARG_INT(k),
                           CLRT_ARG_FLOAT(beta),
                           CLRT_ARG_MEM(c.mem),
                           CLRT_ARG_INT(c.offset),
                           CLRT_ARG_INT(c.ld),
                           CLRT_ARG_INT(stride_c)};
        /* An element of C per work-item, in the plan's elementwise groups. */
        const size_t global[3] = {count, 1, 1}, local[3] = {rt->plan.group, 1, 1};
        status = enqueue(rt, kernel, global, local, 24, args);
    }
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
 * GPUs and other devices get CLBlast, tuned for them, unless a tuned table
 * says otherwise. On AVX-512 (untimed) few rows keep the 8-row tile. */
typedef enum shape_class {
    CLASS_NT_NARROW,
    CLASS_NT_LONG_K,
    CLASS_FEW_ROWS,
    CLASS_OTHER
} shape_class;

static const struct {
    bool wide; /* preferred vector width >= 16 (AVX-512: 32 registers) */
    shape_class cls;
    const char *candidate;
} cpu_defaults[] = {
    {false, CLASS_NT_NARROW, "dot-4x2"},  {false, CLASS_NT_LONG_K, "dot-4x3"},
    {false, CLASS_FEW_ROWS, "outer-4x3"}, {false, CLASS_OTHER, "outer-6x2"},
    {true, CLASS_NT_NARROW, "dot-4x2"},   {true, CLASS_NT_LONG_K, "dot-4x4"},
    {true, CLASS_FEW_ROWS, "outer-8x2"},  {true, CLASS_OTHER, "outer-8x2"},
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

CLG_API int clrt_gemm_pick(const clrt *rt, const clg_gemm_shape *shape)
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

static int make_dirs(const char *path)
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
    FILE *f = make_dirs(rt->cache_dir) == 0 ? fopen(tmp, "w") : NULL;
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

clg_status clrt_gemm_setup(clrt *rt)
{
    cl_uint width = 0;
    if (clGetDeviceInfo(rt->device, CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT, sizeof width, &width,
                        NULL) != CL_SUCCESS)
        width = 1;
    /* A power of two that vloadN knows: 1, 2, 4, 8 or 16. */
    int vw = 1;
    while (vw < 16 && (cl_uint)(2 * vw) <= width)
        vw *= 2;
    rt->gemm.vector_width = vw;
    const char *forced = getenv("CLGRAD_GEMM");
    rt->gemm.forced = forced && forced[0] ? clrt_gemm_candidate_find(forced) : -1;
    if (forced && forced[0] && rt->gemm.forced < 0) {
        char names[512] = "";
        size_t used = 0;
        for (int i = 0; i < N_CANDIDATES && used < sizeof names; i++)
            used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
                                     candidates[i].name);
        return clrt_fail(rt, CLG_STATUS_INVALID_ARGUMENT,
                         "CLGRAD_GEMM=%s names no GEMM implementation (there are %s)", forced,
                         names);
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
    clrt_matrix a, b, c;
    size_t stride_a, stride_b, stride_c;
} tune_case;

static clg_status run_case(clrt *rt, int candidate, const tune_case *t, int reps)
{
    const clg_gemm_shape *s = &t->shape;
    for (int r = 0; r < reps; r++) {
        /* As clrt_gemm runs it: in slices of K where the plan splits it. */
        size_t slices =
            clrt_gemm_slices(rt, (size_t)s->m, (size_t)s->n, (size_t)s->k, (size_t)s->batch);
        clg_status status = clrt_gemm_split_run(
            rt, candidate, slices, (size_t)s->m, (size_t)s->n, (size_t)s->k, 1.0f, t->a, t->b, 0.0f,
            t->c, (size_t)s->batch, t->stride_a, t->stride_b, t->stride_c);
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
                   {NULL, 0, s->trans_a ? m : k, s->trans_a},
                   {NULL, 0, s->trans_b ? k : n, s->trans_b},
                   {NULL, 0, n, false},
                   m * k,
                   k * n,
                   m * n};
    clrt_block *blocks[3] = {clrt_pool_get(rt, (batch * m * k + 1) * sizeof(float)),
                             clrt_pool_get(rt, (batch * k * n + 1) * sizeof(float)),
                             clrt_pool_get(rt, (batch * m * n + 1) * sizeof(float))};
    clg_status status = rt->error.status;
    if (status == CLG_STATUS_OK) {
        t.a.mem = blocks[0]->mem;
        t.b.mem = blocks[1]->mem;
        t.c.mem = blocks[2]->mem;
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
