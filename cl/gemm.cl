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
 * Other transposes reach them after gemm_transpose (cl/gemm.c decides).
 *
 * Edges without branches in the K loop: rows past M (or, in gemm_dot, past
 * N) are clamped to the last row, computed and not stored; in gemm_outer the
 * last column tile slides left to end at column N (the host ensures
 * N >= VW * NV) and stores only the columns no other tile owns.
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

/* Tiles: dimension 0 runs along N (work-items that follow each other share
 * A's rows), 1 along M, 2 over the batch. */
__kernel void gemm_outer(int M, int N, int K, float alpha,
                         __global const float *A, int a_off, int a_row, int a_k, int a_batch,
                         __global const float *B, int b_off, int ldb, int b_batch, float beta,
                         __global float *C, int c_off, int ldc, int c_batch)
{
    const int TN = VW * NV;
    int tn = get_global_id(0), tm = get_global_id(1), z = get_global_id(2);
    int i0 = tm * RM, j0 = tn * TN;
    if (i0 >= M || j0 >= N)
        return;
    int j = min(j0, N - TN); /* the last tile slides left; see the file comment */
    A += a_off + z * a_batch;
    B += b_off + z * b_batch + j;
    C += c_off + z * c_batch;

    __global const float *a_rows[RM];
#pragma unroll
    for (int r = 0; r < RM; r++)
        a_rows[r] = A + min(i0 + r, M - 1) * a_row;

    floatv total[RM][NV];
#pragma unroll
    for (int r = 0; r < RM; r++)
#pragma unroll
        for (int v = 0; v < NV; v++)
            total[r][v] = 0.0f;

    for (int k0 = 0; k0 < K; k0 += KB) {
        int k1 = min(k0 + KB, K);
        floatv acc[RM][NV];
#pragma unroll
        for (int r = 0; r < RM; r++)
#pragma unroll
            for (int v = 0; v < NV; v++)
                acc[r][v] = 0.0f;
        for (int k = k0; k < k1; k++) {
            floatv b[NV];
#pragma unroll
            for (int v = 0; v < NV; v++)
                b[v] = VLOAD(B + k * ldb + v * VW);
#pragma unroll
            for (int r = 0; r < RM; r++) {
                floatv a = (floatv)(a_rows[r][k * a_k]);
#pragma unroll
                for (int v = 0; v < NV; v++)
                    acc[r][v] = MAD(a, b[v], acc[r][v]);
            }
        }
#pragma unroll
        for (int r = 0; r < RM; r++)
#pragma unroll
            for (int v = 0; v < NV; v++)
                total[r][v] += acc[r][v];
    }

#pragma unroll
    for (int r = 0; r < RM; r++) {
        __global float *c = C + (i0 + r) * ldc + j;
        if (i0 + r < M && j == j0) {
#pragma unroll
            for (int v = 0; v < NV; v++)
                VSTORE(BLEND(total[r][v], VLOAD(c + v * VW)), c + v * VW);
        } else if (i0 + r < M) {
            /* The slid tile: columns below j0 belong to the tile before. */
#pragma unroll
            for (int v = 0; v < NV; v++) {
                float lanes[VW];
                VSTORE(total[r][v], lanes);
                for (int l = 0; l < VW; l++) {
                    int col = v * VW + l;
                    if (j + col >= j0)
                        c[col] = BLEND(lanes[l], c[col]);
                }
            }
        }
    }
}

/* C = alpha A B^T + beta C; A (M,K) and B (N,K) row-major. Tile: RM rows x
 * NV columns of C. */
__kernel void gemm_dot(int M, int N, int K, float alpha,
                       __global const float *A, int a_off, int lda, int a_batch,
                       __global const float *B, int b_off, int ldb, int b_batch, float beta,
                       __global float *C, int c_off, int ldc, int c_batch)
{
    int tn = get_global_id(0), tm = get_global_id(1), z = get_global_id(2);
    int i0 = tm * RM, j0 = tn * NV;
    if (i0 >= M || j0 >= N)
        return;
    A += a_off + z * a_batch;
    B += b_off + z * b_batch;
    C += c_off + z * c_batch;

    __global const float *a_rows[RM], *b_rows[NV];
#pragma unroll
    for (int r = 0; r < RM; r++)
        a_rows[r] = A + min(i0 + r, M - 1) * lda;
#pragma unroll
    for (int c = 0; c < NV; c++)
        b_rows[c] = B + min(j0 + c, N - 1) * ldb;

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
        __global float *crow = C + (i0 + r) * ldc + j0;
#pragma unroll
        for (int c = 0; c < NV; c++) {
            if (i0 + r < M && j0 + c < N) {
                float sum = HSUM(total[r][c]);
                for (int k = k_vec; k < K; k++)
                    sum = MAD(a_rows[r][k], b_rows[c][k], sum);
                crow[c] = BLEND(sum, crow[c]);
            }
        }
    }
}

/* dst (cols, rows), contiguous = src (rows, cols)^T, batched; one work-item
 * per element of dst, reading src down a column. */
__kernel void gemm_transpose(int rows, int cols, __global const float *src, int s_off, int lds,
                             int s_batch, __global float *dst, int d_off, int d_batch)
{
    int i = get_global_id(0), j = get_global_id(1), z = get_global_id(2);
    if (i >= rows || j >= cols)
        return;
    dst[d_off + z * d_batch + j * rows + i] = src[s_off + z * s_batch + i * lds + j];
}
