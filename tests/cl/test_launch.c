/* tests/cl/test_launch.c: the launch plan (cl/launch.c): its choice by
 * device type and CLGRAD_LAUNCH, the sizes of the gpu plan, and the launch
 * trace's record of a step's enqueues. The ops' results under each plan are
 * the op suites' business (.ci/run runs them under both). */
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "support.h"

/* A context under CLGRAD_LAUNCH=plan (NULL: unset); the variable is
 * restored to unset. */
static clg_context *context_under(const char *plan)
{
    if (plan)
        setenv("CLGRAD_LAUNCH", plan, 1);
    else
        unsetenv("CLGRAD_LAUNCH");
    clg_context *ctx = test_context();
    unsetenv("CLGRAD_LAUNCH");
    return ctx;
}

START_TEST(test_plan_default_follows_device_type)
{
    clg_context *ctx = context_under(NULL);
    bool gpu = ctx->rt.desc.type != CLG_DEVICE_TYPE_CPU;
    ck_assert_str_eq(clg_context_launch_plan(ctx), gpu ? "gpu" : "cpu");
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_plan_unknown_name_refused)
{
    setenv("CLGRAD_LAUNCH", "tpu", 1);
    clg_context *ctx = NULL;
    clg_status status = clg_context_create(NULL, &ctx);
    unsetenv("CLGRAD_LAUNCH");
    if (status == CLG_STATUS_NO_DEVICE)
        exit(77);
    ck_assert_int_eq(status, CLG_STATUS_INVALID_ARGUMENT);
    ck_assert_msg(strstr(clg_context_error(ctx), "CLGRAD_LAUNCH=tpu"), "message: %s",
                  clg_context_error(ctx));
    clg_context_destroy(ctx);
}
END_TEST

/* The loop bound: llvmpipe's 65,535 found by its name, none elsewhere;
 * CLGRAD_LOOP_LIMIT sets one on any device and refuses what is not a count
 * of at least 512; clrt_loops_fit names the op and the bound when a launch
 * would pass it. */
START_TEST(test_plan_loop_limit)
{
    clg_context *ctx = context_under(NULL);
    bool llvmpipe = strncmp(ctx->rt.desc.name, "llvmpipe", 8) == 0;
    ck_assert_uint_eq(ctx->rt.plan.loop_limit, llvmpipe ? 65535 : 0);
    ck_assert(clrt_loops_fit(&ctx->rt, "test", 65535));
    clg_context_destroy(ctx);

    setenv("CLGRAD_LOOP_LIMIT", "4096", 1);
    ctx = test_context();
    ck_assert_uint_eq(ctx->rt.plan.loop_limit, 4096);
    ck_assert(clrt_loops_fit(&ctx->rt, "sum_axis (3, 4096)", 4096));
    ck_assert(!clrt_loops_fit(&ctx->rt, "sum_axis (3, 4097)", 4097));
    ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_DEVICE);
    const char *message = clg_context_error(ctx);
    ck_assert_msg(strstr(message, "sum_axis (3, 4097)") && strstr(message, "4097 times") &&
                      strstr(message, "4096"),
                  "message: %s", message);
    clg_context_destroy(ctx);

    const char *bad[] = {"100", "-5", "4k", "lots"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv("CLGRAD_LOOP_LIMIT", bad[i], 1);
        ctx = NULL;
        clg_status status = clg_context_create(NULL, &ctx);
        ck_assert_int_eq(status, CLG_STATUS_INVALID_ARGUMENT);
        ck_assert_msg(strstr(clg_context_error(ctx), "CLGRAD_LOOP_LIMIT"), "message: %s",
                      clg_context_error(ctx));
        clg_context_destroy(ctx);
    }
    unsetenv("CLGRAD_LOOP_LIMIT");
}
END_TEST

/* Whatever the device: groups of 64 to 256 that are a multiple of the
 * driver's preferred multiple once a kernel exists, and power-of-two
 * reductions, so that each kernel's local arrays match its launch. */
START_TEST(test_gpu_plan_sizes)
{
    clg_context *ctx = context_under("gpu");
    ck_assert_str_eq(clg_context_launch_plan(ctx), "gpu");
    clg_tensor *t = test_tensor(ctx, 1, (int64_t[]){1000}, NULL, false);
    ck_assert_int_eq(clg_tensor_fill(t, 1.0f), CLG_STATUS_OK);
    clg_step_begin(ctx);
    ck_assert_ptr_nonnull(clg_relu(t)); /* builds the first kernel */
    clg_step_end(ctx);
    const clrt_plan *plan = &ctx->rt.plan;
    ck_assert(plan->per_element);
    ck_assert_uint_ge(plan->preferred_multiple, 1);
    ck_assert_uint_eq(plan->group % plan->preferred_multiple, 0);
    ck_assert_uint_le(plan->group, 256);
    ck_assert_uint_eq(plan->reduce_group & (plan->reduce_group - 1), 0);
    ck_assert_uint_le(plan->tile[0] * plan->tile[1], plan->group);
    clg_tensor_destroy(t);
    clg_context_destroy(ctx);
}
END_TEST

/* The trace records each enqueue of a step with its real sizes: a sum of
 * 100,000 elements under the gpu plan runs in groups of the plan's size,
 * and no launch leaves a group under 64 work-items. */
START_TEST(test_trace_records_launch_sizes)
{
    clg_context *ctx = context_under("gpu");
    clg_tensor *x = test_tensor(ctx, 2, (int64_t[]){100, 1000}, NULL, true);
    ck_assert_int_eq(clg_tensor_fill(x, 0.5f), CLG_STATUS_OK);
    ctx->rt.trace.n = 0;
    ctx->rt.trace.on = true;
    clg_step_begin(ctx);
    clg_tensor *loss = clg_sum_all(clg_relu(x));
    clg_backward(loss);
    float value = 0;
    ck_assert_int_eq(clg_tensor_item(loss, &value), CLG_STATUS_OK);
    clg_step_end(ctx);
    ctx->rt.trace.on = false;
    ck_assert_float_eq(value, 50000.0f);
    ck_assert_int_ge(ctx->rt.trace.n, 4); /* relu, sum stages, their backwards */
    for (int i = 0; i < ctx->rt.trace.n; i++) {
        const clrt_launch_record *r = &ctx->rt.trace.records[i];
        ck_assert_msg(r->local >= 64, "%s ran in groups of %zu", r->kernel, r->local);
        ck_assert_uint_eq(r->global % r->local, 0);
    }
    clg_tensor_destroy(x);
    clg_context_destroy(ctx);
}
END_TEST

/* The gpu plan's two-stage bias gradient (ops/reduce.c, op_sum_view): a
 * tall batch is cut into slices whose partial sums a second launch adds,
 * and a second backward accumulates. With g = 1 every column sums to the
 * row count, exactly in float. */
START_TEST(test_gpu_bias_gradient_in_slices)
{
    clg_context *ctx = context_under("gpu");
    const int64_t rows = 5000, cols = 20;
    clg_tensor *x = test_tensor(ctx, 2, (int64_t[]){rows, cols}, NULL, true);
    clg_tensor *b = test_tensor(ctx, 1, (int64_t[]){cols}, NULL, true);
    ck_assert_int_eq(clg_tensor_fill(x, 0.25f), CLG_STATUS_OK);
    ck_assert_int_eq(clg_tensor_fill(b, -1.0f), CLG_STATUS_OK);
    for (int pass = 1; pass <= 2; pass++) {
        clg_step_begin(ctx);
        clg_backward(clg_sum_all(clg_bias_activation(x, b, CLG_ACT_IDENTITY, 0.0f)));
        clg_step_end(ctx);
        ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_OK);
        float *db = test_download(clg_tensor_grad(b));
        for (int64_t j = 0; j < cols; j++)
            ck_assert_float_eq(db[j], (float)(pass * rows));
        free(db);
    }
    clg_tensor_destroy(x);
    clg_tensor_destroy(b);
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_plan_default_follows_device_type,
                            test_plan_unknown_name_refused,
                            test_plan_loop_limit,
                            test_gpu_plan_sizes,
                            test_trace_records_launch_sizes,
                            test_gpu_bias_gradient_in_slices,
                            NULL};
    return test_main("cl/launch", "plan", 0, tests);
}
