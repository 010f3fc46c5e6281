/* data/csv.c: reading CSV files: any table of numbers with a header and a
 * label column, as a classification dataset (clg_dataset_load_csv), and the
 * credit-card fraud data set in its public layout (header
 * Time,V1..V28,Amount,Class; fields optionally in double quotes, as the
 * public file writes them). Every parse error names the file, the line and
 * the column. The fraud data's split and synthetic generator are in
 * data/fraud.c, MinMax scaling in data/scale.c. */
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgrad/data.h"
#include "data/dataset.h"
#include "data/file.h"
#include "engine/engine.h"

#define COLUMNS (CLG_FRAUD_FEATURES + 1) /* the features and Class */

struct clg_fraud_data {
    int64_t rows;
    int64_t frauds;
    float *x;       /* (rows, 30) */
    int32_t *label; /* (rows): 0 normal, 1 fraud */
};

static void column_name(int column, char *buf, size_t size)
{
    if (column == 0)
        snprintf(buf, size, "Time");
    else if (column <= 28)
        snprintf(buf, size, "V%d", column);
    else if (column == 29)
        snprintf(buf, size, "Amount");
    else
        snprintf(buf, size, "Class");
}

/* The largest CSV read: the public file is 150 MB; a device or an endless
 * pipe stops here with a message rather than filling memory. */
#define MAX_CSV_BYTES ((uint64_t)4 << 30)

/* The whole file, NUL-terminated; NULL with the context error set. A NUL
 * byte cannot be part of CSV text (and would end the parse early, dropping
 * the rest): it is refused with its line, which also makes /dev/zero fail at
 * its first byte. */
static char *slurp(clg_context *ctx, const char *fn, const char *path)
{
    char prefix[64];
    snprintf(prefix, sizeof prefix, "%s: ", fn);
    data_file file;
    if (!data_file_open(ctx, prefix, path, &file))
        return NULL;
    size_t capacity = 1 << 16, used = 0;
    int64_t line = 1;
    char *text = malloc(capacity);
    while (text) {
        size_t got = data_file_read(&file, text + used, capacity - used - 1);
        const char *nul = memchr(text + used, '\0', got);
        if (nul) {
            for (const char *c = text + used; c < nul; c++)
                line += *c == '\n';
            for (const char *c = text; c < text + used; c++)
                line += *c == '\n';
            eng_fail(ctx, CLG_STATUS_FORMAT,
                     "%s: %s: line %" PRId64 ": a NUL byte (at byte %zu): binary data, not CSV "
                     "text",
                     fn, path, line, used + (size_t)(nul - (text + used)) + 1);
            free(text);
            data_file_close(&file);
            return NULL;
        }
        used += got;
        if (used < capacity - 1)
            break;
        if ((uint64_t)capacity * 2 > MAX_CSV_BYTES) {
            eng_fail(ctx, CLG_STATUS_FORMAT,
                     "%s: %s: longer than %llu bytes; refusing to read on (%s)", fn, path,
                     (unsigned long long)MAX_CSV_BYTES,
                     file.regular ? "too large for a CSV of transactions"
                                  : "not a regular file: a device or an endless pipe?");
            free(text);
            data_file_close(&file);
            return NULL;
        }
        char *grown = realloc(text, capacity * 2);
        if (!grown) {
            free(text);
            text = NULL;
            break;
        }
        text = grown;
        capacity *= 2;
    }
    bool read_error = ferror(file.f) != 0;
    int err = errno;
    data_file_close(&file);
    if (!text) {
        eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "%s: %s: out of host memory", fn, path);
        return NULL;
    }
    if (read_error) {
        free(text);
        eng_fail(ctx, CLG_STATUS_IO, "%s: %s: read error: %s", fn, path, strerror(err));
        return NULL;
    }
    text[used] = '\0';
    return text;
}

/* One field starting at *p: its bounds without the optional quotes. The
 * field ends at ',', '\n', "\r\n" or the end of the text; *p is left on that
 * delimiter. */
static void next_field(const char **p, const char **start, const char **end)
{
    const char *c = *p;
    while (*c && *c != ',' && *c != '\n' && !(*c == '\r' && c[1] == '\n'))
        c++;
    const char *s = *p, *e = c;
    if (e - s >= 2 && *s == '"' && e[-1] == '"') {
        s++;
        e--;
    }
    *start = s;
    *end = e;
    *p = c;
}

static bool at_line_end(const char *c)
{
    return *c == '\0' || *c == '\n' || (*c == '\r' && c[1] == '\n');
}

static const char *skip_line_end(const char *c)
{
    return *c == '\r' ? c + 2 : *c == '\n' ? c + 1 : c;
}

static bool field_is(const char *s, const char *e, const char *want)
{
    size_t n = strlen(want);
    return (size_t)(e - s) == n && memcmp(s, want, n) == 0;
}

/* "abc" (at most 24 characters, for messages). */
static void quote_field(const char *s, const char *e, char *buf, size_t size)
{
    int n = (int)(e - s) > 24 ? 24 : (int)(e - s);
    snprintf(buf, size, "\"%.*s%s\"", n, s, e - s > 24 ? "..." : "");
}

static const char layout[] = "Time,V1,...,V28,Amount,Class";

static bool check_header(clg_context *ctx, const char *fn, const char *path, const char **p)
{
    for (int column = 0; column < COLUMNS; column++) {
        char want[16];
        column_name(column, want, sizeof want);
        if (at_line_end(*p)) {
            if (column == COLUMNS - 1)
                eng_fail(ctx, CLG_STATUS_FORMAT,
                         "%s: %s: line 1, column %d: no Class column (the header ends after "
                         "Amount); expected %s",
                         fn, path, column + 1, layout);
            else
                eng_fail(ctx, CLG_STATUS_FORMAT,
                         "%s: %s: line 1, column %d: the header ends after %d fields where "
                         "\"%s\" was expected; expected %s",
                         fn, path, column + 1, column, want, layout);
            return false;
        }
        const char *s, *e;
        next_field(p, &s, &e);
        if (!field_is(s, e, want)) {
            char got[40];
            quote_field(s, e, got, sizeof got);
            eng_fail(ctx, CLG_STATUS_FORMAT,
                     "%s: %s: line 1, column %d: header field %s, expected \"%s\" (the "
                     "credit-card fraud layout %s)",
                     fn, path, column + 1, got, want, layout);
            return false;
        }
        if (column < COLUMNS - 1 && **p == ',')
            ++*p; /* else a line end, caught at the next column */
    }
    if (!at_line_end(*p)) {
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: %s: line 1, column %d: an extra header field after Class; expected %s", fn,
                 path, COLUMNS + 1, layout);
        return false;
    }
    *p = skip_line_end(*p);
    return true;
}

/* Counts the data lines (non-empty lines after the header) for allocation. */
static int64_t count_lines(const char *p)
{
    int64_t n = 0;
    while (*p) {
        const char *nl = strchr(p, '\n');
        bool empty = (nl ? nl : p + strlen(p)) == p || (*p == '\r' && p + 1 == nl);
        n += !empty;
        p = nl ? nl + 1 : p + strlen(p);
    }
    return n;
}

CLG_API clg_fraud_data *clg_fraud_read_csv(clg_context *ctx, const char *path)
{
    static const char fn[] = "clg_fraud_read_csv";
    if (eng_failed(ctx))
        return NULL;
    char *text = slurp(ctx, fn, path);
    if (!text)
        return NULL;
    clg_fraud_data *data = NULL;
    const char *p = text;
    if (count_lines(p) == 0) { /* nothing, or blank lines only */
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: %s: line 1, column 1: the file is empty; expected "
                 "the header %s",
                 fn, path, layout);
        goto fail;
    }
    if (!check_header(ctx, fn, path, &p))
        goto fail;
    int64_t lines = count_lines(p);
    if (lines == 0) {
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: %s: line 2, column 1: no transactions after the "
                 "header",
                 fn, path);
        goto fail;
    }
    /* The rows are allocated as they parse rather than for every line
     * counted up front, so lines that are not transactions cost nothing. */
    int64_t capacity = lines < 4096 ? lines : 4096;
    data = calloc(1, sizeof *data);
    if (data) {
        data->x = malloc((size_t)capacity * CLG_FRAUD_FEATURES * sizeof *data->x);
        data->label = malloc((size_t)capacity * sizeof *data->label);
    }
    if (!data || !data->x || !data->label) {
        eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "%s: %s: out of host memory for %" PRId64 " rows",
                 fn, path, capacity);
        goto fail;
    }
    int64_t line = 1, row = 0;
    while (*p) {
        line++;
        if (at_line_end(p)) { /* blank lines (a trailing newline) are skipped */
            p = skip_line_end(p);
            continue;
        }
        if (row == capacity) {
            int64_t grown_capacity = 2 * capacity < lines ? 2 * capacity : lines;
            float *x = realloc(data->x, (size_t)grown_capacity * CLG_FRAUD_FEATURES * sizeof *x);
            if (x)
                data->x = x;
            int32_t *label = realloc(data->label, (size_t)grown_capacity * sizeof *label);
            if (label)
                data->label = label;
            if (!x || !label) {
                eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY,
                         "%s: %s: out of host memory for %" PRId64 " rows", fn, path,
                         grown_capacity);
                goto fail;
            }
            capacity = grown_capacity;
        }
        float *x = data->x + row * CLG_FRAUD_FEATURES;
        for (int column = 0; column < COLUMNS; column++) {
            char name[16];
            column_name(column, name, sizeof name);
            if (column > 0) {
                if (*p != ',') {
                    eng_fail(ctx, CLG_STATUS_FORMAT,
                             "%s: %s: line %" PRId64 ", column %d (%s): the row ends after %d "
                             "fields; expected %d (%s)",
                             fn, path, line, column + 1, name, column, COLUMNS, layout);
                    goto fail;
                }
                p++;
            }
            const char *s, *e;
            next_field(&p, &s, &e);
            char got[40];
            quote_field(s, e, got, sizeof got);
            char *end = NULL;
            errno = 0;
            double v = s < e ? strtod(s, &end) : 0.0;
            if (s == e || end != e || errno == ERANGE || !isfinite(v)) {
                eng_fail(ctx, CLG_STATUS_FORMAT,
                         "%s: %s: line %" PRId64 ", column %d (%s): %s is not a number", fn, path,
                         line, column + 1, name, got);
                goto fail;
            }
            if (column < CLG_FRAUD_FEATURES && fabs(v) > FLT_MAX) {
                /* finite as a double, infinite as the float it is kept in */
                eng_fail(ctx, CLG_STATUS_FORMAT,
                         "%s: %s: line %" PRId64 ", column %d (%s): %s overflows a 32-bit float "
                         "(largest %g)",
                         fn, path, line, column + 1, name, got, (double)FLT_MAX);
                goto fail;
            }
            if (column < CLG_FRAUD_FEATURES) {
                x[column] = (float)v;
            } else if (v == 0.0 || v == 1.0) {
                data->label[row] = (int32_t)v;
                data->frauds += v == 1.0;
            } else {
                eng_fail(ctx, CLG_STATUS_FORMAT,
                         "%s: %s: line %" PRId64 ", column %d (Class): %s is neither 0 (normal) "
                         "nor 1 (fraud)",
                         fn, path, line, column + 1, got);
                goto fail;
            }
        }
        if (!at_line_end(p)) {
            eng_fail(ctx, CLG_STATUS_FORMAT,
                     "%s: %s: line %" PRId64 ", column %d: an extra field after Class; "
                     "expected %d (%s)",
                     fn, path, line, COLUMNS + 1, COLUMNS, layout);
            goto fail;
        }
        p = skip_line_end(p);
        row++;
    }
    data->rows = row;
    if (data->frauds == 0 || data->frauds == row) {
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: %s: column %d (Class): all %" PRId64 " rows (lines 2 to %" PRId64
                 ") are class %d; fraud detection needs normal (0) and fraud (1) rows",
                 fn, path, COLUMNS, row, line, data->frauds ? 1 : 0);
        goto fail;
    }
    free(text);
    return data;
fail:
    free(text);
    clg_fraud_data_destroy(data);
    return NULL;
}

CLG_API void clg_fraud_data_destroy(clg_fraud_data *data)
{
    if (!data)
        return;
    free(data->x);
    free(data->label);
    free(data);
}

CLG_API int64_t clg_fraud_data_rows(const clg_fraud_data *data)
{
    return data->rows;
}
CLG_API int64_t clg_fraud_data_frauds(const clg_fraud_data *data)
{
    return data->frauds;
}
CLG_API const float *clg_fraud_data_features(const clg_fraud_data *data)
{
    return data->x;
}
CLG_API const int32_t *clg_fraud_data_labels(const clg_fraud_data *data)
{
    return data->label;
}

/* ---- any table of numbers with a label column ---- */

/* Column `index` (0-based) of the header line at `header`, quoted for
 * messages. */
static void header_column(const char *header, int64_t index, char *buf, size_t size)
{
    const char *p = header, *s = p, *e = p;
    for (int64_t c = 0; c <= index; c++) {
        next_field(&p, &s, &e);
        if (*p == ',')
            p++;
    }
    quote_field(s, e, buf, size);
}

CLG_API clg_dataset *clg_dataset_load_csv(clg_context *ctx, const char *path,
                                          const char *label_column)
{
    static const char fn[] = "clg_dataset_load_csv";
    if (eng_failed(ctx))
        return NULL;
    if (!path || !label_column) {
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT, "%s: the path or the label column is NULL",
                 fn);
        return NULL;
    }
    char *text = slurp(ctx, fn, path);
    if (!text)
        return NULL;
    float *x = NULL;
    int32_t *labels = NULL;
    const char *p = text;
    if (count_lines(p) == 0) {
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: %s: line 1: the file is empty; expected a header naming the columns", fn,
                 path);
        goto fail;
    }
    while (at_line_end(p) && *p) /* blank lines before the header */
        p = skip_line_end(p);
    /* The header: how many columns, and which one holds the labels. */
    const char *header = p;
    int64_t columns = 0, label = -1;
    for (;;) {
        const char *s, *e;
        next_field(&p, &s, &e);
        if (field_is(s, e, label_column)) {
            if (label >= 0) {
                eng_fail(ctx, CLG_STATUS_FORMAT,
                         "%s: %s: line 1: two columns are named \"%s\" (%lld and %lld)", fn,
                         path, label_column, (long long)label + 1, (long long)columns + 1);
                goto fail;
            }
            label = columns;
        }
        columns++;
        if (*p != ',')
            break;
        p++;
    }
    int64_t header_length = (int64_t)(p - header);
    if (label < 0) {
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: %s: line 1: no column named \"%s\" for the labels; the header is "
                 "\"%.*s%s\"",
                 fn, path, label_column, (int)(header_length > 200 ? 200 : header_length),
                 header, header_length > 200 ? "..." : "");
        goto fail;
    }
    if (columns < 2) {
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: %s: line 1: the labels are the only column; no features to learn from",
                 fn, path);
        goto fail;
    }
    p = skip_line_end(p);
    int64_t features = columns - 1, lines = count_lines(p);
    if (lines == 0) {
        eng_fail(ctx, CLG_STATUS_FORMAT, "%s: %s: line 2: no rows after the header", fn, path);
        goto fail;
    }
    /* Allocated as rows parse (a row holds at least `columns - 1` commas,
     * so memory follows the file's size, not its line count times the
     * header's width). */
    int64_t capacity = lines < 1024 ? lines : 1024, row = 0, line = 1;
    x = malloc((size_t)(capacity * features) * sizeof *x);
    labels = malloc((size_t)capacity * sizeof *labels);
    if (!x || !labels)
        goto out_of_memory;
    while (*p) {
        line++;
        if (at_line_end(p)) {
            p = skip_line_end(p);
            continue;
        }
        if (row == capacity) {
            int64_t grown = 2 * capacity < lines ? 2 * capacity : lines;
            float *more_x = realloc(x, (size_t)(grown * features) * sizeof *x);
            if (more_x)
                x = more_x;
            int32_t *more_labels = realloc(labels, (size_t)grown * sizeof *labels);
            if (more_labels)
                labels = more_labels;
            if (!more_x || !more_labels)
                goto out_of_memory;
            capacity = grown;
        }
        float *out = x + row * features;
        for (int64_t column = 0; column < columns; column++) {
            char name[40], got[40];
            if (column > 0) {
                if (*p != ',') {
                    header_column(header, column, name, sizeof name);
                    eng_fail(ctx, CLG_STATUS_FORMAT,
                             "%s: %s: line %lld, column %lld (%s): the row ends after %lld "
                             "fields; the header has %lld",
                             fn, path, (long long)line, (long long)column + 1, name,
                             (long long)column, (long long)columns);
                    goto fail;
                }
                p++;
            }
            const char *s, *e;
            next_field(&p, &s, &e);
            char *end = NULL;
            errno = 0;
            double v = s < e ? strtod(s, &end) : 0.0;
            bool number = s < e && end == e && errno != ERANGE && isfinite(v);
            bool fits = column == label ? v == floor(v) && v >= 0 && v < DATA_MAX_CLASSES
                                        : fabs(v) <= FLT_MAX;
            if (!number || !fits) {
                header_column(header, column, name, sizeof name);
                quote_field(s, e, got, sizeof got);
                eng_fail(ctx, CLG_STATUS_FORMAT, "%s: %s: line %lld, column %lld (%s): %s %s",
                         fn, path, (long long)line, (long long)column + 1, name, got,
                         !number           ? "is not a number"
                         : column == label ? "is not a class index (a whole number 0, 1, ..., "
                                             "C - 1, C at most 65536)"
                                           : "overflows a 32-bit float");
                goto fail;
            }
            if (column == label)
                labels[row] = (int32_t)v;
            else
                *out++ = (float)v;
        }
        if (!at_line_end(p)) {
            eng_fail(ctx, CLG_STATUS_FORMAT,
                     "%s: %s: line %lld, column %lld: more fields than the header's %lld", fn,
                     path, (long long)line, (long long)columns + 1, (long long)columns);
            goto fail;
        }
        p = skip_line_end(p);
        row++;
    }
    free(text);
    char labels_name[4200];
    snprintf(labels_name, sizeof labels_name, "%s: column \"%s\"", path, label_column);
    return data_dataset_take(ctx, x, labels, row, features, path, labels_name);
out_of_memory:
    eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "%s: %s: out of host memory for %lld rows", fn, path,
             (long long)capacity);
fail:
    free(text);
    free(x);
    free(labels);
    return NULL;
}
