/* ops/recurrent.cl: the per-time-step kernels of the LSTM, the GRU and the
 * tanh RNN (ops/recurrent.c), one work-item per vector of hidden units of a
 * batch row (or per unit).
 *
 * Layouts (all contiguous, time-major):
 *   xproj  (T, N, G H)   x_t W_ih^T, G = 4 gates (i, f, g, o), 3 (GRU: r, z, n)
 *                        or 1
 *   bias   (G H)         b_ih + b_hh, added here rather than by a pass of its own
 *                        (the GRU takes b_ih and b_hh apart: b_hn sits inside
 *                        the reset product)
 *   hg     (N, G H)      h_{t-1} W_hh^T for the step being computed
 *   state  (S, T, N, H)  S = 2 for the LSTM: state[0] = h_t, state[1] = c_t;
 *                        S = 1 for the GRU and the RNN: h_t
 *   gates  (T, N, 4 H)   the LSTM's activated gates i, f, g, o, or the GRU's
 *                        r, z, n and W_hn h_{t-1} + b_hn (saved for BPTT)
 * Backward reads the state's gradient dstate (same layout), the carried
 * gradients dh_rec (N, H) (= dgates_{t+1} W_hh, from a GEMM) and dc (N, H),
 * and writes the pre-activation gate gradients dgates (T, N, G H). */

/* Each step kernel is stamped out for several widths: a work-item takes W
 * consecutive hidden units of one batch row as one vector of loads, math and
 * stores, W = 4, the plan's width CLG_VW where wider (see the end), or 1, one
 * unit. PoCL's cost model refused to vectorise the one-unit kernels across
 * work-items (five exps per unit), so the vectors are written out: the
 * LSTM's forward step took 0.09 ms instead of 0.39 (N = 64, H = 128). The
 * host code picks W (ops/recurrent.c's step_units) and names the kernel
 * <name>_<W>.
 *
 * The activations are ops/activation_math.cl's: sigmoid as 1 / (1 + e^-x),
 * tanh as a rational function (PoCL's tanh() is a scalar library call). */
#include "ops/activation_math.cl"

/* a * b + c, contracted to an FMA as cl/gemm.cl's MAD is */
#pragma OPENCL FP_CONTRACT ON
#define MAD(a, b, c) ((a) * (b) + (c))

inline float sigmoid1(float x)
{
    return activation_apply(ACT_SIGMOID, x, 0.0f, 0.0f);
}

inline float tanh1(float x)
{
    return activation_apply(ACT_TANH, x, 0.0f, 0.0f);
}

/* sigmoid<W> and tanh<W> for a vector width W > 1 (VLOAD<W> and VSTORE<W>
 * come from ops/activation_math.cl) */
#define STEP_VECTOR_MATH(W)                                                                   \
    inline float##W sigmoid##W(float##W x)                                                    \
    {                                                                                         \
        return activation_apply##W(ACT_SIGMOID, x, 0.0f, 0.0f);                               \
    }                                                                                         \
    inline float##W tanh##W(float##W x)                                                       \
    {                                                                                         \
        return activation_apply##W(ACT_TANH, x, 0.0f, 0.0f);                                  \
    }
STEP_VECTOR_MATH(4)


/* e: the first of the work-item's units in (N, H); n, j: its row and
 * column. W divides H, so all W units lie in row n. */
#define STEP_UNITS(W)                                                                         \
    int e = get_global_id(0) * W;                                                             \
    if (e >= N * H)                                                                           \
        return;                                                                               \
    int n = e / H, j = e - n * H;

/* i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of xproj_t + bias + hg;
 * c_t = f c_{t-1} + i g;  h_t = o tanh(c_t). LSTM_CELL_FORWARD is that
 * update for the W units from (n, j), given their four columns of hg (0 at
 * a first step without h0), shared by the kernel below and the fused one. */
#define LSTM_CELL_FORWARD(W, V, n, j, hi, hf, hgg, ho)                                        \
    {                                                                                         \
        int e = (n) * H + (j);                                                                \
        __global const float *x = xproj + xproj_off + (t * N + (n)) * 4 * H + (j);            \
        V pi = VLOAD##W(x), pf = VLOAD##W(x + H), pg = VLOAD##W(x + 2 * H),                   \
          po = VLOAD##W(x + 3 * H);                                                           \
        if (has_bias) {                                                                       \
            __global const float *b = bias + bias_off + (j);                                  \
            pi += VLOAD##W(b);                                                                \
            pf += VLOAD##W(b + H);                                                            \
            pg += VLOAD##W(b + 2 * H);                                                        \
            po += VLOAD##W(b + 3 * H);                                                        \
        }                                                                                     \
        pi += (hi);                                                                           \
        pf += (hf);                                                                           \
        pg += (hgg);                                                                          \
        po += (ho);                                                                           \
        V i = sigmoid##W(pi), f = sigmoid##W(pf), g = tanh##W(pg), o = sigmoid##W(po);        \
        __global float *cells = state + state_off + T * N * H; /* state[1] */                 \
        V c_prev = t > 0 ? VLOAD##W(cells + (t - 1) * N * H + e)                              \
                         : (has_c0 ? VLOAD##W(c0 + c0_off + e) : (V)(0.0f));                  \
        V c = f * c_prev + i * g;                                                             \
        VSTORE##W(o * tanh##W(c), state + state_off + t * N * H + e);                         \
        VSTORE##W(c, cells + t * N * H + e);                                                  \
        __global float *out = gates + gates_off + (t * N + (n)) * 4 * H + (j);                \
        VSTORE##W(i, out);                                                                    \
        VSTORE##W(f, out + H);                                                                \
        VSTORE##W(g, out + 2 * H);                                                            \
        VSTORE##W(o, out + 3 * H);                                                            \
    }

#define LSTM_STEP_FORWARD(W, V)                                                              \
    __kernel void lstm_step_forward_##W(                                                     \
        __global const float *xproj, int xproj_off, __global const float *bias, int bias_off, \
        int has_bias, __global const float *hg, int hg_off, int has_hg, __global float *state, \
        int state_off, __global const float *c0, int c0_off, int has_c0,                     \
        __global float *gates, int gates_off, int t, int T, int N, int H)                    \
    {                                                                                         \
        STEP_UNITS(W)                                                                         \
        V hi = (V)(0.0f), hf = (V)(0.0f), hgg = (V)(0.0f), ho = (V)(0.0f);                     \
        if (has_hg) {                                                                         \
            __global const float *r = hg + hg_off + n * 4 * H + j;                            \
            hi = VLOAD##W(r);                                                                 \
            hf = VLOAD##W(r + H);                                                             \
            hgg = VLOAD##W(r + 2 * H);                                                        \
            ho = VLOAD##W(r + 3 * H);                                                         \
        }                                                                                     \
        LSTM_CELL_FORWARD(W, V, n, j, hi, hf, hgg, ho)                                        \
    }

/* The cpu plan's forward step as one kernel (ops/recurrent.c takes it where
 * the plan's width W divides H): the product h_{t-1} W_hh^T for FUSED_ROWS
 * batch rows and W units, all four gates' columns at once (wt = W_hh^T,
 * (H, 4 H)), kept in registers for the cell update, so that hg never goes
 * to memory and a step is one launch instead of a GEMM and a kernel (N =
 * 64, H = 128, AVX-512: 35 us a step against 30 + 14, and the LSTM's
 * training step at T = 28 4.6 -> 4.3 ms, most of it the launches saved).
 * The products are summed over k in order with FMAs, as the GEMM's are.
 * Rows past N are clamped to the last, computed and not stored; 6 rows of 4
 * vectors keep 24 accumulators, which the 32 vector registers of AVX-512
 * hold with the four of wt and the broadcast (4 rows: 43 us). */
#define FUSED_ROWS 6 /* ops/recurrent.c has it too, for the launch */
#define LSTM_STEP_FUSED(W, V)                                                                \
    __kernel void lstm_step_fused_##W(                                                       \
        __global const float *xproj, int xproj_off, __global const float *bias, int bias_off, \
        int has_bias, __global const float *h_prev, int h_prev_off, int has_h,               \
        __global const float *wt, int wt_off, __global float *state, int state_off,           \
        __global const float *c0, int c0_off, int has_c0, __global float *gates,              \
        int gates_off, int t, int T, int N, int H)                                           \
    {                                                                                         \
        int blocks = H / W, id = get_global_id(0);                                            \
        if (id >= blocks * ((N + FUSED_ROWS - 1) / FUSED_ROWS))                               \
            return;                                                                           \
        int n0 = id / blocks * FUSED_ROWS, j = (id % blocks) * W;                             \
        V acc[FUSED_ROWS][4];                                                                 \
        _Pragma("unroll") for (int r = 0; r < FUSED_ROWS; r++)                                \
            _Pragma("unroll") for (int q = 0; q < 4; q++) acc[r][q] = (V)(0.0f);              \
        if (has_h) {                                                                          \
            __global const float *a[FUSED_ROWS];                                              \
            _Pragma("unroll") for (int r = 0; r < FUSED_ROWS; r++)                            \
                a[r] = h_prev + h_prev_off + min(n0 + r, N - 1) * H;                          \
            __global const float *b = wt + wt_off + j;                                        \
            for (int k = 0; k < H; k++, b += 4 * H) {                                         \
                V b0 = VLOAD##W(b), b1 = VLOAD##W(b + H), b2 = VLOAD##W(b + 2 * H),           \
                  b3 = VLOAD##W(b + 3 * H);                                                   \
                _Pragma("unroll") for (int r = 0; r < FUSED_ROWS; r++)                        \
                {                                                                             \
                    V ar = (V)(a[r][k]);                                                      \
                    acc[r][0] = MAD(ar, b0, acc[r][0]);                                       \
                    acc[r][1] = MAD(ar, b1, acc[r][1]);                                       \
                    acc[r][2] = MAD(ar, b2, acc[r][2]);                                       \
                    acc[r][3] = MAD(ar, b3, acc[r][3]);                                       \
                }                                                                             \
            }                                                                                 \
        }                                                                                     \
        _Pragma("unroll") for (int r = 0; r < FUSED_ROWS; r++) if (n0 + r < N)                \
            LSTM_CELL_FORWARD(W, V, n0 + r, j, acc[r][0], acc[r][1], acc[r][2], acc[r][3])    \
    }

/* With tc = tanh(c_t):
 *   dh = dstate_h[t] + dh_rec            dc = dstate_c[t] + dc_next + dh o (1 - tc^2)
 *   di = dc g i (1 - i)   df = dc c_{t-1} f (1 - f)   dg = dc i (1 - g^2)
 *   do = dh tc o (1 - o)  and the cell gradient carried to t - 1 is dc f.
 * LSTM_CELL_BACKWARD is that for the W units from (n, j), given their dh_rec
 * (dgates_{t+1} W_hh, 0 at the last step), shared by the kernel below and
 * the fused one. */
#define LSTM_CELL_BACKWARD(W, V, n, j, rec)                                                   \
    {                                                                                         \
        int e = (n) * H + (j), row = (t * N + (n)) * 4 * H + (j);                             \
        int at = t * N * H + e, cells = T * N * H;                                            \
        __global const float *gt = gates + gates_off + row;                                   \
        V i = VLOAD##W(gt), f = VLOAD##W(gt + H), g = VLOAD##W(gt + 2 * H),                   \
          o = VLOAD##W(gt + 3 * H);                                                           \
        V tc = tanh##W(VLOAD##W(state + state_off + cells + at));                             \
        V c_prev = t > 0 ? VLOAD##W(state + state_off + cells + at - N * H)                   \
                         : (has_c0 ? VLOAD##W(c0 + c0_off + e) : (V)(0.0f));                  \
        V dh = VLOAD##W(dstate + dstate_off + at) + (rec);                                    \
        V dcell = VLOAD##W(dstate + dstate_off + cells + at) +                                \
                  (has_rec ? VLOAD##W(dc + dc_off + e) : (V)(0.0f)) + dh * o * (1.0f - tc * tc); \
        __global float *dg = dgates + dgates_off + row;                                       \
        VSTORE##W(dcell * g * i * (1.0f - i), dg);                                            \
        VSTORE##W(dcell * c_prev * f * (1.0f - f), dg + H);                                   \
        VSTORE##W(dcell * i * (1.0f - g * g), dg + 2 * H);                                    \
        VSTORE##W(dh * tc * o * (1.0f - o), dg + 3 * H);                                      \
        VSTORE##W(dcell * f, dc + dc_off + e);                                                \
    }

/* The backward steps' parameters; REC names the third input: dh_rec (the
 * unfused kernel's, a GEMM's output) or w_hh (the fused one's). */
#define LSTM_STEP_BACKWARD_PARAMS(REC)                                                       \
    __global const float *dstate, int dstate_off, __global const float *state,              \
        int state_off, __global const float *gates, int gates_off, __global const float *c0, \
        int c0_off, int has_c0, __global const float *REC, int REC##_off, int has_rec,       \
        __global float *dc, int dc_off, __global float *dgates, int dgates_off, int t, int T, \
        int N, int H

#define LSTM_STEP_BACKWARD(W, V)                                                             \
    __kernel void lstm_step_backward_##W(LSTM_STEP_BACKWARD_PARAMS(dh_rec))                  \
    {                                                                                         \
        STEP_UNITS(W)                                                                         \
        LSTM_CELL_BACKWARD(W, V, n, j,                                                        \
                           has_rec ? VLOAD##W(dh_rec + dh_rec_off + e) : (V)(0.0f))           \
    }

/* The cpu plan's backward step as one kernel, the mirror of
 * lstm_step_fused: dh_rec = dgates_{t+1} W_hh (W_hh as stored, (4 H, H))
 * for FUSED_ROWS batch rows and 2 W units, summed over k in order in
 * registers, then the step's gate gradients for them, so that a step is one
 * launch instead of a kernel and a GEMM, and dh_rec never goes to memory.
 * Two vectors of units a work-item: each k's broadcasts of dgates serve
 * twelve FMAs (with one vector, six: the loads bound the loop). dgates_{t+1}
 * was written by the launch before; this one writes dgates_t, other rows of
 * the same buffer. */
#define LSTM_STEP_BACKWARD_FUSED(W, V)                                                       \
    __kernel void lstm_step_backward_fused_##W(LSTM_STEP_BACKWARD_PARAMS(w_hh))              \
    {                                                                                         \
        int blocks = H / (2 * W), id = get_global_id(0);                                      \
        if (id >= blocks * ((N + FUSED_ROWS - 1) / FUSED_ROWS))                               \
            return;                                                                           \
        int n0 = id / blocks * FUSED_ROWS, j = (id % blocks) * 2 * W;                         \
        V acc[FUSED_ROWS][2];                                                                 \
        _Pragma("unroll") for (int r = 0; r < FUSED_ROWS; r++) acc[r][0] = acc[r][1] =        \
            (V)(0.0f);                                                                        \
        if (has_rec) {                                                                        \
            __global const float *a[FUSED_ROWS];                                              \
            _Pragma("unroll") for (int r = 0; r < FUSED_ROWS; r++)                            \
                a[r] = dgates + dgates_off + ((t + 1) * N + min(n0 + r, N - 1)) * 4 * H;      \
            __global const float *b = w_hh + w_hh_off + j;                                    \
            for (int k = 0; k < 4 * H; k++, b += H) {                                         \
                V b0 = VLOAD##W(b), b1 = VLOAD##W(b + W);                                     \
                _Pragma("unroll") for (int r = 0; r < FUSED_ROWS; r++)                        \
                {                                                                             \
                    V ar = (V)(a[r][k]);                                                      \
                    acc[r][0] = MAD(ar, b0, acc[r][0]);                                       \
                    acc[r][1] = MAD(ar, b1, acc[r][1]);                                       \
                }                                                                             \
            }                                                                                 \
        }                                                                                     \
        _Pragma("unroll") for (int r = 0; r < FUSED_ROWS; r++) if (n0 + r < N) {              \
            LSTM_CELL_BACKWARD(W, V, n0 + r, j, acc[r][0])                                    \
            LSTM_CELL_BACKWARD(W, V, n0 + r, j + W, acc[r][1])                                \
        }                                                                                     \
    }

/* torch.nn.GRU, with a = xproj_t + b_ih and b = h_{t-1} W_hh^T + b_hh, each
 * split into the r, z, n thirds:
 *   r = sigmoid(a_r + b_r)   z = sigmoid(a_z + b_z)   n = tanh(a_n + r b_n)
 *   h_t = (1 - z) n + z h_{t-1} = n + z (h_{t-1} - n)
 * b_n is kept with the gates: the reset gate's derivative needs it. */
#define GRU_STEP_FORWARD(W, V)                                                               \
    __kernel void gru_step_forward_##W(                                                      \
        __global const float *xproj, int xproj_off, __global const float *bias_ih,          \
        int bias_ih_off, int has_bias_ih, __global const float *bias_hh, int bias_hh_off,    \
        int has_bias_hh, __global const float *hg, int hg_off, int has_hg,                   \
        __global float *state, int state_off, __global const float *h0, int h0_off,          \
        int has_h0, __global float *gates, int gates_off, int t, int N, int H)               \
    {                                                                                         \
        STEP_UNITS(W)                                                                         \
        __global const float *x = xproj + xproj_off + (t * N + n) * 3 * H + j;                \
        V pr = VLOAD##W(x), pz = VLOAD##W(x + H), pn = VLOAD##W(x + 2 * H);                      \
        V hr = (V)(0.0f), hz = (V)(0.0f), hn = (V)(0.0f);                                     \
        if (has_bias_ih) {                                                                    \
            __global const float *b = bias_ih + bias_ih_off + j;                              \
            pr += VLOAD##W(b);                                                                 \
            pz += VLOAD##W(b + H);                                                             \
            pn += VLOAD##W(b + 2 * H);                                                         \
        }                                                                                     \
        if (has_bias_hh) {                                                                    \
            __global const float *b = bias_hh + bias_hh_off + j;                              \
            hr = VLOAD##W(b);                                                                  \
            hz = VLOAD##W(b + H);                                                              \
            hn = VLOAD##W(b + 2 * H);                                                          \
        }                                                                                     \
        if (has_hg) {                                                                         \
            __global const float *g = hg + hg_off + n * 3 * H + j;                            \
            hr += VLOAD##W(g);                                                                 \
            hz += VLOAD##W(g + H);                                                             \
            hn += VLOAD##W(g + 2 * H);                                                         \
        }                                                                                     \
        V r = sigmoid##W(pr + hr), z = sigmoid##W(pz + hz), nn = tanh##W(pn + r * hn);        \
        V h_prev = t > 0 ? VLOAD##W(state + state_off + (t - 1) * N * H + e)                   \
                         : (has_h0 ? VLOAD##W(h0 + h0_off + e) : (V)(0.0f));                   \
        VSTORE##W(nn + z * (h_prev - nn), state + state_off + t * N * H + e);                  \
        __global float *out = gates + gates_off + (t * N + n) * 4 * H + j;                    \
        VSTORE##W(r, out);                                                                     \
        VSTORE##W(z, out + H);                                                                 \
        VSTORE##W(nn, out + 2 * H);                                                            \
        VSTORE##W(hn, out + 3 * H);                                                            \
    }

/* With dh = dstate[t] + dh_rec (dh_rec: the GEMM's dgates_h_{t+1} W_hh plus
 * the direct term dh_{t+1} z_{t+1} this kernel left there a step before):
 *   dn_pre = dh (1 - z) (1 - n^2)        dz_pre = dh (h_{t-1} - n) z (1 - z)
 *   dr_pre = dn_pre b_n r (1 - r)
 * dgates (the input projection's gradient) gets dr_pre, dz_pre, dn_pre;
 * dgates_h (the gradient of h_{t-1} W_hh^T + b_hh) the same with dn_pre r in
 * the n third; dh_rec is overwritten with dh z, to which the host's GEMM adds
 * dgates_h_t W_hh (beta = 1) for step t - 1. Each work-item reads dh_rec[e]
 * before writing it, and no other work-item touches e. */
#define GRU_STEP_BACKWARD(W, V)                                                              \
    __kernel void gru_step_backward_##W(                                                     \
        __global const float *dstate, int dstate_off, __global const float *state,          \
        int state_off, __global const float *gates, int gates_off, __global const float *h0, \
        int h0_off, int has_h0, __global float *dh_rec, int dh_rec_off, int has_rec,         \
        __global float *dgates, int dgates_off, __global float *dgates_h, int dgates_h_off,  \
        int t, int N, int H)                                                                  \
    {                                                                                         \
        STEP_UNITS(W)                                                                         \
        int at = t * N * H + e;                                                               \
        __global const float *gt = gates + gates_off + (t * N + n) * 4 * H + j;               \
        V r = VLOAD##W(gt), z = VLOAD##W(gt + H), nn = VLOAD##W(gt + 2 * H),                     \
          hn = VLOAD##W(gt + 3 * H);                                                           \
        V h_prev = t > 0 ? VLOAD##W(state + state_off + at - N * H)                            \
                         : (has_h0 ? VLOAD##W(h0 + h0_off + e) : (V)(0.0f));                   \
        __global float *rec = dh_rec + dh_rec_off + e;                                        \
        V dh = VLOAD##W(dstate + dstate_off + at) + (has_rec ? VLOAD##W(rec) : (V)(0.0f));      \
        V dn = dh * (1.0f - z) * (1.0f - nn * nn);                                            \
        V dz = dh * (h_prev - nn) * z * (1.0f - z);                                           \
        V dr = dn * hn * r * (1.0f - r);                                                      \
        int row = (t * N + n) * 3 * H + j;                                                    \
        __global float *dx = dgates + dgates_off + row, *dg = dgates_h + dgates_h_off + row;  \
        VSTORE##W(dr, dx);                                                                     \
        VSTORE##W(dz, dx + H);                                                                 \
        VSTORE##W(dn, dx + 2 * H);                                                             \
        VSTORE##W(dr, dg);                                                                     \
        VSTORE##W(dz, dg + H);                                                                 \
        VSTORE##W(dn * r, dg + 2 * H);                                                         \
        VSTORE##W(dh * z, rec);                                                                \
    }

/* h_t = tanh(xproj_t + bias + h_{t-1} W_hh^T) */
#define RNN_STEP_FORWARD(W, V)                                                               \
    __kernel void rnn_step_forward_##W(                                                      \
        __global const float *xproj, int xproj_off, __global const float *bias, int bias_off, \
        int has_bias, __global const float *hg, int hg_off, int has_hg, __global float *state, \
        int state_off, int t, int N, int H)                                                   \
    {                                                                                         \
        STEP_UNITS(W)                                                                         \
        V pre = VLOAD##W(xproj + xproj_off + t * N * H + e);                                   \
        if (has_bias)                                                                         \
            pre += VLOAD##W(bias + bias_off + j);                                              \
        if (has_hg)                                                                           \
            pre += VLOAD##W(hg + hg_off + e);                                                  \
        VSTORE##W(tanh##W(pre), state + state_off + t * N * H + e);                            \
        (void)n;                                                                              \
    }

/* dpre = (dstate[t] + dh_rec) (1 - h_t^2) */
#define RNN_STEP_BACKWARD(W, V)                                                              \
    __kernel void rnn_step_backward_##W(                                                     \
        __global const float *dstate, int dstate_off, __global const float *state,          \
        int state_off, __global const float *dh_rec, int dh_rec_off, int has_rec,            \
        __global float *dgates, int dgates_off, int t, int N, int H)                          \
    {                                                                                         \
        STEP_UNITS(W)                                                                         \
        int at = t * N * H + e;                                                               \
        V h = VLOAD##W(state + state_off + at);                                                \
        V dh = VLOAD##W(dstate + dstate_off + at) +                                            \
               (has_rec ? VLOAD##W(dh_rec + dh_rec_off + e) : (V)(0.0f));                      \
        VSTORE##W(dh * (1.0f - h * h), dgates + dgates_off + at);                              \
        (void)n;                                                                              \
        (void)j;                                                                              \
    }

LSTM_STEP_FORWARD(1, float)
LSTM_STEP_FORWARD(4, float4)
LSTM_STEP_FUSED(4, float4)
LSTM_STEP_BACKWARD(1, float)
LSTM_STEP_BACKWARD(4, float4)
LSTM_STEP_BACKWARD_FUSED(4, float4)
GRU_STEP_FORWARD(1, float)
GRU_STEP_FORWARD(4, float4)
GRU_STEP_BACKWARD(1, float)
GRU_STEP_BACKWARD(4, float4)
RNN_STEP_FORWARD(1, float)
RNN_STEP_FORWARD(4, float4)
RNN_STEP_BACKWARD(1, float)
RNN_STEP_BACKWARD(4, float4)

/* And at the plan's width CLG_VW where it is wider (8, 16): PoCL runs the
 * built-ins at the host's full width (the LSTM's forward step, N = 64, H =
 * 128, AVX-512: 25 us a step with float4s, 14 with float16s). */
#define STEP_KERNELS_WIDTH_(W)                                                                \
    STEP_VECTOR_MATH(W)                                                                       \
    LSTM_STEP_FORWARD(W, float##W)                                                            \
    LSTM_STEP_FUSED(W, float##W)                                                              \
    LSTM_STEP_BACKWARD(W, float##W)                                                           \
    LSTM_STEP_BACKWARD_FUSED(W, float##W)                                                     \
    GRU_STEP_FORWARD(W, float##W)                                                             \
    GRU_STEP_BACKWARD(W, float##W)                                                            \
    RNN_STEP_FORWARD(W, float##W)                                                             \
    RNN_STEP_BACKWARD(W, float##W)
#define STEP_KERNELS_WIDTH(W) STEP_KERNELS_WIDTH_(W)
#if CLG_VW == 8 || CLG_VW == 16
STEP_KERNELS_WIDTH(CLG_VW)
#endif

/* Adds the gradient g of a view of the state (the output sequence, h_n or
 * c_n) into the state's gradient dst (S, T, N, H) (zeroed first by the host
 * code when it held nothing). The view covers state[which][t0 .. t0 +
 * steps); g is contiguous in the view's order: (N, steps, H) when
 * batch_first, else (steps, N, H). Work-item r, a row of g, adds its H
 * values to one row of dst (contiguous on both sides; the divisions that
 * find the row are paid once per row). */
__kernel void state_view_backward(__global const float *g, int g_off, __global float *dst,
                                  int dst_off, int which, int t0, int steps, int batch_first,
                                  int T, int N, int H)
{
    int r = get_global_id(0);
    if (r >= steps * N)
        return;
    int u = batch_first ? r % steps : r / N, n = batch_first ? r / steps : r % N;
    __global const float *src = g + g_off + r * H;
    __global float *d = dst + dst_off + ((which * T + t0 + u) * N + n) * H;
    for (int j = 0; j < H; j++)
        d[j] += src[j];
}
