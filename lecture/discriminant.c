/* lecture/discriminant.c: linear and quadratic discriminant analysis (the
 * lecture's backup slides; formulas in lecture.h). Fitting: the class counts,
 * means and covariances are sums over the samples, computed on the device
 * with matmul against the one-hot class matrix. The d x d covariances are
 * then read back and inverted on the host, in double precision, by a
 * Cholesky factorisation that also gives log |Sigma| and detects a singular
 * matrix: that is O(d^3) work on a matrix of d = 2 .. 10, far below one
 * kernel launch. Prediction runs on the device: the sigmoid of the linear
 * (LDA) or quadratic (QDA) score. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lecture/lecture.h"
#include "engine/engine.h"

struct lecture_discriminant {
    clg_context *ctx;
    bool quadratic;
    int64_t features;
    float *means;             /* (2, features) */
    float *w;                 /* LDA: (features) */
    float b;                  /* LDA: the bias; QDA: the constant of the score */
    clg_tensor *mean[2];      /* (1, features), QDA */
    clg_tensor *precision[2]; /* (features, features) inverses, QDA */
    clg_tensor *weight;       /* (features, 1), LDA */
};

void lecture_discriminant_destroy(lecture_discriminant *model)
{
    if (!model)
        return;
    for (int k = 0; k < 2; k++) {
        clg_tensor_destroy(model->mean[k]);
        clg_tensor_destroy(model->precision[k]);
    }
    clg_tensor_destroy(model->weight);
    free(model->means);
    free(model->w);
    free(model);
}

/* The inverse of the symmetric matrix a (d x d) into inv, and log |a|;
 * false when a is not positive definite (singular to working precision). */
static bool spd_inverse(const double *a, int64_t d, double *inv, double *logdet)
{
    double *l = calloc((size_t)(d * d), sizeof *l);
    if (!l)
        return false;
    double scale = 0.0;
    for (int64_t i = 0; i < d; i++)
        scale = fmax(scale, fabs(a[i * d + i]));
    *logdet = 0.0;
    for (int64_t j = 0; j < d; j++) {
        double diag = a[j * d + j];
        for (int64_t k = 0; k < j; k++)
            diag -= l[j * d + k] * l[j * d + k];
        /* A pivot this small relative to the largest variance means the
         * points lie in a lower-dimensional subspace. */
        if (!(diag > 1e-10 * scale) || scale == 0.0) {
            free(l);
            return false;
        }
        l[j * d + j] = sqrt(diag);
        *logdet += log(diag);
        for (int64_t i = j + 1; i < d; i++) {
            double s = a[i * d + j];
            for (int64_t k = 0; k < j; k++)
                s -= l[i * d + k] * l[j * d + k];
            l[i * d + j] = s / l[j * d + j];
        }
    }
    /* inv = L^-T L^-1, column by column from unit vectors. */
    double *col = malloc((size_t)d * sizeof *col);
    if (!col) {
        free(l);
        return false;
    }
    for (int64_t c = 0; c < d; c++) {
        for (int64_t i = 0; i < d; i++) { /* L y = e_c */
            double s = i == c ? 1.0 : 0.0;
            for (int64_t k = 0; k < i; k++)
                s -= l[i * d + k] * col[k];
            col[i] = s / l[i * d + i];
        }
        for (int64_t i = d - 1; i >= 0; i--) { /* L^T z = y */
            double s = col[i];
            for (int64_t k = i + 1; k < d; k++)
                s -= l[k * d + i] * col[k];
            col[i] = s / l[i * d + i];
        }
        for (int64_t i = 0; i < d; i++)
            inv[i * d + c] = col[i];
    }
    free(col);
    free(l);
    return true;
}

static bool check_fit_args(clg_context *ctx, const float *x, const int32_t *labels, int64_t n,
                           int64_t d, bool quadratic, int64_t counts[2])
{
    static const char fn[] = "lecture_discriminant_fit";
    if (n < 1 || d < 1 || !x || !labels) {
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                 "%s: %" PRId64 " samples of %" PRId64 " features%s; expected at least one of each",
                 fn, n, d, x && labels ? "" : " or a NULL array");
        return false;
    }
    counts[0] = counts[1] = 0;
    for (int64_t i = 0; i < n; i++) {
        if (labels[i] != 0 && labels[i] != 1) {
            eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                     "%s: label %" PRId64 " is %d; the classes are 0 and 1", fn, i, (int)labels[i]);
            return false;
        }
        counts[labels[i]]++;
        for (int64_t j = 0; j < d; j++)
            if (!isfinite(x[i * d + j])) {
                eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                         "%s: x[%" PRId64 ", %" PRId64 "] is not a finite number", fn, i, j);
                return false;
            }
    }
    for (int k = 0; k < 2; k++) {
        int64_t need = quadratic ? d + 1 : 1;
        if (counts[k] < need) {
            eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                     "%s: class %d has %" PRId64 " point%s; %s needs at least %" PRId64
                     " per class for %s",
                     fn, k, counts[k], counts[k] == 1 ? "" : "s", quadratic ? "QDA" : "LDA", need,
                     quadratic ? "its covariance (features + 1)" : "its mean");
            return false;
        }
    }
    if (!quadratic && n - 2 < d) {
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                 "%s: %" PRId64 " points for %" PRId64
                 " features; LDA's pooled covariance needs n - 2 >= features",
                 fn, n, d);
        return false;
    }
    return true;
}

/* One step on the device: means (2, d) and covariances (LDA: one, QDA: two,
 * each d x d) into host arrays. */
static bool device_moments(clg_context *ctx, const float *x, const int32_t *labels, int64_t n,
                           int64_t d, bool quadratic, const int64_t counts[2], float *means,
                           float *cov)
{
    float *onehot = malloc((size_t)n * 2 * sizeof *onehot);
    if (!onehot) {
        eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "lecture_discriminant_fit: out of host memory");
        return false;
    }
    for (int64_t i = 0; i < n; i++) {
        onehot[2 * i] = labels[i] == 0 ? 1.0f : 0.0f;
        onehot[2 * i + 1] = labels[i] == 1 ? 1.0f : 0.0f;
    }
    bool grad_was = clg_grad_set_enabled(ctx, false);
    clg_step_begin(ctx);
    clg_tensor *xt = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, (const int64_t[]){n, d}, x);
    clg_tensor *m = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, (const int64_t[]){n, 2}, onehot);
    free(onehot);
    /* counts (2, 1); sums M^T X (2, d); centred Xc = X - M means (n, d). */
    clg_tensor *count = clg_reshape(clg_sum(m, 0, false), 2, (const int64_t[]){2, 1});
    clg_tensor *mu = clg_div(clg_matmul(clg_transpose(m, 0, 1), xt), count);
    clg_tensor *centred = clg_sub(xt, clg_matmul(m, mu));
    bool ok = clg_tensor_download(mu, means, (size_t)(2 * d)) == CLG_STATUS_OK;
    if (ok && !quadratic) {
        /* Pooled within-class scatter Xc^T Xc over n - 2. */
        clg_tensor *s = clg_affine(clg_matmul(clg_transpose(centred, 0, 1), centred),
                                   1.0f / (float)(n - 2), 0.0f);
        ok = clg_tensor_download(s, cov, (size_t)(d * d)) == CLG_STATUS_OK;
    }
    for (int k = 0; ok && quadratic && k < 2; k++) {
        /* Class k's scatter (M_k * Xc)^T Xc over n_k - 1: rows of the other
         * class are zeroed by the one-hot column. */
        clg_tensor *column =
            clg_matmul(m, clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, (const int64_t[]){2, 1},
                                               k == 0 ? (float[]){1, 0} : (float[]){0, 1}));
        clg_tensor *masked = clg_mul(centred, column);
        clg_tensor *s = clg_affine(clg_matmul(clg_transpose(masked, 0, 1), centred),
                                   1.0f / (float)(counts[k] - 1), 0.0f);
        ok = clg_tensor_download(s, cov + k * d * d, (size_t)(d * d)) == CLG_STATUS_OK;
    }
    clg_step_end(ctx);
    clg_grad_set_enabled(ctx, grad_was);
    return ok && !eng_failed(ctx);
}

static clg_tensor *persistent(clg_context *ctx, int rank, const int64_t *shape, const float *data,
                              size_t count)
{
    clg_tensor *t = clg_tensor_create(ctx, CLG_DTYPE_F32, rank, shape);
    if (t && clg_tensor_upload(t, data, count) != CLG_STATUS_OK) {
        clg_tensor_destroy(t);
        return NULL;
    }
    return t;
}

/* From the moments to the model's score: w, b (LDA) or the precisions and
 * constant (QDA), kept on the device for prediction. */
static bool build_scores(lecture_discriminant *model, const float *cov, const int64_t counts[2])
{
    clg_context *ctx = model->ctx;
    int64_t d = model->features;
    int n_cov = model->quadratic ? 2 : 1;
    double *a = malloc((size_t)(d * d) * sizeof *a);
    double *inv = malloc((size_t)(2 * d * d) * sizeof *inv);
    float *inv_f = malloc((size_t)(d * d) * sizeof *inv_f);
    double logdet[2] = {0.0, 0.0};
    bool ok = a && inv && inv_f;
    if (!ok)
        eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "lecture_discriminant_fit: out of host memory");
    for (int k = 0; ok && k < n_cov; k++) {
        for (int64_t i = 0; i < d * d; i++)
            a[i] = cov[k * d * d + i];
        if (!spd_inverse(a, d, inv + k * d * d, &logdet[k])) {
            eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                     "lecture_discriminant_fit: the %s covariance is singular (the points lie in a "
                     "lower-dimensional subspace of the %" PRId64 " features)",
                     model->quadratic ? (k == 0 ? "class 0" : "class 1") : "pooled", d);
            ok = false;
        }
    }
    double log_prior_ratio = log((double)counts[1] / (double)counts[0]);
    const float *mu0 = model->means, *mu1 = model->means + d;
    if (ok && !model->quadratic) {
        /* w = P (mu1 - mu0), b = (mu0^T P mu0 - mu1^T P mu1) / 2 + a */
        double b = log_prior_ratio;
        for (int64_t i = 0; i < d; i++) {
            double wi = 0.0;
            for (int64_t j = 0; j < d; j++) {
                double p = inv[i * d + j];
                wi += p * ((double)mu1[j] - mu0[j]);
                b += 0.5 * p * ((double)mu0[i] * mu0[j] - (double)mu1[i] * mu1[j]);
            }
            model->w[i] = (float)wi;
        }
        model->b = (float)b;
        model->weight = persistent(ctx, 2, (const int64_t[]){d, 1}, model->w, (size_t)d);
        ok = model->weight != NULL;
    }
    if (ok && model->quadratic) {
        /* score = (q0 - q1) / 2 + c, q_k the Mahalanobis distance to mu_k,
         * c = (log|S0| - log|S1|) / 2 + a. */
        model->b = (float)(0.5 * (logdet[0] - logdet[1]) + log_prior_ratio);
        for (int k = 0; ok && k < 2; k++) {
            for (int64_t i = 0; i < d * d; i++)
                inv_f[i] = (float)inv[k * d * d + i];
            model->precision[k] =
                persistent(ctx, 2, (const int64_t[]){d, d}, inv_f, (size_t)(d * d));
            model->mean[k] =
                persistent(ctx, 2, (const int64_t[]){1, d}, model->means + k * d, (size_t)d);
            ok = model->precision[k] && model->mean[k];
        }
    }
    free(a);
    free(inv);
    free(inv_f);
    return ok;
}

lecture_discriminant *lecture_discriminant_fit(clg_context *ctx, const float *x,
                                               const int32_t *labels, int64_t n, int64_t features,
                                               bool quadratic)
{
    if (!ctx || eng_failed(ctx))
        return NULL;
    int64_t counts[2];
    if (!check_fit_args(ctx, x, labels, n, features, quadratic, counts))
        return NULL;
    int64_t d = features;
    lecture_discriminant *model = calloc(1, sizeof *model);
    float *cov = malloc((size_t)(2 * d * d) * sizeof *cov);
    if (model) {
        model->means = malloc((size_t)(2 * d) * sizeof *model->means);
        model->w = calloc((size_t)d, sizeof *model->w);
    }
    if (!model || !cov || !model->means || !model->w) {
        free(cov);
        lecture_discriminant_destroy(model);
        eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "lecture_discriminant_fit: out of host memory");
        return NULL;
    }
    model->ctx = ctx;
    model->quadratic = quadratic;
    model->features = d;
    bool ok = device_moments(ctx, x, labels, n, d, quadratic, counts, model->means, cov) &&
              build_scores(model, cov, counts);
    free(cov);
    if (!ok) {
        lecture_discriminant_destroy(model);
        return NULL;
    }
    return model;
}

clg_status lecture_discriminant_predict(lecture_discriminant *model, const float *x, int64_t m,
                                        float *score, float *prob, int32_t *predicted)
{
    if (!model)
        return CLG_STATUS_INVALID_ARGUMENT;
    clg_context *ctx = model->ctx;
    if (eng_failed(ctx))
        return clg_context_status(ctx);
    int64_t d = model->features;
    if (m < 1 || !x)
        return eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                        "lecture_discriminant_predict: %" PRId64 " points%s; expected at least one",
                        m, x ? "" : " (NULL array)");
    bool grad_was = clg_grad_set_enabled(ctx, false);
    clg_step_begin(ctx);
    clg_tensor *xt = clg_tensor_from_host(ctx, CLG_DTYPE_F32, 2, (const int64_t[]){m, d}, x);
    clg_tensor *z;
    if (!model->quadratic) {
        z = clg_affine(clg_reshape(clg_matmul(xt, model->weight), 1, &m), 1.0f, model->b);
    } else {
        clg_tensor *q[2];
        for (int k = 0; k < 2; k++) {
            clg_tensor *diff = clg_sub(xt, model->mean[k]); /* (m, d) */
            q[k] = clg_sum(clg_mul(clg_matmul(diff, model->precision[k]), diff), 1, false);
        }
        z = clg_affine(clg_sub(q[0], q[1]), 0.5f, model->b);
    }
    if (score)
        clg_tensor_download(z, score, (size_t)m);
    if (prob)
        clg_tensor_download(clg_sigmoid(z), prob, (size_t)m);
    if (predicted) {
        /* Class 1 only where the score is > 0: a tie goes to class 0, as
         * scikit-learn's argmax over the two classes does. */
        clg_tensor *cls = clg_heaviside(z, 0.0f);
        float *buffer = malloc((size_t)m * sizeof *buffer);
        if (!buffer)
            eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY,
                     "lecture_discriminant_predict: out of host memory");
        else if (clg_tensor_download(cls, buffer, (size_t)m) == CLG_STATUS_OK)
            for (int64_t i = 0; i < m; i++)
                predicted[i] = buffer[i] > 0.5f;
        free(buffer);
    }
    clg_step_end(ctx);
    clg_grad_set_enabled(ctx, grad_was);
    return clg_context_status(ctx);
}

void lecture_discriminant_means(const lecture_discriminant *model, float *means)
{
    if (model && means)
        memcpy(means, model->means, (size_t)(2 * model->features) * sizeof *means);
}

clg_status lecture_discriminant_linear(const lecture_discriminant *model, float *w, float *b)
{
    if (!model)
        return CLG_STATUS_INVALID_ARGUMENT;
    if (model->quadratic)
        return eng_fail(
            model->ctx, CLG_STATUS_STATE,
            "lecture_discriminant_linear: a QDA model's score is quadratic, not w^T x + b");
    if (w)
        memcpy(w, model->w, (size_t)model->features * sizeof *w);
    if (b)
        *b = model->b;
    return CLG_STATUS_OK;
}
