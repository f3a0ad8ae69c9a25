/* llvm.h - the CPU backend: renders planned kernel IR (kernel.h) through the LLVM 14 C API into an object file (or
 * textual LLVM IR) that defines the symbols of runtime/nnc_abi.h under a chosen prefix P:
 *   P_desc, P_workspace_size, P_forward, P_evaluate, P_train_step.
 * docs/backend-llvm.md describes the code it generates (workspace layout, loops, calls). */
#ifndef NNC_LLVM_H
#define NNC_LLVM_H

#include <stdio.h>

#include "diag.h"
#include "backend.h"
#include "ir.h"
#include "kernel.h"

/* The backend's options (backend.h); the text kind is LLVM IR (nnc --emit llvm). */
typedef BackendOptions LlvmOptions;
#define LLVM_OUT_OBJ BACKEND_OUT_OBJ
#define LLVM_OUT_IR BACKEND_OUT_TEXT

/* Render the planned kernel IR km (fuse_module + plan_module), verify, optimise and write. 0 on success; on a user-visible failure (unknown --cpu,
 * an unwritable output) reports through d and returns -1. A module LLVM rejects is a compiler bug
 * and dies with LLVM's message. */
int llvm_emit(const KModule *km, const LlvmOptions *o, Diag *d);

/* Checks that the LLVM struct type the backend uses for NncArgs has the C layout of
 * runtime/nnc_abi.h under the host's data layout. 0 if it does; else prints the first field that
 * differs to err and returns -1. llvm_emit runs it too (a mismatch is a compiler bug). */
int llvm_check_args_layout(FILE *err);

#endif
