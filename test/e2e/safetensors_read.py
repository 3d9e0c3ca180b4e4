"""Reads the tensors of a safetensors file (checkpoints, --dump files) without numpy:
load(path) -> {name: (dtype, shape, [values row-major])}, and the metadata."""
import json
import struct

_FORMATS = {"F32": "f", "I32": "i", "I64": "q"}


def load(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack_from("<Q", blob, 0)
    header = json.loads(blob[8:8 + n])
    data = 8 + n
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        dtype, shape = entry["dtype"], entry["shape"]
        begin, end = entry["data_offsets"]
        code = _FORMATS.get(dtype)
        if code is None:
            raise ValueError(f"{path}: {name}: dtype {dtype} not handled here")
        count = (end - begin) // struct.calcsize(code)
        values = list(struct.unpack_from(f"<{count}{code}", blob, data + begin))
        tensors[name] = (dtype, shape, values)
    return tensors


def metadata(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(n)).get("__metadata__", {})


def bf16(x):
    """x rounded to bf16 (nearest even) and back, as fp8rt's floatToBf16 (finite x)."""
    (bits,) = struct.unpack("<I", struct.pack("<f", x))
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    return struct.unpack("<f", struct.pack("<I", bits))[0]


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]
