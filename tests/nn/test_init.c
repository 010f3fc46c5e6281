/* tests/nn/test_init.c: the Philox-4x32-10 generator (engine/random.c)
 * against the known-answer vectors of the Random123 distribution, and the
 * initialisers (nn/init.c): determinism, sample moments of 1e5 draws, and
 * xavier/kaiming bounds from PyTorch's fan_in/fan_out. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

/* The generator is internal to the library (hidden symbols), so the suite
 * compiles its own copy of the same file to check the raw bijection; the
 * tests below tie the library's initialisers to that copy. */
#include "engine/random.c"

#define DRAWS 100000

/* Random123 1.09, examples/kat_vectors: "philox4x32 10 CTR[4] KEY[2] OUT[4]". */
START_TEST(test_init_philox_known_answers)
{
    static const struct {
        uint32_t ctr[4], key[2], out[4];
    } kat[] = {
        {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
        {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
         {0xffffffff, 0xffffffff},
         {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
        {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
         {0xa4093822, 0x299f31d0},
         {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
    };
    for (size_t v = 0; v < sizeof kat / sizeof kat[0]; v++) {
        uint32_t out[4];
        eng_philox4x32_10(kat[v].ctr, kat[v].key, out);
        for (int i = 0; i < 4; i++)
            ck_assert_msg(out[i] == kat[v].out[i], "vector %zu word %d: got %08x, want %08x", v,
                          i, out[i], kat[v].out[i]);
    }
}
END_TEST

/* Through the public API: seed 0 draws block 0 of stream 0, which is the
 * first known-answer vector, word by word, as top-24-bit fractions. */
START_TEST(test_init_uniform_is_philox)
{
    clg_context *ctx = test_context();
    clg_tensor *t = test_tensor(ctx, 1, (int64_t[]){6}, NULL, false);
    ck_assert_int_eq(clg_init_uniform(t, 0.0f, 1.0f, 0), CLG_STATUS_OK);
    float *got = test_download(t);
    const uint32_t words[4] = {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8};
    for (int i = 0; i < 4; i++) {
        float want = (float)(words[i] >> 8) / 16777216.0f;
        ck_assert_msg(got[i] == want, "element %d: got %.9g, want %.9g", i, (double)got[i],
                      (double)want);
    }
    free(got);

    /* and the library's uniforms and normals are the suite's copy's */
    size_t n = 1000;
    clg_tensor *u = test_tensor(ctx, 2, (int64_t[]){10, 100}, NULL, false);
    ck_assert_int_eq(clg_init_uniform(u, 0.0f, 1.0f, 0x0123456789abcdefULL), CLG_STATUS_OK);
    float *want = malloc(n * sizeof *want);
    got = test_download(u);
    eng_random_uniform(0x0123456789abcdefULL, 0, want, n);
    test_assert_close(got, want, n, test_tol_get("exact"), "uniform vs engine/random.c");
    free(got);
    ck_assert_int_eq(clg_init_normal(u, 0.0f, 1.0f, 0x0123456789abcdefULL), CLG_STATUS_OK);
    got = test_download(u);
    eng_random_normal(0x0123456789abcdefULL, 0, want, n);
    test_assert_close(got, want, n, test_tol_get("default"), "normal vs engine/random.c");
    free(got);
    free(want);
    clg_tensor_destroy(t);
    clg_tensor_destroy(u);
    clg_context_destroy(ctx);
}
END_TEST

/* Streams of one seed, and one stream of two seeds, share no draws. */
START_TEST(test_init_streams_differ)
{
    enum { N = 4096 };
    static float a[N], b[N], c[N];
    eng_random_uniform(7, 0, a, N);
    eng_random_uniform(7, 1, b, N);
    eng_random_uniform(8, 0, c, N);
    int same_ab = 0, same_ac = 0;
    for (int i = 0; i < N; i++) {
        same_ab += a[i] == b[i];
        same_ac += a[i] == c[i];
    }
    /* equal by chance: probability 2^-24 each */
    ck_assert_int_le(same_ab, 2);
    ck_assert_int_le(same_ac, 2);
    /* a longer request starts with the shorter one (counter-based) */
    float prefix[5];
    eng_random_uniform(7, 0, prefix, 5);
    ck_assert(memcmp(prefix, a, sizeof prefix) == 0);
}
END_TEST

START_TEST(test_init_seed_determinism)
{
    clg_context *ctx = test_context();
    int64_t shape[2] = {37, 29};
    size_t n = 37 * 29;
    clg_tensor *t = test_tensor(ctx, 2, shape, NULL, false);
    for (int kind = 0; kind < 2; kind++) {
        clg_status (*init)(clg_tensor *, float, uint64_t) =
            kind == 0 ? clg_init_xavier_uniform : clg_init_kaiming_normal;
        ck_assert_int_eq(init(t, 1.0f, 42), CLG_STATUS_OK);
        float *first = test_download(t);
        ck_assert_int_eq(init(t, 1.0f, 42), CLG_STATUS_OK);
        float *again = test_download(t);
        ck_assert_int_eq(init(t, 1.0f, 43), CLG_STATUS_OK);
        float *other = test_download(t);
        test_assert_close(again, first, n, test_tol_get("exact"), "same seed");
        size_t same = 0;
        for (size_t i = 0; i < n; i++)
            same += first[i] == other[i];
        ck_assert_msg(same <= 2, "seeds 42 and 43 agree on %zu of %zu values", same, n);
        free(first);
        free(again);
        free(other);
    }
    clg_tensor_destroy(t);
    clg_context_destroy(ctx);
}
END_TEST

typedef struct moments {
    double mean, std, min, max, within_one_std;
} moments;

static moments measure(const clg_tensor *t)
{
    float *v = test_download(t);
    size_t n = (size_t)clg_tensor_numel(t);
    moments m = {0, 0, INFINITY, -INFINITY, 0};
    for (size_t i = 0; i < n; i++) {
        m.mean += v[i];
        m.min = fmin(m.min, v[i]);
        m.max = fmax(m.max, v[i]);
    }
    m.mean /= (double)n;
    for (size_t i = 0; i < n; i++)
        m.std += ((double)v[i] - m.mean) * ((double)v[i] - m.mean);
    m.std = sqrt(m.std / (double)(n - 1));
    for (size_t i = 0; i < n; i++)
        m.within_one_std += fabs((double)v[i] - m.mean) < m.std;
    m.within_one_std /= (double)n;
    free(v);
    return m;
}

/* The sample mean has standard error std / sqrt(n) (0.3% of std for 1e5
 * draws): 5 of them is a bound a correct generator misses once in 1.7
 * million runs. The sample std's standard error is about std / sqrt(2n). */
static void assert_moments(moments m, double mean, double std, const char *what)
{
    double n = DRAWS;
    ck_assert_msg(fabs(m.mean - mean) <= 5 * std / sqrt(n), "%s: mean %g, want %g", what, m.mean,
                  mean);
    ck_assert_msg(fabs(m.std - std) <= 5 * std / sqrt(2 * n), "%s: std %g, want %g", what, m.std,
                  std);
}

START_TEST(test_init_uniform_moments)
{
    clg_context *ctx = test_context();
    clg_tensor *t = test_tensor(ctx, 1, (int64_t[]){DRAWS}, NULL, false);
    ck_assert_int_eq(clg_init_uniform(t, -3.0f, 5.0f, 1), CLG_STATUS_OK);
    moments m = measure(t);
    /* U(a, b): mean (a + b) / 2, std (b - a) / sqrt(12) */
    assert_moments(m, 1.0, 8.0 / sqrt(12.0), "U(-3, 5)");
    ck_assert_msg(m.min >= -3.0 && m.max <= 5.0, "U(-3, 5): range [%g, %g]", m.min, m.max);
    /* 1e5 draws come within 8 * 1e-3 of both ends with near certainty */
    ck_assert_msg(m.min < -3.0 + 1e-3 * 8 && m.max > 5.0 - 1e-3 * 8, "U(-3, 5): range [%g, %g]",
                  m.min, m.max);
    clg_tensor_destroy(t);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_init_normal_moments)
{
    clg_context *ctx = test_context();
    clg_tensor *t = test_tensor(ctx, 2, (int64_t[]){DRAWS / 100, 100}, NULL, false);
    ck_assert_int_eq(clg_init_normal(t, 0.5f, 2.0f, 2), CLG_STATUS_OK);
    moments m = measure(t);
    assert_moments(m, 0.5, 2.0, "N(0.5, 2^2)");
    /* the shape, not just two moments: P(|z| < 1) = 0.6827, standard error
     * sqrt(0.68 * 0.32 / 1e5) = 0.0015 */
    ck_assert_msg(fabs(m.within_one_std - 0.6827) < 0.0075, "N: %g within one std",
                  m.within_one_std);
    /* and tails: 1e5 normals reach beyond 3.5 std (P = 4.7e-4 each) */
    ck_assert_msg(m.max > 0.5 + 3.5 * 2 && m.min < 0.5 - 3.5 * 2, "N: range [%g, %g]", m.min,
                  m.max);
    ck_assert_int_eq(clg_init_normal(t, 0.0f, -1.0f, 2), CLG_STATUS_INVALID_ARGUMENT);
    ck_assert_str_eq(clg_context_error(ctx), "clg_init_normal: std -1 must be non-negative");
    clg_tensor_destroy(t);
    clg_context_destroy(ctx);
}
END_TEST

/* (out, in) = (400, 250) and (out, in, kh, kw) = (64, 40, 3, 3): 1e5 and
 * 23040 values; fans (250, 400) and (360, 576). */
static const struct {
    int rank;
    int64_t shape[4];
    double fan_in, fan_out;
} weights[] = {
    {2, {400, 250}, 250, 400},
    {4, {64, 40, 3, 3}, 360, 576},
};

START_TEST(test_init_xavier_kaiming_uniform_bounds)
{
    clg_context *ctx = test_context();
    for (size_t w = 0; w < sizeof weights / sizeof weights[0]; w++) {
        clg_tensor *t = test_tensor(ctx, weights[w].rank, weights[w].shape, NULL, false);
        double fan_in = weights[w].fan_in, fan_out = weights[w].fan_out;
        float gain = 1.5f;
        double bounds[2] = {gain * sqrt(6.0 / (fan_in + fan_out)), gain * sqrt(3.0 / fan_in)};
        for (int kind = 0; kind < 2; kind++) {
            clg_status status = kind == 0 ? clg_init_xavier_uniform(t, gain, 11)
                                          : clg_init_kaiming_uniform(t, gain, 11);
            ck_assert_int_eq(status, CLG_STATUS_OK);
            moments m = measure(t);
            double a = bounds[kind];
            const char *what = kind == 0 ? "xavier_uniform" : "kaiming_uniform";
            ck_assert_msg(m.min >= -a * (1 + 1e-6) && m.max <= a * (1 + 1e-6),
                          "%s %zu: range [%g, %g] exceeds +-%g", what, w, m.min, m.max, a);
            /* the bound is reached: with 23040 draws or more, each end's last
             * 0.05% of the range stays empty with probability 1e-5 */
            ck_assert_msg(m.min < -0.999 * a && m.max > 0.999 * a,
                          "%s %zu: range [%g, %g], want +-%g", what, w, m.min, m.max, a);
            /* a different bound (say fan_out for fan_in) would move the std by > 10% */
            ck_assert_msg(fabs(m.std - a / sqrt(3.0)) < 0.02 * a / sqrt(3.0), "%s %zu: std %g",
                          what, w, m.std);
        }
        clg_tensor_destroy(t);
    }
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_init_xavier_kaiming_normal_std)
{
    clg_context *ctx = test_context();
    for (size_t w = 0; w < sizeof weights / sizeof weights[0]; w++) {
        clg_tensor *t = test_tensor(ctx, weights[w].rank, weights[w].shape, NULL, false);
        double fan_in = weights[w].fan_in, fan_out = weights[w].fan_out;
        float gain = (float)sqrt(2.0);
        double stds[2] = {gain * sqrt(2.0 / (fan_in + fan_out)), gain / sqrt(fan_in)};
        for (int kind = 0; kind < 2; kind++) {
            clg_status status = kind == 0 ? clg_init_xavier_normal(t, gain, 12)
                                          : clg_init_kaiming_normal(t, gain, 12);
            ck_assert_int_eq(status, CLG_STATUS_OK);
            moments m = measure(t);
            double n = (double)clg_tensor_numel(t);
            ck_assert_msg(fabs(m.mean) < 5 * stds[kind] / sqrt(n), "%zu/%d: mean %g", w, kind,
                          m.mean);
            ck_assert_msg(fabs(m.std - stds[kind]) < 5 * stds[kind] / sqrt(2 * n),
                          "%zu/%d: std %g, want %g", w, kind, m.std, stds[kind]);
        }
        clg_tensor_destroy(t);
    }
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_init_bad_input)
{
    clg_context *ctx = test_context();
    clg_tensor *v = test_tensor(ctx, 1, (int64_t[]){5}, NULL, false);
    ck_assert_int_eq(clg_init_kaiming_uniform(v, 1.0f, 1), CLG_STATUS_INVALID_ARGUMENT);
    ck_assert_str_eq(clg_context_error(ctx), "clg_init_kaiming_uniform: fan in and fan out need "
                                             "a tensor of rank 2 or more, not [5]");
    clg_context_clear_error(ctx);
    ck_assert_int_eq(clg_init_uniform(v, 1.0f, 0.0f, 1), CLG_STATUS_INVALID_ARGUMENT);
    ck_assert_str_eq(clg_context_error(ctx), "clg_init_uniform: low 1 must not exceed high 0");
    clg_context_clear_error(ctx);
    clg_tensor *labels = clg_tensor_create(ctx, CLG_DTYPE_I32, 2, (int64_t[]){2, 2});
    ck_assert_int_eq(clg_init_xavier_normal(labels, 1.0f, 1), CLG_STATUS_INVALID_ARGUMENT);
    ck_assert_str_eq(clg_context_error(ctx),
                     "clg_init_xavier_normal: the tensor [2, 2] must be float32 and contiguous");
    clg_context_clear_error(ctx);
    /* a rank-0 tensor takes one draw */
    clg_tensor *scalar = clg_tensor_create(ctx, CLG_DTYPE_F32, 0, NULL);
    ck_assert_int_eq(clg_init_uniform(scalar, 2.0f, 3.0f, 1), CLG_STATUS_OK);
    float value;
    ck_assert_int_eq(clg_tensor_item(scalar, &value), CLG_STATUS_OK);
    ck_assert(value >= 2.0f && value <= 3.0f);
    clg_tensor_destroy(scalar);
    clg_tensor_destroy(labels);
    clg_tensor_destroy(v);
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_init_philox_known_answers,
                            test_init_uniform_is_philox,
                            test_init_streams_differ,
                            test_init_seed_determinism,
                            test_init_uniform_moments,
                            test_init_normal_moments,
                            test_init_xavier_kaiming_uniform_bounds,
                            test_init_xavier_kaiming_normal_std,
                            test_init_bad_input,
                            NULL};
    return test_main("nn/init", "init", 0, tests);
}
