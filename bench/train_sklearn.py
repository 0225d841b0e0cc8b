"""scikit-learn's side of `npm run bench:train`: fits one model on the bench's binary dataset, single-threaded.

argv: data file, rows, features, task (classification|regression), model (hgb|rf), params JSON.
Prints one JSON line: fit wall and CPU seconds, peak RSS, test score. The last 20% of rows are the test split.
"""
import json
import resource
import sys
import time

import numpy as np


def main():
    path, n, k, task, model, params = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], json.loads(sys.argv[6])
    X = np.fromfile(path, dtype=np.float32, count=n * k).reshape(n, k)
    y = np.fromfile(path, dtype=np.float64, offset=n * k * 4)
    if task == "classification":
        y = y.astype(np.int64)
    cut = n - n // 5
    from sklearn import ensemble

    if model == "hgb":
        cls = ensemble.HistGradientBoostingClassifier if task == "classification" else ensemble.HistGradientBoostingRegressor
        est = cls(early_stopping=False, random_state=0, **params)
    else:
        cls = ensemble.RandomForestClassifier if task == "classification" else ensemble.RandomForestRegressor
        est = cls(n_jobs=1, random_state=0, **params)
    wall, cpu = time.perf_counter(), time.process_time()
    est.fit(X[:cut], y[:cut])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    pred = est.predict(X[cut:])
    truth = y[cut:]
    if task == "classification":
        score = float((pred == truth).mean())
    else:
        score = float(1 - ((pred - truth) ** 2).sum() / ((truth - truth.mean()) ** 2).sum())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"fitSeconds": wall, "cpuSeconds": cpu, "peakRssMiB": peak, "score": score}))


main()
