#!/usr/bin/env python3
"""Runs an ONNX model in ONNX Runtime on X.npy and compares with the outputs EDDL wrote (Y.npy).

  python3 onnx_compare_ort.py MODEL.onnx X.npy Y.npy [--tol 1e-5]

Checks the model with onnx.checker (full check) first. Prints the largest absolute difference
and the agreement of the arg-max classes; exit status 1 when the difference exceeds --tol.
Needs onnx and onnxruntime (pip install onnx onnxruntime). Used with onnx_finetune.cpp.
"""
import argparse
import sys

import numpy as np
import onnx
import onnxruntime as ort


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("x")
    ap.add_argument("y")
    ap.add_argument("--tol", type=float, default=1e-5)
    a = ap.parse_args()
    onnx.checker.check_model(onnx.load(a.model), full_check=True)
    x, ours = np.load(a.x), np.load(a.y)
    sess = ort.InferenceSession(a.model, providers=["CPUExecutionProvider"])
    theirs = sess.run(None, {sess.get_inputs()[0].name: x})[0]
    if theirs.shape != ours.shape:
        print(f"shape mismatch: ONNX Runtime {theirs.shape}, EDDL {ours.shape}")
        return 1
    diff = float(np.max(np.abs(theirs - ours)))
    same = float(np.mean(theirs.argmax(1) == ours.argmax(1)))
    print(f"{a.model}: onnx.checker ok; ONNX Runtime {ort.__version__} vs EDDL on {len(x)} inputs: "
          f"max abs diff {diff:.3g}, same class {same * 100:.1f}%")
    return 0 if diff <= a.tol else 1


if __name__ == "__main__":
    sys.exit(main())
