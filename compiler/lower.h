/* lower.h - from the checked AST to the graph IR (compiler/lower.c), and the hooks the optim pass
 * (compiler/passes/optim.c) uses to lower a train step and instantiate an optimizer declaration.
 *
 * Lowering is a compile-time evaluator: it walks the chosen model's body with an environment of
 * values (ints, floats, bools, strings, functions, parameter groups, and tensors, which are IR node
 * ids), inlines every fn/layer call and unrolls every loop. Each graph of the module (forward,
 * evaluate, train.STEP) is one walk of the same body, with `training` false or true; the walks
 * instantiate the same parameters in the same order, so they share the module's tensor table.
 */
#ifndef NNC_LOWER_H
#define NNC_LOWER_H

#include <stdbool.h>
#include <stdint.h>

#include "ast.h"
#include "diag.h"
#include "ir.h"

typedef struct Lower Lower;

/* A train step as the train block declares it (the single implicit step when it names none). */
typedef struct LowerStep {
    const char *name;           /* "main" for the implicit step */
    const char *loss;           /* the loss it minimises (NULL: the sum of all losses) */
    Node *optimizer;            /* the optimizer call: adam(lr = 1e-3); NULL = the model's */
    const char **over; int nover;   /* parameter paths; 0 = every parameter */
    Loc loc;
} LowerStep;

/* Choose the model (model_name, or the last model of the program) and prepare to lower it.
 * NULL after a diagnostic when there is no such model. src_path: the .nn file (relative data
 * paths are resolved against its folder). */
Lower *lower_new(Arena *a, Diag *d, Node *prog, const char *model_name, const char *src_path);

/* The module with its forward and evaluate graphs and the descriptor facts (losses, hypers, data,
 * metrics, task, and one IrStep per train step with graph = NULL: optim.c fills them in).
 * NULL after diagnostics. */
IrModule *lower_module(Lower *L);

/* The train steps of the model's train block (after lower_module). */
const LowerStep *lower_steps(Lower *L, int *n);

/* Each train step's graph (after lower_module): the model body walked with training = true, every
 * loss a RES_LOSS result, the layer calls the step trains none of in inference mode
 * [train.step.mode]; m->steps[i] gets the graph and the step's declaration as autodiff reads it
 * (the loss it minimizes, NULL = the sum of all; its `over` paths; its place). 0, or -1 after a
 * diagnostic. */
int lower_step_graphs(Lower *L, IrModule *m);

/* Instantiate the optimizer call `call` (NULL: the train block's `optimizer`) for the parameter
 * with bufs index pi, whose current value is node p and gradient node grad, inside g: the new
 * value and every `state` tensor's new value become RES_UPDATE results. The l1/l2 penalties are
 * added to grad and the schedule applied to lr here. 0, or -1 after a diagnostic. */
int lower_apply_optimizer(Lower *L, IrGraph *g, Node *call, int pi, uint32_t p, uint32_t grad);
/* optim renamed tensors of the module (a parameter's states, per step): lower looks names up by
 * scanning from then on, not in its index of the names it saw */
void lower_tensors_renamed(Lower *L);
/* The optimizer call's global_clipnorm applied to a step's gradients grads[0..n) (replaced by the
 * clipped ones; unchanged without it); -1 after a diagnostic. */
int lower_clip_global(Lower *L, IrGraph *g, Node *call, uint32_t *grads, int n);

/* The base learning rate of an optimizer call: its lr argument, else the declaration's default. */
double lower_optimizer_lr(Lower *L, Node *call);
/* A stdlib schedule of an optimizer call (constant, step_decay, cosine, warmup_cosine) and its arguments; NULL else. */
const char *lower_optimizer_schedule(Lower *L, Node *call, double *a, double *b);
/* The optimizer's declared name (adam) of a call, NULL = the train block's. */
const char *lower_optimizer_name(Lower *L, Node *call);

/* Keep only the nodes results depend on (a fresh graph with the same name and results). */
IrGraph *lower_prune(Arena *a, const IrGraph *g);

/* ---- optim.c: the train steps' updates ----
 * requires: m after the autodiff pass (each step's graph with a `grad` result per trained
 * parameter). Applies the step's optimizer to each parameter with its gradient, replacing the grad
 * results by update results; parameters no step trains are marked frozen. 0, or -1 after a
 * diagnostic. */
int optim_module(Lower *L, IrModule *m, Diag *d);

/* ---- link.c: the executable ----
 * The runtime library: $NNC_RUNTIME_LIB, else beside the nnc executable (the build tree), else
 * ../lib/nnc/ (installed). NULL after a diagnostic when none exists. */
const char *link_runtime_library(Arena *a, Diag *d, const char *argv0);
/* Link the objects objs[0..nobj) (an LLVM object may come in parts) with the runtime into out (through out's temporary sibling, renamed on success, so a
 * failed link leaves an existing out untouched), with the system C compiler ($CC, else cc), run
 * without a shell. 0, or -1 after a diagnostic. */
int link_executable(Arena *a, Diag *d, const char *argv0, const char *const *objs, int nobj, const char *out,
                    int verbose, int portable);

#endif
