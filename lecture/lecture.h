/* lecture/lecture.h: the lecture's programs that are not models: the
 * perceptron rule, linear and quadratic discriminant analysis, the small
 * experiments (the exam problem's logistic regression, universal
 * approximation, vanishing gradients), the fraud autoencoder's trainer,
 * FGSM adversarial examples and the GAN's training steps. Each trains or probes with the library's
 * public layers and ops and hands numbers back; the `clgrad` command line
 * draws and prints them, and tests/lecture/ checks them against the
 * lecture's figures. Not part of libclgrad: tools/ and the tests link
 * lecture/ as a static library of its own. The models themselves are in
 * clgrad/zoo.h. Prefix: lecture_. */
#ifndef CLGRAD_LECTURE_H
#define CLGRAD_LECTURE_H

#include "clgrad/clgrad.h"

/* ---- The perceptron (Rosenblatt 1958), lecture/perceptron.c ----
 *
 * The lecture's algorithm: targets t = +1 / -1, weights start at 0, samples
 * are visited in order and every mistake t (w . x*) <= 0 moves the weights
 * by w += eta t x*, where x* = (1, x_1, ..., x_d) so that w[0] is the bias.
 * Epochs repeat until one makes no mistake (converged) or `max_epochs` have
 * run. A mistake includes w . x* = 0, so the first sample always updates the
 * zero weights; this is the rule Novikoff's theorem bounds: on data that a
 * unit vector u separates with margin gamma = min t u . x*, there are at most
 * (R / gamma)^2 updates, R = max |x*|, whatever eta. The walk over the
 * samples runs on the device. */
typedef struct lecture_perceptron_result {
    int64_t updates;       /* mistakes corrected, all epochs together */
    int epochs;            /* epochs run, the final mistake-free one included */
    bool converged;        /* false: stopped at max_epochs with mistakes left */
    int64_t last_mistakes; /* mistakes in the last epoch (0 when converged) */
} lecture_perceptron_result;

/* x (n, features) and targets (n, each +1 or -1) on the host; fills
 * weights (features + 1: bias first) and *result. Not converging is no
 * error: result->converged says so. Errors (CLG_STATUS_INVALID_ARGUMENT):
 * n or features below 1, a target other than +1 / -1 (the message names its
 * index), eta not positive, max_epochs below 1, a non-finite input. */
clg_status lecture_perceptron_train(clg_context *ctx, const float *x, const int32_t *targets,
                                    int64_t n, int64_t features, float eta, int max_epochs,
                                    float *weights, lecture_perceptron_result *result);

/* ---- Linear and quadratic discriminant analysis, lecture/discriminant.c ----
 *
 * The lecture's backup slides: each class t in {0, 1} is taken to be
 * Gaussian N(mu_t, Sigma_t), and Bayes' rule gives
 *   P(t = 1 | x) = sigmoid(log P(x|1) - log P(x|0) + log(P(1) / P(0)))
 * with priors the class frequencies. QDA keeps one covariance per class
 * (divisor n_t - 1), so the argument of the sigmoid is quadratic in x; LDA
 * shares the pooled within-class covariance (divisor n - 2) and the
 * argument becomes w^T x + b with w = Sigma^-1 (mu_1 - mu_0) and
 * b = (mu_0^T Sigma^-1 mu_0 - mu_1^T Sigma^-1 mu_1) / 2 + log(P(1) / P(0)).
 * These are scikit-learn's LinearDiscriminantAnalysis (default solver) and
 * QuadraticDiscriminantAnalysis (reg_param 0) estimates; predictions are
 * class 1 where the argument is > 0, as theirs are. */
typedef struct lecture_discriminant lecture_discriminant;

/* Fits on x (n, features) and labels (n, each 0 or 1) on the host;
 * `quadratic` false gives LDA, true QDA. The means and covariances are
 * computed on the device. NULL on error, with the message in the context:
 * n or features below 1, a label other than 0 / 1 (naming its index), a
 * class with too few points for its covariance (QDA: features + 1 per
 * class; LDA: one per class and n - 2 >= features), a singular covariance
 * (CLG_STATUS_INVALID_ARGUMENT), out of memory. Free it with
 * lecture_discriminant_destroy. */
lecture_discriminant *lecture_discriminant_fit(clg_context *ctx, const float *x,
                                               const int32_t *labels, int64_t n, int64_t features,
                                               bool quadratic);
void lecture_discriminant_destroy(lecture_discriminant *model);
/* For m points x (m, features): score (the sigmoid's argument), prob (P(t =
 * 1 | x)) and predicted (0 / 1); any of the three may be NULL. Computed on
 * the device in one step of its own. */
clg_status lecture_discriminant_predict(lecture_discriminant *model, const float *x, int64_t m,
                                        float *score, float *prob, int32_t *predicted);
/* The class means, mu_0 then mu_1 (2 x features). */
void lecture_discriminant_means(const lecture_discriminant *model, float *means);
/* LDA only: w (features) and b of the linear score; CLG_STATUS_STATE for a
 * QDA model, whose score is not linear. */
clg_status lecture_discriminant_linear(const lecture_discriminant *model, float *w, float *b);

/* ---- The lecture's small experiments, lecture/experiments.c ----
 *
 * Logistic regression on the "student exam" problem, the universal
 * approximation sequence and the vanishing-gradient comparison. Each runs
 * its own steps on the device (clg_step_begin / clg_step_end inside) and
 * hands back numbers; drawing them is the command line's business. */

/* The true boundary of the synthetic exam data:
 * P(passed) = sigmoid(-8 + 1.0 hours studied + 0.6 hours slept). */
#define LECTURE_EXAM_TRUE_W0 (-8.0f)
#define LECTURE_EXAM_TRUE_W1 1.0f
#define LECTURE_EXAM_TRUE_W2 0.6f

/* n students, seeded and clearly synthetic: hours studied and hours slept
 * each uniform in [0, 10) into x (n, 2); passed[i] (0 / 1) drawn from the
 * Bernoulli law above with `true_w` (3: bias first; NULL for the defaults).
 * Errors: n below 1 (CLG_STATUS_INVALID_ARGUMENT). */
clg_status lecture_exam_generate(clg_context *ctx, int64_t n, const float *true_w, uint64_t seed,
                                 float *x, int32_t *passed);

/* How lecture_logistic_fit trains. */
typedef struct lecture_logistic_options {
    int64_t batch; /* 0: full-batch gradient descent; else mini-batch SGD */
    int epochs;    /* passes over the data (a GD epoch is one step) */
    float lr;      /* on the standardised inputs */
    uint64_t seed; /* initial weights and the SGD shuffle */
} lecture_logistic_options;

/* GD: batch 0, 500 epochs, lr 1; use .batch = 32 with lr 0.1, 40 epochs for
 * the SGD of the slides. */
lecture_logistic_options lecture_logistic_options_default(void);

/* p(t = 1 | x) = sigmoid(w_0 + sum_i w_i x_i), the lecture's one-neuron
 * network, fitted by minimising the mean cross-entropy with torch.optim.SGD's
 * rule. The inputs are standardised on the device first (their mean and
 * standard deviation), because hours of 0 to 10 make plain gradient descent
 * crawl along the bias; the weights come back in the units of x. x (n,
 * features) and t (n, 0 / 1) on the host; fills w (features + 1, bias first)
 * and, unless NULL, *final_loss (mean cross-entropy over the data) and
 * *accuracy (threshold 0.5). Errors: n or features below 1, a label other
 * than 0 / 1, a constant feature, batch above n, epochs below 1, lr not
 * positive (CLG_STATUS_INVALID_ARGUMENT). */
clg_status lecture_logistic_fit(clg_context *ctx, const float *x, const int32_t *t, int64_t n,
                                int64_t features, const lecture_logistic_options *options, float *w,
                                float *final_loss, double *accuracy);

/* Universal approximation: one hidden layer of `hidden` ReLU units,
 * f(x) = sum_i v_i ReLU(w_i x + b_i) + c, fitted to (x, y) (n points of a
 * 1-D function, host arrays) by full-batch Adam on the mean squared error
 * for `steps` steps with learning rate lr. The output layer starts from
 * PyTorch's initialisation (seeded); hidden unit i from w_i = +1, -1, +1, ...
 * and its kink -b_i / w_i at the (i + 1/2)-th of `hidden` equal parts of x's
 * range, so no unit starts dead over all the data (from PyTorch's default
 * some do, and a 1-unit net often fits a constant). Fills fitted (n) and *mse (mean squared error
 * of the fit). Errors: n, hidden or steps below 1, lr not positive (CLG_STATUS_INVALID_ARGUMENT).
 */
clg_status lecture_approx_fit(clg_context *ctx, const float *x, const float *y, int64_t n,
                              int64_t hidden, int steps, float lr, uint64_t seed, float *fitted,
                              float *mse);

/* Vanishing gradients (Glorot and Bengio 2010): an MLP of `layers` linear
 * layers, width -> width -> ... -> width -> 1, the activation after every
 * layer but the last, trained on a seeded synthetic task (inputs N(0, 1),
 * label 1 where a fixed random direction gives a positive projection) with
 * the cross-entropy on the logit and plain SGD. Every layer starts from the
 * same scheme for every activation, He et al.'s normal with gain sqrt(2)
 * and zero biases, so only the activation differs between runs. */
typedef struct lecture_vanishing_options {
    const char *activation; /* "sigmoid", "tanh", "relu" or "leaky_relu" (slope 0.01) */
    int layers;             /* >= 2 */
    int64_t width;
    int64_t batch;
    int steps; /* SGD steps between the two snapshots */
    float lr;
    uint64_t seed;
} lecture_vanishing_options;

/* sigmoid, 10 layers of width 64, batch 128, 100 steps, lr 0.1, seed 1. */
lecture_vanishing_options lecture_vanishing_options_default(void);
/* Gradient values of layer `layer` (0-based, input side first) in the
 * arrays below: width * width, and width for the last layer; 0 for a layer
 * out of range. */
int64_t lecture_vanishing_layer_size(const lecture_vanishing_options *options, int layer);
/* Runs the experiment. at_init and trained (either may be NULL) receive
 * d loss / d W of every layer, layer after layer (sizes above), for the
 * first batch before any update and for the batch of step `steps` before
 * its update. *final_loss (may be NULL): the loss of that batch. Errors: an
 * unknown activation, layers below 2, width, batch or steps below 1, lr not
 * positive (CLG_STATUS_INVALID_ARGUMENT). */
clg_status lecture_vanishing_run(clg_context *ctx, const lecture_vanishing_options *options,
                                 float *at_init, float *trained, float *final_loss);

/* ---- Training the fraud autoencoder (clg_zoo_autoencoder_create),
 * lecture/autoencoder.c ---- */

/* Input corruption of the denoising autoencoder (Vincent et al. 2008): the
 * network sees x~ and is trained to give back the clean x. */
typedef enum lecture_noise {
    LECTURE_NOISE_NONE = 0,
    LECTURE_NOISE_GAUSSIAN, /* x~ = x + level * N(0, 1) */
    LECTURE_NOISE_MASK      /* x~ = x with each value set to 0 with probability level */
} lecture_noise;

typedef struct lecture_autoencoder_options {
    int64_t batch;       /* 2048, the lecture's */
    float lr;            /* Adam's learning rate, 1e-3 */
    lecture_noise noise; /* LECTURE_NOISE_NONE */
    float noise_level;   /* the Gaussian's sigma or the mask probability; 0.05 */
    uint64_t seed;       /* shuffling and noise */
    /* Data parallel (include/clgrad/dist.h): this process is `rank` of
     * `ranks` (0 of 1) and trains on rows [B rank / ranks, B (rank + 1) /
     * ranks) of each global batch of B rows; the shuffle and the noise are
     * one process's, so N processes see the batches one would. After each
     * step's backward pass (none when this rank's share is empty) and
     * before the optimizer step, every rank calls reduce_gradients(
     * reduce_arg), which must leave the gradients summed over the ranks in
     * place: clg_dist_wait on a clg_dist whose gradient scale is 1 (the loss
     * is a sum over rows, so the shares' gradients add up to the batch's).
     * A status other than OK from it ends the epoch with that status. More
     * than one rank needs reduce_gradients. */
    int rank, ranks;
    clg_status (*reduce_gradients)(void *arg);
    void *reduce_arg;
} lecture_autoencoder_options;

lecture_autoencoder_options lecture_autoencoder_options_default(void);

/* Trains a model on rows of x (rows, in_features), shuffled each epoch, with
 * Adam and the summed squared error. Normal rows only: labels (rows) must
 * be all 0; a row labelled otherwise is refused at creation
 * (CLG_STATUS_INVALID_ARGUMENT naming the row), rather than silently
 * skipped, so a caller cannot believe it trained on what it passed. x and
 * labels are borrowed for the trainer's lifetime. */
typedef struct lecture_autoencoder_trainer lecture_autoencoder_trainer;

lecture_autoencoder_trainer *
lecture_autoencoder_trainer_create(clg_model *model, const float *x, const int32_t *labels,
                                   int64_t rows, const lecture_autoencoder_options *options);
void lecture_autoencoder_trainer_destroy(lecture_autoencoder_trainer *trainer);
/* One pass over the rows; *mean_loss (may be NULL) receives the epoch's
 * mean of ||x - x^||^2 per row (on the corrupted inputs when denoising).
 * Over several ranks, this rank's rows' sum divided by all the rows: the
 * ranks' values add up to the epoch's mean. One host sync per epoch. */
clg_status lecture_autoencoder_train_epoch(lecture_autoencoder_trainer *trainer, double *mean_loss);

/* ---- FGSM adversarial examples (Goodfellow et al. 2015), lecture/fgsm.c ----
 *
 * x_adv = clamp(x + eps sign(d loss / d x), 0, 1) with the mean
 * cross-entropy loss of the true labels, computed on the device (sign(0) is
 * 0, as torch.sign). Pixels must lie in [0, 1] and every eps in [0, 1] (a
 * larger step saturates every pixel anyway); eps 0 gives the images back.
 * The backward also reaches the model's parameters: their gradients are left
 * as it leaves them, so zero them before training on. */

/* One batch: images (n, in_features) and labels (n) on the host. Fills
 * clean_predicted (n), adv_predicted (n_eps, n) and, unless NULL,
 * adversarial (n_eps, n, in_features). Errors: n < 1, n_eps < 1, an eps
 * outside [0, 1] or not a number (CLG_STATUS_INVALID_ARGUMENT). */
clg_status lecture_fgsm_batch(clg_model *model, const float *images, const int32_t *labels,
                              int64_t n, const float *eps, int n_eps, int32_t *clean_predicted,
                              int32_t *adv_predicted, float *adversarial);
/* The first `count` samples of `data` (count <= 0: all of them) in batches
 * of `batch`: clean accuracy and adv_accuracy[i] for eps[i]. Besides
 * lecture_fgsm_batch's errors: a model whose inputs or classes differ from the
 * data set's (CLG_STATUS_SHAPE). */
clg_status lecture_fgsm_evaluate(clg_model *model, const clg_dataset *data, int64_t count,
                                 int64_t batch, const float *eps, int n_eps, double *clean_accuracy,
                                 double *adv_accuracy);

/* ---- Training the GAN (clg_gan_create), lecture/gan.c ----
 *
 * The lecture's game, played by alternating one step of each player, each
 * in a step of its own on its own optimizer (Adam with beta1 0.5 in the
 * DCGAN paper). The trainer keeps the players' losses summed on the device;
 * free it with lecture_gan_trainer_destroy, before the GAN. */
typedef struct lecture_gan_trainer lecture_gan_trainer;

lecture_gan_trainer *lecture_gan_trainer_create(clg_gan *gan);
void lecture_gan_trainer_destroy(lecture_gan_trainer *trainer);
/* real (n, 784) in [0, 1] and z (n, noise) are host arrays; z NULL draws
 * the noise on the device from the GAN's seed (clg_gan_draw_noise). The
 * discriminator step feeds G(z) without recording G (as PyTorch's
 * detach()); the generator step leaves gradients in D's parameters, which
 * the next discriminator step clears. *d_loss / *g_loss (may be NULL)
 * receive the loss before the update (one host read each); pass NULL and
 * read lecture_gan_mean_losses now and then to train without a host sync
 * per step. Errors: n below 1, an unknown loss, real NULL
 * (CLG_STATUS_INVALID_ARGUMENT). */
clg_status lecture_gan_train_discriminator(lecture_gan_trainer *trainer, clg_optim *d_opt,
                                           const float *real, int64_t n, const float *z,
                                           float *d_loss);
clg_status lecture_gan_train_generator(lecture_gan_trainer *trainer, clg_optim *g_opt, int64_t n,
                                       const float *z, clg_gan_loss loss, float *g_loss);
/* The mean loss of each player over its training steps since the last call
 * (NaN where there were none), summed on the device as the steps ran; then
 * starts again. Either output may be NULL. One host read per player. */
clg_status lecture_gan_mean_losses(lecture_gan_trainer *trainer, float *d_mean, float *g_mean);

#endif
