/* tools/clgrad/generative.c: `clgrad train vae` and `clgrad train gan`, the
 * generative models of the lecture on Fashion-MNIST, with the pictures
 * people look at: a VAE's reconstructions, prior samples and (for a 2-D
 * latent) its latent-space map; a GAN's samples from one fixed noise batch
 * after every epoch, so progress is visible. The models and their steps live
 * in zoo/vae.c and zoo/gan.c; this file loops, prints and draws. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lecture/lecture.h"
#include "plot.h"

#define PIXELS 784
#define SIDE 28
#define GRID 64 /* images in a samples grid: 8 x 8 */

static const char vae_usage[] =
    "usage: clgrad train vae [options]\n"
    "\n"
    "Trains a variational autoencoder (Kingma and Welling 2013) on Fashion-MNIST:\n"
    "an MLP encoder 784-H-(mu, logvar) of the latent size, z = mu + sigma eps, an\n"
    "MLP decoder latent-H-784 with Bernoulli outputs. The loss is the negative ELBO\n"
    "of the lecture, reconstruction (binary cross-entropy, summed) + KL divergence\n"
    "from N(0, I); both are printed per epoch, per image, on the training set and\n"
    "on the test set. Writes into --out:\n"
    "  elbo.png      the two terms per epoch\n"
    "  recon.png     test images (odd rows) above their reconstructions\n"
    "  samples.png   decodings of z drawn from the prior N(0, I)\n"
    "  latent.png    with --latent 2: decodings over a grid of the latent plane\n"
    "\n"
    "options:\n"
    "  --data DIR     Fashion-MNIST folder (default " CLG_FASHION_MNIST_DIR ")\n"
    "  --latent N     latent size (default 20; 2 draws the latent map)\n"
    "  --hidden N     hidden layer width (default 400)\n"
    "  --epochs N     passes over the training set (default 10)\n"
    "  --batch N      images per step (default 128)\n"
    "  --lr X         Adam's learning rate (default 0.001)\n"
    "  --limit N      use only the first N training (and test) images\n"
    "  --seed N       weights, shuffling and noise (default 42)\n"
    "  --out DIR      folder for the pictures (default vae)\n"
    "  --save FILE    after training, write the weights (safetensors, metadata\n"
    "                 \"model\" vae and \"arch\" 784-HIDDEN-LATENT)\n"
    "  --load FILE    start from the weights --save wrote (their sizes come from\n"
    "                 FILE; Adam starts afresh); with --epochs 0, only the pictures\n"
    "  -h, --help     this help\n";

static const char gan_usage[] =
    "usage: clgrad train gan [options]\n"
    "\n"
    "Trains a generative adversarial network (Goodfellow et al. 2014) on\n"
    "Fashion-MNIST: a discriminator step, then a generator step, on two Adam\n"
    "optimizers, for every batch. Prints per epoch the mean discriminator loss\n"
    "-(log D(x) + log(1 - D(G(z)))) (log 4 = 1.386 at the game's equilibrium) and\n"
    "generator loss. Writes into --out samples-epochN.png after every epoch, from\n"
    "the same 64 noise vectors each time, and losses.png.\n"
    "\n"
    "options:\n"
    "  --data DIR     Fashion-MNIST folder (default " CLG_FASHION_MNIST_DIR ")\n"
    "  --arch NAME    mlp: fully connected G and D (default); dcgan: transposed\n"
    "                 convolutions with batch norm in G, strided convolutions in D\n"
    "  --loss NAME    minimax: G minimises log(1 - D(G(z))), the lecture's game\n"
    "                 (default); nonsaturating: G minimises -log D(G(z)), which\n"
    "                 keeps G's gradient alive while D rejects its samples\n"
    "  --noise N      size of z (default 64)\n"
    "  --hidden N     width (mlp, default 128) or channels (dcgan, default 16);\n"
    "                 small, so that an epoch takes minutes on a CPU device\n"
    "  --epochs N     passes over the training set (default 5)\n"
    "  --batch N      real images per step (default 64)\n"
    "  --lr X         both Adams' learning rate, beta1 0.5 (default 0.0002)\n"
    "  --limit N      use only the first N training images\n"
    "  --seed N       weights, shuffling and noise (default 42)\n"
    "  --out DIR      folder for the pictures (default gan)\n"
    "  --save FILE    after training, write both players' weights (safetensors:\n"
    "                 generator.*, discriminator.*; metadata \"model\" gan, \"arch\"\n"
    "                 ARCH-NOISE-HIDDEN and \"epochs\", the epochs trained in all)\n"
    "  --load FILE    start from the weights --save wrote (--arch, --noise and\n"
    "                 --hidden come from FILE; the Adams start afresh; epochs and\n"
    "                 sample pictures are numbered on from FILE's); with --epochs\n"
    "                 0, only the samples\n"
    "  -h, --help     this help\n";

typedef struct gen_options {
    const char *data, *out, *save, *load;
    int64_t latent, hidden, noise, epochs, batch, limit;
    float lr;
    uint64_t seed;
    clg_gan_arch arch;
    clg_gan_loss loss;
    bool hidden_given, latent_given, noise_given, arch_given;
} gen_options;

/* Parses `clgrad train vae|gan ...`; -1 to go on, else the exit code. */
static int parse(int argc, char **argv, bool gan, gen_options *o)
{
    *o = (gen_options){.data = CLG_FASHION_MNIST_DIR, .out = gan ? "gan" : "vae", .latent = 20,
                       .hidden = 400, .noise = 64, .epochs = gan ? 5 : 10,
                       .batch = gan ? 64 : 128, .lr = gan ? 2e-4f : 1e-3f, .seed = 42};
    static const char *const vae_valued[] = {"--data",  "--latent", "--hidden", "--epochs",
                                             "--batch", "--lr",     "--limit",  "--seed",
                                             "--out",   "--save",   "--load",   NULL};
    static const char *const gan_valued[] = {"--data",   "--arch",  "--loss", "--noise", "--hidden",
                                             "--epochs", "--batch", "--lr",   "--limit", "--seed",
                                             "--out",    "--save",  "--load", NULL};
    const char *command = gan ? "train gan" : "train vae";
    cli_args args;
    cli_args_init(&args, command, argc - 1, argv + 1, gan ? gan_valued : vae_valued, NULL);
    int exit_code;
    while (cli_args_option(&args, gan ? gan_usage : vae_usage, NULL, &exit_code)) {
        const char *name = args.name, *value = args.value;
        bool ok = true;
        if (strcmp(name, "--data") == 0)
            o->data = value;
        else if (strcmp(name, "--out") == 0)
            o->out = value;
        else if (strcmp(name, "--save") == 0)
            o->save = value;
        else if (strcmp(name, "--load") == 0)
            o->load = value;
        else if (strcmp(name, "--latent") == 0) {
            ok = cli_parse_int(name, value, 1, 4096, &o->latent);
            o->latent_given = true;
        } else if (strcmp(name, "--hidden") == 0) {
            ok = cli_parse_int(name, value, 1, 8192, &o->hidden);
            o->hidden_given = true;
        } else if (strcmp(name, "--noise") == 0) {
            ok = cli_parse_int(name, value, 1, 4096, &o->noise);
            o->noise_given = true;
        } else if (strcmp(name, "--epochs") == 0)
            ok = cli_parse_int(name, value, 0, 100000, &o->epochs);
        else if (strcmp(name, "--batch") == 0)
            ok = cli_parse_int(name, value, 1, 8192, &o->batch);
        else if (strcmp(name, "--limit") == 0)
            ok = cli_parse_int(name, value, 1, INT64_MAX, &o->limit);
        else if (strcmp(name, "--lr") == 0)
            ok = cli_parse_positive_float(name, value, &o->lr);
        else if (strcmp(name, "--seed") == 0)
            ok = cli_parse_u64(name, value, &o->seed);
        else if (strcmp(name, "--arch") == 0) {
            ok = strcmp(value, "mlp") == 0 || strcmp(value, "dcgan") == 0;
            o->arch = strcmp(value, "dcgan") == 0 ? CLG_GAN_DCGAN : CLG_GAN_MLP;
            o->arch_given = true;
            if (!ok)
                cli_error("--arch: \"%s\" is not mlp or dcgan", value);
        } else { /* --loss */
            ok = strcmp(value, "minimax") == 0 || strcmp(value, "nonsaturating") == 0;
            o->loss = strcmp(value, "minimax") == 0 ? CLG_GAN_MINIMAX : CLG_GAN_NONSATURATING;
            if (!ok)
                cli_error("--loss: \"%s\" is not minimax or nonsaturating", value);
        }
        if (!ok)
            return CLI_EXIT_USAGE;
    }
    if (exit_code >= 0)
        return exit_code;
    if (gan && !o->hidden_given)
        o->hidden = o->arch == CLG_GAN_DCGAN ? 16 : 128;
    return cli_saved_check_options(o->save, o->load, o->epochs, "draw");
}

/* What both loops share: the context, the data and the output folder. */
typedef struct gen_run {
    clg_context *ctx;
    clg_dataset *train, *test;
    int64_t train_size, test_size;
    clg_batcher *batcher;
    float *x;       /* (batch, 784) host staging */
    int32_t *labels; /* (batch), unused but gathered */
} gen_run;

static bool run_open(gen_run *r, const gen_options *o, bool with_test)
{
    if (clg_context_create(NULL, &r->ctx) != CLG_STATUS_OK)
        return false;
    r->train = clg_dataset_load_mnist(r->ctx, o->data, true);
    if (!r->train || (with_test && !(r->test = clg_dataset_load_mnist(r->ctx, o->data, false))))
        return false;
    r->train_size = clg_dataset_size(r->train);
    if (o->limit > 0 && o->limit < r->train_size)
        r->train_size = o->limit;
    if (r->test) {
        r->test_size = clg_dataset_size(r->test);
        if (o->limit > 0 && o->limit < r->test_size)
            r->test_size = o->limit;
    }
    r->batcher = clg_batcher_create(r->ctx, r->train_size, o->batch, true, false, o->seed);
    r->x = malloc((size_t)(o->batch > GRID ? o->batch : GRID) * PIXELS * sizeof *r->x);
    r->labels = malloc((size_t)(o->batch > GRID ? o->batch : GRID) * sizeof *r->labels);
    if (!r->x || !r->labels) {
        cli_error("out of host memory");
        return false;
    }
    if (!r->batcher)
        return false;
    if (!plot_make_dir(o->out)) {
        cli_error("%s", plot_error());
        return false;
    }
    return true;
}

static void run_close(gen_run *r)
{
    free(r->x);
    free(r->labels);
    clg_batcher_destroy(r->batcher);
    clg_dataset_destroy(r->train);
    clg_dataset_destroy(r->test);
    clg_context_destroy(r->ctx);
}

/* Writes an image grid to out/name; reports a failure. */
static bool grid(const gen_options *o, const char *name, const char *title, const float *images,
                 int64_t n, int cols, int zoom)
{
    char path[4096];
    if (!plot_path(path, sizeof path, o->out, name) ||
        !plot_image_grid(path, title, images, n, SIDE, SIDE, cols, zoom, NULL)) {
        cli_error("%s", plot_path(path, sizeof path, o->out, name) ? plot_error() : name);
        return false;
    }
    printf("wrote %s\n", path);
    return true;
}

static bool chart(const gen_options *o, const char *name, const plot_axes *axes,
                  const plot_series *series, int count)
{
    char path[4096];
    if (!plot_path(path, sizeof path, o->out, name) || !plot_lines(path, axes, series, count)) {
        cli_error("%s", plot_error());
        return false;
    }
    return true;
}

/* ---- --save and --load ---- */

/* A size --load takes from the file: one given on the command line as well
 * must agree. false after printing why. */
static bool saved_size(const char *path, const char *option, bool given, int64_t *value,
                       int64_t saved)
{
    if (given && *value != saved) {
        cli_error("--load: %s was saved with %s %lld, not %lld", path, option, (long long)saved,
                  (long long)*value);
        return false;
    }
    *value = saved;
    return true;
}

/* ---- VAE ---- */

/* The test set's two terms per image, with device noise and no gradients. */
static bool vae_test_terms(gen_run *r, clg_vae *vae, int64_t batch, double *rec, double *kl)
{
    bool grad = clg_grad_set_enabled(r->ctx, false);
    clg_tensor *sum_rec = NULL, *sum_kl = NULL; /* on the device: one read at the end */
    bool ok = true;
    for (int64_t first = 0; ok && first < r->test_size; first += batch) {
        int64_t n = r->test_size - first < batch ? r->test_size - first : batch;
        cli_live_line("evaluating: %lld of %lld test images", (long long)first,
                      (long long)r->test_size);
        clg_step_begin(r->ctx);
        clg_tensor *x = clg_tensor_from_host(r->ctx, CLG_DTYPE_F32, 2, (int64_t[]){n, PIXELS},
                                             clg_dataset_images(r->test) + first * PIXELS);
        clg_tensor *trec = NULL, *tkl = NULL;
        clg_vae_loss(vae, x, NULL, &trec, &tkl);
        ok = cli_accumulate(r->ctx, &sum_rec, trec) && cli_accumulate(r->ctx, &sum_kl, tkl);
        clg_step_end(r->ctx);
    }
    clg_grad_set_enabled(r->ctx, grad);
    float a = 0, b = 0;
    ok = ok && clg_tensor_item(sum_rec, &a) == CLG_STATUS_OK &&
         clg_tensor_item(sum_kl, &b) == CLG_STATUS_OK;
    clg_tensor_destroy(sum_rec);
    clg_tensor_destroy(sum_kl);
    *rec = (double)a / (double)r->test_size;
    *kl = (double)b / (double)r->test_size;
    return ok;
}

/* Downloads vae decode(z) for z (n, latent) given on the host, or drawn. */
static bool vae_decode(gen_run *r, clg_vae *vae, const float *z, int64_t n, uint64_t seed,
                       float *out)
{
    bool grad = clg_grad_set_enabled(r->ctx, false);
    clg_step_begin(r->ctx);
    int64_t shape[2] = {n, clg_vae_latent(vae)};
    clg_tensor *tz = z ? clg_tensor_from_host(r->ctx, CLG_DTYPE_F32, 2, shape, z)
                       : clg_randn(r->ctx, 2, shape, seed, 0);
    bool ok = clg_tensor_download(clg_vae_decode(vae, tz), out, (size_t)(n * PIXELS)) ==
              CLG_STATUS_OK;
    clg_step_end(r->ctx);
    clg_grad_set_enabled(r->ctx, grad);
    return ok;
}

/* recon.png: 4 rows of 8 test images, each above its reconstruction
 * decode(mu) (the mean of q(z|x): no sampling noise in the picture). */
static bool vae_pictures(gen_run *r, clg_vae *vae, const gen_options *o)
{
    enum { COLS = 8, PAIRS = 4 };
    int64_t shown = COLS * PAIRS < r->test_size ? COLS * PAIRS : r->test_size;
    float *images = calloc(2 * COLS * PAIRS * PIXELS, sizeof *images);
    float *recon = malloc((size_t)shown * PIXELS * sizeof *recon);
    int64_t side = 15;
    float *map = o->latent == 2 ? malloc((size_t)(side * side * PIXELS) * sizeof *map) : NULL;
    bool ok = images && recon && (o->latent != 2 || map);
    if (ok) {
        bool grad = clg_grad_set_enabled(r->ctx, false);
        clg_step_begin(r->ctx);
        clg_tensor *x = clg_tensor_from_host(r->ctx, CLG_DTYPE_F32, 2, (int64_t[]){shown, PIXELS},
                                             clg_dataset_images(r->test));
        ok = clg_tensor_download(clg_vae_decode(vae, clg_vae_encode(vae, x, NULL)), recon,
                                 (size_t)(shown * PIXELS)) == CLG_STATUS_OK;
        clg_step_end(r->ctx);
        clg_grad_set_enabled(r->ctx, grad);
    }
    if (ok) {
        for (int64_t i = 0; i < shown; i++) {
            int64_t row = i / COLS, col = i % COLS;
            memcpy(images + ((2 * row) * COLS + col) * PIXELS,
                   clg_dataset_images(r->test) + i * PIXELS, PIXELS * sizeof *images);
            memcpy(images + ((2 * row + 1) * COLS + col) * PIXELS, recon + i * PIXELS,
                   PIXELS * sizeof *images);
        }
        ok = grid(o, "recon.png", "test images (odd rows) and their VAE reconstructions", images,
                  2 * COLS * PAIRS, COLS, 3);
    }
    if (ok) {
        float *samples = malloc(GRID * PIXELS * sizeof *samples);
        ok = samples && vae_decode(r, vae, NULL, GRID, o->seed ^ 0x5a4d504cULL, samples) &&
             grid(o, "samples.png", "VAE samples: decoder(z), z ~ N(0, I)", samples, GRID, 8, 3);
        free(samples);
    }
    if (ok && o->latent == 2) {
        /* z on an even grid over [-2.5, 2.5]^2, rows from top (z2 high) down */
        float *z = malloc((size_t)(side * side * 2) * sizeof *z);
        ok = z != NULL;
        for (int64_t i = 0; ok && i < side * side; i++) {
            z[2 * i] = (float)(-2.5 + 5.0 * (double)(i % side) / (double)(side - 1));
            z[2 * i + 1] = (float)(2.5 - 5.0 * (double)(i / side) / (double)(side - 1));
        }
        ok = ok && vae_decode(r, vae, z, side * side, 0, map) &&
             grid(o, "latent.png", "VAE latent space: decoder(z1, z2) over [-2.5, 2.5]^2", map,
                  side * side, (int)side, 2);
        free(z);
    }
    free(images);
    free(recon);
    free(map);
    if (!ok && clg_context_status(r->ctx) != CLG_STATUS_OK)
        cli_context_error(r->ctx);
    return ok;
}

int cli_train_vae(int argc, char **argv)
{
    gen_options o;
    int code = parse(argc, argv, false, &o);
    if (code >= 0)
        return code;
    gen_run r = {0};
    clg_vae *vae = NULL;
    clg_optim *opt = NULL;
    double *train_rec = calloc((size_t)o.epochs + 1, sizeof(double));
    double *train_kl = calloc((size_t)o.epochs + 1, sizeof(double));
    double *test_elbo = calloc((size_t)o.epochs + 1, sizeof(double));
    code = CLI_EXIT_FAILURE;
    if (!train_rec || !train_kl || !test_elbo || !run_open(&r, &o, true))
        goto done;
    if (o.load) {
        clg_safetensors *st = cli_saved_open(r.ctx, o.load, "vae");
        int64_t sizes[3]; /* 784, hidden, latent */
        bool ok = st && cli_saved_arch(st, o.load, NULL, 0, sizes, 3) &&
                  saved_size(o.load, "--hidden", o.hidden_given, &o.hidden, sizes[1]) &&
                  saved_size(o.load, "--latent", o.latent_given, &o.latent, sizes[2]);
        clg_safetensors_destroy(st);
        if (ok && sizes[0] != PIXELS)
            cli_error("--load: %s takes %lld inputs, not Fashion-MNIST's %d", o.load,
                      (long long)sizes[0], PIXELS);
        if (!ok || sizes[0] != PIXELS) {
            clg_context_clear_error(r.ctx); /* printed */
            goto done;
        }
    }
    vae = clg_vae_create(r.ctx, PIXELS, o.hidden, o.latent, o.seed);
    if (o.load && vae && !cli_saved_load(r.ctx, clg_vae_params(vae), o.load)) {
        clg_context_clear_error(r.ctx); /* printed */
        goto done;
    }
    clg_optim_options adam = clg_optim_options_default(CLG_OPTIM_ADAM);
    adam.lr = o.lr;
    opt = vae ? clg_optim_create(r.ctx, clg_vae_params(vae), &adam) : NULL;
    if (!opt)
        goto done;
    printf("VAE 784-%lld-(%lld)-%lld-784 on %lld Fashion-MNIST images, batch %lld, Adam lr %g\n",
           (long long)o.hidden, (long long)o.latent, (long long)o.hidden,
           (long long)r.train_size, (long long)o.batch, (double)o.lr);
    printf("per image: -ELBO = reconstruction (BCE, summed over pixels) + KL(q(z|x) || N(0, I))\n");
    fflush(stdout);
    cli_progress progress;
    cli_progress_init(&progress, (int)o.epochs, clg_batcher_batches_per_epoch(r.batcher));
    for (int64_t epoch = 0; epoch < o.epochs; epoch++) {
        double start = cli_now();
        clg_tensor *sum_rec = NULL, *sum_kl = NULL; /* on the device: read at redraws */
        bool ok = true;
        const int64_t *indices;
        int64_t n, step = 0, seen = 0;
        clg_batcher_begin_epoch(r.batcher);
        cli_progress_begin_epoch(&progress);
        while (ok && clg_batcher_next(r.batcher, &indices, &n)) {
            clg_dataset_gather(r.train, indices, n, r.x, r.labels);
            clg_step_begin(r.ctx);
            clg_tensor *x = clg_tensor_from_host(r.ctx, CLG_DTYPE_F32, 2,
                                                 (int64_t[]){n, PIXELS}, r.x);
            clg_tensor *rec = NULL, *kl = NULL;
            clg_tensor *loss = clg_vae_loss(vae, x, NULL, &rec, &kl);
            clg_optim_zero_grad(opt);
            clg_backward(loss);
            clg_optim_step(opt);
            ok = cli_accumulate(r.ctx, &sum_rec, rec) && cli_accumulate(r.ctx, &sum_kl, kl);
            clg_step_end(r.ctx);
            step++;
            seen += n;
            float a = 0, b = 0;
            if (ok && cli_progress_step(&progress)) {
                ok = clg_tensor_item(sum_rec, &a) == CLG_STATUS_OK &&
                     clg_tensor_item(sum_kl, &b) == CLG_STATUS_OK;
                char measures[48];
                snprintf(measures, sizeof measures, "-ELBO %.2f", (double)(a + b) / (double)seen);
                if (ok)
                    cli_progress_draw_text(&progress, (int)epoch, step, seen, measures);
            }
        }
        float a = 0, b = 0;
        ok = ok && clg_tensor_item(sum_rec, &a) == CLG_STATUS_OK &&
             clg_tensor_item(sum_kl, &b) == CLG_STATUS_OK;
        clg_tensor_destroy(sum_rec);
        clg_tensor_destroy(sum_kl);
        if (!ok)
            goto done;
        double seconds = cli_now() - start, test_rec, test_kl;
        if (!vae_test_terms(&r, vae, o.batch, &test_rec, &test_kl))
            goto done;
        train_rec[epoch] = (double)a / (double)r.train_size;
        train_kl[epoch] = (double)b / (double)r.train_size;
        test_elbo[epoch] = test_rec + test_kl;
        cli_live_clear();
        printf("epoch %lld/%lld: train reconstruction %.2f + KL %.2f = %.2f; test %.2f + %.2f = "
               "%.2f (%.1f s)\n",
               (long long)epoch + 1, (long long)o.epochs, train_rec[epoch], train_kl[epoch],
               train_rec[epoch] + train_kl[epoch], test_rec, test_kl, test_elbo[epoch], seconds);
        fflush(stdout);
        double *total = malloc((size_t)(epoch + 1) * sizeof *total);
        if (!total)
            goto done;
        for (int64_t e = 0; e <= epoch; e++)
            total[e] = train_rec[e] + train_kl[e];
        plot_series series[4] = {{"train -ELBO", NULL, total, epoch + 1, PLOT_STYLE_SOLID},
                                 {"train reconstruction", NULL, train_rec, epoch + 1,
                                  PLOT_STYLE_DASHED},
                                 {"train KL", NULL, train_kl, epoch + 1, PLOT_STYLE_DASHED},
                                 {"test -ELBO", NULL, test_elbo, epoch + 1, PLOT_STYLE_SOLID}};
        plot_axes axes = {.title = "VAE on Fashion-MNIST: the negative ELBO and its two terms",
                          .xlabel = "epoch", .ylabel = "nats per image"};
        bool drawn = chart(&o, "elbo.png", &axes, series, 4);
        free(total);
        if (!drawn)
            goto done;
    }
    if (o.save) {
        char arch[64];
        snprintf(arch, sizeof arch, "%d-%lld-%lld", PIXELS, (long long)o.hidden,
                 (long long)o.latent);
        if (!cli_saved_write(r.ctx, clg_vae_params(vae), o.save, "vae", arch, NULL, NULL, 0)) {
            clg_context_clear_error(r.ctx); /* printed */
            goto done;
        }
    }
    code = vae_pictures(&r, vae, &o) ? 0 : CLI_EXIT_FAILURE;
done:
    if (code == CLI_EXIT_FAILURE && r.ctx && clg_context_status(r.ctx) != CLG_STATUS_OK)
        cli_context_error(r.ctx);
    clg_optim_destroy(opt);
    clg_vae_destroy(vae);
    run_close(&r);
    free(train_rec);
    free(train_kl);
    free(test_elbo);
    return code;
}

/* ---- GAN ---- */

/* samples-epochN.png: G(z) for the fixed noise z (GRID, noise), mapped from
 * [-1, 1] to [0, 1]. Batch norm normalises with the batch's statistics, as
 * PyTorch's DCGAN example draws its fixed-noise grids (G left in training
 * mode): the running averages lag the moving generator. The running
 * statistics this updates are not used by training. */
static bool gan_samples(gen_run *r, clg_gan *gan, const gen_options *o, int64_t epoch,
                        float *images)
{
    bool grad = clg_grad_set_enabled(r->ctx, false);
    clg_step_begin(r->ctx);
    clg_tensor *z = clg_randn(r->ctx, 2, (int64_t[]){GRID, o->noise}, o->seed ^ 0x66697865ULL, 0);
    bool ok = clg_tensor_download(clg_gan_generate(gan, z, true), images, GRID * PIXELS) ==
              CLG_STATUS_OK;
    clg_step_end(r->ctx);
    clg_grad_set_enabled(r->ctx, grad);
    if (!ok)
        return false;
    for (int i = 0; i < GRID * PIXELS; i++)
        images[i] = 0.5f * images[i] + 0.5f;
    char name[64], title[128];
    snprintf(name, sizeof name, "samples-epoch%lld.png", (long long)epoch);
    snprintf(title, sizeof title, "GAN (%s, %s) samples after epoch %lld, fixed noise",
             o->arch == CLG_GAN_DCGAN ? "dcgan" : "mlp",
             o->loss == CLG_GAN_MINIMAX ? "minimax" : "non-saturating", (long long)epoch);
    return grid(o, name, title, images, GRID, 8, 3);
}

int cli_train_gan(int argc, char **argv)
{
    gen_options o;
    int code = parse(argc, argv, true, &o);
    if (code >= 0)
        return code;
    gen_run r = {0};
    clg_gan *gan = NULL;
    clg_params *both = NULL; /* what --save writes and --load reads */
    clg_optim *d_opt = NULL, *g_opt = NULL;
    lecture_gan_trainer *trainer = NULL;
    double *d_mean = calloc((size_t)o.epochs + 1, sizeof(double));
    double *g_mean = calloc((size_t)o.epochs + 1, sizeof(double));
    float *images = malloc(GRID * PIXELS * sizeof *images);
    int64_t first_epoch = 0; /* epochs the --load file had trained */
    code = CLI_EXIT_FAILURE;
    if (!d_mean || !g_mean || !images || !run_open(&r, &o, false))
        goto done;
    if (o.load) {
        clg_safetensors *st = cli_saved_open(r.ctx, o.load, "gan");
        char word[16] = "";
        int64_t sizes[2]; /* noise, hidden */
        bool ok = st && cli_saved_arch(st, o.load, word, sizeof word, sizes, 2);
        clg_gan_arch arch = strcmp(word, "dcgan") == 0 ? CLG_GAN_DCGAN : CLG_GAN_MLP;
        if (ok && ((strcmp(word, "mlp") != 0 && strcmp(word, "dcgan") != 0) ||
                   (o.arch_given && arch != o.arch))) {
            cli_error("--load: %s holds a GAN of arch \"%s\"%s", o.load, word,
                      o.arch_given ? ", not the --arch given" : ", not mlp or dcgan");
            ok = false;
        }
        const char *epochs = ok ? clg_safetensors_metadata(st, "epochs") : NULL;
        char *end = NULL;
        first_epoch = epochs ? strtoll(epochs, &end, 10) : -1;
        if (ok && (!epochs || *end != '\0' || end == epochs || first_epoch < 0 ||
                   first_epoch > INT32_MAX)) {
            cli_error("--load: %s: metadata \"epochs\" is not the count of epochs trained", o.load);
            ok = false;
        }
        ok = ok && saved_size(o.load, "--noise", o.noise_given, &o.noise, sizes[0]) &&
             saved_size(o.load, "--hidden", o.hidden_given, &o.hidden, sizes[1]);
        o.arch = arch;
        clg_safetensors_destroy(st);
        if (!ok) {
            clg_context_clear_error(r.ctx); /* printed */
            goto done;
        }
    }
    gan = clg_gan_create(r.ctx, o.arch, o.noise, o.hidden, o.seed);
    both = gan ? clg_params_create(r.ctx) : NULL;
    if (!both || clg_params_extend(both, "generator.", clg_gan_generator_params(gan)) ||
        clg_params_extend(both, "discriminator.", clg_gan_discriminator_params(gan)))
        goto done;
    if (o.load && !cli_saved_load(r.ctx, both, o.load)) {
        clg_context_clear_error(r.ctx); /* printed */
        goto done;
    }
    clg_optim_options adam = clg_optim_options_default(CLG_OPTIM_ADAM);
    adam.lr = o.lr;
    adam.beta1 = 0.5f; /* the DCGAN paper's: a shorter memory suits the moving game */
    d_opt = gan ? clg_optim_create(r.ctx, clg_gan_discriminator_params(gan), &adam) : NULL;
    g_opt = d_opt ? clg_optim_create(r.ctx, clg_gan_generator_params(gan), &adam) : NULL;
    trainer = g_opt ? lecture_gan_trainer_create(gan) : NULL;
    if (!trainer)
        goto done;
    printf("GAN (%s, hidden %lld, noise %lld, %s generator loss) on %lld Fashion-MNIST images, "
           "batch %lld, Adam lr %g beta1 0.5\n",
           o.arch == CLG_GAN_DCGAN ? "dcgan" : "mlp", (long long)o.hidden, (long long)o.noise,
           o.loss == CLG_GAN_MINIMAX ? "minimax" : "non-saturating", (long long)r.train_size,
           (long long)o.batch, (double)o.lr);
    if (!gan_samples(&r, gan, &o, first_epoch, images))
        goto done;
    cli_progress progress;
    cli_progress_init(&progress, (int)o.epochs, clg_batcher_batches_per_epoch(r.batcher));
    for (int64_t epoch = 0; epoch < o.epochs; epoch++) {
        double start = cli_now();
        int64_t n, step = 0, seen = 0;
        const int64_t *indices;
        clg_batcher_begin_epoch(r.batcher);
        cli_progress_begin_epoch(&progress);
        /* The losses are summed on the device and read only at the live
         * line's redraws and the epoch's end: lecture_gan_mean_losses gives the
         * mean since its last call, so the epoch's mean is the means
         * weighted by their steps. */
        double d_sum = 0.0, g_sum = 0.0;
        int64_t summed = 0;
        float d = 0, g = 0;
        while (clg_batcher_next(r.batcher, &indices, &n)) {
            clg_dataset_gather(r.train, indices, n, r.x, r.labels);
            if (lecture_gan_train_discriminator(trainer, d_opt, r.x, n, NULL, NULL) !=
                    CLG_STATUS_OK ||
                lecture_gan_train_generator(trainer, g_opt, n, NULL, o.loss, NULL) != CLG_STATUS_OK)
                goto done;
            step++;
            seen += n;
            if (cli_progress_step(&progress)) {
                if (lecture_gan_mean_losses(trainer, &d, &g) != CLG_STATUS_OK)
                    goto done;
                d_sum += (double)d * (double)(step - summed);
                g_sum += (double)g * (double)(step - summed);
                summed = step;
                char measures[64];
                snprintf(measures, sizeof measures, "D loss %.4f  G loss %.4f",
                         d_sum / (double)step, g_sum / (double)step);
                cli_progress_draw_text(&progress, (int)epoch, step, seen, measures);
            }
        }
        if (step > summed) {
            if (lecture_gan_mean_losses(trainer, &d, &g) != CLG_STATUS_OK)
                goto done;
            d_sum += (double)d * (double)(step - summed);
            g_sum += (double)g * (double)(step - summed);
        }
        d_mean[epoch] = step ? d_sum / (double)step : NAN;
        g_mean[epoch] = step ? g_sum / (double)step : NAN;
        cli_live_clear();
        printf("epoch %lld/%lld: discriminator loss %.4f, generator loss %.4f (%.1f s)\n",
               (long long)epoch + 1, (long long)o.epochs, d_mean[epoch], g_mean[epoch],
               cli_now() - start);
        fflush(stdout);
        if (!gan_samples(&r, gan, &o, first_epoch + epoch + 1, images))
            goto done;
        plot_series series[2] = {{"discriminator -(log D(x) + log(1 - D(G(z))))", NULL, d_mean,
                                  epoch + 1, PLOT_STYLE_SOLID},
                                 {o.loss == CLG_GAN_MINIMAX ? "generator log(1 - D(G(z)))"
                                                            : "generator -log D(G(z))",
                                  NULL, g_mean, epoch + 1, PLOT_STYLE_SOLID}};
        /* At the equilibrium D(x) = 1/2 everywhere: D's loss, two BCE means
         * summed, is 2 ln 2; G's is log(1/2) = -ln 2 (minimax) or
         * -log(1/2) = ln 2 (non-saturating). Each line in its player's colour. */
        const bool minimax = o.loss == CLG_GAN_MINIMAX;
        const plot_line equilibrium[2] = {
            {"discriminator at the equilibrium: 2 ln 2 = 1.386", 0, 1, 2 * log(2.0), 0},
            {minimax ? "generator at the equilibrium: -ln 2 = -0.693"
                     : "generator at the equilibrium: ln 2 = 0.693",
             0, 1, minimax ? -log(2.0) : log(2.0), 1}};
        plot_axes axes = {.title = "GAN on Fashion-MNIST: the two players' losses",
                          .xlabel = "epoch", .ylabel = "mean loss over the epoch",
                          .note = "dashed: each player's loss at the equilibrium, D(x) = 1/2",
                          .lines = equilibrium, .line_count = 2};
        if (!chart(&o, "losses.png", &axes, series, 2))
            goto done;
    }
    if (o.save) {
        char arch[64], epochs[32];
        snprintf(arch, sizeof arch, "%s-%lld-%lld", o.arch == CLG_GAN_DCGAN ? "dcgan" : "mlp",
                 (long long)o.noise, (long long)o.hidden);
        snprintf(epochs, sizeof epochs, "%lld", (long long)(first_epoch + o.epochs));
        if (!cli_saved_write(r.ctx, both, o.save, "gan", arch, (const char *[]){"epochs"},
                             (const char *[]){epochs}, 1)) {
            clg_context_clear_error(r.ctx); /* printed */
            goto done;
        }
    }
    code = 0;
done:
    if (code == CLI_EXIT_FAILURE && r.ctx && clg_context_status(r.ctx) != CLG_STATUS_OK)
        cli_context_error(r.ctx);
    lecture_gan_trainer_destroy(trainer);
    clg_optim_destroy(d_opt);
    clg_optim_destroy(g_opt);
    clg_params_destroy(both);
    clg_gan_destroy(gan);
    run_close(&r);
    free(d_mean);
    free(g_mean);
    free(images);
    return code;
}
