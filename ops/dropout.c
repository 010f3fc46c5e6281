/* ops/dropout.c: inverted dropout, torch.nn.functional.dropout.
 *
 *   out = m x / (1 - p)     dx = m g / (1 - p)
 * with m = [u >= p], u the uniform draw of the element: element i takes
 * index offset + i of stream 0 of Philox-4x32-10 keyed by the seed
 * (engine/random.h), so the mask depends only on (seed, offset, i): the same
 * on every device, and equal to what the host generator draws. Backward
 * regenerates the mask from (seed, offset) instead of saving it. p = 1 drops
 * everything (no division by zero); not training, or p = 0, returns the
 * input itself (no copy, no tape node), as PyTorch. Dropped elements are 0
 * even where x is NaN or infinite (PyTorch multiplies by a 0 mask and so
 * propagates NaN there); their gradient is 0 either way.
 * Kernels: ops/dropout.cl. */

#include "ops/internal.h"

#define SOURCE "ops/dropout.cl"

#define ARG_UINT(v) ((clrt_arg){sizeof(cl_uint), &(cl_uint){(cl_uint)(v)}, 0})

/* The generator's position as kernel arguments: the key halves, the first
 * Philox block (offset / 4, 64 bits in two halves) and where in it element 0
 * falls (offset % 4). */
typedef struct dropout_stream {
    uint32_t seed_lo, seed_hi, block_lo, block_hi;
    int first_word;
} dropout_stream;

static dropout_stream stream_at(uint64_t seed, uint64_t offset)
{
    uint64_t block = offset / 4;
    return (dropout_stream){(uint32_t)seed, (uint32_t)(seed >> 32), (uint32_t)block,
                            (uint32_t)(block >> 32), (int)(offset % 4)};
}

/* Work-items: one per Philox block touched by n elements. */
static size_t blocks(const dropout_stream *s, int n)
{
    return n == 0 ? 0 : ((size_t)s->first_word + (size_t)n + 3) / 4;
}

#define ARG_STREAM(s)                                                                              \
    ARG_UINT((s).seed_lo), ARG_UINT((s).seed_hi), ARG_UINT((s).block_lo), ARG_UINT((s).block_hi),  \
        CLRT_ARG_INT((s).first_word)

/* What a dropout node keeps: backward regenerates the forward's mask from the
 * same Philox stream rather than saving it. */
typedef struct dropout_saved {
    float p;         /* the drop probability */
    float scale;     /* 1 / (1 - p) for kept elements (0 when p is 1) */
    uint64_t seed;   /* the forward's Philox key */
    uint64_t offset; /* its first element's position in the stream */
} dropout_saved;

static void dropout_backward(clg_context *ctx, const eng_node *node)
{
    const dropout_saved *saved = node->state;
    clg_tensor *x = node->inputs[0];
    bool accumulate = false;
    clg_tensor *dst = eng_grad_dest(ctx, x, &accumulate);
    if (!dst)
        return;
    dropout_stream s = stream_at(saved->seed, saved->offset);
    int n = (int)clg_tensor_numel(x);
    OP_LAUNCH(ctx, SOURCE, "dropout_backward", blocks(&s, n), ENG_ARG_TENSOR(node->output->grad),
              ENG_ARG_TENSOR(dst), CLRT_ARG_INT(n), CLRT_ARG_INT(accumulate), ARG_STREAM(s),
              CLRT_ARG_FLOAT(saved->p), CLRT_ARG_FLOAT(saved->scale));
}

CLG_API clg_tensor *clg_dropout(clg_tensor *a, float p, bool training, uint64_t seed,
                                uint64_t offset)
{
    static const char name[] = "clg_dropout";
    clg_context *ctx = eng_op_begin_f32(name, 1, &a);
    if (!ctx)
        return NULL;
    if (!(p >= 0.0f && p <= 1.0f)) { /* NaN fails too */
        char s[64];
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT,
                 "%s: p must be a probability in [0, 1], not %g (input %s)", name, (double)p,
                 eng_shape_str(a, s, sizeof s));
        return NULL;
    }
    if (!training || p == 0.0f)
        return a;
    clg_tensor *out = eng_new(ctx, CLG_DTYPE_F32, a->rank, a->shape);
    if (!out)
        return NULL;
    float scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
    dropout_stream s = stream_at(seed, offset);
    cl_int shape[4], strides[4];
    eng_shape4(a, shape);
    eng_strides4(a, strides);
    int n = (int)clg_tensor_numel(a);
    if (!OP_LAUNCH(ctx, SOURCE, "dropout_forward", blocks(&s, n), ENG_ARG_TENSOR(a), OP_ARG4(shape),
                   OP_ARG4(strides), ENG_ARG_TENSOR(out), CLRT_ARG_INT(n), ARG_STREAM(s),
                   CLRT_ARG_FLOAT(p), CLRT_ARG_FLOAT(scale)))
        return NULL;
    if (eng_needs_grad(ctx, 1, &a)) {
        eng_node *node = eng_record(ctx, name, dropout_backward, out, 1, &a,
                                    sizeof(dropout_saved));
        if (!node)
            return NULL;
        dropout_saved *saved = node->state;
        saved->p = p;
        saved->scale = scale;
        saved->seed = seed;
        saved->offset = offset;
    }
    return out;
}
