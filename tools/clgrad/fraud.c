/* tools/clgrad/fraud.c: `clgrad fraud`, the lecture's fraud-detection case
 * study. --synthesize writes a seeded synthetic file in the public
 * credit-card data set's layout; --data trains the autoencoder (or its
 * denoising variant) on the normal half of the training split, scores the
 * held-out split by reconstruction distance, and prints the ROC AUC and, at
 * a threshold or a target false-positive rate, the confusion matrix, TPR and
 * FPR; --plot draws the ROC curve and the distance histograms (the lecture's
 * "distance after training" figure) through plot.h. */
#include <math.h>
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dist_cli.h"
#include "lecture/lecture.h"
#include "plot.h"

/* Rows per scoring batch: under mpirun each rank scores whole batches. */
#define SCORE_BATCH 4096

static const char fraud_usage[] =
    "usage: clgrad fraud --synthesize N --out FILE [--seed S]\n"
    "       clgrad fraud --data FILE [options]\n"
    "\n"
    "Fraud detection with an autoencoder, as in the lecture: a 30-100-100-15-100-100-30\n"
    "network (tanh) is trained on normal transactions only, to reproduce them; the\n"
    "distance ||x - x^||^2 between a transaction and its reconstruction is its\n"
    "anomaly score. Data: the public credit-card fraud layout, a CSV with header\n"
    "Time,V1,...,V28,Amount,Class (Class 1 = fraud). Features are MinMax-scaled with\n"
    "the training split's ranges. Split: half of the normal rows to train on; the\n"
    "other half and every fraud to test on.\n"
    "\n"
    "  --synthesize N  write N synthetic transactions (at least 4) in that layout,\n"
    "                  with the public file's imbalance (492 frauds in 284,807), to\n"
    "                  --out FILE; they are SYNTHETIC, from a seeded generator, and\n"
    "                  say nothing about real fraud\n"
    "  --data FILE     train on FILE and evaluate (the public creditcard.csv, or a\n"
    "                  synthetic file)\n"
    "\n"
    "options for --data:\n"
    "  --epochs N      passes over the training rows (default 20; the lecture: 500)\n"
    "  --batch N       rows per step (default 2048, the lecture's)\n"
    "  --lr X          Adam's learning rate (default 0.001)\n"
    "  --seed S        split, initial weights, shuffling and noise (default 0)\n"
    "  --denoise KIND  train a denoising autoencoder: gaussian (x + sigma N(0,1)) or\n"
    "                  mask (each value zeroed with probability p)\n"
    "  --noise X       sigma or p for --denoise (default 0.05 gaussian, 0.1 mask)\n"
    "  --threshold X   flag a transaction as fraud when its distance is above X\n"
    "  --fpr X         or: the lowest threshold whose false-positive rate on the\n"
    "                  test normals is at most X (default 0.01 = 1%)\n"
    "  --plot DIR      write DIR/roc.png (ROC curve and AUC) and DIR/distances.png\n"
    "                  (histograms of log10 distance: train, test normal, fraud)\n"
    "  --save FILE     save the trained model as a checkpoint\n"
    "  -h, --help      this help\n";

typedef struct fraud_options {
    const char *data, *out, *plot_dir, *save;
    int64_t synthesize;
    int64_t epochs;
    int64_t batch;
    float lr;
    uint64_t seed;
    lecture_noise noise;
    float noise_level; /* < 0: the default for the kind */
    float threshold;
    bool has_threshold;
    double fpr;
} fraud_options;

/* log10 of each distance, floored at 1e-12 so a perfect reconstruction
 * still lands on the chart. */
static float *log10_copy(const float *v, int64_t n)
{
    float *out = malloc((size_t)(n > 0 ? n : 1) * sizeof *out);
    for (int64_t i = 0; out && i < n; i++)
        out[i] = log10f(v[i] > 1e-12f ? v[i] : 1e-12f);
    return out;
}

/* roc.png: the ROC curve with the operating point (the chosen threshold's
 * false- and true-positive rates, `at`); distances.png: the log10 distances
 * of the three sets with the threshold as a vertical line. */
static bool write_plots(clg_context *ctx, const char *dir, const float *train_scores,
                        int64_t n_train, const float *test_scores, const int32_t *truth,
                        int64_t n_test, double auc, const char *title, float threshold,
                        const clg_binary_counts *at)
{
    if (!plot_make_dir(dir)) {
        cli_error("--plot: %s", plot_error());
        return false;
    }
    bool ok = false;
    char path[4096], note[64];
    double *fpr = malloc((size_t)(n_test + 1) * sizeof *fpr);
    double *tpr = malloc((size_t)(n_test + 1) * sizeof *tpr);
    float *normal = malloc((size_t)n_test * sizeof *normal);
    float *fraud = malloc((size_t)n_test * sizeof *fraud);
    float *log_train = log10_copy(train_scores, n_train);
    int64_t points = 0, n_normal = 0, n_fraud = 0;
    if (!fpr || !tpr || !normal || !fraud || !log_train) {
        cli_error("out of host memory for the plots");
        goto done;
    }
    for (int64_t i = 0; i < n_test; i++) {
        float v = log10f(test_scores[i] > 1e-12f ? test_scores[i] : 1e-12f);
        if (truth[i])
            fraud[n_fraud++] = v;
        else
            normal[n_normal++] = v;
    }
    /* The ROC was checked when the AUC was computed: this cannot fail. */
    clg_roc_curve(ctx, test_scores, truth, n_test, fpr, tpr, NULL, &points);
    static const double diagonal[] = {0.0, 1.0};
    char operating[96];
    snprintf(operating, sizeof operating, "threshold %.3g: FPR %.2f%%, TPR %.1f%%",
             (double)threshold, 100.0 * at->fpr, 100.0 * at->tpr);
    plot_series series[] = {{"autoencoder", fpr, tpr, points, PLOT_STYLE_SOLID},
                            {"chance", diagonal, diagonal, 2, PLOT_STYLE_DASHED},
                            {operating, &at->fpr, &at->tpr, 1, PLOT_STYLE_MARKERS}};
    snprintf(note, sizeof note, "AUC = %.4f", auc);
    plot_axes roc_axes = {.title = title,
                          .xlabel = "false positive rate (normal flagged as fraud)",
                          .ylabel = "true positive rate (fraud caught)",
                          .xmin = 0,
                          .xmax = 1,
                          .ymin = 0,
                          .ymax = 1,
                          .note = note};
    if (!plot_path(path, sizeof path, dir, "roc.png") || !plot_lines(path, &roc_axes, series, 3)) {
        cli_error("--plot: %s", plot_error()[0] ? plot_error() : "path too long");
        goto done;
    }
    printf("ROC curve written to %s\n", path);
    plot_values sets[] = {{"train (normal)", log_train, n_train},
                          {"test normal", normal, n_normal},
                          {"test fraud", fraud, n_fraud}};
    char threshold_label[64];
    snprintf(threshold_label, sizeof threshold_label, "threshold %.3g", (double)threshold);
    plot_line threshold_line = {threshold_label, 1, 0,
                                log10(threshold > 1e-12f ? (double)threshold : 1e-12), -1};
    plot_axes hist_axes = {.title = "distance after training",
                           .xlabel = "log10 ||x - x^||^2",
                           .ylabel = "fraction of the set",
                           .note = "histograms normalised per set (frauds are 0.17% of rows); "
                                   "above the threshold: flagged",
                           .lines = &threshold_line,
                           .line_count = 1};
    if (!plot_path(path, sizeof path, dir, "distances.png") ||
        !plot_histograms(path, &hist_axes, sets, 3, 60, true, PLOT_OVERLAY)) {
        cli_error("--plot: %s", plot_error()[0] ? plot_error() : "path too long");
        goto done;
    }
    printf("distance histograms written to %s\n", path);
    ok = true;
done:
    free(fpr);
    free(tpr);
    free(normal);
    free(fraud);
    free(log_train);
    return ok;
}

static int synthesize(const fraud_options *o)
{
    if (!cli_dist_leader()) /* under mpirun one rank writes the file */
        return 0;
    clg_context *ctx = NULL;
    int64_t frauds = 0;
    if (clg_context_create(NULL, &ctx) != CLG_STATUS_OK ||
        clg_fraud_write_synthetic(ctx, o->out, o->synthesize, o->seed, &frauds) != CLG_STATUS_OK) {
        int code = cli_context_error(ctx);
        clg_context_destroy(ctx);
        return code;
    }
    printf("wrote %lld SYNTHETIC transaction%s (%lld fraud%s, seed %llu) to %s in the public "
           "credit-card fraud layout; generated by clgrad, not the real data set\n",
           (long long)o->synthesize, cli_plural(o->synthesize), (long long)frauds,
           cli_plural(frauds), (unsigned long long)o->seed, o->out);
    clg_context_destroy(ctx);
    return 0;
}

/* Copies the rows named by idx into out (count x features) and labels. */
static void gather(const float *x, const int32_t *y, const int64_t *idx, int64_t count, float *out,
                   int32_t *labels)
{
    for (int64_t i = 0; i < count; i++) {
        memcpy(out + i * CLG_FRAUD_FEATURES, x + idx[i] * CLG_FRAUD_FEATURES,
               CLG_FRAUD_FEATURES * sizeof *x);
        labels[i] = y[idx[i]];
    }
}

static void print_confusion(const clg_binary_counts *c)
{
    printf("                 predicted normal  predicted fraud\n");
    printf("  normal         %16lld  %15lld\n", (long long)c->tn, (long long)c->fp);
    printf("  fraud          %16lld  %15lld\n", (long long)c->fn, (long long)c->tp);
    printf("TPR (fraud -> fraud) %.1f%%, FPR (normal -> fraud) %.2f%%\n", 100.0 * c->tpr,
           100.0 * c->fpr);
}

/* The distances of n rows into scores. Under mpirun each rank scores its
 * whole batches and the ranks then exchange them, so every rank holds every
 * distance as one process computes it (same batches, same kernels). false
 * with the reason printed. */
static bool score_rows(clg_context *ctx, clg_model *model, const float *x, int64_t n, float *scores)
{
    int64_t first, count;
    cli_dist_range_blocks(n, SCORE_BATCH, &first, &count);
    if (count > 0 && clg_autoencoder_scores(model, x + first * CLG_FRAUD_FEATURES, count,
                                            SCORE_BATCH, scores + first) != CLG_STATUS_OK) {
        cli_context_error(ctx);
        return false;
    }
    return cli_dist_share_floats(scores, n, SCORE_BATCH);
}

static int train_and_evaluate(const fraud_options *o)
{
    int code = CLI_EXIT_FAILURE;
    clg_context *ctx = NULL;
    clg_fraud_data *data = NULL;
    clg_model *model = NULL;
    lecture_autoencoder_trainer *trainer = NULL;
    int64_t *train_idx = NULL, *test_idx = NULL;
    float *x_train = NULL, *x_test = NULL, *train_scores = NULL, *test_scores = NULL;
    int32_t *y_train = NULL, *y_test = NULL;
    if (clg_context_create(NULL, &ctx) != CLG_STATUS_OK)
        goto fail;
    data = clg_fraud_read_csv(ctx, o->data);
    if (!data)
        goto fail;
    int64_t rows = clg_fraud_data_rows(data), frauds = clg_fraud_data_frauds(data);
    printf("%s: %lld transaction%s, %lld fraud%s (%.3f%%)\n", o->data, (long long)rows,
           cli_plural(rows), (long long)frauds, cli_plural(frauds),
           100.0 * (double)frauds / (double)rows);
    train_idx = malloc((size_t)rows * sizeof *train_idx);
    test_idx = malloc((size_t)rows * sizeof *test_idx);
    x_train = malloc((size_t)rows * CLG_FRAUD_FEATURES * sizeof *x_train);
    x_test = malloc((size_t)rows * CLG_FRAUD_FEATURES * sizeof *x_test);
    y_train = malloc((size_t)rows * sizeof *y_train);
    y_test = malloc((size_t)rows * sizeof *y_test);
    train_scores = malloc((size_t)rows * sizeof *train_scores);
    test_scores = malloc((size_t)rows * sizeof *test_scores);
    if (!train_idx || !test_idx || !x_train || !x_test || !y_train || !y_test || !train_scores ||
        !test_scores) {
        cli_error("out of host memory for %lld transactions", (long long)rows);
        goto done;
    }
    int64_t n_train = 0, n_test = 0;
    if (clg_fraud_split(ctx, data, o->seed, train_idx, &n_train, test_idx, &n_test) !=
        CLG_STATUS_OK)
        goto fail;
    const float *x = clg_fraud_data_features(data);
    const int32_t *y = clg_fraud_data_labels(data);
    gather(x, y, train_idx, n_train, x_train, y_train);
    gather(x, y, test_idx, n_test, x_test, y_test);
    float lo[CLG_FRAUD_FEATURES], hi[CLG_FRAUD_FEATURES];
    if (clg_minmax_fit(ctx, x, CLG_FRAUD_FEATURES, train_idx, n_train, lo, hi) != CLG_STATUS_OK)
        goto fail;
    clg_minmax_transform(lo, hi, CLG_FRAUD_FEATURES, x_train, n_train, x_train);
    clg_minmax_transform(lo, hi, CLG_FRAUD_FEATURES, x_test, n_test, x_test);
    printf("split: train %lld normal; test %lld normal + %lld fraud%s; MinMax fitted on train\n",
           (long long)n_train, (long long)(n_test - frauds), (long long)frauds, cli_plural(frauds));

    static const int64_t hidden[] = {100, 100};
    model = clg_zoo_autoencoder_create(ctx, CLG_FRAUD_FEATURES, hidden, 2, 15, o->seed);
    if (!model)
        goto fail;
    /* Under mpirun: rank 0's weights on every rank; prints its own message. */
    if (!cli_dist_attach(ctx, clg_model_params(model), o->batch, n_train))
        goto done;
    lecture_autoencoder_options options = lecture_autoencoder_options_default();
    options.batch = o->batch;
    options.lr = o->lr;
    options.seed = o->seed;
    options.noise = o->noise;
    options.noise_level = o->noise_level >= 0.0f           ? o->noise_level
                          : o->noise == LECTURE_NOISE_MASK ? 0.1f
                                                           : 0.05f;
    cli_dist_autoencoder(&options); /* this rank's share of each batch */
    trainer = lecture_autoencoder_trainer_create(model, x_train, y_train, n_train, &options);
    if (!trainer)
        goto fail;
    char noise_text[64] = "";
    if (o->noise != LECTURE_NOISE_NONE)
        snprintf(noise_text, sizeof noise_text, ", denoising (%s %g)",
                 o->noise == LECTURE_NOISE_GAUSSIAN ? "gaussian sigma" : "mask p",
                 (double)options.noise_level);
    printf("autoencoder %s (tanh), batch %lld, Adam lr %g%s, on %s\n", clg_model_arch(model),
           (long long)o->batch, (double)o->lr, noise_text, clg_context_device_name(ctx));
    fflush(stdout);
    double training_start = cli_now();
    for (int64_t epoch = 0; epoch < o->epochs; epoch++) {
        double start = cli_now(), loss = 0.0;
        /* An epoch is one library call: the live line says which runs and,
         * from the epochs before it, how long the rest will take. Under
         * mpirun each rank's loss is its rows' share of the mean. */
        cli_live_line(
            "epoch %lld/%lld  training  ETA %.0f s", (long long)epoch + 1, (long long)o->epochs,
            epoch ? (start - training_start) / (double)epoch * (double)(o->epochs - epoch) : 0.0);
        if (lecture_autoencoder_train_epoch(trainer, &loss) != CLG_STATUS_OK ||
            !cli_dist_sum(&loss, 1) || !cli_dist_epoch_end(NULL))
            goto fail;
        cli_live_clear();
        printf("epoch %lld/%lld: loss %.6f (mean ||x - x^||^2 per row), %.2f s%s\n",
               (long long)epoch + 1, (long long)o->epochs, loss, cli_now() - start,
               cli_dist_note());
        fflush(stdout);
    }
    cli_live_line("scoring: %lld test rows, then %lld training rows", (long long)n_test,
                  (long long)n_train);
    if (!score_rows(ctx, model, x_test, n_test, test_scores) ||
        !score_rows(ctx, model, x_train, n_train, train_scores))
        goto done;
    cli_live_clear();
    double auc = 0.0;
    if (clg_roc_auc(ctx, test_scores, y_test, n_test, &auc) != CLG_STATUS_OK)
        goto fail;
    printf("test ROC AUC: %.4f\n", auc);
    float threshold = o->threshold;
    if (!o->has_threshold && clg_threshold_for_fpr(ctx, test_scores, y_test, n_test, o->fpr,
                                                   &threshold) != CLG_STATUS_OK)
        goto fail;
    clg_binary_counts counts;
    if (clg_binary_counts_at(ctx, test_scores, y_test, n_test, threshold, &counts) != CLG_STATUS_OK)
        goto fail;
    if (o->has_threshold)
        printf("threshold: distance > %g\n", (double)threshold);
    else
        printf("threshold: distance > %g (the lowest with a false-positive rate of at most "
               "%g%%)\n",
               (double)threshold, 100.0 * o->fpr);
    print_confusion(&counts);
    fflush(stdout);
    if (o->save && cli_dist_leader()) {
        if (clg_model_save(model, o->save) != CLG_STATUS_OK)
            goto fail;
        printf("model saved to %s\n", o->save);
    }
    if (o->plot_dir && cli_dist_leader()) {
        char title[128];
        snprintf(title, sizeof title, "fraud detection: %s autoencoder ROC",
                 o->noise == LECTURE_NOISE_NONE ? "plain" : "denoising");
        if (!write_plots(ctx, o->plot_dir, train_scores, n_train, test_scores, y_test, n_test, auc,
                         title, threshold, &counts))
            goto done;
    }
    code = 0;
    goto done;
fail:
    code = cli_context_error(ctx);
done:
    cli_dist_detach();
    lecture_autoencoder_trainer_destroy(trainer);
    clg_model_destroy(model);
    clg_fraud_data_destroy(data);
    clg_context_destroy(ctx);
    free(train_idx);
    free(test_idx);
    free(x_train);
    free(x_test);
    free(y_train);
    free(y_test);
    free(train_scores);
    free(test_scores);
    return code;
}

static bool parse_fraction(const char *option, const char *text, double *out)
{
    if (!cli_parse_real(option, text, 0.0, 1.0, out))
        return false;
    if (*out >= 1.0) {
        cli_error("%s: \"%s\" is not a rate in [0, 1)", option, text);
        return false;
    }
    return true;
}

int cli_fraud(int argc, char **argv)
{
    static const char *const valued[] = {
        "--synthesize", "--out",   "--seed",      "--data", "--epochs", "--batch", "--lr",
        "--denoise",    "--noise", "--threshold", "--fpr",  "--plot",   "--save",  NULL};
    fraud_options o = {.epochs = 20, .batch = 2048, .lr = 1e-3f, .noise_level = -1.0f, .fpr = 0.01};
    cli_args args;
    cli_args_init(&args, "fraud", argc, argv, valued, NULL);
    int exit_code;
    while (cli_args_option(&args, fraud_usage, NULL, &exit_code)) {
        const char *name = args.name, *value = args.value;
        bool ok = true;
        if (strcmp(name, "--synthesize") == 0)
            ok = cli_parse_int(name, value, 4, INT64_C(1) << 40, &o.synthesize);
        else if (strcmp(name, "--out") == 0)
            o.out = value;
        else if (strcmp(name, "--seed") == 0)
            ok = cli_parse_u64(name, value, &o.seed);
        else if (strcmp(name, "--data") == 0)
            o.data = value;
        else if (strcmp(name, "--epochs") == 0)
            ok = cli_parse_int(name, value, 1, 100000, &o.epochs);
        else if (strcmp(name, "--batch") == 0)
            ok = cli_parse_int(name, value, 1, 1 << 20, &o.batch);
        else if (strcmp(name, "--lr") == 0)
            ok = cli_parse_positive_float(name, value, &o.lr);
        else if (strcmp(name, "--noise") == 0)
            ok = cli_parse_positive_float(name, value, &o.noise_level);
        else if (strcmp(name, "--threshold") == 0) {
            ok = cli_parse_float(name, value, -FLT_MAX, FLT_MAX, &o.threshold);
            o.has_threshold = true;
        } else if (strcmp(name, "--fpr") == 0)
            ok = parse_fraction(name, value, &o.fpr);
        else if (strcmp(name, "--plot") == 0)
            o.plot_dir = value;
        else if (strcmp(name, "--save") == 0)
            o.save = value;
        else if (strcmp(value, "gaussian") == 0)
            o.noise = LECTURE_NOISE_GAUSSIAN;
        else if (strcmp(value, "mask") == 0)
            o.noise = LECTURE_NOISE_MASK;
        else {
            cli_error("--denoise: \"%s\" is not a kind of noise (gaussian, mask)", value);
            ok = false;
        }
        if (!ok)
            return CLI_EXIT_USAGE;
    }
    if (exit_code >= 0)
        return exit_code;
    if ((o.synthesize > 0) == (o.data != NULL)) {
        cli_error("fraud: give either --synthesize N --out FILE or --data FILE (see clgrad "
                  "fraud --help)");
        return CLI_EXIT_USAGE;
    }
    if (o.synthesize > 0 && !o.out) {
        cli_error("fraud: --synthesize needs --out FILE");
        return CLI_EXIT_USAGE;
    }
    if (o.save && !cli_check_output("--save", o.save))
        return CLI_EXIT_FAILURE;
    if (o.synthesize > 0 && !cli_check_output("--out", o.out))
        return CLI_EXIT_FAILURE;
    if (o.noise == LECTURE_NOISE_MASK && o.noise_level >= 1.0f) {
        cli_error("--noise: a masking probability must be below 1, got %g", (double)o.noise_level);
        return CLI_EXIT_USAGE;
    }
    return o.synthesize > 0 ? synthesize(&o) : train_and_evaluate(&o);
}
