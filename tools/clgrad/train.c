/* tools/clgrad/train.c: `clgrad train lenet5|mlp|logreg`, the training loop of the
 * library's header put to work on Fashion-MNIST or your own data (--data
 * FILE.npz or FILE.csv, with --test FILE or a --val-split held out):
 * shuffled batches, one step each, an evaluation of the test (or
 * validation) set (accuracy and loss) after each epoch, a training
 * checkpoint (clg_optim_checkpoint_save) after each epoch and every
 * --save-every steps, from which --resume continues the run bit for bit;
 * with --plot the loss and accuracy curves as PNG, with --metrics the same
 * figures as CSV. */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "dist_cli.h"
#include "plot.h"

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
/* The GRU at Adam's 1e-3 reached 74.2% after one epoch, short of the 80% the
 * issue asks of one (issue 13); at 5e-3 along the cosine 84.1-84.3% over
 * seeds 1, 2, 42 (README.md has the ten-epoch figures). */
#define DEFAULT_LR_GRU 5e-3f
#define DEFAULT_BATCH 128
#define DEFAULT_SEED 42
#define MAX_HIDDEN 8

/* Every model `clgrad train` knows: the one list its dispatch, its help and
 * its unknown-model message read. A model with a loop of its own has its
 * command; the classifiers (NULL) share this file's loop. */
/* clgrad train fraud is clgrad fraud: its options follow the model's name. */
static int train_fraud(int argc, char **argv) { return cli_fraud(argc - 1, argv + 1); }

static const struct train_model {
    const char *name;
    const char *help; /* the help's lines, each after the name's column */
    int (*command)(int argc, char **argv);
} train_models[] = {
    {"lenet5",
     "LeNet-5: two 5x5 convolutions with 2x2 max pooling, then\n"
     "fc 120-84-10 (see --activation)",
     NULL},
    {"mlp", "multilayer perceptron 784-256-128-10 with ReLU (see --hidden)", NULL},
    {"logreg", "multinomial logistic regression 784-10", NULL},
    {"rnn",
     "tanh RNN over 28 rows of 28 pixels, hidden 128 (see --hidden),\n"
     "the last hidden state -> fc 10",
     NULL},
    {"lstm", "the same with an LSTM", NULL},
    {"gru", "the same with a GRU", NULL},
    {"charlstm",
     "character-level LSTM language model on a text file\n"
     "(clgrad train charlstm --help)",
     cli_train_charlstm},
    {"vae", "variational autoencoder with pictures (clgrad train vae --help)", cli_train_vae},
    {"gan", "generative adversarial network, MLP or DCGAN (clgrad train gan --help)",
     cli_train_gan},
    {"fraud", "the fraud-detection autoencoder, as clgrad fraud (clgrad fraud --help)",
     train_fraud},
};
#define TRAIN_MODELS (sizeof train_models / sizeof train_models[0])

bool cli_train_distributed(int argc, char **argv)
{
    for (size_t i = 0; i < TRAIN_MODELS && argc >= 2; i++)
        if (strcmp(argv[1], train_models[i].name) == 0)
            return !train_models[i].command || train_models[i].command == train_fraud;
    return true; /* options first, --resume FILE: a classifier, or a usage error */
}

void cli_train_model_names(char *buffer, size_t capacity, const char *separator,
                           bool classifiers_only)
{
    size_t used = 0;
    buffer[0] = '\0';
    for (size_t i = 0; i < TRAIN_MODELS && used < capacity; i++)
        if (!classifiers_only || !train_models[i].command)
            used += (size_t)snprintf(buffer + used, capacity - used, "%s%s", used ? separator : "",
                                     train_models[i].name);
}

/* ---- the Fashion-MNIST classifiers (cli.h) ----
 * Here, beside the model table whose names cli_classifier_check's message
 * lists, so that cli.c calls no command; tune and summary call them too. */

/* The sequence classifiers (clg_zoo_recurrent_create's cells). */
static bool recurrent_model(const char *model)
{
    return strcmp(model, "rnn") == 0 || strcmp(model, "lstm") == 0 || strcmp(model, "gru") == 0;
}

bool cli_classifier_check(const char *command, const char *model, int n_hidden)
{
    bool recurrent = recurrent_model(model);
    if (strcmp(model, "mlp") != 0 && strcmp(model, "logreg") != 0 &&
        strcmp(model, "lenet5") != 0 && !recurrent) {
        /* train also knows the models with loops of their own */
        char names[256];
        cli_train_model_names(names, sizeof names, ", ", strcmp(command, "train") != 0);
        cli_error("%s: unknown model \"%s\" (models: %s)", command, model, names);
        return false;
    }
    if (n_hidden > 0 && recurrent && n_hidden != 1) {
        cli_error("%s: --hidden for %s is one size (the hidden state)", command, model);
        return false;
    }
    if (n_hidden > 0 && strcmp(model, "mlp") != 0 && !recurrent) {
        cli_error("%s: --hidden applies to mlp, rnn, lstm and gru", command);
        return false;
    }
    return true;
}

clg_model *cli_classifier_create(clg_context *ctx, const char *model, const char *activation,
                                 const int64_t *hidden, int n_hidden, int64_t features,
                                 int classes, uint64_t seed)
{
    static const int64_t mlp_hidden[2] = {256, 128};
    if (strcmp(model, "lenet5") == 0)
        return clg_zoo_lenet5_create(ctx, activation, NULL, seed);
    if (strcmp(model, "mlp") == 0)
        return n_hidden > 0 ? clg_zoo_mlp_create(ctx, features, hidden, n_hidden, classes, seed)
                            : clg_zoo_mlp_create(ctx, features, mlp_hidden, 2, classes, seed);
    if (recurrent_model(model))
        return clg_zoo_recurrent_create(ctx, model, 28, features / 28,
                                        n_hidden > 0 ? hidden[0] : 128, classes, seed);
    return clg_zoo_logreg_create(ctx, features, classes, seed);
}

static const char train_usage[] =
    "\n"
    "options:\n"
    "  --data DIR|FILE   Fashion-MNIST folder (default " CLG_FASHION_MNIST_DIR ",\n"
    "                    from Debian's dataset-fashion-mnist package), or your own\n"
    "                    data: FILE.npz with arrays x (N, features), or images\n"
    "                    (N, 1, 28, 28), of float32, float64 or uint8 (divided by\n"
    "                    255), and y (N) integer labels 0..C-1, as\n"
    "                    np.savez(FILE, x=x, y=y) writes it; or FILE.csv with a\n"
    "                    header and a label column (see --label). The model gets\n"
    "                    C = 1 + the largest label outputs; lenet5 needs 784\n"
    "                    features and at most 10 classes\n"
    "  --label NAME      the CSV column holding the labels (default \"label\")\n"
    "  --test FILE       a test set in the same format as --data FILE\n"
    "  --val-split F     hold out the fraction F (0 < F < 1) of the training data,\n"
    "                    chosen by --seed, and report validation accuracy on it\n"
    "                    (with --data FILE: this or --test is needed)\n"
    "  --epochs N        passes over the training set (default 10; lenet5: 3)\n"
    "  --batch N         samples per step (default 128; lenet5: 64)\n"
    "  --optim NAME      sgd, momentum, nesterov, rmsprop, adam or adamw (default adam)\n"
    "  --lr X            learning rate (default: PyTorch's for the optimizer: 0.001\n"
    "                    for adam and adamw, 0.01 for rmsprop, 0.1 for the sgd family;\n"
    "                    lenet5 and gru with adam: 0.005)\n"
    "  --schedule NAME   cosine: the learning rate falls from --lr to 0 along a half\n"
    "                    cosine over the run (default); constant: it stays at --lr\n"
    "  --hidden N,N,...  hidden layer sizes of the mlp (default 256,128); for rnn,\n"
    "                    lstm and gru one size, the hidden state's (default 128)\n"
    "  --activation NAME lenet5's activation: relu (default), tanh or sigmoid\n"
    "  --seed N          seed for the initial weights and the shuffling (default 42)\n"
    "  --save FILE       checkpoint to write (default clgrad-<model>.safetensors;\n"
    "                    with --resume, the file resumed), after every epoch: the\n"
    "                    weights for clgrad eval, and all --resume needs\n"
    "  --save-every N    also write it every N steps (not stored in the checkpoint:\n"
    "                    give it again when resuming)\n"
    "  --resume FILE     continue the run saved in FILE by clgrad train to its\n"
    "                    --epochs, exactly as if it had not stopped. The run's\n"
    "                    options come from FILE; any given as well must agree,\n"
    "                    except --epochs, which may extend the run (a cosine\n"
    "                    schedule then stretches over the new length), and\n"
    "                    --save, --save-every, --plot, --metrics and --profile,\n"
    "                    and --data and --test, whose files may have moved\n"
    "  --plot DIR        after each epoch, write DIR/loss.png (training loss per\n"
    "                    epoch, on a terminal also over the steps between redraws\n"
    "                    of the live line, and the test-set loss) and\n"
    "                    DIR/accuracy.png (test accuracy per epoch)\n"
    "  --metrics FILE    after each epoch, write FILE (CSV): epoch, train_loss,\n"
    "                    test_loss and test_accuracy (val_ with --val-split; the\n"
    "                    accuracy in [0, 1]) and the epoch's training seconds\n"
    "  --profile         time every kernel on the device (OpenCL profiling events)\n"
    "                    and print, at the end, the device time per kernel name\n"
    "  -h, --help        this help\n"
    "\n"
    "On a terminal a live line shows epoch, step, loss (mean over the epoch so far),\n"
    "samples/s and the time left; otherwise one line is printed per epoch.\n";

static void print_usage(void)
{
    char names[256];
    cli_train_model_names(names, sizeof names, "|", false);
    printf("usage: clgrad train %s [options]\n"
           "\n"
           "Trains a classifier on Fashion-MNIST or your own data, prints the test (or\n"
           "validation) accuracy after each epoch and saves the weights as a safetensors\n"
           "checkpoint for clgrad eval; or one of the models with a help of their own.\n",
           names);
    for (size_t i = 0; i < TRAIN_MODELS; i++) {
        printf("  %-10s", train_models[i].name);
        for (const char *line = train_models[i].help; *line;) {
            const char *end = strchr(line, '\n');
            int length = end ? (int)(end - line) : (int)strlen(line);
            printf("%s%.*s\n", line == train_models[i].help ? "" : "            ", length, line);
            line += length + (end != NULL);
        }
    }
    fputs(train_usage, stdout);
}

typedef struct train_options {
    const char *model;
    const char *data;
    bool data_given;   /* --data given (stored in the checkpoint), not the default */
    const char *label; /* the CSV's label column; NULL: "label" */
    const char *test;  /* a test file beside --data FILE */
    double val_split;  /* 0: none */
    const char *metrics;
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
    const char *plot_dir;
    bool profile;
    const char *resume;
    int64_t save_every; /* 0: only at the end of each epoch */
    /* Given on the command line, for --resume to compare with the run's. */
    bool optim_given, schedule_given, seed_given;
} train_options;


/* The checks that need the model's name; false after printing why. */
static bool model_options_check(const train_options *o)
{
    if (!cli_classifier_check("train", o->model, o->hidden_given ? o->n_hidden : 0))
        return false;
    if (o->activation && strcmp(o->model, "lenet5") != 0) {
        cli_error("train: --activation applies to lenet5 only");
        return false;
    }
    return true;
}

/* The checks of --data, --test, --val-split and --label together; false
 * after printing why. */
static bool data_options_check(const train_options *o)
{
    if (o->test && o->val_split > 0.0) {
        cli_error("train: --test and --val-split both say what to measure the accuracy on: "
                  "give one");
        return false;
    }
    bool own = cli_data_file(o->data);
    if (o->test && !own) {
        cli_error("--test: applies to --data FILE (.npz or .csv); Fashion-MNIST brings its own "
                  "test set");
        return false;
    }
    if (o->label && !cli_ends_with(o->data, ".csv") &&
        !(o->test && cli_ends_with(o->test, ".csv"))) {
        cli_error("--label: names the label column of a .csv given to --data or --test");
        return false;
    }
    if (own && !o->test && o->val_split == 0.0) {
        cli_error("--data %s: give --test FILE or --val-split F (say --val-split 0.1) to say "
                  "what the accuracy is measured on",
                  o->data);
        return false;
    }
    return true;
}

/* Returns -1 when the options are fine, else the exit code. */
static int parse_options(int argc, char **argv, train_options *o)
{
    static const char *const valued[] = {
        "--data", "--epochs", "--batch",      "--optim", "--lr",     "--schedule",   "--hidden",
        "--seed", "--save",   "--activation", "--plot",  "--resume", "--save-every",
        "--label", "--test", "--val-split", "--metrics", NULL};
    *o = (train_options){.data = CLG_FASHION_MNIST_DIR,
                         .epochs = DEFAULT_EPOCHS,
                         .batch = DEFAULT_BATCH,
                         .optim = CLG_OPTIM_ADAM,
                         .cosine = true,
                         .hidden = {256, 128},
                         .n_hidden = 2,
                         .seed = DEFAULT_SEED};
    cli_args args;
    static const char *const flags[] = {"--profile", NULL};
    cli_args_init(&args, "train", argc, argv, valued, flags);
    for (cli_arg_kind kind; (kind = cli_args_next(&args)) != CLI_ARG_END;) {
        if (kind == CLI_ARG_HELP) {
            print_usage();
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
            o->data_given = true;
        } else if (strcmp(name, "--label") == 0) {
            o->label = value;
        } else if (strcmp(name, "--test") == 0) {
            o->test = value;
        } else if (strcmp(name, "--val-split") == 0) {
            ok = cli_parse_real(name, value, 0.0, 1.0, &o->val_split);
            if (ok && (o->val_split <= 0.0 || o->val_split >= 1.0)) {
                cli_error("--val-split: %s is not a fraction strictly between 0 and 1", value);
                ok = false;
            }
        } else if (strcmp(name, "--metrics") == 0) {
            o->metrics = value;
        } else if (strcmp(name, "--epochs") == 0) {
            ok = cli_parse_int(name, value, 1, 100000, &o->epochs);
            o->epochs_given = true;
        } else if (strcmp(name, "--batch") == 0) {
            ok = cli_parse_int(name, value, 1, 1 << 20, &o->batch);
            o->batch_given = true;
        } else if (strcmp(name, "--optim") == 0) {
            ok = clg_optim_kind_parse(value, &o->optim);
            o->optim_given = true;
            if (!ok)
                cli_error("--optim: unknown optimizer \"%s\" (sgd, momentum, nesterov, "
                          "rmsprop, adam, adamw)",
                          value);
        } else if (strcmp(name, "--lr") == 0) {
            ok = cli_parse_positive_float(name, value, &o->lr);
        } else if (strcmp(name, "--schedule") == 0) {
            ok = strcmp(value, "cosine") == 0 || strcmp(value, "constant") == 0;
            o->cosine = strcmp(value, "cosine") == 0;
            o->schedule_given = true;
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
            o->seed_given = true;
        } else if (strcmp(name, "--resume") == 0) {
            o->resume = value;
        } else if (strcmp(name, "--save-every") == 0) {
            ok = cli_parse_int(name, value, 1, INT64_MAX, &o->save_every);
        } else if (strcmp(name, "--plot") == 0) {
            o->plot_dir = value;
        } else if (strcmp(name, "--profile") == 0) {
            o->profile = true;
        } else {
            o->save = value;
        }
        if (!ok)
            return CLI_EXIT_USAGE;
    }
    /* With --resume the data options may come from the checkpoint: checked
     * once they have (resume_options). */
    if (!o->resume && !data_options_check(o))
        return CLI_EXIT_USAGE;
    if (o->metrics && o->metrics[0] == '\0') {
        cli_error("--metrics: empty file name");
        return CLI_EXIT_USAGE;
    }
    if (o->resume && o->resume[0] == '\0') {
        cli_error("--resume: empty file name");
        return CLI_EXIT_USAGE;
    }
    if (!o->model && !o->resume) {
        char names[256];
        cli_train_model_names(names, sizeof names, "|", false);
        cli_error("train: which model? clgrad train %s (see clgrad train --help)", names);
        return CLI_EXIT_USAGE;
    }
    /* With --resume the model may come from the checkpoint; these checks
     * run again once it has (resume_options). */
    if (o->model && !model_options_check(o))
        return CLI_EXIT_USAGE;
    if (!o->resume) {
        if (!o->epochs_given && strcmp(o->model, "lenet5") == 0)
            o->epochs = DEFAULT_EPOCHS_LENET5;
        if (!o->batch_given && strcmp(o->model, "lenet5") == 0)
            o->batch = DEFAULT_BATCH_LENET5;
    }
    if (!o->save && o->resume) {
        o->save = o->resume;
    } else if (!o->save) {
        snprintf(o->save_default, sizeof o->save_default, "clgrad-%s.safetensors", o->model);
        o->save = o->save_default;
    }
    if (o->save[0] == '\0') {
        cli_error("--save: empty file name");
        return CLI_EXIT_USAGE;
    }
    return -1;
}

/* The curves --plot draws: per epoch, and the mean loss over the steps since
 * the previous progress redraw (x in epochs, fractional: the window's middle),
 * which is free because the redraw reads the epoch's loss sum anyway. */
typedef struct train_history {
    double *train_loss, *test_loss, *accuracy; /* [epochs done], accuracy in % */
    double *seconds; /* each epoch's training time; NaN for epochs of an earlier run */
    double *recent_x, *recent_loss;
    int64_t recent, recent_capacity;
} train_history;

static void history_release(train_history *h)
{
    free(h->train_loss);
    free(h->test_loss);
    free(h->accuracy);
    free(h->seconds);
    free(h->recent_x);
    free(h->recent_loss);
}

/* Host memory only; a point that does not fit is dropped rather than
 * failing the run. */
static void history_add_recent(train_history *h, double x, double loss)
{
    if (h->recent == h->recent_capacity) {
        int64_t capacity = h->recent_capacity ? 2 * h->recent_capacity : 256;
        double *xs = realloc(h->recent_x, (size_t)capacity * sizeof *xs);
        if (xs)
            h->recent_x = xs;
        double *ys = realloc(h->recent_loss, (size_t)capacity * sizeof *ys);
        if (ys)
            h->recent_loss = ys;
        if (!xs || !ys)
            return;
        h->recent_capacity = capacity;
    }
    h->recent_x[h->recent] = x;
    h->recent_loss[h->recent++] = loss;
}

/* Everything a run owns, released in one place. */
typedef struct train_run {
    clg_context *ctx;
    clg_dataset *train, *test;
    const char *held_out; /* what test is: "test", or "validation" (--val-split) */
    clg_model *model;
    clg_optim *opt;
    clg_batcher *batcher;
    clg_tensor *loss_sum;      /* the epoch's losses, summed on the device */
    clg_tensor *test_loss_sum; /* the test set's, likewise */
    /* The rate of each step, from --lr and --schedule; steps_done is the
     * steps taken over the whole run, a resumed one's included. */
    clg_schedule schedule;
    int64_t steps_done;
    /* Where the first epoch of this process starts (--resume of a
     * checkpoint written by --save-every): its steps already done and their
     * loss sum; 0 otherwise, and after that epoch. */
    int64_t epoch_step;
    float epoch_loss_start;
    clg_safetensors *resumed; /* the --resume file, whose strings the options borrow */
    /* --data and --test as absolute paths, for the checkpoint (NULL when not
     * given), so that a run resumed from another folder finds its data. */
    char *data_path, *test_path;
    int64_t writes;           /* checkpoints written, and the seconds they took */
    double write_seconds;
    float *x;
    int32_t *y;
    int64_t *confusion;
    int32_t *predicted;
    train_history history;
} train_run;

static void run_release(train_run *r)
{
    cli_dist_detach();
    history_release(&r->history);
    free(r->predicted);
    free(r->confusion);
    free(r->y);
    free(r->x);
    clg_tensor_destroy(r->test_loss_sum);
    clg_tensor_destroy(r->loss_sum);
    clg_batcher_destroy(r->batcher);
    clg_optim_destroy(r->opt);
    clg_model_destroy(r->model);
    clg_dataset_destroy(r->test);
    clg_dataset_destroy(r->train);
    clg_safetensors_destroy(r->resumed);
    free(r->test_path);
    free(r->data_path);
    clg_context_destroy(r->ctx);
}

/* The test set's accuracy and mean cross-entropy, in batches of 1000: as
 * cli_evaluate, one read of the predictions per batch, and the summed loss
 * stays on the device until the one read at the end. */
static bool evaluate(train_run *r, double *accuracy, double *mean_loss)
{
    const clg_dataset *test = r->test;
    const int64_t batch = 1000;
    int64_t n = clg_dataset_size(test), features = clg_dataset_features(test);
    const float *images = clg_dataset_images(test);
    const int32_t *labels = clg_dataset_labels(test);
    if (r->test_loss_sum && clg_tensor_fill(r->test_loss_sum, 0.0f) != CLG_STATUS_OK)
        return false;
    bool grad_was = clg_grad_set_enabled(r->ctx, false);
    bool ok = n > 0;
    int64_t first, share; /* this rank's slice (all of it in one process) */
    cli_dist_range(n, &first, &share);
    for (int64_t start = first, end = first + share; ok && start < end; start += batch) {
        int64_t count = end - start < batch ? end - start : batch;
        cli_live_line("evaluating: %lld of %lld samples", (long long)(start - first),
                      (long long)share); /* cli_progress_end_epoch wipes it */
        clg_step_begin(r->ctx);
        clg_tensor *x = clg_tensor_from_host(r->ctx, CLG_DTYPE_F32, 2, (int64_t[]){count, features},
                                             images + start * features);
        clg_tensor *y =
            clg_tensor_from_host(r->ctx, CLG_DTYPE_I32, 1, (int64_t[]){count}, labels + start);
        clg_tensor *logits = clg_model_forward(r->model, x);
        clg_tensor *loss = clg_cross_entropy_loss(logits, y, CLG_REDUCTION_SUM);
        clg_tensor *predicted = clg_argmax(logits, 1, false);
        ok = loss && predicted && cli_accumulate(r->ctx, &r->test_loss_sum, loss) &&
             clg_tensor_download(predicted, r->predicted + start, (size_t)count) == CLG_STATUS_OK;
        clg_step_end(r->ctx);
    }
    clg_grad_set_enabled(r->ctx, grad_was);
    float sum = 0.0f;
    if (!ok || clg_tensor_item(r->test_loss_sum, &sum) != CLG_STATUS_OK)
        return false;
    double loss_sum = sum;
    int64_t classes = clg_model_out_features(r->model);
    if (clg_confusion_matrix(r->ctx, r->predicted + first, labels + first, share, classes,
                             r->confusion, accuracy) != CLG_STATUS_OK)
        return false;
    if (!cli_dist_merge_eval(r->confusion, classes, &loss_sum, accuracy))
        return false;
    *mean_loss = loss_sum / (double)n;
    return true;
}

/* DIR/loss.png and DIR/accuracy.png for the epochs so far; false with the
 * reason printed. */
static bool write_plots(const train_history *h, int epochs_done, const char *dir, const char *note,
                        const char *held_out)
{
    char path[4096], title[64], held_loss[64], held_accuracy[64], accuracy_title[64];
    snprintf(title, sizeof title, "Training and %s loss", held_out);
    snprintf(held_loss, sizeof held_loss, "%s loss", held_out);
    snprintf(held_accuracy, sizeof held_accuracy, "%s accuracy", held_out);
    snprintf(accuracy_title, sizeof accuracy_title, "%c%s accuracy", held_out[0] - 'a' + 'A',
             held_out + 1);
    plot_axes axes = {.title = title, .xlabel = "epoch", .ylabel = "cross-entropy", .note = note};
    /* Epochs 1..E; from 0 when the step curve starts inside epoch 1, or
     * when a lone first epoch's dots would sit on the frame. */
    axes.xmin = h->recent > 0 || epochs_done == 1 ? 0 : 1;
    axes.xmax = epochs_done > 1 ? epochs_done : 2;
    plot_series loss[3] = {
        {"training loss (recent steps)", h->recent_x, h->recent_loss, h->recent, PLOT_STYLE_THIN},
        {"training loss (epoch mean)", NULL, h->train_loss, epochs_done, PLOT_STYLE_SOLID},
        {held_loss, NULL, h->test_loss, epochs_done, PLOT_STYLE_DASHED}};
    /* Without redraws (not a terminal) there is no step curve: leave it
     * out so the epoch means keep the first colour. */
    const plot_series *series = h->recent > 0 ? loss : loss + 1;
    int count = h->recent > 0 ? 3 : 2;
    bool ok =
        plot_path(path, sizeof path, dir, "loss.png") && plot_lines(path, &axes, series, count);
    if (ok) {
        plot_axes acc = {
            .title = accuracy_title, .xlabel = "epoch", .ylabel = "accuracy (%)", .note = note};
        acc.xmin = epochs_done == 1 ? 0 : 1;
        acc.xmax = axes.xmax;
        plot_series s = {held_accuracy, NULL, h->accuracy, epochs_done, PLOT_STYLE_SOLID};
        ok = plot_path(path, sizeof path, dir, "accuracy.png") && plot_lines(path, &acc, &s, 1);
    }
    if (!ok)
        cli_error("--plot: %s", *plot_error() ? plot_error() : "folder name too long");
    return ok;
}

/* --metrics FILE: the epochs so far as CSV, rewritten whole after each
 * epoch through a temporary file renamed into place, so a reader (or a run
 * killed mid-write) never sees half a file. false after printing why. */
static bool write_metrics(const train_history *h, int epochs_done, const char *path,
                          const char *held_out)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        cli_error("--metrics: %s: path too long", path);
        return false;
    }
    FILE *f = fopen(tmp, "w");
    if (!f) {
        cli_error("--metrics: cannot write %s: %s", tmp, strerror(errno));
        return false;
    }
    const char *prefix = strcmp(held_out, "test") == 0 ? "test" : "val";
    fprintf(f, "epoch,train_loss,%s_loss,%s_accuracy,seconds\n", prefix, prefix);
    for (int e = 0; e < epochs_done; e++) {
        fprintf(f, "%d,%.6f,%.6f,%.6f,", e + 1, h->train_loss[e], h->test_loss[e],
                h->accuracy[e] / 100.0);
        /* an epoch of a run this one resumed: its time was not kept */
        if (!isnan(h->seconds[e]))
            fprintf(f, "%.3f", h->seconds[e]);
        fputc('\n', f);
    }
    bool ok = !ferror(f);
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        cli_error("--metrics: cannot write %s: %s", path, strerror(errno));
        remove(tmp);
        return false;
    }
    return true;
}

/* path made absolute (the working folder before a relative one); malloc'ed,
 * NULL when out of memory or the folder cannot be named. */
static char *absolute_path(const char *path)
{
    char folder[4096] = "";
    if (path[0] != '/' && !getcwd(folder, sizeof folder))
        return NULL;
    size_t size = strlen(folder) + strlen(path) + 2;
    char *absolute = malloc(size);
    if (absolute)
        snprintf(absolute, size, "%s%s%s", folder, folder[0] ? "/" : "", path);
    return absolute;
}

/* The training and test (or validation) sets the options name, with
 * r->held_out saying which; false after printing why. */
static bool load_data(train_run *r, const train_options *o)
{
    struct stat st;
    bool folder = stat(o->data, &st) == 0 && S_ISDIR(st.st_mode);
    bool own = !folder && cli_data_file(o->data);
    if (!own && !folder && stat(o->data, &st) == 0) {
        cli_load_data_file(r->ctx, "--data", o->data, o->label); /* says what --data takes */
        return false;
    }
    /* A path that does not exist: the MNIST loader names the Debian
     * package, unless the name says it was meant as a file. */
    clg_dataset *all = own ? cli_load_data_file(r->ctx, "--data", o->data, o->label)
                           : clg_dataset_load_mnist(r->ctx, o->data, true);
    if (!all) {
        if (clg_context_status(r->ctx) != CLG_STATUS_OK)
            cli_context_error(r->ctx);
        return false;
    }
    r->held_out = o->val_split > 0.0 ? "validation" : "test";
    if (o->val_split > 0.0) {
        clg_status status = clg_dataset_split(r->ctx, all, o->val_split, o->seed, &r->train,
                                              &r->test);
        clg_dataset_destroy(all);
        if (status != CLG_STATUS_OK) {
            cli_context_error(r->ctx);
            return false;
        }
    } else {
        r->train = all;
        r->test = own ? cli_load_data_file(r->ctx, "--test", o->test, o->label)
                      : clg_dataset_load_mnist(r->ctx, o->data, false);
        if (!r->test) {
            if (clg_context_status(r->ctx) != CLG_STATUS_OK)
                cli_context_error(r->ctx);
            return false;
        }
    }
    int64_t features = clg_dataset_features(r->train);
    int classes = clg_dataset_classes(r->train);
    /* Both sets must fit one model, checked before a whole epoch is spent. */
    if (clg_dataset_features(r->test) != features) {
        cli_error("%s has rows of %lld features but %s of %lld: the two sets must match",
                  clg_dataset_images_path(r->train), (long long)features,
                  clg_dataset_images_path(r->test), (long long)clg_dataset_features(r->test));
        return false;
    }
    if (clg_dataset_check_labels(r->ctx, r->test, classes) != CLG_STATUS_OK) {
        cli_context_error(r->ctx);
        return false;
    }
    /* The models' own limits, said in the data's terms rather than as a
     * shape error from the first step. */
    if (strcmp(o->model, "lenet5") == 0 && (features != 784 || classes > 10)) {
        cli_error("lenet5 takes 28x28 images (784 features) in at most 10 classes; %s has %lld "
                  "features and %d classes (mlp and logreg take any)",
                  clg_dataset_images_path(r->train), (long long)features, classes);
        return false;
    }
    if (recurrent_model(o->model) && features % 28 != 0) {
        cli_error("%s reads rows of 28 values per step; %s has %lld features, not a multiple of "
                  "28 (mlp and logreg take any)",
                  o->model, clg_dataset_images_path(r->train), (long long)features);
        return false;
    }
    return true;
}

/* The --profile table: device time per kernel name over the whole run,
 * most first. */
static bool print_profile(clg_context *ctx)
{
    enum { SHOWN = 25 };
    size_t n = clg_profile_get(ctx, NULL, 0);
    if (clg_context_status(ctx) != CLG_STATUS_OK)
        return false;
    clg_profile_entry *all = malloc((n > 0 ? n : 1) * sizeof *all);
    if (!all) {
        cli_error("out of host memory for the profile");
        return false;
    }
    n = clg_profile_get(ctx, all, n);
    double total = 0.0;
    uint64_t commands = 0;
    for (size_t i = 0; i < n; i++) {
        total += all[i].seconds;
        commands += all[i].count;
    }
    printf("\ndevice time per kernel (training steps and test passes): %.3f s in %llu commands\n",
           total, (unsigned long long)commands);
    printf("  %-32s %9s %10s %7s %10s\n", "kernel", "count", "time", "share", "per call");
    for (size_t i = 0; i < n && i < SHOWN; i++)
        printf("  %-32s %9llu %8.3f s %6.1f%% %7.1f us\n", all[i].name,
               (unsigned long long)all[i].count, all[i].seconds,
               total > 0 ? 100.0 * all[i].seconds / total : 0.0,
               all[i].count ? 1e6 * all[i].seconds / (double)all[i].count : 0.0);
    if (n > SHOWN) {
        double rest = 0.0;
        for (size_t i = SHOWN; i < n; i++)
            rest += all[i].seconds;
        printf("  ... %zu more kernels, %.3f s\n", n - SHOWN, rest);
    }
    free(all);
    return true;
}

/* ---- the training checkpoint: what --resume reads ----
 *
 * clg_optim_checkpoint_save writes the weights (under PyTorch's names, for
 * clgrad eval), the optimizer's state ("optim.*") and this metadata: the
 * model's own (clg_model_metadata), the options that define the run (the
 * data's absolute paths among them), and where it stands. Nothing that
 * differs between an uninterrupted run and a resumed one (times, the
 * checkpoint's own path, --save-every) is stored, so both end with the same
 * bytes. README.md lists the keys. */

#define HISTORY_KEYS 3
static const char *const history_keys[HISTORY_KEYS] = {"train.train_loss", "train.test_loss",
                                                       "train.accuracy"};

/* "a,b,c" of n doubles, each printed to read back exactly; malloc'ed. */
static char *format_list(const double *values, int64_t n)
{
    size_t capacity = (size_t)n * 26 + 1;
    char *text = malloc(capacity);
    if (!text)
        return NULL;
    size_t used = 0;
    text[0] = '\0';
    for (int64_t i = 0; i < n; i++)
        used += (size_t)snprintf(text + used, capacity - used, "%s%.17g", i ? "," : "", values[i]);
    return text;
}

/* Writes the checkpoint with `epochs_done` epochs and `epoch_step` steps of
 * the next one done, whose losses add up to `epoch_loss_sum`; false with the
 * context error set. */
static bool save_checkpoint(train_run *r, const train_options *o, int64_t epochs_done,
                            int64_t epoch_step, float epoch_loss_sum)
{
    enum { MAX_META = CLG_MODEL_METADATA_MAX + 20, NUMBERS = 12 };
    const char *keys[MAX_META], *values[MAX_META];
    size_t n = clg_model_metadata(r->model, keys, values);
    int64_t data_epoch, data_position;
    clg_batcher_position(r->batcher, &data_epoch, &data_position);
    char numbers[NUMBERS][32], hidden[MAX_HIDDEN * 8 + 1] = "";
    static const char *const number_keys[NUMBERS] = {
        "train.epochs",        "train.batch",          "train.lr",
        "train.schedule",      "train.seed",           "train.epochs_done",
        "train.epoch_step",    "train.steps_done",     "train.data_epoch",
        "train.data_position", "train.epoch_loss_sum", "train.val_split"};
    snprintf(numbers[0], 32, "%lld", (long long)o->epochs);
    snprintf(numbers[1], 32, "%lld", (long long)o->batch);
    snprintf(numbers[2], 32, "%.9g", (double)r->schedule.lr); /* reads back to the same float */
    snprintf(numbers[3], 32, "%s", o->cosine ? "cosine" : "constant");
    snprintf(numbers[4], 32, "%llu", (unsigned long long)o->seed);
    snprintf(numbers[5], 32, "%lld", (long long)epochs_done);
    snprintf(numbers[6], 32, "%lld", (long long)epoch_step);
    snprintf(numbers[7], 32, "%lld", (long long)r->steps_done);
    snprintf(numbers[8], 32, "%lld", (long long)data_epoch);
    snprintf(numbers[9], 32, "%lld", (long long)data_position);
    snprintf(numbers[10], 32, "%.9g", (double)epoch_loss_sum);
    snprintf(numbers[11], 32, "%.17g", o->val_split);
    for (int i = 0; i < NUMBERS; i++) {
        keys[n] = number_keys[i];
        values[n++] = numbers[i];
    }
    /* The data: where it is (Fashion-MNIST's folder when absent) and the
     * label column of a .csv. */
    const char *texts[3] = {r->data_path, r->test_path, NULL};
    static const char *const text_keys[3] = {"train.data", "train.test", "train.label"};
    if (cli_ends_with(o->data, ".csv") || (o->test && cli_ends_with(o->test, ".csv")))
        texts[2] = o->label ? o->label : "label";
    for (int i = 0; i < 3; i++)
        if (texts[i]) {
            keys[n] = text_keys[i];
            values[n++] = texts[i];
        }
    if (o->hidden_given) {
        for (int i = 0, used = 0; i < o->n_hidden; i++)
            used += snprintf(hidden + used, sizeof hidden - (size_t)used, "%s%lld", i ? "," : "",
                             (long long)o->hidden[i]);
        keys[n] = "train.hidden";
        values[n++] = hidden;
    }
    const double *history[HISTORY_KEYS] = {r->history.train_loss, r->history.test_loss,
                                           r->history.accuracy};
    char *lists[HISTORY_KEYS];
    bool ok = true;
    for (int i = 0; i < HISTORY_KEYS; i++) {
        lists[i] = format_list(history[i], epochs_done);
        ok = ok && lists[i];
        keys[n] = history_keys[i];
        values[n++] = lists[i];
    }
    double start = cli_now();
    clg_status status =
        ok ? clg_optim_checkpoint_save(r->opt, o->save, keys, values, n) : CLG_STATUS_OUT_OF_MEMORY;
    r->write_seconds += cli_now() - start;
    r->writes++;
    for (int i = 0; i < HISTORY_KEYS; i++)
        free(lists[i]);
    if (!ok)
        cli_error("out of host memory for the checkpoint's metadata");
    return status == CLG_STATUS_OK;
}

/* A --resume value from the checkpoint's metadata, or NULL after saying that
 * it is missing. */
static const char *resume_text(const train_options *o, const clg_safetensors *st, const char *key)
{
    const char *text = clg_safetensors_metadata(st, key);
    if (!text)
        cli_error("--resume: %s has no \"%s\" in its metadata: not a checkpoint clgrad train "
                  "can continue",
                  o->resume, key);
    return text;
}

/* The metadata value `key`, a whole number in [min, max]. */
static bool resume_int(const train_options *o, const clg_safetensors *st, const char *key,
                       int64_t min, int64_t max, int64_t *out)
{
    const char *text = resume_text(o, st, key);
    char what[512];
    snprintf(what, sizeof what, "--resume: %.300s: metadata \"%s\"", o->resume, key);
    return text && cli_parse_int(what, text, min, max, out);
}

/* An option given on the command line that differs from the run's. */
static int contradiction(const train_options *o, const char *option, const char *given,
                         const char *stored)
{
    cli_error("--resume: %s %s contradicts the run in %s (%s %s); leave it out to continue "
              "that run",
              option, given, o->resume, option, stored);
    return CLI_EXIT_USAGE;
}

/* The data options from the checkpoint `st` (resume_options): --val-split
 * and --label define the run and must agree; --data and --test name files,
 * which may have moved, so given ones take the place of the run's. A
 * checkpoint without "train.val_split" predates these keys: the options
 * come from the command line alone. -1 when they agree, else the exit code. */
static int resume_data_options(train_options *o, const clg_safetensors *st)
{
    const char *split_text = clg_safetensors_metadata(st, "train.val_split");
    if (!split_text)
        return -1;
    char what[512];
    snprintf(what, sizeof what, "--resume: %.300s: metadata \"train.val_split\"", o->resume);
    double split;
    if (!cli_parse_real(what, split_text, 0.0, 1.0, &split) || split >= 1.0)
        return CLI_EXIT_FAILURE;
    const char *data = clg_safetensors_metadata(st, "train.data");
    const char *test = clg_safetensors_metadata(st, "train.test");
    const char *label = clg_safetensors_metadata(st, "train.label");
    char given[64], stored[64] = "none";
    if (o->val_split > 0.0 && o->val_split != split) {
        snprintf(given, sizeof given, "%g", o->val_split);
        if (split > 0.0)
            snprintf(stored, sizeof stored, "%g", split);
        return contradiction(o, "--val-split", given, stored);
    }
    if (o->test && split > 0.0)
        return contradiction(o, "--test", o->test, "none");
    if (o->label && label && strcmp(o->label, label) != 0)
        return contradiction(o, "--label", o->label, label);
    o->val_split = split;
    if (!o->data_given && data) {
        o->data = data;
        o->data_given = true;
    }
    if (!o->test)
        o->test = test;
    if (!o->label)
        o->label = label;
    return -1;
}

/* The run's options from the checkpoint `st`, checked against those given
 * on the command line; -1 when they agree, else the exit code. The strings
 * stay borrowed from st. */
static int resume_options(train_options *o, const clg_safetensors *st)
{
    if (!clg_safetensors_metadata(st, "train.epochs_done")) {
        cli_error("--resume: %s holds no training run (no \"train.epochs_done\" in its "
                  "metadata): a checkpoint of clgrad train is needed, not one of weights only",
                  o->resume);
        return CLI_EXIT_FAILURE;
    }
    const char *model = resume_text(o, st, "model");
    const char *kind = resume_text(o, st, "optim.kind");
    const char *lr_text = resume_text(o, st, "train.lr");
    const char *schedule = resume_text(o, st, "train.schedule");
    const char *seed_text = resume_text(o, st, "train.seed");
    int64_t epochs, batch;
    if (!model || !kind || !lr_text || !schedule || !seed_text ||
        !resume_int(o, st, "train.epochs", 1, 100000, &epochs) ||
        !resume_int(o, st, "train.batch", 1, 1 << 20, &batch))
        return CLI_EXIT_FAILURE;
    char what[512], given[64], stored[64];
    snprintf(what, sizeof what, "--resume: %.300s: metadata", o->resume);
    clg_optim_kind optim;
    float lr;
    uint64_t seed;
    if (!clg_optim_kind_parse(kind, &optim) || !cli_parse_positive_float(what, lr_text, &lr) ||
        !cli_parse_u64(what, seed_text, &seed) ||
        (strcmp(schedule, "cosine") != 0 && strcmp(schedule, "constant") != 0)) {
        cli_error("--resume: %s: metadata \"optim.kind\" \"%s\" or \"train.schedule\" \"%s\" "
                  "is not one clgrad train writes",
                  o->resume, kind, schedule);
        return CLI_EXIT_FAILURE;
    }
    if (o->model && strcmp(o->model, model) != 0)
        return contradiction(o, "the model", o->model, model);
    o->model = model;
    const char *activation = clg_safetensors_metadata(st, "activation");
    if (o->activation && (!activation || strcmp(o->activation, activation) != 0))
        return contradiction(o, "--activation", o->activation, activation ? activation : "none");
    if (activation && strcmp(model, "lenet5") == 0)
        o->activation = activation;
    const char *hidden = clg_safetensors_metadata(st, "train.hidden");
    if (o->hidden_given) {
        for (int i = 0, used = 0; i < o->n_hidden && used < (int)sizeof given; i++)
            used += snprintf(given + used, sizeof given - (size_t)used, "%s%lld", i ? "," : "",
                             (long long)o->hidden[i]);
    }
    if (!hidden && o->hidden_given) {
        /* The run took the default sizes: arch's inner widths ("784-256-128-10",
         * "28x28-128-10"). Equal ones leave the run, and the bytes of its
         * checkpoint, as they were. */
        const char *arch = resume_text(o, st, "arch");
        const char *first = arch ? strchr(arch, '-') : NULL,
                   *last = arch ? strrchr(arch, '-') : NULL;
        if (!first || first == last || last - first - 1 >= (ptrdiff_t)sizeof stored)
            return contradiction(o, "--hidden", given, "none");
        snprintf(stored, sizeof stored, "%.*s", (int)(last - first - 1), first + 1);
        for (char *c = stored; *c; c++)
            *c = *c == '-' ? ',' : *c;
        if (strcmp(given, stored) != 0)
            return contradiction(o, "--hidden", given, stored);
        o->hidden_given = false;
    }
    if (hidden) {
        int64_t sizes[MAX_HIDDEN];
        int n_sizes = 0;
        if (!cli_parse_sizes(what, hidden, sizes, MAX_HIDDEN, &n_sizes))
            return CLI_EXIT_FAILURE;
        if (o->hidden_given && (o->n_hidden != n_sizes ||
                                memcmp(o->hidden, sizes, (size_t)n_sizes * sizeof *sizes) != 0))
            return contradiction(o, "--hidden", given, hidden);
        memcpy(o->hidden, sizes, (size_t)n_sizes * sizeof *sizes);
        o->n_hidden = n_sizes;
        o->hidden_given = true;
    }
    if (o->optim_given && o->optim != optim)
        return contradiction(o, "--optim", clg_optim_kind_name(o->optim), kind);
    o->optim = optim;
    if (o->lr > 0.0f && o->lr != lr) {
        snprintf(given, sizeof given, "%g", (double)o->lr);
        return contradiction(o, "--lr", given, lr_text);
    }
    o->lr = lr;
    if (o->schedule_given && o->cosine != (strcmp(schedule, "cosine") == 0))
        return contradiction(o, "--schedule", o->cosine ? "cosine" : "constant", schedule);
    o->cosine = strcmp(schedule, "cosine") == 0;
    if (o->batch_given && o->batch != batch) {
        snprintf(given, sizeof given, "%lld", (long long)o->batch);
        snprintf(stored, sizeof stored, "%lld", (long long)batch);
        return contradiction(o, "--batch", given, stored);
    }
    o->batch = batch;
    if (o->seed_given && o->seed != seed) {
        snprintf(given, sizeof given, "%llu", (unsigned long long)o->seed);
        return contradiction(o, "--seed", given, seed_text);
    }
    o->seed = seed;
    if (o->epochs_given && o->epochs < epochs) {
        cli_error("--resume: --epochs %lld is fewer than the %lld of the run in %s; --epochs may "
                  "only extend a run",
                  (long long)o->epochs, (long long)epochs, o->resume);
        return CLI_EXIT_USAGE;
    }
    if (!o->epochs_given)
        o->epochs = epochs;
    int code = resume_data_options(o, st);
    if (code >= 0)
        return code;
    return model_options_check(o) && data_options_check(o) ? -1 : CLI_EXIT_USAGE;
}

/* Puts the run where the checkpoint left it: weights, optimizer state and
 * step counts (clg_optim_checkpoint_load), the data order, the schedule's
 * step, the epoch's steps and losses so far and the history of the epochs
 * done, into *epochs_done. false after printing why. */
static bool resume_position(train_run *r, const train_options *o, int64_t *epochs_done)
{
    const clg_safetensors *st = r->resumed;
    const char *arch = resume_text(o, st, "arch");
    if (!arch)
        return false;
    if (strcmp(arch, clg_model_arch(r->model)) != 0) {
        cli_error("--resume: the run in %s trained %s %s, but this data gives %s %s "
                  "(another --data?)",
                  o->resume, o->model, arch, o->model, clg_model_arch(r->model));
        return false;
    }
    int64_t per_epoch = clg_batcher_batches_per_epoch(r->batcher);
    int64_t step, steps_done, data_epoch, data_position;
    const char *loss_text = resume_text(o, st, "train.epoch_loss_sum");
    if (!loss_text || !resume_int(o, st, "train.epochs_done", 0, o->epochs, epochs_done) ||
        !resume_int(o, st, "train.epoch_step", 0, per_epoch - 1, &step) ||
        !resume_int(o, st, "train.steps_done", 0, INT64_MAX, &steps_done) ||
        !resume_int(o, st, "train.data_epoch", -1, INT64_MAX - 1, &data_epoch) ||
        !resume_int(o, st, "train.data_position", 0, INT64_MAX, &data_position))
        return false;
    char *end = NULL;
    float loss_sum = strtof(loss_text, &end);
    /* A checkpoint that contradicts itself was not written by this loop. */
    int64_t size = clg_dataset_size(r->train);
    if (*end != '\0' || end == loss_text || steps_done != *epochs_done * per_epoch + step ||
        (*epochs_done == o->epochs && step != 0) ||
        data_epoch != (step ? *epochs_done : *epochs_done - 1) ||
        data_position != (step           ? step * o->batch
                          : *epochs_done ? size
                                         : 0)) {
        cli_error("--resume: %s: its positions do not fit together or this data (epochs_done "
                  "%lld, epoch_step %lld, steps_done %lld, data_epoch %lld, data_position %lld; "
                  "%lld steps per epoch over %lld samples)",
                  o->resume, (long long)*epochs_done, (long long)step, (long long)steps_done,
                  (long long)data_epoch, (long long)data_position, (long long)per_epoch,
                  (long long)size);
        return false;
    }
    double *history[HISTORY_KEYS] = {r->history.train_loss, r->history.test_loss,
                                     r->history.accuracy};
    for (int k = 0; k < HISTORY_KEYS; k++) {
        const char *text = resume_text(o, st, history_keys[k]);
        if (!text)
            return false;
        int64_t count = 0;
        for (const char *p = text; *p && count <= *epochs_done;) {
            double value = strtod(p, &end);
            if (end == p || (*end != ',' && *end != '\0'))
                break;
            if (count < *epochs_done)
                history[k][count] = value;
            count++;
            p = *end ? end + 1 : end;
        }
        if (count != *epochs_done) {
            cli_error("--resume: %s: metadata \"%s\" does not hold %lld numbers", o->resume,
                      history_keys[k], (long long)*epochs_done);
            return false;
        }
    }
    /* The loss sum lives on the device between steps; the first epoch
     * starts from the stored one. */
    if (!r->loss_sum) {
        r->loss_sum = clg_tensor_create(r->ctx, CLG_DTYPE_F32, 0, (int64_t[]){1});
    }
    if (!r->loss_sum || clg_batcher_seek(r->batcher, data_epoch, data_position) != CLG_STATUS_OK ||
        clg_optim_checkpoint_load(r->opt, o->resume) != CLG_STATUS_OK) {
        cli_context_error(r->ctx);
        return false;
    }
    r->steps_done = steps_done;
    r->epoch_step = step;
    r->epoch_loss_start = loss_sum;
    return true;
}

/* One epoch of steps; false with the context error set. */
static bool train_epoch(train_run *r, const train_options *o, cli_progress *progress, int epoch,
                        int64_t *samples_out, float *mean_loss)
{
    int64_t features = clg_dataset_features(r->train);
    int64_t per_epoch = clg_batcher_batches_per_epoch(r->batcher);
    /* samples: this process's, for the rate; step: the epoch's, for the mean */
    int64_t step = r->epoch_step, samples = 0;
    int64_t drawn_step = step; /* the loss sum at the previous redraw, for the plot */
    float drawn_sum = r->epoch_loss_start;
    if (r->loss_sum && clg_tensor_fill(r->loss_sum, r->epoch_loss_start) != CLG_STATUS_OK)
        return false;
    if (step == 0) /* else the resumed batcher stands inside this epoch */
        clg_batcher_begin_epoch(r->batcher);
    r->epoch_step = 0;
    r->epoch_loss_start = 0.0f;
    const int64_t *indices;
    int64_t count;
    while (clg_batcher_next(r->batcher, &indices, &count)) {
        int64_t local = cli_dist_gather(r->train, indices, count, r->x, r->y); /* this rank's */
        clg_optim_set_lr(r->opt, clg_schedule_lr(&r->schedule, r->steps_done));
        r->steps_done++;
        clg_step_begin(r->ctx);
        clg_tensor *x =
            clg_tensor_from_host(r->ctx, CLG_DTYPE_F32, 2, (int64_t[]){local, features}, r->x);
        clg_tensor *y = clg_tensor_from_host(r->ctx, CLG_DTYPE_I32, 1, (int64_t[]){local}, r->y);
        clg_tensor *loss =
            clg_cross_entropy_loss(clg_model_forward(r->model, x), y, CLG_REDUCTION_MEAN);
        clg_optim_zero_grad(r->opt);
        clg_backward(loss); /* errors are sticky: checked once below */
        cli_dist_wait();
        clg_optim_step(r->opt);
        bool ok = loss && cli_accumulate(r->ctx, &r->loss_sum, loss) &&
                  clg_context_status(r->ctx) == CLG_STATUS_OK;
        step++;
        samples += count;
        if (ok && cli_progress_step(progress)) {
            float sum = 0.0f;
            ok = clg_tensor_item(r->loss_sum, &sum) == CLG_STATUS_OK;
            if (ok) {
                cli_progress_draw(progress, epoch, step, samples, sum / (float)step);
                double middle = 0.5 * (double)(drawn_step + step);
                history_add_recent(&r->history, epoch + middle / (double)progress->steps_per_epoch,
                                   (sum - drawn_sum) / (float)(step - drawn_step));
                drawn_step = step;
                drawn_sum = sum;
            }
        }
        clg_step_end(r->ctx);
        if (!ok)
            return false;
        /* Not after the epoch's last step: the epoch's own checkpoint,
         * after the evaluation, follows at once. */
        if (o->save_every > 0 && r->steps_done % o->save_every == 0 && step < per_epoch &&
            cli_dist_leader()) {
            float sum = 0.0f;
            if (clg_tensor_item(r->loss_sum, &sum) != CLG_STATUS_OK ||
                !save_checkpoint(r, o, epoch, step, sum))
                return false;
        }
    }
    float sum = 0.0f;
    if (step == 0 || clg_tensor_item(r->loss_sum, &sum) != CLG_STATUS_OK)
        return false;
    *samples_out = samples;
    *mean_loss = sum / (float)step;
    return cli_dist_epoch_end(mean_loss);
}

int cli_train(int argc, char **argv)
{
    for (size_t i = 0; i < TRAIN_MODELS && argc >= 2; i++)
        if (train_models[i].command && strcmp(argv[1], train_models[i].name) == 0)
            return train_models[i].command(argc, argv);
    train_options o;
    int code = parse_options(argc, argv, &o);
    if (code >= 0)
        return code;
    /* Before training, so a destination that cannot be written costs no run. */
    if (!cli_check_output("--save", o.save))
        return CLI_EXIT_FAILURE;
    code = CLI_EXIT_FAILURE;

    train_run r = {0};
    if (clg_context_create(NULL, &r.ctx) != CLG_STATUS_OK)
        goto fail;
    if (o.resume) {
        r.resumed = clg_safetensors_read(r.ctx, o.resume);
        if (!r.resumed)
            goto fail;
        code = resume_options(&o, r.resumed);
        if (code >= 0)
            goto done;
        code = CLI_EXIT_FAILURE;
    }
    /* Before anything is enqueued, so the run's every command is timed. */
    if (o.profile && clg_context_set_profiling(r.ctx, true) != CLG_STATUS_OK)
        goto fail;
    if (!load_data(&r, &o))
        goto done;
    if ((o.data_given && !(r.data_path = absolute_path(o.data))) ||
        (o.test && !(r.test_path = absolute_path(o.test)))) {
        cli_error("cannot name the folder of --data or --test (getcwd: %s)", strerror(errno));
        goto done;
    }
    int64_t features = clg_dataset_features(r.train);
    int classes = clg_dataset_classes(r.train);
    r.model = cli_classifier_create(r.ctx, o.model, o.activation, o.hidden,
                                    o.hidden_given ? o.n_hidden : 0, features, classes, o.seed);
    if (!r.model)
        goto fail;
    clg_optim_options optim = clg_optim_options_default(o.optim);
    if (o.lr > 0.0f)
        optim.lr = o.lr;
    else if (strcmp(o.model, "lenet5") == 0 && o.optim == CLG_OPTIM_ADAM)
        optim.lr = DEFAULT_LR_LENET5;
    else if (strcmp(o.model, "gru") == 0 && o.optim == CLG_OPTIM_ADAM)
        optim.lr = DEFAULT_LR_GRU;
    r.opt = clg_optim_create(r.ctx, clg_model_params(r.model), &optim);
    if (!r.opt)
        goto fail;
    r.batcher = clg_batcher_create(r.ctx, clg_dataset_size(r.train), o.batch, true, false, o.seed);
    if (!r.batcher)
        goto fail;
    /* cli_dist_attach prints its own message. */
    if (!cli_dist_attach(r.ctx, clg_model_params(r.model), o.batch, clg_dataset_size(r.train)))
        goto done;
    /* cosine: PyTorch's CosineAnnealingLR stepped every batch, T_max = the
     * run's steps (an extended --resume's new total), eta_min = 0 */
    r.schedule = o.cosine ? clg_schedule_cosine(optim.lr, 0.0f,
                                                o.epochs * clg_batcher_batches_per_epoch(r.batcher))
                          : clg_schedule_constant(optim.lr);
    r.x = malloc((size_t)(o.batch * features) * sizeof *r.x);
    r.y = malloc((size_t)o.batch * sizeof *r.y);
    r.confusion = malloc((size_t)classes * (size_t)classes * sizeof *r.confusion);
    r.predicted = malloc((size_t)clg_dataset_size(r.test) * sizeof *r.predicted);
    r.history.train_loss = calloc((size_t)o.epochs, sizeof *r.history.train_loss);
    r.history.test_loss = calloc((size_t)o.epochs, sizeof *r.history.test_loss);
    r.history.accuracy = calloc((size_t)o.epochs, sizeof *r.history.accuracy);
    r.history.seconds = malloc((size_t)o.epochs * sizeof *r.history.seconds);
    if (!r.x || !r.y || !r.confusion || !r.predicted || !r.history.train_loss ||
        !r.history.test_loss || !r.history.accuracy || !r.history.seconds) {
        cli_error("out of host memory for batches of %lld", (long long)o.batch);
        goto done;
    }
    for (int64_t e = 0; e < o.epochs; e++)
        r.history.seconds[e] = NAN;
    int64_t epochs_done = 0;
    if (o.resume && !resume_position(&r, &o, &epochs_done))
        goto done;
    if (epochs_done == o.epochs) {
        printf("the run in %s is complete: %lld of %lld epoch%s, final %s accuracy %.2f%% "
               "(--epochs N trains it further)\n",
               o.resume, (long long)epochs_done, (long long)o.epochs, cli_plural(o.epochs),
               r.held_out,
               r.history.accuracy[epochs_done - 1]);
        code = 0;
        goto done;
    }

    if (o.metrics && !cli_check_output("--metrics", o.metrics))
        goto done;
    /* The folder is made before training, so a bad --plot fails at once. */
    if (o.plot_dir && cli_dist_leader() && !plot_make_dir(o.plot_dir)) {
        cli_error("--plot: %s", plot_error());
        goto done;
    }
    char note[256];
    snprintf(note, sizeof note, "%s %s, %s lr %g (%s), batch %lld", o.model,
             clg_model_arch(r.model), clg_optim_kind_name(o.optim), (double)optim.lr,
             o.cosine ? "cosine" : "constant", (long long)o.batch);

    printf("training %s %s on %s\n", o.model, clg_model_arch(r.model),
           clg_context_device_name(r.ctx));
    if (strcmp(r.held_out, "validation") == 0)
        printf("data: %s, %lld features, %d classes; %lld samples held out for validation "
               "(--val-split %g, --seed %llu)\n",
               o.data, (long long)features, classes, (long long)clg_dataset_size(r.test),
               o.val_split, (unsigned long long)o.seed);
    else if (o.test)
        printf("data: %s, %lld features, %d classes; test set %s (%lld samples)\n", o.data,
               (long long)features, classes, o.test, (long long)clg_dataset_size(r.test));
    printf("%lld samples, %lld epoch%s, batch %lld, %s lr %g (%s), seed %llu\n",
           (long long)clg_dataset_size(r.train), (long long)o.epochs, cli_plural(o.epochs),
           (long long)o.batch, clg_optim_kind_name(o.optim), (double)optim.lr,
           o.cosine ? "cosine" : "constant", (unsigned long long)o.seed);
    if (o.resume && r.epoch_step > 0)
        printf("resuming %s: %lld of %lld epoch%s done, and %lld step%s of epoch %lld\n", o.resume,
               (long long)epochs_done, (long long)o.epochs, cli_plural(o.epochs),
               (long long)r.epoch_step, cli_plural(r.epoch_step), (long long)epochs_done + 1);
    else if (o.resume)
        printf("resuming %s: %lld of %lld epoch%s done\n", o.resume, (long long)epochs_done,
               (long long)o.epochs, cli_plural(o.epochs));
    fflush(stdout);

    cli_progress progress;
    cli_progress_init(&progress, (int)o.epochs, clg_batcher_batches_per_epoch(r.batcher));
    progress.held_out = r.held_out;
    double accuracy = 0.0;
    for (int epoch = (int)epochs_done; epoch < (int)o.epochs; epoch++) {
        cli_progress_begin_epoch(&progress);
        int64_t samples = 0;
        float mean_loss = 0.0f;
        if (!train_epoch(&r, &o, &progress, epoch, &samples, &mean_loss))
            goto fail;
        double seconds = cli_progress_epoch_seconds(&progress);
        if (!isfinite(mean_loss)) {
            cli_error("the loss became %f in epoch %d: training diverged (try a smaller --lr)",
                      (double)mean_loss, epoch + 1);
            goto done;
        }
        double test_loss = 0.0;
        if (!evaluate(&r, &accuracy, &test_loss))
            goto fail;
        cli_progress_end_epoch(&progress, epoch, samples, seconds, mean_loss, accuracy);
        r.history.train_loss[epoch] = mean_loss;
        r.history.test_loss[epoch] = test_loss;
        r.history.accuracy[epoch] = 100.0 * accuracy;
        r.history.seconds[epoch] = seconds;
        if (o.plot_dir && cli_dist_leader() &&
            !write_plots(&r.history, epoch + 1, o.plot_dir, note, r.held_out))
            goto done;
        if (o.metrics && cli_dist_leader() &&
            !write_metrics(&r.history, epoch + 1, o.metrics, r.held_out))
            goto done;
        /* The last epoch's checkpoint comes after the summary below. */
        if (epoch + 1 < (int)o.epochs && cli_dist_leader() &&
            !save_checkpoint(&r, &o, epoch + 1, 0, 0.0f))
            goto fail;
    }
    if (o.plot_dir)
        printf("curves written to %s/loss.png and %s/accuracy.png\n", o.plot_dir, o.plot_dir);
    if (o.metrics)
        printf("metrics written to %s\n", o.metrics);
    printf("trained in %.1f s; final %s accuracy %.2f%%\n", cli_now() - progress.start,
           r.held_out, 100.0 * accuracy);
    if (o.profile && !print_profile(r.ctx))
        goto fail;

    /* The accuracy is printed before the checkpoint is written, so a bad
     * --save path does not cost the user the result of the run. */
    if (cli_dist_leader() && !save_checkpoint(&r, &o, o.epochs, 0, 0.0f))
        goto fail;
    /* The command that reads it back, with the test set it was measured on. */
    if (cli_data_file(o.data) && o.test)
        printf("checkpoint written to %s (clgrad eval --load %s --data %s%s%s)\n", o.save, o.save,
               o.test, o.label ? " --label " : "", o.label ? o.label : "");
    else if (cli_data_file(o.data))
        printf("checkpoint written to %s (clgrad eval --load %s --data FILE)\n", o.save, o.save);
    else
        printf("checkpoint written to %s (clgrad eval --load %s)\n", o.save, o.save);
    printf("  %lld write%s in this run, %.1f ms each; clgrad train --resume %s --epochs N "
           "trains it further\n",
           (long long)r.writes, cli_plural(r.writes), 1e3 * r.write_seconds / (double)r.writes,
           o.save);
    code = 0;
    goto done;
fail:
    cli_context_error(r.ctx);
done:
    run_release(&r);
    return code;
}
