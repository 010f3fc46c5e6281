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

static clg_tensor *matmul(const char *name, clg_tensor *a, clg_tensor *b, bool nt)
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
    /* An empty batch has nothing to compute (clrt_gemm reads batch 0 as 1). */
    if (batch > 0 &&
        clrt_gemm(&ctx->rt, (clrt_gemm_desc){.m = (size_t)a->shape[r - 2],
                                             .n = (size_t)b->shape[b_n],
                                             .k = (size_t)a->shape[r - 1],
                                             .a = ma,
                                             .b = mb,
                                             .c = mc,
                                             .batch = batch,
                                             .stride_a = batch_stride(a),
                                             .stride_b = batch_stride(b),
                                             .stride_c = batch_stride(out)}) != CLG_STATUS_OK)
        return NULL;
    if (eng_needs_grad(ctx, 2, inputs)) {
        eng_node *node = eng_record(ctx, name, matmul_backward, out, 2, inputs,
                                    sizeof(matmul_saved));
        if (!node)
            return NULL;
        ((matmul_saved *)node->state)->nt = nt;
    }
    return out;
}

CLG_API clg_tensor *clg_matmul(clg_tensor *a, clg_tensor *b)
{
    return matmul("clg_matmul", a, b, false);
}

CLG_API clg_tensor *clg_matmul_nt(clg_tensor *a, clg_tensor *b)
{
    return matmul("clg_matmul_nt", a, b, true);
}
