# tests/llvm/tests.cmake - the llvm backend against the reference interpreter (label llvm).
# test_llvm links each emitted object into a shared library with the system cc, so it needs the
# runtime archive (nnc_rand_uniform) and OpenBLAS paths.
add_executable(test_llvm ${CMAKE_SOURCE_DIR}/tests/llvm/test_llvm.c)
target_link_libraries(test_llvm PRIVATE nnc_llvm ${CMAKE_DL_LIBS} m)
add_dependencies(test_llvm nnc_rt)
target_compile_definitions(test_llvm PRIVATE NNC_RT_LIB="$<TARGET_FILE:nnc_rt>"
                                             NNC_BLAS_LIB="${OPENBLAS_LIB}")
foreach(part layout vector math ops mlp grad rows rowbits colbits workspace parallel prefix random conv_epi accum)
  add_test(NAME llvm.${part} COMMAND test_llvm ${part})
  set_tests_properties(llvm.${part} PROPERTIES LABELS llvm TIMEOUT 120)
endforeach()
# the convolution epilogues with each implementation forced: oneDNN's post-ops (and the scale
# folded into its weights) or im2col + the epilogue loop, both against the interpreter
foreach(impl dnnl im2col)
  add_test(NAME llvm.conv_epi_${impl} COMMAND test_llvm conv_epi)
  set_tests_properties(llvm.conv_epi_${impl} PROPERTIES LABELS llvm TIMEOUT 120 ENVIRONMENT NNC_CONV=${impl})
endforeach()
# under ASan, the conv_epi runs that reach oneDNN's convolutions leave libgomp's dynamic TLS in a
# state clang-14's LeakSanitizer crashes on at exit: they run without TLS scanning (the
# suppressions file says what that hides)
if(NNC_SANITIZE)
  set(NOTLS "LSAN_OPTIONS=suppressions=${CMAKE_SOURCE_DIR}/tests/lsan_notls.supp:print_suppressions=0:use_tls=0")
  set_tests_properties(llvm.conv_epi PROPERTIES ENVIRONMENT "${NOTLS}")
  set_tests_properties(llvm.conv_epi_dnnl PROPERTIES ENVIRONMENT "NNC_CONV=dnnl;${NOTLS}")
endif()

# the ops (batched matmuls with each transpose flag among them) with the batched products on
# OpenBLAS: llvm.ops runs them through oneDNN's matmul where libdnnl.so.2 is present (runtime/bmm.c)
add_test(NAME llvm.ops_bmm_openblas COMMAND test_llvm ops)
set_tests_properties(llvm.ops_bmm_openblas PROPERTIES LABELS llvm TIMEOUT 120 ENVIRONMENT NNC_BMM=openblas)

# `nnc --emit llvm` through the driver, checked with FileCheck (llvm-14-tools), at -O2 for a fixed
# CPU (so the vector width is known) and at -O0.
execute_process(COMMAND ${LLVM_CONFIG} --bindir OUTPUT_VARIABLE NNC_LLVM_BINDIR OUTPUT_STRIP_TRAILING_WHITESPACE)
find_program(NNC_LLVM_FILECHECK NAMES FileCheck FileCheck-14 PATHS ${NNC_LLVM_BINDIR} NO_DEFAULT_PATH)
if(NNC_LLVM_FILECHECK)
  set(_ll ${CMAKE_CURRENT_BINARY_DIR}/llvm_emit)
  set(_check ${CMAKE_SOURCE_DIR}/tests/llvm/emit_llvm.check)
  add_test(NAME llvm.emit_llvm COMMAND sh -c
    "\"$1\" \"$2\" --emit llvm --cpu x86-64 -o \"$3.O2.ll\" && \"$4\" \"$5\" < \"$3.O2.ll\" && \"$1\" \"$2\" --emit llvm -O0 -o \"$3.O0.ll\" && \"$4\" --check-prefix=O0 \"$5\" < \"$3.O0.ll\""
    sh $<TARGET_FILE:nnc> ${CMAKE_SOURCE_DIR}/examples/xor_train.nn ${_ll} ${NNC_LLVM_FILECHECK} ${_check})
  set_tests_properties(llvm.emit_llvm PROPERTIES LABELS llvm TIMEOUT 120)
endif()
