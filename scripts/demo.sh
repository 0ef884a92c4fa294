#!/usr/bin/env bash
# The README's first command: installs what is missing, builds everything, and trains the
# Listing 1 network on Fashion-MNIST. Safe to run again: each step only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build
./build/examples/eddl/mnist_mlp "$@"
