"""The recurrent modules of python/clgrad/nn.py return what torch.nn's do:
nn.LSTM (output, (h_n, c_n)), nn.GRU and nn.RNN (output, h_n), each checked
against a float64 NumPy reference of the same weights (PyTorch's gate orders
i, f, g, o and r, z, n)."""
import numpy as np

import clgrad

T, N, I, H = 5, 3, 4, 6


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def weights(layer):
    return [getattr(layer, name).numpy().astype(np.float64)
            for name in ('weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0')]


def lstm_reference(x, w_ih, w_hh, b_ih, b_hh):
    h = np.zeros((x.shape[1], w_hh.shape[1]))
    c = np.zeros_like(h)
    out = []
    for t in range(x.shape[0]):
        i, f, g, o = np.split(x[t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh, 4, axis=1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        out.append(h)
    return np.stack(out), h[None], c[None]


def test_lstm_returns_output_and_h_n_c_n(rng):
    lstm = clgrad.nn.LSTM(I, H, seed=7)
    x = rng.standard_normal((T, N, I)).astype(np.float32)
    want_out, want_h, want_c = lstm_reference(x.astype(np.float64), *weights(lstm))
    with clgrad.step():
        out, state = lstm(clgrad.tensor(x))
        assert isinstance(state, tuple) and len(state) == 2
        h_n, c_n = state
        assert out.shape == (T, N, H)
        assert h_n.shape == (1, N, H) and c_n.shape == (1, N, H)
        np.testing.assert_allclose(out.numpy(), want_out, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(h_n.numpy(), want_h, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(c_n.numpy(), want_c, rtol=1e-4, atol=1e-5)
        # c_n is not h_n under another name: tanh(c) * o = h
        assert not np.allclose(c_n.numpy(), h_n.numpy())


def test_gru_returns_output_and_h_n(rng):
    gru = clgrad.nn.GRU(I, H, seed=9)
    x = rng.standard_normal((T, N, I)).astype(np.float32)
    w_ih, w_hh, b_ih, b_hh = weights(gru)
    h = np.zeros((N, H))
    out = []
    for t in range(T):
        a_r, a_z, a_n = np.split(x[t] @ w_ih.T + b_ih, 3, axis=1)
        h_r, h_z, h_n = np.split(h @ w_hh.T + b_hh, 3, axis=1)
        r, z = sigmoid(a_r + h_r), sigmoid(a_z + h_z)
        n = np.tanh(a_n + r * h_n)  # b_hn inside the reset product, as torch.nn.GRU
        h = (1 - z) * n + z * h
        out.append(h)
    with clgrad.step():
        got, h_last = gru(clgrad.tensor(x))
        assert got.shape == (T, N, H) and h_last.shape == (1, N, H)
        np.testing.assert_allclose(got.numpy(), np.stack(out), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(h_last.numpy(), h[None], rtol=1e-4, atol=1e-5)


def test_rnn_returns_output_and_h_n(rng):
    rnn = clgrad.nn.RNN(I, H, seed=8)
    x = rng.standard_normal((T, N, I)).astype(np.float32)
    w_ih, w_hh, b_ih, b_hh = weights(rnn)
    h = np.zeros((N, H))
    for t in range(T):
        h = np.tanh(x[t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh)
    with clgrad.step():
        out, h_n = rnn(clgrad.tensor(x))
        assert h_n.shape == (1, N, H)
        np.testing.assert_allclose(h_n.numpy(), h[None], rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(out.numpy()[-1], h, rtol=1e-4, atol=1e-5)
