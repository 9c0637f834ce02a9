#!/usr/bin/python3
"""Writes a TorchScript model for the breaker tests: like iris (4 inputs, 3 probabilities),
but its forward raises when the first feature is above 100, so a test can make the backend
fail on demand. Usage: make_flaky_model.py OUT.pt"""
import sys

import torch


class Flaky(torch.nn.Module):
    def forward(self, x):
        if bool(x[0][0] > 100.0):
            raise RuntimeError("boom")
        return torch.softmax(x[:, :3], dim=1)


torch.jit.script(Flaky()).save(sys.argv[1])
