/* tools/clgrad/saved.c: the checkpoints of the models with training loops of
 * their own (clgrad train vae, gan, charlstm). --save writes the weights with
 * clg_checkpoint_save (a temporary file renamed into place, as every clgrad
 * checkpoint) and the metadata "model" (the kind) and "arch" (the sizes that
 * rebuild it); --load reads them back, refusing another kind's file. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cli_saved_check_options(const char *save, const char *load, int64_t epochs,
                            const char *with_load)
{
    if (epochs == 0 && !load) {
        cli_error("--epochs: 0 trains nothing; it is for --load, to %s from saved weights",
                  with_load);
        return CLI_EXIT_USAGE;
    }
    if ((save && save[0] == '\0') || (load && load[0] == '\0')) {
        cli_error("--%s: empty file name", save && save[0] == '\0' ? "save" : "load");
        return CLI_EXIT_USAGE;
    }
    /* Before training, so a destination that cannot be written costs no run. */
    if (save && !cli_check_output("--save", save))
        return CLI_EXIT_FAILURE;
    return -1;
}

bool cli_saved_write(clg_context *ctx, const clg_params *params, const char *path, const char *kind,
                     const char *arch, const char *const *keys, const char *const *values, size_t n)
{
    enum { MAX_KEYS = 8 };
    const char *all_keys[MAX_KEYS] = {"model", "arch"}, *all_values[MAX_KEYS] = {kind, arch};
    for (size_t i = 0; i < n && i + 2 < MAX_KEYS; i++) {
        all_keys[i + 2] = keys[i];
        all_values[i + 2] = values[i];
    }
    size_t count = n + 2 < MAX_KEYS ? n + 2 : MAX_KEYS;
    if (clg_checkpoint_save(ctx, params, path, all_keys, all_values, count) != CLG_STATUS_OK) {
        cli_context_error(ctx);
        return false;
    }
    printf("checkpoint written to %s (clgrad train %s --load %s)\n", path, kind, path);
    return true;
}

clg_safetensors *cli_saved_open(clg_context *ctx, const char *path, const char *kind)
{
    clg_safetensors *st = clg_safetensors_read(ctx, path);
    if (!st) {
        cli_context_error(ctx);
        return NULL;
    }
    const char *model = clg_safetensors_metadata(st, "model");
    if (!model || strcmp(model, kind) != 0) {
        if (model)
            cli_error("--load: %s holds a \"%s\", not a %s (metadata \"model\")", path, model,
                      kind);
        else
            cli_error("--load: %s has no metadata \"model\"; clgrad train %s --save writes the "
                      "files this reads",
                      path, kind);
        clg_safetensors_destroy(st);
        return NULL;
    }
    return st;
}

bool cli_saved_arch(const clg_safetensors *st, const char *path, char *word, size_t capacity,
                    int64_t *sizes, int count)
{
    const char *arch = clg_safetensors_metadata(st, "arch");
    const char *c = arch ? arch : "";
    bool ok = arch != NULL;
    if (ok && word) { /* "dcgan-": the word up to the first dash */
        const char *dash = strchr(c, '-');
        ok = dash && dash > c && (size_t)(dash - c) < capacity;
        if (ok) {
            snprintf(word, capacity, "%.*s", (int)(dash - c), c);
            c = dash + 1;
        }
    }
    for (int i = 0; ok && i < count; i++) {
        int64_t v = 0;
        ok = *c >= '0' && *c <= '9';
        for (; ok && *c >= '0' && *c <= '9'; c++) {
            v = 10 * v + (*c - '0');
            ok = v <= INT32_MAX;
        }
        ok = ok && v > 0 && *c == (i + 1 < count ? '-' : '\0');
        if (ok && i + 1 < count)
            c++;
        sizes[i] = v;
    }
    if (!ok)
        cli_error("--load: %s: metadata \"arch\" is %s%s%s, not the %d sizes clgrad train %s "
                  "--save writes",
                  path, arch ? "\"" : "", arch ? arch : "missing", arch ? "\"" : "", count,
                  clg_safetensors_metadata(st, "model"));
    return ok;
}

bool cli_saved_load(clg_context *ctx, const clg_params *params, const char *path)
{
    if (clg_checkpoint_load(ctx, params, path) != CLG_STATUS_OK) {
        cli_context_error(ctx);
        return false;
    }
    return true;
}
