/* tools/clgrad/lecture.c: `clgrad lecture <experiment>`, one slide of the
 * lecture per experiment: the perceptron, LDA and QDA, logistic regression
 * on the student exam, universal approximation and vanishing gradients.
 * Each prints the slide's numbers and, with --plot DIR, draws its picture
 * through plot.h. The models run in the library (zoo.h); this file makes
 * the seeded toy data, prints and draws. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lecture/lecture.h"
#include "plot.h"

static const char lecture_usage[] =
    "usage: clgrad lecture <experiment> [options]\n"
    "\n"
    "Reproduces a slide of the lecture on the OpenCL device:\n"
    "  perceptron  Rosenblatt's rule on 2-D data separated by a known line:\n"
    "              updates and epochs to convergence against Novikoff's bound\n"
    "              (R/gamma)^2; --flip P makes it non-separable\n"
    "  lda, qda    linear / quadratic discriminant analysis of two Gaussian\n"
    "              classes: means, the boundary, training accuracy\n"
    "  exam        logistic regression on the synthetic student exam (hours\n"
    "              studied, hours slept): the recovered boundary by gradient\n"
    "              descent and by mini-batch SGD against the true one\n"
    "  approx      universal approximation: one hidden ReLU layer of 1, 2, 3, 6\n"
    "              and 13 units fitted to sin(2x) + 0.3 x^2 on [-2, 2]\n"
    "  vanishing   per-layer gradient spread of a deep MLP with sigmoid, tanh,\n"
    "              relu and leaky_relu, at initialisation and after training\n"
    "\n"
    "options:\n"
    "  --plot DIR    write the pictures (PNG) into DIR (created if missing)\n"
    "  --seed S      seed of the data and the initial weights (default 1)\n"
    "  --n N         number of samples (perceptron 100, lda/qda 200 per\n"
    "                class, exam 1000)\n"
    "  --epochs N    perceptron: epoch limit (default 1000); exam: SGD epochs\n"
    "                (default 40; gradient descent takes 500 steps)\n"
    "  --flip P      perceptron: flip each label with probability P (default 0)\n"
    "  --batch N     exam: SGD mini-batch (default 32)\n"
    "  --steps N     approx: Adam steps per width (default 3000); vanishing:\n"
    "                SGD steps before the second snapshot (default 100)\n"
    "  --layers N    vanishing: linear layers (default 10)\n"
    "  --width N     vanishing: units per layer (default 64)\n"
    "  -h, --help    this help\n";

typedef struct lecture_options {
    const char *plot_dir;
    uint64_t seed;
    int64_t n; /* 0: the experiment's default */
    int64_t epochs;
    int64_t batch;
    int64_t steps;
    int64_t layers;
    int64_t width;
    float flip;
} lecture_options;

/* ---- seeded toy data (splitmix64; the library's generator is private) ---- */

static double next_uniform(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-53;
}

static double next_normal(uint64_t *state)
{
    double u1 = 1.0 - next_uniform(state), u2 = next_uniform(state);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static bool plot_file(const char *dir, const char *name, char *path, size_t size)
{
    if (!plot_make_dir(dir) || !plot_path(path, size, dir, name)) {
        cli_error("--plot: %s", *plot_error() ? plot_error() : "folder name too long");
        return false;
    }
    return true;
}

static bool plot_done(bool ok, const char *path)
{
    if (!ok)
        cli_error("--plot: %s", plot_error());
    else
        printf("wrote %s\n", path);
    return ok;
}

/* The decision field of a linear score w0 + w1 x + w2 y over a rectangle. */
static void linear_field(const float *w, plot_grid *grid, float *values)
{
    for (int j = 0; j < grid->ny; j++)
        for (int i = 0; i < grid->nx; i++) {
            double x = grid->x0 + (grid->x1 - grid->x0) * i / (grid->nx - 1);
            double y = grid->y0 + (grid->y1 - grid->y0) * j / (grid->ny - 1);
            values[j * grid->nx + i] = (float)(w[0] + w[1] * x + w[2] * y);
        }
    grid->value = values;
}

#define GRID 101

/* ---- perceptron ---- */

static int run_perceptron(clg_context *ctx, const lecture_options *o)
{
    int64_t n = o->n ? o->n : 100;
    int max_epochs = o->epochs ? (int)o->epochs : 1000;
    /* The separator u: 0.2 + x - 0.8 y = 0; points closer than 0.05 to it
     * are redrawn, so the margin is known. */
    const double u[3] = {0.2, 1.0, -0.8};
    double norm = sqrt(u[0] * u[0] + u[1] * u[1] + u[2] * u[2]);
    float *x = malloc((size_t)(2 * n) * sizeof *x), *px = malloc((size_t)n * sizeof *px),
          *py = malloc((size_t)n * sizeof *py);
    int32_t *t = malloc((size_t)n * sizeof *t), *cls = malloc((size_t)n * sizeof *cls);
    if (!x || !px || !py || !t || !cls) {
        cli_error("out of host memory");
        return CLI_EXIT_FAILURE;
    }
    uint64_t state = o->seed;
    double r2 = 0.0, gamma = INFINITY;
    int64_t flipped = 0;
    for (int64_t i = 0; i < n;) {
        double a = 2.0 * next_uniform(&state) - 1.0, b = 2.0 * next_uniform(&state) - 1.0;
        double score = (u[0] + u[1] * a + u[2] * b) / norm;
        if (fabs(score) < 0.05)
            continue;
        x[2 * i] = px[i] = (float)a;
        x[2 * i + 1] = py[i] = (float)b;
        t[i] = score > 0 ? 1 : -1;
        r2 = fmax(r2, 1.0 + a * a + b * b);
        gamma = fmin(gamma, fabs(score));
        if (o->flip > 0 && next_uniform(&state) < o->flip) {
            t[i] = -t[i];
            flipped++;
        }
        cls[i] = t[i] > 0;
        i++;
    }
    float w[3];
    lecture_perceptron_result r;
    if (lecture_perceptron_train(ctx, x, t, n, 2, 1.0f, max_epochs, w, &r) != CLG_STATUS_OK)
        return cli_context_error(ctx);
    printf("perceptron: %lld points in [-1, 1]^2, t = sign(%.1f + %.1f x1 %+.1f x2)", (long long)n,
           u[0], u[1], u[2]);
    if (flipped)
        printf(", %lld labels flipped (not separable)", (long long)flipped);
    printf(
        "\n  R = max |(1, x)| = %.3f, margin gamma = %.4f, Novikoff bound (R/gamma)^2 = %.0f%s\n",
        sqrt(r2), gamma, r2 / (gamma * gamma), flipped ? " (holds only when separable)" : "");
    if (r.converged)
        printf("  converged: %lld update%s in %d epoch%s (the last one without a mistake)\n",
               (long long)r.updates, cli_plural(r.updates), r.epochs, cli_plural(r.epochs));
    else
        printf("  not converged: stopped at the limit of %d epoch%s with %lld mistake%s in the "
               "last epoch (%lld update%s in all)\n",
               r.epochs, cli_plural(r.epochs), (long long)r.last_mistakes,
               cli_plural(r.last_mistakes), (long long)r.updates, cli_plural(r.updates));
    printf("  weights: w0 = %.3f, w1 = %.3f, w2 = %.3f\n", w[0], w[1], w[2]);
    int code = 0;
    if (o->plot_dir) {
        char path[4096], note[160];
        float values[GRID * GRID];
        plot_grid grid = {NULL, GRID, GRID, -1.1, 1.1, -1.1, 1.1};
        linear_field(w, &grid, values);
        snprintf(note, sizeof note, "%s: %lld update%s, %d epoch%s",
                 r.converged ? "converged" : "not converged", (long long)r.updates,
                 cli_plural(r.updates), r.epochs, cli_plural(r.epochs));
        plot_line separator = {"true separator", u[1], u[2], -u[0], -1};
        plot_axes axes = {.title = "Perceptron (Rosenblatt's rule)",
                          .xlabel = "x1",
                          .ylabel = "x2",
                          .note = note,
                          .lines = &separator,
                          .line_count = 1,
                          .field_label = "score w0 + w1 x1 + w2 x2"};
        static const char *const names[2] = {"t = -1", "t = +1"};
        if (!plot_file(o->plot_dir, "perceptron.png", path, sizeof path) ||
            !plot_done(plot_decision(path, &axes, px, py, cls, n, names, &grid, 0.0f), path))
            code = CLI_EXIT_FAILURE;
    }
    free(x);
    free(px);
    free(py);
    free(t);
    free(cls);
    return code;
}

/* ---- LDA and QDA ---- */

static int run_discriminant(clg_context *ctx, const lecture_options *o, bool quadratic)
{
    int64_t per_class = o->n ? o->n : 200, n = 2 * per_class;
    /* Class 0 ~ N((0, 0), S0), class 1 ~ N((2, 1), S1); S0 = S1 for LDA. */
    const double mean[2][2] = {{0.0, 0.0}, {2.0, 1.0}};
    const double chol[2][3] = {
        {1.0, 0.4, 0.6}, {quadratic ? 0.5 : 1.0, quadratic ? -0.6 : 0.4, quadratic ? 1.4 : 0.6}};
    float *x = malloc((size_t)(2 * n) * sizeof *x), *px = malloc((size_t)n * sizeof *px),
          *py = malloc((size_t)n * sizeof *py);
    int32_t *y = malloc((size_t)n * sizeof *y), *pred = malloc((size_t)n * sizeof *pred);
    float *gx = malloc((size_t)(2 * GRID * GRID) * sizeof *gx);
    float *field = malloc((size_t)(GRID * GRID) * sizeof *field);
    if (!x || !px || !py || !y || !pred || !gx || !field) {
        cli_error("out of host memory");
        return CLI_EXIT_FAILURE;
    }
    uint64_t state = o->seed;
    for (int64_t i = 0; i < n; i++) {
        int k = (int)(i % 2);
        double z0 = next_normal(&state), z1 = next_normal(&state);
        /* x = mean + L z with L lower triangular (l00, l10, l11). */
        px[i] = x[2 * i] = (float)(mean[k][0] + chol[k][0] * z0);
        py[i] = x[2 * i + 1] = (float)(mean[k][1] + chol[k][1] * z0 + chol[k][2] * z1);
        y[i] = k;
    }
    const char *name = quadratic ? "QDA" : "LDA";
    lecture_discriminant *model = lecture_discriminant_fit(ctx, x, y, n, 2, quadratic);
    if (!model || lecture_discriminant_predict(model, x, n, NULL, NULL, pred) != CLG_STATUS_OK)
        return cli_context_error(ctx);
    int64_t correct = 0;
    for (int64_t i = 0; i < n; i++)
        correct += pred[i] == y[i];
    float means[4];
    lecture_discriminant_means(model, means);
    printf("%s: %lld points per class, class 0 ~ N((0, 0), S0), class 1 ~ N((2, 1), S1)%s\n", name,
           (long long)per_class, quadratic ? "" : ", S0 = S1");
    printf("  estimated means: mu0 = (%.3f, %.3f), mu1 = (%.3f, %.3f)\n", means[0], means[1],
           means[2], means[3]);
    if (!quadratic) {
        float w[2], b;
        lecture_discriminant_linear(model, w, &b);
        printf("  P(t=1|x) = sigmoid(w.x + b): w = (%.3f, %.3f), b = %.3f\n", w[0], w[1], b);
    } else {
        printf("  P(t=1|x) = sigmoid of a quadratic score (one covariance per class)\n");
    }
    printf("  training accuracy %.2f%%\n", 100.0 * (double)correct / (double)n);
    int code = 0;
    if (o->plot_dir) {
        /* The data's box with a margin, so every point lies on the field. */
        float lo[2] = {px[0], py[0]}, hi[2] = {px[0], py[0]};
        for (int64_t i = 1; i < n; i++) {
            lo[0] = fminf(lo[0], px[i]);
            hi[0] = fmaxf(hi[0], px[i]);
            lo[1] = fminf(lo[1], py[i]);
            hi[1] = fmaxf(hi[1], py[i]);
        }
        plot_grid grid = {field, GRID, GRID, lo[0] - 0.5, hi[0] + 0.5, lo[1] - 0.5, hi[1] + 0.5};
        for (int j = 0; j < GRID; j++)
            for (int i = 0; i < GRID; i++) {
                gx[2 * (j * GRID + i)] = (float)(grid.x0 + (grid.x1 - grid.x0) * i / (GRID - 1));
                gx[2 * (j * GRID + i) + 1] =
                    (float)(grid.y0 + (grid.y1 - grid.y0) * j / (GRID - 1));
            }
        if (lecture_discriminant_predict(model, gx, GRID * GRID, NULL, field, NULL) !=
            CLG_STATUS_OK) {
            lecture_discriminant_destroy(model);
            return cli_context_error(ctx);
        }
        char path[4096], note[96], title[64], file[16];
        snprintf(note, sizeof note, "P(t = 1 | x) shaded, boundary at 0.5; accuracy %.1f%%",
                 100.0 * (double)correct / (double)n);
        snprintf(title, sizeof title, "%s",
                 quadratic ? "Quadratic discriminant analysis" : "Linear discriminant analysis");
        snprintf(file, sizeof file, "%s.png", quadratic ? "qda" : "lda");
        plot_axes axes = {.title = title, .xlabel = "x1", .ylabel = "x2", .note = note};
        static const char *const names[2] = {"class 0", "class 1"};
        if (!plot_file(o->plot_dir, file, path, sizeof path) ||
            !plot_done(plot_decision(path, &axes, px, py, y, n, names, &grid, 0.5f), path))
            code = CLI_EXIT_FAILURE;
    }
    lecture_discriminant_destroy(model);
    free(x);
    free(px);
    free(py);
    free(y);
    free(pred);
    free(gx);
    free(field);
    return code;
}

/* ---- logistic regression on the student exam ---- */

/* Where the boundary w0 + w1 studied + w2 slept = 0 crosses slept = 0 and
 * studied = 0, for printing. */
static void print_boundary(const char *label, const float *w, float loss, double accuracy)
{
    printf("  %-22s w0 = %7.3f  w1 = %6.3f  w2 = %6.3f   boundary: studied = %.2f - %.2f slept",
           label, w[0], w[1], w[2], -w[0] / w[1], w[2] / w[1]);
    if (!isnan(loss))
        printf("   loss %.4f  accuracy %.1f%%", loss, 100.0 * accuracy);
    printf("\n");
}

static int run_exam(clg_context *ctx, const lecture_options *o)
{
    int64_t n = o->n ? o->n : 1000;
    float *x = malloc((size_t)(2 * n) * sizeof *x), *px = malloc((size_t)n * sizeof *px),
          *py = malloc((size_t)n * sizeof *py);
    int32_t *t = malloc((size_t)n * sizeof *t);
    if (!x || !px || !py || !t) {
        cli_error("out of host memory");
        return CLI_EXIT_FAILURE;
    }
    const float truth[3] = {LECTURE_EXAM_TRUE_W0, LECTURE_EXAM_TRUE_W1, LECTURE_EXAM_TRUE_W2};
    if (lecture_exam_generate(ctx, n, NULL, o->seed, x, t) != CLG_STATUS_OK)
        return cli_context_error(ctx);
    int64_t passed = 0;
    for (int64_t i = 0; i < n; i++) {
        px[i] = x[2 * i];
        py[i] = x[2 * i + 1];
        passed += t[i];
    }
    lecture_logistic_options gd = lecture_logistic_options_default();
    gd.seed = o->seed;
    lecture_logistic_options sgd = gd;
    sgd.batch = o->batch ? o->batch : 32;
    sgd.epochs = o->epochs ? (int)o->epochs : 40;
    sgd.lr = 0.1f;
    if (sgd.batch > n) {
        cli_error("lecture exam: --batch %lld is larger than --n %lld", (long long)sgd.batch,
                  (long long)n);
        return CLI_EXIT_USAGE;
    }
    float w_gd[3], w_sgd[3], loss_gd, loss_sgd;
    double acc_gd, acc_sgd;
    if (lecture_logistic_fit(ctx, x, t, n, 2, &gd, w_gd, &loss_gd, &acc_gd) != CLG_STATUS_OK ||
        lecture_logistic_fit(ctx, x, t, n, 2, &sgd, w_sgd, &loss_sgd, &acc_sgd) != CLG_STATUS_OK)
        return cli_context_error(ctx);
    printf("student exam (synthetic): %lld students, hours studied and slept in [0, 10), %lld "
           "passed\n",
           (long long)n, (long long)passed);
    printf("  p(passed) = sigmoid(w0 + w1 studied + w2 slept)\n");
    print_boundary("true", truth, NAN, 0.0);
    char label[64];
    snprintf(label, sizeof label, "GD (%d step%s)", gd.epochs, cli_plural(gd.epochs));
    print_boundary(label, w_gd, loss_gd, acc_gd);
    snprintf(label, sizeof label, "SGD (batch %lld, %d ep)", (long long)sgd.batch, sgd.epochs);
    print_boundary(label, w_sgd, loss_sgd, acc_sgd);
    int code = 0;
    for (int k = 0; o->plot_dir && k < 2 && code == 0; k++) {
        const float *w = k == 0 ? w_gd : w_sgd;
        float values[GRID * GRID];
        plot_grid grid = {NULL, GRID, GRID, 0.0, 10.0, 0.0, 10.0};
        linear_field(w, &grid, values);
        for (int i = 0; i < GRID * GRID; i++)
            values[i] = 1.0f / (1.0f + expf(-values[i])); /* p(passed), shaded */
        char path[4096], note[160];
        snprintf(note, sizeof note,
                 "recovered boundary: studied = %.2f - %.2f slept (true: %.2f - %.2f slept)",
                 -w[0] / w[1], w[2] / w[1], -truth[0] / truth[1], truth[2] / truth[1]);
        plot_line true_boundary = {"true boundary", truth[1], truth[2], -truth[0], -1};
        plot_axes axes = {.title = k == 0 ? "Student exam: logistic regression by gradient descent"
                                          : "Student exam: logistic regression by mini-batch SGD",
                          .xlabel = "hours studied",
                          .ylabel = "hours slept",
                          .note = note,
                          .lines = &true_boundary,
                          .line_count = 1,
                          .field_label = "P(passed | x)"};
        static const char *const names[2] = {"failed", "passed"};
        if (!plot_file(o->plot_dir, k == 0 ? "exam-gd.png" : "exam-sgd.png", path, sizeof path) ||
            !plot_done(plot_decision(path, &axes, px, py, t, n, names, &grid, 0.5f), path))
            code = CLI_EXIT_FAILURE;
    }
    free(x);
    free(px);
    free(py);
    free(t);
    return code;
}

/* ---- universal approximation ---- */

static int run_approx(clg_context *ctx, const lecture_options *o)
{
    enum { N = 200, WIDTHS = 5 };
    static const int64_t widths[WIDTHS] = {1, 2, 3, 6, 13};
    int steps = o->steps ? (int)o->steps : 3000;
    double x[N], y[N], fits[WIDTHS][N];
    float xf[N], yf[N], fitted[N], mse[WIDTHS];
    for (int i = 0; i < N; i++) {
        x[i] = -2.0 + 4.0 * i / (N - 1);
        xf[i] = (float)x[i];
        yf[i] = sinf(2.0f * xf[i]) + 0.3f * xf[i] * xf[i];
        y[i] = yf[i];
    }
    printf("universal approximation: f(x) = sin(2x) + 0.3 x^2 on [-2, 2], %d points,\n"
           "  one hidden ReLU layer, %d full-batch Adam steps per width\n",
           N, steps);
    for (int k = 0; k < WIDTHS; k++) {
        if (lecture_approx_fit(ctx, xf, yf, N, widths[k], steps, 0.02f, o->seed, fitted, &mse[k]) !=
            CLG_STATUS_OK)
            return cli_context_error(ctx);
        for (int i = 0; i < N; i++)
            fits[k][i] = fitted[i];
        printf("  %2lld unit%s  mean squared error %.5f\n", (long long)widths[k],
               widths[k] == 1 ? " " : "s", (double)mse[k]);
    }
    if (!o->plot_dir)
        return 0;
    plot_series series[WIDTHS + 1];
    char labels[WIDTHS][32];
    series[0] = (plot_series){"target", x, y, N, 1};
    for (int k = 0; k < WIDTHS; k++) {
        snprintf(labels[k], sizeof labels[k], "%lld unit%s", (long long)widths[k],
                 widths[k] == 1 ? "" : "s");
        series[k + 1] = (plot_series){labels[k], x, fits[k], N, 0};
    }
    char path[4096];
    plot_axes axes = {.title = "Universal approximation: one hidden ReLU layer",
                      .xlabel = "x",
                      .ylabel = "f(x)",
                      .note = "sin(2x) + 0.3 x^2 (dashed) and the fits"};
    if (!plot_file(o->plot_dir, "approx.png", path, sizeof path) ||
        !plot_done(plot_lines(path, &axes, series, WIDTHS + 1), path))
        return CLI_EXIT_FAILURE;
    return 0;
}

/* ---- vanishing gradients ---- */

static double spread(const float *g, int64_t n)
{
    double s = 0.0;
    for (int64_t i = 0; i < n; i++)
        s += (double)g[i] * g[i];
    return sqrt(s / (double)n);
}

/* vanishing-<activation>-{init,trained}.png: one panel per layer (all of
 * them, the output layer last) of log10 |d loss / d W|. Across ten layers the
 * gradients span orders of magnitude, so a linear axis shows the widest layer
 * and a spike for the rest; the log shows each layer's spread. Exact zeros
 * (dead ReLUs) have no logarithm: the panel's label counts them. */
static bool vanishing_plots(const char *dir, const lecture_vanishing_options *v, const char *act,
                            float *const g[2], int64_t total)
{
    enum { MAX_PANELS = 64 };
    float *logs = malloc((size_t)total * sizeof *logs);
    if (!logs) {
        cli_error("out of host memory");
        return false;
    }
    plot_values sets[MAX_PANELS];
    char labels[MAX_PANELS][64];
    int layers = v->layers < MAX_PANELS ? v->layers : MAX_PANELS;
    bool ok = true;
    for (int phase = 0; phase < 2 && ok; phase++) {
        int64_t off = 0;
        for (int l = 0; l < layers; l++) {
            int64_t size = lecture_vanishing_layer_size(v, l), zeros = 0;
            for (int64_t i = 0; i < size; i++) {
                float x = fabsf(g[phase][off + i]);
                zeros += x == 0.0f;
                logs[off + i] = x > 0.0f ? log10f(x) : NAN; /* NaN: skipped */
            }
            const char *output = l == v->layers - 1 ? ", output" : "";
            double rms = spread(g[phase] + off, size);
            double percent = 100.0 * (double)zeros / (double)size;
            if (zeros)
                snprintf(labels[l], sizeof labels[l], "layer %d%s (rms %.1e, %.*f%% exactly 0)",
                         l + 1, output, rms, percent < 10 ? 1 : 0, percent);
            else
                snprintf(labels[l], sizeof labels[l], "layer %d%s (rms %.1e)", l + 1, output, rms);
            sets[l] = (plot_values){labels[l], logs + off, size};
            off += size;
        }
        char file[64], title[96], path[4096];
        snprintf(file, sizeof file, "vanishing-%s-%s.png", act, phase == 0 ? "init" : "trained");
        snprintf(title, sizeof title, "Back-propagated gradients d loss / d W, %s, %s", act,
                 phase == 0 ? "at initialisation" : "after training");
        plot_axes axes = {.title = title,
                          .xlabel = "log10 |d loss / d W|",
                          .ylabel = "fraction",
                          .note = "every layer, input side first; fractions of the layer's "
                                  "nonzero gradients"};
        ok = plot_file(dir, file, path, sizeof path) &&
             plot_done(plot_histograms(path, &axes, sets, layers, 60, true, PLOT_PANELS), path);
    }
    free(logs);
    return ok;
}

static int run_vanishing(clg_context *ctx, const lecture_options *o)
{
    static const char *const acts[] = {"sigmoid", "tanh", "relu", "leaky_relu"};
    lecture_vanishing_options v = lecture_vanishing_options_default();
    v.seed = o->seed;
    if (o->layers)
        v.layers = (int)o->layers;
    if (o->width)
        v.width = o->width;
    if (o->steps)
        v.steps = (int)o->steps;
    int64_t total = 0;
    for (int l = 0; l < v.layers; l++)
        total += lecture_vanishing_layer_size(&v, l);
    float *g[2] = {malloc((size_t)total * sizeof(float)), malloc((size_t)total * sizeof(float))};
    if (!g[0] || !g[1]) {
        cli_error("out of host memory");
        return CLI_EXIT_FAILURE;
    }
    printf("vanishing gradients: %d linear layers of width %lld, He-normal initialisation for\n"
           "  every activation, batch %lld; rms of d loss / d W per layer (layer 1 = input side)\n",
           v.layers, (long long)v.width, (long long)v.batch);
    int code = 0;
    for (int a = 0; a < 4 && code == 0; a++) {
        v.activation = acts[a];
        float loss;
        if (lecture_vanishing_run(ctx, &v, g[0], g[1], &loss) != CLG_STATUS_OK)
            return cli_context_error(ctx);
        for (int phase = 0; phase < 2; phase++) {
            printf("  %-10s %-14s", acts[a], phase == 0 ? "at init" : "after training");
            int64_t off = 0;
            double first = 0.0, last = 0.0;
            for (int l = 0; l < v.layers; l++) {
                int64_t size = lecture_vanishing_layer_size(&v, l);
                double s = spread(g[phase] + off, size);
                if (l == 0)
                    first = s;
                last = s;
                printf(" %8.1e", s);
                off += size;
            }
            printf("   first/last %.1e\n", first / last);
        }
        if (o->plot_dir && !vanishing_plots(o->plot_dir, &v, acts[a], g, total))
            code = CLI_EXIT_FAILURE;
    }
    free(g[0]);
    free(g[1]);
    return code;
}

/* ---- the command ---- */

int cli_lecture(int argc, char **argv)
{
    static const char *const valued[] = {"--plot",  "--seed",  "--n",      "--epochs", "--flip",
                                         "--batch", "--steps", "--layers", "--width",  NULL};
    static const char *const experiments[] = {"perceptron", "lda",       "qda", "exam",
                                              "approx",     "vanishing", NULL};
    const char *experiment = NULL;
    lecture_options o = {.seed = 1};
    cli_args args;
    cli_args_init(&args, "lecture", argc, argv, valued, NULL);
    int exit_code;
    while (cli_args_option(&args, lecture_usage, &experiment, &exit_code)) {
        const char *name = args.name, *value = args.value;
        bool ok = true;
        if (strcmp(name, "--plot") == 0)
            o.plot_dir = value;
        else if (strcmp(name, "--seed") == 0)
            ok = cli_parse_u64(name, value, &o.seed);
        else if (strcmp(name, "--n") == 0)
            ok = cli_parse_int(name, value, 4, 1000000, &o.n);
        else if (strcmp(name, "--epochs") == 0)
            ok = cli_parse_int(name, value, 1, 1000000, &o.epochs);
        else if (strcmp(name, "--batch") == 0)
            ok = cli_parse_int(name, value, 1, 1000000, &o.batch);
        else if (strcmp(name, "--steps") == 0)
            ok = cli_parse_int(name, value, 1, 1000000, &o.steps);
        else if (strcmp(name, "--layers") == 0)
            ok = cli_parse_int(name, value, 2, 64, &o.layers);
        else if (strcmp(name, "--width") == 0)
            ok = cli_parse_int(name, value, 1, 4096, &o.width);
        else
            ok = cli_parse_float(name, value, 0.0, 0.5, &o.flip);
        if (!ok)
            return CLI_EXIT_USAGE;
    }
    if (exit_code >= 0)
        return exit_code;
    int which = -1;
    for (int i = 0; experiment && experiments[i]; i++)
        if (strcmp(experiment, experiments[i]) == 0)
            which = i;
    if (which < 0) {
        cli_error("lecture: %s%s%s (experiments: perceptron, lda, qda, exam, approx, vanishing; "
                  "see clgrad lecture --help)",
                  experiment ? "unknown experiment \"" : "which experiment?",
                  experiment ? experiment : "", experiment ? "\"" : "");
        return CLI_EXIT_USAGE;
    }
    clg_context *ctx = NULL;
    if (clg_context_create(NULL, &ctx) != CLG_STATUS_OK) {
        int code = cli_context_error(ctx);
        clg_context_destroy(ctx);
        return code;
    }
    int code;
    switch (which) {
    case 0: code = run_perceptron(ctx, &o); break;
    case 1:
    case 2: code = run_discriminant(ctx, &o, which == 2); break;
    case 3: code = run_exam(ctx, &o); break;
    case 4: code = run_approx(ctx, &o); break;
    default: code = run_vanishing(ctx, &o); break;
    }
    clg_context_destroy(ctx);
    return code;
}
