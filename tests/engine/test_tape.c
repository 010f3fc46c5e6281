/* tests/engine/test_tape.c: recording and walking the tape
 * (engine/tape.c): accumulation, zero_grad, grad mode, gradients to inputs,
 * misuse, and nodes' saved state from the step's host arena. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "support.h"

/* f(a, b) = (a * b) + a, d/da = b + 1, d/db = a; a is used twice. */
static clg_tensor *diamond(clg_tensor *a, clg_tensor *b)
{
    return clg_add(clg_mul(a, b), a);
}

START_TEST(test_backward_accumulates_until_zero_grad)
{
    clg_context *ctx = test_context();
    clg_tensor *a = test_tensor(ctx, 1, (int64_t[]){3}, (float[]){1, 2, 3}, true);
    clg_tensor *b = test_tensor(ctx, 1, (int64_t[]){3}, (float[]){4, 5, 6}, true);
    ck_assert_ptr_null(clg_tensor_grad(a)); /* none before any backward */
    float want_a[3] = {5, 6, 7}, want_b[3] = {1, 2, 3};
    for (int round = 1; round <= 3; round++) {
        if (round == 3) {
            clg_tensor_zero_grad(a);
            clg_tensor_zero_grad(b);
        }
        clg_step_begin(ctx);
        clg_tensor *out = diamond(a, b);
        clg_tensor *ones = clg_tensor_full(ctx, 1, (int64_t[]){3}, 1.0f);
        ck_assert_int_eq(clg_backward_with(out, ones), CLG_STATUS_OK);
        clg_step_end(ctx);
        int times = round == 2 ? 2 : 1; /* round 2 adds to round 1 */
        float *ga = test_download(clg_tensor_grad(a)), *gb = test_download(clg_tensor_grad(b));
        for (int i = 0; i < 3; i++) {
            ck_assert_float_eq(ga[i], times * want_a[i]);
            ck_assert_float_eq(gb[i], times * want_b[i]);
        }
        free(ga);
        free(gb);
    }
    clg_tensor_destroy(a);
    clg_tensor_destroy(b);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_backward_reaches_inputs)
{
    clg_context *ctx = test_context();
    clg_tensor *w = test_tensor(ctx, 1, (int64_t[]){2}, (float[]){3, -2}, false);
    clg_step_begin(ctx);
    clg_tensor *x = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 1, (int64_t[]){2}, (float[]){1, 1});
    clg_tensor_set_requires_grad(x, true);
    clg_tensor *y = clg_mul(x, w);
    clg_tensor *g = clg_tensor_full(ctx, 1, (int64_t[]){2}, 1.0f);
    ck_assert_int_eq(clg_backward_with(y, g), CLG_STATUS_OK);
    ck_assert_ptr_null(clg_tensor_grad(w)); /* w does not require one */
    float *gx = test_download(clg_tensor_grad(x));
    ck_assert_float_eq(gx[0], 3.0f);
    ck_assert_float_eq(gx[1], -2.0f);
    free(gx);
    clg_step_end(ctx);
    clg_tensor_destroy(w);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_no_grad_records_nothing)
{
    clg_context *ctx = test_context();
    clg_tensor *a = test_tensor(ctx, 1, (int64_t[]){1}, (float[]){2}, true);
    clg_step_begin(ctx);
    ck_assert(clg_grad_set_enabled(ctx, false));
    clg_tensor *y = clg_mul(a, a);
    ck_assert(!clg_grad_set_enabled(ctx, true));
    ck_assert(!clg_tensor_requires_grad(y));
    ck_assert_int_eq(clg_backward(y), CLG_STATUS_STATE);
    clg_step_end(ctx);
    clg_tensor_destroy(a);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_backward_misuse)
{
    clg_context *ctx = test_context();
    clg_tensor *a = test_tensor(ctx, 1, (int64_t[]){2}, (float[]){1, 2}, true);
    clg_step_begin(ctx);
    clg_tensor *y = clg_mul(a, a);
    ck_assert_int_eq(clg_backward(y), CLG_STATUS_SHAPE);
    ck_assert_str_eq(clg_context_error(ctx),
                     "clg_backward: the loss must be one float32 element, not shape [2] (use "
                     "clg_backward_with for other outputs)");
    clg_context_clear_error(ctx);
    clg_tensor *g3 = clg_tensor_full(ctx, 1, (int64_t[]){3}, 1.0f);
    ck_assert_int_eq(clg_backward_with(y, g3), CLG_STATUS_SHAPE);
    clg_context_clear_error(ctx);
    clg_tensor *g = clg_tensor_full(ctx, 1, (int64_t[]){2}, 1.0f);
    ck_assert_int_eq(clg_backward_with(y, g), CLG_STATUS_OK);
    ck_assert_int_eq(clg_backward_with(y, g), CLG_STATUS_STATE); /* walked once */
    clg_context_clear_error(ctx);
    clg_step_end(ctx);
    /* a new step records a new tape */
    clg_step_begin(ctx);
    y = clg_mul(a, a);
    g = clg_tensor_full(ctx, 1, (int64_t[]){2}, 1.0f);
    ck_assert_int_eq(clg_backward_with(y, g), CLG_STATUS_OK);
    clg_step_end(ctx);
    clg_tensor_destroy(a);
    clg_context_destroy(ctx);
}
END_TEST

static int host_chunks(const clg_context *ctx)
{
    int n = 0;
    for (const eng_host_chunk *c = ctx->host_chunks; c; c = c->next)
        n++;
    return n;
}

/* eng_record's state: zeroed (also where an earlier step dirtied the same
 * memory), aligned for any type, NULL when none is asked for, and from the
 * step's arena: a second step of the same nodes, several chunks' worth,
 * takes no new chunk, so the ops' saved structs cost no malloc per step. */
START_TEST(test_record_state_from_arena)
{
    enum { NODES = 4000, STATE = 40 };
    clg_context *ctx = test_context();
    clg_tensor *a = test_tensor(ctx, 1, (int64_t[]){1}, (float[]){1}, true);
    unsigned char zero[STATE] = {0};
    int chunks[2];
    for (int step = 0; step < 2; step++) {
        clg_step_begin(ctx);
        ck_assert_ptr_null(eng_record(ctx, "none", NULL, a, 1, &a, 0)->state);
        for (int k = 0; k < NODES; k++) {
            eng_node *node = eng_record(ctx, "test", NULL, a, 1, &a, STATE);
            ck_assert_ptr_nonnull(node);
            ck_assert_int_eq((uintptr_t)node->state % _Alignof(max_align_t), 0);
            ck_assert_int_eq(memcmp(node->state, zero, STATE), 0);
            memset(node->state, 0xa5, STATE);
        }
        clg_step_end(ctx);
        chunks[step] = host_chunks(ctx);
    }
    ck_assert_int_gt(chunks[0], 1);
    ck_assert_int_eq(chunks[1], chunks[0]);
    clg_tensor_destroy(a);
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_backward_accumulates_until_zero_grad,
                            test_backward_reaches_inputs,
                            test_no_grad_records_nothing,
                            test_backward_misuse,
                            test_record_state_from_arena,
                            NULL};
    return test_main("engine/tape", "tape", 0, tests);
}
