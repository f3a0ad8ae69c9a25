/* interp.h - the reference interpreter of the graph IR (compiler/backend/interp/interp.c).
 *
 * A plain C evaluation of a graph at a concrete batch size, one buffer per node: the oracle the
 * llvm and cuda backends are tested against and the engine of `nnc run`. The ops' semantics are
 * the IR core's (ir_eval.c), which constant folding shares.
 */
#ifndef NNC_INTERP_H
#define NNC_INTERP_H

#include "ir.h"
#include "nnc_abi.h"

/* Values of the nodes of g for the call a (a->B, a->bufs for INPUT/PARAM/STATE, a->lr, a->step,
 * a->total_steps and a->seed for HYPER and RAND). Returns g->len pointers (f32 -> float, i32 ->
 * int32_t, bool -> uint8_t, dense row-major); with keep_all false only the results' nodes are kept
 * (others are NULL, freed after their last use). Free with interp_free. */
void **interp_eval(const IrGraph *g, const NncArgs *a, bool keep_all);
void interp_free(const IrGraph *g, void **vals);

/* Run g and apply its results: outputs copied into a->bufs, losses into a->losses, RES_UPDATE
 * values written into their param/state buffers after the whole graph ran. */
void interp_run(const IrGraph *g, NncArgs *a);

/* The module as a model for the runtime: desc = ir_module_desc(m), forward / evaluate /
 * train_step run m's graphs; user = m (the runtime copies it into NncArgs.user). m must outlive
 * every call. */
NncModelDef interp_model_def(IrModule *m);

#endif
