#!/usr/bin/python3
"""Golden values for ops/gaussian.c: the reparameterisation
z = mu + exp(0.5 logvar) eps (gradients to mu, logvar and eps) and the
Gaussian KL term -0.5 (1 + logvar - mu^2 - exp(logvar)) with reductions
sum, mean and none, written the way VAE code writes it in PyTorch."""
import torch

from common import Fixture

fx = Fixture("ops_gaussian", seed=7)


def kl(reduction):
    def fn(mu, logvar):
        terms = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp())
        return {"sum": terms.sum, "mean": terms.mean, "none": lambda: terms}[reduction]()
    return fn


for name, shape in {"batch": (4, 3), "wide": (2, 17), "rank3": (2, 3, 5)}.items():
    mu = fx.rand(*shape, low=-2, high=2)
    logvar = fx.rand(*shape, low=-3, high=1.5)
    eps = torch.randn(shape, generator=fx.gen)
    fx.case("reparameterize." + name, lambda m, lv, e: m + torch.exp(0.5 * lv) * e,
            [mu, logvar, eps])
    for reduction in ("sum", "mean", "none"):
        fx.case("kl_%s.%s" % (reduction, name), kl(reduction), [mu, logvar])
fx.save()
