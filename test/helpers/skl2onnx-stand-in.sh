#!/bin/sh
# Stands in for `python3 train.py` of pipeline/examples/sklearn where skl2onnx is not installed:
# writes the scikit-learn-shaped ONNX (what skl2onnx exports) where the step must leave model.onnx.
exec /usr/bin/python3 "$(dirname "$0")/sklearn_shaped_onnx.py" "$MLOPS_ARTIFACTS_DIR/model.onnx"
