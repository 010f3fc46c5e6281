/* ops/reduce.cl: sums and maxima over one axis or over a whole tensor, and
 * their backward kernels.
 *
 * Axis reductions: one work-item per output element, walking the reduced
 * axis through the input's strides. The output element j is numbered in the
 * "keepdim" shape (the input's shape with size 1 on the reduced axis), so
 * offset4(j, kshape, strides) is where its run starts in the input.
 *
 * Whole-tensor reductions run in two stages of the same kernel: a fixed
 * number of work-groups each reduce a grid-strided share into one partial
 * (a short running sum per work-item, then a tree in local memory), and one
 * work-group reduces the partials the same way. The order of every addition
 * depends only on the element count, so results are deterministic, and the
 * error grows with the log of the count rather than with the count.
 *
 * Maxima carry (value, index) pairs: the larger value wins, a tie goes to
 * the smaller index (the first maximum, as torch.max(dim)), and NaN beats
 * everything, so a NaN propagates as in PyTorch. */
#include "cl/common.cl"

/* Whether (v, i) replaces the current best (bv, bi). */
inline bool max_better(float v, int i, float bv, int bi)
{
    if (isnan(bv))
        return isnan(v) && i < bi;
    if (isnan(v))
        return true;
    return v > bv || (v == bv && i < bi);
}

/* out (contiguous, the keepdim shape; n elements) = scale * sum over the axis
 * (count elements, `step` apart in x) */
__kernel void sum_axis(__global const float *x, int x_off, int4 kshape, int4 strides, int step,
                       int count, __global float *out, int out_off, int n, float scale)
{
    int j = get_global_id(0);
    if (j >= n)
        return;
    int base = x_off + offset4(j, kshape, strides);
    float sum = 0.0f;
    for (int a = 0; a < count; a++)
        sum += x[base + a * step];
    out[out_off + j] = sum * scale;
}

/* idx = position of the first maximum along the axis; out = its value unless
 * write_value is 0 (argmax: `out` is then not touched). */
__kernel void max_axis(__global const float *x, int x_off, int4 kshape, int4 strides, int step,
                       int count, __global float *out, int out_off, int write_value,
                       __global int *idx, int idx_off, int n)
{
    int j = get_global_id(0);
    if (j >= n)
        return;
    int base = x_off + offset4(j, kshape, strides);
    float best = -INFINITY;
    int best_i = INT_MAX;
    for (int a = 0; a < count; a++) {
        float v = x[base + a * step];
        if (max_better(v, a, best, best_i)) {
            best = v;
            best_i = a;
        }
    }
    idx[idx_off + j] = best_i;
    if (write_value)
        out[out_off + j] = best;
}

/* One stage of the whole-tensor sum: group g writes scale * (the sum of
 * elements g*CLG_REDUCE_GROUP + l + k*global_size of x, read as a view of `shape`) to
 * out[g]. The first stage reads the input; the second reads the partials as
 * a contiguous vector (shape (1,1,1,groups), strides (0,0,0,1)). */
__kernel void sum_all(__global const float *x, int x_off, int4 shape, int4 strides, int n,
                      __global float *out, int out_off, float scale)
{
    __local float scratch[CLG_REDUCE_GROUP];
    float sum = 0.0f;
    for (int i = get_global_id(0); i < n; i += get_global_size(0))
        sum += x[x_off + offset4(i, shape, strides)];
    sum = group_sum(scratch, sum);
    if (get_local_id(0) == 0)
        out[out_off + get_group_id(0)] = sum * scale;
}

/* One stage of the whole-tensor max: like sum_all with (value, index) pairs.
 * The first stage numbers elements by their row-major position (use_idx 0);
 * the second reads the partials' indices from idx_in. */
__kernel void max_all(__global const float *x, int x_off, int4 shape, int4 strides, int n,
                      __global const int *idx_in, int idx_in_off, int use_idx,
                      __global float *out, int out_off, __global int *idx, int idx_off)
{
    __local float best_v[CLG_REDUCE_GROUP];
    __local int best_i[CLG_REDUCE_GROUP];
    int l = get_local_id(0);
    float bv = -INFINITY;
    int bi = INT_MAX;
    for (int i = get_global_id(0); i < n; i += get_global_size(0)) {
        float v = x[x_off + offset4(i, shape, strides)];
        int vi = use_idx ? idx_in[idx_in_off + i] : i;
        if (max_better(v, vi, bv, bi)) {
            bv = v;
            bi = vi;
        }
    }
    best_v[l] = bv;
    best_i[l] = bi;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int width = CLG_REDUCE_GROUP / 2; width > 0; width /= 2) {
        if (l < width && max_better(best_v[l + width], best_i[l + width], best_v[l], best_i[l])) {
            best_v[l] = best_v[l + width];
            best_i[l] = best_i[l + width];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (l == 0) {
        out[out_off + get_group_id(0)] = best_v[0];
        idx[idx_off + get_group_id(0)] = best_i[0];
    }
}

/* Backward of sum and mean: dst (contiguous, the input's shape seen as
 * (outer, count, inner)) (+)= scale * g broadcast along the middle axis; g is
 * contiguous (outer, inner). A whole-tensor reduction is count = n, inner = 1.
 * The divisions that find g's element are skipped where the shape makes
 * them trivial (one outer block, or inner 1): a uniform branch, and per
 * element they cost more than the rest (a whole-tensor mean's gradient over
 * 819,200 floats: 5.6 ms with them). */
__kernel void sum_backward(__global const float *g, int g_off, int count, int inner, float scale,
                           __global float *dst, int dst_off, int n, int accumulate)
{
    int i = get_global_id(0);
    if (i >= n)
        return;
    int block = count * inner;
    int o = block == n ? 0 : i / block, k = inner == 1 ? 0 : i % inner;
    float v = g[g_off + o * inner + k] * scale;
    dst[dst_off + i] = accumulate ? dst[dst_off + i] + v : v;
}

/* Backward of max: the gradient goes only to the element whose position
 * along the axis is the saved index. */
__kernel void max_backward(__global const float *g, int g_off, __global const int *idx,
                           int idx_off, int count, int inner, __global float *dst, int dst_off,
                           int n, int accumulate)
{
    int i = get_global_id(0);
    if (i >= n)
        return;
    int o = i / (count * inner) * inner + i % inner;
    float v = (i / inner) % count == idx[idx_off + o] ? g[g_off + o] : 0.0f;
    dst[dst_off + i] = accumulate ? dst[dst_off + i] + v : v;
}

/* ---- sums of a strided view, in two stages (the gpu plan's bias gradients,
 * op_sum_view in ops/reduce.c) ----
 * out[o] (+)= the sum over a < A, b < B of x[a sa + o so + b sb], with
 * dims = (A, O, B, S) and strides = (sa, so, sb, unused). The flattened
 * range r = a B + b of each output is cut into S slices; work-group
 * g = o S + s adds slice s with its CLG_REDUCE_GROUP work-items striding
 * along it, then a tree in local memory. With S == 1 the group writes
 * out[o] itself; else partial[g], which sum_view_finish adds up. Every
 * work-item reaches every barrier (the bounds only shorten loops), and the
 * order of additions depends on the sizes alone: the same result each run. */
__kernel void sum_view_partial(__global const float *x, int x_off, int4 dims, int4 strides,
                               __global float *dst, int dst_off, int accumulate)
{
    __local float scratch[CLG_REDUCE_GROUP];
    int g = get_group_id(0), l = get_local_id(0);
    int slices = dims.w, o = g / slices, s = g - o * slices;
    int total = dims.x * dims.z, per = (total + slices - 1) / slices;
    int begin = s * per, end = o < dims.y ? min(begin + per, total) : begin;
    float sum = 0.0f;
    for (int r = begin + l; r < end; r += CLG_REDUCE_GROUP) {
        int a = r / dims.z, b = r - a * dims.z;
        sum += x[x_off + a * strides.x + o * strides.y + b * strides.z];
    }
    scratch[l] = sum;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int width = CLG_REDUCE_GROUP / 2; width > 0; width /= 2) {
        if (l < width)
            scratch[l] += scratch[l + width];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (l == 0 && o < dims.y) {
        int k = dst_off + (slices == 1 ? o : g);
        dst[k] = slices == 1 && accumulate ? dst[k] + scratch[0] : scratch[0];
    }
}

/* out[o] (+)= the sum of partial[o S ... o S + S - 1], in order. */
__kernel void sum_view_finish(__global const float *partial, int partial_off, int outputs,
                              int slices, __global float *out, int out_off, int accumulate)
{
    int o = get_global_id(0);
    if (o >= outputs)
        return;
    float sum = 0.0f;
    for (int s = 0; s < slices; s++)
        sum += partial[partial_off + o * slices + s];
    out[out_off + o] = accumulate ? out[out_off + o] + sum : sum;
}

/* Column sums of a row-major (A, O) view with row stride sa, the case of
 * op_sum_view where outputs are contiguous (a dense layer's bias gradient):
 * a work-group is a tile of get_local_size(0) columns by get_local_size(1)
 * row lanes (a power of two, product at most CLG_REDUCE_GROUP), so that
 * neighbouring work-items read neighbouring columns (coalesced on a GPU);
 * group row s takes slice s of the rows, each lane every lanes-th row of it,
 * and a tree adds the lanes of each column. With one slice the group writes
 * out[o] itself, else partial[o S + s] for sum_view_finish. */
__kernel void sum_columns_partial(__global const float *x, int x_off, int rows, int cols,
                                  int row_stride, int slices, __global float *dst, int dst_off,
                                  int accumulate)
{
    __local float scratch[CLG_REDUCE_GROUP];
    int width = get_local_size(0), lanes = get_local_size(1);
    int column = get_local_id(0), lane = get_local_id(1);
    int o = get_group_id(0) * width + column, s = get_group_id(1);
    int per = (rows + slices - 1) / slices;
    int begin = s * per, end = o < cols ? min(begin + per, rows) : begin;
    float sum = 0.0f;
    for (int r = begin + lane; r < end; r += lanes)
        sum += x[x_off + r * row_stride + o];
    scratch[lane * width + column] = sum;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int apart = lanes / 2; apart > 0; apart /= 2) {
        if (lane < apart)
            scratch[lane * width + column] += scratch[(lane + apart) * width + column];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lane == 0 && o < cols) {
        int k = dst_off + (slices == 1 ? o : o * slices + s);
        dst[k] = slices == 1 && accumulate ? dst[k] + scratch[column] : scratch[column];
    }
}
