#!/usr/bin/python3
"""Golden loss curves for zoo/lenet5.c (tests/zoo/test_lenet5.c): LeNet-5
(conv 5x5 1->6 padding 2, ReLU, max pool 2, conv 5x5 6->16, ReLU, max pool 2,
fc 400-120-84-10 with ReLU between) with PyTorch's default initialisation from
a fixed seed, trained for 10 steps on the first 160 Fashion-MNIST training
images (batches of 16), once with SGD (lr 0.1) and once with Adam (lr 1e-3)
from the same initial weights.

Writes tests/golden/lenet5_curve.safetensors:
  conv1.weight, conv1.bias, conv2.*, fc1.*, fc2.*, fc3.*   initial weights
  x (10, 16, 784) float32              the batches, pixels / 255
  y (10, 16) int32                     their labels
  loss.sgd, loss.adam (10)             mean cross-entropy of each step, taken
                                       before that step's optimizer update
"""
import copy
import os

import torch
from torch import nn

from common import FASHION_MNIST, GOLDEN_DIR, ROOT, read_idx, save_safetensors
STEPS, BATCH = 10, 16




class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(400, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = x.reshape(-1, 1, 28, 28)
        x = nn.functional.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = nn.functional.max_pool2d(torch.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
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
torch.set_num_threads(1)
initial = LeNet5()
images = read_idx(os.path.join(FASHION_MNIST, "train-images-idx3-ubyte.gz"), STEPS * BATCH)
labels = read_idx(os.path.join(FASHION_MNIST, "train-labels-idx1-ubyte.gz"), STEPS * BATCH)
xs = images.reshape(STEPS, BATCH, 784).to(torch.float32) / 255.0
ys = labels.reshape(STEPS, BATCH).to(torch.int64)

tensors = {name: p.detach().clone() for name, p in initial.state_dict().items()}
sgd_model = copy.deepcopy(initial)
tensors["loss.sgd"] = train(sgd_model, torch.optim.SGD(sgd_model.parameters(), lr=0.1), xs, ys)
adam_model = copy.deepcopy(initial)
tensors["loss.adam"] = train(adam_model, torch.optim.Adam(adam_model.parameters(), lr=1e-3), xs, ys)
tensors["x"] = xs
tensors["y"] = ys.to(torch.int32)

path = os.path.join(GOLDEN_DIR, "lenet5_curve.safetensors")
save_safetensors(path, tensors, {"generator": "tools/golden/gen_lenet5.py", "torch": torch.__version__})
print("wrote", os.path.relpath(path, ROOT), "sgd", tensors["loss.sgd"].tolist(),
      "adam", tensors["loss.adam"].tolist())
