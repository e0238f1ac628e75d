#!/usr/bin/env python3
"""Exports small PyTorch models to ONNX the way users' exporters do, for
loom's end-to-end model tests (tests/models).

Each model family below is exported with both of torch's exporters:

  ts      the legacy TorchScript exporter (torch.onnx.export(dynamo=False),
          opset 17, IR version 8), with dynamic_axes where the model has a
          batch or sequence dim, so the graph keeps the shape arithmetic
          (Shape, Gather, Range, ConstantOfShape, ...) exporters emit;
  dynamo  the torch 2.x exporter (torch.onnx.export(dynamo=True), opset 18,
          IR version 10) with torch.export Dims for the same dims; large
          models are saved with external data;
  dynamo20  the same at opset 20, where GELU is exported as the Gelu op
          (only for the families that use GELU).

For each export, a folder NAME_EXPORTER/ receives

  model.onnx (+ model.onnx.data when external),
  input_<input>.npy       the inputs (fixed seed),
  expected_<output>.npy   onnxruntime's outputs for those inputs,
  dims.txt                "dim=value" pins for the symbolic dims, one a line
                          (loom compiles static shapes: `--dim batch=2`).

Small families (< 2 MB per folder) go to tests/models/ and are committed;
the large ones, all with random weights (torchvision: resnet18,
mobilenet_v2, squeezenet1_1, mobilenet_v3_small, efficientnet_b0,
convnext_tiny, deeplabv3_mobilenet_v3_large at 128x128; espcn (DepthToSpace),
style_transfer (InstanceNormalization, Resize) and a U-Net at 128x128
(ConvTranspose, Concat skips) defined here;
transformers: distilbert, t5_small_encoder, t5_small_decoder (one decoder
pass over 4 target tokens with the encoder's hidden states as an input),
whisper_tiny_encoder) go to the
folder named with --out, which tests/models reads when LOOM_LARGE_MODELS
points at it.

onnxruntime's outputs are also checked against torch's (printed max error),
so a broken export is noticed here and not in loom's tests.

Developers run this by hand (the build never does):

    pip install torch torchvision onnxscript onnx onnxruntime transformers
    python3 scripts/export_torch.py --out /tmp/loom-large     # everything
    python3 scripts/export_torch.py gpt bert                  # only these
"""

import argparse
import math
import os
import shutil
import sys
import warnings

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMALL_DIR = os.path.join(ROOT, "tests", "models")
SMALL_LIMIT = 2 << 20  # bytes per committed folder
TS_OPSET = 17
DYNAMO_OPSET = 18
GELU_FAMILIES = {"gpt", "bert", "vit"}  # exported with dynamo20 too
# Scripted (torch.jit.script) for the ts exporter, so Python control flow
# becomes ONNX Loop and If; torch.export cannot trace a loop over a
# dynamic dim, so these are exported with ts only.
SCRIPTED_FAMILIES = {"loop_if"}


# ---- model families ----

class Cnn(nn.Module):
    """MNIST-style CNN: Conv/BatchNorm/ReLU/MaxPool twice, Dropout, Linear,
    LogSoftmax."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 8, 3, padding=1)
        self.b1 = nn.BatchNorm2d(8)
        self.c2 = nn.Conv2d(8, 16, 3)
        self.drop = nn.Dropout(0.25)
        self.fc = nn.Linear(16 * 6 * 6, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.b1(self.c1(x))), 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        x = self.drop(torch.flatten(x, 1))
        return F.log_softmax(self.fc(x), dim=1)


class Lstm(nn.Module):
    """2-layer LSTM classifier over a batch-first sequence."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(16, 32, num_layers=2, batch_first=True)
        self.fc = nn.Linear(32, 5)

    def forward(self, x):
        y, _ = self.lstm(x)
        return self.fc(y[:, -1, :])


class DcganGenerator(nn.Module):
    """DCGAN generator (Radford et al.), 32x32 RGB output, narrow."""

    def __init__(self, nz=16, ngf=8):
        super().__init__()
        self.net = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf, 3, 4, 2, 1, bias=False), nn.Tanh())

    def forward(self, z):
        return self.net(z)


class DcganDiscriminator(nn.Module):
    """DCGAN discriminator for 32x32 RGB images."""

    def __init__(self, ndf=8):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 4),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf * 4, 1, 4, 1, 0, bias=False), nn.Sigmoid())

    def forward(self, x):
        return self.net(x).view(-1, 1)


class Encoder(nn.Module):
    """torch.nn.TransformerEncoder (2 layers) with a key padding mask."""

    def __init__(self):
        super().__init__()
        layer = nn.TransformerEncoderLayer(d_model=32, nhead=4, dim_feedforward=64, dropout=0.1,
                                           batch_first=True)
        self.enc = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)

    def forward(self, x, pad_mask):
        return self.enc(x, src_key_padding_mask=pad_mask)


class GptBlock(nn.Module):
    """GPT-2 block in plain torch ops: causal self-attention with the mask
    built from the sequence length (ones -> tril -> where), tanh GELU."""

    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.fc = nn.Linear(d, 4 * d)
        self.out = nn.Linear(4 * d, d)

    def attn(self, x):
        b, t, c = x.size()
        q, k, v = self.qkv(x).split(c, dim=2)
        hd = c // self.heads
        q = q.view(b, t, self.heads, hd).transpose(1, 2)
        k = k.view(b, t, self.heads, hd).transpose(1, 2)
        v = v.view(b, t, self.heads, hd).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))
        causal = torch.ones(t, t, dtype=torch.bool, device=x.device).tril()
        att = torch.where(causal, att, torch.finfo(att.dtype).min)
        y = F.softmax(att, dim=-1) @ v
        return self.proj(y.transpose(1, 2).contiguous().view(b, t, c))

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.out(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class Gpt(nn.Module):
    """GPT-style decoder: token + learned position embeddings (positions from
    arange over the sequence length), 2 blocks, final LayerNorm, tied head."""

    def __init__(self, vocab=64, d=32, heads=4, layers=2, block=32):
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(block, d)
        self.blocks = nn.ModuleList([GptBlock(d, heads) for _ in range(layers)])
        self.ln = nn.LayerNorm(d)

    def forward(self, ids):
        pos = torch.arange(0, ids.size(1), dtype=torch.long, device=ids.device).unsqueeze(0)
        x = self.wte(ids) + self.wpe(pos)
        for blk in self.blocks:
            x = blk(x)
        return self.ln(x) @ self.wte.weight.t()


class Bert(nn.Module):
    """BERT-style encoder as HF writes it: word + position + token-type
    embeddings, the extended attention mask (1 - mask) * finfo.min, erf GELU,
    pooler with tanh."""

    def __init__(self, vocab=64, d=32, heads=4, layers=2, maxpos=32):
        super().__init__()
        self.heads = heads
        self.word = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(maxpos, d)
        self.token_type = nn.Embedding(2, d)
        self.ln = nn.LayerNorm(d, eps=1e-12)
        self.qkv = nn.ModuleList([nn.Linear(d, 3 * d) for _ in range(layers)])
        self.o = nn.ModuleList([nn.Linear(d, d) for _ in range(layers)])
        self.ln1 = nn.ModuleList([nn.LayerNorm(d, eps=1e-12) for _ in range(layers)])
        self.ff1 = nn.ModuleList([nn.Linear(d, 2 * d) for _ in range(layers)])
        self.ff2 = nn.ModuleList([nn.Linear(2 * d, d) for _ in range(layers)])
        self.ln2 = nn.ModuleList([nn.LayerNorm(d, eps=1e-12) for _ in range(layers)])
        self.pool = nn.Linear(d, d)

    def forward(self, input_ids, attention_mask, token_type_ids):
        b, t = input_ids.shape
        pos = torch.arange(t, device=input_ids.device).expand(b, t)
        x = self.ln(self.word(input_ids) + self.pos(pos) + self.token_type(token_type_ids))
        ext = attention_mask[:, None, None, :].to(x.dtype)
        ext = (1.0 - ext) * torch.finfo(x.dtype).min
        hd = x.size(-1) // self.heads
        for qkv, o, ln1, ff1, ff2, ln2 in zip(self.qkv, self.o, self.ln1, self.ff1, self.ff2,
                                             self.ln2):
            q, k, v = qkv(x).view(b, t, 3, self.heads, hd).permute(2, 0, 3, 1, 4)
            s = q @ k.transpose(-1, -2) / math.sqrt(hd) + ext
            a = (F.softmax(s, dim=-1) @ v).transpose(1, 2).reshape(b, t, -1)
            x = ln1(x + o(a))
            x = ln2(x + ff2(F.gelu(ff1(x))))
        return x, torch.tanh(self.pool(x[:, 0]))


class T5Attention(nn.Module):
    """T5 self-attention with the bucketed relative position bias computed
    from the sequence length, as HF's T5Attention does, and T5's RMS norm."""

    def __init__(self, d=32, heads=4, buckets=8, max_distance=16):
        super().__init__()
        self.heads, self.buckets, self.max_distance = heads, buckets, max_distance
        self.norm_w = nn.Parameter(torch.ones(d) + 0.1 * torch.randn(d))
        self.qkv = nn.Linear(d, 3 * d, bias=False)
        self.o = nn.Linear(d, d, bias=False)
        self.bias = nn.Embedding(buckets, heads)

    def bucket(self, rel):
        # bidirectional bucketing (HF T5Attention._relative_position_bucket)
        n = self.buckets // 2
        ret = (rel > 0).to(torch.long) * n
        rel = torch.abs(rel)
        max_exact = n // 2
        is_small = rel < max_exact
        large = max_exact + (torch.log(rel.float() / max_exact) /
                             math.log(self.max_distance / max_exact) *
                             (n - max_exact)).to(torch.long)
        large = torch.min(large, torch.full_like(large, n - 1))
        return ret + torch.where(is_small, rel, large)

    def forward(self, x):
        b, t, d = x.shape
        var = x.pow(2).mean(-1, keepdim=True)
        h = x * torch.rsqrt(var + 1e-6) * self.norm_w
        ctx = torch.arange(t, dtype=torch.long)[:, None]
        mem = torch.arange(t, dtype=torch.long)[None, :]
        bias = self.bias(self.bucket(mem - ctx)).permute(2, 0, 1).unsqueeze(0)
        hd = d // self.heads
        q, k, v = self.qkv(h).view(b, t, 3, self.heads, hd).permute(2, 0, 3, 1, 4)
        s = q @ k.transpose(-1, -2) + bias
        a = (F.softmax(s.float(), dim=-1) @ v).transpose(1, 2).reshape(b, t, d)
        return x + self.o(a)


class Vit(nn.Module):
    """Tiny ViT: patch embedding by a strided Conv, class token (expand +
    concat), learned positions, 2 pre-LN blocks with nn.MultiheadAttention,
    erf GELU, head on the class token."""

    def __init__(self, d=32, heads=4, layers=2, patch=4, image=16, classes=10):
        super().__init__()
        self.embed = nn.Conv2d(3, d, patch, stride=patch)
        self.cls = nn.Parameter(0.02 * torch.randn(1, 1, d))
        self.pos = nn.Parameter(0.02 * torch.randn(1, (image // patch) ** 2 + 1, d))
        self.ln1 = nn.ModuleList([nn.LayerNorm(d) for _ in range(layers)])
        self.att = nn.ModuleList([nn.MultiheadAttention(d, heads, batch_first=True)
                                  for _ in range(layers)])
        self.ln2 = nn.ModuleList([nn.LayerNorm(d) for _ in range(layers)])
        self.mlp = nn.ModuleList([nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(),
                                                nn.Linear(2 * d, d)) for _ in range(layers)])
        self.ln = nn.LayerNorm(d)
        self.head = nn.Linear(d, classes)

    def forward(self, img):
        x = self.embed(img).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        for ln1, att, ln2, mlp in zip(self.ln1, self.att, self.ln2, self.mlp):
            h = ln1(x)
            x = x + att(h, h, h, need_weights=False)[0]
            x = x + mlp(ln2(x))
        return self.head(self.ln(x)[:, 0])


class OpsMix(nn.Module):
    """The remaining ops image and sequence models export: reflect / edge /
    constant padding, sinusoidal positions (sin, cos of an arange), gather
    along a dim, repeat (Tile), softplus, floor / ceil, nan_to_num (IsNaN,
    IsInf), boolean logic (Not, And, Or), elementwise min / max."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, img, seq, idx):
        a = self.conv(F.pad(img, (1, 1, 1, 1), mode="reflect"))
        a = F.pad(a, (2, 1, 0, 1), mode="replicate")
        a = F.pad(a, (1, 0, 1, 1), mode="constant", value=0.5)
        t = seq.size(1)
        pos = torch.arange(t, dtype=torch.float32)[:, None]
        freq = torch.exp(torch.arange(0, 8, 2, dtype=torch.float32) * (-math.log(100.0) / 8))
        pe = torch.cat([torch.sin(pos * freq), torch.cos(pos * freq)], dim=-1)
        s = seq + pe
        g = torch.gather(s, 2, idx)
        r = g.repeat(1, 2, 1)
        clean = torch.nan_to_num(torch.log(r), nan=0.0, posinf=1.0, neginf=-1.0)
        q = torch.floor(clean * 3.0) + torch.ceil(F.softplus(clean))
        pos_mask = (seq > 0) & ~(seq > 0.5)
        neg_mask = (seq < -0.5) | (seq > 0.9)
        m = torch.where(pos_mask | neg_mask, torch.maximum(seq, pe), torch.minimum(seq, -pe))
        return a, q, m


class LoopIf(nn.Module):
    """A recurrence over the steps of its input (a Loop whose trip count is
    the dynamic dim "steps", loop-carried state, outer-scope weights) with
    a branch on the step's parity (an If inside the Loop body)."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(8, 8)

    def forward(self, x):
        h = x[0]
        acc = torch.zeros_like(h)
        for i in range(x.size(0)):
            h = torch.tanh(self.lin(h)) + x[i] * float(i)
            if i % 2 == 0:
                acc = acc + h
            else:
                acc = acc - 0.5 * h
        return h, acc


# ---- inputs and export settings per family ----

def make_families():
    """name -> (module factory, example inputs factory, input names, output
    names, dynamic dims {input: {axis: name}}, dim values)."""
    g = torch.Generator().manual_seed(1)

    def rn(*shape):
        return torch.randn(*shape, generator=g)

    def ids(shape, hi):
        return torch.randint(0, hi, shape, generator=g)

    fams = {
        "cnn": (Cnn, lambda: (rn(2, 1, 28, 28),), ["image"], ["log_probs"],
                {"image": {0: "batch"}}),
        "lstm": (Lstm, lambda: (rn(2, 7, 16),), ["sequence"], ["logits"],
                 {"sequence": {0: "batch"}}),
        "dcgan_generator": (DcganGenerator, lambda: (rn(2, 16, 1, 1),), ["z"], ["image"],
                            {"z": {0: "batch"}}),
        "dcgan_discriminator": (DcganDiscriminator, lambda: (rn(2, 3, 32, 32),), ["image"],
                                ["score"], {"image": {0: "batch"}}),
        "transformer_encoder": (
            Encoder,
            lambda: (rn(2, 10, 32), torch.tensor([[False] * 10, [False] * 7 + [True] * 3])),
            ["x", "pad_mask"], ["hidden"], {"x": {0: "batch", 1: "seq"},
                                            "pad_mask": {0: "batch", 1: "seq"}}),
        "gpt": (Gpt, lambda: (ids((2, 12), 64),), ["ids"], ["logits"],
                {"ids": {0: "batch", 1: "seq"}}),
        "bert": (Bert,
                 lambda: (ids((2, 9), 64), torch.tensor([[1] * 9, [1] * 6 + [0] * 3]),
                          ids((2, 9), 2)),
                 ["input_ids", "attention_mask", "token_type_ids"], ["hidden", "pooled"],
                 {k: {0: "batch", 1: "seq"} for k in
                  ["input_ids", "attention_mask", "token_type_ids"]}),
        "t5_attention": (T5Attention, lambda: (rn(2, 11, 32),), ["x"], ["y"],
                         {"x": {0: "batch", 1: "seq"}}),
        "vit": (Vit, lambda: (rn(2, 3, 16, 16),), ["image"], ["logits"],
                {"image": {0: "batch"}}),
        "ops_mix": (OpsMix,
                    lambda: (rn(2, 3, 8, 8), rn(2, 6, 8), ids((2, 6, 3), 8)),
                    ["img", "seq", "idx"], ["padded", "quantized", "mixed"],
                    {"seq": {0: "batch", 1: "length"}, "idx": {0: "batch", 1: "length"}}),
        "loop_if": (LoopIf, lambda: (rn(5, 2, 8),), ["x"], ["h", "acc"], {"x": {0: "steps"}}),
    }
    return fams


class Espcn(nn.Module):
    """ESPCN super-resolution (Shi et al. 2016), x3: three convolutions and
    a sub-pixel shuffle (DepthToSpace), on one luminance channel."""

    def __init__(self, scale=3):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(1, 64, 5, padding=2), nn.Tanh(),
                                  nn.Conv2d(64, 32, 3, padding=1), nn.Tanh(),
                                  nn.Conv2d(32, scale * scale, 3, padding=1))
        self.shuffle = nn.PixelShuffle(scale)

    def forward(self, x):
        return torch.sigmoid(self.shuffle(self.body(x)))


class StyleTransfer(nn.Module):
    """Johnson et al. (2016) style-transfer network, narrow: reflection-
    padded convolutions with InstanceNormalization, residual blocks, and
    nearest upsampling + convolution on the way back up."""

    def __init__(self, c=16):
        super().__init__()

        def conv(i, o, k, s=1):
            return [nn.ReflectionPad2d(k // 2), nn.Conv2d(i, o, k, s),
                    nn.InstanceNorm2d(o, affine=True), nn.ReLU()]
        self.down = nn.Sequential(*conv(3, c, 9), *conv(c, 2 * c, 3, 2), *conv(2 * c, 4 * c, 3, 2))
        self.res = nn.ModuleList(nn.Sequential(*conv(4 * c, 4 * c, 3)[:3], *conv(4 * c, 4 * c, 3)[:3])
                                 for _ in range(2))
        self.up = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), *conv(4 * c, 2 * c, 3),
                                nn.Upsample(scale_factor=2, mode="nearest"), *conv(2 * c, c, 3),
                                nn.ReflectionPad2d(4), nn.Conv2d(c, 3, 9))

    def forward(self, x):
        y = self.down(x)
        for block in self.res:
            y = y + block(y)
        return self.up(y)


class UNet(nn.Module):
    """U-Net (Ronneberger et al. 2015) with padded convolutions, four
    levels: two 3x3 convolutions with BatchNorm and ReLU per level, max
    pooling down, 2x2 transposed convolutions up, skip connections
    concatenated; 32 channels at the top, 256 at the bottom."""

    def __init__(self, cin=3, cout=2, c=32):
        super().__init__()

        def block(i, o):
            return nn.Sequential(nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(),
                                 nn.Conv2d(o, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU())
        w = [c, 2 * c, 4 * c, 8 * c]
        self.down = nn.ModuleList([block(cin, w[0]), block(w[0], w[1]), block(w[1], w[2])])
        self.bottom = block(w[2], w[3])
        self.ups = nn.ModuleList(nn.ConvTranspose2d(w[k + 1], w[k], 2, stride=2)
                                 for k in reversed(range(3)))
        self.up = nn.ModuleList(block(2 * w[k], w[k]) for k in reversed(range(3)))
        self.head = nn.Conv2d(w[0], cout, 1)

    def forward(self, x):
        skips = []
        for blk in self.down:
            x = blk(x)
            skips.append(x)
            x = F.max_pool2d(x, 2)
        x = self.bottom(x)
        for up, blk in zip(self.ups, self.up):
            x = blk(torch.cat([up(x), skips.pop()], dim=1))
        return self.head(x)


class SegmentationOut(nn.Module):
    """A torchvision segmentation model's "out" map (its forward returns a
    dict)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)["out"]


class HfHidden(nn.Module):
    """A transformers encoder's last hidden state (its forward returns a
    ModelOutput)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, *args):
        return self.model(*args).last_hidden_state


class T5DecoderStep(nn.Module):
    """One T5 decoder pass over a short target prefix: the decoder stack
    (causal self-attention, cross-attention over the encoder's hidden
    states, no cache) and the LM head, giving the next-token logits of
    every prefix position; the encoder's output is an input."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, decoder_input_ids, encoder_hidden_states):
        h = self.model.decoder(input_ids=decoder_input_ids,
                               encoder_hidden_states=encoder_hidden_states,
                               use_cache=False).last_hidden_state
        if self.model.config.tie_word_embeddings:  # as T5ForConditionalGeneration
            h = h * self.model.config.d_model ** -0.5
        return self.model.lm_head(h)


def transformers_families(g):
    """DistilBERT, the T5-small encoder and decoder step and the Whisper-tiny
    encoder, built from their published configurations with random weights
    (no download)."""
    try:
        import transformers as tf
    except ImportError:
        print("transformers is not installed: skipping distilbert, t5_small_encoder, "
              "t5_small_decoder, whisper_tiny_encoder")
        return {}
    ids = lambda hi, n: torch.randint(0, hi, (1, n), generator=g)  # noqa: E731

    def distilbert():
        return HfHidden(tf.DistilBertModel(tf.DistilBertConfig()))

    def t5_config():
        # eager attention: with SDPA's, the dynamo exporter fails to decompose
        # the reshape of the transposed attention output (torch 2.15,
        # transformers 5.24: "Cannot view a tensor with shape [1, 16, 8, 64]")
        return tf.T5Config(d_model=512, d_ff=2048, num_layers=6, num_heads=8, d_kv=64,
                           vocab_size=32128, feed_forward_proj="relu",
                           attn_implementation="eager")

    def t5_encoder():
        return HfHidden(tf.T5EncoderModel(t5_config()))

    def t5_decoder():
        return T5DecoderStep(tf.T5ForConditionalGeneration(t5_config()))

    def whisper_encoder():
        cfg = tf.WhisperConfig(d_model=384, encoder_layers=4, encoder_attention_heads=6,
                               decoder_layers=4, decoder_attention_heads=6,
                               encoder_ffn_dim=1536, decoder_ffn_dim=1536, num_mel_bins=80)
        return HfHidden(tf.WhisperModel(cfg).get_encoder())

    return {
        "distilbert": (distilbert, lambda: (ids(30522, 16), torch.ones(1, 16, dtype=torch.int64)),
                       ["input_ids", "attention_mask"], ["hidden"], {}),
        "t5_small_encoder": (t5_encoder, lambda: (ids(32128, 16),), ["input_ids"], ["hidden"], {}),
        # 4 target tokens attending to 16 encoder positions
        "t5_small_decoder": (t5_decoder,
                             lambda: (ids(32128, 4), torch.randn(1, 16, 512, generator=g)),
                             ["decoder_input_ids", "encoder_hidden_states"], ["logits"], {}),
        # Whisper's encoder takes 3000 mel frames (30 s; its positions are fixed)
        "whisper_tiny_encoder": (whisper_encoder, lambda: (torch.randn(1, 80, 3000, generator=g),),
                                 ["mel"], ["hidden"], {}),
    }


def torchvision_families():
    """The large ones: torchvision models with random weights, the image-to-
    image networks above and the transformers encoders."""
    try:
        import torchvision
    except ImportError:
        print("torchvision is not installed: skipping the large models")
        return {}
    g = torch.Generator().manual_seed(2)
    img = lambda: (torch.randn(1, 3, 224, 224, generator=g),)  # noqa: E731
    fams = {}
    for name in ["resnet18", "mobilenet_v2", "squeezenet1_1", "mobilenet_v3_small",
                 "efficientnet_b0", "convnext_tiny"]:
        ctor = getattr(torchvision.models, name)
        fams[name] = (lambda c=ctor: c(weights=None), img, ["image"], ["logits"], {})
    seg = torchvision.models.segmentation.deeplabv3_mobilenet_v3_large
    fams["deeplabv3_mobilenet_v3_large"] = (
        lambda: SegmentationOut(seg(weights=None, weights_backbone=None, aux_loss=False)),
        lambda: (torch.randn(1, 3, 128, 128, generator=g),), ["image"], ["out"], {})
    fams["espcn"] = (Espcn, lambda: (torch.rand(1, 1, 64, 64, generator=g),), ["image"],
                     ["upscaled"], {})
    fams["unet"] = (UNet, lambda: (torch.randn(1, 3, 128, 128, generator=g),), ["image"],
                    ["mask"], {})
    fams["style_transfer"] = (StyleTransfer, lambda: (torch.rand(1, 3, 128, 128, generator=g),),
                              ["image"], ["styled"], {})
    fams.update(transformers_families(g))
    return fams


# ---- export and reference outputs ----

def export_ts(model, inputs, names, outputs, dynamic, path):
    torch.onnx.export(model, inputs, path, dynamo=False, opset_version=TS_OPSET,
                      input_names=names, output_names=outputs,
                      dynamic_axes=dynamic or None, do_constant_folding=True)


def export_dynamo(model, inputs, names, outputs, dynamic, path, external, opset):
    from torch.export import Dim
    dims = {}
    shapes = []  # by position: the keys would have to be forward()'s arg names
    for name in names:
        spec = {}
        for axis, dim in dynamic.get(name, {}).items():
            dims.setdefault(dim, Dim(dim, min=2, max=64))
            spec[axis] = dims[dim]
        shapes.append(spec or None)
    prog = torch.onnx.export(model, inputs, dynamo=True, opset_version=opset,
                             input_names=names, output_names=outputs,
                             dynamic_shapes=tuple(shapes) if dynamic else None, optimize=True)
    prog.save(path, external_data=external)


def dim_values(model_path, feeds):
    """dim_param -> value, from the graph inputs' declared shapes and the
    concrete inputs."""
    m = onnx.load(model_path, load_external_data=False)
    out = {}
    for vi in m.graph.input:
        if vi.name not in feeds:
            continue
        for axis, dim in enumerate(vi.type.tensor_type.shape.dim):
            if dim.dim_param:
                out[dim.dim_param] = feeds[vi.name].shape[axis]
    return out


def folder_bytes(folder):
    return sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))


def export_one(name, exporter, fam, folder, external):
    factory, make_inputs, in_names, out_names, dynamic = fam
    torch.manual_seed(0)
    model = factory().eval()
    with torch.no_grad():  # BatchNorm running stats away from 0/1
        for mod in model.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.5, 0.5)
                mod.running_var.uniform_(0.5, 1.5)
    inputs = make_inputs()
    if os.path.isdir(folder):
        shutil.rmtree(folder)
    os.makedirs(folder)
    path = os.path.join(folder, "model.onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if exporter == "ts":
            scripted = torch.jit.script(model) if name in SCRIPTED_FAMILIES else model
            export_ts(scripted, inputs, in_names, out_names, dynamic, path)
        else:
            opset = 20 if exporter == "dynamo20" else DYNAMO_OPSET
            export_dynamo(model, inputs, in_names, out_names, dynamic, path, external, opset)
    with torch.no_grad():
        want = model(*inputs)
    want = [want] if isinstance(want, torch.Tensor) else list(want)
    feeds = {n: t.numpy() for n, t in zip(in_names, inputs)}
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    got = sess.run(None, feeds)
    names = [o.name for o in sess.get_outputs()]
    for n, a in feeds.items():
        np.save(os.path.join(folder, f"input_{n}.npy"), a)
    worst = 0.0
    for n, a, w in zip(names, got, want):
        np.save(os.path.join(folder, f"expected_{n}.npy"), a)
        worst = max(worst, float(np.max(np.abs(a - w.numpy()))) if a.size else 0.0)
    pins = dim_values(path, feeds)
    if pins:
        with open(os.path.join(folder, "dims.txt"), "w") as f:
            for k in sorted(pins):
                f.write(f"{k}={pins[k]}\n")
    m = onnx.load(path, load_external_data=False)
    ops = sorted({n.op_type if n.domain in ("", "ai.onnx") else f"{n.domain}:{n.op_type}"
                  for n in m.graph.node})
    print(f"{name}_{exporter}: opset {m.opset_import[0].version}, IR {m.ir_version}, "
          f"{folder_bytes(folder) / 1024:.0f} KiB, torch vs onnxruntime max |diff| "
          f"{worst:.2e}\n    ops: {' '.join(ops)}")
    return worst


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", help="families to export (default: all)")
    ap.add_argument("--out", help="folder for the large (torchvision) models")
    ap.add_argument("--exporters", default="ts,dynamo,dynamo20",
                    help="comma-separated: ts, dynamo, dynamo20")
    args = ap.parse_args()
    small = make_families()
    large = torchvision_families() if args.out else {}
    if not args.out:
        print("no --out folder: skipping the large torchvision models")
    failed = []
    for fams, base, is_large in [(small, SMALL_DIR, False), (large, args.out, True)]:
        for name, fam in fams.items():
            if args.names and name not in args.names:
                continue
            for exporter in args.exporters.split(","):
                if exporter == "dynamo20" and name not in GELU_FAMILIES:
                    continue
                if exporter != "ts" and name in SCRIPTED_FAMILIES:
                    continue
                folder = os.path.join(base, f"{name}_{exporter}")
                try:
                    worst = export_one(name, exporter, fam, folder, is_large)
                except Exception as e:  # report every family, then fail
                    print(f"{name}_{exporter}: export FAILED: {type(e).__name__}: {e}")
                    failed.append(f"{name}_{exporter}")
                    shutil.rmtree(folder, ignore_errors=True)
                    continue
                if worst > 1e-3:
                    print(f"{name}_{exporter}: onnxruntime disagrees with torch")
                    failed.append(f"{name}_{exporter}")
                if not is_large and folder_bytes(folder) > SMALL_LIMIT:
                    print(f"{name}_{exporter}: {folder_bytes(folder)} bytes, over the "
                          f"{SMALL_LIMIT} limit for a committed model")
                    failed.append(f"{name}_{exporter}")
    if failed:
        print("failed: " + " ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
