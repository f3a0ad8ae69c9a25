#!/bin/bash
# The course programs of examples/course/ (examples/course/README.md): each compiles, and trains
# a few steps with a finite loss; the small ones, trained in full (well under a second each),
# reach the README's results. The Fashion-MNIST ones train on --limit samples only.
. "$(dirname "$0")/lib.sh"
C=$EX/course

# train NAME FLAGS...: compile examples/course/NAME.nn, train it with FLAGS, the log in NAME.log;
# every epoch line's losses must be finite numbers
train() {
    local name=$1
    shift
    "$NNC" "$C/$name.nn" -o "$name" || fail "nnc course/$name.nn exited with $?"
    ./"$name" train --threads 2 "$@" > "$name.log" 2> "$name.err" || { cat "$name.err"; fail "$name train exited with $?"; }
    grep -q '^epoch ' "$name.log" || fail "$name printed no epoch line"
    grep '^epoch ' "$name.log" | grep -Eiq ' (-?nan|-?inf)' && fail "$name: a loss is not finite: $(tail -n 1 "$name.log")"
    echo "ok: $name trained: $(tail -n 1 "$name.log")"
}

# last NAME FIELD: the value after FIELD on the last epoch line of NAME.log
last() {
    grep '^epoch ' "$1.log" | tail -n 1 | sed -n "s/.* $2 \([-0-9.eE+]*\).*/\1/p"
}
# eval_vs_interp NAME WEIGHTS: the executable's eval loss on 300 samples equals the interpreter's
# (nnc run) within 1e-4, relative
eval_vs_interp() {
    local name=$1 w=$2
    ./"$name" eval --weights "$w" --limit 300 > "$name.exe.txt" 2> /dev/null || fail "$name eval"
    "$NNC" run "$C/$name.nn" -- eval --weights "$w" --limit 300 > "$name.int.txt" 2> /dev/null || fail "nnc run $name eval"
    local a b
    a=$(metric "$name.exe.txt" loss) b=$(metric "$name.int.txt" loss)
    awk -v a="$a" -v b="$b" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a > 0 && d <= 1e-4 * a) }' ||
        fail "$name: eval loss $a in the executable, $b in the interpreter"
    echo "ok: $name: eval loss $a, the interpreter's $b"
}
# init_std FILE WHAT GAIN NAME:FAN_IN...: the spread of each named tensor of a safetensors file
# (saved before any step) is GAIN / sqrt(FAN_IN) within 15% (He's sqrt(2), Kaiming's tanh 5/3)
init_std() {
    local f=$1 what=$2 gain=$3
    shift 3
    "$NNC_PYTHON" - "$f" "$what" "$gain" "$@" <<'PY' || fail "$what: the initial weights' spread is not $gain / sqrt(fan_in)"
import json, struct, sys
import numpy as np
f, what, gain = sys.argv[1], sys.argv[2], float(sys.argv[3])
d = open(f, "rb").read()
n = struct.unpack("<Q", d[:8])[0]
h = json.loads(d[8:8 + n])
w = {k: np.frombuffer(d[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]], np.float32)
     for k, v in h.items() if k != "__metadata__"}
for spec in sys.argv[4:]:
    name, fan_in = spec.rsplit(":", 1)
    want = gain / np.sqrt(int(fan_in))
    assert abs(w[name].std() / want - 1) < 0.15, (name, w[name].std(), want)
    print("ok: %s: %s std %.4f, %.4f / sqrt(%s) = %.4f" % (what, name, w[name].std(), gain, fan_in, want))
PY
}

train perceptron
check "$(last perceptron accuracy)" ge 1.0 "perceptron training accuracy"
train linear_regression
check "$(last linear_regression mae)" lt 0.1 "linear_regression MAE"
train logistic_regression
check "$(last logistic_regression accuracy)" ge 0.99 "logistic_regression training accuracy"
train xor_mlp
check "$(last xor_mlp accuracy)" ge 1.0 "xor_mlp training accuracy"
train siamese
check "$(last siamese accuracy)" ge 0.95 "siamese training accuracy"
train multi_output
check "$(last multi_output mae)" lt 0.05 "multi_output MAE"
train builtins_attention
check "$(last builtins_attention accuracy)" ge 0.85 "builtins_attention training accuracy"
./builtins_attention train --threads 2 --epochs 40 --save ba.st > /dev/null || fail "builtins_attention train --save"
./builtins_attention predict --weights ba.st "$EX/data/iris_test.csv" -o pred.csv 2> /dev/null || fail "builtins_attention predict"
head -n 1 pred.csv | grep -q "species" || fail "predict wrote no species column: $(head -n 1 pred.csv)"
echo "ok: builtins_attention predicts the argmax output"

train basic_regression
check "$(last basic_regression val_mae)" lt 15 "basic_regression validation MAE (the noise's is 8)"
# stats (Keras' Normalization.adapt): the constants the program standardises with, from the data
./basic_regression stats > br_stats.txt 2> /dev/null || fail "basic_regression stats exited with $?"
"$NNC_PYTHON" - "$C/data/houses.csv" <<'PY' || fail "basic_regression stats: not the data's mean and std: $(cat br_stats.txt)"
import sys
import numpy as np
d = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)[:, :4]
lines = {l.split("=")[0].strip(): l.split("=")[1] for l in open("br_stats.txt") if "=" in l}
mu, sigma = (np.array(eval(lines[k])) for k in ("mu", "sigma"))
assert np.allclose(mu, d.mean(0), rtol=1e-5) and np.allclose(sigma, d.std(0), rtol=1e-5), (mu, sigma)
print("ok: basic_regression stats: mu %s sigma %s (numpy's mean and std)" % (mu, sigma))
PY
train wide_deep
check "$(last wide_deep mae)" lt 11 "wide_deep MAE"
# huber: full-batch SGD from w = b = 0; torch.nn.HuberLoss with torch.optim.SGD reaches 1.045857
train huber
check "$(last huber loss)" gt 1.0458 "huber loss (PyTorch: 1.045857)"
check "$(last huber loss)" lt 1.0459 "huber loss (PyTorch: 1.045857)"
train lr_schedule
check "$(last lr_schedule mae)" lt 0.12 "lr_schedule MAE"
train onehot_classification
check "$(last onehot_classification val_accuracy)" ge 0.9 "onehot_classification validation accuracy"
train class_weights
check "$(last class_weights recall)" ge 0.9 "class_weights recall of the rare class"
./class_weights train --threads 2 --save cw.st > /dev/null || fail "class_weights train --save"
./class_weights eval --weights cw.st > cw.eval || fail "class_weights eval"
[ "$(grep -c '^recall:' cw.eval)" = 1 ] && grep -q '^macro_recall:' cw.eval ||
    fail "eval prints the metric fn 'recall' and the macro average apart: $(cat cw.eval)"
echo "ok: class_weights eval: recall $(metric cw.eval recall), macro_recall $(metric cw.eval macro_recall)"
train bag_of_words
check "$(last bag_of_words val_accuracy)" ge 0.95 "bag_of_words validation accuracy"
train activations
for l in relu leaky elu softplus gelu gelu_t silu selu tanh sigmoid prelu he_relu rbf; do
    check "$(last activations $l)" lt 0.3 "activations: $l head's loss"
done

# the second batch (data/make_data2.py's sets): each trained in full
train sine_lstm
check "$(last sine_lstm val_mae)" lt 0.03 "sine_lstm validation MAE (the noise's is 0.016)"
train conv1d_signals
check "$(last conv1d_signals val_accuracy)" ge 0.85 "conv1d_signals validation accuracy"
train sentiment_gru
check "$(last sentiment_gru val_accuracy)" ge 0.95 "sentiment_gru validation accuracy (a bag of words: 0.5)"
train keras_sequential
check "$(last keras_sequential val_accuracy)" ge 0.72 "keras_sequential validation accuracy"
grep -q ' penalty [0-9]' keras_sequential.log || fail "keras_sequential reports no penalty: $(tail -n 1 keras_sequential.log)"
train svm_hinge
check "$(last svm_hinge accuracy)" ge 0.99 "svm_hinge training accuracy"
train multi_input
check "$(last multi_input val_mae)" lt 13 "multi_input validation MAE (the noise's is 8)"
# the third batch (data/make_data3.py's sets, and the features they show: the recurrent layers'
# mask, the initializers by name, global_clipnorm)
train padded_lstm --epochs 2
check "$(grep '^epoch 1/' padded_lstm.log | sed -n 's/.* val_accuracy \([0-9.]*\).*/\1/p')" ge 0.95 \
    "padded_lstm validation accuracy after one epoch (the mask skips the padding; without it 0.75)"
train matrix_factorization
check "$(last matrix_factorization val_mae)" lt 0.3 "matrix_factorization validation MAE (the mean rating's: 0.58, the noise's: 0.2)"
train skipgram --save sg.st
check "$(last skipgram val_accuracy)" ge 0.8 "skipgram validation accuracy (about 0.83 is the most: a quarter of the negatives share the topic)"
"$NNC_PYTHON" - <<'PY' || fail "skipgram: the centre vectors do not cluster by topic"
import json, struct
import numpy as np
b = open("sg.st", "rb").read()
n = struct.unpack("<Q", b[:8])[0]
v = json.loads(b[8:8 + n])["centre.table"]
s, e = v["data_offsets"]
E = np.frombuffer(b[8 + n + s:8 + n + e], "<f4").reshape(v["shape"])[1:]
E = E / np.linalg.norm(E, axis=1, keepdims=True)
S, t = E @ E.T, np.arange(40) // 10
same, diff = (t[:, None] == t[None, :]) & ~np.eye(40, dtype=bool), t[:, None] != t[None, :]
near = t[np.argsort(-S, axis=1)[:, 1]] == t
print("ok: skipgram: cosine within a topic %.2f, across %.2f, nearest word in the topic %.0f%%"
      % (S[same].mean(), S[diff].mean(), 100 * near.mean()))
assert S[same].mean() > 0.8 and S[diff].mean() < 0.5 and near.all()
PY
# weight decay (d2l 3.7 prints ||w|| 13.x for lambd = 0 and 0.36 for lambd = 3)
train weight_decay --save wd.st
check "$(last weight_decay val_decayed_loss)" lt 0.5 "weight_decay test loss with lambd = 3"
check "$(last weight_decay val_plain_loss)" gt 20 "weight_decay test loss without decay (overfits)"
"$NNC_PYTHON" - <<'PY' || fail "weight_decay: the weight norms are not d2l's"
import json, struct
import numpy as np
b = open("wd.st", "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n])
norm = {}
for k in ("plain.w", "decayed.w"):
    s, e = h[k]["data_offsets"]
    norm[k] = float(np.linalg.norm(np.frombuffer(b[8 + n + s:8 + n + e], "<f4")))
print("ok: weight_decay: ||w|| %.2f without decay, %.2f with lambd = 3 (d2l: 13.x, 0.36)" % (norm["plain.w"], norm["decayed.w"]))
assert 9 < norm["plain.w"] < 18 and norm["decayed.w"] < 0.5
PY
# initializers: zeros stays at chance, he_normal learns; the init statistics from a one-step checkpoint
train initializers --limit 6400 --epochs 1
check "$(last initializers zeros_ce)" gt 2.30 "initializers: the all-zeros network stays at chance (log 10 = 2.303)"
check "$(last initializers zeros_ce)" lt 2.31 "initializers: the all-zeros network stays at chance (log 10 = 2.303)"
check "$(last initializers he_ce)" lt 1.8 "initializers: the he_normal network learns"
./initializers train --threads 2 --limit 64 --batch 64 --epochs 1 --save ini.st > /dev/null 2>&1 || fail "initializers --save"
"$NNC_PYTHON" - <<'PY' || fail "initializers: the initial weights have the wrong spread"
import json, struct
import numpy as np
b = open("ini.st", "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n])
def get(k):
    s, e = h[k]["data_offsets"]
    return np.frombuffer(b[8 + n + s:8 + n + e], "<f4")
sd = {k: float(get(k).std()) for k in ("he.h_2.W", "small.h_2.W", "zero.h_2.W", "he.h.W")}
print("ok: initializers: std of he.h_2.W %.3f (sqrt(2/64) = 0.177), small.h_2.W %.3f (0.05), zero.h_2.W %g, he.h.W %.4f (sqrt(2/784) = 0.0505)"
      % (sd["he.h_2.W"], sd["small.h_2.W"], sd["zero.h_2.W"], sd["he.h.W"]))
assert abs(sd["he.h_2.W"] - 0.177) < 0.012 and abs(sd["small.h_2.W"] - 0.05) < 0.004
assert sd["zero.h_2.W"] == 0 and abs(sd["he.h.W"] - 0.0505) < 0.002
PY
# d2l's RNN at lr 1: global_clipnorm keeps it stable (without it the loss is above 10)
train rnn_scratch_clip --limit 2000 --epochs 2
check "$(last rnn_scratch_clip loss)" lt 3.2 "rnn_scratch_clip loss after 2 epochs of 2000 windows (unclipped: above 10)"

# polynomial regression: the weights of x^i / i! against the truth (5, 1.2, -3.4, 5.6) and the
# least-squares fit of the same training data (numpy)
train polynomial_regression --save poly.st
check "$(last polynomial_regression val_loss)" lt 0.02 "polynomial_regression test MSE (the noise's: 0.01)"
"$NNC_PYTHON" - "$C/data/poly_train.csv" <<'PY' || fail "polynomial_regression: the weights differ from least squares"
import json, struct, sys
import numpy as np
b = open("poly.st", "rb").read()
n = struct.unpack("<Q", b[:8])[0]
v = json.loads(b[8:8 + n])["y_hat.dense.W"]
s, e = v["data_offsets"]
w = np.frombuffer(b[8 + n + s:8 + n + e], "<f4").ravel()
d = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)
F = np.stack([d[:, 0] ** i / [1, 1, 2, 6][i] for i in range(4)], 1)
ls = np.linalg.lstsq(F, d[:, 1], rcond=None)[0]
print("ok: polynomial_regression: weights %s, least squares %s, truth [5, 1.2, -3.4, 5.6]" % (np.round(w, 3), np.round(ls, 3)))
assert np.max(np.abs(w - ls)) < 0.05
PY

# the tied autoencoder has no decoder kernel of its own: enc.W, enc.b and b_out only
[ "$("$NNC" --emit types "$C/tied_autoencoder.nn" | grep -c ': param ')" = 3 ] ||
    fail "tied_autoencoder: parameters $("$NNC" --emit types "$C/tied_autoencoder.nn" | grep ': param ')"

# the interpreter trains the shared-instance, batched-@ and masked-LSTM programs to the same losses
for name in siamese builtins_attention bag_of_words padded_lstm; do
    a=$(./"$name" train --threads 1 --epochs 3 | grep '^epoch' | awk '{print $4}')
    b=$("$NNC" run "$C/$name.nn" -- train --threads 1 --epochs 3 | grep '^epoch' | awk '{print $4}')
    [ -n "$a" ] && [ "$a" = "$b" ] || fail "$name: executable losses '$a', interpreter '$b'"
    echo "ok: $name: executable and interpreter agree ($(echo $a))"
done

# the fourth batch (data/make_data4.py's sets; the features it added: `--fold I/K`, the attention
# blocks' padding mask, use_bias = false on depthwise_conv2d)
train seq2seq_addition --epochs 8 --save s2s.st
check "$(last seq2seq_addition val_char_accuracy)" ge 0.7 "seq2seq_addition validation character accuracy after 8 epochs"
# predicting new questions from an NPY file: one [4, 12] distribution per question, -o OUT.npy
"$NNC_PYTHON" -c '
import numpy as np
ids = lambda s: [0 if c == " " else 11 if c == "+" else 1 + int(c) for c in s]
np.save("new_q.npy", np.array([ids("12+34  "), ids("999+1  "), ids("5+5    ")], dtype=np.int32))' ||
    fail "writing new_q.npy"
./seq2seq_addition predict --weights s2s.st new_q.npy -o new_a.npy 2> /dev/null || fail "seq2seq_addition predict"
"$NNC_PYTHON" -c '
import numpy as np
p = np.load("new_a.npy")
assert p.shape == (3, 4, 12) and np.allclose(p.sum(-1), 1, atol=1e-5), (p.shape, p.sum(-1))
print("ok: seq2seq_addition predicts [3, 4, 12] answer distributions for new questions from an NPY file")' ||
    fail "seq2seq_addition: predictions are not 3 x 4 distributions over 12 characters"
train bilstm_classifier
check "$(last bilstm_classifier val_accuracy)" ge 0.95 "bilstm_classifier validation accuracy"
train transformer_classifier
check "$(last transformer_classifier val_accuracy)" ge 0.95 "transformer_classifier validation accuracy (word order from position embeddings)"
train energy_regression --save er.st
check "$(last energy_regression val_mae)" lt 0.7 "energy_regression validation MAE over both loads (the noise's: 0.4)"
./energy_regression predict --weights er.st "$C/data/new_buildings.csv" > er.csv 2> /dev/null || fail "energy_regression predict"
[ "$(head -n 1 er.csv)" = "load_0,load_1" ] && [ "$(grep -c '^[0-9]' er.csv)" = 5 ] ||
    fail "energy_regression: predict wrote $(cat er.csv)"
echo "ok: energy_regression predicts both loads of the 5 new buildings"
train custom_focal
check "$(last custom_focal val_accuracy)" ge 0.93 "custom_focal validation accuracy"
check "$(last custom_focal val_recall)" ge 0.7 "custom_focal validation recall of the rare class"
# early stopping: stops well before 300 epochs; the best epoch's weights evaluate better than the last's
train early_stopping --early-stop 10 --save-best es_best.st --save es_last.st
grep -q 'stopped early after epoch' early_stopping.log || fail "early_stopping did not stop early: $(tail -n 1 early_stopping.log)"
./early_stopping eval --weights es_best.st --limit 1000 > es_best.txt 2> /dev/null || fail "early_stopping eval best"
[ "$(grep -c '^epoch ' early_stopping.log)" -lt 100 ] || fail "early_stopping ran $(grep -c '^epoch ' early_stopping.log) epochs"
echo "ok: early_stopping: $(tail -n 1 early_stopping.log | cut -c1-120)"
# k-fold: four runs, each validating on its own quarter
for i in 1 2 3 4; do
    train kfold_housing --fold $i/4
    grep -q "validating on part $i of 4" kfold_housing.err kfold_housing.log || fail "kfold_housing --fold $i/4: no fold line"
    check "$(last kfold_housing val_mae)" lt 20 "kfold_housing fold $i of 4: validation MAE"
done
# the K parts are disjoint and cover the data: one sample per part, labels 1, 2, 4, 8, nothing
# trained (--lr 0, zero weights), so each part's val_mae is its one label
cat > fold.nn <<'NN'
use nn
model fold {
  input  x: f32[B, 1]
  target y: f32[B]
  param w: f32[1] = zeros
  output p = x[:, 0] * w
  loss   mse(p, y)
  train { data csv("fold.csv", label = "y")  optimizer sgd  batch 4  epochs 1  metrics mae }
}
NN
printf 'x,y\n1,1\n1,2\n1,4\n1,8\n' > fold.csv
"$NNC" fold.nn -o fold || fail "nnc fold.nn"
got=$(for i in 1 2 3 4; do ./fold train --fold $i/4 --lr 0 2> /dev/null | sed -n 's/.* val_mae \([0-9.]*\).*/\1/p'; done | sort -n | tr '\n' ' ')
[ "$got" = "1 2 4 8 " ] || fail "--fold I/4 held out '$got', want each of 1 2 4 8 once"
echo "ok: --fold 1/4 .. 4/4 validate on disjoint parts covering the data: $got"
# tying: the decoder has no kernel of its own (emb.table, the LSTM's four, out_b)
[ "$("$NNC" --emit types "$C/tied_lm.nn" | grep -c ': param ')" = 6 ] ||
    fail "tied_lm: parameters $("$NNC" --emit types "$C/tied_lm.nn" | grep ': param ')"
train tied_lm --limit 256 --epochs 1
# MobileNet's separable blocks: no bias in front of a batchnorm (depthwise_conv2d(use_bias = false))
# (the classifier's logits.b is the model's one bias)
[ "$("$NNC" --emit types "$C/mobilenet.nn" | grep ': param ' | grep -c '\.b f32')" = 1 ] ||
    fail "mobilenet: biases $("$NNC" --emit types "$C/mobilenet.nn" | grep ': param .*\.b f32')"
echo "ok: mobilenet: the convolutions have no bias"
# the learning-rate range test: the loss falls as the rate grows, is lowest at a rate of about
# 0.05, then diverges (the history's lr is the rate of each epoch's last step)
train lr_finder --limit 1280 --epochs 40 --history lf.csv
"$NNC_PYTHON" - <<'PY' || fail "lr_finder: the loss against the rate is not a range test's curve"
import csv
rows = list(csv.DictReader(open("lf.csv")))
loss, lr = [float(r["loss"]) for r in rows], [float(r["lr"]) for r in rows]
best = min(range(len(rows)), key=lambda i: loss[i])
print("ok: lr_finder: loss %.3f at lr %.2g (first %.3f at %.2g, last %.3f at %.2g)" % (loss[best], lr[best], loss[0], lr[0], loss[-1], lr[-1]))
assert lr[0] < 1e-4 and abs(lr[-1] - 10) < 1e-3 and all(a < b for a, b in zip(lr, lr[1:]))  # 1e-5 .. 10, growing
assert 0.01 < lr[best] < 0.3 and loss[best] < 0.7 and loss[-1] > 2 * loss[best]
PY
train alexnet_small --limit 256 --epochs 1
train resnet_bottleneck --limit 128 --epochs 1
train densenet --limit 256 --epochs 1
train mobilenet --limit 256 --epochs 1
train unet --limit 128 --epochs 1

# Fashion-MNIST: a few steps each (the README gives the full runs' results)
train deep_mlp --limit 1024 --epochs 1
train denoising_autoencoder --limit 1024 --epochs 1
train vae --limit 1024 --epochs 1
train gan --limit 512 --epochs 1
train rnn --limit 512 --epochs 1
train cnn --limit 256 --epochs 1
train basic_classification --limit 2048 --epochs 1
train softmax_regression --limit 4096 --epochs 1
train pytorch_quickstart --limit 1024 --epochs 1
train overfitting --limit 512 --epochs 1
grep -q ' penalty [0-9]' overfitting.log || fail "overfitting reports no penalty: $(tail -n 1 overfitting.log)"
train augmentation --limit 1024 --epochs 1
check "$(last augmentation val_accuracy)" ge 0.45 "augmentation validation accuracy after 1024 samples"
train lenet --limit 512 --epochs 1
train nin --limit 256 --epochs 1
train vgg_blocks --limit 256 --epochs 1
train batchnorm_mlp --limit 4096 --epochs 1
check "$(last batchnorm_mlp accuracy)" ge 0.6 "batchnorm_mlp training accuracy after 4096 samples"
train tied_autoencoder --limit 8192 --epochs 2
# predicting every image as the mean image has MSE 0.087
check "$(last tied_autoencoder loss)" lt 0.055 "tied_autoencoder reconstruction MSE (the mean image: 0.087)"
train label_smoothing --limit 4096 --epochs 1
check "$(last label_smoothing val_accuracy)" ge 0.6 "label_smoothing validation accuracy after 4096 samples"
train dropout_scratch --limit 2048 --epochs 1 --save ds.st
# the hand-written dropout is off outside training: two evaluations give the same loss
./dropout_scratch eval --weights ds.st --limit 500 > ds1.txt 2>/dev/null && ./dropout_scratch eval --weights ds.st --limit 500 > ds2.txt 2>/dev/null ||
    fail "dropout_scratch eval"
[ -n "$(metric ds1.txt loss)" ] && [ "$(metric ds1.txt loss)" = "$(metric ds2.txt loss)" ] ||
    fail "dropout_scratch: eval is not deterministic ($(metric ds1.txt loss), $(metric ds2.txt loss)): dropout ran outside training"
echo "ok: dropout_scratch: eval loss $(metric ds1.txt loss) twice"

# the fifth batch
train text_cnn
check "$(last text_cnn val_accuracy)" ge 0.95 "text_cnn validation accuracy (the word order matters)"
train stacked_lstm
check "$(last stacked_lstm val_mae)" lt 0.03 "stacked_lstm validation MAE (the noise's is 0.016)"
train bigram_lm --epochs 1
check "$(last bigram_lm val_loss)" lt 2.6 "bigram_lm validation loss after one epoch"
train gpt_head --limit 20000 --epochs 1
# an optimizer of one's own: d2l's Adam from scratch is the library's adam to float rounding
train adam_scratch --limit 2048 --epochs 1 --seed 3
sed 's/optimizer my_adam(lr = 1e-3)/optimizer adam(lr = 1e-3)/' "$C/adam_scratch.nn" > lib_adam.nn
"$NNC" lib_adam.nn -o lib_adam || fail "nnc lib_adam.nn"
./lib_adam train --threads 2 --limit 2048 --epochs 1 --seed 3 > lib_adam.log 2> /dev/null || fail "lib_adam train"
a=$(last adam_scratch val_loss) b=$(last lib_adam val_loss)
awk -v a="$a" -v b="$b" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a > 0 && d <= 1e-4 * a) }' ||
    fail "adam_scratch: val_loss $a, the library's adam $b"
echo "ok: adam_scratch: val_loss $a, the library's adam $b"
# He initialisation from the fan-in, normal(0, sqrt(2.0 / K)): the weights' spread before any step
train deep_l_layer --limit 2000 --epochs 1 --lr 0 --save dl0.st
init_std dl0.st deep_l_layer 1.4142135623730951 A.W:784 A_2.W:20
train deep_l_layer --limit 2000 --epochs 300
check "$(last deep_l_layer binary_accuracy)" ge 0.9 "deep_l_layer training accuracy (footwear or not) after 300 steps"
train cs231n_two_layer --limit 4096 --epochs 1
grep -q ' reg_loss [0-9]' cs231n_two_layer.log || fail "cs231n_two_layer reports no reg_loss: $(tail -n 1 cs231n_two_layer.log)"
train mlp_scratch --limit 4096 --epochs 1
train distillation --limit 1024 --epochs 1
train inception_block --limit 256 --epochs 1
train pytorch_mnist --limit 256 --epochs 1
# a hand-written batch norm (gamma * x_hat + beta before a pool): the executable's evaluation
# equals the interpreter's (it gave chance-level accuracy when the pool read gamma's shape)
train batchnorm_scratch --limit 1024 --epochs 1 --save bns.st
eval_vs_interp batchnorm_scratch bns.st
# the sixth batch
train makemore_mlp
check "$(last makemore_mlp val_loss)" lt 1.7 "makemore_mlp validation loss"
# Kaiming's normal(0, (5/3) / sqrt(K)) in a layer of one's own, with K a dim formal
train makemore_bn --epochs 1 --lr 0 --save mm0.st
init_std mm0.st makemore_bn 1.6666666666666667 h.linear.W:30 h_2.linear.W:100
train makemore_bn
check "$(last makemore_bn val_loss)" lt 1.7 "makemore_bn validation loss"
train seq2seq_attention
check "$(last seq2seq_attention val_token_accuracy)" ge 0.95 "seq2seq_attention validation token accuracy (reversal)"
train transformer_seq2seq --epochs 4
check "$(last transformer_seq2seq val_token_accuracy)" ge 0.95 "transformer_seq2seq validation token accuracy (reversal)"
train style_transfer
a=$(grep '^epoch 1/' style_transfer.log | sed -n 's/.* style_loss \([-0-9.eE+]*\).*/\1/p') b=$(last style_transfer style_loss)
awk -v a="$a" -v b="$b" 'BEGIN { exit !(b < a / 10) }' || fail "style_transfer: style loss $a -> $b, not a tenth"
echo "ok: style_transfer: style loss $a -> $b"
train triplet
check "$(last triplet val_hard)" lt 0.05 "triplet: share of validation triplets in the wrong order"
train bigru_classifier --epochs 3
check "$(last bigru_classifier val_accuracy)" ge 0.95 "bigru_classifier validation accuracy"
train fastai_basics
check "$(last fastai_basics val_batch_accuracy)" ge 0.97 "fastai_basics validation accuracy (footwear or not)"
train one_cycle --limit 6000 --epochs 2
check "$(last one_cycle val_accuracy)" ge 0.7 "one_cycle validation accuracy"
# transfer learning: the base of pretrain_base, frozen, under a new head for a new task
train pretrain_base --limit 6000 --epochs 1 --save base.st
"$NNC" "$C/finetune_frozen.nn" -o finetune_frozen || fail "nnc finetune_frozen.nn"
./finetune_frozen train --threads 2 --init-from base.st --limit 6000 --save ft.st > finetune_frozen.log 2> /dev/null ||
    fail "finetune_frozen train --init-from base.st"
grep -q "unused: *head.W, head.b" finetune_frozen.log || fail "finetune_frozen: the old head is not reported unused"
check "$(last finetune_frozen footwear_accuracy)" ge 0.85 "finetune_frozen accuracy (footwear or not) with a frozen base"
"$NNC_PYTHON" - <<'PY' || fail "finetune_frozen: the frozen base changed"
import json, struct
import numpy as np
def load(f):
    d = open(f, "rb").read()
    n = struct.unpack("<Q", d[:8])[0]
    h = json.loads(d[8:8 + n])
    return {k: d[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]] for k, v in h.items() if k != "__metadata__"}
a, b = load("base.st"), load("ft.st")
for k in ["c1.W", "c1.b", "c2.W", "c2.b"]:
    assert a[k] == b[k], k
print("ok: finetune_frozen: c1 and c2 bit-identical to the pretrained base")
PY
train simclr --limit 2560
check "$(last simclr top1)" ge 0.2 "simclr: share of views whose positive ranks first (chance 1/128)"
train vit --limit 3000 --epochs 1
check "$(last vit val_accuracy)" ge 0.6 "vit validation accuracy after 2700 samples"
# the conditional GAN: predict reads the labels (the generator's condition) beside the images
train cgan --limit 640 --epochs 1 --save cgan.st
grep -q accuracy cgan.log && fail "cgan reports an accuracy: $(tail -n 1 cgan.log)"
"$NNC_PYTHON" -c "
import numpy as np
np.save('cg_x.npy', np.zeros((3, 28, 28), np.float32)); np.save('cg_y.npy', np.array([1, 1, 7], np.int32))"
./cgan predict --weights cgan.st cg_x.npy 2> cg.err > /dev/null && fail "cgan predict without the labels succeeded"
grep -q "target 'label'" cg.err || fail "cgan predict without labels: $(cat cg.err)"
./cgan predict --weights cgan.st cg_x.npy,cg_y.npy > cg.csv 2> /dev/null || fail "cgan predict with labels"
head -n 1 cg.csv | grep -q class && fail "cgan predict writes a class column"
[ "$(sed -n 3p cg.csv)" != "$(sed -n 4p cg.csv)" ] || fail "cgan: labels 1 and 7 drew the same image"
./cgan predict --weights cgan.st cg_x.npy,cg_y.npy -o cg.png > /dev/null 2>&1 || fail "cgan predict -o cg.png with labels"
./cgan sample --weights cgan.st -o cgs.png --n 4 > /dev/null 2> cgs.err || fail "cgan sample"
grep -q "target 'label' conditions the outputs" cgs.err || fail "cgan sample does not say the label is 0: $(cat cgs.err)"
echo "ok: cgan predicts per label"
train conv_vae --limit 2000 --epochs 1 --save vae.st
./conv_vae sample --weights vae.st -o vae.png --n 16 > /dev/null 2>&1 || fail "conv_vae sample"
train xception_mini --limit 1000 --epochs 1 --save xc.st
eval_vs_interp xception_mini xc.st
train conv_autoencoder --limit 512
train nanogpt --limit 1000
train timeseries_anomaly --epochs 10
check "$(last timeseries_anomaly val_loss)" lt 0.05 "timeseries_anomaly validation reconstruction MSE"
# seq2seq_lstm: the encoder's final (h, c) from lstm_state starts the decoder, an lstm_state
# instance run one step at a time [fn.results]; the executable's evaluation equals the interpreter's
train seq2seq_lstm --save s2l.st
check "$(last seq2seq_lstm val_token_accuracy)" ge 0.9 "seq2seq_lstm validation token accuracy (reversal)"
eval_vs_interp seq2seq_lstm s2l.st

# the seventh batch
# mixup: rand_perm + gather over the batch mixes images and one-hot labels in training only, so the
# training loss (on blended targets) stays far above the validation loss (plain images and labels)
train mixup --limit 6000 --epochs 2
check "$(last mixup val_accuracy)" ge 0.75 "mixup validation accuracy"
a=$(last mixup loss) b=$(last mixup val_loss)
awk -v a="$a" -v b="$b" 'BEGIN { exit !(a > b + 0.2) }' || fail "mixup: training loss $a not above validation loss $b: no mixing?"
echo "ok: mixup: training loss $a on blended targets, validation loss $b"
# pixel classification with a small U-Net: a class per pixel, per-pixel cross-entropy; 80% of the
# pixels are background and a net that cannot tell the square from the disc stays near 90%
train segmentation --epochs 3
check "$(last segmentation val_pixel_accuracy)" ge 0.95 "segmentation validation pixel accuracy"
check "$(last segmentation val_shape_iou)" ge 0.85 "segmentation validation IoU of the shapes"
# an autoencoder on normal table rows (a CSV without a label column): its reconstruction error
# ranks the anomalous test rows above the normal ones (ROC AUC), and the tutorial's threshold
# (mean + std of the training rows' errors) finds them
train tabular_anomaly --epochs 30 --save ta.st
./tabular_anomaly predict --weights ta.st "$C/data/tabular_test.csv" -o ta_test.csv > /dev/null 2>&1 || fail "tabular_anomaly predict test"
./tabular_anomaly predict --weights ta.st "$C/data/tabular_normal.csv" -o ta_train.csv > /dev/null 2>&1 || fail "tabular_anomaly predict train"
"$NNC_PYTHON" - "$C/data/tabular_test_anomaly.csv" <<'PY' || fail "tabular_anomaly: the scores do not find the anomalies"
import sys
import numpy as np
s = np.loadtxt("ta_test.csv", delimiter=",", skiprows=1)
a = np.loadtxt(sys.argv[1], skiprows=1)
tr = np.loadtxt("ta_train.csv", delimiter=",", skiprows=1)
auc = (s[a == 1][:, None] > s[a == 0][None, :]).mean()
flag = s > tr.mean() + tr.std()
print("ok: tabular_anomaly: ROC AUC %.4f, recall %.3f, false positives %.3f" % (auc, flag[a == 1].mean(), flag[a == 0].mean()))
assert auc > 0.97 and flag[a == 1].mean() > 0.9 and flag[a == 0].mean() < 0.15
PY
# Andrew Ng's planar flower: 10000 full-batch steps; with --save, checkpoints and history are not
# written 10000 times (each save is fsync'ed: that took minutes), but the last ones hold epoch 10000
if command -v strace > /dev/null; then
    "$NNC" "$C/planar_flower.nn" -o planar_flower || fail "nnc planar_flower.nn"
    strace -f -o pf.trace -e trace=rename,renameat,renameat2 ./planar_flower train --threads 2 --save pf.st > planar_flower.log 2>&1 ||
        fail "planar_flower train under strace"
    n=$(grep -c 'pf\.st"' pf.trace)
    [ "$n" -lt 2000 ] || fail "planar_flower: $n checkpoint renames for 10000 epochs"
    echo "ok: planar_flower: $n checkpoint renames for 10000 epochs"
else
    train planar_flower --save pf.st
fi
check "$(last planar_flower binary_accuracy)" ge 0.88 "planar_flower accuracy (the course: about 90%)"
"$NNC_PYTHON" - <<'PY' || fail "planar_flower: the checkpoint or the history is not the last epoch's"
import json, struct
d = open("pf.st", "rb").read()
n = struct.unpack("<Q", d[:8])[0]
assert json.loads(d[8:8 + n])["__metadata__"]["epoch"] == "10000"
rows = open("pf.st.history.csv").read().split("\n")
assert rows[-2].startswith("10000,") and len(rows) == 10002, (rows[-2], len(rows))
print("ok: planar_flower: the checkpoint holds epoch 10000, the history 10000 rows")
PY
# WGAN with weight clipping: an optimizer of one's own (RMSprop, then clip to [-0.01, 0.01]) keeps
# every critic weight inside the box, and many at its edge; the generator's are free
train wgan_clip --limit 2000 --epochs 1 --save wg.st
"$NNC_PYTHON" - <<'PY' || fail "wgan_clip: the critic's weights are not clipped"
import json, struct
import numpy as np
d = open("wg.st", "rb").read()
n = struct.unpack("<Q", d[:8])[0]
h = json.loads(d[8:8 + n])
w = {k: np.frombuffer(d[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]], np.float32)
     for k, v in h.items() if k != "__metadata__" and ".rmsprop" not in k}
critic = np.concatenate([v for k, v in w.items() if k.startswith("f.")])
gen = np.concatenate([v for k, v in w.items() if k.startswith("fake.")])
assert np.abs(critic).max() <= np.float32(0.01), np.abs(critic).max()
assert (np.abs(critic) >= np.float32(0.01)).mean() > 0.05
assert np.abs(gen).max() > 0.05, np.abs(gen).max()
print("ok: wgan_clip: critic weights within +-0.01 (%.0f%% at the edge), generator's up to %.3f"
      % (100 * (np.abs(critic) >= np.float32(0.01)).mean(), np.abs(gen).max()))
PY
check "$(last wgan_clip critic_loss)" lt 0 "wgan_clip critic loss (minus the Wasserstein estimate)"
# DDPM's objective: a random step per sample gathered from a compile-time [T, 1] schedule table
train ddpm --limit 3000 --epochs 3
a=$(grep '^epoch 1/' ddpm.log | sed -n 's/.* loss \([-0-9.eE+]*\).*/\1/p') b=$(last ddpm loss)
awk -v a="$a" -v b="$b" 'BEGIN { exit !(a < 1.05 && b < 0.9 * a) }' || fail "ddpm: noise-prediction loss $a -> $b"
echo "ok: ddpm: noise-prediction loss $a -> $b"
# a mixture density network on Bishop's inverse problem: at x = 0.5 three branches of y
train mdn --save mdn.st
check "$(last mdn val_nll)" lt -0.7 "mdn validation negative log-likelihood"
printf 'x,y\n0.5,0\n' > mdn_x.csv
./mdn predict --weights mdn.st mdn_x.csv > mdn_p.csv 2> /dev/null || fail "mdn predict"
"$NNC_PYTHON" - <<'PY' || fail "mdn: the mixture at x = 0.5 does not have three branches"
import numpy as np
v = np.loadtxt("mdn_p.csv", delimiter=",", skiprows=1)
w, mu = v[0:5], v[5:10]
big = mu[w > 0.1]
assert len(big) >= 3 and big.max() - big.min() > 0.4, (w, mu)
print("ok: mdn: at x = 0.5 the components of weight > 0.1 have means %s" % np.round(np.sort(big), 3))
PY
# group normalization written out (reshape to groups, mean over two axes): trains, and the
# executable's evaluation equals the interpreter's
train group_norm --limit 3000 --epochs 1 --save gn.st
check "$(last group_norm val_accuracy)" ge 0.3 "group_norm validation accuracy after 2700 samples"
eval_vs_interp group_norm gn.st
# a TCN of dilated causal convolutions (conv1d(padding = "causal")) forecasting the sine windows
train tcn
check "$(last tcn val_mae)" lt 0.03 "tcn validation MAE (the noise's: 0.016)"
# two targets of different kinds from three NPY files: priority (MSE) and department (cross-entropy)
train multi_task
check "$(last multi_task val_mae)" lt 0.05 "multi_task validation priority MAE (the noise's: 0.024)"
check "$(last multi_task val_department_error)" lt 0.2 "multi_task validation department error (chance: 0.75)"
# Andrew Ng's trigger word detection: conv1d, GRUs, a sigmoid per step, f32[B, 50] labels, a metric
# fn; `metrics accuracy` there (Keras' metrics=["accuracy"]) compared each row's argmax as one-hot
# classes and printed 0.32 for a detector 99.9% right: such targets are now refused, naming the fn
train trigger_word --epochs 5
check "$(last trigger_word val_step_accuracy)" ge 0.97 "trigger_word validation accuracy per step (all zeros: 0.885)"
sed 's/metrics step_accuracy/metrics accuracy/' "$C/trigger_word.nn" > tw_acc.nn
"$NNC" tw_acc.nn -o tw_acc || fail "nnc tw_acc.nn"
./tw_acc train --epochs 1 --data "$C/data/trigger_x.npy,$C/data/trigger_y.npy" > tw_acc.log 2> tw_acc.err && fail "trigger_word with metrics accuracy trained"
grep -q "sample 0's row sums to 6, not 1: for several 0/1 labels per sample .* fn binary_accuracy" tw_acc.err ||
    fail "trigger_word with metrics accuracy: $(cat tw_acc.err)"
echo "ok: metrics accuracy on per-step labels is refused: $(head -c 120 tw_acc.err)"
echo "ok: every course program trains"
