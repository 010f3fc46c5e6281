/* lecture/perceptron.c: Rosenblatt's perceptron (see lecture.h and the lecture's
 * "Perceptron algorithm" slides). The data and weights live on the device;
 * each epoch is one launch of op_perceptron_epoch (ops/perceptron.c), which
 * walks the samples in order on one work-item because the rule is sequential. The host enqueues
 * a handful of epochs at a time and reads the 16-byte state between them to
 * decide whether to go on. */
#include <inttypes.h>
#include <math.h>

#include "lecture/lecture.h"
#include "engine/engine.h"
#include "ops/perceptron.h"

/* Epochs enqueued between two reads of the state: a converged run wastes at
 * most this many empty launches, and a long run syncs this much less often. */
#define EPOCHS_PER_READ 8

static bool check_args(clg_context *ctx, const float *x, const int32_t *targets, int64_t n,
                       int64_t features, float eta, int max_epochs)
{
    static const char fn[] = "lecture_perceptron_train";
    if (n < 1 || features < 1 || !x || !targets) {
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                 "%s: %" PRId64 " samples of %" PRId64 " features%s; expected at least one of each",
                 fn, n, features, x && targets ? "" : " or a NULL array");
        return false;
    }
    if (n > INT32_MAX / (features + 1)) {
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT, "%s: %" PRId64 " x %" PRId64 " is too large", fn,
                 n, features);
        return false;
    }
    if (!(eta > 0.0f) || !isfinite(eta) || max_epochs < 1) {
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                 "%s: eta %g and max_epochs %d; expected eta > 0 and at least one epoch", fn,
                 (double)eta, max_epochs);
        return false;
    }
    for (int64_t i = 0; i < n; i++) {
        if (targets[i] != 1 && targets[i] != -1) {
            eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                     "%s: target %" PRId64 " is %d; the perceptron's targets are +1 and -1", fn, i,
                     (int)targets[i]);
            return false;
        }
        for (int64_t j = 0; j < features; j++)
            if (!isfinite(x[i * features + j])) {
                eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                         "%s: x[%" PRId64 ", %" PRId64 "] is not a finite number", fn, i, j);
                return false;
            }
    }
    return true;
}

clg_status lecture_perceptron_train(clg_context *ctx, const float *x, const int32_t *targets,
                                    int64_t n, int64_t features, float eta, int max_epochs,
                                    float *weights, lecture_perceptron_result *result)
{
    if (!ctx)
        return CLG_STATUS_INVALID_ARGUMENT;
    if (eng_failed(ctx))
        return clg_context_status(ctx);
    if (!weights || !result)
        return eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                        "lecture_perceptron_train: NULL weights or result");
    if (!check_args(ctx, x, targets, n, features, eta, max_epochs))
        return clg_context_status(ctx);

    /* Persistent tensors: they outlive the steps of the loop below. Created
     * zero-filled, which is the rule's starting point for w and the state. */
    clg_tensor *xt = clg_tensor_create(ctx, CLG_DTYPE_F32, 2, (const int64_t[]){n, features});
    clg_tensor *tt = clg_tensor_create(ctx, CLG_DTYPE_I32, 1, &n);
    clg_tensor *wt = clg_tensor_create(ctx, CLG_DTYPE_F32, 1, (const int64_t[]){features + 1});
    clg_tensor *st = clg_tensor_create(ctx, CLG_DTYPE_I32, 1, (const int64_t[]){4});
    int32_t state[4] = {0, 0, 0, 0};
    if (xt && tt && wt && st && clg_tensor_upload(xt, x, (size_t)(n * features)) == CLG_STATUS_OK &&
        clg_tensor_upload(tt, targets, (size_t)n) == CLG_STATUS_OK) {
        int run = 0;
        while (run < max_epochs && !state[2]) {
            int chunk = max_epochs - run < EPOCHS_PER_READ ? max_epochs - run : EPOCHS_PER_READ;
            for (int e = 0; e < chunk; e++)
                if (!op_perceptron_epoch(xt, tt, wt, st, eta))
                    break;
            run += chunk;
            if (clg_tensor_download(st, state, 4) != CLG_STATUS_OK)
                break;
        }
        if (!eng_failed(ctx) &&
            clg_tensor_download(wt, weights, (size_t)(features + 1)) == CLG_STATUS_OK) {
            result->updates = state[0];
            result->epochs = state[1];
            result->converged = state[2] != 0;
            result->last_mistakes = state[3];
        }
    }
    clg_tensor_destroy(xt);
    clg_tensor_destroy(tt);
    clg_tensor_destroy(wt);
    clg_tensor_destroy(st);
    return clg_context_status(ctx);
}
