/* tests/nn/test_batchnorm.c: the batch normalisation layer (nn/batchnorm.c):
 * its parameters and buffers, nn.BatchNorm2d over three training steps and
 * an eval step against PyTorch, BatchNorm1d-style (N, C) use against the
 * host, and its errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

START_TEST(test_batchnorm_layer_params)
{
    clg_context *ctx = test_context();
    clg_batchnorm_layer *layer = clg_batchnorm_layer_create(ctx, 3, 0.1f, 1e-5f);
    ck_assert_msg(layer != NULL, "%s", clg_context_error(ctx));
    const clg_params *ps = clg_batchnorm_layer_params(layer);
    ck_assert_uint_eq(clg_params_count(ps), 4);
    const char *names[] = {"weight", "bias", "running_mean", "running_var"};
    const float init[] = {1, 0, 0, 1};
    for (size_t i = 0; i < 4; i++) {
        ck_assert_str_eq(clg_params_name(ps, i), names[i]);
        bool buffer = i >= 2;
        ck_assert(clg_params_is_buffer(ps, i) == buffer);
        clg_tensor *t = clg_params_tensor(ps, i);
        ck_assert(clg_tensor_requires_grad(t) == !buffer);
        ck_assert_int_eq(clg_tensor_rank(t), 1);
        ck_assert_int_eq(clg_tensor_dim(t, 0), 3);
        float *v = test_download(t);
        for (int c = 0; c < 3; c++)
            ck_assert_float_eq(v[c], init[i]);
        free(v);
    }
    clg_batchnorm_layer_destroy(layer);
    clg_batchnorm_layer_destroy(NULL);
    clg_context_destroy(ctx);
}
END_TEST

static const float *golden(const clg_safetensors *st, const char *name, size_t *n)
{
    int rank;
    const int64_t *shape;
    const void *data;
    ck_assert_msg(clg_safetensors_get(st, name, NULL, &rank, &shape, &data), "no %s", name);
    size_t count = 1;
    for (int d = 0; d < rank; d++)
        count *= (size_t)shape[d];
    if (n)
        *n = count;
    return data;
}

static void assert_tensor(const clg_safetensors *st, const char *name, const clg_tensor *t)
{
    size_t n;
    const float *want = golden(st, name, &n);
    ck_assert_uint_eq(n, (size_t)clg_tensor_numel(t));
    float *got = test_download(t);
    test_assert_close(got, want, n, test_tol_get("golden"), name);
    free(got);
}

/* nn.BatchNorm2d(5): each training step's output and weight and bias
 * gradients (loss = sum(out * gout), gradients zeroed first), the running
 * statistics after three steps, then an eval forward that uses them. */
START_TEST(test_batchnorm_layer_golden)
{
    clg_context *ctx = test_context();
    clg_safetensors *st = test_golden_open(ctx, "ops_batchnorm");
    clg_batchnorm_layer *layer = clg_batchnorm_layer_create(ctx, 5, 0.1f, 1e-5f);
    ck_assert_msg(layer != NULL, "%s", clg_context_error(ctx));
    clg_params *ps = (clg_params *)clg_batchnorm_layer_params(layer);
    const int64_t shape[4] = {2, 5, 3, 4};
    char name[64];
    for (int step = 0; step < 3; step++) {
        clg_step_begin(ctx);
        clg_params_zero_grad(ps);
        snprintf(name, sizeof name, "layer.x%d", step);
        clg_tensor *x = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 4, shape, golden(st, name, NULL));
        snprintf(name, sizeof name, "layer.gout%d", step);
        clg_tensor *gout =
            clg_tensor_from_host(ctx, CLG_DTYPE_F32, 4, shape, golden(st, name, NULL));
        clg_tensor *out = clg_batchnorm_layer_forward(layer, x, true);
        ck_assert_msg(out != NULL, "%s", clg_context_error(ctx));
        ck_assert_int_eq(clg_backward_with(out, gout), CLG_STATUS_OK);
        snprintf(name, sizeof name, "layer.out%d", step);
        assert_tensor(st, name, out);
        snprintf(name, sizeof name, "layer.dweight%d", step);
        assert_tensor(st, name, clg_tensor_grad(clg_params_find(ps, "weight")));
        snprintf(name, sizeof name, "layer.dbias%d", step);
        assert_tensor(st, name, clg_tensor_grad(clg_params_find(ps, "bias")));
        clg_step_end(ctx);
    }
    assert_tensor(st, "layer.running_mean", clg_params_find(ps, "running_mean"));
    assert_tensor(st, "layer.running_var", clg_params_find(ps, "running_var"));
    clg_step_begin(ctx);
    clg_tensor *x =
        clg_tensor_from_host(ctx, CLG_DTYPE_F32, 4, shape, golden(st, "layer.eval_x", NULL));
    clg_tensor *out = clg_batchnorm_layer_forward(layer, x, false);
    ck_assert_msg(out != NULL, "%s", clg_context_error(ctx));
    assert_tensor(st, "layer.eval_out", out);
    clg_step_end(ctx);
    /* eval left the running statistics alone */
    assert_tensor(st, "layer.running_mean", clg_params_find(ps, "running_mean"));
    clg_batchnorm_layer_destroy(layer);
    clg_safetensors_destroy(st);
    clg_context_destroy(ctx);
}
END_TEST

/* (N, C) input, as BatchNorm1d: a training step, then eval, against the
 * host with momentum 0.5 and eps 0.01 (so both visibly matter). */
START_TEST(test_batchnorm_layer_rank2_matches_host)
{
    clg_context *ctx = test_context();
    enum { N = 8, C = 3 };
    clg_batchnorm_layer *layer = clg_batchnorm_layer_create(ctx, C, 0.5f, 0.01f);
    ck_assert_msg(layer != NULL, "%s", clg_context_error(ctx));
    float x[N * C];
    test_random(x, N * C, 70, -1, 1);
    clg_tensor *tx = test_tensor(ctx, 2, (int64_t[]){N, C}, x, false);
    double mean[C] = {0}, var[C] = {0};
    for (int c = 0; c < C; c++) {
        for (int i = 0; i < N; i++)
            mean[c] += x[i * C + c] / (double)N;
        for (int i = 0; i < N; i++)
            var[c] += (x[i * C + c] - mean[c]) * (x[i * C + c] - mean[c]) / N;
    }
    float want[N * C];
    for (int training = 1; training >= 0; training--) {
        clg_step_begin(ctx);
        clg_tensor *out = clg_batchnorm_layer_forward(layer, tx, training);
        ck_assert_msg(out != NULL, "%s", clg_context_error(ctx));
        float *got = test_download(out);
        for (int i = 0; i < N; i++)
            for (int c = 0; c < C; c++) {
                /* eval: running mean 0.5 mean, running var 0.5 + 0.5 var N / (N - 1) */
                double m = training ? mean[c] : 0.5 * mean[c];
                double v = training ? var[c] : 0.5 + 0.5 * var[c] * N / (N - 1);
                want[i * C + c] = (float)((x[i * C + c] - m) / sqrt(v + 0.01));
            }
        test_assert_close(got, want, N * C, test_tol_get("reduction"),
                          training ? "training" : "eval");
        free(got);
        clg_step_end(ctx);
    }
    clg_tensor_destroy(tx);
    clg_batchnorm_layer_destroy(layer);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_batchnorm_layer_bad_input)
{
    clg_context *ctx = test_context();
    ck_assert_ptr_null(clg_batchnorm_layer_create(ctx, 0, 0.1f, 1e-5f));
    ck_assert_str_eq(clg_context_error(ctx),
                     "clg_batchnorm_layer_create: features 0 must be positive");
    clg_context_clear_error(ctx);
    ck_assert_ptr_null(clg_batchnorm_layer_create(ctx, 4, 1.5f, 1e-5f));
    ck_assert_str_eq(clg_context_error(ctx), "clg_batchnorm_layer_create: momentum 1.5 must be "
                                             "in [0, 1] and eps 1e-05 positive and finite");
    clg_context_clear_error(ctx);
    ck_assert_ptr_null(clg_batchnorm_layer_create(ctx, 4, 0.1f, 0.0f));
    ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_INVALID_ARGUMENT);
    clg_context_clear_error(ctx);

    clg_batchnorm_layer *layer = clg_batchnorm_layer_create(ctx, 4, 0.1f, 1e-5f);
    clg_tensor *x3 = test_tensor(ctx, 4, (int64_t[]){2, 3, 5, 5}, NULL, false);
    clg_tensor *r3 = test_tensor(ctx, 3, (int64_t[]){2, 4, 5}, NULL, false);
    clg_step_begin(ctx);
    test_expect_error(ctx, clg_batchnorm_layer_forward(layer, x3, true), CLG_STATUS_SHAPE,
                      "clg_batchnorm_layer_forward: input [2, 3, 5, 5] is not (N, 4) or "
                      "(N, 4, H, W) for a layer of 4 features");
    ck_assert_ptr_null(clg_batchnorm_layer_forward(layer, r3, false));
    ck_assert_str_eq(clg_context_error(ctx),
                     "clg_batchnorm_layer_forward: input [2, 4, 5] is not (N, 4) or "
                     "(N, 4, H, W) for a layer of 4 features");
    clg_context_clear_error(ctx);
    ck_assert_ptr_null(clg_batchnorm_layer_forward(layer, NULL, true));
    ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_OK);
    clg_step_end(ctx);
    clg_tensor_destroy(x3);
    clg_tensor_destroy(r3);
    clg_batchnorm_layer_destroy(layer);
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_batchnorm_layer_params, test_batchnorm_layer_golden,
                            test_batchnorm_layer_rank2_matches_host, test_batchnorm_layer_bad_input,
                            NULL};
    return test_main("nn/batchnorm", "batchnorm", 0, tests);
}
