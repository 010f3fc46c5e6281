/* tests/nn/test_conv2d.c: the convolution layer (nn/conv2d.c): its
 * initialisation (PyTorch's bound, the seed's streams), its forward and
 * gradients against PyTorch's F.conv2d with the same weights (the ops_conv
 * fixture), finite differences through the layer, and its errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "support.h"

static clg_tensor *param(const clg_conv2d_layer *layer, const char *name)
{
    clg_tensor *t = clg_params_find(clg_conv2d_layer_params(layer), name);
    ck_assert_msg(t != NULL, "the layer has no %s", name);
    return t;
}

START_TEST(test_conv2d_layer_init)
{
    clg_context *ctx = test_context();
    enum { IN = 3, OUT = 16, KH = 5, KW = 3, NW = OUT * IN * KH * KW };
    clg_conv2d_layer *a = clg_conv2d_layer_create(ctx, IN, OUT, KH, KW, NULL, true, 9);
    clg_conv2d_layer *b = clg_conv2d_layer_create(ctx, IN, OUT, KH, KW, NULL, true, 9);
    clg_conv2d_layer *c = clg_conv2d_layer_create(ctx, IN, OUT, KH, KW, NULL, true, 10);
    ck_assert_msg(a && b && c, "%s", clg_context_error(ctx));
    const clg_params *ps = clg_conv2d_layer_params(a);
    ck_assert_int_eq(clg_params_count(ps), 2);
    ck_assert_str_eq(clg_params_name(ps, 0), "weight");
    ck_assert_str_eq(clg_params_name(ps, 1), "bias");
    clg_tensor *w = param(a, "weight"), *bias = param(a, "bias");
    ck_assert_int_eq(clg_tensor_rank(w), 4);
    ck_assert_int_eq(clg_tensor_dim(w, 0), OUT);
    ck_assert_int_eq(clg_tensor_dim(w, 1), IN);
    ck_assert_int_eq(clg_tensor_dim(w, 2), KH);
    ck_assert_int_eq(clg_tensor_dim(w, 3), KW);
    ck_assert_int_eq(clg_tensor_rank(bias), 1);
    ck_assert_int_eq(clg_tensor_dim(bias, 0), OUT);
    ck_assert(clg_tensor_requires_grad(w) && clg_tensor_requires_grad(bias));

    float *wa = test_download(w), *ba = test_download(bias);
    float *wb = test_download(param(b, "weight")), *bb = test_download(param(b, "bias"));
    float *wc = test_download(param(c, "weight"));
    test_assert_close(wb, wa, NW, test_tol_get("exact"), "same seed, weight");
    test_assert_close(bb, ba, OUT, test_tol_get("exact"), "same seed, bias");
    /* PyTorch's bound 1/sqrt(fan_in), fan_in = in kh kw, for both */
    double bound = 1.0 / sqrt(IN * KH * KW), wmax = 0;
    int other_seed_same = 0, bias_repeats_weight = 0;
    for (int i = 0; i < NW; i++) {
        ck_assert_msg(fabs(wa[i]) <= bound, "weight[%d] = %g beyond %g", i, (double)wa[i], bound);
        wmax = fmax(wmax, fabs(wa[i]));
        other_seed_same += wa[i] == wc[i];
    }
    ck_assert_msg(wmax > 0.98 * bound, "max |weight| %g, bound %g", wmax, bound);
    ck_assert_int_le(other_seed_same, 2);
    for (int o = 0; o < OUT; o++) {
        ck_assert(fabs(ba[o]) <= bound);
        bias_repeats_weight += ba[o] == wa[o];
    }
    ck_assert_int_le(bias_repeats_weight, 1); /* distinct streams */
    /* the weight is clg_init_uniform(-bound, bound, seed) */
    clg_tensor *t = test_tensor(ctx, 4, (int64_t[]){OUT, IN, KH, KW}, NULL, false);
    ck_assert_int_eq(clg_init_uniform(t, (float)-bound, (float)bound, 9), CLG_STATUS_OK);
    float *wi = test_download(t);
    test_assert_close(wi, wa, NW, test_tol_get("exact"), "clg_init_uniform");
    free(wi);
    clg_tensor_destroy(t);

    clg_conv2d_layer *nobias = clg_conv2d_layer_create(ctx, IN, OUT, KH, KW, NULL, false, 9);
    ck_assert_int_eq(clg_params_count(clg_conv2d_layer_params(nobias)), 1);
    ck_assert_ptr_null(clg_params_find(clg_conv2d_layer_params(nobias), "bias"));
    free(wa);
    free(ba);
    free(wb);
    free(bb);
    free(wc);
    clg_conv2d_layer_destroy(a);
    clg_conv2d_layer_destroy(b);
    clg_conv2d_layer_destroy(c);
    clg_conv2d_layer_destroy(nobias);
    clg_conv2d_layer_destroy(NULL);
    clg_context_destroy(ctx);
}
END_TEST

static const void *golden(const clg_safetensors *st, const char *case_name, const char *what,
                          int *rank, const int64_t **shape)
{
    char name[128];
    snprintf(name, sizeof name, "%s.%s", case_name, what);
    const void *data = NULL;
    if (!clg_safetensors_get(st, name, NULL, rank, shape, &data))
        return NULL;
    return data;
}

static void check_grad(const clg_safetensors *st, const char *case_name, const char *what,
                       const clg_tensor *t)
{
    int rank;
    const int64_t *shape;
    const float *want = golden(st, case_name, what, &rank, &shape);
    ck_assert_msg(want && clg_tensor_grad(t), "%s.%s", case_name, what);
    float *got = test_download(clg_tensor_grad(t));
    char name[128];
    snprintf(name, sizeof name, "%s.%s", case_name, what);
    test_assert_close(got, want, (size_t)clg_tensor_numel(t), test_tol_get("golden"), name);
    free(got);
}

/* The layer with PyTorch's weights loaded gives F.conv2d's output and
 * gradients (tools/golden/gen_ops_conv.py). */
START_TEST(test_conv2d_layer_golden)
{
    clg_context *ctx = test_context();
    clg_safetensors *st = test_golden_open(ctx, "ops_conv");
    const char *cases[] = {"basic", "stride2_pad2", "dilation2", "pointwise", "lenet", "mixed"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rank;
        const int64_t *x_shape, *w_shape, *shape;
        const float *x = golden(st, cases[i], "in0", &rank, &x_shape);
        const float *w = golden(st, cases[i], "in1", &rank, &w_shape);
        const float *b = golden(st, cases[i], "in2", &rank, &shape);
        const int32_t *v = golden(st, cases[i], "params", &rank, &shape);
        ck_assert(x && w && v);
        clg_conv2d_params p = {v[0], v[1], v[2], v[3], v[4], v[5]};
        clg_conv2d_layer *layer = clg_conv2d_layer_create(
            ctx, w_shape[1], w_shape[0], (int)w_shape[2], (int)w_shape[3], &p, b != NULL, 1);
        ck_assert_msg(layer != NULL, "%s", clg_context_error(ctx));
        clg_tensor *weight = param(layer, "weight");
        ck_assert_int_eq(clg_tensor_upload(weight, w, (size_t)clg_tensor_numel(weight)),
                         CLG_STATUS_OK);
        if (b)
            ck_assert_int_eq(clg_tensor_upload(param(layer, "bias"), b, (size_t)w_shape[0]),
                             CLG_STATUS_OK);
        clg_tensor *tx = test_tensor(ctx, 4, x_shape, x, true);

        clg_step_begin(ctx);
        clg_tensor *y = clg_conv2d_layer_forward(layer, tx);
        ck_assert_msg(y != NULL, "%s: %s", cases[i], clg_context_error(ctx));
        const float *want = golden(st, cases[i], "out", &rank, &shape);
        ck_assert_int_eq(rank, 4);
        for (int d = 0; d < 4; d++)
            ck_assert_int_eq(clg_tensor_dim(y, d), shape[d]);
        float *got = test_download(y);
        test_assert_close(got, want, (size_t)clg_tensor_numel(y), test_tol_get("golden"), cases[i]);
        free(got);
        const float *gout = golden(st, cases[i], "gout", &rank, &shape);
        clg_tensor *tg = clg_tensor_from_host(ctx, CLG_DTYPE_F32, rank, shape, gout);
        ck_assert_int_eq(clg_backward_with(y, tg), CLG_STATUS_OK);
        check_grad(st, cases[i], "grad0", tx);
        check_grad(st, cases[i], "grad1", weight);
        if (b)
            check_grad(st, cases[i], "grad2", param(layer, "bias"));
        clg_step_end(ctx);
        clg_tensor_destroy(tx);
        clg_conv2d_layer_destroy(layer);
    }
    clg_safetensors_destroy(st);
    clg_context_destroy(ctx);
}
END_TEST

static clg_tensor *run_layer(clg_tensor *const *in, const void *arg)
{
    /* in[1], in[2] are the layer's own weight and bias: gradcheck perturbs them */
    return clg_conv2d_layer_forward((clg_conv2d_layer *)(uintptr_t)arg, in[0]);
}

START_TEST(test_conv2d_layer_gradcheck)
{
    clg_context *ctx = test_context();
    clg_conv2d_params p = clg_conv2d_params_default();
    p.stride_w = 2;
    p.pad_h = 2;
    clg_conv2d_layer *layer = clg_conv2d_layer_create(ctx, 3, 2, 2, 3, &p, true, 5);
    ck_assert_msg(layer != NULL, "%s", clg_context_error(ctx));
    float x[1 * 3 * 4 * 5];
    test_random(x, sizeof x / sizeof x[0], 6, -1, 1);
    clg_tensor *tx = test_tensor(ctx, 4, (int64_t[]){1, 3, 4, 5}, x, true);
    clg_tensor *inputs[3] = {tx, param(layer, "weight"), param(layer, "bias")};
    test_gradcheck(ctx, run_layer, (const void *)layer, 3, inputs, test_tol_get("gradcheck"));
    clg_tensor_destroy(tx);
    clg_conv2d_layer_destroy(layer);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_conv2d_layer_bad_input)
{
    clg_context *ctx = test_context();
    test_expect_error(ctx, clg_conv2d_layer_create(ctx, 3, 0, 5, 5, NULL, true, 1),
                      CLG_STATUS_INVALID_ARGUMENT,
                      "clg_conv2d_layer_create: in_channels 3, "
                      "out_channels 0 and kernel 5x5 must be positive");
    ck_assert_ptr_null(clg_conv2d_layer_create(ctx, 1, 6, 5, -1, NULL, true, 1));
    ck_assert_str_eq(clg_context_error(ctx), "clg_conv2d_layer_create: in_channels 1, "
                                             "out_channels 6 and kernel 5x-1 must be positive");
    clg_context_clear_error(ctx);
    /* a channel mismatch in forward is clg_conv2d's error, naming both shapes */
    clg_conv2d_layer *layer = clg_conv2d_layer_create(ctx, 1, 6, 5, 5, NULL, true, 1);
    clg_tensor *x = test_tensor(ctx, 4, (int64_t[]){2, 3, 28, 28}, NULL, false);
    clg_step_begin(ctx);
    test_expect_error(ctx, clg_conv2d_layer_forward(layer, x), CLG_STATUS_SHAPE,
                      "clg_conv2d: input [2, 3, 28, 28] has 3 channels "
                      "but weight [6, 1, 5, 5] expects 1");
    ck_assert_ptr_null(clg_conv2d_layer_forward(layer, NULL)); /* an earlier op failed */
    ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_OK);
    clg_step_end(ctx);
    clg_tensor_destroy(x);
    clg_conv2d_layer_destroy(layer);
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_conv2d_layer_init, test_conv2d_layer_golden,
                            test_conv2d_layer_gradcheck, test_conv2d_layer_bad_input, NULL};
    return test_main("nn/conv2d", "conv2d", 0, tests);
}
