"""Softmax (multinomial logistic) regression with numpy, exported as an ONNX LinearClassifier.

Shared by the Python command step (train.py) and the notebook example (../notebook/train.ipynb).
Needs numpy and onnx (Debian: apt-get install python3-numpy python3-onnx).
"""
import numpy as np
import onnx
from onnx import TensorProto, helper


def fit(X, y, n_classes, epochs=2000, learning_rate=0.1, l2=0.001):
    """Gradient descent on standardised features; returns (coef [C, F], intercepts [C]) for raw features."""
    mean, std = X.mean(axis=0), X.std(axis=0) + 1e-12
    Z = (X - mean) / std
    W = np.zeros((Z.shape[1], n_classes))
    b = np.zeros(n_classes)
    onehot = np.eye(n_classes)[y]
    for _ in range(int(epochs)):
        logits = Z @ W + b
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        W -= learning_rate * (Z.T @ (p - onehot) / len(Z) + l2 * W)
        b -= learning_rate * (p - onehot).mean(axis=0)
    # Fold the standardisation into the weights so that the ONNX model takes raw features.
    coef = (W / std[:, None]).T
    intercepts = b - (W * (mean / std)[:, None]).sum(axis=0)
    return coef, intercepts


def predict(coef, intercepts, X):
    """Class indices, computed in float32 like onnxruntime does (the evaluate step's parity check)."""
    scores = X.astype(np.float32) @ coef.astype(np.float32).T + intercepts.astype(np.float32)
    return scores.argmax(axis=1)


def save_onnx(coef, intercepts, path, producer="mlops-template-python"):
    """An ai.onnx.ml LinearClassifier: input float32 [N, F]; outputs label int64 [N], probabilities float32 [N, C]."""
    n_classes, n_features = coef.shape
    node = helper.make_node(
        "LinearClassifier", ["input"], ["label", "probabilities"], domain="ai.onnx.ml",
        coefficients=coef.astype(np.float32).ravel().tolist(), intercepts=intercepts.astype(np.float32).tolist(),
        classlabels_ints=list(range(n_classes)), post_transform="SOFTMAX", multi_class=1,
    )
    graph = helper.make_graph(
        [node], "python-softmax",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", n_features])],
        [helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]),
         helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", n_classes])],
    )
    model = helper.make_model(graph, producer_name=producer,
                              opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
