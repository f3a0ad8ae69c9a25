# tests/tests.cmake - every area registers its own tests with ctest in its own file.
# Labels: lang, runtime, ir, kernel, llvm, e2e, editors, fuzz, dist (ctest -L lang runs one area).
set(NNC_PYTHON /usr/bin/python3 CACHE FILEPATH "Python with Debian's torch and numpy (reference values)")
include(${CMAKE_CURRENT_LIST_DIR}/lang/tests.cmake OPTIONAL)
include(${CMAKE_CURRENT_LIST_DIR}/runtime/tests.cmake OPTIONAL)
include(${CMAKE_CURRENT_LIST_DIR}/ir/tests.cmake OPTIONAL)
include(${CMAKE_CURRENT_LIST_DIR}/llvm/tests.cmake OPTIONAL)
include(${CMAKE_CURRENT_LIST_DIR}/kernel/tests.cmake OPTIONAL)
include(${CMAKE_CURRENT_LIST_DIR}/e2e/tests.cmake OPTIONAL)
include(${CMAKE_CURRENT_LIST_DIR}/editors/tests.cmake OPTIONAL)
include(${CMAKE_CURRENT_LIST_DIR}/fuzz/tests.cmake OPTIONAL)
include(${CMAKE_CURRENT_LIST_DIR}/cuda/tests.cmake OPTIONAL)
include(${CMAKE_CURRENT_LIST_DIR}/dist/tests.cmake OPTIONAL)
