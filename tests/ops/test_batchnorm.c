/* tests/ops/test_batchnorm.c: batch normalisation (ops/batchnorm.c) against
 * a naive host loop in double (training and eval, (N, C) and (N, C, H, W),
 * a strided view), PyTorch's F.batch_norm forward and backward and its
 * running statistics over several steps, finite differences for the input,
 * weight and bias, the bad-input messages, and steady state. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

typedef struct bn_arg {
    bool training, affine; /* affine: golden cases with weight and bias */
    float momentum, eps;
    clg_tensor *running_mean, *running_var; /* for ops whose inputs are x, w, b */
} bn_arg;

/* Golden cases: inputs x, running_mean, running_var[, weight, bias]. */
static clg_tensor *run_golden(clg_tensor *const *in, const void *arg)
{
    const bn_arg *a = arg;
    return clg_batch_norm(in[0], in[1], in[2], a->affine ? in[3] : NULL, a->affine ? in[4] : NULL,
                          a->training, a->momentum, a->eps);
}

/* Gradient checks: inputs x, weight, bias; running statistics from `arg`. */
static clg_tensor *run_xwb(clg_tensor *const *in, const void *arg)
{
    const bn_arg *a = arg;
    return clg_batch_norm(in[0], a->running_mean, a->running_var, in[1], in[2], a->training,
                          a->momentum, a->eps);
}

/* Two training-mode uses of the same x, weight and bias without running
 * statistics: every gradient is accumulated into by the second backward. */
static clg_tensor *run_twice(clg_tensor *const *in, const void *arg)
{
    const bn_arg *a = arg;
    clg_tensor *y = clg_batch_norm(in[0], NULL, NULL, in[1], in[2], true, 0.1f, a->eps);
    return clg_add(y,
                   clg_mul(y, clg_batch_norm(in[0], NULL, NULL, in[1], in[2], true, 0.1f, a->eps)));
}

/* check/'s chk_batch_norm (shared with `clgrad check`) on float arrays: y =
 * (x - mean) / sqrt(var + eps) w + b per channel, x (n, c, inner); training
 * updates rm and rv as PyTorch (unbiased variance); without training it
 * reads them. */
static void host_batch_norm(const float *x, int n, int c, int inner, float *rm, float *rv,
                            const float *w, const float *b, bool training, double momentum,
                            double eps, float *y)
{
    size_t total = (size_t)n * c * inner;
    double *xd = test_doubles(x, total), *yd = test_doubles(x, total);
    double *rmd = test_doubles(rm, (size_t)c), *rvd = test_doubles(rv, (size_t)c);
    double *wd = test_doubles(w, (size_t)c), *bd = test_doubles(b, (size_t)c);
    chk_batch_norm(xd, n, c, inner, rmd, rvd, wd, bd, training, momentum, eps, yd);
    test_floats(yd, y, total);
    test_floats(rmd, rm, (size_t)c);
    test_floats(rvd, rv, (size_t)c);
    free(xd), free(yd), free(rmd), free(rvd), free(wd), free(bd);
}

/* (N, C) = (9, 5) and (N, C, H, W) = (2, 3, 5, 7), the latter also read
 * through a transposed view (N, C, W, H) of a (2, 3, 7, 5) tensor. Training
 * then eval (with the running statistics training left), values and the
 * running statistics against the host. */
START_TEST(test_batch_norm_matches_host)
{
    clg_context *ctx = test_context();
    const test_tol *tol = test_tol_get("reduction");
    for (int variant = 0; variant < 3; variant++) {
        int rank = variant == 0 ? 2 : 4;
        int n = variant == 0 ? 9 : 2, c = variant == 0 ? 5 : 3, inner = variant == 0 ? 1 : 35;
        int total = n * c * inner;
        float *x = malloc((size_t)total * sizeof *x), *y = malloc((size_t)total * sizeof *y);
        float w[5], b[5], rm[5], rv[5];
        test_random(x, (size_t)total, 10 + variant, -2, 3);
        test_random(w, 5, 20, 0.5f, 1.5f);
        test_random(b, 5, 21, -1, 1);
        test_random(rm, 5, 22, -0.5f, 0.5f);
        test_random(rv, 5, 23, 0.5f, 2);
        int64_t shape[4] = {n, c, variant == 2 ? 7 : 5, variant == 2 ? 5 : 7};
        clg_tensor *tx = test_tensor(ctx, rank, shape, x, false);
        clg_tensor *tw = test_tensor(ctx, 1, (int64_t[]){c}, w, false);
        clg_tensor *tb = test_tensor(ctx, 1, (int64_t[]){c}, b, false);
        clg_tensor *trm = test_tensor(ctx, 1, (int64_t[]){c}, rm, false);
        clg_tensor *trv = test_tensor(ctx, 1, (int64_t[]){c}, rv, false);
        for (int training = 1; training >= 0; training--) {
            clg_step_begin(ctx);
            clg_tensor *input = variant == 2 ? clg_transpose(tx, 2, 3) : tx;
            float *xv = test_download(input); /* the logical (N, C, H, W) values */
            clg_tensor *out = clg_batch_norm(input, trm, trv, tw, tb, training, 0.2f, 1e-4f);
            ck_assert_msg(out != NULL, "%s", clg_context_error(ctx));
            float *got = test_download(out);
            host_batch_norm(xv, n, c, inner, rm, rv, w, b, training, 0.2, 1e-4, y);
            char what[64];
            snprintf(what, sizeof what, "variant %d, training %d: out", variant, training);
            test_assert_close(got, y, (size_t)total, tol, what);
            float *got_rm = test_download(trm), *got_rv = test_download(trv);
            test_assert_close(got_rm, rm, (size_t)c, tol, "running_mean");
            test_assert_close(got_rv, rv, (size_t)c, tol, "running_var");
            free(got_rm);
            free(got_rv);
            free(got);
            free(xv);
            clg_step_end(ctx);
        }
        clg_tensor_destroy(tx);
        clg_tensor_destroy(tw);
        clg_tensor_destroy(tb);
        clg_tensor_destroy(trm);
        clg_tensor_destroy(trv);
        free(x);
        free(y);
    }
    clg_context_destroy(ctx);
}
END_TEST

/* F.batch_norm forward and backward (input, weight, bias) in both modes on
 * (7, 5), (3, 5, 4, 6), batch 1 with H W = 10 (valid in training), and
 * without weight and bias. */
START_TEST(test_batch_norm_golden)
{
    clg_context *ctx = test_context();
    clg_safetensors *st = test_golden_open(ctx, "ops_batchnorm");
    const char *modes[] = {"train", "eval"};
    const char *shapes[] = {"rank2", "rank4", "batch1"};
    for (int m = 0; m < 2; m++) {
        bn_arg arg = {m == 0, true, 0.1f, 1e-5f, NULL, NULL};
        for (int s = 0; s < 3; s++) {
            char name[64];
            snprintf(name, sizeof name, "%s.%s", modes[m], shapes[s]);
            test_golden_case(ctx, st, name, run_golden, &arg, 5, 0, test_tol_get("golden"));
        }
        bn_arg noaffine = {m == 0, false, 0.1f, 1e-3f, NULL, NULL};
        char name[64];
        snprintf(name, sizeof name, "%s.noaffine", modes[m]);
        test_golden_case(ctx, st, name, run_golden, &noaffine, 3, 0, test_tol_get("golden"));
    }
    clg_safetensors_destroy(st);
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

/* Three training steps (momentum 0.3, eps 1e-3) from mean 0 and variance 1:
 * outputs and running statistics after each step against PyTorch. */
START_TEST(test_batch_norm_running_stats_golden)
{
    clg_context *ctx = test_context();
    clg_safetensors *st = test_golden_open(ctx, "ops_batchnorm");
    const test_tol *tol = test_tol_get("golden");
    const char *variants[] = {"rank2", "rank4"};
    const int64_t shapes[2][4] = {{6, 3}, {2, 3, 5, 3}};
    for (int v = 0; v < 2; v++) {
        char name[96];
        snprintf(name, sizeof name, "running.%s.weight", variants[v]);
        clg_tensor *w = test_tensor(ctx, 1, (int64_t[]){3}, golden(st, name, NULL), false);
        snprintf(name, sizeof name, "running.%s.bias", variants[v]);
        clg_tensor *b = test_tensor(ctx, 1, (int64_t[]){3}, golden(st, name, NULL), false);
        clg_tensor *rm = test_tensor(ctx, 1, (int64_t[]){3}, NULL, false);
        clg_tensor *rv = test_tensor(ctx, 1, (int64_t[]){3}, (float[]){1, 1, 1}, false);
        for (int step = 0; step < 3; step++) {
            size_t n;
            snprintf(name, sizeof name, "running.%s.x%d", variants[v], step);
            const float *x = golden(st, name, &n);
            clg_step_begin(ctx);
            clg_tensor *tx = clg_tensor_from_host(ctx, CLG_DTYPE_F32, v == 0 ? 2 : 4, shapes[v], x);
            clg_tensor *out = clg_batch_norm(tx, rm, rv, w, b, true, 0.3f, 1e-3f);
            ck_assert_msg(out != NULL, "%s", clg_context_error(ctx));
            float *got = test_download(out);
            snprintf(name, sizeof name, "running.%s.out%d", variants[v], step);
            test_assert_close(got, golden(st, name, NULL), n, tol, name);
            free(got);
            clg_step_end(ctx);
            const char *which[2] = {"mean", "var"};
            clg_tensor *stats[2] = {rm, rv};
            for (int k = 0; k < 2; k++) {
                snprintf(name, sizeof name, "running.%s.%s%d", variants[v], which[k], step);
                got = test_download(stats[k]);
                test_assert_close(got, golden(st, name, NULL), 3, tol, name);
                free(got);
            }
        }
        clg_tensor_destroy(w);
        clg_tensor_destroy(b);
        clg_tensor_destroy(rm);
        clg_tensor_destroy(rv);
    }
    clg_safetensors_destroy(st);
    clg_context_destroy(ctx);
}
END_TEST

/* Finite differences of x, weight and bias in both modes and both ranks;
 * in training the normalisation couples every element of a channel, which
 * central differences see as well. Then without weight and bias, and with
 * every input used twice (accumulating backward). */
START_TEST(test_batch_norm_gradcheck)
{
    clg_context *ctx = test_context();
    const test_tol *tol = test_tol_get("gradcheck");
    const int64_t shapes[2][4] = {{6, 3}, {2, 3, 3, 2}};
    float rm[3] = {0.1f, -0.2f, 0.3f}, rv[3] = {0.8f, 1.3f, 0.6f};
    clg_tensor *trm = test_tensor(ctx, 1, (int64_t[]){3}, rm, false);
    clg_tensor *trv = test_tensor(ctx, 1, (int64_t[]){3}, rv, false);
    for (int v = 0; v < 2; v++) {
        int rank = v == 0 ? 2 : 4;
        int total = v == 0 ? 18 : 36;
        float x[36], w[3], b[3];
        test_random(x, (size_t)total, 30 + v, -2, 2);
        test_random(w, 3, 40 + v, 0.5f, 1.5f);
        test_random(b, 3, 50 + v, -1, 1);
        clg_tensor *tx = test_tensor(ctx, rank, shapes[v], x, true);
        clg_tensor *tw = test_tensor(ctx, 1, (int64_t[]){3}, w, true);
        clg_tensor *tb = test_tensor(ctx, 1, (int64_t[]){3}, b, true);
        clg_tensor *in[3] = {tx, tw, tb};
        for (int training = 0; training < 2; training++) {
            bn_arg arg = {training, true, 0.1f, 1e-3f, trm, trv};
            test_gradcheck(ctx, run_xwb, &arg, 3, in, tol);
            clg_tensor *x_only[3] = {tx, NULL, NULL}; /* no weight, no bias */
            test_gradcheck(ctx, run_xwb, &arg, 1, x_only, tol);
        }
        bn_arg twice = {true, true, 0.1f, 1e-3f, NULL, NULL};
        test_gradcheck(ctx, run_twice, &twice, 3, in, tol);
        /* eval mode with only weight and bias wanting gradients */
        clg_tensor_set_requires_grad(tx, false);
        bn_arg eval = {false, true, 0.1f, 1e-3f, trm, trv};
        test_gradcheck(ctx, run_xwb, &eval, 3, in, tol);
        clg_tensor_destroy(tx);
        clg_tensor_destroy(tw);
        clg_tensor_destroy(tb);
    }
    clg_tensor_destroy(trm);
    clg_tensor_destroy(trv);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_batch_norm_bad_input)
{
    clg_context *ctx = test_context();
    clg_tensor *x3 = test_tensor(ctx, 3, (int64_t[]){2, 3, 4}, NULL, false);
    clg_tensor *x4 = test_tensor(ctx, 4, (int64_t[]){2, 3, 4, 5}, NULL, false);
    clg_tensor *one = test_tensor(ctx, 2, (int64_t[]){1, 3}, NULL, false);
    clg_tensor *one4 = test_tensor(ctx, 4, (int64_t[]){1, 3, 1, 1}, NULL, false);
    clg_tensor *c3 = test_tensor(ctx, 1, (int64_t[]){3}, (float[]){1, 1, 1}, false);
    clg_tensor *c4 = test_tensor(ctx, 1, (int64_t[]){4}, NULL, false);
    test_expect_error(ctx, clg_batch_norm(x3, c3, c3, NULL, NULL, true, 0.1f, 1e-5f),
                      CLG_STATUS_SHAPE,
                      "clg_batch_norm: input must be (N, C) or (N, C, H, W), not [2, 3, 4]");
    test_expect_error(ctx, clg_batch_norm(x4, c4, c3, NULL, NULL, true, 0.1f, 1e-5f),
                      CLG_STATUS_SHAPE,
                      "clg_batch_norm: running_mean of shape [4] does not match the 3 channels of "
                      "input [2, 3, 4, 5]");
    test_expect_error(ctx, clg_batch_norm(x4, c3, c4, NULL, NULL, false, 0.1f, 1e-5f),
                      CLG_STATUS_SHAPE,
                      "clg_batch_norm: running_var of shape [4] does not match the 3 channels of "
                      "input [2, 3, 4, 5]");
    test_expect_error(ctx, clg_batch_norm(x4, c3, c3, c4, c3, true, 0.1f, 1e-5f), CLG_STATUS_SHAPE,
                      "clg_batch_norm: weight of shape [4] does not match the 3 channels of input "
                      "[2, 3, 4, 5]");
    test_expect_error(ctx, clg_batch_norm(x4, c3, c3, c3, c4, true, 0.1f, 1e-5f), CLG_STATUS_SHAPE,
                      "clg_batch_norm: bias of shape [4] does not match the 3 channels of input "
                      "[2, 3, 4, 5]");
    test_expect_error(ctx, clg_batch_norm(one, c3, c3, NULL, NULL, true, 0.1f, 1e-5f),
                      CLG_STATUS_SHAPE,
                      "clg_batch_norm: expected more than 1 value per channel when training, got "
                      "input [1, 3]");
    test_expect_error(ctx, clg_batch_norm(one4, NULL, NULL, NULL, NULL, true, 0.1f, 1e-5f),
                      CLG_STATUS_SHAPE,
                      "clg_batch_norm: expected more than 1 value per channel when training, got "
                      "input [1, 3, 1, 1]");
    test_expect_error(ctx, clg_batch_norm(x4, NULL, c3, NULL, NULL, false, 0.1f, 1e-5f),
                      CLG_STATUS_INVALID_ARGUMENT,
                      "clg_batch_norm: running_mean and running_var are needed when not training "
                      "(input [2, 3, 4, 5])");
    test_expect_error(ctx, clg_batch_norm(x4, c3, c3, NULL, NULL, true, 1.5f, 1e-5f),
                      CLG_STATUS_INVALID_ARGUMENT,
                      "clg_batch_norm: momentum 1.5 is outside [0, 1]");
    test_expect_error(ctx, clg_batch_norm(x4, c3, c3, NULL, NULL, true, 0.1f, 0.0f),
                      CLG_STATUS_INVALID_ARGUMENT,
                      "clg_batch_norm: eps 0 must be positive and finite");
    test_expect_error(ctx, clg_batch_norm(x4, c3, c3, NULL, NULL, true, 0.1f, -1e-5f),
                      CLG_STATUS_INVALID_ARGUMENT,
                      "clg_batch_norm: eps -1e-05 must be positive and finite");
    /* batch 1 is fine in eval mode, and in training when H W > 1 */
    clg_step_begin(ctx);
    ck_assert_ptr_nonnull(clg_batch_norm(one, c3, c3, NULL, NULL, false, 0.1f, 1e-5f));
    clg_step_end(ctx);
    /* a failed earlier op: NULL, and the message stays the first error's */
    ck_assert_ptr_null(clg_batch_norm(NULL, c3, c3, NULL, NULL, true, 0.1f, 1e-5f));
    ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_OK);
    clg_tensor *ts[] = {x3, x4, one, one4, c3, c4};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        clg_tensor_destroy(ts[i]);
    clg_context_destroy(ctx);
}
END_TEST

/* A second identical training step (forward and backward to x, weight and
 * bias) allocates no device memory and builds no program. */
START_TEST(test_batch_norm_steady_state)
{
    clg_context *ctx = test_context();
    float x[2 * 5 * 6 * 4];
    test_random(x, 240, 60, -1, 1);
    clg_tensor *tx = test_tensor(ctx, 4, (int64_t[]){2, 5, 6, 4}, x, true);
    clg_tensor *w = test_tensor(ctx, 1, (int64_t[]){5}, (float[]){1, 2, 3, 4, 5}, true);
    clg_tensor *b = test_tensor(ctx, 1, (int64_t[]){5}, NULL, true);
    clg_tensor *rm = test_tensor(ctx, 1, (int64_t[]){5}, NULL, false);
    clg_tensor *rv = test_tensor(ctx, 1, (int64_t[]){5}, (float[]){1, 1, 1, 1, 1}, false);
    clg_counters first = {0}, second;
    for (int step = 0; step < 2; step++) {
        if (step == 1)
            clg_counters_get(ctx, &first);
        clg_step_begin(ctx);
        clg_tensor *y = clg_batch_norm(tx, rm, rv, w, b, true, 0.1f, 1e-5f);
        ck_assert_int_eq(clg_backward(clg_sum_all(clg_mul(y, y))), CLG_STATUS_OK);
        clg_step_end(ctx);
    }
    clg_counters_get(ctx, &second);
    ck_assert_int_eq(second.device_allocations, first.device_allocations);
    ck_assert_int_eq(second.program_builds, first.program_builds);
    clg_tensor *ts[] = {tx, w, b, rm, rv};
    for (size_t i = 0; i < 5; i++)
        clg_tensor_destroy(ts[i]);
    clg_context_destroy(ctx);
}
END_TEST

/* Under a bound of 1,024 iterations, training statistics over 200,000
 * elements a channel (two passes of 200,000 / the group's work-items each,
 * past the bound on both plans) refuse, naming the op; in evaluation (no
 * statistics to gather) the same input runs. */
START_TEST(test_batch_norm_loop_bound)
{
    clg_context *ctx = test_context_loop_limit("1024");
    const int64_t shape[4] = {2, 1, 400, 250};
    float *x = calloc(200000, sizeof *x);
    clg_tensor *t = test_tensor(ctx, 4, shape, x, false);
    clg_tensor *rm = test_tensor(ctx, 1, (int64_t[]){1}, (float[]){0}, false);
    clg_tensor *rv = test_tensor(ctx, 1, (int64_t[]){1}, (float[]){1}, false);
    clg_step_begin(ctx);
    test_expect_loop_refusal(ctx, clg_batch_norm(t, rm, rv, NULL, NULL, true, 0.1f, 1e-5f),
                        "clg_batch_norm");
    ck_assert_ptr_nonnull(clg_batch_norm(t, rm, rv, NULL, NULL, false, 0.1f, 1e-5f));
    clg_step_end(ctx);
    clg_tensor_destroy(t);
    clg_tensor_destroy(rm);
    clg_tensor_destroy(rv);
    free(x);
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_batch_norm_matches_host,
                            test_batch_norm_golden,
                            test_batch_norm_running_stats_golden,
                            test_batch_norm_gradcheck,
                            test_batch_norm_bad_input,
                            test_batch_norm_steady_state,
                            test_batch_norm_loop_bound,
                            NULL};
    return test_main("ops/batchnorm", "batchnorm", 0, tests);
}
