#!/bin/sh
# tests/cuda/resident.sh NNC HAVE_CUDA FAKEDIR EMU_H EXAMPLES MODEL TRAIN-ARGS... - device memory of a
# --target cuda executable, through the emulator (tests/cuda/emu): params and state go to the device
# once and come back only for a save (one download per tensor per epoch's checkpoint, not per step);
# the allocations do not grow with the steps; every batch goes as an async copy from pinned memory
# (the fake driver refuses one from pageable memory); the runtime's own count (NNC_CUDA_STATS) equals
# what the fake driver saw (NNC_EMU_STATS); a resumed run (the host loads the weights: from_host)
# uploads them again and trains as the CPU's resumed run does; --device 1 on the one-device
# emulator is refused with a clear line; summary reports the device memory.
nnc=$1 have=$2 fake=$3 emu=$4 ex=$5 model=$6
shift 6
. "$(dirname "$0")/emu_build.sh"
gpu() { LD_LIBRARY_PATH="$fake" NNC_EMU_KERNELS="$tmp/k.so" NNC_EMU_STATS=1 NNC_CUDA_STATS=1 "$tmp/gpu" "$@"; }
# field N of the runtime's stats line (numbers only), the emulator's likewise
rt() { grep ': cuda: ' "$1" | tr -c '0-9\n' ' ' | awk -v n="$2" '{print $n}'; }
em() { grep '^emu: ' "$1" | tr -c '0-9\n' ' ' | awk -v n="$2" '{print $n}'; }
fail() { echo "FAIL: $*"; exit 1; }
for e in 1 3; do
    gpu train "$@" --epochs $e --save "$tmp/g$e.w" --save-every 1 >"$tmp/o$e" 2>&1 || { cat "$tmp/o$e"; fail "train --epochs $e"; }
done
# stats: 1 calls 2 allocations 3 bytes 4 uploads 5 bytes 6 downloads 7 bytes 8 batch copies 9 bytes 10 outputs
ntens=$(rt "$tmp/o1" 4)
[ "$ntens" -gt 0 ] || fail "no upload of params counted: $(cat "$tmp/o1")"
[ "$(rt "$tmp/o3" 4)" = "$ntens" ] || fail "params uploaded $(rt "$tmp/o3" 4) times in 3 epochs, $ntens in 1: they must stay on the device"
[ "$(rt "$tmp/o1" 6)" = "$ntens" ] || fail "1 epoch, 1 save: $(rt "$tmp/o1" 6) downloads of $ntens tensors"
[ "$(rt "$tmp/o3" 6)" = "$((3 * ntens))" ] || fail "3 epochs, 3 saves: $(rt "$tmp/o3" 6) downloads of $ntens tensors"
[ "$(rt "$tmp/o3" 2)" = "$(rt "$tmp/o1" 2)" ] || fail "allocations grew with the steps: $(rt "$tmp/o1" 2) then $(rt "$tmp/o3" 2)"
[ "$(em "$tmp/o3" 1)" = "$(rt "$tmp/o3" 2)" ] || fail "the driver saw $(em "$tmp/o3" 1) allocations, the runtime counted $(rt "$tmp/o3" 2)"
# host to device: the params, the batches and each call's 8-byte seed (for the rand kernels' nnc_seed)
[ "$(em "$tmp/o3" 3)" = "$(($(rt "$tmp/o3" 5) + $(rt "$tmp/o3" 9) + 8 * $(rt "$tmp/o3" 1)))" ] || fail "the driver's HtoD bytes differ from params + batches + seeds"
[ "$(em "$tmp/o3" 4)" = "$(($(rt "$tmp/o3" 8) + $(rt "$tmp/o3" 1)))" ] || fail "not every batch copy was async"
[ "$(rt "$tmp/o3" 8)" -gt "$(rt "$tmp/o1" 8)" ] || fail "no batches counted"
# 14: train steps deferred (the runtime gathered the next batch while the device ran): all but the
# last of each epoch (the fake driver lands results only at a synchronize, so reading early fails)
[ "$(rt "$tmp/o3" 14)" -gt "$(rt "$tmp/o1" 14)" ] && [ "$(rt "$tmp/o1" 14)" -gt 0 ] || fail "no train step deferred: $(grep ': cuda: ' "$tmp/o3")"
# 15: batches copied during the step before (prefetch): all but the first of each epoch
[ "$(rt "$tmp/o3" 15)" -gt "$(rt "$tmp/o1" 15)" ] && [ "$(rt "$tmp/o1" 15)" -gt 0 ] || fail "no batch prefetched: $(grep ': cuda: ' "$tmp/o3")"
# a resumed run: the loaded weights go up again, and it trains as the CPU's does
cp "$tmp/g1.w" "$tmp/r.w"
gpu train "$@" --epochs 2 --resume "$tmp/g1.w" --save "$tmp/r.w" --force >"$tmp/gr" 2>&1 || { cat "$tmp/gr"; fail "resume"; }
"$tmp/cpu" train "$@" --epochs 2 --resume "$tmp/g1.w" --save "$tmp/c.w" >"$tmp/cr" 2>&1 || { cat "$tmp/cr"; fail "cpu resume"; }
strip() { sed -E '/^time: /d; /: cuda: /d; /^emu: /d; s/  [0-9.]+s  [0-9]+ samples\/s//; s/, [0-9]+ threads?//'; }
strip <"$tmp/gr" >"$tmp/gr.txt"
strip <"$tmp/cr" >"$tmp/cr.txt"
cmp -s "$tmp/gr.txt" "$tmp/cr.txt" || { diff "$tmp/gr.txt" "$tmp/cr.txt"; fail "the resumed run differs from the CPU's"; }
[ "$(rt "$tmp/gr" 4)" = "$ntens" ] || fail "the resumed run uploaded $(rt "$tmp/gr" 4) tensors, not $ntens"
# --device: a GPU the machine lacks
gpu eval --weights "$tmp/g1.w" --device 1 >"$tmp/d" 2>&1 && fail "--device 1 accepted"
grep -q "error: --device 1: this machine has 1 CUDA device$" "$tmp/d" || { cat "$tmp/d"; fail "--device 1: no clear error"; }
# summary: the device memory line and the JSON field
"$tmp/gpu" summary --batch 64 | grep -q "^CUDA device memory at batch 64: " || fail "summary has no device memory line"
"$tmp/gpu" summary --json | grep -q '"device_memory": [1-9]' || fail "summary --json has no device_memory"
"$tmp/cpu" summary | grep -q "device memory" && fail "the CPU executable's summary names device memory"
grep ': cuda: ' "$tmp/o3"
echo "ok: params resident ($ntens tensors up once, down once per save), batches async from pinned memory"
