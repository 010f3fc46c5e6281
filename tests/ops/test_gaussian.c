/* tests/ops/test_gaussian.c: the reparameterisation and the Gaussian KL
 * term (ops/gaussian.c): host loops in double on transposed views, forward
 * and every input's gradient; the lecture's formula on numbers worked by
 * hand; finite differences; PyTorch golden values
 * (tools/golden/gen_gaussian.py); z's mean and spread with eps from
 * clg_randn; bad shapes and reductions. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

static const char *const reduction_names[] = {"mean", "sum", "none"};

typedef struct gauss_arg {
    bool kl;
    clg_reduction reduction;
    bool transpose; /* every input is clg_transpose(in[i], 0, 1) */
} gauss_arg;

static clg_tensor *run_gauss(clg_tensor *const *in, const void *arg)
{
    const gauss_arg *a = arg;
    clg_tensor *x[3];
    for (int i = 0; i < (a->kl ? 2 : 3); i++)
        x[i] = a->transpose ? clg_transpose(in[i], 0, 1) : in[i];
    return a->kl ? clg_gaussian_kl(x[0], x[1], a->reduction) : clg_reparameterize(x[0], x[1], x[2]);
}

/* On (R, C) tensors seen through a transpose (C, R): the device reads
 * strided inputs; the host indexes the view as element (j, i) = stored
 * (i, j). Checks the forward and each input's gradient for an upstream
 * gradient g against double loops. */
START_TEST(test_gaussian_host_reference)
{
    enum { R = 5, C = 7, N = R * C };
    clg_context *ctx = test_context();
    float mu[N], lv[N], eps[N], g[N];
    test_random(mu, N, 1, -2, 2);
    test_random(lv, N, 2, -3, 2);
    test_random(eps, N, 3, -2.5f, 2.5f);
    test_random(g, N, 4, -1, 1);
    clg_tensor *in[3] = {test_tensor(ctx, 2, (int64_t[]){R, C}, mu, true),
                         test_tensor(ctx, 2, (int64_t[]){R, C}, lv, true),
                         test_tensor(ctx, 2, (int64_t[]){R, C}, eps, true)};
    const test_tol *tol = test_tol_get("transcendental");
    for (int kl = 0; kl < 2; kl++) {
        gauss_arg a = {kl, CLG_REDUCTION_NONE, true};
        for (int i = 0; i < 3; i++)
            clg_tensor_zero_grad(in[i]);
        clg_step_begin(ctx);
        clg_tensor *out = run_gauss(in, &a);
        ck_assert_msg(out != NULL, "%s", clg_context_error(ctx));
        ck_assert_int_eq(clg_tensor_dim(out, 0), C);
        /* the upstream gradient, laid out as the (C, R) output */
        float gv[N], want[N], want_grad[3][N];
        for (int j = 0; j < C; j++)
            for (int i = 0; i < R; i++) {
                int v = j * R + i, s = i * C + j; /* view index, storage index */
                gv[v] = g[s];
                double m = mu[s], l = lv[s], e = eps[s], sigma = exp(0.5 * l);
                want[v] = (float)(kl ? -0.5 * (1 + l - m * m - exp(l)) : m + sigma * e);
                want_grad[0][s] = (float)(kl ? g[s] * m : g[s]);
                want_grad[1][s] = (float)(kl ? 0.5 * g[s] * (exp(l) - 1) : 0.5 * g[s] * e * sigma);
                want_grad[2][s] = (float)(g[s] * sigma);
            }
        clg_tensor *gout = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, (int64_t[]){C, R}, gv);
        ck_assert_int_eq(clg_backward_with(out, gout), CLG_STATUS_OK);
        float *got = test_download(out);
        test_assert_close(got, want, N, tol, kl ? "kl forward" : "z forward");
        free(got);
        for (int i = 0; i < (kl ? 2 : 3); i++) {
            char what[32];
            snprintf(what, sizeof what, "%s grad%d", kl ? "kl" : "z", i);
            float *dx = test_download(clg_tensor_grad(in[i]));
            test_assert_close(dx, want_grad[i], N, tol, what);
            free(dx);
        }
        clg_step_end(ctx);
    }
    for (int i = 0; i < 3; i++)
        clg_tensor_destroy(in[i]);
    clg_context_destroy(ctx);
}
END_TEST

/* The lecture's term 0.5 sum_j (1 + log sigma_j^2 - mu_j^2 - sigma_j^2) by
 * hand, for mu = (0, 1, -2), sigma^2 = (1, 1, e): 0.5 (0 + (-1) + (1 - 4 - e))
 * = -(4 + e) / 2; clg_gaussian_kl with SUM is its negative, and 0 at the
 * prior itself (mu 0, logvar 0). MEAN divides by 3, NONE keeps the terms. */
START_TEST(test_gaussian_kl_lecture_formula)
{
    clg_context *ctx = test_context();
    const float mu[3] = {0, 1, -2}, lv[3] = {0, 0, 1}, zeros[3] = {0, 0, 0};
    clg_tensor *tm = test_tensor(ctx, 2, (int64_t[]){1, 3}, mu, false);
    clg_tensor *tl = test_tensor(ctx, 2, (int64_t[]){1, 3}, lv, false);
    clg_tensor *tz = test_tensor(ctx, 2, (int64_t[]){1, 3}, zeros, false);
    double lecture = 0.5 * ((1 + 0 - 0 - 1) + (1 + 0 - 1 - 1) + (1 + 1 - 4 - exp(1.0)));
    clg_step_begin(ctx);
    float sum, mean, prior;
    ck_assert_int_eq(clg_tensor_item(clg_gaussian_kl(tm, tl, CLG_REDUCTION_SUM), &sum), 0);
    ck_assert_int_eq(clg_tensor_item(clg_gaussian_kl(tm, tl, CLG_REDUCTION_MEAN), &mean), 0);
    ck_assert_int_eq(clg_tensor_item(clg_gaussian_kl(tz, tz, CLG_REDUCTION_SUM), &prior), 0);
    float *none = test_download(clg_gaussian_kl(tm, tl, CLG_REDUCTION_NONE));
    clg_step_end(ctx);
    ck_assert_msg(fabs(sum - -lecture) < 1e-5, "KL sum %.7f, want %.7f", (double)sum, -lecture);
    ck_assert_msg(fabs(mean - -lecture / 3) < 1e-5, "KL mean %.7f", (double)mean);
    ck_assert_msg(prior == 0.0f, "KL of the prior from itself is %g", (double)prior);
    ck_assert(none[0] == 0.0f && fabsf(none[1] - 0.5f) < 1e-6f);
    ck_assert(fabs(none[2] - (-0.5 * (2 - 4 - exp(1.0)))) < 1e-5);
    free(none);
    clg_tensor_destroy(tm);
    clg_tensor_destroy(tl);
    clg_tensor_destroy(tz);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_gaussian_gradcheck)
{
    clg_context *ctx = test_context();
    float mu[24], lv[24], eps[24];
    test_random(mu, 24, 5, -1.5f, 1.5f);
    test_random(lv, 24, 6, -2, 1);
    test_random(eps, 24, 7, -2, 2);
    clg_tensor *in[3] = {test_tensor(ctx, 3, (int64_t[]){2, 3, 4}, mu, true),
                         test_tensor(ctx, 3, (int64_t[]){2, 3, 4}, lv, true),
                         test_tensor(ctx, 3, (int64_t[]){2, 3, 4}, eps, true)};
    gauss_arg z = {false, CLG_REDUCTION_NONE, false};
    test_gradcheck(ctx, run_gauss, &z, 3, in, test_tol_get("gradcheck"));
    for (int r = 0; r < 3; r++) {
        gauss_arg kl = {true, (clg_reduction)r, false};
        test_gradcheck(ctx, run_gauss, &kl, 2, in, test_tol_get("gradcheck"));
    }
    for (int i = 0; i < 3; i++)
        clg_tensor_destroy(in[i]);
    clg_context_destroy(ctx);
}
END_TEST

/* Cases of tools/golden/gen_gaussian.py: reparameterize.<shape> and
 * kl_<reduction>.<shape>. */
START_TEST(test_gaussian_golden)
{
    static const char *const shapes[] = {"batch", "wide", "rank3"};
    clg_context *ctx = test_context();
    clg_safetensors *st = test_golden_open(ctx, "ops_gaussian");
    char name[64];
    for (int s = 0; s < 3; s++) {
        gauss_arg z = {false, CLG_REDUCTION_NONE, false};
        snprintf(name, sizeof name, "reparameterize.%s", shapes[s]);
        test_golden_case(ctx, st, name, run_gauss, &z, 3, 0, test_tol_get("golden"));
        for (int r = 0; r < 3; r++) {
            gauss_arg kl = {true, (clg_reduction)r, false};
            snprintf(name, sizeof name, "kl_%s.%s", reduction_names[r], shapes[s]);
            test_golden_case(ctx, st, name, run_gauss, &kl, 2, 0, test_tol_get("golden"));
        }
    }
    clg_safetensors_destroy(st);
    clg_context_destroy(ctx);
}
END_TEST

/* z = mu + sigma eps with eps from clg_randn: over 2e5 draws per latent the
 * sample mean is mu within 5 standard errors (5 sigma / sqrt(2e5)) and the
 * standard deviation sigma within 1%. */
START_TEST(test_gaussian_sampling_statistics)
{
    enum { DRAWS = 200000, LATENT = 2 };
    clg_context *ctx = test_context();
    const float mu[LATENT] = {1.5f, -0.5f}, lv[LATENT] = {0.0f, -1.2f};
    float *mus = malloc(DRAWS * LATENT * sizeof *mus), *lvs = malloc(DRAWS * LATENT * sizeof *lvs);
    for (int i = 0; i < DRAWS; i++)
        for (int j = 0; j < LATENT; j++) {
            mus[i * LATENT + j] = mu[j];
            lvs[i * LATENT + j] = lv[j];
        }
    const int64_t shape[2] = {DRAWS, LATENT};
    clg_tensor *tm = test_tensor(ctx, 2, shape, mus, false);
    clg_tensor *tl = test_tensor(ctx, 2, shape, lvs, false);
    clg_step_begin(ctx);
    clg_tensor *z = clg_reparameterize(tm, tl, clg_randn(ctx, 2, shape, 11, 0));
    ck_assert_msg(z != NULL, "%s", clg_context_error(ctx));
    float *v = test_download(z);
    clg_step_end(ctx);
    for (int j = 0; j < LATENT; j++) {
        double sum = 0, sum2 = 0, sigma = exp(0.5 * lv[j]);
        for (int i = 0; i < DRAWS; i++) {
            sum += v[i * LATENT + j];
            sum2 += (double)v[i * LATENT + j] * v[i * LATENT + j];
        }
        double mean = sum / DRAWS, sd = sqrt(sum2 / DRAWS - mean * mean);
        ck_assert_msg(fabs(mean - mu[j]) < 5 * sigma / sqrt(DRAWS), "latent %d: mean %.5f", j,
                      mean);
        ck_assert_msg(fabs(sd / sigma - 1) < 0.01, "latent %d: sd %.5f, want %.5f", j, sd, sigma);
    }
    free(v);
    free(mus);
    free(lvs);
    clg_tensor_destroy(tm);
    clg_tensor_destroy(tl);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_gaussian_bad_input)
{
    clg_context *ctx = test_context();
    clg_tensor *a = test_tensor(ctx, 2, (int64_t[]){2, 3}, NULL, false);
    clg_tensor *b = test_tensor(ctx, 2, (int64_t[]){3, 2}, NULL, false);
    clg_tensor *ids = clg_tensor_create(ctx, CLG_DTYPE_I32, 2, (int64_t[]){2, 3});
    test_expect_error(ctx, clg_reparameterize(a, a, b), CLG_STATUS_SHAPE,
                      "clg_reparameterize: shapes [2, 3], [2, 3] and [3, 2] differ (mu, logvar "
                      "and eps must have the same shape)");
    ck_assert_ptr_null(clg_gaussian_kl(a, b, CLG_REDUCTION_SUM));
    ck_assert_str_eq(clg_context_error(ctx), "clg_gaussian_kl: shapes [2, 3] and [3, 2] differ "
                                             "(mu and logvar must have the same shape)");
    clg_context_clear_error(ctx);
    test_expect_error(ctx, clg_gaussian_kl(a, a, (clg_reduction)7), CLG_STATUS_INVALID_ARGUMENT,
                      "clg_gaussian_kl: unknown reduction 7");
    ck_assert_ptr_null(clg_reparameterize(a, ids, a));
    ck_assert_msg(strstr(clg_context_error(ctx), "float32") != NULL, "%s", clg_context_error(ctx));
    clg_context_clear_error(ctx);
    ck_assert_ptr_null(clg_gaussian_kl(NULL, a, CLG_REDUCTION_SUM));
    ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_OK);
    clg_tensor_destroy(a);
    clg_tensor_destroy(b);
    clg_tensor_destroy(ids);
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_gaussian_host_reference,
                            test_gaussian_kl_lecture_formula,
                            test_gaussian_gradcheck,
                            test_gaussian_golden,
                            test_gaussian_sampling_statistics,
                            test_gaussian_bad_input,
                            NULL};
    return test_main("ops/gaussian", "gaussian", 0, tests);
}
