/* tests/data/test_idx.c: IDX files (data/idx.c), plain and gzipped, written
 * here with stdio and zlib into a temporary folder and read back; every
 * malformed file refused with its status and a message naming the file and
 * the fault. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "support.h"

/* Writes `n` bytes to `path`, through gzwrite when `gzip`. */
static void write_file(const char *path, bool gzip, const void *bytes, size_t n)
{
    if (gzip) {
        gzFile gz = gzopen(path, "wb");
        ck_assert_ptr_nonnull(gz);
        if (n)
            ck_assert_int_eq(gzwrite(gz, bytes, (unsigned)n), (int)n);
        ck_assert_int_eq(gzclose(gz), Z_OK);
    } else {
        FILE *f = fopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(bytes, 1, n, f), n);
        ck_assert_int_eq(fclose(f), 0);
    }
}

/* An IDX image of unsigned bytes: header for `dims`, then data[k] = 7k + 3
 * (mod 256), into buf; returns its length. */
static size_t make_idx(unsigned char *buf, int rank, const uint32_t *dims)
{
    size_t n = 0, total = 1;
    buf[n++] = 0;
    buf[n++] = 0;
    buf[n++] = 0x08;
    buf[n++] = (unsigned char)rank;
    for (int d = 0; d < rank; d++) {
        buf[n++] = (unsigned char)(dims[d] >> 24);
        buf[n++] = (unsigned char)(dims[d] >> 16);
        buf[n++] = (unsigned char)(dims[d] >> 8);
        buf[n++] = (unsigned char)dims[d];
        total *= dims[d];
    }
    for (size_t k = 0; k < total; k++)
        buf[n++] = (unsigned char)(7 * k + 3);
    return n;
}

static void check_idx(const clg_idx *idx, int rank, const uint32_t *dims)
{
    ck_assert_int_eq(clg_idx_rank(idx), rank);
    size_t total = 1;
    for (int d = 0; d < rank; d++) {
        ck_assert_int_eq(clg_idx_dim(idx, d), dims[d]);
        total *= dims[d];
    }
    const uint8_t *data = clg_idx_data(idx);
    for (size_t k = 0; k < total; k++)
        ck_assert_msg(data[k] == (uint8_t)(7 * k + 3), "data[%zu] = %u", k, data[k]);
}

/* Ranks 1 to 4, plain and gzipped, including a zero dimension. */
START_TEST(test_idx_round_trip)
{
    clg_context *ctx = test_context();
    char *dir = test_temp_dir("idx");
    const uint32_t shapes[][4] = {{300}, {5, 7}, {2, 3, 4}, {2, 1, 3, 5}, {0, 28, 28}};
    const int ranks[] = {1, 2, 3, 4, 3};
    unsigned char buf[1024];
    for (int gzip = 0; gzip < 2; gzip++)
        for (size_t c = 0; c < sizeof ranks / sizeof ranks[0]; c++) {
            char path[512];
            snprintf(path, sizeof path, "%s/case%zu%s", dir, c, gzip ? ".gz" : "");
            size_t n = make_idx(buf, ranks[c], shapes[c]);
            write_file(path, gzip, buf, n);
            clg_idx *idx = clg_idx_read(ctx, path);
            ck_assert_msg(idx != NULL, "%s: %s", path, clg_context_error(ctx));
            check_idx(idx, ranks[c], shapes[c]);
            clg_idx_destroy(idx);
        }
    /* The gzipped files really are gzip (so the plain path was not taken). */
    char path[512];
    snprintf(path, sizeof path, "%s/case0.gz", dir);
    FILE *f = fopen(path, "rb");
    unsigned char magic[2] = {0, 0};
    ck_assert_uint_eq(fread(magic, 1, 2, f), 2);
    fclose(f);
    ck_assert(magic[0] == 0x1f && magic[1] == 0x8b);
    clg_idx_destroy(NULL);
    test_remove_temp_dir(dir);
    clg_context_destroy(ctx);
}
END_TEST

/* Negative axes count from the end; axes out of range give 0. */
START_TEST(test_idx_dim_axes)
{
    clg_context *ctx = test_context();
    char *dir = test_temp_dir("idx");
    char path[512];
    snprintf(path, sizeof path, "%s/x", dir);
    unsigned char buf[64];
    const uint32_t dims[] = {2, 3, 4};
    write_file(path, false, buf, make_idx(buf, 3, dims));
    clg_idx *idx = clg_idx_read(ctx, path);
    ck_assert_ptr_nonnull(idx);
    ck_assert_int_eq(clg_idx_dim(idx, -1), 4);
    ck_assert_int_eq(clg_idx_dim(idx, -3), 2);
    ck_assert_int_eq(clg_idx_dim(idx, 3), 0);
    ck_assert_int_eq(clg_idx_dim(idx, -4), 0);
    clg_idx_destroy(idx);
    test_remove_temp_dir(dir);
    clg_context_destroy(ctx);
}
END_TEST

/* Each malformed file, plain and gzipped: NULL, the status, and a message
 * with the path and the fault. */
START_TEST(test_idx_bad_files)
{
    clg_context *ctx = test_context();
    char *dir = test_temp_dir("idx");
    unsigned char good[64];
    const uint32_t dims[] = {2, 3, 4};
    size_t good_len = make_idx(good, 3, dims); /* 16 header + 24 data bytes */
    unsigned char longer[65];
    memcpy(longer, good, good_len);
    longer[good_len] = 9;
    struct {
        const char *name;
        const unsigned char *bytes;
        size_t len;
        const char *part1, *part2;
    } cases[] = {
#define LITERAL(text) (const unsigned char *)(text), sizeof(text) - 1
        {"empty", good, 0, "empty file", "not an IDX file"},
        {"two_bytes", good, 2, "truncated IDX header (magic number)", "expected 4 bytes, found 2"},
        {"wrong_magic", LITERAL("PK\x03\x04 zip, not idx"), "wrong magic 50 4b 03 04",
         "not an IDX file"},
        {"float_type", LITERAL("\0\0\x0d\x01\0\0\0\x01\0\0\0\0"),
         "unsupported IDX element type 0x0d", "unsigned byte"},
        {"rank0", LITERAL("\0\0\x08\0"), "IDX rank 0", "1 to 4"},
        {"rank5", LITERAL("\0\0\x08\x05"), "IDX rank 5", "1 to 4"},
        {"short_dims", good, 10, "truncated IDX header (dims for rank 3)",
         "expected 12 bytes, found 6"},
        {"short_data", good, 26, "truncated IDX data", "expected 24 bytes, found 10"},
        {"no_data", good, 16, "truncated IDX data", "expected 24 bytes, found 0"},
        {"trailing", longer, good_len + 1, "longer than its dims say", "24 data bytes"},
#undef LITERAL
    };
    for (int gzip = 0; gzip < 2; gzip++)
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            char path[512];
            snprintf(path, sizeof path, "%s/%s%s", dir, cases[c].name, gzip ? ".gz" : "");
            write_file(path, gzip, cases[c].bytes, cases[c].len);
            ck_assert_msg(clg_idx_read(ctx, path) == NULL, "%s was accepted", path);
            test_expect_error_parts(ctx, CLG_STATUS_FORMAT,
                                    (const char *[]){path, cases[c].part1, cases[c].part2, NULL});
        }

    char path[512];
    snprintf(path, sizeof path, "%s/absent", dir);
    ck_assert_ptr_null(clg_idx_read(ctx, path));
    test_expect_error_parts(ctx, CLG_STATUS_IO,
                            (const char *[]){path, "cannot open", "No such file", NULL});

    /* A folder where a file should be. */
    ck_assert_ptr_null(clg_idx_read(ctx, dir));
    test_expect_error_parts(ctx, CLG_STATUS_IO, (const char *[]){dir, NULL});

    /* Sticky: with an error pending, nothing is read, not even a good file,
     * and the first message stays. */
    snprintf(path, sizeof path, "%s/good", dir);
    write_file(path, false, good, good_len);
    ck_assert_ptr_null(clg_idx_read(ctx, "/also/absent"));
    ck_assert_ptr_null(clg_idx_read(ctx, path));
    test_expect_error_parts(ctx, CLG_STATUS_IO, (const char *[]){"/also/absent", NULL});
    clg_idx *idx = clg_idx_read(ctx, path);
    ck_assert_msg(idx != NULL, "%s", clg_context_error(ctx));
    clg_idx_destroy(idx);

    test_remove_temp_dir(dir);
    clg_context_destroy(ctx);
}
END_TEST

/* Damaged gzip streams, for a payload deflate compresses (a repeating
 * pattern: a flipped byte breaks the stream itself) and one it stores (random
 * bytes: only the CRC at the end notices): cut in half, and one byte flipped
 * in the middle. */
START_TEST(test_idx_damaged_gzip)
{
    clg_context *ctx = test_context();
    char *dir = test_temp_dir("idx");
    static unsigned char buf[4 + 4 * 2 + 4000];
    const uint32_t dims[] = {40, 100};
    for (int random = 0; random < 2; random++) {
        size_t n = make_idx(buf, 2, dims);
        uint64_t s = 12345;
        for (size_t k = 12; random && k < n; k++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            buf[k] = (unsigned char)(s >> 56);
        }
        char whole[512], cut[512], flipped[512];
        snprintf(whole, sizeof whole, "%s/whole%d.gz", dir, random);
        snprintf(cut, sizeof cut, "%s/cut%d.gz", dir, random);
        snprintf(flipped, sizeof flipped, "%s/flipped%d.gz", dir, random);
        write_file(whole, true, buf, n);
        clg_idx *idx = clg_idx_read(ctx, whole);
        ck_assert_msg(idx != NULL, "%s", clg_context_error(ctx));
        ck_assert_mem_eq(clg_idx_data(idx), buf + 12, 4000);
        clg_idx_destroy(idx);

        FILE *f = fopen(whole, "rb");
        static unsigned char gz[8192];
        size_t gz_len = fread(gz, 1, sizeof gz, f);
        fclose(f);
        ck_assert_uint_gt(gz_len, random ? 4000 : 40);

        write_file(cut, false, gz, gz_len / 2);
        ck_assert_ptr_null(clg_idx_read(ctx, cut));
        test_expect_error_parts(
            ctx, CLG_STATUS_FORMAT,
            (const char *[]){cut, "truncated IDX", "(gzip: unexpected end of file)", NULL});

        gz[gz_len / 2] ^= 0x55;
        write_file(flipped, false, gz, gz_len);
        ck_assert_ptr_null(clg_idx_read(ctx, flipped));
        test_expect_error_parts(ctx, CLG_STATUS_FORMAT,
                                (const char *[]){flipped, "damaged gzip stream", NULL});
    }
    test_remove_temp_dir(dir);
    clg_context_destroy(ctx);
}
END_TEST

/* The dims are checked against what the file can hold before the data is
 * allocated: 2^31 - 1 images in an 800-byte file, plain or gzipped (deflate
 * inflates at most 1032:1), fail naming the file, not as "out of host
 * memory". A gzip stream without its trailer, or with bytes after it, is
 * refused; two concatenated members read as one file. /dev/zero fails at
 * once. */
START_TEST(test_idx_sizes_bounded_by_the_file)
{
    clg_context *ctx = test_context();
    char *dir = test_temp_dir("idx");
    unsigned char buf[800] = {0, 0, 0x08, 3, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 28, 0, 0, 0, 28};
    char path[512];
    for (int gzip = 0; gzip < 2; gzip++) {
        snprintf(path, sizeof path, "%s/claims%s", dir, gzip ? ".gz" : "");
        write_file(path, gzip, buf, sizeof buf);
        ck_assert_ptr_null(clg_idx_read(ctx, path));
        test_expect_error_parts(
            ctx, CLG_STATUS_FORMAT,
            (const char *[]){path, "truncated IDX data", "1683627179248",
                             gzip ? "deflate expands at most 1032:1" : "found 784", NULL});
    }
    /* gzip: the last 8 bytes (CRC and length) cut off, or junk after them */
    unsigned char good[64];
    const uint32_t dims[] = {2, 3, 4};
    size_t good_len = make_idx(good, 3, dims);
    snprintf(path, sizeof path, "%s/whole.gz", dir);
    write_file(path, true, good, good_len);
    FILE *f = fopen(path, "rb");
    unsigned char gz[256];
    size_t gz_len = fread(gz, 1, sizeof gz, f);
    fclose(f);
    snprintf(path, sizeof path, "%s/no_trailer.gz", dir);
    write_file(path, false, gz, gz_len - 8);
    ck_assert_ptr_null(clg_idx_read(ctx, path));
    test_expect_error_parts(
        ctx, CLG_STATUS_FORMAT,
        (const char *[]){path, "truncated", "gzip: unexpected end of file", NULL});
    unsigned char twice[600];
    memcpy(twice, gz, gz_len);
    memcpy(twice + gz_len, "junk", 4);
    snprintf(path, sizeof path, "%s/junk_after.gz", dir);
    write_file(path, false, twice, gz_len + 4);
    ck_assert_ptr_null(clg_idx_read(ctx, path));
    test_expect_error_parts(ctx, CLG_STATUS_FORMAT,
                            (const char *[]){path, "damaged gzip stream", "after the end", NULL});
    /* two members, split inside the data: one file */
    char half[512];
    snprintf(half, sizeof half, "%s/half.gz", dir);
    write_file(half, true, good, 20);
    f = fopen(half, "rb");
    size_t first = fread(twice, 1, sizeof twice, f);
    fclose(f);
    write_file(half, true, good + 20, good_len - 20);
    f = fopen(half, "rb");
    size_t second = fread(twice + first, 1, sizeof twice - first, f);
    fclose(f);
    snprintf(path, sizeof path, "%s/members.gz", dir);
    write_file(path, false, twice, first + second);
    clg_idx *idx = clg_idx_read(ctx, path);
    ck_assert_msg(idx != NULL, "%s", clg_context_error(ctx));
    ck_assert_mem_eq(clg_idx_data(idx), good + 16, 24);
    clg_idx_destroy(idx);

    ck_assert_ptr_null(clg_idx_read(ctx, "/dev/zero"));
    test_expect_error_parts(
        ctx, CLG_STATUS_FORMAT,
        (const char *[]){"/dev/zero", "unsupported IDX element type 0x00", NULL});
    test_remove_temp_dir(dir);
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_idx_round_trip,
                            test_idx_dim_axes,
                            test_idx_bad_files,
                            test_idx_damaged_gzip,
                            test_idx_sizes_bounded_by_the_file,
                            NULL};
    return test_main("data/idx", "idx", 0, tests);
}
