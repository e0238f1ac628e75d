#!/usr/bin/env python3
"""Writes the malformed Keras inputs of the diagnostics corpus (tests/diag):
each keras_*.{json,keras,h5} must fail to load with the message in its .err.
A Keras .json finds its weights in the NAME.weights.h5 beside it.
Run: KERAS_BACKEND=torch python3 tests/diag/gen_keras_diag.py
"""
import json
import os
import shutil

os.environ.setdefault("KERAS_BACKEND", "torch")
import h5py  # noqa: E402
import keras  # noqa: E402
from keras import layers as L  # noqa: E402

D = os.path.dirname(os.path.abspath(__file__))


def tiny():
    return keras.Sequential([keras.Input((6, 6, 2), name="x"),
                             L.Conv2D(3, 3, name="conv"), L.Flatten(name="flat"),
                             L.Dense(4, activation="relu", name="fc")], name="tiny")


def write_pair(name, cfg, weights_src):
    with open(os.path.join(D, name + ".json"), "w") as f:
        json.dump(cfg, f)
    shutil.copy(weights_src, os.path.join(D, name + ".weights.h5"))


def layer(cfg, name):
    return next(l for l in cfg["config"]["layers"] if l["config"]["name"] == name)


def main():
    m = tiny()
    tmp = os.path.join(D, "_tiny.weights.h5")
    m.save_weights(tmp)
    base = json.loads(m.to_json())

    # a Dense whose config says 5 units, its weights are (12, 4)
    c = json.loads(json.dumps(base))
    layer(c, "fc")["config"]["units"] = 5
    write_pair("keras_wrong_shape", c, tmp)

    # the weights file lacks the Dense bias
    write_pair("keras_missing_weight", base, tmp)
    with h5py.File(os.path.join(D, "keras_missing_weight.weights.h5"), "a") as f:
        del f["layers/dense/vars/1"]

    # two layer classes loom does not have: both named in one error
    c = json.loads(json.dumps(base))
    layer(c, "conv")["class_name"] = "LocallyConnected2D"
    layer(c, "fc")["class_name"] = "FancyDense"
    write_pair("keras_unknown_layers", c, tmp)

    # options loom does not implement
    c = json.loads(json.dumps(base))
    layer(c, "conv")["config"]["data_format"] = "channels_first"
    write_pair("keras_channels_first", c, tmp)
    c = json.loads(json.dumps(base))
    layer(c, "fc")["config"]["activation"] = "sparse_plus_fancy"
    write_pair("keras_bad_activation", c, tmp)

    # no NAME.weights.h5 beside NAME.json
    with open(os.path.join(D, "keras_no_weights.json"), "w") as f:
        json.dump(base, f)

    # a truncated .keras zip, and a weights-only HDF5 given as a model
    full = os.path.join(D, "_tiny.keras")
    m.save(full)
    data = open(full, "rb").read()
    open(os.path.join(D, "keras_truncated.keras"), "wb").write(data[: len(data) // 2])
    shutil.copy(tmp, os.path.join(D, "keras_weights_only.h5"))
    os.remove(full)
    os.remove(tmp)


if __name__ == "__main__":
    main()
