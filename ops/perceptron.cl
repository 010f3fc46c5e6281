/* ops/perceptron.cl: Rosenblatt's perceptron rule, one epoch per launch.
 *
 * The rule is sequential by definition: sample i is judged by the weights
 * that samples 0 .. i-1 left, so the epoch cannot be split across
 * work-items without changing the algorithm (a parallel batch version is a
 * different method with a different convergence theorem). One work-item
 * walks the samples in order; the data are tiny next to a launch's cost.
 *
 * x (n, d) row-major, t (n) of +1 / -1, w (d + 1) with the bias first.
 * state: [0] updates so far, [1] epochs run, [2] 1 once an epoch made no
 * mistake (later launches then do nothing, so the host can enqueue several
 * epochs between reads), [3] mistakes in the last epoch. */

__kernel void perceptron_epoch(__global const float *x, int x_off, __global const int *t,
                               int t_off, __global float *w, int w_off, __global int *state,
                               int state_off, int n, int d, float eta)
{
    if (get_global_id(0) != 0)
        return;
    __global int *s = state + state_off;
    if (s[2])
        return;
    __global float *wb = w + w_off;
    int mistakes = 0;
    for (int i = 0; i < n; i++) {
        __global const float *xi = x + x_off + (size_t)i * (size_t)d;
        float activation = wb[0];
        for (int j = 0; j < d; j++)
            activation += wb[1 + j] * xi[j];
        int ti = t[t_off + i];
        /* t (w . x*) <= 0 is a mistake, zero included: Novikoff's bound
         * counts exactly these updates. */
        if ((float)ti * activation <= 0.0f) {
            float step = eta * (float)ti;
            wb[0] += step;
            for (int j = 0; j < d; j++)
                wb[1 + j] += step * xi[j];
            mistakes++;
        }
    }
    s[0] += mistakes;
    s[1] += 1;
    s[3] = mistakes;
    if (mistakes == 0)
        s[2] = 1;
}
