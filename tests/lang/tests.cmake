# tests/lang/tests.cmake - the language's tests (ctest -L lang):
#   lang.golden.NAME    tests/lang/NAME.nn against NAME.err / NAME.ast / NAME.types (golden.sh)
#   lang.example.NAME   `nnc check` of every examples/*.nn
#   lang.stdlib.NAME    `nnc check` of every stdlib/*.nn
#   lang.stdlib.values  every stdlib activation, layer, loss, optimizer and schedule run by nnc's
#                       interpreter against PyTorch on the same inputs (stdlib_values.py)
#   lang.builtin.values the builtins lowering composes from several IR ops (floor, prod, argmax,
#                       cumsum, %, batched @, ...), values and one SGD step, vs PyTorch
#   lang.norm.values    batchnorm, layernorm and lrn (stdlib/nn.nn) vs PyTorch: training and
#                       inference forward, gradients, running statistics (norm_values.py)
# plus the lexer/parser unit tests and the checker's tests, which their owners register in their
# own tests/lang/*.cmake files (included below when they exist).
set(NNC_LANG_TESTS ${CMAKE_CURRENT_LIST_DIR})

file(GLOB NNC_GOLDEN_FILES CONFIGURE_DEPENDS ${NNC_LANG_TESTS}/*.nn)
foreach(f ${NNC_GOLDEN_FILES})
  get_filename_component(file ${f} NAME)
  # named after the whole rule, dots included (shape.matmul.ok), so not NAME_WE
  string(REGEX REPLACE "\\.nn$" "" name ${file})
  add_test(NAME lang.golden.${name}
           COMMAND sh ${NNC_LANG_TESTS}/golden.sh $<TARGET_FILE:nnc> ${file})
  set_tests_properties(lang.golden.${name} PROPERTIES LABELS lang TIMEOUT 60)
endforeach()

file(GLOB NNC_EXAMPLE_FILES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/examples/*.nn)
foreach(f ${NNC_EXAMPLE_FILES})
  get_filename_component(file ${f} NAME)
  string(REGEX REPLACE "\\.nn$" "" name ${file})
  add_test(NAME lang.example.${name}
           COMMAND sh ${NNC_LANG_TESTS}/check_clean.sh $<TARGET_FILE:nnc> ${file}
           WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}/examples)
  set_tests_properties(lang.example.${name} PROPERTIES LABELS lang TIMEOUT 60
                       ENVIRONMENT "NNC_STDLIB=${CMAKE_SOURCE_DIR}/stdlib;NO_COLOR=1")
endforeach()

file(GLOB NNC_STDLIB_FILES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/stdlib/*.nn)
foreach(f ${NNC_STDLIB_FILES})
  get_filename_component(file ${f} NAME)
  string(REGEX REPLACE "\\.nn$" "" name ${file})
  add_test(NAME lang.stdlib.${name}
           COMMAND sh ${NNC_LANG_TESTS}/check_clean.sh $<TARGET_FILE:nnc> ${file}
           WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}/stdlib)
  set_tests_properties(lang.stdlib.${name} PROPERTIES LABELS lang TIMEOUT 60
                       ENVIRONMENT "NNC_STDLIB=${CMAKE_SOURCE_DIR}/stdlib;NO_COLOR=1")
endforeach()

add_test(NAME lang.stdlib.values
         COMMAND ${NNC_PYTHON} ${NNC_LANG_TESTS}/stdlib_values.py $<TARGET_FILE:nnc>
                 ${CMAKE_BINARY_DIR}/lang-stdlib-values)
set_tests_properties(lang.stdlib.values PROPERTIES LABELS lang TIMEOUT 300
                     ENVIRONMENT "NNC_STDLIB=${CMAKE_SOURCE_DIR}/stdlib;NO_COLOR=1")

add_test(NAME lang.builtin.values
         COMMAND ${NNC_PYTHON} ${NNC_LANG_TESTS}/builtin_values.py $<TARGET_FILE:nnc>
                 ${CMAKE_BINARY_DIR}/lang-builtin-values)
set_tests_properties(lang.builtin.values PROPERTIES LABELS lang TIMEOUT 300
                     ENVIRONMENT "NNC_STDLIB=${CMAKE_SOURCE_DIR}/stdlib;NO_COLOR=1")

add_test(NAME lang.norm.values
         COMMAND ${NNC_PYTHON} ${NNC_LANG_TESTS}/norm_values.py $<TARGET_FILE:nnc>
                 ${CMAKE_BINARY_DIR}/lang-norm-values)
set_tests_properties(lang.norm.values PROPERTIES LABELS lang TIMEOUT 300
                     ENVIRONMENT "NNC_STDLIB=${CMAKE_SOURCE_DIR}/stdlib;NO_COLOR=1")

# golden.sh itself must notice a wrong expectation: run it on a copy of a test whose .err was
# altered, and require that it fails.
add_test(NAME lang.golden.selftest
         COMMAND sh ${NNC_LANG_TESTS}/golden_selftest.sh $<TARGET_FILE:nnc>)
set_tests_properties(lang.golden.selftest PROPERTIES LABELS lang TIMEOUT 60)

# Other engineers' test files in this folder.
file(GLOB NNC_LANG_OTHER_CMAKE ${NNC_LANG_TESTS}/unit*.cmake ${NNC_LANG_TESTS}/*types*.cmake)
foreach(f ${NNC_LANG_OTHER_CMAKE})
  include(${f} OPTIONAL)
endforeach()

# the checker and the build agree: every golden program `nnc check` accepts also compiles
add_test(NAME lang.compile_golden
         COMMAND sh ${NNC_LANG_TESTS}/compile_golden.sh $<TARGET_FILE:nnc>)
set_tests_properties(lang.compile_golden PROPERTIES LABELS lang TIMEOUT 300)

# nnc fmt (lang/fmt.c): meaning, comments and idempotence on every program of the repository, the
# canonical layout, -w and --check (fmt.sh); and the stdlib and examples are in that layout (the
# files are listed at test time, so new ones are checked too: `nnc fmt -w` them).
add_test(NAME lang.fmt COMMAND sh ${NNC_LANG_TESTS}/fmt.sh $<TARGET_FILE:nnc> ${CMAKE_SOURCE_DIR})
set_tests_properties(lang.fmt PROPERTIES LABELS lang TIMEOUT 120 ENVIRONMENT "NO_COLOR=1")
add_test(NAME lang.fmt_sources
         COMMAND sh -c "exec \"$0\" fmt --check stdlib/*.nn examples/*.nn examples/course/*.nn" $<TARGET_FILE:nnc>
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(lang.fmt_sources PROPERTIES LABELS lang TIMEOUT 60 ENVIRONMENT "NO_COLOR=1")

# nnc check --diagnostics-format=json (lang/diag.c): JSON Lines that say what the .err goldens say
add_test(NAME lang.diag_json COMMAND ${NNC_PYTHON} ${NNC_LANG_TESTS}/diag_json.py $<TARGET_FILE:nnc>)
set_tests_properties(lang.diag_json PROPERTIES LABELS lang TIMEOUT 120)
