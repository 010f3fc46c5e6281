/* zoo/recurrent.c: the recurrent models: the RNN / LSTM / GRU image
 * classifiers (each 28x28 image read as 28 time steps of 28 pixels, the last
 * hidden state -> fc1 -> class logits) as clg_model kinds "rnn", "lstm" and
 * "gru", and the
 * character-level LSTM language model (embedding -> LSTM -> linear over the
 * vocabulary) with truncated BPTT and temperature sampling. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/random.h"
#include "zoo/model.h"

extern const zoo_kind zoo_kind_rnn, zoo_kind_lstm, zoo_kind_gru;

/* Each classifier kind: its cell, and the gates stacked in its weights
 * (torch.nn.LSTM's i, f, g, o; torch.nn.GRU's r, z, n). The kind's name is
 * also the parameters' prefix ("gru.weight_ih_l0"). */
static const struct {
    const zoo_kind *kind;
    clg_cell cell;
    int64_t gates;
} cells[] = {
    {&zoo_kind_rnn, CLG_CELL_RNN, 1},
    {&zoo_kind_lstm, CLG_CELL_LSTM, 4},
    {&zoo_kind_gru, CLG_CELL_GRU, 3},
};
#define CELLS ((int)(sizeof cells / sizeof cells[0]))

/* The row of `name` in cells, or -1. */
static int cell_index(const char *name)
{
    for (int i = 0; name && i < CELLS; i++)
        if (strcmp(name, cells[i].kind->name) == 0)
            return i;
    return -1;
}

/* What a recurrent classifier has before fc1. */
typedef struct recurrent_own {
    clg_recurrent_layer *layer; /* "rnn", "lstm" or "gru" */
    int64_t steps;              /* each input row is split into */
} recurrent_own;

static void recurrent_destroy(void *own)
{
    recurrent_own *r = own;
    clg_recurrent_layer_destroy(r->layer);
    free(r);
}

/* x (N, steps * input) -> (N, steps, input) -> h_n (1, N, H) -> (N, H) -> fc1 */
static clg_tensor *recurrent_forward(const clg_model *model, clg_tensor *x)
{
    const recurrent_own *r = model->own;
    int64_t N = clg_tensor_dim(x, 0), H = clg_recurrent_layer_hidden_size(r->layer);
    int64_t seq[3] = {N, r->steps, model->in_features / r->steps}, flat[2] = {N, H};
    clg_tensor *h_n = NULL;
    clg_recurrent_layer_forward(r->layer, clg_reshape(x, 3, seq), &h_n);
    return clg_linear_forward(model->layers[0], clg_reshape(h_n, 2, flat));
}

CLG_API clg_model *clg_zoo_recurrent_create(clg_context *ctx, const char *cell, int64_t steps,
                                            int64_t input_size, int64_t hidden_size,
                                            int64_t classes, uint64_t seed)
{
    static const char fn[] = "clg_zoo_recurrent_create";
    if (eng_failed(ctx))
        return NULL;
    int c = cell_index(cell);
    if (c < 0 || steps <= 0 || input_size <= 0 || hidden_size <= 0 || classes <= 0) {
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                 "%s: cell \"%s\" must be \"rnn\", \"lstm\" or \"gru\", and steps %" PRId64
                 ", input_size %" PRId64 ", hidden_size %" PRId64 ", classes %" PRId64 " positive",
                 fn, cell ? cell : "(null)", steps, input_size, hidden_size, classes);
        return NULL;
    }
    int64_t widths[2] = {hidden_size, classes};
    clg_model *m = zoo_model_create(ctx, fn, cells[c].kind, widths, 2,
                                    zoo_layer_seed(seed, 1));
    recurrent_own *r = m ? calloc(1, sizeof *r) : NULL;
    if (!r) {
        if (m)
            eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "%s: out of host memory", fn);
        clg_model_destroy(m);
        return NULL;
    }
    m->own = r;
    r->steps = steps;
    m->in_features = steps * input_size;
    char arch[96];
    snprintf(arch, sizeof arch, "%" PRId64 "x%" PRId64 "-%" PRId64 "-%" PRId64, steps, input_size,
             hidden_size, classes);
    free(m->arch);
    m->arch = strdup(arch);
    char prefix[16];
    snprintf(prefix, sizeof prefix, "%s.", cells[c].kind->name);
    r->layer = clg_recurrent_layer_create(ctx, cells[c].cell, input_size, hidden_size, true,
                                          zoo_layer_seed(seed, 0));
    if (!m->arch || !r->layer ||
        clg_params_extend(m->params, prefix, clg_recurrent_layer_params(r->layer)) !=
            CLG_STATUS_OK) {
        if (!m->arch)
            eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "%s: out of host memory", fn);
        clg_model_destroy(m);
        return NULL;
    }
    return m;
}

/* "arch" "28x28-128-10": steps, input, hidden, classes into v; false with
 * a FORMAT error otherwise. */
static bool recurrent_arch(clg_context *ctx, const zoo_checkpoint *ck, int64_t *v)
{
    const char *arch = clg_safetensors_metadata(ck->st, "arch");
    const char *c = arch;
    const char *kind = clg_safetensors_metadata(ck->st, "model");
    if (!arch) {
        eng_fail(ctx, CLG_STATUS_FORMAT, "%s: %s: no \"arch\" in the metadata", ck->fn, ck->path);
        return false;
    }
    if (!(zoo_parse_width(&c, &v[0]) && *c++ == 'x' && zoo_parse_width(&c, &v[1]) && *c++ == '-' &&
          zoo_parse_width(&c, &v[2]) && *c++ == '-' && zoo_parse_width(&c, &v[3]) && *c == '\0') ||
        v[0] * v[1] > INT32_MAX) {
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: %s: metadata \"arch\" is \"%s\"; a %s has \"STEPSxINPUT-HIDDEN-CLASSES\", "
                 "such as \"28x28-128-10\"",
                 ck->fn, ck->path, arch, kind);
        return false;
    }
    return true;
}

/* The cell's tensors as torch.nn.RNN / LSTM / GRU name them, then fc1. */
static bool recurrent_check(clg_context *ctx, const zoo_checkpoint *ck)
{
    int64_t v[4]; /* steps, input, hidden, classes */
    if (!recurrent_arch(ctx, ck, v))
        return false;
    const char *kind = clg_safetensors_metadata(ck->st, "model");
    int64_t gates = cells[cell_index(kind)].gates, hidden = v[2];
    const struct {
        const char *suffix;
        int rank;
        int64_t shape[2];
    } cell[] = {{"weight_ih_l0", 2, {gates * hidden, v[1]}},
                {"weight_hh_l0", 2, {gates * hidden, hidden}},
                {"bias_ih_l0", 1, {gates * hidden}},
                {"bias_hh_l0", 1, {gates * hidden}}};
    for (int i = 0; i < 4; i++) {
        char name[48];
        snprintf(name, sizeof name, "%s.%s", kind, cell[i].suffix);
        if (!zoo_expect_tensor(ctx, ck, name, cell[i].rank, cell[i].shape))
            return false;
    }
    return zoo_expect_linear_stack(ctx, ck, (int64_t[]){hidden, v[3]}, 2, 1);
}

static clg_model *recurrent_from_metadata(clg_context *ctx, const zoo_checkpoint *ck)
{
    int64_t v[4];
    if (!recurrent_arch(ctx, ck, v))
        return NULL;
    return clg_zoo_recurrent_create(ctx, clg_safetensors_metadata(ck->st, "model"), v[0], v[1],
                                    v[2], v[3], 0);
}

const zoo_kind zoo_kind_rnn = {.name = "rnn",
                               .forward = recurrent_forward,
                               .check = recurrent_check,
                               .from_metadata = recurrent_from_metadata,
                               .destroy = recurrent_destroy};
const zoo_kind zoo_kind_lstm = {.name = "lstm",
                                .forward = recurrent_forward,
                                .check = recurrent_check,
                                .from_metadata = recurrent_from_metadata,
                                .destroy = recurrent_destroy};
const zoo_kind zoo_kind_gru = {.name = "gru",
                               .forward = recurrent_forward,
                               .check = recurrent_check,
                               .from_metadata = recurrent_from_metadata,
                               .destroy = recurrent_destroy};

/* ---- the character-level language model ---- */

struct clg_charlstm {
    clg_context *ctx;
    int64_t vocab, hidden;
    clg_embedding_layer *embed;
    clg_recurrent_layer *lstm; /* time-major: (T, N, E) */
    clg_linear *fc;
    clg_params *params;
};

CLG_API clg_charlstm *clg_charlstm_create(clg_context *ctx, int64_t vocab, int64_t embed_dim,
                                          int64_t hidden_size, uint64_t seed)
{
    if (eng_failed(ctx))
        return NULL;
    clg_charlstm *m = calloc(1, sizeof *m);
    if (!m) {
        eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "clg_charlstm_create: out of host memory");
        return NULL;
    }
    m->ctx = ctx;
    m->vocab = vocab;
    m->hidden = hidden_size;
    m->embed = clg_embedding_layer_create(ctx, vocab, embed_dim, zoo_layer_seed(seed, 0));
    m->lstm = clg_recurrent_layer_create(ctx, CLG_CELL_LSTM, embed_dim, hidden_size, false,
                                         zoo_layer_seed(seed, 1));
    m->fc = clg_linear_create(ctx, hidden_size, vocab, true, zoo_layer_seed(seed, 2));
    m->params = clg_params_create(ctx);
    if (!m->embed || !m->lstm || !m->fc || !m->params ||
        clg_params_extend(m->params, "embed.", clg_embedding_layer_params(m->embed)) ||
        clg_params_extend(m->params, "lstm.", clg_recurrent_layer_params(m->lstm)) ||
        clg_params_extend(m->params, "fc.", clg_linear_params(m->fc))) {
        clg_charlstm_destroy(m);
        return NULL;
    }
    return m;
}

CLG_API void clg_charlstm_destroy(clg_charlstm *m)
{
    if (!m)
        return;
    clg_params_destroy(m->params);
    clg_embedding_layer_destroy(m->embed);
    clg_recurrent_layer_destroy(m->lstm);
    clg_linear_destroy(m->fc);
    free(m);
}

CLG_API const clg_params *clg_charlstm_params(const clg_charlstm *m)
{
    return m->params;
}

CLG_API void clg_charlstm_set_keep_state(clg_charlstm *m, bool keep)
{
    clg_recurrent_layer_set_keep_state(m->lstm, keep);
}

/* ids (T, N) time-major -> logits (T N, V) */
static clg_tensor *char_logits(clg_charlstm *m, const int32_t *ids, int64_t steps, int64_t batch)
{
    clg_tensor *x = clg_embedding_layer_forward_host(m->embed, ids, 2,
                                                     (int64_t[]){steps, batch}); /* (T, N, E) */
    clg_tensor *y = clg_recurrent_layer_forward(m->lstm, x, NULL);               /* (T, N, H) */
    return clg_linear_forward(m->fc, clg_reshape(y, 2, (int64_t[]){steps * batch, m->hidden}));
}

CLG_API clg_tensor *clg_charlstm_loss(clg_charlstm *m, const int32_t *inputs,
                                      const int32_t *targets, int64_t steps, int64_t batch)
{
    if (eng_failed(m->ctx))
        return NULL;
    if (steps < 1 || batch < 1) {
        eng_fail(m->ctx, CLG_STATUS_SHAPE,
                 "clg_charlstm_loss: the sequence must have at least one step and one row, not "
                 "%" PRId64 " steps of %" PRId64 " rows",
                 steps, batch);
        return NULL;
    }
    for (int64_t i = 0; i < steps * batch; i++)
        if (targets[i] < 0 || targets[i] >= m->vocab) {
            eng_fail(m->ctx, CLG_STATUS_INVALID_ARGUMENT,
                     "clg_charlstm_loss: target %d at position %" PRId64
                     " is outside the vocabulary [0, %" PRId64 ")",
                     (int)targets[i], i, m->vocab);
            return NULL;
        }
    clg_tensor *logits = char_logits(m, inputs, steps, batch);
    clg_tensor *labels =
        clg_tensor_from_host(m->ctx, CLG_DTYPE_I32, 1, (int64_t[]){steps * batch}, targets);
    return clg_cross_entropy_loss(logits, labels, CLG_REDUCTION_MEAN);
}

/* splitmix64 to a double in [0, 1): the sampler's own stream. */
static double uniform(uint64_t *state)
{
    return (double)(eng_splitmix64(state) >> 11) / 9007199254740992.0;
}

CLG_API clg_status clg_charlstm_sample(clg_charlstm *m, const int32_t *prime, int64_t n_prime,
                                       int64_t length, float temperature, uint64_t seed,
                                       int32_t *out)
{
    clg_context *ctx = m->ctx;
    if (eng_failed(ctx))
        return ctx->rt.error.status;
    if (!(temperature > 0) || !isfinite(temperature))
        return eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                        "clg_charlstm_sample: temperature must be a number > 0, not %g",
                        (double)temperature);
    if (n_prime < 1 || length < 0 || !prime || (length > 0 && !out))
        return eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                        "clg_charlstm_sample: needs at least one priming character (got %" PRId64
                        ") and a length >= 0 (got %" PRId64 ")",
                        n_prime, length);
    bool previous = clg_grad_set_enabled(ctx, false);
    clg_recurrent_layer_reset_state(m->lstm);
    clg_recurrent_layer_set_keep_state(m->lstm, true);
    float *logits = malloc((size_t)m->vocab * sizeof *logits);
    double *p = malloc((size_t)m->vocab * sizeof *p);
    uint64_t rng = seed;
    int32_t current = prime[0];
    clg_status status = logits && p ? CLG_STATUS_OK : CLG_STATUS_OUT_OF_MEMORY;
    /* One character per step: T = 1, N = 1, the state carried between. */
    for (int64_t i = 0; status == CLG_STATUS_OK && i < n_prime - 1 + length; i++) {
        clg_step_begin(ctx);
        clg_tensor *l = char_logits(m, &current, 1, 1);
        status = l ? clg_tensor_download(l, logits, (size_t)m->vocab) : ctx->rt.error.status;
        clg_step_end(ctx);
        if (status != CLG_STATUS_OK)
            break;
        if (i + 1 < n_prime) {
            current = prime[i + 1];
            continue;
        }
        double top = -INFINITY, sum = 0;
        for (int64_t v = 0; v < m->vocab; v++)
            top = fmax(top, (double)logits[v] / temperature);
        for (int64_t v = 0; v < m->vocab; v++)
            sum += p[v] = exp((double)logits[v] / temperature - top);
        double u = uniform(&rng) * sum;
        int64_t pick = m->vocab - 1;
        for (int64_t v = 0; v < m->vocab; v++)
            if ((u -= p[v]) < 0) {
                pick = v;
                break;
            }
        current = (int32_t)pick;
        out[i - (n_prime - 1)] = current;
    }
    if (status == CLG_STATUS_OUT_OF_MEMORY)
        eng_fail(ctx, status, "clg_charlstm_sample: out of host memory");
    free(logits);
    free(p);
    clg_recurrent_layer_set_keep_state(m->lstm, false);
    clg_grad_set_enabled(ctx, previous);
    return status;
}

/* A checkpoint's "model" may say "charlstm", but it is no clg_model: `clgrad
 * train charlstm --load` reads it, and clg_model_from_checkpoint says so. */
extern const zoo_kind zoo_kind_charlstm;
const zoo_kind zoo_kind_charlstm = {.name = "charlstm"};
