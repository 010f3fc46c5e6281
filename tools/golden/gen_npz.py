#!/usr/bin/python3
"""The .npz fixtures of tests/data/test_npz.c and tests/tools/test_cli.sh,
written by NumPy itself (np.savez: stored zip entries, np.savez_compressed:
deflated ones), so the reader is tested against the real writer rather than
against clgrad's idea of it. Needs only NumPy (python3 -m venv /tmp/np &&
/tmp/np/bin/pip install numpy && /tmp/np/bin/python tools/golden/gen_npz.py).

Every value of the small files is a formula the C test recomputes:
  x[i, j] = (i * F + j) / 4 - 1     (exact in float32 and float64)
  y[i]    = i % 3
The training set for the command line is three seeded Gaussian blobs."""
import io
import os
import zipfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "tests", "golden", "npz")
os.makedirs(OUT, exist_ok=True)


def path(name):
    return os.path.join(OUT, name)


def formula(n, f, dtype):
    return ((np.arange(n * f, dtype=np.float64) / 4) - 1).reshape(n, f).astype(dtype)


def labels(n, dtype=np.int64):
    return (np.arange(n) % 3).astype(dtype)


# ---- files the reader accepts ----
np.savez(path("stored.npz"), x=formula(12, 5, np.float32), y=labels(12))
np.savez_compressed(path("deflated.npz"), x=formula(12, 5, np.float32), y=labels(12))
np.savez(path("float64.npz"), x=formula(6, 3, np.float64), y=labels(6, np.int32))
# uint8 images (N, 1, 28, 28): pixel k of image i is (i + k) % 256
images = ((np.arange(4)[:, None] + np.arange(784)[None, :]) % 256).astype(np.uint8)
np.savez_compressed(path("images_u8.npz"), x=images.reshape(4, 1, 28, 28),
                    y=np.array([0, 9, 4, 1], dtype=np.uint8))
# an extra array and the arrays in the other order: both ignored / found
np.savez(path("extra.npz"), y=labels(4, np.int16), notes=np.zeros(3), x=formula(4, 2, np.float32))

# ---- files it refuses, one flaw each ----
np.savez(path("shape_mismatch.npz"), x=formula(12, 5, np.float32), y=labels(10))
np.savez(path("float16.npz"), x=formula(4, 2, np.float16), y=labels(4))
np.savez(path("fortran.npz"), x=np.asfortranarray(formula(4, 3, np.float32)), y=labels(4))
np.savez(path("no_y.npz"), x=formula(4, 2, np.float32), labels=labels(4))
np.savez(path("negative.npz"), x=formula(4, 2, np.float32), y=np.array([0, 1, -1, 2]))
np.savez(path("float_labels.npz"), x=formula(4, 2, np.float32), y=labels(4, np.float32))
np.savez(path("bigendian.npz"), x=formula(4, 2, np.dtype(">f4")), y=labels(4))
np.savez(path("y_2d.npz"), x=formula(4, 2, np.float32), y=labels(4).reshape(4, 1))
np.savez(path("x_1d.npz"), x=np.zeros(4, dtype=np.float32), y=labels(4))
np.savez(path("nan.npz"), x=np.array([[0, 1], [2, np.nan]], dtype=np.float32), y=labels(2))
np.savez(path("empty.npz"), x=np.zeros((0, 3), dtype=np.float32), y=np.zeros(0, dtype=np.int64))
np.savez(path("object.npz"), x=formula(2, 2, np.float32),
         y=np.array([0, "one"], dtype=object), allow_pickle=True)
np.save(path("plain.npy"), formula(2, 2, np.float32))  # a .npy, not an archive
# bzip2, which NumPy never writes but zipfile can
with zipfile.ZipFile(path("bzip2.npz"), "w", compression=zipfile.ZIP_BZIP2) as z:
    for name, array in (("x", formula(4, 2, np.float32)), ("y", labels(4))):
        buffer = io.BytesIO()
        np.lib.format.write_array(buffer, array)
        z.writestr(name + ".npy", buffer.getvalue())

# ---- the command line's training and test sets ----
rng = np.random.default_rng(16)
centres = rng.normal(0.0, 2.0, size=(3, 6))


def blobs(n):
    y = rng.integers(0, 3, size=n)
    x = centres[y] + rng.normal(0.0, 1.0, size=(n, 6))
    return x.astype(np.float32), y


x, y = blobs(1000)
np.savez_compressed(path("blobs_train.npz"), x=x, y=y)
x, y = blobs(200)
np.savez(path("blobs_test.npz"), x=x, y=y)
# the same test set as CSV, label in the middle column, for --data x.csv --label class
with open(path("blobs_test.csv"), "w") as f:
    f.write("f0,f1,f2,class,f3,f4,f5\n")
    for row, label in zip(x, y):
        values = [repr(float(v)) for v in row]
        f.write(",".join(values[:3] + [str(int(label))] + values[3:]) + "\n")
print("wrote", len(os.listdir(OUT)), "files to", os.path.normpath(OUT))

# ---- seeds for fuzz/fuzz_npz.c: both entry kinds, zip64 headers, uint8 ----
import shutil

seeds = os.path.join(HERE, "..", "..", "fuzz", "corpus", "npz")
os.makedirs(seeds, exist_ok=True)
for name in ("stored.npz", "deflated.npz", "images_u8.npz", "extra.npz", "float64.npz"):
    shutil.copy(path(name), os.path.join(seeds, name))
