/* ops/gaussian.c: the two pieces a variational autoencoder adds to an
 * autoencoder (Kingma and Welling 2013, 1312.6114; the lecture's ELBO):
 *
 *   reparameterisation  z = mu + s eps,  s = exp(0.5 logvar)
 *       dmu = g    dlogvar = 0.5 g eps s    deps = g s
 *   Gaussian KL against N(0, I), per element
 *       kl = -0.5 (1 + logvar - mu^2 - exp(logvar))
 *       dmu = g mu    dlogvar = 0.5 g (exp(logvar) - 1)
 * Each is one elementwise kernel forward and one per input backward (s is
 * recomputed there, not saved). The KL's SUM / MEAN come from clg_sum_all /
 * clg_mean_all, as the losses in ops/loss.c. eps is an input, not drawn
 * here, so tests feed the same numbers to PyTorch; clg_randn makes it on the
 * device. Kernels: ops/gaussian.cl. */
#include "ops/internal.h"

#define SOURCE "ops/gaussian.cl"

/* ---- reparameterisation ---- */

static void reparameterize_backward(clg_context *ctx, const eng_node *node)
{
    clg_tensor *logvar = node->inputs[1], *eps = node->inputs[2];
    cl_int shape[4], lv_str[4], eps_str[4];
    eng_shape4(logvar, shape);
    eng_strides4(logvar, lv_str);
    eng_strides4(eps, eps_str);
    int n = (int)clg_tensor_numel(logvar);
    for (int which = 0; which < 3; which++) {
        bool accumulate = false;
        clg_tensor *dst = eng_grad_dest(ctx, node->inputs[which], &accumulate);
        if (!dst)
            continue;
        OP_LAUNCH(ctx, SOURCE, "reparameterize_backward", (size_t)n, CLRT_ARG_INT(which),
                  ENG_ARG_TENSOR(node->output->grad), ENG_ARG_TENSOR(logvar), OP_ARG4(lv_str),
                  ENG_ARG_TENSOR(eps), OP_ARG4(eps_str), OP_ARG4(shape), ENG_ARG_TENSOR(dst),
                  CLRT_ARG_INT(n), CLRT_ARG_INT(accumulate));
    }
}

CLG_API clg_tensor *clg_reparameterize(clg_tensor *mu, clg_tensor *logvar, clg_tensor *eps)
{
    static const char name[] = "clg_reparameterize";
    clg_tensor *inputs[3] = {mu, logvar, eps};
    clg_context *ctx = eng_op_begin_f32(name, 3, inputs);
    if (!ctx)
        return NULL;
    if (!eng_same_shape(mu, logvar) || !eng_same_shape(mu, eps)) {
        const clg_tensor *ts[3] = {mu, logvar, eps};
        op_fail_shapes(ctx, name, "differ (mu, logvar and eps must have the same shape)", 3, ts);
        return NULL;
    }
    clg_tensor *z = eng_new(ctx, CLG_DTYPE_F32, mu->rank, mu->shape);
    if (!z)
        return NULL;
    cl_int shape[4], mu_str[4], lv_str[4], eps_str[4];
    eng_shape4(mu, shape);
    eng_strides4(mu, mu_str);
    eng_strides4(logvar, lv_str);
    eng_strides4(eps, eps_str);
    int n = (int)clg_tensor_numel(mu);
    if (!OP_LAUNCH(ctx, SOURCE, "reparameterize_forward", (size_t)n, ENG_ARG_TENSOR(mu),
                   OP_ARG4(mu_str), ENG_ARG_TENSOR(logvar), OP_ARG4(lv_str), ENG_ARG_TENSOR(eps),
                   OP_ARG4(eps_str), OP_ARG4(shape), ENG_ARG_TENSOR(z), CLRT_ARG_INT(n)))
        return NULL;
    if (eng_needs_grad(ctx, 3, inputs) && !eng_record(ctx, name, reparameterize_backward, z, 3,
                                                      inputs, 0))
        return NULL;
    return z;
}

/* ---- KL divergence against N(0, I) ---- */

static void gaussian_kl_backward(clg_context *ctx, const eng_node *node)
{
    cl_int shape[4];
    eng_shape4(node->inputs[0], shape);
    int n = (int)clg_tensor_numel(node->inputs[0]);
    for (int which = 0; which < 2; which++) {
        clg_tensor *x = node->inputs[which];
        bool accumulate = false;
        clg_tensor *dst = eng_grad_dest(ctx, x, &accumulate);
        if (!dst)
            continue;
        cl_int x_str[4];
        eng_strides4(x, x_str);
        OP_LAUNCH(ctx, SOURCE, "gaussian_kl_backward", (size_t)n, CLRT_ARG_INT(which),
                  ENG_ARG_TENSOR(node->output->grad), ENG_ARG_TENSOR(x), OP_ARG4(x_str),
                  OP_ARG4(shape), ENG_ARG_TENSOR(dst), CLRT_ARG_INT(n), CLRT_ARG_INT(accumulate));
    }
}

CLG_API clg_tensor *clg_gaussian_kl(clg_tensor *mu, clg_tensor *logvar, clg_reduction reduction)
{
    static const char name[] = "clg_gaussian_kl";
    clg_tensor *inputs[2] = {mu, logvar};
    clg_context *ctx = eng_op_begin_f32(name, 2, inputs);
    if (!ctx)
        return NULL;
    if (reduction != CLG_REDUCTION_MEAN && reduction != CLG_REDUCTION_SUM &&
        reduction != CLG_REDUCTION_NONE) {
        eng_fail(ctx, CLG_STATUS_INVALID_ARGUMENT, "%s: unknown reduction %d", name,
                 (int)reduction);
        return NULL;
    }
    if (!eng_same_shape(mu, logvar)) {
        const clg_tensor *ts[2] = {mu, logvar};
        op_fail_shapes(ctx, name, "differ (mu and logvar must have the same shape)", 2, ts);
        return NULL;
    }
    clg_tensor *kl = eng_new(ctx, CLG_DTYPE_F32, mu->rank, mu->shape);
    if (!kl)
        return NULL;
    cl_int shape[4], mu_str[4], lv_str[4];
    eng_shape4(mu, shape);
    eng_strides4(mu, mu_str);
    eng_strides4(logvar, lv_str);
    int n = (int)clg_tensor_numel(mu);
    if (!OP_LAUNCH(ctx, SOURCE, "gaussian_kl_forward", (size_t)n, ENG_ARG_TENSOR(mu),
                   OP_ARG4(mu_str), ENG_ARG_TENSOR(logvar), OP_ARG4(lv_str), OP_ARG4(shape),
                   ENG_ARG_TENSOR(kl), CLRT_ARG_INT(n)))
        return NULL;
    if (eng_needs_grad(ctx, 2, inputs) && !eng_record(ctx, name, gaussian_kl_backward, kl, 2,
                                                      inputs, 0))
        return NULL;
    switch (reduction) {
    case CLG_REDUCTION_SUM: return clg_sum_all(kl);
    case CLG_REDUCTION_MEAN: return clg_mean_all(kl);
    default: return kl;
    }
}
