/* check/check.h: what `clgrad check` and the Check suites share, so that the
 * host references and tolerances exist once: the tolerance table, naive host
 * references of every op family (in double), and the case table that runs
 * each op family on a context's device against them, forward on seeded random
 * inputs and backward against float64 central differences of the reference.
 * Compiled into the internal static library clgrad_check (check/meson.build),
 * linked by tools/clgrad and tests/; it uses the public API only and never
 * prints: results come back as chk_result. Internal prefix: chk_. */
#ifndef CLGRAD_CHECK_H
#define CLGRAD_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <clgrad/clgrad.h>

/* ---- tolerances (check/tolerance.c) ---- */

/* One row of the table: |got - want| <= atol + rtol |want|; fd_step is the
 * finite-difference step (relative to max(1, |x|)) for gradient checks. */
typedef struct chk_tol {
    const char *name;
    double rtol;
    double atol;
    double fd_step;
    const char *why;
} chk_tol;

/* The row named `name`, or NULL when there is none. */
const chk_tol *chk_tol_get(const char *name);

/* Deterministic values in [low, high) (splitmix64; not the library's RNG, so
 * neither the tests nor the check depend on it). */
void chk_random(float *x, size_t n, uint64_t seed, float low, float high);

/* ---- host references (check/reference.c), naive loops in double ---- */

/* Elementwise ops of ops/unary.c and ops/activation.c. p0, p1: pow's
 * exponent; affine's scale and shift; leaky_relu's slope; softplus's beta and
 * threshold; heaviside's value at 0; clamp's min and max; elu's alpha. */
typedef enum chk_pointwise {
    CHK_NEG,
    CHK_EXP,
    CHK_LOG,
    CHK_SQRT,
    CHK_ABS,
    CHK_POW,
    CHK_AFFINE,
    CHK_SIGMOID,
    CHK_TANH,
    CHK_RELU,
    CHK_LEAKY_RELU,
    CHK_SOFTPLUS,
    CHK_HEAVISIDE,
    CHK_CLAMP,
    CHK_ELU,
    CHK_SELU,
    CHK_HARDSIGMOID
} chk_pointwise;

/* f(x) ... */
double chk_pointwise_f(chk_pointwise kind, double x, double p0, double p1);
/* ... and f'(x), from the textbook rather than from the kernels, with
 * PyTorch's choices at the kinks (heaviside has none: 0). */
double chk_pointwise_df(chk_pointwise kind, double x, double p0, double p1);

/* The broadcasting binary ops of ops/binary.c. */
typedef enum chk_binary { CHK_ADD, CHK_SUB, CHK_MUL, CHK_DIV, CHK_POW_TENSOR } chk_binary;
double chk_binary_f(chk_binary op, double x, double y);
/* g d(x op y)/dx and g d(x op y)/dy (pow's masks at 0 as PyTorch's). */
void chk_binary_partials(chk_binary op, double g, double x, double y, double *dx, double *dy);

/* Reductions of the row-major x of `shape` along `axis`: out holds the values,
 * idx (may be NULL) the first maximum's position along the axis. */
typedef enum chk_reduction { CHK_SUM, CHK_MEAN, CHK_MAX } chk_reduction;
void chk_reduce(chk_reduction op, const double *x, int rank, const int64_t *shape, int axis,
                double *out, int *idx);

/* softmax or log_softmax of the row-major x of `shape` along `axis`. */
void chk_softmax(bool log_out, const double *x, int rank, const int64_t *shape, int axis,
                 double *y);

/* C (m, n) = op(A) op(B); A stored (m, k), or (k, m) when ta; B (k, n), or
 * (n, k) when tb. */
void chk_gemm(const double *a, const double *b, double *c, int m, int n, int k, bool ta, bool tb);

/* The pointwise losses of ops/loss.c, before reduction. */
typedef enum chk_loss { CHK_MSE, CHK_BCE, CHK_BCE_LOGITS } chk_loss;
double chk_loss_pointwise(chk_loss kind, double x, double t);
/* logsumexp(x[row]) - x[row, label] for a row-major (n, c) x. */
double chk_cross_entropy_row(const double *x, int c, int row, int label);

/* Geometry of a convolution: x (n, c, h, w), weight (k, c, kh, kw) for
 * conv2d and (c, k, kh, kw) for conv_transpose2d, and the parameters as
 * clg_conv_transpose2d_params (output padding unused by conv2d). */
typedef struct chk_conv_shape {
    int n, c, h, w, k, kh, kw;
    int stride_h, stride_w, pad_h, pad_w, output_pad_h, output_pad_w, dilation_h, dilation_w;
} chk_conv_shape;
int chk_conv2d_out_h(const chk_conv_shape *s);
int chk_conv2d_out_w(const chk_conv_shape *s);
int chk_conv_transpose2d_out_h(const chk_conv_shape *s);
int chk_conv_transpose2d_out_w(const chk_conv_shape *s);
/* y = conv(x, w) + b (b may be NULL) by direct loops over every (output, tap)
 * pair that reads a real input element; for an upstream gradient g (may be
 * NULL: forward only) also dx, dw, db by the same loops. */
void chk_conv2d(const chk_conv_shape *s, const double *x, const double *w, const double *b,
                const double *g, double *y, double *dx, double *dw, double *db);
/* The same for conv_transpose2d, written as the scatter that defines it:
 * input pixel (ih, iw) adds x w[c, k, i, j] to output
 * (ih sh - ph + i dh, iw sw - pw + j dw) when that lies inside. */
void chk_conv_transpose2d(const chk_conv_shape *s, const double *x, const double *w,
                          const double *b, const double *g, double *y, double *dx, double *dw,
                          double *db);

/* Outputs of pooling along an axis of `size`, window k, stride s, padding
 * pad, under PyTorch's ceil_mode rule. */
int chk_pool_out(int size, int k, int s, int pad, int dilation, bool ceil_mode);
/* Max (kind 0) or average (1) pooling of x (n, c, h, w) under p; y gets
 * every window's max (first maximum in row-major order; padding is -inf) or
 * mean (count_include_pad or count_exclude_pad); for g (may be NULL) dx sums
 * what each window sends back. */
void chk_pool2d(int kind, int n, int c, int h, int w, const clg_pool2d_params *p, const double *x,
                const double *g, double *y, double *dx);

/* y = (x - mean) / sqrt(var + eps) w + b per channel, x (n, c, inner)
 * row-major; w and b may be NULL (1 and 0). Training uses the batch's
 * statistics and updates rm and rv (may be NULL) as PyTorch (unbiased
 * variance); otherwise it reads them. */
void chk_batch_norm(const double *x, int n, int c, int inner, double *rm, double *rv,
                    const double *w, const double *b, bool training, double momentum, double eps,
                    double *y);

/* The tanh RNN, the LSTM (gates i, f, g, o) or the GRU (gates r, z, n, as
 * torch.nn.GRU's documentation writes it: b_hn inside the reset product),
 * time-major: x (T, N, I), h0 (N, H) or NULL for zeros, c0 (N, H) (the LSTM's;
 * NULL for zeros), either bias NULL for none -> y (T, N, H), h_n, c_n (N, H)
 * (either may be NULL; c_n is zeros but for the LSTM). */
void chk_recurrent(clg_cell cell, int T, int N, int I, int H, const double *x, const double *h0,
                   const double *c0, const double *w_ih, const double *w_hh, const double *b_ih,
                   const double *b_hh, double *y, double *h_n, double *c_n);

/* One optimizer step of PyTorch's formula on n parameters: p updated from g,
 * with the state (zero before the first step): buf1 (momentum buffer, Adam's
 * first moment, RMSprop's square average), buf2 (Adam's second moment,
 * centered RMSprop's average gradient), buf3 (RMSprop's momentum buffer);
 * step counts from 1. */
void chk_optim_step(const clg_optim_options *o, int64_t step, size_t n, double *p, const double *g,
                    double *buf1, double *buf2, double *buf3);

/* ---- the case table (check/cases.c) ---- */

typedef struct chk_result {
    bool passed;
    double max_rel_err; /* |got - want| / max(|want|, atol / rtol), worst element */
    /* on a failure: what differed, the shape and the worst element (index,
     * got, want); else a summary for --verbose */
    char detail[320];
} chk_result;

/* The op cases run on whatever context they are given (the matmul ones also
 * run per GEMM implementation, see below). */
size_t chk_case_count(void);
/* "relu", "conv2d", "adamw", ...: stable names, what --op takes. */
const char *chk_case_name(size_t index);
/* Runs case `index` on ctx; the tensors it makes are destroyed again, and
 * the context's error is reported as a failure and cleared. */
void chk_case_run(clg_context *ctx, size_t index, chk_result *out);

/* The GEMM implementations the dispatcher would use on ctx's device: its
 * default choice for each class of shape (clg_gemm_choice on one shape of
 * each) and every implementation named in the device's tuned table. Up to
 * `capacity` static names, distinct; returns how many. */
size_t chk_gemm_implementations(const clg_context *ctx, const char **names, size_t capacity);
/* The matmul cases (`case_name` "matmul", "matmul_batched" or
 * "matmul_long_k") through GEMM
 * implementation `impl` only: a context opened like `opts` (NULL: the
 * defaults) with its gemm option set to impl. */
void chk_gemm_case_run(const clg_context_options *opts, const char *impl, const char *case_name,
                       chk_result *out);

#endif
