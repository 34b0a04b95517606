"""Export a minigrad model to ONNX, the format production runtimes (ONNX Runtime, TensorRT,
OpenVINO...) serve: `minigrad.onnx.export(model, example_input, "model.onnx")`.

Needs the `onnx` package (`pip install onnx onnxruntime`, or the `onnx` extra); importing this
module does not. Files: `checks.py` (arguments, `ExportError`), `trace.py` (running the model and
ordering its graph, what follows the batch size), `builder.py` (the ONNX graph being built),
`ops_math.py` and `ops_shape.py` (each minigrad op as ONNX nodes), `exporter.py` (`export`).
"""

from minigrad.onnx.checks import ExportError
from minigrad.onnx.exporter import export, supported_ops

__all__ = ["export", "supported_ops", "ExportError"]
