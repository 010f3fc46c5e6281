"""bench/idx.py: Fashion-MNIST's IDX files as numpy arrays, for the PyTorch and
tinygrad scripts beside it (bench/torch_epoch.py, bench/tinygrad_steps.py), with
no deep-learning framework imported. Not a script of its own."""
import gzip
import os
import struct

import numpy as np

DATA_DIR = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    """An IDX file of unsigned bytes, gzipped or plain, as a numpy array."""
    for candidate in (path, path + ".gz"):
        if os.path.exists(candidate):
            opener = gzip.open if candidate.endswith(".gz") else open
            with opener(candidate, "rb") as f:
                data = f.read()
            rank = data[3]
            dims = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
            return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)
    return None
