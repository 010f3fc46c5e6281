/* tests/ops/test_recurrent.c: clg_lstm, clg_gru and clg_rnn (ops/recurrent.c)
 * against a naive host loop in double, finite differences, torch.nn.LSTM /
 * GRU / RNN from the same weights (T = 1, 7, 50, and batch_first; the GRU at
 * T = 1, 3, 7, 20), and bad input. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "support.h"

/* The fixtures' output: the hidden sequence plus h_n (and c_n) broadcast
 * over time, so gradients reach the op through all of its outputs.
 * Inputs: x, h0, c0, w_ih, w_hh, b_ih, b_hh (the GRU and the RNN have no
 * c0). */
static clg_tensor *run_lstm(clg_tensor *const *in, const void *arg)
{
    bool batch_first = *(const bool *)arg;
    clg_tensor *h_n = NULL, *c_n = NULL;
    clg_tensor *y =
        clg_lstm(in[0], in[1], in[2], in[3], in[4], in[5], in[6], batch_first, &h_n, &c_n);
    clg_tensor *last = clg_add(h_n, c_n);
    if (batch_first && last)
        last = clg_transpose(last, 0, 1); /* (N, 1, H) broadcasts over (N, T, H) */
    return clg_add(y, last);
}

static clg_tensor *run_rnn(clg_tensor *const *in, const void *arg)
{
    bool batch_first = *(const bool *)arg;
    clg_tensor *h_n = NULL;
    clg_tensor *y = clg_rnn(in[0], in[1], in[2], in[3], in[4], in[5], batch_first, &h_n);
    if (batch_first && h_n)
        h_n = clg_transpose(h_n, 0, 1);
    return clg_add(y, h_n);
}

static clg_tensor *run_gru(clg_tensor *const *in, const void *arg)
{
    bool batch_first = *(const bool *)arg;
    clg_tensor *h_n = NULL;
    clg_tensor *y = clg_gru(in[0], in[1], in[2], in[3], in[4], in[5], batch_first, &h_n);
    if (batch_first && h_n)
        h_n = clg_transpose(h_n, 0, 1);
    return clg_add(y, h_n);
}

/* check/'s reference (shared with clgrad check) on float inputs: each array
 * to double, the cell from its gate count G (1 RNN, 4 LSTM, 3 GRU). */
static void host_recurrent(int G, int T, int N, int I, int H, const float *x, const float *h0,
                           const float *c0, const float *w_ih, const float *w_hh, const float *b_ih,
                           const float *b_hh, double *y, double *h_n, double *c_n)
{
    const float *in[] = {x, h0, c0, w_ih, w_hh, b_ih, b_hh};
    size_t n[] = {(size_t)(T * N * I), (size_t)(N * H), (size_t)(N * H), (size_t)(G * H * I),
                  (size_t)(G * H * H), (size_t)(G * H), (size_t)(G * H)};
    double *d[7];
    for (int i = 0; i < 7; i++)
        d[i] = test_doubles(in[i], n[i]);
    clg_cell cell = G == 4 ? CLG_CELL_LSTM : G == 3 ? CLG_CELL_GRU : CLG_CELL_RNN;
    chk_recurrent(cell, T, N, I, H, d[0], d[1], d[2], d[3], d[4], d[5], d[6], y, h_n, c_n);
    for (int i = 0; i < 7; i++)
        free(d[i]);
}

static void assert_close_double(const float *got, const double *want, int n, const char *what)
{
    float *w = malloc(sizeof(float) * (size_t)n);
    for (int i = 0; i < n; i++)
        w[i] = (float)want[i];
    test_assert_close(got, w, (size_t)n, test_tol_get("transcendental"), what);
    free(w);
}

/* T = 5, N = 7, I = 4, H = 6 (one unit per work-item), 8 (float4s, or
 * float8s where the plan's width is 8), 16 and 32 (the plan's width: float16s
 * with AVX-512; the LSTM's fused step kernel on the cpu plan, whose tiles of
 * 6 batch rows leave a partial one, over one and two blocks of units), with
 * and without batch_first, all three cells. */
START_TEST(test_lstm_matches_host)
{
    clg_context *ctx = test_context();
    enum { T = 5, N = 7, I = 4, HMAX = 32 };
    for (int c = 0; c < 12; c++) {
        int H = (int[]){6, 8, 16, HMAX}[c / 3], G = (int[]){1, 4, 3}[c % 3], lstm = G == 4;
        const char *cell = G == 4 ? "lstm" : G == 3 ? "gru" : "rnn";
        float x[T * N * I], xb[N * T * I], h0[N * HMAX], c0[N * HMAX], w_ih[4 * HMAX * I],
            w_hh[4 * HMAX * HMAX], b_ih[4 * HMAX], b_hh[4 * HMAX];
        test_random(x, T * N * I, 1, -1, 1);
        test_random(h0, N * H, 2, -1, 1);
        test_random(c0, N * H, 3, -1, 1);
        test_random(w_ih, (size_t)(G * H * I), 4, -0.5f, 0.5f);
        test_random(w_hh, (size_t)(G * H * H), 5, -0.5f, 0.5f);
        test_random(b_ih, (size_t)(G * H), 6, -0.5f, 0.5f);
        test_random(b_hh, (size_t)(G * H), 7, -0.5f, 0.5f);
        for (int t = 0; t < T; t++)
            for (int n = 0; n < N; n++)
                memcpy(xb + (n * T + t) * I, x + (t * N + n) * I, sizeof(float) * I);
        double y[T * N * HMAX], h_n[N * HMAX], c_n[N * HMAX];
        host_recurrent(G, T, N, I, H, x, h0, c0, w_ih, w_hh, b_ih, b_hh, y, h_n, c_n);
        for (int bf = 0; bf < 2; bf++) {
            clg_tensor *tx = bf ? test_tensor(ctx, 3, (int64_t[]){N, T, I}, xb, false)
                                : test_tensor(ctx, 3, (int64_t[]){T, N, I}, x, false);
            clg_tensor *th = test_tensor(ctx, 3, (int64_t[]){1, N, H}, h0, false);
            clg_tensor *tc = test_tensor(ctx, 2, (int64_t[]){N, H}, c0, false); /* (N, H) too */
            clg_tensor *tw = test_tensor(ctx, 2, (int64_t[]){G * H, I}, w_ih, false);
            clg_tensor *tu = test_tensor(ctx, 2, (int64_t[]){G * H, H}, w_hh, false);
            clg_tensor *tb = test_tensor(ctx, 1, (int64_t[]){G * H}, b_ih, false);
            clg_tensor *tb2 = test_tensor(ctx, 1, (int64_t[]){G * H}, b_hh, false);
            clg_step_begin(ctx);
            clg_tensor *h_last = NULL, *c_last = NULL;
            clg_tensor *out = lstm     ? clg_lstm(tx, th, tc, tw, tu, tb, tb2, bf, &h_last, &c_last)
                              : G == 3 ? clg_gru(tx, th, tw, tu, tb, tb2, bf, &h_last)
                                       : clg_rnn(tx, th, tw, tu, tb, tb2, bf, &h_last);
            ck_assert_msg(out != NULL, "%s", clg_context_error(ctx));
            ck_assert_int_eq(clg_tensor_dim(out, 0), bf ? N : T);
            ck_assert_int_eq(clg_tensor_dim(out, 1), bf ? T : N);
            ck_assert_int_eq(clg_tensor_rank(h_last), 3);
            ck_assert_int_eq(clg_tensor_dim(h_last, 0), 1);
            float *got = test_download(out);
            double want[T * N * HMAX];
            for (int t = 0; t < T; t++)
                for (int n = 0; n < N; n++)
                    for (int j = 0; j < H; j++)
                        want[bf ? (n * T + t) * H + j : (t * N + n) * H + j] =
                            y[(t * N + n) * H + j];
            char what[32];
            snprintf(what, sizeof what, "%s y, H %d%s", cell, H, bf ? ", batch_first" : "");
            assert_close_double(got, want, T * N * H, what);
            free(got);
            got = test_download(h_last);
            snprintf(what, sizeof what, "%s h_n, H %d", cell, H);
            assert_close_double(got, h_n, N * H, what);
            free(got);
            if (lstm) {
                got = test_download(c_last);
                assert_close_double(got, c_n, N * H, "c_n");
                free(got);
            } else {
                ck_assert_ptr_null(c_last);
            }
            clg_step_end(ctx);
            clg_tensor *all[] = {tx, th, tc, tw, tu, tb, tb2};
            for (int i = 0; i < 7; i++)
                clg_tensor_destroy(all[i]);
        }
    }
    clg_context_destroy(ctx);
}
END_TEST

/* H = 2 runs the one-unit step kernels, H = 4 the float4 ones, H = 16 the
 * LSTM's fused forward step on the cpu plan (whose tile of 6 batch rows
 * then holds 4 clamped ones). */
static void gradcheck(int G, bool batch_first, int T, int H)
{
    clg_context *ctx = test_context();
    enum { N = 2, I = 3 };
    bool lstm = G == 4;
    float buf[4 * 16 * 16];
    int64_t xs[3] = {batch_first ? N : T, batch_first ? T : N, I};
    clg_tensor *in[7];
    int k = 0;
    test_random(buf, (size_t)(T * N * I), 11, -1, 1);
    in[k++] = test_tensor(ctx, 3, xs, buf, true);
    test_random(buf, N * H, 12, -1, 1);
    in[k++] = test_tensor(ctx, 3, (int64_t[]){1, N, H}, buf, true);
    if (lstm) {
        test_random(buf, N * H, 13, -1, 1);
        in[k++] = test_tensor(ctx, 3, (int64_t[]){1, N, H}, buf, true);
    }
    test_random(buf, (size_t)(G * H * I), 14, -0.8f, 0.8f);
    in[k++] = test_tensor(ctx, 2, (int64_t[]){G * H, I}, buf, true);
    test_random(buf, (size_t)(G * H * H), 15, -0.8f, 0.8f);
    in[k++] = test_tensor(ctx, 2, (int64_t[]){G * H, H}, buf, true);
    test_random(buf, (size_t)(G * H), 16, -0.5f, 0.5f);
    in[k++] = test_tensor(ctx, 1, (int64_t[]){G * H}, buf, true);
    test_random(buf, (size_t)(G * H), 17, -0.5f, 0.5f);
    in[k++] = test_tensor(ctx, 1, (int64_t[]){G * H}, buf, true);
    test_gradcheck(ctx, lstm ? run_lstm : G == 3 ? run_gru : run_rnn, &batch_first, k, in,
                   test_tol_get("gradcheck"));
    for (int i = 0; i < k; i++)
        clg_tensor_destroy(in[i]);
    clg_context_destroy(ctx);
}

START_TEST(test_lstm_gradcheck)
{
    gradcheck(4, false, 4, 2);
    gradcheck(4, true, 3, 2);
    gradcheck(4, false, 1, 2);
    gradcheck(4, true, 1, 2); /* batch_first, one step: y is (N, 1, H) */
    gradcheck(4, false, 3, 4);
    gradcheck(4, false, 2, 16);
}
END_TEST

START_TEST(test_gru_gradcheck)
{
    gradcheck(3, false, 4, 2);
    gradcheck(3, true, 3, 2);
    gradcheck(3, false, 1, 2);
    gradcheck(3, true, 1, 2);
    gradcheck(3, false, 3, 4);
}
END_TEST

START_TEST(test_rnn_gradcheck)
{
    gradcheck(1, false, 4, 2);
    gradcheck(1, true, 3, 2);
    gradcheck(1, false, 3, 4);
}
END_TEST

/* Without h0 / c0 (zeros): the gradients of the weights and the input. */
static clg_tensor *run_lstm_zero_state(clg_tensor *const *in, const void *arg)
{
    (void)arg;
    clg_tensor *h_n = NULL;
    clg_tensor *y = clg_lstm(in[0], NULL, NULL, in[1], in[2], in[3], NULL, false, &h_n, NULL);
    return clg_add(y, h_n);
}

START_TEST(test_lstm_gradcheck_zero_state)
{
    clg_context *ctx = test_context();
    enum { T = 3, N = 2, I = 3, H = 2 };
    float buf[64];
    clg_tensor *in[4];
    test_random(buf, T * N * I, 21, -1, 1);
    in[0] = test_tensor(ctx, 3, (int64_t[]){T, N, I}, buf, true);
    test_random(buf, 4 * H * I, 22, -0.8f, 0.8f);
    in[1] = test_tensor(ctx, 2, (int64_t[]){4 * H, I}, buf, true);
    test_random(buf, 4 * H * H, 23, -0.8f, 0.8f);
    in[2] = test_tensor(ctx, 2, (int64_t[]){4 * H, H}, buf, true);
    test_random(buf, 4 * H, 24, -0.5f, 0.5f);
    in[3] = test_tensor(ctx, 1, (int64_t[]){4 * H}, buf, true);
    test_gradcheck(ctx, run_lstm_zero_state, NULL, 4, in, test_tol_get("gradcheck"));
    for (int i = 0; i < 4; i++)
        clg_tensor_destroy(in[i]);
    clg_context_destroy(ctx);
}
END_TEST

/* Without h0 (zeros) and with one bias of the two (b_hh holds b_hn, which
 * the GRU adds inside the reset product, so each path is checked alone). */
static clg_tensor *run_gru_one_bias(clg_tensor *const *in, const void *arg)
{
    bool hidden_bias = *(const bool *)arg;
    clg_tensor *h_n = NULL;
    clg_tensor *y = clg_gru(in[0], NULL, in[1], in[2], hidden_bias ? NULL : in[3],
                            hidden_bias ? in[3] : NULL, false, &h_n);
    return clg_add(y, h_n);
}

START_TEST(test_gru_gradcheck_zero_state)
{
    clg_context *ctx = test_context();
    enum { T = 3, N = 2, I = 3, H = 2 };
    float buf[64];
    clg_tensor *in[4];
    test_random(buf, T * N * I, 31, -1, 1);
    in[0] = test_tensor(ctx, 3, (int64_t[]){T, N, I}, buf, true);
    test_random(buf, 3 * H * I, 32, -0.8f, 0.8f);
    in[1] = test_tensor(ctx, 2, (int64_t[]){3 * H, I}, buf, true);
    test_random(buf, 3 * H * H, 33, -0.8f, 0.8f);
    in[2] = test_tensor(ctx, 2, (int64_t[]){3 * H, H}, buf, true);
    test_random(buf, 3 * H, 34, -0.5f, 0.5f);
    in[3] = test_tensor(ctx, 1, (int64_t[]){3 * H}, buf, true);
    for (int hidden_bias = 0; hidden_bias < 2; hidden_bias++)
        test_gradcheck(ctx, run_gru_one_bias, &(bool){hidden_bias}, 4, in,
                       test_tol_get("gradcheck"));
    for (int i = 0; i < 4; i++)
        clg_tensor_destroy(in[i]);
    clg_context_destroy(ctx);
}
END_TEST

/* The fixture's cases of `cell` (a name ending in "bf" is batch_first). */
static void check_golden(const char *cell, test_op_fn run, int n_inputs, int n_cases,
                         const char *const *cases)
{
    clg_context *ctx = test_context();
    clg_safetensors *st = test_golden_open(ctx, "ops_recurrent");
    for (int i = 0; i < n_cases; i++) {
        char name[32];
        snprintf(name, sizeof name, "%s.%s", cell, cases[i]);
        bool batch_first = strstr(cases[i], "bf") != NULL;
        test_golden_case(ctx, st, name, run, &batch_first, n_inputs, 0,
                         test_tol_get("recurrent"));
    }
    clg_safetensors_destroy(st);
    clg_context_destroy(ctx);
}

/* T = 1, 7, 50 and T = 7 batch_first (N 3, I 5, H 4) */
static const char *const lstm_cases[] = {"t1", "t7", "t50", "t7bf"};

START_TEST(test_lstm_golden)
{
    check_golden("lstm", run_lstm, 7, 4, lstm_cases);
}
END_TEST

/* T = 1, 3, 7 and 7 batch_first with N 3, H 5; T = 20 with N 2, H 8 */
START_TEST(test_gru_golden)
{
    static const char *const cases[] = {"t1", "t3", "t7", "t7bf", "t20"};
    check_golden("gru", run_gru, 6, 5, cases);
}
END_TEST

START_TEST(test_rnn_golden)
{
    check_golden("rnn", run_rnn, 6, 4, lstm_cases);
}
END_TEST

/* A steady-state step allocates nothing and builds nothing. */
static void check_steady_state(int G)
{
    clg_context *ctx = test_context();
    enum { T = 6, N = 4, I = 3, H = 5 };
    clg_tensor *x = test_tensor(ctx, 3, (int64_t[]){T, N, I}, NULL, false);
    clg_tensor *w = test_tensor(ctx, 2, (int64_t[]){G * H, I}, NULL, true);
    clg_tensor *u = test_tensor(ctx, 2, (int64_t[]){G * H, H}, NULL, true);
    clg_counters before = {0}, after = {0};
    for (int step = 0; step < 3; step++) {
        if (step == 2)
            clg_counters_get(ctx, &before);
        clg_step_begin(ctx);
        clg_tensor *h_n = NULL;
        if (G == 4)
            clg_lstm(x, NULL, NULL, w, u, NULL, NULL, false, &h_n, NULL);
        else
            clg_gru(x, NULL, w, u, NULL, NULL, false, &h_n);
        ck_assert_int_eq(clg_backward(clg_sum_all(h_n)), CLG_STATUS_OK);
        clg_step_end(ctx);
    }
    clg_counters_get(ctx, &after);
    ck_assert_uint_eq(after.device_allocations, before.device_allocations);
    ck_assert_uint_eq(after.program_builds, before.program_builds);
    ck_assert_uint_eq(after.host_syncs, before.host_syncs);
    clg_tensor_destroy(x);
    clg_tensor_destroy(w);
    clg_tensor_destroy(u);
    clg_context_destroy(ctx);
}

START_TEST(test_lstm_steady_state)
{
    check_steady_state(4);
}
END_TEST

START_TEST(test_gru_steady_state)
{
    check_steady_state(3);
}
END_TEST

START_TEST(test_lstm_bad_input)
{
    clg_context *ctx = test_context();
    enum { N = 2, I = 3, H = 4 };
    clg_tensor *empty = test_tensor(ctx, 3, (int64_t[]){0, N, I}, NULL, false);
    clg_tensor *x = test_tensor(ctx, 3, (int64_t[]){5, N, I}, NULL, false);
    clg_tensor *w = test_tensor(ctx, 2, (int64_t[]){4 * H, I}, NULL, true);
    clg_tensor *u = test_tensor(ctx, 2, (int64_t[]){4 * H, H}, NULL, true);
    clg_tensor *h_bad = test_tensor(ctx, 3, (int64_t[]){1, N, H + 1}, NULL, false);
    clg_step_begin(ctx);
    ck_assert_ptr_null(clg_lstm(empty, NULL, NULL, w, u, NULL, NULL, false, NULL, NULL));
    ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_SHAPE);
    ck_assert_str_eq(clg_context_error(ctx),
                     "clg_lstm: the sequence must have at least one step, one batch row and one "
                     "hidden unit: input [0, 2, 3] (T, N, I), hidden 4");
    clg_context_clear_error(ctx);
    ck_assert_ptr_null(clg_lstm(x, h_bad, NULL, w, u, NULL, NULL, false, NULL, NULL));
    ck_assert_str_eq(clg_context_error(ctx),
                     "clg_lstm: h0 of shape [1, 2, 5] must be float32 [1, 2, 4] (batch 2, hidden "
                     "4) for input [5, 2, 3]");
    clg_context_clear_error(ctx);
    ck_assert_ptr_null(clg_lstm(x, NULL, h_bad, w, u, NULL, NULL, false, NULL, NULL));
    ck_assert_ptr_nonnull(strstr(clg_context_error(ctx), "clg_lstm: c0 of shape [1, 2, 5]"));
    clg_context_clear_error(ctx);
    ck_assert_ptr_null(clg_rnn(x, NULL, w, u, NULL, NULL, false, NULL));
    ck_assert_str_eq(clg_context_error(ctx),
                     "clg_rnn: input [5, 2, 3], weight_ih [16, 3] and weight_hh [16, 4] do not "
                     "fit: want input (T, N, I) (batch_first: (N, T, I)), weight_ih (1 H, I), "
                     "weight_hh (1 H, H)");
    clg_context_clear_error(ctx);
    ck_assert_ptr_null(clg_gru(x, NULL, w, u, NULL, NULL, false, NULL));
    ck_assert_str_eq(clg_context_error(ctx),
                     "clg_gru: input [5, 2, 3], weight_ih [16, 3] and weight_hh [16, 4] do not "
                     "fit: want input (T, N, I) (batch_first: (N, T, I)), weight_ih (3 H, I), "
                     "weight_hh (3 H, H)");
    clg_context_clear_error(ctx);
    clg_step_end(ctx);
    clg_tensor *all[] = {empty, x, w, u, h_bad};
    for (int i = 0; i < 5; i++)
        clg_tensor_destroy(all[i]);
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {test_lstm_matches_host,
                                  test_lstm_gradcheck,
                                  test_gru_gradcheck,
                                  test_rnn_gradcheck,
                                  test_lstm_gradcheck_zero_state,
                                  test_gru_gradcheck_zero_state,
                                  test_lstm_golden,
                                  test_gru_golden,
                                  test_rnn_golden,
                                  test_lstm_steady_state,
                                  test_gru_steady_state,
                                  test_lstm_bad_input,
                                  NULL};
    return test_main("ops/recurrent", "recurrent", 0, tests);
}
