/* tests/tools/test_plot.c: the command line's pictures (tools/clgrad/plot.c).
 * Each chart is read back with cairo and checked where its data must show:
 * the size, the series' colour along its row, the class tints either side of
 * a decision boundary, the exact grey values of an image grid; and the
 * failure paths (a missing folder, bad arguments) name the file and leave no
 * "<path>.tmp" behind. No OpenCL here. */
#include <cairo.h>
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plot.h"

static char folder[64];
static char path_buffer[256];

static void make_folder(void)
{
    strcpy(folder, "/tmp/clgrad-test-plot-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(folder));
}

static void remove_folder(void)
{
    /* Only the few names the tests write. */
    static const char *const names[] = {"a.png", "b.png", "c.png", "d.png", "e.png",
                                        "f.png", "g.png", "sub",   NULL};
    char p[256];
    for (int i = 0; names[i]; i++) {
        snprintf(p, sizeof p, "%s/%s", folder, names[i]);
        remove(p);
    }
    rmdir(folder);
}

static const char *in_folder(const char *name)
{
    ck_assert(plot_path(path_buffer, sizeof path_buffer, folder, name));
    return path_buffer;
}

/* The PNG at `path`, asserting that it is whole, of the given size (or any
 * size when width is 0) and that no temporary file is left beside it. */
static cairo_surface_t *load(const char *path, int width, int height)
{
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    ck_assert_msg(access(tmp, F_OK) != 0, "%s left behind", tmp);
    cairo_surface_t *s = cairo_image_surface_create_from_png(path);
    ck_assert_msg(cairo_surface_status(s) == CAIRO_STATUS_SUCCESS, "%s: %s", path,
                  cairo_status_to_string(cairo_surface_status(s)));
    if (width) {
        ck_assert_int_eq(cairo_image_surface_get_width(s), width);
        ck_assert_int_eq(cairo_image_surface_get_height(s), height);
    }
    cairo_surface_flush(s);
    return s;
}

static void pixel(cairo_surface_t *s, int x, int y, int *r, int *g, int *b)
{
    const unsigned char *data = cairo_image_surface_get_data(s);
    uint32_t p =
        *(const uint32_t *)(const void *)(data +
                                          (size_t)y * (size_t)cairo_image_surface_get_stride(s) +
                                          (size_t)x * 4);
    *r = (int)(p >> 16 & 255);
    *g = (int)(p >> 8 & 255);
    *b = (int)(p & 255);
}

/* Close to matplotlib's tab10 blue (31, 119, 180), the first series' colour. */
static bool is_blue(cairo_surface_t *s, int x, int y)
{
    int r, g, b;
    pixel(s, x, y, &r, &g, &b);
    return abs(r - 31) < 40 && abs(g - 119) < 40 && abs(b - 180) < 40;
}

/* Pixels in the rectangle that are not (near) white. */
static int count_ink(cairo_surface_t *s, int x0, int y0, int x1, int y1)
{
    int n = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            int r, g, b;
            pixel(s, x, y, &r, &g, &b);
            n += r + g + b < 3 * 245;
        }
    return n;
}

static plot_axes axes_default(const char *title)
{
    plot_axes a = {.title = title, .xlabel = "epoch", .ylabel = "loss"};
    return a;
}

START_TEST(test_plot_path_joins)
{
    char out[16];
    ck_assert(plot_path(out, sizeof out, "dir", "a.png"));
    ck_assert_str_eq(out, "dir/a.png");
    ck_assert(plot_path(out, sizeof out, "dir/", "a.png"));
    ck_assert_str_eq(out, "dir/a.png");
    ck_assert(!plot_path(out, sizeof out, "a-long-folder", "name.png"));
}
END_TEST

START_TEST(test_plot_make_dir)
{
    make_folder();
    char sub[128];
    snprintf(sub, sizeof sub, "%s/sub", folder);
    ck_assert(plot_make_dir(sub));
    ck_assert(plot_make_dir(sub)); /* exists: fine */
    ck_assert_str_eq(plot_error(), "");
    char deep[160];
    snprintf(deep, sizeof deep, "%s/none/deeper", folder);
    ck_assert(!plot_make_dir(deep));
    ck_assert_msg(strstr(plot_error(), "none/deeper") != NULL, "%s", plot_error());
    remove_folder();
}
END_TEST

/* A flat series at y = 1 on a 0..2 axis: a blue line across the middle row
 * of the plot area, the same row at the left, centre and right. */
START_TEST(test_plot_lines_horizontal_series)
{
    make_folder();
    double y[10];
    for (int i = 0; i < 10; i++)
        y[i] = 1.0;
    plot_axes axes = axes_default("flat");
    axes.ymin = 0;
    axes.ymax = 2;
    axes.note = "a note";
    plot_series s = {"train", NULL, y, 10, PLOT_STYLE_SOLID};
    const char *path = in_folder("a.png");
    ck_assert_msg(plot_lines(path, &axes, &s, 1), "%s", plot_error());
    ck_assert_str_eq(plot_error(), "");
    cairo_surface_t *img = load(path, 800, 560);
    int row = -1;
    for (int yy = 0; yy < 560 && row < 0; yy++)
        if (is_blue(img, 400, yy))
            row = yy;
    ck_assert_msg(row > 100 && row < 460, "no blue line found in the middle column");
    for (int x = 200; x <= 700; x += 100) {
        bool found = false;
        for (int dy = 0; dy <= 2; dy++)
            found = found || is_blue(img, x, row + dy);
        ck_assert_msg(found, "line missing at x = %d, row %d", x, row);
    }
    /* nothing blue far above or below it */
    for (int yy = 60; yy < 500; yy++)
        if (abs(yy - row) > 4)
            ck_assert_msg(!is_blue(img, 400, yy), "stray blue at row %d", yy);
    /* title ink at the top */
    ck_assert_int_gt(count_ink(img, 300, 0, 500, 40), 20);
    cairo_surface_destroy(img);
    remove_folder();
}
END_TEST

/* NaN and infinities are skipped; a log axis skips values <= 0; dashed,
 * thin and marker styles and explicit x values draw. */
START_TEST(test_plot_lines_skips_non_finite)
{
    make_folder();
    double x[6] = {0, 1, 2, 3, 4, 5};
    double y[6] = {2.3, NAN, 0.9, INFINITY, 0.5, -1};
    double y2[6] = {2.0, 1.5, 1.0, 0.8, 0.7, 0.6};
    plot_series s[4] = {{"a", x, y, 6, PLOT_STYLE_SOLID},
                        {"b", x, y2, 6, PLOT_STYLE_DASHED},
                        {"c", NULL, y2, 6, PLOT_STYLE_MARKERS},
                        {"d", x, y2, 6, PLOT_STYLE_THIN}};
    plot_axes axes = axes_default("log");
    axes.log_y = true;
    const char *path = in_folder("b.png");
    ck_assert_msg(plot_lines(path, &axes, s, 4), "%s", plot_error());
    cairo_surface_t *img = load(path, 800, 560);
    int blue = 0;
    for (int yy = 0; yy < 560; yy++)
        for (int xx = 0; xx < 800; xx++)
            blue += is_blue(img, xx, yy);
    ck_assert_int_gt(blue, 10);
    cairo_surface_destroy(img);
    axes.log_y = false;
    ck_assert_msg(plot_lines(path, &axes, s, 4), "%s", plot_error());
    cairo_surface_destroy(load(path, 800, 560));
    remove_folder();
}
END_TEST

/* Pixels of the legend box's grey border (191, 191, 191) in the rectangle. */
static int count_legend_border(cairo_surface_t *s, int x0, int y0, int x1, int y1)
{
    int n = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            int r, g, b;
            pixel(s, x, y, &r, &g, &b);
            n += r == 191 && g == 191 && b == 191;
        }
    return n;
}

/* A ROC curve fills the top of the chart: the legend moves to the empty
 * bottom right. */
START_TEST(test_plot_lines_legend_avoids_data)
{
    make_folder();
    double x[101], y[101], diagonal[2] = {0, 1};
    for (int i = 0; i <= 100; i++) {
        x[i] = pow(i / 100.0, 3);
        y[i] = pow(i / 100.0, 0.15);
    }
    plot_series s[2] = {{"classifier", x, y, 101, PLOT_STYLE_SOLID},
                        {"chance", diagonal, diagonal, 2, PLOT_STYLE_DASHED}};
    plot_axes axes = {.title = "ROC",
                      .xlabel = "false positive rate",
                      .ylabel = "true positive rate",
                      .xmin = 0,
                      .xmax = 1,
                      .ymin = 0,
                      .ymax = 1,
                      .note = "AUC = 0.95"};
    const char *path = in_folder("a.png");
    ck_assert_msg(plot_lines(path, &axes, s, 2), "%s", plot_error());
    cairo_surface_t *img = load(path, 800, 560);
    ck_assert_int_eq(count_legend_border(img, 560, 70, 790, 200), 0);
    ck_assert_int_gt(count_legend_border(img, 560, 380, 790, 505), 100);
    cairo_surface_destroy(img);
    remove_folder();
}
END_TEST

/* Zero series and series of zero points give empty axes, not failures. */
START_TEST(test_plot_lines_empty)
{
    make_folder();
    plot_axes axes = axes_default("empty");
    const char *path = in_folder("c.png");
    ck_assert_msg(plot_lines(path, &axes, NULL, 0), "%s", plot_error());
    cairo_surface_destroy(load(path, 800, 560));
    plot_series s = {"none", NULL, NULL, 0, PLOT_STYLE_SOLID};
    ck_assert_msg(plot_lines(path, &axes, &s, 1), "%s", plot_error());
    cairo_surface_destroy(load(path, 800, 560));
    double nan = NAN;
    s.y = &nan;
    s.n = 1;
    ck_assert_msg(plot_lines(path, &axes, &s, 1), "%s", plot_error());
    cairo_surface_destroy(load(path, 800, 560));
    remove_folder();
}
END_TEST

/* A folder that does not exist: false, a message naming the file, nothing
 * written; a bad argument likewise. */
START_TEST(test_plot_missing_folder)
{
    make_folder();
    char path[160];
    snprintf(path, sizeof path, "%s/missing/roc.png", folder);
    double y[2] = {1, 2};
    plot_series s = {"a", NULL, y, 2, PLOT_STYLE_SOLID};
    plot_axes axes = axes_default("x");
    ck_assert(!plot_lines(path, &axes, &s, 1));
    ck_assert_msg(strstr(plot_error(), "roc.png: No such file or directory") != NULL, "%s",
                  plot_error());
    float v[3] = {1, 2, 3};
    plot_values set = {"v", v, 3};
    ck_assert(!plot_histograms(path, &axes, &set, 1, 10, false, PLOT_OVERLAY));
    ck_assert_msg(strstr(plot_error(), "roc.png") != NULL, "%s", plot_error());
    ck_assert(!plot_image_grid(path, NULL, v, 1, 1, 3, 1, 1, NULL));
    ck_assert_msg(strstr(plot_error(), "roc.png") != NULL, "%s", plot_error());
    ck_assert(!plot_decision(path, &axes, v, v, (int32_t[]){0, 1, 0}, 3, NULL, NULL, 0.5f));
    ck_assert_msg(strstr(plot_error(), "roc.png") != NULL, "%s", plot_error());
    char tmp[200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    ck_assert(access(tmp, F_OK) != 0);
    /* bad arguments */
    const char *good = in_folder("d.png");
    ck_assert(!plot_histograms(good, &axes, &set, 1, 0, false, PLOT_OVERLAY));
    ck_assert_msg(strstr(plot_error(), "d.png") != NULL, "%s", plot_error());
    ck_assert(!plot_image_grid(good, NULL, v, 1, 1, 3, 0, 1, NULL));
    ck_assert(access(good, F_OK) != 0);
    /* a success clears the message */
    ck_assert(plot_lines(good, &axes, &s, 1));
    ck_assert_str_eq(plot_error(), "");
    remove_folder();
}
END_TEST

/* Two overlaid sets of very different sizes, as densities, then the same as
 * stacked panels: one panel per set, ink in each. */
START_TEST(test_plot_histograms)
{
    make_folder();
    enum { N0 = 1000, N1 = 50 };
    float a[N0], b[N1 + 1];
    for (int i = 0; i < N0; i++)
        a[i] = (float)(i % 100) / 100.0f;
    for (int i = 0; i < N1; i++)
        b[i] = 0.5f + (float)i / 100.0f;
    b[N1] = NAN;
    plot_values sets[3] = {{"normal", a, N0}, {"fraud", b, N1 + 1}, {"empty", NULL, 0}};
    plot_axes axes = axes_default("scores");
    axes.xlabel = "score";
    axes.ylabel = "fraction";
    const char *path = in_folder("e.png");
    ck_assert_msg(plot_histograms(path, &axes, sets, 2, 20, true, PLOT_OVERLAY), "%s",
                  plot_error());
    cairo_surface_t *img = load(path, 800, 560);
    ck_assert_int_gt(count_ink(img, 90, 100, 770, 490), 20000);
    cairo_surface_destroy(img);

    ck_assert_msg(plot_histograms(path, &axes, sets, 3, 20, false, PLOT_PANELS), "%s",
                  plot_error());
    img = load(path, 0, 0);
    int height = cairo_image_surface_get_height(img);
    ck_assert_int_eq(cairo_image_surface_get_width(img), 800);
    ck_assert_int_gt(height, 3 * 150);
    /* the first two panels hold bars: many coloured pixels in their thirds */
    int third = height / 3;
    ck_assert_int_gt(count_ink(img, 90, 40, 770, third), 10000);
    ck_assert_int_gt(count_ink(img, 90, third, 770, 2 * third), 2000);
    cairo_surface_destroy(img);

    /* log counts, a fixed range, an empty call */
    axes.log_y = true;
    axes.xmin = -1;
    axes.xmax = 2;
    ck_assert_msg(plot_histograms(path, &axes, sets, 2, 30, false, PLOT_OVERLAY), "%s",
                  plot_error());
    cairo_surface_destroy(load(path, 800, 560));
    ck_assert_msg(plot_histograms(path, &axes, NULL, 0, 10, false, PLOT_PANELS), "%s",
                  plot_error());
    cairo_surface_destroy(load(path, 0, 0));
    remove_folder();
}
END_TEST

/* Two clusters split by the field p = sigmoid(4x) on [-2, 2]^2: blue tint on
 * the left, orange on the right, a dark boundary line down the middle. */
START_TEST(test_plot_decision_boundary)
{
    make_folder();
    enum { N = 40, G = 21 };
    float px[N], py[N];
    int32_t cls[N];
    for (int i = 0; i < N; i++) {
        cls[i] = i % 2;
        px[i] = (cls[i] ? 1.0f : -1.0f) + 0.3f * (float)((i * 7) % 5 - 2) / 2;
        py[i] = (float)((i * 3) % 9 - 4) / 3;
    }
    px[0] = NAN; /* skipped */
    float field[G * G];
    for (int j = 0; j < G; j++)
        for (int i = 0; i < G; i++) {
            double x = -2 + 4.0 * i / (G - 1);
            field[j * G + i] = (float)(1 / (1 + exp(-4 * x)));
        }
    plot_grid grid = {field, G, G, -2, 2, -2, 2};
    plot_axes axes = axes_default("moons");
    axes.xmin = -2;
    axes.xmax = 2;
    axes.ymin = -2;
    axes.ymax = 2;
    const char *const names[2] = {"class 0", "class 1"};
    const char *path = in_folder("f.png");
    ck_assert_msg(plot_decision(path, &axes, px, py, cls, N, names, &grid, 0.5f), "%s",
                  plot_error());
    cairo_surface_t *img = load(path, 800, 560);
    /* Plot area: x from 80 to 676 (the colour bar takes the 100 pixels to
     * the right), so x = 0 near 378. Sample tints at the lower quarter, away
     * from points (|y| <= 4/3). */
    int r, g, b, y = 470;
    pixel(img, 120, y, &r, &g, &b);
    ck_assert_msg(b > r + 20, "left not blue-tinted: %d %d %d", r, g, b);
    pixel(img, 640, y, &r, &g, &b);
    ck_assert_msg(r > b + 20, "right not orange-tinted: %d %d %d", r, g, b);
    int dark = 0;
    for (int x = 350; x < 410; x++) {
        pixel(img, x, y, &r, &g, &b);
        dark += r + g + b < 150;
    }
    ck_assert_msg(dark >= 1 && dark <= 6, "boundary line: %d dark pixels on the row", dark);
    /* The colour bar, 16 pixels wide from x = 696: orange (P = 1) at its top,
     * blue (P = 0) at its bottom, the level 0.5 marked dark half-way. */
    int top = -1, bottom = -1;
    for (int yy = 0; yy < 560; yy++) {
        pixel(img, 704, yy, &r, &g, &b);
        if (r + g + b < 3 * 120) { /* the bar's dark frame */
            top = top < 0 ? yy : top;
            bottom = yy;
        }
    }
    ck_assert_msg(top > 40 && bottom > top + 300, "no colour bar frame (%d to %d)", top, bottom);
    pixel(img, 704, top + 4, &r, &g, &b);
    ck_assert_msg(r > b + 40, "colour bar top not orange: %d %d %d", r, g, b);
    pixel(img, 704, bottom - 4, &r, &g, &b);
    ck_assert_msg(b > r + 40, "colour bar bottom not blue: %d %d %d", r, g, b);
    pixel(img, 704, (top + bottom) / 2 + 10, &r, &g, &b);
    ck_assert_msg(r > 220 && g > 220 && b > 220, "colour bar not pale near 0.5: %d %d %d", r, g, b);
    cairo_surface_destroy(img);
    /* a score field (level 0), no field, no points */
    for (int i = 0; i < G * G; i++)
        field[i] = field[i] * 6 - 3;
    ck_assert_msg(plot_decision(path, &axes, px, py, cls, N, names, &grid, 0.0f), "%s",
                  plot_error());
    cairo_surface_destroy(load(path, 800, 560));
    ck_assert_msg(plot_decision(path, &axes, px, py, cls, N, NULL, NULL, 0.5f), "%s", plot_error());
    ck_assert_msg(plot_decision(path, &axes, NULL, NULL, NULL, 0, names, NULL, 0.5f), "%s",
                  plot_error());
    cairo_surface_destroy(load(path, 800, 560));
    remove_folder();
}
END_TEST

/* Finds the zoomed image in the picture by its exact grey values (a NaN pixel
 * must stay white); returns false when it is nowhere. */
static bool find_image(cairo_surface_t *img, const float *image, int h, int w, int zoom, int *at_x,
                       int *at_y)
{
    int width = cairo_image_surface_get_width(img), height = cairo_image_surface_get_height(img);
    for (int y0 = 0; y0 + h * zoom <= height; y0++)
        for (int x0 = 0; x0 + w * zoom <= width; x0++) {
            bool match = true;
            for (int y = 0; y < h * zoom && match; y++)
                for (int x = 0; x < w * zoom && match; x++) {
                    float v = image[(y / zoom) * w + x / zoom];
                    int want = isfinite(v) ? (int)(255.0f * v + 0.5f) : 255;
                    int r, g, b;
                    pixel(img, x0 + x, y0 + y, &r, &g, &b);
                    match = r == want && g == want && b == want;
                }
            if (match) {
                *at_x = x0;
                *at_y = y0;
                return true;
            }
        }
    return false;
}

/* Five 4x5 images in 2 columns at zoom 3: each found with its exact values,
 * in reading order; captions and a title add ink. */
START_TEST(test_plot_image_grid)
{
    make_folder();
    enum { N = 5, H = 4, W = 5, ZOOM = 3 };
    float images[N * H * W];
    for (int i = 0; i < N * H * W; i++)
        images[i] = (float)((i * 37) % 101) / 120.0f;
    images[3] = NAN;
    images[W * H + 1] = 1.0f;
    const char *captions[N] = {"7 Sneaker", NULL, "a very long caption indeed", "", "0"};
    const char *path = in_folder("g.png");
    plot_image_labels labels = {captions, NULL, NULL};
    ck_assert_msg(plot_image_grid(path, "samples", images, N, H, W, 2, ZOOM, &labels), "%s",
                  plot_error());
    cairo_surface_t *img = load(path, 0, 0);
    int xs[N], ys[N];
    for (int k = 0; k < N; k++)
        ck_assert_msg(find_image(img, images + k * H * W, H, W, ZOOM, &xs[k], &ys[k]),
                      "image %d not found", k);
    ck_assert_int_eq(ys[0], ys[1]);
    ck_assert_int_gt(xs[1], xs[0] + W * ZOOM - 1);
    ck_assert_int_eq(xs[2], xs[0]);
    ck_assert_int_gt(ys[2], ys[0] + H * ZOOM - 1);
    ck_assert_int_eq(xs[4], xs[0]);
    ck_assert_int_gt(ys[4], ys[2]);
    /* the title above the first image, a caption under it */
    ck_assert_int_gt(count_ink(img, 0, 0, cairo_image_surface_get_width(img), ys[0]), 20);
    ck_assert_int_gt(count_ink(img, xs[0], ys[0] + H * ZOOM, xs[0] + W * ZOOM, ys[2]), 3);
    cairo_surface_destroy(img);
    /* Column headers (one of two lines) and row labels: ink above the
     * first image and left of it, which the unlabelled grid leaves blank. */
    img = load(path, 0, 0);
    ck_assert(find_image(img, images, H, W, ZOOM, &xs[0], &ys[0]));
    ck_assert_int_eq(count_ink(img, 0, ys[0], xs[0], ys[0] + H * ZOOM), 0);
    int title_bottom = ys[0];
    cairo_surface_destroy(img);
    const char *headers[2] = {"first\ncolumn", "second"}, *rows[3] = {"row one", NULL, "row 3"};
    labels = (plot_image_labels){captions, headers, rows};
    ck_assert_msg(plot_image_grid(path, "samples", images, N, H, W, 2, ZOOM, &labels), "%s",
                  plot_error());
    img = load(path, 0, 0);
    for (int k = 0; k < N; k++)
        ck_assert_msg(find_image(img, images + k * H * W, H, W, ZOOM, &xs[k], &ys[k]),
                      "labelled: image %d not found", k);
    ck_assert_int_gt(ys[0], title_bottom + 20); /* two header lines pushed the grid down */
    ck_assert_int_gt(count_ink(img, 0, ys[0], xs[0], ys[0] + H * ZOOM), 3);
    ck_assert_int_eq(count_ink(img, 0, ys[2], xs[2], ys[2] + H * ZOOM), 0); /* row 2: NULL */
    ck_assert_int_gt(count_ink(img, 0, ys[4], xs[4], ys[4] + H * ZOOM), 3);
    ck_assert_int_gt(count_ink(img, xs[0], ys[0] - 28, xs[0] + W * ZOOM, ys[0]), 3);
    ck_assert_int_gt(count_ink(img, xs[1], ys[1] - 14, xs[1] + W * ZOOM, ys[1]), 3);
    cairo_surface_destroy(img);
    /* no images: a small picture saying so */
    ck_assert_msg(plot_image_grid(path, NULL, NULL, 0, 28, 28, 4, 2, NULL), "%s", plot_error());
    cairo_surface_destroy(load(path, 0, 0));
    remove_folder();
}
END_TEST

/* Whether some row holds `run` blue pixels in a row: a line, not a dot. */
static bool has_blue_run(cairo_surface_t *s, int run)
{
    for (int y = 0; y < 560; y++)
        for (int x = 0, n = 0; x < 800; x++) {
            n = is_blue(s, x, y) ? n + 1 : 0;
            if (n >= run)
                return true;
        }
    return false;
}

/* The columns of a light-grey x grid line crossing the plot area's row y. */
static int grid_columns(cairo_surface_t *s, int y)
{
    int n = 0;
    for (int x = 85; x < 770; x++) {
        int r, g, b;
        pixel(s, x, y, &r, &g, &b);
        n += r == g && g == b && r >= 228 && r <= 231; /* 0.9 grey */
    }
    return n;
}

/* A one-epoch run: each series one point. It is a marker, and so is its
 * legend swatch (no blue run as long as a line swatch anywhere); the x axis
 * (0 to 2) is ticked at whole epochs only: one grid line inside it, not a
 * fraction every 0.25. */
START_TEST(test_plot_lines_one_point)
{
    make_folder();
    double a = 2.0, b = 1.0;
    plot_series s[2] = {{"train", NULL, &a, 1, PLOT_STYLE_SOLID},
                        {"test", NULL, &b, 1, PLOT_STYLE_DASHED}};
    plot_axes axes = axes_default("one epoch");
    const char *path = in_folder("a.png");
    ck_assert_msg(plot_lines(path, &axes, s, 2), "%s", plot_error());
    cairo_surface_t *img = load(path, 800, 560);
    int blue = 0;
    for (int y = 0; y < 560; y++)
        for (int x = 0; x < 800; x++)
            blue += is_blue(img, x, y);
    ck_assert_int_gt(blue, 40); /* the marker and its swatch */
    ck_assert(!has_blue_run(img, 14));
    /* The fewest grid columns over a band of rows (one row may be a y grid line). */
    int fewest = 1000;
    for (int y = 250; y < 300; y++)
        fewest = grid_columns(img, y) < fewest ? grid_columns(img, y) : fewest;
    ck_assert_int_eq(fewest, 1);
    cairo_surface_destroy(img);
    /* Two series of many points keep their line swatches. */
    double y2[3] = {1, 2, 3};
    s[0].y = s[1].y = y2;
    s[0].n = s[1].n = 3;
    ck_assert_msg(plot_lines(path, &axes, s, 2), "%s", plot_error());
    img = load(path, 800, 560);
    ck_assert(has_blue_run(img, 14));
    cairo_surface_destroy(img);
    remove_folder();
}
END_TEST

/* Near-black pixels along the row y, between x0 and x1. */
static int dark_on_row(cairo_surface_t *s, int y, int x0, int x1)
{
    int n = 0;
    for (int x = x0; x < x1; x++) {
        int r, g, b;
        pixel(s, x, y, &r, &g, &b);
        n += r + g + b < 3 * 100;
    }
    return n;
}

/* Reference lines: a dashed horizontal one at y = 1 on a 0..2 axis crosses
 * the middle row in dashes (dark and light pixels); a vertical threshold on a
 * histogram stays in view beyond the data; a sloped one on a decision plot
 * runs along its diagonal; a line on a log axis that is neither horizontal
 * nor vertical is left out; bad counts fail naming the file. */
START_TEST(test_plot_reference_lines)
{
    make_folder();
    double y[2] = {0.2, 0.3};
    plot_series s = {"data", NULL, y, 2, PLOT_STYLE_SOLID};
    plot_line equilibrium = {"equilibrium", 0, 1, 1.0, -1};
    plot_axes axes = axes_default("lines");
    axes.ymin = 0;
    axes.ymax = 2;
    axes.lines = &equilibrium;
    axes.line_count = 1;
    const char *path = in_folder("b.png");
    ck_assert_msg(plot_lines(path, &axes, &s, 1), "%s", plot_error());
    cairo_surface_t *img = load(path, 800, 560);
    int row = -1, most = 0;
    for (int yy = 100; yy < 480; yy++)
        if (dark_on_row(img, yy, 100, 500) > most) {
            most = dark_on_row(img, yy, 100, 500);
            row = yy;
        }
    /* Dashes of 7 on, 4 off: about 7/11 of the row, never all of it. */
    ck_assert_msg(most > 150 && most < 350, "dashed line: %d dark pixels on row %d", most, row);
    ck_assert_msg(row > 220 && row < 320, "line at row %d, not half-way", row);
    cairo_surface_destroy(img);

    float v[4] = {1, 2, 2, 3};
    plot_values set = {"v", v, 4};
    plot_line threshold = {"threshold", 1, 0, 5.0, -1};
    axes = axes_default("threshold");
    axes.lines = &threshold;
    axes.line_count = 1;
    ck_assert_msg(plot_histograms(path, &axes, &set, 1, 10, false, PLOT_OVERLAY), "%s",
                  plot_error());
    img = load(path, 800, 560);
    int column = -1, longest = 0;
    for (int x = 300; x < 790; x++) {
        int n = 0;
        for (int yy = 100; yy < 490; yy++) {
            int r, g, b;
            pixel(img, x, yy, &r, &g, &b);
            n += r + g + b < 3 * 100;
        }
        if (n > longest)
            longest = n, column = x;
    }
    /* x from 1 to 5: the threshold at the right end of the data's axis. */
    ck_assert_msg(longest > 150 && column > 600, "threshold: %d dark pixels in column %d", longest,
                  column);
    cairo_surface_destroy(img);

    /* x + y = 0 on [-2, 2]^2, no field: dark pixels near the anti-diagonal. */
    plot_line diagonal = {"true boundary", 1, 1, 0, -1};
    axes = axes_default("diagonal");
    axes.xmin = axes.ymin = -2;
    axes.xmax = axes.ymax = 2;
    axes.lines = &diagonal;
    axes.line_count = 1;
    float p[2] = {-1.5f, 1.5f};
    int32_t cls[2] = {0, 1};
    ck_assert_msg(plot_decision(path, &axes, p, p, cls, 2, NULL, NULL, 0.5f), "%s", plot_error());
    img = load(path, 800, 560);
    /* The frame spans x 80..776 (no field, no colour bar); its top and
     * height follow the title. At a quarter across (x = -1) the line is a
     * quarter down (y = 1), at three quarters three quarters down: find its
     * dark pixels in those columns' halves. */
    int quarter = 80 + 696 / 4, three = 80 + 3 * 696 / 4, dark_low = 0, dark_high = 0;
    for (int yy = 60; yy < 500; yy++)
        for (int dx = -6; dx <= 6; dx++) { /* a few columns: one may fall in a dash's gap */
            int r, g, b;
            pixel(img, quarter + dx, yy, &r, &g, &b);
            dark_high += r + g + b < 3 * 100 && yy < 280;
            pixel(img, three + dx, yy, &r, &g, &b);
            dark_low += r + g + b < 3 * 100 && yy > 280;
        }
    ck_assert_msg(dark_low > 0 && dark_high > 0, "sloped line missing: %d %d", dark_low, dark_high);
    cairo_surface_destroy(img);

    /* Sloped on a log axis: left out, the chart still drawn. */
    axes = axes_default("log");
    axes.log_y = true;
    axes.lines = &diagonal;
    axes.line_count = 1;
    double positive[2] = {1, 10};
    s.y = positive;
    ck_assert_msg(plot_lines(path, &axes, &s, 1), "%s", plot_error());
    cairo_surface_destroy(load(path, 800, 560));

    axes.lines = NULL;
    ck_assert(!plot_lines(path, &axes, &s, 1));
    ck_assert_msg(strstr(plot_error(), "b.png: bad reference lines") != NULL, "%s", plot_error());
    axes.line_count = -1;
    ck_assert(!plot_histograms(path, &axes, &set, 1, 10, false, PLOT_OVERLAY));
    ck_assert(!plot_decision(path, &axes, p, p, cls, 2, NULL, NULL, 0.5f));
    remove_folder();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tools/plot");
    TCase *tc = tcase_create("plot");
    tcase_add_test(tc, test_plot_path_joins);
    tcase_add_test(tc, test_plot_make_dir);
    tcase_add_test(tc, test_plot_lines_horizontal_series);
    tcase_add_test(tc, test_plot_lines_skips_non_finite);
    tcase_add_test(tc, test_plot_lines_legend_avoids_data);
    tcase_add_test(tc, test_plot_lines_empty);
    tcase_add_test(tc, test_plot_lines_one_point);
    tcase_add_test(tc, test_plot_reference_lines);
    tcase_add_test(tc, test_plot_missing_folder);
    tcase_add_test(tc, test_plot_histograms);
    tcase_add_test(tc, test_plot_decision_boundary);
    tcase_add_test(tc, test_plot_image_grid);
    suite_add_tcase(s, tc);
    SRunner *runner = srunner_create(s);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
