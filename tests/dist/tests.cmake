# tests/dist/tests.cmake - data-parallel training over MPI (docs/distributed.md), with `mpirun -np 2`
# on one machine. Skipped (exit 77) where mpirun is not installed. RUN_SERIAL: two training
# processes keep both cores of the CI machine busy.
set(DIST ${CMAKE_CURRENT_LIST_DIR})
add_test(NAME dist.mpi
         COMMAND bash ${DIST}/dist.sh $<TARGET_FILE:nnc> ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR}/dist-work/mpi)
set_tests_properties(dist.mpi PROPERTIES LABELS "dist" TIMEOUT 600 RUN_SERIAL TRUE SKIP_RETURN_CODE 77
                     ENVIRONMENT "NNC_PYTHON=${NNC_PYTHON};NNC_STDLIB=${CMAKE_SOURCE_DIR}/stdlib")
# the GPU path's host side on the emulator (tests/cuda/emu with its test-only libnccl.so.2):
# `mpirun -np 2` of a --target cuda executable, its gradients through runtime/nccl.c
add_test(NAME dist.nccl.emu
         COMMAND bash ${DIST}/nccl.sh $<TARGET_FILE:nnc> ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR}/dist-work/nccl
                 ${NNC_HAVE_CUDA} ${CMAKE_BINARY_DIR}/fakecuda ${CMAKE_SOURCE_DIR}/tests/cuda/emu/cuda_emu.h)
set_tests_properties(dist.nccl.emu PROPERTIES LABELS "dist;cuda" TIMEOUT 600 RUN_SERIAL TRUE SKIP_RETURN_CODE 77
                     ENVIRONMENT "NNC_PYTHON=${NNC_PYTHON};NNC_STDLIB=${CMAKE_SOURCE_DIR}/stdlib")
