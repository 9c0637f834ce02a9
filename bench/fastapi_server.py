#!/usr/bin/python3
"""Baseline: the iris TorchScript model behind FastAPI + uvicorn, the way the runbooks'
teams serve today. Same OIP v2 request/response shape as Vigil's infer endpoint."""
import argparse
import os

import torch
import uvicorn
from fastapi import FastAPI, Request

parser = argparse.ArgumentParser()
parser.add_argument("--model", required=True)
parser.add_argument("--port", type=int, required=True)
args = parser.parse_args()

torch.set_num_threads(1)
model = torch.jit.load(args.model)
model.eval()
LABELS = ["setosa", "versicolor", "virginica"]
app = FastAPI()


@app.post("/v2/models/iris/infer")
async def infer(request: Request):
    body = await request.json()
    tensor = body["inputs"][0]
    x = torch.tensor(tensor["data"], dtype=torch.float32).reshape(tensor["shape"])
    with torch.inference_mode():
        probs = model(x)
    rows = probs.tolist()
    return {"model_name": "iris", "model_version": "1",
            "outputs": [{"name": "probabilities", "datatype": "FP32", "shape": list(probs.shape),
                         "data": [p for r in rows for p in r]},
                        {"name": "label", "datatype": "BYTES", "shape": [len(rows)],
                         "data": [LABELS[max(range(3), key=r.__getitem__)] for r in rows]}]}


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)
