/* tests/support/pointwise.c: see pointwise.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pointwise.h"

/* test_op_fn's argument: which op, and whether its input is transposed first. */
typedef struct call {
    const pw_family *family;
    const pw_spec *spec;
    int variant;
    bool transposed;
} call;

static clg_tensor *run(clg_tensor *const *in, const void *arg)
{
    const call *c = arg;
    clg_tensor *x = c->transposed ? clg_transpose(in[0], 0, 1) : in[0];
    return c->family->apply(c->spec, c->variant, x);
}

void pw_draw(float *x, size_t n, uint64_t seed, const pw_variant *v)
{
    test_random(x, n, seed, v->low, v->high);
    for (size_t i = 0; i < n; i++) {
        x[i] += copysignf(v->min_abs, x[i]);
        for (int k = 0; k < v->n_kinks; k++)
            if (fabsf(x[i] - v->kinks[k]) < 0.05f)
                x[i] = v->kinks[k] + copysignf(0.05f, x[i] - v->kinks[k]);
    }
}

void pw_check_matches_host(const pw_family *family, const pw_spec *spec)
{
    clg_context *ctx = test_context();
    bool differentiable = spec->kind != CHK_HEAVISIDE;
    for (int v = 0; v < spec->n_variants; v++) {
        for (int transposed = 0; transposed < 2; transposed++) {
            const pw_variant *var = &spec->v[v];
            float x[24], g[24], want[24], want_grad[24];
            size_t n = transposed ? 12 : 24;
            pw_draw(x, n, 100 + (uint64_t)v, var);
            test_random(g, n, 200 + (uint64_t)v, -1, 1);
            clg_tensor *tx = transposed ? test_tensor(ctx, 2, (int64_t[]){4, 3}, x, true)
                                        : test_tensor(ctx, 3, (int64_t[]){2, 3, 4}, x, true);
            /* out element k reads input element src(k) */
            for (size_t k = 0; k < n; k++) {
                size_t src = transposed ? (k % 4) * 3 + k / 4 : k;
                want[k] = (float)chk_pointwise_f(spec->kind, x[src], var->p0, var->p1);
                if (differentiable)
                    want_grad[src] =
                        (float)(2.0 * g[k] *
                                chk_pointwise_df(spec->kind, x[src], var->p0, var->p1));
            }
            clg_step_begin(ctx);
            call c = {family, spec, v, transposed};
            clg_tensor *y1 = run((clg_tensor *[]){tx}, &c);
            clg_tensor *y2 = run((clg_tensor *[]){tx}, &c);
            clg_tensor *sum = clg_add(y1, y2);
            ck_assert_msg(sum != NULL, "%s: %s", spec->name, clg_context_error(ctx));
            int64_t out_shape[3] = {2, 3, 4};
            if (transposed) {
                out_shape[0] = 3;
                out_shape[1] = 4;
            }
            ck_assert_int_eq(clg_tensor_rank(y1), transposed ? 2 : 3);
            for (int d = 0; d < clg_tensor_rank(y1); d++)
                ck_assert_int_eq(clg_tensor_dim(y1, d), out_shape[d]);
            ck_assert(clg_tensor_requires_grad(sum) == differentiable);
            if (differentiable) {
                clg_tensor *gout =
                    clg_tensor_from_host(ctx, CLG_DTYPE_F32, transposed ? 2 : 3, out_shape, g);
                ck_assert_msg(clg_backward_with(sum, gout) == CLG_STATUS_OK, "%s",
                              clg_context_error(ctx));
            }
            char what[96];
            snprintf(what, sizeof what, "%s variant %d%s forward", spec->name, v,
                     transposed ? " transposed" : "");
            float *got = test_download(y1);
            test_assert_close(got, want, n, test_tol_get("transcendental"), what);
            free(got);
            clg_step_end(ctx);
            if (differentiable) {
                snprintf(what, sizeof what, "%s variant %d%s backward", spec->name, v,
                         transposed ? " transposed" : "");
                float *got_grad = test_download(clg_tensor_grad(tx));
                test_assert_close(got_grad, want_grad, n, test_tol_get("transcendental"), what);
                free(got_grad);
            }
            clg_tensor_destroy(tx);
        }
    }
    clg_context_destroy(ctx);
}

void pw_check_gradcheck(const pw_family *family, const pw_spec *spec)
{
    clg_context *ctx = test_context();
    for (int v = 0; v < spec->n_variants; v++) {
        float x[6];
        pw_draw(x, 6, 300 + (uint64_t)v, &spec->v[v]);
        clg_tensor *a = test_tensor(ctx, 2, (int64_t[]){2, 3}, x, true);
        call c = {family, spec, v, false};
        test_gradcheck(ctx, run, &c, 1, &a, test_tol_get("gradcheck"));
        clg_tensor *b = test_tensor(ctx, 2, (int64_t[]){3, 2}, x, true);
        c.transposed = true;
        test_gradcheck(ctx, run, &c, 1, &b, test_tol_get("gradcheck"));
        clg_tensor_destroy(a);
        clg_tensor_destroy(b);
    }
    clg_context_destroy(ctx);
}

void pw_check_golden(const pw_family *family, const pw_spec *spec)
{
    clg_context *ctx = test_context();
    clg_safetensors *st = test_golden_open(ctx, family->golden);
    const char *shapes[] = {"scalar", "vector", "matrix", "rank3", "transposed", "edge", "odd"};
    for (int v = 0; v < spec->n_variants; v++)
        for (int s = 0; s < 7; s++) {
            if ((s == 5 && !spec->edge) || (s == 6 && !spec->odd))
                continue;
            char name[64];
            snprintf(name, sizeof name, "%s.%d.%s", spec->name, v, shapes[s]);
            call c = {family, spec, v, strcmp(shapes[s], "transposed") == 0};
            test_golden_case(ctx, st, name, run, &c, 1, 0, test_tol_get("golden"));
        }
    clg_safetensors_destroy(st);
    clg_context_destroy(ctx);
}

void pw_eval_vector(clg_context *ctx, const pw_family *family, const pw_spec *spec, int v,
                    const float *x, const float *g, int n, float *out, float *grad)
{
    clg_tensor *tx = test_tensor(ctx, 1, (int64_t[]){n}, x, true);
    clg_step_begin(ctx);
    clg_tensor *y = family->apply(spec, v, tx);
    ck_assert_msg(y != NULL, "%s: %s", spec->name, clg_context_error(ctx));
    clg_tensor *gout = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 1, (int64_t[]){n}, g);
    ck_assert_msg(clg_backward_with(y, gout) == CLG_STATUS_OK, "%s", clg_context_error(ctx));
    float *got = test_download(y);
    memcpy(out, got, (size_t)n * sizeof *out);
    free(got);
    clg_step_end(ctx);
    float *got_grad = test_download(clg_tensor_grad(tx));
    memcpy(grad, got_grad, (size_t)n * sizeof *grad);
    free(got_grad);
    clg_tensor_destroy(tx);
}

void pw_check_points(clg_context *ctx, const pw_family *family, const pw_spec *spec, int v, int n,
                     const float *x, const float *g, const float *want_y, const float *want_dx,
                     const char *tol, const char *what)
{
    float *y = malloc((size_t)n * sizeof *y), *dx = malloc((size_t)n * sizeof *dx);
    ck_assert(y && dx);
    pw_eval_vector(ctx, family, spec, v, x, g, n, y, dx);
    char d_what[96];
    snprintf(d_what, sizeof d_what, "d %s", what);
    test_assert_close(y, want_y, (size_t)n, test_tol_get(tol), what);
    test_assert_close(dx, want_dx, (size_t)n, test_tol_get(tol), d_what);
    free(y);
    free(dx);
}
