"""clgrad.optim: optimizers (include/clgrad/optim.h) with PyTorch's update
rules, defaults and argument names. step() is one fused kernel launch per
parameter tensor; parameters whose gradient is None are skipped. `params` is
a Module, its parameters(), or a list of persistent tensors."""
from . import nn
from ._core import _context
from ._ffi import ffi, lib


class Optimizer:
    def __init__(self, params, kind, **options):
        self._ctx = _context()
        self._params = nn._params_of(params)  # the optimizer borrows them: kept alive
        o = ffi.new('clg_optim_options *')
        o[0] = lib.clg_optim_options_default(kind)
        for name, value in options.items():
            if value is not None:
                setattr(o, name, value)
        self._ptr = lib.clg_optim_create(self._ctx.ptr, self._params._p, o)
        if self._ptr == ffi.NULL:
            raise self._ctx.error()
        self._lr = o.lr

    def __del__(self):
        try:
            if self._ctx.alive:
                lib.clg_optim_destroy(self._ptr)
        except (AttributeError, TypeError):
            pass

    def step(self):
        self._ctx.check(lib.clg_optim_step(self._ptr))

    def zero_grad(self):
        """Forgets every gradient (PyTorch's set_to_none=True)."""
        lib.clg_optim_zero_grad(self._ptr)

    @property
    def lr(self):
        return self._lr

    @lr.setter
    def lr(self, value):
        lib.clg_optim_set_lr(self._ptr, float(value))
        self._lr = float(value)

    def __repr__(self):
        return f'{type(self).__name__}(lr={self._lr:g})'


class SGD(Optimizer):
    """torch.optim.SGD: plain (lr 0.1 by default), heavy ball with momentum,
    or Nesterov."""

    def __init__(self, params, lr=None, momentum=None, dampening=0.0, weight_decay=0.0,
                 nesterov=False):
        kind = lib.CLG_OPTIM_NESTEROV if nesterov else lib.CLG_OPTIM_SGD
        super().__init__(params, kind, lr=lr, momentum=momentum, dampening=dampening,
                         weight_decay=weight_decay)


class RMSprop(Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False):
        super().__init__(params, lib.CLG_OPTIM_RMSPROP, lr=lr, alpha=alpha, eps=eps,
                         weight_decay=weight_decay, momentum=momentum, centered=centered)


class Adam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lib.CLG_OPTIM_ADAM, lr=lr, beta1=betas[0], beta2=betas[1],
                         eps=eps, weight_decay=weight_decay)


class AdamW(Optimizer):
    """torch.optim.AdamW: decoupled weight decay (1e-2 by default)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(params, lib.CLG_OPTIM_ADAMW, lr=lr, beta1=betas[0], beta2=betas[1],
                         eps=eps, weight_decay=weight_decay)


__all__ = ['Optimizer', 'SGD', 'RMSprop', 'Adam', 'AdamW']
