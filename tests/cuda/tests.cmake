# tests/cuda/tests.cmake - the CUDA backend (label cuda). The tests that need the CUDA toolkit
# (NVRTC, ptxas; NNC_HAVE_CUDA, set in CMakeLists.txt) exit 77 and show as skipped without it.
#   cuda.emit.{iris,pool,cnn}  nnc --emit cuda: row kernels with block reductions, GEMM epilogues,
#                   pools, convolutions and the schedule (FileCheck; no toolkit needed)
#   cuda.ptx.NAME   every example's kernels through NVRTC and ptxas, sm_80 and sm_90
#   cuda.no_driver  the executable on this driverless machine: the one-line error, exit 1
#   cuda.emu.NAME   the executable run with tests/cuda/emu (its kernels on the CPU, a host
#                   libcuda.so.1 and libcublas.so.13): training and saved weights equal the CPU's
#                   (brackets, and tests/cuda's causal.nn and bmm.nn: attention's batched GEMMs)
#   cuda.emu.resident  device memory: params resident, async pinned batches, deferred steps,
#                   allocations once, --device, summary's device memory (tests/cuda/resident.sh)
#   cuda.emu.lt     cuBLASLt's fused epilogues and their fallback (tests/cuda/lt.nn)
#   cuda.emu.bf16   --precision bf16 (tests/cuda/bf16.sh)
#   cuda.emu.{bilstm,seq2seq}  recurrent models on the emulator (tests/cuda/emu.sh)
#   cuda.emit.bf16, cuda.ptx_bf16.NAME, cuda.emu.bf16act{,_cnn,_bmm,_lstm}  nnc --target cuda --precision
#                   bf16 (activations stored in bf16): the source (FileCheck), NVRTC + ptxas for
#                   sm_80/sm_90, training on the emulator within noise of the CPU (tests/cuda/bf16act.sh)
#   cuda.emu.graphs CUDA graphs: captured, replayed, off, the fallback; equal trainings (tests/cuda/graphs.sh)
#   cuda.emu.cudnn  NNC_CUDNN=1: convolutions through cuDNN equal the direct kernels (tests/cuda/cudnn.sh)
#   cuda.bundle     scripts/cuda_bundle.sh: the executable and its libraries in one folder that runs
#                   under env -i (what tests/gpu/run.sh carries to a GPU machine)
set(_cu ${CMAKE_SOURCE_DIR}/tests/cuda)
if(NNC_KERNEL_FILECHECK)
  foreach(pair "iris:examples/iris.nn" "pool:tests/kernel/pool.nn" "cnn:examples/fashion_cnn.nn")
    string(REPLACE ":" ";" pair "${pair}")
    list(GET pair 0 name)
    list(GET pair 1 file)
    add_test(NAME cuda.emit.${name} COMMAND sh -c "\"$1\" --emit cuda \"$2\" | \"$3\" \"$4\""
      sh $<TARGET_FILE:nnc> ${CMAKE_SOURCE_DIR}/${file} ${NNC_KERNEL_FILECHECK} ${_cu}/${name}.check)
    set_tests_properties(cuda.emit.${name} PROPERTIES LABELS cuda TIMEOUT 60
                         ENVIRONMENT "NNC_STDLIB=${CMAKE_SOURCE_DIR}/stdlib")
  endforeach()
  # --precision bf16: nnc_bf storage in the kernels, `gemm:XYZ` steps, the prelude's conversions
  add_test(NAME cuda.emit.bf16 COMMAND sh -c "\"$1\" --target cuda --precision bf16 --emit cuda \"$2\" | \"$3\" \"$4\""
    sh $<TARGET_FILE:nnc> ${CMAKE_SOURCE_DIR}/examples/fashion_mlp.nn ${NNC_KERNEL_FILECHECK} ${_cu}/bf16.check)
  set_tests_properties(cuda.emit.bf16 PROPERTIES LABELS cuda TIMEOUT 60
                       ENVIRONMENT "NNC_STDLIB=${CMAKE_SOURCE_DIR}/stdlib")
endif()
file(GLOB _cu_examples ${CMAKE_SOURCE_DIR}/examples/*.nn ${CMAKE_SOURCE_DIR}/examples/course/*.nn)
foreach(f ${_cu_examples})
  get_filename_component(name ${f} NAME_WE)
  get_filename_component(dir ${f} DIRECTORY)
  get_filename_component(dir ${dir} NAME)
  if(dir STREQUAL "course")
    set(name course.${name})
  endif()
  # release builds only (label slow): the PTX is the same in a sanitizer build, where NVRTC and
  # ptxas on the big examples (char_*, about 80 s each here) would double the test run; the
  # backend's own memory safety is covered there by cuda.emit and cuda.emu
  add_test(NAME cuda.ptx.${name} COMMAND sh ${_cu}/ptx.sh $<TARGET_FILE:nnc> "${NNC_PTXAS}" ${NNC_HAVE_CUDA} ${f})
  set_tests_properties(cuda.ptx.${name} PROPERTIES LABELS "cuda;slow" TIMEOUT 300 SKIP_RETURN_CODE 77)
endforeach()
# --precision bf16 (activations in bf16): an MLP, CNNs (direct conv kernels on bf16), attention's
# batched GEMMs, a residual net, an LSTM (slow: label slow like the others)
foreach(name fashion_mlp fashion_cnn tiny_transformer resnet_small char_lstm)
  add_test(NAME cuda.ptx_bf16.${name} COMMAND sh ${_cu}/ptx.sh $<TARGET_FILE:nnc> "${NNC_PTXAS}" ${NNC_HAVE_CUDA}
           ${CMAKE_SOURCE_DIR}/examples/${name}.nn --target cuda --precision bf16)
  set_tests_properties(cuda.ptx_bf16.${name} PROPERTIES LABELS "cuda;slow" TIMEOUT 300 SKIP_RETURN_CODE 77)
endforeach()
add_test(NAME cuda.no_driver COMMAND sh ${_cu}/no_driver.sh $<TARGET_FILE:nnc> ${NNC_HAVE_CUDA}
         ${CMAKE_SOURCE_DIR}/examples)
set_tests_properties(cuda.no_driver PROPERTIES LABELS cuda TIMEOUT 120 SKIP_RETURN_CODE 77)
if(NNC_HAVE_CUDA)
  add_library(nnc_fake_cuda SHARED ${_cu}/emu/fake_driver.c)
  target_link_libraries(nnc_fake_cuda PRIVATE ${CMAKE_DL_LIBS})
  add_library(nnc_fake_cublas SHARED ${_cu}/emu/fake_cublas.c)
  target_include_directories(nnc_fake_cublas PRIVATE ${CBLAS_INCLUDE})
  target_link_libraries(nnc_fake_cublas PRIVATE ${OPENBLAS_LIB} ${CMAKE_DL_LIBS})
  add_library(nnc_fake_cublaslt SHARED ${_cu}/emu/fake_cublasLt.c)
  target_include_directories(nnc_fake_cublaslt PRIVATE ${CBLAS_INCLUDE})
  target_link_libraries(nnc_fake_cublaslt PRIVATE ${OPENBLAS_LIB} ${CMAKE_DL_LIBS})
  set_target_properties(nnc_fake_cublaslt PROPERTIES OUTPUT_NAME cublasLt PREFIX lib SUFFIX .so.13
                        LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fakecuda)
  set_target_properties(nnc_fake_cuda PROPERTIES OUTPUT_NAME cuda PREFIX lib SUFFIX .so.1
                        LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fakecuda)
  set_target_properties(nnc_fake_cublas PROPERTIES OUTPUT_NAME cublas PREFIX lib SUFFIX .so.13
                        LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fakecuda)
  # NCCL for mpirun runs under the emulator: reduces over the process's MPI (tests/dist/nccl.sh)
  add_library(nnc_fake_nccl SHARED ${_cu}/emu/fake_nccl.c)
  target_link_libraries(nnc_fake_nccl PRIVATE ${CMAKE_DL_LIBS})
  set_target_properties(nnc_fake_nccl PROPERTIES OUTPUT_NAME nccl PREFIX lib SUFFIX .so.2
                        LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fakecuda)
  # cuDNN for NNC_CUDNN=1 under the emulator: its convolutions on the host, summed in the direct
  # kernels' order (no contraction into FMAs: the emulated kernels have none either)
  add_library(nnc_fake_cudnn SHARED ${_cu}/emu/fake_cudnn.c)
  target_link_libraries(nnc_fake_cudnn PRIVATE ${CMAKE_DL_LIBS})
  target_compile_options(nnc_fake_cudnn PRIVATE -ffp-contract=off)
  set_target_properties(nnc_fake_cudnn PROPERTIES OUTPUT_NAME cudnn PREFIX lib SUFFIX .so.9
                        LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fakecuda)
  add_dependencies(nnc nnc_fake_cuda nnc_fake_cublas nnc_fake_cublaslt nnc_fake_nccl nnc_fake_cudnn)
endif()
set(_cu_emu sh ${_cu}/emu.sh $<TARGET_FILE:nnc> ${NNC_HAVE_CUDA} ${CMAKE_BINARY_DIR}/fakecuda
    ${_cu}/emu/cuda_emu.h ${CMAKE_SOURCE_DIR}/examples)
add_test(NAME cuda.emu.xor_train COMMAND ${_cu_emu} xor_train --epochs 50)
add_test(NAME cuda.emu.iris COMMAND ${_cu_emu} iris --epochs 5)
add_test(NAME cuda.emu.fashion_mlp COMMAND ${_cu_emu} fashion_mlp --limit 1000 --epochs 1)
add_test(NAME cuda.emu.fashion_cnn COMMAND ${_cu_emu} fashion_cnn --limit 16 --batch 8 --epochs 1)
set_tests_properties(cuda.emu.xor_train cuda.emu.iris cuda.emu.fashion_mlp PROPERTIES LABELS cuda TIMEOUT 300
                     SKIP_RETURN_CODE 77)
# the emulator runs a conv's filter gradient as one thread (about a second a sample under load):
# two batches of 8; the direct convolutions sum in another order than OpenBLAS, hence a tolerance
set_tests_properties(cuda.emu.fashion_cnn PROPERTIES LABELS cuda TIMEOUT 300 SKIP_RETURN_CODE 77
                     ENVIRONMENT NNC_EMU_TOL=0.001)
# recurrent: a bidirectional LSTM (its cell kernel takes 17 buffers; the time loop's slices are
# copies on the GPU, and --emit cuda renders what --target cuda embeds) and a seq2seq GRU-LSTM
add_test(NAME cuda.emu.bilstm COMMAND sh ${_cu}/emu.sh $<TARGET_FILE:nnc> ${NNC_HAVE_CUDA} ${CMAKE_BINARY_DIR}/fakecuda
         ${_cu}/emu/cuda_emu.h ${CMAKE_SOURCE_DIR}/examples/course bilstm_classifier --epochs 1 --limit 128)
add_test(NAME cuda.emu.seq2seq COMMAND sh ${_cu}/emu.sh $<TARGET_FILE:nnc> ${NNC_HAVE_CUDA} ${CMAKE_BINARY_DIR}/fakecuda
         ${_cu}/emu/cuda_emu.h ${CMAKE_SOURCE_DIR}/examples/course seq2seq_addition --epochs 1 --limit 256)
set_tests_properties(cuda.emu.bilstm cuda.emu.seq2seq PROPERTIES LABELS cuda TIMEOUT 300 SKIP_RETURN_CODE 77)
# mixup: rand_perm's [B, B] ranks and gather over the batch (forward and scatter-add gradient)
add_test(NAME cuda.emu.mixup COMMAND sh ${_cu}/emu.sh $<TARGET_FILE:nnc> ${NNC_HAVE_CUDA} ${CMAKE_BINARY_DIR}/fakecuda
         ${_cu}/emu/cuda_emu.h ${CMAKE_SOURCE_DIR}/examples/course mixup --epochs 1 --limit 512)
set_tests_properties(cuda.emu.mixup PROPERTIES LABELS cuda TIMEOUT 300 SKIP_RETURN_CODE 77)
# causal convolutions (padding only before the sequence, dilations 1-8): direct conv kernels, hence
# the tolerance of cuda.emu.fashion_cnn
add_test(NAME cuda.emu.tcn COMMAND sh ${_cu}/emu.sh $<TARGET_FILE:nnc> ${NNC_HAVE_CUDA} ${CMAKE_BINARY_DIR}/fakecuda
         ${_cu}/emu/cuda_emu.h ${CMAKE_SOURCE_DIR}/examples/course tcn --epochs 2)
set_tests_properties(cuda.emu.tcn PROPERTIES LABELS cuda TIMEOUT 300 SKIP_RETURN_CODE 77 ENVIRONMENT NNC_EMU_TOL=0.001)
# attention: batched GEMMs (cublasSgemmStridedBatched), with epilogues; the padding-masked and the
# causal (a [T, T] mask read as a KA_TILE argument), scaled softmax row kernels
set(_cu_emu_t sh ${_cu}/emu.sh $<TARGET_FILE:nnc> ${NNC_HAVE_CUDA} ${CMAKE_BINARY_DIR}/fakecuda
    ${_cu}/emu/cuda_emu.h ${_cu})
add_test(NAME cuda.emu.brackets COMMAND ${_cu_emu} brackets --limit 64 --epochs 1)
add_test(NAME cuda.emu.causal COMMAND ${_cu_emu_t} causal --limit 64 --epochs 2)
add_test(NAME cuda.emu.bmm COMMAND ${_cu_emu_t} bmm --limit 80 --epochs 2)
set_tests_properties(cuda.emu.brackets cuda.emu.causal cuda.emu.bmm PROPERTIES LABELS cuda TIMEOUT 300
                     SKIP_RETURN_CODE 77)
# cuBLASLt's fused epilogues (bias; bias then ReLU) through tests/cuda/emu's libcublasLt.so.13, and
# the fallback to cuBLAS and the epilogue kernel where it has no algorithm (a 3-unit layer)
add_test(NAME cuda.emu.lt COMMAND ${_cu_emu_t} lt --epochs 2 --val-split 0.25)
set_tests_properties(cuda.emu.lt PROPERTIES LABELS cuda TIMEOUT 300 SKIP_RETURN_CODE 77 ENVIRONMENT NNC_EMU_LT=1)
add_test(NAME cuda.bundle COMMAND sh ${_cu}/bundle.sh $<TARGET_FILE:nnc> ${NNC_HAVE_CUDA}
         ${CMAKE_SOURCE_DIR}/scripts/cuda_bundle.sh ${CMAKE_SOURCE_DIR}/examples)
set_tests_properties(cuda.bundle PROPERTIES LABELS cuda TIMEOUT 120 SKIP_RETURN_CODE 77)
# device memory: params resident, downloads only for saves, async batches from pinned memory,
# allocations once, a resumed run, --device, summary's device memory
add_test(NAME cuda.emu.resident COMMAND sh ${_cu}/resident.sh $<TARGET_FILE:nnc> ${NNC_HAVE_CUDA}
         ${CMAKE_BINARY_DIR}/fakecuda ${_cu}/emu/cuda_emu.h ${CMAKE_SOURCE_DIR}/examples iris)
set_tests_properties(cuda.emu.resident PROPERTIES LABELS cuda TIMEOUT 300 SKIP_RETURN_CODE 77)
# --precision bf16: the products on bf16 inputs (the emulator's cuBLAS/cuBLASLt round them), f32
# everywhere else: the CPU's f32 results within 2%, not identical
add_test(NAME cuda.emu.bf16 COMMAND sh ${_cu}/bf16.sh $<TARGET_FILE:nnc> ${NNC_HAVE_CUDA} ${CMAKE_BINARY_DIR}/fakecuda
         ${_cu}/emu/cuda_emu.h ${CMAKE_SOURCE_DIR}/examples fashion_mlp 0.02 --limit 1000 --epochs 2)
set_tests_properties(cuda.emu.bf16 PROPERTIES LABELS cuda TIMEOUT 300 SKIP_RETURN_CODE 77)
# nnc --precision bf16 (activations stored in bf16): fashion_mlp, fashion_cnn (convolutions and
# pools on bf16, 4% as its 128 samples are noisy: bf16 products alone move its loss 0.6%, its
# accuracy by 2 samples) and bmm.nn (batched GEMMs on bf16 operands) within noise of the CPU's f32
add_test(NAME cuda.emu.bf16act COMMAND sh ${_cu}/bf16act.sh $<TARGET_FILE:nnc> ${NNC_HAVE_CUDA} ${CMAKE_BINARY_DIR}/fakecuda
         ${_cu}/emu/cuda_emu.h ${CMAKE_SOURCE_DIR}/examples fashion_mlp 0.02 --limit 1000 --epochs 2)
add_test(NAME cuda.emu.bf16act_cnn COMMAND sh ${_cu}/bf16act.sh $<TARGET_FILE:nnc> ${NNC_HAVE_CUDA} ${CMAKE_BINARY_DIR}/fakecuda
         ${_cu}/emu/cuda_emu.h ${CMAKE_SOURCE_DIR}/examples fashion_cnn 0.04 --limit 128 --batch 16 --epochs 2)
add_test(NAME cuda.emu.bf16act_bmm COMMAND sh ${_cu}/bf16act.sh $<TARGET_FILE:nnc> ${NNC_HAVE_CUDA} ${CMAKE_BINARY_DIR}/fakecuda
         ${_cu}/emu/cuda_emu.h ${_cu} bmm 0.02 --limit 80 --epochs 2)
add_test(NAME cuda.emu.bf16act_lstm COMMAND sh ${_cu}/bf16act.sh $<TARGET_FILE:nnc> ${NNC_HAVE_CUDA} ${CMAKE_BINARY_DIR}/fakecuda
         ${_cu}/emu/cuda_emu.h ${CMAKE_SOURCE_DIR}/examples/course bilstm_classifier 0.03 --epochs 1 --limit 128)
set_tests_properties(cuda.emu.bf16act cuda.emu.bf16act_cnn cuda.emu.bf16act_bmm cuda.emu.bf16act_lstm PROPERTIES LABELS cuda TIMEOUT 600
                     SKIP_RETURN_CODE 77)
# CUDA graphs: fashion_mlp (dropout: the seed of each replay; a last batch of 40), and lt.nn (the
# cuBLASLt epilogues and their fallback inside a capture)
add_test(NAME cuda.emu.graphs COMMAND sh ${_cu}/graphs.sh $<TARGET_FILE:nnc> ${NNC_HAVE_CUDA}
         ${CMAKE_BINARY_DIR}/fakecuda ${_cu}/emu/cuda_emu.h ${CMAKE_SOURCE_DIR}/examples fashion_mlp --limit 1000 --epochs 2)
add_test(NAME cuda.emu.graphs_lt COMMAND sh ${_cu}/graphs.sh $<TARGET_FILE:nnc> ${NNC_HAVE_CUDA}
         ${CMAKE_BINARY_DIR}/fakecuda ${_cu}/emu/cuda_emu.h ${_cu} lt --epochs 3 --val-split 0.25)
set_tests_properties(cuda.emu.graphs cuda.emu.graphs_lt PROPERTIES LABELS cuda TIMEOUT 300 SKIP_RETURN_CODE 77)
# NNC_CUDNN=1: fashion_cnn's convolutions (forward with its epilogue, data and filter gradients)
# through the emulator's cuDNN, two epochs of batches 8, 8 and 4 (plans at two batch sizes, a graph
# replayed), against the direct kernels and the CPU
add_test(NAME cuda.emu.cudnn COMMAND sh ${_cu}/cudnn.sh $<TARGET_FILE:nnc> ${NNC_HAVE_CUDA}
         ${CMAKE_BINARY_DIR}/fakecuda ${_cu}/emu/cuda_emu.h ${CMAKE_SOURCE_DIR}/examples fashion_cnn --limit 20 --batch 8 --epochs 2)
set_tests_properties(cuda.emu.cudnn PROPERTIES LABELS cuda TIMEOUT 300 SKIP_RETURN_CODE 77 ENVIRONMENT NNC_EMU_TOL=0.001)
