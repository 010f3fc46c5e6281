/* cl/blas.c: the CLBlast bridge. Every GEMM of clgrad goes through
 * clrt_gemm, so a later dispatcher (own kernels, tuned parameters) has one
 * place to hook in. CLBlast's indirect route pads matrices into a temporary
 * buffer; we hand it a pooled one, grown on demand, so a steady-state step
 * allocates nothing inside CLBlast either. */
#include <clblast_c.h>

#include "cl/runtime.h"

static CLBlastTranspose transpose_flag(bool trans)
{
    return trans ? CLBlastTransposeYes : CLBlastTransposeNo;
}

clg_status clrt_gemm(clrt *rt, size_t m, size_t n, size_t k, float alpha, clrt_matrix a,
                     clrt_matrix b, float beta, clrt_matrix c, size_t batch, size_t stride_a,
                     size_t stride_b, size_t stride_c)
{
    clg_status status = CLG_STATUS_OK;
    if (m == 0 || n == 0 || batch == 0)
        return status;
    if (k == 0) {
        /* C = beta C; CLBlast rejects k = 0, and beta is 0 or 1 in clgrad. */
        if (beta == 0.0f)
            for (size_t i = 0; i < batch; i++)
                for (size_t r = 0; r < m; r++) {
                    const float zero = 0.0f;
                    status = clrt_fill(rt, c.mem, (c.offset + i * stride_c + r * c.ld) * sizeof(float),
                                       n * sizeof(float), &zero, sizeof zero);
                    if (status != CLG_STATUS_OK)
                        return status;
                }
        return status;
    }
    if (batch > 1) {
        /* CLBlast's strided-batched GEMM runs the direct route and needs no
         * temporary buffer. */
        CLRT_CHECK(rt, CLBlastSgemmStridedBatched(
                           CLBlastLayoutRowMajor, transpose_flag(a.trans), transpose_flag(b.trans),
                           m, n, k, alpha, a.mem, a.offset, a.ld, stride_a, b.mem, b.offset, b.ld,
                           stride_b, beta, c.mem, c.offset, c.ld, stride_c, batch, &rt->queue,
                           NULL));
        rt->counters.gemm_calls++;
        return status;
    }
    size_t temp_bytes = 0;
    CLRT_CHECK(rt, CLBlastSGemmTempBufferSize(CLBlastLayoutRowMajor, transpose_flag(a.trans),
                                              transpose_flag(b.trans), m, n, k, a.offset, a.ld,
                                              b.offset, b.ld, c.offset, c.ld, &rt->queue,
                                              &temp_bytes));
    if (temp_bytes > 0 && (!rt->gemm_temp || rt->gemm_temp->bytes < temp_bytes)) {
        clrt_pool_put(rt, rt->gemm_temp);
        rt->gemm_temp = clrt_pool_get(rt, temp_bytes);
        if (!rt->gemm_temp)
            return rt->error.status;
    }
    CLRT_CHECK(rt, CLBlastSgemmWithTempBuffer(
                       CLBlastLayoutRowMajor, transpose_flag(a.trans), transpose_flag(b.trans), m,
                       n, k, alpha, a.mem, a.offset, a.ld, b.mem, b.offset, b.ld, beta, c.mem,
                       c.offset, c.ld, &rt->queue, NULL,
                       rt->gemm_temp ? rt->gemm_temp->mem : NULL));
    rt->counters.gemm_calls++;
cleanup:
    return status;
}
