"""allclose.py GOT.npy WANT.npy: exits 1 unless both are float32 arrays of
the same shape with |got - want| <= 1e-5 + 1e-4 |want| everywhere (the
tolerance of tests/models). Standard library only: the suite needs no numpy.
"""
import ast
import struct
import sys


def load(path):
    data = open(path, "rb").read()
    if data[:6] != b"\x93NUMPY":
        sys.exit("%s: not a .npy file" % path)
    major = data[6]
    n, start = ((struct.unpack("<H", data[8:10])[0], 10) if major == 1
                else (struct.unpack("<I", data[8:12])[0], 12))
    head = ast.literal_eval(data[start:start + n].decode("latin1"))
    if head["descr"] != "<f4" or head["fortran_order"]:
        sys.exit("%s: not a C-order float32 array" % path)
    body = data[start + n:]
    return tuple(head["shape"]), struct.unpack("<%df" % (len(body) // 4), body)


(gs, got), (ws, want) = load(sys.argv[1]), load(sys.argv[2])
bad = [i for i, (g, w) in enumerate(zip(got, want)) if abs(g - w) > 1e-5 + 1e-4 * abs(w)]
if gs != ws or len(got) != len(want) or bad:
    print("mismatch: shapes %s %s, %d values out of tolerance" % (gs, ws, len(bad)))
    sys.exit(1)
