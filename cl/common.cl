/* cl/common.cl: helpers shared by every kernel source (inlined by the build
 * where a source says #include "cl/common.cl").
 *
 * Tensors reach kernels as (buffer, element offset) plus, for strided
 * access, shape and strides padded on the left to rank 4 as int4 (x is the
 * outermost axis, w the innermost). */
#ifndef CLGRAD_COMMON_CL
#define CLGRAD_COMMON_CL

/* Element offset of the i-th element in row-major order of `shape`, in a
 * tensor laid out with `strides`. */
inline int offset4(int i, int4 shape, int4 strides)
{
    int o = (i % shape.w) * strides.w;
    i /= shape.w;
    o += (i % shape.z) * strides.z;
    i /= shape.z;
    o += (i % shape.y) * strides.y;
    i /= shape.y;
    return o + i * strides.x;
}

#endif
