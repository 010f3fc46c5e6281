"""clgrad.nn: layers (include/clgrad/nn.h) as PyTorch-like modules.

A layer owns its C object and parameters (persistent tensors named as
torch.nn names them: "weight", "bias", ...); forward is the C layer's forward,
one call. A Module subclass of your own finds its sub-modules and Parameters
among its attributes, in assignment order, and names them as PyTorch would
("fc1.weight"), so checkpoints load into torch.nn modules of the same shape.
parameters() is a clg_params list that optimizers and checkpoints take.
Layers made without seed= draw one from clgrad.manual_seed's stream.
"""
import numpy as np

from . import ops
from ._core import (FileError, Tensor, _context, _operand, _result, tensor)
from ._ffi import ffi, lib


class Parameter(Tensor):
    """A persistent tensor that requires a gradient and that a Module
    attribute holding it registers as a parameter."""

    __slots__ = ()

    def __new__(cls, data):
        t = tensor(data, dtype=np.float32, requires_grad=True)
        p = Parameter._wrap(t._p, t._ctx, owned=True)
        t._owned = False  # the Parameter destroys it now
        return p

    def __init__(self, data):
        pass


class Params:
    """A clg_params list: named tensors, in order (clg_params_*). Iterating
    gives the trainable ones (not the buffers), as module.parameters() does
    in PyTorch."""

    def __init__(self, ptr, owner, owned=False, refs=()):
        self._p = ptr
        self._ctx = _context()
        self._owner = owner  # what owns the tensors, kept alive
        self._owned = owned
        self._refs = list(refs)

    def __del__(self):
        try:
            if self._owned and self._ctx.alive:
                lib.clg_params_destroy(self._p)
        except (AttributeError, TypeError):
            pass

    def __len__(self):
        return lib.clg_params_count(self._p)

    def _entry(self, index):
        return Tensor._wrap(lib.clg_params_tensor(self._p, index), self._ctx, owner=self)

    def named(self, buffers=True):
        """[(name, Tensor)] in order; buffers (running statistics) too unless
        buffers=False."""
        return [(ffi.string(lib.clg_params_name(self._p, i)).decode(), self._entry(i))
                for i in range(len(self))
                if buffers or not lib.clg_params_is_buffer(self._p, i)]

    def __iter__(self):
        return iter([t for _, t in self.named(buffers=False)])

    def find(self, name):
        p = lib.clg_params_find(self._p, name.encode())
        return None if p == ffi.NULL else Tensor._wrap(p, self._ctx, owner=self)

    def zero_grad(self):
        lib.clg_params_zero_grad(self._p)

    def count(self):
        """Elements in all the trainable tensors, as sum(p.numel())."""
        return int(np.sum([t.numel() for t in self], dtype=np.int64))


def _params_of(source):
    """A Params for a Module, a Params, or a list of Tensors (named 0, 1, ...)."""
    if isinstance(source, Params):
        return source
    if isinstance(source, Module):
        return source.parameters()
    tensors = list(source)
    ctx = _context()
    params = Params(lib.clg_params_create(ctx.ptr), None, owned=True, refs=tensors)
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor) or not t.is_persistent:
            raise TypeError('clgrad: parameters must be persistent tensors '
                            '(clgrad.tensor, nn.Parameter or a module\'s)')
        ctx.check(lib.clg_params_add(params._p, str(i).encode(), t._ptr()))
    return params


class Module:
    """Base of every layer. forward() does the work; module(x) calls it."""

    training = True

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def forward(self, *args):
        raise NotImplementedError(f'{type(self).__name__}.forward')

    def named_children(self):
        return [(name, value) for name, value in vars(self).items()
                if isinstance(value, Module) and not name.startswith('_')]

    def children(self):
        return [module for _, module in self.named_children()]

    def train(self, mode=True):
        self.training = bool(mode)
        for child in self.children():
            child.train(mode)
        return self

    def eval(self):
        return self.train(False)

    def parameters(self):
        """This module's Params: sub-modules' entries prefixed "name.", then
        Parameter attributes. Built once, rebuilt when attributes change."""
        entries = [(name, value) for name, value in vars(self).items()
                   if not name.startswith('_') and isinstance(value, (Module, Parameter))]
        key = [(name, id(value)) for name, value in entries]
        cached = vars(self).get('_params_cache')
        if cached is not None and cached[0] == key:
            return cached[1]
        ctx = _context()
        params = Params(lib.clg_params_create(ctx.ptr), self, owned=True)
        for name, value in entries:
            if isinstance(value, Module):
                child = value.parameters()
                params._refs.append(child)
                if len(child):
                    ctx.check(lib.clg_params_extend(params._p, f'{name}.'.encode(), child._p))
            else:
                params._refs.append(value)
                ctx.check(lib.clg_params_add(params._p, name.encode(), value._ptr()))
        self._params_cache = (key, params)
        return params

    def named_parameters(self):
        return self.parameters().named(buffers=False)

    def zero_grad(self):
        self.parameters().zero_grad()

    def state_dict(self):
        """{name: NumPy copy}, buffers included."""
        return {name: t.numpy() for name, t in self.parameters().named()}

    def load_state_dict(self, state, strict=True):
        """Copies arrays (NumPy, or anything with .numpy(), as torch tensors)
        into the parameters; shapes must match, and with strict every name
        must be there both ways."""
        named = dict(self.parameters().named())
        missing = [name for name in named if name not in state]
        unexpected = [name for name in state if name not in named]
        if strict and (missing or unexpected):
            raise FileError(f'load_state_dict: missing {missing}, unexpected {unexpected}',
                            'mismatch')
        ctx = _context()
        for name, t in named.items():
            if name not in state:
                continue
            value = state[name]
            value = np.asarray(value.numpy() if hasattr(value, 'numpy') else value,
                               dtype=t.dtype, order='C')
            if value.shape != t.shape:
                raise FileError(f'load_state_dict: {name} has shape {list(value.shape)}, the '
                                f'module\'s {list(t.shape)}', 'mismatch')
            ctx.check(lib.clg_tensor_upload(t._ptr(), ffi.from_buffer(value), value.size))

    def save(self, path, metadata=None):
        """A safetensors checkpoint of every parameter and buffer, with string
        metadata (written to a temporary file, then renamed)."""
        _save(self.parameters(), path, metadata)

    def load(self, path):
        """Loads every parameter from a safetensors file (names and shapes must
        match: FileError naming the tensor otherwise)."""
        ctx = _context()
        ctx.check(lib.clg_checkpoint_load(ctx.ptr, self.parameters()._p, str(path).encode()))
        return self

    def __repr__(self):
        children = self.named_children()
        if not children:
            return f'{type(self).__name__}({self.extra_repr()})'
        lines = [f'  ({name}): ' + repr(child).replace('\n', '\n  ') for name, child in children]
        return f'{type(self).__name__}(\n' + '\n'.join(lines) + '\n)'

    def extra_repr(self):
        return ''


def _save(params, path, metadata):
    ctx = _context()
    metadata = {str(k): str(v) for k, v in (metadata or {}).items()}
    keys = [ffi.new('char[]', k.encode()) for k in metadata]
    values = [ffi.new('char[]', v.encode()) for v in metadata.values()]
    ctx.check(lib.clg_checkpoint_save(ctx.ptr, params._p, str(path).encode(),
                                      ffi.new('const char *[]', keys) if keys else ffi.NULL,
                                      ffi.new('const char *[]', values) if values else ffi.NULL,
                                      len(keys)))


class _Layer(Module):
    """A layer backed by one C object: its parameters are the C layer's."""

    _destroy = None  # the C destroy function's name

    def _own(self, ptr, params_ptr):
        if ptr == ffi.NULL:
            raise _context().error()
        self._ptr = ptr
        self._ctx = _context()
        self._params = Params(params_ptr, self)

    def __del__(self):
        try:
            if self._ctx.alive:
                getattr(lib, self._destroy)(self._ptr)
        except (AttributeError, TypeError):
            pass

    def parameters(self):
        return self._params

    def __getattr__(self, name):
        # weight, bias, running_mean, ...: the C layer's tensors by name.
        params = vars(self).get('_params')
        t = params.find(name) if params is not None else None
        if t is None:
            raise AttributeError(f'{type(self).__name__} has no attribute {name!r}')
        return t


class Linear(_Layer):
    """torch.nn.Linear: y = x W^T + b, W (out, in)."""

    _destroy = 'clg_linear_destroy'

    def __init__(self, in_features, out_features, bias=True, seed=None):
        self.in_features, self.out_features = int(in_features), int(out_features)
        ctx = _context()
        p = lib.clg_linear_create(ctx.ptr, self.in_features, self.out_features, bool(bias),
                                  ops._layer_seed(seed))
        self._own(p, lib.clg_linear_params(p) if p != ffi.NULL else ffi.NULL)

    def forward(self, x):
        return _result(lib.clg_linear_forward(self._ptr, _operand(x, self._ctx)), self._ctx)

    def forward_act(self, x, act, negative_slope=0.01):
        """act(forward(x)) with the bias and activation fused (one kernel)."""
        return _result(lib.clg_linear_forward_act(self._ptr, _operand(x, self._ctx),
                                                  ops._activation(act), float(negative_slope)),
                       self._ctx)

    def extra_repr(self):
        return f'in_features={self.in_features}, out_features={self.out_features}'


class Conv2d(_Layer):
    """torch.nn.Conv2d (groups 1)."""

    _destroy = 'clg_conv2d_layer_destroy'

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 bias=True, seed=None):
        kh, kw = ops._pair(kernel_size)
        self._repr = (f'{in_channels}, {out_channels}, kernel_size={(kh, kw)}, '
                      f'stride={ops._pair(stride)}, padding={ops._pair(padding)}')
        ctx = _context()
        p = lib.clg_conv2d_layer_create(ctx.ptr, int(in_channels), int(out_channels), kh, kw,
                                        ops._conv_params(stride, padding, dilation), bool(bias),
                                        ops._layer_seed(seed))
        self._own(p, lib.clg_conv2d_layer_params(p) if p != ffi.NULL else ffi.NULL)

    def forward(self, x):
        return _result(lib.clg_conv2d_layer_forward(self._ptr, _operand(x, self._ctx)), self._ctx)

    def forward_act(self, x, act, negative_slope=0.01):
        """act(forward(x)) with the activation fused into the convolution."""
        return _result(lib.clg_conv2d_layer_forward_act(self._ptr, _operand(x, self._ctx),
                                                        ops._activation(act),
                                                        float(negative_slope)), self._ctx)

    def extra_repr(self):
        return self._repr


class ConvTranspose2d(_Layer):
    """torch.nn.ConvTranspose2d (groups 1): weight (in, out, kh, kw)."""

    _destroy = 'clg_conv_transpose2d_layer_destroy'

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, dilation=1, bias=True, seed=None):
        kh, kw = ops._pair(kernel_size)
        params = ffi.new('clg_conv_transpose2d_params *')
        params.stride_h, params.stride_w = ops._pair(stride)
        params.pad_h, params.pad_w = ops._pair(padding)
        params.output_pad_h, params.output_pad_w = ops._pair(output_padding)
        params.dilation_h, params.dilation_w = ops._pair(dilation)
        ctx = _context()
        p = lib.clg_conv_transpose2d_layer_create(ctx.ptr, int(in_channels), int(out_channels),
                                                  kh, kw, params, bool(bias),
                                                  ops._layer_seed(seed))
        self._own(p, lib.clg_conv_transpose2d_layer_params(p) if p != ffi.NULL else ffi.NULL)

    def forward(self, x):
        return _result(lib.clg_conv_transpose2d_layer_forward(self._ptr, _operand(x, self._ctx)),
                       self._ctx)


class BatchNorm1d(_Layer):
    """torch.nn.BatchNorm1d / 2d: normalises per channel (dim 1) with the
    batch's statistics in training, the running ones in eval()."""

    _destroy = 'clg_batchnorm_layer_destroy'

    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        ctx = _context()
        p = lib.clg_batchnorm_layer_create(ctx.ptr, int(num_features), float(momentum),
                                           float(eps))
        self._own(p, lib.clg_batchnorm_layer_params(p) if p != ffi.NULL else ffi.NULL)

    def forward(self, x):
        return _result(lib.clg_batchnorm_layer_forward(self._ptr, _operand(x, self._ctx),
                                                       self.training), self._ctx)


class BatchNorm2d(BatchNorm1d):
    pass


class Dropout(_Layer):
    """torch.nn.Dropout: fresh masks each call in training, the identity in eval()."""

    _destroy = 'clg_dropout_layer_destroy'

    def __init__(self, p=0.5, seed=None):
        self.p = float(p)
        ctx = _context()
        layer = lib.clg_dropout_layer_create(ctx.ptr, self.p, ops._layer_seed(seed))
        self._own(layer, lib.clg_params_create(ctx.ptr) if layer != ffi.NULL else ffi.NULL)
        self._params._owned = True  # an empty list of its own

    def forward(self, x):
        return _result(lib.clg_dropout_layer_forward(self._ptr, _operand(x, self._ctx),
                                                     self.training), self._ctx)


class Embedding(_Layer):
    """torch.nn.Embedding: weight (num_embeddings, embedding_dim) ~ N(0, 1)."""

    _destroy = 'clg_embedding_layer_destroy'

    def __init__(self, num_embeddings, embedding_dim, seed=None):
        ctx = _context()
        p = lib.clg_embedding_layer_create(ctx.ptr, int(num_embeddings), int(embedding_dim),
                                           ops._layer_seed(seed))
        self._own(p, lib.clg_embedding_layer_params(p) if p != ffi.NULL else ffi.NULL)

    def forward(self, ids):
        return ops.embedding(ids, self.weight)


class _Recurrent(_Layer):
    _destroy = 'clg_recurrent_layer_destroy'
    _cell = None

    def __init__(self, input_size, hidden_size, batch_first=False, seed=None):
        ctx = _context()
        p = lib.clg_recurrent_layer_create(ctx.ptr, self._cell, int(input_size),
                                           int(hidden_size), bool(batch_first),
                                           ops._layer_seed(seed))
        self._own(p, lib.clg_recurrent_layer_params(p) if p != ffi.NULL else ffi.NULL)

    def forward(self, x):
        """Returns (output, h_n) as torch.nn.RNN, step tensors; h_n is (1, N, H)."""
        h_n = ffi.new('clg_tensor **')
        out = _result(lib.clg_recurrent_layer_forward(self._ptr, _operand(x, self._ctx), h_n),
                      self._ctx)
        return out, _result(h_n[0], self._ctx)

    def keep_state(self, keep=True):
        """Truncated BPTT: each forward starts from the last one's state."""
        lib.clg_recurrent_layer_set_keep_state(self._ptr, bool(keep))

    def reset_state(self):
        lib.clg_recurrent_layer_reset_state(self._ptr)


class RNN(_Recurrent):
    """torch.nn.RNN (tanh, one layer): parameters weight_ih_l0, weight_hh_l0, bias_*_l0."""
    _cell = lib.CLG_CELL_RNN


class LSTM(_Recurrent):
    """torch.nn.LSTM (one layer): parameters as RNN's with four gates each."""
    _cell = lib.CLG_CELL_LSTM

    def forward(self, x):
        """Returns (output, (h_n, c_n)) as torch.nn.LSTM, step tensors; h_n and
        c_n are (1, N, H)."""
        h_n = ffi.new('clg_tensor **')
        c_n = ffi.new('clg_tensor **')
        out = _result(lib.clg_recurrent_layer_forward_state(self._ptr, _operand(x, self._ctx),
                                                            h_n, c_n), self._ctx)
        return out, (_result(h_n[0], self._ctx), _result(c_n[0], self._ctx))


class GRU(_Recurrent):
    """torch.nn.GRU (one layer): parameters as RNN's with three gates each (r, z, n);
    forward returns (output, h_n) as torch.nn.GRU."""
    _cell = lib.CLG_CELL_GRU


# ---- stateless modules ----

class _Activation(Module):
    act = None  # the name ops and the fused layers know it by
    negative_slope = 0.01

    def forward(self, x):
        return getattr(ops, self.act)(x)


class ReLU(_Activation):
    act = 'relu'


class Sigmoid(_Activation):
    act = 'sigmoid'


class Tanh(_Activation):
    act = 'tanh'


class LeakyReLU(_Activation):
    act = 'leaky_relu'

    def __init__(self, negative_slope=0.01):
        self.negative_slope = float(negative_slope)

    def forward(self, x):
        return ops.leaky_relu(x, self.negative_slope)


class Softplus(Module):
    def __init__(self, beta=1.0, threshold=20.0):
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        return ops.softplus(x, self.beta, self.threshold)


class ELU(_Activation):
    def __init__(self, alpha=1.0):
        self.alpha = float(alpha)
        # the fused kernels know ELU with alpha 1 only
        self.act = 'elu' if self.alpha == 1.0 else None

    def forward(self, x):
        return ops.elu(x, self.alpha)


class SELU(_Activation):
    act = 'selu'


class Hardsigmoid(_Activation):
    act = 'hardsigmoid'


class Softmax(Module):
    def __init__(self, dim):
        self.dim = dim

    def forward(self, x):
        return ops.softmax(x, self.dim)


class LogSoftmax(Softmax):
    def forward(self, x):
        return ops.log_softmax(x, self.dim)


class Flatten(Module):
    """torch.nn.Flatten: dims start_dim.. merged (default 1: keeps the batch)."""

    def __init__(self, start_dim=1):
        self.start_dim = start_dim

    def forward(self, x):
        return ops.flatten(x, self.start_dim)


class MaxPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.dilation, self.ceil_mode = dilation, ceil_mode

    def forward(self, x):
        return ops.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation,
                              self.ceil_mode)


class AvgPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, x):
        return ops.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                              self.count_include_pad)


class Identity(Module):
    def forward(self, x):
        return x


class CrossEntropyLoss(Module):
    def __init__(self, reduction='mean'):
        self.reduction = reduction

    def forward(self, logits, labels):
        return ops.cross_entropy_loss(logits, labels, self.reduction)


class MSELoss(CrossEntropyLoss):
    def forward(self, input, target):
        return ops.mse_loss(input, target, self.reduction)


class BCELoss(CrossEntropyLoss):
    def forward(self, input, target):
        return ops.bce_loss(input, target, self.reduction)


class BCEWithLogitsLoss(CrossEntropyLoss):
    def forward(self, input, target):
        return ops.bce_with_logits_loss(input, target, self.reduction)


class Sequential(Module):
    """torch.nn.Sequential: children named "0", "1", ... A Linear or Conv2d
    followed by ReLU, LeakyReLU, Sigmoid, Tanh, ELU (alpha 1), SELU or
    Hardsigmoid runs as one fused call (forward_act): the same values and
    gradients in fewer launches."""

    def __init__(self, *modules):
        for i, module in enumerate(modules):
            setattr(self, str(i), module)

    def __getitem__(self, index):
        return self.children()[index]

    def __len__(self):
        return len(self.children())

    def forward(self, x):
        layers = self.children()
        i = 0
        while i < len(layers):
            layer = layers[i]
            following = layers[i + 1] if i + 1 < len(layers) else None
            if isinstance(layer, (Linear, Conv2d)) and isinstance(following, _Activation) \
                    and following.act:
                x = layer.forward_act(x, following.act, following.negative_slope)
                i += 2
            else:
                x = layer(x)
                i += 1
        return x


def clip_grad_norm_(parameters, max_norm):
    """torch.nn.utils.clip_grad_norm_ (L2), on the device; returns the total
    norm before clipping (reading it is one host sync). Call it inside the
    step, between backward and the optimizer's step."""
    ctx = _context()
    total = ffi.new('float *')
    ctx.check(lib.clg_clip_grad_norm(_params_of(parameters)._p, float(max_norm), total))
    return float(total[0])


__all__ = ['Module', 'Parameter', 'Params', 'Linear', 'Conv2d', 'ConvTranspose2d', 'BatchNorm1d',
           'BatchNorm2d', 'Dropout', 'Embedding', 'RNN', 'LSTM', 'GRU', 'ReLU', 'Sigmoid', 'Tanh',
           'LeakyReLU', 'Softplus', 'ELU', 'SELU', 'Hardsigmoid', 'Softmax', 'LogSoftmax',
           'Flatten', 'MaxPool2d', 'AvgPool2d',
           'Identity', 'CrossEntropyLoss', 'MSELoss', 'BCELoss', 'BCEWithLogitsLoss',
           'Sequential', 'clip_grad_norm_']
