"""Expected values for tests/unit/test_ops_roi_align.c, computed with
onnxruntime (RoiAlign-16) and checked against the ONNX reference
implementation.

Usage: python3 tests/unit/gen_test_ops_roi_align.py > block.inc, then
replace the "expected values" block of test_ops_roi_align.c with block.inc.
The inputs are written out here and in the C file: X [2, 2, 5, 6] =
(arange % 7 - 3) * 0.5, rois over, across and outside the image edge,
batch_indices [0, 1, 1].
"""
import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator

X = ((np.arange(120) % 7 - 3) * 0.5).astype(np.float32).reshape(2, 2, 5, 6)
ROIS = np.array([[0.5, 1.0, 4.5, 3.5], [-1.5, -0.5, 7.0, 6.0], [2.0, 0.0, 2.5, 4.75]],
                dtype=np.float32)
BATCH = np.array([0, 1, 1], dtype=np.int64)

CASES = [  # name, mode, coordinate_transformation_mode, sampling_ratio, spatial_scale, h, w
    ("avg_half_pixel_s2", "avg", "half_pixel", 2, 1.0, 3, 2),
    ("max_output_half_pixel_s2", "max", "output_half_pixel", 2, 0.5, 2, 2),
    ("avg_half_pixel_adaptive", "avg", "half_pixel", 0, 1.0, 2, 3),
    ("max_half_pixel_adaptive", "max", "half_pixel", 0, 0.75, 2, 2),
    ("avg_output_half_pixel_adaptive", "avg", "output_half_pixel", 0, 1.0, 1, 2),
]


def run(mode, ctm, sr, scale, h, w):
    node = helper.make_node("RoiAlign", ["X", "rois", "batch_indices"], ["Y"], mode=mode,
                            coordinate_transformation_mode=ctm, sampling_ratio=sr,
                            spatial_scale=scale, output_height=h, output_width=w)
    graph = helper.make_graph(
        [node], "g",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, X.shape),
         helper.make_tensor_value_info("rois", TensorProto.FLOAT, ROIS.shape),
         helper.make_tensor_value_info("batch_indices", TensorProto.INT64, BATCH.shape)],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 16)])
    feeds = {"X": X, "rois": ROIS, "batch_indices": BATCH}
    got = ort.InferenceSession(model.SerializeToString(),
                               providers=["CPUExecutionProvider"]).run(None, feeds)[0]
    ref = ReferenceEvaluator(model).run(None, feeds)[0]
    assert np.allclose(got, ref, atol=1e-5), (mode, ctm, sr, np.abs(got - ref).max())
    return got


print(f"/* ---- expected values (tests/unit/gen_test_ops_roi_align.py, onnxruntime "
      f"{ort.__version__}) ---- */")
for name, *args in CASES:
    y = run(*args)
    body = ", ".join(repr(float(v)) + "f" for v in y.ravel())
    print(f"static const float want_{name}[{y.size}] = {{{body}}};")
