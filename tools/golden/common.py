"""Shared by the golden-value generators in tools/golden/: a safetensors writer
(so the generators need only Debian's python3-torch, not the safetensors
package), `Fixture.case`, which records one op's forward and backward, and
`read_idx`, the first images or labels of Debian's Fashion-MNIST.

Run the generators with the system Python, which has torch:
    /usr/bin/python3 tools/golden/gen_ops.py
Fixtures land in tests/golden/ and are committed, so tests need no Python.
"""
import gzip
import json
import os
import struct

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GOLDEN_DIR = os.path.join(ROOT, "tests", "golden")
FASHION_MNIST = "/usr/share/datasets/fashion-mnist"

torch.set_num_threads(1)


def read_idx(path, count):
    """The first `count` items of a gzipped IDX file of unsigned bytes."""
    with gzip.open(path, "rb") as f:
        magic = struct.unpack(">I", f.read(4))[0]
        rank = magic & 0xFF
        assert magic >> 8 == 0x08, "%s: not an unsigned-byte IDX file" % path
        dims = struct.unpack(">%dI" % rank, f.read(4 * rank))
        item = 1
        for d in dims[1:]:
            item *= d
        data = f.read(count * item)
    return torch.tensor(list(data), dtype=torch.uint8).reshape(count, *dims[1:])


def save_safetensors(path, tensors, metadata=None):
    """Writes {name: tensor} as safetensors (F32 and I32), atomically."""
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        if t.dtype == torch.float32:
            dtype = "F32"
        elif t.dtype in (torch.int32, torch.int64):
            t = t.to(torch.int32)
            dtype = "I32"
        else:
            raise ValueError("%s: unsupported dtype %s" % (name, t.dtype))
        data = t.numpy().astype("<f4" if dtype == "F32" else "<i4").tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


class Fixture:
    """Collects cases for one tests/golden/<family>.safetensors file."""

    def __init__(self, family, seed=0):
        self.family = family
        self.tensors = {}
        self.gen = torch.Generator().manual_seed(seed)

    def rand(self, *shape, low=-1.0, high=1.0):
        # a tuple, so that rank 0 (no sizes) works too
        return torch.rand(tuple(shape), generator=self.gen) * (high - low) + low

    def case(self, name, fn, inputs, grad=None):
        """Records inputs <name>.in<i>, output <name>.out, a random upstream
        gradient <name>.gout and input gradients <name>.grad<i> for the
        inputs flagged in `grad` (default: every float input)."""
        if grad is None:
            grad = [x.dtype == torch.float32 for x in inputs]
        leaves = []
        for i, x in enumerate(inputs):
            leaf = x.detach().clone()
            if grad[i]:
                leaf.requires_grad_(True)
            leaves.append(leaf)
            self.tensors["%s.in%d" % (name, i)] = leaf.detach()
        out = fn(*leaves)
        self.tensors["%s.out" % name] = out.detach()
        if any(grad) and out.requires_grad:
            gout = self.rand(*out.shape)
            out.backward(gout)
            self.tensors["%s.gout" % name] = gout
            for i, leaf in enumerate(leaves):
                if grad[i]:
                    self.tensors["%s.grad%d" % (name, i)] = leaf.grad.detach()
        return out

    def save(self):
        os.makedirs(GOLDEN_DIR, exist_ok=True)
        path = os.path.join(GOLDEN_DIR, self.family + ".safetensors")
        save_safetensors(path, self.tensors, {"generator": "tools/golden", "torch": torch.__version__})
        print("wrote", os.path.relpath(path, ROOT), len(self.tensors), "tensors")
