#!/usr/bin/python3
"""Golden values for ops/recurrent.c, ops/embedding.c, the RNN/LSTM/GRU
classifiers (zoo/recurrent.c) and gradient clipping (optim/optim.c).

ops_recurrent: torch.nn.LSTM / torch.nn.RNN from the same weights, inputs
  in0..in6 = x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh (the RNN has
  no c0: in0..in5 = x, h0, weight_ih, ...); the output is the hidden
  sequence plus h_n (and c_n) broadcast over time, so the gradients reach
  the op through all three outputs; T = 1, 7, 50, and batch_first. These
  cases are computed in float64 from the float32 inputs (see Fixture64).
  Embedding: weight (10, 4), ids (3, 5) with repeats.
  torch.nn.GRU (gates r, z, n), inputs as the RNN's: T = 1, 3, 7, and 7
  batch_first with batch 3 and hidden 5 (odd: the one-unit step kernels),
  T = 20 with batch 2 and hidden 8 (the float4 ones). They come after the
  other cases so that adding them left those values as they were.
lstm_curve: 10 steps of the classifiers (28 steps of 28 pixels, hidden 16,
  fc1 -> 10 logits, mean cross-entropy, Adam lr 1e-2) from the same weights.
optim_clip: torch.nn.utils.clip_grad_norm_ on three gradients.
"""
import torch

from common import Fixture

N, I, H = 3, 5, 4


def lstm_out(batch_first):
    def fn(x, h0, c0, w_ih, w_hh, b_ih, b_hh):
        # torch.nn.LSTM's own call (checked below), on the leaves
        y, hn, cn = torch._VF.lstm(x, (h0, c0), [w_ih, w_hh, b_ih, b_hh], True, 1, 0.0,
                                     False, False, batch_first)
        return y + (hn[0] + cn[0]).unsqueeze(0 if not batch_first else 1)
    return fn


def rnn_out(batch_first):
    def fn(x, h0, w_ih, w_hh, b_ih, b_hh):
        y, hn = torch._VF.rnn_tanh(x, h0, [w_ih, w_hh, b_ih, b_hh], True, 1, 0.0, False, False,
                                   batch_first)
        return y + hn[0].unsqueeze(0 if not batch_first else 1)
    return fn


def gru_out(batch_first):
    def fn(x, h0, w_ih, w_hh, b_ih, b_hh):
        y, hn = torch._VF.gru(x, h0, [w_ih, w_hh, b_ih, b_hh], True, 1, 0.0, False, False,
                              batch_first)
        return y + hn[0].unsqueeze(0 if not batch_first else 1)
    return fn


def check_against_module():
    """The functional calls above are what torch.nn.LSTM and torch.nn.GRU
    run: check once."""
    torch.manual_seed(0)
    m = torch.nn.LSTM(I, H)
    x = torch.rand(4, N, I)
    y, (hn, cn) = m(x)
    w = [m.weight_ih_l0, m.weight_hh_l0, m.bias_ih_l0, m.bias_hh_l0]
    y2, hn2, cn2 = torch._VF.lstm(x, (torch.zeros(1, N, H), torch.zeros(1, N, H)), w, True, 1,
                                    0.0, False, False, False)
    assert torch.equal(y, y2) and torch.equal(cn, cn2)
    g = torch.nn.GRU(I, H)
    y, hn = g(x)
    w = [g.weight_ih_l0, g.weight_hh_l0, g.bias_ih_l0, g.bias_hh_l0]
    y2, hn2 = torch._VF.gru(x, torch.zeros(1, N, H), w, True, 1, 0.0, False, False, False)
    assert torch.equal(y, y2) and torch.equal(hn, hn2)


check_against_module()


class Fixture64(Fixture):
    """Computes each case in float64 from the float32 inputs and stores the
    results as float32: then the bound measures clgrad's float32 error alone,
    not the sum of two float32 errors (at T = 50 the bias gradients sum 150
    terms of size up to 1 into values near 0.03, and PyTorch's own float32
    result is 4e-5 off in relative terms there)."""

    def case(self, name, fn, inputs, grad=None):
        if grad is None:
            grad = [x.dtype == torch.float32 for x in inputs]
        leaves = []
        for i, x in enumerate(inputs):
            self.tensors["%s.in%d" % (name, i)] = x.detach().clone()
            leaf = x.detach().double() if x.dtype == torch.float32 else x.detach().clone()
            leaf.requires_grad_(grad[i])
            leaves.append(leaf)
        out = fn(*leaves)
        self.tensors["%s.out" % name] = out.detach().float()
        gout = self.rand(*out.shape)
        out.backward(gout.double())
        self.tensors["%s.gout" % name] = gout
        for i, leaf in enumerate(leaves):
            if grad[i]:
                self.tensors["%s.grad%d" % (name, i)] = leaf.grad.detach().float()
        return out


fx = Fixture64("ops_recurrent", seed=5)
for T in (1, 7, 50):
    for bf in (False, True):
        if bf and T != 7:
            continue
        x = fx.rand(*((N, T, I) if bf else (T, N, I)))
        k = 1 / H ** 0.5
        lstm_in = [x, fx.rand(1, N, H), fx.rand(1, N, H), fx.rand(4 * H, I, low=-k, high=k),
                   fx.rand(4 * H, H, low=-k, high=k), fx.rand(4 * H, low=-k, high=k),
                   fx.rand(4 * H, low=-k, high=k)]
        suffix = "bf" if bf else ""
        fx.case("lstm.t%d%s" % (T, suffix), lstm_out(bf), lstm_in)
        rnn_in = [x, fx.rand(1, N, H), fx.rand(H, I, low=-k, high=k), fx.rand(H, H, low=-k, high=k),
                  fx.rand(H, low=-k, high=k), fx.rand(H, low=-k, high=k)]
        fx.case("rnn.t%d%s" % (T, suffix), rnn_out(bf), rnn_in)
ids = torch.tensor([[0, 3, 3, 9, 1], [2, 2, 2, 0, 5], [9, 8, 7, 3, 0]], dtype=torch.int32)
fx.case("embedding", lambda w, i: torch.nn.functional.embedding(i.long(), w),
        [fx.rand(10, 4), ids], grad=[True, False])
for T, n, h, bf in ((1, 3, 5, False), (3, 3, 5, False), (7, 3, 5, False), (7, 3, 5, True),
                    (20, 2, 8, False)):
    x = fx.rand(*((n, T, I) if bf else (T, n, I)))
    k = 1 / h ** 0.5
    gru_in = [x, fx.rand(1, n, h), fx.rand(3 * h, I, low=-k, high=k),
              fx.rand(3 * h, h, low=-k, high=k), fx.rand(3 * h, low=-k, high=k),
              fx.rand(3 * h, low=-k, high=k)]
    fx.case("gru.t%d%s" % (T, "bf" if bf else ""), gru_out(bf), gru_in)
fx.save()

# ---- the classifiers' loss curves ----
STEPS, BATCH, HID = 10, 8, 16


class Classifier(torch.nn.Module):
    def __init__(self, cell):
        super().__init__()
        modules = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}
        self.rnn = modules[cell](28, HID, batch_first=True)
        self.fc1 = torch.nn.Linear(HID, 10)

    def forward(self, x):
        out = self.rnn(x.view(-1, 28, 28))[1]
        h = out[0] if isinstance(out, tuple) else out
        return self.fc1(h[0])


curve = Fixture("lstm_curve", seed=6)
curve.tensors["x"] = curve.rand(STEPS, BATCH, 784, low=0, high=1)
curve.tensors["y"] = torch.randint(0, 10, (STEPS, BATCH), generator=curve.gen).to(torch.int32)
for cell in ("lstm", "rnn", "gru"):
    torch.manual_seed(7)
    model = Classifier(cell)
    for name, p in model.state_dict().items():
        curve.tensors["%s.%s" % (cell, name.replace("rnn.", cell + "."))] = p.clone()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for s in range(STEPS):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(curve.tensors["x"][s]),
                                                 curve.tensors["y"][s].long())
        loss.backward()
        opt.step()
        losses.append(loss.item())
    curve.tensors["%s.loss" % cell] = torch.tensor(losses)
curve.save()

# ---- clip_grad_norm_ ----
clip = Fixture("optim_clip", seed=8)
for name, max_norm in (("clip", 0.5), ("noclip", 100.0)):
    ps = [torch.nn.Parameter(clip.rand(3, 4)), torch.nn.Parameter(clip.rand(7)),
          torch.nn.Parameter(clip.rand(2, 2, 2))]
    for i, p in enumerate(ps):
        p.grad = clip.rand(*p.shape, low=-2, high=2)
        clip.tensors["%s.grad%d" % (name, i)] = p.grad.clone()
    total = torch.nn.utils.clip_grad_norm_(ps, max_norm)
    clip.tensors["%s.total" % name] = total.reshape(1)
    for i, p in enumerate(ps):
        clip.tensors["%s.clipped%d" % (name, i)] = p.grad.clone()
clip.save()
