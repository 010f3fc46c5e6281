/* tests/ops/test_random.c: clg_rand and clg_randn (ops/random.c): the draws
 * against the host generator element for element (uniforms bit for bit,
 * normals up to the device's transcendental ulps), at offsets that start
 * mid-block and cross the 2^32 block carry; the same (seed, offset) giving
 * the same numbers and another offset or seed other ones; the moments over a
 * million draws and the normal's tail mass; nothing recorded on the tape;
 * bad shapes; steady state. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

/* The host generator, compiled into the suite (the library's copy is
 * hidden), as tests/ops/test_dropout.c does. */
#include "engine/random.c"

/* Words of block k / 4 of stream 0, computed directly so that offsets near
 * 2^34 cost nothing. */
static void host_block(uint64_t seed, uint64_t k, uint32_t words[4])
{
    uint64_t block = k / 4;
    const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    const uint32_t ctr[4] = {(uint32_t)block, (uint32_t)(block >> 32), 0, 0};
    eng_philox4x32_10(ctr, key, words);
}

static float host_uniform(uint64_t seed, uint64_t k)
{
    uint32_t words[4];
    host_block(seed, k, words);
    return eng_random_to_uniform(words[k % 4]);
}

/* Element k of eng_random_normal's stream, written out again (the same
 * Box-Muller in float) so that any offset is cheap. */
static float host_normal(uint64_t seed, uint64_t k)
{
    uint32_t words[4];
    host_block(seed, k, words);
    size_t pair = k % 4 / 2 * 2;
    float u1 = (float)((words[pair] >> 8) + 1u) * 0x1.0p-24f;
    float u2 = eng_random_to_uniform(words[pair + 1]);
    float r = sqrtf(-2.0f * logf(u1));
    float theta = 6.28318530717958647692f * u2;
    return k % 2 == 0 ? r * cosf(theta) : r * sinf(theta);
}

typedef clg_tensor *(*sampler_fn)(clg_context *, int, const int64_t *, uint64_t, uint64_t);

/* Downloads a fresh sample of `n` elements shaped (rank, shape). */
static float *sample(clg_context *ctx, sampler_fn fn, int rank, const int64_t *shape,
                     uint64_t seed, uint64_t offset)
{
    clg_step_begin(ctx);
    clg_tensor *t = fn(ctx, rank, shape, seed, offset);
    ck_assert_msg(t != NULL, "%s", clg_context_error(ctx));
    ck_assert(!clg_tensor_requires_grad(t));
    ck_assert_int_eq(clg_tensor_rank(t), rank);
    for (int d = 0; d < rank; d++)
        ck_assert_int_eq(clg_tensor_dim(t, d), shape[d]);
    float *v = test_download(t);
    clg_step_end(ctx);
    return v;
}

/* Offsets 0 and 5 (a block entered mid-way, so the first work-item serves
 * fewer than four elements) against eng_random_uniform/normal themselves,
 * and one whose blocks cross 2^32 (the carry into the high half). */
START_TEST(test_rand_matches_host_generator)
{
    clg_context *ctx = test_context();
    enum { N = 2 * 3 * 5 * 37 };
    const int64_t shape[4] = {2, 3, 5, 37};
    const uint64_t seed = 0x0123456789abcdefULL;
    const uint64_t offsets[] = {0, 5, 4 * (((uint64_t)1 << 32) - 100) + 3};
    float *uniform = malloc((N + 5) * sizeof *uniform), *normal = malloc((N + 5) * sizeof *normal);
    eng_random_uniform(seed, 0, uniform, N + 5);
    eng_random_normal(seed, 0, normal, N + 5);
    const test_tol *tol = test_tol_get("transcendental");
    for (int k = 0; k < 3; k++) {
        uint64_t offset = offsets[k];
        float *u = sample(ctx, clg_rand, 4, shape, seed, offset);
        float *z = sample(ctx, clg_randn, 4, shape, seed, offset);
        float want_u[N], want_z[N];
        for (int i = 0; i < N; i++) {
            want_u[i] = host_uniform(seed, offset + (uint64_t)i);
            want_z[i] = host_normal(seed, offset + (uint64_t)i);
            if (k < 2) { /* the helpers are the library's stream */
                ck_assert(want_u[i] == uniform[offset + (uint64_t)i]);
                ck_assert(want_z[i] == normal[offset + (uint64_t)i]);
            }
            ck_assert_msg(u[i] == want_u[i], "clg_rand offset %llu, element %d: %.9g, want %.9g",
                          (unsigned long long)offset, i, (double)u[i], (double)want_u[i]);
        }
        test_assert_close(z, want_z, N, tol, "clg_randn against the host");
        free(u);
        free(z);
    }
    free(uniform);
    free(normal);
    clg_context_destroy(ctx);
}
END_TEST

/* The same (seed, offset) gives the same numbers bit for bit; offset + 1 is
 * the same stream moved by one element; another offset or seed gives other
 * numbers (independent uniforms never coincide in practice). */
START_TEST(test_rand_same_seed_same_numbers)
{
    clg_context *ctx = test_context();
    enum { N = 4099 };
    const int64_t shape[1] = {N};
    sampler_fn fns[2] = {clg_rand, clg_randn};
    for (int f = 0; f < 2; f++) {
        float *a = sample(ctx, fns[f], 1, shape, 99, 10);
        float *again = sample(ctx, fns[f], 1, shape, 99, 10);
        float *shifted = sample(ctx, fns[f], 1, shape, 99, 11);
        float *far = sample(ctx, fns[f], 1, shape, 99, 10 + N);
        float *other_seed = sample(ctx, fns[f], 1, shape, 100, 10);
        ck_assert(memcmp(a, again, N * sizeof *a) == 0);
        int same_far = 0, same_seed = 0;
        for (int i = 0; i < N; i++) {
            if (i + 1 < N)
                ck_assert_msg(shifted[i] == a[i + 1], "offset 11 element %d is not offset 10's %d",
                              i, i + 1);
            same_far += a[i] == far[i];
            same_seed += a[i] == other_seed[i];
        }
        ck_assert_int_lt(same_far, 5);
        ck_assert_int_lt(same_seed, 5);
        free(a);
        free(again);
        free(shifted);
        free(far);
        free(other_seed);
    }
    clg_context_destroy(ctx);
}
END_TEST

/* Mean and variance over 1e6 draws within five standard errors: uniform
 * mean 1/2 (se 2.9e-4), variance 1/12 (se 7.5e-5); normal mean 0 (se 1e-3),
 * variance 1 (se 1.4e-3), mass beyond 2 sigma 0.0455 (se 2.1e-4), and
 * every uniform in [0, 1). */
START_TEST(test_rand_moments_million)
{
    clg_context *ctx = test_context();
    enum { N = 1000000 };
    const int64_t shape[2] = {1000, 1000};
    float *u = sample(ctx, clg_rand, 2, shape, 2024, 0);
    /* no ck_assert per element: each one is a message to Check's parent */
    double sum = 0, sum2 = 0;
    int outside = 0, not_finite = 0;
    for (int i = 0; i < N; i++) {
        outside += !(u[i] >= 0.0f && u[i] < 1.0f);
        sum += u[i];
        sum2 += (double)u[i] * u[i];
    }
    ck_assert_msg(outside == 0, "%d uniforms outside [0, 1)", outside);
    double mean = sum / N, var = sum2 / N - mean * mean;
    ck_assert_msg(fabs(mean - 0.5) < 1.5e-3, "uniform mean %.6f", mean);
    ck_assert_msg(fabs(var - 1.0 / 12) < 4e-4, "uniform variance %.6f", var);
    free(u);

    float *z = sample(ctx, clg_randn, 2, shape, 2024, 0);
    sum = sum2 = 0;
    int beyond = 0;
    for (int i = 0; i < N; i++) {
        not_finite += !isfinite(z[i]);
        sum += z[i];
        sum2 += (double)z[i] * z[i];
        beyond += fabsf(z[i]) > 2.0f;
    }
    ck_assert_msg(not_finite == 0, "%d normals not finite", not_finite);
    mean = sum / N;
    var = sum2 / N - mean * mean;
    double tail = (double)beyond / N;
    ck_assert_msg(fabs(mean) < 5e-3, "normal mean %.6f", mean);
    ck_assert_msg(fabs(var - 1.0) < 7e-3, "normal variance %.6f", var);
    ck_assert_msg(fabs(tail - 0.0455003) < 1e-3, "normal mass beyond 2 sigma %.6f", tail);
    free(z);
    clg_context_destroy(ctx);
}
END_TEST

/* Rank outside [1, 4], a size below 1, no shape: CLG_STATUS_SHAPE with the
 * op's name; a pending error or no context: NULL, the message kept. */
START_TEST(test_rand_bad_shape)
{
    clg_context *ctx = test_context();
    const int64_t ok[5] = {2, 3, 4, 5, 6}, zero[2] = {3, 0}, negative[1] = {-2};
    test_expect_error(ctx, clg_rand(ctx, 0, ok, 1, 0), CLG_STATUS_SHAPE,
                      "clg_rand: rank must be in [1, 4], not 0");
    ck_assert_ptr_null(clg_randn(ctx, 5, ok, 1, 0));
    ck_assert_str_eq(clg_context_error(ctx), "clg_randn: rank must be in [1, 4], not 5");
    clg_context_clear_error(ctx);
    ck_assert_ptr_null(clg_randn(ctx, 2, zero, 1, 0));
    ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_SHAPE);
    ck_assert_str_eq(clg_context_error(ctx),
                     "clg_randn: dimension 1 is 0; every size must be >= 1");
    clg_context_clear_error(ctx);
    ck_assert_ptr_null(clg_rand(ctx, 1, negative, 1, 0));
    ck_assert_str_eq(clg_context_error(ctx), "clg_rand: dimension 0 is -2; every size must be >= 1");
    /* sticky: a later valid call returns NULL and keeps the first message */
    ck_assert_ptr_null(clg_rand(ctx, 1, ok, 1, 0));
    ck_assert_str_eq(clg_context_error(ctx), "clg_rand: dimension 0 is -2; every size must be >= 1");
    clg_context_clear_error(ctx);
    ck_assert_ptr_null(clg_rand(ctx, 1, NULL, 1, 0));
    ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_SHAPE);
    clg_context_clear_error(ctx);
    ck_assert_ptr_null(clg_randn(NULL, 1, ok, 1, 0));
    clg_context_destroy(ctx);
}
END_TEST

/* A sample is a constant to the tape: x * randn backpropagates to x only,
 * with the draw itself as the gradient; and a second identical step
 * allocates no device memory and builds no program. */
START_TEST(test_rand_steady_state)
{
    clg_context *ctx = test_context();
    float x[24];
    test_random(x, 24, 3, -1, 1);
    clg_tensor *tx = test_tensor(ctx, 2, (int64_t[]){4, 6}, x, true);
    clg_counters first = {0}, second;
    for (int step = 0; step < 2; step++) {
        if (step == 1)
            clg_counters_get(ctx, &first);
        clg_step_begin(ctx);
        clg_tensor_zero_grad(tx);
        clg_tensor *eps = clg_randn(ctx, 2, (int64_t[]){4, 6}, 7, (uint64_t)step * 24);
        clg_tensor *u = clg_rand(ctx, 2, (int64_t[]){4, 6}, 7, (uint64_t)step * 24);
        ck_assert_int_eq(clg_backward(clg_sum_all(clg_mul(clg_mul(tx, eps), u))), CLG_STATUS_OK);
        float *g = test_download(clg_tensor_grad(tx)), *e = test_download(eps),
              *uv = test_download(u);
        for (int i = 0; i < 24; i++)
            ck_assert(g[i] == e[i] * uv[i]);
        free(g);
        free(e);
        free(uv);
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
    const TTest *tests[] = {test_rand_matches_host_generator, test_rand_same_seed_same_numbers,
                            test_rand_bad_shape, test_rand_steady_state, NULL};
    const TTest *moments[] = {test_rand_moments_million, NULL};
    Suite *s = suite_create("ops/random");
    suite_add_tcase(s, test_case("random", 0, tests));
    suite_add_tcase(s, test_case("moments", 0, moments));
    return test_run(s);
}
