#!/usr/bin/python3
"""tests/golden/data_dtypes.safetensors: a file as PyTorch users write it, with
the safetensors package's own writer (safetensors.torch.save_file), in the
dtypes clgrad converts on reading: float64, float16 and bfloat16 to float32,
int64 to int32. tests/data/test_safetensors.c checks every value against its
formula or the constant spelled out here; the fc tensors with the metadata
make an "mlp" 4-3-2 that clg_model_from_checkpoint loads, as a user's
model.double() would, and a torch.nn.BatchNorm1d(3)'s state_dict (with its
int64 num_batches_tracked, of rank 0) loads into clgrad's batch norm layer.

Needs the safetensors package beside Debian's python3-torch, e.g.
    python3 -m venv --system-site-packages /tmp/st && /tmp/st/bin/pip install safetensors
    /tmp/st/bin/python tools/golden/gen_data_dtypes.py
"""
import math
import os

import torch
from safetensors.torch import save_file

from common import GOLDEN_DIR

tensors = {
    # float64 that float32 holds exactly, then the rounding cases: 1/3 to
    # nearest, 1e300 and -1e300 to infinities, 1e-300 to zero, NaN, and
    # FLT_MAX plus a quarter ulp, which rounds down to FLT_MAX
    "f64.values": torch.tensor([-1.0, -0.75, 0.5, 1.0 / 3.0, 1e300, -1e300, 1e-300, math.nan,
                                3.4028234663852886e38 + 2.0 ** 102], dtype=torch.float64),
    # float16: zeros, the largest finite (65504), the smallest subnormal
    # (2^-24), a normal that needs its rebias (0.1 as a half: 0.0999755859375),
    # infinities and NaN
    "f16.values": torch.tensor([0.0, -0.0, 65504.0, 2.0 ** -24, 0.1, -2.5, math.inf, -math.inf,
                                math.nan], dtype=torch.float16),
    # bfloat16: a float32's top half
    "bf16.values": torch.tensor([1.0, -2.5, 3.140625, 2.0 ** -130, math.inf, 1e38],
                                dtype=torch.bfloat16),
    # int64: zero, -1, int32's extremes and a large value
    "i64.values": torch.tensor([0, -1, 2 ** 31 - 1, -2 ** 31, 123456789], dtype=torch.int64),
    # an mlp 4-3-2, (k - 6) / 8 by element: exact in every dtype
    "fc1.weight": ((torch.arange(12, dtype=torch.float64) - 6) / 8).reshape(3, 4),
    "fc1.bias": ((torch.arange(3) - 6) / 8).to(torch.float16),
    "fc2.weight": ((torch.arange(6) - 6) / 8).reshape(2, 3).to(torch.bfloat16),
    "fc2.bias": ((torch.arange(2, dtype=torch.float64) - 6) / 8),
}
# BatchNorm1d(3) after 7 training batches: its state_dict as PyTorch names
# it, with values exact in float32
bn = torch.nn.BatchNorm1d(3)
with torch.no_grad():
    bn.weight.copy_(torch.tensor([0.5, 1.0, 1.5]))
    bn.bias.copy_(torch.tensor([-0.25, 0.0, 0.25]))
    bn.running_mean.copy_(torch.tensor([0.125, -0.5, 2.0]))
    bn.running_var.copy_(torch.tensor([1.5, 0.25, 4.0]))
    bn.num_batches_tracked.fill_(7)
tensors.update(bn.state_dict())
metadata = {"generator": "tools/golden/gen_data_dtypes.py", "model": "mlp", "arch": "4-3-2"}
path = os.path.join(GOLDEN_DIR, "data_dtypes.safetensors")
save_file(tensors, path, metadata=metadata)
print("wrote", path, len(tensors), "tensors")
