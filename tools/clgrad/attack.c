/* tools/clgrad/attack.c: `clgrad attack fgsm`, the lecture's adversarial
 * examples: clean versus adversarial test accuracy per eps (the attack is
 * lecture_fgsm_evaluate, on the device), and with --out a PNG grid (plot.h) of a
 * few originals, their perturbations and the adversarial images, each
 * captioned with its predicted class. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lecture/lecture.h"
#include "plot.h"

#define MAX_EPS 16
#define GRID_ROWS 8
#define SCALE 3 /* each pixel drawn as SCALE x SCALE, room for a class name under it */

static const char attack_usage[] =
    "usage: clgrad attack fgsm --load FILE [options]\n"
    "\n"
    "Fast gradient sign method: x_adv = clamp(x + eps sign(d loss / d x), 0, 1) on\n"
    "the Fashion-MNIST test set; prints the clean accuracy and the accuracy on the\n"
    "adversarial images for each eps.\n"
    "\n"
    "options:\n"
    "  --load FILE     checkpoint written by clgrad train (required)\n"
    "  --eps X,X,...   step sizes in [0, 1] (default 0.05,0.1,0.2)\n"
    "  --data DIR      Fashion-MNIST folder (default " CLG_FASHION_MNIST_DIR ")\n"
    "  --count N       attack the first N test images only (default: all)\n"
    "  --out DIR       also write DIR/fgsm.png: for 8 images, the original, then\n"
    "                  per eps the perturbation (grey 0, white +eps, black -eps)\n"
    "                  and the adversarial image, under headers naming them;\n"
    "                  each row starts with the true class, and under each image\n"
    "                  its predicted class, with \"x \" in front when it is wrong\n"
    "  -h, --help      this help\n";

/* "0.05,0.1" -> {0.05, 0.1}, each checked as every float option is */
static bool parse_eps(const char *text, float *eps, int *n)
{
    *n = 0;
    for (const char *c = text;;) {
        const char *comma = strchr(c, ',');
        size_t length = comma ? (size_t)(comma - c) : strlen(c);
        char item[32];
        if (length == 0 || length >= sizeof item) {
            cli_error("--eps: \"%s\" is not a list of numbers in [0, 1] such as 0.05,0.1,0.2",
                      text);
            return false;
        }
        if (*n == MAX_EPS) {
            cli_error("--eps: at most %d values", MAX_EPS);
            return false;
        }
        memcpy(item, c, length);
        item[length] = '\0';
        if (!cli_parse_float("--eps", item, 0.0, 1.0, &eps[(*n)++]))
            return false;
        if (!comma)
            return true;
        c = comma + 1;
    }
}

/* A caption's class: its Fashion-MNIST name for a ten-class model, else its
 * number (any label, any count of classes: no table is indexed by it). */
static const char *class_caption(int label, int classes, char *buf, size_t size)
{
    const char *name = cli_class_name(label, classes);
    if (*name)
        return name;
    snprintf(buf, size, "class %d", label);
    return buf;
}

/* The grid for the first GRID_ROWS test images, one row each: the original,
 * then per eps the perturbation and the adversarial image. Column headers
 * name them and their eps, each row starts with the true class, and the
 * captions give the predicted class ("x " in front when wrong). */
static bool write_grid(clg_context *ctx, clg_model *model, const clg_dataset *test,
                       const float *eps, int n_eps, const char *dir)
{
    enum { PIXELS = 784 };
    /* the first GRID_ROWS images, or all of a smaller test split */
    const int N = clg_dataset_size(test) < GRID_ROWS ? (int)clg_dataset_size(test) : GRID_ROWS;
    const int classes = (int)clg_model_out_features(model);
    const float *x = clg_dataset_images(test);
    const int32_t *labels = clg_dataset_labels(test);
    int columns = 1 + 2 * n_eps;
    int32_t clean[GRID_ROWS], *adv_pred = malloc((size_t)(N * n_eps) * sizeof *adv_pred);
    float *adv = malloc((size_t)(N * n_eps * PIXELS) * sizeof *adv);
    float *cells = malloc((size_t)(N * columns * PIXELS) * sizeof *cells);
    char(*text)[32] = malloc((size_t)(N * columns) * sizeof *text);
    const char **captions = malloc((size_t)(N * columns) * sizeof *captions);
    bool ok = adv_pred && adv && cells && text && captions;
    if (!ok)
        cli_error("out of host memory for the grid");
    if (ok && lecture_fgsm_batch(model, x, labels, N, eps, n_eps, clean, adv_pred, adv) !=
                  CLG_STATUS_OK) {
        cli_context_error(ctx);
        ok = false;
    }
    char path[4096], names[2][16], headers[1 + 2 * MAX_EPS][32], rows[GRID_ROWS][48];
    const char *header_of[1 + 2 * MAX_EPS], *row_of[GRID_ROWS];
    if (ok) {
        snprintf(headers[0], sizeof headers[0], "original");
        for (int e = 0; e < n_eps; e++) {
            snprintf(headers[1 + 2 * e], sizeof headers[0], "perturbation\neps %g", (double)eps[e]);
            snprintf(headers[2 + 2 * e], sizeof headers[0], "adversarial\neps %g", (double)eps[e]);
        }
        for (int c = 0; c < columns; c++)
            header_of[c] = headers[c];
        for (int i = 0; i < N; i++) {
            snprintf(rows[i], sizeof rows[i], "true: %s",
                     class_caption(labels[i], classes, names[0], sizeof names[0]));
            row_of[i] = rows[i];
        }
        for (int i = 0; i < N; i++) {
            int cell = i * columns;
            memcpy(cells + (size_t)cell * PIXELS, x + (size_t)i * PIXELS, PIXELS * sizeof *cells);
            snprintf(text[cell], sizeof text[cell], "%s%s", clean[i] == labels[i] ? "" : "x ",
                     class_caption(clean[i], classes, names[0], sizeof names[0]));
            for (int e = 0; e < n_eps; e++) {
                const float *a = adv + ((size_t)e * N + (size_t)i) * PIXELS;
                /* grey 0, white +eps, black -eps */
                float *perturbation = cells + (size_t)(cell + 1 + 2 * e) * PIXELS;
                for (int p = 0; p < PIXELS; p++)
                    perturbation[p] =
                        eps[e] > 0 ? 0.5f + 0.5f * (a[p] - x[i * PIXELS + p]) / eps[e] : 0.5f;
                memcpy(cells + (size_t)(cell + 2 + 2 * e) * PIXELS, a, PIXELS * sizeof *cells);
                int pred = adv_pred[e * N + i];
                text[cell + 1 + 2 * e][0] = '\0'; /* the header says which eps */
                snprintf(text[cell + 2 + 2 * e], sizeof text[0], "%s%s",
                         pred == labels[i] ? "" : "x ",
                         class_caption(pred, classes, names[1], sizeof names[1]));
            }
        }
        for (int c = 0; c < N * columns; c++)
            captions[c] = text[c];
        plot_image_labels grid_labels = {captions, header_of, row_of};
        ok = plot_make_dir(dir) && plot_path(path, sizeof path, dir, "fgsm.png") &&
             plot_image_grid(path, "FGSM adversarial examples", cells, N * columns, 28, 28, columns,
                             SCALE, &grid_labels);
        if (!ok)
            cli_error("--out: %s", *plot_error() ? plot_error() : "folder name too long");
    }
    if (ok) {
        printf("grid of %d test images written to %s: columns original", N, path);
        for (int e = 0; e < n_eps; e++)
            printf(", perturbation and adversarial at eps %g", (double)eps[e]);
        printf("\nrows start with the true class; captions: the predicted class, with \"x \" in "
               "front when it is wrong\n");
    }
    free(captions);
    free(text);
    free(cells);
    free(adv);
    free(adv_pred);
    return ok;
}

int cli_attack(int argc, char **argv)
{
    static const char *const valued[] = {"--load", "--eps", "--data", "--count", "--out", NULL};
    const char *method = NULL, *load = NULL, *out = NULL;
    const char *data = CLG_FASHION_MNIST_DIR;
    float eps[MAX_EPS] = {0.05f, 0.1f, 0.2f};
    int n_eps = 3;
    int64_t count = 0;
    cli_args args;
    cli_args_init(&args, "attack", argc, argv, valued, NULL);
    int exit_code;
    while (cli_args_option(&args, attack_usage, &method, &exit_code)) {
        bool ok = true;
        if (strcmp(args.name, "--load") == 0)
            load = args.value;
        else if (strcmp(args.name, "--data") == 0)
            data = args.value;
        else if (strcmp(args.name, "--out") == 0)
            out = args.value;
        else if (strcmp(args.name, "--eps") == 0)
            ok = parse_eps(args.value, eps, &n_eps);
        else
            ok = cli_parse_int("--count", args.value, 1, 1 << 30, &count);
        if (!ok)
            return CLI_EXIT_USAGE;
    }
    if (exit_code >= 0)
        return exit_code;
    if (!method || strcmp(method, "fgsm") != 0) {
        cli_error("attack: %s%s%s (attacks: fgsm; see clgrad attack --help)",
                  method ? "unknown attack \"" : "which attack?", method ? method : "",
                  method ? "\"" : "");
        return CLI_EXIT_USAGE;
    }
    if (!load) {
        cli_error("attack: --load FILE is required (a checkpoint written by clgrad train)");
        return CLI_EXIT_USAGE;
    }

    int code = CLI_EXIT_FAILURE;
    clg_context *ctx = NULL;
    clg_model *model = NULL;
    clg_dataset *test = NULL;
    if (clg_context_create(NULL, &ctx) != CLG_STATUS_OK)
        goto fail;
    model = clg_model_from_checkpoint(ctx, load);
    if (!model)
        goto fail;
    cli_warn_nonfinite(load, model);
    test = clg_dataset_load_mnist(ctx, data, false);
    if (!test)
        goto fail;
    printf("fgsm on model %s %s from %s, %s\n", clg_model_kind(model), clg_model_arch(model), load,
           clg_context_device_name(ctx));
    double clean = 0.0, adv[MAX_EPS];
    if (lecture_fgsm_evaluate(model, test, count, 500, eps, n_eps, &clean, adv) != CLG_STATUS_OK)
        goto fail;
    int64_t n = count > 0 && count < clg_dataset_size(test) ? count : clg_dataset_size(test);
    printf("%lld test images: clean accuracy %.2f%%\n", (long long)n, 100.0 * clean);
    for (int e = 0; e < n_eps; e++)
        printf("  eps %-6g adversarial accuracy %.2f%%\n", (double)eps[e], 100.0 * adv[e]);
    fflush(stdout);
    if (out && !write_grid(ctx, model, test, eps, n_eps, out))
        goto done;
    code = 0;
    goto done;
fail:
    cli_context_error(ctx);
done:
    clg_dataset_destroy(test);
    clg_model_destroy(model);
    clg_context_destroy(ctx);
    return code;
}
