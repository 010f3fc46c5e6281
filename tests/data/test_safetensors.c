/* tests/data/test_safetensors.c: the safetensors reader and checkpoints
 * (data/safetensors.c): a save/load round trip with metadata, a file written
 * by PyTorch-side code read back bit for bit, and every malformed input
 * refused with a message naming the file and the fault. */
#include <dirent.h>
#include <float.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.h"

/* ---- temporary folders ---- */

/* The names in `dir` (not . and ..), joined by spaces, into buf. */
static const char *list_dir(const char *dir, char *buf, size_t capacity)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    buf[0] = '\0';
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (buf[0])
            strncat(buf, " ", capacity - strlen(buf) - 1);
        strncat(buf, e->d_name, capacity - strlen(buf) - 1);
    }
    closedir(d);
    return buf;
}

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

/* The whole file, malloc'ed; its size in *n. */
static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    unsigned char *buf = malloc(1 << 20);
    *n = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

/* A safetensors file: the 8-byte length, `header` as is, then data_bytes
 * bytes of data (0x11 each). */
static void write_safetensors(const char *path, const char *header, size_t data_bytes)
{
    size_t h = strlen(header);
    unsigned char *buf = calloc(1, 8 + h + data_bytes);
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)((uint64_t)h >> (8 * i));
    memcpy(buf + 8, header, h);
    memset(buf + 8 + h, 0x11, data_bytes);
    write_bytes(path, buf, 8 + h + data_bytes);
    free(buf);
}

static uint32_t bits(float x)
{
    uint32_t u;
    memcpy(&u, &x, 4);
    return u;
}

/* A parameter list of persistent tensors with deterministic values; the
 * tensors are returned in `tensors` (destroy them). */
static clg_params *make_params(clg_context *ctx, size_t n, const char *const *names,
                               const int *ranks, const int64_t (*shapes)[4], uint64_t seed,
                               clg_tensor **tensors)
{
    clg_params *ps = clg_params_create(ctx);
    ck_assert_ptr_nonnull(ps);
    for (size_t i = 0; i < n; i++) {
        int64_t numel = 1;
        for (int d = 0; d < ranks[i]; d++)
            numel *= shapes[i][d];
        float *values = malloc((size_t)numel * sizeof *values);
        test_random(values, (size_t)numel, seed + i, -3, 3);
        tensors[i] = test_tensor(ctx, ranks[i], shapes[i], values, false);
        free(values);
        ck_assert_int_eq(clg_params_add(ps, names[i], tensors[i]), CLG_STATUS_OK);
    }
    return ps;
}

static void destroy_params(clg_params *ps, clg_tensor **tensors)
{
    for (size_t i = 0; i < clg_params_count(ps); i++)
        clg_tensor_destroy(tensors[i]);
    clg_params_destroy(ps);
}

static const char *const model_names[] = {"fc1.weight", "fc1.bias", "temperature"};
static const int model_ranks[] = {2, 1, 0};
static const int64_t model_shapes[][4] = {{3, 4}, {4}, {0}};

/* Save, read back raw (names, shapes, bits, metadata), load into a fresh
 * model, and check that nothing but the checkpoint is left in the folder. */
START_TEST(test_checkpoint_round_trip)
{
    clg_context *ctx = test_context();
    char *dir = test_temp_dir("safetensors");
    char path[512], listing[512];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);

    clg_tensor *saved[3], *loaded[3];
    clg_params *ps = make_params(ctx, 3, model_names, model_ranks, model_shapes, 100, saved);
    const char *keys[] = {"epoch", "note"};
    const char *values[] = {"3", "quote \" backslash \\ tab\t caf\xc3\xa9"};
    ck_assert_msg(clg_checkpoint_save(ctx, ps, path, keys, values, 2) == CLG_STATUS_OK, "%s",
                  clg_context_error(ctx));
    ck_assert_str_eq(list_dir(dir, listing, sizeof listing), "model.safetensors");

    clg_safetensors *st = clg_safetensors_read(ctx, path);
    ck_assert_msg(st != NULL, "%s", clg_context_error(ctx));
    ck_assert_uint_eq(clg_safetensors_count(st), 3);
    ck_assert_str_eq(clg_safetensors_metadata(st, "epoch"), "3");
    ck_assert_str_eq(clg_safetensors_metadata(st, "note"), values[1]);
    ck_assert_ptr_null(clg_safetensors_metadata(st, "absent"));
    for (size_t i = 0; i < 3; i++) {
        ck_assert_str_eq(clg_safetensors_name(st, i), model_names[i]);
        clg_dtype dtype;
        int rank;
        const int64_t *shape;
        const void *data;
        ck_assert(clg_safetensors_get(st, model_names[i], &dtype, &rank, &shape, &data));
        ck_assert_int_eq(dtype, CLG_DTYPE_F32);
        ck_assert_int_eq(rank, model_ranks[i]);
        for (int d = 0; d < rank; d++)
            ck_assert_int_eq(shape[d], model_shapes[i][d]);
        float *want = test_download(saved[i]);
        size_t n = (size_t)clg_tensor_numel(saved[i]);
        ck_assert_msg(memcmp(data, want, n * 4) == 0, "%s: bytes differ", model_names[i]);
        free(want);
    }
    ck_assert_ptr_null(clg_safetensors_name(st, 3));
    clg_safetensors_destroy(st);

    clg_params *fresh = make_params(ctx, 3, model_names, model_ranks, model_shapes, 900, loaded);
    ck_assert_msg(clg_checkpoint_load(ctx, fresh, path) == CLG_STATUS_OK, "%s",
                  clg_context_error(ctx));
    for (size_t i = 0; i < 3; i++) {
        float *want = test_download(saved[i]);
        float *got = test_download(loaded[i]);
        test_assert_close(got, want, (size_t)clg_tensor_numel(saved[i]), test_tol_get("exact"),
                          model_names[i]);
        free(want);
        free(got);
    }
    /* Overwriting an existing checkpoint goes through the rename as well. */
    ck_assert_int_eq(clg_checkpoint_save(ctx, fresh, path, NULL, NULL, 0), CLG_STATUS_OK);
    ck_assert_str_eq(list_dir(dir, listing, sizeof listing), "model.safetensors");
    st = clg_safetensors_read(ctx, path);
    ck_assert_ptr_nonnull(st);
    ck_assert_ptr_null(clg_safetensors_metadata(st, "epoch"));
    clg_safetensors_destroy(st);

    destroy_params(ps, saved);
    destroy_params(fresh, loaded);
    test_remove_temp_dir(dir);
    clg_context_destroy(ctx);
}
END_TEST

/* tests/golden/data_small.safetensors, written by
 * tools/golden/gen_data_safetensors.py; the expected values are its
 * formulas, recomputed here. */
START_TEST(test_safetensors_reads_pytorch_file)
{
    clg_context *ctx = test_context();
    clg_safetensors *st = test_golden_open(ctx, "data_small");
    ck_assert_uint_eq(clg_safetensors_count(st), 8);
    ck_assert_str_eq(clg_safetensors_metadata(st, "generator"),
                     "tools/golden/gen_data_safetensors.py");
    ck_assert_str_eq(clg_safetensors_metadata(st, "quote"), "say \"hi\"\\ok");
    /* json.dumps wrote these as \u00e9 and the surrogate pair \ud83d\ude00. */
    ck_assert_str_eq(clg_safetensors_metadata(st, "unicode"), "caf\xc3\xa9 \xf0\x9f\x98\x80");

    clg_dtype dtype;
    int rank;
    const int64_t *shape;
    const void *data;

    ck_assert(clg_safetensors_get(st, "f32.matrix", &dtype, &rank, &shape, &data));
    ck_assert_int_eq(dtype, CLG_DTYPE_F32);
    ck_assert_int_eq(rank, 2);
    ck_assert_int_eq(shape[0], 3);
    ck_assert_int_eq(shape[1], 4);
    for (int k = 0; k < 12; k++)
        ck_assert_uint_eq(bits(((const float *)data)[k]), bits((float)k / 4 - 1));

    ck_assert(clg_safetensors_get(st, "f32.rank4", &dtype, &rank, &shape, &data));
    ck_assert_int_eq(rank, 4);
    const int64_t rank4[] = {2, 1, 3, 2};
    for (int d = 0; d < 4; d++)
        ck_assert_int_eq(shape[d], rank4[d]);
    for (int k = 0; k < 12; k++)
        ck_assert_uint_eq(bits(((const float *)data)[k]), bits((float)k * 0.5f));

    ck_assert(clg_safetensors_get(st, "f32.scalar", &dtype, &rank, &shape, &data));
    ck_assert_int_eq(rank, 0);
    ck_assert_uint_eq(bits(*(const float *)data), bits(2.5f));

    ck_assert(clg_safetensors_get(st, "f32.empty", &dtype, &rank, &shape, &data));
    ck_assert_int_eq(rank, 2);
    ck_assert_int_eq(shape[0], 0);
    ck_assert_int_eq(shape[1], 3);

    ck_assert(clg_safetensors_get(st, "f32.special", &dtype, &rank, &shape, &data));
    ck_assert_int_eq(shape[0], 8);
    const float *sp = data;
    const float want_special[] = {0.0f, -0.0f, 1e-45f, FLT_MAX, INFINITY, -INFINITY};
    for (int k = 0; k < 6; k++)
        ck_assert_msg(bits(sp[k]) == bits(want_special[k]), "f32.special[%d]: %08x, want %08x", k,
                      (unsigned)bits(sp[k]), (unsigned)bits(want_special[k]));
    ck_assert_uint_eq(bits(sp[2]), 1); /* the smallest denormal survived */
    ck_assert(isnan(sp[6]));
    ck_assert_uint_eq(bits(sp[7]), bits((float)(1.0 / 3.0)));

    ck_assert(clg_safetensors_get(st, "i32.labels", &dtype, &rank, &shape, &data));
    ck_assert_int_eq(dtype, CLG_DTYPE_I32);
    ck_assert_int_eq(shape[0], 6);
    const int32_t want_labels[] = {0, 1, -1, INT32_MAX, INT32_MIN, 42};
    ck_assert_mem_eq(data, want_labels, sizeof want_labels);

    ck_assert(clg_safetensors_get(st, "layer.\xce\xb1", &dtype, &rank, &shape, &data));
    ck_assert_uint_eq(bits(*(const float *)data), bits(7.0f));

    /* Through the device and back, both dtypes. */
    clg_tensor *m = clg_safetensors_tensor(st, ctx, "f32.matrix");
    ck_assert_msg(m != NULL, "%s", clg_context_error(ctx));
    float *got = test_download(m);
    for (int k = 0; k < 12; k++)
        ck_assert_uint_eq(bits(got[k]), bits((float)k / 4 - 1));
    free(got);
    clg_tensor_destroy(m);
    clg_tensor *im = clg_safetensors_tensor(st, ctx, "i32.matrix");
    ck_assert_msg(im != NULL, "%s", clg_context_error(ctx));
    ck_assert_int_eq(clg_tensor_dtype(im), CLG_DTYPE_I32);
    ck_assert_int_eq(clg_tensor_dim(im, 0), 2);
    ck_assert_int_eq(clg_tensor_dim(im, 1), 3);
    int32_t ints[6];
    ck_assert_int_eq(clg_tensor_download(im, ints, 6), CLG_STATUS_OK);
    for (int k = 0; k < 6; k++)
        ck_assert_int_eq(ints[k], 10 - 3 * k);
    clg_tensor_destroy(im);

    ck_assert(!clg_safetensors_get(st, "absent", NULL, NULL, NULL, NULL));
    ck_assert_ptr_null(clg_safetensors_tensor(st, ctx, "absent"));
    test_expect_error_parts(ctx, CLG_STATUS_MISMATCH, (const char *[]){"\"absent\"", NULL});

    clg_safetensors_destroy(st);
    clg_context_destroy(ctx);
}
END_TEST

/* tests/golden/data_dtypes.safetensors, written by the safetensors
 * package (tools/golden/gen_data_dtypes.py): F64, F16 and BF16 entries read
 * as F32 with the bits PyTorch's own .float() gives (NaN checked as NaN),
 * counted by clg_safetensors_nonfinite, I64 ones as I32, the "mlp" of mixed
 * dtypes in it loaded by clg_model_from_checkpoint, and a BatchNorm1d's
 * state_dict, int64 num_batches_tracked included, by clg_checkpoint_load. */
START_TEST(test_safetensors_converts_pytorch_dtypes)
{
    clg_context *ctx = test_context();
    clg_safetensors *st = test_golden_open(ctx, "data_dtypes");
    static const struct {
        const char *name;
        int count;
        uint32_t want[9]; /* 0x7fc00000: NaN */
        int64_t nonfinite;
    } cases[] = {
        /* -1, -0.75, 0.5, 1/3 to nearest, 1e300 -> inf, -1e300 -> -inf,
         * 1e-300 -> 0, NaN, FLT_MAX + 2^102 -> FLT_MAX */
        {"f64.values",
         9,
         {0xbf800000, 0xbf400000, 0x3f000000, 0x3eaaaaab, 0x7f800000, 0xff800000, 0, 0x7fc00000,
          0x7f7fffff},
         3},
        /* 0, -0, 65504, 2^-24 (a half subnormal), 0.1 as a half, -2.5,
         * inf, -inf, NaN */
        {"f16.values",
         9,
         {0, 0x80000000, 0x477fe000, 0x33800000, 0x3dccc000, 0xc0200000, 0x7f800000, 0xff800000,
          0x7fc00000},
         3},
        /* 1, -2.5, 3.140625, 2^-130 (a float subnormal), inf, 1e38 rounded */
        {"bf16.values",
         6,
         {0x3f800000, 0xc0200000, 0x40490000, 0x80000, 0x7f800000, 0x7e960000},
         1},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        clg_dtype dtype;
        int rank;
        const int64_t *shape;
        const void *data;
        ck_assert_msg(clg_safetensors_get(st, cases[c].name, &dtype, &rank, &shape, &data), "%s",
                      cases[c].name);
        ck_assert_int_eq(dtype, CLG_DTYPE_F32);
        ck_assert_int_eq(rank, 1);
        ck_assert_int_eq(shape[0], cases[c].count);
        const float *values = data;
        for (int k = 0; k < cases[c].count; k++)
            if (cases[c].want[k] == 0x7fc00000)
                ck_assert_msg(isnan(values[k]), "%s[%d] is not NaN", cases[c].name, k);
            else
                ck_assert_msg(bits(values[k]) == cases[c].want[k], "%s[%d]: %08x, want %08x",
                              cases[c].name, k, (unsigned)bits(values[k]),
                              (unsigned)cases[c].want[k]);
        ck_assert_int_eq(clg_safetensors_nonfinite(st, cases[c].name), cases[c].nonfinite);
    }
    static const int32_t want_ints[] = {0, -1, INT32_MAX, INT32_MIN, 123456789}, want_seven[] = {7};
    static const struct {
        const char *name;
        int rank, count;
        const int32_t *want;
    } int_cases[] = {{"i64.values", 1, 5, want_ints}, {"num_batches_tracked", 0, 1, want_seven}};
    for (size_t c = 0; c < sizeof int_cases / sizeof int_cases[0]; c++) {
        clg_dtype dtype;
        int rank;
        const int64_t *shape;
        const void *data;
        ck_assert_msg(clg_safetensors_get(st, int_cases[c].name, &dtype, &rank, &shape, &data),
                      "%s", int_cases[c].name);
        ck_assert_int_eq(dtype, CLG_DTYPE_I32);
        ck_assert_int_eq(rank, int_cases[c].rank);
        const int32_t *values = data;
        for (int k = 0; k < int_cases[c].count; k++)
            ck_assert_msg(values[k] == int_cases[c].want[k], "%s[%d]: %d, want %d",
                          int_cases[c].name, k, values[k], int_cases[c].want[k]);
        ck_assert_int_eq(clg_safetensors_nonfinite(st, int_cases[c].name), 0);
    }
    clg_safetensors_destroy(st);

    char path[4096];
    test_golden_path("data_dtypes", path, sizeof path);
    clg_model *model = clg_model_from_checkpoint(ctx, path);
    ck_assert_msg(model != NULL, "%s", clg_context_error(ctx));
    ck_assert_str_eq(clg_model_arch(model), "4-3-2");
    const clg_params *params = clg_model_params(model);
    const char *names[] = {"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"};
    for (int i = 0; i < 4; i++) {
        float *got = test_download(clg_params_find(params, names[i]));
        int64_t n = clg_tensor_numel(clg_params_find(params, names[i]));
        for (int64_t k = 0; k < n; k++)
            ck_assert_msg(got[k] == (float)(k - 6) / 8, "%s[%lld]: %g", names[i], (long long)k,
                          (double)got[k]);
        free(got);
    }
    clg_model_destroy(model);

    /* PyTorch's BatchNorm1d state_dict into clgrad's layer: its four tensors
     * loaded, num_batches_tracked (which clgrad's momentum update does not
     * use) read and left aside like the file's other tensors. */
    clg_batchnorm_layer *bn = clg_batchnorm_layer_create(ctx, 3, 0.1f, 1e-5f);
    ck_assert_msg(bn != NULL, "%s", clg_context_error(ctx));
    ck_assert_int_eq(clg_checkpoint_load(ctx, clg_batchnorm_layer_params(bn), path), CLG_STATUS_OK);
    static const struct {
        const char *name;
        float want[3];
    } bn_cases[] = {{"weight", {0.5f, 1.0f, 1.5f}},
                    {"bias", {-0.25f, 0.0f, 0.25f}},
                    {"running_mean", {0.125f, -0.5f, 2.0f}},
                    {"running_var", {1.5f, 0.25f, 4.0f}}};
    for (size_t c = 0; c < sizeof bn_cases / sizeof bn_cases[0]; c++) {
        float *got =
            test_download(clg_params_find(clg_batchnorm_layer_params(bn), bn_cases[c].name));
        for (int k = 0; k < 3; k++)
            ck_assert_msg(got[k] == bn_cases[c].want[k], "%s[%d]: %g", bn_cases[c].name, k,
                          (double)got[k]);
        free(got);
    }
    clg_batchnorm_layer_destroy(bn);
    clg_context_destroy(ctx);
}
END_TEST

/* Each malformed file: NULL, FORMAT (IO for a missing file) and a message
 * naming the file and the fault. Run under valgrind, this is the leak check of
 * every failure path. */
START_TEST(test_safetensors_bad_inputs)
{
    clg_context *ctx = test_context();
    char *dir = test_temp_dir("safetensors");
    char path[512];
    static const char good_entry[] =
        "\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";
    struct {
        const char *file;
        const char *header; /* NULL: raw bytes below */
        size_t data_bytes;
        const char *raw;
        size_t raw_len;
        clg_status status;
        const char *part1, *part2;
    } cases[] = {
        {"empty", NULL, 0, "", 0, CLG_STATUS_FORMAT, "0 bytes", "too short"},
        {"three", NULL, 0, "abc", 3, CLG_STATUS_FORMAT, "3 bytes", "too short"},
        /* a length of 1000 in a 20-byte file */
        {"long_header", NULL, 0, "\xe8\x03\0\0\0\0\0\0{}          ", 20, CLG_STATUS_FORMAT,
         "header length 1000", "20-byte file"},
        {"bad_json", "{\"x\":{\"dtype\":\"F32\",", 0, NULL, 0, CLG_STATUS_FORMAT,
         "malformed safetensors header", "header byte"},
        {"not_object", "[1, 2]", 0, NULL, 0, CLG_STATUS_FORMAT, "malformed", "expected '{'"},
        {"trailing", "{}x", 0, NULL, 0, CLG_STATUS_FORMAT, "malformed", "after the closing"},
        {"bool", "{\"x\":{\"dtype\":\"BOOL\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2, NULL, 0,
         CLG_STATUS_FORMAT, "\"x\" has dtype BOOL", "does not read"},
        /* I64 is read into I32 only where each value fits: 0x1111111111111111 */
        {"i64_range", "{\"x\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}}", 16, NULL,
         0, CLG_STATUS_FORMAT, "\"x\" (I64) holds 1229782938247303441 at element 0",
         "outside the int32 range"},
        /* a converted dtype's byte count is its own, not F32's */
        {"f16_size", "{\"x\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, NULL, 0,
         CLG_STATUS_FORMAT, "malformed", "do not fit its shape"},
        {"outside", "{\"x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8, NULL, 0,
         CLG_STATUS_FORMAT, "data_offsets [0, 16]", "8 data bytes"},
        {"wrong_size", "{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, NULL,
         0, CLG_STATUS_FORMAT, "\"x\"", "data_offsets [0, 8]"},
        {"huge_shape",
         "{\"x\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", 8,
         NULL, 0, CLG_STATUS_FORMAT, "malformed", "too large"},
        {"rank5", "{\"x\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,2],\"data_offsets\":[0,8]}}", 8,
         NULL, 0, CLG_STATUS_FORMAT, "malformed", "rank above 4"},
        {"missing_field", "{\"x\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, NULL, 0,
         CLG_STATUS_FORMAT, "malformed", "lacks dtype, shape or data_offsets"},
        {"bad_metadata", "{\"__metadata__\":{\"epoch\":3}}", 0, NULL, 0, CLG_STATUS_FORMAT,
         "malformed", "__metadata__"},
        {"bad_escape", "{\"\\u12\":{}}", 0, NULL, 0, CLG_STATUS_FORMAT, "malformed", "\\u escape"},
        {"duplicate", NULL, 0, NULL, 0, CLG_STATUS_FORMAT, "\"x\" appears twice", "malformed"},
    };
    char duplicate[256];
    snprintf(duplicate, sizeof duplicate, "{%s,%s}", good_entry, good_entry);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(path, sizeof path, "%s/%s.safetensors", dir, cases[i].file);
        if (strcmp(cases[i].file, "duplicate") == 0)
            write_safetensors(path, duplicate, 8);
        else if (cases[i].header)
            write_safetensors(path, cases[i].header, cases[i].data_bytes);
        else
            write_bytes(path, cases[i].raw, cases[i].raw_len);
        ck_assert_msg(clg_safetensors_read(ctx, path) == NULL, "%s was accepted", cases[i].file);
        test_expect_error_parts(ctx, cases[i].status,
                                (const char *[]){path, cases[i].part1, cases[i].part2, NULL});
    }
    /* The well-formed entry itself is fine, so the cases above fail for
     * their own fault. */
    snprintf(path, sizeof path, "%s/good.safetensors", dir);
    snprintf(duplicate, sizeof duplicate, "{%s}", good_entry);
    write_safetensors(path, duplicate, 8);
    clg_safetensors *st = clg_safetensors_read(ctx, path);
    ck_assert_msg(st != NULL, "%s", clg_context_error(ctx));
    clg_safetensors_destroy(st);

    snprintf(path, sizeof path, "%s/absent.safetensors", dir);
    ck_assert_ptr_null(clg_safetensors_read(ctx, path));
    test_expect_error_parts(ctx, CLG_STATUS_IO, (const char *[]){path, "cannot open", NULL});

    test_remove_temp_dir(dir);
    clg_context_destroy(ctx);
}
END_TEST

/* A checkpoint lacking a name, or holding another shape: MISMATCH naming the
 * tensor (and both shapes), and the model left as it was. */
START_TEST(test_checkpoint_mismatch)
{
    clg_context *ctx = test_context();
    char *dir = test_temp_dir("safetensors");
    char path[512];
    snprintf(path, sizeof path, "%s/ckpt.safetensors", dir);
    clg_tensor *saved[2], *other[2];
    const char *names[] = {"a", "b"};
    const int ranks[] = {2, 1};
    const int64_t shapes[][4] = {{2, 3}, {4}};
    clg_params *ps = make_params(ctx, 2, names, ranks, shapes, 1, saved);
    ck_assert_int_eq(clg_checkpoint_save(ctx, ps, path, NULL, NULL, 0), CLG_STATUS_OK);

    const char *renamed[] = {"a", "c"};
    clg_params *missing = make_params(ctx, 2, renamed, ranks, shapes, 50, other);
    float *before = test_download(other[0]);
    ck_assert_int_eq(clg_checkpoint_load(ctx, missing, path), CLG_STATUS_MISMATCH);
    test_expect_error_parts(
        ctx, CLG_STATUS_MISMATCH,
        (const char *[]){path, "no tensor \"c\"", "shape [4]", "it holds \"a\" and \"b\"", NULL});
    /* "a" matched, but nothing is loaded unless everything matches */
    float *after = test_download(other[0]);
    ck_assert_mem_eq(after, before, 6 * sizeof(float));
    free(before);
    free(after);
    destroy_params(missing, other);

    const int64_t transposed[][4] = {{3, 2}, {4}};
    clg_params *wrong = make_params(ctx, 2, names, ranks, transposed, 60, other);
    ck_assert_int_eq(clg_checkpoint_load(ctx, wrong, path), CLG_STATUS_MISMATCH);
    test_expect_error_parts(ctx, CLG_STATUS_MISMATCH,
                            (const char *[]){path, "\"a\"", "[2, 3] F32 in the checkpoint",
                                             "[3, 2] F32 in the model", NULL});
    destroy_params(wrong, other);

    /* A file of many tensors: the first eight named, the rest counted. */
    enum { MANY = 12 };
    char many_names[MANY][16];
    const char *many[MANY];
    int many_ranks[MANY];
    int64_t many_shapes[MANY][4];
    clg_tensor *many_saved[MANY];
    for (int i = 0; i < MANY; i++) {
        snprintf(many_names[i], sizeof many_names[i], "layer%d.w", i);
        many[i] = many_names[i];
        many_ranks[i] = 1;
        many_shapes[i][0] = 1;
    }
    char many_path[600];
    snprintf(many_path, sizeof many_path, "%s/many.safetensors", dir);
    clg_params *big =
        make_params(ctx, MANY, many, many_ranks, (const int64_t(*)[4])many_shapes, 70, many_saved);
    ck_assert_int_eq(clg_checkpoint_save(ctx, big, many_path, NULL, NULL, 0), CLG_STATUS_OK);
    const char *absent[] = {"absent"};
    clg_params *wants = make_params(ctx, 1, absent, ranks + 1, shapes + 1, 80, other);
    ck_assert_int_eq(clg_checkpoint_load(ctx, wants, many_path), CLG_STATUS_MISMATCH);
    destroy_params(wants, other);
    test_expect_error_parts(
        ctx, CLG_STATUS_MISMATCH,
        (const char *[]){"it holds \"layer0.w\", \"layer1.w\"", "\"layer7.w\" and 4 more", NULL});
    ck_assert_ptr_null(strstr(clg_context_error(ctx), "layer8.w"));
    for (int i = 0; i < MANY; i++)
        clg_tensor_destroy(many_saved[i]);
    clg_params_destroy(big);

    destroy_params(ps, saved);
    test_remove_temp_dir(dir);
    clg_context_destroy(ctx);
}
END_TEST

/* A path that cannot be written: IO naming it, and no temporary file. */
START_TEST(test_checkpoint_unwritable)
{
    clg_context *ctx = test_context();
    clg_tensor *t[2];
    const char *names[] = {"a", "b"};
    const int ranks[] = {2, 1};
    const int64_t shapes[][4] = {{2, 3}, {4}};
    clg_params *ps = make_params(ctx, 2, names, ranks, shapes, 1, t);

    const char *nowhere = "/nonexistent/dir/x.safetensors";
    ck_assert_int_eq(clg_checkpoint_save(ctx, ps, nowhere, NULL, NULL, 0), CLG_STATUS_IO);
    test_expect_error_parts(ctx, CLG_STATUS_IO, (const char *[]){nowhere, "cannot write", NULL});
    ck_assert_int_ne(access("/nonexistent/dir", F_OK), 0);

    /* A folder in the way: the temporary file is written beside it and the
     * rename fails, so the temporary must be removed. */
    char *dir = test_temp_dir("safetensors");
    char path[512], listing[512];
    snprintf(path, sizeof path, "%s/taken", dir);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    ck_assert_int_eq(clg_checkpoint_save(ctx, ps, path, NULL, NULL, 0), CLG_STATUS_IO);
    test_expect_error_parts(ctx, CLG_STATUS_IO, (const char *[]){path, "cannot write", NULL});
    ck_assert_str_eq(list_dir(dir, listing, sizeof listing), "taken");

    destroy_params(ps, t);
    test_remove_temp_dir(dir);
    clg_context_destroy(ctx);
}
END_TEST

/* A save that fails midway (the file size limit stops the write) leaves the
 * previous checkpoint at the path byte for byte, and no temporary file. */
START_TEST(test_checkpoint_failed_save_keeps_old_file)
{
    clg_context *ctx = test_context();
    char *dir = test_temp_dir("safetensors");
    char path[512], listing[512];
    snprintf(path, sizeof path, "%s/ckpt.safetensors", dir);
    clg_tensor *small[1], *big[1];
    const char *names[] = {"w"};
    const int ranks[] = {2};
    const int64_t small_shape[][4] = {{2, 2}};
    const int64_t big_shape[][4] = {{64, 256}}; /* 64 KiB, far over the limit */
    clg_params *ps_small = make_params(ctx, 1, names, ranks, small_shape, 1, small);
    clg_params *ps_big = make_params(ctx, 1, names, ranks, big_shape, 2, big);
    ck_assert_int_eq(clg_checkpoint_save(ctx, ps_small, path, NULL, NULL, 0), CLG_STATUS_OK);
    size_t old_size;
    unsigned char *old_bytes = slurp(path, &old_size);

    struct rlimit saved_limit, limit;
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &saved_limit), 0);
    limit = saved_limit;
    limit.rlim_cur = 4096;
    void (*saved_handler)(int) = signal(SIGXFSZ, SIG_IGN); /* EFBIG instead of a signal */
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &limit), 0);
    clg_status status = clg_checkpoint_save(ctx, ps_big, path, NULL, NULL, 0);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &saved_limit), 0);
    signal(SIGXFSZ, saved_handler);

    ck_assert_int_eq(status, CLG_STATUS_IO);
    test_expect_error_parts(ctx, CLG_STATUS_IO, (const char *[]){path, "cannot write", NULL});
    ck_assert_str_eq(list_dir(dir, listing, sizeof listing), "ckpt.safetensors");
    size_t new_size;
    unsigned char *new_bytes = slurp(path, &new_size);
    ck_assert_uint_eq(new_size, old_size);
    ck_assert_mem_eq(new_bytes, old_bytes, old_size);
    free(old_bytes);
    free(new_bytes);

    destroy_params(ps_small, small);
    destroy_params(ps_big, big);
    test_remove_temp_dir(dir);
    clg_context_destroy(ctx);
}
END_TEST

/* The tensors must tile the data: overlapping ranges, a gap, or bytes after
 * the last tensor are refused naming the file and the tensors; sizes are
 * checked against the file before anything is allocated, and /dev/zero and
 * a folder are refused at once. */
START_TEST(test_safetensors_layout_and_bounds)
{
    clg_context *ctx = test_context();
    char *dir = test_temp_dir("safetensors");
    char path[512];
    const struct {
        const char *file, *header;
        size_t data_bytes;
        const char *part1, *part2;
    } cases[] = {
        {"overlap",
         "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
         12, "tensors \"a\" (bytes 0 to 8) and \"b\" (bytes 4 to 12) overlap", NULL},
        {"same_range",
         "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
         8, "overlap", NULL},
        {"gap", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8,
         "data bytes 0 to 4 belong to no tensor", "\"a\""},
        {"trailing", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 9,
         "5 bytes after the last tensor", NULL},
        {"trailing_empty", "{}", 1, "1 bytes after the last tensor", NULL},
        {"claims_more", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1073741824],\"data_offsets\":[0,"
                        "4294967296]}}",
         16, "data_offsets [0, 4294967296]", "16 data bytes"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(path, sizeof path, "%s/%s.safetensors", dir, cases[i].file);
        write_safetensors(path, cases[i].header, cases[i].data_bytes);
        ck_assert_msg(clg_safetensors_read(ctx, path) == NULL, "%s was accepted", cases[i].file);
        test_expect_error_parts(ctx, CLG_STATUS_FORMAT,
                                (const char *[]){path, cases[i].part1, cases[i].part2, NULL});
    }
    /* A header claiming 64 MiB in a 20-byte file: refused by length. */
    snprintf(path, sizeof path, "%s/long_header.safetensors", dir);
    write_bytes(path, "\0\0\0\x04\0\0\0\0{}          ", 20);
    ck_assert_ptr_null(clg_safetensors_read(ctx, path));
    test_expect_error_parts(ctx, CLG_STATUS_FORMAT,
                            (const char *[]){path, "header length 67108864", NULL});
    /* Endless and special files. */
    ck_assert_ptr_null(clg_safetensors_read(ctx, "/dev/zero"));
    test_expect_error_parts(
        ctx, CLG_STATUS_FORMAT,
        (const char *[]){"/dev/zero", "not a safetensors file", "header length 0", NULL});
    ck_assert_ptr_null(clg_safetensors_read(ctx, dir));
    test_expect_error_parts(ctx, CLG_STATUS_IO, (const char *[]){dir, "is a folder", NULL});
    /* Non-finite values are counted, per tensor. */
    snprintf(path, sizeof path, "%s/nan.safetensors", dir);
    const char *header = "{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]},"
                         "\"i\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[12,16]}}";
    size_t h = strlen(header);
    unsigned char buf[512] = {0};
    for (int k = 0; k < 8; k++)
        buf[k] = (unsigned char)((uint64_t)h >> (8 * k));
    memcpy(buf + 8, header, h);
    const float values[3] = {NAN, 1.0f, -INFINITY};
    memcpy(buf + 8 + h, values, 12);
    memset(buf + 8 + h + 12, 0xff, 4);
    write_bytes(path, buf, 8 + h + 16);
    clg_safetensors *st = clg_safetensors_read(ctx, path);
    ck_assert_msg(st != NULL, "%s", clg_context_error(ctx));
    ck_assert_int_eq(clg_safetensors_nonfinite(st, "x"), 2);
    ck_assert_int_eq(clg_safetensors_nonfinite(st, "i"), 0);
    ck_assert_int_eq(clg_safetensors_nonfinite(st, "absent"), 0);
    clg_safetensors_destroy(st);
    test_remove_temp_dir(dir);
    clg_context_destroy(ctx);
}
END_TEST

/* A save onto something that is not a regular file (a pipe here; a device
 * such as /dev/full alike) is refused and leaves it in place; the
 * temporaries of dead processes beside the file are removed, those of live
 * processes and other names kept. */
START_TEST(test_checkpoint_save_destination)
{
    clg_context *ctx = test_context();
    clg_tensor *t[1];
    const char *names[] = {"a"};
    const int ranks[] = {1};
    const int64_t shapes[][4] = {{4}};
    clg_params *ps = make_params(ctx, 1, names, ranks, shapes, 1, t);
    char *dir = test_temp_dir("safetensors");
    char path[512], listing[512];
    snprintf(path, sizeof path, "%s/pipe", dir);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    ck_assert_int_eq(clg_checkpoint_save(ctx, ps, path, NULL, NULL, 0), CLG_STATUS_IO);
    test_expect_error_parts(ctx, CLG_STATUS_IO, (const char *[]){path, "not a regular file", NULL});
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert(S_ISFIFO(st.st_mode));
    ck_assert_int_eq(remove(path), 0);

    /* a dead child's pid, our parent's (alive), and names not of our form */
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    ck_assert_int_eq(waitpid(child, NULL, 0), child);
    const char *kept[] = {"m.tmp.1x", "m.tmp.", "other.tmp.%ld", "m.tmp.%ld"};
    char name[64];
    snprintf(path, sizeof path, "%s/m.tmp.%ld", dir, (long)child);
    write_bytes(path, "x", 1);
    for (int k = 0; k < 4; k++) {
        snprintf(name, sizeof name, kept[k], (long)(k == 2 ? child : getppid()));
        snprintf(path, sizeof path, "%s/%s", dir, name);
        write_bytes(path, "x", 1);
    }
    snprintf(path, sizeof path, "%s/m", dir);
    ck_assert_int_eq(clg_checkpoint_save(ctx, ps, path, NULL, NULL, 0), CLG_STATUS_OK);
    snprintf(path, sizeof path, "%s/m.tmp.%ld", dir, (long)child);
    ck_assert_msg(access(path, F_OK) != 0, "%s (a dead process's) is left", path);
    for (int k = 0; k < 4; k++) {
        snprintf(name, sizeof name, kept[k], (long)(k == 2 ? child : getppid()));
        snprintf(path, sizeof path, "%s/%s", dir, name);
        ck_assert_msg(access(path, F_OK) == 0, "%s was removed", path);
    }
    (void)listing;
    destroy_params(ps, t);
    test_remove_temp_dir(dir);
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_checkpoint_round_trip,
                            test_safetensors_reads_pytorch_file,
                            test_safetensors_converts_pytorch_dtypes,
                            test_safetensors_bad_inputs,
                            test_safetensors_layout_and_bounds,
                            test_checkpoint_save_destination,
                            test_checkpoint_mismatch,
                            test_checkpoint_unwritable,
                            test_checkpoint_failed_save_keeps_old_file,
                            NULL};
    return test_main("data/safetensors", "safetensors", 0, tests);
}
