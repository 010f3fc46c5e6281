/* tests/ops/test_matmul.c: clg_matmul and clg_matmul_nt (ops/matmul.c)
 * against a naive host GEMM, finite differences and PyTorch, over transposed
 * views and batches. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

/* in[0], in[1] transposed before the product as the bits of *arg say. */
static clg_tensor *run_matmul(clg_tensor *const *in, const void *arg)
{
    int flags = arg ? *(const int *)arg : 0;
    clg_tensor *a = in[0], *b = in[1];
    int r = clg_tensor_rank(a);
    if (flags & 1)
        a = clg_transpose(a, r - 2, r - 1);
    if (flags & 2)
        b = clg_transpose(b, r - 2, r - 1);
    return clg_matmul(a, b);
}

/* C = op(A) op(B): check/'s chk_gemm (shared with `clgrad check`) on float
 * arrays; A stored (M,K) or (K,M) when ta. */
static void host_gemm(const float *a, const float *b, float *c, int m, int n, int k, bool ta,
                      bool tb)
{
    double *ad = test_doubles(a, (size_t)(m * k)), *bd = test_doubles(b, (size_t)(k * n));
    double *cd = malloc((size_t)(m * n) * sizeof *cd);
    ck_assert_ptr_nonnull(cd);
    chk_gemm(ad, bd, cd, m, n, k, ta, tb);
    test_floats(cd, c, (size_t)(m * n));
    free(ad);
    free(bd);
    free(cd);
}

START_TEST(test_matmul_matches_host)
{
    clg_context *ctx = test_context();
    /* sizes that are not multiples of any tile: 37 x 19 x 23 */
    const int m = 37, n = 19, k = 23;
    float *a = malloc(m * k * sizeof *a), *b = malloc(k * n * sizeof *b);
    float *want = malloc(m * n * sizeof *want);
    test_random(a, (size_t)(m * k), 5, -1, 1);
    test_random(b, (size_t)(k * n), 6, -1, 1);
    for (int flags = 0; flags < 4; flags++) {
        bool ta = flags & 1, tb = flags & 2;
        clg_tensor *ta_ = test_tensor(ctx, 2, ta ? (int64_t[]){k, m} : (int64_t[]){m, k}, a, false);
        clg_tensor *tb_ = test_tensor(ctx, 2, tb ? (int64_t[]){n, k} : (int64_t[]){k, n}, b, false);
        clg_counters before, after;
        clg_step_begin(ctx);
        clg_counters_get(ctx, &before);
        clg_tensor *c = run_matmul((clg_tensor *[]){ta_, tb_}, &flags);
        clg_counters_get(ctx, &after);
        ck_assert_msg(c != NULL, "%s", clg_context_error(ctx));
        /* transposed views reach CLBlast as flags: no copy kernel */
        ck_assert_uint_eq(after.kernel_launches, before.kernel_launches);
        ck_assert_uint_eq(after.gemm_calls, before.gemm_calls + 1);
        ck_assert_int_eq(clg_tensor_dim(c, 0), m);
        ck_assert_int_eq(clg_tensor_dim(c, 1), n);
        float *got = test_download(c);
        host_gemm(a, b, want, m, n, k, ta, tb);
        test_assert_close(got, want, (size_t)(m * n), test_tol_get("gemm"), "matmul");
        free(got);
        clg_step_end(ctx);
        clg_tensor_destroy(ta_);
        clg_tensor_destroy(tb_);
    }
    free(a);
    free(b);
    free(want);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_matmul_batched_matches_host)
{
    clg_context *ctx = test_context();
    float a[3 * 5 * 4], b[3 * 4 * 2], want[3 * 5 * 2];
    test_random(a, 60, 7, -1, 1);
    test_random(b, 24, 8, -1, 1);
    clg_tensor *ta = test_tensor(ctx, 3, (int64_t[]){3, 5, 4}, a, false);
    clg_tensor *tb = test_tensor(ctx, 3, (int64_t[]){3, 4, 2}, b, false);
    clg_step_begin(ctx);
    clg_tensor *c = clg_matmul(ta, tb);
    ck_assert_msg(c != NULL, "%s", clg_context_error(ctx));
    float *got = test_download(c);
    for (int s = 0; s < 3; s++)
        host_gemm(a + s * 20, b + s * 8, want + s * 10, 5, 2, 4, false, false);
    test_assert_close(got, want, 30, test_tol_get("gemm"), "bmm");
    free(got);
    clg_step_end(ctx);
    clg_tensor_destroy(ta);
    clg_tensor_destroy(tb);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_matmul_gradcheck)
{
    clg_context *ctx = test_context();
    float a[12], b[20];
    test_random(a, 12, 9, -1, 1);
    test_random(b, 20, 10, -1, 1);
    for (int flags = 0; flags < 4; flags++) {
        clg_tensor *ta = test_tensor(ctx, 2, flags & 1 ? (int64_t[]){4, 3} : (int64_t[]){3, 4}, a, true);
        clg_tensor *tb = test_tensor(ctx, 2, flags & 2 ? (int64_t[]){5, 4} : (int64_t[]){4, 5}, b, true);
        test_gradcheck(ctx, run_matmul, &flags, 2, (clg_tensor *[]){ta, tb},
                       test_tol_get("gradcheck"));
        clg_tensor_destroy(ta);
        clg_tensor_destroy(tb);
    }
    float c[24], d[16];
    test_random(c, 24, 11, -1, 1);
    test_random(d, 16, 12, -1, 1);
    clg_tensor *tc = test_tensor(ctx, 3, (int64_t[]){2, 3, 4}, c, true);
    clg_tensor *td = test_tensor(ctx, 3, (int64_t[]){2, 4, 2}, d, true);
    test_gradcheck(ctx, run_matmul, NULL, 2, (clg_tensor *[]){tc, td}, test_tol_get("gradcheck"));
    clg_tensor_destroy(tc);
    clg_tensor_destroy(td);
    clg_context_destroy(ctx);
}
END_TEST

static clg_tensor *run_nt(clg_tensor *const *in, const void *arg)
{
    (void)arg;
    return clg_matmul_nt(in[0], in[1]);
}

/* a b^T forward, and both gradients twice (the second pass accumulates),
 * against the host; W's gradient needs no copy kernel: two GEMMs, nothing else. */
START_TEST(test_matmul_nt_matches_host)
{
    clg_context *ctx = test_context();
    const int m = 37, n = 19, k = 23;
    float a[37 * 23], b[19 * 23], g[37 * 19], want[37 * 19];
    test_random(a, (size_t)(m * k), 41, -1, 1);
    test_random(b, (size_t)(n * k), 42, -1, 1);
    test_random(g, (size_t)(m * n), 43, -1, 1);
    clg_tensor *ta = test_tensor(ctx, 2, (int64_t[]){m, k}, a, true);
    clg_tensor *tb = test_tensor(ctx, 2, (int64_t[]){n, k}, b, true);
    clg_tensor *tg = test_tensor(ctx, 2, (int64_t[]){m, n}, g, false);
    for (int pass = 0; pass < 2; pass++) {
        clg_step_begin(ctx);
        clg_tensor *c = clg_matmul_nt(ta, tb);
        ck_assert_msg(c != NULL, "%s", clg_context_error(ctx));
        ck_assert_int_eq(clg_tensor_dim(c, 0), m);
        ck_assert_int_eq(clg_tensor_dim(c, 1), n);
        float *got = test_download(c);
        host_gemm(a, b, want, m, n, k, false, true);
        test_assert_close(got, want, (size_t)(m * n), test_tol_get("gemm"), "a b^T");
        free(got);
        clg_counters before, after;
        clg_counters_get(ctx, &before);
        ck_assert_int_eq(clg_backward_with(c, tg), CLG_STATUS_OK);
        clg_counters_get(ctx, &after);
        ck_assert_uint_eq(after.kernel_launches, before.kernel_launches);
        ck_assert_uint_eq(after.gemm_calls, before.gemm_calls + 2);
        clg_step_end(ctx);
    }
    /* da = 2 G b (M,N)(N,K); db = 2 G^T a (N,M)(M,K) */
    float da_want[37 * 23], db_want[19 * 23], gt[19 * 37];
    host_gemm(g, b, da_want, m, k, n, false, false);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
            gt[j * m + i] = g[i * n + j];
    host_gemm(gt, a, db_want, n, k, m, false, false);
    for (int i = 0; i < m * k; i++)
        da_want[i] *= 2;
    for (int i = 0; i < n * k; i++)
        db_want[i] *= 2;
    float *da = test_download(clg_tensor_grad(ta)), *db = test_download(clg_tensor_grad(tb));
    test_assert_close(da, da_want, (size_t)(m * k), test_tol_get("gemm"), "da");
    test_assert_close(db, db_want, (size_t)(n * k), test_tol_get("gemm"), "db");
    free(da);
    free(db);
    clg_tensor_destroy(ta);
    clg_tensor_destroy(tb);
    clg_tensor_destroy(tg);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_matmul_nt_gradcheck_and_golden)
{
    clg_context *ctx = test_context();
    float a[24], b[40];
    test_random(a, 24, 44, -1, 1);
    test_random(b, 40, 45, -1, 1);
    clg_tensor *ta = test_tensor(ctx, 2, (int64_t[]){3, 4}, a, true);
    clg_tensor *tb = test_tensor(ctx, 2, (int64_t[]){5, 4}, b, true);
    test_gradcheck(ctx, run_nt, NULL, 2, (clg_tensor *[]){ta, tb}, test_tol_get("gradcheck"));
    clg_tensor *tc = test_tensor(ctx, 3, (int64_t[]){2, 3, 4}, a, true);
    clg_tensor *td = test_tensor(ctx, 3, (int64_t[]){2, 5, 4}, b, true);
    test_gradcheck(ctx, run_nt, NULL, 2, (clg_tensor *[]){tc, td}, test_tol_get("gradcheck"));
    /* PyTorch's a @ b.t(), inputs as stored */
    clg_safetensors *st = test_golden_open(ctx, "ops_matmul");
    test_golden_case(ctx, st, "mm_tb", run_nt, NULL, 2, 0, test_tol_get("golden"));
    test_golden_case(ctx, st, "bmm_tb", run_nt, NULL, 2, 0, test_tol_get("golden"));
    clg_safetensors_destroy(st);
    /* inner sizes must agree along b's last axis */
    clg_step_begin(ctx);
    ck_assert_ptr_null(clg_matmul_nt(ta, tc));
    clg_context_clear_error(ctx);
    ck_assert_ptr_null(clg_matmul_nt(ta, clg_transpose(tb, 0, 1)));
    ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_SHAPE);
    ck_assert_msg(strstr(clg_context_error(ctx), "clg_matmul_nt") &&
                      strstr(clg_context_error(ctx), "[3, 4]"),
                  "%s", clg_context_error(ctx));
    clg_context_clear_error(ctx);
    clg_step_end(ctx);
    clg_tensor_destroy(ta);
    clg_tensor_destroy(tb);
    clg_tensor_destroy(tc);
    clg_tensor_destroy(td);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_matmul_golden)
{
    clg_context *ctx = test_context();
    clg_safetensors *st = test_golden_open(ctx, "ops_matmul");
    static const struct {
        const char *name;
        int flags;
    } cases[] = {{"mm", 0},       {"mm_ta", 1},  {"mm_tb", 2},  {"mm_tab", 3},
                 {"mm_outer", 0}, {"mm_dot", 0}, {"bmm", 0},    {"bmm_tb", 2}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        test_golden_case(ctx, st, cases[i].name, run_matmul, &cases[i].flags, 2, 0,
                         test_tol_get("golden"));
    clg_safetensors_destroy(st);
    clg_context_destroy(ctx);
}
END_TEST

/* A fresh gradient is written with beta = 0, which must not read the stale
 * contents: fill the old gradient storage with NaN and backward again. */
START_TEST(test_matmul_fresh_gradient_ignores_stale_memory)
{
    clg_context *ctx = test_context();
    float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {1, 0, 0, 1, 1, 1};
    clg_tensor *ta = test_tensor(ctx, 2, (int64_t[]){2, 3}, a, true);
    clg_tensor *tb = test_tensor(ctx, 2, (int64_t[]){3, 2}, b, true);
    for (int round = 0; round < 2; round++) {
        clg_step_begin(ctx);
        clg_tensor *c = clg_matmul(ta, tb);
        clg_tensor *ones = clg_tensor_full(ctx, 2, (int64_t[]){2, 2}, 1.0f);
        ck_assert_int_eq(clg_backward_with(c, ones), CLG_STATUS_OK);
        clg_step_end(ctx);
        if (round == 0) {
            ck_assert_int_eq(clg_tensor_fill(clg_tensor_grad(ta), NAN), CLG_STATUS_OK);
            ck_assert_int_eq(clg_tensor_fill(clg_tensor_grad(tb), NAN), CLG_STATUS_OK);
            clg_tensor_zero_grad(ta);
            clg_tensor_zero_grad(tb);
        }
    }
    float *ga = test_download(clg_tensor_grad(ta));
    /* dA = 1 B^T: rows of B summed: [1, 1, 2] for each row of A */
    float want[6] = {1, 1, 2, 1, 1, 2};
    test_assert_close(ga, want, 6, test_tol_get("exact"), "dA");
    free(ga);
    clg_tensor_destroy(ta);
    clg_tensor_destroy(tb);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_matmul_shape_errors)
{
    clg_context *ctx = test_context();
    clg_tensor *a = test_tensor(ctx, 2, (int64_t[]){2, 3}, NULL, false);
    clg_tensor *b = test_tensor(ctx, 2, (int64_t[]){4, 5}, NULL, false);
    clg_tensor *v = test_tensor(ctx, 1, (int64_t[]){3}, NULL, false);
    test_expect_error(ctx, clg_matmul(a, b), CLG_STATUS_SHAPE,
                      "clg_matmul: shapes [2, 3] and [4, 5] do not "
                      "multiply (inner sizes or batches differ)");
    ck_assert_ptr_null(clg_matmul(a, v));
    ck_assert_str_eq(clg_context_error(ctx), "clg_matmul: shapes [2, 3] and [3] are not two "
                                             "matrices or two batches of matrices");
    clg_tensor_destroy(a);
    clg_tensor_destroy(b);
    clg_tensor_destroy(v);
    clg_context_destroy(ctx);
}
END_TEST

/* ---- clg_linear_activation ---- */

/* act(x W^T + b): in[0] x (N, in), in[1] W (out, in), in[2] b (out) or NULL;
 * *arg indexes test_fused_acts. */
static clg_tensor *run_linear(clg_tensor *const *in, const void *arg)
{
    const test_fused_act *a = &test_fused_acts[*(const int *)arg];
    return clg_linear_activation(in[0], in[1], in[2], a->act, a->slope);
}

/* The same through the two ops it fuses. */
static clg_tensor *run_linear_unfused(clg_tensor *const *in, const void *arg)
{
    const test_fused_act *a = &test_fused_acts[*(const int *)arg];
    return clg_bias_activation(clg_matmul_nt(in[0], in[1]), in[2], a->act, a->slope);
}

static clg_tensor *run_linear_nobias(clg_tensor *const *in, const void *arg)
{
    return run_linear((clg_tensor *const[]){in[0], in[1], NULL}, arg);
}

/* Whether the GEMM applies `act` itself where the own kernels run (the
 * default on a CPU device, which the suites' devices are). */
static bool fuses(clg_activation act, bool bias)
{
    return (act == CLG_ACT_IDENTITY && bias) || act == CLG_ACT_RELU || act == CLG_ACT_SIGMOID ||
           act == CLG_ACT_TANH;
}

static bool cpu_device(void)
{
    clg_device_desc descs[16];
    size_t count = 0;
    if (clg_devices_list(descs, 16, &count) != CLG_STATUS_OK)
        return false;
    int i = clg_devices_pick(descs, count < 16 ? count : 16, NULL);
    return i >= 0 && descs[i].type == CLG_DEVICE_TYPE_CPU;
}

/* Forward and the three gradients against a naive host loop in double, for
 * every activation, with and without a bias, on shapes that exercise the
 * epilogue's paths: out = 19 and 100 (vectors of 16, the last slid left),
 * 10 (of 8, slid), 3 (of 2), 1 (single floats), and out = 10 over in = 130,
 * which gemm_dot runs (AVX-512 defaults) and the gpu launch plan splits
 * into partial products over K (the epilogue then runs with their sum). On
 * a CPU device the fusing activations must run as one GEMM and no other
 * launch. */
START_TEST(test_linear_act_matches_host)
{
    clg_context *ctx = test_context();
    static const int shapes[][3] = {{37, 23, 19}, {37, 23, 100}, {130, 40, 10},
                                    {9, 7, 3},    {5, 4, 1},     {64, 130, 10}};
    bool cpu = cpu_device();
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int n = shapes[s][0], in = shapes[s][1], out = shapes[s][2];
        float *x = malloc(sizeof(float) * n * in), *w = malloc(sizeof(float) * out * in);
        float *b = malloc(sizeof(float) * out), *g = malloc(sizeof(float) * n * out);
        double *dz = malloc(sizeof(double) * n * out), *z = malloc(sizeof(double) * n * out);
        ck_assert(x && w && b && g && dz && z);
        test_random(x, (size_t)(n * in), 31, -1, 1);
        test_random(w, (size_t)(out * in), 32, -1, 1);
        test_random(b, (size_t)out, 33, -1, 1);
        test_random(g, (size_t)(n * out), 34, -1, 1);
        for (int v = 0; v < TEST_N_FUSED_ACTS; v++) {
            const test_fused_act *a = &test_fused_acts[v];
            for (int with_bias = 0; with_bias < 2; with_bias++) {
                clg_tensor *tx = test_tensor(ctx, 2, (int64_t[]){n, in}, x, true);
                clg_tensor *tw = test_tensor(ctx, 2, (int64_t[]){out, in}, w, true);
                clg_tensor *tb = with_bias ? test_tensor(ctx, 1, (int64_t[]){out}, b, true) : NULL;
                clg_tensor *tg = test_tensor(ctx, 2, (int64_t[]){n, out}, g, false);
                clg_counters before, after;
                clg_step_begin(ctx);
                clg_counters_get(ctx, &before);
                clg_tensor *y = clg_linear_activation(tx, tw, tb, a->act, a->slope);
                clg_counters_get(ctx, &after);
                ck_assert_msg(y, "%s", clg_context_error(ctx));
                ck_assert_uint_eq(after.gemm_calls, before.gemm_calls + 1);
                if (cpu && fuses(a->act, with_bias))
                    ck_assert_msg(
                        after.kernel_launches == before.kernel_launches,
                        "%s %dx%dx%d bias %d: %llu launches besides the GEMM", a->name, n, out, in,
                        with_bias,
                        (unsigned long long)(after.kernel_launches - before.kernel_launches));
                float *got = test_download(y);
                ck_assert_int_eq(clg_backward_with(y, tg), CLG_STATUS_OK);
                clg_step_end(ctx);
                for (int r = 0; r < n; r++)
                    for (int o = 0; o < out; o++) {
                        double sum = with_bias ? b[o] : 0.0;
                        for (int i = 0; i < in; i++)
                            sum += (double)x[r * in + i] * w[o * in + i];
                        int e = r * out + o;
                        z[e] = sum;
                        double want = test_host_act(a->act, sum, a->slope);
                        dz[e] = g[e] * test_host_act_d(a->act, sum, a->slope);
                        ck_assert_msg(fabs(got[e] - want) <= 1e-5 + 1e-5 * fabs(want),
                                      "%s %dx%dx%d bias %d: y[%d][%d] = %.9g, want %.9g", a->name,
                                      n, out, in, with_bias, r, o, got[e], want);
                    }
                float *dx = test_download(clg_tensor_grad(tx));
                float *dw = test_download(clg_tensor_grad(tw));
                for (int r = 0; r < n; r++)
                    for (int i = 0; i < in; i++) {
                        double want = 0.0;
                        for (int o = 0; o < out; o++)
                            want += dz[r * out + o] * w[o * in + i];
                        ck_assert_msg(fabs(dx[r * in + i] - want) <= 1e-4 + 1e-4 * fabs(want),
                                      "%s %dx%dx%d: dx[%d][%d] = %.9g, want %.9g", a->name, n, out,
                                      in, r, i, dx[r * in + i], want);
                    }
                for (int o = 0; o < out; o++) {
                    double want_b = 0.0;
                    for (int r = 0; r < n; r++)
                        want_b += dz[r * out + o];
                    for (int i = 0; i < in; i++) {
                        double want = 0.0;
                        for (int r = 0; r < n; r++)
                            want += dz[r * out + o] * x[r * in + i];
                        ck_assert_msg(fabs(dw[o * in + i] - want) <= 1e-4 + 1e-4 * fabs(want),
                                      "%s %dx%dx%d: dW[%d][%d] = %.9g, want %.9g", a->name, n, out,
                                      in, o, i, dw[o * in + i], want);
                    }
                    if (with_bias) {
                        float *db = test_download(clg_tensor_grad(tb));
                        ck_assert_msg(fabs(db[o] - want_b) <= 1e-4 + 1e-4 * fabs(want_b),
                                      "%s %dx%dx%d: db[%d] = %.9g, want %.9g", a->name, n, out, in,
                                      o, db[o], want_b);
                        free(db);
                    }
                }
                free(got);
                free(dx);
                free(dw);
                clg_tensor_destroy(tx);
                clg_tensor_destroy(tw);
                clg_tensor_destroy(tb);
                clg_tensor_destroy(tg);
            }
        }
        free(x);
        free(w);
        free(b);
        free(g);
        free(dz);
        free(z);
    }
    clg_context_destroy(ctx);
}
END_TEST

/* A drop-in for clg_bias_activation(clg_matmul_nt(x, W), b): the same
 * values and gradients, the epilogue adding the same floats in the same
 * order (out = 19: vectors of 16, the last slid; 10 over in = 130: gemm_dot). */
START_TEST(test_linear_act_equals_unfused)
{
    clg_context *ctx = test_context();
    static const int shapes[][3] = {{37, 23, 19}, {64, 130, 10}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int n = shapes[s][0], in = shapes[s][1], out = shapes[s][2];
        size_t sizes[3] = {(size_t)(n * in), (size_t)(out * in), (size_t)out};
        float *data[3];
        for (int t = 0; t < 3; t++) {
            data[t] = malloc(sizeof(float) * sizes[t]);
            ck_assert_ptr_nonnull(data[t]);
            test_random(data[t], sizes[t], 41 + (unsigned)t, -1.5, 1.5);
        }
        const int64_t shape_of[3][2] = {{n, in}, {out, in}, {out, 0}};
        for (int v = 0; v < TEST_N_FUSED_ACTS; v++) {
            float *results[2][4];
            for (int way = 0; way < 2; way++) {
                clg_tensor *t[3];
                for (int i = 0; i < 3; i++)
                    t[i] = test_tensor(ctx, i == 2 ? 1 : 2, shape_of[i], data[i], true);
                clg_step_begin(ctx);
                clg_tensor *y = (way ? run_linear_unfused : run_linear)(t, &v);
                ck_assert_msg(y, "%s", clg_context_error(ctx));
                results[way][0] = test_download(y);
                ck_assert_int_eq(clg_backward(clg_sum_all(clg_mul(y, y))), CLG_STATUS_OK);
                clg_step_end(ctx);
                for (int i = 0; i < 3; i++) {
                    results[way][i + 1] = test_download(clg_tensor_grad(t[i]));
                    clg_tensor_destroy(t[i]);
                }
            }
            const size_t counts[4] = {(size_t)(n * out), sizes[0], sizes[1], sizes[2]};
            static const char *const what[4] = {"y", "dx", "dW", "db"};
            for (int r = 0; r < 4; r++) {
                for (size_t i = 0; i < counts[r]; i++)
                    ck_assert_msg(fabsf(results[0][r][i] - results[1][r][i]) <=
                                      1e-7f + 1e-6f * fabsf(results[1][r][i]),
                                  "%s %dx%dx%d: %s[%zu] fused %.9g, unfused %.9g",
                                  test_fused_acts[v].name, n, out, in, what[r], i, results[0][r][i],
                                  results[1][r][i]);
                free(results[0][r]);
                free(results[1][r]);
            }
        }
        for (int t = 0; t < 3; t++)
            free(data[t]);
    }
    clg_context_destroy(ctx);
}
END_TEST

/* Finite differences for the fusing activations and one that does not, with
 * and without a bias; PyTorch's F.linear then the activation
 * (tools/golden/gen_ops_linear.py). */
START_TEST(test_linear_act_gradcheck_and_golden)
{
    clg_context *ctx = test_context();
    float x[20], w[35], b[7];
    test_random(x, 20, 51, -1.5, 1.5);
    test_random(w, 35, 52, -1, 1);
    test_random(b, 7, 53, -1, 1);
    clg_tensor *tx = test_tensor(ctx, 2, (int64_t[]){4, 5}, x, true);
    clg_tensor *tw = test_tensor(ctx, 2, (int64_t[]){7, 5}, w, true);
    clg_tensor *tb = test_tensor(ctx, 1, (int64_t[]){7}, b, true);
    for (int v = 0; v < TEST_N_FUSED_ACTS; v++) {
        clg_activation act = test_fused_acts[v].act;
        if (!fuses(act, true) && act != CLG_ACT_ELU)
            continue;
        test_gradcheck(ctx, run_linear, &v, 3, (clg_tensor *[]){tx, tw, tb},
                       test_tol_get("gradcheck"));
        if (act != CLG_ACT_IDENTITY)
            test_gradcheck(ctx, run_linear_nobias, &v, 2, (clg_tensor *[]){tx, tw},
                           test_tol_get("gradcheck"));
    }
    clg_safetensors *st = test_golden_open(ctx, "ops_linear");
    char name[64];
    for (int v = 0; v < TEST_N_FUSED_ACTS; v++) {
        snprintf(name, sizeof name, "linear.%s", test_fused_acts[v].name);
        test_golden_case(ctx, st, name, run_linear, &v, 3, 0, test_tol_get("golden"));
    }
    for (int v = 0; v < TEST_N_FUSED_ACTS; v++) {
        clg_activation act = test_fused_acts[v].act;
        if (act != CLG_ACT_RELU && act != CLG_ACT_TANH)
            continue;
        snprintf(name, sizeof name, "linear_nobias.%s", test_fused_acts[v].name);
        test_golden_case(ctx, st, name, run_linear_nobias, &v, 2, 0, test_tol_get("golden"));
        if (act == CLG_ACT_TANH)
            test_golden_case(ctx, st, "linear_row.tanh", run_linear, &v, 3, 0,
                             test_tol_get("golden"));
    }
    clg_safetensors_destroy(st);
    clg_tensor_destroy(tx);
    clg_tensor_destroy(tw);
    clg_tensor_destroy(tb);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_linear_act_errors)
{
    clg_context *ctx = test_context();
    clg_tensor *x = test_tensor(ctx, 2, (int64_t[]){2, 3}, NULL, false);
    clg_tensor *w = test_tensor(ctx, 2, (int64_t[]){4, 3}, NULL, false);
    clg_tensor *b = test_tensor(ctx, 1, (int64_t[]){3}, NULL, false);
    clg_tensor *v = test_tensor(ctx, 1, (int64_t[]){3}, NULL, false);
    test_expect_error(ctx, clg_linear_activation(x, w, b, CLG_ACT_RELU, 0), CLG_STATUS_SHAPE,
                      "clg_linear_activation: shapes [2, 3], [4, 3] and [3] must be x (N, in), "
                      "weight (out, in) and bias [out]");
    ck_assert_ptr_null(clg_linear_activation(v, w, NULL, CLG_ACT_TANH, 0));
    ck_assert_str_eq(clg_context_error(ctx), "clg_linear_activation: shapes [3] and [4, 3] must "
                                             "be x (N, in), weight (out, in) and bias [out]");
    clg_context_clear_error(ctx);
    ck_assert_ptr_null(clg_linear_activation(x, clg_transpose(w, 0, 1), NULL, CLG_ACT_TANH, 0));
    clg_context_clear_error(ctx);
    test_expect_error(ctx, clg_linear_activation(x, w, NULL, (clg_activation)42, 0),
                      CLG_STATUS_INVALID_ARGUMENT, "clg_linear_activation: unknown activation 42");
    clg_tensor_destroy(x);
    clg_tensor_destroy(w);
    clg_tensor_destroy(b);
    clg_tensor_destroy(v);
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_matmul_matches_host,
                            test_matmul_batched_matches_host,
                            test_matmul_gradcheck,
                            test_matmul_golden,
                            test_matmul_fresh_gradient_ignores_stale_memory,
                            test_matmul_shape_errors,
                            test_matmul_nt_matches_host,
                            test_matmul_nt_gradcheck_and_golden,
                            test_linear_act_matches_host,
                            test_linear_act_equals_unfused,
                            test_linear_act_gradcheck_and_golden,
                            test_linear_act_errors,
                            NULL};
    return test_main("ops/matmul", "matmul", 0, tests);
}
