#!/usr/bin/env bash
# install-deps.sh - everything nnc needs from Debian, on a fresh machine (root or sudo).
# Shared by the README's first command (./quickstart.sh) and CI (.ci/run).
set -euo pipefail
pkgs=(build-essential cmake llvm-14-dev llvm-14-tools clang-14 libclang-rt-14-dev
      libopenblas-dev libdnnl-dev zlib1g-dev libpng-dev libgfortran-12-dev dataset-fashion-mnist fortunes-es python3-torch
      python3-numpy python3-pil graphviz chromium openmpi-bin libopenmpi-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The editor grammar's test (tests/editors) tokenises the examples with VS Code's own TextMate
# engine, from npm: the two modules (pinned) into build/npm when npm is there; with
# NNC_WITH_NODE=1 (CI, .ci/run) Debian's nodejs and npm are installed first when missing.
if [ "${NNC_WITH_NODE:-0}" = 1 ] && { ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; }; then
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends nodejs npm || true
fi
npm_dir="$(cd "$(dirname "$0")/.." && pwd)/build/npm"
if command -v npm >/dev/null 2>&1 && [ ! -d "$npm_dir/node_modules/vscode-oniguruma" ]; then
  mkdir -p "$npm_dir"
  npm install --prefix "$npm_dir" --no-save --no-audit --no-fund vscode-textmate@9.3.2 vscode-oniguruma@2.0.1 ||
    echo "install-deps: npm could not install vscode-textmate; the editors.textmate test will be skipped"
fi
