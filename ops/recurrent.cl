/* ops/recurrent.cl: the per-time-step kernels of the LSTM and the tanh RNN
 * (ops/recurrent.c), one work-item per (batch row n, hidden unit j).
 *
 * Layouts (all contiguous, time-major):
 *   xproj  (T, N, G H)   x_t W_ih^T, G = 4 gates (i, f, g, o) or 1
 *   bias   (G H)         b_ih + b_hh, added here rather than by a pass of its own
 *   hg     (N, G H)      h_{t-1} W_hh^T for the step being computed
 *   state  (S, T, N, H)  S = 2 for the LSTM: state[0] = h_t, state[1] = c_t;
 *                        S = 1 for the RNN: h_t
 *   gates  (T, N, 4 H)   the LSTM's activated gates i, f, g, o (saved for BPTT)
 * Backward reads the state's gradient dstate (same layout), the carried
 * gradients dh_rec (N, H) (= dgates_{t+1} W_hh, from a GEMM) and dc (N, H),
 * and writes the pre-activation gate gradients dgates (T, N, G H). */

/* The activations of ops/activation_math.cl: its tanh is built on exp,
 * which PoCL vectorises, where tanh() is a scalar library call (the forward
 * step kernel took 15-25% less time with it). */
#include "ops/activation_math.cl"

inline float sigmoid_f(float x)
{
    return activation_apply(0, x, 0.0f, 0.0f);
}

inline float tanh_f(float x)
{
    return activation_apply(1, x, 0.0f, 0.0f);
}

__kernel void lstm_step_forward(__global const float *xproj, int xproj_off,
                                __global const float *bias, int bias_off, int has_bias,
                                __global const float *hg, int hg_off, int has_hg,
                                __global float *state, int state_off,
                                __global const float *c0, int c0_off, int has_c0,
                                __global float *gates, int gates_off, int t, int T, int N,
                                int H)
{
    int e = get_global_id(0);
    if (e >= N * H)
        return;
    int n = e / H, j = e % H;
    int row = xproj_off + (t * N + n) * 4 * H + j;
    float pi = xproj[row], pf = xproj[row + H], pg = xproj[row + 2 * H], po = xproj[row + 3 * H];
    if (has_bias) {
        pi += bias[bias_off + j];
        pf += bias[bias_off + H + j];
        pg += bias[bias_off + 2 * H + j];
        po += bias[bias_off + 3 * H + j];
    }
    if (has_hg) {
        int r = hg_off + n * 4 * H + j;
        pi += hg[r];
        pf += hg[r + H];
        pg += hg[r + 2 * H];
        po += hg[r + 3 * H];
    }
    float i = sigmoid_f(pi), f = sigmoid_f(pf), g = tanh_f(pg), o = sigmoid_f(po);
    int cells = state_off + T * N * H; /* state[1] */
    float c_prev = t > 0 ? state[cells + (t - 1) * N * H + e] : (has_c0 ? c0[c0_off + e] : 0.0f);
    float c = f * c_prev + i * g;
    state[state_off + t * N * H + e] = o * tanh_f(c);
    state[cells + t * N * H + e] = c;
    int grow = gates_off + (t * N + n) * 4 * H + j;
    gates[grow] = i;
    gates[grow + H] = f;
    gates[grow + 2 * H] = g;
    gates[grow + 3 * H] = o;
}

/* With tc = tanh(c_t):
 *   dh = dstate_h[t] + dh_rec            dc = dstate_c[t] + dc_next + dh o (1 - tc^2)
 *   di = dc g i (1 - i)   df = dc c_{t-1} f (1 - f)   dg = dc i (1 - g^2)
 *   do = dh tc o (1 - o)  and the cell gradient carried to t - 1 is dc f. */
__kernel void lstm_step_backward(__global const float *dstate, int dstate_off,
                                 __global const float *state, int state_off,
                                 __global const float *gates, int gates_off,
                                 __global const float *c0, int c0_off, int has_c0,
                                 __global const float *dh_rec, int dh_rec_off, int has_rec,
                                 __global float *dc, int dc_off,
                                 __global float *dgates, int dgates_off, int t, int T, int N,
                                 int H)
{
    int e = get_global_id(0);
    if (e >= N * H)
        return;
    int n = e / H, j = e % H;
    int row = (t * N + n) * 4 * H;
    int at = t * N * H + e, cells = T * N * H;
    float i = gates[gates_off + row + j], f = gates[gates_off + row + H + j];
    float g = gates[gates_off + row + 2 * H + j], o = gates[gates_off + row + 3 * H + j];
    float tc = tanh_f(state[state_off + cells + at]);
    float c_prev = t > 0 ? state[state_off + cells + at - N * H]
                         : (has_c0 ? c0[c0_off + e] : 0.0f);
    float dh = dstate[dstate_off + at] + (has_rec ? dh_rec[dh_rec_off + e] : 0.0f);
    float dcell = dstate[dstate_off + cells + at] + (has_rec ? dc[dc_off + e] : 0.0f) +
                  dh * o * (1.0f - tc * tc);
    dgates[dgates_off + row + j] = dcell * g * i * (1.0f - i);
    dgates[dgates_off + row + H + j] = dcell * c_prev * f * (1.0f - f);
    dgates[dgates_off + row + 2 * H + j] = dcell * i * (1.0f - g * g);
    dgates[dgates_off + row + 3 * H + j] = dh * tc * o * (1.0f - o);
    dc[dc_off + e] = dcell * f;
}

/* h_t = tanh(xproj_t + h_{t-1} W_hh^T) */
__kernel void rnn_step_forward(__global const float *xproj, int xproj_off,
                               __global const float *bias, int bias_off, int has_bias,
                               __global const float *hg, int hg_off, int has_hg,
                               __global float *state, int state_off, int t, int N, int H)
{
    int e = get_global_id(0);
    if (e >= N * H)
        return;
    float pre = xproj[xproj_off + t * N * H + e] + (has_bias ? bias[bias_off + e % H] : 0.0f) +
                (has_hg ? hg[hg_off + e] : 0.0f);
    state[state_off + t * N * H + e] = tanh_f(pre);
}

/* dpre = (dstate[t] + dh_rec) (1 - h_t^2) */
__kernel void rnn_step_backward(__global const float *dstate, int dstate_off,
                                __global const float *state, int state_off,
                                __global const float *dh_rec, int dh_rec_off, int has_rec,
                                __global float *dgates, int dgates_off, int t, int N, int H)
{
    int e = get_global_id(0);
    if (e >= N * H)
        return;
    int at = t * N * H + e;
    float h = state[state_off + at];
    float dh = dstate[dstate_off + at] + (has_rec ? dh_rec[dh_rec_off + e] : 0.0f);
    dgates[dgates_off + at] = dh * (1.0f - h * h);
}

/* Adds the gradient g of a view of the state (the output sequence, h_n or
 * c_n) into the state's gradient dst (S, T, N, H) (zeroed first by the host
 * code when it held nothing). The view covers state[which][t0 .. t0 +
 * steps); g is contiguous in the view's order: (N, steps, H) when
 * batch_first, else (steps, N, H). */
__kernel void state_view_backward(__global const float *g, int g_off, __global float *dst,
                                  int dst_off, int which, int t0, int steps, int batch_first,
                                  int T, int N, int H)
{
    int e = get_global_id(0);
    if (e >= steps * N * H)
        return;
    int j = e % H, u, n;
    if (batch_first) {
        u = (e / H) % steps;
        n = e / (steps * H);
    } else {
        n = (e / H) % N;
        u = e / (N * H);
    }
    dst[dst_off + ((which * T + t0 + u) * N + n) * H + j] += g[g_off + e];
}
