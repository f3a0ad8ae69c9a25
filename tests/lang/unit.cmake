# tests/lang/unit.cmake - the front end's own tests, included from tests/lang/tests.cmake. Label: lang.
#   lang.unit_front  diagnostics printer, lexer and parser details (tests/lang/unit_front.c)
#   lang.robust      nnc against hostile inputs: garbage, huge literals, deep nesting (robust.sh)
add_executable(unit_front ${CMAKE_CURRENT_LIST_DIR}/unit_front.c)
target_link_libraries(unit_front PRIVATE nnc_lang)
add_test(NAME lang.unit_front COMMAND unit_front)
add_test(NAME lang.robust COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/robust.sh $<TARGET_FILE:nnc>)
set_tests_properties(lang.unit_front lang.robust PROPERTIES LABELS lang)
set_tests_properties(lang.robust PROPERTIES TIMEOUT 600)
