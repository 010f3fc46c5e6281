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
    /* Contiguous layouts (axes of size 1 aside) map i to itself: most
     * tensors are, and skipping the three divisions lets PoCL vectorise
     * the caller (measured: an exp kernel ran 1.8x faster). The test is the
     * same for every work-item, so it does not diverge. */
    int inner_z = shape.w, inner_y = inner_z * shape.z, inner_x = inner_y * shape.y;
    if ((shape.w == 1 || strides.w == 1) && (shape.z == 1 || strides.z == inner_z) &&
        (shape.y == 1 || strides.y == inner_y) && (shape.x == 1 || strides.x == inner_x))
        return i;
    int o = (i % shape.w) * strides.w;
    i /= shape.w;
    o += (i % shape.z) * strides.z;
    i /= shape.z;
    o += (i % shape.y) * strides.y;
    i /= shape.y;
    return o + i * strides.x;
}

/* The launch plan's vector width (every program is built with -DCLG_VW; 1
 * when a source is compiled on its own) as a type, floatw, for kernels that
 * take that many elements a work-item: VLOADW(p) and VSTOREW(v, p) at p. */
#ifndef CLG_VW
#define CLG_VW 1
#endif
#define CLG_CAT_(a, b) a##b
#define CLG_CAT(a, b) CLG_CAT_(a, b)
#if CLG_VW == 1
typedef float floatw;
#define VLOADW(p) (*(p))
#define VSTOREW(v, p) (*(p) = (v))
#else
typedef CLG_CAT(float, CLG_VW) floatw;
#define VLOADW(p) CLG_CAT(vload, CLG_VW)(0, (p))
#define VSTOREW(v, p) CLG_CAT(vstore, CLG_VW)((v), 0, (p))
#endif

#ifndef CLG_REDUCE_GROUP
#define CLG_REDUCE_GROUP 64 /* the launch plan's reduce_group, which the launch uses */
#endif

/* The sum of every item's `v` in a work-group of CLG_REDUCE_GROUP items,
 * returned to every item: a tree in `scratch` (CLG_REDUCE_GROUP floats of
 * local memory), so the order of additions depends on the group size only.
 * Every item of the group must call it (it holds barriers). */
inline float group_sum(__local float *scratch, float v)
{
    int l = get_local_id(0);
    scratch[l] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int width = CLG_REDUCE_GROUP / 2; width > 0; width /= 2) {
        if (l < width)
            scratch[l] += scratch[l + width];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float sum = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE); /* scratch is reused by the next call */
    return sum;
}

#endif
