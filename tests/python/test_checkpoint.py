"""Checkpoints from Python: safetensors files written and read by the C
library (data/checkpoint.c through python/clgrad/nn.py, data.py, zoo.py),
and a round trip with PyTorch where it is installed (an MLP, and a GRU layer
into torch.nn.GRU)."""
import json
import struct

import numpy as np
import pytest

import clgrad


def mlp(seed):
    return clgrad.nn.Sequential(clgrad.nn.Linear(4, 8, seed=seed), clgrad.nn.ReLU(),
                                clgrad.nn.Linear(8, 3, seed=seed + 1))


def outputs(model, x):
    with clgrad.no_grad(), clgrad.step():
        return model(x).numpy()


def test_save_then_load_gives_the_same_model(tmp_path, rng):
    x = rng.standard_normal((5, 4))
    a, b = mlp(1), mlp(10)
    assert not np.allclose(outputs(a, x), outputs(b, x))
    a.save(tmp_path / 'a.safetensors', metadata={'note': 'from python'})
    b.load(tmp_path / 'a.safetensors')
    np.testing.assert_array_equal(outputs(a, x), outputs(b, x))
    arrays = clgrad.load_file(tmp_path / 'a.safetensors')
    assert sorted(arrays) == ['0.bias', '0.weight', '2.bias', '2.weight']
    np.testing.assert_array_equal(arrays['0.weight'], a.state_dict()['0.weight'])
    assert clgrad.data.load_metadata(tmp_path / 'a.safetensors', 'note') == 'from python'


def test_a_checkpoint_that_does_not_fit_says_which_tensor(tmp_path):
    mlp(1).save(tmp_path / 'small.safetensors')
    wider = clgrad.nn.Sequential(clgrad.nn.Linear(4, 9), clgrad.nn.ReLU(), clgrad.nn.Linear(9, 3))
    with pytest.raises(clgrad.FileError, match='0.weight') as error:
        wider.load(tmp_path / 'small.safetensors')
    assert error.value.status == 'mismatch'
    with pytest.raises(clgrad.FileError, match='missing.safetensors'):
        wider.load(tmp_path / 'missing.safetensors')


def test_save_file_and_load_file_round_trip(tmp_path, rng):
    arrays = {'a': rng.standard_normal((2, 3)).astype(np.float32), 'b': np.arange(4.0)}
    clgrad.save_file(arrays, tmp_path / 'x.safetensors', metadata={'k': 'v'})
    back = clgrad.load_file(tmp_path / 'x.safetensors')
    np.testing.assert_array_equal(back['a'], arrays['a'])
    np.testing.assert_array_equal(back['b'], arrays['b'].astype(np.float32))


def test_a_zoo_model_rebuilds_from_its_file(tmp_path, rng):
    model = clgrad.zoo.mlp(784, [32], 10, seed=5)
    model.save(tmp_path / 'm.safetensors')
    again = clgrad.zoo.load(tmp_path / 'm.safetensors')
    assert (again.kind, again.arch) == ('mlp', model.arch)
    assert again.in_features == 784 and again.out_features == 10
    x = rng.uniform(0, 1, (3, 784))
    np.testing.assert_array_equal(outputs(model, x), outputs(again, x))


# ---- PyTorch ----

def write_safetensors(path, tensors):
    """The safetensors layout (an 8-byte header length, a JSON header, the
    data), for PyTorch installs without the safetensors package."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        data = t.detach().contiguous().numpy().astype('<f4').tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(t.shape),
                        'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + b''.join(blobs))


def read_safetensors(path):
    """The same layout read back without clgrad: {name: float32 array}."""
    with open(path, 'rb') as f:
        blob = f.read()
    (length,) = struct.unpack('<Q', blob[:8])
    header = json.loads(blob[8:8 + length])
    header.pop('__metadata__', None)
    out = {}
    for name, entry in header.items():
        assert entry['dtype'] == 'F32'
        start, end = entry['data_offsets']
        data = blob[8 + length + start:8 + length + end]
        out[name] = np.frombuffer(data, dtype='<f4').reshape(entry['shape']).copy()
    return out


def test_round_trip_with_pytorch_through_safetensors(tmp_path, rng):
    torch = pytest.importorskip('torch', reason='PyTorch is not installed (pip install torch, '
                                'or Debian python3-torch with a --system-site-packages venv)')
    torch.manual_seed(0)
    reference = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    x = rng.standard_normal((5, 4)).astype(np.float32)
    write_safetensors(tmp_path / 'torch.safetensors', reference.state_dict())
    model = mlp(99).load(tmp_path / 'torch.safetensors')
    with torch.no_grad():
        expected = reference(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(outputs(model, x), expected, rtol=1e-5, atol=1e-6)
    # One training step in clgrad, then back into PyTorch, strictly.
    opt = clgrad.optim.SGD(model.parameters(), lr=0.1)
    with clgrad.step():
        clgrad.cross_entropy(model(x), np.array([0, 1, 2, 0, 1])).backward()
        opt.step()
    model.save(tmp_path / 'clgrad.safetensors')
    state = {k: torch.from_numpy(v)
             for k, v in read_safetensors(tmp_path / 'clgrad.safetensors').items()}
    reference.load_state_dict(state, strict=True)
    with torch.no_grad():
        np.testing.assert_allclose(reference(torch.from_numpy(x)).numpy(), outputs(model, x),
                                   rtol=1e-5, atol=1e-6)


def test_gru_checkpoint_loads_into_torch_nn_gru(tmp_path, rng):
    """clgrad.nn.GRU's weights are torch.nn.GRU's by name and layout (gates
    r, z, n): strict loading, and the same output sequence and h_n."""
    torch = pytest.importorskip('torch', reason='PyTorch is not installed (pip install torch, '
                                'or Debian python3-torch with a --system-site-packages venv)')
    gru = clgrad.nn.GRU(5, 6, batch_first=True, seed=3)
    gru.save(tmp_path / 'gru.safetensors')
    reference = torch.nn.GRU(5, 6, batch_first=True)
    reference.load_state_dict({k: torch.from_numpy(v) for k, v in
                               read_safetensors(tmp_path / 'gru.safetensors').items()},
                              strict=True)
    x = rng.standard_normal((4, 7, 5)).astype(np.float32)
    with torch.no_grad():
        want_out, want_h = reference(torch.from_numpy(x))
    with clgrad.no_grad(), clgrad.step():
        out, h_n = gru(clgrad.tensor(x))
        np.testing.assert_allclose(out.numpy(), want_out.numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(h_n.numpy(), want_h.numpy(), rtol=1e-5, atol=1e-6)
