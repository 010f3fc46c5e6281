/* tests/data/test_csv.c: CSV files (data/csv.c): any table with a label
 * column as a dataset (values, quotes, CRLF, and each refusal with its line,
 * column and column name); the credit-card fraud layout: quoted fields as
 * the public file writes them, and every kind of bad input with the file,
 * line and column its message must name. The split and the generator are
 * tested in test_fraud.c, scaling in test_scale.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"

static char *dir; /* each test's own folder */

/* dir/name holding `text`; returns the path (static buffer per call site). */
static const char *write_file(const char *name, const char *text, char *path, size_t size)
{
    snprintf(path, size, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static const char header[] = "Time,V1,V2,V3,V4,V5,V6,V7,V8,V9,V10,V11,V12,V13,V14,V15,V16,V17,"
                             "V18,V19,V20,V21,V22,V23,V24,V25,V26,V27,V28,Amount,Class\n";

/* A row with Time t, V_j = j / 10, Amount 2.5 and the class. */
static void append_row(char *text, size_t size, int t, int cls)
{
    size_t used = strlen(text);
    used += (size_t)snprintf(text + used, size - used, "%d", t);
    for (int j = 1; j <= 28; j++)
        used += (size_t)snprintf(text + used, size - used, ",%g", j / 10.0);
    snprintf(text + used, size - used, ",2.5,%d\n", cls);
}

/* The public file quotes every field and ends lines with \r\n in some
 * copies; both read the same as the plain form. */
START_TEST(test_fraud_csv_quotes_and_crlf)
{
    dir = test_temp_dir("test-csv");
    clg_context *ctx = test_context();
    char text[4096] = "\"Time\"";
    for (int j = 1; j <= 28; j++)
        snprintf(text + strlen(text), sizeof text - strlen(text), ",\"V%d\"", j);
    strcat(text, ",\"Amount\",\"Class\"\r\n");
    strcat(text, "0");
    for (int j = 1; j <= 28; j++)
        snprintf(text + strlen(text), sizeof text - strlen(text), ",%d", -j);
    strcat(text, ",149.62,\"0\"\r\n");
    append_row(text, sizeof text, 7, 1);
    char path[256];
    clg_fraud_data *d = clg_fraud_read_csv(ctx, write_file("q.csv", text, path, sizeof path));
    ck_assert_msg(d != NULL, "%s", clg_context_error(ctx));
    ck_assert_int_eq(clg_fraud_data_rows(d), 2);
    const float *x = clg_fraud_data_features(d);
    ck_assert_float_eq(x[28], -28.0f);
    ck_assert_float_eq(x[29], 149.62f);
    ck_assert_float_eq(x[30], 7.0f);
    ck_assert_int_eq(clg_fraud_data_labels(d)[0], 0);
    ck_assert_int_eq(clg_fraud_data_labels(d)[1], 1);
    clg_fraud_data_destroy(d);
    clg_context_destroy(ctx);
    test_remove_temp_dir(dir);
}
END_TEST

/* Reads `text` from dir/name with clg_fraud_read_csv, or with
 * clg_dataset_load_csv and the label column `label` when that is given, and
 * expects CLG_STATUS_FORMAT with the message "<reader>: <path>: <want>..."
 * (want is a prefix of the rest). */
static void expect_bad_csv(clg_context *ctx, const char *label, const char *name, const char *text,
                           const char *want)
{
    char path[256];
    write_file(name, text, path, sizeof path);
    clg_context_clear_error(ctx);
    const char *reader = label ? "clg_dataset_load_csv" : "clg_fraud_read_csv";
    if (label)
        ck_assert_ptr_null(clg_dataset_load_csv(ctx, path, label));
    else
        ck_assert_ptr_null(clg_fraud_read_csv(ctx, path));
    ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_FORMAT);
    char prefix[512];
    snprintf(prefix, sizeof prefix, "%s: %s: %s", reader, path, want);
    ck_assert_msg(strncmp(clg_context_error(ctx), prefix, strlen(prefix)) == 0,
                  "%s: message \"%s\", expected it to start with \"%s\"", name,
                  clg_context_error(ctx), prefix);
}

static void expect_bad(clg_context *ctx, const char *name, const char *text, const char *want)
{
    expect_bad_csv(ctx, NULL, name, text, want);
}

START_TEST(test_fraud_csv_bad_input)
{
    dir = test_temp_dir("test-csv");
    clg_context *ctx = test_context();
    char text[8192];

    expect_bad(ctx, "empty.csv", "", "line 1, column 1: the file is empty");

    snprintf(text, sizeof text, "%s", header);
    char *v3 = strstr(text, "V3");
    v3[0] = 'X';
    append_row(text, sizeof text, 0, 0);
    expect_bad(ctx, "header.csv", text, "line 1, column 4: header field \"X3\", expected \"V3\"");

    snprintf(text, sizeof text, "%s", header);
    strcpy(strstr(text, ",Class"), "\n");
    expect_bad(ctx, "noclass.csv", text, "line 1, column 31: no Class column");

    snprintf(text, sizeof text, "%s", header);
    strcpy(strstr(text, ",Class"), ",Class,Note\n");
    expect_bad(ctx, "extraheader.csv", text, "line 1, column 32: an extra header field");

    snprintf(text, sizeof text, "%s", header);
    append_row(text, sizeof text, 0, 0);
    append_row(text, sizeof text, 1, 1);
    char *field = strstr(strchr(text + strlen(header), '\n') + 1, ",0.4,");
    memcpy(field + 1, "abc", 3);
    expect_bad(ctx, "text.csv", text, "line 3, column 5 (V4): \"abc\" is not a number");

    snprintf(text, sizeof text, "%s", header);
    append_row(text, sizeof text, 0, 0);
    strcpy(strstr(text + strlen(header), ",2.5,0"), "\n"); /* drops Amount and Class */
    expect_bad(ctx, "ragged.csv", text,
               "line 2, column 30 (Amount): the row ends after 29 fields; expected 31");

    snprintf(text, sizeof text, "%s", header);
    append_row(text, sizeof text, 0, 1);
    strcpy(text + strlen(text) - 1, ",9\n");
    expect_bad(ctx, "extra.csv", text, "line 2, column 32: an extra field after Class");

    snprintf(text, sizeof text, "%s", header);
    append_row(text, sizeof text, 0, 2);
    expect_bad(ctx, "class2.csv", text, "line 2, column 31 (Class): \"2\" is neither 0");

    snprintf(text, sizeof text, "%s", header);
    for (int i = 0; i < 3; i++)
        append_row(text, sizeof text, i, 0);
    expect_bad(ctx, "oneclass.csv", text,
               "column 31 (Class): all 3 rows (lines 2 to 4) are class 0; fraud detection "
               "needs normal (0) and fraud (1) rows");

    expect_bad(ctx, "norows.csv", header, "line 2, column 1: no transactions after the header");

    clg_context_clear_error(ctx);
    ck_assert_ptr_null(clg_fraud_read_csv(ctx, "/nonexistent/creditcard.csv"));
    ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_IO);
    ck_assert_str_eq(clg_context_error(ctx),
                     "clg_fraud_read_csv: /nonexistent/creditcard.csv: cannot open: No such file or directory");
    clg_context_destroy(ctx);
    test_remove_temp_dir(dir);
}
END_TEST

/* NUL bytes (first byte or mid-file) and values that overflow a float are
 * refused with the file, line and field; /dev/zero fails at its first
 * byte rather than filling memory. */
START_TEST(test_fraud_csv_hostile_bytes)
{
    dir = test_temp_dir("test-csv");
    clg_context *ctx = test_context();
    static char text[8192];
    snprintf(text, sizeof text, "%s", header);
    for (int r = 0; r < 4; r++)
        append_row(text, sizeof text, r, r == 1);
    char path[256];
    /* a NUL as the first byte, and one inside line 3 */
    size_t n = strlen(text);
    for (int where = 0; where < 2; where++) {
        static char bytes[8192];
        memcpy(bytes, text, n);
        size_t at = where == 0 ? 0 : (size_t)(strchr(strchr(text, '\n') + 1, '\n') - text) + 5;
        bytes[at] = '\0';
        snprintf(path, sizeof path, "%s/nul%d.csv", dir, where);
        FILE *f = fopen(path, "wb");
        ck_assert_uint_eq(fwrite(bytes, 1, n, f), n);
        fclose(f);
        clg_context_clear_error(ctx);
        ck_assert_ptr_null(clg_fraud_read_csv(ctx, path));
        ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_FORMAT);
        char want[512];
        snprintf(want, sizeof want, "clg_fraud_read_csv: %s: line %d: a NUL byte (at byte %zu)",
                 path, where == 0 ? 1 : 3, at + 1);
        ck_assert_msg(strncmp(clg_context_error(ctx), want, strlen(want)) == 0, "%s",
                      clg_context_error(ctx));
    }
    /* 1e39 is a finite double but no float */
    char *v5 = strstr(strchr(strchr(text, '\n') + 1, '\n') + 1, ",0.5,");
    ck_assert_ptr_nonnull(v5);
    static char overflow[8192];
    snprintf(overflow, sizeof overflow, "%.*s,1e39,%s", (int)(v5 - text), text, v5 + 5);
    expect_bad(ctx, "overflow.csv", overflow, "line 3, column 6 (V5): \"1e39\" overflows a 32-bit float");
    clg_context_clear_error(ctx);
    ck_assert_ptr_null(clg_fraud_read_csv(ctx, "/dev/zero"));
    ck_assert_str_eq(clg_context_error(ctx),
                     "clg_fraud_read_csv: /dev/zero: line 1: a NUL byte (at byte 1): binary data, "
                     "not CSV text");
    clg_context_destroy(ctx);
    test_remove_temp_dir(dir);
}
END_TEST

/* ---- any table with a label column (clg_dataset_load_csv) ---- */

static void expect_bad_table(clg_context *ctx, const char *name, const char *text,
                             const char *label, const char *want)
{
    expect_bad_csv(ctx, label, name, text, want);
}

/* The label column anywhere, quoted fields, CRLF, blank lines; classes are
 * 1 + the largest label. */
START_TEST(test_table_csv_values)
{
    dir = test_temp_dir("test-csv");
    clg_context *ctx = test_context();
    char path[256];
    write_file("t.csv",
               "a,\"kind\",b\r\n"
               "1.5,2,-3\r\n"
               "\r\n"
               "\"0.25\",0,1e3\r\n"
               "-0,4,7\r\n",
               path, sizeof path);
    clg_dataset *ds = clg_dataset_load_csv(ctx, path, "kind");
    ck_assert_msg(ds != NULL, "%s", clg_context_error(ctx));
    ck_assert_int_eq(clg_dataset_size(ds), 3);
    ck_assert_int_eq(clg_dataset_features(ds), 2);
    ck_assert_int_eq(clg_dataset_classes(ds), 5);
    const float want_x[6] = {1.5f, -3.0f, 0.25f, 1000.0f, -0.0f, 7.0f};
    const int32_t want_y[3] = {2, 0, 4};
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq(clg_dataset_images(ds)[i], want_x[i]);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(clg_dataset_labels(ds)[i], want_y[i]);
    clg_dataset_destroy(ds);
    clg_context_destroy(ctx);
    test_remove_temp_dir(dir);
}
END_TEST

START_TEST(test_table_csv_bad_input)
{
    dir = test_temp_dir("test-csv");
    clg_context *ctx = test_context();
    expect_bad_table(ctx, "empty.csv", "", "y", "line 1: the file is empty");
    expect_bad_table(ctx, "nolabel.csv", "a,b\n1,2\n", "y",
                     "line 1: no column named \"y\" for the labels; the header is \"a,b\"");
    expect_bad_table(ctx, "twice.csv", "y,a,y\n1,2,3\n", "y",
                     "line 1: two columns are named \"y\" (1 and 3)");
    expect_bad_table(ctx, "only.csv", "y\n1\n", "y", "line 1: the labels are the only column");
    expect_bad_table(ctx, "norows.csv", "a,y\n", "y", "line 2: no rows after the header");
    expect_bad_table(ctx, "text.csv", "a,y\n1,0\nx1,1\n", "y",
                     "line 3, column 1 (\"a\"): \"x1\" is not a number");
    expect_bad_table(ctx, "half.csv", "a,y\n1,0.5\n", "y",
                     "line 2, column 2 (\"y\"): \"0.5\" is not a class index");
    expect_bad_table(ctx, "negative.csv", "a,y\n1,-1\n", "y",
                     "line 2, column 2 (\"y\"): \"-1\" is not a class index");
    expect_bad_table(ctx, "huge.csv", "a,y\n1,1e9\n", "y",
                     "line 2, column 2 (\"y\"): \"1e9\" is not a class index");
    expect_bad_table(ctx, "short.csv", "a,b,y\n1,2,0\n1,2\n", "y",
                     "line 3, column 3 (\"y\"): the row ends after 2 fields; the header has 3");
    expect_bad_table(ctx, "long.csv", "a,y\n1,2,3\n", "y",
                     "line 2, column 3: more fields than the header's 2");
    expect_bad_table(ctx, "overflow.csv", "a,y\n1e39,0\n", "y",
                     "line 2, column 1 (\"a\"): \"1e39\" overflows a 32-bit float");
    expect_bad_table(ctx, "nan.csv", "a,y\nnan,0\n", "y",
                     "line 2, column 1 (\"a\"): \"nan\" is not a number");
    clg_context_clear_error(ctx);
    ck_assert_ptr_null(clg_dataset_load_csv(ctx, "/dev/zero", "y"));
    ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_FORMAT);
    clg_context_destroy(ctx);
    test_remove_temp_dir(dir);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_fraud_csv_quotes_and_crlf, test_fraud_csv_bad_input,
                            test_fraud_csv_hostile_bytes,   test_table_csv_values,
                            test_table_csv_bad_input,       NULL};
    return test_main("data/csv", "csv", 0, tests);
}
