"""Helpers for Python steps of an mlops pipeline: notebooks and Python command steps.

The runner puts this folder on PYTHONPATH for both, so `import mlops_step` works without
installing anything:

    import mlops_step
    p = mlops_step.params()                        # the run's params, a dict
    path = mlops_step.artifact_path("model.onnx")  # where to write an artifact of the run
    mlops_step.metric("accuracy", 0.97)            # a metric of the run

It is a thin layer over the step's environment (MLOPS_PARAMS, MLOPS_ARTIFACTS_DIR,
MLOPS_METRICS_FILE): a step that reads and writes those itself works the same without it.
"""
import json
import math
import os

__all__ = ["params", "artifact_path", "metric"]


def _env(name):
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set: run this inside an mlops pipeline step")
    return value


def params():
    """The run's params (defaults and --param values), as the runner resolved them."""
    return json.loads(_env("MLOPS_PARAMS"))


def artifact_path(name):
    """The path of artifact `name` in the run's artifacts folder (its parent folders are created)."""
    root = os.path.realpath(_env("MLOPS_ARTIFACTS_DIR"))
    path = os.path.realpath(os.path.join(root, name))
    if os.path.commonpath([root, path]) != root:
        raise ValueError(f"artifact name {name!r} must stay inside the run's artifacts folder")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return path


def metric(name, value):
    """Records a metric of the run (a finite number); the runner stores it when the step ends."""
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"metric {name!r} must be a finite number, got {value}")
    file = _env("MLOPS_METRICS_FILE")
    metrics = {}
    if os.path.exists(file):
        with open(file, encoding="utf-8") as f:
            metrics = json.load(f)
    metrics[str(name)] = value
    tmp = f"{file}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(metrics, f, indent=2)
    os.replace(tmp, file)
