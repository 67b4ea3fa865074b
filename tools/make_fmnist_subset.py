"""Makes the compact Fashion-MNIST subset that ships inside the nn module.

Picks, with a fixed seed, the same number of images of every class from the
official training set and from the official test set, shuffles each subset
(so an unshuffled pass still sees the classes mixed), and writes the four
files under their standard names as gzip IDX:

    nn/src/main/resources/dev/kiln/nn/data/fashion-mnist/
        train-images-idx3-ubyte.gz  train-labels-idx1-ubyte.gz
        t10k-images-idx3-ubyte.gz   t10k-labels-idx1-ubyte.gz

Defaults: 1,000 training images per class (10,000) and 200 test images per
class (2,000), seed 0. The source is Debian's dataset-fashion-mnist package
(/usr/share/datasets/fashion-mnist), or any directory holding the four
official files (gz or raw) given with --source.

Run by hand from the repository root with Debian's interpreter and NumPy:

    /usr/bin/python3 tools/make_fmnist_subset.py

The output is deterministic (gzip level 9, no file name, mtime 0): rerunning
leaves the files byte-for-byte unchanged. The script reads the files back and
checks them against the source before reporting.
"""

import argparse
import gzip
import io
import os
import struct
import sys

import numpy as np

NAMES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801
CLASSES = 10


def read_bytes(directory, stem):
    for name in (stem + ".gz", stem):
        path = os.path.join(directory, name)
        if os.path.exists(path):
            with open(path, "rb") as f:
                data = f.read()
            return path, gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    sys.exit(f"make_fmnist_subset: {stem}[.gz] not found in {directory}")


def read_idx(directory, stem, magic):
    path, data = read_bytes(directory, stem)
    got = struct.unpack(">I", data[:4])[0]
    if got != magic:
        sys.exit(f"make_fmnist_subset: {path}: expected magic 0x{magic:08x}, got 0x{got:08x}")
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        sys.exit(f"make_fmnist_subset: {path}: expected {int(np.prod(dims))} bytes of data, got {body.size}")
    return body.reshape(dims)


def idx_bytes(array, magic):
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def write_gz(path, payload):
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as g:
        g.write(payload)
    with open(path, "wb") as f:
        f.write(buf.getvalue())


def balanced(labels, per_class, rng):
    picks = [rng.choice(np.flatnonzero(labels == c), per_class, replace=False) for c in range(CLASSES)]
    return rng.permutation(np.concatenate(picks))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--out", default="nn/src/main/resources/dev/kiln/nn/data/fashion-mnist")
    parser.add_argument("--train-per-class", type=int, default=1000)
    parser.add_argument("--test-per-class", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    os.makedirs(args.out, exist_ok=True)
    total = 0
    for split, per_class in (("train", args.train_per_class), ("test", args.test_per_class)):
        images = read_idx(args.source, NAMES[split + "_images"], IMAGES_MAGIC)
        labels = read_idx(args.source, NAMES[split + "_labels"], LABELS_MAGIC)
        pick = balanced(labels, per_class, rng)
        for kind, array, magic in (("images", images[pick], IMAGES_MAGIC), ("labels", labels[pick], LABELS_MAGIC)):
            path = os.path.join(args.out, NAMES[f"{split}_{kind}"] + ".gz")
            write_gz(path, idx_bytes(array, magic))
            back = read_idx(args.out, NAMES[f"{split}_{kind}"], magic)
            if not np.array_equal(back, array):
                sys.exit(f"make_fmnist_subset: {path} does not read back as written")
            size = os.path.getsize(path)
            total += size
            print(f"{path}: {array.shape[0]} {kind}, {size} bytes")
        counts = np.bincount(labels[pick], minlength=CLASSES)
        if not np.all(counts == per_class):
            sys.exit(f"make_fmnist_subset: {split} subset is not balanced: {counts.tolist()}")
    print(f"total {total} bytes")


if __name__ == "__main__":
    main()
