"""A training step written in Python, run by the mlops pipeline runner as a command step.

It reads the split the ETL step wrote (train.csv, test.csv in $MLOPS_ARTIFACTS_DIR), trains a
multinomial logistic regression with numpy, and writes:
  - model.onnx: an ai.onnx.ml LinearClassifier (input float32 [N, F]; outputs label int64 [N]
    and probabilities float32 [N, C]) built with the onnx package;
  - expected_labels.json: this in-memory model's labels for the test rows (the parity check);
  - metrics to $MLOPS_METRICS_FILE.
Needs numpy and onnx (Debian: apt-get install python3-numpy python3-onnx).
"""
import csv
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper

artifacts = os.environ["MLOPS_ARTIFACTS_DIR"]
params = json.loads(os.environ["MLOPS_PARAMS"])


def read(name):
    with open(os.path.join(artifacts, name), newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    X = np.array([[float(v) for v in r[:-1]] for r in body], dtype=np.float64)
    return header[:-1], X, [r[-1] for r in body]


features, X_train, labels_train = read("train.csv")
_, X_test, _ = read("test.csv")
classes = sorted(set(labels_train))
y = np.array([classes.index(label) for label in labels_train])

mean, std = X_train.mean(axis=0), X_train.std(axis=0) + 1e-12
Z = (X_train - mean) / std
W = np.zeros((Z.shape[1], len(classes)))
b = np.zeros(len(classes))
onehot = np.eye(len(classes))[y]
for _ in range(int(params.get("epochs", 2000))):
    logits = Z @ W + b
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    W -= float(params.get("learningRate", 0.1)) * (Z.T @ (p - onehot) / len(Z) + float(params.get("l2", 0.001)) * W)
    b -= float(params.get("learningRate", 0.1)) * (p - onehot).mean(axis=0)

# Fold the standardisation into the weights so that the ONNX model takes raw features.
coef = (W / std[:, None]).T  # [C, F]
intercepts = b - (W * (mean / std)[:, None]).sum(axis=0)

node = helper.make_node(
    "LinearClassifier", ["input"], ["label", "probabilities"], domain="ai.onnx.ml",
    coefficients=coef.astype(np.float32).ravel().tolist(), intercepts=intercepts.astype(np.float32).tolist(),
    classlabels_ints=list(range(len(classes))), post_transform="SOFTMAX", multi_class=1,
)
graph = helper.make_graph(
    [node], "python-softmax",
    [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", len(features)])],
    [helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]),
     helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", len(classes)])],
)
model = helper.make_model(graph, producer_name="mlops-template-python",
                          opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)])
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, os.path.join(artifacts, "model.onnx"))

# The in-memory model's labels, computed in float32 like onnxruntime does.
scores = X_test.astype(np.float32) @ coef.astype(np.float32).T + intercepts.astype(np.float32)
with open(os.path.join(artifacts, "expected_labels.json"), "w") as f:
    json.dump([classes[i] for i in scores.argmax(axis=1)], f)

train_pred = (X_train @ coef.T + intercepts).argmax(axis=1)
with open(os.environ["MLOPS_METRICS_FILE"], "w") as f:
    json.dump({"python_train_accuracy": float((train_pred == y).mean())}, f)
print(f"trained softmax regression on {len(X_train)} rows, {len(classes)} classes")
