/* cl/gemm.cl: clgrad's own GEMM kernels, launched by cl/gemm.c for
 * clrt_gemm. Row-major C (M,N) = alpha op(A) op(B) + beta C, in strided
 * batches along the third work dimension.
 *
 * Register blocking: each work-item owns a tile of C and keeps it in vector
 * registers for the whole K loop, so every value loaded from A or B feeds
 * several FMAs. Two shapes of tile:
 *   gemm_outer  C = op(A) B: per k, NV vectors of VW floats from row k of B,
 *               each multiplied by a broadcast A[i][k] for the tile's RM rows
 *               (an outer product); A is read through (row, k) strides, so
 *               it may be stored transposed.
 *   gemm_dot    C = A B^T with B stored (N,K): A's and B's rows are both
 *               contiguous along k, so RM x NV dot products run as VW-wide
 *               vector FMAs along k, summed across lanes at the end.
 * Other transposes reach them after a copy: gemm_transpose for gemm_dot's
 * operands, gemm_pack for gemm_outer's B (cl/gemm.c decides).
 *
 * Cache: tiles run in panels of tile rows, so that a column strip of B is
 * reused by the panel's rows while in cache (TILE_MAP), and gemm_outer can
 * read B packed strip by strip (gemm_pack), whose rows then share no cache
 * sets whatever B's leading dimension.
 *
 * Edges without branches in the K loop: rows past M (or, in gemm_dot, past
 * N) are clamped to the last row, computed and not stored; in gemm_outer a
 * vector that would reach past column N slides left to end at N (the host
 * ensures N >= VW) and stores only the columns no other vector owns, so a
 * tile of NV vectors serves any N from VW up (MLP fc3's N = 10: one tile of
 * 8 + 8 columns, not two tiles of 8 that each load A's values).
 *
 * Long K: products are summed in blocks of KB and each block's sum is added
 * to the total, so rounding grows with K / KB plus KB, not with K (a plain
 * running sum over K = 50176 drifts to about 2e-5 relative).
 *
 * beta == 0 never reads C, so whatever C held (NaN included) cannot leak. */

#ifndef VW
#define VW 8 /* floats per vector: the device's preferred float vector width */
#endif
#ifndef RM
#define RM 6 /* rows of C per work-item */
#endif
#ifndef NV
#define NV 2 /* gemm_outer: vectors of VW columns per row; gemm_dot: columns */
#endif
#ifndef KB
#define KB 256 /* K values summed per block before joining the total */
#endif

/* a * b + c, fused where the device has FMA: OpenCL C contracts by default,
 * and the pragma says so. (PoCL's mad() came out as a multiply and an add.) */
#pragma OPENCL FP_CONTRACT ON
#define MAD(a, b, c) ((a) * (b) + (c))

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

#if VW == 1
typedef float floatv;
#define VLOAD(p) (*(p))
#define VSTORE(v, p) (*(p) = (v))
#define HSUM(v) (v)
#else
typedef CAT(float, VW) floatv;
#define VLOAD(p) CAT(vload, VW)(0, (p))
#define VSTORE(v, p) CAT(vstore, VW)((v), 0, (p))
#if VW == 2
#define HSUM(v) ((v).s0 + (v).s1)
#elif VW == 4
#define HSUM(v) (((v).s0 + (v).s1) + ((v).s2 + (v).s3))
#elif VW == 8
#define HSUM(v) HSUM4((v).lo + (v).hi)
#elif VW == 16
#define HSUM(v) HSUM4(((v).lo.lo + (v).lo.hi) + ((v).hi.lo + (v).hi.hi))
#endif
#define HSUM4(v) (((v).s0 + (v).s1) + ((v).s2 + (v).s3))
#endif

/* alpha * acc (+ beta * *c): the only place C is read. */
#define BLEND(acc, c) (beta == 0.0f ? alpha * (acc) : alpha * (acc) + beta * (c))

/* The epilogue (built with -DGEMM_ACT=<an activation's code> and the codes,
 * see clrt_gemm_epilogue): C = act(BLEND + bias), bias a row of N floats
 * added to every row of C (bias_off < 0: none), act one of
 * ops/activation_math.cl's functions with its parameter act_p, applied as C
 * is stored, so that a linear layer's x W^T + b and its activation are one
 * pass over C instead of three (C written, read back, written). The sum
 * BLEND + bias is the float that a separate bias + activation kernel would
 * read, so the result is the same. Without GEMM_ACT the kernels take
 * alpha and beta only, and FINISH_V is BLEND. */
#ifdef GEMM_ACT
#undef CLG_VW
#define CLG_VW VW /* activation_math.cl stamps out the functions for 8 or 16 too */
#include "ops/activation_math.cl"
#if VW == 2
ACTIVATION_MATH(float2, 2)
#endif
#if VW == 1
#define ACT_APPLY_V activation_apply
#else
#define ACT_APPLY_V CAT(activation_apply, VW)
#endif
#define SCALE_ARG float4 scale /* alpha, beta, act_p */
#define EPILOGUE_ARG __global const float *bias,
#define FINISH_V(acc, c, bv) ACT_APPLY_V(GEMM_ACT, BLEND(acc, c) + (bv), act_p, 0.0f)
#define BIAS_V(col) (bias_off >= 0 ? VLOAD(bias + bias_off + (col)) : (floatv)(0.0f))
#define SPLIT_EPILOGUE_ARGS , __global const float *bias, int bias_off, float act_p
#else
#define SCALE_ARG float2 scale /* alpha, beta */
#define EPILOGUE_ARG
#define FINISH_V(acc, c, bv) BLEND(acc, c)
#define BIAS_V(col) ((floatv)(0.0f))
#define SPLIT_EPILOGUE_ARGS
#endif

/* Tiles are numbered along dimension 0 (dimension 2 is the batch) and
 * mapped to (tile row tm, tile column tn) in panels of `panel` tile rows:
 * within a panel, consecutive work-items walk down its rows for one column
 * of tiles, then move to the next column. panel = 1 is plain row order
 * (work-items that follow each other share A's rows); a taller panel keeps
 * one column strip of B in cache while it is used by every row of the
 * panel, and the panel's rows of A stay in cache across the strips, so B
 * streams from memory M / (RM panel) times instead of M / RM (the host asks
 * for panels only once B outgrows the last-level cache).
 * A work-item takes tiles id, id + G, id + 2 G, ... (G the global size along
 * dimension 0): a tile each when the host launches one work-item per tile,
 * every tile of its batch element when it launches one (split K's slices
 * under the cpu plan, see clrt_gemm_split_run: a compute unit then streams
 * one slice of K through its own caches). Reads the kernel's M and panel;
 * declares z, tn and tm, and opens the loop over the work-item's tiles that
 * TILE_END closes. */
#define TILE_MAP(tiles_n, tile_rows)                                          \
    int z = get_global_id(2);                                                \
    int tiles_m = (M + (tile_rows) - 1) / (tile_rows);                       \
    for (int id = get_global_id(0); id < (tiles_n) * tiles_m;                \
         id += get_global_size(0)) {                                         \
        int per_panel = panel * (tiles_n), first = id / per_panel * panel;   \
        int rows = min(panel, tiles_m - first), in_panel = id - first * (tiles_n); \
        int tn = in_panel / rows, tm = first + in_panel % rows
#define TILE_END }

/* gemm_outer's K loop over the tile's first NVEC vectors (see there): sums
 * of KB products added into total[RM][...], A's element (row r of the tile,
 * k) read as A_AT(r, k). One statement (do-while), so that it fits an
 * if-else; #pragma cannot sit in a macro, _Pragma can. */
#define OUTER_K_LOOP(NVEC, A_AT)                                              \
    do {                                                                      \
        for (int k0 = 0; k0 < K; k0 += KB) {                                  \
            int k1 = min(k0 + KB, K);                                         \
            floatv acc[RM][NVEC];                                             \
            _Pragma("unroll") for (int r = 0; r < RM; r++)                    \
                _Pragma("unroll") for (int v = 0; v < NVEC; v++)              \
                    acc[r][v] = 0.0f;                                         \
            for (int k = k0; k < k1; k++) {                                   \
                floatv b[NVEC];                                               \
                _Pragma("unroll") for (int v = 0; v < NVEC; v++)              \
                    b[v] = VLOAD(b_cols[v] + k * ldb);                        \
                _Pragma("unroll") for (int r = 0; r < RM; r++) {              \
                    floatv a = (floatv)(A_AT(r, k));                          \
                    _Pragma("unroll") for (int v = 0; v < NVEC; v++)          \
                        acc[r][v] = MAD(a, b[v], acc[r][v]);                  \
                }                                                             \
            }                                                                 \
            _Pragma("unroll") for (int r = 0; r < RM; r++)                    \
                _Pragma("unroll") for (int v = 0; v < NVEC; v++)              \
                    total[r][v] += acc[r][v];                                 \
        }                                                                     \
    } while (0)

/* The two products' sizes, offsets and strides come in one int16 and alpha,
 * beta in one float2 (with the epilogue: the bias's offset last in the int16,
 * act_p third in a float4), in the host's order (cl/gemm_kernels.c): PoCL copies each
 * kernel argument into an allocation of its own per launch, and 20 scalar
 * arguments cost 1.6 us more of host CPU and 2 us more per launch than 5
 * (measured with an empty kernel). */
#define GEMM_OUTER_SIZES(s)                                                                        \
    int M = (s).s0, N = (s).s1, K = (s).s2, a_off = (s).s3, a_row = (s).s4, a_k = (s).s5,          \
        a_batch = (s).s6, b_off = (s).s7, ldb = (s).s8, b_tile = (s).s9, b_batch = (s).sa,          \
        c_off = (s).sb, ldc = (s).sc, c_batch = (s).sd, panel = (s).se, bias_off = (s).sf
#define GEMM_DOT_SIZES(s)                                                                          \
    int M = (s).s0, N = (s).s1, K = (s).s2, a_off = (s).s3, lda = (s).s4, a_batch = (s).s5,        \
        b_off = (s).s6, ldb = (s).s7, b_batch = (s).s8, c_off = (s).s9, ldc = (s).sa,               \
        c_batch = (s).sb, panel = (s).sc, bias_off = (s).sd

/* B is read either in place (b_tile == 0: element (k, col) at
 * B[k ldb + col]) or packed by gemm_pack (b_tile > 0: column tile tn is a
 * contiguous K x TN block at B + tn b_tile, ldb = TN), which keeps a strip
 * in few cache lines whatever B's leading dimension (a power-of-two ldb maps
 * a strip's rows to a handful of cache sets). */
__kernel void gemm_outer(__global const float *A, __global const float *B, __global float *C,
                         EPILOGUE_ARG int16 sizes, SCALE_ARG)
{
    GEMM_OUTER_SIZES(sizes);
    float alpha = scale.s0, beta = scale.s1;
#ifdef GEMM_ACT
    float act_p = scale.s2;
#endif
    const int TN = VW * NV;
    TILE_MAP((N + TN - 1) / TN, RM);
    int i0 = tm * RM, j0 = tn * TN;
    __global const float *A_z = A + a_off + z * a_batch;
    __global const float *B_t = B + b_off + z * b_batch + tn * b_tile;
    __global float *C_z = C + c_off + z * c_batch;

    __global const float *a_rows[RM];
#pragma unroll
    for (int r = 0; r < RM; r++)
        a_rows[r] = A_z + min(i0 + r, M - 1) * a_row;
    /* Each vector's first column: past N - VW, vectors slide left (see the
     * file comment). */
    int cols[NV];
    __global const float *b_cols[NV];
#pragma unroll
    for (int v = 0; v < NV; v++) {
        cols[v] = min(j0 + v * VW, N - VW);
        b_cols[v] = B_t + (b_tile ? v * VW : cols[v]);
    }

    floatv total[RM][NV];
#pragma unroll
    for (int r = 0; r < RM; r++)
#pragma unroll
        for (int v = 0; v < NV; v++)
            total[r][v] = 0.0f;

    /* The last tile column may need a single vector: N = 100 with tiles of
     * 2 x 16 leaves 4 columns, which one slid vector covers (computing 112
     * columns for 100 instead of 128). The loop is stamped for NV vectors
     * and for one. */
    int nv = (N - j0 + VW - 1) / VW > 1 ? NV : 1;
    /* A's element (row r of the tile, k): through the row pointers, or,
     * where the tile's rows are adjacent in memory (A read transposed, as a
     * weight gradient's dY^T: a_row = 1) and none is clamped, at a fixed
     * offset from one pointer. For the first, compilers keep RM pointers
     * and add to each per k (PoCL: 9 integer adds per 16 FMAs, competing
     * for the FMA ports); the second needs one add. */
    __global const float *a_tile = A_z + i0;
#define A_ROWS(r, k) a_rows[r][(k) * a_k]
#define A_ADJACENT(r, k) a_tile[(k) * a_k + (r)]
    bool adjacent = a_row == 1 && i0 + RM <= M;
    if (nv == NV && adjacent)
        OUTER_K_LOOP(NV, A_ADJACENT);
    else if (nv == NV)
        OUTER_K_LOOP(NV, A_ROWS);
    else if (adjacent)
        OUTER_K_LOOP(1, A_ADJACENT);
    else
        OUTER_K_LOOP(1, A_ROWS);
#undef A_ROWS
#undef A_ADJACENT

    /* The epilogue's bias for each vector's columns, loaded once. */
    floatv bias_v[NV];
#pragma unroll
    for (int v = 0; v < NV; v++)
        bias_v[v] = BIAS_V(cols[v]);
#pragma unroll
    for (int r = 0; r < RM; r++) {
        if (i0 + r >= M)
            continue;
        __global float *c = C_z + (i0 + r) * ldc;
#pragma unroll
        for (int v = 0; v < NV; v++) {
            /* (a condition, not a break: the loop's count stays exact, so
             * it unrolls around an epilogue's activation too) */
            int own = j0 + v * VW; /* the columns this vector stands for */
            if (v >= nv)
                continue;
            /* A slid vector's lanes below `own` are another vector's
             * columns, maybe another work-item's: computed whole (the
             * activation on whole vectors), but they neither read C nor
             * store. */
            float lanes[VW];
            floatv old = (floatv)(0.0f);
            if (beta != 0.0f && cols[v] == own) {
                old = VLOAD(c + own);
            } else if (beta != 0.0f) {
                for (int l = 0; l < VW; l++)
                    lanes[l] = cols[v] + l >= own ? c[cols[v] + l] : 0.0f;
                old = VLOAD(lanes);
            }
            floatv out = FINISH_V(total[r][v], old, bias_v[v]);
            if (cols[v] == own) {
                VSTORE(out, c + own);
            } else {
                VSTORE(out, lanes);
                for (int l = 0; l < VW; l++)
                    if (cols[v] + l >= own)
                        c[cols[v] + l] = lanes[l];
            }
        }
    }
    TILE_END
}

/* float sum = gemm_dot's dot product of row r of its A tile with row c of
 * its B tile: the vector sums' lanes, then the rest of K (fewer than VW,
 * from k_vec on) in scalars. A macro, not a function: as a function,
 * clang's IR of gemm_dot changed (it grew by half); with the macro it is the
 * same as with the loops written out, so drivers see the kernels they did. */
#define DOT_SUM(sum, r, c)                                                                         \
    float sum = HSUM(total[r][c]);                                                                 \
    for (int k = k_vec; k < K; k++)                                                                \
        sum = MAD(a_rows[r][k], b_rows[c][k], sum)

/* C = alpha A B^T + beta C; A (M,K) and B (N,K) row-major. Tile: RM rows x
 * NV columns of C. */
__kernel void gemm_dot(__global const float *A, __global const float *B, __global float *C,
                       EPILOGUE_ARG int16 sizes, SCALE_ARG)
{
    GEMM_DOT_SIZES(sizes);
    float alpha = scale.s0, beta = scale.s1;
#ifdef GEMM_ACT
    float act_p = scale.s2;
#endif
    TILE_MAP((N + NV - 1) / NV, RM);
    int i0 = tm * RM, j0 = tn * NV;
    __global const float *A_z = A + a_off + z * a_batch;
    __global const float *B_z = B + b_off + z * b_batch;
    __global float *C_z = C + c_off + z * c_batch;

    __global const float *a_rows[RM], *b_rows[NV];
#pragma unroll
    for (int r = 0; r < RM; r++)
        a_rows[r] = A_z + min(i0 + r, M - 1) * lda;
#pragma unroll
    for (int c = 0; c < NV; c++)
        b_rows[c] = B_z + min(j0 + c, N - 1) * ldb;

    floatv total[RM][NV];
#pragma unroll
    for (int r = 0; r < RM; r++)
#pragma unroll
        for (int c = 0; c < NV; c++)
            total[r][c] = 0.0f;

    int k_vec = K / VW * VW; /* the rest, fewer than VW, runs in scalars */
    for (int k0 = 0; k0 < k_vec; k0 += KB) {
        int k1 = min(k0 + KB, k_vec);
        floatv acc[RM][NV];
#pragma unroll
        for (int r = 0; r < RM; r++)
#pragma unroll
            for (int c = 0; c < NV; c++)
                acc[r][c] = 0.0f;
        for (int k = k0; k < k1; k += VW) {
            /* B's vectors stay in registers, A's stream through one: RM NV
             * + NV + 1 registers in all. */
            floatv b[NV];
#pragma unroll
            for (int c = 0; c < NV; c++)
                b[c] = VLOAD(b_rows[c] + k);
#pragma unroll
            for (int r = 0; r < RM; r++) {
                floatv a = VLOAD(a_rows[r] + k);
#pragma unroll
                for (int c = 0; c < NV; c++)
                    acc[r][c] = MAD(a, b[c], acc[r][c]);
            }
        }
#pragma unroll
        for (int r = 0; r < RM; r++)
#pragma unroll
            for (int c = 0; c < NV; c++)
                total[r][c] += acc[r][c];
    }

#pragma unroll
    for (int r = 0; r < RM; r++) {
        __global float *crow = C_z + (i0 + r) * ldc + j0;
#ifdef GEMM_ACT
        /* The row's NV results as one vector for the activation (a float
         * at a time, tanh over the MLP's 128 x 256 took 80 us against 54
         * for a separate kernel); lanes past N or NV are not stored. */
#if NV > 4
#error "gemm_dot's epilogue takes up to 4 columns per work-item"
#endif
        float vals[4] = {0.0f, 0.0f, 0.0f, 0.0f};
#pragma unroll
        for (int c = 0; c < NV; c++) {
            if (i0 + r < M && j0 + c < N) {
                DOT_SUM(sum, r, c);
                vals[c] = BLEND(sum, crow[c]) + (bias_off >= 0 ? bias[bias_off + j0 + c] : 0.0f);
            }
        }
        vstore4(activation_apply4(GEMM_ACT, vload4(0, vals), act_p, 0.0f), 0, vals);
#pragma unroll
        for (int c = 0; c < NV; c++)
            if (i0 + r < M && j0 + c < N)
                crow[c] = vals[c];
#else
#pragma unroll
        for (int c = 0; c < NV; c++) {
            if (i0 + r < M && j0 + c < N) {
                DOT_SUM(sum, r, c);
                crow[c] = BLEND(sum, crow[c]);
            }
        }
#endif
    }
    TILE_END
}

/* dst (cols, rows), contiguous = src (rows, cols)^T, batched; one work-item
 * per block of TB x TB elements, one per work-group (see gemm_pack): it
 * reads the block's rows of src, which stay in cache, down each column and
 * writes dst's rows whole. */
#define TB 32

__kernel void gemm_transpose(int rows, int cols, __global const float *src, int s_off, int lds,
                             int s_batch, __global float *dst, int d_off, int d_batch)
{
    int i0 = get_global_id(0) * TB, j0 = get_global_id(1) * TB, z = get_global_id(2);
    if (i0 >= rows || j0 >= cols)
        return;
    int i1 = min(i0 + TB, rows), j1 = min(j0 + TB, cols);
    src += s_off + z * s_batch;
    dst += d_off + z * d_batch;
    for (int j = j0; j < j1; j++)
        for (int i = i0; i < i1; i++)
            dst[j * rows + i] = src[i * lds + j];
}

/* gemm_outer's packed B (see there): dst holds, per batch, tiles_n blocks of
 * K x TN (TN = VW NV, as in gemm_outer), row after row: block t holds the
 * columns tile t's vectors read, VW from min(t TN + v VW, N - VW) for vector
 * v. op(B) element (k, col) is src[k s_k + col s_col]: B stored
 * (K, N) (s_col = 1: whole vectors) or, transposed, (N, K). One work-item
 * per PACK_ROWS rows of a block, one per work-group: PoCL's overhead per
 * work-group and its vectorization across work-items (into gathers here)
 * made one work-item per element or per row several times slower than the
 * copy itself. */
#define PACK_ROWS 64

__kernel void gemm_pack(int N, int K, __global const float *src, int s_off, int s_k, int s_col,
                        int s_batch, __global float *dst, int d_off, int d_batch)
{
    const int TN = VW * NV;
    int k0 = get_global_id(0) * PACK_ROWS, t = get_global_id(1), z = get_global_id(2);
    if (k0 >= K)
        return;
    int k1 = min(k0 + PACK_ROWS, K);
    src += s_off + z * s_batch;
    dst += d_off + z * d_batch + t * K * TN;
#pragma unroll
    for (int v = 0; v < NV; v++) {
        __global const float *from = src + min(t * TN + v * VW, N - VW) * s_col;
        __global float *to = dst + v * VW;
        if (s_col == 1) {
            for (int k = k0; k < k1; k++)
                VSTORE(VLOAD(from + k * s_k), to + k * TN);
        } else {
            /* down B's stored rows (contiguous along k); the block written,
             * PACK_ROWS x TN floats, stays in cache */
            for (int l = 0; l < VW; l++)
                for (int k = k0; k < k1; k++)
                    to[k * TN + l] = from[k * s_k + l * s_col];
        }
    }
}

/* Split K's second pass (see clrt_gemm_split_run in cl/gemm.c): the S
 * partial products P (per batch element: S slices of M x N, contiguous)
 * summed slice after slice, then the K rows past the last whole slice (k0 to
 * K, fewer than S) as dot products, then C = alpha sum (+ beta C). One
 * work-item per vector of VW columns of a row of C (the last vector slides
 * left to end at N and stores only its own columns, as in gemm_outer; the
 * host ensures N >= VW) and batch element z: the sum of a 100 x 100 weight
 * gradient's two slices took 33 us with a float per work-item and two index
 * divisions, 27 us without the divisions. Every element is summed in the
 * same fixed order, whatever the launch. op(A) element (i, k) is
 * A[i a_row + k a_k], op(B) element (k, j) B[k b_k + j b_col]. With
 * GEMM_ACT, the epilogue's bias and activation follow (the slices' products
 * have none). */
__kernel void gemm_split_sum(int M, int N, int S, float alpha, __global const float *P,
                             int p_batch, __global const float *A, int a_off, int a_row, int a_k,
                             int a_batch, __global const float *B, int b_off, int b_k, int b_col,
                             int b_batch, int k0, int K, float beta, __global float *C, int c_off,
                             int ldc, int c_batch SPLIT_EPILOGUE_ARGS)
{
    int own = get_global_id(0) * VW, i = get_global_id(1), z = get_global_id(2);
    if (own >= N || i >= M)
        return;
    int j = min(own, N - VW); /* the vector's first column */
    int mn = M * N;
    P += z * p_batch + i * N + j;
    floatv sum = VLOAD(P);
    for (int s = 1; s < S; s++)
        sum += VLOAD(P + s * mn);
    A += a_off + z * a_batch + i * a_row;
    B += b_off + z * b_batch + j * b_col;
    for (int k = k0; k < K; k++) {
        float b[VW];
        for (int l = 0; l < VW; l++)
            b[l] = B[k * b_k + l * b_col];
        sum = MAD((floatv)(A[k * a_k]), VLOAD(b), sum);
    }
    C += c_off + z * c_batch + i * ldc;
    /* lanes below `own` belong to the vector before: not read, not stored */
    float lanes[VW];
    floatv old = (floatv)(0.0f);
    if (beta != 0.0f) {
        for (int l = 0; l < VW; l++)
            lanes[l] = j + l >= own ? C[j + l] : 0.0f;
        old = VLOAD(lanes);
    }
    VSTORE(FINISH_V(sum, old, BIAS_V(j)), lanes);
    for (int l = 0; l < VW; l++)
        if (j + l >= own)
            C[j + l] = lanes[l];
}
