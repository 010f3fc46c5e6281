#!/usr/bin/python3
"""Golden first steps for zoo/gan.c (tests/zoo/test_gan.c): both
architectures at small sizes (noise 8; MLP hidden 16, DCGAN 4 channels),
PyTorch's default initialisation from a fixed seed, 6 rounds of the game on
the first 48 Fashion-MNIST training images (batches of 8, pixels mapped to
[-1, 1]), each round a discriminator step then a generator step, each on its
own Adam (lr 2e-4, betas (0.5, 0.999), the DCGAN paper's), with the noise of
every step from the fixture. The MLP plays the minimax generator loss, the
DCGAN the non-saturating one.

Writes tests/golden/gan_steps.safetensors:
  <arch>.g.<param>, <arch>.d.<param>   initial weights (and batch-norm buffers),
                                       named as clgrad names them; arch mlp or dcgan
  x (6, 8, 784)                        the real batches, pixels / 255
  <arch>.z_d, <arch>.z_g (6, 8, 8)     the noise of each discriminator / generator step
  <arch>.d_loss, <arch>.g_loss (6)     each step's loss before its update
"""
import os

import torch
from torch import nn
import torch.nn.functional as F

from common import FASHION_MNIST, GOLDEN_DIR, ROOT, read_idx, save_safetensors





STEPS, BATCH, NOISE = 6, 8, 8


class MLPG(nn.Module):
    def __init__(self, h):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(NOISE, h), nn.Linear(h, 2 * h), nn.Linear(2 * h, 784)

    def forward(self, z):
        h = F.leaky_relu(self.fc1(z), 0.2)
        return torch.tanh(self.fc3(F.leaky_relu(self.fc2(h), 0.2)))


class MLPD(nn.Module):
    def __init__(self, h):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(784, 2 * h), nn.Linear(2 * h, h), nn.Linear(h, 1)

    def forward(self, x):
        h = F.leaky_relu(self.fc1(x), 0.2)
        return self.fc3(F.leaky_relu(self.fc2(h), 0.2))


class DCG(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.fc1 = nn.Linear(NOISE, 2 * c * 49)
        self.bn1 = nn.BatchNorm2d(2 * c)
        self.deconv1 = nn.ConvTranspose2d(2 * c, c, 4, 2, 1)
        self.bn2 = nn.BatchNorm2d(c)
        self.deconv2 = nn.ConvTranspose2d(c, 1, 4, 2, 1)

    def forward(self, z):
        h = self.fc1(z).reshape(-1, 2 * self.c, 7, 7)
        h = torch.relu(self.bn1(h))
        h = torch.relu(self.bn2(self.deconv1(h)))
        return torch.tanh(self.deconv2(h)).reshape(-1, 784)


class DCD(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(1, c, 4, 2, 1)
        self.conv2 = nn.Conv2d(c, 2 * c, 4, 2, 1)
        self.fc1 = nn.Linear(2 * c * 49, 1)

    def forward(self, x):
        h = F.leaky_relu(self.conv1(x.reshape(-1, 1, 28, 28)), 0.2)
        h = F.leaky_relu(self.conv2(h), 0.2)
        return self.fc1(h.flatten(1))


def play(arch, G, D, x, minimax, tensors):
    for prefix, net in (("g", G), ("d", D)):
        for k, v in net.state_dict().items():
            if not k.endswith("num_batches_tracked"):
                tensors["%s.%s.%s" % (arch, prefix, k)] = v.detach().clone()
    z_d = torch.randn(STEPS, BATCH, NOISE)
    z_g = torch.randn(STEPS, BATCH, NOISE)
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    ones, zeros = torch.ones(BATCH, 1), torch.zeros(BATCH, 1)
    d_losses, g_losses = [], []
    for step in range(STEPS):
        real = x[step] * 2 - 1
        fake = G(z_d[step]).detach()
        d_loss = (F.binary_cross_entropy_with_logits(D(real), ones)
                  + F.binary_cross_entropy_with_logits(D(fake), zeros))
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        logits = D(G(z_g[step]))
        if minimax:
            g_loss = -F.binary_cross_entropy_with_logits(logits, zeros)
        else:
            g_loss = F.binary_cross_entropy_with_logits(logits, ones)
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        d_losses.append(d_loss.item())
        g_losses.append(g_loss.item())
    tensors.update({arch + ".z_d": z_d, arch + ".z_g": z_g,
                    arch + ".d_loss": torch.tensor(d_losses),
                    arch + ".g_loss": torch.tensor(g_losses)})
    print(arch, "d_loss", ["%.4f" % v for v in d_losses], "g_loss", ["%.4f" % v for v in g_losses])


def main():
    torch.manual_seed(77)
    images = read_idx(os.path.join(FASHION_MNIST, "train-images-idx3-ubyte.gz"), STEPS * BATCH)
    x = images.reshape(STEPS, BATCH, 784).float() / 255.0
    tensors = {"x": x}
    play("mlp", MLPG(16), MLPD(16), x, True, tensors)
    play("dcgan", DCG(4), DCD(4), x, False, tensors)
    path = os.path.join(GOLDEN_DIR, "gan_steps.safetensors")
    save_safetensors(path, tensors, {"generator": "tools/golden/gen_gan.py",
                                     "torch": torch.__version__})
    print("wrote", os.path.relpath(path, ROOT))


if __name__ == "__main__":
    main()
