"""A training step written in Python, run by the mlops pipeline runner as a command step.

It reads the split the ETL step wrote (train.csv, test.csv in $MLOPS_ARTIFACTS_DIR), trains a
multinomial logistic regression with numpy (softmax_onnx.py beside this file), and writes:
  - model.onnx: an ai.onnx.ml LinearClassifier (input float32 [N, F]; outputs label int64 [N]
    and probabilities float32 [N, C]) built with the onnx package;
  - expected_labels.json: this in-memory model's labels for the test rows (the parity check);
  - metrics to $MLOPS_METRICS_FILE.
It reads and writes the step's environment and files directly; `import mlops_step` would do the
same in fewer lines (see ../notebook/train.ipynb).
Needs numpy and onnx (Debian: apt-get install python3-numpy python3-onnx).
"""
import csv
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import softmax_onnx  # noqa: E402

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

coef, intercepts = softmax_onnx.fit(
    X_train, y, len(classes),
    epochs=int(params.get("epochs", 2000)),
    learning_rate=float(params.get("learningRate", 0.1)),
    l2=float(params.get("l2", 0.001)),
)
softmax_onnx.save_onnx(coef, intercepts, os.path.join(artifacts, "model.onnx"))

with open(os.path.join(artifacts, "expected_labels.json"), "w") as f:
    json.dump([classes[i] for i in softmax_onnx.predict(coef, intercepts, X_test)], f)

train_pred = (X_train @ coef.T + intercepts).argmax(axis=1)
with open(os.environ["MLOPS_METRICS_FILE"], "w") as f:
    json.dump({"python_train_accuracy": float((train_pred == y).mean())}, f)
print(f"trained softmax regression on {len(X_train)} rows, {len(classes)} classes")
