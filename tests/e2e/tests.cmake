# tests/e2e/tests.cmake - end-to-end tests: the examples compile, train to the results
# examples/README.md states, match the reference interpreter, and bad inputs fail cleanly.
# Each test is a script run as: SCRIPT NNC SRC_DIR WORK_DIR [ARGS...] (see lib.sh).
# e2e.fashion_full (labels e2e;slow: release builds only) is the full 10-epoch Fashion-MNIST run.
set(E2E ${CMAKE_CURRENT_LIST_DIR})
set(E2E_WORK ${CMAKE_BINARY_DIR}/e2e-work)

# A sanitizer build's runtime library is sanitized: C programs linked with it need the flags, and
# everything runs several times slower (compile_all's per-example time bound).
if(NNC_SANITIZE)
  set(E2E_ENV "E2E_CFLAGS=-fsanitize=address,undefined;E2E_COMPILE_LIMIT=60")
else()
  set(E2E_ENV "E2E_CFLAGS=;E2E_COMPILE_LIMIT=10")
endif()

function(nnc_e2e name script)
  add_test(NAME e2e.${name}
           COMMAND bash ${E2E}/${script} $<TARGET_FILE:nnc> ${CMAKE_SOURCE_DIR} ${E2E_WORK}/${name} ${ARGN})
  set_tests_properties(e2e.${name} PROPERTIES LABELS e2e TIMEOUT 300
                       ENVIRONMENT "NNC_PYTHON=${NNC_PYTHON};NNC_STDLIB=${CMAKE_SOURCE_DIR}/stdlib;${E2E_ENV}")
endfunction()

nnc_e2e(compile_all compile_all.sh)
nnc_e2e(xor_predict xor_predict.sh)
nnc_e2e(batch_one batch_one.sh)
nnc_e2e(gather_ahead gather_ahead.sh)

# reach NAME METRIC OP BOUND [train flags] [-- eval flags]: the README's target results
nnc_e2e(xor_train reach.sh xor_train accuracy ge 1.0)
nnc_e2e(linear_regression reach.sh linear_regression mae lt 15)
nnc_e2e(logistic logistic.sh)
nnc_e2e(iris reach.sh iris accuracy ge 0.95 -- --data "csv(\"${CMAKE_SOURCE_DIR}/examples/data/iris_test.csv\", label = \"species\")")
nnc_e2e(autoencoder reach.sh autoencoder accuracy ge 1.0)
nnc_e2e(fashion_mlp_limit reach.sh fashion_mlp accuracy gt 0.75 --limit 6000 --epochs 2)
# its loss is the reconstruction MSE (README: below 0.02 after 5 full epochs; 0.020 here)
nnc_e2e(fashion_autoencoder_limit reach.sh fashion_autoencoder loss lt 0.03 --limit 12000 --epochs 3 -- --limit 2000)

# convolution: a tiny CNN of every stdlib conv layer trains, equal to the interpreter
nnc_e2e(conv conv.sh)
# generic residual and inception blocks (conv2d chained into batchnorm and conv2d, a compile-time
# `if` shortcut), each used at two sizes: their parameters, training, equal to the interpreter
nnc_e2e(conv_blocks conv_blocks.sh)
# convolution epilogues: bias + activation and inference batchnorm run by the conv call, equal to
# the interpreter with each implementation
nnc_e2e(conv_epilogue conv_epilogue.sh)

# the convolutional examples (fashion_cnn, tf_cnn, resnet_small, inception_small, conv_autoencoder, keras128)
# train a few steps on --limit samples to a falling loss / above-chance accuracy. Labelled slow
# (release builds only: 26 s there, 96 s under ASan); e2e.conv, e2e.pool_model and
# e2e.batchnorm_mlp run the same primitives under the sanitizers.
nnc_e2e(cnn_examples cnn_examples.sh)
set_tests_properties(e2e.cnn_examples PROPERTIES LABELS "e2e;slow")

# the executable's training equals the interpreter's, for every trainable example
foreach(ex xor_train linear_regression logistic iris autoencoder fashion_mlp fashion_autoencoder)
  nnc_e2e(interp_vs_exe.${ex} interp_vs_exe.sh ${ex})
endforeach()

nnc_e2e(bad_inputs bad_inputs.sh)

# language features: naming, steps/over/frozen, states, schedules, penalties, builtins
nnc_e2e(features.multi features.sh multi)
nnc_e2e(features.builtins features.sh builtins)
nnc_e2e(features.forms features.sh forms)

# nnc -c: object + header with a symbol prefix; two models embedded in one C program
nnc_e2e(c_embed c_embed.sh $<TARGET_FILE:nnc_rt>)

# lowering names every parameter as the checker (and the spec) does
nnc_e2e(names_agree names_agree.sh)

# an installed nnc finds its stdlib and runtime relative to itself
nnc_e2e(install install.sh ${CMAKE_BINARY_DIR})

# what each --emit kind writes, default names, --dump-after, unwritable outputs
nnc_e2e(outputs outputs.sh)

# the optim pass + stdlib optimizers, schedules and l2 equal torch.optim step for step
nnc_e2e(optim_vs_torch optim_vs_torch.sh)

# the full run examples/README.md states: 10 epochs on all 60000 images, >= 88% test accuracy.
# Labelled slow: tests/run runs it in the release build only (a minute there; far more under ASan).
if(NOT NNC_SANITIZE)
  nnc_e2e(fashion_full fashion_full.sh)
  set_tests_properties(e2e.fashion_full PROPERTIES LABELS "e2e;slow" TIMEOUT 1200)
endif()

# limits and overflowing compile-time ints: `nnc check` and compilation reject them alike (limits/)
nnc_e2e(limits limits.sh)

# the driver never overwrites its input, reports stdout errors, rejects ignored options, gives
# outputs the usual mode, notes which of several models it builds; per-step optimizer state
nnc_e2e(cli_safety cli_safety.sh)
# --time: every stage once, in order, and the total; NNC_LLVM_PASSES replaces the passes or is refused
nnc_e2e(time_report time_report.sh)
# an executable in two code-generation parts: same bytes each build, the one-part build's loss
nnc_e2e(codegen_parts codegen_parts.sh)

# issue 8: a compiled model killed during training and resumed gives the uninterrupted weights
# (cosine schedule included); NaN data refused at load
nnc_e2e(interrupted interrupted.sh)

# a GAN whose discriminator is one layer instance: one copy in the weights file; step d leaves the
# generator (parameters and batch-norm statistics) bit-identical
nnc_e2e(gan_shared gan_shared.sh)
# several results of a layer [fn.results]: a two-result encoder and LSTM cell train as the same
# model written with concat and slices, and as the interpreter
nnc_e2e(results results.sh)
# B in a fn's or layer's formals binds like any dim variable (a row of one, 2*B rows): the build
# agrees with the checker, and predictions equal numpy's and the interpreter's
nnc_e2e(batch_formal batch_formal.sh)
nnc_e2e(batchnorm_mlp batchnorm_mlp.sh)
nnc_e2e(loss_sum loss_sum.sh)
nnc_e2e(scope_module scope_module.sh)

# the benchmark's harness (bench/bench.py --smoke: tiny sizes, one repetition): nnc, PyTorch, the
# sgemm and predict programs all build, run and print positive numbers; no speed is asserted
add_test(NAME e2e.bench_smoke
         COMMAND ${NNC_PYTHON} ${CMAKE_SOURCE_DIR}/bench/bench.py --smoke --nnc $<TARGET_FILE:nnc>
                 --work ${E2E_WORK}/bench_smoke)
if(NNC_SANITIZE)
  set(BENCH_ENV "BENCH_CFLAGS=-fsanitize=address,undefined")
else()
  set(BENCH_ENV "BENCH_CFLAGS=")
endif()
set_tests_properties(e2e.bench_smoke PROPERTIES LABELS e2e TIMEOUT 300
                     ENVIRONMENT "NNC_STDLIB=${CMAKE_SOURCE_DIR}/stdlib;${BENCH_ENV}")
# the breadth suite (bench/breadth.py --smoke): each of its nine course networks (logreg, deep_bn,
# resnet, conv_ae, up_ae, gru, vae, lenet, dcgan) compiles, and trains two batches both in nnc and in its
# PyTorch twin, each printing a positive samples/s (the harness exits 1 otherwise); no speed asserted
add_test(NAME e2e.bench_breadth_smoke
         COMMAND ${NNC_PYTHON} ${CMAKE_SOURCE_DIR}/bench/breadth.py --smoke --nnc $<TARGET_FILE:nnc>
                 --work ${E2E_WORK}/bench_breadth_smoke)
# release build only ("slow"): under ASan it adds 47 s for compiles e2e.compile_all already checks there
set_tests_properties(e2e.bench_breadth_smoke PROPERTIES LABELS "e2e;slow" TIMEOUT 600
                     ENVIRONMENT "NNC_STDLIB=${CMAKE_SOURCE_DIR}/stdlib")

# examples/course/: every course program compiles and trains (the small ones to their README
# results, the Fashion-MNIST ones a few steps); about 60 s on an idle machine, 72 programs: 289 s
# at load 13 (mostly compiling), so a longer limit than the default. Release build only ("slow"):
# under ASan it takes several minutes for paths the other e2e tests already run there
nnc_e2e(course course.sh)
set_tests_properties(e2e.course PROPERTIES LABELS "e2e;slow" TIMEOUT 900)
# hostile inputs for the executables: NaN/inf/empty CSV fields, bad NPY headers, empty IDX, BOM-only
# and binary text, a non-UTF-8 prompt, absurd flags, truncated checkpoints, and a seeded mutation
# fuzz of weights, CSV, NPY and text files (exit 0, 1 or 2 with a message, never a signal)
nnc_e2e(hostile hostile.sh)
# autodiff of the newer builtins against torch.autograd (one model, one SGD step; about 5 s)
nnc_e2e(grad_vs_torch grad_vs_torch.sh)
# attention (issue 10): multi-head and scaled dot-product attention against PyTorch's
nnc_e2e(attention_vs_torch attention_vs_torch.sh)
# the same at 70 positions: causal attention's masked triangle skipped (compiler/passes/causal.c)
nnc_e2e(attention_causal attention_causal.sh)
# a decoder-only transformer learns a sequence task an n-gram cannot; executable = interpreter
nnc_e2e(transformer_seq transformer_seq.sh)
# dropout inside encoder_block / decoder_block / multi_head_attention: training only (issue 10)
nnc_e2e(transformer_dropout transformer_dropout.sh)
# examples/brackets.nn: an encoder with padding masks classifies bracket words (README: 99.8%)
nnc_e2e(brackets reach.sh brackets accuracy ge 0.95 --epochs 8 --threads 1 --
        --data "${CMAKE_SOURCE_DIR}/examples/data/brackets_test_x.npy,${CMAKE_SOURCE_DIR}/examples/data/brackets_test_y.npy")
# stdlib's recurrent layers against nn.RNN / nn.LSTM / nn.GRU: outputs and gradients (about 30 s)
nnc_e2e(rnn_vs_torch rnn_vs_torch.sh)
# the same at 20 steps for five cases: the recurrent products use packed weights (about 15 s)
nnc_e2e(rnn_vs_torch_long rnn_vs_torch_long.sh)
# packed weights (runtime/packed_gemm.c) against unpacked ones, 1 and 2 threads, several steps
nnc_e2e(packed_gemm packed_gemm.sh)
# NNC_GEMM_TRACE (runtime/bmm.c): one tiny_transformer step's products, calls and routes
nnc_e2e(gemm_trace gemm_trace.sh)
# attention's products on views of the heads (compiler/passes/gemm_view.c), one with an epilogue, vs the interpreter
nnc_e2e(gemm_view gemm_view.sh)
# the sequence examples: brackets_lstm learns balanced brackets (>= 90% test accuracy; about 10 s)
nnc_e2e(seq_examples seq_examples.sh)
# a model of the pooling and resampling builtins trains, the executable equal to the interpreter
nnc_e2e(pool_model pool_model.sh)
# a target the outputs are computed from (a conditional GAN's label): predict reads it, no classifier
nnc_e2e(conditional_predict conditional_predict.sh)
# classes made from the labels (transfer onto a new task) are no classifier of the labels; a new head under --init-from
nnc_e2e(derived_labels derived_labels.sh)
# their values against torch's pools and F.interpolate (interpreter and executable; ties in max)
nnc_e2e(pool_values pool_values.sh)

# issue 7's train-block extras against numpy: one-hot accuracy, fn metrics, validation source,
# NPY u8 scaled as IDX u8, several CSV label columns
foreach(case onehot r2 valdata npy_u8 multi_label)
  nnc_e2e(extras.${case} extras.sh ${case})
endforeach()

# [train.data.text] text data, its vocabulary in the weights file, `generate`, hostile texts and
# prompts; sequence classification from CSV/NPY token ids; the fortunes-es default corpus
nnc_e2e(text text.sh)
nnc_e2e(text_rnn text_rnn.sh)
# around training: history CSV, lr of schedules, SVG plot, early stopping, --json, progress line
nnc_e2e(around around.sh)
# the plot rendered by headless chromium (skipped where chromium is not installed)
nnc_e2e(around_render around_render.sh)
set_tests_properties(e2e.around_render PROPERTIES SKIP_RETURN_CODE 77)
# eval's per-class report by class name, eval/predict --json
nnc_e2e(around_eval around_eval.sh)
# seeing the model: summary's layer table, --emit dot read by Graphviz, nnc graph
nnc_e2e(around_graph around_graph.sh)
set_tests_properties(e2e.around_graph PROPERTIES SKIP_RETURN_CODE 77)
# issue 12's leftovers: --help names --version, summary's regularisers, the confusion matrix by
# class name, early stopping's watch kept across --resume
nnc_e2e(around2 around2.sh)
# generative models and transfer learning (issue 11): PNG pictures (predict -o FILE.png, sample),
# train --init-from / --map with a frozen part bit-identical, the generative examples' short runs
nnc_e2e(transfer transfer.sh)
nnc_e2e(png png.sh)
nnc_e2e(generative generative.sh)
# docs/stdlib.md is what scripts/stdlib_doc.py makes of stdlib/ (regenerate: scripts/stdlib_doc.py > docs/stdlib.md)
add_test(NAME e2e.stdlib_doc COMMAND ${NNC_PYTHON} ${CMAKE_SOURCE_DIR}/scripts/stdlib_doc.py --check
         ${CMAKE_SOURCE_DIR}/stdlib ${CMAKE_SOURCE_DIR}/docs/stdlib.md)
set_tests_properties(e2e.stdlib_doc PROPERTIES LABELS e2e)
# three short trainings of conv models: over 20 s on the loaded machine (about a minute), so slow
set_tests_properties(e2e.generative PROPERTIES LABELS "e2e;slow")
nnc_e2e(style style.sh)
# Shipping (release builds only: they check linking and packaging, not memory safety)
if(NOT NNC_SANITIZE)
  # --portable: runs under env -i elsewhere, OpenBLAS and zlib static, x86-64-v3 code
  nnc_e2e(portable portable.sh)
  # cpack -G DEB: the package's files and Depends, unpacked with dpkg -x, its nnc builds a model
  nnc_e2e(deb deb.sh ${CMAKE_BINARY_DIR})
  # cpack builds the project before packaging: alone, so that a stale build never relinks nnc under
  # the tests running beside it
  set_tests_properties(e2e.deb PROPERTIES SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
endif()
