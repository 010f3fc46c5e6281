/* ops/matmul.c: matrix products through the GEMM dispatcher (clrt_gemm, cl/gemm.c).
 *
 *   C = A B          A (M,K), B (K,N), C (M,N); batched: (S,M,K)(S,K,N)
 *   dA = G B^T       one GEMM, beta = 1 when dA already holds a gradient
 *   dB = A^T G       one GEMM, likewise
 * A view whose last two axes are a transposed matrix reaches CLBlast as the
 * same buffer with the transpose flag set, so x W^T costs no copy; any other
 * strided view is made contiguous first.
 *
 *   C = A B^T        clg_matmul_nt: A (M,K), B (N,K), as a linear layer's x W^T
 *   dA = G B         dB = G^T A, in B's own layout (no transposed copy)
 *   Y = act(X W^T + b)   clg_linear_activation: the bias and the activation
 *                    applied by the GEMM as it stores C (clrt_gemm_fuses),
 *                    else clg_bias_activation after clg_matmul_nt; the same
 *                    two nodes on the tape either way
 * The layer could take clg_transpose(W) instead, but then W's gradient would
 * be computed as the (K,N) transpose and accumulated back through a strided
 * copy, which the profiler showed costing more than the GEMMs themselves. */
#include "ops/internal.h"

/* A tensor's last two axes as a row-major matrix for CLBlast; false when the
 * strides are neither row- nor column-major. */
static bool as_matrix(const clg_tensor *t, clrt_matrix *m)
{
    int r = t->rank;
    int64_t rows = t->shape[r - 2], cols = t->shape[r - 1];
    int64_t s_row = t->strides[r - 2], s_col = t->strides[r - 1];
    m->mem = t->mem;
    m->offset = t->offset;
    if ((s_col == 1 || cols == 1) && (s_row >= cols || rows == 1)) {
        m->trans = false;
        m->ld = (size_t)(rows == 1 ? (cols > 0 ? cols : 1) : s_row);
        return true;
    }
    if ((s_row == 1 || rows == 1) && (s_col >= rows || cols == 1)) {
        m->trans = true; /* stored as the row-major (cols x rows) matrix */
        m->ld = (size_t)(cols == 1 ? (rows > 0 ? rows : 1) : s_col);
        return true;
    }
    return false;
}

static size_t batch_stride(const clg_tensor *t)
{
    return t->rank == 3 ? (size_t)t->strides[0] : 0;
}

/* What a matmul node keeps besides its inputs a and b. */
typedef struct matmul_saved {
    bool nt; /* clg_matmul_nt (b is (N,K)) rather than clg_matmul */
} matmul_saved;

/* The gradient of `input` gets the product A B, an (m,k) x (k,n) product per
 * batch item, A read transposed when `ta` and B when `tb`: written, or added
 * (beta = 1) when the gradient already holds one. Nothing when `input` needs
 * no gradient. */
static void grad_product(clg_context *ctx, clg_tensor *input, size_t m, size_t n, size_t k,
                         const clg_tensor *a, bool ta, const clg_tensor *b, bool tb)
{
    bool accumulate = false;
    clg_tensor *dest = eng_grad_dest(ctx, input, &accumulate);
    if (!dest)
        return;
    clrt_matrix ma, mb, md;
    as_matrix(a, &ma);
    as_matrix(b, &mb);
    as_matrix(dest, &md);
    ma.trans = ma.trans != ta;
    mb.trans = mb.trans != tb;
    clrt_gemm(&ctx->rt, (clrt_gemm_desc){.m = m,
                                         .n = n,
                                         .k = k,
                                         .a = ma,
                                         .b = mb,
                                         .c = md,
                                         .beta = accumulate ? 1.0f : 0.0f,
                                         .batch = input->rank == 3 ? (size_t)input->shape[0] : 1,
                                         .stride_a = batch_stride(a),
                                         .stride_b = batch_stride(b),
                                         .stride_c = batch_stride(dest)});
}

static void matmul_backward(clg_context *ctx, const eng_node *node)
{
    const matmul_saved *saved = node->state;
    clg_tensor *a = node->inputs[0], *b = node->inputs[1], *g = node->output->grad;
    int r = a->rank;
    size_t m = (size_t)a->shape[r - 2], k = (size_t)a->shape[r - 1];
    size_t n = (size_t)b->shape[saved->nt ? r - 2 : r - 1];
    if (r == 3 && a->shape[0] == 0) /* nothing to add to (clrt_gemm reads batch 0 as 1) */
        return;
    if (saved->nt) {
        grad_product(ctx, a, m, k, n, g, false, b, false); /* dA = G B: (M,N) x (N,K) */
        grad_product(ctx, b, n, k, m, g, true, a, false);  /* dB = G^T A: (N,M) x (M,K) */
    } else {
        grad_product(ctx, a, m, k, n, g, false, b, true); /* dA = G B^T: (M,N) x (N,K) */
        grad_product(ctx, b, k, n, m, a, true, g, false); /* dB = A^T G: (K,M) x (M,N) */
    }
}

/* What clg_linear_activation asks the product to apply as it is stored:
 * out = act(a b^T + bias), bias [N] contiguous or NULL. */
typedef struct linear_epilogue {
    clg_tensor *bias;
    clg_activation act;
    float param; /* after op_activation_param */
} linear_epilogue;

/* The product a b (b^T when nt). With `ep` (2-D operands only), the GEMM
 * also adds the bias and applies the activation where clrt_gemm_fuses, and
 * *fused says whether it did; then the tape gets the two nodes the unfused
 * ops would record, the product's node with an output that views out's
 * storage: the product itself is never stored, and the activations that
 * fuse take their derivative from out alone (linear_fuses). */
static clg_tensor *matmul(const char *name, clg_tensor *a, clg_tensor *b, bool nt,
                          const linear_epilogue *ep, bool *fused)
{
    clg_tensor *inputs[2] = {a, b};
    clg_context *ctx = eng_op_begin_f32(name, 2, inputs);
    if (!ctx)
        return NULL;
    const clg_tensor *shapes[2] = {a, b};
    int r = a->rank;
    if (r != b->rank || (r != 2 && r != 3)) {
        op_fail_shapes(ctx, name, "are not two matrices or two batches of matrices", 2, shapes);
        return NULL;
    }
    /* b's axes: (K, N), or (N, K) for a b^T */
    int b_k = nt ? r - 1 : r - 2, b_n = nt ? r - 2 : r - 1;
    if (a->shape[r - 1] != b->shape[b_k] || (r == 3 && a->shape[0] != b->shape[0])) {
        op_fail_shapes(ctx, name, "do not multiply (inner sizes or batches differ)", 2, shapes);
        return NULL;
    }
    clrt_matrix ma, mb, mc;
    /* Views CLBlast cannot read as they are, and batches whose batch stride
     * is not uniform, become contiguous copies (recorded, so gradients flow). */
    if (!as_matrix(a, &ma) || (r == 3 && a->shape[0] > 1 && a->strides[0] == 0)) {
        if (!(a = inputs[0] = eng_contiguous(ctx, a)))
            return NULL;
        as_matrix(a, &ma);
    }
    if (!as_matrix(b, &mb) || (r == 3 && b->shape[0] > 1 && b->strides[0] == 0)) {
        if (!(b = inputs[1] = eng_contiguous(ctx, b)))
            return NULL;
        as_matrix(b, &mb);
    }
    int64_t shape[3];
    if (r == 3)
        shape[0] = a->shape[0];
    shape[r - 2] = a->shape[r - 2];
    shape[r - 1] = b->shape[b_n];
    clg_tensor *out = eng_new(ctx, CLG_DTYPE_F32, r, shape);
    if (!out)
        return NULL;
    as_matrix(out, &mc);
    mb.trans = mb.trans != nt; /* b^T: b read transposed */
    size_t batch = r == 3 ? (size_t)a->shape[0] : 1;
    clrt_gemm_desc d = {.m = (size_t)a->shape[r - 2],
                        .n = (size_t)b->shape[b_n],
                        .k = (size_t)a->shape[r - 1],
                        .a = ma,
                        .b = mb,
                        .c = mc,
                        .batch = batch,
                        .stride_a = batch_stride(a),
                        .stride_b = batch_stride(b),
                        .stride_c = batch_stride(out)};
    clrt_gemm_epilogue gemm_ep;
    if (ep && r == 2) {
        gemm_ep = (clrt_gemm_epilogue){.options = OP_KERNEL_OPTIONS,
                                       .act = (int)ep->act,
                                       .param = ep->param,
                                       .bias = ep->bias ? ep->bias->mem : NULL,
                                       .bias_offset = ep->bias ? ep->bias->offset : 0};
        d.epilogue = &gemm_ep;
        if (!clrt_gemm_fuses(&ctx->rt, &d))
            d.epilogue = NULL;
    }
    if (fused)
        *fused = d.epilogue != NULL;
    /* An empty batch has nothing to compute (clrt_gemm reads batch 0 as 1). */
    if (batch > 0 && clrt_gemm(&ctx->rt, d) != CLG_STATUS_OK)
        return NULL;
    clg_tensor *product = out;
    if (d.epilogue && !(product = eng_view(ctx, out, r, out->shape, out->strides, out->offset)))
        return NULL;
    if (eng_needs_grad(ctx, 2, inputs)) {
        eng_node *node =
            eng_record(ctx, name, matmul_backward, product, 2, inputs, sizeof(matmul_saved));
        if (!node)
            return NULL;
        ((matmul_saved *)node->state)->nt = nt;
    }
    if (d.epilogue && !op_bias_activation_record(ctx, product, ep->bias, ep->act, ep->param, out))
        return NULL;
    return out;
}

CLG_API clg_tensor *clg_matmul(clg_tensor *a, clg_tensor *b)
{
    return matmul("clg_matmul", a, b, false, NULL, NULL);
}

CLG_API clg_tensor *clg_matmul_nt(clg_tensor *a, clg_tensor *b)
{
    return matmul("clg_matmul_nt", a, b, true, NULL, NULL);
}

/* The activations whose derivative comes from their output alone (see
 * activation_partial in ops/activation_math.cl), so that the product before
 * them need not be stored. */
static bool linear_fuses(clg_activation act)
{
    return act == CLG_ACT_IDENTITY || act == CLG_ACT_RELU || act == CLG_ACT_SIGMOID ||
           act == CLG_ACT_TANH;
}

CLG_API clg_tensor *clg_linear_activation(clg_tensor *x, clg_tensor *weight, clg_tensor *bias,
                                          clg_activation act, float negative_slope)
{
    static const char name[] = "clg_linear_activation";
    clg_tensor *in[3] = {x, weight, bias};
    clg_context *ctx = eng_op_begin_f32(name, bias ? 3 : 2, in);
    if (!ctx)
        return NULL;
    if (!op_activation_name(act)) {
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT, "%s: unknown activation %d", name, (int)act);
        return NULL;
    }
    if (x->rank != 2 || weight->rank != 2 || x->shape[1] != weight->shape[1] ||
        (bias && (bias->rank != 1 || bias->shape[0] != weight->shape[0]))) {
        op_fail_shapes(ctx, name, "must be x (N, in), weight (out, in) and bias [out]",
                       bias ? 3 : 2, (const clg_tensor *const *)in);
        return NULL;
    }
    float param = op_activation_param(act, negative_slope);
    linear_epilogue ep = {bias, act, param};
    /* (a plain product gains nothing from an epilogue) */
    bool fuse = linear_fuses(act) && (bias || act != CLG_ACT_IDENTITY) &&
                (!bias || bias->strides[0] == 1),
         fused = false;
    clg_tensor *y = matmul(name, x, weight, true, fuse ? &ep : NULL, &fused);
    if (!y || fused || (!bias && act == CLG_ACT_IDENTITY))
        return y;
    return clg_bias_activation(y, bias, act, negative_slope);
}
