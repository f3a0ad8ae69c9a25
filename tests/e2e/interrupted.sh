#!/bin/bash
# interrupted.sh - a compiled model (examples/fashion_mlp.nn: Adam with a cosine schedule) killed
# for real during `train --epochs 3 --save` and resumed with the same --epochs ends with the weights
# of the run that was never interrupted (docs/cli.md, Checkpoints and resume); the killed save
# left no temporary behind once the resumed run has saved; and the data a compiled model is given
# is checked as the runtime promises (NaN in an NPY input refused at load, naming file and sample).
. "$(dirname "$0")/lib.sh"
PY=${NNC_PYTHON:-/usr/bin/python3}
compile fashion_mlp
flags=(--limit 2000 --epochs 3 --seed 4 --threads 1)
./fashion_mlp train "${flags[@]}" --save straight.st > straight.log 2>&1 || { cat straight.log; fail "straight run"; }

# kill -9 as soon as the first checkpoint is there (during epoch 2 or 3); retry if the run won
# the race and finished
killed=0
for try in 1 2 3; do
    rm -f k.st
    ./fashion_mlp train "${flags[@]}" --save k.st > k.log 2>&1 &
    pid=$!
    for _ in $(seq 1 3000); do [ -e k.st ] && break; sleep 0.01; done
    kill -9 $pid 2> /dev/null
    wait $pid
    rc=$?
    if [ $rc = 137 ] && ! grep -q '^epoch 3/3' k.log; then killed=1; break; fi
done
[ $killed = 1 ] || fail "could not interrupt the run in 3 tries"
cat k.log
./fashion_mlp train "${flags[@]}" --resume k.st --save k.st > r.log 2>&1 || { cat r.log; fail "resume"; }
cat r.log
head -1 r.log | grep -q "; resuming 'k.st' after epoch [12] (step [0-9]*); schedules continue over its planned 3 epochs" ||
    fail "train's first line does not say how it resumes: $(head -1 r.log)"
cmp straight.st k.st || fail "killed + resumed weights differ from the uninterrupted run's"
echo "ok: killed during $(grep -c '^epoch' k.log) finished epoch(s) of 3, resumed: identical weights"
ls k.st.tmp.* 2> /dev/null && fail "a temporary was left: $(ls k.st.tmp.*)"

# a NaN in an NPY input is refused when the data is loaded
"$PY" -c "
import numpy as np
x = np.zeros((10, 28, 28), np.float32); x[6, 3, 3] = np.nan
np.save('x.npy', x); np.save('y.npy', np.zeros(10, np.int64))
" || fail "python"
expect_fail "NaN in NPY" "'x.npy': sample 6 \(counting from 0\) holds nan, which is not a finite f32 value" \
    ./fashion_mlp train --data x.npy,y.npy --epochs 1

# predict -o replaces its own earlier predictions, a header of 784 columns included, and nothing else
compile fashion_autoencoder
./fashion_autoencoder train --limit 100 --epochs 1 --save a.st > t.log 2>&1 || { cat t.log; fail "autoencoder train"; }
"$PY" -c "
import numpy as np
np.save('x5.npy', np.random.default_rng(0).uniform(0, 1, (5, 28, 28)).astype(np.float32))
" || fail "python"
./fashion_autoencoder predict --weights a.st x5.npy -o p.csv 2> err.log || { cat err.log; fail "predict -o p.csv"; }
[ "$(head -1 p.csv | tr ',' '\n' | wc -l)" -ge 784 ] || fail "p.csv's header has fewer than 784 columns"
./fashion_autoencoder predict --weights a.st x5.npy -o p.csv 2> err.log || { cat err.log; fail "predict -o over its own predictions"; }
echo "ok: predict -o replaced its own 784-column predictions"
expect_fail "predict -o over the weights" "cannot write predictions to 'a.st': the file exists and is not a predictions file" \
    ./fashion_autoencoder predict --weights a.st x5.npy -o a.st
