/* lecture/fgsm.c: the fast gradient sign method of the lecture's panda/gibbon
 * figure, on the device: one forward and backward give d loss / d x, then
 * each eps costs a handful of elementwise kernels and an argmax. sign and
 * clamp are composed from existing ops (no new kernels):
 *   sign(g) = 2 heaviside(g, 1/2) - 1            (1, 0, -1 exactly)
 *   clamp(v, 0, 1) = relu(v) - relu(v - 1)       exact for v in [-1, 2]: v - 1
 *                                                is exact there (Sterbenz)
 * and v = x + eps sign(g) stays in [-1, 2] because x and eps lie in [0, 1]. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "lecture/lecture.h"
#include "zoo/model.h"

static clg_tensor *clamp01(clg_tensor *v)
{
    return clg_sub(clg_relu(v), clg_relu(clg_affine(v, 1.0f, -1.0f)));
}

static bool check_eps(clg_context *ctx, const char *fn, const float *eps, int n_eps)
{
    if (n_eps < 1 || !eps) {
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT, "%s: %d eps values; expected at least one", fn,
                 n_eps);
        return false;
    }
    for (int i = 0; i < n_eps; i++)
        if (!(eps[i] >= 0.0f && eps[i] <= 1.0f)) {
            eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                     "%s: eps %g; expected a step in [0, 1], the range of the pixels", fn,
                     (double)eps[i]);
            return false;
        }
    return true;
}

/* The batch's work inside one step; the caller has checked the arguments. */
static void fgsm_step(clg_model *model, const float *images, const int32_t *labels, int64_t n,
                      const float *eps, int n_eps, int32_t *clean_predicted, int32_t *adv_predicted,
                      float *adversarial)
{
    clg_context *ctx = model->ctx;
    int64_t features = clg_model_in_features(model);
    clg_tensor *x =
        clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, (const int64_t[]){n, features}, images);
    clg_tensor *y = clg_tensor_from_host(ctx, CLG_DTYPE_I32, 1, &n, labels);
    if (!x || !y)
        return;
    clg_tensor_set_requires_grad(x, true);
    clg_tensor *logits = clg_model_forward(model, x);
    clg_tensor *loss = clg_cross_entropy_loss(logits, y, CLG_REDUCTION_MEAN);
    if (!loss || clg_backward(loss) != CLG_STATUS_OK)
        return;
    bool grad_was = clg_grad_set_enabled(ctx, false);
    if (clg_tensor_download(clg_argmax(logits, 1, false), clean_predicted, (size_t)n) !=
        CLG_STATUS_OK) {
        clg_grad_set_enabled(ctx, grad_was);
        return;
    }
    clg_tensor *sign = clg_affine(clg_heaviside(clg_tensor_grad(x), 0.5f), 2.0f, -1.0f);
    for (int e = 0; e < n_eps; e++) {
        clg_tensor *adv = clamp01(clg_add(x, clg_affine(sign, eps[e], 0.0f)));
        if (clg_tensor_download(clg_argmax(clg_model_forward(model, adv), 1, false),
                                adv_predicted + e * n, (size_t)n) != CLG_STATUS_OK)
            break;
        if (adversarial && clg_tensor_download(adv, adversarial + e * n * features,
                                               (size_t)(n * features)) != CLG_STATUS_OK)
            break;
    }
    clg_grad_set_enabled(ctx, grad_was);
}

clg_status lecture_fgsm_batch(clg_model *model, const float *images, const int32_t *labels,
                              int64_t n, const float *eps, int n_eps, int32_t *clean_predicted,
                              int32_t *adv_predicted, float *adversarial)
{
    static const char fn[] = "lecture_fgsm_batch";
    if (!model)
        return CLG_STATUS_INVALID_ARGUMENT;
    clg_context *ctx = model->ctx;
    if (eng_failed(ctx))
        return clg_context_status(ctx);
    if (n < 1 || !images || !labels || !clean_predicted || !adv_predicted)
        return eng_fail(
            ctx, CLG_STATUS_INVALID_ARGUMENT,
            "%s: %" PRId64 " images%s; expected at least one, with labels and "
            "room for the predictions",
            fn, n, images && labels && clean_predicted && adv_predicted ? "" : " or a NULL array");
    if (!check_eps(ctx, fn, eps, n_eps))
        return clg_context_status(ctx);
    bool grad_was = clg_grad_set_enabled(ctx, true);
    clg_step_begin(ctx);
    fgsm_step(model, images, labels, n, eps, n_eps, clean_predicted, adv_predicted, adversarial);
    clg_step_end(ctx);
    clg_grad_set_enabled(ctx, grad_was);
    return clg_context_status(ctx);
}

clg_status lecture_fgsm_evaluate(clg_model *model, const clg_dataset *data, int64_t count,
                                 int64_t batch, const float *eps, int n_eps, double *clean_accuracy,
                                 double *adv_accuracy)
{
    static const char fn[] = "lecture_fgsm_evaluate";
    if (!model || !data)
        return CLG_STATUS_INVALID_ARGUMENT;
    clg_context *ctx = model->ctx;
    if (eng_failed(ctx))
        return clg_context_status(ctx);
    int64_t features = clg_dataset_features(data);
    if (clg_model_in_features(model) != features ||
        clg_model_out_features(model) != clg_dataset_classes(data))
        return eng_fail(ctx, CLG_STATUS_SHAPE,
                        "%s: the %s %s maps %" PRId64 " inputs to %" PRId64
                        " outputs, but the data set has %" PRId64 " features and %d classes",
                        fn, clg_model_kind(model), model->arch, clg_model_in_features(model),
                        clg_model_out_features(model), features, clg_dataset_classes(data));
    if (batch < 1)
        return eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT, "%s: batch %" PRId64 "; expected >= 1",
                        fn, batch);
    if (!check_eps(ctx, fn, eps, n_eps))
        return clg_context_status(ctx);
    int64_t size = clg_dataset_size(data);
    if (count <= 0 || count > size)
        count = size;
    if (batch > count)
        batch = count;
    int32_t *clean = malloc((size_t)batch * sizeof *clean);
    int32_t *adv = malloc((size_t)batch * (size_t)n_eps * sizeof *adv);
    int64_t *adv_correct = calloc((size_t)n_eps, sizeof *adv_correct);
    if (!clean || !adv || !adv_correct) {
        free(clean);
        free(adv);
        free(adv_correct);
        return eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "%s: out of host memory", fn);
    }
    const float *images = clg_dataset_images(data);
    const int32_t *labels = clg_dataset_labels(data);
    int64_t clean_correct = 0;
    for (int64_t start = 0; start < count; start += batch) {
        int64_t n = count - start < batch ? count - start : batch;
        if (lecture_fgsm_batch(model, images + start * features, labels + start, n, eps, n_eps,
                               clean, adv, NULL) != CLG_STATUS_OK)
            break;
        for (int64_t i = 0; i < n; i++) {
            clean_correct += clean[i] == labels[start + i];
            for (int e = 0; e < n_eps; e++)
                adv_correct[e] += adv[e * n + i] == labels[start + i];
        }
    }
    if (!eng_failed(ctx)) {
        *clean_accuracy = (double)clean_correct / (double)count;
        for (int e = 0; e < n_eps; e++)
            adv_accuracy[e] = (double)adv_correct[e] / (double)count;
    }
    free(clean);
    free(adv);
    free(adv_correct);
    return clg_context_status(ctx);
}
