# tests/llvm/tests.cmake - the llvm backend against the reference interpreter (label llvm).
# test_llvm links each emitted object into a shared library with the system cc, so it needs the
# runtime archive (nnc_rand_uniform) and OpenBLAS paths.
add_executable(test_llvm ${CMAKE_SOURCE_DIR}/tests/llvm/test_llvm.c)
target_link_libraries(test_llvm PRIVATE nnc_llvm ${CMAKE_DL_LIBS} m)
add_dependencies(test_llvm nnc_rt)
target_compile_definitions(test_llvm PRIVATE NNC_RT_LIB="$<TARGET_FILE:nnc_rt>"
                                             NNC_BLAS_LIB="${OPENBLAS_LIB}")
foreach(part layout vector ops mlp grad workspace parallel prefix)
  add_test(NAME llvm.${part} COMMAND test_llvm ${part})
  set_tests_properties(llvm.${part} PROPERTIES LABELS llvm TIMEOUT 120)
endforeach()
