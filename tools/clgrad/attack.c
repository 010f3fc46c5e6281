/* tools/clgrad/attack.c: `clgrad attack fgsm`, the lecture's adversarial
 * examples: clean versus adversarial test accuracy per eps (the attack is
 * clg_fgsm_evaluate, on the device), and with --out a PNG grid through libpng
 * of a few originals, their perturbations and the adversarial images, each
 * with its predicted class drawn underneath (a 3x5 digit on a green strip
 * when right, red when wrong; no font library needed). */
#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

#define MAX_EPS 16
#define GRID_ROWS 8
#define SCALE 2           /* each pixel drawn as SCALE x SCALE */
#define CELL (28 * SCALE) /* an image's side in the grid */
#define STRIP (7 * SCALE) /* the label strip under it */
#define GAP 4

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
    "                  and the adversarial image; under each its predicted class\n"
    "                  (0-9, see below) on green when right, red when wrong\n"
    "  -h, --help      this help\n";

/* "0.05,0.1" -> {0.05, 0.1} */
static bool parse_eps(const char *text, float *eps, int *n)
{
    *n = 0;
    const char *c = text;
    for (;;) {
        char *end = NULL;
        errno = 0;
        float v = strtof(c, &end);
        if (end == c || errno != 0 || !(v >= 0.0f && v <= 1.0f) || (*end != ',' && *end)) {
            cli_error("--eps: \"%s\" is not a list of numbers in [0, 1] such as 0.05,0.1,0.2",
                      text);
            return false;
        }
        if (*n == MAX_EPS) {
            cli_error("--eps: at most %d values", MAX_EPS);
            return false;
        }
        eps[(*n)++] = v;
        if (!*end)
            return true;
        c = end + 1;
    }
}

/* 3x5 digits, one row of three bits per entry, top row first. */
static const unsigned char digits[10][5] = {
    {7, 5, 5, 5, 7}, {2, 6, 2, 2, 7}, {7, 1, 7, 4, 7}, {7, 1, 7, 1, 7}, {5, 5, 7, 1, 1},
    {7, 4, 7, 1, 7}, {7, 4, 7, 5, 7}, {7, 1, 2, 2, 2}, {7, 5, 7, 5, 7}, {7, 5, 7, 1, 1}};

typedef struct canvas {
    int width, height;
    unsigned char *rgb;
} canvas;

static void put(canvas *c, int x, int y, unsigned char r, unsigned char g, unsigned char b)
{
    unsigned char *p = c->rgb + ((size_t)y * (size_t)c->width + (size_t)x) * 3;
    p[0] = r;
    p[1] = g;
    p[2] = b;
}

/* A 28x28 image of values in [0, 1] at (x0, y0), and under it the strip. */
static void draw_cell(canvas *c, int x0, int y0, const float *image, int label, bool right)
{
    for (int y = 0; y < CELL; y++)
        for (int x = 0; x < CELL; x++) {
            float v = image[(y / SCALE) * 28 + x / SCALE];
            unsigned char g = (unsigned char)(255.0f * (v < 0 ? 0 : v > 1 ? 1 : v) + 0.5f);
            put(c, x0 + x, y0 + y, g, g, g);
        }
    if (label < 0)
        return;
    for (int y = 0; y < STRIP; y++)
        for (int x = 0; x < CELL; x++)
            put(c, x0 + x, y0 + CELL + y, right ? 0 : 200, right ? 150 : 0, 0);
    for (int row = 0; row < 5; row++)
        for (int col = 0; col < 3; col++)
            if (digits[label][row] & (4 >> col))
                for (int dy = 0; dy < SCALE; dy++)
                    for (int dx = 0; dx < SCALE; dx++)
                        put(c, x0 + CELL / 2 - 3 * SCALE / 2 + col * SCALE + dx,
                            y0 + CELL + SCALE + row * SCALE + dy, 255, 255, 255);
}

static bool write_png(const char *path, const canvas *c)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        cli_error("%s: %s", path, strerror(errno));
        return false;
    }
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(f);
        cli_error("%s: libpng could not write the image", path);
        return false;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)c->width, (png_uint_32)c->height, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < c->height; y++)
        png_write_row(png, c->rgb + (size_t)y * (size_t)c->width * 3);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return fclose(f) == 0;
}

/* The grid for the first GRID_ROWS test images: columns original, then per
 * eps perturbation and adversarial image. */
static bool write_grid(clg_context *ctx, clg_model *model, const clg_dataset *test,
                       const float *eps, int n_eps, const char *dir)
{
    enum { N = GRID_ROWS };
    const float *x = clg_dataset_images(test);
    const int32_t *labels = clg_dataset_labels(test);
    int32_t clean[N], *adv_pred = malloc((size_t)(N * n_eps) * sizeof *adv_pred);
    float *adv = malloc((size_t)(N * n_eps * 784) * sizeof *adv);
    int columns = 1 + 2 * n_eps;
    canvas c = {columns * (CELL + GAP) + GAP, N * (CELL + STRIP + GAP) + GAP, NULL};
    c.rgb = malloc((size_t)c.width * (size_t)c.height * 3);
    bool ok = adv_pred && adv && c.rgb;
    if (!ok)
        cli_error("out of host memory for the grid");
    if (ok &&
        clg_fgsm_batch(model, x, labels, N, eps, n_eps, clean, adv_pred, adv) != CLG_STATUS_OK) {
        cli_context_error(ctx);
        ok = false;
    }
    char path[4096];
    if (ok) {
        memset(c.rgb, 255, (size_t)c.width * (size_t)c.height * 3);
        float perturbation[784];
        for (int i = 0; i < N; i++) {
            int y0 = GAP + i * (CELL + STRIP + GAP);
            draw_cell(&c, GAP, y0, x + i * 784, clean[i], clean[i] == labels[i]);
            for (int e = 0; e < n_eps; e++) {
                const float *a = adv + ((size_t)e * N + (size_t)i) * 784;
                for (int p = 0; p < 784; p++)
                    perturbation[p] =
                        eps[e] > 0 ? 0.5f + 0.5f * (a[p] - x[i * 784 + p]) / eps[e] : 0.5f;
                int pred = adv_pred[e * N + i];
                draw_cell(&c, GAP + (1 + 2 * e) * (CELL + GAP), y0, perturbation, -1, false);
                draw_cell(&c, GAP + (2 + 2 * e) * (CELL + GAP), y0, a, pred, pred == labels[i]);
            }
        }
        if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
            cli_error("--out %s: %s", dir, strerror(errno));
            ok = false;
        }
        snprintf(path, sizeof path, "%s/fgsm.png", dir);
        ok = ok && write_png(path, &c);
    }
    if (ok) {
        printf("grid of %d test images written to %s: columns original", N, path);
        for (int e = 0; e < n_eps; e++)
            printf(", perturbation and adversarial at eps %g", (double)eps[e]);
        printf("\nclasses:");
        for (int k = 0; k < 10; k++)
            printf(" %d %s%s", k, cli_class_names[k], k < 9 ? "," : "\n");
    }
    free(c.rgb);
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
    for (cli_arg_kind kind; (kind = cli_args_next(&args)) != CLI_ARG_END;) {
        if (kind == CLI_ARG_HELP) {
            fputs(attack_usage, stdout);
            return 0;
        }
        if (kind == CLI_ARG_ERROR)
            return CLI_EXIT_USAGE;
        if (kind == CLI_ARG_POSITIONAL) {
            if (method) {
                cli_error("attack: unexpected argument \"%s\" (see clgrad attack --help)",
                          args.value);
                return CLI_EXIT_USAGE;
            }
            method = args.value;
            continue;
        }
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
    test = clg_dataset_load_mnist(ctx, data, false);
    if (!test)
        goto fail;
    printf("fgsm on model %s %s from %s, %s\n", clg_model_kind(model), clg_model_arch(model), load,
           clg_context_device_name(ctx));
    double clean = 0.0, adv[MAX_EPS];
    if (clg_fgsm_evaluate(model, test, count, 500, eps, n_eps, &clean, adv) != CLG_STATUS_OK)
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
