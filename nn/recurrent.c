/* nn/recurrent.c: the recurrent layers, torch.nn.LSTM, torch.nn.GRU and
 * torch.nn.RNN (tanh), one layer, one direction, over clg_lstm / clg_gru /
 * clg_rnn (ops/recurrent.c).
 *
 * Parameters as PyTorch names them: weight_ih_l0 (G H, I), weight_hh_l0
 * (G H, H), bias_ih_l0, bias_hh_l0 (G H), each U(-1/sqrt(H), 1/sqrt(H)) as
 * torch.nn.RNNBase.reset_parameters draws them (each from its own seed
 * stream here). With keep_state (truncated BPTT), the last h_n / c_n are
 * copied into persistent tensors and seed the next forward: values carry
 * over, gradients do not (PyTorch's h.detach()). */
#include <math.h>
#include <stdlib.h>

#include "clgrad/nn.h"
#include "engine/engine.h"

struct clg_recurrent_layer {
    clg_context *ctx;
    clg_cell cell;
    int64_t input_size, hidden_size;
    bool batch_first, keep_state;
    clg_tensor *weights[4]; /* weight_ih, weight_hh, bias_ih, bias_hh */
    clg_tensor *state[2];   /* h, c (N, H) carried across batches, or NULL */
    clg_params *params;
};

static const char *const names[4] = {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"};

CLG_API clg_recurrent_layer *clg_recurrent_layer_create(clg_context *ctx, clg_cell cell,
                                                        int64_t input_size, int64_t hidden_size,
                                                        bool batch_first, uint64_t seed)
{
    if (eng_failed(ctx))
        return NULL;
    if (input_size <= 0 || hidden_size <= 0 ||
        (cell != CLG_CELL_LSTM && cell != CLG_CELL_GRU && cell != CLG_CELL_RNN)) {
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                 "clg_recurrent_layer_create: input_size %lld and hidden_size %lld must be "
                 "positive and the cell CLG_CELL_LSTM, CLG_CELL_GRU or CLG_CELL_RNN",
                 (long long)input_size, (long long)hidden_size);
        return NULL;
    }
    clg_recurrent_layer *layer = calloc(1, sizeof *layer);
    if (!layer) {
        eng_fail(ctx, CLG_STATUS_OUT_OF_MEMORY, "clg_recurrent_layer_create: out of host memory");
        return NULL;
    }
    layer->ctx = ctx;
    layer->cell = cell;
    layer->input_size = input_size;
    layer->hidden_size = hidden_size;
    layer->batch_first = batch_first;
    layer->params = clg_params_create(ctx);
    int64_t gh = (cell == CLG_CELL_LSTM ? 4 : cell == CLG_CELL_GRU ? 3 : 1) * hidden_size;
    int64_t shapes[4][2] = {{gh, input_size}, {gh, hidden_size}, {gh, 0}, {gh, 0}};
    float bound = (float)(1.0 / sqrt((double)hidden_size));
    for (int k = 0; k < 4 && layer->params; k++) {
        layer->weights[k] = clg_tensor_create(ctx, CLG_DTYPE_F32, k < 2 ? 2 : 1, shapes[k]);
        if (!layer->weights[k] ||
            clg_init_uniform(layer->weights[k], -bound, bound,
                             seed + (uint64_t)k * 0x9e3779b97f4a7c15ULL) != CLG_STATUS_OK ||
            clg_params_add(layer->params, names[k], layer->weights[k]) != CLG_STATUS_OK) {
            clg_recurrent_layer_destroy(layer);
            return NULL;
        }
    }
    if (!layer->params) {
        clg_recurrent_layer_destroy(layer);
        return NULL;
    }
    return layer;
}

CLG_API void clg_recurrent_layer_destroy(clg_recurrent_layer *layer)
{
    if (!layer)
        return;
    clg_params_destroy(layer->params);
    for (int k = 0; k < 4; k++)
        clg_tensor_destroy(layer->weights[k]);
    for (int k = 0; k < 2; k++)
        clg_tensor_destroy(layer->state[k]);
    free(layer);
}

CLG_API void clg_recurrent_layer_set_keep_state(clg_recurrent_layer *layer, bool keep)
{
    layer->keep_state = keep;
    if (!keep)
        clg_recurrent_layer_reset_state(layer);
}

CLG_API void clg_recurrent_layer_reset_state(clg_recurrent_layer *layer)
{
    for (int k = 0; k < 2; k++) {
        clg_tensor_destroy(layer->state[k]);
        layer->state[k] = NULL;
    }
}

/* A step copy of a carried state, so that overwriting the carried tensor at
 * the end of this forward cannot change what this step's backward reads. */
static clg_tensor *snapshot(clg_context *ctx, clg_tensor *carried)
{
    if (!carried)
        return NULL;
    clg_tensor *t = eng_new(ctx, CLG_DTYPE_F32, carried->rank, carried->shape);
    return t && clg_tensor_copy(t, carried) == CLG_STATUS_OK ? t : NULL;
}

CLG_API clg_tensor *clg_recurrent_layer_forward(clg_recurrent_layer *layer, clg_tensor *x,
                                                clg_tensor **h_n)
{
    return clg_recurrent_layer_forward_state(layer, x, h_n, NULL);
}

CLG_API clg_tensor *clg_recurrent_layer_forward_state(clg_recurrent_layer *layer, clg_tensor *x,
                                                      clg_tensor **h_n, clg_tensor **c_n)
{
    if (h_n)
        *h_n = NULL;
    if (c_n)
        *c_n = NULL;
    clg_context *ctx = layer->ctx;
    if (!x || eng_failed(ctx))
        return NULL;
    bool lstm = layer->cell == CLG_CELL_LSTM;
    int64_t N = x->rank == 3 ? x->shape[layer->batch_first ? 0 : 1] : -1;
    /* A batch of another size (the last, short one) starts from zeros. */
    if (layer->state[0] && layer->state[0]->shape[1] != N)
        clg_recurrent_layer_reset_state(layer);
    clg_tensor *h0 = NULL, *c0 = NULL;
    if (layer->keep_state && layer->state[0]) {
        h0 = snapshot(ctx, layer->state[0]);
        c0 = lstm ? snapshot(ctx, layer->state[1]) : NULL;
        if (!h0 || (lstm && !c0))
            return NULL;
    }
    clg_tensor **w = layer->weights, *last_h = NULL, *last_c = NULL;
    bool bf = layer->batch_first;
    clg_tensor *y = lstm ? clg_lstm(x, h0, c0, w[0], w[1], w[2], w[3], bf, &last_h, &last_c)
                    : layer->cell == CLG_CELL_GRU
                        ? clg_gru(x, h0, w[0], w[1], w[2], w[3], bf, &last_h)
                        : clg_rnn(x, h0, w[0], w[1], w[2], w[3], bf, &last_h);
    if (!y)
        return NULL;
    if (layer->keep_state) {
        clg_tensor *last[2] = {last_h, last_c};
        for (int k = 0; k < (lstm ? 2 : 1); k++) {
            if (!layer->state[k] &&
                !(layer->state[k] = clg_tensor_create(ctx, CLG_DTYPE_F32, 3, last[k]->shape)))
                return NULL;
            if (clg_tensor_copy(layer->state[k], last[k]) != CLG_STATUS_OK)
                return NULL;
        }
    }
    if (h_n)
        *h_n = last_h;
    if (c_n)
        *c_n = last_c;
    return y;
}

CLG_API const clg_params *clg_recurrent_layer_params(const clg_recurrent_layer *layer)
{
    return layer->params;
}

CLG_API int64_t clg_recurrent_layer_hidden_size(const clg_recurrent_layer *layer)
{
    return layer->hidden_size;
}
