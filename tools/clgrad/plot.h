/* tools/clgrad/plot.h: the pictures the commands draw (loss curves, ROC
 * curves, histograms, decision boundaries, function fits, image grids),
 * written as PNG files through cairo. Plotting is the command line's
 * business, not the library's: the library hands back numbers and the
 * commands decide what to draw. Internal prefix: plot_.
 *
 * Every function writes one PNG (about 800x560 pixels for charts) with a
 * title, labelled axes with round tick values, and a legend when there is more
 * than one series. The file is written to "<path>.tmp" and renamed, so a
 * picture is either whole or absent. Each returns true on success; on failure
 * it returns false and plot_error() says why in one line naming the file
 * (for example "roc.png: No such file or directory"). Non-finite values are
 * skipped, never drawn; a chart with nothing to draw (no series, or only
 * non-finite values) still comes out, its empty axes saying "no data". The
 * legend goes to the corner of the plot area with the least data under it. */
#ifndef CLGRAD_TOOLS_PLOT_H
#define CLGRAD_TOOLS_PLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The reason the last plot_* call failed; "" after a success. */
const char *plot_error(void);

/* "dir/name": joins a folder and a file name into `out` (capacity `size`);
 * false when it does not fit. Creates nothing. */
bool plot_path(char *out, size_t size, const char *dir, const char *name);
/* Creates `dir` (one level, like mkdir) unless it exists; false with
 * plot_error() set otherwise. */
bool plot_make_dir(const char *dir);

/* One curve: n points (x[i], y[i]), joined in order. x may be NULL: then
 * x[i] = i + 1 (for per-epoch or per-step curves). `style` 0 draws a solid
 * line, 1 a dashed one, 2 markers only (for scatter-like series), 3 a thin
 * light line (a noisy per-step curve under its per-epoch means). Colours
 * follow the series' order. A lone point between gaps is drawn as a dot; a
 * series with a single point (a one-epoch run) is a marker, and so is its
 * legend swatch. When every x is a whole number (epochs) and no x range is
 * fixed, the x ticks are whole numbers too. */
#define PLOT_STYLE_SOLID 0
#define PLOT_STYLE_DASHED 1
#define PLOT_STYLE_MARKERS 2
#define PLOT_STYLE_THIN 3
typedef struct plot_series {
    const char *label;
    const double *x;
    const double *y;
    int64_t n;
    int style;
} plot_series;

/* A straight reference line a x + b y = c across the plot area, in data
 * coordinates: y = c is {0, 1, c}, x = c is {1, 0, c}. Drawn dashed, in the
 * colour of series `colour` (-1: near-black), labelled in the legend. For an
 * equilibrium value, a threshold, a known true boundary. */
typedef struct plot_line {
    const char *label;
    double a, b, c;
    int colour;
} plot_line;

typedef struct plot_axes {
    const char *title;
    const char *xlabel;
    const char *ylabel;
    bool log_y; /* logarithmic y axis; values <= 0 are skipped */
    /* Fixed ranges when min < max; otherwise fitted to the data. */
    double xmin, xmax, ymin, ymax;
    /* An extra text line under the title, e.g. "AUC = 0.953"; may be NULL. */
    const char *note;
    /* Reference lines over the data of line charts, overlaid histograms and
     * decision plots; may be NULL. */
    const plot_line *lines;
    int line_count;
    /* A decision plot's colour bar label; NULL: "P(t = 1 | x)" for a
     * probability field, "score" otherwise. */
    const char *field_label;
} plot_axes;

/* Line chart: loss curves, ROC curves (draw the diagonal as a dashed
 * series), function fits with their targets. */
bool plot_lines(const char *path, const plot_axes *axes, const plot_series *series, int count);

/* A set of values to histogram. */
typedef struct plot_values {
    const char *label;
    const float *v;
    int64_t n;
} plot_values;

typedef enum plot_layout {
    PLOT_OVERLAY, /* all sets on one chart, translucent bars, shared bins */
    PLOT_PANELS   /* one small chart per set, stacked vertically, shared x range */
} plot_layout;

/* Histograms with `bins` equal bins over the range of all sets together
 * (axes->xmin/xmax when given); y is the count, or the fraction of the set
 * when `density` is true (sets of very different sizes, such as normal and
 * fraud transactions, then compare). PLOT_PANELS is for the per-layer
 * gradient histograms: each panel titled by its label, with its own y range;
 * the picture grows by 180 pixels per panel. */
bool plot_histograms(const char *path, const plot_axes *axes, const plot_values *sets,
                     int count, int bins, bool density, plot_layout layout);

/* A scalar field over a rectangle: nx * ny values, row-major with y rows,
 * value[j * nx + i] at x = x0 + (x1 - x0) * i / (nx - 1),
 * y = y0 + (y1 - y0) * j / (ny - 1). */
typedef struct plot_grid {
    const float *value;
    int nx, ny;
    double x0, x1, y0, y1;
} plot_grid;

/* 2-D points coloured by class (0 or 1, n points) over a decision field:
 * the background is shaded by `field` (a probability in [0, 1], or a score
 * whose sign decides), a colour bar beside the plot reads the shades back,
 * and the boundary, the contour at `level` (0.5 for a probability, 0 for a
 * score), is drawn as a line. field may be NULL (points only, no colour
 * bar). class_names[2] label the legend. */
bool plot_decision(const char *path, const plot_axes *axes, const float *px, const float *py,
                   const int32_t *cls, int64_t n, const char *const class_names[2],
                   const plot_grid *field, float level);

/* Text around an image grid; any pointer may be NULL, and any entry too. */
typedef struct plot_image_labels {
    const char *const *captions; /* one under each image */
    const char *const *columns;  /* one over each column; a '\n' splits it in two lines */
    const char *const *rows;     /* one left of each row, such as the true class */
} plot_image_labels;

/* n grey images of h x w pixels (values in [0, 1], row-major, image after
 * image) in a grid of `cols` columns, each scaled up `zoom` times, with
 * optional labels (may be NULL) and an optional title over the grid. For
 * reconstructions, samples and adversarial examples. Pixel values are
 * written exactly (grey round(255 v), clamped to [0, 1]; a non-finite pixel
 * stays white); a caption or header too wide for its cell is drawn smaller. */
bool plot_image_grid(const char *path, const char *title, const float *images, int64_t n, int h,
                     int w, int cols, int zoom, const plot_image_labels *labels);

#endif
