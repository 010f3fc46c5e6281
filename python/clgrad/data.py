"""clgrad.data: datasets, batching, safetensors files and metrics
(include/clgrad/data.h), with NumPy arrays in and out."""
import numpy as np

from ._core import _context
from ._ffi import CONSTANTS, ffi, lib
from . import nn

FASHION_MNIST_DIR = CONSTANTS['CLG_FASHION_MNIST_DIR']


def _copy(pointer, count, dtype):
    """A NumPy copy of `count` elements at a borrowed C pointer."""
    dtype = np.dtype(dtype)
    if count == 0:
        return np.empty(0, dtype)
    return np.frombuffer(ffi.buffer(pointer, count * dtype.itemsize), dtype=dtype).copy()


def load_mnist(directory=FASHION_MNIST_DIR, train=True):
    """(images, labels): float32 (N, 784) in [0, 1] and int32 (N), from the
    IDX files of MNIST or Fashion-MNIST in `directory` (Debian's
    dataset-fashion-mnist by default); train=False for the test set."""
    ctx = _context()
    ds = lib.clg_dataset_load_mnist(ctx.ptr, str(directory).encode(), bool(train))
    if ds == ffi.NULL:
        raise ctx.error()
    try:
        n, features = lib.clg_dataset_size(ds), lib.clg_dataset_features(ds)
        images = _copy(lib.clg_dataset_images(ds), n * features, np.float32).reshape(n, features)
        labels = _copy(lib.clg_dataset_labels(ds), n, np.int32)
    finally:
        lib.clg_dataset_destroy(ds)
    return images, labels


def batches(size, batch_size, shuffle=True, drop_last=False, seed=42, epoch=0):
    """The index arrays of one epoch over range(size): a permutation fixed by
    (seed, epoch) when shuffling, the same one clg_batcher gives C programs."""
    ctx = _context()
    b = lib.clg_batcher_create(ctx.ptr, int(size), int(batch_size), bool(shuffle),
                               bool(drop_last), int(seed))
    if b == ffi.NULL:
        raise ctx.error()
    try:
        for _ in range(epoch + 1):
            lib.clg_batcher_begin_epoch(b)
        indices = ffi.new('const int64_t **')
        count = ffi.new('int64_t *')
        while lib.clg_batcher_next(b, indices, count):
            yield _copy(indices[0], count[0], np.int64)
    finally:
        lib.clg_batcher_destroy(b)


def save_file(tensors, path, metadata=None):
    """Writes {name: array or Tensor} as a safetensors file (float32), with
    optional string metadata: safetensors.numpy.save_file's arguments."""
    from ._core import tensor
    ctx = _context()
    keep = [tensor(np.asarray(v, dtype=np.float32)) for v in tensors.values()]
    params = nn.Params(lib.clg_params_create(ctx.ptr), None, owned=True, refs=keep)
    for name, t in zip(tensors, keep):
        ctx.check(lib.clg_params_add(params._p, str(name).encode(), t._ptr()))
    nn._save(params, path, metadata)


def load_file(path):
    """{name: NumPy array} of a safetensors file (F32 and I32 entries)."""
    ctx = _context()
    st = lib.clg_safetensors_read(ctx.ptr, str(path).encode())
    if st == ffi.NULL:
        raise ctx.error()
    try:
        out = {}
        dtype, rank = ffi.new('clg_dtype *'), ffi.new('int *')
        shape, data = ffi.new('const int64_t **'), ffi.new('const void **')
        for i in range(lib.clg_safetensors_count(st)):
            name = lib.clg_safetensors_name(st, i)
            lib.clg_safetensors_get(st, name, dtype, rank, shape, data)
            dims = tuple(shape[0][d] for d in range(rank[0]))
            kind = np.float32 if dtype[0] == lib.CLG_DTYPE_F32 else np.int32
            out[ffi.string(name).decode()] = _copy(data[0], int(np.prod(dims, dtype=np.int64)),
                                                   kind).reshape(dims)
        return out
    finally:
        lib.clg_safetensors_destroy(st)


def load_metadata(path, key):
    """One __metadata__ value of a safetensors file, or None."""
    ctx = _context()
    st = lib.clg_safetensors_read(ctx.ptr, str(path).encode())
    if st == ffi.NULL:
        raise ctx.error()
    try:
        value = lib.clg_safetensors_metadata(st, key.encode())
        return None if value == ffi.NULL else ffi.string(value).decode()
    finally:
        lib.clg_safetensors_destroy(st)


def confusion_matrix(predicted, truth, classes):
    """(accuracy, matrix) with matrix[truth, predicted] counts. A label
    outside [0, classes) raises, naming the sample."""
    predicted = np.ascontiguousarray(predicted, dtype=np.int32)
    truth = np.ascontiguousarray(truth, dtype=np.int32)
    if predicted.shape != truth.shape:
        raise ValueError('confusion_matrix: predicted and truth differ in shape')
    matrix = np.zeros((classes, classes), dtype=np.int64)
    accuracy = ffi.new('double *')
    ctx = _context()
    ctx.check(lib.clg_confusion_matrix(
        ctx.ptr, ffi.cast('const int32_t *', ffi.from_buffer(predicted)),
        ffi.cast('const int32_t *', ffi.from_buffer(truth)), predicted.size, int(classes),
        ffi.cast('int64_t *', ffi.from_buffer(matrix, require_writable=True)), accuracy))
    return float(accuracy[0]), matrix


__all__ = ['FASHION_MNIST_DIR', 'load_mnist', 'batches', 'save_file', 'load_file',
           'load_metadata', 'confusion_matrix']
