/* tests/lecture/test_lecture.c: the lecture's worked example of backpropagation,
 * built from clgrad's layers and checked against every number the slides
 * print. The network: x (2) -> Linear(2, 2) -> sigmoid -> Linear(2, 1) ->
 * sigmoid -> y; loss (y - t)^2 with no 1/N (the sum reduction), target 0,
 * one SGD step with learning rate 1.
 *
 * The slides write the hidden layer as s = W x + b with W_ij multiplying x_j
 * into hidden unit i: the (out, in) layout of torch.nn.Linear's weight, so W
 * is uploaded as printed. The printed gradient confirms it: dl/dW_ij carries
 * x_j, and the slide's dW has columns in the ratio x_0 : x_1 = 2 : 3. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

/* Half a unit of the last decimal the slide prints: 0.0063 allows 5e-5,
 * 0.77 allows 5e-3. Stricter than the "lecture" tolerance row, which gives
 * every value the bound of the coarsest one. */
static double half_printed_unit(const char *printed)
{
    const char *dot = strchr(printed, '.');
    int decimals = dot ? (int)strlen(dot + 1) : 0;
    return 0.5 * pow(10.0, -decimals);
}

static bool rounds_to_printed(double got, const char *printed)
{
    return fabs(got - strtod(printed, NULL)) <= half_printed_unit(printed);
}

static void assert_as_printed(double got, const char *printed, const char *what)
{
    ck_assert_msg(rounds_to_printed(got, printed),
                  "%s: got %.6f, the slide prints %s (allowed |diff| <= %g)", what, got, printed,
                  half_printed_unit(printed));
}

/* Every element of t against the printed values, in row-major order. */
static void assert_tensor_as_printed(const clg_tensor *t, const char *const *printed,
                                     const char *what)
{
    float *got = test_download(t);
    for (int64_t i = 0; i < clg_tensor_numel(t); i++) {
        char name[64];
        snprintf(name, sizeof name, "%s[%lld]", what, (long long)i);
        assert_as_printed(got[i], printed[i], name);
    }
    free(got);
}

static void assert_grad_as_printed(const clg_tensor *t, const char *const *printed,
                                   const char *what)
{
    const clg_tensor *g = clg_tensor_grad(t);
    ck_assert_msg(g != NULL, "%s: no gradient", what);
    assert_tensor_as_printed(g, printed, what);
}

typedef struct lecture_net {
    clg_linear *hidden; /* W (2, 2), b (2) */
    clg_linear *output; /* W' (1, 2), b' (1) */
} lecture_net;

/* y = sigmoid(W' sigmoid(W x + b) + b'); x (1, 2) -> y (1, 1) */
static clg_tensor *lecture_forward(const lecture_net *net, clg_tensor *x)
{
    clg_tensor *hidden = clg_sigmoid(clg_linear_forward(net->hidden, x));
    return clg_sigmoid(clg_linear_forward(net->output, hidden));
}

static void upload(clg_tensor *t, const float *values)
{
    ck_assert_int_eq(clg_tensor_upload(t, values, (size_t)clg_tensor_numel(t)), CLG_STATUS_OK);
}

START_TEST(test_lecture_backprop_example)
{
    clg_context *ctx = test_context();
    lecture_net net = {clg_linear_create(ctx, 2, 2, true, 1),
                       clg_linear_create(ctx, 2, 1, true, 2)};
    ck_assert_msg(net.hidden && net.output, "%s", clg_context_error(ctx));
    upload(clg_linear_weight(net.hidden), (const float[]){0.1f, 0.2f, 0.3f, 0.4f});
    upload(clg_linear_bias(net.hidden), (const float[]){0.5f, 0.5f});
    upload(clg_linear_weight(net.output), (const float[]){0.5f, 0.6f});
    upload(clg_linear_bias(net.output), (const float[]){0.5f});

    clg_params *params = clg_params_create(ctx);
    ck_assert_int_eq(clg_params_extend(params, "hidden.", clg_linear_params(net.hidden)),
                     CLG_STATUS_OK);
    ck_assert_int_eq(clg_params_extend(params, "output.", clg_linear_params(net.output)),
                     CLG_STATUS_OK);
    clg_optim_options options = clg_optim_options_default(CLG_OPTIM_SGD);
    options.lr = 1.0f;
    clg_optim *sgd = clg_optim_create(ctx, params, &options);
    ck_assert_msg(sgd != NULL, "%s", clg_context_error(ctx));

    const float x_values[] = {0.2f, 0.3f};
    const int64_t x_shape[] = {1, 2};

    /* Forward and loss. */
    clg_step_begin(ctx);
    clg_tensor *x = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, x_shape, x_values);
    clg_tensor *target = clg_tensor_full(ctx, 2, (const int64_t[]){1, 1}, 0.0f);
    clg_tensor *y = lecture_forward(&net, x);
    clg_tensor *loss = clg_mse_loss(y, target, CLG_REDUCTION_SUM);
    ck_assert_msg(loss != NULL, "%s", clg_context_error(ctx));
    assert_tensor_as_printed(y, (const char *const[]){"0.77"}, "y");
    assert_tensor_as_printed(loss, (const char *const[]){"0.60"}, "loss");

    /* Backward. */
    clg_optim_zero_grad(sgd);
    ck_assert_msg(clg_backward(loss) == CLG_STATUS_OK, "%s", clg_context_error(ctx));
    assert_grad_as_printed(clg_linear_weight(net.output), (const char *const[]){"0.17", "0.18"},
                           "dW'");
    assert_grad_as_printed(clg_linear_bias(net.output), (const char *const[]){"0.27"}, "db'");
    assert_grad_as_printed(clg_linear_weight(net.hidden),
                           (const char *const[]){"0.0063", "0.0094", "0.0073", "0.011"}, "dW");
    assert_grad_as_printed(clg_linear_bias(net.hidden), (const char *const[]){"0.031", "0.036"},
                           "db");

    /* One gradient step, eta = 1. */
    ck_assert_msg(clg_optim_step(sgd) == CLG_STATUS_OK, "%s", clg_context_error(ctx));
    clg_step_end(ctx);
    assert_tensor_as_printed(clg_linear_weight(net.output), (const char *const[]){"0.33", "0.42"},
                             "W' after the step");
    assert_tensor_as_printed(clg_linear_bias(net.output), (const char *const[]){"0.23"},
                             "b' after the step");
    assert_tensor_as_printed(clg_linear_weight(net.hidden),
                             (const char *const[]){"0.094", "0.19", "0.29", "0.39"},
                             "W after the step");
    assert_tensor_as_printed(clg_linear_bias(net.hidden), (const char *const[]){"0.47", "0.46"},
                             "b after the step");

    /* The new output, closer to the target. */
    clg_step_begin(ctx);
    bool previous = clg_grad_set_enabled(ctx, false);
    y = lecture_forward(&net, clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, x_shape, x_values));
    clg_grad_set_enabled(ctx, previous);
    ck_assert_msg(y != NULL, "%s", clg_context_error(ctx));
    assert_tensor_as_printed(y, (const char *const[]){"0.67"}, "y after the step");
    clg_step_end(ctx);

    clg_optim_destroy(sgd);
    clg_params_destroy(params);
    clg_linear_destroy(net.hidden);
    clg_linear_destroy(net.output);
    clg_context_destroy(ctx);
}
END_TEST

/* The comparison itself must be able to fail, at the right digit. */
START_TEST(test_lecture_printed_precision)
{
    ck_assert(rounds_to_printed(0.00625510, "0.0063"));
    ck_assert(!rounds_to_printed(0.00624, "0.0063"));
    ck_assert(rounds_to_printed(0.7718, "0.77"));
    ck_assert(!rounds_to_printed(0.7718, "0.773"));
    ck_assert(!rounds_to_printed(0.0109, "0.0110"));
    ck_assert(rounds_to_printed(0.0109, "0.011"));
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_lecture_printed_precision, test_lecture_backprop_example, NULL};
    return test_main("lecture/lecture", "lecture", 0, tests);
}
