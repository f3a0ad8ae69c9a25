#!/bin/bash
# dist.sh NNC SRC_DIR WORK_DIR - data-parallel training with `mpirun -np 2` (docs/distributed.md):
# the ranks stay bit-identical (--check-sync 1: parameters and state, batch-norm statistics
# included), and a parameter mismatch is caught; 2 ranks with
# global batch B train as 1 rank with batch B does (losses and weights within float tolerance), in
# compiled code and in the interpreter; a checkpoint of a 2-rank run resumes on 1 and on 2 ranks;
# a killed or stopped rank ends the run with a message, and the last checkpoint stays loadable;
# batch-norm running statistics: each rank normalises with its own share's statistics, and the
# new running mean and variance are averaged over the ranks, so the state stays identical

# bad setups (no MPI library, a batch the processes do not divide) fail with a message (below).
. "$(dirname "$0")/../e2e/lib.sh"
command -v mpirun > /dev/null || { echo "SKIP: mpirun not found (Debian: apt install openmpi-bin libopenmpi-dev)"; exit 77; }
PY=${NNC_PYTHON:-/usr/bin/python3}
MPI=(timeout 120 mpirun -np 2 --oversubscribe --allow-run-as-root)   # a hang fails, not stalls
export OMPI_MCA_rmaps_base_oversubscribe=1


# same_losses A.log B.log: the epoch lines' losses agree to the printed digits (6 decimals) within 2e-6
same_losses() {
    epoch_losses "$1" > l1 && epoch_losses "$2" > l2
    [ -s l1 ] && [ "$(wc -l < l1)" = "$(wc -l < l2)" ] || fail "epoch lines of $1 and $2"
    paste l1 l2 | awk '{ d = $1 - $2; if (d < 0) d = -d; if (d > 2e-6) { print "loss " $1 " vs " $2; bad = 1 } }
                       END { exit bad }' || fail "losses of $1 and $2 differ"
    echo "ok: losses of $1 = $2 ($(tr '\n' ' ' < l1))"
}

# batch-norm: the running statistics are averaged over the ranks, so --check-sync 1 holds
cat > bn_mlp.nn <<'NNEOF'
use nn
model bn_mlp {
  input  image: f32[B, 28, 28]
  target label: i32[B]
  h      = dense(flatten(image), 32)
  n      = batchnorm(h, momentum = 0.2)
  logits = dense(relu(n), 10)
  loss   cross_entropy(logits, label)
  train { data fashion_mnist  optimizer sgd(lr = 0.1)  batch 32  epochs 2  metrics accuracy }
}
NNEOF
"$NNC" bn_mlp.nn -o bn_mlp || fail "nnc bn_mlp.nn"
"${MPI[@]}" ./bn_mlp train --seed 3 --limit 320 --threads 1 --check-sync 1 --save bn.st > bn.log 2>&1 ||
    { cat bn.log; fail "batch-norm model on 2 ranks lost its sync"; }
tail -n 2 bn.log
echo "ok: batch-norm statistics stay in sync on 2 ranks"

compile iris
# 96 samples, global batch 16: 6 equal steps an epoch, no partial batch
T=(train --threads 1 --limit 96 --batch 16 --seed 5)

./iris "${T[@]}" --epochs 4 --save one.st > one.log 2>&1 || { cat one.log; fail "1-rank train"; }
"${MPI[@]}" ./iris "${T[@]}" --epochs 4 --save two.st --check-sync 1 > two.log 2> two.err ||
    { cat two.log two.err; fail "2-rank train"; }
cat two.log
grep -q "data-parallel over 2 processes" two.log || fail "the 2-rank run does not say it is data-parallel"
grep -q "^allreduce: 24 steps" two.log || fail "rank 0 made no allreduce a step"
[ "$(grep -c '^epoch 4/4' two.log)" = 1 ] || fail "rank 1 printed too (want rank 0 alone)"
same_losses one.log two.log
close one.st two.st 1e-5

# --check-sync catches ranks that diverged: one process given another learning rate
timeout 120 mpirun --oversubscribe --allow-run-as-root -np 1 ./iris "${T[@]}" --epochs 1 --check-sync 2 --lr 0.01 : -np 1 ./iris "${T[@]}" --epochs 1 \
    --check-sync 2 --lr 0.02 > sync.log 2> sync.err && { cat sync.err; fail "diverged ranks were not caught"; }
grep -q "the parameters or state differ between processes after step 2" sync.err || { cat sync.err; fail "check-sync message"; }
echo "ok: --check-sync caught diverged ranks"

# resume: rank 0's checkpoint after 2 epochs, continued to 4 on 1 and on 2 ranks
"${MPI[@]}" ./iris "${T[@]}" --epochs 2 --save half.st > half.log 2>&1 || { cat half.log; fail "2-rank 2 epochs"; }
cp half.st half1.st
./iris "${T[@]}" --epochs 4 --resume half1.st --save res1.st > res1.log 2>&1 || { cat res1.log; fail "resume on 1 rank"; }
cp half.st half2.st
"${MPI[@]}" ./iris "${T[@]}" --epochs 4 --resume half2.st --save res2.st --check-sync 1 > res2.log 2>&1 ||
    { cat res2.log; fail "resume on 2 ranks"; }
grep -q "resuming 'half2.st' after epoch 2" res2.log || fail "2-rank resume message"
close res1.st one.st 1e-5
close res2.st one.st 1e-5

# the interpreter (nnc run) reduces across ranks too
"${MPI[@]}" "$NNC" run "$EX/iris.nn" -- "${T[@]}" --epochs 2 > interp2.log 2>&1 || { cat interp2.log; fail "nnc run on 2 ranks"; }
./iris "${T[@]}" --epochs 2 > one2.log 2>&1
same_losses one2.log interp2.log

# bad setups
expect_fail "2 ranks, batch 15" "batch size 15 \(--batch\) does not divide by the 2 processes" \
    "${MPI[@]}" ./iris "${T[@]}" --batch 15 --epochs 1
NNC_MPI_LIB=/nonexistent/libmpi.so expect_fail "--distributed mpi without an MPI library" \
    "error: --distributed mpi asks for MPI, but no MPI library could be loaded" ./iris "${T[@]}" --distributed mpi --epochs 1
./iris "${T[@]}" --distributed bogus --epochs 1 2> bogus.err
[ $? = 2 ] && grep -q "distributed expects mpi or none" bogus.err || fail "--distributed bogus: a usage error"

# a rank killed mid-training: mpirun ends the others; a stopped rank: the watchdog (--dist-timeout)
compile fashion_mlp
F=(train --threads 1 --limit 1024 --epochs 1000 --seed 1)
rank_pid() {    # rank_pid RUN R: the pid of rank R among the processes mpirun (under timeout RUN) started
    local m p
    for m in $(pgrep -P "$1"); do
        for p in $(pgrep -P "$m"); do
            [ "$(tr '\0' '\n' < /proc/$p/environ 2>/dev/null | sed -n 's/^OMPI_COMM_WORLD_RANK=//p')" = "$2" ] && echo "$p"
        done
    done
}
for how in KILL STOP; do
    rm -f ck.st
    extra=()
    [ $how = STOP ] && extra=(--dist-timeout 3)
    "${MPI[@]}" ./fashion_mlp "${F[@]}" --save ck.st "${extra[@]}" > kill.log 2> kill.err &
    run=$!
    for _ in $(seq 1 600); do [ -f ck.st ] && break; sleep 0.1; done
    [ -f ck.st ] || { kill $run; fail "no checkpoint written"; }
    sleep 0.5
    victim=$(rank_pid $run 1) other=$(rank_pid $run 0)
    [ -n "$victim" ] && [ -n "$other" ] || { kill $run; fail "ranks not found"; }
    kill -$how "$victim" || { kill $run; fail "kill -$how $victim"; }
    t0=$(date +%s)
    wait $run
    rc=$?
    dt=$(( $(date +%s) - t0 ))
    cat kill.err | head -n 12
    [ $rc -ne 0 ] || fail "$how rank 1: mpirun exited 0"
    [ $rc -ne 124 ] || fail "$how rank 1: the run did not end within 120 s"
    [ $dt -le 60 ] || fail "$how rank 1: the run took $dt s to end"
    if [ $how = KILL ]; then
        grep -q "exited on signal 9" kill.err || fail "no message about the killed rank"
    else
        grep -q "no answer from the other processes for 3 s" kill.err || fail "no watchdog message"
    fi
    kill -KILL "$victim" 2> /dev/null   # a stopped rank mpirun could not end (ours: never left behind)
    for _ in $(seq 1 100); do kill -0 "$other" 2> /dev/null || break; sleep 0.1; done
    kill -0 "$other" 2> /dev/null && fail "$how: rank 0 still running 10 s after the run ended"
    ./fashion_mlp eval --weights ck.st --limit 200 > ckeval.log 2>&1 || { cat ckeval.log; fail "$how: the last checkpoint does not load"; }
    echo "ok: $how rank 1: exit $rc after $dt s, checkpoint loads ($(metric ckeval.log accuracy) accuracy)"
done
echo "PASS"
