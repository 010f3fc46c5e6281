#!/usr/bin/env python3
"""tools/fit_tanh.py: the rational tanh of ops/activation_math.cl.

tanh(x) ~ x P(x^2) / Q(x^2) on [0, X], X = 7.905311 (from there float32's
tanh is 1), P of degree 6 and Q of degree 3 in x^2 with Q(0) = 1: weighted
linear least squares on the relative error (Sanathanan-Koerner iterations,
then Lawson reweighting towards minimax), in a scaled variable so that the
system stays well conditioned. Prints the error in exact arithmetic, the
error of the float32 evaluation as the kernel does it (Horner with FMAs, x
clamped to +-X) and the coefficients as TANH_P0.. and TANH_Q1...

    python3 tools/fit_tanh.py        (needs numpy)
"""
import numpy as np

X = 7.90531110763549805
N_P, N_Q = 7, 4

x = np.concatenate([np.linspace(1e-5, 1, 20000), np.linspace(1, X, 20000)])
t = np.tanh(x)
u = x * x / (X * X)


def solve(q_prev, weights):
    # x P(u) - t (Q(u) - 1) = t, each row divided by t Q_prev(u): relative error
    a = np.concatenate([x[:, None] * u[:, None] ** np.arange(N_P),
                        -t[:, None] * u[:, None] ** np.arange(1, N_Q)], 1)
    w = np.sqrt(weights) / (t * q_prev)
    c, *_ = np.linalg.lstsq(a * w[:, None], t * w, rcond=None)
    return c[:N_P], np.concatenate([[1.0], c[N_P:]])


q_val, weights = np.ones_like(x), np.ones_like(x)
for _ in range(40):
    p, q = solve(q_val, weights)
    q_val = np.polyval(q[::-1], u)
for _ in range(300):
    p, q = solve(q_val, weights)
    q_val = np.polyval(q[::-1], u)
    err = np.abs(x * np.polyval(p[::-1], u) / q_val - t) / t
    weights = weights * np.sqrt(err)
    weights /= weights.sum()
print("relative error in exact arithmetic: %.3g" % err.max())

p_s = p / (X * X) ** np.arange(N_P)  # coefficients of x^2, not u
q_s = q / (X * X) ** np.arange(N_Q)
f = np.float32
xs = np.linspace(-9, 9, 4000001).astype(f)
c = np.clip(xs, f(-X), f(X))
s = (c * c).astype(f)
pf = np.full_like(s, f(float("%.9e" % p_s[-1])))
for k in p_s[-2::-1]:
    pf = (pf.astype(np.float64) * s + f(float("%.9e" % k))).astype(f)  # one rounding: an FMA
qf = np.full_like(s, f(float("%.9e" % q_s[-1])))
for k in q_s[-2::-1]:
    qf = (qf.astype(np.float64) * s + f(float("%.9e" % k))).astype(f)
y = ((c * pf).astype(f) / qf).astype(f)
ref = np.tanh(xs.astype(np.float64))
rel = np.abs(y - ref) / np.maximum(np.abs(ref), 1e-30)
print("float32 evaluation: relative error %.3g (%.1f units of 2^-24) at x = %g; max |y| %g"
      % (rel.max(), rel.max() / 2 ** -24, xs[rel.argmax()], np.abs(y).max()))
for i, v in enumerate(p_s):
    print("#define TANH_P%d %.9ef" % (i, v))
for i, v in enumerate(q_s[1:], 1):
    print("#define TANH_Q%d %.9ef" % (i, v))
