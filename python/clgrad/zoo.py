"""clgrad.zoo: the lecture's classifiers (include/clgrad/zoo.h) as modules
whose checkpoints record their architecture, so that `clgrad eval --load`
and clgrad.zoo.load rebuild them from the file alone."""
from . import nn
from ._core import _context, _operand, _result
from ._ffi import ffi, lib


class Model(nn._Layer):
    """A zoo model: forward maps (N, in_features) to logits (N, classes)."""

    _destroy = 'clg_model_destroy'

    def __init__(self, ptr):
        self._own(ptr, lib.clg_model_params(ptr) if ptr != ffi.NULL else ffi.NULL)

    def forward(self, x):
        return _result(lib.clg_model_forward(self._ptr, _operand(x, self._ctx)), self._ctx)

    @property
    def kind(self):
        return ffi.string(lib.clg_model_kind(self._ptr)).decode()

    @property
    def arch(self):
        return ffi.string(lib.clg_model_arch(self._ptr)).decode()

    @property
    def in_features(self):
        return lib.clg_model_in_features(self._ptr)

    @property
    def out_features(self):
        return lib.clg_model_out_features(self._ptr)

    def save(self, path, metadata=None):
        """A checkpoint with the architecture in its metadata (clg_model_save)."""
        if metadata:
            raise ValueError('zoo models write their own metadata')
        self._ctx.check(lib.clg_model_save(self._ptr, str(path).encode()))

    def extra_repr(self):
        return f'{self.kind} {self.arch}'


def mlp(in_features, hidden, out_features, seed=42):
    """ReLU between layers fc1, fc2, ...; logits out."""
    hidden = [int(h) for h in hidden]
    ctx = _context()
    return Model(lib.clg_zoo_mlp_create(ctx.ptr, int(in_features),
                                        ffi.new('int64_t[]', hidden or [0]), len(hidden),
                                        int(out_features), int(seed)))


def logreg(in_features, classes, seed=42):
    ctx = _context()
    return Model(lib.clg_zoo_logreg_create(ctx.ptr, int(in_features), int(classes), int(seed)))


def lenet5(activation='relu', pool='max', seed=42):
    """LeNet-5 for 28x28 grey images, (N, 784) or (N, 1, 28, 28) in."""
    ctx = _context()
    return Model(lib.clg_zoo_lenet5_create(ctx.ptr, activation.encode(), pool.encode(),
                                           int(seed)))


def load(path):
    """The model a checkpoint describes, with its weights."""
    ctx = _context()
    return Model(lib.clg_model_from_checkpoint(ctx.ptr, str(path).encode()))


__all__ = ['Model', 'mlp', 'logreg', 'lenet5', 'load']
