# tests/kernel/tests.cmake - the kernel IR, fuse and plan (label kernel).
#   kernel.verify   the verifier on a fused+planned module and on copies broken rule by rule
#   kernel.emit     nnc --emit kernels / --emit plan of xor_train.nn (FileCheck)
#   kernel.emit_pool  the pooling kernels and their fused prologue (pool.nn, FileCheck)
#   kernel.rows     nnc --emit kernels of iris.nn: softmax and cross-entropy are row kernels (FileCheck)
#   kernel.view     nnc --emit kernels of view.nn: a chain split by a reshape is one loop (FileCheck)
#   kernel.lstm     nnc --emit kernels of lstm.nn: windows and store-fusion in a time loop (FileCheck)
#   kernel.golden   every example's kernel counts, in-place updates and planned bytes vs a golden file
#   kernel.golden_course  the same for examples/course/*.nn (tests/kernel/course.golden)
#   kernel.opt_levels.NAME  the example (or tests/kernel/view.nn) trained at -O0..-O3 equals the
#                   interpreter
add_executable(test_kernel ${CMAKE_SOURCE_DIR}/tests/kernel/test_kernel.c)
target_link_libraries(test_kernel PRIVATE nnc_ir)
add_test(NAME kernel.verify COMMAND test_kernel)
add_test(NAME kernel.golden COMMAND sh ${CMAKE_SOURCE_DIR}/tests/kernel/golden.sh $<TARGET_FILE:nnc>
         ${CMAKE_SOURCE_DIR}/examples ${CMAKE_SOURCE_DIR}/tests/kernel/examples.golden)
# the course programs (examples/course/) pinned the same way, in a golden file of their own
add_test(NAME kernel.golden_course COMMAND sh ${CMAKE_SOURCE_DIR}/tests/kernel/golden.sh $<TARGET_FILE:nnc>
         ${CMAKE_SOURCE_DIR}/examples/course ${CMAKE_SOURCE_DIR}/tests/kernel/course.golden)
set_tests_properties(kernel.verify kernel.golden kernel.golden_course PROPERTIES LABELS kernel TIMEOUT 60)
find_program(NNC_KERNEL_FILECHECK NAMES FileCheck FileCheck-14 PATHS /usr/lib/llvm-14/bin)
if(NNC_KERNEL_FILECHECK)
  set(_kc ${CMAKE_SOURCE_DIR}/tests/kernel/xor.check)
  add_test(NAME kernel.emit COMMAND sh -c
    "\"$1\" --emit kernels \"$2\" | \"$3\" \"$4\" && \"$1\" --emit plan \"$2\" | \"$3\" --check-prefix=PLAN \"$4\""
    sh $<TARGET_FILE:nnc> ${CMAKE_SOURCE_DIR}/examples/xor_train.nn ${NNC_KERNEL_FILECHECK} ${_kc})
  add_test(NAME kernel.emit_pool COMMAND sh -c "\"$1\" --emit kernels \"$2\" | \"$3\" \"$4\""
    sh $<TARGET_FILE:nnc> ${CMAKE_SOURCE_DIR}/tests/kernel/pool.nn ${NNC_KERNEL_FILECHECK}
    ${CMAKE_SOURCE_DIR}/tests/kernel/pool.check)
  set_tests_properties(kernel.emit kernel.emit_pool PROPERTIES LABELS kernel TIMEOUT 60
                       ENVIRONMENT "NNC_STDLIB=${CMAKE_SOURCE_DIR}/stdlib")
  add_test(NAME kernel.rows COMMAND sh -c "\"$1\" --emit kernels \"$2\" | \"$3\" \"$4\""
    sh $<TARGET_FILE:nnc> ${CMAKE_SOURCE_DIR}/examples/iris.nn ${NNC_KERNEL_FILECHECK}
    ${CMAKE_SOURCE_DIR}/tests/kernel/softmax.check)
  set_tests_properties(kernel.rows PROPERTIES LABELS kernel TIMEOUT 60)
  add_test(NAME kernel.view COMMAND sh -c "\"$1\" --emit kernels \"$2\" | \"$3\" \"$4\""
    sh $<TARGET_FILE:nnc> ${CMAKE_SOURCE_DIR}/tests/kernel/view.nn ${NNC_KERNEL_FILECHECK}
    ${CMAKE_SOURCE_DIR}/tests/kernel/view.check)
  set_tests_properties(kernel.view PROPERTIES LABELS kernel TIMEOUT 60
                       ENVIRONMENT "NNC_STDLIB=${CMAKE_SOURCE_DIR}/stdlib")
  # causal attention's kernels marked (compiler/passes/causal.c), and a softmax under another mask not
  add_test(NAME kernel.causal COMMAND sh -c "\"$1\" --emit kernels \"$2\" | \"$3\" \"$4\""
    sh $<TARGET_FILE:nnc> ${CMAKE_SOURCE_DIR}/tests/kernel/causal.nn ${NNC_KERNEL_FILECHECK}
    ${CMAKE_SOURCE_DIR}/tests/kernel/causal.check)
  set_tests_properties(kernel.causal PROPERTIES LABELS kernel TIMEOUT 60
                       ENVIRONMENT "NNC_STDLIB=${CMAKE_SOURCE_DIR}/stdlib")
  add_test(NAME kernel.lstm COMMAND sh -c "\"$1\" --emit kernels \"$2\" | \"$3\" \"$4\""
    sh $<TARGET_FILE:nnc> ${CMAKE_SOURCE_DIR}/tests/kernel/lstm.nn ${NNC_KERNEL_FILECHECK}
    ${CMAKE_SOURCE_DIR}/tests/kernel/lstm.check)
  set_tests_properties(kernel.lstm PROPERTIES LABELS kernel TIMEOUT 60
                       ENVIRONMENT "NNC_STDLIB=${CMAKE_SOURCE_DIR}/stdlib")
endif()
# every trainable example's training at -O0..-O3 equals the interpreter's (fuse and plan change no
# result at any optimisation level)
foreach(ex xor_train linear_regression logistic iris autoencoder fashion_mlp fashion_autoencoder)
  add_test(NAME kernel.opt_levels.${ex}
           COMMAND bash ${CMAKE_SOURCE_DIR}/tests/kernel/opt_levels.sh $<TARGET_FILE:nnc> ${CMAKE_SOURCE_DIR}
                   ${CMAKE_BINARY_DIR}/kernel-work/${ex} ${ex})
  set_tests_properties(kernel.opt_levels.${ex} PROPERTIES LABELS kernel TIMEOUT 300
                       ENVIRONMENT "NNC_STDLIB=${CMAKE_SOURCE_DIR}/stdlib")
endforeach()
add_test(NAME kernel.opt_levels.view
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/kernel/opt_levels.sh $<TARGET_FILE:nnc> ${CMAKE_SOURCE_DIR}
                 ${CMAKE_BINARY_DIR}/kernel-work/view view ${CMAKE_SOURCE_DIR}/tests/kernel)
set_tests_properties(kernel.opt_levels.view PROPERTIES LABELS kernel TIMEOUT 300
                     ENVIRONMENT "NNC_STDLIB=${CMAKE_SOURCE_DIR}/stdlib")
