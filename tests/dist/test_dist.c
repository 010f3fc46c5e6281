/* tests/dist/test_dist.c: dist/dist.c under `mpirun -np 2` (tests/meson.build
 * starts it so): ten training steps of the MLP and of LeNet-5 split across
 * the ranks against the same steps in one process, a global batch the ranks
 * do not divide (and a batch smaller than the ranks), bitwise-identical
 * ranks, the fraud autoencoder's trainer the same way, and the checks that
 * refuse ranks whose models differ. Each rank
 * computes the one-process reference itself, on the whole batch.
 *
 * SGD with momentum rather than Adam: Adam divides by the root of the
 * squared gradient, so an element whose gradient is near zero turns a
 * rounding difference (the split batch sums in another order) into a step
 * of up to lr; SGD keeps the comparison as well conditioned as the losses. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

#include "clgrad/dist.h"
#include "lecture/lecture.h"
#include "support.h"

#define STEPS 10
#define PIXELS 784
#define CLASSES 10
#define LR 0.05f

static int world_rank, world_size;

typedef clg_model *(*make_model_fn)(clg_context *ctx, uint64_t seed);

static clg_model *make_mlp(clg_context *ctx, uint64_t seed)
{
    return clg_zoo_mlp_create(ctx, PIXELS, (const int64_t[]){256, 128}, 2, CLASSES, seed);
}

static clg_model *make_lenet5(clg_context *ctx, uint64_t seed)
{
    return clg_zoo_lenet5_create(ctx, NULL, NULL, seed);
}

static clg_optim *make_sgd(clg_context *ctx, clg_model *model)
{
    clg_optim_options o = clg_optim_options_default(CLG_OPTIM_MOMENTUM);
    o.lr = LR;
    clg_optim *opt = clg_optim_create(ctx, clg_model_params(model), &o);
    ck_assert_msg(opt != NULL, "%s", clg_context_error(ctx));
    return opt;
}

/* Rank r's rows of a batch of `count`: [count r / N, count (r + 1) / N). */
static void share(int64_t count, int64_t *first, int64_t *n)
{
    *first = count * world_rank / world_size;
    *n = count * (world_rank + 1) / world_size - *first;
}

/* One step of this rank's share; returns the global batch's mean loss (the
 * ranks' means weighted by their shares, summed). */
static float dist_step(clg_context *ctx, clg_dist *dist, clg_model *model, clg_optim *opt,
                       const float *x, const int32_t *y, int64_t count)
{
    int64_t first, n;
    share(count, &first, &n);
    clg_dist_set_grad_scale(dist, (float)n / (float)count);
    double weighted = 0.0;
    clg_step_begin(ctx);
    if (n > 0) {
        clg_tensor *xs = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2,
                                              (const int64_t[]){n, PIXELS}, x + first * PIXELS);
        clg_tensor *ys = clg_tensor_from_host(ctx, CLG_DTYPE_I32, 1, &n, y + first);
        clg_tensor *loss =
            clg_cross_entropy_loss(clg_model_forward(model, xs), ys, CLG_REDUCTION_MEAN);
        clg_optim_zero_grad(opt);
        clg_backward(loss);
        float value = NAN;
        ck_assert_msg(clg_tensor_item(loss, &value) == CLG_STATUS_OK, "%s",
                      clg_context_error(ctx));
        weighted = (double)value * (double)n / (double)count;
    }
    clg_status status = clg_dist_wait(dist);
    ck_assert_msg(status == CLG_STATUS_OK, "clg_dist_wait: %s", clg_context_error(ctx));
    clg_optim_step(opt);
    ck_assert_msg(clg_dist_sum(dist, &weighted, 1) == CLG_STATUS_OK, "%s",
                  clg_context_error(ctx));
    ck_assert_msg(clg_context_status(ctx) == CLG_STATUS_OK, "%s", clg_context_error(ctx));
    clg_step_end(ctx);
    return (float)weighted;
}

/* Every parameter of `a` against `b`'s, within `tol`. */
static void assert_params_close(const clg_model *a, const clg_model *b, const test_tol *tol)
{
    const clg_params *pa = clg_model_params(a), *pb = clg_model_params(b);
    for (size_t i = 0; i < clg_params_count(pa); i++) {
        float *got = test_download(clg_params_tensor(pa, i));
        float *want = test_download(clg_params_tensor(pb, i));
        test_assert_close(got, want, (size_t)clg_tensor_numel(clg_params_tensor(pa, i)), tol,
                          clg_params_name(pa, i));
        free(want);
        free(got);
    }
}

/* Rank 0's parameters, sent to every rank, equal each rank's bit for bit. */
static void assert_ranks_identical(const clg_model *model)
{
    const clg_params *ps = clg_model_params(model);
    for (size_t i = 0; i < clg_params_count(ps); i++) {
        clg_tensor *t = clg_params_tensor(ps, i);
        size_t n = (size_t)clg_tensor_numel(t);
        float *mine = test_download(t);
        float *rank0 = malloc(n * sizeof *rank0);
        ck_assert_ptr_nonnull(rank0);
        memcpy(rank0, mine, n * sizeof *rank0);
        ck_assert_int_eq(MPI_Bcast(rank0, (int)n, MPI_FLOAT, 0, MPI_COMM_WORLD), MPI_SUCCESS);
        ck_assert_msg(memcmp(mine, rank0, n * sizeof *mine) == 0,
                      "rank %d's %s differs from rank 0's", world_rank, clg_params_name(ps, i));
        free(rank0);
        free(mine);
    }
}

/* `steps` steps with global batches of counts[s] samples, split across the
 * ranks, against the same batches whole in one process. */
static void check_against_one_process(make_model_fn make, const int64_t *counts, int steps,
                                      const clg_dist_options *options, const char *what)
{
    clg_context *ctx = test_context();
    int64_t most = 0;
    for (int s = 0; s < steps; s++)
        most = counts[s] > most ? counts[s] : most;
    float *x = malloc((size_t)(steps * most * PIXELS) * sizeof *x);
    int32_t *y = malloc((size_t)(steps * most) * sizeof *y);
    ck_assert(x && y);
    test_random(x, (size_t)(steps * most * PIXELS), 11, 0.0f, 1.0f);
    for (int64_t i = 0; i < steps * most; i++)
        y[i] = (int32_t)((i * 7 + i / 3) % CLASSES);

    /* One process: the whole batch. */
    clg_model *ref = make(ctx, 5);
    ck_assert_msg(ref != NULL, "%s", clg_context_error(ctx));
    clg_optim *ref_opt = make_sgd(ctx, ref);
    float want[STEPS];
    for (int s = 0; s < steps; s++)
        want[s] = test_train_step(ctx, ref, ref_opt, x + s * most * PIXELS, y + s * most,
                                  counts[s]);

    /* The ranks: rank 1 starts from other weights, which the broadcast
     * from rank 0 must replace. */
    clg_model *model = make(ctx, world_rank == 0 ? 5 : 6);
    ck_assert_msg(model != NULL, "%s", clg_context_error(ctx));
    clg_optim *opt = make_sgd(ctx, model);
    clg_dist *dist = clg_dist_create(ctx, MPI_COMM_WORLD, clg_model_params(model), options);
    ck_assert_msg(dist != NULL, "clg_dist_create: %s", clg_context_error(ctx));
    ck_assert_int_eq(clg_dist_size(dist), world_size);
    float got[STEPS];
    for (int s = 0; s < steps; s++)
        got[s] = dist_step(ctx, dist, model, opt, x + s * most * PIXELS, y + s * most, counts[s]);

    clg_dist_stats stats;
    clg_dist_stats_get(dist, &stats);
    if (world_rank == 0) {
        double worst = 0.0;
        for (int s = 0; s < steps; s++)
            worst = fmax(worst, fabs((double)got[s] - want[s]) / fabs((double)want[s]));
        printf("%s: %d ranks, %llu buckets of %llu bytes in all, %.0f of %llu bucket "
               "allreduces started during backward; largest relative loss difference from one "
               "process %.2g\n",
               what, world_size, (unsigned long long)stats.buckets,
               (unsigned long long)stats.bytes_per_step, stats.overlapped_buckets,
               (unsigned long long)(stats.buckets * stats.steps), worst);
        fflush(stdout);
    }
    ck_assert_uint_eq(stats.steps, (uint64_t)steps);
    test_assert_close(got, want, (size_t)steps, test_tol_get("default"), what);
    assert_params_close(model, ref, test_tol_get("default"));
    assert_ranks_identical(model);
    ck_assert_msg(clg_dist_check(dist) == CLG_STATUS_OK, "%s", clg_context_error(ctx));

    clg_dist_destroy(dist);
    clg_optim_destroy(opt);
    clg_model_destroy(model);
    clg_optim_destroy(ref_opt);
    clg_model_destroy(ref);
    free(y);
    free(x);
    clg_context_destroy(ctx);
}

START_TEST(test_dist_mlp_matches_one_process)
{
    int64_t counts[STEPS];
    for (int s = 0; s < STEPS; s++)
        counts[s] = 128;
    check_against_one_process(make_mlp, counts, STEPS, NULL, "mlp, global batch 128");
}
END_TEST

START_TEST(test_dist_lenet5_matches_one_process)
{
    int64_t counts[STEPS];
    for (int s = 0; s < STEPS; s++)
        counts[s] = 128;
    /* Small buckets (LeNet-5's 61,706 parameters are 241 KiB), so that
     * several buckets start as backward goes on. */
    clg_dist_options o = clg_dist_options_default();
    o.first_bucket_bytes = 16 << 10;
    o.bucket_bytes = 64 << 10;
    o.check_every = 3;
    check_against_one_process(make_lenet5, counts, STEPS, &o, "lenet5, global batch 128");
}
END_TEST

/* 127 does not divide by 2 (64 + 63), and a batch of 1 leaves rank 1 with
 * no sample: it runs no backward and contributes zeros. */
START_TEST(test_dist_uneven_batches)
{
    const int64_t counts[] = {127, 1, 127, 5, 128, 127};
    check_against_one_process(make_mlp, counts, 6, NULL, "mlp, global batches 127, 1, 5");
}
END_TEST

/* The fraud autoencoder's trainer (zoo/autoencoder.c), as `mpirun clgrad
 * fraud` runs it: each rank trains on its share of every batch and
 * reduce_gradients sums the shares' gradients (the loss is a sum over rows,
 * so the gradient scale is 1). Two epochs of five steps each against the
 * trainer in one process: the epoch losses (the ranks' parts summed), the
 * parameters, and bitwise-identical ranks. The trainer's Adam divides by
 * the root of the squared gradient (see the top of the file), but the
 * summed loss over 100+ rows keeps every gradient element well above the
 * rounding differences of a split batch. */
#define AE_FEATURES 30
#define AE_EPOCHS 2

static clg_status sum_gradients(void *dist)
{
    return clg_dist_wait(dist);
}

static clg_model *make_autoencoder(clg_context *ctx, uint64_t seed)
{
    return clg_zoo_autoencoder_create(ctx, AE_FEATURES, (const int64_t[]){100, 100}, 2, 15, seed);
}

static void check_autoencoder(int64_t batch, int64_t rows, lecture_noise noise, const char *what)
{
    clg_context *ctx = test_context();
    float *x = malloc((size_t)(rows * AE_FEATURES) * sizeof *x);
    int32_t *normal = calloc((size_t)rows, sizeof *normal);
    ck_assert(x && normal);
    test_random(x, (size_t)(rows * AE_FEATURES), 13, 0.0f, 1.0f);
    lecture_autoencoder_options o = lecture_autoencoder_options_default();
    o.batch = batch;
    o.seed = 9;
    o.noise = noise;
    o.noise_level = 0.1f;

    /* One process: the whole batch. */
    clg_model *ref = make_autoencoder(ctx, 5);
    ck_assert_msg(ref != NULL, "%s", clg_context_error(ctx));
    lecture_autoencoder_trainer *ref_trainer = lecture_autoencoder_trainer_create(ref, x, normal, rows, &o);
    ck_assert_msg(ref_trainer != NULL, "%s", clg_context_error(ctx));
    double want[AE_EPOCHS];
    for (int e = 0; e < AE_EPOCHS; e++)
        ck_assert_msg(lecture_autoencoder_train_epoch(ref_trainer, &want[e]) == CLG_STATUS_OK, "%s",
                      clg_context_error(ctx));

    /* The ranks, rank 1 from other weights that the broadcast replaces. */
    clg_model *model = make_autoencoder(ctx, world_rank == 0 ? 5 : 6);
    ck_assert_msg(model != NULL, "%s", clg_context_error(ctx));
    clg_dist *dist = clg_dist_create(ctx, MPI_COMM_WORLD, clg_model_params(model), NULL);
    ck_assert_msg(dist != NULL, "clg_dist_create: %s", clg_context_error(ctx));
    clg_dist_set_grad_scale(dist, 1.0f);
    o.rank = world_rank;
    o.ranks = world_size;
    o.reduce_gradients = sum_gradients;
    o.reduce_arg = dist;
    lecture_autoencoder_trainer *trainer = lecture_autoencoder_trainer_create(model, x, normal, rows, &o);
    ck_assert_msg(trainer != NULL, "%s", clg_context_error(ctx));
    double got[AE_EPOCHS];
    for (int e = 0; e < AE_EPOCHS; e++) {
        ck_assert_msg(lecture_autoencoder_train_epoch(trainer, &got[e]) == CLG_STATUS_OK, "%s",
                      clg_context_error(ctx));
        ck_assert_msg(clg_dist_sum(dist, &got[e], 1) == CLG_STATUS_OK, "%s",
                      clg_context_error(ctx));
    }
    clg_dist_stats stats;
    clg_dist_stats_get(dist, &stats);
    int64_t steps_per_epoch = (rows + batch - 1) / batch;
    ck_assert_uint_eq(stats.steps, (uint64_t)(AE_EPOCHS * steps_per_epoch));
    float got_f[AE_EPOCHS], want_f[AE_EPOCHS];
    double worst = 0.0;
    for (int e = 0; e < AE_EPOCHS; e++) {
        got_f[e] = (float)got[e];
        want_f[e] = (float)want[e];
        worst = fmax(worst, fabs(got[e] - want[e]) / fabs(want[e]));
    }
    if (world_rank == 0) {
        printf("%s: %d ranks, %llu steps, epoch losses %.6f %.6f (one process %.6f %.6f), "
               "largest relative difference %.2g\n",
               what, world_size, (unsigned long long)stats.steps, got[0], got[1], want[0], want[1],
               worst);
        fflush(stdout);
    }
    test_assert_close(got_f, want_f, AE_EPOCHS, test_tol_get("default"), what);
    assert_params_close(model, ref, test_tol_get("default"));
    assert_ranks_identical(model);
    ck_assert_msg(clg_dist_check(dist) == CLG_STATUS_OK, "%s", clg_context_error(ctx));

    /* Several ranks without a reduction would train apart: refused. */
    o.reduce_gradients = NULL;
    ck_assert_ptr_null(lecture_autoencoder_trainer_create(model, x, normal, rows, &o));
    ck_assert_msg(strstr(clg_context_error(ctx), "reduce_gradients") != NULL, "%s",
                  clg_context_error(ctx));
    clg_context_clear_error(ctx);

    lecture_autoencoder_trainer_destroy(trainer);
    clg_dist_destroy(dist);
    clg_model_destroy(model);
    lecture_autoencoder_trainer_destroy(ref_trainer);
    clg_model_destroy(ref);
    free(normal);
    free(x);
    clg_context_destroy(ctx);
}

/* 1280 rows: five batches of 256 per epoch, split 128 + 128. */
START_TEST(test_dist_autoencoder_matches_one_process)
{
    check_autoencoder(256, 5 * 256, LECTURE_NOISE_NONE, "autoencoder, global batch 256");
}
END_TEST

/* 1121 rows: four batches of 255 (127 + 128) and one of 101 (50 + 51) per
 * epoch; masking noise, whose Philox counters a rank's share must take
 * from the middle of the batch's. */
START_TEST(test_dist_autoencoder_uneven_batches)
{
    check_autoencoder(255, 4 * 255 + 101, LECTURE_NOISE_MASK,
                      "masking autoencoder, global batches 255 and 101");
}
END_TEST

START_TEST(test_dist_check_finds_drift)
{
    clg_context *ctx = test_context();
    clg_model *model = make_mlp(ctx, 5);
    clg_dist *dist = clg_dist_create(ctx, MPI_COMM_WORLD, clg_model_params(model), NULL);
    ck_assert_msg(dist != NULL, "%s", clg_context_error(ctx));
    ck_assert_int_eq(clg_dist_check(dist), CLG_STATUS_OK);
    /* The last rank nudges one weight: every rank must see the difference. */
    if (world_rank == world_size - 1) {
        clg_tensor *w = clg_params_find(clg_model_params(model), "fc2.bias");
        float *v = test_download(w);
        v[3] = nextafterf(v[3], 1.0f);
        ck_assert_int_eq(clg_tensor_upload(w, v, (size_t)clg_tensor_numel(w)), CLG_STATUS_OK);
        free(v);
    }
    ck_assert_int_eq(clg_dist_check(dist), CLG_STATUS_MISMATCH);
    ck_assert_msg(strstr(clg_context_error(ctx), "\"fc2.bias\" differs across the") != NULL,
                  "%s", clg_context_error(ctx));
    clg_context_clear_error(ctx);
    clg_dist_destroy(dist);
    clg_model_destroy(model);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_dist_create_refuses_different_models)
{
    clg_context *ctx = test_context();
    int64_t hidden = world_rank == 0 ? 64 : 32;
    clg_model *model = clg_zoo_mlp_create(ctx, PIXELS, &hidden, 1, CLASSES, 5);
    ck_assert_msg(model != NULL, "%s", clg_context_error(ctx));
    clg_dist *dist = clg_dist_create(ctx, MPI_COMM_WORLD, clg_model_params(model), NULL);
    ck_assert_ptr_null(dist);
    ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_MISMATCH);
    ck_assert_msg(strstr(clg_context_error(ctx), "differ in names or shapes") != NULL, "%s",
                  clg_context_error(ctx));
    clg_context_clear_error(ctx);
    /* Equal models are accepted on the same context afterwards (the failed
     * create left no hook behind). */
    clg_model *same = make_mlp(ctx, 5);
    dist = clg_dist_create(ctx, MPI_COMM_WORLD, clg_model_params(same), NULL);
    ck_assert_msg(dist != NULL, "%s", clg_context_error(ctx));
    clg_dist_destroy(dist);
    clg_model_destroy(same);
    clg_model_destroy(model);
    clg_context_destroy(ctx);
}
END_TEST

START_TEST(test_dist_backward_twice_without_wait_is_an_error)
{
    clg_context *ctx = test_context();
    clg_model *model = clg_zoo_logreg_create(ctx, PIXELS, CLASSES, 5);
    clg_dist *dist = clg_dist_create(ctx, MPI_COMM_WORLD, clg_model_params(model), NULL);
    ck_assert_msg(dist != NULL, "%s", clg_context_error(ctx));
    float x[4 * PIXELS];
    int32_t y[4] = {1, 2, 3, 4};
    test_random(x, 4 * PIXELS, 3, 0.0f, 1.0f);
    for (int round = 0; round < 2; round++) {
        clg_step_begin(ctx);
        clg_tensor *xs = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2,
                                              (const int64_t[]){4, PIXELS}, x);
        clg_tensor *ys = clg_tensor_from_host(ctx, CLG_DTYPE_I32, 1, (const int64_t[]){4}, y);
        clg_backward(clg_cross_entropy_loss(clg_model_forward(model, xs), ys,
                                            CLG_REDUCTION_MEAN));
        clg_step_end(ctx);
    }
    ck_assert_int_eq(clg_context_status(ctx), CLG_STATUS_STATE);
    ck_assert_msg(strstr(clg_context_error(ctx), "call clg_dist_wait") != NULL, "%s",
                  clg_context_error(ctx));
    /* The first round's allreduces are in flight on every rank; the wait
     * completes them so that the ranks stay in step. */
    clg_context_clear_error(ctx);
    ck_assert_int_eq(clg_dist_wait(dist), CLG_STATUS_OK);
    clg_dist_destroy(dist);
    clg_model_destroy(model);
    clg_context_destroy(ctx);
}
END_TEST

static Suite *dist_suite(void)
{
    const TTest *tests[] = {test_dist_mlp_matches_one_process,
                            test_dist_lenet5_matches_one_process,
                            test_dist_uneven_batches,
                            test_dist_autoencoder_matches_one_process,
                            test_dist_autoencoder_uneven_batches,
                            test_dist_check_finds_drift,
                            test_dist_create_refuses_different_models,
                            test_dist_backward_twice_without_wait_is_an_error,
                            NULL};
    Suite *s = suite_create("dist");
    suite_add_tcase(s, test_case("dist", 900, tests));
    return s;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world_size);
    if (clg_dist_setup(MPI_COMM_WORLD, NULL, NULL) != CLG_STATUS_OK) {
        fprintf(stderr, "clg_dist_setup failed\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    /* Check must not fork: a forked child cannot use its parent's MPI. */
    SRunner *runner = srunner_create(dist_suite());
    srunner_set_fork_status(runner, CK_NOFORK);
    srunner_run_all(runner, world_rank == 0 ? CK_NORMAL : CK_SILENT);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    /* A failure on one rank leaves the others' collectives unmatched: end
     * them all rather than wait. */
    int any_failed = 0;
    MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (failed)
        fprintf(stderr, "rank %d: %d test(s) failed\n", world_rank, failed);
    MPI_Finalize();
    return any_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
