/* cl/blas.c: the CLBlast bridge. Runs a GEMM the dispatcher (cl/gemm.c)
 * sends here through CLBlast, by the route CLBlast picks itself or a forced
 * one; it calls nothing of the dispatcher's.
 *
 * CLBlast's indirect route pads matrices into a temporary buffer; we hand it
 * the pooled scratch (clrt_gemm_scratch), grown on demand, so a steady-state
 * step allocates nothing inside CLBlast either. */
#include <clblast_c.h>

#include "cl/runtime.h"

static CLBlastTranspose transpose_flag(bool trans)
{
    return trans ? CLBlastTransposeYes : CLBlastTransposeNo;
}

/* CLBlast runs its single-kernel (direct) route when m n k is below
 * XGEMM_MIN_INDIRECT_SIZE^3, a per-device tuning value of its "GemmRoutine"
 * database; overriding that value forces a route. The C API cannot read the
 * original back, so each context remembers the value it last set
 * (rt->blas) and sets it again only on a change: once a forced route ran,
 * "clblast" means the route last forced. The override itself holds for the
 * device in the whole process: two contexts on one device that force
 * different routes in turn may run each other's route (the same product
 * either way; only the tuner's timings would mix), which clgrad, a context
 * per thread and the tuner on one, does not do. */
#define FORCE_DIRECT ((size_t)1 << 20) /* m n k < 2^60: always direct */
#define FORCE_INDIRECT ((size_t)0)     /* m n k < 0: never direct */

static clg_status force_route(clrt *rt, size_t value)
{
    clg_status status = CLG_STATUS_OK;
    if (rt->blas.forced && rt->blas.min_indirect == value)
        return status;
    const char *names[] = {"XGEMM_MIN_INDIRECT_SIZE"};
    CLRT_CHECK(rt, CLBlastOverrideParameters(rt->device, "GemmRoutine", CLBlastPrecisionSingle, 1,
                                             names, &value));
    rt->blas.forced = true;
    rt->blas.min_indirect = value;
cleanup:
    return status;
}

clg_status clrt_blas_gemm(clrt *rt, clrt_gemm_kind route, clrt_gemm_desc d)
{
    const clrt_matrix a = d.a, b = d.b, c = d.c;
    clg_status status = CLG_STATUS_OK;
    cl_event event = NULL, begin = NULL;
    if (route != CLRT_GEMM_CLBLAST) {
        status = force_route(rt, route == CLRT_GEMM_CLBLAST_DIRECT ? FORCE_DIRECT : FORCE_INDIRECT);
        if (status != CLG_STATUS_OK)
            return status;
    }
    /* CLBlast's event is its last kernel's; the indirect route runs padding
     * kernels before it, so a profiled GEMM is timed from a marker. */
    begin = clrt_profile_marker(rt);
    if (d.batch > 1) {
        /* No temporary buffer to pass here: CLBlast's indirect route would
         * allocate its own, the direct one needs none. */
        CLRT_CHECK(rt, CLBlastSgemmStridedBatched(
                           CLBlastLayoutRowMajor, transpose_flag(a.trans), transpose_flag(b.trans),
                           d.m, d.n, d.k, d.alpha, a.mem, a.offset, a.ld, d.stride_a, b.mem,
                           b.offset, b.ld, d.stride_b, d.beta, c.mem, c.offset, c.ld, d.stride_c,
                           d.batch, &rt->queue, CLRT_PROFILE_EVENT(rt, event)));
        if (event) {
            clrt_profile_keep_span(rt, begin, event, "clblast_sgemm_batched");
            begin = NULL;
        }
        rt->counters.gemm_calls++;
        goto cleanup;
    }
    size_t temp_bytes = 0;
    if (route != CLRT_GEMM_CLBLAST_DIRECT)
        CLRT_CHECK(rt, CLBlastSGemmTempBufferSize(CLBlastLayoutRowMajor, transpose_flag(a.trans),
                                                  transpose_flag(b.trans), d.m, d.n, d.k, a.offset,
                                                  a.ld, b.offset, b.ld, c.offset, c.ld, &rt->queue,
                                                  &temp_bytes));
    if (temp_bytes > 0 && !clrt_gemm_scratch(rt, temp_bytes)) {
        status = rt->error.status;
        goto cleanup;
    }
    CLRT_CHECK(rt, CLBlastSgemmWithTempBuffer(
                       CLBlastLayoutRowMajor, transpose_flag(a.trans), transpose_flag(b.trans), d.m,
                       d.n, d.k, d.alpha, a.mem, a.offset, a.ld, b.mem, b.offset, b.ld, d.beta,
                       c.mem, c.offset, c.ld, &rt->queue, CLRT_PROFILE_EVENT(rt, event),
                       rt->gemm_temp ? rt->gemm_temp->mem : NULL));
    if (event) {
        clrt_profile_keep_span(rt, begin, event, "clblast_sgemm");
        begin = NULL;
    }
    rt->counters.gemm_calls++;
cleanup:
    if (begin) /* nothing to time: the GEMM failed */
        clReleaseEvent(begin);
    return status;
}
