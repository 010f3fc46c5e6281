/* ops/recurrent.c: the LSTM (torch.nn.LSTM), the GRU (torch.nn.GRU) and the
 * tanh RNN (torch.nn.RNN), one layer, one direction, over a whole sequence,
 * with back-propagation through time. Kernels: ops/recurrent.cl.
 *
 *   LSTM, gates in PyTorch's order i, f, g, o:
 *     [i f g o] = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh
 *     i, f, o = sigmoid(.), g = tanh(.)
 *     c_t = f c_{t-1} + i g          h_t = o tanh(c_t)
 *   GRU, gates in PyTorch's order r, z, n (torch.nn.GRU's documentation):
 *     a = x_t W_ih^T + b_ih          b = h_{t-1} W_hh^T + b_hh   (r, z, n thirds)
 *     r = sigmoid(a_r + b_r)   z = sigmoid(a_z + b_z)   n = tanh(a_n + r b_n)
 *     h_t = (1 - z) n + z h_{t-1}
 *   RNN:  h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)
 *
 * Forward: the input projection of every step is one big GEMM up front (a
 * clg_matmul_nt x W_ih^T with W_ih as stored, recorded as an ordinary op, so
 * that dW_ih comes out of one GEMM in W_ih's layout; through clg_transpose
 * it was computed transposed, from a packed copy of dgates, and added back
 * through a strided copy: 0.69 ms a step at T = 28 against 0.32), then per
 * step one GEMM h_{t-1} W_hh^T (N, G H) (against a transposed copy of W_hh
 * made once, so the GEMM transposes nothing per step) and one fused kernel
 * for the bias, the gate nonlinearities and the cell update; the LSTM on
 * the cpu plan runs both as one kernel (lstm_step_fused). The core op
 * saves what BPTT needs and nothing more: the activated gates (T, N, 4H)
 * and the state sequence (2, T, N, H) = (h_t, c_t), which is also the op's
 * output.
 * Backward, from t = T-1 down to 0: one fused kernel for the gate
 * derivatives, then one GEMM dh_{t-1} = dgates_t W_hh; the LSTM on the cpu
 * plan runs both as one kernel (lstm_step_backward_fused, the product
 * dgates_{t+1} W_hh first). After the loop, dW_hh
 * is one GEMM over all steps (dgates^T [h0; h_1..h_{T-1}]), the bias
 * gradient dgates' column sums (op_bias_grad: clg_bias_activation's blocked
 * kernels, 2.3x as fast as the GEMM ones^T dgates it replaced), and dgates
 * is the gradient of the input projection, from which clg_matmul_nt's
 * backward gives dx and dW_ih. So a step costs two launches each way (one
 * where the step is fused) and time grows linearly with T.
 *
 * The outputs (the hidden sequence, h_n, c_n) are views of the state,
 * recorded as small view nodes whose backward scatters into the state's
 * gradient. The tape holds at most three inputs per node, so the core node
 * keeps h0 and c0 among its saved tensors and routes their gradients itself;
 * b_ih + b_hh reach it as one (recorded) sum.
 *
 * The GRU runs the same loop; what differs is that b_hn sits inside the
 * reset product, so b_ih and b_hh stay apart (the node takes b_ih as an
 * input and keeps b_hh among its saved tensors), its saved gates are r, z, n
 * and b_n = W_hn h_{t-1} + b_hn (T, N, 4H), and its backward keeps two gate
 * gradients: dgates for the input side (the input projection and b_ih) and
 * dgates_h for the hidden side (W_hh, b_hh and dh_{t-1}), which differ in
 * the n third by the factor r. The direct path h_t = ... + z h_{t-1} is
 * carried from step to step in the buffer the dh_{t-1} GEMM accumulates
 * into, so a step still costs one kernel and one GEMM each way. */

#include <stdio.h>

#include "ops/internal.h"

#define SOURCE "ops/recurrent.cl"
/* Batch rows per work-item of lstm_step_fused: ops/recurrent.cl's FUSED_ROWS,
 * which keeps them in registers. */
#define FUSED_ROWS 6

/* What a view node of the state keeps (its input is the state). */
typedef struct state_view_saved {
    int which;        /* 0: the hidden states h, 1: the cell states c */
    int t0;           /* the first step it covers */
    int steps;        /* how many steps */
    bool batch_first; /* (N, steps, H) rather than (steps, N, H) */
} state_view_saved;

static void view_backward(clg_context *ctx, const eng_node *node)
{
    const state_view_saved *saved = node->state;
    clg_tensor *state = node->inputs[0], *g = node->output->grad;
    bool accumulate = false;
    clg_tensor *dst = eng_grad_dest(ctx, state, &accumulate);
    if (!dst || (!accumulate && clg_tensor_fill(dst, 0.0f) != CLG_STATUS_OK))
        return;
    /* a work-item per row of H values: steps N of them */
    char s[64];
    if (!op_loops_fit(ctx, saved->steps * state->shape[2] > 0 ? (size_t)state->shape[3] : 0,
                      "%s backward of state %s", node->name, eng_shape_str(state, s, sizeof s)))
        return;
    OP_LAUNCH_ROWS(ctx, SOURCE, "state_view_backward", (size_t)(saved->steps * state->shape[2]),
                 ENG_ARG_TENSOR(g), ENG_ARG_TENSOR(dst), CLRT_ARG_INT(saved->which),
                 CLRT_ARG_INT(saved->t0), CLRT_ARG_INT(saved->steps),
                 CLRT_ARG_INT(saved->batch_first),
                 CLRT_ARG_INT(state->shape[1]), CLRT_ARG_INT(state->shape[2]),
                 CLRT_ARG_INT(state->shape[3]));
}

/* state[which][t0 .. t0 + steps) as (steps, N, H), or (N, steps, H) when
 * batch_first (h_n and c_n are always taken as (1, N, H), as torch's). */
static clg_tensor *state_view(clg_context *ctx, const char *op, clg_tensor *state, int which,
                              int t0, int steps, bool batch_first)
{
    int64_t T = state->shape[1], N = state->shape[2], H = state->shape[3];
    size_t offset = state->offset + (size_t)((which * T + t0) * N * H);
    int64_t shape[3] = {steps, N, H}, strides[3] = {N * H, H, 1};
    if (batch_first) {
        shape[0] = N;
        shape[1] = steps;
        strides[0] = H;
        strides[1] = N * H;
    }
    clg_tensor *v = eng_view(ctx, state, 3, shape, strides, offset);
    if (!v)
        return NULL;
    if (state->requires_grad && ctx->grad_enabled) {
        eng_node *node = eng_record(ctx, op, view_backward, v, 1, &state,
                                    sizeof(state_view_saved));
        if (!node)
            return NULL;
        state_view_saved *saved = node->state;
        saved->which = which;
        saved->t0 = t0;
        saved->steps = steps;
        saved->batch_first = batch_first;
    }
    return v;
}

/* Hidden units per work-item of the step kernels (see ops/recurrent.cl):
 * the plan's vector width (cpu: the device's, 4 at least) when it divides H,
 * else 4 when that does, else 1 (gpu: a work-item per unit; a vector each
 * would divide the work-items of a step that has only N H of them). */
static int step_units(const clg_context *ctx, int64_t H)
{
    int width = op_plan(ctx)->vector_width;
    if (width > 1 && H % width == 0)
        return width;
    return width >= 4 && H % 4 == 0 ? 4 : 1;
}

/* Row-major matrix (rows x cols) at `offset` of `mem`. */
static clrt_matrix matrix(cl_mem mem, size_t offset, size_t cols, bool trans)
{
    return (clrt_matrix){.mem = mem, .offset = offset, .ld = cols > 0 ? cols : 1, .trans = trans};
}

/* What the LSTM's and the RNN's node keeps besides its inputs xproj (T N,
 * G H), w_hh (G H, H) [, bias (G H)], its output the state, and saved gates
 * (LSTM), c0 and h0 (N, H) (each may be NULL). */
typedef struct core_saved {
    int gates; /* G: 4 for an LSTM, 1 for an RNN */
} core_saved;

/* dW_hh (G H, H) (+)= sum_t dgates_t^T h_{t-1}, dgates (T N, G H): steps 1..
 * in one GEMM against h_0..h_{T-2} (contiguous in the state), step 0 against
 * h0 if given. */
static void weight_hh_grad(clg_context *ctx, clg_tensor *w_hh, const clg_tensor *dgates,
                           const clg_tensor *state, const clg_tensor *h0, int G)
{
    int T = (int)state->shape[1], N = (int)state->shape[2], H = (int)state->shape[3];
    size_t NH = (size_t)N * H, GH = (size_t)G * H;
    bool acc_w = false;
    clg_tensor *dw = eng_grad_dest(ctx, w_hh, &acc_w);
    if (dw) {
        clrt_matrix mdw = matrix(dw->mem, dw->offset, (size_t)H, false);
        bool written = acc_w;
        if (T > 1) {
            clrt_gemm(&ctx->rt,
                      (clrt_gemm_desc){.m = GH,
                                       .n = (size_t)H,
                                       .k = (size_t)(T - 1) * N,
                                       .a = matrix(dgates->mem, dgates->offset + NH * G, GH, true),
                                       .b = matrix(state->mem, state->offset, (size_t)H, false),
                                       .c = mdw,
                                       .beta = written ? 1.0f : 0.0f});
            written = true;
        }
        if (h0) {
            clrt_gemm(&ctx->rt, (clrt_gemm_desc){.m = GH,
                                                 .n = (size_t)H,
                                                 .k = (size_t)N,
                                                 .a = matrix(dgates->mem, dgates->offset, GH, true),
                                                 .b = matrix(h0->mem, h0->offset, (size_t)H, false),
                                                 .c = mdw,
                                                 .beta = written ? 1.0f : 0.0f});
            written = true;
        }
        if (!written) /* T = 1 from a zero state: W_hh had no effect */
            clg_tensor_fill(dw, 0.0f);
    }
}

/* dbias (G H) (+)= the column sums of dgates (T N, G H). */
static void bias_grad(clg_context *ctx, clg_tensor *bias, const clg_tensor *dgates)
{
    bool acc_b = false;
    clg_tensor *db = eng_grad_dest(ctx, bias, &acc_b);
    if (db)
        op_bias_grad(ctx, dgates, db, acc_b);
}

static void core_backward(clg_context *ctx, const eng_node *node)
{
    const core_saved *saved = node->state;
    int G = saved->gates;
    bool lstm = G == 4;
    clg_tensor *xproj = node->inputs[0], *w_hh = node->inputs[1];
    clg_tensor *bias = node->n_inputs > 2 ? node->inputs[2] : NULL;
    clg_tensor *gates = node->saved[0], *c0 = node->saved[1], *h0 = node->saved[2];
    clg_tensor *state = node->output, *dstate = state->grad;
    int T = (int)state->shape[1], N = (int)state->shape[2], H = (int)state->shape[3];
    size_t NH = (size_t)N * H, GH = (size_t)G * H;

    /* dgates is the input projection's gradient: written straight into it
     * when it holds none yet, else into scratch and added. */
    bool acc_x = false;
    clg_tensor *dx = eng_grad_dest(ctx, xproj, &acc_x);
    clg_tensor *dgates = dx && !acc_x ? dx : eng_new(ctx, CLG_DTYPE_F32, 2, xproj->shape);
    /* The LSTM's step on the cpu plan: one kernel with the product
     * dgates_{t+1} W_hh inside (lstm_step_backward_fused, ops/recurrent.cl),
     * where the forward's step is fused too (see the forward below). */
    int units = step_units(ctx, H);
    const clrt_plan *plan = op_plan(ctx);
    bool fused = lstm && !plan->per_element && units >= 4 && units == plan->vector_width &&
                 H % (2 * units) == 0 && (plan->loop_limit == 0 || GH <= plan->loop_limit);
    int64_t nh_shape[2] = {N, H};
    clg_tensor *dh_rec = fused ? NULL : eng_new(ctx, CLG_DTYPE_F32, 2, nh_shape);
    clg_tensor *dc = lstm ? eng_new(ctx, CLG_DTYPE_F32, 2, nh_shape) : dh_rec;
    if (!dgates || (!fused && !dh_rec) || !dc)
        return;
    clrt_matrix w = matrix(w_hh->mem, w_hh->offset, (size_t)H, false);
    char kernel[40];
    snprintf(kernel, sizeof kernel, "%s_step_backward_%s%d", lstm ? "lstm" : "rnn",
             fused ? "fused_" : "", units);
    for (int t = T - 1; t >= 0 && !eng_failed(ctx); t--) {
        int has_rec = t < T - 1;
        if (fused)
            /* a work-item per FUSED_ROWS rows of the batch by 2 `units` units */
            OP_LAUNCH_ROWS(ctx, SOURCE, kernel,
                           (size_t)((N + FUSED_ROWS - 1) / FUSED_ROWS * (H / (2 * units))),
                           ENG_ARG_TENSOR(dstate), ENG_ARG_TENSOR(state), ENG_ARG_TENSOR(gates),
                           ENG_ARG_TENSOR(c0 ? c0 : state), CLRT_ARG_INT(c0 != NULL),
                           ENG_ARG_TENSOR(w_hh), CLRT_ARG_INT(has_rec), ENG_ARG_TENSOR(dc),
                           ENG_ARG_TENSOR(dgates), CLRT_ARG_INT(t), CLRT_ARG_INT(T),
                           CLRT_ARG_INT(N), CLRT_ARG_INT(H));
        else if (lstm)
            OP_LAUNCH(ctx, SOURCE, kernel, NH / units, ENG_ARG_TENSOR(dstate),
                      ENG_ARG_TENSOR(state), ENG_ARG_TENSOR(gates), ENG_ARG_TENSOR(c0 ? c0 : state),
                      CLRT_ARG_INT(c0 != NULL), ENG_ARG_TENSOR(dh_rec), CLRT_ARG_INT(has_rec),
                      ENG_ARG_TENSOR(dc), ENG_ARG_TENSOR(dgates), CLRT_ARG_INT(t), CLRT_ARG_INT(T),
                      CLRT_ARG_INT(N), CLRT_ARG_INT(H));
        else
            OP_LAUNCH(ctx, SOURCE, kernel, NH / units, ENG_ARG_TENSOR(dstate),
                      ENG_ARG_TENSOR(state), ENG_ARG_TENSOR(dh_rec), CLRT_ARG_INT(has_rec),
                      ENG_ARG_TENSOR(dgates), CLRT_ARG_INT(t), CLRT_ARG_INT(N), CLRT_ARG_INT(H));
        clrt_matrix dg_t = matrix(dgates->mem, dgates->offset + (size_t)t * N * GH, GH, false);
        if (t > 0 && !fused) {
            /* dh_{t-1} (N, H) = dgates_t (N, G H) W_hh (G H, H) */
            clrt_gemm(&ctx->rt,
                      (clrt_gemm_desc){.m = (size_t)N,
                                       .n = (size_t)H,
                                       .k = GH,
                                       .a = dg_t,
                                       .b = w,
                                       .c = matrix(dh_rec->mem, dh_rec->offset, (size_t)H, false)});
        } else if (t == 0) {
            bool acc_h = false;
            clg_tensor *dh0 = eng_grad_dest(ctx, h0, &acc_h);
            if (dh0)
                clrt_gemm(&ctx->rt,
                          (clrt_gemm_desc){.m = (size_t)N,
                                           .n = (size_t)H,
                                           .k = GH,
                                           .a = dg_t,
                                           .b = w,
                                           .c = matrix(dh0->mem, dh0->offset, (size_t)H, false),
                                           .beta = acc_h ? 1.0f : 0.0f});
        }
    }
    if (lstm && c0)
        eng_grad_accumulate(ctx, c0, dc); /* dc now holds dc_{-1} = dc_0 f_0 */
    weight_hh_grad(ctx, w_hh, dgates, state, h0, G);
    bias_grad(ctx, bias, dgates);
    if (dx && acc_x)
        eng_grad_accumulate(ctx, xproj, dgates);
}

/* The GRU's node: inputs xproj (T N, 3 H), w_hh (3 H, H) [, bias_ih (3 H)],
 * output the state (1, T, N, H), saved gates (T, N, 4 H) (r, z, n, b_n), h0
 * (N, H) and bias_hh (3 H) (each of the last two may be NULL). */
static void gru_backward(clg_context *ctx, const eng_node *node)
{
    clg_tensor *xproj = node->inputs[0], *w_hh = node->inputs[1];
    clg_tensor *bias_ih = node->n_inputs > 2 ? node->inputs[2] : NULL;
    clg_tensor *gates = node->saved[0], *h0 = node->saved[1], *bias_hh = node->saved[2];
    clg_tensor *state = node->output, *dstate = state->grad;
    int T = (int)state->shape[1], N = (int)state->shape[2], H = (int)state->shape[3];
    size_t NH = (size_t)N * H, GH = (size_t)3 * H;

    /* dgates, the input side, is the input projection's gradient: written
     * straight into it when it holds none yet, else into scratch and added */
    bool acc_x = false;
    clg_tensor *dx = eng_grad_dest(ctx, xproj, &acc_x);
    clg_tensor *dgates = dx && !acc_x ? dx : eng_new(ctx, CLG_DTYPE_F32, 2, xproj->shape);
    clg_tensor *dgates_h = eng_new(ctx, CLG_DTYPE_F32, 2, xproj->shape);
    int64_t nh_shape[2] = {N, H};
    clg_tensor *dh_rec = eng_new(ctx, CLG_DTYPE_F32, 2, nh_shape);
    if (!dgates || !dgates_h || !dh_rec)
        return;
    bool h0_grad = h0 && h0->requires_grad;
    clrt_matrix w = matrix(w_hh->mem, w_hh->offset, (size_t)H, false);
    clrt_matrix rec = matrix(dh_rec->mem, dh_rec->offset, (size_t)H, false);
    int units = step_units(ctx, H);
    char kernel[32];
    snprintf(kernel, sizeof kernel, "gru_step_backward_%d", units);
    for (int t = T - 1; t >= 0 && !eng_failed(ctx); t--) {
        OP_LAUNCH(ctx, SOURCE, kernel, NH / units, ENG_ARG_TENSOR(dstate), ENG_ARG_TENSOR(state),
                  ENG_ARG_TENSOR(gates), ENG_ARG_TENSOR(h0 ? h0 : state), CLRT_ARG_INT(h0 != NULL),
                  ENG_ARG_TENSOR(dh_rec), CLRT_ARG_INT(t < T - 1), ENG_ARG_TENSOR(dgates),
                  ENG_ARG_TENSOR(dgates_h), CLRT_ARG_INT(t), CLRT_ARG_INT(N), CLRT_ARG_INT(H));
        /* dh_{t-1} (N, H) = dh_t z_t (left in dh_rec by the kernel) + dgates_h_t
         * (N, 3 H) W_hh (3 H, H) */
        if (t > 0 || h0_grad)
            clrt_gemm(&ctx->rt,
                      (clrt_gemm_desc){
                          .m = (size_t)N,
                          .n = (size_t)H,
                          .k = GH,
                          .a = matrix(dgates_h->mem, dgates_h->offset + (size_t)t * N * GH, GH,
                                      false),
                          .b = w,
                          .c = rec,
                          .beta = 1.0f});
    }
    if (h0_grad)
        eng_grad_accumulate(ctx, h0, dh_rec);
    weight_hh_grad(ctx, w_hh, dgates_h, state, h0, 3);
    bias_grad(ctx, bias_ih, dgates);
    bias_grad(ctx, bias_hh, dgates_h);
    if (dx && acc_x)
        eng_grad_accumulate(ctx, xproj, dgates);
}

/* Checks a given initial state: (1, N, H) as torch, or (N, H); returns it
 * as a contiguous (N, H) tensor, or NULL after recording an error. */
static clg_tensor *initial_state(clg_context *ctx, const char *op, const char *name, clg_tensor *s,
                                 const clg_tensor *input, int64_t N, int64_t H)
{
    bool ok = s->dtype == CLG_DTYPE_F32 &&
              ((s->rank == 3 && s->shape[0] == 1 && s->shape[1] == N && s->shape[2] == H) ||
               (s->rank == 2 && s->shape[0] == N && s->shape[1] == H));
    if (!ok) {
        char a[64], b[64];
        eng_fail(ctx, CLG_STATUS_SHAPE,
                 "%s: %s of shape %s must be float32 [1, %lld, %lld] (batch %lld, hidden %lld) "
                 "for input %s",
                 op, name, eng_shape_str(s, a, sizeof a), (long long)N, (long long)H, (long long)N,
                 (long long)H, eng_shape_str(input, b, sizeof b));
        return NULL;
    }
    int64_t shape[2] = {N, H};
    clg_tensor *c = eng_contiguous(ctx, s);
    return c ? clg_reshape(c, 2, shape) : NULL;
}

/* The shared body of clg_lstm (G = 4), clg_gru (G = 3) and clg_rnn (G = 1). */
static clg_tensor *recurrent(const char *op, int G, clg_tensor *input, clg_tensor *h0,
                             clg_tensor *c0, clg_tensor *weight_ih, clg_tensor *weight_hh,
                             clg_tensor *bias_ih, clg_tensor *bias_hh, bool batch_first,
                             clg_tensor **h_n, clg_tensor **c_n)
{
    if (h_n)
        *h_n = NULL;
    if (c_n)
        *c_n = NULL;
    clg_tensor *required[3] = {input, weight_ih, weight_hh};
    clg_context *ctx = eng_op_begin_f32(op, 3, required);
    if (!ctx)
        return NULL;
    char s0[64], s1[64], s2[64];
    if (input->rank != 3 || weight_ih->rank != 2 || weight_hh->rank != 2 ||
        weight_hh->shape[1] * G != weight_hh->shape[0] ||
        weight_ih->shape[0] != weight_hh->shape[0] || weight_ih->shape[1] != input->shape[2]) {
        eng_fail(ctx, CLG_STATUS_SHAPE,
                 "%s: input %s, weight_ih %s and weight_hh %s do not fit: want input (T, N, I) "
                 "(batch_first: (N, T, I)), weight_ih (%d H, I), weight_hh (%d H, H)",
                 op, eng_shape_str(input, s0, sizeof s0), eng_shape_str(weight_ih, s1, sizeof s1),
                 eng_shape_str(weight_hh, s2, sizeof s2), G, G);
        return NULL;
    }
    int64_t T = input->shape[batch_first ? 1 : 0], N = input->shape[batch_first ? 0 : 1];
    int64_t I = input->shape[2], H = weight_hh->shape[1];
    if (T < 1 || N < 1 || H < 1) {
        eng_fail(ctx, CLG_STATUS_SHAPE,
                 "%s: the sequence must have at least one step, one batch row and one hidden "
                 "unit: input %s (%s), hidden %lld",
                 op, eng_shape_str(input, s0, sizeof s0), batch_first ? "N, T, I" : "T, N, I",
                 (long long)H);
        return NULL;
    }
    clg_tensor *biases[2] = {bias_ih, bias_hh};
    for (int b = 0; b < 2; b++)
        if (biases[b] && (biases[b]->dtype != CLG_DTYPE_F32 || biases[b]->rank != 1 ||
                          biases[b]->shape[0] != G * H)) {
            eng_fail(ctx, CLG_STATUS_SHAPE, "%s: %s of shape %s must be float32 [%lld]", op,
                     b ? "bias_hh" : "bias_ih", eng_shape_str(biases[b], s0, sizeof s0),
                     (long long)(G * H));
            return NULL;
        }
    if (h0 && !(h0 = initial_state(ctx, op, "h0", h0, input, N, H)))
        return NULL;
    if (c0 && !(c0 = initial_state(ctx, op, "c0", c0, input, N, H)))
        return NULL;
    clg_tensor *w_hh = eng_contiguous(ctx, weight_hh);
    if (!w_hh)
        return NULL;

    /* The input projection for all steps: (T N, I) x (G H, I)^T, time-major
     * (a batch-first input is transposed into a copy first). */
    clg_tensor *x = batch_first ? clg_transpose(input, 0, 1) : input;
    int64_t flat[2] = {T * N, I};
    clg_tensor *xproj = clg_matmul_nt(clg_reshape(x, 2, flat), weight_ih);
    if (!xproj)
        return NULL;
    /* the GRU adds b_ih and b_hh apart (b_hn inside the reset product);
     * the others add their sum */
    clg_tensor *bias = NULL;
    if (G == 3) {
        if ((bias_ih && !(bias_ih = eng_contiguous(ctx, bias_ih))) ||
            (bias_hh && !(bias_hh = eng_contiguous(ctx, bias_hh))))
            return NULL;
    } else {
        bias = bias_ih && bias_hh ? clg_add(bias_ih, bias_hh) : bias_ih ? bias_ih : bias_hh;
        if ((bias_ih || bias_hh) && !bias)
            return NULL;
    }
    /* The LSTM's steps fused into one kernel each (lstm_step_fused, see
     * ops/recurrent.cl) where the step kernels take the plan's whole vectors
     * (the cpu plan) and the kernel's loop over H fits the plan's bound. */
    int units = step_units(ctx, H);
    const clrt_plan *plan = op_plan(ctx);
    bool fused = G == 4 && !plan->per_element && units >= 4 && units == plan->vector_width &&
                 (plan->loop_limit == 0 || (size_t)H <= plan->loop_limit);
    /* W_hh^T (H, G H), contiguous, for the per-step products: an unrecorded
     * copy (backward uses W_hh itself) */
    int64_t wt_shape[2] = {H, G * H}, wt_strides[2] = {1, H};
    clg_tensor *w_t = eng_new(ctx, CLG_DTYPE_F32, 2, wt_shape);
    clg_tensor *w_view = eng_view(ctx, w_hh, 2, wt_shape, wt_strides, w_hh->offset);
    if (!w_t || !w_view || clg_tensor_copy(w_t, w_view) != CLG_STATUS_OK)
        return NULL;

    int64_t state_shape[4] = {G == 4 ? 2 : 1, T, N, H}, gates_shape[3] = {T, N, 4 * H};
    int64_t hg_shape[2] = {N, G * H};
    clg_tensor *state = eng_new(ctx, CLG_DTYPE_F32, 4, state_shape);
    clg_tensor *gates = G > 1 ? eng_new(ctx, CLG_DTYPE_F32, 3, gates_shape) : NULL;
    clg_tensor *hg = fused ? NULL : eng_new(ctx, CLG_DTYPE_F32, 2, hg_shape);
    if (!state || (G > 1 && !gates) || (!fused && !hg))
        return NULL;
    size_t NH = (size_t)(N * H), GH = (size_t)(G * H);
    char kernel[32];
    snprintf(kernel, sizeof kernel, "%s_step_%s_%d", G == 4 ? "lstm" : G == 3 ? "gru" : "rnn",
             fused ? "fused" : "forward", units);
    clrt_matrix w = matrix(w_t->mem, w_t->offset, GH, false); /* W_hh^T */
    clrt_matrix mhg = hg ? matrix(hg->mem, hg->offset, GH, false) : (clrt_matrix){0};
    for (int64_t t = 0; t < T && !eng_failed(ctx); t++) {
        bool has_hg = t > 0 || h0;
        if (fused) {
            /* a work-item per FUSED_ROWS rows of the batch by `units` units */
            clg_tensor *h_prev = t > 0 || !h0 ? state : h0; /* state: read only when t > 0 */
            size_t h_prev_off = h_prev->offset + (t > 0 ? (size_t)(t - 1) * NH : 0);
            OP_LAUNCH_ROWS(ctx, SOURCE, kernel,
                           (size_t)((N + FUSED_ROWS - 1) / FUSED_ROWS * (H / units)),
                           ENG_ARG_TENSOR(xproj), ENG_ARG_TENSOR(bias ? bias : xproj),
                           CLRT_ARG_INT(bias != NULL),
                           CLRT_ARG_BUFFER(h_prev->mem, clg_tensor_numel(h_prev)),
                           CLRT_ARG_INT(h_prev_off), CLRT_ARG_INT(has_hg), ENG_ARG_TENSOR(w_t),
                           ENG_ARG_TENSOR(state),
                           ENG_ARG_TENSOR(c0 ? c0 : state), CLRT_ARG_INT(c0 != NULL),
                           ENG_ARG_TENSOR(gates), CLRT_ARG_INT(t), CLRT_ARG_INT(T),
                           CLRT_ARG_INT(N), CLRT_ARG_INT(H));
            continue;
        }
        if (has_hg) {
            clrt_matrix h_prev =
                t > 0 ? matrix(state->mem, state->offset + (size_t)(t - 1) * NH, (size_t)H, false)
                      : matrix(h0->mem, h0->offset, (size_t)H, false);
            clrt_gemm(&ctx->rt,
                      (clrt_gemm_desc){
                          .m = (size_t)N, .n = GH, .k = (size_t)H, .a = h_prev, .b = w, .c = mhg});
        }
        if (G == 4)
            OP_LAUNCH(ctx, SOURCE, kernel, NH / units, ENG_ARG_TENSOR(xproj),
                      ENG_ARG_TENSOR(bias ? bias : xproj), CLRT_ARG_INT(bias != NULL),
                      ENG_ARG_TENSOR(hg), CLRT_ARG_INT(has_hg), ENG_ARG_TENSOR(state),
                      ENG_ARG_TENSOR(c0 ? c0 : state), CLRT_ARG_INT(c0 != NULL),
                      ENG_ARG_TENSOR(gates), CLRT_ARG_INT(t), CLRT_ARG_INT(T), CLRT_ARG_INT(N),
                      CLRT_ARG_INT(H));
        else if (G == 3)
            OP_LAUNCH(ctx, SOURCE, kernel, NH / units, ENG_ARG_TENSOR(xproj),
                      ENG_ARG_TENSOR(bias_ih ? bias_ih : xproj), CLRT_ARG_INT(bias_ih != NULL),
                      ENG_ARG_TENSOR(bias_hh ? bias_hh : xproj), CLRT_ARG_INT(bias_hh != NULL),
                      ENG_ARG_TENSOR(hg), CLRT_ARG_INT(has_hg), ENG_ARG_TENSOR(state),
                      ENG_ARG_TENSOR(h0 ? h0 : state), CLRT_ARG_INT(h0 != NULL),
                      ENG_ARG_TENSOR(gates), CLRT_ARG_INT(t), CLRT_ARG_INT(N), CLRT_ARG_INT(H));
        else
            OP_LAUNCH(ctx, SOURCE, kernel, NH / units, ENG_ARG_TENSOR(xproj),
                      ENG_ARG_TENSOR(bias ? bias : xproj), CLRT_ARG_INT(bias != NULL),
                      ENG_ARG_TENSOR(hg), CLRT_ARG_INT(has_hg), ENG_ARG_TENSOR(state),
                      CLRT_ARG_INT(t), CLRT_ARG_INT(N), CLRT_ARG_INT(H));
    }
    if (eng_failed(ctx))
        return NULL;
    clg_tensor *all[5] = {xproj, w_hh, bias, h0, c0};
    if (G == 3) {
        clg_tensor *gru_all[5] = {xproj, w_hh, bias_ih, bias_hh, h0};
        if (eng_needs_grad(ctx, 5, gru_all)) {
            clg_tensor *inputs[3] = {xproj, w_hh, bias_ih};
            eng_node *node =
                eng_record(ctx, op, gru_backward, state, bias_ih ? 3 : 2, inputs, 0);
            if (!node)
                return NULL;
            node->saved[0] = gates;
            node->saved[1] = h0;
            node->saved[2] = bias_hh;
        }
    } else if (eng_needs_grad(ctx, 5, all)) {
        clg_tensor *inputs[3] = {xproj, w_hh, bias};
        eng_node *node = eng_record(ctx, op, core_backward, state, bias ? 3 : 2, inputs,
                                    sizeof(core_saved));
        if (!node)
            return NULL;
        node->saved[0] = gates;
        node->saved[1] = c0;
        node->saved[2] = h0;
        ((core_saved *)node->state)->gates = G;
    }
    clg_tensor *out = state_view(ctx, op, state, 0, 0, (int)T, batch_first);
    if (h_n)
        *h_n = state_view(ctx, op, state, 0, (int)T - 1, 1, false);
    if (c_n && G == 4)
        *c_n = state_view(ctx, op, state, 1, (int)T - 1, 1, false);
    return out;
}

CLG_API clg_tensor *clg_lstm(clg_tensor *input, clg_tensor *h0, clg_tensor *c0,
                             clg_tensor *weight_ih, clg_tensor *weight_hh, clg_tensor *bias_ih,
                             clg_tensor *bias_hh, bool batch_first, clg_tensor **h_n,
                             clg_tensor **c_n)
{
    return recurrent("clg_lstm", 4, input, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh,
                     batch_first, h_n, c_n);
}

CLG_API clg_tensor *clg_gru(clg_tensor *input, clg_tensor *h0, clg_tensor *weight_ih,
                            clg_tensor *weight_hh, clg_tensor *bias_ih, clg_tensor *bias_hh,
                            bool batch_first, clg_tensor **h_n)
{
    return recurrent("clg_gru", 3, input, h0, NULL, weight_ih, weight_hh, bias_ih, bias_hh,
                     batch_first, h_n, NULL);
}

CLG_API clg_tensor *clg_rnn(clg_tensor *input, clg_tensor *h0, clg_tensor *weight_ih,
                            clg_tensor *weight_hh, clg_tensor *bias_ih, clg_tensor *bias_hh,
                            bool batch_first, clg_tensor **h_n)
{
    return recurrent("clg_rnn", 1, input, h0, NULL, weight_ih, weight_hh, bias_ih, bias_hh,
                     batch_first, h_n, NULL);
}
