/* check/cases.c: the case table of `clgrad check` and of tests/check: each
 * differentiable op family run on a context's device, forward against the
 * host reference of check/reference.c on seeded random inputs (odd sizes,
 * broadcasting, transposed views), backward (clg_backward_with a random
 * upstream gradient w) against float64 central differences of the same
 * reference's projection sum(w out). Dropout is checked by its mask's
 * statistics, the optimizers by two steps against PyTorch's formula, and
 * matmul once per GEMM implementation the dispatcher would use. Nothing here
 * prints; each case fills a chk_result. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/check.h"

#define MAX_INPUTS 8

/* One input of an op case: drawn uniformly from [low, high), pushed min_abs
 * away from 0 (the kinks); `ints`: int32 values in [0, high) (labels, ids),
 * never differentiated. */
typedef struct input_spec {
    int rank;
    int64_t shape[CLG_MAX_RANK];
    float low, high, min_abs;
    bool grad;
    bool ints;
} input_spec;

/* The op on the device (the view it reads is made here), and the same on the
 * host from the inputs in double (ints as their values), writing every
 * output element. */
typedef clg_tensor *(*device_fn)(clg_tensor *const *in, const void *arg);
typedef void (*host_fn)(const double *const *in, double *out, const void *arg);

typedef struct op_case {
    const char *name;
    const char *tol; /* the forward comparison's row; backward uses "fd64" */
    int n_inputs;
    input_spec in[MAX_INPUTS];
    int out_rank;
    int64_t out_shape[CLG_MAX_RANK];
    device_fn device;
    host_fn host;
    const void *arg;
    /* a case that does its own comparison (dropout, optimizers) */
    void (*custom)(clg_context *ctx, const void *arg, chk_result *out);
} op_case;

static int64_t numel(int rank, const int64_t *shape)
{
    int64_t n = 1;
    for (int d = 0; d < rank; d++)
        n *= shape[d];
    return n;
}

static void shape_str(int rank, const int64_t *shape, char *buf, size_t capacity)
{
    size_t used = (size_t)snprintf(buf, capacity, "(");
    for (int d = 0; d < rank && used < capacity; d++)
        used += (size_t)snprintf(buf + used, capacity - used, "%s%lld", d ? "," : "",
                                 (long long)shape[d]);
    if (used < capacity)
        snprintf(buf + used, capacity - used, rank == 1 ? ",)" : ")");
}

/* flat index -> "[i,j,k]" in `shape` */
static void index_str(int rank, const int64_t *shape, size_t flat, char *buf, size_t capacity)
{
    int64_t idx[CLG_MAX_RANK];
    for (int d = rank - 1; d >= 0; d--) {
        idx[d] = (int64_t)flat % shape[d];
        flat /= (size_t)shape[d];
    }
    size_t used = (size_t)snprintf(buf, capacity, "[");
    for (int d = 0; d < rank && used < capacity; d++)
        used += (size_t)snprintf(buf + used, capacity - used, "%s%lld", d ? "," : "",
                                 (long long)idx[d]);
    if (used < capacity)
        snprintf(buf + used, capacity - used, "]");
}

static void fail(chk_result *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(chk_result *out, const char *fmt, ...)
{
    if (!out->passed)
        return; /* the first failure is the one worth reading */
    out->passed = false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->detail, sizeof out->detail, fmt, ap);
    va_end(ap);
}

/* Compares n values: each within tol, a NaN only against a NaN. Notes the
 * largest relative error in out and fails naming `what`, the shape and the
 * worst element. */
static double compare(chk_result *out, const char *what, int rank, const int64_t *shape,
                      const float *got, const double *want, size_t n, const chk_tol *tol)
{
    double max_rel = 0, worst = -1, floor = tol->rtol > 0 ? tol->atol / tol->rtol : 1;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]);
        double bound = tol->atol + tol->rtol * fabs(want[i]);
        if (isnan(got[i]) && isnan(want[i]))
            d = 0;
        else if (isnan(d) || isinf(d))
            d = INFINITY;
        /* the error as a fraction of what the row allows (> 1 fails) */
        double ratio = d == 0 ? 0 : bound > 0 ? d / bound : INFINITY;
        double rel = d / fmax(fabs(want[i]), floor > 0 ? floor : 1e-30);
        max_rel = fmax(max_rel, rel);
        if (ratio > worst) {
            worst = ratio;
            at = i;
        }
    }
    if (worst > 1) {
        char s[64], idx[64];
        shape_str(rank, shape, s, sizeof s);
        index_str(rank, shape, at, idx, sizeof idx);
        fail(out, "%s %s differs at %s: got %.7g, want %.7g (tolerance \"%s\")", what, s, idx,
             (double)got[at], want[at], tol->name);
    }
    out->max_rel_err = fmax(out->max_rel_err, max_rel);
    return max_rel;
}

static uint64_t seed_of(const char *name, int input)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
    return h + (uint64_t)input * 7919;
}

/* sum_i w_i host(in)_i */
static double projected(const op_case *c, const double *const *in, double *scratch, const double *w,
                        size_t n_out)
{
    c->host(in, scratch, c->arg);
    double s = 0;
    for (size_t i = 0; i < n_out; i++)
        s += w[i] * scratch[i];
    return s;
}

static void run_op_case(clg_context *ctx, const op_case *c, chk_result *out)
{
    const chk_tol *tol = chk_tol_get(c->tol), *fd = chk_tol_get("fd64");
    clg_tensor *t[MAX_INPUTS] = {0};
    double *xd[MAX_INPUTS] = {0};
    size_t n_out = (size_t)numel(c->out_rank, c->out_shape);
    float *got = NULL, *wf = NULL, *grad = NULL;
    double *want = malloc(n_out * sizeof *want), *w = malloc(n_out * sizeof *w);
    double *numeric = NULL, forward_err = 0, backward_err = 0;
    int checked = 0;
    wf = malloc(n_out * sizeof *wf);
    got = malloc(n_out * sizeof *got);
    if (!want || !w || !wf || !got) {
        fail(out, "out of host memory");
        goto cleanup;
    }
    for (int i = 0; i < c->n_inputs; i++) {
        const input_spec *s = &c->in[i];
        size_t n = (size_t)numel(s->rank, s->shape);
        float *v = malloc(n * sizeof *v);
        int32_t *ids = s->ints ? malloc(n * sizeof *ids) : NULL;
        xd[i] = malloc(n * sizeof *xd[i]);
        if (!v || !xd[i] || (s->ints && !ids)) {
            free(v);
            free(ids);
            fail(out, "out of host memory");
            goto cleanup;
        }
        chk_random(v, n, seed_of(c->name, i), s->ints ? 0 : s->low, s->high);
        t[i] = clg_tensor_create(ctx, s->ints ? CLG_DTYPE_I32 : CLG_DTYPE_F32, s->rank, s->shape);
        for (size_t j = 0; j < n; j++) {
            if (s->ints)
                ids[j] = (int32_t)v[j];
            else
                v[j] += copysignf(s->min_abs, v[j]);
            xd[i][j] = s->ints ? ids[j] : v[j];
        }
        if (t[i])
            clg_tensor_upload(t[i], s->ints ? (const void *)ids : v, n);
        free(v);
        free(ids);
        clg_tensor_set_requires_grad(t[i], s->grad);
    }
    chk_random(wf, n_out, seed_of(c->name, 99), -1, 1);
    for (size_t i = 0; i < n_out; i++)
        w[i] = wf[i];

    clg_step_begin(ctx);
    for (int i = 0; i < c->n_inputs; i++)
        clg_tensor_zero_grad(t[i]);
    clg_tensor *y = c->device(t, c->arg);
    if (y) {
        int64_t shape[CLG_MAX_RANK] = {0};
        bool same = clg_tensor_rank(y) == c->out_rank;
        for (int d = 0; d < clg_tensor_rank(y); d++) {
            shape[d] = clg_tensor_dim(y, d);
            same = same && shape[d] == c->out_shape[d];
        }
        if (!same) {
            char s[64], s2[64];
            shape_str(clg_tensor_rank(y), shape, s, sizeof s);
            shape_str(c->out_rank, c->out_shape, s2, sizeof s2);
            fail(out, "output shape %s, want %s", s, s2);
        } else if (clg_tensor_download(y, got, n_out) == CLG_STATUS_OK) {
            c->host((const double *const *)xd, want, c->arg);
            forward_err = compare(out, "forward", c->out_rank, c->out_shape, got, want, n_out, tol);
            bool any_grad = false;
            for (int i = 0; i < c->n_inputs; i++)
                any_grad = any_grad || c->in[i].grad;
            if (any_grad) {
                clg_tensor *gout =
                    clg_tensor_from_host(ctx, CLG_DTYPE_F32, c->out_rank, c->out_shape, wf);
                clg_backward_with(y, gout);
            }
        }
    }
    clg_step_end(ctx);
    if (clg_context_status(ctx) != CLG_STATUS_OK) {
        fail(out, "%s", clg_context_error(ctx));
        goto cleanup;
    }
    for (int i = 0; i < c->n_inputs && out->passed; i++) {
        const input_spec *s = &c->in[i];
        if (!s->grad)
            continue;
        size_t n = (size_t)numel(s->rank, s->shape);
        clg_tensor *g = clg_tensor_grad(t[i]);
        if (!g) {
            fail(out, "backward: input %d got no gradient", i);
            break;
        }
        grad = malloc(n * sizeof *grad);
        numeric = malloc(n * sizeof *numeric);
        if (!grad || !numeric || clg_tensor_download(g, grad, n) != CLG_STATUS_OK) {
            fail(out, "gradient of input %d: %s", i,
                 grad && numeric ? clg_context_error(ctx) : "out of host memory");
            break;
        }
        for (size_t j = 0; j < n; j++) {
            double saved = xd[i][j], h = fd->fd_step * fmax(1.0, fabs(saved));
            xd[i][j] = saved + h;
            double plus = projected(c, (const double *const *)xd, want, w, n_out);
            xd[i][j] = saved - h;
            double minus = projected(c, (const double *const *)xd, want, w, n_out);
            xd[i][j] = saved;
            numeric[j] = (plus - minus) / (2 * h);
        }
        char what[64];
        snprintf(what, sizeof what, "backward d/d input %d", i);
        backward_err =
            fmax(backward_err, compare(out, what, s->rank, s->shape, grad, numeric, n, fd));
        checked++;
        free(grad), grad = NULL;
        free(numeric), numeric = NULL;
    }
    if (out->passed)
        snprintf(out->detail, sizeof out->detail,
                 "forward %.2g (\"%s\"), backward of %d inputs against finite differences %.2g",
                 forward_err, tol->name, checked, backward_err);
cleanup:
    clg_context_clear_error(ctx);
    for (int i = 0; i < c->n_inputs; i++) {
        clg_tensor_destroy(t[i]);
        free(xd[i]);
    }
    free(grad);
    free(numeric);
    free(got);
    free(wf);
    free(want);
    free(w);
}

/* ---- elementwise: f(x (7,5)) + f(transpose(x2 (5,7))): the contiguous and
 * the strided kernels, each input's gradient on its own ---- */

typedef struct pointwise_arg {
    chk_pointwise kind;
    float p0, p1;
} pointwise_arg;

static clg_tensor *pointwise_apply(const pointwise_arg *a, clg_tensor *x)
{
    switch (a->kind) {
    case CHK_NEG: return clg_neg(x);
    case CHK_EXP: return clg_exp(x);
    case CHK_LOG: return clg_log(x);
    case CHK_SQRT: return clg_sqrt(x);
    case CHK_ABS: return clg_abs(x);
    case CHK_POW: return clg_pow(x, a->p0);
    case CHK_AFFINE: return clg_affine(x, a->p0, a->p1);
    case CHK_SIGMOID: return clg_sigmoid(x);
    case CHK_TANH: return clg_tanh(x);
    case CHK_RELU: return clg_relu(x);
    case CHK_LEAKY_RELU: return clg_leaky_relu(x, a->p0);
    case CHK_SOFTPLUS: return clg_softplus(x, a->p0, a->p1);
    case CHK_HEAVISIDE: return clg_heaviside(x, a->p0);
    case CHK_CLAMP: return clg_clamp(x, a->p0, a->p1);
    case CHK_ELU: return clg_elu(x, a->p0);
    case CHK_SELU: return clg_selu(x);
    case CHK_HARDSIGMOID: return clg_hardsigmoid(x);
    }
    return NULL;
}

static clg_tensor *pointwise_device(clg_tensor *const *in, const void *arg)
{
    return clg_add(pointwise_apply(arg, in[0]), pointwise_apply(arg, clg_transpose(in[1], 0, 1)));
}

static void pointwise_host(const double *const *in, double *out, const void *arg)
{
    const pointwise_arg *a = arg;
    for (int i = 0; i < 7; i++)
        for (int j = 0; j < 5; j++)
            out[i * 5 + j] = chk_pointwise_f(a->kind, in[0][i * 5 + j], a->p0, a->p1) +
                             chk_pointwise_f(a->kind, in[1][j * 7 + i], a->p0, a->p1);
}

#define POINTWISE(nm, kind, p0, p1, lo, hi, min_abs, grad)                                         \
    {                                                                                              \
        nm, "transcendental", 2,                                                                   \
            {{2, {7, 5}, lo, hi, min_abs, grad, false},                                            \
             {2, {5, 7}, lo, hi, min_abs, grad, false}},                                           \
            2, {7, 5}, pointwise_device, pointwise_host, &(const pointwise_arg){kind, p0, p1},     \
            NULL                                                                                   \
    }

/* ---- bias + activation, fused (clg_bias_activation): x (BA_ROWS, C) + b
 * (C), with two blocks of rows of the cpu plan's kernels; the widths pick
 * their vectors: 37 the plan's (16 or 8, the last chunk slid), 6 float4s (the
 * second slid), 3 one column per work-item ---- */

enum { BA_ROWS = 150 };

typedef struct bias_act_arg {
    clg_activation act;
    chk_pointwise kind;
    int cols;
} bias_act_arg;

static clg_tensor *bias_act_device(clg_tensor *const *in, const void *arg)
{
    return clg_bias_activation(in[0], in[1], ((const bias_act_arg *)arg)->act, 0.0f);
}

static void bias_act_host(const double *const *in, double *out, const void *arg)
{
    const bias_act_arg *a = arg;
    for (int i = 0; i < BA_ROWS; i++)
        for (int j = 0; j < a->cols; j++) /* the fused elu's alpha is 1 */
            out[i * a->cols + j] = chk_pointwise_f(a->kind, in[0][i * a->cols + j] + in[1][j],
                                                   a->kind == CHK_ELU ? 1 : 0, 0);
}

#define BIAS_ACT(nm, act, kind, cols)                                                              \
    {                                                                                              \
        nm, "transcendental", 2,                                                                   \
            {{2, {BA_ROWS, cols}, -2, 2, 0, true, false}, {1, {cols}, -1, 1, 0, true, false}},     \
            2, {BA_ROWS, cols}, bias_act_device, bias_act_host,                                    \
            &(const bias_act_arg){act, kind, cols}, NULL                                           \
    }

/* ---- a linear layer with its activation (clg_linear_activation):
 * act(x (LA_ROWS, LA_IN) W^T + b), W (out, LA_IN), b (out): on a CPU device
 * the GEMM applies the bias and the activation as it stores y; out = 19
 * puts them on vectors of 16 (AVX-512) with the last slid left, 3 on
 * vectors of two ---- */

enum { LA_ROWS = 37, LA_IN = 23 };

static clg_tensor *linear_act_device(clg_tensor *const *in, const void *arg)
{
    return clg_linear_activation(in[0], in[1], in[2], ((const bias_act_arg *)arg)->act, 0.0f);
}

static void linear_act_host(const double *const *in, double *out, const void *arg)
{
    const bias_act_arg *a = arg;
    chk_gemm(in[0], in[1], out, LA_ROWS, a->cols, LA_IN, false, true);
    for (int i = 0; i < LA_ROWS; i++)
        for (int j = 0; j < a->cols; j++)
            out[i * a->cols + j] = chk_pointwise_f(a->kind, out[i * a->cols + j] + in[2][j], 0, 0);
}

#define LINEAR_ACT(nm, act, kind, out)                                                             \
    {                                                                                              \
        nm, "transcendental", 3,                                                                   \
            {{2, {LA_ROWS, LA_IN}, -1, 1, 0, true, false},                                         \
             {2, {out, LA_IN}, -1, 1, 0, true, false},                                             \
             {1, {out}, -1, 1, 0, true, false}},                                                   \
            2, {LA_ROWS, out}, linear_act_device, linear_act_host,                                 \
            &(const bias_act_arg){act, kind, out}, NULL                                            \
    }

/* ---- broadcasting binary: op(a (2,1,5), b (3,1)) + op(transpose(c (5,3)),
 * d (3,5)) -> (2,3,5): broadcasting both ways, and a strided operand ---- */

static clg_tensor *binary_apply(chk_binary op, clg_tensor *a, clg_tensor *b)
{
    switch (op) {
    case CHK_ADD: return clg_add(a, b);
    case CHK_SUB: return clg_sub(a, b);
    case CHK_MUL: return clg_mul(a, b);
    case CHK_DIV: return clg_div(a, b);
    case CHK_POW_TENSOR: return clg_pow_tensor(a, b);
    }
    return NULL;
}

static clg_tensor *binary_device(clg_tensor *const *in, const void *arg)
{
    chk_binary op = *(const chk_binary *)arg;
    return clg_add(binary_apply(op, in[0], in[1]),
                   binary_apply(op, clg_transpose(in[2], 0, 1), in[3]));
}

static void binary_host(const double *const *in, double *out, const void *arg)
{
    chk_binary op = *(const chk_binary *)arg;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 5; k++)
                out[(i * 3 + j) * 5 + k] = chk_binary_f(op, in[0][i * 5 + k], in[1][j]) +
                                           chk_binary_f(op, in[2][k * 3 + j], in[3][j * 5 + k]);
}

#define BINARY(nm, op, alo, blo)                                                                   \
    {                                                                                              \
        nm, "transcendental", 4,                                                                   \
            {{3, {2, 1, 5}, alo, 2, 0, true, false},                                               \
             {2, {3, 1}, blo, 2, 0, true, false},                                                  \
             {2, {5, 3}, alo, 2, 0, true, false},                                                  \
             {2, {3, 5}, blo, 2, 0, true, false}},                                                 \
            3, {2, 3, 5}, binary_device, binary_host, &(const chk_binary){op}, NULL                \
    }

/* ---- reductions: along axis 1 of transpose(x (3,7,5), 1, 2), and of all ---- */

typedef struct reduce_arg {
    chk_reduction op;
    bool all;
} reduce_arg;

static clg_tensor *reduce_device(clg_tensor *const *in, const void *arg)
{
    const reduce_arg *a = arg;
    if (a->all)
        return a->op == CHK_SUM    ? clg_sum_all(in[0])
               : a->op == CHK_MEAN ? clg_mean_all(in[0])
                                   : clg_max_all(in[0]);
    clg_tensor *v = clg_transpose(in[0], 1, 2);
    return a->op == CHK_SUM    ? clg_sum(v, 1, false)
           : a->op == CHK_MEAN ? clg_mean(v, 1, false)
                               : clg_max(v, 1, false);
}

static void reduce_host(const double *const *in, double *out, const void *arg)
{
    const reduce_arg *a = arg;
    if (a->all) {
        chk_reduce(a->op, in[0], 1, (const int64_t[]){105}, 0, out, NULL);
        return;
    }
    double logical[105];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 5; j++)
            for (int k = 0; k < 7; k++)
                logical[(i * 5 + j) * 7 + k] = in[0][(i * 7 + k) * 5 + j];
    chk_reduce(a->op, logical, 3, (const int64_t[]){3, 5, 7}, 1, out, NULL);
}

#define REDUCE(nm, op, all)                                                                        \
    {                                                                                              \
        nm, "reduction", 1, {{3, {3, 7, 5}, -2, 2, 0, true, false}}, all ? 0 : 2, {3, 7},          \
            reduce_device, reduce_host, &(const reduce_arg){op, all}, NULL                         \
    }

/* ---- long rows: past one work-group of any plan (256), so that the
 * two-stage reductions and the K loops run more than one round ---- */

enum { LONG = 1001 };

/* sum over the strided axis of transpose(x (LONG, 6)) -> (6) */
static clg_tensor *sum_long_device(clg_tensor *const *in, const void *arg)
{
    (void)arg;
    return clg_sum(clg_transpose(in[0], 0, 1), 1, false);
}

static void sum_long_host(const double *const *in, double *out, const void *arg)
{
    (void)arg;
    chk_reduce(CHK_SUM, in[0], 2, (const int64_t[]){LONG, 6}, 0, out, NULL);
}

/* log_softmax along rows of LONG */
static clg_tensor *softmax_long_device(clg_tensor *const *in, const void *arg)
{
    (void)arg;
    return clg_log_softmax(in[0], 1);
}

static void softmax_long_host(const double *const *in, double *out, const void *arg)
{
    (void)arg;
    chk_softmax(true, in[0], 2, (const int64_t[]){3, LONG}, 1, out);
}

/* (5, 700) (700, 3): few outputs over a long K (split-K under the gpu plan) */
static clg_tensor *matmul_long_k_device(clg_tensor *const *in, const void *arg)
{
    (void)arg;
    return clg_matmul(in[0], in[1]);
}

static void matmul_long_k_host(const double *const *in, double *out, const void *arg)
{
    (void)arg;
    chk_gemm(in[0], in[1], out, 5, 3, 700, false, false);
}

/* ---- softmax(x, 1) + softmax(x, 2) on (3,5,7): a strided and the last axis ---- */

static clg_tensor *softmax_device(clg_tensor *const *in, const void *arg)
{
    bool log_out = *(const bool *)arg;
    clg_tensor *(*f)(clg_tensor *, int) = log_out ? clg_log_softmax : clg_softmax;
    return clg_add(f(in[0], 1), f(in[0], 2));
}

static void softmax_host(const double *const *in, double *out, const void *arg)
{
    bool log_out = *(const bool *)arg;
    double second[105];
    const int64_t shape[3] = {3, 5, 7};
    chk_softmax(log_out, in[0], 3, shape, 1, out);
    chk_softmax(log_out, in[0], 3, shape, 2, second);
    for (int i = 0; i < 105; i++)
        out[i] += second[i];
}

/* ---- losses ---- */

typedef struct loss_arg {
    int kind; /* chk_loss, or 3: cross-entropy, 4: gaussian_kl */
    clg_reduction reduction;
} loss_arg;

static clg_tensor *loss_device(clg_tensor *const *in, const void *arg)
{
    const loss_arg *a = arg;
    switch (a->kind) {
    case CHK_MSE: return clg_mse_loss(in[0], in[1], a->reduction);
    case CHK_BCE: return clg_bce_loss(in[0], in[1], a->reduction);
    case CHK_BCE_LOGITS: return clg_bce_with_logits_loss(in[0], in[1], a->reduction);
    case 3: return clg_cross_entropy_loss(clg_transpose(in[0], 0, 1), in[1], a->reduction);
    default: return clg_gaussian_kl(in[0], in[1], a->reduction);
    }
}

static void loss_host(const double *const *in, double *out, const void *arg)
{
    const loss_arg *a = arg;
    double sum = 0;
    int n = 35;
    if (a->kind == 3) {
        double logits[42]; /* transpose of (7, 6) */
        for (int r = 0; r < 6; r++)
            for (int c = 0; c < 7; c++)
                logits[r * 7 + c] = in[0][c * 6 + r];
        n = 6;
        for (int r = 0; r < 6; r++)
            sum += chk_cross_entropy_row(logits, 7, r, (int)in[1][r]);
    } else if (a->kind == 4) {
        for (int i = 0; i < n; i++)
            sum += -0.5 * (1 + in[1][i] - in[0][i] * in[0][i] - exp(in[1][i]));
    } else {
        for (int i = 0; i < n; i++)
            sum += chk_loss_pointwise((chk_loss)a->kind, in[0][i], in[1][i]);
    }
    out[0] = a->reduction == CLG_REDUCTION_SUM ? sum : sum / n;
}

/* ---- matmul: a (7,9) bt^T + at^T (9,7) b (9,5): NT and TN; batched ---- */

static clg_tensor *matmul_device(clg_tensor *const *in, const void *arg)
{
    (void)arg;
    return clg_add(clg_matmul(in[0], clg_transpose(in[1], 0, 1)),
                   clg_matmul(clg_transpose(in[2], 0, 1), in[3]));
}

static void matmul_host(const double *const *in, double *out, const void *arg)
{
    (void)arg;
    double second[35];
    chk_gemm(in[0], in[1], out, 7, 5, 9, false, true);
    chk_gemm(in[2], in[3], second, 7, 5, 9, true, false);
    for (int i = 0; i < 35; i++)
        out[i] += second[i];
}

static clg_tensor *matmul_batched_device(clg_tensor *const *in, const void *arg)
{
    (void)arg;
    return clg_matmul(in[0], in[1]);
}

static void matmul_batched_host(const double *const *in, double *out, const void *arg)
{
    (void)arg;
    for (int b = 0; b < 3; b++)
        chk_gemm(in[0] + b * 4 * 6, in[1] + b * 6 * 5, out + b * 4 * 5, 4, 5, 6, false, false);
}

/* ---- convolutions ---- */

static const chk_conv_shape conv_shape = {.n = 2,
                                          .c = 3,
                                          .h = 7,
                                          .w = 6,
                                          .k = 4,
                                          .kh = 3,
                                          .kw = 3,
                                          .stride_h = 2,
                                          .stride_w = 1,
                                          .pad_h = 1,
                                          .pad_w = 1,
                                          .dilation_h = 1,
                                          .dilation_w = 2};

static clg_tensor *conv2d_device(clg_tensor *const *in, const void *arg)
{
    const chk_conv_shape *s = arg;
    clg_conv2d_params p = {s->stride_h, s->stride_w,   s->pad_h,
                           s->pad_w,    s->dilation_h, s->dilation_w};
    return clg_conv2d(in[0], in[1], in[2], &p);
}

static void conv2d_host(const double *const *in, double *out, const void *arg)
{
    chk_conv2d(arg, in[0], in[1], in[2], NULL, out, NULL, NULL, NULL);
}

/* clg_conv2d_act: the activation fused into the convolution's kernels,
 * against the host convolution followed by the activation. */
typedef struct conv_act_arg {
    clg_activation act;
    chk_pointwise kind;
} conv_act_arg;

static clg_tensor *conv2d_act_device(clg_tensor *const *in, const void *arg)
{
    const chk_conv_shape *s = &conv_shape;
    clg_conv2d_params p = {s->stride_h, s->stride_w,   s->pad_h,
                           s->pad_w,    s->dilation_h, s->dilation_w};
    return clg_conv2d_act(in[0], in[1], in[2], &p, ((const conv_act_arg *)arg)->act, 0.0f);
}

static void conv2d_act_host(const double *const *in, double *out, const void *arg)
{
    const chk_conv_shape *s = &conv_shape;
    chk_conv2d(s, in[0], in[1], in[2], NULL, out, NULL, NULL, NULL);
    int64_t n = (int64_t)s->n * s->k * chk_conv2d_out_h(s) * chk_conv2d_out_w(s);
    for (int64_t i = 0; i < n; i++)
        out[i] = chk_pointwise_f(((const conv_act_arg *)arg)->kind, out[i], 0, 0);
}

#define CONV2D_ACT(nm, act_, kind_)                                                                \
    {                                                                                              \
        nm, "gemm", 3, {IN(4, 2, 3, 7, 6), IN(4, 4, 3, 3, 3), IN(1, 4)}, 4, {2, 4, 4, 4},          \
            conv2d_act_device, conv2d_act_host, &(const conv_act_arg){act_, kind_}, NULL           \
    }

static const chk_conv_shape tconv_shape = {.n = 2,
                                           .c = 3,
                                           .h = 4,
                                           .w = 5,
                                           .k = 2,
                                           .kh = 3,
                                           .kw = 3,
                                           .stride_h = 2,
                                           .stride_w = 2,
                                           .pad_h = 1,
                                           .pad_w = 1,
                                           .output_pad_h = 1,
                                           .output_pad_w = 0,
                                           .dilation_h = 1,
                                           .dilation_w = 1};

static clg_tensor *tconv_device(clg_tensor *const *in, const void *arg)
{
    const chk_conv_shape *s = arg;
    clg_conv_transpose2d_params p = {s->stride_h,   s->stride_w,     s->pad_h,
                                     s->pad_w,      s->output_pad_h, s->output_pad_w,
                                     s->dilation_h, s->dilation_w};
    return clg_conv_transpose2d(in[0], in[1], in[2], &p);
}

static void tconv_host(const double *const *in, double *out, const void *arg)
{
    chk_conv_transpose2d(arg, in[0], in[1], in[2], NULL, out, NULL, NULL, NULL);
}

/* ---- pooling on (2,3,7,6) ---- */

typedef struct pool_arg {
    int kind; /* 0 max, 1 average */
    clg_pool2d_params p;
} pool_arg;

static clg_tensor *pool_device(clg_tensor *const *in, const void *arg)
{
    const pool_arg *a = arg;
    return a->kind == 0 ? clg_max_pool2d(in[0], &a->p) : clg_avg_pool2d(in[0], &a->p);
}

static void pool_host(const double *const *in, double *out, const void *arg)
{
    const pool_arg *a = arg;
    chk_pool2d(a->kind, 2, 3, 7, 6, &a->p, in[0], NULL, out, NULL);
}

/* ---- batch norm, training, (4,3,2,3) with weight and bias ---- */

static clg_tensor *batch_norm_device(clg_tensor *const *in, const void *arg)
{
    (void)arg;
    return clg_batch_norm(in[0], NULL, NULL, in[1], in[2], true, 0.1f, 1e-5f);
}

static void batch_norm_host(const double *const *in, double *out, const void *arg)
{
    (void)arg;
    chk_batch_norm(in[0], 4, 3, 6, NULL, NULL, in[1], in[2], true, 0.1, 1e-5, out);
}

/* ---- embedding: weight (6,4), ids (3,5) ---- */

static clg_tensor *embedding_device(clg_tensor *const *in, const void *arg)
{
    (void)arg;
    return clg_embedding(in[0], in[1]);
}

static void embedding_host(const double *const *in, double *out, const void *arg)
{
    (void)arg;
    for (int i = 0; i < 15; i++)
        for (int d = 0; d < 4; d++)
            out[i * 4 + d] = in[0][(int)in[1][i] * 4 + d];
}

/* ---- recurrent: T 4, N 3, I 5, H 4. LSTM y + h_n + c_n (time-major); RNN
 * batch-first y + h_n (a strided sequence); GRU y + h_n (time-major). The
 * LSTM again at T 3, N 7, I 5, H 16: on the cpu launch plan its forward
 * steps are then the fused kernel (the plan's width, 4 to 16, divides 16),
 * whose tiles of 6 batch rows leave a partial one ---- */

enum { RT = 4, RN = 3, RI = 5, RH = 4 };
enum { FT = 3, FN = 7, FI = 5, FH = 16 };

/* arg: the LSTM's sizes T, N, I, H */
static clg_tensor *lstm_device(clg_tensor *const *in, const void *arg)
{
    (void)arg;
    clg_tensor *h_n = NULL, *c_n = NULL;
    clg_tensor *y = clg_lstm(in[0], in[1], in[2], in[3], in[4], in[5], in[6], false, &h_n, &c_n);
    return clg_add(clg_add(y, h_n), c_n);
}

static void lstm_host(const double *const *in, double *out, const void *arg)
{
    const int *size = arg, T = size[0], N = size[1], I = size[2], H = size[3];
    double h_n[FN * FH], c_n[FN * FH]; /* the larger of the two cases */
    chk_recurrent(CLG_CELL_LSTM, T, N, I, H, in[0], in[1], in[2], in[3], in[4], in[5], in[6], out,
                  h_n, c_n);
    for (int t = 0; t < T; t++)
        for (int e = 0; e < N * H; e++)
            out[t * N * H + e] += h_n[e] + c_n[e];
}

static clg_tensor *rnn_device(clg_tensor *const *in, const void *arg)
{
    (void)arg;
    clg_tensor *h_n = NULL;
    clg_tensor *y = clg_rnn(in[0], in[1], in[2], in[3], in[4], in[5], true, &h_n);
    return clg_add(y, clg_transpose(h_n, 0, 1));
}

static void rnn_host(const double *const *in, double *out, const void *arg)
{
    (void)arg;
    double x[RT * RN * RI], y[RT * RN * RH], h_n[RN * RH];
    for (int n = 0; n < RN; n++)
        for (int t = 0; t < RT; t++)
            for (int k = 0; k < RI; k++)
                x[(t * RN + n) * RI + k] = in[0][(n * RT + t) * RI + k];
    chk_recurrent(CLG_CELL_RNN, RT, RN, RI, RH, x, in[1], NULL, in[2], in[3], in[4], in[5], y, h_n,
                  NULL);
    for (int n = 0; n < RN; n++)
        for (int t = 0; t < RT; t++)
            for (int j = 0; j < RH; j++)
                out[(n * RT + t) * RH + j] = y[(t * RN + n) * RH + j] + h_n[n * RH + j];
}

static clg_tensor *gru_device(clg_tensor *const *in, const void *arg)
{
    (void)arg;
    clg_tensor *h_n = NULL;
    clg_tensor *y = clg_gru(in[0], in[1], in[2], in[3], in[4], in[5], false, &h_n);
    return clg_add(y, h_n);
}

static void gru_host(const double *const *in, double *out, const void *arg)
{
    (void)arg;
    double h_n[RN * RH];
    chk_recurrent(CLG_CELL_GRU, RT, RN, RI, RH, in[0], in[1], NULL, in[2], in[3], in[4], in[5], out,
                  h_n, NULL);
    for (int t = 0; t < RT; t++)
        for (int e = 0; e < RN * RH; e++)
            out[t * RN * RH + e] += h_n[e];
}

/* ---- dropout: the mask's statistics ---- */

enum { DROP_N = 1 << 17 };

/* p = 0.3 on 2^17 ones: every output is 0 or 1 / (1 - p) (one rounding), the
 * kept count within 5 standard deviations of the binomial's mean (a false
 * alarm once in 1.7 million runs), and backward with ones upstream gives the
 * output itself: the same mask, the same scale. A second seed must give
 * another mask. */
static void dropout_custom(clg_context *ctx, const void *arg, chk_result *out)
{
    (void)arg;
    const double p = 0.3, scale = 1 / (1 - p);
    const int64_t shape[1] = {DROP_N};
    float *y = malloc(DROP_N * sizeof *y), *g = malloc(DROP_N * sizeof *g);
    float *y2 = malloc(DROP_N * sizeof *y2);
    clg_tensor *x = clg_tensor_create(ctx, CLG_DTYPE_F32, 1, shape);
    if (!y || !g || !y2) {
        fail(out, "out of host memory");
        goto cleanup;
    }
    clg_tensor_fill(x, 1.0f);
    clg_tensor_set_requires_grad(x, true);
    clg_step_begin(ctx);
    clg_tensor *d = clg_dropout(x, (float)p, true, 20261205, 0);
    clg_tensor_download(d, y, DROP_N);
    if (d)
        clg_backward_with(d, clg_tensor_full(ctx, 1, shape, 1.0f));
    clg_tensor_download(clg_dropout(x, (float)p, true, 20261206, 0), y2, DROP_N);
    clg_step_end(ctx);
    if (clg_context_status(ctx) == CLG_STATUS_OK)
        clg_tensor_download(clg_tensor_grad(x), g, DROP_N);
    if (clg_context_status(ctx) != CLG_STATUS_OK) {
        fail(out, "%s", clg_context_error(ctx));
        goto cleanup;
    }
    size_t kept = 0, differ = 0;
    for (size_t i = 0; i < DROP_N; i++) {
        bool zero = y[i] == 0.0f;
        kept += !zero;
        differ += (y2[i] == 0.0f) != zero;
        double rel = zero ? 0 : fabs(y[i] - scale) / scale;
        if (rel > out->max_rel_err)
            out->max_rel_err = rel;
        if (rel > 2e-7)
            fail(out, "forward (%d,) element [%zu] is %.9g, neither 0 nor 1/(1-p) = %.9g", DROP_N,
                 i, (double)y[i], scale);
        if (g[i] != y[i])
            fail(out,
                 "backward (%d,) differs at [%zu]: got %.9g, want %.9g (the mask times "
                 "1/(1-p))",
                 DROP_N, i, (double)g[i], (double)y[i]);
    }
    double mean = DROP_N * (1 - p), sd = sqrt(DROP_N * p * (1 - p));
    if (fabs((double)kept - mean) > 5 * sd)
        fail(out, "keep rate %.5f of %d elements, want %.2f within %.5f (5 binomial sd)",
             (double)kept / DROP_N, DROP_N, 1 - p, 5 * sd / DROP_N);
    /* two independent masks differ in 2 p (1 - p) of the elements */
    double want_differ = DROP_N * 2 * p * (1 - p), sd_differ = sqrt(want_differ);
    if (fabs((double)differ - want_differ) > 5 * sd_differ)
        fail(out, "masks of two seeds differ in %zu of %d elements, want about %.0f", differ,
             DROP_N, want_differ);
    if (out->passed)
        snprintf(out->detail, sizeof out->detail, "keep rate %.5f (want %.2f +- %.5f)",
                 (double)kept / DROP_N, 1 - p, 5 * sd / DROP_N);
cleanup:
    clg_context_clear_error(ctx);
    clg_tensor_destroy(x);
    free(y);
    free(g);
    free(y2);
}

/* ---- optimizers: two steps on a (37) and a (3,4) parameter ---- */

static void optim_custom(clg_context *ctx, const void *arg, chk_result *out)
{
    const clg_optim_options *options = arg;
    enum { N0 = 37, N1 = 12, N = N0 + N1, STEPS = 2 };
    float p[N], g[STEPS][N], got[N];
    double want[N], gd[N], buf1[N] = {0}, buf2[N] = {0}, buf3[N] = {0}, start[N];
    chk_random(p, N, seed_of(clg_optim_kind_name(options->kind), 0), -1, 1);
    for (int s = 0; s < STEPS; s++)
        chk_random(g[s], N, seed_of(clg_optim_kind_name(options->kind), 1 + s), -1, 1);
    clg_tensor *t0 = clg_tensor_create(ctx, CLG_DTYPE_F32, 1, (const int64_t[]){N0});
    clg_tensor *t1 = clg_tensor_create(ctx, CLG_DTYPE_F32, 2, (const int64_t[]){3, 4});
    clg_params *params = clg_params_create(ctx);
    clg_tensor_upload(t0, p, N0);
    clg_tensor_upload(t1, p + N0, N1);
    clg_params_add(params, "a", t0);
    clg_params_add(params, "b", t1);
    clg_optim *opt = clg_optim_create(ctx, params, options);
    for (int s = 0; s < STEPS && opt; s++) {
        clg_step_begin(ctx);
        clg_optim_zero_grad(opt);
        /* gradient g exactly: d sum(p g) / dp = g, one backward per step */
        clg_tensor *g0 = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 1, (const int64_t[]){N0}, g[s]);
        clg_tensor *g1 =
            clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, (const int64_t[]){3, 4}, g[s] + N0);
        clg_backward(clg_add(clg_sum_all(clg_mul(t0, g0)), clg_sum_all(clg_mul(t1, g1))));
        clg_optim_step(opt);
        clg_step_end(ctx);
    }
    clg_tensor_download(t0, got, N0);
    clg_tensor_download(t1, got + N0, N1);
    if (clg_context_status(ctx) != CLG_STATUS_OK) {
        fail(out, "%s", clg_context_error(ctx));
    } else {
        for (int i = 0; i < N; i++)
            want[i] = start[i] = p[i];
        for (int s = 0; s < STEPS; s++) {
            for (int i = 0; i < N; i++)
                gd[i] = g[s][i];
            chk_optim_step(options, s + 1, N, want, gd, buf1, buf2, buf3);
        }
        /* the change over the steps, compared as the parameters' rounding
         * allows (see the "optim" row) */
        float delta[N];
        for (int i = 0; i < N; i++) {
            delta[i] = (float)((double)got[i] - start[i]);
            want[i] -= start[i];
        }
        compare(out, "update of parameters", 1, (const int64_t[]){N}, delta, want, N,
                chk_tol_get("optim"));
    }
    clg_context_clear_error(ctx);
    clg_optim_destroy(opt);
    clg_params_destroy(params);
    clg_tensor_destroy(t0);
    clg_tensor_destroy(t1);
}

#define OPTIM(nm, kind_, lr_, mom, damp, wd, centered_)                                            \
    {                                                                                              \
        nm, NULL, 0, {{0}}, 0, {0}, NULL, NULL,                                                    \
            &(const clg_optim_options){.kind = kind_,                                              \
                                       .lr = lr_,                                                  \
                                       .momentum = mom,                                            \
                                       .dampening = damp,                                          \
                                       .weight_decay = wd,                                         \
                                       .alpha = 0.9f,                                              \
                                       .beta1 = 0.9f,                                              \
                                       .beta2 = 0.999f,                                            \
                                       .eps = 1e-8f,                                               \
                                       .centered = centered_},                                     \
            optim_custom                                                                           \
    }

#define IN(rank, ...)                                                                              \
    {                                                                                              \
        rank, {__VA_ARGS__}, -1, 1, 0, true, false                                                 \
    }

/* An LSTM case: x (T, N, I), h0 and c0 (1, N, H), the weights and biases of
 * torch.nn.LSTM, out (T, N, H). */
#define LSTM_CASE(nm, T, N, I, H)                                                                  \
    {                                                                                              \
        nm, "transcendental", 7,                                                                   \
            {IN(3, T, N, I),    IN(3, 1, N, H), IN(3, 1, N, H), IN(2, 4 * (H), I),                 \
             IN(2, 4 * (H), H), IN(1, 4 * (H)), IN(1, 4 * (H))},                                   \
            3, {T, N, H}, lstm_device, lstm_host, (const int[]){T, N, I, H}, NULL                  \
    }

static const op_case cases[] = {
    /* elementwise: inputs away from each op's kinks and inside its domain */
    POINTWISE("neg", CHK_NEG, 0, 0, -2, 2, 0, true),
    POINTWISE("exp", CHK_EXP, 0, 0, -2, 2, 0, true),
    POINTWISE("log", CHK_LOG, 0, 0, 0.2f, 3, 0, true),
    POINTWISE("sqrt", CHK_SQRT, 0, 0, 0.2f, 3, 0, true),
    POINTWISE("abs", CHK_ABS, 0, 0, -2, 2, 0.05f, true),
    POINTWISE("pow", CHK_POW, 2.5f, 0, 0.2f, 2, 0, true),
    POINTWISE("affine", CHK_AFFINE, 2.5f, -0.3f, -2, 2, 0, true),
    POINTWISE("sigmoid", CHK_SIGMOID, 0, 0, -4, 4, 0, true),
    POINTWISE("tanh", CHK_TANH, 0, 0, -3, 3, 0, true),
    POINTWISE("relu", CHK_RELU, 0, 0, -2, 2, 0.05f, true),
    POINTWISE("leaky_relu", CHK_LEAKY_RELU, 0.2f, 0, -2, 2, 0.05f, true),
    POINTWISE("softplus", CHK_SOFTPLUS, 2, 5, -3, 4, 0, true),
    POINTWISE("heaviside", CHK_HEAVISIDE, 0.5f, 0, -2, 2, 0.05f, false),
    POINTWISE("clamp", CHK_CLAMP, -0.5f, 0.7f, -1, 1, 0, true),
    POINTWISE("elu", CHK_ELU, 0.5f, 0, -3, 2, 0.05f, true),
    POINTWISE("selu", CHK_SELU, 0, 0, -3, 2, 0.05f, true),
    POINTWISE("hardsigmoid", CHK_HARDSIGMOID, 0, 0, -5, 5, 0, true),
    /* fused bias + activation, smooth ones (sums straddle 0) */
    BIAS_ACT("bias_tanh", CLG_ACT_TANH, CHK_TANH, 37),
    BIAS_ACT("bias_sigmoid", CLG_ACT_SIGMOID, CHK_SIGMOID, 6),
    BIAS_ACT("bias_elu", CLG_ACT_ELU, CHK_ELU, 3),
    LINEAR_ACT("linear_tanh", CLG_ACT_TANH, CHK_TANH, 19),
    LINEAR_ACT("linear_sigmoid", CLG_ACT_SIGMOID, CHK_SIGMOID, 3),
    /* broadcasting binary; pow on positive bases */
    BINARY("add", CHK_ADD, -2, -2),
    BINARY("sub", CHK_SUB, -2, -2),
    BINARY("mul", CHK_MUL, -2, -2),
    BINARY("div", CHK_DIV, -2, 0.5f),
    BINARY("pow_tensor", CHK_POW_TENSOR, 0.5f, -1.5f),
    /* reductions */
    REDUCE("sum", CHK_SUM, false),
    REDUCE("mean", CHK_MEAN, false),
    REDUCE("max", CHK_MAX, false),
    REDUCE("sum_all", CHK_SUM, true),
    REDUCE("mean_all", CHK_MEAN, true),
    REDUCE("max_all", CHK_MAX, true),
    {"sum_long",
     "reduction",
     1,
     {IN(2, LONG, 6)},
     1,
     {6},
     sum_long_device,
     sum_long_host,
     NULL,
     NULL},
    /* softmax and losses */
    {"softmax",
     "transcendental",
     1,
     {{3, {3, 5, 7}, -4, 4, 0, true, false}},
     3,
     {3, 5, 7},
     softmax_device,
     softmax_host,
     &(const bool){false},
     NULL},
    {"log_softmax",
     "transcendental",
     1,
     {{3, {3, 5, 7}, -4, 4, 0, true, false}},
     3,
     {3, 5, 7},
     softmax_device,
     softmax_host,
     &(const bool){true},
     NULL},
    {"log_softmax_long",
     "transcendental",
     1,
     {{2, {3, LONG}, -4, 4, 0, true, false}},
     2,
     {3, LONG},
     softmax_long_device,
     softmax_long_host,
     NULL,
     NULL},
    {"mse_loss",
     "reduction",
     2,
     {IN(2, 5, 7), IN(2, 5, 7)},
     0,
     {0},
     loss_device,
     loss_host,
     &(const loss_arg){CHK_MSE, CLG_REDUCTION_MEAN},
     NULL},
    {"bce_loss",
     "reduction",
     2,
     {{2, {5, 7}, 0.05f, 0.95f, 0, true, false}, {2, {5, 7}, 0, 1, 0, false, false}},
     0,
     {0},
     loss_device,
     loss_host,
     &(const loss_arg){CHK_BCE, CLG_REDUCTION_SUM},
     NULL},
    {"bce_with_logits_loss",
     "reduction",
     2,
     {{2, {5, 7}, -3, 3, 0, true, false}, {2, {5, 7}, 0, 1, 0, false, false}},
     0,
     {0},
     loss_device,
     loss_host,
     &(const loss_arg){CHK_BCE_LOGITS, CLG_REDUCTION_MEAN},
     NULL},
    {"cross_entropy_loss",
     "reduction",
     2,
     {{2, {7, 6}, -3, 3, 0, true, false}, {1, {6}, 0, 7, 0, false, true}},
     0,
     {0},
     loss_device,
     loss_host,
     &(const loss_arg){3, CLG_REDUCTION_MEAN},
     NULL},
    {"gaussian_kl",
     "reduction",
     2,
     {IN(2, 5, 7), IN(2, 5, 7)},
     0,
     {0},
     loss_device,
     loss_host,
     &(const loss_arg){4, CLG_REDUCTION_SUM},
     NULL},
    /* matrix products through the dispatcher's default choices (and, from
     * chk_gemm_case_run, through each implementation) */
    {"matmul",
     "gemm",
     4,
     {IN(2, 7, 9), IN(2, 5, 9), IN(2, 9, 7), IN(2, 9, 5)},
     2,
     {7, 5},
     matmul_device,
     matmul_host,
     NULL,
     NULL},
    {"matmul_batched",
     "gemm",
     2,
     {IN(3, 3, 4, 6), IN(3, 3, 6, 5)},
     3,
     {3, 4, 5},
     matmul_batched_device,
     matmul_batched_host,
     NULL,
     NULL},
    {"matmul_long_k",
     "gemm",
     2,
     {IN(2, 5, 700), IN(2, 700, 3)},
     2,
     {5, 3},
     matmul_long_k_device,
     matmul_long_k_host,
     NULL,
     NULL},
    /* convolutions and pooling: odd sizes, strides, padding, dilation */
    {"conv2d",
     "gemm",
     3,
     {IN(4, 2, 3, 7, 6), IN(4, 4, 3, 3, 3), IN(1, 4)},
     4,
     {2, 4, 4, 4},
     conv2d_device,
     conv2d_host,
     &conv_shape,
     NULL},
    /* the activation fused: smooth ones, so the gradient check has no kink */
    CONV2D_ACT("conv2d_tanh", CLG_ACT_TANH, CHK_TANH),
    CONV2D_ACT("conv2d_sigmoid", CLG_ACT_SIGMOID, CHK_SIGMOID),
    {"conv_transpose2d",
     "gemm",
     3,
     {IN(4, 2, 3, 4, 5), IN(4, 3, 2, 3, 3), IN(1, 2)},
     4,
     {2, 2, 8, 9},
     tconv_device,
     tconv_host,
     &tconv_shape,
     NULL},
    {"max_pool2d",
     "default",
     1,
     {IN(4, 2, 3, 7, 6)},
     4,
     {2, 3, 3, 3},
     pool_device,
     pool_host,
     &(const pool_arg){0, {3, 3, 2, 2, 1, 1, 2, 2, true, false}},
     NULL},
    {"avg_pool2d",
     "default",
     1,
     {IN(4, 2, 3, 7, 6)},
     4,
     {2, 3, 4, 4},
     pool_device,
     pool_host,
     &(const pool_arg){1, {3, 3, 2, 2, 1, 1, 1, 1, true, true}},
     NULL},
    {"batch_norm",
     "reduction",
     3,
     {IN(4, 4, 3, 2, 3), IN(1, 3), IN(1, 3)},
     4,
     {4, 3, 2, 3},
     batch_norm_device,
     batch_norm_host,
     NULL,
     NULL},
    {"dropout", NULL, 0, {{0}}, 0, {0}, NULL, NULL, NULL, dropout_custom},
    {"embedding",
     "exact",
     2,
     {IN(2, 6, 4), {2, {3, 5}, 0, 6, 0, false, true}},
     3,
     {3, 5, 4},
     embedding_device,
     embedding_host,
     NULL,
     NULL},
    /* recurrent */
    LSTM_CASE("lstm", RT, RN, RI, RH),
    LSTM_CASE("lstm_fused", FT, FN, FI, FH),
    {"rnn",
     "transcendental",
     6,
     {IN(3, RN, RT, RI), IN(3, 1, RN, RH), IN(2, RH, RI), IN(2, RH, RH), IN(1, RH), IN(1, RH)},
     3,
     {RN, RT, RH},
     rnn_device,
     rnn_host,
     NULL,
     NULL},
    {"gru",
     "transcendental",
     6,
     {IN(3, RT, RN, RI), IN(3, 1, RN, RH), IN(2, 3 * RH, RI), IN(2, 3 * RH, RH), IN(1, 3 * RH),
      IN(1, 3 * RH)},
     3,
     {RT, RN, RH},
     gru_device,
     gru_host,
     NULL,
     NULL},
    /* optimizers, each with weight decay */
    OPTIM("sgd", CLG_OPTIM_SGD, 0.1f, 0, 0, 0.01f, false),
    OPTIM("momentum", CLG_OPTIM_MOMENTUM, 0.1f, 0.9f, 0.1f, 0.01f, false),
    OPTIM("nesterov", CLG_OPTIM_NESTEROV, 0.1f, 0.9f, 0, 0.01f, false),
    OPTIM("rmsprop", CLG_OPTIM_RMSPROP, 0.01f, 0.5f, 0, 0.01f, true),
    OPTIM("adam", CLG_OPTIM_ADAM, 0.01f, 0, 0, 0.01f, false),
    OPTIM("adamw", CLG_OPTIM_ADAMW, 0.01f, 0, 0, 0.01f, false),
};
#define N_CASES (sizeof cases / sizeof cases[0])

size_t chk_case_count(void)
{
    return N_CASES;
}

const char *chk_case_name(size_t index)
{
    return index < N_CASES ? cases[index].name : NULL;
}

void chk_case_run(clg_context *ctx, size_t index, chk_result *out)
{
    *out = (chk_result){.passed = true};
    if (index >= N_CASES) {
        fail(out, "no case %zu", index);
        return;
    }
    const op_case *c = &cases[index];
    if (c->custom)
        c->custom(ctx, c->arg, out);
    else
        run_op_case(ctx, c, out);
}

size_t chk_gemm_implementations(const clg_context *ctx, const char **names, size_t capacity)
{
    /* one shape of each class the default dispatch tells apart (cl/gemm.c:
     * NT with few columns and a long K, NT with a long K, fewer than 4 rows,
     * few rows, the rest) and the transposed layouts */
    clg_gemm_shape shapes[64] = {
        {64, 2, 256, 1, false, true}, {64, 64, 512, 1, false, true}, {1, 64, 64, 1, false, false},
        {8, 64, 64, 1, false, false}, {64, 64, 64, 1, false, false}, {64, 64, 64, 1, true, false},
        {7, 5, 9, 1, false, true},    {7, 5, 9, 1, true, false},     {4, 5, 6, 3, false, false},
    };
    size_t n_shapes = 9;
    /* and each shape of the tuned table: "gemm M N K BATCH TA TB NAME ..." */
    const char *path = clg_gemm_table_path(ctx);
    FILE *f = path && path[0] ? fopen(path, "r") : NULL;
    char line[512];
    while (f && n_shapes < 64 && fgets(line, sizeof line, f)) {
        long long m, n, k, batch;
        int ta, tb;
        if (sscanf(line, "gemm %lld %lld %lld %lld %d %d", &m, &n, &k, &batch, &ta, &tb) == 6)
            shapes[n_shapes++] = (clg_gemm_shape){m, n, k, batch, ta == 1, tb == 1};
    }
    if (f)
        fclose(f);
    size_t count = 0;
    for (size_t s = 0; s < n_shapes; s++) {
        const char *name = clg_gemm_choice(ctx, &shapes[s]);
        bool seen = false;
        for (size_t i = 0; i < count && i < capacity; i++)
            seen = seen || strcmp(names[i], name) == 0;
        if (!seen) {
            if (count < capacity)
                names[count] = name;
            count++;
        }
    }
    return count;
}

void chk_gemm_case_run(const clg_context_options *opts, const char *impl, const char *case_name,
                       chk_result *out)
{
    *out = (chk_result){.passed = true};
    size_t index = 0;
    while (index < N_CASES && strcmp(cases[index].name, case_name) != 0)
        index++;
    if (index == N_CASES) {
        fail(out, "no case %s", case_name);
        return;
    }
    clg_context_options with_gemm = opts ? *opts : clg_context_options_default();
    with_gemm.gemm = impl;
    clg_context *ctx = NULL;
    clg_status status = clg_context_create(&with_gemm, &ctx);
    if (status != CLG_STATUS_OK)
        fail(out, "a context with the GEMM %s: %s", impl,
             ctx ? clg_context_error(ctx) : "out of host memory");
    else
        run_op_case(ctx, &cases[index], out);
    clg_context_destroy(ctx);
}
