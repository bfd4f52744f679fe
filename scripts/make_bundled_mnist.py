#!/usr/bin/env python3
"""Build the MNIST subset that plasticity-data compiles into the binary.

Usage: make_bundled_mnist.py SOURCE_DIR DEST_DIR

SOURCE_DIR holds the four canonical MNIST IDX files (raw or .gz), e.g.
/work/shared/data/mnist. DEST_DIR receives (normally crates/data/bundled/):

  train-images-15k-idx3-ubyte.gz  first 15,000 training images (indices 0..15000)
  train-labels-15k-idx1-ubyte.gz  their labels
  t10k-images-idx3-ubyte.gz       all 10,000 test images
  t10k-labels-idx1-ubyte.gz       all 10,000 test labels

Output is deterministic (like `gzip -n -9`: mtime 0, no file name in the
header), so regenerating yields byte-identical files. Python stdlib only.
"""

import gzip
import hashlib
import io
import os
import struct
import sys

TRAIN_COUNT = 15_000
IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801

# Uncompressed md5 of the canonical files: refuse to build from anything else.
CANONICAL_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}


def read_source(src_dir, name):
    for candidate in (os.path.join(src_dir, name + ".gz"), os.path.join(src_dir, name)):
        if os.path.exists(candidate):
            with open(candidate, "rb") as f:
                data = f.read()
            if data[:2] == b"\x1f\x8b":
                data = gzip.decompress(data)
            digest = hashlib.md5(data).hexdigest()
            if digest != CANONICAL_MD5[name]:
                sys.exit(f"{candidate}: md5 {digest}, expected {CANONICAL_MD5[name]}")
            return data
    sys.exit(f"{name}: not found in {src_dir} (tried {name}.gz and {name})")


def take_images(data, n):
    magic, count, rows, cols = struct.unpack(">IIII", data[:16])
    assert magic == IMAGES_MAGIC and n <= count
    return struct.pack(">IIII", IMAGES_MAGIC, n, rows, cols) + data[16 : 16 + n * rows * cols]


def take_labels(data, n):
    magic, count = struct.unpack(">II", data[:8])
    assert magic == LABELS_MAGIC and n <= count
    return struct.pack(">II", LABELS_MAGIC, n) + data[8 : 8 + n]


def write_gz(path, payload):
    buf = io.BytesIO()
    # filename="" and mtime=0 make the header independent of time and path (gzip -n).
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(payload)
    with open(path, "wb") as f:
        f.write(buf.getvalue())
    print(f"{path}: {len(payload)} bytes raw, {len(buf.getvalue())} bytes gzipped, "
          f"md5 (raw) {hashlib.md5(payload).hexdigest()}")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, dest = sys.argv[1], sys.argv[2]
    os.makedirs(dest, exist_ok=True)
    train_images = read_source(src, "train-images-idx3-ubyte")
    train_labels = read_source(src, "train-labels-idx1-ubyte")
    test_images = read_source(src, "t10k-images-idx3-ubyte")
    test_labels = read_source(src, "t10k-labels-idx1-ubyte")
    write_gz(os.path.join(dest, "train-images-15k-idx3-ubyte.gz"), take_images(train_images, TRAIN_COUNT))
    write_gz(os.path.join(dest, "train-labels-15k-idx1-ubyte.gz"), take_labels(train_labels, TRAIN_COUNT))
    write_gz(os.path.join(dest, "t10k-images-idx3-ubyte.gz"), test_images)
    write_gz(os.path.join(dest, "t10k-labels-idx1-ubyte.gz"), test_labels)


if __name__ == "__main__":
    main()
