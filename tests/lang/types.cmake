# tests/lang/types.cmake - the checker's unit tests (owned with lang/types.c and lang/check*.c),
# included from tests/lang/tests.cmake. Label: lang.
#   lang.unit_types   dim algebra, type printing, and checker annotations (tests/lang/unit_types.c)
add_executable(unit_types ${CMAKE_CURRENT_LIST_DIR}/unit_types.c)
target_link_libraries(unit_types PRIVATE nnc_lang)
add_test(NAME lang.unit_types COMMAND unit_types)
set_tests_properties(lang.unit_types PROPERTIES LABELS lang TIMEOUT 60)
