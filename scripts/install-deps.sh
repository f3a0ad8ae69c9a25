#!/usr/bin/env bash
# install-deps.sh - everything nnc needs from Debian, on a fresh machine (root or sudo).
# Shared by the README's first command (./quickstart.sh) and CI (.ci/run).
set -euo pipefail
pkgs=(build-essential cmake llvm-14-dev llvm-14-tools clang-14 libclang-rt-14-dev
      libopenblas-dev zlib1g-dev libpng-dev dataset-fashion-mnist fortunes-es python3-torch python3-numpy
      python3-pil graphviz chromium)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "installing: ${missing[*]}"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
