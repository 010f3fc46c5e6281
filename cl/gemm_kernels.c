/* cl/gemm_kernels.c: clgrad's own GEMM kernels (cl/gemm.cl), host side: the
 * launch of gemm_outer and gemm_dot with their operand copies (transposes,
 * packing), panels and slices of K for the caches, work-group sizes, and
 * split K's sum. The dispatcher (cl/gemm.c) decides when they run; nothing
 * here calls back up to it. */
#include <stdio.h>

#include "cl/runtime.h"

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

bool clrt_gemm_own_fits(const clrt_gemm_desc *d)
{
    size_t m = d->m, n = d->n, k = d->k, batch = d->batch;
    clrt_matrix a = d->a, b = d->b, c = d->c;
    /* Transposed copies hold batch * m * k or batch * k * n elements, packed
     * ones batch * k * (n rounded up to a tile, at most 64 more). */
    unsigned long long copies = (unsigned long long)batch * k * (m > n + 64 ? m : n + 64);
    return copies < INT_LIMIT &&
           extent(a, a.trans ? k : m, a.trans ? m : k, batch, d->stride_a) < INT_LIMIT &&
           extent(b, b.trans ? n : k, b.trans ? k : n, batch, d->stride_b) < INT_LIMIT &&
           extent(c, m, n, batch, d->stride_c) < INT_LIMIT;
}

/* clrt_enqueue: a GEMM counts once, in gemm_calls, whatever it enqueues. */
static clg_status enqueue(clrt *rt, cl_kernel kernel, const size_t *global, const size_t *local,
                          int n_args, const clrt_arg *args)
{
    return clrt_enqueue(rt, kernel, 3, global, local, n_args, args, NULL);
}

/* dst (cols x rows, contiguous, batch after batch) = src^T; counted as a
 * launch of its own (clrt_transpose) or not (an operand copy of a GEMM). */
static clg_status transpose_launch(clrt *rt, bool counted, size_t rows, size_t cols,
                                   clrt_matrix src, size_t stride, size_t batch, cl_mem dst,
                                   size_t dst_offset)
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
    return counted ? clrt_launch(rt, kernel, 3, global, local, 9, args)
                   : enqueue(rt, kernel, global, local, 9, args);
}

static clg_status transpose(clrt *rt, size_t rows, size_t cols, clrt_matrix src, size_t stride,
                            size_t batch, cl_mem dst, size_t dst_offset)
{
    return transpose_launch(rt, false, rows, cols, src, stride, batch, dst, dst_offset);
}

bool clrt_transpose_fits(size_t rows, size_t cols, clrt_matrix src, size_t stride, size_t batch,
                         size_t dst_offset)
{
    return extent(src, rows, cols, batch, stride) < INT_LIMIT &&
           dst_offset < INT_LIMIT && batch * rows * cols < INT_LIMIT - dst_offset;
}

clg_status clrt_transpose(clrt *rt, size_t rows, size_t cols, clrt_matrix src, size_t stride,
                          size_t batch, cl_mem dst, size_t dst_offset)
{
    if (!clrt_transpose_fits(rows, cols, src, stride, batch, dst_offset))
        return clrt_fail(rt, CLG_STATUS_INVALID_ARGUMENT,
                         "clrt_transpose: %zu x %zu x %zu elements past 2^31", batch, rows, cols);
    return transpose_launch(rt, true, rows, cols, src, stride, batch, dst, dst_offset);
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
static clg_status own_launch(clrt *rt, const clrt_gemm_candidate *cand, clrt_gemm_desc d)
{
    const size_t m = d.m, n = d.n, k = d.k, batch = d.batch;
    const float alpha = d.alpha, beta = d.beta;
    clrt_matrix a = d.a, b = d.b;
    const clrt_matrix c = d.c;
    size_t stride_a = d.stride_a, stride_b = d.stride_b;
    const size_t stride_c = d.stride_c;
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
    /* The epilogue's kernels: the same source built with its options too
     * (the operand copies keep the plain ones). */
    const clrt_gemm_epilogue *ep = d.epilogue;
    char ep_options[1024];
    if (ep && (size_t)snprintf(ep_options, sizeof ep_options, "%s %s -D GEMM_ACT=%d", options,
                               ep->options, ep->act) >= sizeof ep_options)
        return clrt_fail(rt, CLG_STATUS_INVALID_ARGUMENT, "clrt_gemm: epilogue options too long");

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

    cl_kernel kernel =
        clrt_kernel(rt, "cl/gemm.cl", ep ? ep_options : options, outer ? "gemm_outer" : "gemm_dot");
    if (!kernel)
        return rt->error.status;
    size_t global[3] = {tiles_n * tiles_m, 1, batch};
    /* A (row stride, k stride): gemm_outer reads op(A) either way. */
    size_t a_row = a.trans ? 1 : a.ld, a_k = a.trans ? a.ld : 1;
    size_t b_tile = pack_b ? tile_n * k : 0;
    /* Sizes, offsets and strides in one int16, in the order of
     * GEMM_OUTER_SIZES / GEMM_DOT_SIZES (cl/gemm.cl), the epilogue's bias
     * offset (-1: none) after them; alpha and beta in a float2, or with the
     * activation's parameter in a float4. Every value fits an int
     * (clrt_gemm_own_fits; the bias is a row of C's length). */
    cl_int16 sizes = {{0}};
    const size_t outer_sizes[15] = {m,        n,      k,        a.offset, a_row,
                                    a_k,      stride_a, b.offset, b.ld,   b_tile,
                                    stride_b, c.offset, c.ld,     stride_c, panel};
    const size_t dot_sizes[13] = {m,        n,    k,        a.offset, a.ld,     stride_a, b.offset,
                                  b.ld,     stride_b, c.offset, c.ld, stride_c, panel};
    int n_sizes = outer ? 15 : 13;
    for (int i = 0; i < n_sizes; i++)
        sizes.s[i] = (cl_int)(outer ? outer_sizes[i] : dot_sizes[i]);
    cl_float2 scale = {{alpha, beta}};
    clrt_arg args[6] = {CLRT_ARG_MEM(a.mem), CLRT_ARG_MEM(b.mem), CLRT_ARG_MEM(c.mem),
                        CLRT_ARG_VECTOR(sizes), CLRT_ARG_VECTOR(scale)};
    cl_float4 ep_scale = {{alpha, beta, ep ? ep->param : 0.0f, 0.0f}};
    cl_mem bias = ep && ep->bias ? ep->bias : c.mem; /* any buffer, when none */
    if (ep) {
        sizes.s[n_sizes] = ep->bias ? (cl_int)ep->bias_offset : -1;
        args[3] = CLRT_ARG_MEM(bias);
        args[4] = CLRT_ARG_VECTOR(sizes);
        args[5] = CLRT_ARG_VECTOR(ep_scale);
    }
    /* A fixed local size: PoCL compiles a kernel once per local size (left
     * to it, it picks one per global size, so a new shape would mean a new
     * compile). PoCL spends about 0.1 us per work-group, as much as a light
     * tile's work (MLP fc3: 6 x 8 x 128 FMAs), so light tiles go eight to a
     * work-group where there are enough of them to keep the cores busy
     * (fc3: 15-20% faster than one per work-group); heavier ones one to a
     * work-group, which balances best over the cores. */
    size_t tiles = tiles_n * tiles_m;
    size_t local[3] = {rm * tile_n * k <= 16384 && tiles >= 40 ? 8 : 1, 1, 1};
    if (d.item_per_batch) /* a work-item takes all of its batch element's tiles */
        global[0] = local[0] = 1;
    return enqueue(rt, kernel, global, local, ep ? 6 : 5, args);
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

/* A stored transposed (a weight gradient's dY^T X) is read by gemm_outer
 * down a column strip: a cache line per k, ld apart. When ld is a multiple
 * of 2 KiB, the hardware prefetchers do not follow the stride and the
 * strip's lines fall into few cache sets (the L2's 16 ways over the 64 sets
 * such a stride reaches hold 1024 lines), so a long strip is evicted before
 * the tiles beside it (the same rows of A, other columns of B; or the next
 * tile row, which shares its lines) read it again, and every line comes
 * from the last-level cache. Slices of A_SLICE_ROWS of K keep the slice of
 * A in L2. The LSTM's weight gradients over dgates (ld 4 H = 512):
 * dW_hh 512 x 128 x 1728 TN 150 -> 230 GFLOP/s; dW_ih 512 x 28 x 6400 TN
 * 104 -> 146 GFLOP/s. */
#define A_SLICE_ROWS ((size_t)512)

static bool a_strip_conflicts(const clrt_gemm_desc *d)
{
    return d->a.trans && d->a.ld * sizeof(float) % 2048 == 0 && d->k >= 2 * A_SLICE_ROWS;
}

clg_status clrt_gemm_own(clrt *rt, const clrt_gemm_candidate *cand, clrt_gemm_desc d)
{
    size_t slice = KSLICE_BYTES / (d.n * sizeof(float));
    slice = slice < 256 ? 256 : slice;
    size_t tiles_m = (d.m + (size_t)cand->rm - 1) / (size_t)cand->rm;
    if (cand->kind != CLRT_GEMM_OUTER || d.k * d.n * sizeof(float) <= KSLICE_MIN_BYTES ||
        tiles_m < 8 || d.k < 8 * slice)
        slice = d.k;
    if (cand->kind == CLRT_GEMM_OUTER && a_strip_conflicts(&d) && slice > A_SLICE_ROWS)
        slice = A_SLICE_ROWS;
    clg_status status = clrt_gemm_by_k(rt, cand, d, slice, own_launch);
    if (status == CLG_STATUS_OK)
        rt->counters.gemm_calls++;
    return status;
}

/* The sum's indices are int, like the GEMM kernels'. */
bool clrt_gemm_own_split_fits(const clrt_gemm_desc *d, size_t slices)
{
    unsigned long long parts = (unsigned long long)d->batch * slices * d->m * d->n;
    return parts < INT_LIMIT && clrt_gemm_own_fits(d);
}

clg_status clrt_gemm_own_split_sum(clrt *rt, clrt_gemm_desc d, size_t slices, cl_mem partial)
{
    /* Vectors as wide as the device prefers that fit in N (the last one
     * slides left). */
    int vw = rt->gemm.vector_width;
    while ((size_t)vw > d.n)
        vw /= 2;
    const clrt_gemm_epilogue *ep = d.epilogue;
    char options[1024];
    int used = ep ? snprintf(options, sizeof options, "-D VW=%d %s -D GEMM_ACT=%d", vw, ep->options,
                             ep->act)
                  : snprintf(options, sizeof options, "-D VW=%d", vw);
    if (used < 0 || (size_t)used >= sizeof options)
        return clrt_fail(rt, CLG_STATUS_INVALID_ARGUMENT, "clrt_gemm: epilogue options too long");
    cl_kernel kernel = clrt_kernel(rt, "cl/gemm.cl", options, "gemm_split_sum");
    if (!kernel)
        return rt->error.status;
    size_t mn = d.m * d.n, k0 = d.k / slices * slices;
    clrt_matrix a = d.a, b = d.b, c = d.c;
    cl_mem bias = ep && ep->bias ? ep->bias : c.mem; /* any buffer, when none */
    clrt_arg args[] = {
        CLRT_ARG_INT(d.m),
        CLRT_ARG_INT(d.n),
        CLRT_ARG_INT(slices),
        CLRT_ARG_FLOAT(d.alpha),
        CLRT_ARG_MEM(partial),
        CLRT_ARG_INT(slices * mn),
        CLRT_ARG_MEM(a.mem),
        CLRT_ARG_INT(a.offset),
        CLRT_ARG_INT(a.trans ? 1 : a.ld), /* a_row */
        CLRT_ARG_INT(clrt_gemm_k_step_a(a)),
        CLRT_ARG_INT(d.stride_a),
        CLRT_ARG_MEM(b.mem),
        CLRT_ARG_INT(b.offset),
        CLRT_ARG_INT(clrt_gemm_k_step_b(b)),
        CLRT_ARG_INT(b.trans ? b.ld : 1), /* b_col */
        CLRT_ARG_INT(d.stride_b),
        CLRT_ARG_INT(k0),
        CLRT_ARG_INT(d.k),
        CLRT_ARG_FLOAT(d.beta),
        CLRT_ARG_MEM(c.mem),
        CLRT_ARG_INT(c.offset),
        CLRT_ARG_INT(c.ld),
        CLRT_ARG_INT(d.stride_c),
        /* the epilogue's, with GEMM_ACT */
        CLRT_ARG_MEM(bias),
        CLRT_ARG_INT(ep && ep->bias ? (cl_int)ep->bias_offset : -1),
        CLRT_ARG_FLOAT(ep ? ep->param : 0.0f),
    };
    /* A vector of a row of C per work-item, in the plan's 2-D tiles. */
    const size_t global[3] = {(d.n + (size_t)vw - 1) / (size_t)vw, d.m, d.batch},
                 local[3] = {rt->plan.tile[0], rt->plan.tile[1], 1};
    return enqueue(rt, kernel, global, local, ep ? 26 : 23, args);
}
