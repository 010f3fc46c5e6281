/* lecture/experiments.c: the lecture's small experiments (lecture.h): the synthetic
 * "student exam" data and logistic regression fitted by gradient descent
 * and by mini-batch SGD, the universal-approximation fits with 1, 2, 3, 6
 * and 13 ReLU units, and the per-layer gradients of a deep MLP for the
 * vanishing-gradient histograms. Everything that trains is made of nn.h
 * layers, ops.h ops and optim.h's SGD / Adam, on the device; the host only
 * draws the data, shuffles and gathers mini-batches. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/random.h"
#include "lecture/lecture.h"
#include "zoo/model.h"

/* ---- the student exam ---- */

clg_status lecture_exam_generate(clg_context *ctx, int64_t n, const float *true_w, uint64_t seed,
                                 float *x, int32_t *passed)
{
    if (!ctx)
        return CLG_STATUS_INVALID_ARGUMENT;
    if (eng_failed(ctx))
        return clg_context_status(ctx);
    if (n < 1 || !x || !passed)
        return eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                        "lecture_exam_generate: %" PRId64 " students%s; expected at least one", n,
                        x && passed ? "" : " or a NULL array");
    const float w_default[3] = {LECTURE_EXAM_TRUE_W0, LECTURE_EXAM_TRUE_W1, LECTURE_EXAM_TRUE_W2};
    const float *w = true_w ? true_w : w_default;
    float *u = malloc((size_t)n * 3 * sizeof *u);
    if (!u)
        return eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "lecture_exam_generate: out of host memory");
    /* Streams 0 and 1: the two features; stream 2: the Bernoulli draws. */
    eng_random_uniform(seed, 0, u, (size_t)n);
    eng_random_uniform(seed, 1, u + n, (size_t)n);
    eng_random_uniform(seed, 2, u + 2 * n, (size_t)n);
    for (int64_t i = 0; i < n; i++) {
        float studied = 10.0f * u[i], slept = 10.0f * u[n + i];
        x[2 * i] = studied;
        x[2 * i + 1] = slept;
        double p = 1.0 / (1.0 + exp(-((double)w[0] + w[1] * studied + w[2] * slept)));
        passed[i] = u[2 * n + i] < p;
    }
    free(u);
    return CLG_STATUS_OK;
}

/* ---- logistic regression ---- */

lecture_logistic_options lecture_logistic_options_default(void)
{
    return (lecture_logistic_options){.batch = 0, .epochs = 500, .lr = 1.0f, .seed = 1};
}

static bool check_binary_labels(clg_context *ctx, const char *fn, const int32_t *t, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (t[i] != 0 && t[i] != 1) {
            eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                     "%s: label %" PRId64 " is %d; the classes are 0 and 1", fn, i, (int)t[i]);
            return false;
        }
    return true;
}

/* x (n, d) standardised on the device into `out` (host, n x d); mean and
 * standard deviation per feature into mean, std. */
static bool standardise(clg_context *ctx, const float *x, int64_t n, int64_t d, float *out,
                        float *mean, float *std)
{
    clg_step_begin(ctx);
    clg_tensor *xt = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, (const int64_t[]){n, d}, x);
    clg_tensor *m = clg_mean(xt, 0, true);
    clg_tensor *centred = clg_sub(xt, m);
    clg_tensor *s = clg_sqrt(clg_mean(clg_mul(centred, centred), 0, true));
    bool ok = clg_tensor_download(m, mean, (size_t)d) == CLG_STATUS_OK &&
              clg_tensor_download(s, std, (size_t)d) == CLG_STATUS_OK &&
              clg_tensor_download(clg_div(centred, s), out, (size_t)(n * d)) == CLG_STATUS_OK;
    clg_step_end(ctx);
    return ok;
}

/* A Fisher-Yates permutation of 0 .. n-1 from the seed's stream `stream`. */
static void shuffle(int64_t *order, int64_t n, uint64_t seed, uint64_t stream, float *u)
{
    eng_random_uniform(seed, stream, u, (size_t)n);
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)(u[i] * (float)(i + 1));
        if (j > i)
            j = i;
        int64_t swap = order[i];
        order[i] = order[j];
        order[j] = swap;
    }
}

/* One SGD step on rows of xs (host, standardised) given by order[0..b). */
static void logistic_step(clg_context *ctx, clg_linear *layer, clg_optim *opt, const float *xs,
                          const int32_t *t, const int64_t *order, int64_t b, int64_t d, float *bx,
                          float *bt)
{
    for (int64_t i = 0; i < b; i++) {
        memcpy(bx + i * d, xs + order[i] * d, (size_t)d * sizeof *bx);
        bt[i] = (float)t[order[i]];
    }
    clg_step_begin(ctx);
    clg_optim_zero_grad(opt);
    clg_tensor *xb = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, (const int64_t[]){b, d}, bx);
    clg_tensor *tb = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, (const int64_t[]){b, 1}, bt);
    /* sigmoid and cross-entropy fused, as the slides' E(w) but averaged. */
    clg_tensor *loss =
        clg_bce_with_logits_loss(clg_linear_forward(layer, xb), tb, CLG_REDUCTION_MEAN);
    if (loss && clg_backward(loss) == CLG_STATUS_OK)
        clg_optim_step(opt);
    clg_step_end(ctx);
}

clg_status lecture_logistic_fit(clg_context *ctx, const float *x, const int32_t *t, int64_t n,
                                int64_t features, const lecture_logistic_options *options, float *w,
                                float *final_loss, double *accuracy)
{
    static const char fn[] = "lecture_logistic_fit";
    if (!ctx)
        return CLG_STATUS_INVALID_ARGUMENT;
    if (eng_failed(ctx))
        return clg_context_status(ctx);
    lecture_logistic_options o = options ? *options : lecture_logistic_options_default();
    int64_t d = features;
    if (n < 1 || d < 1 || !x || !t || !w)
        return eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                        "%s: %" PRId64 " samples of %" PRId64
                        " features%s; expected at least one of each",
                        fn, n, d, x && t && w ? "" : " or a NULL array");
    if (o.batch < 0 || o.batch > n || o.epochs < 1 || !(o.lr > 0.0f))
        return eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                        "%s: batch %" PRId64 " (0 for full batch, at most n = %" PRId64
                        "), epochs %d (>= 1), lr %g (> 0)",
                        fn, o.batch, n, o.epochs, (double)o.lr);
    if (!check_binary_labels(ctx, fn, t, n))
        return clg_context_status(ctx);
    int64_t b = o.batch == 0 ? n : o.batch;
    float *xs = malloc((size_t)(n * d) * sizeof *xs);
    float *bx = malloc((size_t)(b * d) * sizeof *bx);
    float *bt = malloc((size_t)n * sizeof *bt);
    float *u = malloc((size_t)n * sizeof *u);
    float *mean = malloc((size_t)d * sizeof *mean);
    float *std = malloc((size_t)d * sizeof *std);
    int64_t *order = malloc((size_t)n * sizeof *order);
    clg_linear *layer = NULL;
    clg_optim *opt = NULL;
    bool grad_was = clg_grad_set_enabled(ctx, true);
    if (!xs || !bx || !bt || !u || !mean || !std || !order) {
        eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "%s: out of host memory", fn);
        goto done;
    }
    if (!standardise(ctx, x, n, d, xs, mean, std))
        goto done;
    for (int64_t j = 0; j < d; j++)
        if (!(std[j] > 0.0f)) {
            eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                     "%s: feature %" PRId64 " is constant; it cannot be standardised", fn, j);
            goto done;
        }
    layer = clg_linear_create(ctx, d, 1, true, o.seed);
    clg_optim_options sgd = clg_optim_options_default(CLG_OPTIM_SGD);
    sgd.lr = o.lr;
    opt = layer ? clg_optim_create(ctx, clg_linear_params(layer), &sgd) : NULL;
    if (!opt)
        goto done;
    for (int64_t i = 0; i < n; i++)
        order[i] = i;
    for (int epoch = 0; epoch < o.epochs && !eng_failed(ctx); epoch++) {
        if (o.batch > 0)
            shuffle(order, n, o.seed, 1000 + (uint64_t)epoch, u);
        /* The last partial batch is dropped: every step sees b samples. */
        for (int64_t start = 0; start + b <= n && !eng_failed(ctx); start += b)
            logistic_step(ctx, layer, opt, xs, t, order + start, b, d, bx, bt);
    }
    /* Back to the units of x: w_j / s_j, and w_0 - sum_j w_j m_j / s_j. */
    float ws[64 + 1];
    float *wsp = d + 1 <= 65 ? ws : malloc((size_t)(d + 1) * sizeof *wsp);
    if (!wsp) {
        eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "%s: out of host memory", fn);
        goto done;
    }
    if (clg_tensor_download(clg_linear_bias(layer), wsp, 1) == CLG_STATUS_OK &&
        clg_tensor_download(clg_linear_weight(layer), wsp + 1, (size_t)d) == CLG_STATUS_OK) {
        w[0] = wsp[0];
        for (int64_t j = 0; j < d; j++) {
            w[1 + j] = wsp[1 + j] / std[j];
            w[0] -= wsp[1 + j] * mean[j] / std[j];
        }
    }
    if (wsp != ws)
        free(wsp);
    if ((final_loss || accuracy) && !eng_failed(ctx)) {
        clg_grad_set_enabled(ctx, false);
        clg_step_begin(ctx);
        for (int64_t i = 0; i < n; i++)
            bt[i] = (float)t[i];
        clg_tensor *xt = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, (const int64_t[]){n, d}, xs);
        clg_tensor *tt = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, (const int64_t[]){n, 1}, bt);
        clg_tensor *logits = clg_linear_forward(layer, xt);
        float loss = NAN, correct = NAN;
        /* Correct where heaviside(logit) equals t: 1 - |step - t|. */
        clg_tensor *right = clg_mean_all(
            clg_affine(clg_abs(clg_sub(clg_heaviside(logits, 1.0f), tt)), -1.0f, 1.0f));
        if (clg_tensor_item(clg_bce_with_logits_loss(logits, tt, CLG_REDUCTION_MEAN), &loss) ==
                CLG_STATUS_OK &&
            clg_tensor_item(right, &correct) == CLG_STATUS_OK) {
            if (final_loss)
                *final_loss = loss;
            if (accuracy)
                *accuracy = correct;
        }
        clg_step_end(ctx);
    }
done:
    clg_grad_set_enabled(ctx, grad_was);
    clg_optim_destroy(opt);
    clg_linear_destroy(layer);
    free(xs);
    free(bx);
    free(bt);
    free(u);
    free(mean);
    free(std);
    free(order);
    return clg_context_status(ctx);
}

/* ---- universal approximation ---- */

/* Hidden unit i starts as s_i ReLU-input x - k_i with s_i = +1, -1, +1, ...
 * and its kink k_i at the (i + 1/2)-th of h equal parts of x's range. From
 * PyTorch's default many units start dead over the whole range (a 1-unit
 * net then fits a constant), which hides what the width buys. */
static bool spread_kinks(clg_linear *in, const float *x, int64_t n, int64_t hidden)
{
    float lo = x[0], hi = x[0];
    for (int64_t i = 1; i < n; i++) {
        lo = fminf(lo, x[i]);
        hi = fmaxf(hi, x[i]);
    }
    float *w = malloc((size_t)(2 * hidden) * sizeof *w);
    if (!w) {
        eng_fail(clg_tensor_context(clg_linear_weight(in)), CLG_STATUS_OUT_OF_MEMORY,
                 "lecture_approx_fit: out of host memory");
        return false;
    }
    for (int64_t i = 0; i < hidden; i++) {
        float kink = lo + (hi - lo) * ((float)i + 0.5f) / (float)hidden;
        w[i] = i % 2 == 0 ? 1.0f : -1.0f;
        w[hidden + i] = -w[i] * kink;
    }
    bool ok = clg_tensor_upload(clg_linear_weight(in), w, (size_t)hidden) == CLG_STATUS_OK &&
              clg_tensor_upload(clg_linear_bias(in), w + hidden, (size_t)hidden) == CLG_STATUS_OK;
    free(w);
    return ok;
}

clg_status lecture_approx_fit(clg_context *ctx, const float *x, const float *y, int64_t n,
                              int64_t hidden, int steps, float lr, uint64_t seed, float *fitted,
                              float *mse)
{
    static const char fn[] = "lecture_approx_fit";
    if (!ctx)
        return CLG_STATUS_INVALID_ARGUMENT;
    if (eng_failed(ctx))
        return clg_context_status(ctx);
    if (n < 1 || hidden < 1 || steps < 1 || !(lr > 0.0f) || !x || !y || !fitted || !mse)
        return eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                        "%s: %" PRId64 " points, %" PRId64
                        " hidden units, %d steps, lr %g%s; expected at least one point, unit "
                        "and step, and lr > 0",
                        fn, n, hidden, steps, (double)lr,
                        x && y && fitted && mse ? "" : " or a NULL array");
    bool grad_was = clg_grad_set_enabled(ctx, true);
    clg_linear *in = clg_linear_create(ctx, 1, hidden, true, seed);
    clg_linear *out = clg_linear_create(ctx, hidden, 1, true, seed + 1);
    clg_params *params = clg_params_create(ctx);
    clg_optim *opt = NULL;
    clg_tensor *xt = clg_tensor_create(ctx, CLG_DTYPE_F32, 2, (const int64_t[]){n, 1});
    clg_tensor *yt = clg_tensor_create(ctx, CLG_DTYPE_F32, 2, (const int64_t[]){n, 1});
    if (in && out && params && xt && yt && spread_kinks(in, x, n, hidden) &&
        clg_params_extend(params, "hidden.", clg_linear_params(in)) == CLG_STATUS_OK &&
        clg_params_extend(params, "output.", clg_linear_params(out)) == CLG_STATUS_OK &&
        clg_tensor_upload(xt, x, (size_t)n) == CLG_STATUS_OK &&
        clg_tensor_upload(yt, y, (size_t)n) == CLG_STATUS_OK) {
        clg_optim_options adam = clg_optim_options_default(CLG_OPTIM_ADAM);
        adam.lr = lr;
        opt = clg_optim_create(ctx, params, &adam);
    }
    for (int step = 0; opt && step < steps && !eng_failed(ctx); step++) {
        clg_step_begin(ctx);
        clg_optim_zero_grad(opt);
        clg_tensor *f = clg_linear_forward(out, clg_relu(clg_linear_forward(in, xt)));
        clg_tensor *loss = clg_mse_loss(f, yt, CLG_REDUCTION_MEAN);
        if (loss && clg_backward(loss) == CLG_STATUS_OK)
            clg_optim_step(opt);
        clg_step_end(ctx);
    }
    if (opt && !eng_failed(ctx)) {
        clg_grad_set_enabled(ctx, false);
        clg_step_begin(ctx);
        clg_tensor *f = clg_linear_forward(out, clg_relu(clg_linear_forward(in, xt)));
        if (clg_tensor_download(f, fitted, (size_t)n) == CLG_STATUS_OK)
            clg_tensor_item(clg_mse_loss(f, yt, CLG_REDUCTION_MEAN), mse);
        clg_step_end(ctx);
    }
    clg_grad_set_enabled(ctx, grad_was);
    clg_optim_destroy(opt);
    clg_params_destroy(params);
    clg_linear_destroy(in);
    clg_linear_destroy(out);
    clg_tensor_destroy(xt);
    clg_tensor_destroy(yt);
    return clg_context_status(ctx);
}

/* ---- vanishing gradients ---- */

lecture_vanishing_options lecture_vanishing_options_default(void)
{
    return (lecture_vanishing_options){.activation = "sigmoid",
                                       .layers = 10,
                                       .width = 64,
                                       .batch = 128,
                                       .steps = 100,
                                       .lr = 0.1f,
                                       .seed = 1};
}

int64_t lecture_vanishing_layer_size(const lecture_vanishing_options *options, int layer)
{
    if (!options || layer < 0 || layer >= options->layers || options->width < 1)
        return 0;
    return layer == options->layers - 1 ? options->width : options->width * options->width;
}

/* The four activations the experiment compares, each as its own op after
 * the linear layer (not fused into it), as the slides' network is written. */
static clg_tensor *activate(clg_activation act, clg_tensor *s)
{
    switch (act) {
    case CLG_ACT_SIGMOID: return clg_sigmoid(s);
    case CLG_ACT_TANH: return clg_tanh(s);
    case CLG_ACT_RELU: return clg_relu(s);
    case CLG_ACT_LEAKY_RELU: return clg_leaky_relu(s, 0.01f);
    default: return NULL; /* refused by lecture_vanishing_run */
    }
}

/* One forward and backward on batch `step` (inputs and labels drawn from the
 * seed), then the weight gradients into `grads` (may be NULL) and an update
 * unless `update` is false. */
static void vanishing_step(clg_context *ctx, const lecture_vanishing_options *o, clg_activation act,
                           clg_linear **layers, clg_optim *opt, const float *direction, float *bx,
                           float *bt, int step, float *grads, float *loss_out, bool update)
{
    int64_t b = o->batch, w = o->width;
    eng_random_normal(o->seed, 100 + (uint64_t)step, bx, (size_t)(b * w));
    for (int64_t i = 0; i < b; i++) {
        double projection = 0.0;
        for (int64_t j = 0; j < w; j++)
            projection += (double)direction[j] * bx[i * w + j];
        bt[i] = projection > 0.0 ? 1.0f : 0.0f;
    }
    clg_step_begin(ctx);
    clg_optim_zero_grad(opt);
    clg_tensor *h = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, (const int64_t[]){b, w}, bx);
    clg_tensor *tt = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, (const int64_t[]){b, 1}, bt);
    for (int l = 0; l < o->layers; l++) {
        h = clg_linear_forward(layers[l], h);
        if (l < o->layers - 1)
            h = activate(act, h);
    }
    clg_tensor *loss = clg_bce_with_logits_loss(h, tt, CLG_REDUCTION_MEAN);
    if (loss && clg_backward(loss) == CLG_STATUS_OK) {
        if (loss_out)
            clg_tensor_item(loss, loss_out);
        float *dst = grads;
        for (int l = 0; dst && l < o->layers && !eng_failed(ctx); l++) {
            int64_t size = lecture_vanishing_layer_size(o, l);
            clg_tensor_download(clg_tensor_grad(clg_linear_weight(layers[l])), dst, (size_t)size);
            dst += size;
        }
        if (update)
            clg_optim_step(opt);
    }
    clg_step_end(ctx);
}

clg_status lecture_vanishing_run(clg_context *ctx, const lecture_vanishing_options *options,
                                 float *at_init, float *trained, float *final_loss)
{
    static const char fn[] = "lecture_vanishing_run";
    if (!ctx)
        return CLG_STATUS_INVALID_ARGUMENT;
    if (eng_failed(ctx))
        return clg_context_status(ctx);
    lecture_vanishing_options o = options ? *options : lecture_vanishing_options_default();
    /* decoded by its name in ops.h's list, then held to the four compared */
    clg_activation act = CLG_ACT_IDENTITY;
    if (!o.activation || !zoo_activation_from_name(o.activation, &act) ||
        !(act == CLG_ACT_SIGMOID || act == CLG_ACT_TANH || act == CLG_ACT_RELU ||
          act == CLG_ACT_LEAKY_RELU))
        return eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                        "%s: activation \"%s\"; expected sigmoid, tanh, relu or leaky_relu", fn,
                        o.activation ? o.activation : "(null)");
    if (o.layers < 2 || o.layers > 64 || o.width < 1 || o.batch < 1 || o.steps < 1 ||
        !(o.lr > 0.0f))
        return eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                        "%s: layers %d (2 to 64), width %" PRId64 ", batch %" PRId64
                        ", steps %d (each >= 1), lr %g (> 0)",
                        fn, o.layers, o.width, o.batch, o.steps, (double)o.lr);
    clg_linear *layers[64] = {NULL};
    clg_params *params = clg_params_create(ctx);
    clg_optim *opt = NULL;
    float *bx = malloc((size_t)(o.batch * o.width) * sizeof *bx);
    float *bt = malloc((size_t)o.batch * sizeof *bt);
    float *direction = malloc((size_t)o.width * sizeof *direction);
    bool grad_was = clg_grad_set_enabled(ctx, true);
    if (!bx || !bt || !direction) {
        eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "%s: out of host memory", fn);
        goto done;
    }
    eng_random_normal(o.seed, 99, direction, (size_t)o.width);
    for (int l = 0; l < o.layers && params; l++) {
        char prefix[16];
        snprintf(prefix, sizeof prefix, "fc%d.", l + 1);
        layers[l] = clg_linear_create(ctx, o.width, l == o.layers - 1 ? 1 : o.width, true,
                                      o.seed * 131 + (uint64_t)l);
        /* He et al.'s normal for every activation (see lecture.h), biases 0. */
        if (!layers[l] ||
            clg_init_kaiming_normal(clg_linear_weight(layers[l]), sqrtf(2.0f),
                                    o.seed * 131 + (uint64_t)l) != CLG_STATUS_OK ||
            clg_tensor_fill(clg_linear_bias(layers[l]), 0.0f) != CLG_STATUS_OK ||
            clg_params_extend(params, prefix, clg_linear_params(layers[l])) != CLG_STATUS_OK)
            goto done;
    }
    clg_optim_options sgd = clg_optim_options_default(CLG_OPTIM_SGD);
    sgd.lr = o.lr;
    opt = params ? clg_optim_create(ctx, params, &sgd) : NULL;
    for (int step = 0; opt && step <= o.steps && !eng_failed(ctx); step++) {
        float *grads = step == 0 ? at_init : step == o.steps ? trained : NULL;
        vanishing_step(ctx, &o, act, layers, opt, direction, bx, bt, step, grads,
                       step == o.steps ? final_loss : NULL, step < o.steps);
    }
done:
    clg_grad_set_enabled(ctx, grad_was);
    clg_optim_destroy(opt);
    clg_params_destroy(params);
    for (int l = 0; l < o.layers && l < 64; l++)
        clg_linear_destroy(layers[l]);
    free(bx);
    free(bt);
    free(direction);
    return clg_context_status(ctx);
}
