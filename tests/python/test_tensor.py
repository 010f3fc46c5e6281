"""The Tensor object, steps and lifetimes, grad mode, errors, devices and the
generated binding (python/clgrad/_core.py, _ffi.py, python/gen_cdef.py)."""
import gc
import os
import re

import numpy as np
import pytest

import clgrad
from clgrad._ffi import lib

INCLUDE = os.path.join(os.path.dirname(__file__), '..', '..', 'include', 'clgrad')


def test_tensor_round_trip_keeps_values_and_types(rng):
    x = rng.standard_normal((2, 3, 4))
    t = clgrad.tensor(x)
    assert t.shape == (2, 3, 4) and t.ndim == 3 and t.numel() == 24
    assert t.dtype == clgrad.float32 and t.is_persistent
    np.testing.assert_array_equal(t.numpy(), x.astype(np.float32))
    ints = clgrad.tensor([3, -1, 7])
    assert ints.dtype == clgrad.int32 and ints.tolist() == [3, -1, 7]
    assert clgrad.tensor(2.5).item() == 2.5 and clgrad.tensor(2.5).shape == ()


def test_tensor_rejects_what_the_device_cannot_hold():
    with pytest.raises(TypeError):
        clgrad.tensor(np.array(['a']))
    with pytest.raises(clgrad.ArgumentError):
        clgrad.tensor([1, 2], requires_grad=True)  # int32 tensors take no gradient
    with pytest.raises(clgrad.ArgumentError, match='int32'):
        clgrad.tensor(np.array([2**40]))
    with pytest.raises(clgrad.ArgumentError, match='clg_tensor_create: rank 5'):
        clgrad.tensor(np.zeros((1, 1, 1, 1, 2)))


def test_operators_match_numpy(rng):
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4,))
    m = rng.standard_normal((4, 2))
    ta, tb, tm = clgrad.tensor(a), clgrad.tensor(b), clgrad.tensor(m)
    f = np.float32
    with clgrad.step():
        cases = [(ta + tb, a + b), (ta - tb, a - b), (ta * tb, a * b),
                 (ta / (tb * tb + 1), a / (b * b + 1)),
                 (2 - ta, 2 - a), (ta * 3 + 1, a * 3 + 1), (1 / (ta * ta + 1), 1 / (a * a + 1)),
                 (-ta, -a), (ta @ tm, a @ m), (ta.T, a.T), (abs(ta), np.abs(a)), (ta ** 2, a ** 2),
                 (ta.sum(dim=1), a.sum(1)), (ta.mean(), a.mean()), (ta.max(dim=0), a.max(0)),
                 (ta.reshape(2, 6), a.reshape(2, 6)), (ta + a, a + a)]
        for got, want in cases:
            np.testing.assert_allclose(got.numpy(), want.astype(f), rtol=1e-5, atol=1e-6)
        assert ta.argmax(dim=1).tolist() == a.argmax(1).tolist()
        assert ta.argmax().item() == a.argmax()


def test_step_tensors_raise_after_their_step(rng):
    w = clgrad.tensor(rng.standard_normal((3, 3)), requires_grad=True)
    with clgrad.step():
        y = w @ w
        loss = y.sum()
        loss.backward()
        kept = y.clone()
        inside = y.numpy()
    assert y.is_released and not kept.is_released
    for use in (lambda: y.numpy(), lambda: y.shape, lambda: loss.item(), lambda: y + 1,
                lambda: clgrad.relu(y), lambda: y.grad, lambda: loss.backward()):
        with pytest.raises(clgrad.ReleasedTensorError, match='released when its step ended'):
            use()
    assert 'released' in repr(y)
    np.testing.assert_array_equal(kept.numpy(), inside)  # a clone outlives the step
    assert w.grad is not None and w.grad.shape == (3, 3)  # a parameter's gradient stays


def test_results_made_outside_a_step_last_until_the_next_one():
    t = clgrad.tensor([1.0, 2.0])
    doubled = t * 2
    assert doubled.tolist() == [2.0, 4.0]
    assert doubled.tolist() == [2.0, 4.0]  # still there: no step has begun
    with clgrad.step():
        with pytest.raises(clgrad.ReleasedTensorError):
            doubled.numpy()
    assert t.tolist() == [1.0, 2.0]  # persistent


def test_a_step_tensors_gradient_is_released_with_it():
    with clgrad.step():
        x = clgrad.from_numpy(np.array([1.0, -2.0, 3.0])).requires_grad_()
        (x * x).sum().backward()
        g = x.grad
        np.testing.assert_allclose(g.numpy(), [2.0, -4.0, 6.0])
    with pytest.raises(clgrad.ReleasedTensorError):
        g.numpy()


def test_steps_do_not_nest():
    with clgrad.step():
        with pytest.raises(clgrad.StateError, match='nest'):
            with clgrad.step():
                pass
    with clgrad.step():  # the outer step ended cleanly
        assert (clgrad.tensor([1.0]) + 1).tolist() == [2.0]


def test_persistent_operands_live_until_backward(rng):
    # The temporary tensors below lose their last Python reference before
    # backward, which still reads them from the tape: the step keeps them.
    w = clgrad.tensor(rng.standard_normal(64), requires_grad=True)
    x = rng.standard_normal(64)
    with clgrad.step():
        loss = (w * clgrad.tensor(x)).sum() + (w * clgrad.tensor(2 * x)).sum()
        gc.collect()
        scratch = [clgrad.tensor(np.full(64, 1e6)) for _ in range(8)]  # reuse freed memory
        loss.backward()
        np.testing.assert_allclose(w.grad.numpy(), 3 * x, rtol=1e-5)
        del scratch


def test_errors_carry_the_librarys_message_and_clear():
    a, b = clgrad.tensor(np.zeros((2, 3))), clgrad.tensor(np.zeros((4, 3)))
    with clgrad.step():
        with pytest.raises(clgrad.ShapeError) as error:
            a + b
        assert str(error.value) == 'clg_add: shapes [2, 3] and [4, 3] cannot be broadcast'
        assert error.value.status == 'shape' and isinstance(error.value, ValueError)
        assert (a + a).shape == (2, 3)  # the error does not stick
        with pytest.raises(clgrad.ShapeError, match='clg_matmul'):
            a @ a
        with pytest.raises(clgrad.ArgumentError, match='clg_dropout'):
            clgrad.dropout(a, p=1.5)
        loss = (clgrad.tensor([1.0, 2.0], requires_grad=True) ** 2).sum()
        loss.backward()
        with pytest.raises(clgrad.StateError):
            loss.backward()  # each tape is walked once per step, as in PyTorch
    with pytest.raises(clgrad.FileError, match='no-such-dir'):
        clgrad.data.load_mnist('/no-such-dir')


def test_no_grad_records_nothing():
    w = clgrad.tensor([1.0, 2.0], requires_grad=True)
    with clgrad.step():
        assert clgrad.is_grad_enabled()
        with clgrad.no_grad():
            assert not clgrad.is_grad_enabled()
            assert not (w * 2).requires_grad
        assert clgrad.is_grad_enabled() and (w * 2).requires_grad

        @clgrad.no_grad()
        def predict(x):
            return x * 2
        assert not predict(w).requires_grad


def test_devices_describe_the_one_in_use():
    found = clgrad.devices()
    assert found and all(d.type in ('cpu', 'gpu', 'accelerator', 'other') for d in found)
    assert sum(d.default for d in found) <= 1
    assert clgrad.device() in [d.name for d in found]
    assert clgrad.launch_plan() in ('cpu', 'gpu')
    assert found[0].compute_units >= 1 and ':' in found[0].spec
    with pytest.raises(clgrad.StateError, match='already open'):
        clgrad.use_device('cpu')


def test_a_step_allocates_no_device_memory_from_the_second_on(rng):
    model = clgrad.nn.Sequential(clgrad.nn.Linear(8, 16, seed=1), clgrad.nn.ReLU(),
                                 clgrad.nn.Linear(16, 3, seed=2))
    opt = clgrad.optim.Adam(model.parameters())
    x, y = rng.standard_normal((32, 8)), rng.integers(0, 3, 32)

    def train_step():
        with clgrad.step():
            loss = clgrad.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss.item()
    train_step()
    train_step()
    before = clgrad.counters()
    train_step()
    after = clgrad.counters()
    assert after['device_allocations'] == before['device_allocations']
    assert after['program_builds'] == before['program_builds']
    assert after['host_syncs'] == before['host_syncs'] + 1  # the loss read


def test_the_binding_declares_every_public_function():
    # python/gen_cdef.py generated the cdef from the headers: nothing dropped
    # (dist.h is MPI's: the package does not wrap it).
    for header in sorted(set(os.listdir(INCLUDE)) - {'dist.h'}):
        with open(os.path.join(INCLUDE, header), encoding='utf-8') as f:
            text = f.read()
        names = re.findall(r'CLG_API[^;(]*?\b(clg_\w+)\s*\(', text)
        assert names or header == 'clgrad.h'
        for name in names:
            assert hasattr(lib, name), f'{header}: {name} missing from the cdef'


def test_every_op_of_ops_h_is_a_function():
    with open(os.path.join(INCLUDE, 'ops.h'), encoding='utf-8') as f:
        names = re.findall(r'CLG_API\s+clg_tensor\s*\*\s*clg_(\w+)\s*\(', f.read())
    assert len(names) > 40
    missing = [n for n in names if not callable(getattr(clgrad, n.replace('_host', ''), None))]
    assert not missing, f'ops.h ops without a clgrad function: {missing}'


def test_read_start_returns_a_step_s_values_after_the_step_is_gone(rng):
    model = clgrad.nn.Sequential(clgrad.nn.Linear(8, 3, seed=1))
    x, y = rng.standard_normal((16, 8)), rng.integers(0, 3, 16)
    with clgrad.step():
        loss = clgrad.cross_entropy(model(x), y)
        want = loss.item()
        before = clgrad.counters()
        pending = loss.read_start()
        assert clgrad.counters()['host_syncs'] == before['host_syncs']  # started, not waited
        matrix = clgrad.tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
        transposed = clgrad.transpose(matrix, 0, 1).read_start()
    with clgrad.step():  # reuses the released step's memory
        clgrad.cross_entropy(model(2 * x), y).item()
    before = clgrad.counters()
    got = pending.wait()
    assert clgrad.counters()['host_syncs'] == before['host_syncs'] + 1
    assert got.shape == () and float(got) == want
    assert pending.wait() is got and clgrad.counters()['host_syncs'] == before['host_syncs'] + 1
    np.testing.assert_array_equal(transposed.wait(), [[0, 3], [1, 4], [2, 5]])
