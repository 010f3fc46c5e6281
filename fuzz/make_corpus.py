#!/usr/bin/env python3
"""fuzz/make_corpus.py: writes the seed corpora in fuzz/corpus/<harness>/:
small well-formed files of each format (and a few near misses), so the
fuzzers start from inputs that reach deep into each parser. The files are
committed; rerun this only to change them."""
import gzip
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def put(harness, name, data):
    folder = os.path.join(HERE, "corpus", harness)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def idx(dims):
    header = bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims)
    total = 1
    for d in dims:
        total *= d
    return header + bytes((7 * k + 3) % 256 for k in range(total))


for name, dims in [("images", [2, 3, 4]), ("labels", [5]), ("rank4", [1, 2, 1, 3])]:
    put("idx", name, idx(dims))
    put("idx", name + ".gz", gzip.compress(idx(dims), mtime=0))
put("idx", "no-trailer.gz", gzip.compress(idx([2, 3]), mtime=0)[:-8])
put("idx", "two-members.gz", gzip.compress(idx([4])[:6], mtime=0) + gzip.compress(idx([4])[6:], mtime=0))

header = "Time," + ",".join("V%d" % i for i in range(1, 29)) + ",Amount,Class\n"
def row(t, cls, scale):
    return ",".join(["%.1f" % t] + ["%.3f" % (scale * (i % 5 - 2)) for i in range(28)] + ["12.50", str(cls)]) + "\n"
csv = header + row(0, 0, 0.5) + row(1, 1, 2.0) + row(2, 0, -0.25) + row(3, 0, 1e-3)
put("csv", "plain.csv", csv.encode())
put("csv", "quoted-crlf.csv", "\r\n".join('"' + line.replace(",", '","') + '"' for line in csv.splitlines()).encode() + b"\r\n")
put("csv", "overflow.csv", (header + row(0, 0, 1) + row(1, 1, 1).replace("12.50", "1e39")).encode())


def safetensors(tensors, metadata=None):
    head = {}
    if metadata:
        head["__metadata__"] = metadata
    offset, blobs = 0, []
    for name, shape, dtype in tensors:
        n = {"F64": 8, "F16": 2, "BF16": 2, "I64": 8}.get(dtype, 4)
        count = 1
        for d in shape:
            count *= d
        n *= count
        head[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n]}
        if dtype == "I64":  # values int32 holds, as clgrad reads I64
            blobs.append(b"".join(struct.pack("<q", (offset + k) % 251 - 125) for k in range(count)))
        else:
            blobs.append(bytes((offset + k) % 251 for k in range(n)))
        offset += n
    text = json.dumps(head, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def linear_stack(widths, first=1):
    out = []
    for i in range(len(widths) - 1):
        out.append(("fc%d.weight" % (first + i), [widths[i + 1], widths[i]], "F32"))
        out.append(("fc%d.bias" % (first + i), [widths[i + 1]], "F32"))
    return out


checkpoints = {
    "mlp": safetensors(linear_stack([6, 4, 3]), {"model": "mlp", "arch": "6-4-3"}),
    "logreg": safetensors(linear_stack([5, 2]), {"model": "logreg", "arch": "5-2"}),
    "autoencoder": safetensors(linear_stack([4, 3, 2, 3, 4]), {"model": "autoencoder", "arch": "4-3-2-3-4"}),
    "lstm": safetensors([("lstm.weight_ih_l0", [8, 3], "F32"), ("lstm.weight_hh_l0", [8, 2], "F32"),
                         ("lstm.bias_ih_l0", [8], "F32"), ("lstm.bias_hh_l0", [8], "F32")]
                        + linear_stack([2, 3]), {"model": "lstm", "arch": "2x3-2-3"}),
    "lenet5": safetensors([("conv1.weight", [6, 1, 5, 5], "F32")],
                          {"model": "lenet5", "arch": "lenet5", "activation": "relu", "pool": "max"}),
}
for name, data in checkpoints.items():
    put("checkpoint", name + ".safetensors", data)
put("safetensors", "mlp.safetensors", checkpoints["mlp"])
put("safetensors", "i32.safetensors", safetensors([("ids", [3], "I32"), ("empty", [0, 2], "F32")], {"note": "caf\\u00e9"}))
put("safetensors", "empty.safetensors", safetensors([]))
# the dtypes converted to F32 on reading
put("safetensors", "dtypes.safetensors", safetensors([("d", [2, 3], "F64"), ("h", [5], "F16"),
                                                      ("b", [3], "BF16"), ("s", [], "F64")]))
# a PyTorch BatchNorm1d(3) state_dict, num_batches_tracked an I64 of rank 0
put("safetensors", "batchnorm.safetensors",
    safetensors([("weight", [3], "F32"), ("bias", [3], "F32"), ("running_mean", [3], "F32"),
                 ("running_var", [3], "F32"), ("num_batches_tracked", [], "I64"), ("ids", [2], "I64")]))
put("checkpoint", "mlp-f64.safetensors",
    safetensors([(name, shape, "F64") for name, shape, _ in linear_stack([6, 4, 3])],
                {"model": "mlp", "arch": "6-4-3"}))

# kernel-cache entries for fuzz_cache.c's key
KEY = b"ops/binary.cl|0123456789abcdef|-cl-std=CL1.2 |cpu|OpenCL 1.2|1|2"


def fnv1a(data):
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def entry(key, binary):
    return (b"clgrad-program-binary-v2\0" + struct.pack("<Q", len(key)) + key
            + struct.pack("<QQ", len(binary), fnv1a(binary)) + binary)


put("cache", "good", entry(KEY, b"\x7fELF binary of a kernel" * 4))
put("cache", "other-key", entry(KEY[:-1] + b"3", b"\x7fELF other"))
put("cache", "bad-checksum", entry(KEY, b"payload")[:-1] + b"X")
