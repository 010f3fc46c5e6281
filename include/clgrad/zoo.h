/* clgrad/zoo.h: the lecture's models, built from nn.h layers.
 *
 * A model maps a batch of inputs to outputs (logits for the classifiers) and
 * owns its parameters. Its checkpoint metadata records the architecture, so
 * clg_model_from_checkpoint rebuilds the same model from a file. */
#ifndef CLGRAD_ZOO_H
#define CLGRAD_ZOO_H

#include "data.h"
#include "nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Every model (the clg_zoo_*_create constructors of the kinds below and
 * clg_model_from_checkpoint) is freed with clg_model_destroy. */
typedef struct clg_model clg_model;

/* Multilayer perceptron: in -> hidden[0] -> ... -> out, ReLU between layers,
 * no activation on the output (logits). Layers are named fc1, fc2, ... */
CLG_API clg_model *clg_zoo_mlp_create(clg_context *ctx, int64_t in_features,
                                      const int64_t *hidden, int n_hidden, int64_t out_features,
                                      uint64_t seed);
/* Multinomial logistic regression: one linear layer "fc1" to class logits. */
CLG_API clg_model *clg_zoo_logreg_create(clg_context *ctx, int64_t in_features,
                                         int64_t classes, uint64_t seed);
/* LeNet-5 (LeCun et al. 1998) for 28x28 grey images: conv1 5x5 1->6
 * (padding 2) - pool 2 - conv2 5x5 6->16 - pool 2 - flatten - fc1 400->120 -
 * fc2 120->84 - fc3 84->10 (logits), the activation after both convolutions
 * and fc1, fc2. activation: "relu" (NULL: the default), "tanh" or "sigmoid"
 * (the lecture's era); pool: "max" (NULL: the default) or "avg" (the 1998
 * original's subsampling, without its trainable scale). Takes (N, 784) or
 * (N, 1, 28, 28); in_features is 784. Parameters conv1.weight, conv1.bias,
 * conv2.*, fc1.*, fc2.*, fc3.*, as torch.nn names them; initialised as
 * PyTorch does. Kind "lenet5", arch "lenet5-<activation>-<pool>pool". */
CLG_API clg_model *clg_zoo_lenet5_create(clg_context *ctx, const char *activation,
                                         const char *pool, uint64_t seed);
/* ---- FGSM adversarial examples (Goodfellow et al. 2015) ----
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
CLG_API clg_status clg_fgsm_batch(clg_model *model, const float *images, const int32_t *labels,
                                  int64_t n, const float *eps, int n_eps,
                                  int32_t *clean_predicted, int32_t *adv_predicted,
                                  float *adversarial);
/* The first `count` samples of `data` (count <= 0: all of them) in batches
 * of `batch`: clean accuracy and adv_accuracy[i] for eps[i]. Besides
 * clg_fgsm_batch's errors: a model whose inputs or classes differ from the
 * data set's (CLG_STATUS_SHAPE). */
CLG_API clg_status clg_fgsm_evaluate(clg_model *model, const clg_dataset *data, int64_t count,
                                     int64_t batch, const float *eps, int n_eps,
                                     double *clean_accuracy, double *adv_accuracy);

/* ---- The perceptron (Rosenblatt 1958), zoo/perceptron.c ----
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
typedef struct clg_perceptron_result {
    int64_t updates; /* mistakes corrected, all epochs together */
    int epochs;      /* epochs run, the final mistake-free one included */
    bool converged;  /* false: stopped at max_epochs with mistakes left */
    int64_t last_mistakes; /* mistakes in the last epoch (0 when converged) */
} clg_perceptron_result;

/* x (n, features) and targets (n, each +1 or -1) on the host; fills
 * weights (features + 1: bias first) and *result. Not converging is no
 * error: result->converged says so. Errors (CLG_STATUS_INVALID_ARGUMENT):
 * n or features below 1, a target other than +1 / -1 (the message names its
 * index), eta not positive, max_epochs below 1, a non-finite input. */
CLG_API clg_status clg_perceptron_train(clg_context *ctx, const float *x, const int32_t *targets,
                                        int64_t n, int64_t features, float eta, int max_epochs,
                                        float *weights, clg_perceptron_result *result);

/* ---- Linear and quadratic discriminant analysis, zoo/discriminant.c ----
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
typedef struct clg_discriminant clg_discriminant;

/* Fits on x (n, features) and labels (n, each 0 or 1) on the host;
 * `quadratic` false gives LDA, true QDA. The means and covariances are
 * computed on the device. NULL on error, with the message in the context:
 * n or features below 1, a label other than 0 / 1 (naming its index), a
 * class with too few points for its covariance (QDA: features + 1 per
 * class; LDA: one per class and n - 2 >= features), a singular covariance
 * (CLG_STATUS_INVALID_ARGUMENT), out of memory. Free it with
 * clg_discriminant_destroy. */
CLG_API clg_discriminant *clg_discriminant_fit(clg_context *ctx, const float *x,
                                               const int32_t *labels, int64_t n,
                                               int64_t features, bool quadratic);
CLG_API void clg_discriminant_destroy(clg_discriminant *model);
/* For m points x (m, features): score (the sigmoid's argument), prob (P(t =
 * 1 | x)) and predicted (0 / 1); any of the three may be NULL. Computed on
 * the device in one step of its own. */
CLG_API clg_status clg_discriminant_predict(clg_discriminant *model, const float *x, int64_t m,
                                            float *score, float *prob, int32_t *predicted);
/* The class means, mu_0 then mu_1 (2 x features). */
CLG_API void clg_discriminant_means(const clg_discriminant *model, float *means);
/* LDA only: w (features) and b of the linear score; CLG_STATUS_STATE for a
 * QDA model, whose score is not linear. */
CLG_API clg_status clg_discriminant_linear(const clg_discriminant *model, float *w, float *b);

/* ---- The lecture's small experiments, zoo/experiments.c ----
 *
 * Logistic regression on the "student exam" problem, the universal
 * approximation sequence and the vanishing-gradient comparison. Each runs
 * its own steps on the device (clg_step_begin / clg_step_end inside) and
 * hands back numbers; drawing them is the command line's business. */

/* The true boundary of the synthetic exam data:
 * P(passed) = sigmoid(-8 + 1.0 hours studied + 0.6 hours slept). */
#define CLG_EXAM_TRUE_W0 (-8.0f)
#define CLG_EXAM_TRUE_W1 1.0f
#define CLG_EXAM_TRUE_W2 0.6f

/* n students, seeded and clearly synthetic: hours studied and hours slept
 * each uniform in [0, 10) into x (n, 2); passed[i] (0 / 1) drawn from the
 * Bernoulli law above with `true_w` (3: bias first; NULL for the defaults).
 * Errors: n below 1 (CLG_STATUS_INVALID_ARGUMENT). */
CLG_API clg_status clg_exam_generate(clg_context *ctx, int64_t n, const float *true_w,
                                     uint64_t seed, float *x, int32_t *passed);

/* How clg_logistic_fit trains. */
typedef struct clg_logistic_options {
    int64_t batch; /* 0: full-batch gradient descent; else mini-batch SGD */
    int epochs;    /* passes over the data (a GD epoch is one step) */
    float lr;      /* on the standardised inputs */
    uint64_t seed; /* initial weights and the SGD shuffle */
} clg_logistic_options;

/* GD: batch 0, 500 epochs, lr 1; use .batch = 32 with lr 0.1, 40 epochs for
 * the SGD of the slides. */
CLG_API clg_logistic_options clg_logistic_options_default(void);

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
CLG_API clg_status clg_logistic_fit(clg_context *ctx, const float *x, const int32_t *t,
                                    int64_t n, int64_t features,
                                    const clg_logistic_options *options, float *w,
                                    float *final_loss, double *accuracy);

/* Universal approximation: one hidden layer of `hidden` ReLU units,
 * f(x) = sum_i v_i ReLU(w_i x + b_i) + c, fitted to (x, y) (n points of a
 * 1-D function, host arrays) by full-batch Adam on the mean squared error
 * for `steps` steps with learning rate lr. The output layer starts from
 * PyTorch's initialisation (seeded); hidden unit i from w_i = +1, -1, +1, ...
 * and its kink -b_i / w_i at the (i + 1/2)-th of `hidden` equal parts of x's
 * range, so no unit starts dead over all the data (from PyTorch's default
 * some do, and a 1-unit net often fits a constant). Fills fitted (n) and *mse (mean squared error of the fit).
 * Errors: n, hidden or steps below 1, lr not positive
 * (CLG_STATUS_INVALID_ARGUMENT). */
CLG_API clg_status clg_approx_fit(clg_context *ctx, const float *x, const float *y, int64_t n,
                                  int64_t hidden, int steps, float lr, uint64_t seed,
                                  float *fitted, float *mse);

/* Vanishing gradients (Glorot and Bengio 2010): an MLP of `layers` linear
 * layers, width -> width -> ... -> width -> 1, the activation after every
 * layer but the last, trained on a seeded synthetic task (inputs N(0, 1),
 * label 1 where a fixed random direction gives a positive projection) with
 * the cross-entropy on the logit and plain SGD. Every layer starts from the
 * same scheme for every activation, He et al.'s normal with gain sqrt(2)
 * and zero biases, so only the activation differs between runs. */
typedef struct clg_vanishing_options {
    const char *activation; /* "sigmoid", "tanh", "relu" or "leaky_relu" (slope 0.01) */
    int layers;             /* >= 2 */
    int64_t width;
    int64_t batch;
    int steps;              /* SGD steps between the two snapshots */
    float lr;
    uint64_t seed;
} clg_vanishing_options;

/* sigmoid, 10 layers of width 64, batch 128, 100 steps, lr 0.1, seed 1. */
CLG_API clg_vanishing_options clg_vanishing_options_default(void);
/* Gradient values of layer `layer` (0-based, input side first) in the
 * arrays below: width * width, and width for the last layer; 0 for a layer
 * out of range. */
CLG_API int64_t clg_vanishing_layer_size(const clg_vanishing_options *options, int layer);
/* Runs the experiment. at_init and trained (either may be NULL) receive
 * d loss / d W of every layer, layer after layer (sizes above), for the
 * first batch before any update and for the batch of step `steps` before
 * its update. *final_loss (may be NULL): the loss of that batch. Errors: an
 * unknown activation, layers below 2, width, batch or steps below 1, lr not
 * positive (CLG_STATUS_INVALID_ARGUMENT). */
CLG_API clg_status clg_vanishing_run(clg_context *ctx, const clg_vanishing_options *options,
                                     float *at_init, float *trained, float *final_loss);

/* ---- Autoencoder for anomaly (fraud) detection ----
 *
 * x -> h = f(x) -> x^ = g(h), trained to reproduce normal data through a
 * narrow code; an anomaly reconstructs badly, so the distance
 * d = ||x - x^||^2 of a row is its anomaly score. The lecture's network for
 * the credit-card data: 30-100-100-15-100-100-30 on MinMax-scaled inputs,
 * batch 2048, loss = the sum over the batch of ||x - x^||^2, trained on
 * normal transactions only. */

/* in -> hidden[0] -> ... -> code -> ... -> hidden[0] -> in: the decoder
 * mirrors the encoder. tanh after every layer but the last, which is linear
 * (the lecture leaves the activations open: tanh keeps the code bounded and
 * trains well on [0, 1] inputs; a linear output can reach test values that
 * MinMax scaling put outside [0, 1]). Layers fc1, fc2, ...; kind
 * "autoencoder", arch "30-100-100-15-100-100-30"; clg_model_forward gives
 * x^. */
CLG_API clg_model *clg_zoo_autoencoder_create(clg_context *ctx, int64_t in_features,
                                              const int64_t *hidden, int n_hidden, int64_t code,
                                              uint64_t seed);

/* ||x - model(x)||^2 per row: x (N, in) -> (N), a step tensor, computed on
 * the device (gradients flow through it when grad mode is on). */
CLG_API clg_tensor *clg_autoencoder_distance(clg_model *model, clg_tensor *x);

/* Input corruption of the denoising autoencoder (Vincent et al. 2008): the
 * network sees x~ and is trained to give back the clean x. */
typedef enum clg_noise {
    CLG_NOISE_NONE = 0,
    CLG_NOISE_GAUSSIAN, /* x~ = x + level * N(0, 1) */
    CLG_NOISE_MASK      /* x~ = x with each value set to 0 with probability level */
} clg_noise;

typedef struct clg_autoencoder_options {
    int64_t batch;     /* 2048, the lecture's */
    float lr;          /* Adam's learning rate, 1e-3 */
    clg_noise noise;   /* CLG_NOISE_NONE */
    float noise_level; /* the Gaussian's sigma or the mask probability; 0.05 */
    uint64_t seed;     /* shuffling and noise */
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
} clg_autoencoder_options;

CLG_API clg_autoencoder_options clg_autoencoder_options_default(void);

/* Trains a model on rows of x (rows, in_features), shuffled each epoch, with
 * Adam and the summed squared error. Normal rows only: labels (rows) must
 * be all 0; a row labelled otherwise is refused at creation
 * (CLG_STATUS_INVALID_ARGUMENT naming the row), rather than silently
 * skipped, so a caller cannot believe it trained on what it passed. x and
 * labels are borrowed for the trainer's lifetime. */
typedef struct clg_autoencoder_trainer clg_autoencoder_trainer;

CLG_API clg_autoencoder_trainer *clg_autoencoder_trainer_create(
    clg_model *model, const float *x, const int32_t *labels, int64_t rows,
    const clg_autoencoder_options *options);
CLG_API void clg_autoencoder_trainer_destroy(clg_autoencoder_trainer *trainer);
/* One pass over the rows; *mean_loss (may be NULL) receives the epoch's
 * mean of ||x - x^||^2 per row (on the corrupted inputs when denoising).
 * Over several ranks, this rank's rows' sum divided by all the rows: the
 * ranks' values add up to the epoch's mean. One host sync per epoch. */
CLG_API clg_status clg_autoencoder_train_epoch(clg_autoencoder_trainer *trainer,
                                               double *mean_loss);

/* The anomaly score of each row of x (rows, in_features) into scores
 * (rows), in batches of `batch` with grad mode off. */
CLG_API clg_status clg_autoencoder_scores(clg_model *model, const float *x, int64_t rows,
                                          int64_t batch, float *scores);

/* ---- recurrent models (zoo/recurrent.c) ----
 *
 * Sequence classifiers: each input row (N, steps * input_size) is read as
 * `steps` time steps of input_size values (a 28x28 image: 28 steps of 28
 * pixels); an RNN (cell "rnn", tanh), LSTM ("lstm") or GRU ("gru") layer of
 * hidden_size units runs over them and its last hidden state goes through fc1 to the
 * class logits. Parameters "<cell>.weight_ih_l0", "<cell>.weight_hh_l0",
 * "<cell>.bias_ih_l0", "<cell>.bias_hh_l0", "fc1.weight", "fc1.bias", as a
 * torch module with attributes `<cell>` (batch_first) and `fc1` names them.
 * Kind "rnn", "lstm" or "gru", arch "STEPSxINPUT-HIDDEN-CLASSES"
 * ("28x28-128-10"); a checkpoint of kind "gru" loads into a torch module
 * whose `gru` is torch.nn.GRU(input_size, hidden_size, batch_first=True). */
CLG_API clg_model *clg_zoo_recurrent_create(clg_context *ctx, const char *cell, int64_t steps,
                                            int64_t input_size, int64_t hidden_size,
                                            int64_t classes, uint64_t seed);

/* Character-level LSTM language model: embedding (vocab, embed_dim) ->
 * LSTM (hidden_size) -> linear to vocab logits. Parameters "embed.weight",
 * "lstm.weight_ih_l0", ..., "fc.weight", "fc.bias". */
typedef struct clg_charlstm clg_charlstm;

CLG_API clg_charlstm *clg_charlstm_create(clg_context *ctx, int64_t vocab, int64_t embed_dim,
                                          int64_t hidden_size, uint64_t seed);
CLG_API void clg_charlstm_destroy(clg_charlstm *model);
/* Borrowed for the model's lifetime. */
CLG_API const clg_params *clg_charlstm_params(const clg_charlstm *model);
/* Truncated BPTT: carry the LSTM state from one clg_charlstm_loss to the
 * next (consecutive chunks of the same streams), without gradient. */
CLG_API void clg_charlstm_set_keep_state(clg_charlstm *model, bool keep);
/* Mean cross-entropy (nats per character) of predicting targets from
 * inputs, both (steps, batch) time-major character ids on the host, checked
 * there (an id outside [0, vocab) is CLG_STATUS_INVALID_ARGUMENT). A step
 * tensor; call inside a step. */
CLG_API clg_tensor *clg_charlstm_loss(clg_charlstm *model, const int32_t *inputs,
                                      const int32_t *targets, int64_t steps, int64_t batch);
/* Feeds the n_prime >= 1 ids of `prime`, then draws `length` characters
 * into out, each from softmax(logits / temperature) (seeded; splitmix64 on
 * the host over the downloaded logits), one LSTM step at a time. Runs its
 * own steps (call it outside one) and leaves the model's state reset and
 * keep_state off. temperature <= 0 or not finite is
 * CLG_STATUS_INVALID_ARGUMENT. */
CLG_API clg_status clg_charlstm_sample(clg_charlstm *model, const int32_t *prime,
                                       int64_t n_prime, int64_t length, float temperature,
                                       uint64_t seed, int32_t *out);

/* ---- Variational autoencoder (Kingma and Welling 2013), zoo/vae.c ----
 *
 * Encoder x -> ReLU(fc1) -> mu = fc21, logvar = fc22; z = mu + exp(0.5
 * logvar) eps (clg_reparameterize); decoder z -> ReLU(fc3) -> fc4 -> pixel
 * logits, probabilities sigmoid(fc4). Loss: the negative ELBO of the
 * lecture, reconstruction + KL, both summed over the batch: the Bernoulli
 * reconstruction -sum log p(x | z) = BCE(sigmoid(fc4), x) (computed on the
 * logits, stably) and the KL of N(mu, exp(logvar)) from N(0, I)
 * (clg_gaussian_kl). Layers named as the PyTorch examples' VAE: fc1, fc21,
 * fc22, fc3, fc4, each initialised as torch.nn.Linear. */
typedef struct clg_vae clg_vae;

/* Errors: a size below 1 (CLG_STATUS_INVALID_ARGUMENT). Free it with
 * clg_vae_destroy. */
CLG_API clg_vae *clg_vae_create(clg_context *ctx, int64_t in_features, int64_t hidden,
                                int64_t latent, uint64_t seed);
CLG_API void clg_vae_destroy(clg_vae *vae);
/* Borrowed for the VAE's lifetime. */
CLG_API const clg_params *clg_vae_params(const clg_vae *vae);
CLG_API int64_t clg_vae_latent(const clg_vae *vae);
/* x (N, in) -> mu (N, latent); *logvar (may be NULL) gets the log-variance.
 * Step tensors. */
CLG_API clg_tensor *clg_vae_encode(clg_vae *vae, clg_tensor *x, clg_tensor **logvar);
/* z (N, latent) -> pixel probabilities (N, in). A step tensor. */
CLG_API clg_tensor *clg_vae_decode(clg_vae *vae, clg_tensor *z);
/* The loss of a batch x (N, in) of values in [0, 1]: returns
 * reconstruction + KL (a step tensor, rank 0) and, unless NULL, the two
 * terms. eps (N, latent) is the noise of the reparameterisation; NULL
 * draws it with clg_randn from the VAE's seed, each call taking the next
 * N latent numbers of the stream, so a run is reproducible from the seed.
 * Errors: x not (N, in), eps not (N, latent) (CLG_STATUS_SHAPE). */
CLG_API clg_tensor *clg_vae_loss(clg_vae *vae, clg_tensor *x, clg_tensor *eps,
                                 clg_tensor **reconstruction, clg_tensor **kl);

/* ---- Generative adversarial network (Goodfellow et al. 2014), zoo/gan.c ----
 *
 * A generator G maps noise z ~ N(0, I) to 28x28 images with values in
 * (-1, 1) (tanh), a discriminator D maps an image to a logit, D(x) =
 * sigmoid(logit) being the probability that x is real. The lecture's game
 *   min_G max_D V(D, G) = E_x[log D(x)] + E_z[log(1 - D(G(z)))]
 * is played by alternating a step of D on
 *   d_loss = -(mean log D(x) + mean log(1 - D(G(z))))      (= -V)
 * and a step of G on
 *   minimax:        g_loss = mean log(1 - D(G(z)))
 *   non-saturating: g_loss = -mean log D(G(z))   (the paper's practical choice:
 *                   strong gradients while D still rejects the fakes)
 * each on its own optimizer, all logs taken stably on the logits. Real
 * images enter with values in [0, 1] and are mapped to [-1, 1] inside. */
typedef enum clg_gan_arch {
    /* G: noise -> h -> 2h -> 784, leaky ReLU 0.2 between, tanh out;
     * D: 784 -> 2h -> h -> 1, leaky ReLU 0.2 between. Layers g.fc1..3,
     * d.fc1..3. */
    CLG_GAN_MLP = 0,
    /* DCGAN-style (Radford et al. 2015) with c = h channels: G: noise ->
     * g.fc1 -> (2c, 7, 7), batch norm g.bn1, ReLU -> g.deconv1 4x4 stride 2
     * padding 1 -> (c, 14, 14), g.bn2, ReLU -> g.deconv2 -> (1, 28, 28),
     * tanh; D: d.conv1 4x4 stride 2 padding 1 -> (c, 14, 14), leaky ReLU ->
     * d.conv2 -> (2c, 7, 7), leaky ReLU -> d.fc1 -> 1. */
    CLG_GAN_DCGAN
} clg_gan_arch;

typedef enum clg_gan_loss {
    CLG_GAN_MINIMAX = 0,
    CLG_GAN_NONSATURATING
} clg_gan_loss;

typedef struct clg_gan clg_gan;
typedef struct clg_optim clg_optim; /* optim.h's; repeated so zoo.h stands alone */

/* Errors: an unknown arch, noise or hidden below 1
 * (CLG_STATUS_INVALID_ARGUMENT). Free it with clg_gan_destroy. */
CLG_API clg_gan *clg_gan_create(clg_context *ctx, clg_gan_arch arch, int64_t noise, int64_t hidden,
                                uint64_t seed);
CLG_API void clg_gan_destroy(clg_gan *gan);
/* Borrowed for the GAN's lifetime: what each optimizer updates. */
CLG_API const clg_params *clg_gan_generator_params(const clg_gan *gan);
CLG_API const clg_params *clg_gan_discriminator_params(const clg_gan *gan);
CLG_API int64_t clg_gan_noise(const clg_gan *gan);
/* z (N, noise) -> images (N, 784) in (-1, 1); training selects batch norm's
 * batch statistics (DCGAN). A step tensor. */
CLG_API clg_tensor *clg_gan_generate(clg_gan *gan, clg_tensor *z, bool training);
/* images (N, 784) in [-1, 1] -> logits (N, 1). A step tensor. */
CLG_API clg_tensor *clg_gan_discriminate(clg_gan *gan, clg_tensor *x);

/* One step of each player, each in a step of its own. real (n, 784) in
 * [0, 1] and z (n, noise) are host arrays; z NULL draws the noise on the
 * device from the GAN's seed (fresh numbers every call). The discriminator
 * step feeds G(z) without recording G (as PyTorch's detach()); the
 * generator step leaves gradients in D's parameters, which the next
 * discriminator step clears. *d_loss / *g_loss (may be NULL) receive the
 * loss before the update (one host read each); pass NULL and read
 * clg_gan_mean_losses now and then to train without a host sync per step.
 * Errors: n below 1, an unknown loss, real NULL where needed
 * (CLG_STATUS_INVALID_ARGUMENT). */
CLG_API clg_status clg_gan_train_discriminator(clg_gan *gan, clg_optim *d_opt, const float *real,
                                               int64_t n, const float *z, float *d_loss);
CLG_API clg_status clg_gan_train_generator(clg_gan *gan, clg_optim *g_opt, int64_t n,
                                           const float *z, clg_gan_loss loss, float *g_loss);
/* The mean loss of each player over its training steps since the last call
 * (NaN where there were none), summed on the device as the steps ran; then
 * starts again. Either output may be NULL. One host read per player. */
CLG_API clg_status clg_gan_mean_losses(clg_gan *gan, float *d_mean, float *g_mean);
/* Both losses on (real, z) without training (no update, no tape; batch
 * norm on batch statistics, as in training, without touching the running
 * ones); either output may be NULL, and real too when d_loss is. Errors as
 * above. */
CLG_API clg_status clg_gan_losses(clg_gan *gan, const float *real, int64_t n, const float *z,
                                  clg_gan_loss loss, float *d_loss, float *g_loss);

/* Reads the architecture from a checkpoint's metadata, builds the model and
 * loads its weights. The metadata (string values), as clg_model_save writes
 * it and as a file saved from PyTorch must carry it:
 *   "model"  mlp, logreg, lenet5, rnn, lstm, gru or autoencoder
 *   "arch"   mlp, logreg, autoencoder: the layer widths, "784-256-128-10"
 *            (tensors fc1.weight (256, 784), fc1.bias (256), fc2..., with
 *            ReLU between for the mlp, tanh for the autoencoder); rnn, lstm,
 *            gru: "STEPSxINPUT-HIDDEN-CLASSES" (rnn.* / lstm.* / gru.* as
 *            torch.nn.RNN / LSTM / GRU name them, then fc1); lenet5: not read
 *   "activation", "pool"  lenet5 only: relu|tanh|sigmoid, max|avg (conv1
 *            (6, 1, 5, 5) with padding 2, conv2 (16, 6, 5, 5), fc1 400-120,
 *            fc2, fc3)
 * F64, F16 and BF16 tensors are converted to F32 (clg_safetensors_read).
 * Every shape the metadata implies is checked against the file's tensors
 * before anything is allocated (CLG_STATUS_MISMATCH naming the tensor and
 * both shapes, and the names the file holds), so a damaged "arch" costs no
 * memory. Free it with clg_model_destroy. */
CLG_API clg_model *clg_model_from_checkpoint(clg_context *ctx, const char *path);
/* How many weights were NaN or infinite in the checkpoint the model was
 * loaded from (0 for a model created fresh); *tensor (may be NULL) gets the
 * first such tensor's name, borrowed for the model's life. Such a file loads
 * (it is what a diverged run saves); a caller may warn. */
CLG_API int64_t clg_model_nonfinite(const clg_model *model, const char **tensor);
CLG_API void clg_model_destroy(clg_model *model);

/* x (N, in_features) -> (N, out_features); a step tensor. */
CLG_API clg_tensor *clg_model_forward(clg_model *model, clg_tensor *x);
/* Borrowed for the model's lifetime. */
CLG_API const clg_params *clg_model_params(const clg_model *model);
/* "mlp", "logreg", "lenet5", "rnn", "lstm", "gru" or "autoencoder" (zoo/model.c
 * lists them); borrowed. */
CLG_API const char *clg_model_kind(const clg_model *model);
/* "784-256-128-10"; borrowed. */
CLG_API const char *clg_model_arch(const clg_model *model);
CLG_API int64_t clg_model_in_features(const clg_model *model);
CLG_API int64_t clg_model_out_features(const clg_model *model);
/* clg_checkpoint_save with the architecture in the metadata. */
CLG_API clg_status clg_model_save(clg_model *model, const char *path);
/* The metadata clg_model_save writes and clg_model_from_checkpoint reads
 * ("model", "arch", and LeNet-5's "activation" and "pool"), into keys and
 * values (room for CLG_MODEL_METADATA_MAX each; strings borrowed for the
 * model's lifetime); returns the count. For writers of their own, such as
 * clg_optim_checkpoint_save, whose file must rebuild the model too. */
#define CLG_MODEL_METADATA_MAX 4
CLG_API size_t clg_model_metadata(const clg_model *model, const char **keys,
                                  const char **values);

#ifdef __cplusplus
}
#endif
#endif
