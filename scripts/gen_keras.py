#!/usr/bin/env python3
"""Generates the Keras test models of tests/keras (docs/keras.md).

Each model is built with Keras 3 (torch backend: no TensorFlow needed),
given random weights (biases too) and non-trivial BatchNormalization
statistics (moving mean and variance set explicitly), and saved in the file
forms loom reads, in tests/keras/NAME/:
  model.keras                        Keras 3's zip
  model.json + model.weights.h5      model.to_json() and save_weights()
  model.h5                           the legacy whole-model HDF5 (some)
with input_<name>.npy (a fixed random input) and expected_<name>.npy
(Keras's own outputs for it, model(x, training=False)).

Usage: KERAS_BACKEND=torch python3 scripts/gen_keras.py [--out DIR] [--large]
--large writes the big models (the GAN generator at the issue's Dense sizes
256..8192 and a 128x64x1 Reshape) for LOOM_LARGE_MODELS instead.
Needs: scripts/install-py.sh keras
"""
import argparse
import json
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras import layers as L  # noqa: E402

RNG = np.random.default_rng(12)


def randomize(model):
    """Random weights for every variable; BN moving stats set explicitly."""
    for layer in model.layers:
        ws = layer.get_weights()
        if not ws:
            continue
        if isinstance(layer, L.BatchNormalization):
            names = [w.path.split("/")[-1] for w in layer.weights]
            new = []
            for name, w in zip(names, ws):
                if name == "moving_variance":
                    new.append(RNG.uniform(0.5, 2.0, w.shape).astype("float32"))
                elif name == "gamma":
                    new.append(RNG.uniform(0.5, 1.5, w.shape).astype("float32"))
                else:
                    new.append(RNG.normal(0, 0.5, w.shape).astype("float32"))
            layer.set_weights(new)
            continue
        new = []
        for w in ws:
            fan = w.shape[0] if w.ndim >= 2 else 4
            if w.ndim >= 3:
                fan = int(np.prod(w.shape[:-1]))
            new.append(RNG.normal(0, 1.0 / np.sqrt(max(fan, 1)), w.shape).astype("float32"))
        layer.set_weights(new)


def sample(inp):
    shape = [1 if d is None else d for d in inp.shape]
    if "int" in str(inp.dtype):
        return RNG.integers(0, 50, shape).astype("int32")
    return RNG.normal(0, 1, shape).astype("float32")


def save(model, name, out, forms=("keras", "json"), inputs=None):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.remove(os.path.join(d, f))
    if "keras" in forms:
        model.save(os.path.join(d, "model.keras"))
    if "json" in forms:
        with open(os.path.join(d, "model.json"), "w") as f:
            f.write(model.to_json())
        model.save_weights(os.path.join(d, "model.weights.h5"))
    if "h5" in forms:
        model.save(os.path.join(d, "model.h5"))
    xs = inputs or [sample(i) for i in model.inputs]
    in_names = [t._keras_history[0].name for t in model.inputs]
    for n, x in zip(in_names, xs):
        np.save(os.path.join(d, "input_%s.npy" % n), x)
    ys = model(xs if len(xs) > 1 else xs[0], training=False)
    ys = ys if isinstance(ys, (list, tuple)) else [ys]
    out_names = [t._keras_history[0].name for t in model.outputs]
    for n, y in zip(out_names, ys):
        np.save(os.path.join(d, "expected_%s.npy" % n),
                np.ascontiguousarray(keras.ops.convert_to_numpy(y)))
    print(name, [os.path.getsize(os.path.join(d, f)) for f in sorted(os.listdir(d))])


def cnn():
    """The Sequential MNIST CNN: Conv2D, MaxPooling2D, Flatten, Dense."""
    return keras.Sequential([
        keras.Input((28, 28, 1), name="image"),
        L.Conv2D(8, 3, activation="relu", name="conv1"),
        L.MaxPooling2D(2, name="pool1"),
        L.Conv2D(16, 3, padding="same", activation="relu", name="conv2"),
        L.BatchNormalization(name="bn"),
        L.MaxPooling2D(2, name="pool2"),
        L.Flatten(name="flatten"),
        L.Dropout(0.5, name="drop"),
        L.Dense(32, activation="relu", name="fc1"),
        L.Dense(10, activation="softmax", name="probs"),
    ], name="cnn")


def lstm():
    """Stacked LSTMs with return_sequences and a softmax Dense per step."""
    return keras.Sequential([
        keras.Input((12, 8), name="seq"),
        L.LSTM(16, return_sequences=True, name="lstm1"),
        L.LSTM(12, return_sequences=True, name="lstm2"),
        L.TimeDistributed(L.Dense(10, activation="softmax"), name="per_step"),
    ], name="lstm")


def gan_generator(sizes=(64, 128), image=(8, 8, 4)):
    """Dense + LeakyReLU + BatchNormalization, Reshape, Conv2DTranspose."""
    h, w, ch = image
    ls = [keras.Input((sizes[0],), name="z")]
    for i, n in enumerate(sizes[1:]):
        ls += [L.Dense(n, name="dense%d" % i), L.LeakyReLU(0.2, name="lrelu%d" % i),
               L.BatchNormalization(momentum=0.8, name="bn%d" % i)]
    ls += [L.Dense(h * w * ch, name="dense_img"), L.LeakyReLU(0.2, name="lrelu_img"),
           L.Reshape((h, w, ch), name="reshape"),
           L.Conv2DTranspose(8, 4, strides=2, padding="same", name="up1"),
           L.BatchNormalization(name="bn_up1"), L.LeakyReLU(0.2, name="lrelu_up1"),
           L.Conv2DTranspose(1, 3, strides=2, padding="same", activation="tanh",
                             name="image")]
    return keras.Sequential(ls, name="gan_generator")


def discriminator():
    """A strided-Conv2D discriminator (odd padding='same' splits)."""
    return keras.Sequential([
        keras.Input((28, 28, 1), name="image"),
        L.Conv2D(8, 3, strides=2, padding="same", name="c1"),
        L.LeakyReLU(0.2, name="a1"),
        L.Dropout(0.3, name="d1"),
        L.Conv2D(16, 4, strides=2, padding="same", name="c2"),
        L.BatchNormalization(name="bn2"),
        L.LeakyReLU(0.2, name="a2"),
        L.Conv2D(16, 3, strides=3, padding="same", name="c3"),
        L.Flatten(name="flat"),
        L.Dense(1, activation="sigmoid", name="validity"),
    ], name="discriminator")


def residual():
    """Functional: two inputs, residual Add, Concatenate, a shared Dense,
    two outputs."""
    img = keras.Input((12, 12, 3), name="img")
    meta = keras.Input((5,), name="meta")
    x = L.Conv2D(8, 3, padding="same", name="stem")(img)
    x = L.BatchNormalization(name="stem_bn")(x)
    x = L.Activation("relu", name="stem_relu")(x)
    y = L.Conv2D(8, 3, padding="same", activation="relu", name="res_a")(x)
    y = L.Conv2D(8, 3, padding="same", name="res_b")(y)
    x = L.Add(name="res_add")([x, y])
    x = L.ReLU(name="res_relu")(x)
    x = L.Concatenate(name="cat")([x, L.Conv2D(4, 1, name="side")(x)])
    x = L.GlobalAveragePooling2D(name="gap")(x)
    shared = L.Dense(6, activation="tanh", name="shared")
    a, b = shared(L.Dense(5, name="fa")(x)), shared(L.Dense(5, name="fb")(meta))
    out1 = L.Dense(3, activation="softmax", name="cls")(L.Concatenate(name="cat2")([a, b]))
    out2 = L.Dense(1, name="reg")(L.Add(name="ab")([a, b]))
    return keras.Model([img, meta], [out1, out2], name="residual")


def transformer():
    """Functional transformer block: MultiHeadAttention, LayerNormalization."""
    x = keras.Input((10, 16), name="tokens")
    a = L.MultiHeadAttention(num_heads=2, key_dim=8, name="mha")(x, x)
    h = L.LayerNormalization(epsilon=1e-6, name="ln1")(L.Add(name="add1")([x, a]))
    f = L.Dense(32, activation="gelu", name="ffn1")(h)
    f = L.Dense(16, name="ffn2")(f)
    h = L.LayerNormalization(name="ln2")(L.Add(name="add2")([h, f]))
    y = L.Dense(4, activation="softmax", name="head")(L.GlobalAveragePooling1D(name="pool")(h))
    return keras.Model(x, y, name="transformer")


def bigru():
    """A Bidirectional GRU text classifier with Embedding (both reset_after
    settings)."""
    x = keras.Input((20,), dtype="int32", name="ids")
    e = L.Embedding(60, 16, name="embed")(x)
    h = L.Bidirectional(L.GRU(12, return_sequences=True, reset_after=False), name="bi1")(e)
    h = L.Bidirectional(L.GRU(8), name="bi2")(h)
    y = L.Dense(1, activation="sigmoid", name="label")(h)
    return keras.Model(x, y, name="bigru")


def conv1d():
    """1-D convolutions: causal and strided same padding, pooling."""
    return keras.Sequential([
        keras.Input((32, 4), name="signal"),
        L.Conv1D(8, 5, padding="causal", activation="relu", name="causal"),
        L.Conv1D(8, 3, strides=2, padding="same", name="strided"),
        L.BatchNormalization(name="bn"),
        L.MaxPooling1D(2, name="pool"),
        L.ZeroPadding1D((1, 2), name="zpad"),
        L.Cropping1D((2, 1), name="crop"),
        L.UpSampling1D(2, name="up"),
        L.SeparableConv1D(6, 3, padding="same", name="sep"),
        L.AveragePooling1D(3, strides=1, padding="same", name="avg"),
        L.GlobalMaxPooling1D(name="gmp"),
        L.Dense(3, name="out"),
    ], name="conv1d")


def misc():
    """The rest of the layer list, two inputs."""
    img = keras.Input((9, 9, 4), name="img")
    vec = keras.Input((6,), name="vec")
    x = L.Rescaling(1 / 2.0, offset=0.1, name="rescale")(img)
    x = L.DepthwiseConv2D(3, depth_multiplier=2, padding="same", name="dw")(x)
    x = L.PReLU(name="prelu")(x)
    x = L.SeparableConv2D(8, 3, strides=2, padding="same", activation="swish", name="sep")(x)
    x = L.ZeroPadding2D(((1, 0), (0, 1)), name="zpad")(x)
    x = L.AveragePooling2D(2, padding="same", name="avg")(x)
    x = L.UpSampling2D((2, 3), name="up")(x)
    x = L.Cropping2D(((1, 0), (2, 1)), name="crop")(x)
    x = L.ELU(name="elu")(x)
    x = L.ReLU(max_value=1.5, name="relu6ish")(x)
    x = L.Conv2D(4, 2, activation="selu", name="c")(x)
    x = L.Permute((2, 1, 3), name="perm")(x)
    x = L.Reshape((-1, 4), name="rs")(x)
    x = L.Softmax(axis=1, name="sm")(x)
    s = L.SimpleRNN(6, name="rnn")(x)
    v = L.Dense(6, activation="hard_sigmoid", name="v")(vec)
    m = [L.Subtract(name="sub")([s, v]), L.Multiply(name="mul")([s, v]),
         L.Average(name="avgm")([s, v]), L.Maximum(name="max")([s, v]),
         L.Minimum(name="min")([s, v])]
    acts = ["relu6", "elu", "softplus", "softsign", "tanh", "sigmoid", "leaky_relu", "silu",
            "gelu", "linear", "exponential", "hard_silu"]
    feats = [L.Activation(a, name="act_" + a)(m[i % len(m)]) for i, a in enumerate(acts)]
    c = L.Concatenate(name="cat")(feats)
    r = L.RepeatVector(3, name="rep")(c)
    q = L.Dense(8, name="q")(r)
    att = L.Attention(use_scale=True, name="att")([q, q])
    d = L.Dot(axes=(2, 2), normalize=True, name="dot")([att, q])
    out = L.Flatten(name="out")(d)
    gelu_t = L.Activation(keras.activations.gelu, name="act_gelu_fn")(v)
    return keras.Model([img, vec], [out, gelu_t], name="misc")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests",
                                                  "keras"))
    ap.add_argument("--large", action="store_true")
    a = ap.parse_args()
    keras.utils.set_random_seed(3)
    if a.large:
        m = gan_generator(sizes=(256, 512, 1024), image=(128, 64, 1))
        randomize(m)
        save(m, "gan_generator_large", a.out, forms=("keras",))
        return
    models = [(cnn, ("keras", "json", "h5")), (lstm, ("keras", "json", "h5")),
              (gan_generator, ("keras", "json")), (discriminator, ("keras", "json")),
              (residual, ("keras", "json")), (transformer, ("keras",)),
              (bigru, ("keras", "json")), (conv1d, ("keras",)), (misc, ("keras",))]
    for make, forms in models:
        m = make()
        randomize(m)
        save(m, make.__name__, a.out, forms)


if __name__ == "__main__":
    main()
