/* tests/nn/test_recurrent.c: the recurrent and embedding layers
 * (nn/recurrent.c, nn/embedding.c): the LSTM, GRU and RNN layers' PyTorch
 * parameter names, shapes and
 * initial ranges, and truncated BPTT: two chunks with keep_state give the
 * same values as one pass over the whole sequence, while no gradient
 * crosses from one chunk to the other. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

START_TEST(test_recurrent_layer_params)
{
    clg_context *ctx = test_context();
    const clg_cell cells[3] = {CLG_CELL_RNN, CLG_CELL_LSTM, CLG_CELL_GRU};
    for (int c = 0; c < 3; c++) {
        int G = (int[]){1, 4, 3}[c];
        clg_recurrent_layer *layer = clg_recurrent_layer_create(ctx, cells[c], 5, 16, false, 3);
        ck_assert_ptr_nonnull(layer);
        const clg_params *ps = clg_recurrent_layer_params(layer);
        ck_assert_uint_eq(clg_params_count(ps), 4);
        const char *names[4] = {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"};
        const int64_t rows = G * 16, cols[4] = {5, 16, 0, 0};
        float first[4];
        for (int k = 0; k < 4; k++) {
            clg_tensor *t = clg_params_find(ps, names[k]);
            ck_assert_msg(t != NULL, "no %s", names[k]);
            ck_assert_int_eq(clg_tensor_dim(t, 0), rows);
            if (k < 2)
                ck_assert_int_eq(clg_tensor_dim(t, 1), cols[k]);
            float *v = test_download(t);
            int64_t n = clg_tensor_numel(t);
            double lo = 1, hi = -1;
            for (int64_t i = 0; i < n; i++) {
                lo = fmin(lo, v[i]);
                hi = fmax(hi, v[i]);
            }
            /* U(-1/sqrt(16), 1/sqrt(16)) = U(-0.25, 0.25), spread over it */
            ck_assert_msg(lo >= -0.25 && hi <= 0.25 && lo < -0.15 && hi > 0.15, "%s in [%g, %g]",
                          names[k], lo, hi);
            first[k] = v[0];
            free(v);
        }
        ck_assert(first[2] != first[3]); /* distinct streams */
        clg_recurrent_layer_destroy(layer);
    }
    clg_recurrent_layer_destroy(NULL);
    ck_assert_ptr_null(clg_recurrent_layer_create(ctx, CLG_CELL_LSTM, 0, 4, false, 1));
    ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_INVALID_ARGUMENT);
    clg_context_clear_error(ctx);
    clg_context_destroy(ctx);
}
END_TEST

/* x (T = 6, N = 2, I = 3) in two chunks of 3 steps with keep_state, against
 * the whole sequence at once; then the gradient of the second chunk's
 * output against the same chunk run from h0, c0 given as constants. */
static void check_truncated_bptt(clg_cell cell)
{
    clg_context *ctx = test_context();
    enum { T = 6, N = 2, I = 3, H = 4 };
    float x[T * N * I];
    test_random(x, T * N * I, 9, -1, 1);
    clg_recurrent_layer *layer = clg_recurrent_layer_create(ctx, cell, I, H, false, 5);
    clg_tensor *whole = test_tensor(ctx, 3, (int64_t[]){T, N, I}, x, false);
    clg_tensor *chunk[2];
    for (int c = 0; c < 2; c++)
        chunk[c] = test_tensor(ctx, 3, (int64_t[]){T / 2, N, I}, x + c * (T / 2) * N * I, false);

    clg_step_begin(ctx);
    float *want = test_download(clg_recurrent_layer_forward(layer, whole, NULL));
    clg_step_end(ctx);

    clg_recurrent_layer_set_keep_state(layer, true);
    float *got = NULL;
    const clg_params *ps = clg_recurrent_layer_params(layer);
    clg_tensor *w_hh = clg_params_find(ps, "weight_hh_l0");
    float *grad_chunk = NULL;
    for (int c = 0; c < 2; c++) {
        clg_step_begin(ctx);
        clg_params_zero_grad((clg_params *)ps);
        clg_tensor *y = clg_recurrent_layer_forward(layer, chunk[c], NULL);
        ck_assert_msg(y != NULL, "%s", clg_context_error(ctx));
        if (c == 1) {
            got = test_download(y);
            ck_assert_int_eq(clg_backward(clg_sum_all(y)), CLG_STATUS_OK);
            grad_chunk = test_download(clg_tensor_grad(w_hh));
        }
        clg_step_end(ctx);
    }
    test_assert_close(got, want + (T / 2) * N * H, (T / 2) * N * H, test_tol_get("transcendental"),
                      "second chunk vs whole sequence");

    /* the same chunk from constant h0, c0 (the first half's final state) */
    clg_recurrent_layer_set_keep_state(layer, false);
    clg_step_begin(ctx);
    clg_tensor *h_n = NULL, *c_n = NULL;
    clg_tensor *w[4];
    const char *names[4] = {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"};
    for (int k = 0; k < 4; k++) {
        w[k] = clg_params_find(ps, names[k]);
        clg_tensor_set_requires_grad(w[k], false);
    }
    if (cell == CLG_CELL_LSTM)
        clg_lstm(chunk[0], NULL, NULL, w[0], w[1], w[2], w[3], false, &h_n, &c_n);
    else if (cell == CLG_CELL_GRU)
        clg_gru(chunk[0], NULL, w[0], w[1], w[2], w[3], false, &h_n);
    else
        clg_rnn(chunk[0], NULL, w[0], w[1], w[2], w[3], false, &h_n);
    float *h_host = test_download(h_n), *c_host = c_n ? test_download(c_n) : NULL;
    clg_step_end(ctx);
    clg_tensor *h0 = test_tensor(ctx, 3, (int64_t[]){1, N, H}, h_host, false);
    clg_tensor *c0 = c_host ? test_tensor(ctx, 3, (int64_t[]){1, N, H}, c_host, false) : NULL;
    clg_step_begin(ctx);
    clg_params_zero_grad((clg_params *)ps);
    for (int k = 0; k < 4; k++)
        clg_tensor_set_requires_grad(w[k], true);
    clg_tensor *y = cell == CLG_CELL_LSTM
                        ? clg_lstm(chunk[1], h0, c0, w[0], w[1], w[2], w[3], false, NULL, NULL)
                    : cell == CLG_CELL_GRU
                        ? clg_gru(chunk[1], h0, w[0], w[1], w[2], w[3], false, NULL)
                        : clg_rnn(chunk[1], h0, w[0], w[1], w[2], w[3], false, NULL);
    ck_assert_int_eq(clg_backward(clg_sum_all(y)), CLG_STATUS_OK);
    float *grad_want = test_download(clg_tensor_grad(w_hh));
    clg_step_end(ctx);
    test_assert_close(grad_chunk, grad_want, (size_t)clg_tensor_numel(w_hh),
                      test_tol_get("transcendental"), "d weight_hh (chunk 2 only)");

    free(want);
    free(got);
    free(grad_chunk);
    free(grad_want);
    free(h_host);
    free(c_host);
    clg_tensor_destroy(h0);
    clg_tensor_destroy(c0);
    clg_tensor_destroy(whole);
    clg_tensor_destroy(chunk[0]);
    clg_tensor_destroy(chunk[1]);
    clg_recurrent_layer_destroy(layer);
    clg_context_destroy(ctx);
}

START_TEST(test_lstm_layer_truncated_bptt)
{
    check_truncated_bptt(CLG_CELL_LSTM);
}
END_TEST

START_TEST(test_gru_layer_truncated_bptt)
{
    check_truncated_bptt(CLG_CELL_GRU);
}
END_TEST

START_TEST(test_rnn_layer_truncated_bptt)
{
    check_truncated_bptt(CLG_CELL_RNN);
}
END_TEST

START_TEST(test_embedding_layer)
{
    clg_context *ctx = test_context();
    clg_embedding_layer *layer = clg_embedding_layer_create(ctx, 100, 50, 4);
    ck_assert_ptr_nonnull(layer);
    clg_tensor *w = clg_params_find(clg_embedding_layer_params(layer), "weight");
    ck_assert_ptr_nonnull(w);
    float *v = test_download(w);
    double mean = 0, sq = 0;
    for (int i = 0; i < 5000; i++) {
        mean += v[i] / 5000.0;
        sq += (double)v[i] * v[i] / 5000.0;
    }
    /* N(0, 1): 5000 draws put the mean within 0.06 and the variance 0.1 */
    ck_assert_msg(fabs(mean) < 0.06 && fabs(sq - mean * mean - 1) < 0.1, "mean %g var %g", mean,
                  sq - mean * mean);
    clg_step_begin(ctx);
    const int32_t ids[3] = {7, 0, 99};
    float *got = test_download(clg_embedding_layer_forward_host(layer, ids, 1, (int64_t[]){3}));
    for (int m = 0; m < 3; m++)
        for (int d = 0; d < 50; d++)
            ck_assert_float_eq(got[m * 50 + d], v[ids[m] * 50 + d]);
    free(got);
    clg_step_end(ctx);
    free(v);
    clg_embedding_layer_destroy(layer);
    clg_embedding_layer_destroy(NULL);
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {test_recurrent_layer_params,   test_lstm_layer_truncated_bptt,
                                  test_gru_layer_truncated_bptt, test_rnn_layer_truncated_bptt,
                                  test_embedding_layer,          NULL};
    return test_main("nn/recurrent", "recurrent", 0, tests);
}
