"""What the ONNX export tests share: exporting, checking with onnx.checker, and running the file
in ONNX Runtime against minigrad on several inputs. Importing it skips the importing test module,
saying why, when onnx or onnxruntime is not installed (pip install -e ".[onnx]")."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn

onnx = pytest.importorskip("onnx", reason="needs the onnx package: pip install onnx onnxruntime")
ort = pytest.importorskip(
    "onnxruntime", reason="needs ONNX Runtime to run the exported files: pip install onnxruntime"
)
import minigrad.onnx as mo  # noqa: E402

F32, F64 = np.float32, np.float64
TOL = {F32: 1e-5, F64: 1e-7}  # ONNX Runtime's float64 tanh/sigmoid: a few 1e-9 off


def session(path):
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1  # the machine is shared
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def outputs_of(result):
    """minigrad's outputs flattened as the exporter does (nested tuples, None left out)."""
    if isinstance(result, mg.Value):
        return [result.data]
    if isinstance(result, (tuple, list)):
        return [d for item in result for d in outputs_of(item)]
    return []


def as_args(arrays):
    return [mg.Value(a) if a.dtype.kind == "f" else a for a in arrays]


def check_export(model, example, path, feeds, tol=None, **options):
    """Export `model` on `example`, then compare ONNX Runtime with minigrad on every input
    tuple in `feeds`. Returns the ModelProto."""
    proto = mo.export(model, example, path, **options)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    sess = session(path)
    names = [i.name for i in sess.get_inputs()]
    if isinstance(model, nn.Module):
        model.eval()
    for arrays in feeds:
        arrays = arrays if isinstance(arrays, tuple) else (arrays,)
        got = sess.run(None, dict(zip(names, arrays)))
        want = outputs_of(model(*as_args(arrays)))
        assert len(got) == len(want)
        for g, w in zip(got, want):
            w = np.asarray(w)
            assert g.shape == w.shape and g.dtype == w.dtype
            limit = tol or TOL[w.dtype.type]
            np.testing.assert_allclose(g, w, rtol=limit, atol=limit)
    return proto


def rand(rng, *shape, dtype=F32):
    return rng.normal(size=shape).astype(dtype)
