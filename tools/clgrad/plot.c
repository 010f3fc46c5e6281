/* tools/clgrad/plot.c: the command line's pictures (plot.h), drawn with cairo
 * and written as PNG. One chart frame (title, note, plot area, round ticks,
 * axis labels, legend) serves the line charts, histograms and decision plots;
 * the image grid writes its pixels directly so they are exact. Text uses
 * cairo's toy font API, which needs nothing beyond fontconfig. */
#include "plot.h"

#include <cairo.h>
#include <errno.h>
#include <fontconfig/fontconfig.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#define WIDTH 800
#define HEIGHT 560
#define PANEL_HEIGHT 150
#define FONT "sans-serif"
#define PI 3.14159265358979323846
#define MAX_SIDE 30000 /* cairo's image surfaces stop at 32767 pixels */

static char error_text[512];

const char *plot_error(void)
{
    return error_text;
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(error_text, sizeof error_text, fmt, ap);
    va_end(ap);
}

bool plot_path(char *out, size_t size, const char *dir, const char *name)
{
    size_t len = strlen(dir);
    const char *slash = len > 0 && dir[len - 1] == '/' ? "" : "/";
    int n = snprintf(out, size, "%s%s%s", dir, slash, name);
    return n >= 0 && (size_t)n < size;
}

bool plot_make_dir(const char *dir)
{
    error_text[0] = '\0';
    if (mkdir(dir, 0777) == 0)
        return true;
    struct stat st;
    if (errno == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
        return true;
    fail("%s: %s", dir, errno == EEXIST ? "exists and is not a folder" : strerror(errno));
    return false;
}

/* ---- colours ---- */

typedef struct rgb {
    double r, g, b;
} rgb;

/* Matplotlib's tab10, which stays distinguishable for the colour-blind in its
 * first few entries. */
static const rgb palette[] = {{0.122, 0.467, 0.706}, {1.000, 0.498, 0.055}, {0.173, 0.627, 0.173},
                              {0.839, 0.153, 0.157}, {0.580, 0.404, 0.741}, {0.549, 0.337, 0.294},
                              {0.890, 0.467, 0.761}, {0.498, 0.498, 0.498}, {0.737, 0.741, 0.133},
                              {0.090, 0.745, 0.812}};
#define PALETTE_SIZE ((int)(sizeof palette / sizeof palette[0]))

/* Index -1 is the near-black of lines that are not data (a boundary). */
static void set_colour(cairo_t *cr, int index, double alpha)
{
    rgb c = index < 0 ? (rgb){0.1, 0.1, 0.1} : palette[index % PALETTE_SIZE];
    cairo_set_source_rgba(cr, c.r, c.g, c.b, alpha);
}

/* ---- writing ---- */

static cairo_status_t write_chunk(void *file, const unsigned char *data, unsigned int length)
{
    return fwrite(data, 1, length, file) == length ? CAIRO_STATUS_SUCCESS
                                                   : CAIRO_STATUS_WRITE_ERROR;
}

/* Writes the surface to "<path>.tmp" and renames it over `path`. The file is
 * opened here rather than by cairo_surface_write_to_png so that errno can
 * say why it failed. */
static bool write_png(cairo_surface_t *surface, const char *path)
{
    cairo_status_t status = cairo_surface_status(surface);
    if (status != CAIRO_STATUS_SUCCESS) {
        fail("%s: cairo: %s", path, cairo_status_to_string(status));
        return false;
    }
    size_t len = strlen(path);
    char *tmp = malloc(len + 5);
    if (!tmp) {
        fail("%s: out of memory", path);
        return false;
    }
    memcpy(tmp, path, len);
    memcpy(tmp + len, ".tmp", 5);
    bool ok = false;
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        fail("%s: %s", path, strerror(errno));
        goto done;
    }
    errno = 0;
    status = cairo_surface_write_to_png_stream(surface, write_chunk, f);
    int saved = errno;
    if (fclose(f) != 0 && status == CAIRO_STATUS_SUCCESS) {
        fail("%s: %s", path, strerror(errno));
    } else if (status != CAIRO_STATUS_SUCCESS) {
        fail("%s: %s", path, saved ? strerror(saved) : cairo_status_to_string(status));
    } else if (rename(tmp, path) != 0) {
        fail("%s: %s", path, strerror(errno));
    } else {
        ok = true;
    }
    if (!ok)
        remove(tmp);
done:
    free(tmp);
    return ok;
}

/* cairo's toy text API finds fonts through fontconfig, whose caches are
 * unreachable by exit; LeakSanitizer (CI's sanitizer run) would count them as
 * leaks. Every surface and context is destroyed by then. */
static void release_fonts(void)
{
    cairo_debug_reset_static_data();
    FcFini();
}

/* A white canvas; the caller checks the surface through write_png. */
static cairo_t *canvas(int width, int height, cairo_surface_t **surface)
{
    static bool release_registered = false;
    if (!release_registered)
        release_registered = atexit(release_fonts) == 0;
    *surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
    cairo_t *cr = cairo_create(*surface);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    return cr;
}

static bool finish(cairo_t *cr, cairo_surface_t *surface, const char *path)
{
    cairo_status_t status = cairo_status(cr);
    cairo_destroy(cr);
    bool ok;
    if (status != CAIRO_STATUS_SUCCESS) {
        fail("%s: cairo: %s", path, cairo_status_to_string(status));
        ok = false;
    } else {
        ok = write_png(surface, path);
    }
    cairo_surface_destroy(surface);
    return ok;
}

/* ---- text ---- */

typedef enum align { LEFT, CENTRE, RIGHT } align;

/* Text with its baseline's anchor at (x, y), aligned horizontally; vertical
 * centring when `middle`. */
static void text(cairo_t *cr, double x, double y, double size, bool bold, align a, bool middle,
                 const char *s)
{
    if (!s || !*s)
        return;
    cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
    cairo_text_extents_t e;
    cairo_text_extents(cr, s, &e);
    double dx = a == LEFT ? 0 : a == CENTRE ? -e.x_advance / 2 : -e.x_advance;
    double dy = middle ? -(e.y_bearing + e.height / 2) : 0;
    cairo_move_to(cr, x + dx, y + dy);
    cairo_show_text(cr, s);
}

static double text_width(cairo_t *cr, double size, bool bold, const char *s)
{
    cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
    cairo_text_extents_t e;
    cairo_text_extents(cr, s ? s : "", &e);
    return e.x_advance;
}

/* ---- ranges and ticks ---- */

typedef struct range {
    double lo, hi;
    bool any;
} range;

static void range_add(range *r, double v, bool log)
{
    if (!isfinite(v) || (log && v <= 0))
        return;
    if (!r->any || v < r->lo)
        r->lo = v;
    if (!r->any || v > r->hi)
        r->hi = v;
    r->any = true;
}

/* The 1-2-5 step that cuts `span` into about `target` parts. */
static double nice_step(double span, int target)
{
    double raw = span / target;
    double magnitude = pow(10.0, floor(log10(raw)));
    double f = raw / magnitude;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * magnitude;
}

/* A linear axis: the fixed range when given, otherwise the data's widened to
 * multiples of the tick step so the ends carry labels. */
static void fit_linear(range *r, double fixed_lo, double fixed_hi)
{
    if (fixed_lo < fixed_hi) {
        r->lo = fixed_lo;
        r->hi = fixed_hi;
        return;
    }
    if (!r->any) {
        r->lo = 0;
        r->hi = 1;
        return;
    }
    if (r->lo == r->hi) {
        double pad = r->lo != 0 ? fabs(r->lo) * 0.1 : 1;
        r->lo -= pad;
        r->hi += pad;
    }
    double step = nice_step(r->hi - r->lo, 5);
    r->lo = floor(r->lo / step + 1e-9) * step;
    r->hi = ceil(r->hi / step - 1e-9) * step;
}

/* A log axis: widened to the 1-2-5 values around the data. */
static void fit_log(range *r, double fixed_lo, double fixed_hi)
{
    if (fixed_lo < fixed_hi && fixed_lo > 0) {
        r->lo = fixed_lo;
        r->hi = fixed_hi;
        return;
    }
    if (!r->any) {
        r->lo = 0.1;
        r->hi = 1;
        return;
    }
    if (r->lo == r->hi) {
        r->lo /= 2;
        r->hi *= 2;
    }
    static const double steps[] = {1, 2, 5, 10};
    double m = pow(10.0, floor(log10(r->lo)));
    double lo = m;
    for (int i = 0; i < 3; i++)
        if (steps[i] * m <= r->lo * (1 + 1e-9))
            lo = steps[i] * m;
    m = pow(10.0, floor(log10(r->hi)));
    double hi = 10 * m;
    for (int i = 3; i >= 0; i--)
        if (steps[i] * m >= r->hi * (1 - 1e-9))
            hi = steps[i] * m;
    r->lo = lo;
    r->hi = hi;
}

/* Where the data was drawn, on a coarse grid over the plot area, so that the
 * legend can go to the emptiest corner. */
#define INK_COLS 32
#define INK_ROWS 24
typedef struct ink_map {
    unsigned cells[INK_ROWS][INK_COLS];
} ink_map;

/* The plot area in pixels and the data range it shows. */
typedef struct frame {
    double left, top, width, height;
    range x, y;
    bool log_y;
    bool integer_x; /* x values are counts (epochs): no ticks between them */
    ink_map *ink;   /* may be NULL */
} frame;

/* Marks the cells of the pixel rectangle [x0, x1] x [y0, y1]. */
static void ink_rect(const frame *f, double x0, double y0, double x1, double y1)
{
    if (!f->ink)
        return;
    int c0 = (int)floor((fmin(x0, x1) - f->left) / f->width * INK_COLS);
    int c1 = (int)floor((fmax(x0, x1) - f->left) / f->width * INK_COLS);
    int r0 = (int)floor((fmin(y0, y1) - f->top) / f->height * INK_ROWS);
    int r1 = (int)floor((fmax(y0, y1) - f->top) / f->height * INK_ROWS);
    for (int r = r0 < 0 ? 0 : r0; r <= r1 && r < INK_ROWS; r++)
        for (int c = c0 < 0 ? 0 : c0; c <= c1 && c < INK_COLS; c++)
            f->ink->cells[r][c]++;
}

static void ink_segment(const frame *f, double x0, double y0, double x1, double y1)
{
    if (!f->ink)
        return;
    int steps = (int)fmin(ceil(hypot(x1 - x0, y1 - y0) / 4), 1000);
    for (int i = 0; i <= steps; i++) {
        double t = steps ? (double)i / steps : 0;
        double x = x0 + t * (x1 - x0), y = y0 + t * (y1 - y0);
        ink_rect(f, x, y, x, y);
    }
}

/* The data under a box at (x0, y0) of w x h pixels. */
static double ink_under(const frame *f, double x0, double y0, double w, double h)
{
    if (!f->ink)
        return 0;
    double total = 0;
    for (int r = 0; r < INK_ROWS; r++)
        for (int c = 0; c < INK_COLS; c++) {
            double cx0 = f->left + f->width * c / INK_COLS,
                   cx1 = f->left + f->width * (c + 1) / INK_COLS;
            double cy0 = f->top + f->height * r / INK_ROWS,
                   cy1 = f->top + f->height * (r + 1) / INK_ROWS;
            if (cx1 > x0 && cx0 < x0 + w && cy1 > y0 && cy0 < y0 + h)
                total += f->ink->cells[r][c];
        }
    return total;
}

static double px_of(const frame *f, double x)
{
    return f->left + (x - f->x.lo) / (f->x.hi - f->x.lo) * f->width;
}

static double py_of(const frame *f, double y)
{
    double t = f->log_y ? (log10(y) - log10(f->y.lo)) / (log10(f->y.hi) - log10(f->y.lo))
                        : (y - f->y.lo) / (f->y.hi - f->y.lo);
    return f->top + f->height * (1 - t);
}

static void tick_label(char *out, size_t size, double v, double step)
{
    if (fabs(v) < step * 1e-6)
        v = 0; /* not "-0" or "1e-17" */
    if (step >= 1 && fabs(v) < 1e7) {
        snprintf(out, size, "%.0f", v);
    } else if (step >= 1e-4 && fabs(v) < 1e7) {
        int decimals = (int)ceil(-log10(step) - 1e-9);
        snprintf(out, size, "%.*f", decimals, v);
    } else {
        snprintf(out, size, "%g", v);
    }
}

#define MAX_TICKS 64

/* Tick values of the x axis (or a linear y axis), at least min_step apart. */
static int linear_ticks(range r, int target, double min_step, double *ticks, double *step_out)
{
    double step = nice_step(r.hi - r.lo, target);
    step = step < min_step ? min_step : step;
    int n = 0;
    for (double k = ceil(r.lo / step - 1e-9); n < MAX_TICKS; k++) {
        double v = k * step;
        if (v > r.hi + step * 1e-9)
            break;
        ticks[n++] = v;
    }
    *step_out = step;
    return n;
}

/* 1-2-5 values when the axis spans few decades, powers of ten otherwise. */
static int log_ticks(range r, double *ticks)
{
    double decades = log10(r.hi) - log10(r.lo);
    static const double all[] = {1, 2, 5}, ones[] = {1};
    const double *mult = decades <= 2.5 ? all : ones;
    int per = decades <= 2.5 ? 3 : 1;
    int every = decades > 10 ? (int)ceil(decades / 10) : 1;
    int n = 0;
    for (int e = (int)floor(log10(r.lo)); e <= (int)ceil(log10(r.hi)) && n < MAX_TICKS; e++) {
        if (e % every != 0)
            continue;
        for (int i = 0; i < per && n < MAX_TICKS; i++) {
            double v = mult[i] * pow(10.0, e);
            if (v >= r.lo * (1 - 1e-9) && v <= r.hi * (1 + 1e-9))
                ticks[n++] = v;
        }
    }
    return n;
}

/* Grid lines, the axes box, ticks with labels and the axis labels. */
static void draw_axes(cairo_t *cr, const frame *f, const char *xlabel, const char *ylabel,
                      bool x_labels)
{
    double ticks[MAX_TICKS], step;
    char label[64];
    cairo_set_line_width(cr, 1);

    int nx = linear_ticks(f->x, 8, f->integer_x ? 1 : 0, ticks, &step);
    for (int i = 0; i < nx; i++) {
        double x = floor(px_of(f, ticks[i])) + 0.5;
        cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
        cairo_move_to(cr, x, f->top);
        cairo_line_to(cr, x, f->top + f->height);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        cairo_move_to(cr, x, f->top + f->height);
        cairo_line_to(cr, x, f->top + f->height + 5);
        cairo_stroke(cr);
        if (x_labels) {
            tick_label(label, sizeof label, ticks[i], step);
            text(cr, x, f->top + f->height + 19, 11, false, CENTRE, false, label);
        }
    }

    int ny = f->log_y ? log_ticks(f->y, ticks)
                      : linear_ticks(f->y, f->height < 200 ? 3 : 6, 0, ticks, &step);
    for (int i = 0; i < ny; i++) {
        double y = floor(py_of(f, ticks[i])) + 0.5;
        cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
        cairo_move_to(cr, f->left, y);
        cairo_line_to(cr, f->left + f->width, y);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        cairo_move_to(cr, f->left - 5, y);
        cairo_line_to(cr, f->left, y);
        cairo_stroke(cr);
        if (f->log_y)
            snprintf(label, sizeof label, "%g", ticks[i]);
        else
            tick_label(label, sizeof label, ticks[i], step);
        text(cr, f->left - 8, y, 11, false, RIGHT, true, label);
    }

    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_rectangle(cr, floor(f->left) + 0.5, floor(f->top) + 0.5, floor(f->width),
                    floor(f->height));
    cairo_stroke(cr);

    if (xlabel && x_labels)
        text(cr, f->left + f->width / 2, f->top + f->height + 40, 13, false, CENTRE, false, xlabel);
    if (ylabel && *ylabel) {
        cairo_save(cr);
        cairo_translate(cr, f->left - 58, f->top + f->height / 2);
        cairo_rotate(cr, -PI / 2);
        text(cr, 0, 0, 13, false, CENTRE, true, ylabel);
        cairo_restore(cr);
    }
}

/* Title and note over the chart; returns the y where the plot area may start. */
static double draw_title(cairo_t *cr, int width, const char *title, const char *note)
{
    double y = 12;
    cairo_set_source_rgb(cr, 0, 0, 0);
    if (title && *title) {
        text(cr, width / 2.0, y + 17, 17, true, CENTRE, false, title);
        y += 26;
    }
    if (note && *note) {
        cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
        text(cr, width / 2.0, y + 14, 12, false, CENTRE, false, note);
        y += 20;
    }
    return y + 14;
}

/* The standard chart layout under the title. */
static frame chart_frame(double top, int width, int height, bool log_y)
{
    frame f = {80,    top, width - 80 - 24, height - top - 58, {0, 1, false}, {0, 1, false}, log_y,
               false, NULL};
    return f;
}

static void no_data(cairo_t *cr, const frame *f)
{
    cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
    text(cr, f->left + f->width / 2, f->top + f->height / 2, 14, false, CENTRE, true, "no data");
}

/* ---- legend ---- */

typedef enum swatch { SWATCH_LINE, SWATCH_DASH, SWATCH_MARKER, SWATCH_BOX, SWATCH_THIN } swatch;

typedef struct legend_entry {
    const char *label;
    int colour;
    swatch kind;
} legend_entry;

static void set_dash(cairo_t *cr, bool dashed)
{
    static const double dash[] = {7, 4};
    cairo_set_dash(cr, dashed ? dash : NULL, dashed ? 2 : 0, 0);
}

static void marker(cairo_t *cr, double x, double y, double radius)
{
    cairo_new_sub_path(cr);
    cairo_arc(cr, x, y, radius, 0, 2 * PI);
}

/* Entries without a label are left out; the box goes to the corner with the
 * least data under it, the top right on a tie. */
static void draw_legend(cairo_t *cr, const frame *f, const legend_entry *entries, int count)
{
    double width = 0;
    int shown = 0;
    for (int i = 0; i < count; i++)
        if (entries[i].label && *entries[i].label) {
            double w = text_width(cr, 12, false, entries[i].label);
            width = w > width ? w : width;
            shown++;
        }
    if (shown == 0)
        return;
    double row = 18, box_w = width + 46, box_h = shown * row + 10;
    const double left = f->left + 10, right = f->left + f->width - box_w - 10;
    const double top = f->top + 10, bottom = f->top + f->height - box_h - 10;
    const double corners[4][2] = {{right, top}, {left, top}, {right, bottom}, {left, bottom}};
    double x0 = right, y0 = top, least = INFINITY;
    for (int i = 0; i < 4; i++) {
        double under = ink_under(f, corners[i][0], corners[i][1], box_w, box_h);
        if (under < least) {
            least = under;
            x0 = corners[i][0];
            y0 = corners[i][1];
        }
    }
    /* On half pixels, so the 1-pixel border is crisp. */
    x0 = floor(x0) + 0.5;
    y0 = floor(y0) + 0.5;
    box_w = floor(box_w);
    cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
    cairo_rectangle(cr, x0, y0, box_w, box_h);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.75, 0.75, 0.75);
    cairo_set_line_width(cr, 1);
    cairo_stroke(cr);
    double y = y0 + 5 + row / 2;
    for (int i = 0; i < count; i++) {
        const legend_entry *e = &entries[i];
        if (!e->label || !*e->label)
            continue;
        double sx = x0 + 8;
        switch (e->kind) {
        case SWATCH_BOX:
            set_colour(cr, e->colour, 0.55);
            cairo_rectangle(cr, sx + 4, y - 6, 16, 12);
            cairo_fill(cr);
            break;
        case SWATCH_MARKER:
            set_colour(cr, e->colour, 1);
            marker(cr, sx + 12, y, 4);
            cairo_fill(cr);
            break;
        default:
            set_colour(cr, e->colour, e->kind == SWATCH_THIN ? 0.45 : 1);
            cairo_set_line_width(cr, e->kind == SWATCH_THIN ? 1 : 2);
            set_dash(cr, e->kind == SWATCH_DASH);
            cairo_move_to(cr, sx, y);
            cairo_line_to(cr, sx + 24, y);
            cairo_stroke(cr);
            set_dash(cr, false);
        }
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        text(cr, sx + 32, y, 12, false, LEFT, true, e->label);
        y += row;
    }
}

static void clip_to(cairo_t *cr, const frame *f)
{
    cairo_rectangle(cr, f->left, f->top, f->width, f->height);
    cairo_clip(cr);
}

/* ---- reference lines ---- */

/* Where the line a x + b y = c enters and leaves the plot area: of its
 * crossings with the four edges, the two farthest apart. False when it
 * misses the area, or is sloped on a log y axis (a curve there). */
static bool line_ends(const frame *f, const plot_line *l, double *x, double *y)
{
    if (!isfinite(l->a) || !isfinite(l->b) || !isfinite(l->c) || (l->a == 0 && l->b == 0) ||
        (f->log_y && l->a != 0 && l->b != 0))
        return false;
    double cx[4], cy[4];
    int n = 0;
    const double xs[2] = {f->x.lo, f->x.hi}, ys[2] = {f->y.lo, f->y.hi};
    for (int i = 0; i < 2 && l->b != 0; i++) {
        double v = (l->c - l->a * xs[i]) / l->b;
        if (v >= f->y.lo && v <= f->y.hi)
            cx[n] = xs[i], cy[n++] = v;
    }
    for (int i = 0; i < 2 && l->a != 0; i++) {
        double v = (l->c - l->b * ys[i]) / l->a;
        if (v >= f->x.lo && v <= f->x.hi)
            cx[n] = v, cy[n++] = ys[i];
    }
    double best = -1;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            double d = hypot(px_of(f, cx[i]) - px_of(f, cx[j]), py_of(f, cy[i]) - py_of(f, cy[j]));
            if (d > best) {
                best = d;
                x[0] = cx[i], y[0] = cy[i], x[1] = cx[j], y[1] = cy[j];
            }
        }
    return best > 0;
}

static void draw_lines(cairo_t *cr, const frame *f, const plot_line *lines, int count)
{
    for (int k = 0; lines && k < count; k++) {
        double x[2], y[2];
        if (!line_ends(f, &lines[k], x, y))
            continue;
        double x0 = px_of(f, x[0]), y0 = py_of(f, y[0]), x1 = px_of(f, x[1]), y1 = py_of(f, y[1]);
        set_colour(cr, lines[k].colour, 1);
        cairo_set_line_width(cr, 1.6);
        set_dash(cr, true);
        cairo_move_to(cr, x0, y0);
        cairo_line_to(cr, x1, y1);
        cairo_stroke(cr);
        set_dash(cr, false);
        ink_segment(f, x0, y0, x1, y1);
    }
}

/* The legend entries of the reference lines, after `used` others. */
static int line_entries(const plot_axes *axes, legend_entry *entries, int used)
{
    for (int k = 0; axes->lines && k < axes->line_count; k++)
        entries[used++] = (legend_entry){axes->lines[k].label, axes->lines[k].colour, SWATCH_DASH};
    return used;
}

static bool bad_lines(const char *path, const plot_axes *axes)
{
    if (axes->line_count < 0 || (axes->line_count > 0 && !axes->lines)) {
        fail("%s: bad reference lines (%d)", path, axes->line_count);
        return true;
    }
    return false;
}

/* ---- line charts ---- */

static double series_x(const plot_series *s, int64_t i)
{
    return s->x ? s->x[i] : (double)(i + 1);
}

static bool point_ok(const plot_series *s, int64_t i, bool log_y)
{
    double x = series_x(s, i), y = s->y[i];
    return isfinite(x) && isfinite(y) && (!log_y || y > 0);
}

static int64_t drawable_points(const plot_series *s, bool log_y)
{
    int64_t n = 0;
    for (int64_t i = 0; s->y && i < s->n; i++)
        n += point_ok(s, i, log_y);
    return n;
}

/* Joins the points of runs of drawable values; a run of one point, which a
 * line cannot show, becomes a dot. A series of one point is drawn (and
 * listed in the legend) as markers. */
static void draw_series(cairo_t *cr, const frame *f, const plot_series *s, int colour)
{
    bool lone = drawable_points(s, f->log_y) == 1;
    int style = lone ? PLOT_STYLE_MARKERS : s->style;
    set_colour(cr, colour, style == PLOT_STYLE_THIN ? 0.45 : 1);
    cairo_set_line_width(cr, style == PLOT_STYLE_THIN ? 1 : 2);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    if (style == PLOT_STYLE_MARKERS) {
        for (int64_t i = 0; i < s->n; i++)
            if (point_ok(s, i, f->log_y)) {
                double x = px_of(f, series_x(s, i)), y = py_of(f, s->y[i]);
                marker(cr, x, y, lone ? 5.5 : 3.5);
                ink_rect(f, x - 6, y - 6, x + 6, y + 6);
            }
        /* A lone point (an operating point, a one-epoch run) is larger and
         * ringed in white, to stand out on a curve. */
        if (lone) {
            cairo_fill_preserve(cr);
            cairo_set_source_rgb(cr, 1, 1, 1);
            cairo_set_line_width(cr, 1.5);
            cairo_stroke(cr);
        } else {
            cairo_fill(cr);
        }
        return;
    }
    set_dash(cr, style == PLOT_STYLE_DASHED);
    for (int64_t i = 0; i < s->n; i++) {
        if (!point_ok(s, i, f->log_y))
            continue;
        double x = px_of(f, series_x(s, i)), y = py_of(f, s->y[i]);
        bool prev = i > 0 && point_ok(s, i - 1, f->log_y);
        bool next = i + 1 < s->n && point_ok(s, i + 1, f->log_y);
        ink_rect(f, x, y, x, y);
        if (prev) {
            ink_segment(f, px_of(f, series_x(s, i - 1)), py_of(f, s->y[i - 1]), x, y);
            cairo_line_to(cr, x, y);
        } else if (next) {
            cairo_move_to(cr, x, y);
        } else {
            cairo_stroke(cr);
            marker(cr, x, y, 3);
            cairo_fill(cr);
        }
    }
    cairo_stroke(cr);
    set_dash(cr, false);
}

bool plot_lines(const char *path, const plot_axes *axes, const plot_series *series, int count)
{
    error_text[0] = '\0';
    if (count < 0 || (count > 0 && !series)) {
        fail("%s: no series to draw", path);
        return false;
    }
    if (bad_lines(path, axes))
        return false;
    range rx = {0, 0, false}, ry = {0, 0, false};
    bool integer_x = true;
    for (int k = 0; k < count; k++) {
        const plot_series *s = &series[k];
        if (s->n > 0 && !s->y) {
            fail("%s: series %d has no y values", path, k);
            return false;
        }
        for (int64_t i = 0; i < s->n; i++)
            if (point_ok(s, i, axes->log_y)) {
                range_add(&rx, series_x(s, i), false);
                range_add(&ry, s->y[i], axes->log_y);
                integer_x = integer_x && series_x(s, i) == floor(series_x(s, i));
            }
    }
    cairo_surface_t *surface;
    cairo_t *cr = canvas(WIDTH, HEIGHT, &surface);
    frame f =
        chart_frame(draw_title(cr, WIDTH, axes->title, axes->note), WIDTH, HEIGHT, axes->log_y);
    ink_map ink;
    memset(&ink, 0, sizeof ink);
    f.ink = &ink;
    bool any = rx.any;
    /* Horizontal and vertical reference lines (an equilibrium, a threshold)
     * stay in view. */
    for (int k = 0; any && k < axes->line_count; k++) {
        const plot_line *l = &axes->lines[k];
        if (l->a == 0 && l->b != 0)
            range_add(&ry, l->c / l->b, axes->log_y);
        else if (l->b == 0 && l->a != 0)
            range_add(&rx, l->c / l->a, false);
    }
    /* Whole-number x (epochs) gets whole-number ticks only: a run of one or
     * two epochs is widened by half an epoch or one each side rather than
     * ticked at 0.90, 0.92, ... */
    bool fixed_x = axes->xmin < axes->xmax;
    if (any && integer_x && !fixed_x && rx.hi - rx.lo < 2) {
        double pad = rx.hi == rx.lo ? 1 : 0.5;
        rx.lo -= pad;
        rx.hi += pad;
    }
    fit_linear(&rx, axes->xmin, axes->xmax);
    /* Markers at the extremes would be cut in half by the frame. */
    bool markers = false;
    for (int k = 0; k < count; k++)
        markers = markers || series[k].style == PLOT_STYLE_MARKERS ||
                  drawable_points(&series[k], axes->log_y) == 1;
    if (markers && !axes->log_y && ry.any && ry.hi > ry.lo) {
        /* ... but a positive quantity's axis does not go below 0 for it. */
        double pad = (ry.hi - ry.lo) * 0.03;
        ry.lo = ry.lo >= 0 && ry.lo - pad < 0 ? 0 : ry.lo - pad;
        ry.hi = ry.hi <= 0 && ry.hi + pad > 0 ? 0 : ry.hi + pad;
    }
    if (axes->log_y)
        fit_log(&ry, axes->ymin, axes->ymax);
    else
        fit_linear(&ry, axes->ymin, axes->ymax);
    f.x = rx;
    f.y = ry;
    f.integer_x = any && integer_x && (!fixed_x || rx.hi - rx.lo >= 2);
    draw_axes(cr, &f, axes->xlabel, axes->ylabel, true);
    cairo_save(cr);
    clip_to(cr, &f);
    draw_lines(cr, &f, axes->lines, axes->line_count);
    for (int k = 0; k < count; k++)
        draw_series(cr, &f, &series[k], k);
    cairo_restore(cr);
    if (!any)
        no_data(cr, &f);
    int entry_count = count + axes->line_count;
    if (entry_count > 1) {
        legend_entry *entries = calloc((size_t)entry_count, sizeof *entries);
        if (entries) {
            for (int k = 0; k < count; k++) {
                int st = drawable_points(&series[k], axes->log_y) == 1 ? PLOT_STYLE_MARKERS
                                                                       : series[k].style;
                entries[k] = (legend_entry){series[k].label, k,
                                            st == PLOT_STYLE_DASHED    ? SWATCH_DASH
                                            : st == PLOT_STYLE_MARKERS ? SWATCH_MARKER
                                            : st == PLOT_STYLE_THIN    ? SWATCH_THIN
                                                                       : SWATCH_LINE};
            }
            draw_legend(cr, &f, entries, line_entries(axes, entries, count));
            free(entries);
        }
    }
    return finish(cr, surface, path);
}

/* ---- histograms ---- */

/* counts[set * bins + b]: the bin counts, as fractions of the set's finite
 * values when `density`. */
static void bin_values(const plot_values *sets, int count, int bins, range r, bool density,
                       double *counts)
{
    for (int k = 0; k < count; k++) {
        double *c = counts + (size_t)k * (size_t)bins;
        int64_t total = 0;
        for (int64_t i = 0; i < sets[k].n; i++) {
            double v = sets[k].v[i];
            if (!isfinite(v))
                continue;
            total++;
            if (v < r.lo || v > r.hi)
                continue;
            int b = (int)((v - r.lo) / (r.hi - r.lo) * bins);
            c[b < bins ? b : bins - 1] += 1;
        }
        if (density && total > 0)
            for (int b = 0; b < bins; b++)
                c[b] /= (double)total;
    }
}

/* One set's bars (or all sets' when overlaid), bottom at the axis. */
static void draw_bars(cairo_t *cr, const frame *f, range bin_range, int bins, const double *counts,
                      int colour, double alpha)
{
    double width = (bin_range.hi - bin_range.lo) / bins;
    double base = f->log_y ? f->y.lo : (f->y.lo > 0 ? f->y.lo : 0);
    for (int b = 0; b < bins; b++) {
        double c = counts[b];
        if (c <= 0 || (f->log_y && c < f->y.lo))
            continue;
        double x0 = px_of(f, bin_range.lo + b * width),
               x1 = px_of(f, bin_range.lo + (b + 1) * width);
        double y0 = py_of(f, base), y1 = py_of(f, c);
        cairo_rectangle(cr, x0, y1, x1 - x0, y0 - y1);
        ink_rect(f, x0, y1, x1, y0);
    }
    set_colour(cr, colour, alpha);
    cairo_fill_preserve(cr);
    set_colour(cr, colour, 0.9);
    cairo_set_line_width(cr, 0.8);
    cairo_stroke(cr);
}

/* The y range of bar heights: from 0 (or the smallest count on a log axis). */
static range count_range(const double *counts, int n, bool log_y, const plot_axes *axes)
{
    range r = {0, 0, false};
    if (!log_y)
        range_add(&r, 0, false);
    for (int b = 0; b < n; b++)
        range_add(&r, counts[b], log_y);
    if (log_y)
        fit_log(&r, axes->ymin, axes->ymax);
    else
        fit_linear(&r, axes->ymin, axes->ymax);
    return r;
}

bool plot_histograms(const char *path, const plot_axes *axes, const plot_values *sets, int count,
                     int bins, bool density, plot_layout layout)
{
    error_text[0] = '\0';
    bool bad = count < 0 || (count > 0 && !sets) || bins < 1 || (int64_t)count * bins > 10000000;
    for (int k = 0; !bad && k < count; k++)
        bad = sets[k].n < 0 || (sets[k].n > 0 && !sets[k].v);
    if (bad) {
        fail("%s: bad histogram arguments (%d sets, %d bins)", path, count, bins);
        return false;
    }
    if (bad_lines(path, axes))
        return false;
    range r = {0, 0, false};
    for (int k = 0; k < count; k++)
        for (int64_t i = 0; i < sets[k].n; i++)
            range_add(&r, sets[k].v[i], false);
    bool overlay = layout != PLOT_PANELS || count < 2;
    /* A vertical line (a threshold) stays in view. */
    for (int k = 0; r.any && overlay && k < axes->line_count; k++)
        if (axes->lines[k].b == 0 && axes->lines[k].a != 0)
            range_add(&r, axes->lines[k].c / axes->lines[k].a, false);
    if (axes->xmin < axes->xmax) {
        r.lo = axes->xmin;
        r.hi = axes->xmax;
    } else if (r.any && r.lo == r.hi) {
        r.lo -= 0.5;
        r.hi += 0.5;
    } else if (!r.any) {
        r.lo = 0;
        r.hi = 1;
    }
    bool any = r.any;
    double *counts = calloc((size_t)(count > 0 ? count : 1) * (size_t)bins, sizeof *counts);
    if (!counts) {
        fail("%s: out of memory", path);
        return false;
    }
    bin_values(sets, count, bins, r, density, counts);
    range xr = r; /* the bins' range, widened to round ticks */
    xr.any = true;
    fit_linear(&xr, axes->xmin, axes->xmax);

    cairo_surface_t *surface;
    cairo_t *cr;
    if (overlay) {
        cr = canvas(WIDTH, HEIGHT, &surface);
        frame f =
            chart_frame(draw_title(cr, WIDTH, axes->title, axes->note), WIDTH, HEIGHT, axes->log_y);
        ink_map ink;
        memset(&ink, 0, sizeof ink);
        f.ink = &ink;
        f.x = xr;
        f.y = count_range(counts, count * bins, axes->log_y, axes); /* shared by the sets */
        draw_axes(cr, &f, axes->xlabel, axes->ylabel, true);
        cairo_save(cr);
        clip_to(cr, &f);
        for (int k = 0; k < count; k++)
            draw_bars(cr, &f, r, bins, counts + (size_t)k * (size_t)bins, k,
                      count > 1 ? 0.45 : 0.7);
        draw_lines(cr, &f, axes->lines, axes->line_count);
        cairo_restore(cr);
        if (!any)
            no_data(cr, &f);
        int entry_count = count + axes->line_count;
        if (entry_count > 1) {
            legend_entry *entries = calloc((size_t)entry_count, sizeof *entries);
            if (entries) {
                for (int k = 0; k < count; k++)
                    entries[k] = (legend_entry){sets[k].label, k, SWATCH_BOX};
                draw_legend(cr, &f, entries, line_entries(axes, entries, count));
                free(entries);
            }
        }
    } else {
        /* Measure the title block first, on a throwaway surface. */
        cairo_surface_t *probe_surface;
        cairo_t *probe = canvas(1, 1, &probe_surface);
        double top = draw_title(probe, WIDTH, axes->title, axes->note);
        cairo_destroy(probe);
        cairo_surface_destroy(probe_surface);
        double panel_gap = 30;
        int height = (int)(top + count * (PANEL_HEIGHT + panel_gap) + 40);
        if (height > MAX_SIDE) {
            free(counts);
            fail("%s: too many panels (%d)", path, count);
            return false;
        }
        cr = canvas(WIDTH, height, &surface);
        draw_title(cr, WIDTH, axes->title, axes->note);
        for (int k = 0; k < count; k++) {
            const double *c = counts + (size_t)k * (size_t)bins;
            frame f = {80,
                       top + panel_gap - 8 + k * (PANEL_HEIGHT + panel_gap),
                       WIDTH - 80 - 24,
                       PANEL_HEIGHT,
                       xr,
                       count_range(c, bins, axes->log_y, axes),
                       axes->log_y,
                       false,
                       NULL};
            cairo_set_source_rgb(cr, 0, 0, 0);
            text(cr, f.left, f.top - 7, 12, true, LEFT, false, sets[k].label);
            draw_axes(cr, &f, axes->xlabel, axes->ylabel, k == count - 1);
            cairo_save(cr);
            clip_to(cr, &f);
            draw_bars(cr, &f, r, bins, c, k, 0.7);
            cairo_restore(cr);
        }
    }
    free(counts);
    return finish(cr, surface, path);
}

/* ---- decision boundaries ---- */

static double grid_x(const plot_grid *g, int i)
{
    return g->nx > 1 ? g->x0 + (g->x1 - g->x0) * i / (g->nx - 1) : g->x0;
}

static double grid_y(const plot_grid *g, int j)
{
    return g->ny > 1 ? g->y0 + (g->y1 - g->y0) * j / (g->ny - 1) : g->y0;
}

/* How a field's values map to shades: t in [-1, 1], the signed distance
 * from the level, tints towards class 1's colour above the level and class
 * 0's below, white at the level. A probability field maps [0, 1] directly; a
 * score is scaled by its largest distance from the level. */
typedef struct shade_map {
    bool probability;
    double level, spread;
} shade_map;

static shade_map shade_map_of(const plot_grid *g, float level)
{
    shade_map m = {level > 0 && level < 1, level, 0};
    for (int64_t i = 0; i < (int64_t)g->nx * g->ny; i++) {
        double v = g->value[i];
        if (!isfinite(v))
            continue;
        if (v < 0 || v > 1)
            m.probability = false;
        m.spread = fmax(m.spread, fabs(v - level));
    }
    return m;
}

/* The values the colour bar spans. */
static range shade_range(const shade_map *m)
{
    if (m->probability)
        return (range){0, 1, true};
    double s = m->spread > 0 ? m->spread : 1;
    return (range){m->level - s, m->level + s, true};
}

static rgb shade_of(const shade_map *m, double v)
{
    double level = m->level;
    double t = m->probability  ? (v < level ? (v - level) / level : (v - level) / (1 - level))
               : m->spread > 0 ? (v - level) / m->spread
                               : 0;
    t = t < -1 ? -1 : t > 1 ? 1 : t;
    rgb c = palette[t < 0 ? 0 : 1];
    double a = 0.45 * fabs(t) + 0.05;
    return (rgb){1 - a * (1 - c.r), 1 - a * (1 - c.g), 1 - a * (1 - c.b)};
}

/* The background: each grid value's pixel in its shade. */
static void shade_field(cairo_t *cr, const frame *f, const plot_grid *g, const shade_map *m)
{
    cairo_surface_t *image = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, g->nx, g->ny);
    if (cairo_surface_status(image) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(image);
        return;
    }
    cairo_surface_flush(image);
    unsigned char *data = cairo_image_surface_get_data(image);
    int stride = cairo_image_surface_get_stride(image);
    for (int j = 0; j < g->ny; j++) {
        uint32_t *row = (uint32_t *)(void *)(data + (size_t)(g->ny - 1 - j) * (size_t)stride);
        for (int i = 0; i < g->nx; i++) {
            double v = g->value[(size_t)j * (size_t)g->nx + (size_t)i];
            if (!isfinite(v)) {
                row[i] = 0; /* transparent: skipped */
                continue;
            }
            rgb c = shade_of(m, v);
            row[i] = 0xff000000u | (uint32_t)(c.r * 255 + 0.5) << 16 |
                     (uint32_t)(c.g * 255 + 0.5) << 8 | (uint32_t)(c.b * 255 + 0.5);
        }
    }
    cairo_surface_mark_dirty(image);
    /* Pixel i's centre lands on grid point i. */
    double cell_w = g->nx > 1 ? (px_of(f, g->x1) - px_of(f, g->x0)) / (g->nx - 1) : 1;
    double cell_h = g->ny > 1 ? (py_of(f, g->y0) - py_of(f, g->y1)) / (g->ny - 1) : 1;
    cairo_save(cr);
    cairo_rectangle(cr, px_of(f, g->x0), py_of(f, g->y1), px_of(f, g->x1) - px_of(f, g->x0),
                    py_of(f, g->y0) - py_of(f, g->y1));
    cairo_clip(cr);
    cairo_translate(cr, px_of(f, g->x0) - cell_w / 2, py_of(f, g->y1) - cell_h / 2);
    cairo_scale(cr, cell_w, cell_h);
    cairo_set_source_surface(cr, image, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_BILINEAR);
    cairo_pattern_set_extend(cairo_get_source(cr), CAIRO_EXTEND_PAD);
    cairo_paint(cr);
    cairo_restore(cr);
    cairo_surface_destroy(image);
}

#define COLOUR_BAR_SPACE 100 /* taken from the plot area's width */

/* The colour bar right of the plot area: the shades from the lowest value at
 * the bottom to the highest, ticked, the level marked as the boundary is. */
static void colour_bar(cairo_t *cr, const frame *f, const shade_map *m, const char *label)
{
    range r = shade_range(m);
    double x0 = floor(f->left + f->width + 20) + 0.5, w = 16;
    double top = floor(f->top) + 0.5, h = floor(f->height);
    for (int i = 0; i < (int)h; i++) {
        rgb c = shade_of(m, r.hi - (r.hi - r.lo) * (i + 0.5) / h);
        cairo_set_source_rgb(cr, c.r, c.g, c.b);
        cairo_rectangle(cr, x0, top + i, w, 1);
        cairo_fill(cr);
    }
    frame bar = {x0, top, w, h, {0, 1, true}, r, false, false, NULL};
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    cairo_set_line_width(cr, 2);
    cairo_move_to(cr, x0, py_of(&bar, m->level));
    cairo_line_to(cr, x0 + w, py_of(&bar, m->level));
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, x0, top, w, h);
    cairo_stroke(cr);
    double ticks[MAX_TICKS], step;
    char text_buf[64];
    int n = linear_ticks(r, 5, 0, ticks, &step);
    for (int i = 0; i < n; i++) {
        double y = floor(py_of(&bar, ticks[i])) + 0.5;
        cairo_move_to(cr, x0 + w, y);
        cairo_line_to(cr, x0 + w + 4, y);
        cairo_stroke(cr);
        tick_label(text_buf, sizeof text_buf, ticks[i], step);
        text(cr, x0 + w + 7, y, 11, false, LEFT, true, text_buf);
    }
    cairo_save(cr);
    cairo_translate(cr, x0 + w + 62, top + h / 2);
    cairo_rotate(cr, -PI / 2);
    text(cr, 0, 0, 13, false, CENTRE, true,
         label            ? label
         : m->probability ? "P(t = 1 | x)"
                          : "score");
    cairo_restore(cr);
}

/* Marching squares: in each grid cell the level crosses the edges whose ends
 * lie on opposite sides; the crossings, placed by linear interpolation, are
 * joined in pairs. A saddle (all four edges crossed) is resolved by the
 * cell's mean, as usual. */
static void contour(cairo_t *cr, const frame *f, const plot_grid *g, float level)
{
    for (int j = 0; j + 1 < g->ny; j++)
        for (int i = 0; i + 1 < g->nx; i++) {
            const float *v = g->value;
            size_t nx = (size_t)g->nx;
            /* corners: 0 bottom left, 1 bottom right, 2 top right, 3 top left */
            double c[4] = {v[j * nx + i], v[j * nx + i + 1], v[(j + 1) * nx + i + 1],
                           v[(j + 1) * nx + i]};
            double cx[4] = {grid_x(g, i), grid_x(g, i + 1), grid_x(g, i + 1), grid_x(g, i)};
            double cy[4] = {grid_y(g, j), grid_y(g, j), grid_y(g, j + 1), grid_y(g, j + 1)};
            if (!isfinite(c[0]) || !isfinite(c[1]) || !isfinite(c[2]) || !isfinite(c[3]))
                continue;
            /* crossing on edge e, between corners e and e + 1 */
            double ex[4], ey[4];
            bool crossed[4];
            int n = 0;
            for (int e = 0; e < 4; e++) {
                double a = c[e], b = c[(e + 1) % 4];
                crossed[e] = (a >= level) != (b >= level);
                if (crossed[e]) {
                    double t = (level - a) / (b - a);
                    ex[e] = cx[e] + t * (cx[(e + 1) % 4] - cx[e]);
                    ey[e] = cy[e] + t * (cy[(e + 1) % 4] - cy[e]);
                    n++;
                }
            }
            int pairs[2][2], n_pairs = 0;
            if (n == 2) {
                int first = -1;
                for (int e = 0; e < 4; e++)
                    if (crossed[e]) {
                        if (first < 0)
                            first = e;
                        else
                            pairs[n_pairs++][0] = first, pairs[0][1] = e;
                    }
            } else if (n == 4) {
                bool centre = (c[0] + c[1] + c[2] + c[3]) / 4 >= level;
                if (centre == (c[0] >= level)) {
                    /* corners 1 and 3 are cut off: edges (0,1) and (2,3) */
                    pairs[0][0] = 0, pairs[0][1] = 1, pairs[1][0] = 2, pairs[1][1] = 3;
                } else {
                    /* corners 0 and 2 are cut off: edges (3,0) and (1,2) */
                    pairs[0][0] = 3, pairs[0][1] = 0, pairs[1][0] = 1, pairs[1][1] = 2;
                }
                n_pairs = 2;
            }
            for (int p = 0; p < n_pairs; p++) {
                double x0 = px_of(f, ex[pairs[p][0]]), y0 = py_of(f, ey[pairs[p][0]]);
                double x1 = px_of(f, ex[pairs[p][1]]), y1 = py_of(f, ey[pairs[p][1]]);
                cairo_move_to(cr, x0, y0);
                cairo_line_to(cr, x1, y1);
                ink_segment(f, x0, y0, x1, y1);
            }
        }
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    cairo_set_line_width(cr, 2);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    cairo_stroke(cr);
}

bool plot_decision(const char *path, const plot_axes *axes, const float *px, const float *py,
                   const int32_t *cls, int64_t n, const char *const class_names[2],
                   const plot_grid *field, float level)
{
    error_text[0] = '\0';
    if (n < 0 || (n > 0 && (!px || !py || !cls))) {
        fail("%s: bad point arguments (%lld points)", path, (long long)n);
        return false;
    }
    if (field && (field->nx < 2 || field->ny < 2 || !field->value || !(field->x0 < field->x1) ||
                  !(field->y0 < field->y1))) {
        fail("%s: bad field (%d x %d values over [%g, %g] x [%g, %g])", path, field->nx, field->ny,
             field->x0, field->x1, field->y0, field->y1);
        return false;
    }
    if (bad_lines(path, axes))
        return false;
    range rx = {0, 0, false}, ry = {0, 0, false};
    for (int64_t i = 0; i < n; i++)
        if (isfinite(px[i]) && isfinite(py[i])) {
            range_add(&rx, px[i], false);
            range_add(&ry, py[i], false);
        }
    bool any = rx.any || field;
    if (field) {
        range_add(&rx, field->x0, false);
        range_add(&rx, field->x1, false);
        range_add(&ry, field->y0, false);
        range_add(&ry, field->y1, false);
    }
    cairo_surface_t *surface;
    cairo_t *cr = canvas(WIDTH, HEIGHT, &surface);
    frame f = chart_frame(draw_title(cr, WIDTH, axes->title, axes->note), WIDTH, HEIGHT, false);
    if (field)
        f.width -= COLOUR_BAR_SPACE;
    ink_map ink;
    memset(&ink, 0, sizeof ink);
    f.ink = &ink;
    /* A field fills the plot area exactly, unless points lie outside it. */
    bool exact_x = field && rx.lo == field->x0 && rx.hi == field->x1;
    bool exact_y = field && ry.lo == field->y0 && ry.hi == field->y1;
    if (!exact_x || axes->xmin < axes->xmax)
        fit_linear(&rx, axes->xmin, axes->xmax);
    if (!exact_y || axes->ymin < axes->ymax)
        fit_linear(&ry, axes->ymin, axes->ymax);
    f.x = rx;
    f.y = ry;
    shade_map shades = field ? shade_map_of(field, level) : (shade_map){false, level, 0};
    cairo_save(cr);
    clip_to(cr, &f);
    if (field)
        shade_field(cr, &f, field, &shades);
    cairo_restore(cr);
    draw_axes(cr, &f, axes->xlabel, axes->ylabel, true);
    if (field)
        colour_bar(cr, &f, &shades, axes->field_label);
    cairo_save(cr);
    clip_to(cr, &f);
    if (field)
        contour(cr, &f, field, level);
    draw_lines(cr, &f, axes->lines, axes->line_count);
    for (int k = 0; k < 2; k++) {
        for (int64_t i = 0; i < n; i++)
            if (cls[i] == k && isfinite(px[i]) && isfinite(py[i])) {
                double x = px_of(&f, px[i]), y = py_of(&f, py[i]);
                marker(cr, x, y, n > 2000 ? 2 : 3.5);
                ink_rect(&f, x, y, x, y);
            }
        set_colour(cr, k, 0.9);
        cairo_fill_preserve(cr);
        cairo_set_source_rgba(cr, 1, 1, 1, 0.8);
        cairo_set_line_width(cr, 0.7);
        cairo_stroke(cr);
    }
    cairo_restore(cr);
    if (!any)
        no_data(cr, &f);
    legend_entry *entries = calloc(3 + (size_t)axes->line_count, sizeof *entries);
    if (entries) {
        entries[0] = (legend_entry){class_names ? class_names[0] : "class 0", 0, SWATCH_MARKER};
        entries[1] = (legend_entry){class_names ? class_names[1] : "class 1", 1, SWATCH_MARKER};
        entries[2] = (legend_entry){field ? "boundary" : NULL, -1, SWATCH_LINE};
        draw_legend(cr, &f, entries, line_entries(axes, entries, 3));
        free(entries);
    }
    return finish(cr, surface, path);
}

/* ---- image grids ---- */

/* A label centred at (x, y) and fitted to `width` pixels: drawn smaller
 * (down to 7 points) when too wide, clipped to the width and the gaps beside
 * it beyond that. */
static void fitted_text(cairo_t *cr, double x, double y, double width, double gap, double box_h,
                        const char *s, bool bold)
{
    double size = 11, tw = text_width(cr, size, bold, s);
    if (tw > width && tw > 0)
        size = size * width / tw > 7 ? size * width / tw : 7;
    cairo_save(cr);
    cairo_rectangle(cr, x - width / 2 - gap / 2, y - box_h / 2, width + gap, box_h);
    cairo_clip(cr);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    text(cr, x, y, size, bold, CENTRE, true, s);
    cairo_restore(cr);
}

/* The lines of a column header: up to two, split at the first '\n'. */
static int header_lines(const char *s, char lines[2][128])
{
    if (!s || !*s)
        return 0;
    const char *cut = strchr(s, '\n');
    size_t first = cut ? (size_t)(cut - s) : strlen(s);
    snprintf(lines[0], sizeof lines[0], "%.*s", (int)(first < 127 ? first : 127), s);
    if (!cut)
        return 1;
    snprintf(lines[1], sizeof lines[1], "%s", cut + 1);
    return 2;
}

bool plot_image_grid(const char *path, const char *title, const float *images, int64_t n, int h,
                     int w, int cols, int zoom, const plot_image_labels *labels)
{
    error_text[0] = '\0';
    if (n < 0 || h < 1 || w < 1 || cols < 1 || zoom < 1 || (n > 0 && !images)) {
        fail("%s: bad image grid arguments (%lld images of %d x %d, %d columns, zoom %d)", path,
             (long long)n, h, w, cols, zoom);
        return false;
    }
    const char *const *captions = labels ? labels->captions : NULL;
    const char *const *headers = labels ? labels->columns : NULL;
    const char *const *row_names = labels ? labels->rows : NULL;
    int64_t rows = n > 0 ? (n + cols - 1) / cols : 0;
    int64_t shown_cols = n < cols ? n : cols;
    bool any_caption = false;
    for (int64_t i = 0; captions && i < n; i++)
        any_caption = any_caption || (captions[i] && *captions[i]);
    int most_lines = 0;
    char lines[2][128];
    for (int64_t c = 0; headers && c < shown_cols; c++) {
        int k = header_lines(headers[c], lines);
        most_lines = k > most_lines ? k : most_lines;
    }
    cairo_surface_t *surface;
    cairo_t *probe = canvas(1, 1, &surface);
    double title_w = title ? text_width(probe, 15, true, title) + 20 : 0, row_w = 0;
    for (int64_t r = 0; row_names && r < rows; r++)
        if (row_names[r])
            row_w = fmax(row_w, text_width(probe, 11, false, row_names[r]) + 12);
    cairo_destroy(probe);
    cairo_surface_destroy(surface);
    row_w = ceil(fmin(row_w, 240));
    const int gap = 6, caption_h = any_caption ? 18 : 0, title_h = title && *title ? 34 : 0;
    const int header_h = most_lines ? 4 + 14 * most_lines : 0;
    int64_t cell_w = (int64_t)w * zoom, cell_h = (int64_t)h * zoom;
    int64_t grid_w = (int64_t)row_w + gap + shown_cols * (cell_w + gap);
    int64_t width = grid_w;
    int64_t height = title_h + header_h + gap + rows * (cell_h + caption_h + gap);
    if (width > MAX_SIDE || height > MAX_SIDE) {
        fail("%s: the grid would be %lld x %lld pixels, too large", path, (long long)width,
             (long long)height);
        return false;
    }
    if (width < title_w)
        width = (int64_t)title_w;
    if (n == 0) {
        width = width > 200 ? width : 200;
        height = title_h + 40;
    }
    cairo_t *cr = canvas((int)width, (int)height, &surface);
    /* The pixels go straight into the surface: each value is exact and a
     * zoomed pixel is a sharp square. */
    cairo_surface_flush(surface);
    unsigned char *data = cairo_image_surface_get_data(surface);
    int stride = cairo_image_surface_get_stride(surface);
    /* Cell k's top left corner is (cell_x(k % cols), cell_y(k / cols)). */
    int64_t x_off = (width - grid_w) / 2 + (int64_t)row_w + gap, y_off = title_h + header_h + gap;
#define CELL_X(c) (x_off + (c) * (cell_w + gap))
#define CELL_Y(r) (y_off + (r) * (cell_h + caption_h + gap))
    for (int64_t k = 0; data && k < n; k++) {
        int64_t x0 = CELL_X(k % cols), y0 = CELL_Y(k / cols);
        const float *image = images + (size_t)k * (size_t)h * (size_t)w;
        for (int64_t y = 0; y < cell_h; y++) {
            uint32_t *row = (uint32_t *)(void *)(data + (size_t)(y0 + y) * (size_t)stride);
            for (int64_t x = 0; x < cell_w; x++) {
                float v = image[(y / zoom) * w + x / zoom];
                if (!isfinite(v))
                    continue; /* left white */
                uint32_t g = (uint32_t)(255.0f * (v < 0 ? 0 : v > 1 ? 1 : v) + 0.5f);
                row[x0 + x] = 0xff000000u | g << 16 | g << 8 | g;
            }
        }
    }
    cairo_surface_mark_dirty(surface);
    cairo_set_source_rgb(cr, 0, 0, 0);
    if (title_h)
        text(cr, width / 2.0, 23, 15, true, CENTRE, false, title);
    if (n == 0) {
        cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
        text(cr, width / 2.0, title_h + 20, 12, false, CENTRE, true, "no images");
    }
    for (int64_t c = 0; headers && c < shown_cols; c++) {
        int k = header_lines(headers[c], lines);
        /* Bottom-aligned: a one-line header sits on the cell like a two-line one's second line. */
        for (int i = 0; i < k; i++)
            fitted_text(cr, (double)CELL_X(c) + cell_w / 2.0,
                        title_h + 2 + 14 * (most_lines - k + i) + 7.0, (double)cell_w, gap, 14,
                        lines[i], true);
    }
    for (int64_t r = 0; row_names && r < rows; r++)
        if (row_names[r] && *row_names[r]) {
            cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
            text(cr, (double)x_off - gap - 6, (double)CELL_Y(r) + cell_h / 2.0, 11, false, RIGHT,
                 true, row_names[r]);
        }
    for (int64_t k = 0; any_caption && k < n; k++)
        if (captions[k] && *captions[k])
            fitted_text(cr, (double)CELL_X(k % cols) + cell_w / 2.0,
                        (double)(CELL_Y(k / cols) + cell_h) + caption_h / 2.0 + 1, (double)cell_w,
                        gap, caption_h, captions[k], false);
#undef CELL_X
#undef CELL_Y
    return finish(cr, surface, path);
}
