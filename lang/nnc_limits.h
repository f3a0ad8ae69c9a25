/* nnc_limits.h - the size limits a program must respect, shared by the checker (lang/check*.c)
 * and lowering (compiler/lower.c) so that `nnc check` accepts exactly the programs that compile:
 * what the checker lets through must never trip a limit in lowering or the IR verifier.
 */
#ifndef NNC_LIMITS_H
#define NNC_LIMITS_H

#include <stdint.h>

#define NNC_MAX_RANK 6                 /* dims of a tensor (IR_MAXRANK in compiler/ir/ir.h) */
#define NNC_MAX_LOOP_TRIPS 100000      /* iterations of one `for` loop */
#define NNC_MAX_CALL_DEPTH 200         /* calls nested in one another (lowering inlines them all) */
/* Elements of one tensor, counted with B = NNC_NUMEL_AT_B: at most NNC_MAX_NUMEL, i.e. 2^30
 * per sample for a tensor of shape [B, ...] (the bound compiler/ir/ir_verify.c enforces). */
#define NNC_NUMEL_AT_B ((int64_t)1 << 20)
#define NNC_MAX_NUMEL ((int64_t)1 << 50)
/* Lowering's global budget per graph: inlined calls plus unrolled loop iterations, and IR nodes
 * (programs like f_i(x) = f_{i-1}(f_{i-1}(x)) would otherwise unroll exponentially). */
#define NNC_MAX_UNROLL_WORK ((int64_t)1 << 18)
#define NNC_MAX_GRAPH_NODES ((int64_t)1 << 17)

#endif
