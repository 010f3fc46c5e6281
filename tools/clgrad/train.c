/* tools/clgrad/train.c: `clgrad train lenet5|mlp|logreg`, the training loop of the
 * library's header put to work on Fashion-MNIST: shuffled batches, one step
 * each, a test-set evaluation after each epoch, a checkpoint at the end. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The defaults (Adam at PyTorch's lr 1e-3, annealed along a cosine, ten
 * epochs of 128-sample batches) take the MLP to 89.1% test accuracy in about
 * a minute on two CPU cores; with a constant rate it wanders between 87.3%
 * and 88.3% from epoch 5 on (README.md has the figures). */
#define DEFAULT_EPOCHS 10
/* LeNet-5's epoch costs over a minute on two CPU cores under PoCL, so its
 * default is a run a newcomer waits for: three epochs of 64-sample batches at
 * Adam lr 5e-3 along the cosine (PyTorch's LeNet-5 on that schedule: 85.9%,
 * 89.2%, 89.9%; README.md has clgrad's figures). */
#define DEFAULT_EPOCHS_LENET5 3
#define DEFAULT_BATCH_LENET5 64
#define DEFAULT_LR_LENET5 5e-3f
#define DEFAULT_BATCH 128
#define DEFAULT_SEED 42
#define MAX_HIDDEN 8
#define PI 3.14159265358979323846

static const char train_usage[] =
    "usage: clgrad train lenet5|mlp|logreg [options]\n"
    "\n"
    "Trains a classifier on Fashion-MNIST, prints the test accuracy after each\n"
    "epoch and saves the weights as a safetensors checkpoint for clgrad eval.\n"
    "  lenet5   LeNet-5: two 5x5 convolutions with 2x2 max pooling, then\n"
    "           fc 120-84-10 (see --activation)\n"
    "  mlp      multilayer perceptron 784-256-128-10 with ReLU (see --hidden)\n"
    "  logreg   multinomial logistic regression 784-10\n"
    "\n"
    "options:\n"
    "  --data DIR        Fashion-MNIST folder (default " CLG_FASHION_MNIST_DIR ",\n"
    "                    from Debian's dataset-fashion-mnist package)\n"
    "  --epochs N        passes over the training set (default 10; lenet5: 3)\n"
    "  --batch N         samples per step (default 128; lenet5: 64)\n"
    "  --optim NAME      sgd, momentum, nesterov, rmsprop, adam or adamw (default adam)\n"
    "  --lr X            learning rate (default: PyTorch's for the optimizer: 0.001\n"
    "                    for adam and adamw, 0.01 for rmsprop, 0.1 for the sgd family;\n"
    "                    lenet5 with adam: 0.005)\n"
    "  --schedule NAME   cosine: the learning rate falls from --lr to 0 along a half\n"
    "                    cosine over the run (default); constant: it stays at --lr\n"
    "  --hidden N,N,...  hidden layer sizes of the mlp (default 256,128)\n"
    "  --activation NAME lenet5's activation: relu (default), tanh or sigmoid\n"
    "  --seed N          seed for the initial weights and the shuffling (default 42)\n"
    "  --save FILE       checkpoint to write (default clgrad-<model>.safetensors)\n"
    "  -h, --help        this help\n"
    "\n"
    "On a terminal a live line shows epoch, step, loss (mean over the epoch so far),\n"
    "samples/s and the time left; otherwise one line is printed per epoch.\n";

typedef struct train_options {
    const char *model;
    const char *data;
    int64_t epochs;
    int64_t batch;
    clg_optim_kind optim;
    float lr; /* 0: the optimizer's default */
    bool cosine;
    int64_t hidden[MAX_HIDDEN];
    int n_hidden;
    bool hidden_given;
    bool epochs_given, batch_given;
    const char *activation;
    uint64_t seed;
    const char *save;
    char save_default[64];
} train_options;

/* Returns -1 when the options are fine, else the exit code. */
static int parse_options(int argc, char **argv, train_options *o)
{
    static const char *const valued[] = {"--data", "--epochs",     "--batch",  "--optim",
                                         "--lr",   "--schedule",   "--hidden", "--seed",
                                         "--save", "--activation", NULL};
    *o = (train_options){.data = CLG_FASHION_MNIST_DIR,
                         .epochs = DEFAULT_EPOCHS,
                         .batch = DEFAULT_BATCH,
                         .optim = CLG_OPTIM_ADAM,
                         .cosine = true,
                         .hidden = {256, 128},
                         .n_hidden = 2,
                         .seed = DEFAULT_SEED};
    cli_args args;
    cli_args_init(&args, "train", argc, argv, valued, NULL);
    for (cli_arg_kind kind; (kind = cli_args_next(&args)) != CLI_ARG_END;) {
        if (kind == CLI_ARG_HELP) {
            fputs(train_usage, stdout);
            return 0;
        }
        if (kind == CLI_ARG_ERROR)
            return CLI_EXIT_USAGE;
        if (kind == CLI_ARG_POSITIONAL) {
            if (o->model) {
                cli_error("train: unexpected argument \"%s\" (see clgrad train --help)",
                          args.value);
                return CLI_EXIT_USAGE;
            }
            o->model = args.value;
            continue;
        }
        const char *name = args.name, *value = args.value;
        bool ok = true;
        if (strcmp(name, "--data") == 0) {
            o->data = value;
        } else if (strcmp(name, "--epochs") == 0) {
            ok = cli_parse_int(name, value, 1, 100000, &o->epochs);
            o->epochs_given = true;
        } else if (strcmp(name, "--batch") == 0) {
            ok = cli_parse_int(name, value, 1, 1 << 20, &o->batch);
            o->batch_given = true;
        } else if (strcmp(name, "--optim") == 0) {
            ok = clg_optim_kind_parse(value, &o->optim);
            if (!ok)
                cli_error("--optim: unknown optimizer \"%s\" (sgd, momentum, nesterov, "
                          "rmsprop, adam, adamw)",
                          value);
        } else if (strcmp(name, "--lr") == 0) {
            ok = cli_parse_positive_float(name, value, &o->lr);
        } else if (strcmp(name, "--schedule") == 0) {
            ok = strcmp(value, "cosine") == 0 || strcmp(value, "constant") == 0;
            o->cosine = strcmp(value, "cosine") == 0;
            if (!ok)
                cli_error("--schedule: unknown schedule \"%s\" (cosine, constant)", value);
        } else if (strcmp(name, "--hidden") == 0) {
            ok = cli_parse_sizes(name, value, o->hidden, MAX_HIDDEN, &o->n_hidden);
            o->hidden_given = true;
        } else if (strcmp(name, "--activation") == 0) {
            o->activation = value;
            ok = strcmp(value, "relu") == 0 || strcmp(value, "tanh") == 0 ||
                 strcmp(value, "sigmoid") == 0;
            if (!ok)
                cli_error("--activation: unknown activation \"%s\" (relu, tanh, sigmoid)", value);
        } else if (strcmp(name, "--seed") == 0) {
            ok = cli_parse_u64(name, value, &o->seed);
        } else {
            o->save = value;
        }
        if (!ok)
            return CLI_EXIT_USAGE;
    }
    if (!o->model) {
        cli_error("train: which model? clgrad train lenet5|mlp|logreg (see clgrad train --help)");
        return CLI_EXIT_USAGE;
    }
    if (strcmp(o->model, "mlp") != 0 && strcmp(o->model, "logreg") != 0 &&
        strcmp(o->model, "lenet5") != 0) {
        cli_error("train: unknown model \"%s\" (models: lenet5, mlp, logreg)", o->model);
        return CLI_EXIT_USAGE;
    }
    if (o->hidden_given && strcmp(o->model, "mlp") != 0) {
        cli_error("train: --hidden applies to mlp only");
        return CLI_EXIT_USAGE;
    }
    if (o->activation && strcmp(o->model, "lenet5") != 0) {
        cli_error("train: --activation applies to lenet5 only");
        return CLI_EXIT_USAGE;
    }
    if (!o->epochs_given && strcmp(o->model, "lenet5") == 0)
        o->epochs = DEFAULT_EPOCHS_LENET5;
    if (!o->batch_given && strcmp(o->model, "lenet5") == 0)
        o->batch = DEFAULT_BATCH_LENET5;
    if (!o->save) {
        snprintf(o->save_default, sizeof o->save_default, "clgrad-%s.safetensors", o->model);
        o->save = o->save_default;
    }
    if (o->save[0] == '\0') {
        cli_error("--save: empty file name");
        return CLI_EXIT_USAGE;
    }
    return -1;
}

/* Everything a run owns, released in one place. */
typedef struct train_run {
    clg_context *ctx;
    clg_dataset *train, *test;
    clg_model *model;
    clg_optim *opt;
    clg_batcher *batcher;
    clg_tensor *loss_sum; /* the epoch's losses, summed on the device */
    float base_lr;
    bool cosine;
    int64_t total_steps, steps_done; /* for the schedule */
    float *x;
    int32_t *y;
    int64_t *confusion;
} train_run;

static void run_release(train_run *r)
{
    free(r->confusion);
    free(r->y);
    free(r->x);
    clg_tensor_destroy(r->loss_sum);
    clg_batcher_destroy(r->batcher);
    clg_optim_destroy(r->opt);
    clg_model_destroy(r->model);
    clg_dataset_destroy(r->test);
    clg_dataset_destroy(r->train);
    clg_context_destroy(r->ctx);
}

/* loss_sum += loss on the device, outside the tape, so that the mean loss of
 * the epoch costs no host sync until someone reads it. */
static bool accumulate_loss(train_run *r, clg_tensor *loss)
{
    if (!r->loss_sum) {
        int rank = clg_tensor_rank(loss);
        int64_t shape[CLG_MAX_RANK];
        for (int i = 0; i < rank; i++)
            shape[i] = clg_tensor_dim(loss, i);
        r->loss_sum = clg_tensor_create(r->ctx, CLG_DTYPE_F32, rank, shape);
        if (!r->loss_sum)
            return false;
    }
    bool grad_was = clg_grad_set_enabled(r->ctx, false);
    clg_tensor *sum = clg_add(r->loss_sum, loss);
    bool ok = sum && clg_tensor_copy(r->loss_sum, sum) == CLG_STATUS_OK;
    clg_grad_set_enabled(r->ctx, grad_was);
    return ok;
}

/* One epoch of steps; false with the context error set. */
static bool train_epoch(train_run *r, cli_progress *progress, int epoch, int64_t *samples_out,
                        float *mean_loss)
{
    int64_t features = clg_dataset_features(r->train);
    int64_t step = 0, samples = 0;
    if (r->loss_sum && clg_tensor_fill(r->loss_sum, 0.0f) != CLG_STATUS_OK)
        return false;
    clg_batcher_begin_epoch(r->batcher);
    const int64_t *indices;
    int64_t count;
    while (clg_batcher_next(r->batcher, &indices, &count)) {
        clg_dataset_gather(r->train, indices, count, r->x, r->y);
        if (r->cosine) {
            /* PyTorch's CosineAnnealingLR stepped every batch, T_max = the
             * run's steps, eta_min = 0. Annealing lets the last epochs settle
             * into a minimum instead of bouncing around it at full rate. */
            double progress_done = (double)r->steps_done / (double)r->total_steps;
            clg_optim_set_lr(r->opt, (float)(0.5 * r->base_lr * (1.0 + cos(PI * progress_done))));
        }
        r->steps_done++;
        clg_step_begin(r->ctx);
        clg_tensor *x =
            clg_tensor_from_host(r->ctx, CLG_DTYPE_F32, 2, (int64_t[]){count, features}, r->x);
        clg_tensor *y = clg_tensor_from_host(r->ctx, CLG_DTYPE_I32, 1, (int64_t[]){count}, r->y);
        clg_tensor *loss =
            clg_cross_entropy_loss(clg_model_forward(r->model, x), y, CLG_REDUCTION_MEAN);
        clg_optim_zero_grad(r->opt);
        clg_backward(loss); /* errors are sticky: checked once below */
        clg_optim_step(r->opt);
        bool ok = loss && accumulate_loss(r, loss) && clg_context_status(r->ctx) == CLG_STATUS_OK;
        step++;
        samples += count;
        if (ok && cli_progress_step(progress)) {
            float sum = 0.0f;
            ok = clg_tensor_item(r->loss_sum, &sum) == CLG_STATUS_OK;
            if (ok)
                cli_progress_draw(progress, epoch, step, samples, sum / (float)step);
        }
        clg_step_end(r->ctx);
        if (!ok)
            return false;
    }
    float sum = 0.0f;
    if (step == 0 || clg_tensor_item(r->loss_sum, &sum) != CLG_STATUS_OK)
        return false;
    *samples_out = samples;
    *mean_loss = sum / (float)step;
    return true;
}

int cli_train(int argc, char **argv)
{
    /* Models with a training loop of their own, one line each:
     * if (argc >= 2 && strcmp(argv[1], "vae") == 0) return cli_train_vae(argc, argv); */
    train_options o;
    int code = parse_options(argc, argv, &o);
    if (code >= 0)
        return code;
    code = CLI_EXIT_FAILURE;

    train_run r = {0};
    if (clg_context_create(NULL, &r.ctx) != CLG_STATUS_OK)
        goto fail;
    r.train = clg_dataset_load_mnist(r.ctx, o.data, true);
    if (!r.train)
        goto fail;
    r.test = clg_dataset_load_mnist(r.ctx, o.data, false);
    if (!r.test)
        goto fail;
    int64_t features = clg_dataset_features(r.train);
    int classes = clg_dataset_classes(r.train);
    if (strcmp(o.model, "lenet5") == 0)
        r.model = clg_zoo_lenet5_create(r.ctx, o.activation, NULL, o.seed);
    else if (strcmp(o.model, "mlp") == 0)
        r.model = clg_zoo_mlp_create(r.ctx, features, o.hidden, o.n_hidden, classes, o.seed);
    else
        r.model = clg_zoo_logreg_create(r.ctx, features, classes, o.seed);
    if (!r.model)
        goto fail;
    clg_optim_options optim = clg_optim_options_default(o.optim);
    if (o.lr > 0.0f)
        optim.lr = o.lr;
    else if (strcmp(o.model, "lenet5") == 0 && o.optim == CLG_OPTIM_ADAM)
        optim.lr = DEFAULT_LR_LENET5;
    r.opt = clg_optim_create(r.ctx, clg_model_params(r.model), &optim);
    if (!r.opt)
        goto fail;
    r.batcher = clg_batcher_create(r.ctx, clg_dataset_size(r.train), o.batch, true, false, o.seed);
    if (!r.batcher)
        goto fail;
    r.base_lr = optim.lr;
    r.cosine = o.cosine;
    r.total_steps = o.epochs * clg_batcher_batches_per_epoch(r.batcher);
    r.x = malloc((size_t)(o.batch * features) * sizeof *r.x);
    r.y = malloc((size_t)o.batch * sizeof *r.y);
    r.confusion = malloc((size_t)classes * (size_t)classes * sizeof *r.confusion);
    if (!r.x || !r.y || !r.confusion) {
        cli_error("out of host memory for batches of %lld", (long long)o.batch);
        goto done;
    }

    printf("training %s %s on %s\n", o.model, clg_model_arch(r.model),
           clg_context_device_name(r.ctx));
    printf("%lld samples, %lld epochs, batch %lld, %s lr %g (%s), seed %llu\n",
           (long long)clg_dataset_size(r.train), (long long)o.epochs, (long long)o.batch,
           clg_optim_kind_name(o.optim), (double)optim.lr, o.cosine ? "cosine" : "constant",
           (unsigned long long)o.seed);
    fflush(stdout);

    cli_progress progress;
    cli_progress_init(&progress, (int)o.epochs, clg_batcher_batches_per_epoch(r.batcher));
    double accuracy = 0.0;
    for (int epoch = 0; epoch < (int)o.epochs; epoch++) {
        cli_progress_begin_epoch(&progress);
        int64_t samples = 0;
        float mean_loss = 0.0f;
        if (!train_epoch(&r, &progress, epoch, &samples, &mean_loss))
            goto fail;
        double seconds = cli_progress_epoch_seconds(&progress);
        if (!isfinite(mean_loss)) {
            cli_error("the loss became %f in epoch %d: training diverged (try a smaller --lr)",
                      (double)mean_loss, epoch + 1);
            goto done;
        }
        if (!cli_evaluate(r.ctx, r.model, r.test, 1000, r.confusion, &accuracy))
            goto fail;
        cli_progress_end_epoch(&progress, epoch, samples, seconds, mean_loss, accuracy);
    }
    printf("trained in %.1f s; final test accuracy %.2f%%\n", cli_now() - progress.start,
           100.0 * accuracy);

    /* The accuracy is printed before the checkpoint is written, so a bad
     * --save path does not cost the user the result of the run. */
    if (clg_model_save(r.model, o.save) != CLG_STATUS_OK)
        goto fail;
    printf("checkpoint written to %s (clgrad eval --load %s)\n", o.save, o.save);
    code = 0;
    goto done;
fail:
    cli_context_error(r.ctx);
done:
    run_release(&r);
    return code;
}
