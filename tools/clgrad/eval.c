/* tools/clgrad/eval.c: `clgrad eval`, and the test-set evaluation that
 * `clgrad train` runs after each epoch: accuracy and the confusion matrix. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Fashion-MNIST's class names, index = label; only a ten-class model's
 * labels are named by them (cli_class_name). */
static const char *const fashion_names[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress",
                                              "Coat",        "Sandal",  "Shirt",    "Sneaker",
                                              "Bag",         "Ankle boot"};

const char *cli_class_name(int label, int classes)
{
    return classes == 10 && label >= 0 && label < 10 ? fashion_names[label] : "";
}

static const char eval_usage[] =
    "usage: clgrad eval --load FILE [options]\n"
    "\n"
    "Rebuilds the model saved by `clgrad train` (the checkpoint records its\n"
    "architecture), classifies the Fashion-MNIST test set (or --data FILE) and\n"
    "prints the accuracy and the confusion matrix.\n"
    "\n"
    "options:\n"
    "  --load FILE   checkpoint (.safetensors) written by clgrad train (required)\n"
    "  --data DIR|FILE  Fashion-MNIST folder (default " CLG_FASHION_MNIST_DIR ",\n"
    "                from Debian's dataset-fashion-mnist package), or the test set\n"
    "                of a model trained on your own data: FILE.npz or FILE.csv, as\n"
    "                clgrad train --data takes them\n"
    "  --label NAME  the CSV column holding the labels (default \"label\")\n"
    "  --batch N     samples per forward pass (default 1000)\n"
    "  -h, --help    this help\n";

bool cli_evaluate(clg_context *ctx, clg_model *model, const clg_dataset *test, int64_t batch,
                  int64_t *confusion, double *accuracy)
{
    int64_t n = clg_dataset_size(test);
    int64_t features = clg_dataset_features(test);
    const float *images = clg_dataset_images(test);
    int32_t *predicted = malloc((size_t)(n > 0 ? n : 1) * sizeof *predicted);
    if (!predicted)
        return false;
    bool grad_was = clg_grad_set_enabled(ctx, false);
    bool ok = true;
    for (int64_t start = 0; ok && start < n; start += batch) {
        int64_t count = n - start < batch ? n - start : batch;
        cli_live_line("evaluating: %lld of %lld samples", (long long)start, (long long)n);
        clg_step_begin(ctx);
        clg_tensor *x = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, (int64_t[]){count, features},
                                             images + start * features);
        clg_tensor *labels = clg_argmax(clg_model_forward(model, x), 1, false);
        /* One read per batch: the predictions are the point of the exercise. */
        ok = labels &&
             clg_tensor_download(labels, predicted + start, (size_t)count) == CLG_STATUS_OK;
        clg_step_end(ctx);
    }
    cli_live_clear();
    clg_grad_set_enabled(ctx, grad_was);
    ok = ok && clg_confusion_matrix(ctx, predicted, clg_dataset_labels(test), n,
                                    (int)clg_model_out_features(model), confusion,
                                    accuracy) == CLG_STATUS_OK;
    free(predicted);
    return ok;
}

static void print_confusion(const int64_t *confusion, int classes)
{
    printf("\nconfusion matrix (rows: true class, columns: predicted class)\n");
    printf("%-16s", "");
    for (int c = 0; c < classes; c++)
        printf("%6d", c);
    printf("  recall\n");
    for (int truth = 0; truth < classes; truth++) {
        const int64_t *row = confusion + (size_t)truth * (size_t)classes;
        int64_t total = 0;
        char label[32];
        snprintf(label, sizeof label, "%d %s", truth, cli_class_name(truth, classes));
        printf("%-16s", label);
        for (int c = 0; c < classes; c++) {
            printf("%6lld", (long long)row[c]);
            total += row[c];
        }
        printf("  %5.1f%%\n", total ? 100.0 * (double)row[truth] / (double)total : 0.0);
    }
}

bool cli_ends_with(const char *text, const char *suffix)
{
    size_t n = strlen(text), k = strlen(suffix);
    return n >= k && strcmp(text + n - k, suffix) == 0;
}

bool cli_data_file(const char *path)
{
    return cli_ends_with(path, ".npz") || cli_ends_with(path, ".csv");
}

clg_dataset *cli_load_data_file(clg_context *ctx, const char *option, const char *path,
                                const char *label)
{
    if (cli_ends_with(path, ".npz"))
        return clg_dataset_load_npz(ctx, path);
    if (cli_ends_with(path, ".csv"))
        return clg_dataset_load_csv(ctx, path, label ? label : "label");
    cli_error("%s: %s is neither a folder (Fashion-MNIST), a .npz nor a .csv file", option, path);
    return NULL;
}

int cli_eval(int argc, char **argv)
{
    static const char *const valued[] = {"--load", "--data", "--label", "--batch", NULL};
    const char *load = NULL, *label = NULL;
    const char *data = CLG_FASHION_MNIST_DIR;
    int64_t batch = 1000;

    cli_args args;
    cli_args_init(&args, "eval", argc, argv, valued, NULL);
    int exit_code;
    while (cli_args_option(&args, eval_usage, NULL, &exit_code)) {
        if (strcmp(args.name, "--load") == 0)
            load = args.value;
        else if (strcmp(args.name, "--data") == 0)
            data = args.value;
        else if (strcmp(args.name, "--label") == 0)
            label = args.value;
        else if (!cli_parse_int("--batch", args.value, 1, 1 << 20, &batch))
            return CLI_EXIT_USAGE;
    }
    if (exit_code >= 0)
        return exit_code;
    if (!load) {
        cli_error("eval: --load FILE is required (a checkpoint written by clgrad train)");
        return CLI_EXIT_USAGE;
    }
    if (label && !cli_ends_with(data, ".csv")) {
        cli_error("eval: --label applies to --data FILE.csv, not to %s", data);
        return CLI_EXIT_USAGE;
    }

    int code = CLI_EXIT_FAILURE;
    clg_context *ctx = NULL;
    clg_model *model = NULL;
    clg_dataset *test = NULL;
    int64_t *confusion = NULL;
    if (clg_context_create(NULL, &ctx) != CLG_STATUS_OK)
        goto fail;
    model = clg_model_from_checkpoint(ctx, load);
    if (!model)
        goto fail;
    cli_warn_nonfinite(load, model);
    if (cli_data_file(data)) {
        test = cli_load_data_file(ctx, "--data", data, label);
        if (!test) {
            if (clg_context_status(ctx) == CLG_STATUS_OK)
                goto done; /* said why */
            goto fail;
        }
    } else {
        test = clg_dataset_load_mnist(ctx, data, false);
        if (!test)
            goto fail;
    }
    /* The model's classes are what its outputs mean; the test labels must
     * fall among them (a test split with fewer classes is fine). */
    int64_t out = clg_model_out_features(model);
    if (clg_model_in_features(model) != clg_dataset_features(test) || out > 65536) {
        cli_error("%s: model %s takes %lld inputs, but %s has %lld features per sample",
                  load, clg_model_arch(model), (long long)clg_model_in_features(model),
                  clg_dataset_images_path(test), (long long)clg_dataset_features(test));
        goto done;
    }
    int classes = (int)out;
    if (clg_dataset_check_labels(ctx, test, classes) != CLG_STATUS_OK)
        goto fail;
    confusion = calloc((size_t)classes * (size_t)classes, sizeof *confusion);
    double accuracy = 0.0;
    printf("model %s %s from %s on %s\n", clg_model_kind(model), clg_model_arch(model), load,
           clg_context_device_name(ctx));
    if (!confusion || !cli_evaluate(ctx, model, test, batch, confusion, &accuracy))
        goto fail;
    int64_t correct = 0;
    for (int c = 0; c < classes; c++)
        correct += confusion[(size_t)c * (size_t)classes + (size_t)c];
    printf("test accuracy %.2f%% (%lld of %lld)\n", 100.0 * accuracy, (long long)correct,
           (long long)clg_dataset_size(test));
    print_confusion(confusion, classes);
    code = 0;
    goto done;
fail:
    cli_context_error(ctx);
done:
    free(confusion);
    clg_dataset_destroy(test);
    clg_model_destroy(model);
    clg_context_destroy(ctx);
    return code;
}
