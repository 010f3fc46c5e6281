/* check/reference.c: the naive host references of every op family, in
 * double, written from the definitions (PyTorch's documentation) rather than
 * from the kernels: plain loops, no tiling, no clever indexing, so that an
 * indexing error in a kernel cannot be repeated here. The test suites and
 * `clgrad check` both compare against these. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check/check.h"

/* torch.selu's constants */
#define SELU_ALPHA 1.6732632423543772848170429916717
#define SELU_SCALE 1.0507009873554804934193349852946

double chk_pointwise_f(chk_pointwise kind, double x, double p0, double p1)
{
    switch (kind) {
    case CHK_NEG: return -x;
    case CHK_EXP: return exp(x);
    case CHK_LOG: return log(x);
    case CHK_SQRT: return sqrt(x);
    case CHK_ABS: return fabs(x);
    case CHK_POW: return pow(x, p0);
    case CHK_AFFINE: return x * p0 + p1;
    case CHK_SIGMOID: return 1 / (1 + exp(-x));
    case CHK_TANH: return tanh(x);
    case CHK_RELU: return x > 0 ? x : 0;
    case CHK_LEAKY_RELU: return x > 0 ? x : p0 * x;
    case CHK_SOFTPLUS: return p0 * x > p1 ? x : log1p(exp(p0 * x)) / p0;
    case CHK_HEAVISIDE: return x > 0 ? 1 : (x == 0 ? p0 : 0);
    case CHK_CLAMP: return p0 > p1 ? p1 : (x < p0 ? p0 : (x > p1 ? p1 : x));
    case CHK_ELU: return x > 0 ? x : p0 * (exp(x) - 1);
    case CHK_SELU: return SELU_SCALE * (x > 0 ? x : SELU_ALPHA * (exp(x) - 1));
    case CHK_HARDSIGMOID: return x <= -3 ? 0 : (x >= 3 ? 1 : x / 6 + 0.5);
    }
    return NAN;
}

double chk_pointwise_df(chk_pointwise kind, double x, double p0, double p1)
{
    switch (kind) {
    case CHK_NEG: return -1;
    case CHK_EXP: return exp(x);
    case CHK_LOG: return 1 / x;
    case CHK_SQRT: return 0.5 / sqrt(x);
    case CHK_ABS: return x > 0 ? 1 : (x < 0 ? -1 : 0);
    case CHK_POW: return p0 == 0 ? 0 : p0 * pow(x, p0 - 1);
    case CHK_AFFINE: return p0;
    case CHK_SIGMOID: return exp(-x) / ((1 + exp(-x)) * (1 + exp(-x)));
    case CHK_TANH: return 1 / (cosh(x) * cosh(x));
    case CHK_RELU: return x > 0 ? 1 : 0;
    case CHK_LEAKY_RELU: return x > 0 ? 1 : p0;
    case CHK_SOFTPLUS: return p0 * x > p1 ? 1 : 1 / (1 + exp(-p0 * x));
    case CHK_HEAVISIDE: return 0;
    case CHK_CLAMP: return x >= p0 && x <= p1 ? 1 : 0;
    case CHK_ELU: return x > 0 ? 1 : p0 * exp(x);
    case CHK_SELU: return SELU_SCALE * (x > 0 ? 1 : SELU_ALPHA * exp(x));
    case CHK_HARDSIGMOID: return x > -3 && x < 3 ? 1.0 / 6 : 0;
    }
    return NAN;
}

double chk_binary_f(chk_binary op, double x, double y)
{
    switch (op) {
    case CHK_ADD: return x + y;
    case CHK_SUB: return x - y;
    case CHK_MUL: return x * y;
    case CHK_DIV: return x / y;
    case CHK_POW_TENSOR: return pow(x, y);
    }
    return NAN;
}

void chk_binary_partials(chk_binary op, double g, double x, double y, double *dx, double *dy)
{
    switch (op) {
    case CHK_ADD: *dx = g, *dy = g; return;
    case CHK_SUB: *dx = g, *dy = -g; return;
    case CHK_MUL: *dx = g * y, *dy = g * x; return;
    case CHK_DIV: *dx = g / y, *dy = -g * x / (y * y); return;
    case CHK_POW_TENSOR:
        *dx = y == 0 ? 0 : g * (y * pow(x, y - 1));
        *dy = x == 0 && y >= 0 ? 0 : g * (pow(x, y) * log(x));
        return;
    }
}

/* outer, count, inner of a row-major shape around `axis` */
static void around(int rank, const int64_t *shape, int axis, int64_t *outer, int64_t *inner)
{
    *outer = 1, *inner = 1;
    for (int d = 0; d < axis; d++)
        *outer *= shape[d];
    for (int d = axis + 1; d < rank; d++)
        *inner *= shape[d];
}

void chk_reduce(chk_reduction op, const double *x, int rank, const int64_t *shape, int axis,
                double *out, int *idx)
{
    int64_t outer, inner, count = shape[axis];
    around(rank, shape, axis, &outer, &inner);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t r = 0; r < inner; r++) {
            double sum = 0, best = -INFINITY;
            int best_i = 0;
            for (int64_t a = 0; a < count; a++) {
                double v = x[(o * count + a) * inner + r];
                sum += v;
                if (v > best) {
                    best = v;
                    best_i = (int)a;
                }
            }
            int64_t j = o * inner + r;
            out[j] = op == CHK_SUM ? sum : op == CHK_MEAN ? sum / (double)count : best;
            if (idx)
                idx[j] = best_i;
        }
}

void chk_softmax(bool log_out, const double *x, int rank, const int64_t *shape, int axis, double *y)
{
    int64_t outer, inner, count = shape[axis];
    around(rank, shape, axis, &outer, &inner);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t r = 0; r < inner; r++) {
            double m = -INFINITY, s = 0;
            for (int64_t a = 0; a < count; a++)
                m = fmax(m, x[(o * count + a) * inner + r]);
            for (int64_t a = 0; a < count; a++)
                s += exp(x[(o * count + a) * inner + r] - m);
            for (int64_t a = 0; a < count; a++) {
                int64_t e = (o * count + a) * inner + r;
                y[e] = log_out ? x[e] - m - log(s) : exp(x[e] - m) / s;
            }
        }
}

void chk_gemm(const double *a, const double *b, double *c, int m, int n, int k, bool ta, bool tb)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int p = 0; p < k; p++)
                s += (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
            c[i * n + j] = s;
        }
}

double chk_loss_pointwise(chk_loss kind, double x, double t)
{
    switch (kind) {
    case CHK_MSE: return (x - t) * (x - t);
    case CHK_BCE: return -(t * fmax(log(x), -100) + (1 - t) * fmax(log(1 - x), -100));
    case CHK_BCE_LOGITS: return fmax(x, 0) - x * t + log(1 + exp(-fabs(x)));
    }
    return NAN;
}

double chk_cross_entropy_row(const double *x, int c, int row, int label)
{
    double m = -INFINITY, s = 0;
    for (int j = 0; j < c; j++)
        m = fmax(m, x[row * c + j]);
    for (int j = 0; j < c; j++)
        s += exp(x[row * c + j] - m);
    return m + log(s) - x[row * c + label];
}

int chk_conv2d_out_h(const chk_conv_shape *s)
{
    return (s->h + 2 * s->pad_h - s->dilation_h * (s->kh - 1) - 1) / s->stride_h + 1;
}

int chk_conv2d_out_w(const chk_conv_shape *s)
{
    return (s->w + 2 * s->pad_w - s->dilation_w * (s->kw - 1) - 1) / s->stride_w + 1;
}

int chk_conv_transpose2d_out_h(const chk_conv_shape *s)
{
    return (s->h - 1) * s->stride_h - 2 * s->pad_h + s->dilation_h * (s->kh - 1) + s->output_pad_h +
           1;
}

int chk_conv_transpose2d_out_w(const chk_conv_shape *s)
{
    return (s->w - 1) * s->stride_w - 2 * s->pad_w + s->dilation_w * (s->kw - 1) + s->output_pad_w +
           1;
}

void chk_conv2d(const chk_conv_shape *s, const double *x, const double *w, const double *b,
                const double *g, double *y, double *dx, double *dw, double *db)
{
    int ho = chk_conv2d_out_h(s), wo = chk_conv2d_out_w(s);
    size_t nx = (size_t)s->n * s->c * s->h * s->w, nw = (size_t)s->k * s->c * s->kh * s->kw;
    if (g) {
        memset(dx, 0, nx * sizeof *dx);
        memset(dw, 0, nw * sizeof *dw);
        memset(db, 0, (size_t)s->k * sizeof *db);
    }
    for (int n = 0; n < s->n; n++)
        for (int k = 0; k < s->k; k++)
            for (int oh = 0; oh < ho; oh++)
                for (int ow = 0; ow < wo; ow++) {
                    size_t o = (((size_t)n * s->k + k) * ho + oh) * wo + ow;
                    double sum = b ? b[k] : 0;
                    for (int c = 0; c < s->c; c++)
                        for (int i = 0; i < s->kh; i++)
                            for (int j = 0; j < s->kw; j++) {
                                int ih = oh * s->stride_h - s->pad_h + i * s->dilation_h;
                                int iw = ow * s->stride_w - s->pad_w + j * s->dilation_w;
                                if (ih < 0 || ih >= s->h || iw < 0 || iw >= s->w)
                                    continue;
                                size_t xi = (((size_t)n * s->c + c) * s->h + ih) * s->w + iw;
                                size_t wi = (((size_t)k * s->c + c) * s->kh + i) * s->kw + j;
                                sum += x[xi] * w[wi];
                                if (g) {
                                    dx[xi] += g[o] * w[wi];
                                    dw[wi] += g[o] * x[xi];
                                }
                            }
                    y[o] = sum;
                    if (g)
                        db[k] += g[o];
                }
}

void chk_conv_transpose2d(const chk_conv_shape *s, const double *x, const double *w,
                          const double *b, const double *g, double *y, double *dx, double *dw,
                          double *db)
{
    int ho = chk_conv_transpose2d_out_h(s), wo = chk_conv_transpose2d_out_w(s);
    size_t nw = (size_t)s->c * s->k * s->kh * s->kw;
    if (g) {
        memset(dw, 0, nw * sizeof *dw);
        for (int k = 0; k < s->k; k++) {
            double sum = 0;
            for (int n = 0; n < s->n; n++)
                for (int o = 0; o < ho * wo; o++)
                    sum += g[((size_t)n * s->k + k) * ho * wo + o];
            db[k] = sum;
        }
    }
    for (int n = 0; n < s->n; n++)
        for (int k = 0; k < s->k; k++)
            for (int o = 0; o < ho * wo; o++)
                y[((size_t)n * s->k + k) * ho * wo + o] = b ? b[k] : 0;
    for (int n = 0; n < s->n; n++)
        for (int c = 0; c < s->c; c++)
            for (int ih = 0; ih < s->h; ih++)
                for (int iw = 0; iw < s->w; iw++) {
                    size_t xi = (((size_t)n * s->c + c) * s->h + ih) * s->w + iw;
                    double sx = 0;
                    for (int k = 0; k < s->k; k++)
                        for (int i = 0; i < s->kh; i++)
                            for (int j = 0; j < s->kw; j++) {
                                int oh = ih * s->stride_h - s->pad_h + i * s->dilation_h;
                                int ow = iw * s->stride_w - s->pad_w + j * s->dilation_w;
                                if (oh < 0 || oh >= ho || ow < 0 || ow >= wo)
                                    continue;
                                size_t yi = (((size_t)n * s->k + k) * ho + oh) * wo + ow;
                                size_t wi = (((size_t)c * s->k + k) * s->kh + i) * s->kw + j;
                                y[yi] += x[xi] * w[wi];
                                if (g) {
                                    sx += g[yi] * w[wi];
                                    dw[wi] += g[yi] * x[xi];
                                }
                            }
                    if (g)
                        dx[xi] = sx;
                }
}

int chk_pool_out(int size, int k, int s, int pad, int dilation, bool ceil_mode)
{
    /* every window that fits in the padded input, and under ceil_mode one
     * more, partly past it, if the last left padded rows uncovered and it
     * starts inside the input or the left padding (PyTorch's rule) */
    int span = dilation * (k - 1) + 1, out = 0;
    while (out * s - pad + span <= size + pad)
        out++;
    bool uncovered = (out - 1) * s - pad + span < size + pad;
    if (ceil_mode && uncovered && out * s - pad < size)
        out++;
    return out;
}

void chk_pool2d(int kind, int n, int c, int h, int w, const clg_pool2d_params *p, const double *x,
                const double *g, double *y, double *dx)
{
    int dh = p->dilation_h > 0 ? p->dilation_h : 1, dw = p->dilation_w > 0 ? p->dilation_w : 1;
    int ho = chk_pool_out(h, p->kernel_h, p->stride_h, p->pad_h, dh, p->ceil_mode);
    int wo = chk_pool_out(w, p->kernel_w, p->stride_w, p->pad_w, dw, p->ceil_mode);
    if (g)
        memset(dx, 0, (size_t)n * c * h * w * sizeof *dx);
    for (int plane = 0; plane < n * c; plane++)
        for (int oh = 0; oh < ho; oh++)
            for (int ow = 0; ow < wo; ow++) {
                int o = (plane * ho + oh) * wo + ow;
                double best = -INFINITY, sum = 0;
                int arg = -1, count = 0;
                for (int i = 0; i < p->kernel_h; i++)
                    for (int j = 0; j < p->kernel_w; j++) {
                        int ih = oh * p->stride_h - p->pad_h + i * dh;
                        int iw = ow * p->stride_w - p->pad_w + j * dw;
                        bool real = ih >= 0 && ih < h && iw >= 0 && iw < w;
                        bool padded = ih < h + p->pad_h && iw < w + p->pad_w;
                        count += p->count_exclude_pad ? real : padded;
                        if (!real)
                            continue;
                        int e = (plane * h + ih) * w + iw;
                        sum += x[e];
                        if (x[e] > best) {
                            best = x[e];
                            arg = e;
                        }
                    }
                if (kind == 0) {
                    y[o] = best;
                    if (g && arg >= 0)
                        dx[arg] += g[o];
                    continue;
                }
                y[o] = sum / count;
                for (int i = 0; g && i < p->kernel_h; i++)
                    for (int j = 0; j < p->kernel_w; j++) {
                        int ih = oh * p->stride_h - p->pad_h + i;
                        int iw = ow * p->stride_w - p->pad_w + j;
                        if (ih >= 0 && ih < h && iw >= 0 && iw < w)
                            dx[(plane * h + ih) * w + iw] += g[o] / count;
                    }
            }
}

void chk_batch_norm(const double *x, int n, int c, int inner, double *rm, double *rv,
                    const double *w, const double *b, bool training, double momentum, double eps,
                    double *y)
{
    for (int ch = 0; ch < c; ch++) {
        double mean = 0, var = 0, count = (double)n * inner;
        if (training) {
            for (int i = 0; i < n; i++)
                for (int s = 0; s < inner; s++)
                    mean += x[(i * c + ch) * inner + s];
            mean /= count;
            for (int i = 0; i < n; i++)
                for (int s = 0; s < inner; s++) {
                    double d = x[(i * c + ch) * inner + s] - mean;
                    var += d * d;
                }
            var /= count;
            if (rm && rv) {
                rm[ch] = (1 - momentum) * rm[ch] + momentum * mean;
                rv[ch] = (1 - momentum) * rv[ch] + momentum * var * count / (count - 1);
            }
        } else {
            mean = rm[ch];
            var = rv[ch];
        }
        for (int i = 0; i < n; i++)
            for (int s = 0; s < inner; s++) {
                int k = (i * c + ch) * inner + s;
                y[k] = (x[k] - mean) / sqrt(var + eps) * (w ? w[ch] : 1) + (b ? b[ch] : 0);
            }
    }
}

static double sigmoid(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

void chk_recurrent(clg_cell cell, int T, int N, int I, int H, const double *x, const double *h0,
                   const double *c0, const double *w_ih, const double *w_hh, const double *b_ih,
                   const double *b_hh, double *y, double *h_n, double *c_n)
{
    bool lstm = cell == CLG_CELL_LSTM, gru = cell == CLG_CELL_GRU;
    int G = lstm ? 4 : gru ? 3 : 1;
    size_t nh = (size_t)N * H;
    double *h = malloc(sizeof(double) * nh), *c = malloc(sizeof(double) * nh);
    double *pre = malloc(sizeof(double) * (size_t)(G * H));
    double *hid = malloc(sizeof(double) * (size_t)(G * H)); /* W_h h + b_h, for the GRU's n */
    if (!h || !c || !pre || !hid) {
        free(h), free(c), free(pre), free(hid);
        return;
    }
    for (size_t e = 0; e < nh; e++) {
        h[e] = h0 ? h0[e] : 0;
        c[e] = lstm && c0 ? c0[e] : 0;
    }
    for (int t = 0; t < T; t++) {
        double *hn = y + (size_t)t * nh;
        for (int n = 0; n < N; n++) {
            for (int r = 0; r < G * H; r++) {
                double s = b_ih ? b_ih[r] : 0, sh = b_hh ? b_hh[r] : 0;
                for (int k = 0; k < I; k++)
                    s += x[((size_t)t * N + n) * I + k] * w_ih[r * I + k];
                for (int k = 0; k < H; k++)
                    sh += h[n * H + k] * w_hh[r * H + k];
                hid[r] = sh;
                /* the GRU's n: the hidden part goes inside the reset product */
                pre[r] = gru && r >= 2 * H ? s : s + sh;
            }
            for (int j = 0; j < H; j++) {
                if (gru) {
                    double r = sigmoid(pre[j]), z = sigmoid(pre[H + j]);
                    double nn = tanh(pre[2 * H + j] + r * hid[2 * H + j]);
                    hn[n * H + j] = (1 - z) * nn + z * h[n * H + j];
                } else if (lstm) {
                    double i = sigmoid(pre[j]), f = sigmoid(pre[H + j]);
                    double g = tanh(pre[2 * H + j]), o = sigmoid(pre[3 * H + j]);
                    c[n * H + j] = f * c[n * H + j] + i * g;
                    hn[n * H + j] = o * tanh(c[n * H + j]);
                } else {
                    hn[n * H + j] = tanh(pre[j]);
                }
            }
        }
        memcpy(h, hn, sizeof(double) * nh);
    }
    if (h_n)
        memcpy(h_n, h, sizeof(double) * nh);
    if (c_n)
        memcpy(c_n, c, sizeof(double) * nh);
    free(h);
    free(c);
    free(pre);
    free(hid);
}

/* torch.optim's algorithms as their documentation writes them (SGD with
 * dampening and Nesterov, RMSprop centered and with momentum, Adam with L2
 * added to the gradient, AdamW with decoupled decay p (1 - lr wd)). */
void chk_optim_step(const clg_optim_options *o, int64_t step, size_t n, double *p, const double *g,
                    double *buf1, double *buf2, double *buf3)
{
    double lr = o->lr, wd = o->weight_decay;
    for (size_t i = 0; i < n; i++) {
        double d = g[i];
        switch (o->kind) {
        case CLG_OPTIM_SGD:
        case CLG_OPTIM_MOMENTUM:
        case CLG_OPTIM_NESTEROV:
            d += wd * p[i];
            if (o->momentum != 0) {
                buf1[i] = step == 1 ? d : o->momentum * buf1[i] + (1 - o->dampening) * d;
                d = o->kind == CLG_OPTIM_NESTEROV ? d + o->momentum * buf1[i] : buf1[i];
            }
            p[i] -= lr * d;
            break;
        case CLG_OPTIM_RMSPROP: {
            d += wd * p[i];
            buf1[i] = o->alpha * buf1[i] + (1 - o->alpha) * d * d;
            double avg = buf1[i];
            if (o->centered) {
                buf2[i] = o->alpha * buf2[i] + (1 - o->alpha) * d;
                avg -= buf2[i] * buf2[i];
            }
            avg = sqrt(avg) + o->eps;
            if (o->momentum > 0) {
                buf3[i] = o->momentum * buf3[i] + d / avg;
                p[i] -= lr * buf3[i];
            } else {
                p[i] -= lr * d / avg;
            }
            break;
        }
        case CLG_OPTIM_ADAM:
        case CLG_OPTIM_ADAMW: {
            if (o->kind == CLG_OPTIM_ADAMW)
                p[i] *= 1 - lr * wd;
            else
                d += wd * p[i];
            buf1[i] = o->beta1 * buf1[i] + (1 - o->beta1) * d;
            buf2[i] = o->beta2 * buf2[i] + (1 - o->beta2) * d * d;
            double bias1 = 1 - pow(o->beta1, (double)step), bias2 = 1 - pow(o->beta2, (double)step);
            p[i] -= lr / bias1 * buf1[i] / (sqrt(buf2[i]) / sqrt(bias2) + o->eps);
            break;
        }
        }
    }
}
