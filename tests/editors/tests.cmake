# tests/editors/tests.cmake - editors/ (ctest -L editors):
#   editors.textmate  the TextMate grammar through vscode-textmate + vscode-oniguruma on every
#                     .nn of stdlib/ and examples/ (editors/test/tokenize.js); skipped when node
#                     or the npm modules are missing (scripts/install-deps.sh puts them in build/npm)
#   editors.vim       the Vim ftdetect and syntax files (skipped without vim)
find_program(NNC_NODE NAMES node nodejs)
if(NNC_NODE)
  add_test(NAME editors.textmate
           COMMAND ${NNC_NODE} ${CMAKE_SOURCE_DIR}/editors/test/tokenize.js ${CMAKE_SOURCE_DIR}
                   ${CMAKE_BINARY_DIR}/npm/node_modules ${CMAKE_SOURCE_DIR}/build/npm/node_modules
                   $ENV{HOME}/.cache/nnc/npm/node_modules)
  set_tests_properties(editors.textmate PROPERTIES LABELS editors TIMEOUT 60 SKIP_RETURN_CODE 77)
endif()
add_test(NAME editors.vim COMMAND sh ${CMAKE_SOURCE_DIR}/editors/test/vim.sh ${CMAKE_SOURCE_DIR})
set_tests_properties(editors.vim PROPERTIES LABELS editors TIMEOUT 60 SKIP_RETURN_CODE 77)
