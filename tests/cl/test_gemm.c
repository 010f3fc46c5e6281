/* tests/cl/test_gemm.c: the GEMM layer (cl/gemm.c, cl/gemm_kernels.c, cl/blas.c,
 * cl/gemm.cl): every candidate the dispatcher can choose against a naive host GEMM over
 * edge shapes, long K, the tuned table written by the tuner and read back,
 * shape recording, CLGRAD_GEMM, and no allocation in a steady state.
 *
 * Candidates are run one by one through clrt_gemm_run, the runtime's
 * test-only entry (clg_matmul always takes the dispatcher's choice, and has
 * no alpha, beta, offsets or leading dimensions of its own); the same
 * products through clg_matmul are checked with each own candidate forced by
 * CLGRAD_GEMM. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine.h"
#include "support.h"

static bool is_own(int candidate)
{
    clrt_gemm_kind kind = clrt_gemm_candidate_get(candidate)->kind;
    return kind == CLRT_GEMM_OUTER || kind == CLRT_GEMM_DOT;
}

/* ---- one strided-batched product, laid out with gaps, against the host ---- */

typedef struct layout {
    int m, n, k, batch;
    bool ta, tb;
    size_t a_off, b_off, c_off, lda, ldb, ldc, stride_a, stride_b, stride_c;
} layout;

/* Offsets, leading dimensions larger than the width and batch strides larger
 * than a matrix, so that every index term is exercised and every gap can be
 * checked for stray writes. */
static layout make_layout(int m, int n, int k, int batch, bool ta, bool tb)
{
    layout l = {m, n, k, batch, ta, tb, 3, 5, 7, 0, 0, 0, 0, 0, 0};
    size_t a_rows = (size_t)(ta ? k : m), b_rows = (size_t)(tb ? n : k);
    l.lda = (size_t)(ta ? m : k) + 2;
    l.ldb = (size_t)(tb ? k : n) + 3;
    l.ldc = (size_t)n + 1;
    l.stride_a = a_rows * l.lda + 4;
    l.stride_b = b_rows * l.ldb + 1;
    l.stride_c = (size_t)m * l.ldc + 2;
    return l;
}

static size_t storage(size_t offset, size_t stride, int batch)
{
    return offset + stride * (size_t)batch + 8;
}

/* C = alpha op(A) op(B) + beta C over the window; beta == 0 ignores C. */
static void host_gemm(const layout *l, float alpha, const float *a, const float *b, float beta,
                      float *c)
{
    for (int z = 0; z < l->batch; z++)
        for (int i = 0; i < l->m; i++)
            for (int j = 0; j < l->n; j++) {
                double s = 0;
                for (int p = 0; p < l->k; p++) {
                    size_t ai =
                        l->a_off + (size_t)z * l->stride_a +
                        (l->ta ? (size_t)p * l->lda + (size_t)i : (size_t)i * l->lda + (size_t)p);
                    size_t bi =
                        l->b_off + (size_t)z * l->stride_b +
                        (l->tb ? (size_t)j * l->ldb + (size_t)p : (size_t)p * l->ldb + (size_t)j);
                    s += (double)a[ai] * (double)b[bi];
                }
                float *out =
                    &c[l->c_off + (size_t)z * l->stride_c + (size_t)i * l->ldc + (size_t)j];
                *out = beta == 0.0f ? (float)(alpha * s) : (float)(alpha * s + (double)beta * *out);
            }
}

static bool in_window(const layout *l, size_t index)
{
    if (index < l->c_off)
        return false;
    size_t rel = index - l->c_off, z = rel / l->stride_c, in = rel % l->stride_c;
    return z < (size_t)l->batch && in / l->ldc < (size_t)l->m && in % l->ldc < (size_t)l->n;
}

#define SENTINEL 12345.0f

/* Operands for a layout and the host's C: A and B uniform in [low, 1], C's
 * window random (NaN when beta is 0, which must not leak), every gap a
 * sentinel. */
typedef struct problem {
    layout l;
    float alpha, beta;
    size_t na, nb, nc;
    float *a, *b, *c, *want;
} problem;

static problem problem_make(const layout *l, float alpha, float beta, float low, uint64_t seed)
{
    problem p = {*l,
                 alpha,
                 beta,
                 storage(l->a_off, l->stride_a, l->batch),
                 storage(l->b_off, l->stride_b, l->batch),
                 storage(l->c_off, l->stride_c, l->batch),
                 NULL,
                 NULL,
                 NULL,
                 NULL};
    p.a = malloc(p.na * sizeof *p.a);
    p.b = malloc(p.nb * sizeof *p.b);
    p.c = malloc(p.nc * sizeof *p.c);
    p.want = malloc(p.nc * sizeof *p.want);
    ck_assert(p.a && p.b && p.c && p.want);
    test_random(p.a, p.na, seed, low, 1);
    test_random(p.b, p.nb, seed + 1, low, 1);
    test_random(p.c, p.nc, seed + 2, -1, 1);
    for (size_t i = 0; i < p.nc; i++)
        if (!in_window(l, i))
            p.c[i] = SENTINEL;
        else if (beta == 0.0f)
            p.c[i] = NAN;
    memcpy(p.want, p.c, p.nc * sizeof *p.c);
    host_gemm(l, alpha, p.a, p.b, beta, p.want);
    return p;
}

static void problem_free(problem *p)
{
    free(p->a);
    free(p->b);
    free(p->c);
    free(p->want);
}

/* The problem's product on its operands' tensors, as clrt_gemm_desc. */
static clrt_gemm_desc problem_desc(const problem *p, const clg_tensor *ta, const clg_tensor *tb,
                                   const clg_tensor *tc)
{
    const layout *l = &p->l;
    return (clrt_gemm_desc){.m = (size_t)l->m,
                            .n = (size_t)l->n,
                            .k = (size_t)l->k,
                            .a = {ta->mem, l->a_off, l->lda, l->ta},
                            .b = {tb->mem, l->b_off, l->ldb, l->tb},
                            .c = {tc->mem, l->c_off, l->ldc, false},
                            .alpha = p->alpha,
                            .beta = p->beta,
                            .batch = (size_t)l->batch,
                            .stride_a = l->stride_a,
                            .stride_b = l->stride_b,
                            .stride_c = l->stride_c};
}

/* Runs `candidate` on the problem and compares the whole C buffer: the
 * window with the host result, everything else untouched. */
static void check_problem(clg_context *ctx, int candidate, const problem *p)
{
    const layout *l = &p->l;
    clg_tensor *ta = test_tensor(ctx, 1, (int64_t[]){(int64_t)p->na}, p->a, false);
    clg_tensor *tb = test_tensor(ctx, 1, (int64_t[]){(int64_t)p->nb}, p->b, false);
    clg_tensor *tc = test_tensor(ctx, 1, (int64_t[]){(int64_t)p->nc}, p->c, false);
    clg_status status = clrt_gemm_run(&ctx->rt, candidate, problem_desc(p, ta, tb, tc));
    ck_assert_msg(status == CLG_STATUS_OK, "%s: %s", clrt_gemm_candidate_get(candidate)->name,
                  clg_context_error(ctx));
    float *got = test_download(tc);
    char what[160];
    snprintf(what, sizeof what, "%s %dx%dx%d %c%c batch %d beta %g",
             clrt_gemm_candidate_get(candidate)->name, l->m, l->n, l->k, l->ta ? 'T' : 'N',
             l->tb ? 'T' : 'N', l->batch, (double)p->beta);
    for (size_t i = 0; i < p->nc; i++)
        if (!in_window(l, i))
            ck_assert_msg(got[i] == SENTINEL, "%s: element %zu outside C was written (%g)", what, i,
                          (double)got[i]);
    test_assert_close(got, p->want, p->nc, test_tol_get("gemm"), what);
    free(got);
    clg_tensor_destroy(ta);
    clg_tensor_destroy(tb);
    clg_tensor_destroy(tc);
}

static void check_candidate(clg_context *ctx, int candidate, const layout *l, float alpha,
                            float beta, uint64_t seed)
{
    problem p = problem_make(l, alpha, beta, -1, seed);
    check_problem(ctx, candidate, &p);
    problem_free(&p);
}

/* Sizes that are multiples of nothing, smaller than any tile or vector, K =
 * 1 and 0, and K past one accumulation block (256). */
static const int edge_shapes[][3] = {
    {1, 1, 1},   {7, 5, 3},   {37, 19, 23}, {9, 17, 1}, {13, 1, 5},
    {2, 3, 300}, {5, 11, 40}, {66, 50, 33}, {4, 6, 0},
};

START_TEST(test_gemm_every_candidate_matches_host)
{
    clg_context *ctx = test_context();
    uint64_t seed = 100;
    for (int cand = 0; cand < clrt_gemm_candidate_count(); cand++)
        for (size_t s = 0; s < sizeof edge_shapes / sizeof edge_shapes[0]; s++)
            for (int flags = 0; flags < 4; flags++)
                for (int beta = 0; beta <= 1; beta++) {
                    const int *e = edge_shapes[s];
                    layout l = make_layout(e[0], e[1], e[2], 1, flags & 1, flags & 2);
                    check_candidate(ctx, cand, &l, 0.75f, (float)beta, seed++);
                }
    clg_context_destroy(ctx);
}
END_TEST

/* Under a loop bound (CLGRAD_LOOP_LIMIT=512: slices of K = 128), every
 * candidate, CLBlast's routes too, adds its slices into C: K of 3, 4 and 11
 * slices (the last ones partial but for K = 512), batched, every transpose,
 * beta 0 and 1, with the gaps of make_layout unwritten. */
START_TEST(test_gemm_sliced_under_loop_limit)
{
    clg_context *ctx = test_context_loop_limit("512");
    ck_assert_uint_eq(ctx->rt.plan.loop_limit, 512);
    static const int shapes[][3] = {{7, 5, 257}, {3, 9, 512}, {6, 25, 1300}};
    uint64_t seed = 900;
    for (int cand = 0; cand < clrt_gemm_candidate_count(); cand++)
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
            for (int flags = 0; flags < 4; flags++) {
                const int *e = shapes[s];
                layout l = make_layout(e[0], e[1], e[2], 2, flags & 1, flags & 2);
                check_candidate(ctx, cand, &l, 0.75f, (float)(flags & 1), seed++);
            }
    /* One GEMM to the counters, however many slices. */
    uint64_t before = ctx->rt.counters.gemm_calls;
    layout l = make_layout(4, 4, 2000, 1, false, false);
    check_candidate(ctx, 0, &l, 1.0f, 0.0f, seed);
    ck_assert_uint_eq(ctx->rt.counters.gemm_calls, before + 1);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_gemm_every_candidate_batched)
{
    clg_context *ctx = test_context();
    uint64_t seed = 900;
    for (int cand = 0; cand < clrt_gemm_candidate_count(); cand++)
        for (int flags = 0; flags < 4; flags++)
            for (int beta = 0; beta <= 1; beta++) {
                layout l = make_layout(11, 9, 21, 3, flags & 1, flags & 2);
                check_candidate(ctx, cand, &l, 1.0f, (float)beta, seed++);
            }
    clg_context_destroy(ctx);
}
END_TEST

/* The own kernels at the vector widths other devices prefer (a GPU's 1,
 * AVX-512's 16), compiled and run here by overriding the width PoCL reports. */
START_TEST(test_gemm_other_vector_widths)
{
    clg_context *ctx = test_context();
    const int widths[] = {1, 16};
    /* N >= 16, so that gemm_outer keeps width 16 (each narrower width is a
     * kernel build of its own, and the other tests cover those). */
    const int shapes[][3] = {{37, 19, 23}, {3, 17, 300}};
    uint64_t seed = 500;
    for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++) {
        ctx->rt.gemm.vector_width = widths[w];
        for (int cand = 0; cand < clrt_gemm_candidate_count(); cand++)
            for (size_t s = 0; s < sizeof shapes / sizeof shapes[0] && is_own(cand); s++)
                for (int flags = 0; flags < 4; flags++)
                    for (int beta = 0; beta <= 1; beta++) {
                        layout l = make_layout(shapes[s][0], shapes[s][1], shapes[s][2], 1,
                                               flags & 1, flags & 2);
                        check_candidate(ctx, cand, &l, 1.5f, (float)beta, seed++);
                    }
    }
    clg_context_destroy(ctx);
}
END_TEST

/* LeNet-5's conv1 weight gradient at batch 128: K = 100352 positive
 * products (worst for a running sum: no cancellation to hide the drift),
 * within 1e-5 relative. Past 65,535 too, where llvmpipe cuts a work-item's
 * loops short: it runs in slices of K there (clrt_gemm_run). The small size
 * (oclgrind) keeps K past four accumulation blocks of 256. */
START_TEST(test_gemm_long_k_blocked)
{
    clg_context *ctx = test_context();
    const int m = 6, n = 25, k = (int)test_size(100352, 1100);
    float *a = malloc((size_t)k * m * sizeof *a), *b = malloc((size_t)k * n * sizeof *b);
    float *want = malloc((size_t)m * n * sizeof *want);
    test_random(a, (size_t)k * m, 7, 0, 1);
    test_random(b, (size_t)k * n, 8, 0, 1);
    for (int flags = 0; flags < 4; flags++) {
        bool ta = flags & 1, tb = flags & 2;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++)
                    s += (double)(ta ? a[(size_t)p * m + i] : a[(size_t)i * k + p]) *
                         (tb ? b[(size_t)j * k + p] : b[(size_t)p * n + j]);
                want[i * n + j] = (float)s;
            }
        clg_tensor *da = test_tensor(ctx, 1, (int64_t[]){(int64_t)k * m}, a, false);
        clg_tensor *db = test_tensor(ctx, 1, (int64_t[]){(int64_t)k * n}, b, false);
        clg_tensor *dc = test_tensor(ctx, 2, (int64_t[]){m, n}, NULL, false);
        clrt_matrix ma = {da->mem, 0, (size_t)(ta ? m : k), ta};
        clrt_matrix mb = {db->mem, 0, (size_t)(tb ? k : n), tb};
        clrt_matrix mc = {dc->mem, 0, (size_t)n, false};
        for (int cand = 0; cand < clrt_gemm_candidate_count(); cand++) {
            if (!is_own(cand))
                continue;
            ck_assert_int_eq(
                clrt_gemm_run(&ctx->rt, cand,
                              (clrt_gemm_desc){.m = m, .n = n, .k = k, .a = ma, .b = mb, .c = mc}),
                CLG_STATUS_OK);
            float *got = test_download(dc);
            char what[80];
            snprintf(what, sizeof what, "%s K=%d %c%c", clrt_gemm_candidate_get(cand)->name, k,
                     ta ? 'T' : 'N', tb ? 'T' : 'N');
            test_assert_close(got, want, (size_t)m * n, test_tol_get("gemm_long_k"), what);
            free(got);
        }
        clg_tensor_destroy(da);
        clg_tensor_destroy(db);
        clg_tensor_destroy(dc);
    }
    free(a);
    free(b);
    free(want);
    clg_context_destroy(ctx);
}
END_TEST

/* Products large enough for gemm_outer's packed B (stored transposed, or
 * past 512 KiB with rows 2 KiB apart: ldb 512 > N) and for its slices of K
 * (B past 1 MiB with K = 8000: 17 slices of 468 and a partial one, each
 * adding into C; with A stored transposed, its rows 2 KiB apart: 15 slices
 * of 512 and a partial one), in every transpose, the NN one batched (the packed copy
 * has a batch stride of its own), every candidate. Then panels of tile rows,
 * which need B past 4 MiB with a K too short to slice (280 x 540 x 2000: a
 * panel holds 43 of the 47 tile rows of 6, so the last one is partial). Operands
 * in [0, 1], so that the long sums have no cancellation to hide errors
 * behind. The small size (oclgrind, which interprets every work-item) is
 * too small to pack, slice or split into panels: there it checks the
 * kernels' plain paths on odd sizes, and the ordinary run the thresholds. */
START_TEST(test_gemm_packed_and_panels)
{
    clg_context *ctx = test_context();
    const int m = (int)test_size(70, 14), n = (int)test_size(140, 28),
              k = (int)test_size(8000, 300);
    for (int flags = 0; flags < 4; flags++) {
        layout l = make_layout(m, n, k, flags == 0 ? 2 : 1, flags & 1, flags & 2);
        if (!l.tb) {
            l.ldb = 512;
            l.stride_b = (size_t)k * l.ldb + 1;
        }
        if (l.ta) { /* rows 2 KiB apart: gemm_outer takes K in slices of 512 */
            l.lda = 512;
            l.stride_a = (size_t)k * l.lda + 4;
        }
        problem p = problem_make(&l, 1.0f, (float)(flags & 1), 0, 1000 + (uint64_t)flags);
        for (int cand = 0; cand < clrt_gemm_candidate_count(); cand++)
            if (is_own(cand))
                check_problem(ctx, cand, &p);
        problem_free(&p);
    }
    /* B as stored, not packed */
    layout l = make_layout((int)test_size(280, 31), (int)test_size(540, 45),
                           (int)test_size(2000, 200), 1, false, false);
    problem p = problem_make(&l, 1.0f, 1.0f, 0, 1100);
    for (int cand = 0; cand < clrt_gemm_candidate_count(); cand++)
        if (is_own(cand) && clrt_gemm_candidate_get(cand)->kind == CLRT_GEMM_OUTER)
            check_problem(ctx, cand, &p);
    problem_free(&p);
    clg_context_destroy(ctx);
}
END_TEST

/* ---- through clg_matmul, each own candidate forced ---- */

static clg_context *context_forcing(const char *candidate)
{
    clg_context_destroy(test_context()); /* exits 77 without a device */
    setenv("CLGRAD_GEMM", candidate, 1);
    clg_context *ctx = NULL;
    clg_status status = clg_context_create(NULL, &ctx);
    unsetenv("CLGRAD_GEMM");
    ck_assert_msg(status == CLG_STATUS_OK, "%s", ctx ? clg_context_error(ctx) : "");
    return ctx;
}

/* y = op(a) op(b) on transposed views, then backward twice (the second
 * accumulates, beta = 1): values and both gradients against the host. */
START_TEST(test_gemm_matmul_through_each_own_candidate)
{
    const int m = 10, n = 13, k = 7;
    float a[m * k], b[k * n], g[m * n];
    test_random(a, m * k, 31, -1, 1);
    test_random(b, k * n, 32, -1, 1);
    test_random(g, m * n, 33, -1, 1);
    for (int cand = 0; cand < clrt_gemm_candidate_count(); cand++) {
        if (!is_own(cand))
            continue;
        const char *name = clrt_gemm_candidate_get(cand)->name;
        clg_context *ctx = context_forcing(name);
        ck_assert_str_eq(clg_gemm_choice(ctx, &(clg_gemm_shape){m, n, k, 1, false, false}), name);
        for (int flags = 0; flags < 4; flags++) {
            bool ta = flags & 1, tb = flags & 2;
            clg_tensor *sa =
                test_tensor(ctx, 2, ta ? (int64_t[]){k, m} : (int64_t[]){m, k}, a, true);
            clg_tensor *sb =
                test_tensor(ctx, 2, tb ? (int64_t[]){n, k} : (int64_t[]){k, n}, b, true);
            clg_tensor *tg = test_tensor(ctx, 2, (int64_t[]){m, n}, g, false);
            for (int pass = 1; pass <= 2; pass++) {
                clg_step_begin(ctx);
                clg_tensor *y = clg_matmul(ta ? clg_transpose(sa, 0, 1) : sa,
                                           tb ? clg_transpose(sb, 0, 1) : sb);
                ck_assert_int_eq(clg_backward_with(y, tg), CLG_STATUS_OK);
                float *got = test_download(y);
                float want[m * n];
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < n; j++) {
                        double s = 0;
                        for (int p = 0; p < k; p++)
                            s += (double)(ta ? a[p * m + i] : a[i * k + p]) *
                                 (tb ? b[j * k + p] : b[p * n + j]);
                        want[i * n + j] = (float)s;
                    }
                test_assert_close(got, want, (size_t)(m * n), test_tol_get("gemm"), name);
                free(got);
                clg_step_end(ctx);
            }
            /* after two passes: 2 * dA, with dA = G op(B)^T stored like a */
            float *ga = test_download(clg_tensor_grad(sa)),
                  *gb = test_download(clg_tensor_grad(sb));
            float want_a[m * k], want_b[k * n];
            for (int i = 0; i < m; i++)
                for (int p = 0; p < k; p++) {
                    double s = 0;
                    for (int j = 0; j < n; j++)
                        s += (double)g[i * n + j] * (tb ? b[j * k + p] : b[p * n + j]);
                    want_a[ta ? p * m + i : i * k + p] = (float)(2 * s);
                }
            for (int p = 0; p < k; p++)
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int i = 0; i < m; i++)
                        s += (double)(ta ? a[p * m + i] : a[i * k + p]) * g[i * n + j];
                    want_b[tb ? j * k + p : p * n + j] = (float)(2 * s);
                }
            test_assert_close(ga, want_a, (size_t)(m * k), test_tol_get("gemm"), name);
            test_assert_close(gb, want_b, (size_t)(k * n), test_tol_get("gemm"), name);
            free(ga);
            free(gb);
            clg_tensor_destroy(sa);
            clg_tensor_destroy(sb);
            clg_tensor_destroy(tg);
        }
        clg_context_destroy(ctx);
    }
}
END_TEST

START_TEST(test_gemm_env_names_a_candidate)
{
    clg_context_destroy(test_context()); /* exits 77 without a device */
    setenv("CLGRAD_GEMM", "no-such-gemm", 1);
    clg_context *ctx = NULL;
    clg_status status = clg_context_create(NULL, &ctx);
    unsetenv("CLGRAD_GEMM");
    ck_assert_int_eq(status, CLG_STATUS_INVALID_ARGUMENT);
    const char *msg = clg_context_error(ctx);
    ck_assert_msg(strstr(msg, "no-such-gemm") && strstr(msg, "clblast") && strstr(msg, "outer-"),
                  "the message should name the value and the candidates: %s", msg);
    clg_context_destroy(ctx);

    /* The context option wins over the variable, and is checked the same way. */
    setenv("CLGRAD_GEMM", "no-such-gemm", 1);
    clg_context_options opts = clg_context_options_default();
    opts.gemm = "outer-4x1";
    status = clg_context_create(&opts, &ctx);
    ck_assert_msg(status == CLG_STATUS_OK, "%s", clg_context_error(ctx));
    clg_gemm_shape shape = {64, 64, 64, 1, false, false};
    ck_assert_str_eq(clg_gemm_choice(ctx, &shape), "outer-4x1");
    clg_context_destroy(ctx);
    opts.gemm = "outer-99x9";
    status = clg_context_create(&opts, &ctx);
    unsetenv("CLGRAD_GEMM");
    ck_assert_int_eq(status, CLG_STATUS_INVALID_ARGUMENT);
    msg = clg_context_error(ctx);
    ck_assert_msg(strstr(msg, "option gemm outer-99x9") && strstr(msg, "outer-8x2"), "%s", msg);
    clg_context_destroy(ctx);
}
END_TEST

/* ---- recording and steady state ---- */

/* A linear layer's three products: forward x W^T (NT), dx = g W (NN), dW^T =
 * x^T g (TN), each noted once however often it runs. */
START_TEST(test_gemm_records_shapes)
{
    clg_context *ctx = test_context();
    clg_tensor *x = test_tensor(ctx, 2, (int64_t[]){4, 6}, NULL, true);
    clg_tensor *w = test_tensor(ctx, 2, (int64_t[]){5, 6}, NULL, true);
    clg_gemm_record(ctx, true);
    for (int step = 0; step < 2; step++) {
        clg_step_begin(ctx);
        ck_assert_int_eq(clg_backward(clg_sum_all(clg_matmul(x, clg_transpose(w, 0, 1)))),
                         CLG_STATUS_OK);
        clg_step_end(ctx);
    }
    clg_gemm_record(ctx, false);
    clg_gemm_shape got[8];
    ck_assert_uint_eq(clg_gemm_recorded(ctx, got, 8), 3);
    const clg_gemm_shape want[3] = {
        {4, 5, 6, 1, false, true}, {4, 6, 5, 1, false, false}, {6, 5, 4, 1, true, false}};
    for (int i = 0; i < 3; i++) {
        bool found = false;
        for (int j = 0; j < 3; j++)
            found =
                found || (got[j].m == want[i].m && got[j].n == want[i].n && got[j].k == want[i].k &&
                          got[j].batch == 1 && got[j].trans_a == want[i].trans_a &&
                          got[j].trans_b == want[i].trans_b);
        ck_assert_msg(found, "shape %lldx%lldx%lld not recorded", (long long)want[i].m,
                      (long long)want[i].n, (long long)want[i].k);
    }
    clg_tensor_destroy(x);
    clg_tensor_destroy(w);
    clg_context_destroy(ctx);
}
END_TEST

/* Every own candidate in every transpose combination (some transpose an
 * operand into the pooled scratch first), and a training-style product
 * through clg_matmul on transposed views (forward and both gradients),
 * inside steps: once the first round has grown the scratch and built the
 * kernels, another round allocates and builds nothing. */
START_TEST(test_gemm_steady_state_allocates_nothing)
{
    clg_context *ctx = test_context();
    const int m = 33, n = 17, k = 29;
    clg_tensor *a = test_tensor(ctx, 1, (int64_t[]){m * k}, NULL, false);
    clg_tensor *b = test_tensor(ctx, 1, (int64_t[]){k * n}, NULL, false);
    clg_tensor *c = test_tensor(ctx, 1, (int64_t[]){m * n}, NULL, false);
    clg_tensor *x = test_tensor(ctx, 2, (int64_t[]){k, m}, NULL, true);
    clg_tensor *w = test_tensor(ctx, 2, (int64_t[]){n, k}, NULL, true);
    clg_counters before, after;
    for (int round = 0; round < 2; round++) {
        clg_counters_get(ctx, &before);
        for (int cand = 0; cand < clrt_gemm_candidate_count(); cand++) {
            if (!is_own(cand))
                continue;
            for (int flags = 0; flags < 4; flags++) {
                bool ta = flags & 1, tb = flags & 2;
                clrt_matrix ma = {a->mem, 0, (size_t)(ta ? m : k), ta};
                clrt_matrix mb = {b->mem, 0, (size_t)(tb ? k : n), tb};
                clrt_matrix mc = {c->mem, 0, (size_t)n, false};
                clg_step_begin(ctx);
                ck_assert_int_eq(
                    clrt_gemm_run(
                        &ctx->rt, cand,
                        (clrt_gemm_desc){.m = m, .n = n, .k = k, .a = ma, .b = mb, .c = mc}),
                    CLG_STATUS_OK);
                clg_step_end(ctx);
            }
        }
        clg_step_begin(ctx);
        clg_tensor *y = clg_matmul(clg_transpose(x, 0, 1), clg_transpose(w, 0, 1)); /* TT */
        ck_assert_int_eq(clg_backward(clg_sum_all(y)), CLG_STATUS_OK);
        clg_step_end(ctx);
        ck_assert_int_eq(clg_finish(ctx), CLG_STATUS_OK);
    }
    test_expect_steady(ctx, &before, &after, -1, "the second round of GEMMs");
    ck_assert_uint_gt(after.gemm_calls, before.gemm_calls);
    clg_tensor_destroy(a);
    clg_tensor_destroy(b);
    clg_tensor_destroy(c);
    clg_tensor_destroy(x);
    clg_tensor_destroy(w);
    clg_context_destroy(ctx);
}
END_TEST

/* ---- the tuned table ---- */

static clg_context *context_with_cache(const char *dir)
{
    clg_context_options o = clg_context_options_default();
    o.cache_dir = dir;
    clg_context *ctx = NULL;
    ck_assert_int_eq(clg_context_create(&o, &ctx), CLG_STATUS_OK);
    return ctx;
}

/* The test's cache folder holds the table and the kernel binaries. */
static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    char path[2048];
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.') {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            remove(path);
        }
    closedir(d);
    rmdir(dir);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    char *text = calloc(1 << 16, 1);
    size_t n = fread(text, 1, (1 << 16) - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* Replaces the first occurrence of `from` in `text` (which has room). */
static void replace_once(char *text, const char *from, const char *to)
{
    char *at = strstr(text, from);
    ck_assert_msg(at != NULL, "\"%s\" not in the table:\n%s", from, text);
    size_t tail = strlen(at + strlen(from));
    memmove(at + strlen(to), at + strlen(from), tail + 1);
    memcpy(at, to, strlen(to));
}

/* The tuner on two tiny shapes writes a table; a new context reads it and
 * uses its choices; a table edited by hand is used as written; a table for
 * another driver version is ignored. */
START_TEST(test_gemm_tuned_table_read_back)
{
    clg_context_destroy(test_context()); /* exits 77 without a device */
    char dir[] = "/tmp/clgrad-gemm-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    const clg_gemm_shape shapes[2] = {{8, 9, 10, 1, false, true}, {5, 3, 7, 2, true, false}};
    clg_gemm_tuned results[2];

    clg_context *ctx = context_with_cache(dir);
    const char *defaults[2] = {clg_gemm_choice(ctx, &shapes[0]), clg_gemm_choice(ctx, &shapes[1])};
    ck_assert_int_eq(clg_gemm_tune(ctx, shapes, 2, results), CLG_STATUS_OK);
    char path[4300];
    snprintf(path, sizeof path, "%s", clg_gemm_table_path(ctx));
    ck_assert_msg(strncmp(path, dir, strlen(dir)) == 0, "table %s outside %s", path, dir);
    for (int i = 0; i < 2; i++) {
        ck_assert_str_eq(results[i].before, defaults[i]);
        ck_assert_ptr_nonnull(results[i].best);
        ck_assert(results[i].before_gflops > 0 && results[i].best_gflops > 0);
        ck_assert(results[i].best_gflops >= results[i].before_gflops);
        ck_assert_str_eq(clg_gemm_choice(ctx, &shapes[i]), results[i].best);
    }
    clg_context_destroy(ctx);

    ctx = context_with_cache(dir);
    for (int i = 0; i < 2; i++)
        ck_assert_str_eq(clg_gemm_choice(ctx, &shapes[i]), results[i].best);
    /* a shape nobody tuned keeps its default */
    ck_assert_str_eq(clg_gemm_choice(ctx, &(clg_gemm_shape){8, 9, 11, 1, false, true}),
                     defaults[0]);
    clg_context_destroy(ctx);

    /* Edited by hand: the first shape through a candidate nobody would pick
     * by default, and a line naming no candidate (skipped). */
    char *text = read_file(path);
    const char *other = strcmp(results[0].best, "outer-4x1") ? "outer-4x1" : "outer-8x1";
    char from[80], to[80];
    snprintf(from, sizeof from, "gemm 8 9 10 1 0 1 %s", results[0].best);
    snprintf(to, sizeof to, "gemm 8 9 10 1 0 1 %s", other);
    replace_once(text, from, to);
    strcat(text, "gemm 8 9 12 1 0 1 no-such-kernel 1.0\n");
    write_file(path, text);
    ctx = context_with_cache(dir);
    ck_assert_str_eq(clg_gemm_choice(ctx, &shapes[0]), other);
    ck_assert_str_eq(clg_gemm_choice(ctx, &(clg_gemm_shape){8, 9, 12, 1, false, true}),
                     defaults[0]);
    /* and the product through it is right */
    float a[8 * 10], b[9 * 10];
    test_random(a, 80, 1, -1, 1);
    test_random(b, 90, 2, -1, 1);
    clg_tensor *ta = test_tensor(ctx, 2, (int64_t[]){8, 10}, a, false);
    clg_tensor *tb = test_tensor(ctx, 2, (int64_t[]){9, 10}, b, false);
    clg_step_begin(ctx);
    float *got = test_download(clg_matmul(ta, clg_transpose(tb, 0, 1)));
    float want[8 * 9];
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 9; j++) {
            double s = 0;
            for (int p = 0; p < 10; p++)
                s += (double)a[i * 10 + p] * b[j * 10 + p];
            want[i * 9 + j] = (float)s;
        }
    test_assert_close(got, want, 72, test_tol_get("gemm"), other);
    free(got);
    clg_step_end(ctx);
    clg_tensor_destroy(ta);
    clg_tensor_destroy(tb);
    clg_context_destroy(ctx);

    /* another driver's table: ignored */
    replace_once(text, "\ndriver ", "\ndriver other-");
    write_file(path, text);
    ctx = context_with_cache(dir);
    ck_assert_str_eq(clg_gemm_choice(ctx, &shapes[0]), defaults[0]);
    clg_context_destroy(ctx);
    free(text);

    remove_tree(dir);
}
END_TEST

/* ---- split K (clrt_gemm_split_run, the plans' clrt_gemm_slices) ---- */

/* A context under launch plan `plan` (and CLGRAD_GEMM = `gemm` unless
 * NULL); the caller's environment is left as it was. */
static clg_context *context_with_plan(const char *plan, const char *gemm)
{
    clg_context_destroy(test_context()); /* exits 77 without a device */
    const char *names[2] = {"CLGRAD_LAUNCH", "CLGRAD_GEMM"}, *values[2] = {plan, gemm};
    char *saved[2];
    for (int i = 0; i < 2; i++) {
        saved[i] = getenv(names[i]) ? strdup(getenv(names[i])) : NULL;
        if (values[i])
            setenv(names[i], values[i], 1);
    }
    clg_context *ctx = NULL;
    clg_status status = clg_context_create(NULL, &ctx);
    for (int i = 0; i < 2; i++) {
        if (saved[i])
            setenv(names[i], saved[i], 1);
        else
            unsetenv(names[i]);
        free(saved[i]);
    }
    ck_assert_msg(status == CLG_STATUS_OK, "%s: %s", plan, ctx ? clg_context_error(ctx) : "");
    ck_assert_str_eq(ctx->rt.plan.name, plan);
    return ctx;
}

/* check_problem through the split path in `slices` slices. */
static void check_split(clg_context *ctx, int candidate, size_t slices, const problem *p)
{
    const layout *l = &p->l;
    clg_tensor *ta = test_tensor(ctx, 1, (int64_t[]){(int64_t)p->na}, p->a, false);
    clg_tensor *tb = test_tensor(ctx, 1, (int64_t[]){(int64_t)p->nb}, p->b, false);
    clg_tensor *tc = test_tensor(ctx, 1, (int64_t[]){(int64_t)p->nc}, p->c, false);
    char what[200];
    snprintf(what, sizeof what, "plan %s, %s in %zu slices, %dx%dx%d %c%c batch %d beta %g",
             ctx->rt.plan.name, clrt_gemm_candidate_get(candidate)->name, slices, l->m, l->n, l->k,
             l->ta ? 'T' : 'N', l->tb ? 'T' : 'N', l->batch, (double)p->beta);
    clg_counters before, after;
    clg_counters_get(ctx, &before);
    clg_status status =
        clrt_gemm_split_run(&ctx->rt, candidate, slices, problem_desc(p, ta, tb, tc));
    ck_assert_msg(status == CLG_STATUS_OK, "%s: %s", what, clg_context_error(ctx));
    clg_counters_get(ctx, &after);
    ck_assert_msg(after.gemm_calls == before.gemm_calls + 1, "%s: counted %llu GEMMs", what,
                  (unsigned long long)(after.gemm_calls - before.gemm_calls));
    float *got = test_download(tc);
    for (size_t i = 0; i < p->nc; i++)
        if (!in_window(l, i))
            ck_assert_msg(got[i] == SENTINEL, "%s: element %zu outside C was written (%g)", what, i,
                          (double)got[i]);
    test_assert_close(got, p->want, p->nc, test_tol_get("gemm"), what);
    free(got);
    clg_tensor_destroy(ta);
    clg_tensor_destroy(tb);
    clg_tensor_destroy(tc);
}

/* Slices through CLBlast's strided batch (both its routes) and through an
 * own kernel of each kind, under both plans (the sum's groups come from the
 * plan), in every transpose (a transposed operand's slices are rows apart,
 * the others columns), beta 0 (C NaN, never read) and 1, alpha 0.75: K a
 * multiple of the slices, K leaving 1 and 44 rows past the last slice (the
 * sum adds them), slices of 1 row, more slices than K (run whole), and a
 * batch of 3 with gaps between its elements. */
START_TEST(test_gemm_split_matches_host)
{
    const char *plans[] = {"cpu", "gpu"};
    const char *names[] = {"clblast", "clblast-indirect", "outer-4x3", "dot-4x2"};
    const struct {
        int m, n, k, batch;
        size_t slices;
    } cases[] = {{6, 25, 160, 1, 8}, {5, 7, 37, 1, 4}, {3, 9, 300, 1, 64},
                 {2, 3, 5, 1, 5},    {4, 3, 2, 1, 8},  {7, 6, 61, 3, 6}};
    uint64_t seed = 3000;
    for (size_t pl = 0; pl < 2; pl++) {
        clg_context *ctx = context_with_plan(plans[pl], NULL);
        for (size_t nm = 0; nm < sizeof names / sizeof names[0]; nm++) {
            int cand = clrt_gemm_candidate_find(names[nm]);
            ck_assert_int_ge(cand, 0);
            for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
                for (int flags = 0; flags < 4; flags++)
                    for (int beta = 0; beta <= 1; beta++) {
                        layout l = make_layout(cases[i].m, cases[i].n, cases[i].k, cases[i].batch,
                                               flags & 1, flags & 2);
                        problem p = problem_make(&l, 0.75f, (float)beta, -1, seed++);
                        check_split(ctx, cand, cases[i].slices, &p);
                        problem_free(&p);
                    }
        }
        clg_context_destroy(ctx);
    }
}
END_TEST

/* The plans' rule: the gpu plan splits the products the launch trace found
 * starved (LeNet-5's conv1 and conv2 dW, the MLP's fc3 dW) into the fewest
 * slices that hold gemm_split_target outputs in all (at least the trace's
 * 4,096), each at least gemm_split_min_k long; it keeps whole the products
 * with many outputs and those with a short K. The cpu plan splits only A^T B
 * products (a weight gradient, slices contiguous in both operands) with few
 * outputs over a long K (the autoencoder's), into one slice per compute unit
 * (none on one), each slice's tiles one work-item's; not under a loop bound,
 * where such a work-item would loop too long. */
static void check_plan_rule(clg_context *ctx, const clg_gemm_shape *s, bool split)
{
    const clrt_plan *plan = &ctx->rt.plan;
    size_t m = (size_t)s->m, n = (size_t)s->n, k = (size_t)s->k, batch = (size_t)s->batch;
    size_t slices = clrt_gemm_slices(&ctx->rt, s);
    ck_assert_msg((slices > 1) == split, "plan %s, %zux%zux%zu %c%c batch %zu: %zu slices",
                  plan->name, m, n, k, s->trans_a ? 'T' : 'N', s->trans_b ? 'T' : 'N', batch,
                  slices);
    if (slices > 1) {
        ck_assert_uint_ge(k / slices, plan->gemm_split_min_k);
        ck_assert_uint_le(slices, plan->gemm_split_max);
        /* the fewest slices that reach the target, unless K or the maximum
         * stops them first */
        ck_assert(m * n * batch * slices >= plan->gemm_split_target ||
                  k / (slices + 1) < plan->gemm_split_min_k || slices == plan->gemm_split_max);
        ck_assert(m * n * batch * (slices - 1) < plan->gemm_split_target);
    }
}

START_TEST(test_gemm_split_plan_rule)
{
    const struct {
        size_t m, n, k;
        bool split; /* under the gpu plan */
    } cases[] = {{6, 25, 50176, true},    {16, 150, 6400, true}, {10, 128, 128, true},
                 {128, 10, 128, true},    {64, 10, 84, false},   {150, 6400, 16, false},
                 {128, 128, 2048, false}, {1, 1, 100000, true},  {3, 3, 0, false}};
    clg_context *ctx = context_with_plan("gpu", NULL);
    ck_assert_uint_ge(ctx->rt.plan.gemm_split_target, 4096);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int t = 0; t < 4; t++) { /* the transposes do not matter here */
            clg_gemm_shape s = {
                (int64_t)cases[i].m, (int64_t)cases[i].n, (int64_t)cases[i].k, 1, t & 1, t & 2};
            check_plan_rule(ctx, &s, cases[i].split);
        }
    ck_assert(!ctx->rt.plan.gemm_split_rows && !ctx->rt.plan.gemm_split_item);
    /* a batch counts in the outputs: 16 x 150 twice is enough */
    check_plan_rule(ctx, &(clg_gemm_shape){16, 150, 6400, 2, false, false}, false);
    clg_context_destroy(ctx);

    /* the cpu plan: the autoencoder's weight gradients (A^T B over K = 2048)
     * and the LSTM's dW_ih (512 x 28 over K = 6,400) split, in one slice per
     * compute unit; not the same products in other transposes, nor those
     * with many outputs (the LSTM's dW_hh, 512 x 128), a short K (the MLP's
     * dW over a batch of 128) or a batch of 2 that has too many outputs */
    ctx = context_with_plan("cpu", NULL);
    const clrt_plan *plan = &ctx->rt.plan;
    bool units = ctx->rt.desc.compute_units >= 2 && plan->loop_limit == 0;
    ck_assert(plan->gemm_split_rows);
    ck_assert(plan->gemm_split_item == (plan->loop_limit == 0));
    if (units)
        ck_assert_uint_eq(plan->gemm_split_max, ctx->rt.desc.compute_units);
    const struct {
        clg_gemm_shape s;
        bool split; /* with two compute units or more */
    } cpu_cases[] = {
        {{100, 100, 2048, 1, true, false}, true},  {{15, 100, 2048, 1, true, false}, true},
        {{512, 28, 6400, 1, true, false}, true},   {{100, 100, 2048, 1, false, false}, false},
        {{100, 100, 2048, 1, true, true}, false},  {{100, 100, 2048, 1, false, true}, false},
        {{6, 25, 50176, 1, false, true}, false},   {{512, 128, 6400, 1, true, false}, false},
        {{256, 784, 128, 1, true, false}, false},  {{100, 100, 1000, 1, true, false}, false},
        {{100, 100, 2048, 2, true, false}, false}, {{30, 100, 2048, 2, true, false}, true}};
    for (size_t i = 0; i < sizeof cpu_cases / sizeof cpu_cases[0]; i++) {
        check_plan_rule(ctx, &cpu_cases[i].s, cpu_cases[i].split && units);
        size_t by_k = (size_t)cpu_cases[i].s.k / plan->gemm_split_min_k;
        if (cpu_cases[i].split && units) /* a slice per unit, while K lasts */
            ck_assert_uint_eq(clrt_gemm_slices(&ctx->rt, &cpu_cases[i].s),
                              by_k < plan->gemm_split_max ? by_k : plan->gemm_split_max);
    }
    clg_context_destroy(ctx);
}
END_TEST

/* LeNet-5's conv1 dW (6 x 25 over K = 50,176, positive products) through
 * clg_matmul (clrt_gemm) under the gpu plan: split (the launch trace says into how
 * many, with the slices' outputs as its global size), within the long-K
 * tolerance of the unsplit product, bit-identical when run again (the sum's
 * order is fixed), and, once warm, without allocating, even after a tensor
 * the size of its partial products was created (as a gradient would be in a
 * first training step: the partials' block must not have gone back to the
 * pool for it to take). With CLGRAD_GEMM
 * forcing an own kernel, the slices run through it (the profile names its
 * kernel and the sum, and no CLBlast GEMM). */
START_TEST(test_gemm_split_dispatched)
{
    const int m = 6, n = 25, k = 50176;
    float *a = malloc((size_t)m * k * sizeof *a), *b = malloc((size_t)k * n * sizeof *b);
    float want[6 * 25];
    ck_assert(a && b);
    test_random(a, (size_t)m * k, 41, 0, 1);
    test_random(b, (size_t)k * n, 42, 0, 1);
    for (int i = 0; i < m; i++) /* dW = g col^T: NT */
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int p = 0; p < k; p++)
                s += (double)a[(size_t)i * k + p] * b[(size_t)j * k + p];
            want[i * n + j] = (float)s;
        }
    for (int forced = 0; forced <= 1; forced++) {
        clg_context *ctx = context_with_plan("gpu", forced ? "outer-4x1" : NULL);
        clrt *rt = &ctx->rt;
        size_t slices = clrt_gemm_slices(rt, &(clg_gemm_shape){m, n, k, 1, false, true});
        ck_assert_uint_gt(slices, 1);
        clg_tensor *ta = test_tensor(ctx, 2, (int64_t[]){m, k}, a, false);
        clg_tensor *tb = test_tensor(ctx, 2, (int64_t[]){n, k}, b, false);
        if (forced)
            ck_assert_int_eq(clg_context_set_profiling(ctx, true), CLG_STATUS_OK);
        float *first = NULL;
        clg_tensor *keep = NULL;
        clg_counters before, after;
        for (int round = 0; round < 3; round++) {
            clg_counters_get(ctx, &before);
            clg_step_begin(ctx);
            rt->trace.on = round == 0;
            clg_tensor *c = clg_matmul(ta, clg_transpose(tb, 0, 1));
            rt->trace.on = false;
            float *got = test_download(c);
            clg_step_end(ctx);
            clg_counters_get(ctx, &after);
            if (round == 0) {
                test_assert_close(got, want, (size_t)m * n, test_tol_get("gemm_long_k"),
                                  forced ? "conv1 dW split, outer-4x1" : "conv1 dW split");
                first = got;
                char name[48];
                snprintf(name, sizeof name, "gemm 6x25x50176 split %zu", slices);
                int found = 0;
                for (int i = 0; i < rt->trace.n; i++)
                    if (rt->trace.records[i].gemm) {
                        ck_assert_str_eq(rt->trace.records[i].kernel, name);
                        ck_assert_uint_eq(rt->trace.records[i].global, (size_t)m * n * slices);
                        found++;
                    }
                ck_assert_int_eq(found, 1);
                rt->trace.n = 0;
                keep = test_tensor(ctx, 1, (int64_t[]){(int64_t)(m * n * slices)}, NULL, false);
                continue;
            }
            ck_assert_msg(memcmp(got, first, sizeof want) == 0, "a rerun differs");
            free(got);
            ck_assert_uint_eq(after.device_allocations, before.device_allocations);
            ck_assert_uint_eq(after.gemm_calls, before.gemm_calls + 1);
        }
        free(first);
        if (forced) {
            clg_profile_entry entries[32];
            size_t count = clg_profile_get(ctx, entries, 32);
            bool outer = false, sum = false;
            for (size_t i = 0; i < count && i < 32; i++) {
                outer = outer || strcmp(entries[i].name, "gemm_outer") == 0;
                sum = sum || strcmp(entries[i].name, "gemm_split_sum") == 0;
                ck_assert_msg(strncmp(entries[i].name, "clblast", 7) != 0, "%s ran",
                              entries[i].name);
            }
            ck_assert_msg(outer && sum, "the profile lacks gemm_outer or gemm_split_sum");
        }
        clg_tensor_destroy(keep);
        clg_tensor_destroy(ta);
        clg_tensor_destroy(tb);
        clg_context_destroy(ctx);
    }
    free(a);
    free(b);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_gemm_every_candidate_matches_host,
                            test_gemm_every_candidate_batched,
                            test_gemm_other_vector_widths,
                            test_gemm_long_k_blocked,
                            test_gemm_sliced_under_loop_limit,
                            test_gemm_packed_and_panels,
                            test_gemm_matmul_through_each_own_candidate,
                            test_gemm_env_names_a_candidate,
                            test_gemm_records_shapes,
                            test_gemm_steady_state_allocates_nothing,
                            test_gemm_tuned_table_read_back,
                            test_gemm_split_matches_host,
                            test_gemm_split_plan_rule,
                            test_gemm_split_dispatched,
                            NULL};
    return test_main("cl/gemm", "gemm", 600, tests);
}
