"""A small safetensors writer and reader for the golden-fixture scripts (NumPy only).

The format: an 8-byte little-endian header length N, N bytes of UTF-8 JSON
({"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__":
{str: str}}) padded with spaces to a multiple of 8, then the little-endian,
row-major data, covered by the offsets without holes.

write_safetensors(path, tensors, metadata, reference_layout=False)
    reference_layout=False: tensors in the given order, __metadata__ last
    (the layout of the engine fixture).
    reference_layout=True: the layout of the reference implementation (the
    Rust crate behind the Python safetensors package): __metadata__ first
    (keys sorted here), then tensors by descending dtype rank, then by name,
    so each tensor's data is aligned to its element size.
read_safetensors(path) -> (name -> ndarray in header order, metadata)
"""

import json
import os
import struct

import numpy as np

DTYPES = {
    np.dtype("<f8"): "F64",
    np.dtype("<f4"): "F32",
    np.dtype("<i8"): "I64",
    np.dtype("<i4"): "I32",
    np.dtype("int8"): "I8",
    np.dtype("uint8"): "U8",
    np.dtype("bool"): "BOOL",
}

# The reference implementation's dtype order (its layout rank), lowest first.
RANK = ["BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3",
        "F8_E8M0", "F8_E4M3FNUZ", "F8_E5M2FNUZ", "I16", "U16", "F16", "BF16",
        "I32", "U32", "F32", "C64", "F64", "I64", "U64"]


def _little(arr):
    arr = np.asarray(arr)
    return arr.astype(arr.dtype.newbyteorder("<"), order="C")  # keeps 0-d shapes


def write_safetensors(path, tensors, metadata, reference_layout=False):
    """Writes tensors (name -> ndarray) and metadata (str -> str)."""
    items = [(name, _little(arr)) for name, arr in tensors.items()]
    if reference_layout:
        items.sort(key=lambda kv: (-RANK.index(DTYPES[kv[1].dtype]), kv[0].encode("utf-8")))
    header = {}
    if reference_layout and metadata:
        header["__metadata__"] = dict(sorted(metadata.items()))
    chunks = []
    offset = 0
    for name, arr in items:
        raw = arr.tobytes(order="C")
        header[name] = {
            "dtype": DTYPES[arr.dtype],
            "shape": list(arr.shape),
            "data_offsets": [offset, offset + len(raw)],
        }
        chunks.append(raw)
        offset += len(raw)
    if not reference_layout:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in chunks:
            f.write(raw)


def read_safetensors(path):
    """Reads a file back: (name -> ndarray, in header order; metadata)."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack_from("<Q", blob, 0)
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    data = blob[8 + n:]
    metadata = header.pop("__metadata__", {})
    inverse = {v: k for k, v in DTYPES.items()}
    out = {}
    end_max = 0
    for name, info in header.items():
        begin, end = info["data_offsets"]
        dtype = inverse[info["dtype"]]
        count = int(np.prod(info["shape"], dtype=np.int64))
        assert end - begin == count * dtype.itemsize, name
        out[name] = np.frombuffer(data[begin:end], dtype=dtype).reshape(info["shape"])
        end_max = max(end_max, end)
    assert end_max == len(data), "data buffer has trailing bytes"
    return out, metadata
