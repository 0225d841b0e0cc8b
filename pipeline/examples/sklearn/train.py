"""A training step written with scikit-learn, exported with skl2onnx, run by the mlops pipeline
runner as a command step (pipeline.ts beside this file registers it through the ONNX import).

Every column but the target is a feature: numbers through StandardScaler, strings through
OneHotEncoder, then LogisticRegression. skl2onnx exports one [N, 1] input per column (the import
matches them to the CSV by name) and a ZipMap probability output (the import rewrites it).
Needs: pip install scikit-learn pandas skl2onnx (skl2onnx has no Debian package).
"""
import importlib.util
import json
import os
import sys

# One line naming everything missing, rather than a traceback per attempt.
missing = [package for module, package in [('sklearn', 'scikit-learn'), ('pandas', 'pandas'), ('skl2onnx', 'skl2onnx')]
           if importlib.util.find_spec(module) is None]
if missing:
    sys.exit(f'{", ".join(missing)} not installed for {sys.executable}: pip install {" ".join(missing)}')

import pandas as pd  # noqa: E402
from skl2onnx import convert_sklearn  # noqa: E402
from skl2onnx.common.data_types import FloatTensorType, StringTensorType  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402

params = json.loads(os.environ['MLOPS_PARAMS'])
X = pd.read_csv(params['data'])
y = X.pop(params['target']).astype(str)
numeric = X.select_dtypes('number').columns.tolist()
categorical = [c for c in X.columns if c not in numeric]
X[numeric] = X[numeric].astype('float32')

model = Pipeline([
    ('columns', ColumnTransformer([
        ('numeric', StandardScaler(), numeric),
        ('categorical', OneHotEncoder(handle_unknown='ignore'), categorical),
    ])),
    ('classifier', LogisticRegression(max_iter=1000)),
]).fit(X, y)
print(f'trained on {len(X)} rows: {len(numeric)} numeric and {len(categorical)} categorical columns')

inputs = [(c, FloatTensorType([None, 1]) if c in numeric else StringTensorType([None, 1])) for c in X.columns]
onx = convert_sklearn(model, initial_types=inputs)
with open(os.path.join(os.environ['MLOPS_ARTIFACTS_DIR'], 'model.onnx'), 'wb') as f:
    f.write(onx.SerializeToString())
with open(os.environ['MLOPS_METRICS_FILE'], 'w') as f:
    json.dump({'sklearn_train_accuracy': float(model.score(X, y))}, f)
