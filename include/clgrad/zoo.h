/* clgrad/zoo.h: the lecture's models, built from nn.h layers.
 *
 * A model maps a batch of inputs to outputs (logits for the classifiers) and
 * owns its parameters. Its checkpoint metadata records the architecture, so
 * clg_model_from_checkpoint rebuilds the same model from a file. The
 * clg_model object comes first, then the models: MLP, logistic regression,
 * LeNet-5, the autoencoder, the RNN / LSTM classifiers, and three models of
 * their own type: the char-LSTM, the VAE and the GAN. The lecture's programs
 * around them (the perceptron rule, LDA/QDA, the small experiments, the
 * fraud autoencoder's trainer, FGSM) belong to the `clgrad` command line,
 * not to the library (lecture/lecture.h in the source tree). */
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
 * F64, F16 and BF16 tensors are converted to F32, I64 to I32
 * (clg_safetensors_read); tensors the model does not name are left aside.
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
/* "mlp", "logreg", "lenet5", "rnn", "lstm", "gru" or "autoencoder" (zoo/kinds.c
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

/* ---- Autoencoder for anomaly (fraud) detection ----
 *
 * x -> h = f(x) -> x^ = g(h), trained to reproduce normal data through a
 * narrow code; an anomaly reconstructs badly, so the distance
 * d = ||x - x^||^2 of a row is its anomaly score. The lecture's network for
 * the credit-card data: 30-100-100-15-100-100-30 on MinMax-scaled inputs,
 * batch 2048, loss = the sum over the batch of ||x - x^||^2, trained on
 * normal transactions only (by lecture/'s trainer). */

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
 * images given as host arrays hold values in [0, 1] and are mapped to
 * [-1, 1] inside; as tensors they are in [-1, 1] already. */
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

/* z (n, noise) drawn on the device from the GAN's seed, fresh numbers
 * every call (the stream moves on by n * noise). A step tensor; n below 1
 * is CLG_STATUS_INVALID_ARGUMENT. */
CLG_API clg_tensor *clg_gan_draw_noise(clg_gan *gan, int64_t n);
/* The discriminator's loss d_loss above of real (N, 784) and fake (M, 784)
 * images in [-1, 1]; a step tensor of rank 0. */
CLG_API clg_tensor *clg_gan_discriminator_loss(clg_gan *gan, clg_tensor *real, clg_tensor *fake);
/* The generator's loss g_loss above (minimax or non-saturating) of fake
 * images (N, 784); a step tensor of rank 0. An unknown loss is
 * CLG_STATUS_INVALID_ARGUMENT. The training steps that alternate the two,
 * each player on its own optimizer, are the command line's
 * (lecture/lecture.h in the source tree). */
CLG_API clg_tensor *clg_gan_generator_loss(clg_gan *gan, clg_tensor *fake, clg_gan_loss loss);
/* Both losses on host arrays real (n, 784) in [0, 1] and z (n, noise)
 * without training (no update, no tape; batch norm on batch statistics, as
 * in training, without touching the running ones); z NULL draws the noise
 * from the GAN's stream. Either output may be NULL, and real too when
 * d_loss is. Errors: n below 1, an unknown loss, real NULL where needed
 * (CLG_STATUS_INVALID_ARGUMENT). */
CLG_API clg_status clg_gan_losses(clg_gan *gan, const float *real, int64_t n, const float *z,
                                  clg_gan_loss loss, float *d_loss, float *g_loss);

#ifdef __cplusplus
}
#endif
#endif
