#!/usr/bin/python3
"""Golden values for lecture/discriminant.c: scikit-learn's
LinearDiscriminantAnalysis (default solver) and QuadraticDiscriminantAnalysis
(reg_param 0) fitted on small seeded two-class Gaussian sets, with their
predictions and predict_proba on held-out points.

Cases "<case>.x" (n, d), "<case>.y" (n, int32), "<case>.test" (m, d),
"<case>.predict" (m, int32) and "<case>.prob" (m: P(class 1)). Test points
whose decision value lies within 0.05 of the boundary are left out, so a
float32 rounding cannot flip a prediction."""
import os

import numpy as np
import torch
from sklearn.discriminant_analysis import (LinearDiscriminantAnalysis,
                                           QuadraticDiscriminantAnalysis)

from common import GOLDEN_DIR, save_safetensors

rng = np.random.default_rng(4)
tensors = {}


def gaussian_set(n0, n1, mean0, mean1, cov0, cov1):
    x = np.concatenate([rng.multivariate_normal(mean0, cov0, n0),
                        rng.multivariate_normal(mean1, cov1, n1)])
    y = np.concatenate([np.zeros(n0, dtype=np.int32), np.ones(n1, dtype=np.int32)])
    order = rng.permutation(n0 + n1)
    return x[order].astype(np.float32), y[order]


def case(name, model, x, y, m):
    model.fit(x.astype(np.float64), y)
    d = x.shape[1]
    test = (rng.normal(size=(4 * m, d)) * x.std(axis=0) * 1.5 + x.mean(axis=0)).astype(np.float32)
    decision = model.decision_function(test.astype(np.float64))
    test = test[np.abs(decision) > 0.05][:m]
    assert len(test) == m
    predict = model.predict(test.astype(np.float64)).astype(np.int32)
    prob = model.predict_proba(test.astype(np.float64))[:, 1].astype(np.float32)
    for key, value in (("x", x), ("y", y), ("test", test), ("predict", predict), ("prob", prob)):
        tensors["%s.%s" % (name, key)] = torch.from_numpy(np.ascontiguousarray(value))
    print(name, "n", len(x), "d", d, "test", m, "class-1 predictions", int(predict.sum()))


x, y = gaussian_set(40, 30, [0.0, 0.0], [2.0, 1.0], [[1.0, 0.3], [0.3, 0.5]],
                    [[1.0, 0.3], [0.3, 0.5]])
case("lda2", LinearDiscriminantAnalysis(), x, y, 40)
x, y = gaussian_set(25, 35, [0.0, 0.0, 1.0], [1.0, -1.0, 0.0],
                    [[1.0, 0.2, 0.0], [0.2, 0.8, 0.1], [0.0, 0.1, 0.6]],
                    [[1.0, 0.2, 0.0], [0.2, 0.8, 0.1], [0.0, 0.1, 0.6]])
case("lda3", LinearDiscriminantAnalysis(), x, y, 40)
x, y = gaussian_set(40, 30, [0.0, 0.0], [1.5, 1.0], [[1.0, 0.5], [0.5, 1.0]],
                    [[0.3, -0.1], [-0.1, 2.0]])
case("qda2", QuadraticDiscriminantAnalysis(), x, y, 40)
x, y = gaussian_set(30, 45, [0.0, 0.0, 0.0], [1.0, 0.5, -0.5],
                    [[1.0, 0.2, 0.0], [0.2, 0.5, 0.1], [0.0, 0.1, 1.5]],
                    [[2.0, -0.3, 0.2], [-0.3, 1.0, 0.0], [0.2, 0.0, 0.4]])
case("qda3", QuadraticDiscriminantAnalysis(), x, y, 40)

# d = 10, the top of the range the host-side inverse is meant for.
a = rng.normal(size=(10, 10))
shared = a @ a.T / 10 + 0.5 * np.eye(10)
x, y = gaussian_set(60, 60, np.zeros(10), rng.normal(size=10) * 0.7, shared, shared)
case("lda10", LinearDiscriminantAnalysis(), x, y, 40)
b = rng.normal(size=(10, 10))
x, y = gaussian_set(70, 80, np.zeros(10), rng.normal(size=10) * 0.7, shared,
                    b @ b.T / 10 + 0.5 * np.eye(10))
case("qda10", QuadraticDiscriminantAnalysis(), x, y, 40)

save_safetensors(os.path.join(GOLDEN_DIR, "zoo_discriminant.safetensors"), tensors,
                 {"generator": "tools/golden/gen_discriminant.py", "sklearn": "1.2"})
