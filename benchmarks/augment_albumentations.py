#!/usr/bin/env python3
"""The albumentations peer of ecvl_augment_bench, and the maker of the images both read.

--make-data PATH  writes N deterministic RGB uint8 images (N x H x W x 3, one .npy file)
--data PATH       times each augmentation once over every image, single-threaded, and prints one
                  JSON line per augmentation: {"peer": "albumentations", "op": ..., "images_per_s": ...,
                  "images_per_cpu_s": ...} (wall-clock and thread-CPU-time rates)

The parameters are those of ecvl_augment_bench's table (benchmarks/ecvl_augment.cpp).
"""
import argparse
import json
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np


def make_data(path, n, h, w):
    # smooth colour fields (a few low-frequency waves per image) plus texture noise: picture-like
    # content, the same bytes on every run
    rng = np.random.default_rng(20240515)
    out = np.lib.format.open_memmap(path + ".tmp", mode="w+", dtype=np.uint8, shape=(n, h, w, 3))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    for i in range(n):
        img = np.empty((h, w, 3), np.float32)
        for c in range(3):
            fx, fy, ph = rng.uniform(0.005, 0.04), rng.uniform(0.005, 0.04), rng.uniform(0, 6.283)
            img[:, :, c] = 128 + 90 * np.sin(xx * fx + yy * fy + ph)
        img += rng.normal(0, 12, size=(h, w, 3)).astype(np.float32)
        out[i] = np.clip(img, 0, 255).astype(np.uint8)
    out.flush()
    del out
    os.replace(path + ".tmp", path)


def transforms(A, cv2):
    # the same parameters as ecvl_augment_bench (p=1 everywhere: every image is transformed)
    return {
        "Mirror": A.HorizontalFlip(p=1),
        "Rotate": A.Rotate(limit=(-30, 30), interpolation=cv2.INTER_LINEAR, border_mode=cv2.BORDER_CONSTANT, fill=0, p=1),
        "ResizeDim": A.Resize(224, 224, interpolation=cv2.INTER_LINEAR, p=1),
        # OpenCV's own kernel size for sigma 2 on uint8 (what ECVL's GaussianBlur uses): 13
        "GaussianBlur": A.GaussianBlur(blur_limit=(13, 13), sigma_limit=(2, 2), p=1),
        "ElasticTransform": A.ElasticTransform(alpha=34, sigma=4, interpolation=cv2.INTER_LINEAR,
                                               border_mode=cv2.BORDER_REFLECT_101, p=1),
        "GridDistortion": A.GridDistortion(num_steps=5, distort_limit=(-0.3, 0.3), interpolation=cv2.INTER_LINEAR,
                                           border_mode=cv2.BORDER_REFLECT_101, p=1),
        # ECVL adds beta in [0, 30]; brightness_by_max scales the limit by 255
        "Brightness": A.RandomBrightnessContrast(brightness_limit=(0, 30 / 255), contrast_limit=(0, 0), p=1),
        "Normalize": A.Normalize(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225), max_pixel_value=255.0, p=1),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--make-data")
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--height", type=int, default=350)
    ap.add_argument("--width", type=int, default=400)
    ap.add_argument("--data")
    ap.add_argument("--ops", default="")
    ap.add_argument("--warmup", type=int, default=100)
    a = ap.parse_args()
    if a.make_data:
        make_data(a.make_data, a.count, a.height, a.width)
        return 0
    if not a.data:
        ap.error("--data or --make-data is required")

    import cv2
    cv2.setNumThreads(1)
    import albumentations as A

    images = np.load(a.data)
    table = transforms(A, cv2)
    ops = a.ops.split(",") if a.ops else list(table)
    for op in ops:
        t = table[op]
        for i in range(min(a.warmup, len(images))):
            t(image=images[i])
        checksum = 0.0
        start, cpu_start = time.perf_counter(), time.thread_time()
        for img in images:
            out = t(image=img)["image"]
            checksum += float(out.flat[0])
        s, cpu = time.perf_counter() - start, time.thread_time() - cpu_start
        print(json.dumps({"peer": "albumentations", "version": A.__version__, "op": op, "images": len(images),
                          "seconds": round(s, 4), "cpu_seconds": round(cpu, 4),
                          "images_per_s": round(len(images) / s, 1), "images_per_cpu_s": round(len(images) / cpu, 1),
                          "checksum": checksum}),
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
