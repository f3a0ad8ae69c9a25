# tests/ir/tests.cmake - the graph IR, the interpreter, autodiff and simplify (ctest -L ir).
#   ir_ops    every primitive's forward in the interpreter vs PyTorch (check_ops.py)
#   ir_grad   every differentiable op's VJP vs central finite differences
#   ir_mlp    a small MLP's loss and gradients (autodiff + simplify) vs torch.autograd
#   ir_unit   CSE, builders, types, verifier messages, interp_model_def
#   ir_math   nnc's exp, log, tanh, sigmoid, erf (ir_math.h) against libm in double: ulp bounds
#             over a strided sweep of all f32 patterns, special values exact
#   ir_lit    IR in, IR out: parse/print round trip, verify, simplify, autodiff (lit + FileCheck);
#             optim through nnc --dump-after on a small model
#   ir_examples  the examples lowered by nnc: round trip, verify, simplify keeps the results
set(IR_TEST_DIR ${CMAKE_CURRENT_LIST_DIR})
foreach(t irtool ir_ops ir_grad ir_mlp ir_unit ir_math)
  add_executable(${t} ${IR_TEST_DIR}/${t}.c)
  target_link_libraries(${t} PRIVATE nnc_ir)
endforeach()

add_test(NAME ir_ops COMMAND ${NNC_PYTHON} ${IR_TEST_DIR}/check_ops.py $<TARGET_FILE:ir_ops>
         ${CMAKE_SOURCE_DIR}/compiler/ir/ops.def)
add_test(NAME ir_grad COMMAND ir_grad)
add_test(NAME ir_mlp COMMAND ${NNC_PYTHON} ${IR_TEST_DIR}/check_mlp.py $<TARGET_FILE:ir_mlp>)
add_test(NAME ir_unit COMMAND ir_unit)
add_test(NAME ir_math COMMAND ir_math)
find_program(NNC_LIT NAMES lit lit.py PATHS /usr/lib/llvm-14/bin /usr/lib/llvm-14/build/utils/lit)
add_test(NAME ir_lit COMMAND ${NNC_PYTHON} ${NNC_LIT} -sv --param irtool=$<TARGET_FILE:irtool> --param nnc=$<TARGET_FILE:nnc> --param exec_root=${CMAKE_BINARY_DIR}/ir-lit
         ${IR_TEST_DIR}/lit)
set_tests_properties(ir_ops ir_grad ir_mlp ir_unit ir_math ir_lit PROPERTIES LABELS ir TIMEOUT 120)
# every example's IR as nnc lowers it: exact round trip, verifies, simplify keeps the results
add_test(NAME ir_examples COMMAND sh ${IR_TEST_DIR}/examples.sh $<TARGET_FILE:nnc> $<TARGET_FILE:irtool>
         ${CMAKE_SOURCE_DIR}/examples ${CMAKE_BINARY_DIR}/ir-examples)
# slow: release builds only (26 s there; the interpreter's convolutions under ASan take 260 s).
# ir_lit and the pipeline fuzzer run the parser, printer and passes under the sanitizers.
set_tests_properties(ir_examples PROPERTIES LABELS "ir;slow" TIMEOUT 300)
