/* tools/clgrad/charlstm.c: `clgrad train charlstm`, a character-level LSTM
 * language model (clg_charlstm, zoo/recurrent.c) on any text file: the text
 * is cut into --batch parallel streams read in chunks of --bptt characters
 * with the LSTM state carried from chunk to chunk (truncated BPTT), gradients
 * clipped to norm 5; after each epoch the validation bits per character (the
 * last tenth of the file), at the end a passage sampled at --temperature. */
#include <math.h>
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define DEFAULT_DATA "/usr/share/common-licenses/GPL-3"

static const char usage[] =
    "usage: clgrad train charlstm [options]\n"
    "\n"
    "Trains a character-level LSTM language model on a text file, prints the\n"
    "validation bits per character after each epoch and a sampled passage.\n"
    "\n"
    "options:\n"
    "  --data FILE        text to learn (default " DEFAULT_DATA ");\n"
    "                     the last tenth is the validation text\n"
    "  --epochs N         passes over the training text (default 10)\n"
    "  --batch N          parallel streams (default 16)\n"
    "  --bptt N           characters per chunk, the truncated BPTT length (default 32)\n"
    "  --hidden N         LSTM units (default 256)\n"
    "  --embed N          embedding size (default 32)\n"
    "  --lr X             Adam learning rate (default 0.003)\n"
    "  --temperature T    sampling temperature, > 0 (default 0.8)\n"
    "  --length N         characters to sample (default 400)\n"
    "  --prime TEXT       text the sample starts from (default \"The \")\n"
    "  --seed N           weights and sampling (default 42)\n"
    "  --save FILE        after training, write the weights (safetensors; metadata\n"
    "                     \"model\" charlstm, \"arch\" VOCAB-EMBED-HIDDEN and the\n"
    "                     \"vocabulary\", its bytes in hex)\n"
    "  --load FILE        start from the weights --save wrote (sizes and vocabulary\n"
    "                     from FILE; Adam starts afresh); with --epochs 0, only the\n"
    "                     validation and the sample\n"
    "  -h, --help         this help\n";

typedef struct charlstm_options {
    const char *data, *prime, *save, *load;
    int64_t epochs, batch, bptt, hidden, embed, length;
    float lr, temperature;
    uint64_t seed;
    bool hidden_given, embed_given;
} charlstm_options;

static int parse(int argc, char **argv, charlstm_options *o)
{
    *o = (charlstm_options){.data = DEFAULT_DATA,
                            .prime = "The ",
                            .epochs = 10,
                            .batch = 16,
                            .bptt = 32,
                            .hidden = 256,
                            .embed = 32,
                            .length = 400,
                            .lr = 3e-3f,
                            .temperature = 0.8f,
                            .seed = 42};
    static const char *const valued[] = {
        "--data",        "--epochs", "--batch", "--bptt", "--hidden", "--embed", "--lr",
        "--temperature", "--length", "--prime", "--seed", "--save",   "--load",  NULL};
    cli_args args;
    /* argv[0] is "train", argv[1] "charlstm" */
    cli_args_init(&args, "train charlstm", argc - 1, argv + 1, valued, NULL);
    int exit_code;
    while (cli_args_option(&args, usage, NULL, &exit_code)) {
        const char *name = args.name, *value = args.value;
        bool ok = true;
        if (strcmp(name, "--data") == 0)
            o->data = value;
        else if (strcmp(name, "--prime") == 0)
            o->prime = value;
        else if (strcmp(name, "--save") == 0)
            o->save = value;
        else if (strcmp(name, "--load") == 0)
            o->load = value;
        else if (strcmp(name, "--epochs") == 0)
            ok = cli_parse_int(name, value, 0, 100000, &o->epochs);
        else if (strcmp(name, "--batch") == 0)
            ok = cli_parse_int(name, value, 1, 4096, &o->batch);
        else if (strcmp(name, "--bptt") == 0)
            ok = cli_parse_int(name, value, 1, 4096, &o->bptt);
        else if (strcmp(name, "--hidden") == 0) {
            ok = cli_parse_int(name, value, 1, 8192, &o->hidden);
            o->hidden_given = true;
        } else if (strcmp(name, "--embed") == 0) {
            ok = cli_parse_int(name, value, 1, 8192, &o->embed);
            o->embed_given = true;
        } else if (strcmp(name, "--length") == 0)
            ok = cli_parse_int(name, value, 0, 1000000, &o->length);
        else if (strcmp(name, "--lr") == 0)
            ok = cli_parse_positive_float(name, value, &o->lr);
        else if (strcmp(name, "--seed") == 0)
            ok = cli_parse_u64(name, value, &o->seed);
        else { /* --temperature: its own message, since 0 is a tempting value */
            double t = 0.0;
            ok = cli_parse_real(name, value, -HUGE_VAL, HUGE_VAL, &t);
            o->temperature = (float)t;
            if (ok && !(t >= FLT_MIN && t <= FLT_MAX)) {
                ok = false;
                cli_error("--temperature: \"%s\" is not a number > 0 (the logits are divided "
                          "by it; use a small value such as 0.1 for near-greedy text)",
                          value);
            }
        }
        if (!ok)
            return CLI_EXIT_USAGE;
    }
    if (exit_code >= 0)
        return exit_code;
    if (o->prime[0] == '\0') {
        cli_error("--prime: empty text");
        return CLI_EXIT_USAGE;
    }
    return cli_saved_check_options(o->save, o->load, o->epochs, "sample");
}

/* The whole file, malloc'ed; NULL after printing why. */
static unsigned char *read_text(const char *path, int64_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        cli_error("train charlstm: cannot open %s", path);
        return NULL;
    }
    size_t capacity = 1 << 16, used = 0;
    unsigned char *text = malloc(capacity);
    size_t got;
    while (text && (got = fread(text + used, 1, capacity - used, f)) > 0) {
        used += got;
        if (used == capacity) {
            unsigned char *bigger = realloc(text, capacity *= 2);
            if (!bigger)
                free(text);
            text = bigger;
        }
    }
    fclose(f);
    if (!text) {
        cli_error("train charlstm: out of memory reading %s", path);
        return NULL;
    }
    *size = (int64_t)used;
    return text;
}

/* Chunks of `bptt` in `count` characters cut into `batch` streams. */
static int64_t chunks(int64_t count, int64_t batch, int64_t bptt)
{
    int64_t stream = (count - 1) / batch;
    return (stream + bptt - 1) / bptt;
}

/* Mean loss (nats per character) over `ids` cut into `batch` streams and
 * chunks of `bptt`, state carried; trains when opt is not NULL, with the live
 * line of `progress` (epoch `epoch`); else a live line of its own. Returns
 * NAN after printing the error. */
static double run_epoch(clg_context *ctx, clg_charlstm *m, clg_optim *opt, cli_progress *progress,
                        int epoch, const int32_t *ids, int64_t count, int64_t batch, int64_t bptt)
{
    int64_t stream = (count - 1) / batch; /* characters per stream, plus one target */
    if (stream < 1) {
        cli_error("train charlstm: %lld characters cannot fill %lld streams", (long long)count,
                  (long long)batch);
        return NAN;
    }
    int32_t *in = malloc(sizeof(int32_t) * (size_t)(bptt * batch));
    int32_t *target = malloc(sizeof(int32_t) * (size_t)(bptt * batch));
    bool previous = clg_grad_set_enabled(ctx, opt != NULL);
    clg_charlstm_set_keep_state(m, false); /* each pass starts from zeros */
    clg_charlstm_set_keep_state(m, true);
    clg_tensor *total = NULL; /* sum of loss x steps, on the device: one read per pass */
    int64_t seen = 0;
    bool ok = in && target;
    for (int64_t start = 0; ok && start < stream; start += bptt) {
        int64_t steps = stream - start < bptt ? stream - start : bptt;
        for (int64_t t = 0; t < steps; t++)
            for (int64_t n = 0; n < batch; n++) { /* time-major (steps, batch) */
                in[t * batch + n] = ids[n * stream + start + t];
                target[t * batch + n] = ids[n * stream + start + t + 1];
            }
        clg_step_begin(ctx);
        clg_tensor *loss = clg_charlstm_loss(m, in, target, steps, batch);
        if (opt) {
            clg_optim_zero_grad(opt);
            clg_backward(loss);
            clg_clip_grad_norm(clg_charlstm_params(m), 5.0f, NULL);
            clg_optim_step(opt);
        }
        ok = cli_accumulate(ctx, &total, clg_affine(loss, (float)steps, 0.0f));
        clg_step_end(ctx);
        seen += steps;
        float sum = 0.0f;
        if (ok && !opt)
            cli_live_line("validating: %lld of %lld characters", (long long)(seen * batch),
                          (long long)(stream * batch));
        else if (ok && cli_progress_step(progress) &&
                 (ok = clg_tensor_item(total, &sum) == CLG_STATUS_OK)) {
            char measures[48];
            snprintf(measures, sizeof measures, "%.3f bits per char",
                     (double)sum / (double)seen / log(2.0));
            cli_progress_draw_text(progress, epoch, start / bptt + 1, seen * batch, measures);
        }
    }
    clg_grad_set_enabled(ctx, previous);
    free(in);
    free(target);
    float sum = NAN;
    ok = ok && clg_tensor_item(total, &sum) == CLG_STATUS_OK;
    clg_tensor_destroy(total);
    if (!ok) {
        if (clg_context_status(ctx) != CLG_STATUS_OK)
            cli_context_error(ctx);
        else
            cli_error("train charlstm: out of host memory");
        return NAN;
    }
    return seen > 0 ? (double)sum / (double)seen : NAN;
}

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

/* The --load file's sizes into o and its vocabulary (metadata "vocabulary":
 * each byte as two hex digits, in index order) into index_of / byte_of;
 * returns its size, or -1 after printing why. */
static int load_vocabulary(clg_context *ctx, charlstm_options *o, int32_t *index_of,
                           unsigned char *byte_of)
{
    clg_safetensors *st = cli_saved_open(ctx, o->load, "charlstm");
    int64_t sizes[3]; /* vocabulary, embedding, hidden */
    bool sized = st && cli_saved_arch(st, o->load, NULL, 0, sizes, 3) &&
                 saved_size(o->load, "--embed", o->embed_given, &o->embed, sizes[1]) &&
                 saved_size(o->load, "--hidden", o->hidden_given, &o->hidden, sizes[2]);
    const char *hex = sized ? clg_safetensors_metadata(st, "vocabulary") : NULL;
    int vocab = 0;
    bool ok = sized && hex && sizes[0] <= 256 && strlen(hex) == 2 * (size_t)sizes[0];
    for (; ok && vocab < sizes[0]; vocab++) {
        unsigned byte = 0;
        ok = sscanf(hex + 2 * vocab, "%2x", &byte) == 1 && index_of[byte] < 0;
        if (ok) {
            index_of[byte] = vocab;
            byte_of[vocab] = (unsigned char)byte;
        }
    }
    if (sized && !ok && !hex)
        cli_error("--load: %s: no metadata \"vocabulary\"", o->load);
    else if (sized && !ok)
        cli_error("--load: %s: metadata \"vocabulary\" is not %lld distinct bytes in hex", o->load,
                  (long long)sizes[0]);
    clg_safetensors_destroy(st);
    return ok ? vocab : -1;
}

int cli_train_charlstm(int argc, char **argv)
{
    charlstm_options o;
    int code = parse(argc, argv, &o);
    if (code >= 0)
        return code;
    int64_t size = 0;
    unsigned char *text = read_text(o.data, &size);
    if (!text)
        return CLI_EXIT_FAILURE;
    /* the vocabulary: the bytes that occur, in byte order; with --load, the
     * file's */
    int32_t index_of[256];
    unsigned char byte_of[256];
    int vocab = 0;
    int64_t n_val = size / 10, n_train = size - n_val;
    code = CLI_EXIT_FAILURE;
    clg_context *ctx = NULL;
    clg_charlstm *m = NULL;
    clg_optim *opt = NULL;
    int32_t *ids = malloc(sizeof(int32_t) * (size_t)(size > 0 ? size : 1));
    int32_t *prime = malloc(sizeof(int32_t) * strlen(o.prime));
    int32_t *sample = malloc(sizeof(int32_t) * (size_t)(o.length > 0 ? o.length : 1));
    for (int b = 0; b < 256; b++)
        index_of[b] = -1;
    if (o.load) {
        if (clg_context_create(NULL, &ctx) != CLG_STATUS_OK) {
            cli_context_error(ctx);
            goto done;
        }
        vocab = load_vocabulary(ctx, &o, index_of, byte_of);
        if (vocab <= 0)
            goto done;
        for (int64_t i = 0; i < size; i++)
            if (index_of[text[i]] < 0) {
                cli_error("--load: %s holds the byte 0x%02x, which is not in the vocabulary of %s",
                          o.data, text[i], o.load);
                goto done;
            }
    } else {
        for (int64_t i = 0; i < size; i++)
            index_of[text[i]] = 0;
        for (int b = 0; b < 256; b++)
            if (index_of[b] == 0) {
                byte_of[vocab] = (unsigned char)b;
                index_of[b] = vocab++;
            }
    }
    if (!ids || !prime || !sample) {
        cli_error("train charlstm: out of memory");
        goto done;
    }
    if (n_val < o.batch + 1 || n_train < o.batch + 1) {
        cli_error("train charlstm: %s has %lld characters, too few for %lld streams", o.data,
                  (long long)size, (long long)o.batch);
        code = CLI_EXIT_USAGE;
        goto done;
    }
    for (int64_t i = 0; i < size; i++)
        ids[i] = index_of[text[i]];
    size_t n_prime = strlen(o.prime);
    for (size_t i = 0; i < n_prime; i++) {
        prime[i] = index_of[(unsigned char)o.prime[i]];
        if (prime[i] < 0) {
            cli_error("--prime: the character '%c' does not occur in %s", o.prime[i], o.data);
            code = CLI_EXIT_USAGE;
            goto done;
        }
    }
    if (!ctx && clg_context_create(NULL, &ctx) != CLG_STATUS_OK) {
        cli_context_error(ctx);
        goto done;
    }
    m = clg_charlstm_create(ctx, vocab, o.embed, o.hidden, o.seed);
    if (m && o.load && !cli_saved_load(ctx, clg_charlstm_params(m), o.load))
        goto done;
    clg_optim_options adam = clg_optim_options_default(CLG_OPTIM_ADAM);
    adam.lr = o.lr;
    opt = m ? clg_optim_create(ctx, clg_charlstm_params(m), &adam) : NULL;
    if (!opt) {
        cli_context_error(ctx);
        goto done;
    }
    printf("charlstm: %s, %lld characters (%lld for validation), vocabulary %d; LSTM %lld, "
           "embedding %lld, %lld streams of %lld-character chunks\n",
           o.data, (long long)size, (long long)n_val, vocab, (long long)o.hidden,
           (long long)o.embed, (long long)o.batch, (long long)o.bptt);
    fflush(stdout);
    cli_progress progress;
    cli_progress_init(&progress, (int)o.epochs, chunks(n_train, o.batch, o.bptt));
    progress.unit = "chars";
    for (int64_t epoch = 0; epoch < o.epochs; epoch++) {
        double start = cli_now();
        cli_progress_begin_epoch(&progress);
        double train = run_epoch(ctx, m, opt, &progress, (int)epoch, ids, n_train, o.batch, o.bptt);
        double seconds = cli_now() - start;
        double val = isnan(train) ? NAN
                                  : run_epoch(ctx, m, NULL, NULL, (int)epoch, ids + n_train, n_val,
                                              o.batch, o.bptt);
        if (isnan(val))
            goto done;
        cli_live_clear();
        printf("epoch %lld: train %.3f, validation %.3f bits per character (%.1f s)\n",
               (long long)epoch + 1, train / log(2.0), val / log(2.0), seconds);
        fflush(stdout);
    }
    if (o.epochs == 0) { /* --load alone: how good the loaded weights are */
        double val = run_epoch(ctx, m, NULL, NULL, 0, ids + n_train, n_val, o.batch, o.bptt);
        if (isnan(val))
            goto done;
        cli_live_clear();
        printf("%s: validation %.3f bits per character\n", o.load, val / log(2.0));
    }
    if (o.save) {
        char arch[64], hex[2 * 256 + 1];
        snprintf(arch, sizeof arch, "%d-%lld-%lld", vocab, (long long)o.embed, (long long)o.hidden);
        for (int v = 0; v < vocab; v++)
            snprintf(hex + 2 * v, 3, "%02x", byte_of[v]);
        hex[2 * vocab] = '\0';
        if (!cli_saved_write(ctx, clg_charlstm_params(m), o.save, "charlstm", arch,
                             (const char *[]){"vocabulary"}, (const char *[]){hex}, 1))
            goto done;
    }
    if (clg_charlstm_sample(m, prime, (int64_t)n_prime, o.length, o.temperature, o.seed, sample) !=
        CLG_STATUS_OK) {
        cli_context_error(ctx);
        goto done;
    }
    printf("sample at temperature %g:\n%s", (double)o.temperature, o.prime);
    for (int64_t i = 0; i < o.length; i++)
        putchar(byte_of[sample[i]]);
    putchar('\n');
    code = 0;
done:
    clg_optim_destroy(opt);
    clg_charlstm_destroy(m);
    clg_context_destroy(ctx);
    free(ids);
    free(prime);
    free(sample);
    free(text);
    return code;
}
