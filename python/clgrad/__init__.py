"""clgrad: deep learning on any OpenCL device, from Python.

A thin layer over the C library (cffi, declarations generated from
include/clgrad/): each op is one C call on the device, NumPy arrays go in and
out. A training step:

    import clgrad
    model = clgrad.nn.Sequential(clgrad.nn.Linear(784, 256), clgrad.nn.ReLU(),
                                 clgrad.nn.Linear(256, 10))
    opt = clgrad.optim.Adam(model.parameters())
    for x, y in batches:                        # NumPy arrays
        with clgrad.step():                     # its tensors are released at the end
            loss = clgrad.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            print(loss.item())                  # read inside the step

Errors raise clgrad.Error (ShapeError, ArgumentError, FileError, StateError)
with the C library's message; a step tensor used after its step raises
ReleasedTensorError. The device is CLGRAD_DEVICE's (see clgrad.devices()).
"""
from . import data, nn, ops, optim, zoo
from ._core import (ArgumentError, Device, Error, FileError, PendingRead, ReleasedTensorError,
                    ShapeError, StateError, Tensor, counters, device, devices, float32,
                    from_numpy, int32, is_grad_enabled, launch_plan, memstats, no_grad, step,
                    synchronize, tensor, use_device, zeros)
from .data import load_file, save_file
from .ops import *  # noqa: F401,F403 (the ops of ops.h, as functions)

__version__ = '0.1.0'
