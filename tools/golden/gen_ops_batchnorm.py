#!/usr/bin/python3
"""Golden values for ops/batchnorm.c and nn/batchnorm.c: F.batch_norm forward
and backward in training and eval mode on (N, C) and (N, C, H, W), running
statistics after several training steps, and nn.BatchNorm2d over a few
steps then in eval mode.

Case inputs are x, running_mean, running_var, weight, bias (the last two
left out in the "noaffine" cases); the case function updates clones of the
running statistics, so the recorded inputs are the values before the step."""
import torch
import torch.nn.functional as F

from common import Fixture

fx = Fixture("ops_batchnorm", seed=3)


def bn(training, momentum, eps):
    def fn(x, rm, rv, w=None, b=None):
        return F.batch_norm(x, rm.clone(), rv.clone(), w, b, training, momentum, eps)
    return fn


def stats(c):
    return [fx.rand(c, low=-0.5, high=0.5), fx.rand(c, low=0.5, high=2.0)]


# (N, C) and (N, C, H, W) with odd channel counts and non-square images; batch 1
# is valid in training when H W > 1.
shapes = {"rank2": (7, 5), "rank4": (3, 5, 4, 6), "batch1": (1, 3, 2, 5)}
for mode, training in (("train", True), ("eval", False)):
    for sname, shape in shapes.items():
        c = shape[1]
        x = fx.rand(*shape, low=-2, high=3)
        w = fx.rand(c, low=0.5, high=1.5)
        b = fx.rand(c)
        fx.case("%s.%s" % (mode, sname), bn(training, 0.1, 1e-5),
                [x] + stats(c) + [w, b], grad=[True, False, False, True, True])
    x = fx.rand(4, 3, 3, 5, low=-1, high=1)
    fx.case("%s.noaffine" % mode, bn(training, 0.1, 1e-3), [x] + stats(3),
            grad=[True, False, False])

# Running statistics after three training steps (momentum 0.3, eps 1e-3),
# from PyTorch's initial values (mean 0, variance 1).
for sname, shape in (("rank2", (6, 3)), ("rank4", (2, 3, 5, 3))):
    c = shape[1]
    rm, rv = torch.zeros(c), torch.ones(c)
    w, b = fx.rand(c, low=0.5, high=1.5), fx.rand(c)
    fx.tensors["running.%s.weight" % sname] = w
    fx.tensors["running.%s.bias" % sname] = b
    for step in range(3):
        x = fx.rand(*shape, low=-1, high=2) * (step + 1)
        out = F.batch_norm(x, rm, rv, w, b, True, 0.3, 1e-3)
        fx.tensors["running.%s.x%d" % (sname, step)] = x
        fx.tensors["running.%s.out%d" % (sname, step)] = out
        fx.tensors["running.%s.mean%d" % (sname, step)] = rm.clone()
        fx.tensors["running.%s.var%d" % (sname, step)] = rv.clone()

# nn.BatchNorm2d(5) (momentum 0.1, eps 1e-5): three training steps, each with
# loss = sum(out * gout) from fresh gradients, then one eval forward.
layer = torch.nn.BatchNorm2d(5)
for step in range(3):
    x = fx.rand(2, 5, 3, 4, low=-1, high=2)
    gout = fx.rand(2, 5, 3, 4)
    layer.zero_grad()
    out = layer(x)
    (out * gout).sum().backward()
    fx.tensors["layer.x%d" % step] = x
    fx.tensors["layer.gout%d" % step] = gout
    fx.tensors["layer.out%d" % step] = out.detach()
    fx.tensors["layer.dweight%d" % step] = layer.weight.grad.clone()
    fx.tensors["layer.dbias%d" % step] = layer.bias.grad.clone()
fx.tensors["layer.running_mean"] = layer.running_mean.clone()
fx.tensors["layer.running_var"] = layer.running_var.clone()
layer.eval()
x = fx.rand(2, 5, 3, 4, low=-1, high=2)
fx.tensors["layer.eval_x"] = x
fx.tensors["layer.eval_out"] = layer(x).detach()
fx.save()
