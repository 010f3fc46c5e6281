/* tests/optim/test_optim.c: the optimizers (optim/optim.c) against
 * torch.optim, five steps per configuration (tools/golden/gen_optim.py), with
 * the performance contract checked on every step: one kernel launch per
 * parameter that has a gradient, no device allocation; plus skipped
 * parameters, options, names and errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

enum { STEPS = 5 };

static const float *golden(const clg_safetensors *st, const char *name, size_t *count)
{
    int rank;
    const int64_t *shape;
    const void *data = NULL;
    ck_assert_msg(clg_safetensors_get(st, name, NULL, &rank, &shape, &data), "fixture lacks %s",
                  name);
    size_t n = 1;
    for (int d = 0; d < rank; d++)
        n *= (size_t)shape[d];
    if (count)
        *count = n;
    return data;
}

/* <case>.hyper: [kind, lr, momentum, dampening, weight_decay, alpha, beta1,
 * beta2, eps, centered]. */
static clg_optim_options options_from(const clg_safetensors *st, const char *case_name)
{
    char name[128];
    snprintf(name, sizeof name, "%s.hyper", case_name);
    size_t n;
    const float *h = golden(st, name, &n);
    ck_assert_int_eq(n, 10);
    clg_optim_options o = clg_optim_options_default((clg_optim_kind)h[0]);
    o.lr = h[1];
    o.momentum = h[2];
    o.dampening = h[3];
    o.weight_decay = h[4];
    o.alpha = h[5];
    o.beta1 = h[6];
    o.beta2 = h[7];
    o.eps = h[8];
    o.centered = h[9] != 0;
    return o;
}

/* Gives p the gradient g: d sum(p * G) / dp = G, as
 * clg_backward_with(p * G, ones) (the product's backward multiplies by 1). */
static void set_gradient(clg_context *ctx, clg_tensor *p, const float *g)
{
    int64_t shape[1] = {clg_tensor_numel(p)};
    clg_tensor *tg = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 1, shape, g);
    clg_tensor *out = clg_mul(p, tg);
    clg_tensor *ones = clg_tensor_full(ctx, 1, shape, 1.0f);
    ck_assert_msg(out && ones && clg_backward_with(out, ones) == CLG_STATUS_OK, "%s",
                  clg_context_error(ctx));
}

static void assert_param(const clg_safetensors *st, const char *name, const clg_tensor *p)
{
    size_t n;
    const float *want = golden(st, name, &n);
    ck_assert_int_eq(n, clg_tensor_numel(p));
    float *got = test_download(p);
    test_assert_close(got, want, n, test_tol_get("golden"), name);
    free(got);
}

/* One optimizer step, checking the counters: `launches` kernels, no device
 * allocation, and after the first step no program build either. */
static void step_counted(clg_context *ctx, clg_optim *opt, uint64_t launches, bool first)
{
    clg_counters before, after;
    clg_counters_get(ctx, &before);
    ck_assert_msg(clg_optim_step(opt) == CLG_STATUS_OK, "%s", clg_context_error(ctx));
    clg_counters_get(ctx, &after);
    ck_assert_int_eq(after.kernel_launches - before.kernel_launches, launches);
    ck_assert_int_eq(after.device_allocations, before.device_allocations);
    ck_assert_int_eq(after.host_syncs, before.host_syncs);
    ck_assert_int_eq(after.gemm_calls, before.gemm_calls);
    if (!first)
        ck_assert_int_eq(after.program_builds, before.program_builds);
}

static int run_case(clg_context *ctx, const clg_safetensors *st, const char *case_name)
{
    char name[192];
    clg_optim_options o = options_from(st, case_name);
    snprintf(name, sizeof name, "%s.param0", case_name);
    size_t n;
    const float *init = golden(st, name, &n);
    clg_tensor *p = test_tensor(ctx, 1, (int64_t[]){(int64_t)n}, init, false);
    clg_params *ps = clg_params_create(ctx);
    clg_params_add(ps, "p", p);
    clg_optim *opt = clg_optim_create(ctx, ps, &o);
    ck_assert_msg(opt != NULL, "%s: %s", case_name, clg_context_error(ctx));
    clg_counters start;
    for (int k = 0; k < STEPS; k++) {
        clg_step_begin(ctx);
        clg_optim_zero_grad(opt);
        snprintf(name, sizeof name, "%s.grad%d", case_name, k);
        set_gradient(ctx, p, golden(st, name, NULL));
        step_counted(ctx, opt, 1, k == 0);
        clg_step_end(ctx);
        snprintf(name, sizeof name, "%s.param%d", case_name, k + 1);
        assert_param(st, name, p);
        if (k == 0)
            clg_counters_get(ctx, &start);
    }
    /* from the second step on, whole steps (upload, forward, backward,
     * update) allocate nothing on the device */
    clg_counters end;
    clg_counters_get(ctx, &end);
    ck_assert_int_eq(end.device_allocations, start.device_allocations);
    clg_optim_destroy(opt);
    clg_params_destroy(ps);
    clg_tensor_destroy(p);
    return (int)o.kind;
}

START_TEST(test_optim_golden)
{
    clg_context *ctx = test_context();
    clg_safetensors *st = test_golden_open(ctx, "optim");
    int cases = 0, kinds_seen = 0;
    for (size_t i = 0; i < clg_safetensors_count(st); i++) {
        const char *entry = clg_safetensors_name(st, i);
        size_t len = strlen(entry);
        if (len < 6 || strcmp(entry + len - 6, ".hyper") != 0 || strncmp(entry, "skip_", 5) == 0)
            continue;
        char case_name[64];
        snprintf(case_name, sizeof case_name, "%.*s", (int)(len - 6), entry);
        kinds_seen |= 1 << run_case(ctx, st, case_name);
        cases++;
    }
    /* every kind, each with and without weight decay, plus heavy ball,
     * centered and momentum RMSprop, Adam's betas */
    ck_assert_int_eq(cases, 17);
    ck_assert_int_eq(kinds_seen, 0x3f);
    clg_safetensors_destroy(st);
    clg_context_destroy(ctx);
}
END_TEST

/* Parameter b has no gradient in steps 1 and 2: it is left alone (no
 * kernel), and then starts as PyTorch's does: SGD's momentum buffer from its
 * first gradient, Adam's bias correction from its own step count (a and b
 * then share Adam's launch, adam_step4, each with its own correction). */
START_TEST(test_optim_skips_params_without_grad)
{
    clg_context *ctx = test_context();
    clg_safetensors *st = test_golden_open(ctx, "optim");
    const char *cases[] = {"skip_momentum", "skip_rmsprop", "skip_adam"};
    for (size_t c = 0; c < 3; c++) {
        char name[128];
        clg_optim_options o = options_from(st, cases[c]);
        size_t n;
        snprintf(name, sizeof name, "%s.param0", cases[c]);
        const float *a0 = golden(st, name, &n);
        snprintf(name, sizeof name, "%s.b.param0", cases[c]);
        const float *b0 = golden(st, name, NULL);
        clg_tensor *a = test_tensor(ctx, 1, (int64_t[]){(int64_t)n}, a0, false);
        clg_tensor *b = test_tensor(ctx, 1, (int64_t[]){(int64_t)n}, b0, false);
        clg_params *ps = clg_params_create(ctx);
        clg_params_add(ps, "a", a);
        clg_params_add(ps, "b", b);
        clg_optim *opt = clg_optim_create(ctx, ps, &o);
        ck_assert_msg(opt != NULL, "%s", clg_context_error(ctx));
        for (int k = 0; k < STEPS; k++) {
            clg_optim_zero_grad(opt);
            clg_step_begin(ctx);
            snprintf(name, sizeof name, "%s.grad%d", cases[c], k);
            set_gradient(ctx, a, golden(st, name, NULL));
            clg_step_end(ctx);
            if (k >= 2) {
                clg_step_begin(ctx);
                snprintf(name, sizeof name, "%s.b.grad%d", cases[c], k);
                set_gradient(ctx, b, golden(st, name, NULL));
                clg_step_end(ctx);
            }
            ck_assert(k >= 2 ? clg_tensor_grad(b) != NULL : clg_tensor_grad(b) == NULL);
            /* Adam updates small tensors four to a launch */
            bool adam = strcmp(cases[c], "skip_adam") == 0;
            step_counted(ctx, opt, k >= 2 && !adam ? 2 : 1, k == 0);
            snprintf(name, sizeof name, "%s.param%d", cases[c], k + 1);
            assert_param(st, name, a);
            snprintf(name, sizeof name, "%s.b.param%d", cases[c], k + 1);
            assert_param(st, name, b);
            if (k < 2) { /* untouched, bit for bit */
                float *got = test_download(b);
                test_assert_close(got, b0, n, test_tol_get("exact"), "skipped b");
                free(got);
            }
        }
        /* zero_grad leaves nothing to update: no kernel, no change */
        clg_optim_zero_grad(opt);
        ck_assert_ptr_null(clg_tensor_grad(a));
        float *before = test_download(a);
        step_counted(ctx, opt, 0, false);
        float *after = test_download(a);
        test_assert_close(after, before, n, test_tol_get("exact"), "no gradient");
        free(before);
        free(after);
        clg_optim_destroy(opt);
        clg_params_destroy(ps);
        clg_tensor_destroy(a);
        clg_tensor_destroy(b);
    }
    clg_safetensors_destroy(st);
    clg_context_destroy(ctx);
}
END_TEST

/* Several parameters of different sizes (more than one work-group, and one
 * element), a learning-rate change between steps: plain SGD against the host. */
START_TEST(test_optim_sgd_set_lr_many_params)
{
    clg_context *ctx = test_context();
    const int64_t sizes[3] = {1, 200, 65};
    clg_tensor *ts[3];
    float *values[3], *grads[3];
    clg_params *ps = clg_params_create(ctx);
    for (int i = 0; i < 3; i++) {
        values[i] = malloc((size_t)sizes[i] * sizeof(float));
        grads[i] = malloc((size_t)sizes[i] * sizeof(float));
        test_random(values[i], (size_t)sizes[i], 100 + i, -1, 1);
        test_random(grads[i], (size_t)sizes[i], 200 + i, -1, 1);
        ts[i] = test_tensor(ctx, 1, &sizes[i], values[i], false);
        char name[8];
        snprintf(name, sizeof name, "p%d", i);
        clg_params_add(ps, name, ts[i]);
    }
    clg_optim_options o = clg_optim_options_default(CLG_OPTIM_SGD);
    clg_optim *opt = clg_optim_create(ctx, ps, &o);
    const float lrs[2] = {0.1f, 0.25f};
    for (int step = 0; step < 2; step++) {
        clg_optim_set_lr(opt, lrs[step]);
        clg_optim_zero_grad(opt);
        for (int i = 0; i < 3; i++) {
            clg_step_begin(ctx);
            set_gradient(ctx, ts[i], grads[i]);
            clg_step_end(ctx);
        }
        step_counted(ctx, opt, 3, step == 0);
        for (int i = 0; i < 3; i++) {
            for (int64_t j = 0; j < sizes[i]; j++)
                values[i][j] = values[i][j] + (-lrs[step]) * grads[i][j];
            float *got = test_download(ts[i]);
            test_assert_close(got, values[i], (size_t)sizes[i], test_tol_get("default"), "sgd");
            free(got);
        }
    }
    clg_optim_destroy(opt);
    clg_params_destroy(ps);
    for (int i = 0; i < 3; i++) {
        clg_tensor_destroy(ts[i]);
        free(values[i]);
        free(grads[i]);
    }
    clg_context_destroy(ctx);
}
END_TEST

/* Adam and AdamW over seven parameters: six small ones, which go four to a
 * launch (adam_step4: a full group, then a group of two with two unused
 * slots) and one larger than a group takes (20,007 elements, a launch of its
 * own), so 3 launches a step; sizes from 1 to 5 vectors and some elements of
 * the plan's width (16 on AVX-512), so a tensor's last work-item may take a
 * part of a vector; two steps with weight decay, against the update written
 * out on the host in float. */
START_TEST(test_optim_adam_groups)
{
    clg_context *ctx = test_context();
    enum { P = 7 };
    const int64_t sizes[P] = {1, 200, 65, 20007, 3, 17, 5};
    for (int decoupled = 0; decoupled < 2; decoupled++) {
        clg_tensor *ts[P];
        float *values[P], *grads[P], *m[P], *v[P];
        clg_params *ps = clg_params_create(ctx);
        for (int i = 0; i < P; i++) {
            size_t n = (size_t)sizes[i];
            values[i] = malloc(n * sizeof(float));
            grads[i] = malloc(n * sizeof(float));
            m[i] = calloc(n, sizeof(float));
            v[i] = calloc(n, sizeof(float));
            test_random(values[i], n, 300 + i, -1, 1);
            ts[i] = test_tensor(ctx, 1, &sizes[i], values[i], false);
            char name[8];
            snprintf(name, sizeof name, "p%d", i);
            clg_params_add(ps, name, ts[i]);
        }
        clg_optim_options o =
            clg_optim_options_default(decoupled ? CLG_OPTIM_ADAMW : CLG_OPTIM_ADAM);
        o.weight_decay = 0.1f;
        clg_optim *opt = clg_optim_create(ctx, ps, &o);
        ck_assert_msg(opt != NULL, "%s", clg_context_error(ctx));
        for (int step = 1; step <= 2; step++) {
            clg_optim_zero_grad(opt);
            for (int i = 0; i < P; i++) {
                test_random(grads[i], (size_t)sizes[i], 400 + 10 * step + i, -1, 1);
                clg_step_begin(ctx);
                set_gradient(ctx, ts[i], grads[i]);
                clg_step_end(ctx);
            }
            step_counted(ctx, opt, 3, step == 1);
            float step_size = (float)(o.lr / (1.0 - pow(o.beta1, step)));
            float bias2_sqrt = (float)sqrt(1.0 - pow(o.beta2, step));
            for (int i = 0; i < P; i++) {
                for (int64_t j = 0; j < sizes[i]; j++) {
                    float p = values[i][j], g = grads[i][j];
                    if (decoupled)
                        p = p * (float)(1.0 - (double)o.lr * o.weight_decay);
                    else
                        g = g + o.weight_decay * p;
                    m[i][j] = m[i][j] * o.beta1 + (1.0f - o.beta1) * g;
                    v[i][j] = v[i][j] * o.beta2 + (1.0f - o.beta2) * g * g;
                    values[i][j] =
                        p - step_size * (m[i][j] / (sqrtf(v[i][j]) / bias2_sqrt + o.eps));
                }
                float *got = test_download(ts[i]);
                char what[32];
                snprintf(what, sizeof what, "%s p%d step %d", decoupled ? "adamw" : "adam", i,
                         step);
                test_assert_close(got, values[i], (size_t)sizes[i], test_tol_get("default"), what);
                free(got);
            }
        }
        clg_optim_destroy(opt);
        clg_params_destroy(ps);
        for (int i = 0; i < P; i++) {
            clg_tensor_destroy(ts[i]);
            free(values[i]);
            free(grads[i]);
            free(m[i]);
            free(v[i]);
        }
    }
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_optim_options_and_names)
{
    const char *names[] = {"sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw"};
    for (int k = 0; k < 6; k++) {
        clg_optim_kind kind;
        ck_assert(clg_optim_kind_parse(names[k], &kind));
        ck_assert_int_eq(kind, k);
        ck_assert_str_eq(clg_optim_kind_name((clg_optim_kind)k), names[k]);
        clg_optim_options o = clg_optim_options_default((clg_optim_kind)k);
        ck_assert_int_eq(o.kind, k);
        ck_assert(o.dampening == 0.0f && !o.centered);
    }
    clg_optim_kind kind = CLG_OPTIM_ADAM;
    ck_assert(!clg_optim_kind_parse("Adam", &kind));
    ck_assert(!clg_optim_kind_parse("adamax", &kind));
    ck_assert(!clg_optim_kind_parse("", &kind));
    ck_assert_int_eq(kind, CLG_OPTIM_ADAM); /* untouched on failure */

    /* PyTorch's defaults */
    clg_optim_options o = clg_optim_options_default(CLG_OPTIM_SGD);
    ck_assert(o.lr == 0.1f && o.momentum == 0.0f && o.weight_decay == 0.0f);
    o = clg_optim_options_default(CLG_OPTIM_MOMENTUM);
    ck_assert(o.lr == 0.1f && o.momentum == 0.9f);
    o = clg_optim_options_default(CLG_OPTIM_NESTEROV);
    ck_assert(o.lr == 0.1f && o.momentum == 0.9f);
    o = clg_optim_options_default(CLG_OPTIM_RMSPROP);
    ck_assert(o.lr == 1e-2f && o.alpha == 0.99f && o.eps == 1e-8f && o.momentum == 0.0f &&
              o.weight_decay == 0.0f);
    o = clg_optim_options_default(CLG_OPTIM_ADAM);
    ck_assert(o.lr == 1e-3f && o.beta1 == 0.9f && o.beta2 == 0.999f && o.eps == 1e-8f &&
              o.weight_decay == 0.0f);
    o = clg_optim_options_default(CLG_OPTIM_ADAMW);
    ck_assert(o.lr == 1e-3f && o.beta1 == 0.9f && o.beta2 == 0.999f && o.eps == 1e-8f &&
              o.weight_decay == 1e-2f);
}
END_TEST

START_TEST(test_optim_bad_options)
{
    clg_context *ctx = test_context();
    clg_tensor *p = test_tensor(ctx, 1, (int64_t[]){3}, NULL, false);
    clg_params *ps = clg_params_create(ctx);
    clg_params_add(ps, "p", p);
    clg_optim_options o = clg_optim_options_default(CLG_OPTIM_NESTEROV);
    o.dampening = 0.1f;
    test_expect_error(ctx, clg_optim_create(ctx, ps, &o), CLG_STATUS_INVALID_ARGUMENT,
                      "clg_optim_create (nesterov): Nesterov momentum "
                      "needs momentum > 0 and zero dampening");
    o = clg_optim_options_default(CLG_OPTIM_ADAM);
    o.beta2 = 1.0f;
    ck_assert_ptr_null(clg_optim_create(ctx, ps, &o));
    ck_assert_str_eq(clg_context_error(ctx),
                     "clg_optim_create (adam): beta1 and beta2 must be in [0, 1)");
    clg_context_clear_error(ctx);
    o = clg_optim_options_default(CLG_OPTIM_SGD);
    o.lr = -1.0f;
    ck_assert_ptr_null(clg_optim_create(ctx, ps, &o));
    ck_assert_str_eq(clg_context_error(ctx), "clg_optim_create (sgd): lr must be >= 0");
    clg_context_clear_error(ctx);
    /* state is allocated at creation: one zero tensor per moment */
    o = clg_optim_options_default(CLG_OPTIM_ADAM);
    clg_memstats mem_before, mem_after;
    clg_memstats_get(ctx, &mem_before);
    clg_optim *opt = clg_optim_create(ctx, ps, &o);
    ck_assert_ptr_nonnull(opt);
    clg_memstats_get(ctx, &mem_after);
    ck_assert_uint_ge(mem_after.bytes_in_use, mem_before.bytes_in_use + 2 * 3 * sizeof(float));
    clg_optim_destroy(opt);
    clg_optim_destroy(NULL);
    clg_params_destroy(ps);
    clg_tensor_destroy(p);
    clg_context_destroy(ctx);
}
END_TEST

/* clg_clip_grad_norm against torch.nn.utils.clip_grad_norm_ (optim_clip
 * fixture, tools/golden/gen_recurrent.py): a case that clips and one that
 * does not; without the norm asked for, no host sync and two launches per
 * gradient. */
static void clip_case(clg_context *ctx, const clg_safetensors *st, const char *name,
                      float max_norm)
{
    static const int64_t shapes[3][3] = {{3, 4, 0}, {7, 0, 0}, {2, 2, 2}};
    static const int ranks[3] = {2, 1, 3};
    clg_params *ps = clg_params_create(ctx);
    clg_tensor *p[3];
    char key[64];
    for (int i = 0; i < 3; i++) {
        p[i] = test_tensor(ctx, ranks[i], shapes[i], NULL, true);
        snprintf(key, sizeof key, "p%d", i);
        ck_assert_int_eq(clg_params_add(ps, key, p[i]), CLG_STATUS_OK);
    }
    for (int ask = 0; ask < 2; ask++) {
        clg_step_begin(ctx);
        clg_params_zero_grad(ps);
        clg_tensor *loss = NULL;
        for (int i = 0; i < 3; i++) { /* d loss / d p_i = the fixture's gradient */
            snprintf(key, sizeof key, "%s.grad%d", name, i);
            size_t n;
            const float *g = golden(st, key, &n);
            clg_tensor *term =
                clg_sum_all(clg_mul(p[i], clg_tensor_from_host(ctx, CLG_DTYPE_F32, ranks[i],
                                                               shapes[i], g)));
            loss = loss ? clg_add(loss, term) : term;
        }
        ck_assert_int_eq(clg_backward(loss), CLG_STATUS_OK);
        clg_counters before, after;
        clg_counters_get(ctx, &before);
        float total = -1;
        ck_assert_msg(clg_clip_grad_norm(ps, max_norm, ask ? &total : NULL) == CLG_STATUS_OK, "%s",
                      clg_context_error(ctx));
        clg_counters_get(ctx, &after);
        ck_assert_uint_eq(after.host_syncs - before.host_syncs, ask ? 1 : 0);
        ck_assert_uint_eq(after.kernel_launches - before.kernel_launches, 6);
        if (ask) {
            snprintf(key, sizeof key, "%s.total", name);
            size_t n;
            test_assert_close(&total, golden(st, key, &n), 1, test_tol_get("reduction"), key);
        }
        for (int i = 0; i < 3; i++) {
            snprintf(key, sizeof key, "%s.clipped%d", name, i);
            size_t n;
            const float *want = golden(st, key, &n);
            float *got = test_download(clg_tensor_grad(p[i]));
            test_assert_close(got, want, n, test_tol_get("reduction"), key);
            free(got);
        }
        clg_step_end(ctx);
    }
    clg_params_destroy(ps);
    for (int i = 0; i < 3; i++)
        clg_tensor_destroy(p[i]);
}

START_TEST(test_clip_grad_norm_matches_pytorch)
{
    clg_context *ctx = test_context();
    clg_safetensors *st = test_golden_open(ctx, "optim_clip");
    clip_case(ctx, st, "clip", 0.5f);
    clip_case(ctx, st, "noclip", 100.0f);
    clg_safetensors_destroy(st);
    clg_params *ps = clg_params_create(ctx);
    clg_tensor *p = test_tensor(ctx, 1, (int64_t[]){3}, NULL, true);
    clg_params_add(ps, "p", p);
    float total = -1;
    /* no gradients yet: nothing to clip, the norm is 0 */
    ck_assert_int_eq(clg_clip_grad_norm(ps, 1.0f, &total), CLG_STATUS_OK);
    ck_assert_float_eq(total, 0.0f);
    ck_assert_int_eq(clg_clip_grad_norm(ps, -1.0f, NULL), CLG_STATUS_INVALID_ARGUMENT);
    ck_assert_str_eq(clg_context_error(ctx), "clg_clip_grad_norm: max_norm must be >= 0, not -1");
    clg_context_clear_error(ctx);
    clg_params_destroy(ps);
    clg_tensor_destroy(p);
    clg_context_destroy(ctx);
}
END_TEST

/* Under CLGRAD_LOOP_LIMIT=1024 (a bound as Mesa's llvmpipe has at 65,535
 * iterations a work-item), a gradient of 300,000 elements is reduced in
 * pieces, a slot each: the same total norm as the host, and the same
 * scaling. */
START_TEST(test_clip_grad_norm_loop_bound)
{
    clg_context *ctx = test_context_loop_limit("1024");
    enum { N = 300000 };
    float *g = malloc(N * sizeof *g);
    test_random(g, N, 65, -1, 1);
    double sumsq = 0;
    for (int i = 0; i < N; i++)
        sumsq += (double)g[i] * g[i];
    clg_params *ps = clg_params_create(ctx);
    clg_tensor *p = test_tensor(ctx, 1, (int64_t[]){N}, NULL, true);
    clg_tensor *q = test_tensor(ctx, 1, (int64_t[]){3}, NULL, true);
    ck_assert_int_eq(clg_params_add(ps, "p", p), CLG_STATUS_OK);
    ck_assert_int_eq(clg_params_add(ps, "q", q), CLG_STATUS_OK);
    clg_step_begin(ctx);
    clg_params_zero_grad(ps);
    /* d loss / d p = g, d loss / d q = (3, 4, 0) */
    clg_tensor *loss = clg_add(
        clg_sum_all(clg_mul(p, clg_tensor_from_host(ctx, CLG_DTYPE_F32, 1, (int64_t[]){N}, g))),
        clg_sum_all(clg_mul(q, clg_tensor_from_host(ctx, CLG_DTYPE_F32, 1, (int64_t[]){3},
                                                    (float[]){3, 4, 0}))));
    ck_assert_msg(clg_backward(loss) == CLG_STATUS_OK, "%s", clg_context_error(ctx));
    float total = -1, want = (float)sqrt(sumsq + 25);
    ck_assert_msg(clg_clip_grad_norm(ps, 1.0f, &total) == CLG_STATUS_OK, "%s",
                  clg_context_error(ctx));
    test_assert_close(&total, &want, 1, test_tol_get("reduction"), "total norm");
    float *got = test_download(clg_tensor_grad(q));
    float scaled[3] = {3 / want, 4 / want, 0};
    test_assert_close(got, scaled, 3, test_tol_get("reduction"), "clipped q");
    free(got);
    clg_step_end(ctx);
    clg_params_destroy(ps);
    clg_tensor_destroy(p);
    clg_tensor_destroy(q);
    free(g);
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_optim_golden,
                            test_optim_skips_params_without_grad,
                            test_optim_sgd_set_lr_many_params,
                            test_optim_adam_groups,
                            test_optim_options_and_names,
                            test_optim_bad_options,
                            test_clip_grad_norm_matches_pytorch,
                            test_clip_grad_norm_loop_bound,
                            NULL};
    return test_main("optim/optim", "optim", 0, tests);
}
