# tests/fuzz/tests.cmake - the fuzzers (ctest -L fuzz): the front end and the runtime's loaders.
#   fuzz.replay    runs every seed (tests/lang, examples, stdlib, tests/fuzz/seeds) and every saved
#                  reproducer (tests/fuzz/crashes) through the sanitized front end once (seconds)
#   fuzz.frontend  a bounded libFuzzer run: 30 s, -timeout=10, -rss_limit_mb=2048; fails on any
#                  crash and prints stat::number_of_executed_units
#   fuzz.replay.pipeline, fuzz.pipeline  the same for the whole compiler short of LLVM
#                  (tests/fuzz/fuzz_pipeline.c: check, lower, autodiff, optim, simplify, fuse, plan,
#                  each verified; an internal error on a checked program is a crash) over the same
#                  seeds and tests/fuzz/crashes_pipeline; the bounded run is 20 s
#   fuzz.replay.L, fuzz.L for each loader L of the executables (safetensors, idx (IDX and IDX.gz),
#                  npy, csv, text, history (train --history files, plot); tests/fuzz/fuzz_loaders.c): the same over tests/fuzz/seeds_rt/L and
#                  tests/fuzz/crashes_rt/L, 15 s each (the five runs share the fuzzing budget)
# All build their harness with clang-14 through tests/fuzz/run.sh, whatever compiler this build
# uses; they are registered only when clang-14 is installed.
#
# With -DNNC_FUZZ=ON and CMAKE_C_COMPILER=clang(-14), the harness is also a CMake target,
# `fuzz_frontend`, built from the same sources with the same flags.
find_program(NNC_CLANG14 NAMES clang-14)
set(NNC_FUZZ_SECONDS 30 CACHE STRING "Length of the fuzz.frontend ctest run in seconds")
set(NNC_FUZZ_PIPELINE_SECONDS 20 CACHE STRING "Length of the fuzz.pipeline ctest run in seconds")
set(NNC_FUZZ_RT_SECONDS 15 CACHE STRING "Length of each runtime loader's fuzz ctest run in seconds")

if(NNC_CLANG14)
  add_test(NAME fuzz.replay
           COMMAND env NNC_CLANG=${NNC_CLANG14}
                   sh ${CMAKE_CURRENT_LIST_DIR}/run.sh --replay ${CMAKE_BINARY_DIR})
  set_tests_properties(fuzz.replay PROPERTIES LABELS fuzz TIMEOUT 300 RUN_SERIAL ON)
  add_test(NAME fuzz.frontend
           COMMAND env NNC_CLANG=${NNC_CLANG14}
                   sh ${CMAKE_CURRENT_LIST_DIR}/run.sh ${CMAKE_BINARY_DIR} ${NNC_FUZZ_SECONDS})
  set_tests_properties(fuzz.frontend PROPERTIES LABELS fuzz TIMEOUT 600 RUN_SERIAL ON
                       DEPENDS fuzz.replay)
  add_test(NAME fuzz.replay.pipeline
           COMMAND env NNC_CLANG=${NNC_CLANG14}
                   sh ${CMAKE_CURRENT_LIST_DIR}/run.sh --replay ${CMAKE_BINARY_DIR} pipeline)
  set_tests_properties(fuzz.replay.pipeline PROPERTIES LABELS fuzz TIMEOUT 600 RUN_SERIAL ON)
  add_test(NAME fuzz.pipeline
           COMMAND env NNC_CLANG=${NNC_CLANG14}
                   sh ${CMAKE_CURRENT_LIST_DIR}/run.sh ${CMAKE_BINARY_DIR} ${NNC_FUZZ_PIPELINE_SECONDS} pipeline)
  set_tests_properties(fuzz.pipeline PROPERTIES LABELS fuzz TIMEOUT 600 RUN_SERIAL ON
                       DEPENDS fuzz.replay.pipeline)
  foreach(loader safetensors idx npy csv text history)
    add_test(NAME fuzz.replay.${loader}
             COMMAND env NNC_CLANG=${NNC_CLANG14}
                     sh ${CMAKE_CURRENT_LIST_DIR}/run.sh --replay ${CMAKE_BINARY_DIR} ${loader})
    set_tests_properties(fuzz.replay.${loader} PROPERTIES LABELS fuzz TIMEOUT 300 RUN_SERIAL ON)
    add_test(NAME fuzz.${loader}
             COMMAND env NNC_CLANG=${NNC_CLANG14}
                     sh ${CMAKE_CURRENT_LIST_DIR}/run.sh ${CMAKE_BINARY_DIR} ${NNC_FUZZ_RT_SECONDS} ${loader})
    set_tests_properties(fuzz.${loader} PROPERTIES LABELS fuzz TIMEOUT 300 RUN_SERIAL ON
                         DEPENDS fuzz.replay.${loader})
  endforeach()
endif()

# ---- NNC_FUZZ: the harness as a CMake target (needs clang as the C compiler) ----
if(NNC_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "NNC_FUZZ needs clang: configure with -DCMAKE_C_COMPILER=clang-14 "
                        "(or run tests/fuzz/run.sh, which calls clang-14 itself)")
  endif()
  file(GLOB NNC_FUZZ_LANG_SRC CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/lang/*.c)
  add_executable(fuzz_frontend ${CMAKE_CURRENT_LIST_DIR}/fuzz_frontend.c ${NNC_FUZZ_LANG_SRC})
  target_include_directories(fuzz_frontend PRIVATE ${CMAKE_SOURCE_DIR}/lang)
  target_compile_definitions(fuzz_frontend PRIVATE NNC_FUZZ_STDLIB="${CMAKE_SOURCE_DIR}/stdlib")
  # -Wshadow=local (set for the whole build) is gcc's spelling; clang does not know it.
  target_compile_options(fuzz_frontend PRIVATE -Wno-unknown-warning-option -g -O1
                         -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
                         -fno-sanitize-recover=all)
  target_link_options(fuzz_frontend PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_frontend PRIVATE m)
endif()
