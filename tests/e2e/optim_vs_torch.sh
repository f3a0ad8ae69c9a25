#!/bin/bash
# optim_vs_torch.sh: the optim pass applies stdlib/optim.nn's optimizers as torch.optim does. A
# 4-3-2 network with literal initial weights (the same in optim_torch.py) trains full-batch (batch = the 8 samples, so
# shuffling changes nothing) for 4 steps with each optimizer, a schedule and an L2 penalty; the
# saved weights must equal PyTorch's (optim_torch.py) to 1e-5.
. "$(dirname "$0")/lib.sh"
HERE=$SRC/tests/e2e
printf 'a,b,c,d,y\n' > data.csv
printf '0.1,0.9,-0.3,0.5,1\n0.8,-0.2,0.4,0.1,0\n-0.5,0.3,0.9,-0.7,1\n0.2,0.2,-0.8,0.6,0\n' >> data.csv
printf '0.9,0.7,0.1,-0.2,1\n-0.3,-0.6,0.5,0.8,0\n0.4,-0.9,-0.1,0.3,1\n-0.7,0.5,0.6,-0.4,0\n' >> data.csv
# run OPTIMIZER CALL_ARGS KWARGS_JSON SCHEDULE L2
run() {
    local opt=$1 args=$2 kw=$3 sched=$4 l2=$5
    cat > m.nn <<NN
use nn
model m {
  input  x: f32[B, 4]
  target y: i32[B]
  param W1: f32[4, 3] = [[0.5, -0.3, 0.2], [-0.4, 0.6, 0.1], [0.3, 0.2, -0.5], [0.1, -0.2, 0.4]]
  param b1: f32[3]    = [0.05, -0.05, 0.1]
  param W2: f32[3, 2] = [[0.7, -0.6], [-0.5, 0.4], [0.3, 0.8]]
  param b2: f32[2]    = [0.0, 0.1]
  logits = relu(x @ W1 + b1) @ W2 + b2
  output probs = softmax(logits)
  loss   cross_entropy(logits, y)
  train {
    data      csv("data.csv", label = "y")
    optimizer $opt($args, schedule = $sched, l2 = $l2)
    batch 8  epochs 4
  }
}
NN
    "$NNC" m.nn -o m || fail "nnc m.nn ($opt) exited with $?"
    ./m train --seed 1 --save w.safetensors > train.log 2>&1 ||
        { cat train.log; fail "m train ($opt) exited with $?"; }
    "$NNC_PYTHON" "$HERE/optim_torch.py" w.safetensors data.csv 4 "$opt" "$kw" "$sched" "$l2" ||
        fail "$opt with $sched and l2 = $l2 differs from torch.optim"
}
run sgd "lr = 0.5" '{"lr": 0.5}' constant 0.0
run sgd "lr = 0.5" '{"lr": 0.5}' cosine 0.01
run momentum "lr = 0.2, beta = 0.8" '{"lr": 0.2, "beta": 0.8}' cosine 0.0
run nesterov "lr = 0.2" '{"lr": 0.2}' step_decay 0.01
run rmsprop "lr = 0.05, rho = 0.95" '{"lr": 0.05, "rho": 0.95}' constant 0.0
run adam "lr = 0.1" '{"lr": 0.1}' cosine 0.01
run adamw "lr = 0.1, weight_decay = 0.1" '{"lr": 0.1, "weight_decay": 0.1}' constant 0.0
