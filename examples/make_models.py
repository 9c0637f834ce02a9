#!/usr/bin/python3
"""Builds Vigil's example model repository, deterministically, from Debian's packages.

  iris  version 1: multinomial logistic regression (TorchScript, the weaker model)
  iris  version 2: small MLP (TorchScript)
  fraud version 1: XGBoost binary classifier on a seeded, imbalanced synthetic set with
                   30 named features (UBJSON)

Each model's training data is written as <repo>/<model>/train.csv (header + label column).
Runs on /usr/bin/python3 with python3-torch, python3-sklearn and python3-xgboost.
Usage: make_models.py [--out DIR]   (default: the folder of this script's models/)
"""
import argparse
import csv
import os
import random
import sys

import numpy as np
import torch
from sklearn.datasets import load_iris, make_classification

IRIS_FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
FRAUD_FEATURES = [
    "amount", "amount_log", "hour_of_day", "day_of_week", "merchant_risk", "merchant_age_days",
    "card_age_days", "txn_count_1h", "txn_count_24h", "txn_amount_24h", "avg_amount_30d",
    "amount_to_avg_ratio", "distance_from_home_km", "distance_from_last_km", "foreign",
    "online", "chip_used", "pin_used", "new_device", "device_risk", "ip_risk", "email_age_days",
    "failed_logins_24h", "account_age_days", "velocity_score", "category_risk",
    "refund_rate_90d", "chargeback_count", "mcc_risk", "session_seconds",
]


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)


def write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for r in rows:
            w.writerow([repr(float(v)) if isinstance(v, (float, np.floating)) else v for v in r])


class Softmax(torch.nn.Module):
    def __init__(self, body):
        super().__init__()
        self.body = body

    def forward(self, x):
        return torch.softmax(self.body(x), dim=1)


def train_torch(body, x, y, epochs, lr):
    opt = torch.optim.Adam(body.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    for _ in range(epochs):
        opt.zero_grad()
        loss = loss_fn(body(x), y)
        loss.backward()
        opt.step()
    return body


def save_script(module, x, path):
    module.eval()
    scripted = torch.jit.trace(module, x[:2])
    scripted.save(path)
    with torch.no_grad():
        acc = (module(x).argmax(dim=1)).numpy()
    return acc


def build_iris(out):
    seed_everything(7)
    data = load_iris()
    xs = data.data.astype(np.float32)
    ys = data.target.astype(np.int64)
    x = torch.from_numpy(xs)
    y = torch.from_numpy(ys)
    model_dir = os.path.join(out, "iris")
    # Version 1: logistic regression, deliberately few epochs (the weaker model).
    v1 = Softmax(train_torch(torch.nn.Linear(4, 3), x, y, epochs=60, lr=0.05))
    # Version 2: a small MLP.
    torch.manual_seed(7)
    mlp = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
    v2 = Softmax(train_torch(mlp, x, y, epochs=400, lr=0.02))
    for version, module in ((1, v1), (2, v2)):
        vdir = os.path.join(model_dir, str(version))
        os.makedirs(vdir, exist_ok=True)
        pred = save_script(module, x, os.path.join(vdir, "model.pt"))
        print(f"iris v{version}: training accuracy {np.mean(pred == ys):.3f}")
    write_csv(os.path.join(model_dir, "train.csv"), IRIS_FEATURES + ["label"],
              [list(r) + [data.target_names[t]] for r, t in zip(xs, ys)])


def build_fraud(out):
    import xgboost as xgb
    seed_everything(11)
    xs, ys = make_classification(n_samples=20000, n_features=30, n_informative=12,
                                 n_redundant=6, weights=[0.97, 0.03], flip_y=0.005,
                                 class_sep=1.2, random_state=11)
    xs = xs.astype(np.float32)
    dtrain = xgb.DMatrix(xs, label=ys, feature_names=FRAUD_FEATURES)
    params = {"objective": "binary:logistic", "max_depth": 4, "eta": 0.2, "seed": 11,
              "nthread": 1, "eval_metric": "auc", "tree_method": "hist"}
    booster = xgb.train(params, dtrain, num_boost_round=60)
    vdir = os.path.join(out, "fraud", "1")
    os.makedirs(vdir, exist_ok=True)
    booster.save_model(os.path.join(vdir, "model.ubj"))
    pred = booster.predict(dtrain) > 0.5
    print(f"fraud v1: training accuracy {np.mean(pred == ys):.3f}, "
          f"fraud rate {ys.mean():.3f}")
    write_csv(os.path.join(out, "fraud", "train.csv"), FRAUD_FEATURES + ["label"],
              [list(r) + [int(t)] for r, t in zip(xs, ys)])


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                      "models"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    build_iris(args.out)
    build_fraud(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
