"""clgrad.ops: the differentiable ops of include/clgrad/ops.h, one C call each,
with PyTorch's argument names and defaults (dim, keepdim, reduction="mean").
Every function is also at the package's top level (clgrad.relu(x)), and the
usual ones are Tensor methods and operators (+ - * / @ ** and unary -).

Arguments may be Tensors or anything NumPy takes (uploaded into the step); a
Python number on either side of + - * / becomes one affine op. Results are
step tensors (see clgrad.step). Shapes that do not fit raise ShapeError with
the C library's message, e.g. "clg_add: shapes [2, 3] and [4, 3] cannot be
broadcast"."""
import numbers

import numpy as np

from ._core import Tensor, _context, _operand, _result
from ._ffi import ffi, lib

_REDUCTIONS = {'mean': lib.CLG_REDUCTION_MEAN, 'sum': lib.CLG_REDUCTION_SUM,
               'none': lib.CLG_REDUCTION_NONE}
# 'relu' -> CLG_ACT_RELU, ...: the names of include/clgrad/ops.h's list
# CLG_ACTIVATIONS (the enum's constants, lower-cased), in the enum's order.
_ACTIVATIONS = {name[len('CLG_ACT_'):].lower(): value for name, value in
                sorted(ffi.typeof('clg_activation').relements.items(), key=lambda item: item[1])}

# Python-side seeds for the samplers and layers made without one, so that a
# program is reproducible from clgrad.manual_seed (default 0).
_seeds = {'base': 0, 'offset': 0, 'layers': 0}


def manual_seed(seed):
    """Seeds what clgrad draws without an explicit seed: rand, randn and
    dropout's masks, and the initial weights of layers made without seed=."""
    _seeds.update(base=int(seed) % 2**64, offset=0, layers=0)


def _layer_seed(seed):
    if seed is not None:
        return int(seed)
    _seeds['layers'] += 1
    return (_seeds['base'] * 1_000_003 + _seeds['layers']) % 2**64


def _draw(seed, offset, count):
    """(seed, offset) for a sampler: given, or the next `count` numbers of the
    default stream."""
    if seed is not None:
        return int(seed), int(offset or 0)
    start = _seeds['offset']
    _seeds['offset'] += int(count)
    return _seeds['base'], start


def _reduction(name):
    try:
        return _REDUCTIONS[name]
    except KeyError:
        raise ValueError(f'clgrad: reduction {name!r}: one of mean, sum, none') from None


def _activation(name):
    try:
        return _ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f'clgrad: activation {name!r}: one of {", ".join(_ACTIVATIONS)}') from None


def _pair(value):
    return (int(value), int(value)) if isinstance(value, numbers.Integral) else tuple(value)


def _is_number(x):
    return isinstance(x, numbers.Real) and not isinstance(x, np.ndarray)


def _unary(function, a, *args):
    ctx = _context()
    return _result(function(_operand(a, ctx), *args), ctx)


def _binary(function, a, b):
    ctx = _context()
    return _result(function(_operand(a, ctx), _operand(b, ctx)), ctx)


# ---- arithmetic ----

def affine(a, scale, shift):
    """a * scale + shift, elementwise."""
    return _unary(lib.clg_affine, a, float(scale), float(shift))


def add(a, b):
    if _is_number(b):
        return affine(a, 1.0, b)
    if _is_number(a):
        return affine(b, 1.0, a)
    return _binary(lib.clg_add, a, b)


def sub(a, b):
    if _is_number(b):
        return affine(a, 1.0, -b)
    if _is_number(a):
        return affine(b, -1.0, a)
    return _binary(lib.clg_sub, a, b)


def mul(a, b):
    if _is_number(b):
        return affine(a, b, 0.0)
    if _is_number(a):
        return affine(b, a, 0.0)
    return _binary(lib.clg_mul, a, b)


def div(a, b):
    if _is_number(b):
        return affine(a, 1.0 / b, 0.0)
    if _is_number(a):
        return mul(pow(b, -1.0), a)
    return _binary(lib.clg_div, a, b)


def neg(a):
    return _unary(lib.clg_neg, a)


def exp(a):
    return _unary(lib.clg_exp, a)


def log(a):
    return _unary(lib.clg_log, a)


def sqrt(a):
    return _unary(lib.clg_sqrt, a)


def abs(a):  # noqa: A001 (torch.abs)
    return _unary(lib.clg_abs, a)


def pow(a, exponent):  # noqa: A001 (torch.pow)
    """a ** exponent: a number is a constant exponent (clg_pow); a Tensor or
    array broadcasts against a, with gradients to both (clg_pow_tensor). A
    number base (2 ** x) is uploaded into the step as a tensor."""
    if _is_number(exponent):
        return _unary(lib.clg_pow, a, float(exponent))
    return pow_tensor(a, exponent)


def pow_tensor(a, b):
    """a ** b with b a tensor (or array), as ops.h's clg_pow_tensor; pow
    picks this form itself."""
    return _binary(lib.clg_pow_tensor, a, b)


# ---- activations ----

def sigmoid(a):
    return _unary(lib.clg_sigmoid, a)


def tanh(a):
    return _unary(lib.clg_tanh, a)


def relu(a):
    return _unary(lib.clg_relu, a)


def leaky_relu(a, negative_slope=0.01):
    return _unary(lib.clg_leaky_relu, a, float(negative_slope))


def softplus(a, beta=1.0, threshold=20.0):
    return _unary(lib.clg_softplus, a, float(beta), float(threshold))


def heaviside(a, at_zero=0.0):
    """1 where a > 0, at_zero where a == 0, 0 elsewhere; no gradient."""
    return _unary(lib.clg_heaviside, a, float(at_zero))


def clamp(a, min=None, max=None):
    """torch.clamp: a limited to [min, max]; either bound may be None, not both."""
    if min is None and max is None:
        raise ValueError("clgrad.clamp: at least one of 'min' or 'max' must not be None")
    return _unary(lib.clg_clamp, a, -float('inf') if min is None else float(min),
                  float('inf') if max is None else float(max))


def elu(a, alpha=1.0):
    return _unary(lib.clg_elu, a, float(alpha))


def selu(a):
    return _unary(lib.clg_selu, a)


def hardsigmoid(a):
    return _unary(lib.clg_hardsigmoid, a)


def bias_activation(x, bias, act='identity', negative_slope=0.01):
    """act(x + bias) for x (N, F) and bias (F) or None, fused into one kernel."""
    ctx = _context()
    return _result(lib.clg_bias_activation(_operand(x, ctx), _operand(bias, ctx),
                                           _activation(act), float(negative_slope)), ctx)


# ---- reductions ----

def sum(a, dim=None, keepdim=False):  # noqa: A001 (torch.sum)
    """Over one dim, or over everything (a 0-d tensor) when dim is None."""
    if dim is None:
        return _unary(lib.clg_sum_all, a)
    return _unary(lib.clg_sum, a, int(dim), bool(keepdim))


def mean(a, dim=None, keepdim=False):
    if dim is None:
        return _unary(lib.clg_mean_all, a)
    return _unary(lib.clg_mean, a, int(dim), bool(keepdim))


def max(a, dim=None, keepdim=False):  # noqa: A001 (torch.max)
    """The maximum values (not torch's (values, indices) pair: see argmax)."""
    if dim is None:
        return _unary(lib.clg_max_all, a)
    return _unary(lib.clg_max, a, int(dim), bool(keepdim))


def sum_all(a):
    return _unary(lib.clg_sum_all, a)


def mean_all(a):
    return _unary(lib.clg_mean_all, a)


def max_all(a):
    return _unary(lib.clg_max_all, a)


def argmax(a, dim=None, keepdim=False):
    """int32 indices of the first maximum; dim None: of the flattened tensor."""
    if dim is None:
        return _unary(lib.clg_argmax, reshape(a, -1), 0, False)
    return _unary(lib.clg_argmax, a, int(dim), bool(keepdim))


# ---- products, views, softmax ----

def matmul(a, b):
    """(M,K)@(K,N) -> (M,N), or batched (B,M,K)@(B,K,N)."""
    return _binary(lib.clg_matmul, a, b)


def matmul_nt(a, b):
    """a @ b^T with b untransposed: (M,K),(N,K) -> (M,N)."""
    return _binary(lib.clg_matmul_nt, a, b)


def linear_activation(x, weight, bias=None, act='identity', negative_slope=0.01):
    """act(x @ weight^T + bias): torch.nn.functional.linear, then the
    activation; with identity (and a bias), relu, sigmoid or tanh the GEMM
    applies both as it stores the result where it can."""
    ctx = _context()
    return _result(lib.clg_linear_activation(_operand(x, ctx), _operand(weight, ctx),
                                             _operand(bias, ctx), _activation(act),
                                             float(negative_slope)), ctx)


def transpose(a, dim0, dim1):
    return _unary(lib.clg_transpose, a, int(dim0), int(dim1))


def reshape(a, *shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return _unary(lib.clg_reshape, a, len(shape), ffi.new('int64_t[]', [int(s) for s in shape]))


def flatten(a, start_dim=0):
    return _unary(lib.clg_flatten, a, int(start_dim))


def softmax(a, dim):
    return _unary(lib.clg_softmax, a, int(dim))


def log_softmax(a, dim):
    return _unary(lib.clg_log_softmax, a, int(dim))


# ---- losses ----

def mse_loss(input, target, reduction='mean'):
    ctx = _context()
    return _result(lib.clg_mse_loss(_operand(input, ctx), _operand(target, ctx),
                                    _reduction(reduction)), ctx)


def bce_loss(input, target, reduction='mean'):
    """Binary cross-entropy on probabilities in [0, 1]."""
    ctx = _context()
    return _result(lib.clg_bce_loss(_operand(input, ctx), _operand(target, ctx),
                                    _reduction(reduction)), ctx)


def bce_with_logits_loss(input, target, reduction='mean'):
    ctx = _context()
    return _result(lib.clg_bce_with_logits_loss(_operand(input, ctx), _operand(target, ctx),
                                                _reduction(reduction)), ctx)


def cross_entropy_loss(logits, labels, reduction='mean'):
    """logits (N, C), labels (N) int32 in [0, C): log-softmax and NLL fused."""
    ctx = _context()
    if not isinstance(labels, Tensor):
        labels = np.asarray(labels, dtype=np.int32)
    return _result(lib.clg_cross_entropy_loss(_operand(logits, ctx), _operand(labels, ctx),
                                              _reduction(reduction)), ctx)


# torch.nn.functional's names for the same losses
cross_entropy = cross_entropy_loss
binary_cross_entropy = bce_loss
binary_cross_entropy_with_logits = bce_with_logits_loss


# ---- convolutional networks (NCHW) ----

def _conv_params(stride, padding, dilation):
    p = ffi.new('clg_conv2d_params *')
    p.stride_h, p.stride_w = _pair(stride)
    p.pad_h, p.pad_w = _pair(padding)
    p.dilation_h, p.dilation_w = _pair(dilation)
    return p


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1):
    """torch.nn.functional.conv2d (groups 1): (N,C,H,W), (K,C,kh,kw), (K)."""
    ctx = _context()
    return _result(lib.clg_conv2d(_operand(input, ctx), _operand(weight, ctx),
                                  _operand(bias, ctx), _conv_params(stride, padding, dilation)),
                   ctx)


def conv2d_act(input, weight, bias=None, act='relu', stride=1, padding=0, dilation=1,
               negative_slope=0.01):
    """act(conv2d(...)) with the activation fused into the convolution."""
    ctx = _context()
    return _result(lib.clg_conv2d_act(_operand(input, ctx), _operand(weight, ctx),
                                      _operand(bias, ctx), _conv_params(stride, padding, dilation),
                                      _activation(act), float(negative_slope)), ctx)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     dilation=1):
    """torch.nn.functional.conv_transpose2d (groups 1): weight (C_in, C_out, kh, kw)."""
    ctx = _context()
    p = ffi.new('clg_conv_transpose2d_params *')
    p.stride_h, p.stride_w = _pair(stride)
    p.pad_h, p.pad_w = _pair(padding)
    p.output_pad_h, p.output_pad_w = _pair(output_padding)
    p.dilation_h, p.dilation_w = _pair(dilation)
    return _result(lib.clg_conv_transpose2d(_operand(input, ctx), _operand(weight, ctx),
                                            _operand(bias, ctx), p), ctx)


def _pool_params(kernel_size, stride, padding, dilation=1, ceil_mode=False,
                 count_include_pad=True):
    p = ffi.new('clg_pool2d_params *')
    p.kernel_h, p.kernel_w = _pair(kernel_size)
    p.stride_h, p.stride_w = _pair(kernel_size if stride is None else stride)
    p.pad_h, p.pad_w = _pair(padding)
    p.dilation_h, p.dilation_w = _pair(dilation)
    p.ceil_mode = bool(ceil_mode)
    p.count_exclude_pad = not count_include_pad
    return p


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    return _unary(lib.clg_max_pool2d, input,
                  _pool_params(kernel_size, stride, padding, dilation, ceil_mode))


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    return _unary(lib.clg_avg_pool2d, input,
                  _pool_params(kernel_size, stride, padding, 1, ceil_mode, count_include_pad))


def dropout(a, p=0.5, training=True, seed=None, offset=None):
    """Inverted dropout; the mask comes from (seed, offset) on the device, or
    from the default stream (clgrad.manual_seed) when seed is None."""
    ctx = _context()
    pointer = _operand(a, ctx)
    seed, offset = _draw(seed, offset, lib.clg_tensor_numel(pointer) if training else 0)
    return _result(lib.clg_dropout(pointer, float(p), bool(training), seed, offset), ctx)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """torch.nn.functional.batch_norm over (N, C) or (N, C, H, W)."""
    ctx = _context()
    return _result(lib.clg_batch_norm(_operand(input, ctx), _operand(running_mean, ctx),
                                      _operand(running_var, ctx), _operand(weight, ctx),
                                      _operand(bias, ctx), bool(training), float(momentum),
                                      float(eps)), ctx)


# ---- sampling ----

def _sample(function, shape, seed, offset):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    ctx = _context()
    seed, offset = _draw(seed, offset, np.prod(shape, dtype=np.int64))
    return _result(function(ctx.ptr, len(shape), ffi.new('int64_t[]', [int(s) for s in shape]),
                            seed, offset), ctx)


def rand(*shape, seed=None, offset=None):
    """Uniform on [0, 1), drawn on the device (Philox, keyed by seed and offset)."""
    return _sample(lib.clg_rand, shape, seed, offset)


def randn(*shape, seed=None, offset=None):
    """Standard normal, drawn on the device."""
    return _sample(lib.clg_randn, shape, seed, offset)


# ---- variational autoencoders ----

def reparameterize(mu, logvar, eps):
    """mu + exp(0.5 logvar) eps."""
    ctx = _context()
    return _result(lib.clg_reparameterize(_operand(mu, ctx), _operand(logvar, ctx),
                                          _operand(eps, ctx)), ctx)


def gaussian_kl(mu, logvar, reduction='sum'):
    """KL(N(mu, exp(logvar)) || N(0, I)); "sum" is the usual VAE term."""
    ctx = _context()
    return _result(lib.clg_gaussian_kl(_operand(mu, ctx), _operand(logvar, ctx),
                                       _reduction(reduction)), ctx)


# ---- recurrent networks and embeddings ----

def lstm(input, weight_ih, weight_hh, bias_ih=None, bias_hh=None, h0=None, c0=None,
         batch_first=False):
    """One LSTM layer over a sequence: returns (output, (h_n, c_n)) as torch.nn.LSTM."""
    ctx = _context()
    h_n = ffi.new('clg_tensor **')
    c_n = ffi.new('clg_tensor **')
    out = _result(lib.clg_lstm(_operand(input, ctx), _operand(h0, ctx), _operand(c0, ctx),
                               _operand(weight_ih, ctx), _operand(weight_hh, ctx),
                               _operand(bias_ih, ctx), _operand(bias_hh, ctx), bool(batch_first),
                               h_n, c_n), ctx)
    return out, (_result(h_n[0], ctx), _result(c_n[0], ctx))


def gru(input, weight_ih, weight_hh, bias_ih=None, bias_hh=None, h0=None, batch_first=False):
    """One GRU layer over a sequence (gates r, z, n): returns (output, h_n) as torch.nn.GRU."""
    ctx = _context()
    h_n = ffi.new('clg_tensor **')
    out = _result(lib.clg_gru(_operand(input, ctx), _operand(h0, ctx), _operand(weight_ih, ctx),
                              _operand(weight_hh, ctx), _operand(bias_ih, ctx),
                              _operand(bias_hh, ctx), bool(batch_first), h_n), ctx)
    return out, _result(h_n[0], ctx)


def rnn(input, weight_ih, weight_hh, bias_ih=None, bias_hh=None, h0=None, batch_first=False):
    """One tanh RNN layer over a sequence: returns (output, h_n) as torch.nn.RNN."""
    ctx = _context()
    h_n = ffi.new('clg_tensor **')
    out = _result(lib.clg_rnn(_operand(input, ctx), _operand(h0, ctx), _operand(weight_ih, ctx),
                              _operand(weight_hh, ctx), _operand(bias_ih, ctx),
                              _operand(bias_hh, ctx), bool(batch_first), h_n), ctx)
    return out, _result(h_n[0], ctx)


def embedding(ids, weight):
    """torch.nn.functional.embedding: rows of weight (V, D). ids given as a
    NumPy array or list are checked on the host (an id outside [0, V) raises,
    naming it); a Tensor of ids stays on the device (a bad id gives NaN)."""
    ctx = _context()
    if isinstance(ids, Tensor):
        return _result(lib.clg_embedding(_operand(weight, ctx), _operand(ids, ctx)), ctx)
    ids = np.asarray(ids, dtype=np.int32, order='C')
    shape = ffi.new('int64_t[]', list(ids.shape) or [0])
    return _result(lib.clg_embedding_host(_operand(weight, ctx),
                                          ffi.cast('const int32_t *', ffi.from_buffer(ids)),
                                          ids.ndim, shape), ctx)


__all__ = [
    'affine', 'add', 'sub', 'mul', 'div', 'neg', 'exp', 'log', 'sqrt', 'abs', 'pow', 'pow_tensor',
    'sigmoid', 'tanh', 'relu', 'leaky_relu', 'softplus', 'heaviside', 'clamp', 'elu', 'selu',
    'hardsigmoid', 'bias_activation',
    'sum', 'mean', 'max', 'sum_all', 'mean_all', 'max_all', 'argmax',
    'matmul', 'matmul_nt', 'linear_activation', 'transpose', 'reshape', 'flatten', 'softmax', 'log_softmax',
    'mse_loss', 'bce_loss', 'bce_with_logits_loss', 'cross_entropy_loss',
    'cross_entropy', 'binary_cross_entropy', 'binary_cross_entropy_with_logits',
    'conv2d', 'conv2d_act', 'conv_transpose2d', 'max_pool2d', 'avg_pool2d', 'dropout',
    'batch_norm', 'rand', 'randn', 'reparameterize', 'gaussian_kl', 'lstm', 'gru', 'rnn',
    'embedding',
    'manual_seed',
]


# ---- Tensor methods and operators ----

def _reflected(function):
    return lambda self, other: function(other, self)


def _T(self):
    return self if self.ndim < 2 else transpose(self, -2, -1)


for _name, _function in {
        '__add__': add, '__radd__': _reflected(add), '__sub__': sub, '__rsub__': _reflected(sub),
        '__mul__': mul, '__rmul__': _reflected(mul), '__truediv__': div,
        '__rtruediv__': _reflected(div), '__matmul__': matmul,
        '__rmatmul__': _reflected(matmul), '__pow__': pow, '__rpow__': _reflected(pow),
        '__neg__': neg, 'add': add, 'sub': sub,
        'mul': mul, 'div': div, 'matmul': matmul, 'exp': exp, 'log': log, 'sqrt': sqrt,
        'abs': abs, 'pow': pow, 'sigmoid': sigmoid, 'tanh': tanh, 'relu': relu,
        'leaky_relu': leaky_relu, 'softplus': softplus, 'clamp': clamp, 'elu': elu,
        'selu': selu, 'hardsigmoid': hardsigmoid, 'sum': sum, 'mean': mean, 'max': max,
        'argmax': argmax, 'transpose': transpose, 'reshape': reshape, 'view': reshape,
        'flatten': flatten, 'softmax': softmax, 'log_softmax': log_softmax}.items():
    setattr(Tensor, _name, _function)
Tensor.T = property(_T, doc='The last two dims swapped (a view), as .mT; 0-d and 1-d: itself.')
Tensor.__abs__ = abs
