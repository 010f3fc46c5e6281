"""Gradients of the ops (python/clgrad/ops.py over ops.h) against NumPy:
each op's forward against a float64 NumPy reference, and its backward
against central finite differences of that reference. The loss is
sum(op(inputs) * w) with random w, so every output element's gradient
counts; inputs stay away from kinks (relu, abs, max ties)."""
import numpy as np
import pytest

import clgrad

H = 1e-6  # central-difference step, in float64
RTOL, ATOL = 2e-3, 2e-4  # the engine computes in float32


def numeric_gradient(f, inputs, w, index):
    x = inputs[index]
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        saved = x[i]
        x[i] = saved + H
        up = np.sum(f(*inputs) * w)
        x[i] = saved - H
        down = np.sum(f(*inputs) * w)
        x[i] = saved
        grad[i] = (up - down) / (2 * H)
    return grad


def away_from_zero(rng, shape, low=0.2, high=1.5):
    return rng.uniform(low, high, shape) * rng.choice([-1.0, 1.0], shape)


def positive(rng, shape):
    return rng.uniform(0.5, 2.0, shape)


def distinct(rng, shape):
    # A permutation of well-spaced values: no ties for max and max_all.
    return (rng.permutation(int(np.prod(shape))).reshape(shape) - 3.0) * 0.37


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def log_softmax(x, axis):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def conv2d(x, w, b, stride, pad):
    n, c, h, width = x.shape
    k, _, kh, kw = w.shape
    x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    ho, wo = (h + 2 * pad - kh) // stride + 1, (width + 2 * pad - kw) // stride + 1
    out = np.zeros((n, k, ho, wo), dtype=np.result_type(x, w))
    for i in range(ho):
        for j in range(wo):
            patch = x[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[:, :, i, j] = np.einsum('nchw,kchw->nk', patch, w)
    return out + b.reshape(1, k, 1, 1)


def pool2d(x, size, reduce):
    n, c, h, w = x.shape
    return reduce(x.reshape(n, c, h // size, size, w // size, size), axis=(3, 5))


def pool2d_ceil(x, size, reduce):
    """ceil_mode=True with count_include_pad=False: the clipped last windows
    see NaN past the input, which np.nanmax and np.nanmean skip."""
    n, c, h, w = x.shape
    padded = np.full((n, c, -(-h // size) * size, -(-w // size) * size), np.nan, x.dtype)
    padded[:, :, :h, :w] = x
    return pool2d(padded, size, reduce)


LABELS = np.array([2, 0, 1, 2])

# name: (clgrad function, NumPy reference, input makers)
CASES = {
    'add': (lambda a, b: a + b, lambda a, b: a + b, [(3, 4), (4,)]),
    'sub': (lambda a, b: a - b, lambda a, b: a - b, [(3, 1), (3, 4)]),
    'mul': (lambda a, b: a * b, lambda a, b: a * b, [(2, 3, 4), (3, 1)]),
    'div': (lambda a, b: a / b, lambda a, b: a / b, [(3, 4), ('positive', (3, 4))]),
    'affine': (lambda a: clgrad.affine(a, -1.5, 0.25), lambda a: a * -1.5 + 0.25, [(5,)]),
    'neg': (clgrad.neg, lambda a: -a, [(2, 3)]),
    'exp': (clgrad.exp, np.exp, [(2, 3)]),
    'log': (clgrad.log, np.log, [('positive', (2, 3))]),
    'sqrt': (clgrad.sqrt, np.sqrt, [('positive', (2, 3))]),
    'abs': (clgrad.abs, np.abs, [('away', (2, 3))]),
    'pow': (lambda a: a ** 2.5, lambda a: a ** 2.5, [('positive', (2, 3))]),
    'pow_tensor': (lambda a, b: a ** b, lambda a, b: a ** b, [('positive', (3, 1, 4)), (2, 4)]),
    'rpow': (lambda a: 2.0 ** a, lambda a: 2.0 ** a, [(2, 3)]),
    'sigmoid': (clgrad.sigmoid, sigmoid, [(3, 4)]),
    'tanh': (clgrad.tanh, np.tanh, [(3, 4)]),
    'relu': (clgrad.relu, lambda a: np.maximum(a, 0), [('away', (3, 4))]),
    'leaky_relu': (lambda a: clgrad.leaky_relu(a, 0.1), lambda a: np.where(a > 0, a, 0.1 * a),
                   [('away', (3, 4))]),
    'softplus': (clgrad.softplus, lambda a: np.log1p(np.exp(a)), [(3, 4)]),
    'clamp': (lambda a: clgrad.clamp(a, -0.1, 2.0), lambda a: np.clip(a, -0.1, 2.0),
              [('away', (3, 4))]),
    'clamp_min': (lambda a: a.clamp(min=0.1), lambda a: np.maximum(a, 0.1), [('away', (3, 4))]),
    'elu': (lambda a: clgrad.elu(a, 0.5), lambda a: np.where(a > 0, a, 0.5 * np.expm1(a)),
            [('away', (3, 4))]),
    'selu': (clgrad.selu, lambda a: 1.0507009873554805 * np.where(a > 0, a, 1.6732632423543772
                                                                  * np.expm1(a)),
             [('away', (3, 4))]),
    'hardsigmoid': (clgrad.hardsigmoid, lambda a: np.clip(a / 6 + 0.5, 0, 1), [(3, 4)]),
    'bias_activation': (lambda x, b: clgrad.bias_activation(x, b, 'tanh'),
                        lambda x, b: np.tanh(x + b), [(4, 3), (3,)]),
    'bias_activation_elu': (lambda x, b: clgrad.bias_activation(x, b, 'elu'),
                            lambda x, b: np.where(x + b > 0, x + b, np.expm1(x + b)),
                            [(4, 3), (3,)]),
    'sum': (lambda a: a.sum(dim=1), lambda a: a.sum(1), [(3, 4)]),
    'mean': (lambda a: a.mean(dim=0, keepdim=True), lambda a: a.mean(0, keepdims=True), [(3, 4)]),
    'max': (lambda a: a.max(dim=-1), lambda a: a.max(-1), [('distinct', (3, 4))]),
    'sum_all': (clgrad.sum_all, np.sum, [(3, 4)]),
    'mean_all': (clgrad.mean_all, np.mean, [(3, 4)]),
    'max_all': (clgrad.max_all, np.max, [('distinct', (3, 4))]),
    'matmul': (lambda a, b: a @ b, np.matmul, [(3, 4), (4, 2)]),
    'matmul_batched': (clgrad.matmul, np.matmul, [(2, 3, 4), (2, 4, 5)]),
    'matmul_transposed_view': (lambda a, b: a.T @ b, lambda a, b: a.T @ b, [(4, 3), (4, 2)]),
    'matmul_nt': (clgrad.matmul_nt, lambda a, b: a @ b.T, [(3, 4), (5, 4)]),
    'linear_activation': (lambda x, w, b: clgrad.linear_activation(x, w, b, 'tanh'),
                          lambda x, w, b: np.tanh(x @ w.T + b), [(3, 4), (5, 4), (5,)]),
    'linear_activation_elu': (lambda x, w, b: clgrad.linear_activation(x, w, b, 'elu'),
                              lambda x, w, b: np.where(x @ w.T + b > 0, x @ w.T + b,
                                                       np.expm1(x @ w.T + b)),
                              [(3, 4), (5, 4), (5,)]),
    'transpose': (lambda a: a.transpose(0, 2) * 1, lambda a: a.transpose(2, 1, 0), [(2, 3, 4)]),
    'reshape': (lambda a: a.T.reshape(4, 3), lambda a: a.T.reshape(4, 3), [(3, 4)]),
    'softmax': (lambda a: clgrad.softmax(a, -1), lambda a: np.exp(log_softmax(a, -1)), [(3, 4)]),
    'log_softmax': (lambda a: clgrad.log_softmax(a, 0), lambda a: log_softmax(a, 0), [(3, 4)]),
    'mse_loss': (clgrad.mse_loss, lambda a, b: np.mean((a - b) ** 2), [(3, 4), (3, 4)]),
    'bce_loss': (lambda p: clgrad.bce_loss(p, np.array([0.0, 1.0, 1.0, 0.0]), 'sum'),
                 lambda p: -np.sum(np.array([0, 1, 1, 0]) * np.log(p)
                                   + (1 - np.array([0, 1, 1, 0])) * np.log(1 - p)),
                 [('probability', (4,))]),
    'bce_with_logits_loss': (lambda x, t: clgrad.bce_with_logits_loss(x, t, 'none'),
                             lambda x, t: -(t * np.log(sigmoid(x))
                                            + (1 - t) * np.log(1 - sigmoid(x))),
                             [(4,), ('target', (4,))]),
    'cross_entropy_loss': (lambda z: clgrad.cross_entropy_loss(z, LABELS),
                           lambda z: -np.mean(log_softmax(z, 1)[np.arange(4), LABELS]), [(4, 3)]),
    'conv2d': (lambda x, w, b: clgrad.conv2d(x, w, b, stride=1, padding=1),
               lambda x, w, b: conv2d(x, w, b, 1, 1), [(2, 2, 4, 4), (3, 2, 3, 3), (3,)]),
    'conv2d_strided': (lambda x, w, b: clgrad.conv2d(x, w, b, stride=2),
                       lambda x, w, b: conv2d(x, w, b, 2, 0), [(1, 2, 5, 5), (2, 2, 3, 3), (2,)]),
    'max_pool2d': (lambda x: clgrad.max_pool2d(x, 2), lambda x: pool2d(x, 2, np.max),
                   [('distinct', (2, 2, 4, 4))]),
    'avg_pool2d': (lambda x: clgrad.avg_pool2d(x, 2), lambda x: pool2d(x, 2, np.mean),
                   [(2, 1, 4, 4)]),
    'max_pool2d_ceil': (lambda x: clgrad.max_pool2d(x, 2, ceil_mode=True),
                        lambda x: pool2d_ceil(x, 2, np.nanmax), [('distinct', (1, 2, 5, 3))]),
    'avg_pool2d_ceil': (lambda x: clgrad.avg_pool2d(x, 2, ceil_mode=True, count_include_pad=False),
                        lambda x: pool2d_ceil(x, 2, np.nanmean), [(1, 2, 5, 3)]),
    'flatten': (lambda x: clgrad.flatten(x, 1), lambda x: x.reshape(2, -1), [(2, 3, 2)]),
    'gaussian_kl': (clgrad.gaussian_kl,
                    lambda mu, lv: -0.5 * np.sum(1 + lv - mu ** 2 - np.exp(lv)), [(3, 2), (3, 2)]),
}


def make(rng, spec):
    kind, shape = spec if isinstance(spec[0], str) else ('normal', spec)
    if kind == 'positive':
        return positive(rng, shape)
    if kind == 'away':
        return away_from_zero(rng, shape)
    if kind == 'distinct':
        return distinct(rng, shape)
    if kind in ('probability', 'target'):
        return rng.uniform(0.1, 0.9, shape)
    return rng.standard_normal(shape)


@pytest.mark.parametrize('name', sorted(CASES))
def test_gradient_matches_finite_differences(name, rng):
    function, reference, specs = CASES[name]
    inputs = [make(rng, spec) for spec in specs]
    expected = reference(*inputs)
    w = rng.standard_normal(np.shape(expected))
    # A 'target' input gets no gradient (as in PyTorch's losses).
    wanted = [not (isinstance(spec[0], str) and spec[0] == 'target') for spec in specs]
    leaves = [clgrad.tensor(x, requires_grad=grad) for x, grad in zip(inputs, wanted)]
    with clgrad.step():
        out = function(*leaves)
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-4, atol=1e-5,
                                   err_msg=f'{name} forward')
        (out * w if np.ndim(expected) else out * float(w)).sum().backward()
        grads = [t.grad.numpy() if grad else None for t, grad in zip(leaves, wanted)]
    for i in [i for i, grad in enumerate(wanted) if grad]:
        np.testing.assert_allclose(grads[i], numeric_gradient(reference, inputs, w, i),
                                   rtol=RTOL, atol=ATOL, err_msg=f'{name}: input {i}')


def test_backward_with_a_given_output_gradient(rng):
    # Vector-Jacobian product: out.backward(g) gives J^T g.
    a = rng.standard_normal((3, 4))
    g = rng.standard_normal((3, 4))
    t = clgrad.tensor(a, requires_grad=True)
    with clgrad.step():
        clgrad.tanh(t).backward(g)
        np.testing.assert_allclose(t.grad.numpy(), g * (1 - np.tanh(a) ** 2), rtol=1e-5,
                                   atol=1e-6)


def test_gradients_accumulate_until_zero_grad(rng):
    a = rng.standard_normal(5)
    t = clgrad.tensor(a, requires_grad=True)
    for _ in range(2):
        with clgrad.step():
            (t * t).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), 4 * a, rtol=1e-5)
    t.zero_grad()
    assert t.grad is None


def test_sequential_fuses_the_new_activations_only_as_defined(rng):
    # Linear then ELU (alpha 1), SELU or Hardsigmoid runs fused; ELU with
    # another alpha must not (the fused kernels know alpha 1 only): each gives
    # the same values as the layer followed by the op itself.
    x = rng.standard_normal((5, 4)) * 3
    for module, op in [(clgrad.nn.ELU(), lambda z: clgrad.elu(z, 1.0)),
                       (clgrad.nn.ELU(0.5), lambda z: clgrad.elu(z, 0.5)),
                       (clgrad.nn.SELU(), clgrad.selu),
                       (clgrad.nn.Hardsigmoid(), clgrad.hardsigmoid)]:
        linear = clgrad.nn.Linear(4, 3, seed=7)
        with clgrad.step():
            fused = clgrad.nn.Sequential(linear, module)(x).numpy()
            unfused = op(linear(x)).numpy()
        np.testing.assert_allclose(fused, unfused, rtol=1e-6, atol=1e-7,
                                   err_msg=type(module).__name__)
