/* lecture/autoencoder.c: the trainer of the lecture's fraud autoencoder
 * (clg_zoo_autoencoder_create): Adam on the summed squared reconstruction
 * error over shuffled batches of normal rows, optionally split over MPI
 * ranks, and the input corruption of the denoising variant. Composed from
 * existing ops, so no backward is written here: the Gaussian corruption is
 * clg_randn scaled and added, the masking corruption the input times
 * heaviside(u - p) for uniform u (no 1 / (1 - p) rescale, unlike dropout: a
 * denoiser must see the data's own scale). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "lecture/lecture.h"
#include "zoo/model.h"

/* Philox streams of the corruption, apart from the shuffling seed. */
#define NOISE_STREAM 0x6e6f697365ULL /* "noise" */

lecture_autoencoder_options lecture_autoencoder_options_default(void)
{
    return (lecture_autoencoder_options){.batch = 2048,
                                         .lr = 1e-3f,
                                         .noise = LECTURE_NOISE_NONE,
                                         .noise_level = 0.05f,
                                         .seed = 0,
                                         .rank = 0,
                                         .ranks = 1};
}

struct lecture_autoencoder_trainer {
    clg_model *model;
    clg_context *ctx;
    const float *x; /* (rows, in), borrowed */
    int64_t rows;
    lecture_autoencoder_options options;
    clg_optim *opt;
    clg_batcher *batcher;
    float *batch_x;         /* (batch, in) host staging for the gathered rows */
    clg_tensor *loss_total; /* the epoch's summed loss, kept on the device */
    uint64_t noise_offset;  /* Philox counter: advances by each batch's size */
};

void lecture_autoencoder_trainer_destroy(lecture_autoencoder_trainer *trainer)
{
    if (!trainer)
        return;
    clg_optim_destroy(trainer->opt);
    clg_batcher_destroy(trainer->batcher);
    clg_tensor_destroy(trainer->loss_total);
    free(trainer->batch_x);
    free(trainer);
}

lecture_autoencoder_trainer *
lecture_autoencoder_trainer_create(clg_model *model, const float *x, const int32_t *labels,
                                   int64_t rows, const lecture_autoencoder_options *options)
{
    static const char fn[] = "lecture_autoencoder_trainer_create";
    if (!model || eng_failed(model->ctx))
        return NULL;
    clg_context *ctx = model->ctx;
    lecture_autoencoder_options o = options ? *options : lecture_autoencoder_options_default();
    if (strcmp(clg_model_kind(model), "autoencoder") != 0) {
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT, "%s: the model is a %s, not an autoencoder", fn,
                 clg_model_kind(model));
        return NULL;
    }
    if (!x || !labels || rows < 1 || o.batch < 1 || !(o.lr > 0.0f) ||
        (o.noise != LECTURE_NOISE_NONE && !(o.noise_level >= 0.0f)) ||
        (o.noise == LECTURE_NOISE_MASK && !(o.noise_level < 1.0f)) ||
        (unsigned)o.noise > LECTURE_NOISE_MASK) {
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
    lecture_autoencoder_trainer *t = calloc(1, sizeof *t);
    if (!t) {
        eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "%s: out of host memory", fn);
        return NULL;
    }
    *t = (lecture_autoencoder_trainer){
        .model = model, .ctx = ctx, .x = x, .rows = rows, .options = o};
    clg_optim_options adam = clg_optim_options_default(CLG_OPTIM_ADAM);
    adam.lr = o.lr;
    t->opt = clg_optim_create(ctx, model->params, &adam);
    t->batcher = clg_batcher_create(ctx, rows, o.batch, true, false, o.seed);
    t->loss_total = clg_tensor_create(ctx, CLG_DTYPE_F32, 0, NULL);
    t->batch_x = malloc((size_t)o.batch * (size_t)model->in_features * sizeof *t->batch_x);
    if (!t->batch_x && !eng_failed(ctx))
        eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "%s: out of host memory", fn);
    if (eng_failed(ctx)) {
        lecture_autoencoder_trainer_destroy(t);
        return NULL;
    }
    return t;
}

/* x~ for the denoising variant; x itself without noise. x holds rows
 * [first, first + n) of the batch: element i of the batch draws Philox
 * counter noise_offset + i, so a rank's share gets the noise that one
 * process gives those rows. */
static clg_tensor *corrupt(lecture_autoencoder_trainer *t, clg_tensor *x, int64_t first)
{
    const lecture_autoencoder_options *o = &t->options;
    if (o->noise == LECTURE_NOISE_NONE || o->noise_level == 0.0f)
        return x;
    int64_t shape[2] = {clg_tensor_dim(x, 0), clg_tensor_dim(x, 1)};
    uint64_t seed = o->seed ^ NOISE_STREAM, offset = t->noise_offset + (uint64_t)(first * shape[1]);
    if (o->noise == LECTURE_NOISE_GAUSSIAN)
        return clg_add(x,
                       clg_affine(clg_randn(t->ctx, 2, shape, seed, offset), o->noise_level, 0.0f));
    /* keep where u > p: heaviside(u - p) is 1 there, 0 elsewhere */
    clg_tensor *keep = clg_heaviside(
        clg_affine(clg_rand(t->ctx, 2, shape, seed, offset), 1.0f, -o->noise_level), 0.0f);
    return clg_mul(x, keep);
}

clg_status lecture_autoencoder_train_epoch(lecture_autoencoder_trainer *trainer, double *mean_loss)
{
    if (!trainer)
        return CLG_STATUS_INVALID_ARGUMENT;
    lecture_autoencoder_trainer *t = trainer;
    clg_context *ctx = t->ctx;
    if (eng_failed(ctx))
        return clg_context_status(ctx);
    int64_t in = t->model->in_features;
    clg_tensor_fill(t->loss_total, 0.0f);
    clg_batcher_begin_epoch(t->batcher);
    const int64_t *indices;
    int64_t count;
    const lecture_autoencoder_options *o = &t->options;
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
