/* engine/tensor.cl: the engine's own kernels: gathering a strided view into
 * contiguous memory, and accumulating a strided gradient. */
#include "cl/common.cl"

/* dst[i] = src[view(i)]; 32-bit elements of either dtype. */
__kernel void copy_strided(__global const uint *src, int src_off, int4 shape, int4 strides,
                           __global uint *dst, int dst_off, int n)
{
    int i = get_global_id(0);
    if (i >= n)
        return;
    dst[dst_off + i] = src[src_off + offset4(i, shape, strides)];
}

/* dst[i] = (accumulate ? dst[i] : 0) + src[view(i)] */
__kernel void accumulate_strided(__global const float *src, int src_off, int4 shape, int4 strides,
                                 __global float *dst, int dst_off, int n, int accumulate)
{
    int i = get_global_id(0);
    if (i >= n)
        return;
    float v = src[src_off + offset4(i, shape, strides)];
    dst[dst_off + i] = accumulate ? dst[dst_off + i] + v : v;
}
