/* cl/memory.cl: the runtime's fill (clrt_fill in cl/memory.c). PoCL runs
 * clEnqueueFillBuffer on one thread, a pattern at a time; this kernel spreads
 * a fill over the cores in runs of whole vectors (6.5 MB of zeros: 0.54 ms
 * there, 0.13 ms here, on two AVX-512 cores).
 *
 * dst[off + i] = value for i in [0, n): a work-item per `run` words (the
 * plan's fill_run), stored CLG_VW at a time (vstore needs only the word's
 * alignment) and the rest one by one. */
#ifndef CLG_VW
#define CLG_VW 1
#endif

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

__kernel void fill_words(__global uint *dst, int off, int n, uint value, int run)
{
    int i = get_global_id(0) * run, end = min(i + run, n);
    dst += off;
#if CLG_VW > 1
    for (; i + CLG_VW <= end; i += CLG_VW)
        CAT(vstore, CLG_VW)((CAT(uint, CLG_VW))(value), 0, dst + i);
#endif
    for (; i < end; i++)
        dst[i] = value;
}
