#!/usr/bin/env python3
"""Writes the small (mostly broken) safetensors files of the diagnostics
corpus. Run from anywhere: python3 tests/diag/gen_safetensors.py

Each file is built by hand (header bytes + data) so that it can be broken in
exactly one way; the comment on each says how.
"""
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(name, header, data=b"", header_len=None):
    """header: dict (dumped compactly) or raw bytes; header_len overrides
    the 8-byte length field."""
    h = header if isinstance(header, bytes) else json.dumps(header, separators=(",", ":")).encode()
    n = len(h) if header_len is None else header_len
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(struct.pack("<Q", n) + h + data)


def f32(*xs):
    return struct.pack("<%df" % len(xs), *xs)


# A valid file: w [4] f32 (used by the corpus as a control), and an unused F16.
write("st_valid.safetensors",
      {"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
       "unused_half": {"dtype": "F16", "shape": [2], "data_offsets": [16, 20]}},
      f32(1, 2, 3, 4) + b"\0" * 4)

# Shorter than the 8-byte header length field.
with open(os.path.join(HERE, "st_truncated_file.safetensors"), "wb") as f:
    f.write(b"\x10\x00\x00")

# The header length says 4096 bytes, the file has far fewer.
write("st_truncated_header.safetensors",
      {"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, f32(1, 2, 3, 4),
      header_len=4096)

# The data section is cut short: w needs [0, 16), only 8 bytes follow.
write("st_truncated_data.safetensors",
      {"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, f32(1, 2))

# The header is not JSON.
write("st_header_not_json.safetensors", b"{\"w\": {\"dtype\": F32}}", f32(1, 2, 3, 4))

# Offsets point before the data section (into the header).
write("st_offsets_negative.safetensors",
      {"w": {"dtype": "F32", "shape": [4], "data_offsets": [-8, 8]}}, f32(1, 2, 3, 4))

# Offsets end before they begin.
write("st_offsets_reversed.safetensors",
      {"w": {"dtype": "F32", "shape": [0], "data_offsets": [16, 0]}}, f32(1, 2, 3, 4))

# Byte count disagrees with dtype and shape: F32 [4] needs 16 bytes, not 12.
write("st_size_mismatch.safetensors",
      {"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 12]}}, f32(1, 2, 3, 4))

# Two tensors share bytes.
write("st_overlap.safetensors",
      {"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
       "v": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}}, f32(1, 2, 3, 4))

# A dtype that is not a safetensors dtype, and an entry missing "shape".
write("st_bad_entries.safetensors",
      {"w": {"dtype": "F17", "shape": [4], "data_offsets": [0, 16]},
       "v": {"dtype": "F32", "data_offsets": [0, 16]}}, f32(1, 2, 3, 4))

# F16 / BF16 tensors that the graph uses.
write("st_half.safetensors",
      {"w": {"dtype": "F16", "shape": [4], "data_offsets": [0, 8]},
       "b": {"dtype": "BF16", "shape": [4], "data_offsets": [8, 16]}}, b"\0" * 16)

# A shape with a negative dimension.
write("st_negative_dim.safetensors",
      {"w": {"dtype": "F32", "shape": [-4], "data_offsets": [0, 16]}}, f32(1, 2, 3, 4))

# The same tensor name twice in the header.
write("st_duplicate.safetensors",
      b'{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},'
      b'"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', f32(1, 2, 3, 4))
