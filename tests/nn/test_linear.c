/* tests/nn/test_linear.c: the fully connected layer (nn/linear.c) against a
 * naive host loop, finite differences for x, W and b, and PyTorch's
 * F.linear with the same weights; its initialisation and its errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "support.h"

/* y = x W^T + b and, for an upstream gradient g (N, out): dx = g W,
 * dW = g^T x, db = sum over rows of g. */
static void host_linear(const float *x, const float *w, const float *b, const float *g, int n,
                        int in, int out, float *y, float *dx, float *dw, float *db)
{
    for (int r = 0; r < n; r++)
        for (int o = 0; o < out; o++) {
            double s = b ? b[o] : 0;
            for (int k = 0; k < in; k++)
                s += (double)x[r * in + k] * w[o * in + k];
            y[r * out + o] = (float)s;
        }
    for (int r = 0; r < n; r++)
        for (int k = 0; k < in; k++) {
            double s = 0;
            for (int o = 0; o < out; o++)
                s += (double)g[r * out + o] * w[o * in + k];
            dx[r * in + k] = (float)s;
        }
    for (int o = 0; o < out; o++) {
        for (int k = 0; k < in; k++) {
            double s = 0;
            for (int r = 0; r < n; r++)
                s += (double)g[r * out + o] * x[r * in + k];
            dw[o * in + k] = (float)s;
        }
        double s = 0;
        for (int r = 0; r < n; r++)
            s += g[r * out + o];
        db[o] = (float)s;
    }
}

START_TEST(test_linear_matches_host)
{
    clg_context *ctx = test_context();
    enum { N = 6, IN = 5, OUT = 3 };
    const test_tol *tol = test_tol_get("gemm");
    for (int with_bias = 0; with_bias < 2; with_bias++) {
        clg_linear *layer = clg_linear_create(ctx, IN, OUT, with_bias, 7);
        ck_assert_msg(layer != NULL, "%s", clg_context_error(ctx));
        float x[N * IN], g[N * OUT];
        test_random(x, N * IN, 1, -2, 2);
        test_random(g, N * OUT, 2, -1, 1);
        clg_tensor *tx = test_tensor(ctx, 2, (int64_t[]){N, IN}, x, true);
        float *w = test_download(clg_linear_weight(layer));
        float *b = with_bias ? test_download(clg_linear_bias(layer)) : NULL;

        clg_step_begin(ctx);
        clg_tensor *y = clg_linear_forward(layer, tx);
        ck_assert_msg(y != NULL, "%s", clg_context_error(ctx));
        ck_assert_int_eq(clg_tensor_rank(y), 2);
        ck_assert_int_eq(clg_tensor_dim(y, 0), N);
        ck_assert_int_eq(clg_tensor_dim(y, 1), OUT);
        clg_tensor *tg = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, (int64_t[]){N, OUT}, g);
        ck_assert_int_eq(clg_backward_with(y, tg), CLG_STATUS_OK);
        float want_y[N * OUT], dx[N * IN], dw[OUT * IN], db[OUT];
        host_linear(x, w, b, g, N, IN, OUT, want_y, dx, dw, db);
        float *got = test_download(y);
        test_assert_close(got, want_y, N * OUT, tol, "y");
        free(got);
        got = test_download(clg_tensor_grad(tx));
        test_assert_close(got, dx, N * IN, tol, "dx");
        free(got);
        got = test_download(clg_tensor_grad(clg_linear_weight(layer)));
        test_assert_close(got, dw, OUT * IN, tol, "dW");
        free(got);
        if (with_bias) {
            got = test_download(clg_tensor_grad(clg_linear_bias(layer)));
            test_assert_close(got, db, OUT, tol, "db");
            free(got);
        }
        clg_step_end(ctx);
        free(w);
        free(b);
        clg_tensor_destroy(tx);
        clg_linear_destroy(layer);
    }
    clg_context_destroy(ctx);
}
END_TEST

static clg_tensor *run_linear(clg_tensor *const *in, const void *arg)
{
    /* in[1], in[2] are the layer's own W and b: gradcheck perturbs them */
    return clg_linear_forward((clg_linear *)(uintptr_t)arg, in[0]);
}

START_TEST(test_linear_gradcheck)
{
    clg_context *ctx = test_context();
    clg_linear *layer = clg_linear_create(ctx, 4, 3, true, 3);
    float x[5 * 4];
    test_random(x, 20, 4, -1, 1);
    clg_tensor *tx = test_tensor(ctx, 2, (int64_t[]){5, 4}, x, true);
    clg_tensor *inputs[3] = {tx, clg_linear_weight(layer), clg_linear_bias(layer)};
    test_gradcheck(ctx, run_linear, (const void *)layer, 3, inputs, test_tol_get("gradcheck"));
    clg_tensor_destroy(tx);
    clg_linear_destroy(layer);
    clg_context_destroy(ctx);
}
END_TEST

static const float *golden(const clg_safetensors *st, const char *name, int *rank,
                           const int64_t **shape)
{
    const void *data = NULL;
    ck_assert_msg(clg_safetensors_get(st, name, NULL, rank, shape, &data), "fixture lacks %s",
                  name);
    return data;
}

static void check_grad(const clg_safetensors *st, const char *case_name, int input,
                       const clg_tensor *t)
{
    char name[128];
    snprintf(name, sizeof name, "%s.grad%d", case_name, input);
    int rank;
    const int64_t *shape;
    const float *want = golden(st, name, &rank, &shape);
    ck_assert_ptr_nonnull(clg_tensor_grad(t));
    float *got = test_download(clg_tensor_grad(t));
    test_assert_close(got, want, (size_t)clg_tensor_numel(t), test_tol_get("golden"), name);
    free(got);
}

/* tools/golden/gen_nn_linear.py: F.linear with given x, W (and b). */
START_TEST(test_linear_golden)
{
    clg_context *ctx = test_context();
    clg_safetensors *st = test_golden_open(ctx, "nn_linear");
    const char *sizes[] = {"small", "wide", "row"};
    for (size_t s = 0; s < 3; s++)
        for (int with_bias = 0; with_bias < 2; with_bias++) {
            char case_name[64], name[128];
            snprintf(case_name, sizeof case_name, "%s.%s", sizes[s], with_bias ? "bias" : "nobias");
            int rank;
            const int64_t *x_shape, *w_shape, *shape;
            snprintf(name, sizeof name, "%s.in0", case_name);
            const float *x = golden(st, name, &rank, &x_shape);
            snprintf(name, sizeof name, "%s.in1", case_name);
            const float *w = golden(st, name, &rank, &w_shape);
            clg_linear *layer = clg_linear_create(ctx, w_shape[1], w_shape[0], with_bias, 1);
            ck_assert_msg(layer != NULL, "%s", clg_context_error(ctx));
            clg_tensor *weight = clg_linear_weight(layer), *bias = clg_linear_bias(layer);
            ck_assert_int_eq(clg_tensor_upload(weight, w, (size_t)clg_tensor_numel(weight)),
                             CLG_STATUS_OK);
            if (with_bias) {
                snprintf(name, sizeof name, "%s.in2", case_name);
                const float *b = golden(st, name, &rank, &shape);
                ck_assert_int_eq(clg_tensor_upload(bias, b, (size_t)clg_tensor_numel(bias)),
                                 CLG_STATUS_OK);
            }
            clg_tensor *tx = test_tensor(ctx, 2, x_shape, x, true);

            clg_step_begin(ctx);
            clg_tensor *y = clg_linear_forward(layer, tx);
            ck_assert_msg(y != NULL, "%s: %s", case_name, clg_context_error(ctx));
            snprintf(name, sizeof name, "%s.out", case_name);
            const float *want = golden(st, name, &rank, &shape);
            ck_assert_int_eq(clg_tensor_dim(y, 0), shape[0]);
            ck_assert_int_eq(clg_tensor_dim(y, 1), shape[1]);
            float *got = test_download(y);
            test_assert_close(got, want, (size_t)clg_tensor_numel(y), test_tol_get("golden"), name);
            free(got);
            snprintf(name, sizeof name, "%s.gout", case_name);
            const float *gout = golden(st, name, &rank, &shape);
            clg_tensor *tg = clg_tensor_from_host(ctx, CLG_DTYPE_F32, rank, shape, gout);
            ck_assert_int_eq(clg_backward_with(y, tg), CLG_STATUS_OK);
            check_grad(st, case_name, 0, tx);
            check_grad(st, case_name, 1, weight);
            if (with_bias)
                check_grad(st, case_name, 2, bias);
            clg_step_end(ctx);
            clg_tensor_destroy(tx);
            clg_linear_destroy(layer);
        }
    clg_safetensors_destroy(st);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_linear_init)
{
    clg_context *ctx = test_context();
    enum { IN = 50, OUT = 40 };
    clg_linear *a = clg_linear_create(ctx, IN, OUT, true, 9);
    clg_linear *b = clg_linear_create(ctx, IN, OUT, true, 9);
    clg_linear *c = clg_linear_create(ctx, IN, OUT, true, 10);
    const clg_params *ps = clg_linear_params(a);
    ck_assert_int_eq(clg_params_count(ps), 2);
    ck_assert_str_eq(clg_params_name(ps, 0), "weight");
    ck_assert_str_eq(clg_params_name(ps, 1), "bias");
    ck_assert_ptr_eq(clg_params_find(ps, "weight"), clg_linear_weight(a));
    ck_assert_ptr_eq(clg_params_find(ps, "bias"), clg_linear_bias(a));
    ck_assert_int_eq(clg_tensor_dim(clg_linear_weight(a), 0), OUT);
    ck_assert_int_eq(clg_tensor_dim(clg_linear_weight(a), 1), IN);
    ck_assert_int_eq(clg_tensor_rank(clg_linear_bias(a)), 1);
    ck_assert_int_eq(clg_tensor_dim(clg_linear_bias(a), 0), OUT);
    ck_assert(clg_tensor_requires_grad(clg_linear_weight(a)));

    float *wa = test_download(clg_linear_weight(a)), *ba = test_download(clg_linear_bias(a));
    float *wb = test_download(clg_linear_weight(b)), *bb = test_download(clg_linear_bias(b));
    float *wc = test_download(clg_linear_weight(c));
    test_assert_close(wb, wa, IN * OUT, test_tol_get("exact"), "same seed, weight");
    test_assert_close(bb, ba, OUT, test_tol_get("exact"), "same seed, bias");
    /* PyTorch's bound 1/sqrt(in) for both, reached by 2000 weights */
    double bound = 1.0 / sqrt(IN), wmax = 0;
    int same_seed_other = 0, bias_repeats_weight = 0;
    for (int i = 0; i < IN * OUT; i++) {
        ck_assert_msg(fabs(wa[i]) <= bound, "weight[%d] = %g beyond %g", i, (double)wa[i], bound);
        wmax = fmax(wmax, fabs(wa[i]));
        same_seed_other += wa[i] == wc[i];
    }
    ck_assert_msg(wmax > 0.99 * bound, "max |weight| %g, bound %g", wmax, bound);
    ck_assert_int_le(same_seed_other, 2);
    for (int o = 0; o < OUT; o++) {
        ck_assert(fabs(ba[o]) <= bound);
        bias_repeats_weight += ba[o] == wa[o];
    }
    /* distinct streams: the bias is not the weight's first draws again */
    ck_assert_int_le(bias_repeats_weight, 1);
    /* the weight is clg_init_uniform(-bound, bound, seed) */
    clg_tensor *t = test_tensor(ctx, 2, (int64_t[]){OUT, IN}, NULL, false);
    ck_assert_int_eq(clg_init_uniform(t, (float)-bound, (float)bound, 9), CLG_STATUS_OK);
    float *wi = test_download(t);
    test_assert_close(wi, wa, IN * OUT, test_tol_get("exact"), "clg_init_uniform");
    free(wi);
    clg_tensor_destroy(t);

    clg_linear *nobias = clg_linear_create(ctx, IN, OUT, false, 9);
    ck_assert_ptr_null(clg_linear_bias(nobias));
    ck_assert_int_eq(clg_params_count(clg_linear_params(nobias)), 1);
    ck_assert_ptr_null(clg_params_find(clg_linear_params(nobias), "bias"));
    free(wa);
    free(ba);
    free(wb);
    free(bb);
    free(wc);
    clg_linear_destroy(a);
    clg_linear_destroy(b);
    clg_linear_destroy(c);
    clg_linear_destroy(nobias);
    clg_linear_destroy(NULL);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_linear_bad_input)
{
    clg_context *ctx = test_context();
    clg_linear *layer = clg_linear_create(ctx, 5, 3, true, 1);
    clg_tensor *x = test_tensor(ctx, 2, (int64_t[]){4, 6}, NULL, false);
    clg_step_begin(ctx);
    test_expect_error(ctx, clg_linear_forward(layer, x), CLG_STATUS_SHAPE,
                      "clg_linear_forward: input shape [4, 6] does not fit "
                      "(N, 5) for a layer of weight [3, 5]");
    ck_assert_ptr_null(clg_linear_forward(layer, NULL)); /* an earlier op failed */
    ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_OK);
    clg_step_end(ctx);
    test_expect_error(ctx, clg_linear_create(ctx, 0, 3, true, 1), CLG_STATUS_INVALID_ARGUMENT,
                      "clg_linear_create: in_features 0 and out_features 3 must be positive");
    clg_tensor_destroy(x);
    clg_linear_destroy(layer);
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_linear_matches_host, test_linear_gradcheck, test_linear_golden,
                            test_linear_init,         test_linear_bad_input, NULL};
    return test_main("nn/linear", "linear", 0, tests);
}
