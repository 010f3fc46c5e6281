/* tools/clgrad/summary.c: `clgrad summary`, a model's layers, output shapes
 * and parameter counts in elements, as print(model) and
 * sum(p.numel() for p in model.parameters()) show them in PyTorch. The
 * layers are the parameter groups of the model ("fc1" for fc1.weight and
 * fc1.bias), in the order data flows through them, described from their
 * weights' shapes; the rows without parameters (activations, pooling,
 * flatten) come from the model's kind, as each zoo file composes it. The
 * shapes are worked out from the input's, and the last one is checked
 * against a real forward pass. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_HIDDEN 8
#define MAX_GROUPS 32

static const char summary_usage[] =
    "usage: clgrad summary --load FILE | --model NAME [options]\n"
    "\n"
    "Prints a model's layers, the shape each one outputs and its parameters in\n"
    "elements, as print(model) and sum(p.numel() for p in model.parameters()) do\n"
    "in PyTorch.\n"
    "\n"
    "options:\n"
    "  --load FILE       a checkpoint written by clgrad train (or any file\n"
    "                    clgrad eval loads)\n"
    "  --model NAME      lenet5, mlp, logreg, rnn or lstm as clgrad train builds it\n"
    "                    for Fashion-MNIST (784 inputs, 10 classes)\n"
    "  --hidden N,N,...  with --model: the hidden sizes, as for clgrad train\n"
    "  --activation NAME with --model lenet5: relu (default), tanh or sigmoid\n"
    "  -h, --help        this help\n";

/* 235146 -> "235,146" */
static const char *thousands(int64_t value, char *buf, size_t capacity)
{
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%lld", (long long)value);
    size_t used = 0;
    for (int i = 0; i < n && used + 2 < capacity; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[used++] = ',';
        buf[used++] = digits[i];
    }
    buf[used] = '\0';
    return buf;
}

/* One row of the table; shape has `rank` dims after the batch axis N. */
static void row(const char *name, const char *type, int rank, const int64_t *shape,
                int64_t parameters)
{
    char shape_text[96] = "(N", count[32];
    for (int d = 0; d < rank; d++) {
        size_t used = strlen(shape_text);
        snprintf(shape_text + used, sizeof shape_text - used, ", %lld", (long long)shape[d]);
    }
    strcat(shape_text, ")");
    printf("  %-8s %-34s %-18s %12s\n", name, type, shape_text,
           parameters < 0 ? "-" : thousands(parameters, count, sizeof count));
}

/* The model's parameter groups: names before the last '.', in order. */
typedef struct group {
    char name[64];
    int64_t numel;
    const clg_tensor *weight; /* "weight", or the recurrent "weight_ih_l0" */
    const clg_tensor *hidden; /* the recurrent "weight_hh_l0" */
} group;

static int collect_groups(const clg_params *params, group *groups)
{
    int n = 0;
    for (size_t i = 0; i < clg_params_count(params); i++) {
        if (clg_params_is_buffer(params, i))
            continue;
        const char *name = clg_params_name(params, i);
        const char *dot = strrchr(name, '.');
        int length = dot ? (int)(dot - name) : (int)strlen(name);
        int g = 0;
        while (g < n && !(strncmp(groups[g].name, name, (size_t)length) == 0 &&
                          groups[g].name[length] == '\0'))
            g++;
        if (g == n) {
            if (n == MAX_GROUPS)
                continue;
            groups[n] = (group){0};
            snprintf(groups[n].name, sizeof groups[n].name, "%.*s", length, name);
            n++;
        }
        const clg_tensor *t = clg_params_tensor(params, i);
        groups[g].numel += clg_tensor_numel(t);
        const char *leaf = dot ? dot + 1 : name;
        if (strcmp(leaf, "weight") == 0 || strcmp(leaf, "weight_ih_l0") == 0)
            groups[g].weight = t;
        else if (strcmp(leaf, "weight_hh_l0") == 0)
            groups[g].hidden = t;
    }
    return n;
}

/* The activation's module name, as print(model) shows it. */
static const char *activation_type(const char *activation)
{
    return strcmp(activation, "tanh") == 0      ? "Tanh"
           : strcmp(activation, "sigmoid") == 0 ? "Sigmoid"
                                                : "ReLU";
}

/* Prints the table; false (after printing why) when the model's last shape
 * differs from what its forward pass gives. */
static bool print_summary(clg_context *ctx, clg_model *model, const char *source)
{
    const char *kind = clg_model_kind(model);
    const clg_params *params = clg_model_params(model);
    const char *keys[CLG_MODEL_METADATA_MAX], *values[CLG_MODEL_METADATA_MAX];
    size_t n_meta = clg_model_metadata(model, keys, values);
    const char *activation = "relu", *pool = "max";
    for (size_t i = 0; i < n_meta; i++) {
        if (strcmp(keys[i], "activation") == 0)
            activation = values[i];
        if (strcmp(keys[i], "pool") == 0)
            pool = values[i];
    }
    group found[MAX_GROUPS], groups[MAX_GROUPS];
    int n = collect_groups(params, found);
    /* The order data flows in, which is not the parameters' (the zoo adds
     * the linear stack first): convolutions, the recurrent layer, then the
     * linear layers, each kind in its own order. */
    int placed = 0;
    for (int stage = 0; stage < 3; stage++)
        for (int g = 0; g < n; g++) {
            const group *G = &found[g];
            int at = G->weight && clg_tensor_rank(G->weight) == 4 ? 0 : G->hidden ? 1 : 2;
            if (at == stage)
                groups[placed++] = *G;
        }
    bool lenet = strcmp(kind, "lenet5") == 0;
    bool recurrent =
        strcmp(kind, "rnn") == 0 || strcmp(kind, "lstm") == 0 || strcmp(kind, "gru") == 0;
    /* between linear layers: ReLU (mlp), tanh (autoencoder), LeNet's own */
    const char *between = lenet ? activation : strcmp(kind, "autoencoder") == 0 ? "tanh" : "relu";

    printf("%s %s (%s)\n\n", kind, clg_model_arch(model), source);
    printf("  %-8s %-34s %-18s %12s\n", "layer", "type", "output shape", "parameters");
    int64_t shape[4] = {clg_model_in_features(model)};
    int rank = 1;
    if (lenet) {
        shape[0] = 1, shape[1] = 28, shape[2] = 28;
        rank = 3;
    }
    row("input", "", rank, shape, -1);
    int linears = 0;
    for (int g = 0; g < n; g++)
        linears += groups[g].weight && clg_tensor_rank(groups[g].weight) == 2 && !groups[g].hidden;
    int64_t total = 0;
    for (int g = 0, linear = 0; g < n; g++) {
        const group *G = &groups[g];
        char type[96];
        total += G->numel;
        if (!G->weight) {
            row(G->name, "(no weight)", rank, shape, G->numel);
            continue;
        }
        int64_t out = clg_tensor_dim(G->weight, 0), in = clg_tensor_dim(G->weight, 1);
        if (G->hidden) {
            /* (N, T * I) read as T steps of I; the last hidden state goes on */
            int64_t hidden = clg_tensor_dim(G->hidden, 1);
            int64_t steps = in > 0 ? shape[0] / in : 0;
            snprintf(type, sizeof type, "%s(%lld, %lld), %lld steps",
                     strcmp(kind, "lstm") == 0  ? "LSTM"
                     : strcmp(kind, "gru") == 0 ? "GRU"
                                                : "RNN",
                     (long long)in, (long long)hidden,
                     (long long)steps);
            shape[0] = hidden;
            rank = 1;
            row(G->name, type, rank, shape, G->numel);
        } else if (clg_tensor_rank(G->weight) == 4) {
            /* LeNet-5's convolutions: stride 1, conv1 padded by 2 */
            int64_t kh = clg_tensor_dim(G->weight, 2), kw = clg_tensor_dim(G->weight, 3);
            int64_t padding = strcmp(G->name, "conv1") == 0 ? 2 : 0;
            snprintf(type, sizeof type, "Conv2d(%lld, %lld, %lldx%lld%s)", (long long)in,
                     (long long)out, (long long)kh, (long long)kw, padding ? ", padding 2" : "");
            shape[0] = out;
            shape[1] = shape[1] + 2 * padding - kh + 1;
            shape[2] = shape[2] + 2 * padding - kw + 1;
            row(G->name, type, rank, shape, G->numel);
            row("", activation_type(activation), rank, shape, 0);
            shape[1] /= 2;
            shape[2] /= 2;
            row("", pool[0] == 'a' ? "AvgPool2d(2)" : "MaxPool2d(2)", rank, shape, 0);
        } else {
            if (rank > 1) {
                shape[0] *= shape[1] * (rank > 2 ? shape[2] : 1);
                rank = 1;
                row("", "Flatten", rank, shape, 0);
            }
            snprintf(type, sizeof type, "Linear(%lld, %lld)", (long long)in, (long long)out);
            shape[0] = out;
            row(G->name, type, rank, shape, G->numel);
            if (++linear < linears && !recurrent)
                row("", activation_type(between), rank, shape, 0);
        }
    }
    char count[32];
    int64_t numel = clg_params_numel(params);
    printf("\ntotal parameters: %s (%zu tensors, %.2f MiB as float32)\n",
           thousands(numel, count, sizeof count), clg_params_count(params),
           (double)numel * 4.0 / (1 << 20));
    if (total != numel) {
        cli_error("summary: the layers hold %lld parameters but the model %lld", (long long)total,
                  (long long)numel);
        return false;
    }
    /* The worked-out shape against the model's own forward pass. */
    clg_step_begin(ctx);
    bool grad_was = clg_grad_set_enabled(ctx, false);
    clg_tensor *x = clg_tensor_full(ctx, 2, (int64_t[]){2, clg_model_in_features(model)}, 0.0f);
    clg_tensor *y = clg_model_forward(model, x);
    bool ok = y && clg_tensor_rank(y) == 2 && clg_tensor_dim(y, 1) == shape[0] && rank == 1;
    if (!y)
        cli_context_error(ctx);
    else if (!ok)
        cli_error("summary: the table ends in (N, %lld) but the model outputs (N, %lld)",
                  (long long)shape[0], (long long)clg_tensor_dim(y, 1));
    clg_grad_set_enabled(ctx, grad_was);
    clg_step_end(ctx);
    return ok;
}

int cli_summary(int argc, char **argv)
{
    static const char *const valued[] = {"--load", "--model", "--hidden", "--activation", NULL};
    const char *load = NULL, *model_name = NULL, *activation = NULL;
    int64_t hidden[MAX_HIDDEN];
    int n_hidden = 0;
    cli_args args;
    cli_args_init(&args, "summary", argc, argv, valued, NULL);
    int exit_code;
    while (cli_args_option(&args, summary_usage, NULL, &exit_code)) {
        if (strcmp(args.name, "--load") == 0) {
            load = args.value;
        } else if (strcmp(args.name, "--model") == 0) {
            model_name = args.value;
        } else if (strcmp(args.name, "--activation") == 0) {
            activation = args.value;
            if (strcmp(activation, "relu") != 0 && strcmp(activation, "tanh") != 0 &&
                strcmp(activation, "sigmoid") != 0) {
                cli_error("--activation: unknown activation \"%s\" (relu, tanh, sigmoid)",
                          activation);
                return CLI_EXIT_USAGE;
            }
        } else if (!cli_parse_sizes(args.name, args.value, hidden, MAX_HIDDEN, &n_hidden)) {
            return CLI_EXIT_USAGE;
        }
    }
    if (exit_code >= 0)
        return exit_code;
    if (!load == !model_name) {
        cli_error("summary: give --load FILE or --model NAME (see clgrad summary --help)");
        return CLI_EXIT_USAGE;
    }
    if (load && (n_hidden > 0 || activation)) {
        cli_error("summary: --hidden and --activation go with --model; a checkpoint records "
                  "its own");
        return CLI_EXIT_USAGE;
    }
    if (model_name && !cli_classifier_check("summary", model_name, n_hidden))
        return CLI_EXIT_USAGE;
    if (activation && strcmp(model_name, "lenet5") != 0) {
        cli_error("summary: --activation applies to lenet5 only");
        return CLI_EXIT_USAGE;
    }
    clg_context *ctx = NULL;
    if (clg_context_create(NULL, &ctx) != CLG_STATUS_OK)
        return cli_context_error(ctx);
    clg_model *model =
        load ? clg_model_from_checkpoint(ctx, load)
             : cli_classifier_create(ctx, model_name, activation, hidden, n_hidden, 784, 10, 42);
    int code = CLI_EXIT_FAILURE;
    if (!model)
        cli_context_error(ctx);
    else if (print_summary(ctx, model, load ? load : "clgrad train's defaults"))
        code = 0;
    clg_model_destroy(model);
    clg_context_destroy(ctx);
    return code;
}
