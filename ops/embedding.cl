/* ops/embedding.cl: embedding lookup and its backward (ops/embedding.c).
 * weight (V, D) contiguous, ids int32 contiguous (M of them), out (M, D). */

/* out[m, d] = weight[ids[m], d]; an id outside [0, V) gives NaN (the op's
 * device-side report; clg_embedding_host checks on the host instead). */
__kernel void embedding_forward(__global const float *weight, int weight_off,
                                __global const int *ids, int ids_off, __global float *out,
                                int out_off, int M, int V, int D)
{
    int e = get_global_id(0);
    if (e >= M * D)
        return;
    int m = e / D, d = e % D;
    int id = ids[ids_off + m];
    out[out_off + e] = id >= 0 && id < V ? weight[weight_off + id * D + d] : NAN;
}

/* dweight[v, d] (+)= sum of g[m, d] over every m with ids[m] == v. One
 * work-item owns one element of dweight and scans all ids in order, so the
 * sum is deterministic and needs no atomics; the cost is V D M reads of ids,
 * cheap for character vocabularies (a word model would want a sort). */
__kernel void embedding_backward(__global const float *g, int g_off, __global const int *ids,
                                 int ids_off, __global float *dweight, int dweight_off, int M,
                                 int V, int D, int accumulate)
{
    int e = get_global_id(0);
    if (e >= V * D)
        return;
    int v = e / D, d = e % D;
    float sum = 0.0f;
    for (int m = 0; m < M; m++)
        if (ids[ids_off + m] == v)
            sum += g[g_off + m * D + d];
    dweight[dweight_off + e] = accumulate ? dweight[dweight_off + e] + sum : sum;
}
