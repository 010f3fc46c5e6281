/* cl/blas.c: the GEMM dispatcher and the CLBlast bridge. Every GEMM of
 * clgrad goes through clrt_gemm, which asks cl/gemm.c for the candidate to
 * use (a tuned choice for the exact shape, else the default for the device
 * type and shape) and runs it: one of clgrad's own kernels (cl/gemm.c) or
 * CLBlast, by the route CLBlast picks itself or a forced one.
 *
 * CLBlast's indirect route pads matrices into a temporary buffer; we hand it
 * a pooled one, grown on demand, so a steady-state step allocates nothing
 * inside CLBlast either. */
#include <stdio.h>
#include <string.h>

#include <clblast_c.h>

#include "cl/runtime.h"

static CLBlastTranspose transpose_flag(bool trans)
{
    return trans ? CLBlastTransposeYes : CLBlastTransposeNo;
}

/* CLBlast runs its single-kernel (direct) route when m n k is below
 * XGEMM_MIN_INDIRECT_SIZE^3, a per-device tuning value of its "GemmRoutine"
 * database; overriding that value forces a route. The override holds for
 * the device in the whole process and the C API cannot read the original
 * back, so the last value set is remembered per device and set again only on
 * a change: once a forced route ran, "clblast" means the route last forced. */
#define FORCE_DIRECT ((size_t)1 << 20) /* m n k < 2^60: always direct */
#define FORCE_INDIRECT ((size_t)0)     /* m n k < 0: never direct */
#define MAX_FORCED_DEVICES 8

static struct {
    cl_device_id device;
    size_t value;
} forced[MAX_FORCED_DEVICES];

static clg_status force_route(clrt *rt, size_t value)
{
    clg_status status = CLG_STATUS_OK;
    int slot = 0;
    while (slot < MAX_FORCED_DEVICES - 1 && forced[slot].device &&
           forced[slot].device != rt->device)
        slot++;
    if (forced[slot].device == rt->device && forced[slot].value == value)
        return status;
    const char *names[] = {"XGEMM_MIN_INDIRECT_SIZE"};
    CLRT_CHECK(rt, CLBlastOverrideParameters(rt->device, "GemmRoutine", CLBlastPrecisionSingle, 1,
                                             names, &value));
    forced[slot].device = rt->device;
    forced[slot].value = value;
cleanup:
    return status;
}

static clg_status clblast_gemm(clrt *rt, clrt_gemm_kind route, size_t m, size_t n, size_t k,
                               float alpha, clrt_matrix a, clrt_matrix b, float beta, clrt_matrix c,
                               size_t batch, size_t stride_a, size_t stride_b, size_t stride_c)
{
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
    if (batch > 1) {
        /* No temporary buffer to pass here: CLBlast's indirect route would
         * allocate its own, the direct one needs none. */
        CLRT_CHECK(rt, CLBlastSgemmStridedBatched(CLBlastLayoutRowMajor, transpose_flag(a.trans),
                                                  transpose_flag(b.trans), m, n, k, alpha, a.mem,
                                                  a.offset, a.ld, stride_a, b.mem, b.offset, b.ld,
                                                  stride_b, beta, c.mem, c.offset, c.ld, stride_c,
                                                  batch, &rt->queue,
                                                  CLRT_PROFILE_EVENT(rt, event)));
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
                                                  transpose_flag(b.trans), m, n, k, a.offset, a.ld,
                                                  b.offset, b.ld, c.offset, c.ld, &rt->queue,
                                                  &temp_bytes));
    if (temp_bytes > 0 && !clrt_gemm_scratch(rt, temp_bytes)) {
        status = rt->error.status;
        goto cleanup;
    }
    CLRT_CHECK(rt, CLBlastSgemmWithTempBuffer(CLBlastLayoutRowMajor, transpose_flag(a.trans),
                                              transpose_flag(b.trans), m, n, k, alpha, a.mem,
                                              a.offset, a.ld, b.mem, b.offset, b.ld, beta, c.mem,
                                              c.offset, c.ld, &rt->queue,
                                              CLRT_PROFILE_EVENT(rt, event),
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

/* One candidate over the whole of K. */
static clg_status run_whole(clrt *rt, int candidate, size_t m, size_t n, size_t k, float alpha,
                            clrt_matrix a, clrt_matrix b, float beta, clrt_matrix c, size_t batch,
                            size_t stride_a, size_t stride_b, size_t stride_c)
{
    clg_status status = CLG_STATUS_OK;
    const clrt_gemm_candidate *cand = clrt_gemm_candidate_get(candidate);
    if (!cand)
        return clrt_fail(rt, CLG_STATUS_INVALID_ARGUMENT, "clrt_gemm_run: no GEMM candidate %d",
                         candidate);
    if (m == 0 || n == 0 || batch == 0)
        return status;
    bool own = cand->kind == CLRT_GEMM_OUTER || cand->kind == CLRT_GEMM_DOT;
    bool fits = clrt_gemm_own_fits(m, n, k, a, b, c, batch, stride_a, stride_b, stride_c);
    if (k == 0 && !fits) {
        /* C = beta C, too large for the own kernels' int indices, and CLBlast
         * rejects k = 0: fill rows (beta is 0 or 1 in clgrad). */
        if (beta != 0.0f && beta != 1.0f)
            return clrt_fail(rt, CLG_STATUS_INVALID_ARGUMENT,
                             "clrt_gemm: k = 0 with beta %g on a matrix past 2^31 elements", beta);
        if (beta == 0.0f)
            for (size_t i = 0; i < batch; i++)
                for (size_t r = 0; r < m; r++) {
                    const float zero = 0.0f;
                    status =
                        clrt_fill(rt, c.mem, (c.offset + i * stride_c + r * c.ld) * sizeof(float),
                                  n * sizeof(float), &zero, sizeof zero);
                    if (status != CLG_STATUS_OK)
                        return status;
                }
        return status;
    }
    /* k = 0 (C = beta C) goes to an own kernel, whose K loop just runs no
     * times; sizes past the own kernels' int indices go to CLBlast. */
    if (k == 0 && !own) {
        int i = 0;
        while (clrt_gemm_candidate_get(i)->kind != CLRT_GEMM_OUTER)
            i++;
        cand = clrt_gemm_candidate_get(i);
    } else if (own && !fits) {
        cand = clrt_gemm_candidate_get(0);
    }
    if (cand->kind == CLRT_GEMM_OUTER || cand->kind == CLRT_GEMM_DOT)
        return clrt_gemm_own(rt, cand, m, n, k, alpha, a, b, beta, c, batch, stride_a, stride_b,
                             stride_c);
    return clblast_gemm(rt, cand->kind, m, n, k, alpha, a, b, beta, c, batch, stride_a, stride_b,
                        stride_c);
}

/* On a device that bounds a work-item's loops (clrt_plan's loop_limit), K
 * runs in slices of half the bound, each added into C (beta 1 after the
 * first): every GEMM kernel, the own ones and CLBlast's, loops over K once
 * per element or vector of it, and the other half leaves room for the
 * loops over blocks of K and the tiles. */
CLG_API clg_status clrt_gemm_run(clrt *rt, int candidate, size_t m, size_t n, size_t k, float alpha,
                                 clrt_matrix a, clrt_matrix b, float beta, clrt_matrix c,
                                 size_t batch, size_t stride_a, size_t stride_b, size_t stride_c)
{
    size_t slice = rt->plan.loop_limit ? rt->plan.loop_limit / 2 : k;
    if (k <= slice)
        return run_whole(rt, candidate, m, n, k, alpha, a, b, beta, c, batch, stride_a, stride_b,
                         stride_c);
    uint64_t calls = rt->counters.gemm_calls;
    clg_status status = CLG_STATUS_OK;
    for (size_t k0 = 0; k0 < k && status == CLG_STATUS_OK; k0 += slice) {
        size_t kk = k - k0 < slice ? k - k0 : slice;
        clrt_matrix as = a, bs = b;
        as.offset += a.trans ? k0 * a.ld : k0;
        bs.offset += b.trans ? k0 : k0 * b.ld;
        status = run_whole(rt, candidate, m, n, kk, alpha, as, bs, k0 ? 1.0f : beta, c, batch,
                           stride_a, stride_b, stride_c);
    }
    if (status == CLG_STATUS_OK)
        rt->counters.gemm_calls = calls + 1; /* one GEMM, however many slices */
    return status;
}

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

clg_status clrt_gemm(clrt *rt, size_t m, size_t n, size_t k, float alpha, clrt_matrix a,
                     clrt_matrix b, float beta, clrt_matrix c, size_t batch, size_t stride_a,
                     size_t stride_b, size_t stride_c)
{
    if (m == 0 || n == 0 || batch == 0)
        return CLG_STATUS_OK;
    clg_gemm_shape shape = {(int64_t)m, (int64_t)n, (int64_t)k, (int64_t)batch, a.trans, b.trans};
    if (rt->gemm.recording)
        clrt_gemm_note(rt, &shape);
    /* The candidate is the one for the whole shape (tuned, forced or the
     * default): the tuner times candidates as they run here, split or not. */
    size_t slices = clrt_gemm_slices(rt, m, n, k, batch);
    clrt_trace_note_gemm(rt, m, n, k, batch);
    trace_split(rt, slices);
    rt->trace.gemm_depth++;
    clg_status status = clrt_gemm_split_run(rt, clrt_gemm_pick(rt, &shape), slices, m, n, k, alpha,
                                            a, b, beta, c, batch, stride_a, stride_b, stride_c);
    rt->trace.gemm_depth--;
    return status;
}
