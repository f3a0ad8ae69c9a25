#!/bin/sh
# run.sh - build a fuzzer with clang-14 and run it: the front end (tests/fuzz/fuzz_frontend.c) or
# the whole compiler short of LLVM (tests/fuzz/fuzz_pipeline.c: check, lower, autodiff, optim,
# simplify, fuse, plan, each verified) or one of the runtime's loaders (tests/fuzz/fuzz_loaders.c:
# safetensors, idx, npy, csv, text).
#
#   run.sh BUILD_DIR [SECONDS] [TARGET]   build, then fuzz for SECONDS (default 60) starting from
#                                the seed corpus; fails on any crash, leak, sanitizer report or
#                                timeout and prints libFuzzer's final stats
#                                (stat::number_of_executed_units)
#   run.sh --replay BUILD_DIR [TARGET]    build, then run every seed and every saved crash
#                                reproducer (tests/fuzz/crashes/ for the front end,
#                                tests/fuzz/crashes_pipeline/ for the pipeline,
#                                tests/fuzz/crashes_rt/TARGET/ for a loader; less those listed in
#                                OPEN there) once: a quick regression test
#   run.sh --build BUILD_DIR [TARGET]     build only
#
# TARGET: frontend (the default), pipeline, safetensors, idx, npy, csv or text. A harness is compiled here straight
# from lang/*.c or runtime/*.c, independent of the CMake build's compiler and flags, so it builds
# the same way in any build directory. A crash leaves its input in BUILD_DIR/fuzz/artifacts/ (the
# front end) or BUILD_DIR/fuzz-TARGET/artifacts/; copy it to the crashes folder to keep it as a
# regression test. Environment: NNC_CLANG (default clang-14), NNC_FUZZ_CFLAGS (extra flags).
set -u
mode=fuzz
case ${1:-} in
    --replay) mode=replay; shift ;;
    --build) mode=build; shift ;;
esac
if [ $# -lt 1 ]; then
    echo "usage: run.sh [--replay|--build] BUILD_DIR [SECONDS]" >&2
    exit 2
fi
build=$1
if [ $mode = fuzz ]; then
    seconds=${2:-60}
    target=${3:-frontend}
else
    target=${2:-frontend}
fi
case $target in
    frontend|pipeline|safetensors|idx|npy|csv|text|history) ;;
    *) echo "run.sh: error: unknown target '$target' (frontend, pipeline, safetensors, idx, npy, csv, text, history)" >&2; exit 2 ;;
esac
src=$(cd "$(dirname "$0")/../.." && pwd)
clang=${NNC_CLANG:-clang-14}
if ! command -v "$clang" >/dev/null 2>&1; then
    echo "run.sh: error: $clang not found (install clang-14 or set NNC_CLANG)" >&2
    exit 2
fi

if [ $target = frontend ]; then
    work=$build/fuzz
    exe=$work/fuzz_frontend
    srcs="$src/lang/*.c $src/lang/*.h $src/tests/fuzz/fuzz_frontend.c"
    crashes=$src/tests/fuzz/crashes
elif [ $target = pipeline ]; then
    work=$build/fuzz-pipeline
    exe=$work/fuzz_pipeline
    srcs="$src/lang/*.c $src/lang/*.h $src/compiler/lower.c $src/compiler/lower.h $src/compiler/ir/*
          $src/compiler/kernel/* $src/compiler/passes/* $src/tests/fuzz/fuzz_pipeline.c"
    crashes=$src/tests/fuzz/crashes_pipeline
else
    work=$build/fuzz-$target
    exe=$work/fuzz_$target
    srcs="$src/runtime/*.c $src/runtime/*.h $src/tests/fuzz/fuzz_loaders.c"
    crashes=$src/tests/fuzz/crashes_rt/$target
fi
mkdir -p "$work/corpus" "$work/artifacts" || exit 2

# Rebuild when any source of the harness is newer than the binary.
stale=1
if [ -x "$exe" ]; then
    stale=0
    # shellcheck disable=SC2086
    for f in $srcs "$0"; do
        if [ "$f" -nt "$exe" ]; then
            stale=1
            break
        fi
    done
fi
if [ $stale = 1 ]; then
    echo "run.sh: building $exe with $clang"
    flags="-std=c17 -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
           -fno-sanitize-recover=all -Wall -Wextra -Wno-unused-parameter -Wvla -D_GNU_SOURCE"
    if [ $target = frontend ]; then
        # NNC_FUZZ_CFLAGS: extra flags, word-split on purpose (e.g. -DNDEBUG -include shim.h)
        # shellcheck disable=SC2086
        "$clang" ${NNC_FUZZ_CFLAGS:-} $flags -DNNC_VERSION='"fuzz"' -DNNC_FUZZ_STDLIB="\"$src/stdlib\"" \
            -I"$src/lang" "$src"/lang/*.c "$src/tests/fuzz/fuzz_frontend.c" -lm -o "$exe.tmp"
    elif [ $target = pipeline ]; then
        # shellcheck disable=SC2086
        "$clang" ${NNC_FUZZ_CFLAGS:-} $flags -DNNC_VERSION='"fuzz"' -DNNC_FUZZ_STDLIB="\"$src/stdlib\"" \
            -I"$src/lang" -I"$src/compiler" -I"$src/compiler/ir" -I"$src/compiler/passes" -I"$src/compiler/kernel" -I"$src/runtime" \
            "$src"/lang/*.c "$src/compiler/lower.c" "$src"/compiler/ir/*.c "$src"/compiler/kernel/*.c \
            "$src"/compiler/passes/*.c "$src/tests/fuzz/fuzz_pipeline.c" -lm -o "$exe.tmp"
    else
        # the runtime without main.c (libFuzzer has the main); cblas.h is where CMake finds it
        rt=$(ls "$src"/runtime/*.c | grep -v '/main\.c$')
        def=$(echo "$target" | tr a-z A-Z)
        # shellcheck disable=SC2086
        "$clang" ${NNC_FUZZ_CFLAGS:-} $flags -DFUZZ_$def -I"$src/runtime" -I/usr/include/x86_64-linux-gnu/openblas-pthread \
            $rt "$src/tests/fuzz/fuzz_loaders.c" -lopenblas -lpng16 -lz -lpthread -lm -o "$exe.tmp"
    fi
    if [ $? -ne 0 ]; then
        echo "run.sh: error: building the fuzzer failed" >&2
        exit 1
    fi
    mv "$exe.tmp" "$exe" || exit 1
fi
[ $mode = build ] && exit 0

# Seeds: every program the project ships, plus the hand-written ones beside this script; for a
# loader, the files of tests/fuzz/seeds_rt/TARGET (a data loader's start with the byte that picks
# the model, see fuzz_loaders.c).
seeds=$work/seeds
rm -rf "$seeds"
mkdir -p "$seeds" || exit 2
if [ $target = frontend ] || [ $target = pipeline ]; then
    seedfiles="$src/tests/lang/*.nn $src/examples/*.nn $src/examples/course/*.nn $src/stdlib/*.nn $src/tests/fuzz/seeds/*"
    extra="-dict=$src/tests/fuzz/nn.dict"
else
    seedfiles="$src/tests/fuzz/seeds_rt/$target/*"
    extra="-close_fd_mask=2"    # the loaders' messages: libFuzzer keeps its output and the reports
fi
# shellcheck disable=SC2086
for f in $seedfiles; do
    [ -f "$f" ] || continue
    rel=${f#"$src"/}
    cp "$f" "$seeds/$(echo "$rel" | tr / _)"
done

export NNC_STDLIB="$src/stdlib"
# Sanitizer reports must end the run with a failure, and ASan must not hide leaks.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

if [ $mode = replay ]; then
    # Saved reproducers join the seeds, except those listed in crashes/OPEN (one file name a
    # line): crashes reported but not fixed yet, said out loud here rather than failing every run.
    for f in "$crashes"/*; do
        [ -f "$f" ] || continue
        name=${f##*/}
        [ "$name" = OPEN ] && continue
        if [ -f "$crashes/OPEN" ] && grep -qxF "$name" "$crashes/OPEN"; then
            echo "run.sh: skipped: $name is listed in $crashes/OPEN (not fixed yet)"
            continue
        fi
        cp "$f" "$seeds/crash_$name"
    done
    # Replay allows 30 s an input (fuzzing keeps 10): the unroll-budget seeds take ~4 s under ASan
    # on a quiet machine and up to 14 s on a loaded one; a hang still fails.
    # shellcheck disable=SC2086
    "$exe" -runs=0 -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 $extra \
        -artifact_prefix="$work/artifacts/" "$seeds"
    rc=$?
else
    # shellcheck disable=SC2086
    "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 $extra \
        -artifact_prefix="$work/artifacts/" "$work/corpus" "$seeds"
    rc=$?
fi
if [ $rc -ne 0 ]; then
    echo "run.sh: FAIL: the fuzzer stopped with status $rc; reproducers in $work/artifacts/:"
    ls -l "$work/artifacts/"
    exit 1
fi
echo "run.sh: ok: no crash"
exit 0
