/* tests/zoo/test_autoencoder.c: the fraud-detection autoencoder of
 * zoo/autoencoder.c: its architecture, the reconstruction distance against a
 * host reference, and checkpoints. Its training is tested with its trainer,
 * in tests/lecture/test_autoencoder.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"

static const int64_t lecture_hidden[] = {100, 100};

START_TEST(test_autoencoder_architecture)
{
    clg_context *ctx = test_context();
    clg_model *m = clg_zoo_autoencoder_create(ctx, 30, lecture_hidden, 2, 15, 1);
    ck_assert_msg(m != NULL, "%s", clg_context_error(ctx));
    ck_assert_str_eq(clg_model_kind(m), "autoencoder");
    ck_assert_str_eq(clg_model_arch(m), "30-100-100-15-100-100-30");
    ck_assert_int_eq(clg_model_in_features(m), 30);
    ck_assert_int_eq(clg_model_out_features(m), 30);
    const clg_params *p = clg_model_params(m);
    ck_assert_int_eq(clg_params_count(p), 12);
    ck_assert_str_eq(clg_params_name(p, 0), "fc1.weight");
    ck_assert_str_eq(clg_params_name(p, 11), "fc6.bias");
    clg_model_destroy(m);
    ck_assert_ptr_null(clg_zoo_autoencoder_create(ctx, 30, lecture_hidden, 2, 0, 1));
    ck_assert_ptr_nonnull(strstr(clg_context_error(ctx), "clg_zoo_autoencoder_create"));
    clg_context_destroy(ctx);
}
END_TEST

/* Host reference of a 5-[4]-3 autoencoder (5-4-3-4-5, tanh, linear output)
 * from the downloaded weights: the per-row distance, forward and as the
 * gradient of its sum flows to the input (d/dx of ||x - g(x)||^2 is checked
 * through the value only: every op involved has its own gradient check). */
START_TEST(test_autoencoder_distance_host_reference)
{
    clg_context *ctx = test_context();
    const int64_t hidden[] = {4};
    clg_model *m = clg_zoo_autoencoder_create(ctx, 5, hidden, 1, 3, 7);
    ck_assert_ptr_nonnull(m);
    enum { N = 6, IN = 5 };
    float x[N * IN];
    test_random(x, N * IN, 11, 0.0f, 1.0f);
    const int64_t widths[] = {5, 4, 3, 4, 5};
    float *w[4], *b[4];
    for (int l = 0; l < 4; l++) {
        w[l] = test_download(clg_params_tensor(clg_model_params(m), (size_t)(2 * l)));
        b[l] = test_download(clg_params_tensor(clg_model_params(m), (size_t)(2 * l + 1)));
    }
    float want[N];
    for (int r = 0; r < N; r++) {
        double h[5], next[5];
        for (int i = 0; i < IN; i++)
            h[i] = x[r * IN + i];
        for (int l = 0; l < 4; l++) {
            for (int o = 0; o < widths[l + 1]; o++) {
                double s = b[l][o];
                for (int i = 0; i < widths[l]; i++)
                    s += (double)w[l][o * widths[l] + i] * h[i];
                next[o] = l < 3 ? tanh(s) : s;
            }
            memcpy(h, next, sizeof next);
        }
        double d = 0;
        for (int i = 0; i < IN; i++)
            d += (h[i] - x[r * IN + i]) * (h[i] - x[r * IN + i]);
        want[r] = (float)d;
    }
    float got[N];
    ck_assert_int_eq(clg_autoencoder_scores(m, x, N, 4, got), CLG_STATUS_OK); /* 2 batches */
    test_assert_close(got, want, N, test_tol_get("gemm"), "distance");

    clg_step_begin(ctx);
    clg_tensor *xt = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, (const int64_t[]){N, IN}, x);
    clg_tensor *d = clg_autoencoder_distance(m, xt);
    ck_assert_int_eq(clg_tensor_rank(d), 1);
    ck_assert_int_eq(clg_tensor_dim(d, 0), N);
    float *dd = test_download(d);
    test_assert_close(dd, want, N, test_tol_get("gemm"), "clg_autoencoder_distance");
    free(dd);
    clg_step_end(ctx);
    for (int l = 0; l < 4; l++) {
        free(w[l]);
        free(b[l]);
    }
    clg_model_destroy(m);
    clg_context_destroy(ctx);
}
END_TEST

/* A checkpoint rebuilds the same network: same arch, same distances; an
 * "arch" that does not mirror around its code is refused by name. */
START_TEST(test_autoencoder_checkpoint_round_trip)
{
    clg_context *ctx = test_context();
    char path[] = "/tmp/clgrad-test-ae-ckpt-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    clg_model *m = clg_zoo_autoencoder_create(ctx, 30, lecture_hidden, 2, 15, 4);
    ck_assert_int_eq(clg_model_save(m, path), CLG_STATUS_OK);
    clg_model *back = clg_model_from_checkpoint(ctx, path);
    ck_assert_msg(back != NULL, "%s", clg_context_error(ctx));
    ck_assert_str_eq(clg_model_kind(back), "autoencoder");
    ck_assert_str_eq(clg_model_arch(back), "30-100-100-15-100-100-30");
    float x[8 * 30], a[8], b[8];
    test_random(x, 8 * 30, 2, 0.0f, 1.0f);
    ck_assert_int_eq(clg_autoencoder_scores(m, x, 8, 8, a), CLG_STATUS_OK);
    ck_assert_int_eq(clg_autoencoder_scores(back, x, 8, 8, b), CLG_STATUS_OK);
    test_assert_close(b, a, 8, test_tol_get("exact"), "reloaded distance");
    clg_model_destroy(back);

    const char *keys[] = {"model", "arch"};
    const char *values[] = {"autoencoder", "30-100-100-15-99-100-30"};
    ck_assert_int_eq(clg_checkpoint_save(ctx, clg_model_params(m), path, keys, values, 2),
                     CLG_STATUS_OK);
    ck_assert_ptr_null(clg_model_from_checkpoint(ctx, path));
    ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_FORMAT);
    ck_assert_ptr_nonnull(strstr(clg_context_error(ctx), "metadata \"arch\" is "
                                                         "\"30-100-100-15-99-100-30\"; an "
                                                         "autoencoder's widths mirror"));
    unlink(path);
    clg_model_destroy(m);
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_autoencoder_architecture, test_autoencoder_distance_host_reference,
                            test_autoencoder_checkpoint_round_trip, NULL};
    return test_main("zoo/autoencoder", "autoencoder", 600, tests);
}
