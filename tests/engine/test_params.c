/* tests/engine/test_params.c: named parameter lists (engine/params.c): insertion
 * order, lookup, prefixed extension, duplicate names, zero_grad, and the
 * two counts (entries, and elements without buffers). */
#include <stdlib.h>
#include <string.h>

#include "support.h"

START_TEST(test_params_add_find)
{
    clg_context *ctx = test_context();
    clg_tensor *w = test_tensor(ctx, 2, (int64_t[]){3, 2}, NULL, false);
    clg_tensor *b = test_tensor(ctx, 1, (int64_t[]){3}, NULL, false);
    clg_params *ps = clg_params_create(ctx);
    ck_assert_ptr_nonnull(ps);
    ck_assert_int_eq(clg_params_count(ps), 0);
    ck_assert_int_eq(clg_params_numel(ps), 0);
    ck_assert_int_eq(clg_params_add(ps, "weight", w), CLG_STATUS_OK);
    ck_assert_int_eq(clg_params_add(ps, "bias", b), CLG_STATUS_OK);
    /* count is entries, numel elements */
    ck_assert_int_eq(clg_params_count(ps), 2);
    ck_assert_int_eq(clg_params_numel(ps), 3 * 2 + 3);
    /* insertion order, names copied */
    ck_assert_str_eq(clg_params_name(ps, 0), "weight");
    ck_assert_str_eq(clg_params_name(ps, 1), "bias");
    ck_assert_ptr_eq(clg_params_tensor(ps, 0), w);
    ck_assert_ptr_eq(clg_params_tensor(ps, 1), b);
    ck_assert_ptr_null(clg_params_name(ps, 2));
    ck_assert_ptr_null(clg_params_tensor(ps, 2));
    ck_assert_ptr_eq(clg_params_find(ps, "bias"), b);
    ck_assert_ptr_eq(clg_params_find(ps, "weight"), w);
    ck_assert_ptr_null(clg_params_find(ps, "weigh"));
    /* adding marks a tensor as wanting a gradient */
    ck_assert(clg_tensor_requires_grad(w));
    ck_assert(clg_tensor_requires_grad(b));
    clg_params_destroy(ps);
    /* the list borrows its tensors: they are still usable */
    float *values = test_download(w);
    free(values);
    clg_tensor_destroy(w);
    clg_tensor_destroy(b);
    clg_params_destroy(NULL);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_params_duplicate_name)
{
    clg_context *ctx = test_context();
    clg_tensor *a = test_tensor(ctx, 1, (int64_t[]){2}, NULL, false);
    clg_tensor *b = test_tensor(ctx, 1, (int64_t[]){2}, NULL, false);
    clg_params *ps = clg_params_create(ctx);
    ck_assert_int_eq(clg_params_add(ps, "fc.weight", a), CLG_STATUS_OK);
    ck_assert_int_eq(clg_params_add(ps, "fc.weight", b), CLG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_INVALID_ARGUMENT);
    ck_assert_str_eq(clg_context_error(ctx),
                     "clg_params_add: a parameter named \"fc.weight\" is already there");
    ck_assert_int_eq(clg_params_count(ps), 1);
    ck_assert_ptr_eq(clg_params_find(ps, "fc.weight"), a);
    clg_context_clear_error(ctx);

    /* a step tensor cannot be a parameter: it dies with the step */
    clg_step_begin(ctx);
    clg_tensor *step = clg_tensor_full(ctx, 1, (int64_t[]){2}, 1.0f);
    ck_assert_int_eq(clg_params_add(ps, "step", step), CLG_STATUS_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(clg_context_error(ctx), "\"step\""));
    clg_step_end(ctx);
    clg_context_clear_error(ctx);
    ck_assert_int_eq(clg_params_count(ps), 1);

    clg_params_destroy(ps);
    clg_tensor_destroy(a);
    clg_tensor_destroy(b);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_params_extend_prefix)
{
    clg_context *ctx = test_context();
    clg_tensor *w1 = test_tensor(ctx, 2, (int64_t[]){2, 2}, NULL, false);
    clg_tensor *b1 = test_tensor(ctx, 1, (int64_t[]){2}, NULL, false);
    clg_tensor *w2 = test_tensor(ctx, 2, (int64_t[]){1, 2}, NULL, false);
    clg_params *layer1 = clg_params_create(ctx), *layer2 = clg_params_create(ctx);
    clg_params_add(layer1, "weight", w1);
    clg_params_add(layer1, "bias", b1);
    clg_params_add(layer2, "weight", w2);
    clg_params *model = clg_params_create(ctx);
    ck_assert_int_eq(clg_params_extend(model, "fc1.", layer1), CLG_STATUS_OK);
    ck_assert_int_eq(clg_params_extend(model, "fc2.", layer2), CLG_STATUS_OK);
    ck_assert_int_eq(clg_params_count(model), 3);
    ck_assert_str_eq(clg_params_name(model, 0), "fc1.weight");
    ck_assert_str_eq(clg_params_name(model, 1), "fc1.bias");
    ck_assert_str_eq(clg_params_name(model, 2), "fc2.weight");
    ck_assert_ptr_eq(clg_params_find(model, "fc1.bias"), b1);
    ck_assert_ptr_eq(clg_params_find(model, "fc2.weight"), w2);
    ck_assert_ptr_null(clg_params_find(model, "weight"));
    /* the same prefix twice collides on the first name */
    ck_assert_int_eq(clg_params_extend(model, "fc1.", layer1), CLG_STATUS_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(clg_context_error(ctx), "fc1.weight"));
    clg_context_clear_error(ctx);
    /* a NULL prefix keeps the names */
    clg_params *flat = clg_params_create(ctx);
    ck_assert_int_eq(clg_params_extend(flat, NULL, layer1), CLG_STATUS_OK);
    ck_assert_str_eq(clg_params_name(flat, 1), "bias");
    clg_params_destroy(flat);
    clg_params_destroy(model);
    clg_params_destroy(layer1);
    clg_params_destroy(layer2);
    clg_tensor_destroy(w1);
    clg_tensor_destroy(b1);
    clg_tensor_destroy(w2);
    clg_context_destroy(ctx);
}
END_TEST

/* d sum(p * G) / dp = G, through clg_backward_with(p * G, ones). */
static void backward_with_gradient(clg_context *ctx, clg_tensor *p, const float *g)
{
    int64_t shape[1] = {clg_tensor_numel(p)};
    clg_tensor *tg = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 1, shape, g);
    clg_tensor *out = clg_mul(p, tg);
    clg_tensor *ones = clg_tensor_full(ctx, 1, shape, 1.0f);
    ck_assert_msg(out && ones && clg_backward_with(out, ones) == CLG_STATUS_OK, "%s",
                  clg_context_error(ctx));
}

START_TEST(test_params_zero_grad)
{
    clg_context *ctx = test_context();
    const float pv[3] = {1, 2, 3}, g[3] = {0.5f, -1, 2};
    clg_tensor *a = test_tensor(ctx, 1, (int64_t[]){3}, pv, false);
    clg_tensor *b = test_tensor(ctx, 1, (int64_t[]){3}, pv, false);
    clg_params *ps = clg_params_create(ctx);
    clg_params_add(ps, "a", a);
    clg_params_add(ps, "b", b);
    ck_assert_ptr_null(clg_tensor_grad(a));
    for (int round = 0; round < 2; round++) {
        for (int which = 0; which < 2; which++) { /* one tape walk per step */
            clg_step_begin(ctx);
            backward_with_gradient(ctx, which == 0 ? a : b, g);
            clg_step_end(ctx);
        }
        ck_assert_ptr_nonnull(clg_tensor_grad(a));
        ck_assert_ptr_nonnull(clg_tensor_grad(b));
        /* zero_grad between rounds: the gradient is G again, not 2 G */
        float *ga = test_download(clg_tensor_grad(a));
        test_assert_close(ga, g, 3, test_tol_get("exact"), "grad a");
        free(ga);
        clg_params_zero_grad(ps);
        ck_assert_ptr_null(clg_tensor_grad(a));
        ck_assert_ptr_null(clg_tensor_grad(b));
    }
    clg_params_destroy(ps);
    clg_tensor_destroy(a);
    clg_tensor_destroy(b);
    clg_context_destroy(ctx);
}
END_TEST

/* Buffers (running statistics) are saved but never trained: no gradient,
 * kept as buffers through extend, and an optimizer leaves them alone. */
START_TEST(test_params_buffers)
{
    clg_context *ctx = test_context();
    clg_tensor *w = test_tensor(ctx, 1, (int64_t[]){2}, (float[]){1, 2}, false);
    clg_tensor *running = test_tensor(ctx, 1, (int64_t[]){2}, (float[]){5, 6}, false);
    clg_params *inner = clg_params_create(ctx);
    ck_assert_int_eq(clg_params_add(inner, "weight", w), CLG_STATUS_OK);
    ck_assert_int_eq(clg_params_add_buffer(inner, "running_mean", running), CLG_STATUS_OK);
    ck_assert(!clg_tensor_requires_grad(running));
    ck_assert(!clg_params_is_buffer(inner, 0));
    ck_assert(clg_params_is_buffer(inner, 1));
    ck_assert(!clg_params_is_buffer(inner, 2));
    /* as sum(p.numel() for p in model.parameters()): buffers left out */
    ck_assert_int_eq(clg_params_numel(inner), 2);
    clg_params *outer = clg_params_create(ctx);
    ck_assert_int_eq(clg_params_extend(outer, "bn.", inner), CLG_STATUS_OK);
    ck_assert(clg_params_is_buffer(outer, 1));
    ck_assert_str_eq(clg_params_name(outer, 1), "bn.running_mean");

    clg_optim_options o = clg_optim_options_default(CLG_OPTIM_ADAMW);
    clg_optim *opt = clg_optim_create(ctx, outer, &o);
    ck_assert_ptr_nonnull(opt);
    clg_step_begin(ctx);
    clg_tensor *y = clg_mul(clg_add(w, running), w);
    ck_assert_int_eq(clg_backward_with(y, clg_tensor_full(ctx, 1, (int64_t[]){2}, 1.0f)),
                     CLG_STATUS_OK);
    ck_assert_ptr_null(clg_tensor_grad(running));
    ck_assert_int_eq(clg_optim_step(opt), CLG_STATUS_OK);
    clg_step_end(ctx);
    float *r = test_download(running);
    ck_assert_float_eq(r[0], 5.0f); /* weight decay never touched it */
    ck_assert_float_eq(r[1], 6.0f);
    free(r);
    clg_optim_destroy(opt);
    clg_params_destroy(outer);
    clg_params_destroy(inner);
    clg_tensor_destroy(w);
    clg_tensor_destroy(running);
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_params_add_find,      test_params_duplicate_name,
                            test_params_extend_prefix, test_params_zero_grad,
                            test_params_buffers,       NULL};
    return test_main("engine/params", "params", 0, tests);
}
