#!/bin/bash
# reach.sh NAME METRIC OP BOUND [TRAIN FLAGS...] [-- EVAL FLAGS...]
# Trains examples/NAME.nn (seed 1), evaluates the saved weights, and checks the eval report's
# METRIC against BOUND (the result examples/README.md states for the example).
. "$(dirname "$0")/lib.sh"
name=$1 what=$2 op=$3 bound=$4
shift 4
train=() evalf=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do train+=("$1"); shift; done
[ $# -gt 0 ] && shift
evalf=("$@")
compile "$name"
./"$name" train --seed 1 --save w.safetensors "${train[@]}" > train.log 2>&1 ||
    { cat train.log; fail "$name train exited with $?"; }
tail -n 3 train.log
./"$name" eval --weights w.safetensors "${evalf[@]}" > eval.log 2>&1 ||
    { cat eval.log; fail "$name eval exited with $?"; }
cat eval.log | head -n 5
check "$(metric eval.log "$what")" "$op" "$bound" "$name $what"
