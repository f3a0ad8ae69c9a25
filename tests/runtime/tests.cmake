# tests/runtime/tests.cmake - the runtime's tests (LABELS runtime): a hand-written model (testmodel.c)
# driven through the real CLI, unit tests of the runtime's parts, and a python reader of our
# safetensors files. The whole set runs in well under a minute.
set(RT_TEST_DIR ${CMAKE_CURRENT_LIST_DIR})

add_executable(rt_model ${RT_TEST_DIR}/driver.c ${RT_TEST_DIR}/testmodel.c)
target_include_directories(rt_model PRIVATE ${RT_TEST_DIR} ${CMAKE_SOURCE_DIR}/runtime)
target_link_libraries(rt_model PRIVATE nnc_rt)

# runtime/main.c pulled out of libnnc_rt.a by the nnc_model_* symbols, as in a compiled model
add_executable(rt_model_main ${RT_TEST_DIR}/model_main.c ${RT_TEST_DIR}/testmodel.c)
target_include_directories(rt_model_main PRIVATE ${RT_TEST_DIR})
target_link_libraries(rt_model_main PRIVATE nnc_rt)

add_executable(rt_unit ${RT_TEST_DIR}/unit.c)
target_include_directories(rt_unit PRIVATE ${CMAKE_SOURCE_DIR}/runtime)
target_link_libraries(rt_unit PRIVATE nnc_rt ${CMAKE_DL_LIBS})
if(DNNL_INCLUDE)    # nnc_rt was built with its oneDNN paths: test_sgemm checks they are taken
  target_compile_definitions(rt_unit PRIVATE NNC_HAVE_DNNL=1)
endif()

add_test(NAME runtime.unit COMMAND rt_unit)
set_tests_properties(runtime.unit PROPERTIES LABELS runtime TIMEOUT 60)
add_test(NAME runtime.unit_gemm_openblas COMMAND rt_unit)
set_tests_properties(runtime.unit_gemm_openblas PROPERTIES LABELS runtime TIMEOUT 60 ENVIRONMENT NNC_GEMM=openblas)
# the batched products (test_sgemm_causal among them) on OpenBLAS, not oneDNN's matmul
add_test(NAME runtime.unit_bmm_openblas COMMAND rt_unit)
set_tests_properties(runtime.unit_bmm_openblas PROPERTIES LABELS runtime TIMEOUT 60 ENVIRONMENT NNC_BMM=openblas)

foreach(case help usage summary main_link train_fashion seed resume val_split threads eval predict
             csv_classify csv_regress npy_data bad_idx bad_csv label_range bad_weights nan
             save_fail alloc_fail baddesc python_read
             literal_predict predict_csv_cols eval_data_arg binary_accuracy
             unique_tmp long_classes awkward_classes labels_by_name stdout_full label_checks flag_limits
             messages save_target model_meta save_dir data_dir no_train_block suggest wording
             overwrite resume_range csv_kinds nonfinite stale_tmp kill_saves resume_schedule messages8 memory fifo)
  add_test(NAME runtime.cli.${case}
           COMMAND bash ${RT_TEST_DIR}/cli_test.sh ${case} $<TARGET_FILE:rt_model>
                   $<TARGET_FILE:rt_model_main> ${NNC_PYTHON})
  set_tests_properties(runtime.cli.${case} PROPERTIES LABELS runtime TIMEOUT 120)
endforeach()
