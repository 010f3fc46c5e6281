"""bench/tinygrad_steps.py: what bench/tinygrad_mlp.py and bench/tinygrad_lenet5.py
share: the command line ([DATA_DIR] [--steps N]), Fashion-MNIST (bench/idx.py's
reader, without torch), and the timed training steps of a tinygrad model with Adam
(lr 1e-3), mean cross-entropy and the loss read every step, as clgrad-bench trains.
The step is a TinyJit function: its first two calls trace and compile it (kernels
built for the OpenCL device DEV=CL picks: PoCL's CPU device, clgrad's), so they
are warm-up; the batches are gathered on the host from a shuffled order and
uploaded each step, as clgrad-bench does. Not a script of its own."""
import os
import sys
import time

import numpy as np

from idx import DATA_DIR, read_idx
WARMUP = 3


def arguments():
    data_dir, steps = DATA_DIR, 100
    args = sys.argv[1:]
    while args:
        arg = args.pop(0)
        if arg == "--steps" and args:
            steps = int(args.pop(0))
        else:
            data_dir = arg
    return data_dir, steps


def run(model, batch, tag):
    """Times `--steps` training steps of model (a callable whose
    tinygrad.nn.state.get_parameters are its weights) at `batch` after WARMUP
    steps; prints a `result <tag> samples_per_second=... steps=...` line."""
    from tinygrad import Context, Device, Tensor, TinyJit, nn

    data_dir, steps = arguments()
    images = read_idx(os.path.join(data_dir, "train-images-idx3-ubyte"))
    labels = read_idx(os.path.join(data_dir, "train-labels-idx1-ubyte"))
    if images is None or labels is None:
        print(f"(no Fashion-MNIST in {data_dir}: random data of the same shape)")
        rng = np.random.default_rng(42)
        images = rng.integers(0, 256, (60000, 784), dtype=np.uint8)
        labels = np.arange(60000) % 10
    x = images.reshape(-1, 784).astype(np.float32) / 255.0
    y = labels.astype(np.int32)

    opt = nn.optim.Adam(nn.state.get_parameters(model), lr=1e-3)

    @TinyJit
    def step(xb, yb):
        with Context(TRAINING=1):
            opt.zero_grad()
            loss = model(xb).sparse_categorical_crossentropy(yb)
            loss.backward()
            opt.step()
        return loss.realize()

    order = np.random.default_rng(42).permutation(x.shape[0])
    needed = (WARMUP + steps) * batch
    order = np.resize(order, needed)
    loss_value = 0.0
    start = 0.0
    for s in range(WARMUP + steps):
        if s == WARMUP:
            start = time.perf_counter()
        index = order[s * batch:(s + 1) * batch]
        loss_value = step(Tensor(x[index]), Tensor(y[index])).item()
    seconds = time.perf_counter() - start
    import tinygrad
    version = getattr(tinygrad, "__version__", None)
    if version is None:
        from importlib.metadata import version as dist_version
        version = dist_version("tinygrad")
    rate = steps * batch / seconds
    print(f"tinygrad {version} on {Device.DEFAULT}: {steps} steps of {batch} in {seconds:.2f} s ({rate:.0f} samples/s), final loss {loss_value:.4f}")
    print(f"result {tag} samples_per_second={rate:.1f} steps={steps} batch={batch} version={version}")
