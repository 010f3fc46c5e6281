#!/usr/bin/python3
"""Golden loss curves for zoo/mlp.c (tests/zoo/test_mlp.c): a 784-256-128-10
ReLU MLP with PyTorch's default initialisation from a fixed seed, trained for
10 steps on the first 320 Fashion-MNIST training images (batches of 32), once
with SGD (lr 0.1) and once with Adam (lr 1e-3) from the same initial weights.

Writes tests/golden/mlp_curve.safetensors:
  fc1.weight, fc1.bias, fc2.*, fc3.*   the initial weights, named as clgrad names them
  x (10, 32, 784) float32              the batches, pixels / 255
  y (10, 32) int32                     their labels
  loss.sgd, loss.adam (10)             mean cross-entropy of each step, taken
                                       before that step's optimizer update
"""
import copy
import os

import torch
from torch import nn

from common import FASHION_MNIST, GOLDEN_DIR, ROOT, read_idx, save_safetensors

STEPS, BATCH = 10, 32




class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 256)
        self.fc2 = nn.Linear(256, 128)
        self.fc3 = nn.Linear(128, 10)

    def forward(self, x):
        return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))


def train(model, optimizer, xs, ys):
    losses = []
    for x, y in zip(xs, ys):
        loss = nn.functional.cross_entropy(model(x), y)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return torch.tensor(losses, dtype=torch.float32)


torch.manual_seed(0)
initial = MLP()
images = read_idx(os.path.join(FASHION_MNIST, "train-images-idx3-ubyte.gz"), STEPS * BATCH)
labels = read_idx(os.path.join(FASHION_MNIST, "train-labels-idx1-ubyte.gz"), STEPS * BATCH)
xs = (images.reshape(STEPS, BATCH, 784).to(torch.float32) / 255.0)
ys = labels.reshape(STEPS, BATCH).to(torch.int64)

tensors = {name: p.detach().clone() for name, p in initial.state_dict().items()}
sgd_model = copy.deepcopy(initial)
tensors["loss.sgd"] = train(sgd_model, torch.optim.SGD(sgd_model.parameters(), lr=0.1), xs, ys)
adam_model = copy.deepcopy(initial)
tensors["loss.adam"] = train(adam_model, torch.optim.Adam(adam_model.parameters(), lr=1e-3), xs, ys)
tensors["x"] = xs
tensors["y"] = ys.to(torch.int32)

path = os.path.join(GOLDEN_DIR, "mlp_curve.safetensors")
save_safetensors(path, tensors, {"generator": "tools/golden/gen_mlp.py", "torch": torch.__version__})
print("wrote", os.path.relpath(path, ROOT), "sgd", tensors["loss.sgd"].tolist(),
      "adam", tensors["loss.adam"].tolist())
