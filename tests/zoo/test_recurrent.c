/* tests/zoo/test_recurrent.c: the recurrent models (zoo/recurrent.c): the RNN,
 * LSTM and GRU classifiers' first 10 Adam steps against PyTorch from the same
 * weights (tools/golden/gen_recurrent.py), a checkpoint round trip, the GRU's
 * accuracy on Fashion-MNIST after one epoch, and the character LSTM: it
 * learns a repeating text, samples reproducibly, and rejects a temperature
 * <= 0. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"

enum { STEPS = 10, BATCH = 8, PIXELS = 784, HIDDEN = 16 };

static void check_curve(const char *cell)
{
    clg_context *ctx = test_context();
    clg_safetensors *st = test_golden_open(ctx, "lstm_curve");
    const float *x = test_fixture_get(st, "lstm_curve", "x", 3, (int64_t[]){STEPS, BATCH, PIXELS});
    const int32_t *y = test_fixture_get(st, "lstm_curve", "y", 2, (int64_t[]){STEPS, BATCH});
    char name[64];
    snprintf(name, sizeof name, "%s.loss", cell);
    const float *want = test_fixture_get(st, "lstm_curve", name, 1, (int64_t[]){STEPS});
    char loss_name[64];
    memcpy(loss_name, name, sizeof name);
    clg_model *model = clg_zoo_recurrent_create(ctx, cell, 28, 28, HIDDEN, 10, 99);
    ck_assert_msg(model != NULL, "%s", clg_context_error(ctx));
    ck_assert_str_eq(clg_model_kind(model), cell);
    const clg_params *ps = clg_model_params(model);
    ck_assert_uint_eq(clg_params_count(ps), 6);
    for (size_t i = 0; i < clg_params_count(ps); i++) { /* by PyTorch's state_dict names */
        clg_tensor *t = clg_params_tensor(ps, i);
        int64_t shape[CLG_MAX_RANK];
        for (int d = 0; d < clg_tensor_rank(t); d++)
            shape[d] = clg_tensor_dim(t, d);
        snprintf(name, sizeof name, "%s.%s", cell, clg_params_name(ps, i));
        const float *data = test_fixture_get(st, "lstm_curve", name, clg_tensor_rank(t), shape);
        ck_assert_int_eq(clg_tensor_upload(t, data, (size_t)clg_tensor_numel(t)), CLG_STATUS_OK);
    }
    clg_optim_options o = clg_optim_options_default(CLG_OPTIM_ADAM);
    o.lr = 1e-2f;
    clg_optim *opt = clg_optim_create(ctx, ps, &o);
    float got[STEPS];
    for (int s = 0; s < STEPS; s++)
        got[s] = test_train_step(ctx, model, opt, x + s * BATCH * PIXELS, y + s * BATCH, BATCH);
    double worst = 0;
    for (int s = 0; s < STEPS; s++)
        worst = fmax(worst, fabs((double)got[s] - want[s]) / fabs((double)want[s]));
    printf("%s: loss %.4f -> %.4f, largest relative difference from PyTorch over %d steps %.2g\n",
           cell, (double)got[0], (double)got[STEPS - 1], STEPS, worst);
    fflush(stdout);
    test_assert_close(got, want, STEPS, test_tol_get("loss_curve"), loss_name);

    /* checkpoint round trip: the same logits from the reloaded model */
    char path[] = "/tmp/clgrad-test-recurrent-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(clg_model_save(model, path), CLG_STATUS_OK);
    clg_model *again = clg_model_from_checkpoint(ctx, path);
    unlink(path);
    ck_assert_msg(again != NULL, "%s", clg_context_error(ctx));
    ck_assert_str_eq(clg_model_arch(again), "28x28-16-10");
    ck_assert_str_eq(clg_model_kind(again), cell);
    clg_step_begin(ctx);
    clg_tensor *xt = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, (int64_t[]){BATCH, PIXELS}, x);
    float *a = test_download(clg_model_forward(model, xt));
    float *b = test_download(clg_model_forward(again, xt));
    test_assert_close(b, a, BATCH * 10, test_tol_get("exact"), "reloaded logits");
    free(a);
    free(b);
    clg_step_end(ctx);
    clg_model_destroy(again);
    clg_optim_destroy(opt);
    clg_model_destroy(model);
    clg_safetensors_destroy(st);
    clg_context_destroy(ctx);
}

START_TEST(test_lstm_classifier_loss_curve_matches_pytorch)
{
    check_curve("lstm");
}
END_TEST

START_TEST(test_gru_classifier_loss_curve_matches_pytorch)
{
    check_curve("gru");
}
END_TEST

/* One epoch as `clgrad train gru` runs it by default (hidden 128, batch 128,
 * Adam at 5e-3 decaying to 0; tools/clgrad/train.c says why not 1e-3): the
 * issue's bar is 80%. 84.2% here (clgrad train gru's cosine: 84.1-84.3% over
 * seeds 1, 2 and 42), in about 10 s on two CPU cores under PoCL. */
START_TEST(test_gru_fashion_mnist_accuracy)
{
    clg_context *ctx = test_context();
    clg_dataset *train = test_fashion_mnist(ctx, true);
    clg_dataset *test = test_fashion_mnist(ctx, false);
    clg_model *model = clg_zoo_recurrent_create(ctx, "gru", 28, 28, 128, 10, 42);
    ck_assert_msg(model != NULL, "%s", clg_context_error(ctx));
    clg_optim *opt = test_optim(ctx, model, CLG_OPTIM_ADAM, 5e-3f);
    test_train_epochs(ctx, model, opt, train, 128, 1, 5e-3f, 7);
    double accuracy = test_accuracy(ctx, model, test);
    printf("gru %s: Fashion-MNIST test accuracy %.4f after 1 epoch\n", clg_model_arch(model),
           accuracy);
    fflush(stdout);
    ck_assert_msg(accuracy >= 0.80, "GRU test accuracy %.4f < 0.80", accuracy);
    clg_optim_destroy(opt);
    clg_model_destroy(model);
    clg_dataset_destroy(train);
    clg_dataset_destroy(test);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_rnn_classifier_loss_curve_matches_pytorch)
{
    check_curve("rnn");
}
END_TEST

/* "abcd" repeated: 4 streams of 8-step chunks with truncated BPTT; after 60
 * Adam steps the model predicts the next letter almost surely, and a sample
 * at a low temperature continues the cycle. */
START_TEST(test_charlstm_learns_a_cycle)
{
    clg_context *ctx = test_context();
    enum { V = 4, T = 8, N = 4, ITERS = 60 };
    clg_charlstm *m = clg_charlstm_create(ctx, V, 8, 16, 1);
    ck_assert_msg(m != NULL, "%s", clg_context_error(ctx));
    clg_optim_options o = clg_optim_options_default(CLG_OPTIM_ADAM);
    o.lr = 2e-2f;
    clg_optim *opt = clg_optim_create(ctx, clg_charlstm_params(m), &o);
    clg_charlstm_set_keep_state(m, true);
    float first = NAN, last = NAN;
    for (int it = 0; it < ITERS; it++) {
        int32_t in[T * N], target[T * N];
        for (int t = 0; t < T; t++)
            for (int n = 0; n < N; n++) { /* stream n starts at letter n */
                int pos = it * T + t + n;
                in[t * N + n] = pos % V;
                target[t * N + n] = (pos + 1) % V;
            }
        clg_step_begin(ctx);
        clg_tensor *loss = clg_charlstm_loss(m, in, target, T, N);
        clg_optim_zero_grad(opt);
        ck_assert_int_eq(clg_backward(loss), CLG_STATUS_OK);
        ck_assert_int_eq(clg_clip_grad_norm(clg_charlstm_params(m), 5.0f, NULL), CLG_STATUS_OK);
        clg_optim_step(opt);
        ck_assert_int_eq(clg_tensor_item(loss, it == 0 ? &first : &last), CLG_STATUS_OK);
        clg_step_end(ctx);
    }
    printf("charlstm on a cycle: loss %.4f -> %.4f nats\n", (double)first, (double)last);
    ck_assert_msg(last < 0.1f && first > 1.0f, "loss %g -> %g", (double)first, (double)last);
    int32_t prime[2] = {0, 1}, out[8], out2[8];
    ck_assert_int_eq(clg_charlstm_sample(m, prime, 2, 8, 0.5f, 3, out), CLG_STATUS_OK);
    for (int i = 0; i < 8; i++)
        ck_assert_int_eq(out[i], (2 + i) % V);
    ck_assert_int_eq(clg_charlstm_sample(m, prime, 2, 8, 0.5f, 3, out2), CLG_STATUS_OK);
    ck_assert_mem_eq(out, out2, sizeof out);

    ck_assert_int_eq(clg_charlstm_sample(m, prime, 2, 8, 0.0f, 3, out),
                     CLG_STATUS_INVALID_ARGUMENT);
    ck_assert_str_eq(clg_context_error(ctx),
                     "clg_charlstm_sample: temperature must be a number > 0, not 0");
    clg_context_clear_error(ctx);
    ck_assert_int_eq(clg_charlstm_sample(m, prime, 2, 8, -1.0f, 3, out),
                     CLG_STATUS_INVALID_ARGUMENT);
    clg_context_clear_error(ctx);
    int32_t bad[1] = {V};
    clg_step_begin(ctx);
    ck_assert_ptr_null(clg_charlstm_loss(m, bad, prime, 1, 1));
    ck_assert_str_eq(clg_context_error(ctx),
                     "clg_embedding: id 4 at position 0 of ids [1, 1] is outside [0, 4) for "
                     "weight [4, 8]");
    clg_context_clear_error(ctx);
    clg_step_end(ctx);
    clg_optim_destroy(opt);
    clg_charlstm_destroy(m);
    clg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("zoo/recurrent");
    TCase *tc = tcase_create("recurrent");
    tcase_add_test(tc, test_lstm_classifier_loss_curve_matches_pytorch);
    tcase_add_test(tc, test_gru_classifier_loss_curve_matches_pytorch);
    tcase_add_test(tc, test_rnn_classifier_loss_curve_matches_pytorch);
    tcase_add_test(tc, test_charlstm_learns_a_cycle);
    suite_add_tcase(s, tc);
    /* Tagged "epoch": a whole epoch of 28 sequential steps per batch takes
     * 10 s on PoCL but some 17 minutes on rusticl's llvmpipe, so .ci/run's
     * rusticl section leaves it out (CK_EXCLUDE_TAGS=epoch); the loss curve
     * above runs the same kernels there against PyTorch. */
    TCase *epoch = tcase_create("epoch");
    tcase_set_tags(epoch, "epoch");
    tcase_add_test(epoch, test_gru_fashion_mnist_accuracy);
    suite_add_tcase(s, epoch);
    return test_run(s);
}
