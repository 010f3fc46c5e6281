/* tests/data/test_npz.c: NumPy .npz archives as datasets (data/npz.c),
 * against fixtures NumPy itself wrote (tools/golden/gen_npz.py, committed
 * under tests/golden/npz/): stored (np.savez) and deflated
 * (np.savez_compressed) entries, float64 and uint8 inputs, extra arrays;
 * one fixture per flaw NumPy can write (a shape mismatch, float16, Fortran
 * order, big endian, pickled objects, ...), each with the file and array its
 * message must name; and damage done here to a good archive: every
 * truncation, a flipped byte, header edits with the CRC put right, so the
 * header parser itself is reached. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "support.h"

#define NPZ_DIR CLGRAD_GOLDEN_DIR "/npz"

static char *dir; /* the damaged-files test's folder */

static void fixture(const char *name, char *path, size_t size)
{
    snprintf(path, size, "%s/%s", NPZ_DIR, name);
}

/* The whole of a fixture in a malloc'ed buffer. */
static unsigned char *slurp(const char *name, size_t *size)
{
    char path[1024];
    fixture(name, path, sizeof path);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open the fixture %s", path);
    unsigned char *buf = malloc(1 << 20);
    ck_assert_ptr_nonnull(buf);
    *size = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

static const char *write_bytes(const char *name, const unsigned char *data, size_t size)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, size, f), size);
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

static clg_dataset *load(clg_context *ctx, const char *name)
{
    char path[1024];
    fixture(name, path, sizeof path);
    return clg_dataset_load_npz(ctx, path);
}

/* gen_npz.py's formula: x[i, j] = (i F + j) / 4 - 1, y[i] = i % 3. */
static void check_formula(clg_context *ctx, const char *name, int64_t n, int64_t features)
{
    clg_dataset *ds = load(ctx, name);
    ck_assert_msg(ds != NULL, "%s: %s", name, clg_context_error(ctx));
    ck_assert_int_eq(clg_dataset_size(ds), n);
    ck_assert_int_eq(clg_dataset_features(ds), features);
    ck_assert_int_eq(clg_dataset_classes(ds), 3); /* no minimum of ten here */
    const float *x = clg_dataset_images(ds);
    const int32_t *y = clg_dataset_labels(ds);
    for (int64_t k = 0; k < n * features; k++)
        ck_assert_msg(x[k] == (float)k / 4.0f - 1.0f, "%s: x[%lld] = %g", name, (long long)k,
                      (double)x[k]);
    for (int64_t i = 0; i < n; i++)
        ck_assert_int_eq(y[i], i % 3);
    clg_dataset_destroy(ds);
}

START_TEST(test_npz_stored_and_deflated)
{
    clg_context *ctx = test_context();
    check_formula(ctx, "stored.npz", 12, 5);
    check_formula(ctx, "deflated.npz", 12, 5);
    check_formula(ctx, "float64.npz", 6, 3);
    clg_context_destroy(ctx);
}
END_TEST

/* uint8 images (N, 1, 28, 28) become rows of 784 values k / 255; labels
 * of uint8 count their classes from the largest. */
START_TEST(test_npz_uint8_images)
{
    clg_context *ctx = test_context();
    clg_dataset *ds = load(ctx, "images_u8.npz");
    ck_assert_msg(ds != NULL, "%s", clg_context_error(ctx));
    ck_assert_int_eq(clg_dataset_size(ds), 4);
    ck_assert_int_eq(clg_dataset_features(ds), 784);
    ck_assert_int_eq(clg_dataset_classes(ds), 10);
    const float *x = clg_dataset_images(ds);
    int wrong = 0;
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 784; k++)
            wrong += x[i * 784 + k] != (float)((i + k) % 256) / 255.0f;
    ck_assert_int_eq(wrong, 0);
    const int32_t want[4] = {0, 9, 4, 1};
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(clg_dataset_labels(ds)[i], want[i]);
    clg_dataset_destroy(ds);
    clg_context_destroy(ctx);
}
END_TEST

/* y before x and a third array: found by name, the other ignored; int16
 * labels. */
START_TEST(test_npz_extra_arrays)
{
    clg_context *ctx = test_context();
    check_formula(ctx, "extra.npz", 4, 2);
    clg_context_destroy(ctx);
}
END_TEST

/* One fixture per flaw, each written by NumPy. */
START_TEST(test_npz_refusals)
{
    static const struct {
        const char *file;
        const char *parts[4]; /* NULL-terminated */
    } cases[] = {
        {"shape_mismatch.npz", {"shape_mismatch.npz: array 'y': shape (10,) but x has 12 rows"}},
        {"float16.npz", {"float16.npz: array 'x'", "'<f2' (float16)", "float32, float64 or uint8"}},
        {"fortran.npz", {"fortran.npz: array 'x'", "Fortran", "np.ascontiguousarray(x)"}},
        {"no_y.npz", {"no_y.npz: no array 'y'", "'labels.npy'", "np.savez(path, x=x, y=y)"}},
        {"negative.npz", {"negative.npz: array 'y': label -1 of sample 2 is negative"}},
        {"float_labels.npz", {"float_labels.npz: array 'y'", "(float32)", "must be integers"}},
        {"bigendian.npz", {"bigendian.npz: array 'x'", "big-endian dtype '>f4'", "astype('<f4')"}},
        {"y_2d.npz", {"y_2d.npz: array 'y': shape (4, 1)", "y.ravel()"}},
        {"x_1d.npz", {"x_1d.npz: array 'x': shape (4,)", "(N, features)"}},
        {"nan.npz", {"nan.npz: array 'x': row 1, column 1 is NaN"}},
        {"empty.npz", {"empty.npz: array 'x': no samples"}},
        {"object.npz", {"object.npz: array 'y' holds Python objects", "'|O'"}},
        {"plain.npy", {"plain.npy: a .npy file", "not an .npz archive"}},
        {"bzip2.npz", {"bzip2.npz: array 'x'", "zip method 12"}},
    };
    clg_context *ctx = test_context();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        clg_dataset *ds = load(ctx, cases[i].file);
        ck_assert_msg(ds == NULL, "%s was accepted", cases[i].file);
        test_expect_error_parts(ctx, CLG_STATUS_FORMAT, cases[i].parts);
    }
    clg_context_destroy(ctx);
}
END_TEST

/* The central directory entry of `name` in an archive, or NULL. */
static unsigned char *central_entry(unsigned char *zip, size_t size, const char *name)
{
    size_t length = strlen(name);
    for (size_t i = 0; i + 46 + length <= size; i++)
        if (memcmp(zip + i, "PK\x01\x02", 4) == 0 && zip[i + 28] == length && zip[i + 29] == 0 &&
            memcmp(zip + i + 46, name, length) == 0)
            return zip + i;
    return NULL;
}

/* Replaces the first `from` in a stored archive by `to` (same length) and
 * puts the entry's CRC right, so the reader gets past its check. */
static void edit_stored(unsigned char *zip, size_t size, const char *entry, const char *from,
                        const char *to)
{
    size_t n = strlen(from);
    ck_assert_uint_eq(strlen(to), n);
    unsigned char *hit = NULL;
    for (size_t i = 0; !hit && i + n <= size; i++)
        if (memcmp(zip + i, from, n) == 0)
            hit = zip + i;
    ck_assert_msg(hit != NULL, "\"%s\" is not in the archive", from);
    memcpy(hit, to, n);
    unsigned char *c = central_entry(zip, size, entry);
    ck_assert_ptr_nonnull(c);
    uint32_t compressed =
        (uint32_t)c[20] | (uint32_t)c[21] << 8 | (uint32_t)c[22] << 16 | (uint32_t)c[23] << 24;
    uint32_t local =
        (uint32_t)c[42] | (uint32_t)c[43] << 8 | (uint32_t)c[44] << 16 | (uint32_t)c[45] << 24;
    unsigned char *data = zip + local + 30 + (zip[local + 26] | zip[local + 27] << 8) +
                          (zip[local + 28] | zip[local + 29] << 8);
    uLong crc = crc32(crc32(0L, Z_NULL, 0), data, compressed);
    for (int b = 0; b < 4; b++)
        c[16 + b] = (unsigned char)(crc >> (8 * b));
}

START_TEST(test_npz_damaged)
{
    dir = test_temp_dir("test-npz");
    clg_context *ctx = test_context();
    static const char *const names[] = {"stored.npz", "deflated.npz"};
    for (int k = 0; k < 2; k++) {
        size_t size = 0;
        unsigned char *zip = slurp(names[k], &size);
        /* Every truncation is refused with a reason, none crashes (ASan
         * runs this too). */
        for (size_t cut = 0; cut < size; cut++) {
            const char *path = write_bytes("cut.npz", zip, cut);
            clg_dataset *ds = clg_dataset_load_npz(ctx, path);
            ck_assert_msg(ds == NULL, "%s cut to %zu bytes was accepted", names[k], cut);
            ck_assert_msg(strstr(clg_context_error(ctx), path) != NULL, "%s",
                          clg_context_error(ctx));
            clg_context_clear_error(ctx);
        }
        /* A byte flipped in each entry's data: the CRC (or the deflate
         * stream) catches it. */
        static const char *const entries[] = {"x.npy", "y.npy"};
        for (int e = 0; e < 2; e++) {
            unsigned char *c = central_entry(zip, size, entries[e]);
            ck_assert_ptr_nonnull(c);
            size_t local = (size_t)c[42] | (size_t)c[43] << 8;
            size_t data = local + 30 + (size_t)(zip[local + 26] | zip[local + 27] << 8) +
                          (size_t)(zip[local + 28] | zip[local + 29] << 8);
            zip[data + 70] ^= 0x10;
            clg_dataset *ds = clg_dataset_load_npz(ctx, write_bytes("flip.npz", zip, size));
            zip[data + 70] ^= 0x10;
            ck_assert_ptr_null(ds);
            const char *want[] = {"flip.npz: array '", "damaged", NULL};
            test_expect_error_parts(ctx, CLG_STATUS_FORMAT, want);
        }
        free(zip);
    }

    /* Header edits with the CRC put right: the .npy parser's own refusals. */
    static const struct {
        const char *from, *to, *part;
    } edits[] = {
        {"'descr'", "'descx'", "header key 'descx' is unknown"},
        {"(12, 5)", "(12, 6)", "shape (12, 6) of '<f4' does not match the 240 data bytes"},
        {"(12, 5)", "(99999)", "malformed .npy header"},
        {"'fortran_order': False", "'fortran_order': True ", "Fortran"},
        {"'<f4'", "'<f9'", "'<f9'"},
        {"'<f4'", "'<i4'", "dtype '<i4' (int32) is not read"},
        {"\x93NUMPY\x01", "\x93NUMPY\x07", "format version 7.0"},
    };
    size_t size = 0;
    unsigned char *good = slurp("stored.npz", &size);
    unsigned char *zip = malloc(size);
    ck_assert_ptr_nonnull(zip);
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        memcpy(zip, good, size);
        edit_stored(zip, size, "x.npy", edits[i].from, edits[i].to);
        clg_dataset *ds = clg_dataset_load_npz(ctx, write_bytes("edit.npz", zip, size));
        ck_assert_msg(ds == NULL, "edit %zu was accepted", i);
        const char *want[] = {"edit.npz: array 'x'", edits[i].part, NULL};
        test_expect_error_parts(ctx, CLG_STATUS_FORMAT, want);
    }
    /* The edit helper itself: an edit that changes nothing of meaning
     * (spaces of the padding) loads, so the refusals above are the
     * edits'. */
    memcpy(zip, good, size);
    edit_stored(zip, size, "x.npy", "}  ", "}\t ");
    clg_dataset *ds = clg_dataset_load_npz(ctx, write_bytes("edit.npz", zip, size));
    ck_assert_msg(ds != NULL, "%s", clg_context_error(ctx));
    clg_dataset_destroy(ds);
    free(zip);
    free(good);

    /* Found by fuzz/fuzz_npz.c: an end record that defers to zip64 with no
     * room for the zip64 locator before it was refused without a reason. */
    static const unsigned char no_locator[] = {
        'P', 'K', 3, 4, 0x2d, 0, 0, 0, 8, 0, 0,    0, 0x21, 0, 0,    0,    5,    1,    1, 'P', 'K',
        5,   6,   0, 0, 0,    0, 2, 0, 2, 0, 0x66, 0, 0,    0, 0xff, 0xff, 0xff, 0xff, 0, 0};
    ck_assert_ptr_null(
        clg_dataset_load_npz(ctx, write_bytes("zip64.npz", no_locator, sizeof no_locator)));
    const char *zip64[] = {"zip64.npz: damaged archive", "no zip64 locator", NULL};
    test_expect_error_parts(ctx, CLG_STATUS_FORMAT, zip64);

    /* Not a file to read from its end. */
    ck_assert_ptr_null(clg_dataset_load_npz(ctx, dir));
    const char *folder[] = {dir, "is a folder", NULL};
    test_expect_error_parts(ctx, CLG_STATUS_IO, folder);
    ck_assert_ptr_null(clg_dataset_load_npz(ctx, "/dev/zero"));
    const char *device[] = {"/dev/zero: not a regular file", NULL};
    test_expect_error_parts(ctx, CLG_STATUS_IO, device);
    char missing[300];
    snprintf(missing, sizeof missing, "%s/missing.npz", dir);
    ck_assert_ptr_null(clg_dataset_load_npz(ctx, missing));
    const char *absent[] = {missing, "cannot open", NULL};
    test_expect_error_parts(ctx, CLG_STATUS_IO, absent);

    clg_context_destroy(ctx);
    test_remove_temp_dir(dir);
}
END_TEST

/* The same 200 samples as CSV (label in the middle column) and as npz: the
 * two readers agree to the bit. */
START_TEST(test_npz_agrees_with_csv)
{
    clg_context *ctx = test_context();
    char path[1024];
    fixture("blobs_test.csv", path, sizeof path);
    clg_dataset *csv = clg_dataset_load_csv(ctx, path, "class");
    ck_assert_msg(csv != NULL, "%s", clg_context_error(ctx));
    clg_dataset *npz = load(ctx, "blobs_test.npz");
    ck_assert_msg(npz != NULL, "%s", clg_context_error(ctx));
    ck_assert_int_eq(clg_dataset_size(csv), 200);
    ck_assert_int_eq(clg_dataset_size(npz), 200);
    ck_assert_int_eq(clg_dataset_features(csv), 6);
    ck_assert_int_eq(clg_dataset_features(npz), 6);
    ck_assert_int_eq(clg_dataset_classes(csv), clg_dataset_classes(npz));
    ck_assert_int_eq(memcmp(clg_dataset_images(csv), clg_dataset_images(npz), 200 * 6 * 4), 0);
    ck_assert_int_eq(memcmp(clg_dataset_labels(csv), clg_dataset_labels(npz), 200 * 4), 0);
    clg_dataset_destroy(csv);
    clg_dataset_destroy(npz);
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_npz_stored_and_deflated,
                            test_npz_uint8_images,
                            test_npz_extra_arrays,
                            test_npz_refusals,
                            test_npz_damaged,
                            test_npz_agrees_with_csv,
                            NULL};
    return test_main("data/npz", "npz", 0, tests);
}
