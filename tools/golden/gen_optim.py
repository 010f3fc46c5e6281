#!/usr/bin/python3
"""Golden values for optim/optim.c: five steps of each torch.optim optimizer
(single-tensor path, foreach=False) on a 7-element parameter with a fixed
sequence of gradients.

Per case: <case>.hyper = [kind, lr, momentum, dampening, weight_decay, alpha,
beta1, beta2, eps, centered] (kind numbered as clg_optim_kind), <case>.param0
(initial), <case>.grad<k> (the gradient of step k+1) and <case>.param<k+1>
(after step k+1). Hyperparameters are rounded to float32 before torch sees
them, as clg_optim_options holds them, so only arithmetic differs.

skip_<kind> cases have a second parameter b that has no gradient (None) in
steps 1 and 2: b.param0..5, b.grad2..4. It must stay unchanged while skipped
and then behave as if it started at step 3 (fresh momentum buffer, Adam's
bias correction from its own step count)."""
import torch

from common import Fixture

KINDS = {"sgd": 0, "momentum": 1, "nesterov": 2, "rmsprop": 3, "adam": 4, "adamw": 5}
STEPS = 5
SIZE = 7

fx = Fixture("optim", seed=5)


def f32(v):
    return torch.tensor(float(v), dtype=torch.float32).item()


def make(kind, hp, params):
    if kind in ("sgd", "momentum", "nesterov"):
        return torch.optim.SGD(params, lr=hp["lr"], momentum=hp["momentum"],
                               dampening=hp["dampening"], weight_decay=hp["weight_decay"],
                               nesterov=kind == "nesterov", foreach=False)
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=hp["lr"], alpha=hp["alpha"], eps=hp["eps"],
                                   weight_decay=hp["weight_decay"], momentum=hp["momentum"],
                                   centered=hp["centered"], foreach=False)
    cls = torch.optim.Adam if kind == "adam" else torch.optim.AdamW
    return cls(params, lr=hp["lr"], betas=(hp["beta1"], hp["beta2"]), eps=hp["eps"],
               weight_decay=hp["weight_decay"], foreach=False)


def hyper(kind, **over):
    hp = dict(lr=0.1, momentum=0.0, dampening=0.0, weight_decay=0.0, alpha=0.99, beta1=0.9,
              beta2=0.999, eps=1e-8, centered=False)
    hp.update(over)
    hp = {k: (v if k == "centered" else f32(v)) for k, v in hp.items()}
    row = [KINDS[kind], hp["lr"], hp["momentum"], hp["dampening"], hp["weight_decay"],
           hp["alpha"], hp["beta1"], hp["beta2"], hp["eps"], float(hp["centered"])]
    return hp, torch.tensor(row, dtype=torch.float32)


def case(name, kind, **over):
    hp, row = hyper(kind, **over)
    p = torch.nn.Parameter(fx.rand(SIZE))
    fx.tensors[name + ".hyper"] = row
    fx.tensors[name + ".param0"] = p.detach().clone()
    opt = make(kind, hp, [p])
    for k in range(STEPS):
        g = fx.rand(SIZE, low=-2, high=2)
        fx.tensors["%s.grad%d" % (name, k)] = g
        p.grad = g.clone()
        opt.step()
        fx.tensors["%s.param%d" % (name, k + 1)] = p.detach().clone()


def skip_case(name, kind, **over):
    hp, row = hyper(kind, **over)
    a = torch.nn.Parameter(fx.rand(SIZE))
    b = torch.nn.Parameter(fx.rand(SIZE))
    fx.tensors[name + ".hyper"] = row
    fx.tensors[name + ".param0"] = a.detach().clone()
    fx.tensors[name + ".b.param0"] = b.detach().clone()
    opt = make(kind, hp, [a, b])
    for k in range(STEPS):
        g = fx.rand(SIZE, low=-2, high=2)
        fx.tensors["%s.grad%d" % (name, k)] = g
        a.grad = g.clone()
        b.grad = None
        if k >= 2:
            gb = fx.rand(SIZE, low=-2, high=2)
            fx.tensors["%s.b.grad%d" % (name, k)] = gb
            b.grad = gb.clone()
        opt.step()
        fx.tensors["%s.param%d" % (name, k + 1)] = a.detach().clone()
        fx.tensors["%s.b.param%d" % (name, k + 1)] = b.detach().clone()


case("sgd", "sgd")
case("sgd_wd", "sgd", weight_decay=0.1)
case("sgd_heavy_ball", "sgd", momentum=0.8, dampening=0.3, weight_decay=0.05)
case("momentum", "momentum", momentum=0.9)
case("momentum_wd", "momentum", momentum=0.9, weight_decay=0.1)
case("nesterov", "nesterov", momentum=0.9)
case("nesterov_wd", "nesterov", momentum=0.9, weight_decay=0.1)
case("rmsprop", "rmsprop", lr=0.01)
case("rmsprop_wd", "rmsprop", lr=0.01, weight_decay=0.1)
case("rmsprop_centered", "rmsprop", lr=0.01, centered=True)
case("rmsprop_momentum", "rmsprop", lr=0.01, momentum=0.9)
case("rmsprop_centered_momentum_wd", "rmsprop", lr=0.01, alpha=0.9, centered=True,
     momentum=0.5, weight_decay=0.1)
case("adam", "adam", lr=0.05)
case("adam_wd", "adam", lr=0.05, weight_decay=0.1)
case("adam_betas", "adam", lr=0.05, beta1=0.5, beta2=0.9, eps=1e-3)
case("adamw", "adamw", lr=0.05, weight_decay=0.0)
case("adamw_wd", "adamw", lr=0.05, weight_decay=0.1)
skip_case("skip_momentum", "momentum", momentum=0.9, weight_decay=0.1)
skip_case("skip_rmsprop", "rmsprop", lr=0.01, centered=True, momentum=0.5)
skip_case("skip_adam", "adam", lr=0.05, weight_decay=0.1)
fx.save()
