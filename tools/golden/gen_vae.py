#!/usr/bin/python3
"""Golden loss curve for zoo/vae.c (tests/zoo/test_vae.c): the PyTorch
examples' VAE (fc1, fc21, fc22, fc3, fc4) at 784-32-(3, 3)-32-784, PyTorch's
default initialisation from a fixed seed, trained with Adam (lr 1e-3) for 10
steps on the first 80 Fashion-MNIST training images (batches of 8), with the
reparameterisation noise taken from the fixture so both sides see the same
numbers. Loss = BCE on the logits (sum) + KL -0.5 sum(1 + logvar - mu^2 -
exp(logvar)).

Writes tests/golden/vae_curve.safetensors:
  fc1.weight, fc1.bias, ..., fc4.bias   the initial weights, named as clgrad names them
  x (10, 8, 784)                        the batches, pixels / 255
  eps (10, 8, 3)                        the noise of each step
  loss.reconstruction, loss.kl (10)     each step's two terms before its update
"""
import os

import torch
from torch import nn
import torch.nn.functional as F

from common import FASHION_MNIST, GOLDEN_DIR, ROOT, read_idx, save_safetensors





STEPS, BATCH, HIDDEN, LATENT = 10, 8, 32, 3


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, HIDDEN)
        self.fc21 = nn.Linear(HIDDEN, LATENT)
        self.fc22 = nn.Linear(HIDDEN, LATENT)
        self.fc3 = nn.Linear(LATENT, HIDDEN)
        self.fc4 = nn.Linear(HIDDEN, 784)

    def forward(self, x, eps):
        h = torch.relu(self.fc1(x))
        mu, logvar = self.fc21(h), self.fc22(h)
        z = mu + torch.exp(0.5 * logvar) * eps
        logits = self.fc4(torch.relu(self.fc3(z)))
        rec = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
        kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        return rec, kl


def main():
    torch.manual_seed(2024)
    model = VAE()
    images = read_idx(os.path.join(FASHION_MNIST, "train-images-idx3-ubyte.gz"), STEPS * BATCH)
    x = images.reshape(STEPS, BATCH, 784).float() / 255.0
    eps = torch.randn(STEPS, BATCH, LATENT)
    tensors = {k: v.detach().clone() for k, v in model.state_dict().items()}
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    recs, kls = [], []
    for step in range(STEPS):
        rec, kl = model(x[step], eps[step])
        recs.append(rec.item())
        kls.append(kl.item())
        optimizer.zero_grad()
        (rec + kl).backward()
        optimizer.step()
    tensors.update({"x": x, "eps": eps, "loss.reconstruction": torch.tensor(recs),
                    "loss.kl": torch.tensor(kls)})
    path = os.path.join(GOLDEN_DIR, "vae_curve.safetensors")
    save_safetensors(path, tensors, {"generator": "tools/golden/gen_vae.py",
                                     "torch": torch.__version__})
    print("wrote", os.path.relpath(path, ROOT), "reconstruction", recs[0], "->", recs[-1],
          "kl", kls[0], "->", kls[-1])


if __name__ == "__main__":
    main()
