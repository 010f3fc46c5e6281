/* zoo/autoencoder.c: the lecture's autoencoder for fraud detection (and its
 * denoising variant): a mirrored stack of linear layers with tanh between
 * them, the per-row reconstruction distance that serves as the anomaly
 * score, and the trainer that learns from normal rows only. Everything is
 * composed from existing ops, so no backward is written here: the distance
 * is clg_mse_loss without reduction summed over the features, the Gaussian
 * corruption clg_randn scaled and added, the masking corruption the input
 * times heaviside(u - p) for uniform u (no 1 / (1 - p) rescale, unlike
 * dropout: a denoiser must see the data's own scale). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgrad/optim.h"
#include "engine/engine.h"
#include "zoo/model.h"

extern const zoo_kind zoo_kind_autoencoder;

/* Philox streams of the corruption, apart from the shuffling seed. */
#define NOISE_STREAM 0x6e6f697365ULL /* "noise" */

/* x (N, in) -> fc1 -> tanh -> ... -> fcL -> x^ (N, in). The bias add and
 * tanh run as one fused kernel each way (clg_linear_forward_act): the
 * separate tanh kernels took over half of a step's device time. */
static clg_tensor *autoencoder_forward(const clg_model *model, clg_tensor *x)
{
    for (int i = 0; i < model->n_layers; i++)
        x = i + 1 < model->n_layers
                ? clg_linear_forward_act(model->layers[i], x, CLG_ACT_TANH, 0.0f)
                : clg_linear_forward(model->layers[i], x);
    return x;
}

CLG_API clg_model *clg_zoo_autoencoder_create(clg_context *ctx, int64_t in_features,
                                              const int64_t *hidden, int n_hidden, int64_t code,
                                              uint64_t seed)
{
    static const char fn[] = "clg_zoo_autoencoder_create";
    if (eng_failed(ctx))
        return NULL;
    if (n_hidden < 0 || n_hidden > 16 || (n_hidden > 0 && !hidden)) {
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                 "%s: n_hidden is %d and hidden is %s; expected 0 to 16 widths in hidden", fn,
                 n_hidden, hidden ? "given" : "NULL");
        return NULL;
    }
    /* in, hidden..., code, hidden reversed..., in */
    int64_t widths[2 * 16 + 3];
    int n = 0;
    widths[n++] = in_features;
    for (int i = 0; i < n_hidden; i++)
        widths[n++] = hidden[i];
    widths[n++] = code;
    for (int i = n_hidden - 1; i >= 0; i--)
        widths[n++] = hidden[i];
    widths[n++] = in_features;
    return zoo_model_create(ctx, fn, &zoo_kind_autoencoder, widths, n, seed);
}

/* "arch": a palindrome of three or more widths, such as
 * "30-100-100-15-100-100-30". */
static bool autoencoder_arch(clg_context *ctx, const zoo_checkpoint *ck, int64_t *widths, int *n)
{
    if (!zoo_stack_arch(ctx, ck, widths, n))
        return false;
    bool mirrored = *n >= 3 && *n % 2 == 1;
    for (int i = 0; mirrored && i < *n / 2; i++)
        mirrored = widths[i] == widths[*n - 1 - i];
    if (!mirrored) {
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: %s: metadata \"arch\" is \"%s\"; an autoencoder's widths mirror around "
                 "its code, such as \"30-100-100-15-100-100-30\"",
                 ck->fn, ck->path, clg_safetensors_metadata(ck->st, "arch"));
        return false;
    }
    return true;
}

static bool autoencoder_check(clg_context *ctx, const zoo_checkpoint *ck)
{
    int64_t widths[ZOO_MAX_WIDTHS];
    int n = 0;
    return autoencoder_arch(ctx, ck, widths, &n) &&
           zoo_expect_linear_stack(ctx, ck, widths, n, 1);
}

static clg_model *autoencoder_from_metadata(clg_context *ctx, const zoo_checkpoint *ck)
{
    int64_t widths[ZOO_MAX_WIDTHS];
    int n = 0;
    if (!autoencoder_arch(ctx, ck, widths, &n))
        return NULL;
    return clg_zoo_autoencoder_create(ctx, widths[0], widths + 1, n / 2 - 1, widths[n / 2], 0);
}

const zoo_kind zoo_kind_autoencoder = {.name = "autoencoder",
                                       .forward = autoencoder_forward,
                                       .check = autoencoder_check,
                                       .from_metadata = autoencoder_from_metadata};

CLG_API clg_tensor *clg_autoencoder_distance(clg_model *model, clg_tensor *x)
{
    if (!model || !x)
        return NULL;
    clg_tensor *squared = clg_mse_loss(clg_model_forward(model, x), x, CLG_REDUCTION_NONE);
    return clg_sum(squared, 1, false); /* (N, in) -> (N) */
}

CLG_API clg_autoencoder_options clg_autoencoder_options_default(void)
{
    return (clg_autoencoder_options){
        .batch = 2048, .lr = 1e-3f, .noise = CLG_NOISE_NONE, .noise_level = 0.05f, .seed = 0,
        .rank = 0, .ranks = 1};
}

struct clg_autoencoder_trainer {
    clg_model *model;
    clg_context *ctx;
    const float *x; /* (rows, in), borrowed */
    int64_t rows;
    clg_autoencoder_options options;
    clg_optim *opt;
    clg_batcher *batcher;
    float *batch_x;         /* (batch, in) host staging for the gathered rows */
    clg_tensor *loss_total; /* the epoch's summed loss, kept on the device */
    uint64_t noise_offset;  /* Philox counter: advances by each batch's size */
};

CLG_API void clg_autoencoder_trainer_destroy(clg_autoencoder_trainer *trainer)
{
    if (!trainer)
        return;
    clg_optim_destroy(trainer->opt);
    clg_batcher_destroy(trainer->batcher);
    clg_tensor_destroy(trainer->loss_total);
    free(trainer->batch_x);
    free(trainer);
}

CLG_API clg_autoencoder_trainer *
clg_autoencoder_trainer_create(clg_model *model, const float *x, const int32_t *labels,
                               int64_t rows, const clg_autoencoder_options *options)
{
    static const char fn[] = "clg_autoencoder_trainer_create";
    if (!model || eng_failed(model->ctx))
        return NULL;
    clg_context *ctx = model->ctx;
    clg_autoencoder_options o = options ? *options : clg_autoencoder_options_default();
    if (model->kind != &zoo_kind_autoencoder) {
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT, "%s: the model is a %s, not an autoencoder", fn,
                 model->kind->name);
        return NULL;
    }
    if (!x || !labels || rows < 1 || o.batch < 1 || !(o.lr > 0.0f) ||
        (o.noise != CLG_NOISE_NONE && !(o.noise_level >= 0.0f)) ||
        (o.noise == CLG_NOISE_MASK && !(o.noise_level < 1.0f)) ||
        (unsigned)o.noise > CLG_NOISE_MASK) {
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                 "%s: %" PRId64 " rows (x %s, labels %s), batch %" PRId64
                 ", lr %g, noise %d level %g; expected rows and labels, rows >= 1, batch >= 1, "
                 "lr > 0, a noise level >= 0 (below 1 for masking)",
                 fn, rows, x ? "given" : "NULL", labels ? "given" : "NULL", o.batch, (double)o.lr,
                 (int)o.noise, (double)o.noise_level);
        return NULL;
    }
    /* Several ranks without a reduction would each train alone on part of
     * every batch: a silently different model. */
    if (o.ranks < 1 || o.rank < 0 || o.rank >= o.ranks || (o.ranks > 1 && !o.reduce_gradients)) {
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                 "%s: rank %d of %d ranks, reduce_gradients %s; expected 0 <= rank < ranks, "
                 "and reduce_gradients (clg_dist_wait) when ranks > 1",
                 fn, o.rank, o.ranks, o.reduce_gradients ? "given" : "NULL");
        return NULL;
    }
    for (int64_t i = 0; i < rows; i++)
        if (labels[i] != 0) {
            eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                     "%s: row %" PRId64 " is labelled %d; the autoencoder learns normal "
                     "transactions only (label 0): pass the training split's normal rows",
                     fn, i, (int)labels[i]);
            return NULL;
        }
    clg_autoencoder_trainer *t = calloc(1, sizeof *t);
    if (!t) {
        eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "%s: out of host memory", fn);
        return NULL;
    }
    *t = (clg_autoencoder_trainer){.model = model, .ctx = ctx, .x = x, .rows = rows, .options = o};
    clg_optim_options adam = clg_optim_options_default(CLG_OPTIM_ADAM);
    adam.lr = o.lr;
    t->opt = clg_optim_create(ctx, model->params, &adam);
    t->batcher = clg_batcher_create(ctx, rows, o.batch, true, false, o.seed);
    t->loss_total = clg_tensor_create(ctx, CLG_DTYPE_F32, 0, NULL);
    t->batch_x = malloc((size_t)o.batch * (size_t)model->in_features * sizeof *t->batch_x);
    if (!t->batch_x && !eng_failed(ctx))
        eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "%s: out of host memory", fn);
    if (eng_failed(ctx)) {
        clg_autoencoder_trainer_destroy(t);
        return NULL;
    }
    return t;
}

/* x~ for the denoising variant; x itself without noise. x holds rows
 * [first, first + n) of the batch: element i of the batch draws Philox
 * counter noise_offset + i, so a rank's share gets the noise that one
 * process gives those rows. */
static clg_tensor *corrupt(clg_autoencoder_trainer *t, clg_tensor *x, int64_t first)
{
    const clg_autoencoder_options *o = &t->options;
    if (o->noise == CLG_NOISE_NONE || o->noise_level == 0.0f)
        return x;
    int64_t shape[2] = {clg_tensor_dim(x, 0), clg_tensor_dim(x, 1)};
    uint64_t seed = o->seed ^ NOISE_STREAM, offset = t->noise_offset + (uint64_t)(first * shape[1]);
    if (o->noise == CLG_NOISE_GAUSSIAN)
        return clg_add(x,
                       clg_affine(clg_randn(t->ctx, 2, shape, seed, offset), o->noise_level, 0.0f));
    /* keep where u > p: heaviside(u - p) is 1 there, 0 elsewhere */
    clg_tensor *keep = clg_heaviside(
        clg_affine(clg_rand(t->ctx, 2, shape, seed, offset), 1.0f, -o->noise_level), 0.0f);
    return clg_mul(x, keep);
}

CLG_API clg_status clg_autoencoder_train_epoch(clg_autoencoder_trainer *trainer, double *mean_loss)
{
    if (!trainer)
        return CLG_STATUS_INVALID_ARGUMENT;
    clg_autoencoder_trainer *t = trainer;
    clg_context *ctx = t->ctx;
    if (eng_failed(ctx))
        return clg_context_status(ctx);
    int64_t in = t->model->in_features;
    clg_tensor_fill(t->loss_total, 0.0f);
    clg_batcher_begin_epoch(t->batcher);
    const int64_t *indices;
    int64_t count;
    const clg_autoencoder_options *o = &t->options;
    while (clg_batcher_next(t->batcher, &indices, &count)) {
        /* This rank's rows of the batch (all of them in one process). */
        int64_t first = count * o->rank / o->ranks;
        int64_t n = count * (o->rank + 1) / o->ranks - first;
        for (int64_t i = 0; i < n; i++)
            memcpy(t->batch_x + i * in, t->x + indices[first + i] * in, (size_t)in * sizeof *t->x);
        clg_step_begin(ctx);
        clg_optim_zero_grad(t->opt);
        clg_tensor *loss = NULL;
        if (n > 0) {
            clg_tensor *x =
                clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, (const int64_t[]){n, in}, t->batch_x);
            /* loss = sum over the rows of ||x - g(f(x~))||^2 */
            loss = clg_mse_loss(clg_model_forward(t->model, corrupt(t, x, first)), x,
                                CLG_REDUCTION_SUM);
            clg_backward(loss);
        }
        t->noise_offset += (uint64_t)(count * in);
        clg_status reduced =
            o->reduce_gradients ? o->reduce_gradients(o->reduce_arg) : CLG_STATUS_OK;
        if (reduced != CLG_STATUS_OK) {
            clg_step_end(ctx);
            return reduced;
        }
        clg_optim_step(t->opt);
        /* The running total stays on the device: no host sync per step. */
        if (loss) {
            bool grad = clg_grad_set_enabled(ctx, false);
            clg_tensor_copy(t->loss_total, clg_add(t->loss_total, loss));
            clg_grad_set_enabled(ctx, grad);
        }
        clg_step_end(ctx);
        if (eng_failed(ctx))
            return clg_context_status(ctx);
    }
    float total = 0.0f;
    clg_status status = clg_tensor_item(t->loss_total, &total);
    if (status == CLG_STATUS_OK && mean_loss)
        *mean_loss = (double)total / (double)t->rows;
    return status;
}

CLG_API clg_status clg_autoencoder_scores(clg_model *model, const float *x, int64_t rows,
                                          int64_t batch, float *scores)
{
    if (!model)
        return CLG_STATUS_INVALID_ARGUMENT;
    clg_context *ctx = model->ctx;
    if (eng_failed(ctx))
        return clg_context_status(ctx);
    if (!x || !scores || rows < 1 || batch < 1)
        return eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                        "clg_autoencoder_scores: %" PRId64 " rows in batches of %" PRId64
                        "; expected x, scores, rows >= 1 and batch >= 1",
                        rows, batch);
    int64_t in = model->in_features;
    bool grad = clg_grad_set_enabled(ctx, false);
    clg_status status = CLG_STATUS_OK;
    for (int64_t first = 0; first < rows && status == CLG_STATUS_OK; first += batch) {
        int64_t count = rows - first < batch ? rows - first : batch;
        clg_step_begin(ctx);
        clg_tensor *xb = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, (const int64_t[]){count, in},
                                              x + first * in);
        status =
            clg_tensor_download(clg_autoencoder_distance(model, xb), scores + first, (size_t)count);
        clg_step_end(ctx);
    }
    clg_grad_set_enabled(ctx, grad);
    return eng_failed(ctx) ? clg_context_status(ctx) : status;
}
