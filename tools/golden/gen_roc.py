"""tests/golden/metrics_roc.safetensors: scikit-learn's ROC curve and AUC on
scores with ties, for tests/data/test_metrics.c (data/metrics.c).

Two cases:
  ties   300 scores rounded to one decimal (so many positives and negatives
         share a score) with about a third positives;
  rare   2000 continuous scores with 1% positives whose scores are shifted
         up, as a fraud detector's distances.
Each holds <case>.scores (F32), <case>.truth (I32), <case>.auc (F32, also
in the metadata as a decimal string at full precision), and roc_curve with
drop_intermediate=False: <case>.fpr, <case>.tpr, <case>.thresholds (the
first threshold is sklearn 1.2's max + 1; the C code writes +inf there).

Run with the system Python, from this folder:
    /usr/bin/python3 gen_roc.py
"""
import os

import numpy as np
import torch
from sklearn.metrics import roc_auc_score, roc_curve

from common import GOLDEN_DIR, save_safetensors


def case(tensors, meta, name, scores, truth):
    scores = scores.astype(np.float32)
    truth = truth.astype(np.int32)
    auc = roc_auc_score(truth, scores)
    fpr, tpr, thresholds = roc_curve(truth, scores, drop_intermediate=False)
    tensors[name + ".scores"] = torch.from_numpy(scores)
    tensors[name + ".truth"] = torch.from_numpy(truth)
    tensors[name + ".auc"] = torch.tensor([auc], dtype=torch.float32)
    tensors[name + ".fpr"] = torch.from_numpy(fpr.astype(np.float32))
    tensors[name + ".tpr"] = torch.from_numpy(tpr.astype(np.float32))
    tensors[name + ".thresholds"] = torch.from_numpy(thresholds.astype(np.float32))
    meta[name + ".auc"] = repr(float(auc))
    print("%s: %d scores, %d positives, %d ROC points, AUC %.12f"
          % (name, len(scores), int(truth.sum()), len(fpr), auc))


def main():
    rng = np.random.default_rng(4)
    tensors, meta = {}, {}
    truth = (rng.random(300) < 0.33).astype(np.int32)
    scores = np.round(rng.normal(0.0, 1.0, 300) + 0.8 * truth, 1)
    case(tensors, meta, "ties", scores, truth)
    truth = (rng.random(2000) < 0.01).astype(np.int32)
    truth[:2] = 1  # at least two positives whatever the draw
    scores = rng.gamma(2.0, 0.05, 2000) + 0.3 * truth * rng.random(2000)
    case(tensors, meta, "rare", scores, truth)
    save_safetensors(os.path.join(GOLDEN_DIR, "metrics_roc.safetensors"), tensors, meta)


if __name__ == "__main__":
    main()
