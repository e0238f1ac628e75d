#!/usr/bin/env python3
"""Writes the .npy inputs of the tests in tests/lit/cli. The outputs are
committed; rerun (needs numpy) only to change them:

    python3 tests/lit/Inputs/cli/gen_inputs.py
"""
import os

import numpy as np

OUT = os.path.dirname(os.path.abspath(__file__))


def save(name, a):
    np.save(os.path.join(OUT, name), a)


save("x_2x3.npy", np.arange(1, 7, dtype=np.float32).reshape(2, 3))
save("x_2x3_f64.npy", np.arange(1, 7, dtype=np.float64).reshape(2, 3))
save("x_3x2.npy", np.arange(1, 7, dtype=np.float32).reshape(3, 2))
save("c_2x3.npy", np.full((2, 3), 10, dtype=np.float32))
save("shape_3x2.npy", np.array([3, 2], dtype=np.int64))
save("shape_f64.npy", np.array([3, 2], dtype=np.float64))
save("ints.npy", np.array([2**53 + 1, -(2**63) + 1, 123], dtype=np.int64))
save("one.npy", np.array([1.5], dtype=np.float32))
