/* tests/ops/test_dropout.c: inverted dropout (ops/dropout.c) and the dropout
 * layer (nn/dropout.c): the keep fraction, the exact 1 / (1 - p) scale, the
 * mask against the host generator bit for bit, determinism in (seed,
 * offset), eval mode and p = 0 as the identity, p = 1, finite differences
 * through the mask, fresh masks from the layer, bad p, and steady state. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

/* The host generator, compiled into the suite as tests/nn/test_init.c does
 * (the library's copy is hidden): the device mask must equal its draws. */
#include "engine/random.c"

/* Element k of stream 0 of `seed` as a uniform: word k % 4 of block k / 4,
 * computed from the block directly, so offsets near 2^34 cost nothing. */
static float host_uniform(uint64_t seed, uint64_t k)
{
    uint64_t block = k / 4;
    const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    const uint32_t ctr[4] = {(uint32_t)block, (uint32_t)(block >> 32), 0, 0};
    uint32_t words[4];
    eng_philox4x32_10(ctr, key, words);
    return eng_random_to_uniform(words[k % 4]);
}

typedef struct dropout_arg {
    float p;
    uint64_t seed, offset;
} dropout_arg;

static clg_tensor *run_dropout(clg_tensor *const *in, const void *arg)
{
    const dropout_arg *a = arg;
    return clg_dropout(in[0], a->p, true, a->seed, a->offset);
}

/* Downloads clg_dropout(x) for a fresh step. */
static float *dropout_values(clg_context *ctx, clg_tensor *x, float p, uint64_t seed,
                             uint64_t offset)
{
    clg_step_begin(ctx);
    clg_tensor *out = clg_dropout(x, p, true, seed, offset);
    ck_assert_msg(out != NULL, "%s", clg_context_error(ctx));
    float *v = test_download(out);
    clg_step_end(ctx);
    return v;
}

/* Over 1e6 elements the kept fraction has standard deviation sqrt(p (1 - p)
 * / 1e6) < 5e-4, so 1% of 1 - p (at least 5e-3) is more than 10 of them;
 * and every kept value is x times the float 1 / (1 - p), exactly. The small
 * size (200 x 200, for oclgrind) keeps the bound at 10 standard deviations
 * of its own count (2.5e-2 at p = 0.5). */
START_TEST(test_dropout_keep_fraction)
{
    clg_context *ctx = test_context();
    const int64_t side = test_size(1000, 200);
    const size_t N = (size_t)(side * side);
    float *x = malloc(N * sizeof *x);
    test_random(x, N, 5, 1.0f, 2.0f); /* never 0, so 0 means dropped */
    clg_tensor *tx = test_tensor(ctx, 2, (int64_t[]){side, side}, x, false);
    const float ps[] = {0.3f, 0.5f};
    for (int k = 0; k < 2; k++) {
        float p = ps[k], scale = 1.0f / (1.0f - p);
        float *out = dropout_values(ctx, tx, p, 1234 + (uint64_t)k, 0);
        size_t kept = 0;
        for (size_t i = 0; i < N; i++) {
            if (out[i] == 0.0f)
                continue;
            kept++;
            ck_assert_msg(out[i] == x[i] * scale, "p %g, element %zu: %.9g is not %.9g * %.9g",
                          (double)p, i, (double)out[i], (double)x[i], (double)scale);
        }
        double fraction = (double)kept / N;
        double bound = fmax(0.01 * (1 - p), 10 * sqrt(p * (1 - p) / (double)N));
        ck_assert_msg(fabs(fraction - (1 - p)) <= bound,
                      "p %g: kept %.5f of the elements, want %.5f within %.5f", (double)p, fraction,
                      1.0 - p, bound);
        free(out);
    }
    free(x);
    clg_tensor_destroy(tx);
    clg_context_destroy(ctx);
}
END_TEST

/* The device mask is the host generator's, bit for bit: at offset 5
 * (against eng_random_uniform itself), and at an offset whose blocks cross
 * 2^32 (the carry from the low to the high half of the block counter), on a
 * transposed view (elements numbered in the view's row-major order). */
START_TEST(test_dropout_mask_matches_host_generator)
{
    clg_context *ctx = test_context();
    enum { ROWS = 37, COLS = 29, N = ROWS * COLS };
    const uint64_t seed = 0x0123456789abcdefULL;
    const float p = 0.4f, scale = 1.0f / (1.0f - p);
    float x[N];
    test_random(x, N, 6, 1.0f, 2.0f);
    clg_tensor *tx = test_tensor(ctx, 2, (int64_t[]){COLS, ROWS}, x, false);
    const uint64_t offsets[] = {5, 4 * (((uint64_t)1 << 32) - 100) + 3};
    float *stream = malloc((N + 5) * sizeof *stream);
    eng_random_uniform(seed, 0, stream, N + 5);
    for (int k = 0; k < 2; k++) {
        uint64_t offset = offsets[k];
        clg_step_begin(ctx);
        clg_tensor *view = clg_transpose(tx, 0, 1); /* (ROWS, COLS) */
        clg_tensor *out = clg_dropout(view, p, true, seed, offset);
        ck_assert_msg(out != NULL, "%s", clg_context_error(ctx));
        float *got = test_download(out);
        float *xv = test_download(view);
        clg_step_end(ctx);
        int kept = 0;
        for (int i = 0; i < N; i++) {
            float u = host_uniform(seed, offset + (uint64_t)i);
            if (k == 0)
                ck_assert_msg(u == stream[offset + (uint64_t)i], "host_uniform is not the stream");
            float want = u >= p ? xv[i] * scale : 0.0f;
            ck_assert_msg(got[i] == want, "offset %llu, element %d: got %.9g, want %.9g (u %.9g)",
                          (unsigned long long)offset, i, (double)got[i], (double)want, (double)u);
            kept += u >= p;
        }
        ck_assert(kept > 0 && kept < N); /* both branches were exercised */
        free(got);
        free(xv);
    }
    free(stream);
    clg_tensor_destroy(tx);
    clg_context_destroy(ctx);
}
END_TEST

/* The same (seed, offset) gives the same mask; another offset or seed
 * another one; and offset k + 1 is offset k shifted by one element. */
START_TEST(test_dropout_same_seed_same_mask)
{
    clg_context *ctx = test_context();
    enum { N = 4099 };
    static float x[N];
    for (int i = 0; i < N; i++)
        x[i] = 1.0f;
    clg_tensor *tx = test_tensor(ctx, 1, (int64_t[]){N}, x, false);
    float *a = dropout_values(ctx, tx, 0.5f, 99, 10);
    float *again = dropout_values(ctx, tx, 0.5f, 99, 10);
    float *shifted = dropout_values(ctx, tx, 0.5f, 99, 11);
    float *other_seed = dropout_values(ctx, tx, 0.5f, 100, 10);
    ck_assert(memcmp(a, again, sizeof x) == 0);
    int same_shift = 0, same_seed = 0;
    for (int i = 0; i < N; i++) {
        same_shift += a[i] == shifted[i];
        same_seed += a[i] == other_seed[i];
        if (i + 1 < N)
            ck_assert_msg(shifted[i] == a[i + 1], "offset 11 element %d is not offset 10's %d", i,
                          i + 1);
    }
    /* two independent masks agree on about half the elements, not all */
    ck_assert_int_lt(same_shift, N * 3 / 5);
    ck_assert_int_lt(same_seed, N * 3 / 5);
    free(a);
    free(again);
    free(shifted);
    free(other_seed);
    clg_tensor_destroy(tx);
    clg_context_destroy(ctx);
}
END_TEST

/* Not training, or p = 0: the input itself, with no kernel and no node. */
START_TEST(test_dropout_eval_is_identity)
{
    clg_context *ctx = test_context();
    float x[6] = {1, 2, 3, 4, 5, 6};
    clg_tensor *tx = test_tensor(ctx, 2, (int64_t[]){2, 3}, x, true);
    clg_step_begin(ctx);
    clg_counters before, after;
    clg_counters_get(ctx, &before);
    ck_assert_ptr_eq(clg_dropout(tx, 0.5f, false, 1, 0), tx);
    ck_assert_ptr_eq(clg_dropout(tx, 0.0f, true, 1, 0), tx);
    clg_counters_get(ctx, &after);
    ck_assert_int_eq(after.kernel_launches, before.kernel_launches);
    /* no node: the sum's gradient reaches x directly, all ones */
    ck_assert_int_eq(clg_backward(clg_sum_all(clg_dropout(tx, 0.5f, false, 1, 0))), CLG_STATUS_OK);
    float *g = test_download(clg_tensor_grad(tx));
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq(g[i], 1.0f);
    free(g);
    clg_step_end(ctx);
    clg_tensor_destroy(tx);
    clg_context_destroy(ctx);
}
END_TEST

/* p = 1 zeroes everything, values and gradient, without dividing by 0. */
START_TEST(test_dropout_p_one_zeros)
{
    clg_context *ctx = test_context();
    float x[10] = {1, -2, 3, INFINITY, 5, 6, 7, 8, 9, 10};
    clg_tensor *tx = test_tensor(ctx, 1, (int64_t[]){10}, x, true);
    clg_step_begin(ctx);
    clg_tensor *out = clg_dropout(tx, 1.0f, true, 3, 0);
    ck_assert_msg(out != NULL, "%s", clg_context_error(ctx));
    ck_assert_int_eq(clg_backward(clg_sum_all(out)), CLG_STATUS_OK);
    float *v = test_download(out), *g = test_download(clg_tensor_grad(tx));
    for (int i = 0; i < 10; i++) {
        ck_assert_msg(v[i] == 0.0f && !signbit(v[i]), "value %d: %g", i, (double)v[i]);
        ck_assert_msg(g[i] == 0.0f, "gradient %d: %g", i, (double)g[i]);
    }
    free(v);
    free(g);
    clg_step_end(ctx);
    clg_tensor_destroy(tx);
    clg_context_destroy(ctx);
}
END_TEST

/* x used by two dropouts with different offsets: the second backward adds. */
static clg_tensor *run_dropout_twice(clg_tensor *const *in, const void *arg)
{
    const dropout_arg *a = arg;
    return clg_add(clg_dropout(in[0], a->p, true, a->seed, a->offset),
                   clg_dropout(in[0], a->p, true, a->seed, a->offset + 1000));
}

/* The mask is a function of (seed, offset), so it is the same in every
 * forward of the finite differences; the backward kernel regenerates it.
 * Also exact: dx = g / (1 - p) where kept, 0 where dropped. */
START_TEST(test_dropout_gradcheck)
{
    clg_context *ctx = test_context();
    float x[105];
    test_random(x, 105, 7, -2, 2);
    clg_tensor *tx = test_tensor(ctx, 3, (int64_t[]){3, 5, 7}, x, true);
    dropout_arg arg = {0.4f, 77, 3};
    test_gradcheck(ctx, run_dropout, &arg, 1, &tx, test_tol_get("gradcheck"));
    test_gradcheck(ctx, run_dropout_twice, &arg, 1, &tx, test_tol_get("gradcheck"));

    float g[105];
    test_random(g, 105, 8, -1, 1);
    clg_step_begin(ctx);
    clg_tensor_zero_grad(tx);
    clg_tensor *out = clg_dropout(tx, 0.4f, true, 77, 3);
    clg_tensor *gout = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 3, (int64_t[]){3, 5, 7}, g);
    ck_assert_int_eq(clg_backward_with(out, gout), CLG_STATUS_OK);
    float *v = test_download(out), *dx = test_download(clg_tensor_grad(tx));
    float scale = 1.0f / (1.0f - 0.4f);
    for (int i = 0; i < 105; i++) {
        bool kept = host_uniform(77, 3 + (uint64_t)i) >= 0.4f;
        ck_assert_msg(dx[i] == (kept ? g[i] * scale : 0.0f), "element %d: dx %.9g", i,
                      (double)dx[i]);
        ck_assert(kept == (v[i] != 0.0f));
    }
    free(v);
    free(dx);
    clg_step_end(ctx);
    clg_tensor_destroy(tx);
    clg_context_destroy(ctx);
}
END_TEST

/* The layer's successive training calls take successive stretches of the
 * stream (offset 0, then numel, ...); an eval call does not advance it. */
START_TEST(test_dropout_layer_fresh_masks)
{
    clg_context *ctx = test_context();
    enum { N = 2 * 3 * 50 };
    static float x[N];
    for (int i = 0; i < N; i++)
        x[i] = 1.0f;
    clg_tensor *tx = test_tensor(ctx, 3, (int64_t[]){2, 3, 50}, x, false);
    clg_dropout_layer *layer = clg_dropout_layer_create(ctx, 0.5f, 2024);
    ck_assert_msg(layer != NULL, "%s", clg_context_error(ctx));
    float *calls[3];
    for (int k = 0; k < 3; k++) {
        clg_step_begin(ctx);
        if (k == 2)
            ck_assert_ptr_eq(clg_dropout_layer_forward(layer, tx, false), tx);
        clg_tensor *out = clg_dropout_layer_forward(layer, tx, true);
        ck_assert_msg(out != NULL, "%s", clg_context_error(ctx));
        calls[k] = test_download(out);
        clg_step_end(ctx);
        float *want = dropout_values(ctx, tx, 0.5f, 2024, (uint64_t)k * N);
        ck_assert_msg(memcmp(calls[k], want, sizeof x) == 0, "call %d is not offset %d", k, k * N);
        free(want);
    }
    int same = 0;
    for (int i = 0; i < N; i++)
        same += calls[0][i] == calls[1][i];
    ck_assert_int_lt(same, N * 3 / 4);
    for (int k = 0; k < 3; k++)
        free(calls[k]);
    clg_dropout_layer_destroy(layer);
    clg_tensor_destroy(tx);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_dropout_bad_p)
{
    clg_context *ctx = test_context();
    clg_tensor *tx = test_tensor(ctx, 2, (int64_t[]){2, 3}, NULL, false);
    const float bad[] = {1.5f, -0.25f, NAN};
    const char *want[] = {
        "clg_dropout: p must be a probability in [0, 1], not 1.5 (input [2, 3])",
        "clg_dropout: p must be a probability in [0, 1], not -0.25 (input [2, 3])",
        "clg_dropout: p must be a probability in [0, 1], not nan (input [2, 3])",
    };
    for (int k = 0; k < 3; k++) {
        /* checked in eval mode too, as F.dropout does */
        test_expect_error(ctx, clg_dropout(tx, bad[k], k != 1, 1, 0), CLG_STATUS_INVALID_ARGUMENT,
                          want[k]);
    }
    ck_assert_ptr_null(clg_dropout_layer_create(ctx, 2.0f, 1));
    ck_assert_str_eq(clg_context_error(ctx),
                     "clg_dropout_layer_create: p must be a probability in [0, 1], not 2");
    clg_context_clear_error(ctx);
    ck_assert_ptr_null(clg_dropout(NULL, 0.5f, true, 1, 0));
    ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_OK);
    clg_tensor_destroy(tx);
    clg_context_destroy(ctx);
}
END_TEST

/* A second identical training step allocates no device memory and builds
 * no program. */
START_TEST(test_dropout_steady_state)
{
    clg_context *ctx = test_context();
    float x[300];
    test_random(x, 300, 9, -1, 1);
    clg_tensor *tx = test_tensor(ctx, 2, (int64_t[]){10, 30}, x, true);
    clg_counters first = {0}, second;
    for (int step = 0; step < 2; step++) {
        if (step == 1)
            clg_counters_get(ctx, &first);
        clg_step_begin(ctx);
        clg_tensor_zero_grad(tx);
        clg_tensor *loss = clg_sum_all(clg_dropout(tx, 0.3f, true, 5, (uint64_t)step * 300));
        ck_assert_int_eq(clg_backward(loss), CLG_STATUS_OK);
        clg_step_end(ctx);
    }
    clg_counters_get(ctx, &second);
    ck_assert_int_eq(second.device_allocations, first.device_allocations);
    ck_assert_int_eq(second.program_builds, first.program_builds);
    clg_tensor_destroy(tx);
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {
        test_dropout_keep_fraction,       test_dropout_mask_matches_host_generator,
        test_dropout_same_seed_same_mask, test_dropout_eval_is_identity,
        test_dropout_p_one_zeros,         test_dropout_gradcheck,
        test_dropout_layer_fresh_masks,   test_dropout_bad_p,
        test_dropout_steady_state,        NULL};
    return test_main("ops/dropout", "dropout", 0, tests);
}
