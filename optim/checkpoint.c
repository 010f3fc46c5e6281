/* optim/checkpoint.c: training checkpoints, the parameters and the
 * optimizer's state in one safetensors file (the layout is in
 * include/clgrad/optim.h), so that a run can stop and go on bit for bit.
 *
 * The file goes through data/'s safetensors writer and reader by their
 * public API; nothing in data/ knows about optimizers. The state tensors
 * are written as they are on the device and the step counts as decimal
 * text: nothing is recomputed on loading, which is what makes the resumed
 * steps identical to the uninterrupted ones. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgrad/data.h"
#include "engine/engine.h"
#include "optim/optim.h"

#define PREFIX "optim."
#define N_OPTIONS 10 /* optim.kind and the nine options below */

/* "optim.<param>.<what>", malloc'ed; NULL when out of memory. */
static char *state_key(const clg_optim *opt, const optim_slot *slot, const char *what)
{
    const char *param = clg_params_name(opt->params, slot->index);
    size_t size = strlen(PREFIX) + strlen(param) + 1 + strlen(what) + 1;
    char *key = malloc(size);
    if (key)
        snprintf(key, size, PREFIX "%s.%s", param, what);
    return key;
}

/* The metadata the optimizer adds: kind and options into keys/values (text
 * in `numbers`), then one step count per slot (malloc'ed, freed by the
 * caller from index N_OPTIONS on). Returns the count, or 0 when out of
 * memory. */
static size_t optim_metadata(const clg_optim *opt, const char **keys, char **values,
                             char numbers[N_OPTIONS][32])
{
    const clg_optim_options *o = &opt->options;
    static const char *const names[N_OPTIONS] = {
        "optim.kind",  "optim.lr",    "optim.momentum", "optim.dampening", "optim.weight_decay",
        "optim.alpha", "optim.beta1", "optim.beta2",    "optim.eps",       "optim.centered"};
    const float floats[8] = {o->lr,    o->momentum, o->dampening, o->weight_decay,
                             o->alpha, o->beta1,    o->beta2,     o->eps};
    snprintf(numbers[0], 32, "%s", clg_optim_kind_name(o->kind));
    /* %.9g: nine significant digits read back to the same float. */
    for (int i = 0; i < 8; i++)
        snprintf(numbers[1 + i], 32, "%.9g", (double)floats[i]);
    snprintf(numbers[9], 32, "%s", o->centered ? "true" : "false");
    for (int i = 0; i < N_OPTIONS; i++) {
        keys[i] = names[i];
        values[i] = numbers[i];
    }
    size_t n = N_OPTIONS;
    for (size_t i = 0; i < opt->count; i++) {
        char *key = state_key(opt, &opt->slots[i], "step");
        char *value = malloc(24);
        keys[n] = key;
        values[n++] = value;
        if (!key || !value)
            return 0;
        snprintf(value, 24, "%lld", (long long)opt->slots[i].steps);
    }
    return n;
}

CLG_API clg_status clg_optim_checkpoint_save(const clg_optim *opt, const char *path,
                                             const char *const *keys, const char *const *values,
                                             size_t n_meta)
{
    static const char fn[] = "clg_optim_checkpoint_save";
    clg_context *ctx = opt->ctx;
    if (eng_failed(ctx))
        return ctx->rt.error.status;
    if (!path || (n_meta > 0 && (!keys || !values)))
        return eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT, "%s: path%s required", fn,
                        path ? ", keys and values are" : " is");
    for (size_t i = 0; i < n_meta; i++)
        if (!keys[i] || !values[i] || strncmp(keys[i], PREFIX, strlen(PREFIX)) == 0)
            return eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                            "%s: %s: metadata key %zu is %s%s%s (keys starting with \"" PREFIX
                            "\" are the optimizer's)",
                            fn, path, i, keys[i] ? "\"" : "", keys[i] ? keys[i] : "NULL",
                            keys[i] ? "\"" : "");
    /* Every key and value in one list: the caller's, then the optimizer's. */
    size_t capacity = n_meta + N_OPTIONS + opt->count;
    const char **all_keys = calloc(capacity, sizeof *all_keys);
    char **all_values = calloc(capacity, sizeof *all_values);
    char numbers[N_OPTIONS][32];
    size_t n_optim = all_keys && all_values
                         ? optim_metadata(opt, all_keys + n_meta, all_values + n_meta, numbers)
                         : 0;
    /* The parameters under their own names, then the state as buffers, so
     * that the writer neither marks nor trains them. */
    clg_params *tensors = n_optim ? clg_params_create(ctx) : NULL;
    bool ok = tensors && clg_params_extend(tensors, NULL, opt->params) == CLG_STATUS_OK;
    for (size_t i = 0; ok && i < opt->count; i++) {
        const optim_slot *slot = &opt->slots[i];
        for (int s = 0; ok && s < OPTIM_STATES; s++) {
            if (!slot->state[s])
                continue;
            char *name = state_key(opt, slot, optim_state_name(&opt->options, s));
            ok = name && clg_params_add_buffer(tensors, name, slot->state[s]) == CLG_STATUS_OK;
            free(name);
        }
    }
    clg_status status;
    if (ok) {
        for (size_t i = 0; i < n_meta; i++) {
            all_keys[i] = keys[i];
            all_values[i] = (char *)values[i]; /* only read */
        }
        status = clg_checkpoint_save(ctx, tensors, path, all_keys, (const char *const *)all_values,
                                     n_meta + n_optim);
    } else {
        status = eng_failed(ctx) ? ctx->rt.error.status
                                 : eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY,
                                            "%s: %s: out of host memory", fn, path);
    }
    clg_params_destroy(tensors);
    for (size_t i = n_meta + N_OPTIONS; all_keys && all_values && i < capacity; i++) {
        free((char *)all_keys[i]);
        free(all_values[i]);
    }
    free(all_keys);
    free(all_values);
    return status;
}

/* Whether the file has `name` as an F32 tensor of t's shape; else records
 * CLG_STATUS_MISMATCH naming both. */
static bool check_entry(clg_context *ctx, const clg_safetensors *st, const char *path,
                        const char *name, const clg_tensor *t)
{
    clg_dtype dtype;
    int rank;
    const int64_t *shape;
    char want[64];
    eng_shape_str(t, want, sizeof want);
    if (!clg_safetensors_get(st, name, &dtype, &rank, &shape, NULL)) {
        eng_fail(ctx, CLG_STATUS_MISMATCH,
                 "%s: training checkpoint has no tensor \"%s\" (shape %s expected)", path, name,
                 want);
        return false;
    }
    bool same = dtype == t->dtype && rank == t->rank;
    for (int d = 0; same && d < rank; d++)
        same = shape[d] == t->shape[d];
    if (!same) {
        clg_tensor fake = {.rank = rank};
        memcpy(fake.shape, shape, (size_t)rank * sizeof *shape);
        char got[64];
        eng_fail(ctx, CLG_STATUS_MISMATCH,
                 "%s: tensor \"%s\" has shape %s %s in the checkpoint but %s %s here", path, name,
                 eng_shape_str(&fake, got, sizeof got), dtype == CLG_DTYPE_F32 ? "F32" : "I32",
                 want, t->dtype == CLG_DTYPE_F32 ? "F32" : "I32");
    }
    return same;
}

/* A step count: decimal digits only, within int64. */
static bool parse_steps(const char *text, int64_t *steps)
{
    if (!text || *text < '0' || *text > '9')
        return false;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || *end != '\0')
        return false;
    *steps = v;
    return true;
}

/* Whether `name` (an "optim." tensor of the file) is state that opt has. */
static bool state_expected(const clg_optim *opt, const char *name)
{
    size_t prefix = strlen(PREFIX);
    for (size_t i = 0; i < opt->count; i++) {
        const char *param = clg_params_name(opt->params, opt->slots[i].index);
        size_t len = strlen(param);
        if (strncmp(name + prefix, param, len) != 0 || name[prefix + len] != '.')
            continue;
        for (int s = 0; s < OPTIM_STATES; s++) {
            const char *state = optim_state_name(&opt->options, s);
            if (state && strcmp(name + prefix + len + 1, state) == 0)
                return true;
        }
    }
    return false;
}

/* Every check of clg_optim_checkpoint_load, before anything changes; the
 * step counts into steps (opt->count). */
static bool check_file(clg_optim *opt, const clg_safetensors *st, const char *path, int64_t *steps)
{
    clg_context *ctx = opt->ctx;
    const char *kind = clg_safetensors_metadata(st, "optim.kind");
    const char *want = clg_optim_kind_name(opt->options.kind);
    if (!kind) {
        eng_fail(ctx, CLG_STATUS_FORMAT,
                 "%s: no optimizer state (no \"optim.kind\" in the metadata): not a training "
                 "checkpoint written by clg_optim_checkpoint_save",
                 path);
        return false;
    }
    if (strcmp(kind, want) != 0) {
        eng_fail(ctx, CLG_STATUS_MISMATCH,
                 "%s: the optimizer state is %s's (\"optim.kind\"), not %s's", path, kind, want);
        return false;
    }
    for (size_t i = 0; i < clg_params_count(opt->params); i++)
        if (!check_entry(ctx, st, path, clg_params_name(opt->params, i),
                         clg_params_tensor(opt->params, i)))
            return false;
    for (size_t i = 0; i < opt->count; i++) {
        const optim_slot *slot = &opt->slots[i];
        bool ok = true;
        for (int s = 0; ok && s < OPTIM_STATES; s++) {
            if (!slot->state[s])
                continue;
            char *name = state_key(opt, slot, optim_state_name(&opt->options, s));
            ok = name && check_entry(ctx, st, path, name, slot->state[s]);
            free(name);
        }
        char *key = ok ? state_key(opt, slot, "step") : NULL;
        const char *text = key ? clg_safetensors_metadata(st, key) : NULL;
        if (ok && key && !parse_steps(text, &steps[i]))
            eng_fail(ctx, CLG_STATUS_FORMAT,
                     "%s: metadata \"%s\" is %s%s%s; expected the parameter's step count "
                     "(decimal digits)",
                     path, key, text ? "\"" : "", text ? text : "missing", text ? "\"" : "");
        else if (ok && !key)
            eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "%s: out of host memory", path);
        free(key);
        if (eng_failed(ctx))
            return false;
    }
    /* State this optimizer has no slot for would be dropped without a word:
     * a run resumed under other options is not the run that was saved. */
    for (size_t i = 0; i < clg_safetensors_count(st); i++) {
        const char *name = clg_safetensors_name(st, i);
        if (strncmp(name, PREFIX, strlen(PREFIX)) == 0 && !state_expected(opt, name)) {
            eng_fail(ctx, CLG_STATUS_MISMATCH,
                     "%s: tensor \"%s\" is optimizer state that this %s optimizer does not have "
                     "(made with other options, or for other parameters)",
                     path, name, want);
            return false;
        }
    }
    return true;
}

static void upload_entry(const clg_safetensors *st, const char *name, clg_tensor *t)
{
    const void *data = NULL;
    clg_safetensors_get(st, name, NULL, NULL, NULL, &data);
    clg_tensor_upload(t, data, (size_t)clg_tensor_numel(t));
}

CLG_API clg_status clg_optim_checkpoint_load(clg_optim *opt, const char *path)
{
    clg_context *ctx = opt->ctx;
    if (eng_failed(ctx))
        return ctx->rt.error.status;
    if (!path)
        return eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                        "clg_optim_checkpoint_load: path is required");
    clg_safetensors *st = clg_safetensors_read(ctx, path);
    int64_t *steps = malloc((opt->count ? opt->count : 1) * sizeof *steps);
    if (!steps && st)
        eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "%s: out of host memory", path);
    if (st && steps && check_file(opt, st, path, steps)) {
        for (size_t i = 0; !eng_failed(ctx) && i < clg_params_count(opt->params); i++)
            upload_entry(st, clg_params_name(opt->params, i), clg_params_tensor(opt->params, i));
        for (size_t i = 0; !eng_failed(ctx) && i < opt->count; i++) {
            optim_slot *slot = &opt->slots[i];
            for (int s = 0; s < OPTIM_STATES; s++) {
                if (!slot->state[s])
                    continue;
                char *name = state_key(opt, slot, optim_state_name(&opt->options, s));
                if (!name) {
                    eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "%s: out of host memory", path);
                    break;
                }
                upload_entry(st, name, slot->state[s]);
                free(name);
            }
            slot->steps = steps[i];
        }
    }
    free(steps);
    clg_safetensors_destroy(st);
    return ctx->rt.error.status;
}
