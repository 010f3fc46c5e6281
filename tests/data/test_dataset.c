/* tests/data/test_dataset.c: MNIST-layout datasets (data/dataset.c): the
 * real Fashion-MNIST from $CLGRAD_FASHION_MNIST (Debian's
 * dataset-fashion-mnist; tests/meson.build sets the variable), checked
 * against counts and byte sums computed independently with Python's gzip, a
 * tiny synthetic folder, row gathering, and the messages for a missing folder
 * and a damaged file; datasets from host arrays (a copy, checked) and the
 * seeded held-out split. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "support.h"

static const char *fashion_dir(void)
{
    const char *dir = getenv("CLGRAD_FASHION_MNIST");
    return dir && *dir ? dir : CLG_FASHION_MNIST_DIR;
}

/* An IDX file of unsigned bytes in dir/name (gzipped when the name ends in
 * .gz); `data_bytes` may be fewer than the dims call for, to make a
 * truncated file. */
static void write_idx(const char *dir, const char *name, int rank, const uint32_t *dims,
                      const uint8_t *data, size_t data_bytes)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    unsigned char header[20] = {0, 0, 0x08, (unsigned char)rank};
    for (int d = 0; d < rank; d++)
        for (int b = 0; b < 4; b++)
            header[4 + 4 * d + b] = (unsigned char)(dims[d] >> (24 - 8 * b));
    size_t header_bytes = 4 + 4 * (size_t)rank;
    bool gzip = strlen(name) > 3 && strcmp(name + strlen(name) - 3, ".gz") == 0;
    if (gzip) {
        gzFile gz = gzopen(path, "wb");
        ck_assert_ptr_nonnull(gz);
        ck_assert_int_eq(gzwrite(gz, header, (unsigned)header_bytes), (int)header_bytes);
        if (data_bytes)
            ck_assert_int_eq(gzwrite(gz, data, (unsigned)data_bytes), (int)data_bytes);
        ck_assert_int_eq(gzclose(gz), Z_OK);
    } else {
        FILE *f = fopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(header, 1, header_bytes, f), header_bytes);
        ck_assert_uint_eq(fwrite(data, 1, data_bytes, f), data_bytes);
        ck_assert_int_eq(fclose(f), 0);
    }
}

/* Every pixel is k / 255 for a byte k, and the bytes add up to what Python
 * found; labels are balanced and start as Python read them. */
static void check_fashion(clg_context *ctx, bool train, int64_t size, uint64_t byte_sum,
                          const int32_t *first_labels)
{
    clg_dataset *ds = clg_dataset_load_mnist(ctx, fashion_dir(), train);
    ck_assert_msg(ds != NULL, "%s", clg_context_error(ctx));
    ck_assert_int_eq(clg_dataset_size(ds), size);
    ck_assert_int_eq(clg_dataset_features(ds), 784);
    ck_assert_int_eq(clg_dataset_classes(ds), 10);

    /* One assertion after the loop: Check reports every assertion to its
     * parent process, which for 47 million pixels takes minutes. */
    const float *x = clg_dataset_images(ds);
    uint64_t sum = 0;
    float lo = 1, hi = 0;
    size_t not_bytes = 0, first_bad = 0;
    for (size_t i = 0; i < (size_t)size * 784; i++) {
        float k = roundf(x[i] * 255.0f);
        if (x[i] != k / 255.0f && not_bytes++ == 0)
            first_bad = i;
        sum += (uint64_t)k;
        lo = fminf(lo, x[i]);
        hi = fmaxf(hi, x[i]);
    }
    ck_assert_msg(not_bytes == 0, "%zu pixels are not a byte / 255, the first %zu = %.9g",
                  not_bytes, first_bad, (double)x[first_bad]);
    ck_assert_float_eq(lo, 0.0f);
    ck_assert_float_eq(hi, 1.0f);
    ck_assert_uint_eq(sum, byte_sum);

    const int32_t *y = clg_dataset_labels(ds);
    int64_t histogram[10] = {0}, out_of_range = 0;
    for (int64_t i = 0; i < size; i++) {
        if (y[i] >= 0 && y[i] < 10)
            histogram[y[i]]++;
        else
            out_of_range++;
    }
    ck_assert_int_eq(out_of_range, 0);
    for (int c = 0; c < 10; c++)
        ck_assert_msg(histogram[c] == size / 10, "class %d has %lld images, want %lld", c,
                      (long long)histogram[c], (long long)(size / 10));
    ck_assert_mem_eq(y, first_labels, 10 * sizeof *y);
    clg_dataset_destroy(ds);
}

START_TEST(test_dataset_fashion_mnist_train)
{
    clg_context *ctx = test_context();
    check_fashion(ctx, true, 60000, 3431114169ULL, (const int32_t[]){9, 0, 0, 3, 0, 2, 7, 2, 5, 5});
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_dataset_fashion_mnist_test)
{
    clg_context *ctx = test_context();
    check_fashion(ctx, false, 10000, 573469082ULL, (const int32_t[]){9, 2, 1, 1, 6, 1, 4, 6, 5, 7});
    clg_context_destroy(ctx);
}
END_TEST

/* Three 2x2 images in plain files: exact pixel values, a label above 9 widens
 * the classes, and gather copies the named rows (an index outside the
 * dataset gives a zero row and label -1). */
START_TEST(test_dataset_small_and_gather)
{
    clg_context *ctx = test_context();
    char *dir = test_temp_dir("dataset");
    const uint8_t pixels[12] = {0, 255, 1, 128, 10, 20, 30, 40, 254, 3, 2, 1};
    const uint8_t labels[3] = {4, 12, 0};
    write_idx(dir, "t10k-images-idx3-ubyte", 3, (const uint32_t[]){3, 2, 2}, pixels, 12);
    write_idx(dir, "t10k-labels-idx1-ubyte.gz", 1, (const uint32_t[]){3}, labels, 3);
    clg_dataset *ds = clg_dataset_load_mnist(ctx, dir, false);
    ck_assert_msg(ds != NULL, "%s", clg_context_error(ctx));
    ck_assert_int_eq(clg_dataset_size(ds), 3);
    ck_assert_int_eq(clg_dataset_features(ds), 4);
    ck_assert_int_eq(clg_dataset_classes(ds), 13);
    for (int i = 0; i < 12; i++)
        ck_assert_float_eq(clg_dataset_images(ds)[i], (float)pixels[i] / 255.0f);
    ck_assert_mem_eq(clg_dataset_labels(ds), ((const int32_t[]){4, 12, 0}), 3 * sizeof(int32_t));

    float x[4 * 4];
    int32_t y[4];
    clg_dataset_gather(ds, (const int64_t[]){2, 0, 7, 2}, 4, x, y);
    ck_assert_mem_eq(x, clg_dataset_images(ds) + 8, 4 * sizeof(float));
    ck_assert_mem_eq(x + 4, clg_dataset_images(ds), 4 * sizeof(float));
    for (int i = 8; i < 12; i++)
        ck_assert_float_eq(x[i], 0.0f);
    ck_assert_mem_eq(x + 12, clg_dataset_images(ds) + 8, 4 * sizeof(float));
    ck_assert_mem_eq(y, ((const int32_t[]){0, 4, -1, 0}), sizeof y);
    clg_dataset_destroy(ds);
    clg_dataset_destroy(NULL);

    /* The training split is not there. */
    ck_assert_ptr_null(clg_dataset_load_mnist(ctx, dir, true));
    test_expect_error_parts(
        ctx, CLG_STATUS_IO,
        (const char *[]){dir, "train-images-idx3-ubyte.gz", "dataset-fashion-mnist", NULL});
    test_remove_temp_dir(dir);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_dataset_missing_folder)
{
    clg_context *ctx = test_context();
    const char *dir = "/nonexistent/fashion-mnist";
    ck_assert_ptr_null(clg_dataset_load_mnist(ctx, dir, true));
    test_expect_error_parts(ctx, CLG_STATUS_IO,
                            (const char *[]){dir, "apt-get install dataset-fashion-mnist",
                                             CLG_FASHION_MNIST_DIR, NULL});
    clg_context_destroy(ctx);
}
END_TEST

/* Damaged folders: a truncated images file (named in the message), and
 * images and labels that disagree on the count (both named). */
START_TEST(test_dataset_bad_files)
{
    clg_context *ctx = test_context();
    char *dir = test_temp_dir("dataset");
    static uint8_t pixels[5 * 28 * 28];
    const uint8_t labels[5] = {1, 2, 3, 4, 5};
    /* 5 images promised, 100 bytes delivered */
    write_idx(dir, "train-images-idx3-ubyte.gz", 3, (const uint32_t[]){5, 28, 28}, pixels, 100);
    write_idx(dir, "train-labels-idx1-ubyte", 1, (const uint32_t[]){5}, labels, 5);
    ck_assert_ptr_null(clg_dataset_load_mnist(ctx, dir, true));
    test_expect_error_parts(ctx, CLG_STATUS_FORMAT,
                            (const char *[]){"train-images-idx3-ubyte.gz", "truncated IDX data",
                                             "expected 3920 bytes, found 100", NULL});

    write_idx(dir, "t10k-images-idx3-ubyte", 3, (const uint32_t[]){5, 28, 28}, pixels,
              sizeof pixels);
    write_idx(dir, "t10k-labels-idx1-ubyte", 1, (const uint32_t[]){4}, labels, 4);
    ck_assert_ptr_null(clg_dataset_load_mnist(ctx, dir, false));
    test_expect_error_parts(ctx, CLG_STATUS_FORMAT,
                            (const char *[]){"t10k-images-idx3-ubyte has 5 images",
                                             "t10k-labels-idx1-ubyte has 4 labels", NULL});

    /* Labels stored as a matrix are not labels. */
    write_idx(dir, "t10k-labels-idx1-ubyte", 2, (const uint32_t[]){5, 1}, labels, 5);
    ck_assert_ptr_null(clg_dataset_load_mnist(ctx, dir, false));
    test_expect_error_parts(ctx, CLG_STATUS_FORMAT,
                            (const char *[]){"t10k-labels-idx1-ubyte", "rank 2", NULL});
    test_remove_temp_dir(dir);
    clg_context_destroy(ctx);
}
END_TEST

/* An empty split fails naming its images file; labels checked against a
 * model's classes name the labels file, the sample and the label. */
START_TEST(test_dataset_empty_split_and_label_check)
{
    clg_context *ctx = test_context();
    char *dir = test_temp_dir("dataset");
    const uint32_t train_dims[] = {3, 2, 2}, train_labels[] = {3};
    const uint8_t pixels[12] = {0}, labels[3] = {1, 9, 4};
    write_idx(dir, "train-images-idx3-ubyte", 3, train_dims, pixels, 12);
    write_idx(dir, "train-labels-idx1-ubyte", 1, train_labels, labels, 3);
    const uint32_t empty_dims[] = {0, 2, 2}, empty_labels[] = {0};
    write_idx(dir, "t10k-images-idx3-ubyte", 3, empty_dims, pixels, 0);
    write_idx(dir, "t10k-labels-idx1-ubyte", 1, empty_labels, labels, 0);
    char path[1024];
    snprintf(path, sizeof path, "%s/t10k-images-idx3-ubyte", dir);
    ck_assert_ptr_null(clg_dataset_load_mnist(ctx, dir, false));
    test_expect_error_parts(ctx, CLG_STATUS_FORMAT,
                            (const char *[]){path, "no images", "t10k", NULL});

    clg_dataset *ds = clg_dataset_load_mnist(ctx, dir, true);
    ck_assert_msg(ds != NULL, "%s", clg_context_error(ctx));
    snprintf(path, sizeof path, "%s/train-labels-idx1-ubyte", dir);
    ck_assert_str_eq(clg_dataset_labels_path(ds), path);
    ck_assert_int_eq(clg_dataset_check_labels(ctx, ds, 10), CLG_STATUS_OK);
    ck_assert_int_eq(clg_dataset_check_labels(ctx, ds, 9), CLG_STATUS_FORMAT);
    test_expect_error_parts(
        ctx, CLG_STATUS_FORMAT,
        (const char *[]){path, "label 9 (of sample 1) is outside the model's 9 classes", NULL});
    clg_dataset_destroy(ds);
    test_remove_temp_dir(dir);
    clg_context_destroy(ctx);
}
END_TEST

/* A copy, not a borrow; classes from the largest label; the checks every
 * source shares. */
START_TEST(test_dataset_from_arrays)
{
    clg_context *ctx = test_context();
    float x[6] = {1, 2, 3, 4, 5, 6};
    int32_t y[3] = {0, 6, 2};
    clg_dataset *ds = clg_dataset_from_arrays(ctx, x, 3, 2, y, "mine");
    ck_assert_msg(ds != NULL, "%s", clg_context_error(ctx));
    x[0] = 100;
    y[0] = 5;
    ck_assert_int_eq(clg_dataset_size(ds), 3);
    ck_assert_int_eq(clg_dataset_features(ds), 2);
    ck_assert_int_eq(clg_dataset_classes(ds), 7);
    ck_assert_float_eq(clg_dataset_images(ds)[0], 1.0f);
    ck_assert_int_eq(clg_dataset_labels(ds)[0], 0);
    ck_assert_str_eq(clg_dataset_labels_path(ds), "mine: labels");
    clg_dataset_destroy(ds);
    x[0] = 1;
    y[0] = 0;

    y[1] = -2;
    ck_assert_ptr_null(clg_dataset_from_arrays(ctx, x, 3, 2, y, "mine"));
    test_expect_error_parts(
        ctx, CLG_STATUS_FORMAT,
        (const char *[]){"mine: labels: label -2 of sample 1 is negative", NULL});
    y[1] = 65536;
    ck_assert_ptr_null(clg_dataset_from_arrays(ctx, x, 3, 2, y, NULL));
    test_expect_error_parts(
        ctx, CLG_STATUS_FORMAT,
        (const char *[]){"clg_dataset_from_arrays: labels: label 65536 of sample 1 is "
                         "too large",
                         NULL});
    y[1] = 1;
    x[5] = INFINITY;
    ck_assert_ptr_null(clg_dataset_from_arrays(ctx, x, 3, 2, y, "mine"));
    test_expect_error_parts(ctx, CLG_STATUS_FORMAT,
                            (const char *[]){"mine: x: row 2, column 1 is infinite", NULL});
    ck_assert_ptr_null(clg_dataset_from_arrays(ctx, x, 0, 2, y, "mine"));
    test_expect_error_parts(ctx, CLG_STATUS_INVALID_ARGUMENT,
                            (const char *[]){"0 rows of 2", NULL});
    ck_assert_ptr_null(clg_dataset_from_arrays(ctx, NULL, 3, 2, y, "mine"));
    test_expect_error_parts(ctx, CLG_STATUS_INVALID_ARGUMENT, (const char *[]){"x NULL", NULL});
    clg_context_destroy(ctx);
}
END_TEST

/* Every row lands in exactly one part, in the file's order; the held-out
 * count is the rounded fraction; the same seed gives the same split and
 * another seed another; both parts keep the whole set's classes. */
START_TEST(test_dataset_split)
{
    clg_context *ctx = test_context();
    enum { N = 50 };
    float x[N * 2];
    int32_t y[N];
    for (int i = 0; i < N; i++) {
        x[2 * i] = (float)i;
        x[2 * i + 1] = (float)-i;
        y[i] = i == 7 ? 9 : i % 2; /* class 9 only in row 7 */
    }
    clg_dataset *ds = clg_dataset_from_arrays(ctx, x, N, 2, y, "rows");
    ck_assert_ptr_nonnull(ds);
    clg_dataset *train = NULL, *held = NULL, *train2 = NULL, *held2 = NULL;
    ck_assert_int_eq(clg_dataset_split(ctx, ds, 0.1, 42, &train, &held), CLG_STATUS_OK);
    ck_assert_int_eq(clg_dataset_size(held), 5);
    ck_assert_int_eq(clg_dataset_size(train), 45);
    ck_assert_int_eq(clg_dataset_classes(train), 10);
    ck_assert_int_eq(clg_dataset_classes(held), 10);
    int seen[N] = {0};
    const clg_dataset *parts[2] = {train, held};
    for (int p = 0; p < 2; p++) {
        float last = -1;
        for (int64_t i = 0; i < clg_dataset_size(parts[p]); i++) {
            const float *row = clg_dataset_images(parts[p]) + 2 * i;
            int r = (int)row[0];
            ck_assert_float_eq(row[1], (float)-r);
            ck_assert_int_eq(clg_dataset_labels(parts[p])[i], y[r]);
            ck_assert_msg(row[0] > last, "part %d is not in the file's order", p);
            last = row[0];
            seen[r]++;
        }
    }
    for (int r = 0; r < N; r++)
        ck_assert_int_eq(seen[r], 1);
    ck_assert_int_eq(clg_dataset_split(ctx, ds, 0.1, 42, &train2, &held2), CLG_STATUS_OK);
    ck_assert_int_eq(memcmp(clg_dataset_images(held), clg_dataset_images(held2), 5 * 2 * 4), 0);
    clg_dataset_destroy(train2);
    clg_dataset_destroy(held2);
    ck_assert_int_eq(clg_dataset_split(ctx, ds, 0.1, 43, &train2, &held2), CLG_STATUS_OK);
    ck_assert_int_ne(memcmp(clg_dataset_images(held), clg_dataset_images(held2), 5 * 2 * 4), 0);
    clg_dataset_destroy(train2);
    clg_dataset_destroy(held2);
    /* a fraction that rounds to nothing still holds one row out */
    ck_assert_int_eq(clg_dataset_split(ctx, ds, 0.001, 1, &train2, &held2), CLG_STATUS_OK);
    ck_assert_int_eq(clg_dataset_size(held2), 1);
    clg_dataset_destroy(train2);
    clg_dataset_destroy(held2);
    ck_assert_int_eq(clg_dataset_split(ctx, ds, 1.0, 1, &train2, &held2),
                     CLG_STATUS_INVALID_ARGUMENT);
    test_expect_error_parts(ctx, CLG_STATUS_INVALID_ARGUMENT, (const char *[]){"fraction 1", NULL});
    ck_assert_ptr_null(train2);
    clg_dataset_destroy(train);
    clg_dataset_destroy(held);
    clg_dataset_destroy(ds);
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_dataset_fashion_mnist_train,
                            test_dataset_fashion_mnist_test,
                            test_dataset_small_and_gather,
                            test_dataset_empty_split_and_label_check,
                            test_dataset_missing_folder,
                            test_dataset_bad_files,
                            test_dataset_from_arrays,
                            test_dataset_split,
                            NULL};
    return test_main("data/dataset", "dataset", 0, tests);
}
