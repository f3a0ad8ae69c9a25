#!/bin/sh
# tests/cuda/graphs.sh NNC HAVE_CUDA FAKEDIR EMU_H EXAMPLES MODEL TRAIN-ARGS... - CUDA graphs, through
# the emulator (tests/cuda/emu), whose driver records a capture's launches, memsets, copies and the
# fake cuBLAS's products and replays them at cuGraphLaunch (and refuses what a capture forbids).
# The model trains three ways: graphs on (the default: each step's launch sequence captured once per
# batch size and set of input buffers, then replayed), NNC_CUDA_GRAPHS=0 (plain launches) and a
# driver that cannot capture (NNC_EMU_NO_GRAPHS: the runtime says so and falls back), and a cuBLAS
# that fails inside a capture (NNC_EMU_BLAS_NO_CAPTURE: the capture dropped, the step run plainly). The
# trainings and their saved weights are identical, and equal the CPU executable's (a replay that
# kept a stale seed, pointer or batch would repeat the dropout masks or read the wrong batch);
# the graphs were captured and replayed (the runtime's count equals the driver's), a replay counts
# its GEMMs as plain launches do, a last batch of another size runs too, and eval (the evaluate
# graph) through graphs equals the CPU's.
nnc=$1 have=$2 fake=$3 emu=$4 ex=$5 model=$6
shift 6
. "$(dirname "$0")/emu_build.sh"
gpu() { LD_LIBRARY_PATH="$fake" NNC_EMU_KERNELS="$tmp/k.so" NNC_EMU_STATS=1 NNC_CUDA_STATS=1 "$tmp/gpu" "$@"; }
fail() { echo "FAIL: $*"; exit 1; }
strip() { sed -E '/^time: /d; /: cuda: /d; /^emu: /d; /: note: CUDA graphs off/d; s/  [0-9.]+s  [0-9]+ samples\/s//; s/, [0-9]+ threads?//'; }
# the runtime's "CUDA graphs: C captured, L launched, P calls with plain launches", the driver's
# "graphs: C captured (N operations), L launched (M operations replayed)"
rtg() { grep ': cuda: ' "$1" | sed -E 's/.*CUDA graphs: ([0-9]+) captured, ([0-9]+) launched, ([0-9]+) calls.*/\1 \2 \3/'; }
emg() { grep '^emu: ' "$1" | sed -E 's/.*graphs: ([0-9]+) captured \([0-9]+ operations\), ([0-9]+) launched.*/\1 \2/'; }
gemms() { grep ': cuda: ' "$1" | sed -E 's/.*GEMMs: ([0-9]+) cuBLAS, ([0-9]+) cuBLASLt.*/\1 \2/'; }
gpu train "$@" --save "$tmp/on.w" >"$tmp/on" 2>&1 || { cat "$tmp/on"; fail "train, graphs on"; }
NNC_CUDA_GRAPHS=0 gpu train "$@" --save "$tmp/off.w" >"$tmp/off" 2>&1 || { cat "$tmp/off"; fail "train, NNC_CUDA_GRAPHS=0"; }
NNC_EMU_NO_GRAPHS=1 gpu train "$@" --save "$tmp/no.w" >"$tmp/no" 2>&1 || { cat "$tmp/no"; fail "train, no capture"; }
NNC_EMU_BLAS_NO_CAPTURE=1 gpu train "$@" --save "$tmp/nb.w" >"$tmp/nb" 2>&1 || { cat "$tmp/nb"; fail "train, cuBLAS not capturable"; }
"$tmp/cpu" train "$@" --save "$tmp/c.w" >"$tmp/c" 2>&1 || { cat "$tmp/c"; fail "cpu train"; }
for f in on off no nb c; do strip <"$tmp/$f" >"$tmp/$f.txt"; done
cmp -s "$tmp/on.txt" "$tmp/c.txt" || { diff "$tmp/on.txt" "$tmp/c.txt"; fail "the training with CUDA graphs differs from the CPU's"; }
cmp -s "$tmp/off.txt" "$tmp/on.txt" || { diff "$tmp/off.txt" "$tmp/on.txt"; fail "NNC_CUDA_GRAPHS=0 trains differently"; }
cmp -s "$tmp/no.txt" "$tmp/on.txt" || { diff "$tmp/no.txt" "$tmp/on.txt"; fail "the fallback trains differently"; }
cmp -s "$tmp/on.w" "$tmp/off.w" || fail "the weights saved with and without CUDA graphs differ"
cmp -s "$tmp/on.w" "$tmp/no.w" || fail "the weights saved by the fallback differ"
# a library that fails inside the capture: the capture is dropped (nothing of it ran), the step runs
# with plain launches, and so do the rest
cmp -s "$tmp/nb.txt" "$tmp/on.txt" || { diff "$tmp/nb.txt" "$tmp/on.txt"; fail "the fallback after cuBLAS failed in a capture trains differently"; }
cmp -s "$tmp/on.w" "$tmp/nb.w" || fail "the weights saved after cuBLAS failed in a capture differ"
grep -q ': note: CUDA graphs off: capturing a step failed (cuBLAS); plain launches from now on' "$tmp/nb" ||
    fail "no note when cuBLAS failed in a capture: $(cat "$tmp/nb")"
grep -q ': cuda: .*CUDA graphs: 0 captured, 0 launched, .*(graphs off)' "$tmp/nb" || fail "graphs after cuBLAS failed: $(grep ': cuda: ' "$tmp/nb")"
set -- $(rtg "$tmp/on")
[ "$1" -ge 2 ] && [ "$2" -gt "$1" ] || fail "graphs were not captured and replayed: $(grep ': cuda: ' "$tmp/on")"
[ "$1 $2" = "$(emg "$tmp/on")" ] || fail "the runtime counted $1 captures and $2 launches, the driver saw $(emg "$tmp/on")"
[ "$(gemms "$tmp/on")" = "$(gemms "$tmp/off")" ] || fail "GEMMs counted $(gemms "$tmp/on") with graphs, $(gemms "$tmp/off") without"
grep -q ': cuda: .*CUDA graphs: 0 captured, 0 launched, [1-9][0-9]* calls with plain launches (graphs off)' "$tmp/off" ||
    fail "NNC_CUDA_GRAPHS=0 still captured: $(grep ': cuda: ' "$tmp/off")"
[ "$(emg "$tmp/off")" = "0 0" ] || fail "the driver saw graphs under NNC_CUDA_GRAPHS=0: $(emg "$tmp/off")"
grep -q ': note: CUDA graphs off: capturing a step failed (cuStreamBeginCapture: ' "$tmp/no" ||
    fail "no note when the driver cannot capture: $(cat "$tmp/no")"
[ "$(emg "$tmp/no")" = "0 0" ] || fail "graphs launched although the capture failed"
# eval: the evaluate graph, replayed over the test set's batches
gpu eval --weights "$tmp/on.w" >"$tmp/ge" 2>&1 || { cat "$tmp/ge"; fail "eval"; }
"$tmp/cpu" eval --weights "$tmp/c.w" >"$tmp/ce" 2>&1 || { cat "$tmp/ce"; fail "cpu eval"; }
strip <"$tmp/ge" >"$tmp/ge.txt"
strip <"$tmp/ce" >"$tmp/ce.txt"
cmp -s "$tmp/ge.txt" "$tmp/ce.txt" || { diff "$tmp/ge.txt" "$tmp/ce.txt"; fail "eval through CUDA graphs differs from the CPU's"; }
set -- $(rtg "$tmp/ge")
[ "$2" -gt 0 ] || fail "eval replayed no graph: $(grep ': cuda: ' "$tmp/ge")"
grep ': cuda: ' "$tmp/on" | sed 's/.*; CUDA graphs/CUDA graphs/'
echo "ok: training and weights equal with CUDA graphs, without, with the fallback and on the CPU"
