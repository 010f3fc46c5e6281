#!/usr/bin/python3
"""A small safetensors file written by the PyTorch side (common.py's writer,
json.dumps escaping), which tests/data/test_safetensors.c reads back bit for
bit. Every value is a formula the test recomputes in C, or a constant it
spells out, so the fixture holds no randomness."""
import math
import os

import torch

from common import GOLDEN_DIR, save_safetensors

tensors = {
    # exactly representable: k / 4 - 1
    "f32.matrix": (torch.arange(12, dtype=torch.float32) / 4 - 1).reshape(3, 4),
    # rank 4 with a unit axis: k * 0.5
    "f32.rank4": (torch.arange(12, dtype=torch.float32) * 0.5).reshape(2, 1, 3, 2),
    "f32.scalar": torch.tensor(2.5, dtype=torch.float32),
    "f32.empty": torch.zeros(0, 3, dtype=torch.float32),
    # float32 edge cases: signed zero, the smallest denormal, the largest
    # finite, infinities, NaN and a value that needs rounding (1/3)
    "f32.special": torch.tensor([0.0, -0.0, 1e-45, 3.4028234663852886e38, math.inf, -math.inf,
                                 math.nan, 1.0 / 3.0], dtype=torch.float32),
    "i32.labels": torch.tensor([0, 1, -1, 2147483647, -2147483648, 42], dtype=torch.int32),
    # 10 - 3k, as a (2, 3) matrix
    "i32.matrix": (10 - 3 * torch.arange(6, dtype=torch.int32)).reshape(2, 3),
    # a name json.dumps writes with \u escapes (Greek small letter alpha)
    "layer.\u03b1": torch.tensor([7.0], dtype=torch.float32),
}
metadata = {
    "generator": "tools/golden/gen_data_safetensors.py",
    "torch": torch.__version__,
    "quote": 'say "hi"\\ok',
    "unicode": "caf\u00e9 \U0001f600",
}
path = os.path.join(GOLDEN_DIR, "data_small.safetensors")
save_safetensors(path, tensors, metadata)
print("wrote", path, len(tensors), "tensors")
