/* check.c - the type and shape checker: scopes, declarations, calls and unification, statements,
 * parameter naming, models and their train blocks (docs/language.md sections 3-5).
 *
 * Every fn/layer/optimizer body is checked once, generically: its formals' dim variables are
 * rigid symbols, so `x @ W` in dense is checked with K and N unknown. A call unifies each formal's
 * type with its argument ([unify]) in a fresh instance of the callee's variables, then substitutes
 * the bindings into the callee's result type. Calls through a function-valued formal (`act(y)`)
 * have an unknown type in the generic check; at every call that passes a known function, the
 * callee's body is checked again with the actual argument types and functions (an "instance"
 * check, which annotates nothing), so such calls are checked at each concrete use.
 * Models are checked concretely with B symbolic. Layer calls leave records (Items) from which the
 * parameter list of a layer instance or a model is expanded with the naming rules of
 * [layer.naming]. Operators and builtins are in check_expr.c.
 * A fn or layer of several results [fn.results] has a TY_TUPLE result; check_expr refuses that
 * type everywhere but where Body.tuple_ok allows it (a destructuring binding's value, a body's
 * result), so no other rule ever sees it.
 *
 * The checker annotates the AST in place: Node.ty on every expression and statement it checks
 * generically (in the declaration's own variables), Node.ref on identifiers (the binding, formal
 * or declaration) and on calls (the declaration called, or the ND_FORMAL of a function-valued
 * formal; NULL for builtins). A model node's ty is a TY_MODEL carrying its parameter list.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <dirent.h>
#include <string.h>

#include "check_int.h"
#include "frontend.h"
#include "scope.h"

typedef struct ModelInfo {
    Node **inputs;          /* ND_INPUT and ND_TARGET, in order */
    int ninputs, capinputs;
    Node **outputs;
    int noutputs, capoutputs;
    Node **losses;
    int nlosses, caplosses;
    Node *train;
    ParamList *params;
} ModelInfo;

/* The least value a dim-variable formal takes [dim.positive]: 1, or 0 for one declared with the
 * default 0 (the stdlib's `pad: [PH, PW] = 0`: an explicit padding of 0 is what the default means). */
static int zero_default(const Node *f) { return f->lhs && f->lhs->kind == ND_INT && f->lhs->ival == 0 ? 0 : 1; }

/* ---- diagnostics ---- */

static void vreport(Body *b, int kind, Loc loc, const char *fmt, va_list ap) {
    Check *C = b->C;
    if (C->mute > 0) {
        C->muted += kind == 0;
        return;
    }
    char *msg;
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    msg = arena_alloc(C->a, (size_t)n + 1);
    vsnprintf(msg, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    if (kind == 0)
        diag_error(C->d, loc, "%s", msg);
    else if (kind == 1)
        diag_note(C->d, loc, "%s", msg);
    else
        diag_hint(C->d, "%s", msg);
}

void check_error(Body *b, Loc loc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vreport(b, 0, loc, fmt, ap);
    va_end(ap);
}

void check_note(Body *b, Loc loc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vreport(b, 1, loc, fmt, ap);
    va_end(ap);
}

void check_hint(Body *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vreport(b, 2, (Loc){0}, fmt, ap);
    va_end(ap);
}

/* "did you mean 'X'?" for the closest of cands, else the otherwise hint (may be NULL: none). */
/* [int.div] The hint for a float where an int is needed, when the float is an int division that
 * is not exact (`512 / (i + 1)` with i = 2): `//` is the integer division [int.floordiv]. */
void check_hint_int_div(Body *b, const Node *e, const Type *t) {
    if (e && e->kind == ND_ARG && e->lhs)
        e = e->lhs;
    if (e && t && e->kind == ND_CALL && e->lhs && e->lhs->kind == ND_IDENT && !strcmp(e->lhs->name, "i32") &&
        t->kind == TY_TENSOR) {
        check_hint(b, "i32(...) makes a tensor; '//' divides compile-time ints rounding down (7 // 2 is 3)");
        return;
    }
    if (!e || !t || t->kind != TY_FLOAT || e->kind != ND_BINARY || e->op != OP_DIV_)
        return;
    if (t->known)
        check_hint(b, "'/' of two ints is an int only when the division is exact; this one is %g "
                      "('//' rounds down to an int)", t->fval);
    else
        check_hint(b, "'/' of two ints is an int only when the division is exact ('//' rounds down to an int)");
}

void check_hint_similar(Body *b, const char *name, const char *const *cands, int n,
                        const char *otherwise) {
    const char *s = diag_suggest(name, cands, n);
    if (s)
        check_hint(b, "did you mean '%s'?", s);
    else if (otherwise)
        check_hint(b, "%s", otherwise);
}

/* Errors so far, muted ones included: whether a part just checked failed. Whether a declaration
 * or the program has errors counts the reported ones only (C->d->nerrors). */
static int nerrors(Check *C) { return C->d->nerrors + C->muted; }

const char *check_tystr(Body *b, const Type *t) { return ty_str(b->C->a, t); }
const char *check_dimstr(Body *b, const SDim *d) { return ty_dim_astr(b->C->a, d); }

/* A tensor type lowering can hold [type.size]: rank at most NNC_MAX_RANK and, where its dims are
 * known, at most NNC_MAX_NUMEL elements counted at B = NNC_NUMEL_AT_B (2^30 per sample), the
 * limits of compiler/lower.c and compiler/ir/ir_verify.c (lang/nnc_limits.h). false: reported. */
bool check_size(Body *b, Loc loc, const Type *t) {
    Check *C = b->C;
    if (!t || t->kind != TY_TENSOR || t->shape.rest >= 0)
        return true;
    if (t->shape.rank > NNC_MAX_RANK) {
        check_error(b, loc, "%s has %d dims; a tensor has at most %d", check_tystr(b, t), t->shape.rank,
                    NNC_MAX_RANK);
        return false;
    }
    int nb = 0;     /* dims holding B: numel is counted at B = 2^20, so a third cannot fit */
    for (int i = 0; i < t->shape.rank; i++)
        nb += check_holds_batch(b, t->shape.dims[i]);
    if (nb > 2) {
        check_error(b, loc, "%s has the batch size B in %d dims; at most 2 are supported", check_tystr(b, t), nb);
        return false;
    }
    /* one binding on the stack: this runs for every expression (an arena env cost ~2 KB each, a
     * model loop of 2^18 iterations over a gigabyte) */
    DimBind bb = {.name = "B", .where = loc};
    DimEnv env = {.inst = 0, .n = 1, .cap = 1, .b = &bb};
    bool saved = C->dc.overflow, big = false;
    int64_t numel = 1;
    for (int i = 0; i < t->shape.rank && !big; i++) {
        int64_t v;
        if (ty_dim_is_const(t->shape.dims[i], &v) && v >= 1) {   /* most dims: no substitution */
            big = !im_mul(numel, v, &numel) || numel > NNC_MAX_NUMEL;
            continue;
        }
        if (!bb.dim)
            bb.dim = ty_dim_const(&C->dc, NNC_NUMEL_AT_B);
        const SDim *d = ty_dim_subst(&C->dc, t->shape.dims[i], &env);
        if (C->dc.overflow) {
            big = true;
            break;
        }
        if (!ty_dim_is_const(d, &v) || v < 1) {
            C->dc.overflow = saved;
            return true;        /* symbolic (a generic body) or reported elsewhere */
        }
        big = !im_mul(numel, v, &numel) || numel > NNC_MAX_NUMEL;
    }
    C->dc.overflow = saved;
    if (big) {
        check_error(b, loc, "%s is too large: a tensor holds at most 2^%d elements per sample", check_tystr(b, t),
                    __builtin_ctzll((unsigned long long)(NNC_MAX_NUMEL / NNC_NUMEL_AT_B)));
        return false;
    }
    return true;
}

const Type *check_set(Body *b, Node *n, const Type *t) {
    if (!b->instance)
        n->ty = (Type *)t;
    return t;
}

static void set_ref(Body *b, Node *n, Node *ref) {
    if (!b->instance)
        n->ref = ref;
}

/* ---- declarations table ---- */

static unsigned hash_str(const char *s) {
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static DeclInfo *decl_find(Check *C, const char *name) {
    if (!C->capdecls)
        return NULL;
    for (unsigned i = hash_str(name) & (unsigned)(C->capdecls - 1);; i = (i + 1) & (unsigned)(C->capdecls - 1)) {
        DeclInfo *d = C->decls[i];
        if (!d)
            return NULL;
        if (strcmp(d->decl->name, name) == 0)
            return d;
    }
}

/* The declaration `name` means in a body of the file `from` (NULL: the main file) [scope.module]:
 * the best scope_rank among the declarations of that name. */
static DeclInfo *decl_find_from(Check *C, const char *name, const SrcFile *from) {
    DeclInfo *best = NULL;
    int rank = 0;
    for (DeclInfo *d = decl_find(C, name); d; d = d->shadow) {
        int r = scope_rank(C->prog, d->decl, from);
        if (r > rank)
            best = d, rank = r;
    }
    return rank == SCOPE_BELOW_BUILTINS && check_builtin_lookup(name) ? NULL : best;
}

/* the file whose declarations a body sees first */
static const SrcFile *body_file(const Body *b) {
    return b->decl ? b->decl->loc.file : NULL;
}

static void decl_insert(Check *C, DeclInfo *di) {
    if ((C->ndecls + 1) * 2 > C->capdecls) {
        int cap = C->capdecls ? C->capdecls * 2 : 64;
        DeclInfo **v = arena_alloc(C->a, sizeof *v * (size_t)cap);
        for (int i = 0; i < C->capdecls; i++) {
            DeclInfo *d = C->decls[i];
            if (!d)
                continue;
            unsigned j = hash_str(d->decl->name) & (unsigned)(cap - 1);
            while (v[j])
                j = (j + 1) & (unsigned)(cap - 1);
            v[j] = d;
        }
        C->decls = v;
        C->capdecls = cap;
    }
    unsigned j = hash_str(di->decl->name) & (unsigned)(C->capdecls - 1);
    while (C->decls[j])
        j = (j + 1) & (unsigned)(C->capdecls - 1);
    C->decls[j] = di;
    di->index = C->ndecls;
    *ARENA_PUSH(C->a, C->order, C->ndecls, C->caporder) = di;
}

static DeclInfo *info_of(Check *C, const Node *decl) {
    DeclInfo *d = decl && decl->name ? decl_find(C, decl->name) : NULL;
    while (d && d->decl != decl)
        d = d->shadow;
    return d;
}

/* ---- scopes ---- */

static ScopeSlot *scope_slot(Scope *s, const char *name, bool create) {
    if (!s->cap) {
        if (!create)
            return NULL;
    }
    if (s->cap) {
        for (unsigned i = hash_str(name) & (unsigned)(s->cap - 1);; i = (i + 1) & (unsigned)(s->cap - 1)) {
            if (!s->slot[i].name)
                break;
            if (strcmp(s->slot[i].name, name) == 0)
                return &s->slot[i];
        }
    }
    return NULL;
}

static void scope_grow(Arena *a, Scope *s) {
    int cap = s->cap ? s->cap * 2 : 32;
    ScopeSlot *v = arena_alloc(a, sizeof *v * (size_t)cap);
    for (int i = 0; i < s->cap; i++) {
        if (!s->slot[i].name)
            continue;
        unsigned j = hash_str(s->slot[i].name) & (unsigned)(cap - 1);
        while (v[j].name)
            j = (j + 1) & (unsigned)(cap - 1);
        v[j] = s->slot[i];
    }
    s->slot = v;
    s->cap = cap;
}

static Binding *lookup(Body *b, const char *name) {
    ScopeSlot *sl = scope_slot(&b->scope, name, false);
    return sl ? sl->top : NULL;
}

static Binding *bind(Body *b, const char *name, BindKind kind, Node *node, const Type *ty) {
    Check *C = b->C;
    Scope *s = &b->scope;
    ScopeSlot *sl = scope_slot(s, name, false);
    if (!sl) {
        if ((s->used + 1) * 2 > s->cap)
            scope_grow(C->a, s);
        unsigned j = hash_str(name) & (unsigned)(s->cap - 1);
        while (s->slot[j].name)
            j = (j + 1) & (unsigned)(s->cap - 1);
        s->slot[j].name = name;
        s->used++;
        sl = &s->slot[j];
    }
    Binding *bd = arena_alloc(C->a, sizeof *bd);
    bd->name = name;
    bd->kind = kind;
    bd->node = node;
    bd->ty = ty;
    bd->shadow = sl->top;
    bd->seq = s->nlog;
    sl->top = bd;
    *ARENA_PUSH(C->a, s->log, s->nlog, s->caplog) = bd;
    return bd;
}

static void scope_pop(Body *b, int mark) {
    Scope *s = &b->scope;
    while (s->nlog > mark) {
        Binding *bd = s->log[--s->nlog];
        ScopeSlot *sl = scope_slot(s, bd->name, false);
        sl->top = bd->shadow;
    }
}

/* ---- suggestions ---- */

typedef struct Names {
    const char **v;
    int n, cap;
} Names;

static void names_add(Check *C, Names *ns, const char *s) { *ARENA_PUSH(C->a, ns->v, ns->n, ns->cap) = s; }

/* What Keras, PyTorch and NumPy call the things nnc names otherwise: a course's spelling of a
 * loss, layer or array function, and the spelling that means it here. */
static const struct { const char *theirs, *ours; } course_names[] = {
    {"sparse_categorical_crossentropy", "cross_entropy(logits, labels): logits and i32 class labels"},
    {"SparseCategoricalCrossentropy", "cross_entropy(logits, labels): logits and i32 class labels"},
    {"CrossEntropyLoss", "cross_entropy(logits, labels): logits and i32 class labels"},
    {"categorical_crossentropy", "cross_entropy_onehot(logits, onehot): logits and one-hot f32 targets"},
    {"CategoricalCrossentropy", "cross_entropy_onehot(logits, onehot): logits and one-hot f32 targets"},
    {"binary_crossentropy", "binary_cross_entropy(p, y) (probabilities) or binary_cross_entropy_with_logits(z, y)"},
    {"BCELoss", "binary_cross_entropy(p, y)"},
    {"BCEWithLogitsLoss", "binary_cross_entropy_with_logits(z, y)"},
    {"mean_squared_error", "mse(pred, y)"},
    {"MSELoss", "mse(pred, y)"},
    {"mean_absolute_error", "mae(pred, y)"},
    {"L1Loss", "mae(pred, y)"},
    {"Dense", "dense(x, units, act = relu)"},
    {"Linear", "dense(x, units)"},
    {"linear", "dense(x, units)"},
    {"Flatten", "flatten(x)"},
    {"Dropout", "dropout(x, rate)"},
    {"Embedding", "embedding(idx, vocab, dim)"},
    {"matmul", "a @ b"},
    {"dot", "a @ b"},
    {"reduce_sum", "sum(x, axis = ...)"},
    {"reduce_mean", "mean(x, axis = ...)"},
    {"concatenate", "concat([a, b, ...], axis = ...)"},
    {"cat", "concat([a, b, ...], axis = ...)"},
    {"expand_dims", "reshape(x, [...]) with the new axis of extent 1"},
    {"unsqueeze", "reshape(x, [...]) with the new axis of extent 1"},
    {"squeeze", "an index (x[:, 0]) or reshape(x, [...])"},
    {"zeros", "zeros_like(x) (a tensor of zeros shaped like x)"},
    {"broadcast_to", "x + zeros_like(y): x broadcast to y's shape (a class token: cls + zeros_like(tokens[:, 0:1, :]))"},
    {"expand", "x + zeros_like(y): x broadcast to y's shape (a class token: cls + zeros_like(tokens[:, 0:1, :]))"},
    {"expand_as", "x + zeros_like(y): x broadcast to y's shape"},
    {"tile", "x + zeros_like(y) to broadcast x to y's shape, or concat([x, x, ...], axis = ...) to repeat it"},
    {"repeat", "x + zeros_like(y) to broadcast x to y's shape, concat([x, x, ...], axis = ...), or repeat_vector(x, n)"},
    {"view", "reshape(x, [...])"},
    {"permute", "transpose(x, [...])"},
    {"bmm", "a @ b (batched when both have rank >= 3)"},
    {"mm", "a @ b"},
    {"tril", "softmax(scores, causal = true) (the causal mask of attention)"},
    {"print", "nnc has no print: declare `output NAME = x` and run the executable's predict (nnc --emit types "
              "FILE.nn lists every binding's type)"},
    {"torch", "nnc has no module 'torch': builtins and nn's functions are called without a prefix (torch.cat -> "
              "concat, torch.relu -> relu)"},
    {"F", "nnc has no module 'F' (torch.nn.functional): nn's functions are called without a prefix (F.relu -> relu, "
          "F.cross_entropy -> cross_entropy)"},
    {"np", "nnc has no module 'np': builtins are called without a prefix (np.mean -> mean, np.concatenate -> concat)"},
    {"numpy", "nnc has no module 'numpy': builtins are called without a prefix (numpy.mean -> mean)"},
    {"tf", "nnc has no module 'tf': builtins and nn's functions are called without a prefix (tf.reduce_sum -> sum, "
           "tf.nn.relu -> relu)"},
    {"keras", "nnc has no module 'keras': nn's layers are called without a prefix (keras.layers.Dense -> dense)"},
    {"layers", "nnc has no module 'layers': nn's layers are called without a prefix (layers.Dense(64) -> "
               "dense(x, 64))"},
    {"eye", "nnc has no identity matrix: the diagonal of a @ b.T (a contrastive loss's positives) is sum(a * b, axis = -1), "
            "and logsumexp(a @ b.T) - sum(a * b, axis = -1) is the cross-entropy with labels 0..B-1"},
    {"arange", "nnc has no index tensor: a loop variable for i in 0 .. N, or cumsum(ones_like(x), axis) - 1.0 (f32)"},
    {"diag", "sum(a * b, axis = -1) for the diagonal of a @ b.T"},
    {"diagonal", "sum(a * b, axis = -1) for the diagonal of a @ b.T"},
    {"reduce_logsumexp", "logsumexp(x) (over the last axis)"},
    {"ones", "ones_like(x) (a tensor of ones shaped like x)"},
    {"randn", "rand_normal(x) (normal noise shaped like x)"},
    {"randperm", "rand_perm(x) (a random order of x's first axis, fresh per step), then gather(x, perm): x[perm]"},
    {"shuffle", "gather(x, rand_perm(x)) (the batch in a random order: mixup's partner)"},
    {"index_select", "gather(table, idx) (rows of table along its first axis)"},
    {"swish", "silu(x)"},
    {"SiLU", "silu(x)"},
    {"NLLLoss", "nll_loss(log_probs, labels) (of a log_softmax's output; or cross_entropy(logits, labels) of the logits)"},
    {"softmax_cross_entropy_with_logits", "cross_entropy_onehot(logits, onehot)"},
    {"sparse_softmax_cross_entropy_with_logits", "cross_entropy(logits, labels)"},
    {"sigmoid_cross_entropy_with_logits", "binary_cross_entropy_with_logits(z, y)"},
    {"kl_div", "kl_divergence(p, q) (of probabilities, KL(p || q))"},
    {"KLDivLoss", "kl_divergence(p, q) (of probabilities, KL(p || q))"},
    {"kld", "kl_divergence(p, q) (of probabilities, KL(p || q))"},
    {"KLDivergence", "kl_divergence(p, q) (of probabilities, KL(p || q))"},
    {"kullback_leibler_divergence", "kl_divergence(p, q) (of probabilities, KL(p || q))"},
    {"huber_loss", "huber(pred, y, delta = 1.0)"},
    {"HuberLoss", "huber(pred, y, delta = 1.0)"},
    {"Huber", "huber(pred, y, delta = 1.0)"},
    {"smooth_l1_loss", "huber(pred, y) (delta = 1)"},
    {"SmoothL1Loss", "huber(pred, y) (delta = 1)"},
    {"hinge_loss", "hinge(pred, y) (y = -1 or +1)"},
    {"Hinge", "hinge(pred, y) (y = -1 or +1)"},
    {"CosineSimilarity", "cosine_similarity(a, b) (along the last axis)"},
    {"ReLU", "relu(x)"},
    {"ReLU6", "relu6(x)"},
    {"LeakyReLU", "leaky_relu(x, alpha = 0.01)"},
    {"ELU", "elu(x)"},
    {"SELU", "selu(x)"},
    {"GELU", "gelu(x) (gelu_tanh(x) for approximate = 'tanh')"},
    {"Mish", "mish(x)"},
    {"Softplus", "softplus(x)"},
    {"Softsign", "softsign(x)"},
    {"Hardsigmoid", "hard_sigmoid(x)"},
    {"Hardswish", "hard_swish(x)"},
    {"PReLU", "prelu(x)"},
    {"Tanh", "tanh(x)"},
    {"Sigmoid", "sigmoid(x)"},
    {"Softmax", "softmax(x) (over the last axis)"},
    {"LogSoftmax", "log_softmax(x)"},
    {"hardtanh", "clip(x, -1.0, 1.0)"},
    {"Hardtanh", "clip(x, -1.0, 1.0)"},
    {"logsigmoid", "-softplus(-x)"},
    {"LogSigmoid", "-softplus(-x)"},
    {"BatchNormalization", "batchnorm(x) (its momentum is PyTorch's: Keras' momentum m is 1 - m here)"},
    {"BatchNorm1d", "batchnorm(x)"},
    {"BatchNorm2d", "batchnorm(x) (channels-last images f32[B, H, W, C])"},
    {"LayerNormalization", "layernorm(x)"},
    {"LayerNorm", "layernorm(x)"},
    {"layer_norm", "layernorm(x)"},
    {"Conv2D", "conv2d(x, filters, k) (channels-last images f32[B, H, W, C])"},
    {"Conv2d", "conv2d(x, filters, k) (channels-last images f32[B, H, W, C])"},
    {"Conv1D", "conv1d(x, filters, k) (sequences f32[B, L, C])"},
    {"Conv1DTranspose", "conv1d_transpose(x, filters, k, stride = 2, padding = \"same\") (sequences f32[B, L, C])"},
    {"ConvTranspose1d", "conv1d_transpose(x, filters, k) (sequences f32[B, L, C]; W is [k, filters, C])"},
    {"Conv1d", "conv1d(x, filters, k) (sequences f32[B, L, C])"},
    {"Conv2DTranspose", "conv2d_transpose(x, filters, k)"},
    {"ConvTranspose2d", "conv2d_transpose(x, filters, k)"},
    {"MaxPooling2D", "maxpool2d(x, size)"},
    {"MaxPool2d", "maxpool2d(x, size)"},
    {"max_pool2d", "maxpool2d(x, size)"},
    {"AveragePooling2D", "avgpool2d(x, size)"},
    {"AvgPool2d", "avgpool2d(x, size)"},
    {"avg_pool2d", "avgpool2d(x, size)"},
    {"MaxPooling1D", "maxpool1d(x, size)"},
    {"MaxPool1d", "maxpool1d(x, size)"},
    {"GlobalAveragePooling2D", "global_avgpool2d(x)"},
    {"GlobalMaxPooling2D", "global_maxpool2d(x)"},
    {"AdaptiveAvgPool2d", "global_avgpool2d(x) (for output size 1)"},
    {"GlobalAveragePooling1D", "mean(x, axis = 1) (over the steps of f32[B, T, C])"},
    {"GlobalMaxPooling1D", "reduce_max(x, axis = 1) (over the steps of f32[B, T, C])"},
    {"LSTM", "lstm(x, units, sequences = false) (sequences = true: every step's state)"},
    {"GRU", "gru(x, units, sequences = false) (sequences = true: every step's state)"},
    {"SimpleRNN", "rnn(x, units, sequences = false) (sequences = true: every step's state)"},
    {"RNN", "rnn(x, units, sequences = false) (sequences = true: every step's state)"},
    {"Bidirectional", "bilstm(x, units), bigru(x, units) or birnn(x, units)"},
    {"MultiHeadAttention", "multi_head_attention(x, heads, dim)"},
    {"MultiheadAttention", "multi_head_attention(x, heads, dim)"},
    {"Sequential", "a model body: one statement per layer, h = dense(h, 64, act = relu), then the next"},
    {"stack", "concat of reshaped tensors: concat([reshape(a, [B, 1, n]), reshape(b, [B, 1, n])], axis = 1)"},
    {"RepeatVector", "repeat_vector(x, n) (f32[B, D] -> f32[B, n, D])"},
    {"TimeDistributed", "dense(x, units) itself: on f32[B, T, K] it acts on every step (its x is f32[*S, K])"},
    {"Concatenate", "concat([a, b, ...], axis = ...)"},
    {"DepthwiseConv2D", "depthwise_conv2d(x, k) (channels-last images f32[B, H, W, C])"},
    {"TransformerEncoderLayer", "encoder_block(x, heads, ff, mask = padding_mask(ids))"},
    {"EarlyStopping", "as the executable's flags: ./model train --early-stop N --save-best best.st"},
    {"ModelCheckpoint", "as the executable's flags: ./model train --save last.st --save-best best.st"},
    {"KFold", "as the executable's flag: ./model train --fold I/K"},
};

/* Keras' and PyTorch's names of the arguments of dense, dropout and the optimizers. */
static const struct { const char *theirs, *ours; } course_args[] = {
    {"activation", "act"}, {"learning_rate", "lr"}, {"p", "rate"}, {"weight_decay", "l2"},
    {"momentum", "beta"}, {"max_norm", "global_clipnorm"}, {"clip_grad_norm", "global_clipnorm"}, {"clip_value", "clipvalue"},
    {"return_sequences", "sequences"}, {"go_backwards", "reverse"}, {"hidden_size", "units"},
    {"out_features", "units"}, {"out_channels", "filters"}, {"kernel_size", "k"}, {"pool_size", "size"},
    {"strides", "stride"}, {"dim", "axis"}, {"keepdim", "keepdims"}, {"input_dim", "vocab"},
    {"num_embeddings", "vocab"}, {"output_dim", "dim"}, {"embedding_dim", "dim"}, {"epsilon", "eps"},
    {"negative_slope", "alpha"}, {"beta_1", "beta1"}, {"beta_2", "beta2"}, {"alpha", "rho"},
    {"kernel_initializer", "init"}, {"bias_initializer", "bias_init"},
};

/* The standard-library module (stdlib/NAME.nn) declaring a fn, layer or optimizer `name`, read from
 * the sources (a module the program does not `use` is not loaded): "nn" for dense; NULL when none.
 * The folder is the one a loaded stdlib module came from, else frontend_stdlib_dir's. */
static const char *stdlib_module_of(Check *C, const char *name) {
    const char *dir = frontend_stdlib_dir(C->a, NULL);
    if (!dir) return NULL;
    DIR *dp = opendir(dir);
    if (!dp) return NULL;
    const char *found = NULL;
    size_t n = strlen(name);
    for (struct dirent *e; !found && (e = readdir(dp));) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 3, ".nn")) continue;
        FILE *f = fopen(arena_printf(C->a, "%s/%s", dir, e->d_name), "r");
        if (!f) continue;
        char line[512];
        while (!found && fgets(line, sizeof line, f)) {
            const char *p = line;
            static const char *const kw[] = {"fn ", "layer ", "optimizer "};
            for (int k = 0; k < 3; k++)
                if (!strncmp(p, kw[k], strlen(kw[k]))) {
                    const char *q = p + strlen(kw[k]);
                    if (!strncmp(q, name, n) && (q[n] == '(' || q[n] == ' ' || q[n] == '['))
                        found = arena_strndup(C->a, e->d_name, len - 3);
                }
        }
        fclose(f);
    }
    closedir(dp);
    return found;
}

/* The hint for a course's spelling of name (course_names); false when it has none. */
static bool course_hint(Body *b, const char *name) {
    for (size_t i = 0; i < sizeof course_names / sizeof course_names[0]; i++)
        if (strcmp(name, course_names[i].theirs) == 0) {
            /* an entry starting "nnc has no" says so itself */
            if (strncmp(course_names[i].ours, "nnc has no ", 11) == 0)
                check_hint(b, "%s", course_names[i].ours);
            else
                check_hint(b, "nnc spells it %s", course_names[i].ours);
            return true;
        }
    return false;
}

static void suggest_undefined(Body *b, const char *name) {
    Check *C = b->C;
    if (course_hint(b, name))
        return;
    const char *mod = stdlib_module_of(C, name);
    if (mod) {
        check_hint(b, "'%s' is in the standard library's module '%s': add `use %s` at the top of the file", name, mod,
                   mod);
        return;
    }
    if (strlen(name) < 3)
        return;     /* every short name is close to every other: no useful suggestion */
    Names ns = {0};
    for (int i = 0; i < b->scope.cap; i++)
        if (b->scope.slot[i].name && b->scope.slot[i].top)
            names_add(C, &ns, b->scope.slot[i].name);
    if (b->dims)
        for (int i = 0; i < b->dims->n; i++)
            if (!b->dims->b[i].is_rest)
                names_add(C, &ns, b->dims->b[i].name);
    for (int i = 0; i < C->ndecls; i++)
        if (C->order[i]->decl->kind != ND_MODEL)
            names_add(C, &ns, C->order[i]->decl->name);
    for (int i = 1; i < BI__COUNT; i++)
        names_add(C, &ns, check_builtins[i].name);
    names_add(C, &ns, "training");
    if (b->kind == ND_OPTIMIZER) {
        names_add(C, &ns, "step");
        names_add(C, &ns, "total_steps");
    }
    check_hint_similar(b, name, ns.v, ns.n, NULL);
}

/* ---- type expressions ---- */

typedef struct Conv {
    bool pattern;       /* every dim name is a variable of instance inst (formals) */
    int inst;
    DimEnv *collect;    /* pattern mode: add each new variable here (decl's own dims) */
    bool result;        /* converting a declared result type (messages) */
    bool ok;
} Conv;

static bool is_initializer_name(const char *s);

static const SDim *dim_name(Body *b, const DimExpr *e, Conv *cv) {
    Check *C = b->C;
    if (cv->pattern) {
        const SDim *d = ty_dim_sym(&C->dc, e->name, cv->inst);
        if (cv->collect && !ty_env_find(cv->collect, e->name))
            ty_env_bind_dim(C->a, cv->collect, e->name, d, e->loc);
        return d;
    }
    DimBind *db = b->dims ? ty_env_find(b->dims, e->name) : NULL;
    if (db && !db->is_rest)
        return db->dim;
    Binding *bd = lookup(b, e->name);
    if (bd && bd->ty->kind == TY_INT && bd->ty->ival)
        return bd->ty->ival;
    if (bd && bd->ty->kind == TY_INT) {
        check_error(b, e->loc, "the value of '%s' is not known at compile time, so it cannot be a dim",
                    e->name);
        cv->ok = false;
        return ty_dim_const(&C->dc, 1);
    }
    if (bd && !ty_is_bad(bd->ty)) {
        check_error(b, e->loc, "'%s' is %s, not a dim", e->name, check_tystr(b, bd->ty));
        cv->ok = false;
        return ty_dim_const(&C->dc, 1);
    }
    if (!bd) {
        if (b->kind == ND_MODEL)
            check_error(b, e->loc, "unknown dim '%s': a model's dims are numbers, B, or int bindings",
                        e->name);
        else if (cv->result)
            check_error(b, e->loc, "the result type uses the dim '%s', which no formal binds", e->name);
        else
            check_error(b, e->loc, "unknown dim '%s'", e->name);
        suggest_undefined(b, e->name);
    }
    cv->ok = false;
    return ty_dim_const(&C->dc, 1);
}

static const SDim *conv_dim(Body *b, const DimExpr *e, Conv *cv) {
    Check *C = b->C;
    switch (e->kind) {
    case DE_INT:
        return ty_dim_const(&C->dc, e->ival);
    case DE_VAR:
        return dim_name(b, e, cv);
    case DE_REST:
        check_error(b, e->loc, "a shape variable '*%s' cannot appear inside a dim expression", e->name);
        cv->ok = false;
        return ty_dim_const(&C->dc, 1);
    case DE_BIN: {
        const SDim *x = conv_dim(b, e->lhs, cv), *y = conv_dim(b, e->rhs, cv);
        const char *why = NULL;
        const SDim *r = NULL;
        switch (e->op) {
        case '+': r = ty_dim_add(&C->dc, x, y); break;
        case '-': r = ty_dim_sub(&C->dc, x, y); break;
        case '*': r = ty_dim_mul(&C->dc, x, y); break;
        case '/': r = ty_dim_div(&C->dc, x, y, &why); break;
        case '%': r = ty_dim_mod(&C->dc, x, y, &why); break;
        default: unreachable();
        }
        if (!r) {
            if (cv->ok)
                check_error(b, e->loc, "dim %s %c %s is %s", check_dimstr(b, x), e->op, check_dimstr(b, y),
                            strcmp(why, "not exact") == 0 ? "not an integer" : "a division by zero");
            cv->ok = false;
            return ty_dim_const(&C->dc, 1);
        }
        return r;
    }
    }
    unreachable();
}

/* A tensor TypeExpr as a Type. Dims known below 1 are errors [dim.positive]. */
static Type *conv_tensor(Body *b, const TypeExpr *te, Conv *cv) {
    Check *C = b->C;
    Type *t = ty_new(C->a, TY_TENSOR);
    t->dtype = te->dtype;
    const SDim **d = arena_alloc(C->a, sizeof *d * (size_t)(te->ndims + 1));
    int k = 0;
    for (int i = 0; i < te->ndims; i++) {
        const DimExpr *e = te->dims[i];
        if (e->kind == DE_REST) {
            if (t->shape.rest >= 0)
                continue;   /* the parser reported the second one */
            t->shape.rest = k;
            t->shape.rest_name = e->name;
            if (cv->pattern) {
                t->shape.rest_inst = cv->inst;
                if (cv->collect && !ty_env_find(cv->collect, e->name)) {
                    Shape s = {.rank = 0, .rest = 0, .rest_name = e->name, .rest_inst = cv->inst};
                    ty_env_bind_rest(C->a, cv->collect, e->name, s, e->loc);
                }
            } else {
                DimBind *db = b->dims ? ty_env_find(b->dims, e->name) : NULL;
                if (!db || !db->is_rest) {
                    check_error(b, e->loc, "unknown shape variable '*%s'", e->name);
                    cv->ok = false;
                    t->shape.rest = -1;
                    continue;
                }
                /* splice the bound shape */
                Shape bs = db->shape;
                const SDim **nd = arena_alloc(C->a, sizeof *nd * (size_t)(te->ndims + bs.rank + 1));
                if (k > 0)
                    memcpy(nd, d, sizeof *d * (size_t)k);
                d = nd;
                t->shape.rest = bs.rest >= 0 ? k + bs.rest : -1;
                t->shape.rest_name = bs.rest_name;
                t->shape.rest_inst = bs.rest_inst;
                for (int j = 0; j < bs.rank; j++)
                    d[k++] = bs.dims[j];
                if (t->shape.rest < 0)
                    t->shape.rest = -2;     /* spliced; marks that the variable was seen */
            }
            continue;
        }
        const SDim *v = conv_dim(b, e, cv);
        int64_t c;
        if (cv->ok && ty_dim_is_const(v, &c) && c < 1) {
            check_error(b, e->loc, "dim %s evaluates to %lld; a dim must be at least 1", check_dimstr(b, v),
                        (long long)c);
            cv->ok = false;
        }
        d[k++] = v;
    }
    if (t->shape.rest == -2)
        t->shape.rest = -1;
    if (C->dc.overflow) {
        C->dc.overflow = false;
        check_error(b, te->loc, "dim arithmetic overflows in %s", "this type");
        cv->ok = false;
    }
    t->shape.rank = k;
    t->shape.dims = d;
    if (cv->ok && !check_size(b, te->loc, t))
        cv->ok = false;
    return t;
}

/* The type of a list formal `k: [KH, KW]` (TE_DIMLIST): an i32[n] of compile-time ints, the dims
 * vals (its variables; in an instance check, their values). */
static Type *dimlist_type(Check *C, int n, const SDim **vals) {
    const SDim **d = arena_alloc(C->a, sizeof *d);
    d[0] = ty_dim_const(&C->dc, n);
    Type *t = ty_tensor(C->a, DT_I32, 1, d);
    t->nvals = n;
    t->vals = vals;
    return t;
}

/* The type of a formal as seen inside its body (generic) or at a call (pattern of inst). */
static const Type *formal_type(Body *b, Node *f, Conv *cv, const Type *defty) {
    Check *C = b->C;
    TypeExpr *te = f->tyexpr;
    if (!te) {
        if (!defty)
            return ty_any();
        if (defty->kind == TY_INT || defty->kind == TY_FN || defty->kind == TY_FLOAT || defty->kind == TY_BOOL ||
            defty->kind == TY_STR) {
            Type *t = ty_new(C->a, defty->kind);
            if (defty->kind == TY_INT) {
                t->ival = ty_dim_sym(&C->dc, f->name, cv->inst);
                if (cv->collect && !ty_env_find(cv->collect, f->name))
                    ty_env_bind_dim(C->a, cv->collect, f->name, t->ival, f->loc);
            }
            return t;
        }
        return defty;
    }
    switch (te->kind) {
    case TE_TENSOR:
        return conv_tensor(b, te, cv);
    case TE_INT: {
        Type *t = ty_new(C->a, TY_INT);
        t->ival = ty_dim_sym(&C->dc, f->name, cv->inst);
        if (cv->collect && !ty_env_find(cv->collect, f->name))
            ty_env_bind_dim(C->a, cv->collect, f->name, t->ival, f->loc);
        return t;
    }
    case TE_DIMVAR: {
        Type *t = ty_new(C->a, TY_INT);
        DimExpr e = {.kind = DE_VAR, .loc = te->loc, .name = te->name};
        t->ival = te->ndims ? conv_dim(b, te->dims[0], cv) : dim_name(b, &e, cv);
        return t;
    }
    case TE_DIMLIST: {
        const SDim **v = arena_alloc(C->a, sizeof *v * (size_t)(te->ndims + 1));
        for (int i = 0; i < te->ndims; i++)
            v[i] = dim_name(b, te->dims[i], cv);
        return dimlist_type(C, te->ndims, v);
    }
    case TE_FLOAT: return ty_new(C->a, TY_FLOAT);
    case TE_BOOL_SCALAR: return ty_new(C->a, TY_BOOL);
    case TE_STR: return ty_new(C->a, TY_STR);
    case TE_FN: return ty_new(C->a, TY_FN);
    case TE_TUPLE: return ty_error();      /* a result type only (the parser's rtype) */
    }
    unreachable();
}

/* ---- unification [unify] ---- */

typedef struct Unify {
    Body *b;
    DimEnv *env;
    int inst;
    Loc at;
    bool solve_failed;  /* a dim could not be solved (several unknowns) rather than mismatched */
    bool zero_ok;       /* a variable may be bound to 0 (a formal with the default 0: zero_default) */
} Unify;

static bool unify_dim(Unify *u, const SDim *pd, const SDim *ad) {
    Check *C = u->b->C;
    const SDim *p = ty_dim_subst(&C->dc, pd, u->env);
    const SDim *diff = ty_dim_sub(&C->dc, p, ad);
    const char *name;
    const SDim *val;
    int r = ty_dim_solve(&C->dc, diff, u->inst, &name, &val);
    if (r == 0)
        return true;
    if (r == 1) {
        int64_t c;
        if (ty_dim_is_const(val, &c) && c < (u->zero_ok ? 0 : 1))
            return false;
        ty_env_bind_dim(C->a, u->env, name, val, u->at);
        return true;
    }
    if (r == -2)
        u->solve_failed = true;
    return false;
}

/* The dims of act from index i on. A rank-0 tensor (a compile-time number passed where a tensor
 * is expected [builtin]: exp(1.0), or an int formal `x: N` passed to f32[*S]) may have no dims
 * array at all, and NULL + 0 is undefined behaviour. */
static const SDim **shape_from(const Shape *act, int i) { return i < act->rank ? act->dims + i : NULL; }

static bool unify_shape(Unify *u, const Shape *pat0, const Shape *act) {
    Check *C = u->b->C;
    Shape pat = ty_shape_subst(&C->dc, pat0, u->env);
    if (pat.rest >= 0 && pat.rest_inst == u->inst) {
        int p = pat.rest, s = pat.rank - pat.rest;
        Shape bound;
        if (act->rest < 0) {
            if (act->rank < p + s)
                return false;
            for (int i = 0; i < p; i++)
                if (!unify_dim(u, pat.dims[i], act->dims[i]))
                    return false;
            bound = (Shape){.rank = act->rank - p - s, .dims = shape_from(act, p), .rest = -1};
        } else {
            if (act->rest < p || act->rank - act->rest < s)
                return false;
            for (int i = 0; i < p; i++)
                if (!unify_dim(u, pat.dims[i], act->dims[i]))
                    return false;
            bound = (Shape){.rank = act->rank - p - s, .dims = shape_from(act, p), .rest = act->rest - p,
                            .rest_name = act->rest_name, .rest_inst = act->rest_inst};
        }
        ty_env_bind_rest(C->a, u->env, pat.rest_name, bound, u->at);
        for (int j = 0; j < s; j++)
            if (!unify_dim(u, pat.dims[p + j], act->dims[act->rank - s + j]))
                return false;
        return true;
    }
    if (pat.rest >= 0) {
        if (act->rest != pat.rest || act->rank != pat.rank || strcmp(act->rest_name, pat.rest_name) != 0 ||
            act->rest_inst != pat.rest_inst)
            return false;
    } else if (act->rest >= 0 || act->rank != pat.rank) {
        return false;
    }
    for (int i = 0; i < pat.rank; i++)
        if (!unify_dim(u, pat.dims[i], act->dims[i]))
            return false;
    return true;
}

/* ---- parameter expansion [layer.naming] ---- */

/* The numbering itself is lang/naming.c's, which lowering uses too. */
static const char *join(Check *C, const char *prefix, const char *name) { return naming_join(C->a, prefix, name); }

typedef struct Expander {
    Check *C;
    ParamList *out;
    const char *fail;       /* why the list cannot be known (symbolic loop bounds, too big) */
    int64_t work;           /* records visited: bounds the time a hostile program can take */
    const Item *want;       /* a statement whose path is wanted (names that mean one thing) */
    const char *found;      /* its path (the last one, when a loop repeats it) */
    int depth;              /* calls entered: 0 in the owner's own records */
    const Node *origin;     /* the owner's statement being expanded */
    struct XFrame *frame;   /* the call being expanded (IT_IF conditions read its arguments) */
    const Node *fail_at;    /* where fail happened, when a node says it better than the owner */
    bool all_arms;          /* an 'if' not known here expands every arm (param_vars: a superset will do) */
} Expander;

/* A call being expanded: its callee and arguments, and the frame of its caller. */
typedef struct XFrame {
    const Node *decl;
    Node *const *args;
    const DimEnv *env;
    struct XFrame *up;
} XFrame;

static void expand_items(Expander *x, const Items *it, const DimEnv *env, const char *prefix, Naming *nm);

/* ---- conditions of `if`s that make parameters [if] ----
 * Evaluated while a parameter list is expanded: ints from the env (dims, int formals, loop
 * variables), and bool, str and int arguments of the calls being expanded, read through their
 * argument expressions in the caller's frame. */
typedef struct CVal {
    char kind;              /* 'i' int, 'b' bool, 's' str */
    int64_t i;
    bool b;
    const char *s;
} CVal;

static bool cond_eval(Expander *x, const Node *e, const DimEnv *env, XFrame *fr, CVal *out);

static bool cond_type(const Type *t, const DimEnv *env, DimCtx *dc, CVal *out) {
    if (!t)
        return false;
    if (t->kind == TY_BOOL && t->known) {
        *out = (CVal){.kind = 'b', .b = t->bval};
        return true;
    }
    if (t->kind == TY_STR && t->sval) {
        *out = (CVal){.kind = 's', .s = t->sval};
        return true;
    }
    if (t->kind == TY_INT && t->ival) {
        const SDim *d = env ? ty_dim_subst(dc, t->ival, env) : t->ival;
        out->kind = 'i';
        return ty_dim_is_const(d, &out->i);
    }
    return false;
}

static bool cond_ident(Expander *x, const Node *e, const DimEnv *env, XFrame *fr, CVal *out) {
    DimBind *db = env ? ty_env_find(env, e->name) : NULL;
    if (db && !db->is_rest) {
        out->kind = 'i';
        return ty_dim_is_const(db->dim, &out->i);
    }
    for (int i = 0; fr && i < fr->decl->nformals; i++) {
        Node *f = fr->decl->formals[i];
        if (strcmp(f->name, e->name) != 0)
            continue;
        if (fr->args && fr->args[i])
            return cond_eval(x, fr->args[i], fr->env, fr->up, out);
        return f->lhs && cond_eval(x, f->lhs, NULL, NULL, out);
    }
    /* a binding of the owner (a model's `deep = true`): the type the checker found */
    return e->ref && cond_type(e->ref->ty, NULL, &x->C->dc, out);
}

static bool cond_eval(Expander *x, const Node *e, const DimEnv *env, XFrame *fr, CVal *out) {
    CVal l, r;
    switch (e->kind) {
    case ND_INT: *out = (CVal){.kind = 'i', .i = e->ival}; return true;
    case ND_BOOL: *out = (CVal){.kind = 'b', .b = e->ival != 0}; return true;
    case ND_STR: *out = (CVal){.kind = 's', .s = e->name}; return true;
    case ND_IDENT: return cond_ident(x, e, env, fr, out);
    case ND_UNARY:
        if (!cond_eval(x, e->lhs, env, fr, &l))
            return false;
        if (e->op == 'n' && l.kind == 'b') {
            *out = (CVal){.kind = 'b', .b = !l.b};
            return true;
        }
        if (e->op == '-' && l.kind == 'i' && l.i != INT64_MIN) {
            *out = (CVal){.kind = 'i', .i = -l.i};
            return true;
        }
        return false;
    case ND_BINARY:
        if (!cond_eval(x, e->lhs, env, fr, &l) || !cond_eval(x, e->rhs, env, fr, &r) || l.kind != r.kind)
            return false;
        if (l.kind == 'b' && (e->op == OP_AND_ || e->op == OP_OR_ || e->op == OP_EQ_ || e->op == OP_NE_)) {
            bool v = e->op == OP_AND_ ? l.b && r.b : e->op == OP_OR_ ? l.b || r.b : (l.b == r.b) == (e->op == OP_EQ_);
            *out = (CVal){.kind = 'b', .b = v};
            return true;
        }
        if (l.kind == 's' && (e->op == OP_EQ_ || e->op == OP_NE_)) {
            *out = (CVal){.kind = 'b', .b = (strcmp(l.s, r.s) == 0) == (e->op == OP_EQ_)};
            return true;
        }
        if (l.kind != 'i')
            return false;
        switch (e->op) {
        case OP_EQ_: *out = (CVal){.kind = 'b', .b = l.i == r.i}; return true;
        case OP_NE_: *out = (CVal){.kind = 'b', .b = l.i != r.i}; return true;
        case OP_LT_: *out = (CVal){.kind = 'b', .b = l.i < r.i}; return true;
        case OP_LE_: *out = (CVal){.kind = 'b', .b = l.i <= r.i}; return true;
        case OP_GT_: *out = (CVal){.kind = 'b', .b = l.i > r.i}; return true;
        case OP_GE_: *out = (CVal){.kind = 'b', .b = l.i >= r.i}; return true;
        case OP_ADD_: out->kind = 'i'; return im_add(l.i, r.i, &out->i);
        case OP_SUB_: out->kind = 'i'; return im_sub(l.i, r.i, &out->i);
        case OP_MUL_: out->kind = 'i'; return im_mul(l.i, r.i, &out->i);
        default: return false;
        }
    default:
        return false;
    }
}

static DimEnv compose(Check *C, const DimEnv *inner, const DimEnv *outer) {
    DimEnv e = {.inst = 0};
    for (int i = 0; i < inner->n; i++) {
        const DimBind *bd = &inner->b[i];
        if (bd->is_rest)
            ty_env_bind_rest(C->a, &e, bd->name, ty_shape_subst(&C->dc, &bd->shape, outer), bd->where);
        else
            ty_env_bind_dim(C->a, &e, bd->name, ty_dim_subst(&C->dc, bd->dim, outer), bd->where);
    }
    return e;
}

static void expand_body(Expander *x, const Node *callee, const DimEnv *env, const char *prefix) {
    DeclInfo *di = info_of(x->C, callee);
    if (!di || di->state != 2)
        return;
    Naming nm = {0};
    expand_items(x, &di->items, env, prefix, &nm);
}

/* A value-dependent callee's generic records may not know its parameters' types (conv2d's result
 * has no type until its k, stride and padding are known), so such a call is expanded from the
 * records of its instance check: they are in the caller's variables, so env applies to them as it
 * is. */
static void expand_call(Expander *x, const CallRec *cr, const DimEnv *env, const char *path) {
    const Items *own = cr->ins ? cr->ins->items : cr->items;
    XFrame fr = {cr->callee, cr->args, env, x->frame};
    x->frame = &fr;
    x->depth++;
    if (own) {
        Naming nm = {0};
        expand_items(x, own, env, path, &nm);
    } else {
        DimEnv e2 = compose(x->C, cr->ins ? &cr->ins->env : &cr->env, env);
        expand_body(x, cr->callee, &e2, path);
    }
    x->depth--;
    x->frame = fr.up;
}

/* The statement's own parameters, named by nm (naming_stmt was called for it). */
static void expand_stmt(Expander *x, const Item *it, const DimEnv *env, const char *prefix, Naming *nm) {
    for (int i = 0; i < it->ncalls; i++) {
        const CallRec *cr = &it->calls[i];
        expand_call(x, cr, env, join(x->C, prefix, naming_call(x->C->a, nm, cr->callee->name, cr->direct)));
    }
}

static bool items_make_params(const Items *it) {
    for (int i = 0; it && i < it->n; i++) {
        const Item *t = &it->v[i];
        if (t->kind == IT_PARAM || t->kind == IT_STATE || (t->kind == IT_STMT && t->ncalls > 0) ||
            (t->kind == IT_LOOP && (items_make_params(t->first) || items_make_params(t->rest))))
            return true;
        for (int k = 0; t->kind == IT_LOOP && k < t->niters; k++)
            if (items_make_params(&t->iters[k]))
                return true;
        for (int k = 0; t->kind == IT_IF && k < t->narms; k++)
            if (items_make_params(&t->arms[k]))
                return true;
    }
    return false;
}

static void expand_items(Expander *x, const Items *it, const DimEnv *env, const char *prefix, Naming *nm) {
    Check *C = x->C;
    for (int i = 0; i < it->n && !x->fail; i++) {
        const Item *t = &it->v[i];
        if (++x->work > MAX_EXPAND_WORK) {
            x->fail = "it has too many layer calls";
            return;
        }
        switch (t->kind) {
        case IT_PARAM:
        case IT_STATE: {
            if (x->out->n >= MAX_PARAMS) {
                x->fail = "it has too many parameters";
                return;
            }
            ParamEntry *e = ARENA_PUSH(C->a, x->out->e, x->out->n, x->out->cap);
            e->path = join(C, prefix, t->name);
            e->kind = t->kind == IT_PARAM ? PE_PARAM : PE_STATE;
            e->ty = env ? ty_subst(&C->dc, t->ty, env) : t->ty;
            e->decl = t->node;
            e->origin = x->depth ? x->origin : t->node;
            break;
        }
        case IT_STMT:
            if (t->ncalls == 0)
                break;
            if (!x->depth)
                x->origin = t->node;
            naming_stmt(nm, t->name);
            /* the item itself, or the copy a binding kept from before its list grew (new_item
             * moves the list; the call records stay put, so they name the statement) */
            if (t->name && x->want && (t == x->want || t->calls == x->want->calls))
                x->found = join(C, prefix, naming_base(C->a, nm));
            expand_stmt(x, t, env, prefix, nm);
            break;
        case IT_IF: {
            int k = 0;
            for (const Node *arm = t->node; arm && k < t->narms; arm = arm->body, k++) {
                CVal c;
                if (!arm->lhs)
                    break;
                if (!cond_eval(x, arm->lhs, env, x->frame, &c) || c.kind != 'b') {
                    if (x->all_arms) {
                        k = -1;
                        break;
                    }
                    x->fail = "a parameter is made under an 'if' whose condition is not known here";
                    x->fail_at = arm->lhs;
                    return;
                }
                if (c.b)
                    break;
            }
            for (int j = k < 0 ? 0 : k; j < (k < 0 ? t->narms : k + 1) && j < t->narms; j++)
                expand_items(x, &t->arms[j], env, prefix, nm);
            break;
        }
        case IT_LOOP: {
            int64_t lo, hi;
            if (!items_make_params(t->first) && !items_make_params(t->rest))
                break;
            const SDim *l = t->lo ? ty_dim_subst(&C->dc, t->lo, env) : NULL;
            const SDim *h = t->hi ? ty_dim_subst(&C->dc, t->hi, env) : NULL;
            if (!l || !h || !ty_dim_is_const(l, &lo) || !ty_dim_is_const(h, &hi)) {
                x->fail = "a loop that makes parameters has bounds not known here";
                return;
            }
            if (im_trips(lo, hi) > NNC_MAX_LOOP_TRIPS) {
                x->fail = "a loop that makes parameters runs too many times";
                return;
            }
            for (int64_t v = lo; v < hi && !x->fail; v++) {
                DimEnv e2 = {.inst = 0};
                if (env)
                    for (int j = 0; j < env->n; j++)
                        *ARENA_PUSH(C->a, e2.b, e2.n, e2.cap) = env->b[j];
                ty_env_bind_dim(C->a, &e2, t->name, ty_dim_const(&C->dc, v), (Loc){0});
                expand_items(x, t->iters && v - lo < t->niters ? &t->iters[v - lo] : v == lo ? t->first : t->rest,
                             &e2, prefix, nm);
            }
            break;
        }
        }
    }
}

/* The parameters a statement made, relative to its bound name (for h.W). NULL: not known. */
static const ParamList *stmt_params(Check *C, Item *it) {
    if (it->local)
        return it->local;
    ParamList *l = arena_alloc(C->a, sizeof *l);
    Expander x = {C, l, NULL, 0, NULL, NULL, 0, NULL, NULL, NULL, false};
    Naming nm = {0};
    naming_stmt(&nm, "");       /* relative to the bound name: its direct call is "" */
    expand_stmt(&x, it, NULL, "", &nm);
    if (x.fail)
        return NULL;
    bool live = false;      /* an instance's types grow as its calls bind its variables */
    for (int i = 0; i < it->ncalls; i++)
        live |= it->calls[i].ins != NULL;
    if (!live)
        it->local = l;
    return l;
}

/* ---- expressions ---- */

/* f32[B, 1] where f32[B] is expected, or the other way round: a Dense(1) output against a
 * vector of targets, the classic course mix-up. */
static void hint_unit_axis(Body *b, const Type *want, const Type *got) {
    if (want->kind != TY_TENSOR || want->shape.rest >= 0 || got->shape.rest >= 0)
        return;
    const Type *lo = want->shape.rank < got->shape.rank ? want : got;
    const Type *hi = lo == want ? got : want;
    int64_t one;
    if (hi->shape.rank != lo->shape.rank + 1 || !ty_dim_is_const(hi->shape.dims[hi->shape.rank - 1], &one) ||
        one != 1)
        return;
    for (int i = 0; i < lo->shape.rank; i++)
        if (!ty_dim_eq(lo->shape.dims[i], hi->shape.dims[i]))
            return;
    if (hi == got)
        check_hint(b, "drop the axis of extent 1: x[:, 0] or reshape(x, [B])");
    else
        check_hint(b, "add an axis of extent 1: reshape(x, [B, 1]), or drop it on the other side with [:, 0]");
}

static const Type *check_call(Body *b, Node *n);
static const Type *call_value(Body *b, Node *n, const Type *ft, Node **args, int nargs);
static void check_decl(Check *C, DeclInfo *di);

static Type *fn_type(Body *b, const Node *decl, Builtin bi, const char *name) {
    Type *t = ty_new(b->C->a, TY_FN);
    t->decl = decl;
    t->builtin = bi;
    t->fname = name;
    return t;
}

static const Type *check_ident(Body *b, Node *n) {
    Check *C = b->C;
    Binding *bd = lookup(b, n->name);
    if (bd) {
        set_ref(b, n, bd->node);
        if (bd->ty->kind == TY_FN && bd->ty->instance && !b->callee) {
            /* `h = dense(x)` without units made an instance; h is then used as a tensor */
            const Instance *ins = bd->ty->instance;
            const Node *d = ins->ci->decl;
            const char *open = "";
            for (int i = 0; i < d->nformals; i++)
                if (!ins->slot[i] && !d->formals[i]->lhs)
                    open = arena_printf(C->a, "%s%s'%s'", open, *open ? ", " : "", d->formals[i]->name);
            check_error(b, n->loc, "'%s' is an instance of layer %s, not a value: call it, as %s(...)", n->name,
                        d->name, n->name);
            check_note(b, ins->where->loc, "the call that made it gives no value for %s", open);
            check_hint(b, "a layer call that leaves formals open makes an instance [layer.instance]; give them "
                          "to compute a value here");
            return ty_error();
        }
        return bd->ty;
    }
    DimBind *db = b->dims ? ty_env_find(b->dims, n->name) : NULL;
    if (db && !db->is_rest) {
        Type *t = ty_new(C->a, TY_INT);
        t->ival = db->dim;
        return t;
    }
    if (db && db->is_rest) {
        check_error(b, n->loc, "'%s' is a shape variable (*%s), not a value", n->name, n->name);
        return ty_error();
    }
    DeclInfo *di = decl_find_from(C, n->name, body_file(b));
    /* a model is never a value: a model named like a builtin (`model erf`) leaves the builtin to
     * every body that calls it (stdlib's gelu calls erf) */
    if (di && di->decl->kind == ND_MODEL && check_builtin_lookup(n->name))
        di = NULL;
    if (di) {
        set_ref(b, n, di->decl);
        if (di->decl->kind == ND_MODEL) {
            check_error(b, n->loc, "'%s' is a model, not a value", n->name);
            return ty_error();
        }
        return fn_type(b, di->decl, BI_NONE, di->decl->name);
    }
    Builtin bi = check_builtin_lookup(n->name);
    if (bi)
        return fn_type(b, NULL, bi, check_builtins[bi].name);
    if (strcmp(n->name, "training") == 0)
        return ty_tensor(C->a, DT_BOOL, 0, NULL);
    if (strcmp(n->name, "step") == 0 || strcmp(n->name, "total_steps") == 0) {
        if (b->kind == ND_OPTIMIZER)
            return ty_tensor(C->a, DT_F32, 0, NULL);
        check_error(b, n->loc, "'%s' is only available inside an optimizer", n->name);
        return ty_error();
    }
    if (is_initializer_name(n->name)) {
        check_error(b, n->loc, "'%s' is an initializer; it can only follow '=' in a param or state "
                    "declaration", n->name);
        if (strcmp(n->name, "zeros") == 0 || strcmp(n->name, "ones") == 0)
            check_hint(b, "a tensor of %s in an expression is %s_like(x), shaped like a tensor x", n->name,
                       n->name);
        return ty_error();
    }
    check_error(b, n->loc, "undefined name '%s'", n->name);
    suggest_undefined(b, n->name);
    return ty_error();
}

/* The next components of paths under prefix (for suggestions). */
static void member_candidates(Check *C, const ParamList *l, const char *prefix, Names *ns) {
    size_t pn = prefix ? strlen(prefix) : 0;
    for (int i = 0; i < l->n; i++) {
        const char *p = l->e[i].path;
        if (pn && (strncmp(p, prefix, pn) != 0 || p[pn] != '.'))
            continue;
        const char *s = pn ? p + pn + 1 : p;
        const char *dot = strchr(s, '.');
        names_add(C, ns, dot ? arena_strndup(C->a, s, (size_t)(dot - s)) : s);
    }
}

static const Type *group_member(Body *b, Node *n, const ParamList *l, const char *prefix, const char *shown) {
    Check *C = b->C;
    const char *rel = join(C, prefix, n->name);
    const ParamEntry *e = ty_params_find(l, rel);
    if (e) {
        set_ref(b, n, (Node *)e->decl);
        return e->ty;
    }
    if (ty_params_has_prefix(l, rel)) {
        Type *t = ty_new(C->a, TY_GROUP);
        t->params = l;
        t->path = rel;
        return t;
    }
    check_error(b, n->loc, "'%s' has no parameter or group '%s'", shown, n->name);
    /* `h = dropout(dense(x, 32), 0.3)`: the dense is nested, so its W is h.dense.W [layer.naming] */
    size_t pn = prefix ? strlen(prefix) : 0, nn = strlen(n->name);
    const char *deeper = NULL;
    int ndeeper = 0;
    for (int i = 0; i < l->n; i++) {
        const char *p = l->e[i].path;
        size_t len = strlen(p);
        if (pn && (strncmp(p, prefix, pn) != 0 || p[pn] != '.'))
            continue;
        if (len > pn + nn + 1 && p[len - nn - 1] == '.' && !strcmp(p + len - nn, n->name)) {
            if (!deeper)
                deeper = arena_printf(C->a, "%s.%s", shown, p + (pn ? pn + 1 : 0));
            ndeeper++;
        }
    }
    if (deeper) {
        check_hint(b, "did you mean '%s'%s? a layer call nested in an expression is named after the binding and "
                   "the layer [layer.naming]", deeper, ndeeper > 1 ? " (or another of the same name)" : "");
        return ty_error();
    }
    Names ns = {0};
    member_candidates(C, l, prefix, &ns);
    check_hint_similar(b, n->name, ns.v, ns.n, NULL);
    return ty_error();
}

/* The parameters the body has made so far, by the names of the weights file (relative to the
 * body), and the path of the statement want in it. NULL when they cannot be listed here. */
static const ParamList *body_params(Body *b, const Item *want, const char **path) {
    if (!b->root)
        return NULL;
    ParamList *l = arena_alloc(b->C->a, sizeof *l);
    Expander x = {b->C, l, NULL, 0, want, NULL, 0, NULL, NULL, NULL, false};
    Naming nm = {0};
    expand_items(&x, b->root, NULL, "", &nm);
    if (x.fail)
        return NULL;
    if (path)
        *path = x.found;
    return l;
}

/* [layer.member] `h.W` where h is bound to a layer call means that call's W; when the weights file
 * names another parameter `h.W` (h was bound before: this call's are h_2.*), the name means two
 * things and is an error listing both. */
static bool member_ambiguous(Body *b, Node *n, Binding *bd) {
    Check *C = b->C;
    if (b->loop_depth > 0 || b->instance)
        return false;           /* inside a loop a binding's path changes with the iteration */
    const char *cur = NULL;
    const ParamList *l = body_params(b, bd->stmt, &cur);
    if (!l || !cur || strcmp(cur, n->lhs->name) == 0)
        return false;
    const char *byname = join(C, n->lhs->name, n->name);
    const ParamEntry *e = ty_params_find(l, byname);
    if (!e && !ty_params_has_prefix(l, byname))
        return false;
    const char *mine = join(C, cur, n->name);
    check_error(b, n->loc, "'%s' could mean two parameters: '%s' of the current binding of '%s', or the "
                "parameter named '%s'", byname, mine, n->lhs->name, byname);
    check_note(b, bd->node->loc, "'%s' is the current binding of '%s' (its parameters are %s.*)", n->lhs->name,
               n->lhs->name, cur);
    for (Binding *o = bd->shadow; o; o = o->shadow) {
        const char *op = NULL;
        if (o->stmt && body_params(b, o->stmt, &op) && op && strcmp(op, n->lhs->name) == 0) {
            check_note(b, o->node->loc, "this earlier binding of '%s' makes '%s'", n->lhs->name, byname);
            break;
        }
    }
    (void)e;
    check_hint(b, "write %s for the current binding's, or give the bindings different names", mine);
    return true;
}

/* `nn.dense` [scope.qualified]: the declaration `name` of the module `use`d as mod, or NULL. */
static DeclInfo *qualified_decl(Check *C, const char *mod, const char *name) {
    bool used = false;
    for (int i = 0; i < C->prog->nkids && !used; i++)
        used = C->prog->kids[i]->kind == ND_USE && C->prog->kids[i]->name && strcmp(C->prog->kids[i]->name, mod) == 0;
    const char *last = strrchr(mod, '.');
    last = last ? last + 1 : mod;
    size_t n = strlen(last);
    for (DeclInfo *di = used ? decl_find(C, name) : NULL; di; di = di->shadow) {
        const SrcFile *f = di->decl->loc.file;
        if (!f || !f->name)
            continue;
        const char *base = strrchr(f->name, '/');
        base = base ? base + 1 : f->name;
        if (strncmp(base, last, n) == 0 && strcmp(base + n, ".nn") == 0)
            return di;
    }
    return NULL;
}

static bool is_module(Check *C, const char *mod) {
    for (int i = 0; i < C->prog->nkids; i++)
        if (C->prog->kids[i]->kind == ND_USE && C->prog->kids[i]->name && strcmp(C->prog->kids[i]->name, mod) == 0)
            return true;
    return false;
}

static const Type *check_member(Body *b, Node *n) {
    Check *C = b->C;
    if (n->lhs->kind == ND_IDENT && !lookup(b, n->lhs->name) && is_module(C, n->lhs->name)) {
        DeclInfo *di = qualified_decl(C, n->lhs->name, n->name);
        if (!di || di->decl->kind == ND_MODEL) {
            check_error(b, n->name_loc.file ? n->name_loc : n->loc, "module '%s' declares no function or layer '%s'",
                        n->lhs->name, n->name);
            if (course_hint(b, n->name))    /* nn.ReLU, nn.Linear: PyTorch's torch.nn spelling */
                return ty_error();
            Names ns = {0};
            for (int i = 0; i < C->ndecls; i++)
                if (C->order[i]->decl->kind != ND_MODEL && qualified_decl(C, n->lhs->name, C->order[i]->decl->name))
                    names_add(C, &ns, C->order[i]->decl->name);
            check_hint_similar(b, n->name, ns.v, ns.n, NULL);
            return ty_error();
        }
        set_ref(b, n, di->decl);
        Type *t = fn_type(b, di->decl, BI_NONE, di->decl->name);
        return t;
    }
    if (n->lhs->kind == ND_IDENT) {
        Binding *bd = lookup(b, n->lhs->name);
        if (!bd && !(b->dims && ty_env_find(b->dims, n->lhs->name))) {
            /* h_2.W: a parameter by its weights-file name [layer.member]; also encoder.h.W, the
             * parameters of a call that binds no one name (mu, logvar = encoder(x, 8)), named after
             * its layer [fn.results] */
            const ParamList *l = body_params(b, NULL, NULL);
            if (l && (ty_params_find(l, n->lhs->name) || ty_params_has_prefix(l, n->lhs->name))) {
                Type *g = ty_new(C->a, TY_GROUP);
                g->params = l;
                g->path = n->lhs->name;
                check_set(b, n->lhs, g);
                return group_member(b, n, l, n->lhs->name, n->lhs->name);
            }
        }
        if (bd && bd->stmt && !ty_is_bad(bd->ty) && member_ambiguous(b, n, bd))
            return ty_error();
        if (bd && bd->stmt) {
            const ParamList *l = stmt_params(C, bd->stmt);
            check_set(b, n->lhs, bd->ty);
            set_ref(b, n->lhs, bd->node);
            if (!l)
                return ty_any();
            if (ty_params_find(l, n->name) || ty_params_has_prefix(l, n->name) || strcmp(n->name, "T") != 0) {
                const Type *t = group_member(b, n, l, NULL, n->lhs->name);
                return bd->member_env && t->kind == TY_TENSOR ? ty_subst(&C->dc, t, bd->member_env) : t;
            }
        }
        if (bd && !bd->stmt && b->loop_depth == 0 && !b->instance && strcmp(n->name, "T") != 0) {
            /* h = dense(...), then h = dropout(h, 0.5): the current h makes no parameters, so h.W
             * is the parameter the weights file names h.W [layer.member] */
            const ParamList *l = body_params(b, NULL, NULL);
            const char *byname = join(C, n->lhs->name, n->name);
            if (l && (ty_params_find(l, byname) || ty_params_has_prefix(l, byname))) {
                Type *g = ty_new(C->a, TY_GROUP);
                g->params = l;
                g->path = n->lhs->name;
                check_set(b, n->lhs, g);
                return group_member(b, n, l, n->lhs->name, n->lhs->name);
            }
        }
    }
    const Type *x = check_expr(b, n->lhs);
    if (ty_is_bad(x))
        return x;
    if (x->kind == TY_GROUP)
        return group_member(b, n, x->params, x->path, x->path);
    if (x->kind == TY_TENSOR && strcmp(n->name, "T") == 0) {
        if (x->shape.rest >= 0) {
            check_error(b, n->loc, "'.T' needs a tensor of known rank, got %s", check_tystr(b, x));
            return ty_error();
        }
        const SDim **d = arena_alloc(C->a, sizeof *d * (size_t)(x->shape.rank + 1));
        for (int i = 0; i < x->shape.rank; i++)
            d[i] = x->shape.dims[x->shape.rank - 1 - i];
        return ty_tensor(C->a, x->dtype, x->shape.rank, d);
    }
    if (n->lhs->kind == ND_IDENT) {
        check_error(b, n->loc, "'%s' has no member '%s': it is %s, not a layer call", n->lhs->name, n->name,
                    check_tystr(b, x));
        bool fn_named = decl_find(C, n->name) != NULL;
        for (int i = 1; i < BI__COUNT && !fn_named; i++)
            fn_named = strcmp(check_builtins[i].name, n->name) == 0;
        if (x->kind == TY_TENSOR && fn_named)    /* NumPy's x.mean(axis=0) */
            check_hint(b, "tensors have no methods: write %s(%s, ...)", n->name, n->lhs->name);
        else if (x->kind == TY_TENSOR)
            check_hint(b, "'.name' reaches the parameters of a layer call bound to a name, as in h.W");
    } else {
        check_error(b, n->loc, "%s has no member '%s'", check_tystr(b, x), n->name);
    }
    return ty_error();
}

static bool dim_has_div(const SDim *d) {
    for (int i = 0; d && i < d->n; i++)
        for (int j = 0; j < d->t[i].n; j++) {
            const DimAtom *a = d->t[i].atoms[j];
            if (a->kind == DA_DIV || a->kind == DA_MOD)
                return true;
        }
    return false;
}

/* [dim.div] In a model every dim is a number or arithmetic on B, so a division that did not
 * simplify, (1568*B)/3136, is not whole for every batch size: an error here, at the expression
 * that made it, naming the arithmetic (not later, where the odd type meets another). */
static bool check_whole(Body *b, Node *n, const Type *t) {
    if (b->kind != ND_MODEL || b->instance || t->kind != TY_TENSOR)
        return true;
    for (int i = 0; i < t->shape.rank; i++) {
        if (!dim_has_div(t->shape.dims[i]))
            continue;
        const char *what = n->kind == ND_CALL && n->lhs->kind == ND_IDENT ? n->lhs->name : "this expression";
        check_error(b, n->loc, "%s gives %s: %s is not a whole number for every batch size B", what,
                    check_tystr(b, t), check_dimstr(b, t->shape.dims[i]));
        if (n->kind == ND_CALL && n->nkids > 0 && n->kids[0]->ty && n->kids[0]->ty->kind == TY_TENSOR)
            check_note(b, n->kids[0]->loc, "this is %s", check_tystr(b, n->kids[0]->ty));
        return false;
    }
    return true;
}

/* ---- several results [fn.results] ---- */

/* The callee a call names, for messages: `encoder`, `enc` (an instance), else "this call". */
static const char *callee_text(Body *b, const Node *call) {
    if (call->kind != ND_CALL)
        return "this expression";
    if (call->lhs->kind == ND_IDENT)
        return arena_printf(b->C->a, "'%s'", call->lhs->name);
    if (call->lhs->kind == ND_MEMBER && call->lhs->lhs && call->lhs->lhs->kind == ND_IDENT)
        return arena_printf(b->C->a, "'%s.%s'", call->lhs->lhs->name, call->lhs->name);
    return "this call";
}

/* Names for the n results of call in a hint: those the callee's body returns, when it ends in
 * `return mu, logvar` (or `mu, logvar`), or passes on a call that does (stdlib's lstm_state
 * returns _lstm_steps' `out, h, c`), else a, b, ... */
static const char *unpack_names(Body *b, const Node *call, int n) {
    const Node *tu = call;
    for (int depth = 0; depth < 8 && tu && tu->kind == ND_CALL; depth++) {
        const Node *d = tu->ref;
        const Node *last = d && (d->kind == ND_FN || d->kind == ND_LAYER) && d->nkids ? d->kids[d->nkids - 1] : NULL;
        tu = last && (last->kind == ND_RETURN || last->kind == ND_EXPR) ? last->lhs : NULL;
    }
    if (tu == call) tu = NULL;
    bool named = tu && tu->kind == ND_TUPLE && tu->nkids == n;
    for (int i = 0; named && i < n; i++) {
        named = tu->kids[i]->kind == ND_IDENT;
        for (int j = 0; named && j < i; j++)
            named = strcmp(tu->kids[i]->name, tu->kids[j]->name) != 0;
    }
    const char *r = "";
    for (int i = 0; i < n; i++)
        r = named ? arena_printf(b->C->a, "%s%s%s", r, i ? ", " : "", tu->kids[i]->name)
                  : arena_printf(b->C->a, "%s%s%c", r, i ? ", " : "", 'a' + (i % 26));
    return r;
}

/* `return a, b` / `(a, b)` as the result of a body: each element a tensor or a number. */
static const Type *check_tuple(Body *b, Node *n) {
    Check *C = b->C;
    const Type **el = arena_alloc(C->a, sizeof *el * (size_t)(n->nkids + 1));
    bool bad = false;
    for (int i = 0; i < n->nkids; i++) {
        el[i] = check_expr(b, n->kids[i]);
        if (ty_is_bad(el[i])) {
            bad = true;
            continue;
        }
        if (el[i]->kind != TY_TENSOR && el[i]->kind != TY_INT && el[i]->kind != TY_FLOAT && el[i]->kind != TY_BOOL) {
            check_error(b, n->kids[i]->loc, "result %d must be a tensor or a number, got %s", i + 1,
                        check_tystr(b, el[i]));
            bad = true;
        }
    }
    return bad ? ty_error() : ty_tuple(C->a, n->nkids, el);
}

/* A value of several results where one value is needed: `h = encoder(x)`, `encoder(x) + 1`. */
static const Type *tuple_misplaced(Body *b, Node *n, const Type *t) {
    if (n->kind == ND_TUPLE) {
        check_error(b, n->loc, "several results %s are only the result of a fn or layer: its 'return' or its "
                    "last expression", check_tystr(b, t));
        if (b->kind == ND_MODEL)
            check_hint(b, "a model has no result: declare outputs (output mu = ...)");
        return ty_error();
    }
    const char *who = callee_text(b, n);
    check_error(b, n->loc, "%s gives %d results %s, not one value", who, t->nelems, check_tystr(b, t));
    const char *call = n->kind == ND_CALL ? arena_strndup(b->C->a, n->loc.file->text + n->loc.off, (size_t)n->loc.len)
                                          : "f(x)";
    if (b->stmt && b->stmt_rhs == n && b->stmt->node && b->stmt->node->kind == ND_BIND)
        check_hint(b, "bind each result to a name: %s = %s (`_` drops one)", unpack_names(b, n, t->nelems), call);
    else
        check_hint(b, "bind the results to names first: %s = %s, then use them (`_` drops one)",
                   unpack_names(b, n, t->nelems), call);
    return ty_error();
}

const Type *check_expr(Body *b, Node *n) {
    Check *C = b->C;
    const Type *t;
    if (!n)
        return ty_error();      /* the parser reported what is missing */
    switch (n->kind) {
    case ND_INT: {
        Type *it = ty_new(C->a, TY_INT);
        it->ival = ty_dim_const(&C->dc, n->ival);
        t = it;
        break;
    }
    case ND_FLOAT: {
        Type *ft = ty_new(C->a, TY_FLOAT);
        ft->known = true;
        ft->fval = n->fval;
        t = ft;
        break;
    }
    case ND_STR: {
        Type *st = ty_new(C->a, TY_STR);
        st->sval = n->name;
        t = st;
        break;
    }
    case ND_BOOL: {
        Type *bt = ty_new(C->a, TY_BOOL);
        bt->known = true;
        bt->bval = n->ival != 0;
        t = bt;
        break;
    }
    case ND_IDENT:
        t = check_ident(b, n);
        break;
    case ND_TENSOR:
        t = check_tensor_literal(b, n);
        break;
    case ND_UNARY:
        t = check_unary(b, n);
        break;
    case ND_BINARY: {
        const Type *l = check_expr(b, n->lhs), *r = check_expr(b, n->rhs);
        if ((n->op == OP_EQ_ || n->op == OP_NE_) && l->kind == TY_STR && r->kind == TY_STR) {
            Type *bt = ty_new(C->a, TY_BOOL);     /* padding == "same" [if] */
            bt->known = l->sval && r->sval;
            bt->bval = bt->known && (strcmp(l->sval, r->sval) == 0) == (n->op == OP_EQ_);
            t = bt;
            break;
        }
        t = check_binary(b, n, n->op, l, r, n->loc, NULL);
        break;
    }
    case ND_CALL:
        t = check_call(b, n);
        break;
    case ND_INDEX:
        t = check_index(b, n);
        break;
    case ND_MEMBER:
        t = check_member(b, n);
        break;
    case ND_ARG:
        check_error(b, n->loc, "a named argument is only allowed in a call");
        t = ty_error();
        break;
    case ND_TUPLE:
        t = check_tuple(b, n);
        break;
    default:
        check_error(b, n->loc, "expected an expression");
        t = ty_error();
        break;
    }
    if (t->kind == TY_TUPLE && n != b->tuple_ok)
        t = tuple_misplaced(b, n, t);
    if (!ty_is_bad(t) && !check_size(b, n->loc, t))
        t = ty_error();
    if (!ty_is_bad(t) && !check_whole(b, n, t))
        t = ty_error();
    return check_set(b, n, t);
}

/* ---- calls [call] ---- */

typedef struct Callee {
    const char *name;
    int nf;
    const char **names;
    const bool *has_default;
    Node **formals;         /* user functions: the ND_FORMALs (notes); NULL for builtins */
    bool allow_open;        /* a formal may be left without a value (a layer instance is made) */
    Instance *ins;          /* a call of this layer instance: the formals it was given are taken */
} Callee;

/* Match arguments to formals: positional first, then named [call.order]. slot[i] = the argument
 * expression for formal i (NULL: none), sty[i] its type. A call of a layer instance
 * [layer.instance] gives the formals left open when it was made: positional arguments skip the
 * others, and naming one of them is an error. False when an error was reported. */
static bool match_args(Body *b, Node *call, const Callee *ce, Node **args, int nargs, const Type **argty,
                       Node **slot, const Type **sty) {
    Check *C = b->C;
    bool ok = true, named = false;
    int pos = 0;
    for (int i = 0; i < nargs; i++) {
        Node *a = args[i];
        if (a->kind == ND_ARG) {
            named = true;
            int f = -1;
            for (int j = 0; j < ce->nf; j++)
                if (strcmp(ce->names[j], a->name) == 0)
                    f = j;
            if (f < 0) {
                check_error(b, a->name_loc.file ? a->name_loc : a->loc, "%s has no parameter named '%s'",
                            ce->name, a->name);
                const char *list = "", *alias = NULL;
                for (int j = 0; j < ce->nf; j++) {
                    list = arena_printf(C->a, "%s%s'%s'", list, j ? ", " : "", ce->names[j]);
                    for (size_t k = 0; k < sizeof course_args / sizeof course_args[0]; k++)
                        if (!strcmp(a->name, course_args[k].theirs) && !strcmp(ce->names[j], course_args[k].ours))
                            alias = ce->names[j];
                }
                const char *all = arena_printf(C->a, "%s takes %s", ce->name, ce->nf ? list : "no parameters");
                /* a misspelt Keras/PyTorch name (activaton), or a longer form of a formal (activation_fn
                 * for act): the formal it means */
                const char *near = NULL;
                for (int j = 0; !alias && !near && j < ce->nf; j++) {
                    for (size_t k = 0; k < sizeof course_args / sizeof course_args[0]; k++) {
                        const char *th = course_args[k].theirs;
                        if (!strcmp(ce->names[j], course_args[k].ours) && strlen(th) > 3 &&
                            diag_suggest(a->name, &th, 1))
                            near = ce->names[j];
                    }
                    size_t fl = strlen(ce->names[j]);
                    if (!near && fl >= 2 && strlen(a->name) > fl && !strncmp(a->name, ce->names[j], fl))
                        near = ce->names[j];
                }
                if (alias)
                    check_hint(b, "%s's '%s' is called '%s' here: %s = ...", ce->name, a->name, alias, alias);
                else if (near)
                    check_hint(b, "did you mean '%s'? (%s)", near, all);
                else if (!strcmp(ce->name, "sgd") && (!strcmp(a->name, "momentum") || !strcmp(a->name, "nesterov")))
                    check_hint(b, "SGD with momentum is its own optimizer here: momentum(lr = ..., beta = 0.9) "
                               "(nesterov(...) for nesterov = True)");
                else if (strlen(a->name) < 2)   /* every 1-letter name is close to every other */
                    check_hint(b, "%s", all);
                else
                    check_hint_similar(b, a->name, ce->names, ce->nf, all);
                ok = false;
                continue;
            }
            if (ce->ins && ce->ins->slot[f]) {
                check_error(b, a->loc, "'%s' of this instance of %s was given when it was made", a->name, ce->name);
                check_note(b, ce->ins->slot[f]->loc, "given here");
                ok = false;
                continue;
            }
            if (slot[f]) {
                check_error(b, a->loc, "'%s' of %s is given twice", ce->names[f], ce->name);
                check_note(b, slot[f]->loc, "first given here");
                ok = false;
                continue;
            }
            slot[f] = a->lhs;
            sty[f] = argty[i];
            continue;
        }
        if (named) {
            check_error(b, a->loc, "a positional argument cannot follow a named one in the call of %s",
                        ce->name);
            ok = false;
            continue;
        }
        while (ce->ins && pos < ce->nf && ce->ins->slot[pos])
            pos++;
        if (pos >= ce->nf && ce->ins) {
            int open = 0;
            for (int j = 0; j < ce->nf; j++)
                open += !ce->ins->slot[j];
            check_error(b, a->loc, "this instance of %s takes %d argument%s, got %d", ce->name, open,
                        open == 1 ? "" : "s", nargs);
            check_note(b, ce->ins->where->loc, "the instance was made here");
            return false;
        }
        if (pos >= ce->nf) {
            check_error(b, a->loc, "%s takes %d argument%s, got %d", ce->name, ce->nf, ce->nf == 1 ? "" : "s",
                        nargs);
            return false;
        }
        slot[pos] = a;
        sty[pos] = argty[i];
        pos++;
    }
    (void)C;
    for (int j = 0; j < ce->nf && ok && !ce->allow_open; j++) {
        if (!slot[j] && !ce->has_default[j] && !(ce->ins && ce->ins->slot[j])) {
            check_error(b, call->loc, "%s needs a value for '%s'", ce->name, ce->names[j]);
            if (ce->formals)
                check_note(b, ce->formals[j]->loc, "'%s' is declared here", ce->names[j]);
            if (ce->formals && b->stmt && b->stmt_rhs == call && b->stmt->node && b->stmt->node->kind == ND_UNPACK &&
                call->ref && call->ref->kind == ND_LAYER)     /* mu, logvar = encoder(latent = 8) */
                check_hint(b, "a layer instance is made by a binding of one name, then called for its results: "
                              "enc = %s(...), then %s = enc(...)", ce->name, unpack_names(b, call, b->stmt->node->nkids));
            ok = false;
        }
    }
    return ok;
}

static const Type *builtin_value_call(Body *b, Node *n, Builtin bi, Node **args, int nargs, const Type **argty) {
    const BuiltinInfo *bf = &check_builtins[bi];
    bool has_default[BI_MAXFORMALS];
    for (int i = 0; i < bf->nformals; i++)
        has_default[i] = bf->defaults[i] != NULL;
    Callee ce = {bf->name, bf->nformals, (const char **)bf->formals, has_default, NULL, false, NULL};
    Node *slot[BI_MAXFORMALS] = {0};
    const Type *sty[BI_MAXFORMALS] = {0};
    if (!match_args(b, n, &ce, args, nargs, argty, slot, sty))
        return ty_error();
    return check_builtin_call(b, n, bi, slot, sty);
}

static bool weak_fits_tensor(const Type *t, DType dt) {
    return (t->kind == TY_INT && dt != DT_BOOL) || (t->kind == TY_FLOAT && dt == DT_F32) ||
           (t->kind == TY_BOOL && dt == DT_BOOL);
}

static const char *pattern_str(Body *b, const Type *pat, const DimEnv *env) {
    DimEnv e = *env;
    Type *t = ty_subst(&b->C->dc, pat, &e);
    return check_tystr(b, t);
}

/* The first variable of e (left to right) that before binds, or NULL. */
static DimBind *bound_var(const DimExpr *e, const DimEnv *before) {
    if (!e)
        return NULL;
    if (e->kind == DE_VAR || e->kind == DE_REST) {
        DimBind *db = ty_env_find(before, e->name);
        return db && db->where.file ? db : NULL;
    }
    if (e->kind == DE_BIN) {
        DimBind *db = bound_var(e->lhs, before);
        return db ? db : bound_var(e->rhs, before);
    }
    return NULL;
}

/* After a failed unification: a note at the binding of a variable of pat bound earlier. */
static void note_binding(Body *b, const TypeExpr *te, const DimEnv *before, Node *f) {
    for (int i = 0; te && te->kind == TE_TENSOR && i < te->ndims; i++) {
        DimBind *db = bound_var(te->dims[i], before);
        if (db) {
            if (db->is_rest)
                check_note(b, db->where, "*%s was bound to [%s] here", db->name, ty_shape_str(b->C->a, &db->shape));
            else
                check_note(b, db->where, "'%s' was bound to %s here", db->name, check_dimstr(b, db->dim));
            return;
        }
    }
    check_note(b, f->name_loc.file ? f->name_loc : f->loc, "'%s' is declared here", f->name);
}

static bool fn_is_layer(Check *C, const Type *ft) {
    DeclInfo *di = ft->decl ? info_of(C, ft->decl) : NULL;
    return di && di->decl->kind == ND_LAYER;
}

static const Type *instance_check(Body *caller, Node *call, DeclInfo *ci, const Type **vals, const DimEnv *env,
                                  Items **records);

/* A dim expression as written, with the variables env binds to numbers replaced by them. */
/* ctx: 0 anywhere, 1 an operand of * / % or the right of -, 2 the right of / or %. */
static const char *dimexpr_str(Check *C, const DimExpr *e, const DimEnv *env, int ctx) {
    switch (e->kind) {
    case DE_INT: return arena_printf(C->a, "%lld", (long long)e->ival);
    case DE_VAR: {
        DimBind *db = ty_env_find(env, e->name);
        int64_t v;
        if (db && !db->is_rest && ty_dim_is_const(db->dim, &v))
            return arena_printf(C->a, "%lld", (long long)v);
        return e->name;
    }
    case DE_REST: return arena_printf(C->a, "*%s", e->name);
    case DE_BIN: {
        bool sum = e->op == '+' || e->op == '-';
        const char *s = arena_printf(C->a, "%s %c %s", dimexpr_str(C, e->lhs, env, sum ? 0 : 1), e->op,
                                     dimexpr_str(C, e->rhs, env, e->op == '+' ? 0 : sum || e->op == '*' ? 1 : 2));
        return (ctx == 1 && sum) || ctx == 2 ? arena_printf(C->a, "(%s)", s) : s;
    }
    }
    return "?";
}

/* The declared result dim of decl that is not whole with the call's bindings, as written with
 * their values: `(28 - 5 + 2*0) / 2 + 1`. NULL when there is no such declared dim. */
static const char *result_arith(Body *b, Node *decl, const DimEnv *env0) {
    Check *C = b->C;
    TypeExpr *te0 = decl->tyexpr;
    if (!te0)
        return NULL;
    int nt = te0->kind == TE_TUPLE ? te0->nelems : 1;
    for (int k = 0; k < nt; k++) {
        TypeExpr *te = te0->kind == TE_TUPLE ? te0->elems[k] : te0;
        if (te->kind != TE_TENSOR)
            continue;
        for (int i = 0; i < te->ndims; i++) {
            if (te->dims[i]->kind == DE_REST)
                continue;
            Conv cv = {.pattern = true, .inst = 0, .ok = true};
            Body cb = {.C = C, .decl = decl, .kind = decl->kind};
            const SDim *d = conv_dim(&cb, te->dims[i], &cv);
            C->dc.div_error = NULL;
            ty_dim_subst(&C->dc, d, env0);
            if (C->dc.div_error) {
                C->dc.div_error = NULL;
                return dimexpr_str(C, te->dims[i], env0, 0);
            }
        }
    }
    return NULL;
}

/* ---- layer instances [layer.instance] ---- */

/* The variables of a layer that its parameters' types use (the generic parameter list of one
 * call of it). False when that list cannot be known generically. */
static void sym_names(Check *C, const SDim *d, Names *ns);

static void atom_names(Check *C, const DimAtom *a, Names *ns) {
    if (a->kind == DA_SYM || a->kind == DA_PROD) {
        for (int i = 0; i < ns->n; i++)
            if (strcmp(ns->v[i], a->name) == 0)
                return;
        names_add(C, ns, a->name);
    } else {
        sym_names(C, a->a, ns);
        sym_names(C, a->b, ns);
    }
}

static void sym_names(Check *C, const SDim *d, Names *ns) {
    for (int i = 0; d && i < d->n; i++)
        for (int j = 0; j < d->t[i].n; j++)
            atom_names(C, d->t[i].atoms[j], ns);
}

static bool param_vars(Check *C, DeclInfo *ci, Names *ns) {
    ParamList l = {0};
    Expander x = {C, &l, NULL, 0, NULL, NULL, 0, NULL, NULL, NULL, true};
    expand_body(&x, ci->decl, NULL, "");
    if (x.fail)
        return false;
    for (int i = 0; i < l.n; i++) {
        const Type *t = l.e[i].ty;
        for (int j = 0; t->kind == TY_TENSOR && j < t->shape.rank; j++)
            sym_names(C, t->shape.dims[j], ns);
        if (t->kind == TY_TENSOR && t->shape.rest >= 0) {
            names_add(C, ns, t->shape.rest_name);
        }
    }
    return true;
}

/* After a call of ins: the bindings of the variables its parameters use are kept, so every later
 * call must agree with them (the parameters are one set); the others (*S of dense, a sequence
 * length) are the call's own. */
static void keep_instance_dims(Check *C, Instance *ins, const DimEnv *env) {
    for (int i = 0; i < env->n; i++) {
        const DimBind *bd = &env->b[i];
        if (ty_env_find(&ins->env, bd->name))
            continue;
        bool keep = !ins->pvars;
        for (int j = 0; j < ins->npvars && !keep; j++)
            keep = strcmp(ins->pvars[j], bd->name) == 0;
        if (keep)
            *ARENA_PUSH(C->a, ins->env.b, ins->env.n, ins->env.cap) = *bd;
    }
}

static const Type *make_instance(Body *b, Node *n, DeclInfo *ci, Node **slot, const Type **sty,
                                 const DimEnv *env) {
    Check *C = b->C;
    Instance *ins = arena_alloc(C->a, sizeof *ins);
    ins->ci = ci;
    ins->where = n;
    ins->slot = slot;
    ins->sty = sty;
    ins->env.inst = 0;
    Names pv = {0};
    if (param_vars(C, ci, &pv)) {
        ins->pvars = pv.v ? pv.v : arena_alloc(C->a, sizeof(char *));
        ins->npvars = pv.n;
    }
    keep_instance_dims(C, ins, env);
    CallRec *cr = ARENA_PUSH(C->a, b->stmt->calls, b->stmt->ncalls, b->stmt->capcalls);
    memset(cr, 0, sizeof *cr);
    cr->callee = ci->decl;
    cr->call = n;
    cr->direct = true;
    cr->ins = ins;
    cr->args = slot;
    Type *t = fn_type(b, ci->decl, BI_NONE, ci->decl->name);
    t->ret = ci->result;
    t->instance = ins;
    return t;
}

static const Type *user_call(Body *b, Node *n, DeclInfo *ci, Node **args, int nargs, const Type **argty,
                             Instance *ins) {
    Check *C = b->C;
    Node *decl = ci->decl;
    if (ci->state == 1) {
        if (b->decl == decl)
            check_error(b, n->loc, "%s '%s' calls itself; recursion is not allowed",
                        decl->kind == ND_LAYER ? "layer" : decl->kind == ND_OPTIMIZER ? "optimizer" : "function",
                        decl->name);
        else
            check_error(b, n->loc, "this call of '%s' from '%s' is recursive ('%s' leads back here); recursion "
                        "is not allowed", decl->name, b->decl ? b->decl->name : "?", decl->name);
        check_note(b, decl->name_loc, "'%s' is declared here", decl->name);
        return ty_error();
    }
    if (ci->state == 0)
        check_decl(C, ci);
    if (ci->state != 2)
        return ty_error();
    if (decl->kind == ND_OPTIMIZER) {
        check_error(b, n->loc, "optimizer '%s' can only be used in a train block", decl->name);
        return ty_error();
    }
    if (decl->kind == ND_LAYER && !b->no_layers && b->kind != ND_FN && b->kind != ND_OPTIMIZER && !b->stmt) {
        check_error(b, n->loc, "layer '%s' cannot be called here: layer calls belong in statements of a layer "
                    "or model body", decl->name);
        return ty_error();
    }
    if (decl->kind == ND_LAYER && (b->no_layers || b->kind == ND_FN || b->kind == ND_OPTIMIZER)) {
        check_error(b, n->loc, "layer '%s' makes parameters; it can only be called from a layer or a model",
                    decl->name);
        if (b->kind == ND_FN)
            check_hint(b, "declare '%s' with 'layer' instead of 'fn'", b->decl->name);
        return ty_error();
    }
    int nf = decl->nformals;
    const char **names = arena_alloc(C->a, sizeof *names * (size_t)(nf + 1));
    bool *hasdef = arena_alloc(C->a, sizeof *hasdef * (size_t)(nf + 1));
    for (int i = 0; i < nf; i++) {
        names[i] = decl->formals[i]->name;
        hasdef[i] = decl->formals[i]->lhs != NULL;
    }
    /* `d = disc(units = 256)`: a layer call that is a binding's whole right-hand side may leave
     * formals open, which makes an instance [layer.instance] */
    bool can_open = !ins && decl->kind == ND_LAYER && b->stmt && n == b->stmt_rhs && b->stmt->name &&
                    b->stmt->node && b->stmt->node->kind == ND_BIND;
    Callee ce = {decl->name, nf, names, hasdef, decl->formals, can_open, ins};
    Node **slot = arena_alloc(C->a, sizeof *slot * (size_t)(nf + 1));
    const Type **sty = arena_alloc(C->a, sizeof *sty * (size_t)(nf + 1));
    if (!match_args(b, n, &ce, args, nargs, argty, slot, sty))
        return ty_error();
    for (int i = 0; i < nf; i++)
        if (slot[i] && sty[i]->kind == TY_ERROR)
            return ty_error();
    bool making = false;
    for (int i = 0; i < nf && can_open; i++)
        making |= !slot[i] && !hasdef[i];

    int inst = ++C->next_inst;
    DimEnv env = {.inst = inst};
    if (ins)        /* the dims the instance's parameters were given by the calls before */
        for (int i = 0; i < ins->env.n; i++)
            *ARENA_PUSH(C->a, env.b, env.n, env.cap) = ins->env.b[i];
    bool known_fn = false, any = false, ok = true;
    const Type **vals = arena_alloc(C->a, sizeof *vals * (size_t)(nf + 1));
    Body cb = {.C = C, .decl = decl, .info = ci, .kind = decl->kind};
    Conv cv = {.pattern = true, .inst = inst, .ok = true};
    for (int i = 0; i < nf && ok; i++) {
        Node *f = decl->formals[i];
        if (ins && ins->slot[i]) {      /* given when the instance was made: checked then */
            vals[i] = ins->sty[i];
            if (vals[i]->kind == TY_FN && (vals[i]->decl || vals[i]->builtin))
                known_fn = true;
            any |= vals[i]->kind == TY_ANY;
            continue;
        }
        if (making && !slot[i])         /* open (or its default): given at each call */
            continue;
        const Type *at = slot[i] ? sty[i] : f->lhs ? f->lhs->ty : NULL;
        Loc where = slot[i] ? slot[i]->loc : n->loc;
        if (!at || at->kind == TY_ERROR) {
            ok = false;
            break;
        }
        vals[i] = at;
        if (at->kind == TY_ANY) {
            any = true;
            continue;
        }
        TypeExpr *te = f->tyexpr;
        TypeExprKind k = te ? te->kind : TE_TENSOR;
        if (!te) {
            const Type *dt = f->lhs ? f->lhs->ty : NULL;
            if (!dt || ty_is_bad(dt))
                continue;
            bool fits = dt->kind == at->kind || (dt->kind == TY_FLOAT && at->kind == TY_INT);
            if (!fits) {
                check_error(b, where, "%s expects %s for '%s', got %s", decl->name, check_tystr(b, dt), f->name,
                            check_tystr(b, at));
                check_note(b, f->loc, "'%s' is declared here", f->name);
                for (int j = 0; j < decl->nformals && !strcmp(f->name, "padding") && dt->kind == TY_STR; j++)
                    if (!strcmp(decl->formals[j]->name, "pad")) /* PyTorch's padding = 1 */
                        check_hint(b, "explicit zero padding is 'pad': %s(..., pad = %s)", decl->name,
                                   slot[i] && slot[i]->kind == ND_INT ? arena_printf(C->a, "%lld", (long long)slot[i]->ival)
                                                                      : "[ph, pw]");
                ok = false;
                break;
            }
            if (dt->kind == TY_INT && at->ival)
                ty_env_bind_dim(C->a, &env, f->name, at->ival, where);
            if (at->kind == TY_FN && (at->decl || at->builtin))
                known_fn = true;
            continue;
        }
        switch (k) {
        case TE_TENSOR: {
            Type *pat = conv_tensor(&cb, te, &cv);
            const Type *act = at;
            if (weak_fits_tensor(at, pat->dtype)) {
                /* a number fills the formal's type when the formals before it determined it:
                 * mse(x, 0.0), binary_cross_entropy(p, 1.0) [builtin.like]; else it is rank 0 */
                Type *full = ty_subst(&C->dc, pat, &env);
                bool known = full->shape.rest < 0 || full->shape.rest_inst != inst;
                for (int j = 0; known && j < full->shape.rank; j++)
                    known = !ty_dim_has_inst(full->shape.dims[j], inst);
                act = known ? full : ty_tensor(C->a, pat->dtype, 0, NULL);
            }
            DimEnv before = env;
            Unify u = {b, &env, inst, where, false, false};
            if (act->kind != TY_TENSOR || act->dtype != pat->dtype || !unify_shape(&u, &pat->shape, &act->shape)) {
                check_error(b, where, "%s expects %s for '%s', got %s", decl->name, pattern_str(b, pat, &env),
                            f->name, check_tystr(b, at));
                if (act->kind == TY_TENSOR && act->dtype != pat->dtype)
                    check_hint(b, "convert with %s(x)", ty_dtype_name(pat->dtype));
                else if (act->kind == TY_TENSOR && pat->shape.rest < 0 && pat->shape.rank == 4 &&
                         act->shape.rest < 0 && act->shape.rank == 3)   /* an image without its channel axis */
                    check_hint(b, "add the channel axis: reshape(%s, [%s, %s, %s, 1])",
                               slot[i]->kind == ND_IDENT ? slot[i]->name : "x", check_dimstr(b, act->shape.dims[0]),
                               check_dimstr(b, act->shape.dims[1]), check_dimstr(b, act->shape.dims[2]));
                else if (u.solve_failed)
                    check_hint(b, "a dim of '%s' could not be inferred from %s", f->name, check_tystr(b, at));
                else if (act->kind == TY_TENSOR)
                    hint_unit_axis(b, ty_subst(&C->dc, pat, &env), act);
                note_binding(b, te, &before, f);
                ok = false;
            }
            break;
        }
        case TE_INT:
        case TE_DIMVAR:
            if (at->kind != TY_INT) {
                check_error(b, where, "%s expects an int for '%s', got %s", decl->name, f->name, check_tystr(b, at));
                check_hint_int_div(b, slot[i], at);
                if (slot[i] && slot[i]->kind == ND_INDEX && at->kind == TY_TENSOR && at->dtype == DT_I32)
                    check_hint(b, "a list such as [20, 7, 5] is an i32 tensor, and its elements are tensors too, "
                                  "not compile-time ints: write the ints themselves (one call each), or compute "
                                  "them from the loop variable");
                ok = false;
                break;
            }
            if (k == TE_INT) {
                DimBind *db = ty_env_find(&env, f->name);
                if (db && at->ival && !ty_dim_eq(db->dim, at->ival)) {
                    check_error(b, where, "%s expects %s for '%s', got %s", decl->name, check_dimstr(b, db->dim),
                                f->name, check_dimstr(b, at->ival));
                    if (db->where.file)
                        check_note(b, db->where, "'%s' was bound to %s here", f->name, check_dimstr(b, db->dim));
                    ok = false;
                } else if (!db) {
                    ty_env_bind_dim(C->a, &env, f->name,
                                    at->ival ? at->ival : ty_dim_sym(&C->dc, f->name, -inst), where);
                }
                break;
            }
            if (!at->ival) {
                check_error(b, where, "%s needs a known int for '%s' (it is the dim %s)", decl->name, f->name,
                            te->name);
                ok = false;
                break;
            }
            {
                int64_t c;
                if (ty_dim_is_const(at->ival, &c) && c < zero_default(f)) {
                    check_error(b, where, "%s needs '%s' (the dim %s) to be at least %d, got %lld", decl->name,
                                f->name, te->name, zero_default(f), (long long)c);
                    ok = false;
                    break;
                }
                DimEnv before = env;
                Unify u = {b, &env, inst, where, false, zero_default(f) == 0};
                const SDim *pd = te->ndims ? conv_dim(&cb, te->dims[0], &cv) : ty_dim_sym(&C->dc, te->name, inst);
                if (te->ndims && !unify_dim(&u, pd, at->ival)) {
                    /* kernel: 2*R - 1 given 4 */
                    check_error(b, where, "%s expects an int of the form %s for '%s', got %s", decl->name,
                                te->name, f->name, check_dimstr(b, at->ival));
                    check_note(b, te->loc, "the form is declared here");
                    ok = false;
                } else if (!te->ndims && !unify_dim(&u, pd, at->ival)) {
                    DimBind *db = ty_env_find(&before, te->name);
                    check_error(b, where, "%s expects %s for '%s' (the dim %s), got %s", decl->name,
                                db ? check_dimstr(b, db->dim) : te->name, f->name, te->name,
                                check_dimstr(b, at->ival));
                    if (db && db->where.file)
                        check_note(b, db->where, "'%s' was bound to %s here", te->name, check_dimstr(b, db->dim));
                    ok = false;
                }
            }
            break;
        case TE_DIMLIST: {
            /* `k: [KH, KW]`: an int n (every variable n) or a list of as many known ints */
            int nd = te->ndims;
            bool list = at->kind == TY_TENSOR && at->dtype == DT_I32 && at->shape.rank == 1 && at->nvals == nd;
            for (int j = 0; list && j < nd; j++)
                list = at->vals[j] != NULL;
            if (!(at->kind == TY_INT && at->ival) && !list) {
                check_error(b, where, "%s expects a known int or a list of %d known ints for '%s', got %s",
                            decl->name, nd, f->name, check_tystr(b, at));
                check_note(b, te->loc, "'%s' is declared here", f->name);
                ok = false;
                break;
            }
            for (int j = 0; j < nd && ok; j++) {
                const SDim *v = list ? at->vals[j] : at->ival;
                int64_t c;
                if (ty_dim_is_const(v, &c) && c < zero_default(f)) {
                    check_error(b, where, "%s needs '%s' (the dim %s) to be at least %d, got %lld", decl->name,
                                f->name, te->dims[j]->name, zero_default(f), (long long)c);
                    ok = false;
                    break;
                }
                DimEnv before = env;
                Unify u = {b, &env, inst, where, false, zero_default(f) == 0};
                if (!unify_dim(&u, ty_dim_sym(&C->dc, te->dims[j]->name, inst), v)) {
                    DimBind *db = ty_env_find(&before, te->dims[j]->name);
                    check_error(b, where, "%s expects %s for '%s' (the dim %s), got %s", decl->name,
                                db ? check_dimstr(b, db->dim) : te->dims[j]->name, f->name, te->dims[j]->name,
                                check_dimstr(b, v));
                    if (db && db->where.file)
                        check_note(b, db->where, "'%s' was bound to %s here", te->dims[j]->name,
                                   check_dimstr(b, db->dim));
                    ok = false;
                }
            }
            break;
        }
        case TE_FLOAT:
            if (at->kind != TY_FLOAT && at->kind != TY_INT) {
                check_error(b, where, "%s expects a float for '%s', got %s", decl->name, f->name, check_tystr(b, at));
                if (at->kind == TY_TENSOR)
                    check_hint(b, "'%s' is a compile-time number; declare it f32 to pass a tensor", f->name);
                ok = false;
            }
            break;
        case TE_BOOL_SCALAR:
            if (at->kind != TY_BOOL) {
                check_error(b, where, "%s expects a bool for '%s', got %s", decl->name, f->name, check_tystr(b, at));
                ok = false;
            }
            break;
        case TE_STR:
            if (at->kind != TY_STR) {
                check_error(b, where, "%s expects a str for '%s', got %s", decl->name, f->name, check_tystr(b, at));
                ok = false;
            }
            break;
        case TE_FN:
            if (at->kind != TY_FN) {
                check_error(b, where, "%s expects a function for '%s', got %s", decl->name, f->name,
                            check_tystr(b, at));
                if (at->kind == TY_STR)     /* Keras' activation='relu' */
                    check_hint(b, "pass the function itself, without quotes: %s = %s", f->name,
                               slot[i] && slot[i]->kind == ND_STR ? slot[i]->name : "relu");
                ok = false;
            } else if (at->decl || at->builtin) {
                known_fn = true;
            }
            break;
        case TE_TUPLE:      /* a result type only */
            break;
        }
        if (ok && at->kind == TY_FN && fn_is_layer(C, at)) {
            check_error(b, where, "layer '%s' cannot be passed as a function value", at->fname);
            check_hint(b, "call the layer where its result is needed; each call makes its own parameters");
            ok = false;
        }
    }
    if (!ok || !cv.ok)
        return ty_error();
    if (C->dc.overflow) {
        C->dc.overflow = false;
        check_error(b, n->loc, "dim arithmetic overflows in the call of %s", decl->name);
        return ty_error();
    }
    if (making)
        return make_instance(b, n, ci, slot, sty, &env);
    if (ins)
        keep_instance_dims(C, ins, &env);
    /* the result: the callee's generic result with the bindings substituted */
    DimEnv env0 = env;
    env0.inst = 0;
    C->dc.div_error = NULL;
    const Type *res = ci->result ? ty_subst(&C->dc, ci->result, &env0) : ty_any();
    if (C->dc.div_error) {
        C->dc.div_error = NULL;
        const char *arith = result_arith(b, decl, &env0);
        if (arith)
            check_error(b, n->loc, "%s: %s is not whole", decl->name, arith);
        else
            check_error(b, n->loc, "a dim of the result of %s is not an integer: %s", decl->name,
                        check_tystr(b, res));
        if (decl->tyexpr)
            check_note(b, decl->tyexpr->loc, "the result type of %s is declared here", decl->name);
        return ty_error();
    }
    for (int e = 0; e < (res->kind == TY_TUPLE ? res->nelems : 1); e++) {
        const Type *re = res->kind == TY_TUPLE ? res->elems[e] : res;
        for (int i = 0; re->kind == TY_TENSOR && i < re->shape.rank; i++) {
            int64_t c;
            if (ty_dim_is_const(re->shape.dims[i], &c) && c < 1) {
                check_error(b, n->loc, "the result of %s would be %s; a dim must be at least 1", decl->name,
                            check_tystr(b, res));
                return ty_error();
            }
        }
    }
    /* a value-dependent callee (conv2d's conv needs known dims) in a generic body: its dims are not
     * known here, so this body becomes value-dependent and each of its calls checks both again */
    bool defer = ci->value_dependent && !b->instance && b->info && b->kind != ND_MODEL;
    if (defer)
        b->info->value_dependent = true;
    Items *records = NULL;
    if ((known_fn || ci->value_dependent) && !defer && !any && !ci->had_errors && C->ninstances < MAX_INSTANCES) {
        C->ninstances++;
        const Type *ir = instance_check(b, n, ci, vals, &env0, ci->value_dependent ? &records : NULL);
        if (ir->kind == TY_ERROR)
            return ir;
        if (!decl->tyexpr && !ty_is_bad(ir))
            res = ir;
    }
    if (any)
        res = ty_any();
    if (decl->kind == ND_LAYER && b->stmt && !ins) {
        CallRec *cr = ARENA_PUSH(C->a, b->stmt->calls, b->stmt->ncalls, b->stmt->capcalls);
        cr->callee = decl;
        cr->call = n;
        cr->env = env0;
        cr->direct = n == b->stmt_rhs;
        cr->args = slot;
        cr->ins = NULL;
        cr->items = records;
    }
    if (ins && records && !ins->items)
        ins->items = records;
    return res;
}

/* Call a value of function type ft (a declaration, a builtin, or a function-valued formal). */
static const Type *call_value(Body *b, Node *n, const Type *ft, Node **args, int nargs) {
    Check *C = b->C;
    const Type **argty = arena_alloc(C->a, sizeof *argty * (size_t)(nargs + 1));
    for (int i = 0; i < nargs; i++) {
        Node *a = args[i];
        argty[i] = a->kind == ND_ARG ? check_set(b, a, check_expr(b, a->lhs)) : check_expr(b, a);
    }
    if (ty_is_bad(ft))
        return ft;
    if (ft->kind != TY_FN) {
        if (n->lhs->kind == ND_IDENT)
            check_error(b, n->lhs->loc, "'%s' is not a function; it is %s", n->lhs->name, check_tystr(b, ft));
        else
            check_error(b, n->lhs->loc, "this is not a function; it is %s", check_tystr(b, ft));
        return ty_error();
    }
    if (ft->decl) {
        DeclInfo *ci = info_of(C, ft->decl);
        if (!ci)
            return ty_error();
        set_ref(b, n, (Node *)ft->decl);
        return user_call(b, n, ci, args, nargs, argty, ft->instance);
    }
    if (ft->builtin)
        return builtin_value_call(b, n, (Builtin)ft->builtin, args, nargs, argty);
    /* a function-valued formal: checked at each call that passes a known function */
    return ty_any();
}

static const Type *check_call(Body *b, Node *n) {
    bool saved = b->callee;
    b->callee = n->lhs->kind == ND_IDENT;
    const Type *ft = check_expr(b, n->lhs);
    b->callee = saved;
    if (n->lhs->kind == ND_IDENT && !b->instance) {
        Binding *bd = lookup(b, n->lhs->name);
        if (bd && bd->kind == BK_FORMAL && ft->kind == TY_FN && !ft->decl && !ft->builtin)
            n->ref = bd->node;
    }
    return call_value(b, n, ft, n->kids, n->nkids);
}

/* ---- initializers [layer.init] ---- */

static const char *const initializers[] = {
    "zeros", "ones", "glorot_uniform", "glorot_normal", "xavier_uniform", "xavier_normal",
    "he_uniform", "he_normal", "kaiming_uniform", "kaiming_normal",
};

static bool is_initializer_name(const char *s) {
    for (size_t i = 0; i < sizeof initializers / sizeof *initializers; i++)
        if (strcmp(s, initializers[i]) == 0)
            return true;
    return false;
}

/* The initializers a str may name (init = "he_normal"): the names, and Keras' random_normal
 * (normal(0, 0.05)) and random_uniform (uniform(-0.05, 0.05)); compiler/lower.c reads them. */
static const char *const init_strs[] = {
    "zeros", "ones", "glorot_uniform", "glorot_normal", "xavier_uniform", "xavier_normal",
    "he_uniform", "he_normal", "kaiming_uniform", "kaiming_normal", "random_normal", "random_uniform",
};

static bool is_init_str(const char *s) {
    for (size_t i = 0; i < sizeof init_strs / sizeof *init_strs; i++)
        if (strcmp(s, init_strs[i]) == 0)
            return true;
    return false;
}

static void check_init(Body *b, Node *decl, const Type *pt) {
    Check *C = b->C;
    Node *e = decl->lhs;
    const char *what = decl->kind == ND_PARAM ? "param" : "state";
    if (e->kind == ND_IDENT && is_initializer_name(e->name)) {
        check_set(b, e, pt);
        return;
    }
    if (e->kind == ND_CALL && e->lhs->kind == ND_IDENT) {
        const char *nm = e->lhs->name;
        int want = strcmp(nm, "constant") == 0 ? 1 : strcmp(nm, "uniform") == 0 || strcmp(nm, "normal") == 0 ? 2 : 0;
        if (want) {
            static const char *const cnames[] = {"value"}, *const unames[] = {"lo", "hi"},
                                     *const nnames[] = {"mean", "std"};
            const char *const *fn = want == 1 ? cnames : nm[0] == 'u' ? unames : nnames;
            bool hasdef[2] = {false, false};
            Callee ce = {nm, want, (const char **)fn, hasdef, NULL, false, NULL};
            Node *slot[2] = {0};
            const Type *sty[2] = {0};
            const Type **argty = arena_alloc(C->a, sizeof *argty * (size_t)(e->nkids + 1));
            for (int i = 0; i < e->nkids; i++) {
                Node *a = e->kids[i];
                argty[i] = check_expr(b, a->kind == ND_ARG ? a->lhs : a);
            }
            if (!match_args(b, e, &ce, e->kids, e->nkids, argty, slot, sty))
                return;
            for (int i = 0; i < want; i++)
                if (sty[i]->kind != TY_INT && sty[i]->kind != TY_FLOAT && !ty_is_bad(sty[i])) {
                    check_error(b, slot[i]->loc, "%s expects a compile-time number for '%s', got %s", nm, fn[i],
                                check_tystr(b, sty[i]));
                    return;
                }
            check_set(b, e, pt);
            return;
        }
    }
    if (e->kind == ND_TENSOR) {
        const Type *lt = check_expr(b, e);
        if (ty_is_bad(lt))
            return;
        bool dt_ok = lt->dtype == pt->dtype || (lt->dtype == DT_I32 && pt->dtype == DT_F32);
        if (!dt_ok) {
            check_error(b, e->loc, "the initial value of %s '%s' is %s, but it is declared %s", what, decl->name,
                        check_tystr(b, lt), check_tystr(b, pt));
        } else if (!ty_shape_eq(&lt->shape, &pt->shape)) {
            /* the numbers take the declared dtype [type.literal]: only the shape can be wrong */
            check_error(b, e->loc, "the initial value of %s '%s' has shape [%s], but it is declared %s", what,
                        decl->name, ty_shape_str(C->a, &lt->shape), check_tystr(b, pt));
        }
        return;
    }
    if (e->kind == ND_INT || e->kind == ND_FLOAT ||
        (e->kind == ND_UNARY && e->op == '-' && e->lhs && (e->lhs->kind == ND_INT || e->lhs->kind == ND_FLOAT))) {
        /* `param c: f32 = 0`: a number is constant(v) [layer.init] */
        const Type *nt = check_expr(b, e);
        if (ty_is_bad(nt))
            return;
        if (pt->dtype == DT_BOOL || (nt->kind == TY_FLOAT && pt->dtype == DT_I32)) {
            check_error(b, e->loc, "the initial value of %s '%s' is %s, but it is declared %s", what, decl->name,
                        check_tystr(b, nt), check_tystr(b, pt));
            return;
        }
        check_set(b, e, pt);
        return;
    }
    if ((e->kind == ND_IDENT && lookup(b, e->name)) || e->kind == ND_STR) {
        /* a str naming an initializer, as Keras' kernel_initializer = "he_normal": a layer's
         * `init` formal (stdlib's dense and conv2d) [layer.init.str] */
        const Type *st = check_expr(b, e);
        if (ty_is_bad(st))
            return;
        if (st->kind == TY_STR) {
            if (!st->sval) {
                if (!b->instance && b->info)
                    b->info->value_dependent = true;   /* each call checks the name it passes */
            } else if (!is_init_str(st->sval)) {
                check_error(b, e->loc, "'%s' is not an initializer (%s '%s' of %s)", st->sval, what, decl->name,
                            check_tystr(b, pt));
                check_hint_similar(b, st->sval, init_strs, (int)(sizeof init_strs / sizeof *init_strs),
                                   "the initializers by name: zeros, ones, glorot_uniform, glorot_normal, "
                                   "he_uniform, he_normal, random_normal, random_uniform");
            }
            check_set(b, e, pt);
            return;
        }
    }
    check_error(b, e->loc, "not an initializer for %s '%s'", what, decl->name);
    check_hint(b, "use zeros, ones, constant(v), uniform(lo, hi), normal(mean, std), glorot_uniform, "
               "glorot_normal, he_uniform, he_normal, or a tensor literal");
}

/* ---- statements ---- */

static void check_stmts(Body *b, Node **kids, int n, bool top);

static Item *new_item(Body *b, ItemKind k) {
    /* lists start with one slot, not ARENA_PUSH's 8: an unrolled model loop keeps a list per
     * iteration, mostly of one or two statements (2^18 iterations: 280 MB of empty slots) */
    Items *l = b->items;
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 1;
        l->v = arena_realloc(b->C->a, l->v, sizeof *l->v * (size_t)l->n, sizeof *l->v * (size_t)cap);
        l->cap = cap;
    }
    Item *it = &l->v[l->n++];
    memset(it, 0, sizeof *it);
    it->kind = k;
    return it;
}

/* Start a statement that may call layers: its calls are recorded under name. */
static void begin_stmt(Body *b, const char *name, Node *rhs, Node *node) {
    Item *it = new_item(b, IT_STMT);
    it->name = name;
    it->node = node;
    b->stmt = it;
    b->stmt_rhs = rhs;
}

static Item *end_stmt(Body *b) {
    Item *it = b->stmt;
    b->stmt = NULL;
    b->stmt_rhs = NULL;
    return it && it->ncalls ? it : NULL;
}

/* Bind n->name (n: the ND_BIND, or a name of an ND_UNPACK) to a value of type t; `it` the
 * statement's parameter-making record. */
static void bind_value(Body *b, Node *n, const Type *t, Item *it) {
    Binding *old = lookup(b, n->name);
    if (b->kind == ND_MODEL && strcmp(n->name, "B") == 0)
        check_error(b, n->name_loc, "'B' is the batch dim of a model; it cannot be rebound");
    if (old && old->kind == BK_PARAM) {
        check_error(b, n->name_loc, "'%s' is a parameter; it cannot be rebound", n->name);
        check_note(b, old->node->loc, "'%s' is declared here", n->name);
    }
    BindKind k = BK_VALUE;
    const Type *sty = NULL;
    if (old && old->kind == BK_STATE) {
        k = BK_STATE;
        sty = old->state_ty;
        if (!ty_is_bad(t) && !(t->kind == TY_TENSOR && ty_eq(t, sty)) &&
            !(weak_fits_tensor(t, sty->dtype) && sty->shape.rank == 0 && sty->shape.rest < 0)) {
            check_error(b, n->loc, "the new value of state '%s' must have its type %s, got %s", n->name,
                        check_tystr(b, sty), check_tystr(b, t));
            check_note(b, old->node->loc, "'%s' is declared here", n->name);
        }
    }
    check_set(b, n, t);
    Binding *bd = bind(b, n->name, k, n, t);
    bd->state_ty = sty;
    bd->stmt = it;
}

static void check_bind(Body *b, Node *n) {
    begin_stmt(b, n->name, n->lhs, n);
    const Type *t = check_expr(b, n->lhs);
    Item *it = end_stmt(b);
    bind_value(b, n, t, it);
}

/* `mu, logvar = encoder(x, 8)` [fn.results]: each result of the call bound to its name, `_`
 * dropping one. The statement binds no one name, so its layer calls are named as those of a
 * statement that binds none: after the callee (`encoder.h.W`) [layer.naming]. */
static void check_unpack(Body *b, Node *n) {
    for (int i = 0; i < n->nkids; i++)
        for (int j = 0; j < i; j++)
            if (strcmp(n->kids[i]->name, "_") && !strcmp(n->kids[i]->name, n->kids[j]->name)) {
                check_error(b, n->kids[i]->loc, "'%s' is bound twice in one statement", n->kids[i]->name);
                check_note(b, n->kids[j]->loc, "the first one is here");
                break;
            }
    begin_stmt(b, NULL, n->lhs, n);
    Node *saved = b->tuple_ok;
    b->tuple_ok = n->lhs;
    const Type *t = check_expr(b, n->lhs);
    b->tuple_ok = saved;
    end_stmt(b);
    if (!ty_is_bad(t) && t->kind != TY_TUPLE) {
        if (n->lhs->kind == ND_CALL)
            check_error(b, n->lhs->loc, "%s gives one value (%s), not %d: bind it to one name",
                        callee_text(b, n->lhs), check_tystr(b, t), n->nkids);
        else
            check_error(b, n->lhs->loc, "this is one value (%s), not %d results: a destructuring binding takes "
                        "apart a call of a fn or layer of several results", check_tystr(b, t), n->nkids);
        if (t->kind == TY_FN && t->instance)
            check_hint(b, "an instance is made by a binding of one name (enc = %s(...)); call it to get its results "
                          "(mu, logvar = enc(x))", t->fname);
        t = ty_error();
    } else if (t->kind == TY_TUPLE && t->nelems != n->nkids) {
        check_error(b, n->name_loc, "%s gives %d results %s, but %d names are bound", callee_text(b, n->lhs),
                    t->nelems, check_tystr(b, t), n->nkids);
        const Node *d = n->lhs->kind == ND_CALL ? n->lhs->ref : NULL;
        if (d && d->tyexpr && d->tyexpr->kind == TE_TUPLE)
            check_note(b, d->tyexpr->loc, "the results of '%s' are declared here", d->name);
        check_hint(b, "bind one name per result (`_` drops one): %s = ...", unpack_names(b, n->lhs, t->nelems));
        t = ty_error();
    }
    check_set(b, n, t);
    for (int i = 0; i < n->nkids; i++) {
        Node *k = n->kids[i];
        const Type *et = t->kind == TY_TUPLE ? t->elems[i] : t;
        if (!strcmp(k->name, "_"))
            check_set(b, k, et);
        else
            bind_value(b, k, et, NULL);
    }
}

static void check_param(Body *b, Node *n) {
    Check *C = b->C;
    bool is_param = n->kind == ND_PARAM;
    if (is_param && b->kind != ND_LAYER && b->kind != ND_MODEL) {
        check_error(b, n->loc, "'param' is only allowed in a layer or a model");
        if (b->kind == ND_FN)
            check_hint(b, "declare '%s' with 'layer' instead of 'fn'", b->decl->name);
    }
    if (!is_param && b->kind == ND_FN) {
        check_error(b, n->loc, "'state' is only allowed in a layer, an optimizer or a model");
    }
    bool in_loop = b->loop_depth > 0;
    if (in_loop)
        check_error(b, n->loc, "'%s' cannot be declared inside a loop", is_param ? "param" : "state");
    Conv cv = {.ok = true};
    Type *pt = conv_tensor(b, n->tyexpr, &cv);
    const Type *t = cv.ok && !in_loop ? pt : ty_error();
    if (cv.ok && b->kind == ND_MODEL) {
        for (int i = 0; i < pt->shape.rank; i++)
            if (ty_dim_has_inst(pt->shape.dims[i], 0)) {
                check_error(b, n->tyexpr->loc, "%s '%s' has type %s, which depends on the batch size B",
                            is_param ? "param" : "state", n->name, check_tystr(b, pt));
                t = ty_error();
                break;
            }
    }
    if (!ty_is_bad(t))
        check_init(b, n, t);
    Binding *old = lookup(b, n->name);
    if (old && (old->kind == BK_PARAM || old->kind == BK_STATE) && old->node != n) {
        check_error(b, n->name_loc, "'%s' is declared twice", n->name);
        check_note(b, old->node->name_loc, "the first declaration is here");
    }
    check_set(b, n, t);
    Binding *bd = bind(b, n->name, is_param ? BK_PARAM : BK_STATE, n, t);
    bd->state_ty = t;
    if (!ty_is_bad(t)) {
        Item *it = new_item(b, is_param ? IT_PARAM : IT_STATE);
        it->name = n->name;
        it->ty = t;
        it->node = n;
    }
    (void)C;
}

static Type *int_value(Body *b, const SDim *v) {
    Type *t = ty_new(b->C->a, TY_INT);
    t->ival = v;
    return t;
}

/* Outer bindings a loop body rebound: their names. */
static void loop_rebound(Body *b, int mark, Names *out) {
    for (int i = mark; i < b->scope.nlog; i++) {
        Binding *bd = b->scope.log[i];
        Binding *s = bd->shadow;
        while (s && s->seq >= mark)
            s = s->shadow;
        if (!s || bd->kind == BK_LOOPVAR)
            continue;
        bool dup = false;
        for (int j = 0; j < out->n && !dup; j++)
            dup = strcmp(out->v[j], bd->name) == 0;
        if (!dup)
            names_add(b->C, out, bd->name);
    }
}

/* [loop.model] A model's loop is checked one iteration at a time with the loop variable a known
 * int, as compiler/lower.c unrolls it: `dense(h, 512 / 2 ** i)` has known units in each iteration,
 * and an error names the iteration's values. Each iteration keeps its own records (the parameter
 * list follows them); the names it rebinds carry into the next, and out of the loop. */
static void check_for_unrolled(Body *b, Node *n, Item *it, int64_t lv, int64_t hv) {
    Check *C = b->C;
    int64_t trips = hv > lv ? hv - lv : 0;
    it->iters = arena_alloc(C->a, sizeof(Items) * (size_t)(trips + 1));
    it->niters = (int)trips;
    it->first = &it->iters[0];
    it->rest = trips > 1 ? &it->iters[1] : it->first;
    Items *saved = b->items;
    int e0 = nerrors(C);
    b->loop_depth++;
    /* every iteration starts from the same mark, so the scope log holds one iteration's bindings
     * and the rebound names' bindings, however many iterations (nested loops stay linear) */
    int mark = b->scope.nlog;
    for (int64_t v = lv; v < hv && nerrors(C) == e0; v++) {
        if (++C->unrolled > NNC_MAX_UNROLL_WORK) {     /* the budget check_unroll gives lowering */
            check_error(b, n->loc, "the model unrolls to more than %lld inlined calls and loop iterations",
                        (long long)NNC_MAX_UNROLL_WORK);
            break;
        }
        b->items = &it->iters[v - lv];
        bind(b, n->name, BK_LOOPVAR, n, int_value(b, ty_dim_const(&C->dc, v)));
        check_stmts(b, n->kids, n->nkids, false);
        Names rb = {0};
        loop_rebound(b, mark, &rb);
        Binding **last = arena_alloc(C->a, sizeof *last * (size_t)(rb.n + 1));
        for (int i = 0; i < rb.n; i++)
            last[i] = lookup(b, rb.v[i]);
        scope_pop(b, mark);
        for (int i = 0; i < rb.n; i++) {
            Binding *bd = bind(b, rb.v[i], last[i]->kind, last[i]->node, last[i]->ty);
            bd->state_ty = last[i]->state_ty;
            bd->stmt = last[i]->stmt;
            bd->member_env = last[i]->member_env;
        }
    }
    b->loop_depth--;
    b->items = saved;
}

static void check_for(Body *b, Node *n) {
    Check *C = b->C;
    const Type *lo = check_expr(b, n->lhs), *hi = check_expr(b, n->rhs);
    bool bad = false;
    if (!ty_is_bad(lo) && lo->kind != TY_INT) {
        check_error(b, n->lhs->loc, "a loop bound must be a compile-time int, got %s", check_tystr(b, lo));
        check_hint_int_div(b, n->lhs, lo);
        bad = true;
    }
    if (!ty_is_bad(hi) && hi->kind != TY_INT) {
        check_error(b, n->rhs->loc, "a loop bound must be a compile-time int, got %s", check_tystr(b, hi));
        check_hint_int_div(b, n->rhs, hi);
        bad = true;
    }
    if (bad || ty_is_bad(lo) || ty_is_bad(hi))
        return;
    int64_t c0, c1;
    if (b->kind == ND_MODEL && !(lo->ival && hi->ival && ty_dim_is_const(lo->ival, &c0) &&
                                 ty_dim_is_const(hi->ival, &c1))) {
        check_error(b, n->loc, "the bounds of a loop in a model must be known numbers, got %s .. %s",
                    lo->ival ? check_dimstr(b, lo->ival) : "?", hi->ival ? check_dimstr(b, hi->ival) : "?");
        return;
    }
    if (lo->ival && hi->ival && ty_dim_is_const(lo->ival, &c0) && ty_dim_is_const(hi->ival, &c1) &&
        im_trips(c0, c1) > NNC_MAX_LOOP_TRIPS) {
        /* lowering unrolls every loop: the same limit as compiler/lower.c */
        check_error(b, n->loc, "a loop of %lld iterations is too long to unroll (the limit is %d)",
                    (long long)im_trips(c0, c1), NNC_MAX_LOOP_TRIPS);
        return;
    }
    Item *it = new_item(b, IT_LOOP);
    it->name = n->name;
    it->node = n;
    it->lo = lo->ival;
    it->hi = hi->ival;
    if (b->kind == ND_MODEL || (b->instance && lo->ival && hi->ival && ty_dim_is_const(lo->ival, &c0) &&
                                ty_dim_is_const(hi->ival, &c1))) {
        /* a call's re-check knows the bounds: each iteration with its own values, as lowering */
        check_for_unrolled(b, n, it, c0, c1);
        return;
    }
    it->first = arena_alloc(C->a, sizeof(Items));
    it->rest = it->first;
    Items *saved = b->items;
    int64_t lv = 0, hv = 0;
    bool known = lo->ival && hi->ival && ty_dim_is_const(lo->ival, &lv) && ty_dim_is_const(hi->ival, &hv);
    const SDim *var = ty_dim_sym(&C->dc, n->name, 0);
    Type *vt = int_value(b, var);

    int mark = b->scope.nlog, e0 = nerrors(C);
    b->items = it->first;
    b->loop_depth++;
    bind(b, n->name, BK_LOOPVAR, n, vt);
    check_stmts(b, n->kids, n->nkids, false);
    Names rb = {0};
    loop_rebound(b, mark, &rb);
    const Type **out1 = arena_alloc(C->a, sizeof *out1 * (size_t)(rb.n + 1));
    const Type **in = arena_alloc(C->a, sizeof *in * (size_t)(rb.n + 1));
    Binding **last = arena_alloc(C->a, sizeof *last * (size_t)(rb.n + 1));
    bool changed = false;
    for (int i = 0; i < rb.n; i++) {
        last[i] = lookup(b, rb.v[i]);
        out1[i] = last[i]->ty;
    }
    scope_pop(b, mark);
    for (int i = 0; i < rb.n; i++) {
        in[i] = lookup(b, rb.v[i])->ty;
        changed |= !ty_eq(in[i], out1[i]);
        if (in[i]->kind == TY_INT && out1[i]->kind == TY_INT &&
            !(in[i]->ival && out1[i]->ival && ty_dim_eq(in[i]->ival, out1[i]->ival))) {
            /* an int accumulated by the loop: its value after any iteration is not tracked */
            out1[i] = ty_new(C->a, TY_INT);
        }
    }
    DimEnv prev = {.inst = 0};
    ty_env_bind_dim(C->a, &prev, n->name, ty_dim_sub(&C->dc, var, ty_dim_const(&C->dc, 1)), n->loc);
    if (changed && nerrors(C) == e0 && !(known && hv - lv <= 1)) {
        /* the second iteration onwards: rebound names start from the first iteration's results */
        it->rest = arena_alloc(C->a, sizeof(Items));
        b->items = it->rest;
        bind(b, n->name, BK_LOOPVAR, n, vt);
        for (int i = 0; i < rb.n; i++) {
            Binding *bd = bind(b, rb.v[i], last[i]->kind, last[i]->node, ty_subst(&C->dc, out1[i], &prev));
            bd->state_ty = last[i]->state_ty;
        }
        check_stmts(b, n->kids, n->nkids, false);
        for (int i = 0; i < rb.n; i++)
            last[i] = lookup(b, rb.v[i]);      /* the later iterations' bindings (stable types) */
        for (int i = 0; i < rb.n && nerrors(C) == e0; i++) {
            const Type *o2 = lookup(b, rb.v[i])->ty;
            if (!ty_is_bad(o2) && !ty_is_bad(out1[i]) && !ty_eq(o2, out1[i])) {
                check_error(b, last[i]->node->loc,
                            "'%s' is %s after the first iteration of this loop but %s after the next; a loop "
                            "must keep its types from the second iteration on",
                            rb.v[i], check_tystr(b, out1[i]), check_tystr(b, o2));
                break;
            }
        }
        scope_pop(b, mark);
    }
    b->loop_depth--;
    b->items = saved;
    /* after the loop the rebound names hold the last iteration's values */
    if (known && hv <= lv)
        return;
    DimEnv *lastenv = arena_alloc(C->a, sizeof *lastenv);
    ty_env_bind_dim(C->a, lastenv, n->name, ty_dim_sub(&C->dc, hi->ival, ty_dim_const(&C->dc, 1)), n->loc);
    for (int i = 0; i < rb.n; i++) {
        Binding *bd = bind(b, rb.v[i], last[i]->kind, last[i]->node, ty_subst(&C->dc, out1[i], lastenv));
        bd->state_ty = last[i]->state_ty;
        bd->stmt = last[i]->stmt;           /* h.W after the loop: the last iteration's call */
        bd->member_env = lastenv;
    }
}

/* ---- compile-time branches [if] ---- */

typedef struct Arm {
    Names names;            /* the names it bound (outer ones rebound, and new ones) */
    Binding **last;         /* their bindings at its end */
    const Type *result;     /* the body's result when the if ends the body */
    Node *result_node;
    bool makes;             /* it declares parameters or calls layers */
    Items *items;           /* its records (when they were not kept in the body's) */
} Arm;

/* The arms of an if chain, in order; the final else (lhs NULL) or NULL when it has none. */
static int if_arms(Node *n, Node **arms, int cap) {
    int k = 0;
    for (Node *a = n; a && k < cap; a = a->body)
        arms[k++] = a;
    return k;
}

/* Check one arm from the scope at mark; its records go to its own list unless keep. mute: the
 * arm's errors are not reported (each call checks it again); a name or result it gave a bad type
 * is unknown after it instead. */
static void check_arm(Body *b, Node *arm, int mark, bool top, bool keep, bool mute, Arm *out) {
    Check *C = b->C;
    Items *saved = b->items, *scratch = arena_alloc(C->a, sizeof *scratch);
    if (!keep)
        b->items = scratch;
    const Type *sr = b->result;
    Node *srn = b->result_node;
    b->result = NULL;
    b->result_node = NULL;
    int m0 = C->muted;
    C->mute += mute;
    check_stmts(b, arm->kids, arm->nkids, top);
    C->mute -= mute;
    if (C->muted != m0) {
        for (int i = mark; i < b->scope.nlog; i++)
            if (ty_is_bad(b->scope.log[i]->ty))
                b->scope.log[i]->ty = ty_any();
        if (b->result && ty_is_bad(b->result))
            b->result = ty_any();
    }
    out->result = b->result;
    out->result_node = b->result_node;
    b->result = sr;
    b->result_node = srn;
    out->makes = items_make_params(scratch);
    out->items = scratch;
    b->items = saved;
    for (int i = mark; i < b->scope.nlog; i++) {
        bool dup = false;
        for (int j = 0; j < out->names.n && !dup; j++)
            dup = strcmp(out->names.v[j], b->scope.log[i]->name) == 0;
        if (!dup)
            names_add(C, &out->names, b->scope.log[i]->name);
    }
    out->last = arena_alloc(C->a, sizeof *out->last * (size_t)(out->names.n + 1));
    for (int i = 0; i < out->names.n; i++)
        out->last[i] = lookup(b, out->names.v[i]);
}

static Binding *arm_binding(const Arm *a, const char *name) {
    for (int i = 0; i < a->names.n; i++)
        if (strcmp(a->names.v[i], name) == 0)
            return a->last[i];
    return NULL;
}

/* The names an arm that is not taken uses must exist: the arm is not type-checked (its
 * statements may not type with the values that chose the other arm: a residual block's `x + h`
 * when C != F), but a misspelt name in it is still an error. local: the names the arm bound so far. */
static void resolve_expr(Body *b, const Node *e, Names *local) {
    Check *C = b->C;
    if (!e)
        return;
    switch (e->kind) {
    case ND_IDENT: {
        for (int i = 0; i < local->n; i++)
            if (strcmp(local->v[i], e->name) == 0)
                return;
        if (lookup(b, e->name) || (b->dims && ty_env_find(b->dims, e->name)) ||
            decl_find_from(C, e->name, body_file(b)) || check_builtin_lookup(e->name) ||
            is_initializer_name(e->name) || !strcmp(e->name, "training") || !strcmp(e->name, "step") ||
            !strcmp(e->name, "total_steps"))
            return;
        check_error(b, e->loc, "undefined name '%s'", e->name);
        suggest_undefined(b, e->name);
        return;
    }
    case ND_MEMBER:     /* h.W, h_2.W (a path), nn.dense (a module): the taken arm's business */
        return;
    case ND_ARG:
        resolve_expr(b, e->lhs, local);
        return;
    default:
        resolve_expr(b, e->lhs, local);
        resolve_expr(b, e->rhs, local);
        resolve_expr(b, e->body, local);
        for (int i = 0; i < e->nkids; i++)
            resolve_expr(b, e->kids[i], local);
        return;
    }
}

static void resolve_stmts(Body *b, Node *const *kids, int n, Names *local) {
    for (int i = 0; i < n; i++) {
        const Node *s = kids[i];
        switch (s->kind) {
        case ND_BIND:
        case ND_OUTPUT:
        case ND_LOSS:
            resolve_expr(b, s->lhs, local);
            if (s->name)
                names_add(b->C, local, s->name);
            break;
        case ND_UNPACK:
            resolve_expr(b, s->lhs, local);
            for (int k = 0; k < s->nkids; k++)
                if (strcmp(s->kids[k]->name, "_"))
                    names_add(b->C, local, s->kids[k]->name);
            break;
        case ND_PARAM:
        case ND_STATE:
        case ND_INPUT:
        case ND_TARGET:
            names_add(b->C, local, s->name);
            break;
        case ND_RETURN:
        case ND_EXPR:
            resolve_expr(b, s->lhs, local);
            break;
        case ND_FOR:
            resolve_expr(b, s->lhs, local);
            resolve_expr(b, s->rhs, local);
            names_add(b->C, local, s->name);
            resolve_stmts(b, s->kids, s->nkids, local);
            break;
        case ND_IF:
            for (const Node *arm = s; arm; arm = arm->body) {
                resolve_expr(b, arm->lhs, local);
                resolve_stmts(b, arm->kids, arm->nkids, local);
            }
            break;
        default:
            break;
        }
    }
}

/* `if c { ... } else if d { ... } else { ... }`: c is a compile-time bool. When the conditions
 * are known here (in a model, in a body checked again at a call with its values, or from
 * literals) only the taken arm is checked and only its bindings and parameters count; the others
 * have their names resolved only. When they depend on a generic body's formals every arm is
 * checked, a name the arms bind keeps one type when they agree and is unknown (checked at each
 * use) when they do not, and the arm whose parameters exist is chosen per call (an IT_IF record). */
static void check_if(Body *b, Node *n, bool top) {
    Check *C = b->C;
    Node *arms[64];
    int na = if_arms(n, arms, 64), taken = -1, checked = 0;
    bool known = true, bad = false;
    for (int i = 0; i < na && known && taken < 0; i++) {
        Node *c = arms[i]->lhs;
        checked = i + 1;
        if (!c) {
            taken = i;
            break;
        }
        const Type *t;
        if (c->kind == ND_IDENT && strcmp(c->name, "training") == 0 && !lookup(b, "training")) {
            t = ty_new(C->a, TY_BOOL);       /* `if training`: known when lowering walks a graph */
        } else {
            t = check_expr(b, c);
        }
        if (!ty_is_bad(t) && t->kind != TY_BOOL) {
            check_error(b, c->loc, "an 'if' condition must be a compile-time bool, got %s%s", check_tystr(b, t),
                        t->kind == TY_TENSOR ? " (a tensor)" : "");
            if (t->kind == TY_TENSOR)
                check_hint(b, "a tensor's values are known only when the model runs: choose per element with "
                              "where(c, a, b)");
        }
        if (ty_is_bad(t) || t->kind != TY_BOOL) {
            bad = true;         /* the arms are still checked, as under an unknown condition */
            known = false;
            break;
        }
        if (!t->known)
            known = false;
        else if (t->bval)
            taken = i;
    }
    for (int i = checked; i < na; i++)         /* the later conditions, for their errors */
        if (arms[i]->lhs && !(arms[i]->lhs->kind == ND_IDENT && !strcmp(arms[i]->lhs->name, "training")))
            check_expr(b, arms[i]->lhs);
    if (!known && !bad && !b->instance && b->info)
        b->info->value_dependent = true;       /* its calls check it again with their values */
    int mark = b->scope.nlog;
    Arm *res = arena_alloc(C->a, sizeof *res * (size_t)(na + 1));
    bool has_else = !arms[na - 1]->lhs;
    if (known) {
        for (int i = 0; i < na; i++) {
            Names local = {0};
            if (i != taken)
                resolve_stmts(b, arms[i]->kids, arms[i]->nkids, &local);
        }
        if (taken >= 0) {
            check_arm(b, arms[taken], mark, top, true, false, &res[taken]);
            if (top && res[taken].result) {
                b->result = res[taken].result;
                b->result_node = res[taken].result_node;
            }
        }
        return;
    }
    /* a generic body's arms under a condition on its formals: each call checks the body again with
     * the condition known and reports the taken arm's errors, so here an arm's errors (x + h where
     * C == F is the condition) are muted; its names are still resolved */
    bool mute = !bad && !b->instance && b->info && b->kind != ND_MODEL;
    bool makes = false;
    for (int i = 0; i < na; i++) {
        if (mute) {
            Names local = {0};
            resolve_stmts(b, arms[i]->kids, arms[i]->nkids, &local);
        }
        check_arm(b, arms[i], mark, top, false, mute, &res[i]);
        scope_pop(b, mark);
        makes |= res[i].makes;
    }
    if (makes && !bad) {
        /* which arm's parameters exist is decided where the parameter list is expanded, with the
         * calls' values (an IT_IF record) */
        Item *it = new_item(b, IT_IF);
        it->node = n;
        it->narms = na;
        it->arms = arena_alloc(C->a, sizeof *it->arms * (size_t)na);
        for (int i = 0; i < na; i++)
            it->arms[i] = *res[i].items;
    }
    /* the names bound after the if: those of every arm (and of the scope before, when there is no
     * else); one type when they agree, else unknown */
    Names all = {0};
    for (int i = 0; i < na; i++)
        for (int j = 0; j < res[i].names.n; j++) {
            bool dup = false;
            for (int k = 0; k < all.n && !dup; k++)
                dup = strcmp(all.v[k], res[i].names.v[j]) == 0;
            if (!dup)
                names_add(C, &all, res[i].names.v[j]);
        }
    for (int k = 0; k < all.n; k++) {
        const char *nm = all.v[k];
        Binding *before = lookup(b, nm), *first = NULL;
        const Type *t = NULL;
        bool everywhere = true;
        for (int i = 0; i < na; i++) {
            Binding *bd = arm_binding(&res[i], nm);
            if (!bd)
                bd = before;
            if (!bd) {
                everywhere = false;
                continue;
            }
            if (!first)
                first = bd;
            t = !t ? bd->ty : ty_eq(t, bd->ty) ? t : ty_any();
        }
        if (!has_else && before)
            t = ty_eq(t, before->ty) ? t : ty_any();
        if (!everywhere || (!has_else && !before) || first->kind == BK_LOOPVAR)
            continue;               /* bound on some paths only: not visible after the if */
        Binding *nb = bind(b, nm, first->kind, first->node, t);
        nb->state_ty = first->state_ty;
    }
    if (top && has_else) {
        const Type *t = NULL;
        Node *rn = NULL;
        for (int i = 0; i < na; i++) {
            if (!res[i].result) {
                t = NULL;
                break;
            }
            rn = rn ? rn : res[i].result_node;
            t = !t ? res[i].result : ty_eq(t, res[i].result) ? t : ty_any();
        }
        if (t) {
            b->result = t;
            b->result_node = rn;
        }
    }
}

static void model_stmt(Body *b, Node *n);

static void check_stmts(Body *b, Node **kids, int n, bool top) {
    bool returned = false;
    for (int i = 0; i < n; i++) {
        Node *s = kids[i];
        if (returned) {
            check_error(b, s->loc, "statement after 'return' is never reached");
            break;
        }
        switch (s->kind) {
        case ND_BIND:
            check_bind(b, s);
            break;
        case ND_UNPACK:
            check_unpack(b, s);
            break;
        case ND_PARAM:
        case ND_STATE:
            check_param(b, s);
            break;
        case ND_RETURN: {
            begin_stmt(b, NULL, s->lhs, s);
            Node *saved = b->tuple_ok;
            if (b->kind == ND_FN || b->kind == ND_LAYER)
                b->tuple_ok = s->lhs;       /* return mu, logvar [fn.results] (misplaced: said below) */
            const Type *t = check_expr(b, s->lhs);
            b->tuple_ok = saved;
            end_stmt(b);
            check_set(b, s, t);
            if (!top || b->kind == ND_MODEL) {
                check_error(b, s->loc, "'return' is only allowed at the end of a function body");
                break;
            }
            b->result = t;
            b->result_node = s;
            returned = true;
            break;
        }
        case ND_EXPR: {
            begin_stmt(b, NULL, s->lhs, s);
            Node *saved = b->tuple_ok;
            if (top && i == n - 1 && (b->kind == ND_FN || b->kind == ND_LAYER))
                b->tuple_ok = s->lhs;       /* a body's last expression `mu, logvar` [fn.results] */
            const Type *t = check_expr(b, s->lhs);
            b->tuple_ok = saved;
            end_stmt(b);
            check_set(b, s, t);
            if (top && i == n - 1) {
                b->result = t;
                b->result_node = s;
            }
            break;
        }
        case ND_FOR:
            check_for(b, s);
            break;
        case ND_IF:
            check_if(b, s, top && i == n - 1);
            break;
        case ND_INPUT:
        case ND_TARGET:
        case ND_OUTPUT:
        case ND_LOSS:
        case ND_TRAIN:
            if (b->kind != ND_MODEL || !top) {
                check_error(b, s->loc, "this statement is only allowed at the top of a model");
                break;
            }
            model_stmt(b, s);
            break;
        default:
            check_error(b, s->loc, "expected a statement");
            break;
        }
    }
}

/* ---- declarations ---- */

static Body top_body(Check *C) {
    Body b = {.C = C, .kind = ND_PROGRAM, .no_layers = true};
    return b;
}

/* Bind a declaration's formals in its body; generic: their types in its own variables. */
static bool bind_formals(Body *b, DeclInfo *di) {
    Check *C = b->C;
    Node *d = di->decl;
    bool ok = true;
    Conv cv = {.pattern = true, .inst = 0, .collect = &di->dims, .ok = true};
    for (int i = 0; i < d->nformals; i++) {
        Node *f = d->formals[i];
        for (int j = 0; j < i; j++)
            if (strcmp(d->formals[j]->name, f->name) == 0) {
                check_error(b, f->name_loc, "formal '%s' is declared twice", f->name);
                check_note(b, d->formals[j]->name_loc, "the first one is here");
                ok = false;
                break;
            }
        const Type *defty = NULL;
        if (f->lhs) {
            Body tb = top_body(C);
            defty = check_expr(&tb, f->lhs);
            if (defty->kind == TY_FN && fn_is_layer(C, defty)) {
                check_error(b, f->lhs->loc, "layer '%s' cannot be a default function value", defty->fname);
                defty = ty_error();
            }
        }
        const Type *t = formal_type(b, f, &cv, defty);
        if (f->lhs && defty && !ty_is_bad(defty) && f->tyexpr) {
            bool fits = true;
            switch (f->tyexpr->kind) {
            case TE_TENSOR: fits = defty->kind == TY_TENSOR || weak_fits_tensor(defty, f->tyexpr->dtype); break;
            case TE_INT: case TE_DIMVAR: fits = defty->kind == TY_INT; break;
            case TE_DIMLIST:
                fits = (defty->kind == TY_INT && defty->ival) ||
                       (defty->kind == TY_TENSOR && defty->nvals == f->tyexpr->ndims);
                break;
            case TE_FLOAT: fits = defty->kind == TY_FLOAT || defty->kind == TY_INT; break;
            case TE_BOOL_SCALAR: fits = defty->kind == TY_BOOL; break;
            case TE_STR: fits = defty->kind == TY_STR; break;
            case TE_FN: fits = defty->kind == TY_FN; break;
            case TE_TUPLE: fits = false; break;
            }
            if (!fits) {
                check_error(b, f->lhs->loc, "the default of '%s' is %s, which does not fit its type", f->name,
                            check_tystr(b, defty));
                ok = false;
            }
        }
        if (!b->instance)
            f->ty = (Type *)t;
        bind(b, f->name, BK_FORMAL, f, t);
    }
    return ok && cv.ok;
}

/* The declared result type, in the decl's own variables; NULL when there is none. */
static const Type *declared_result(Body *b, Node *d, bool *ok) {
    if (!d->tyexpr)
        return NULL;
    Conv cv = {.result = true, .ok = true};
    if (d->tyexpr->kind == TE_TUPLE) {     /* -> (f32[B, L], f32[B, L]) [fn.results] */
        const Type **el = arena_alloc(b->C->a, sizeof *el * (size_t)(d->tyexpr->nelems + 1));
        for (int i = 0; i < d->tyexpr->nelems; i++)
            el[i] = conv_tensor(b, d->tyexpr->elems[i], &cv);
        if (!cv.ok)
            *ok = false;
        return cv.ok ? ty_tuple(b->C->a, d->tyexpr->nelems, el) : NULL;
    }
    Type *t = conv_tensor(b, d->tyexpr, &cv);
    if (!cv.ok)
        *ok = false;
    return cv.ok ? t : NULL;
}

/* Does a body's result r fit the declared tensor type? */
static bool result_fits(const Type *r, const Type *declared) {
    return r->kind == TY_TENSOR ? ty_eq(r, declared)
                                : weak_fits_tensor(r, declared->dtype) && declared->shape.rank == 0 &&
                                      declared->shape.rest < 0;
}

static void check_result(Body *b, const Type *declared) {
    Node *d = b->decl;
    if (!b->result) {
        check_error(b, d->name_loc, "%s '%s' has no result: its body must end in an expression or 'return'",
                    d->kind == ND_LAYER ? "layer" : d->kind == ND_OPTIMIZER ? "optimizer" : "function", d->name);
        return;
    }
    const Type *r = b->result;
    if (ty_is_bad(r))
        return;
    if (declared && (declared->kind == TY_TUPLE || r->kind == TY_TUPLE)) {
        /* several results [fn.results]: as many as declared, each of its declared type */
        int nd = declared->kind == TY_TUPLE ? declared->nelems : 1, nr = r->kind == TY_TUPLE ? r->nelems : 1;
        if (nd != nr) {
            check_error(b, b->result_node->loc, "'%s' is declared to return %d result%s %s%s%s, but its body gives %d %s%s%s",
                        d->name, nd, nd == 1 ? "" : "s", nd == 1 ? "(" : "", check_tystr(b, declared),
                        nd == 1 ? ")" : "", nr, nr == 1 ? "(" : "", check_tystr(b, r), nr == 1 ? ")" : "");
            check_note(b, d->tyexpr->loc, "the result type is declared here");
            return;
        }
        const Node *rn = b->result_node->lhs;
        for (int i = 0; i < nd; i++) {
            const Type *ri = r->elems[i];
            if (ty_is_bad(ri) || result_fits(ri, declared->elems[i]))
                continue;
            const Node *at = rn && rn->kind == ND_TUPLE && i < rn->nkids ? rn->kids[i] : b->result_node;
            check_error(b, at->loc, "result %d of '%s' is declared %s, but its body gives %s", i + 1, d->name,
                        check_tystr(b, declared->elems[i]), check_tystr(b, ri));
            check_note(b, d->tyexpr->elems[i]->loc, "the result type is declared here");
        }
        return;
    }
    if (declared) {
        bool fits = result_fits(r, declared);
        if (!fits) {
            check_error(b, b->result_node->loc, "'%s' is declared to return %s, but its body gives %s", d->name,
                        check_tystr(b, declared), check_tystr(b, r));
            check_note(b, d->tyexpr->loc, "the result type is declared here");
        }
        return;
    }
    if (r->kind != TY_TENSOR && r->kind != TY_INT && r->kind != TY_FLOAT && r->kind != TY_BOOL && r->kind != TY_TUPLE)
        check_error(b, b->result_node->loc, "the result of '%s' must be a tensor or a number, got %s", d->name,
                    check_tystr(b, r));
}

static void check_optimizer_shape(Body *b, DeclInfo *di) {
    Node *d = di->decl;
    if (d->nformals < 2 || !d->formals[0]->ty || !d->formals[1]->ty ||
        d->formals[0]->ty->kind != TY_TENSOR || d->formals[1]->ty->kind != TY_TENSOR ||
        d->formals[0]->ty->dtype != DT_F32 || !ty_eq(d->formals[0]->ty, d->formals[1]->ty)) {
        check_error(b, d->name_loc, "optimizer '%s' must start with the formals (p: f32[*S], g: f32[*S])",
                    d->name);
        return;
    }
    const Type *r = b->result;
    if (r && !ty_is_bad(r) && !(r->kind == TY_TENSOR && ty_eq(r, d->formals[0]->ty))) {
        check_error(b, b->result_node->loc, "the result of optimizer '%s' is the new value of '%s' and must be "
                    "%s, got %s", d->name, d->formals[0]->name, check_tystr(b, d->formals[0]->ty),
                    check_tystr(b, r));
    }
}

static void check_model(Check *C, DeclInfo *di);

static void check_decl(Check *C, DeclInfo *di) {
    Node *d = di->decl;
    if (d->kind == ND_MODEL) {
        check_model(C, di);
        return;
    }
    if (C->depth >= MAX_CALL_DEPTH) {
        Body eb = {.C = C};
        check_error(&eb, d->name_loc, "calls nest too deeply (more than %d declarations)", MAX_CALL_DEPTH);
        di->state = 2;
        di->had_errors = true;
        di->result = ty_error();
        return;
    }
    C->depth++;
    di->state = 1;
    int e0 = C->d->nerrors;
    Body b = {.C = C, .decl = d, .info = di, .kind = d->kind, .dims = &di->dims, .items = &di->items, .root = &di->items};
    di->dims.inst = 0;
    bool ok = bind_formals(&b, di);
    bool rok = true;
    const Type *declared = ok ? declared_result(&b, d, &rok) : NULL;
    check_stmts(&b, d->kids, d->nkids, true);
    check_result(&b, declared);
    if (d->kind == ND_OPTIMIZER && ok)
        check_optimizer_shape(&b, di);
    di->result = declared ? declared : !rok ? ty_error() : b.result ? b.result : ty_error();
    di->had_errors = C->d->nerrors != e0;
    di->state = 2;
    Type *ft = fn_type(&b, d, BI_NONE, d->name);
    ft->ret = di->result;
    d->ty = ft;
    C->depth--;
}

/* Re-check the body of ci with actual argument types and known function values. */
/* records (when not NULL): the parameter-making records of the body as checked here. */
static const Type *instance_check(Body *caller, Node *call, DeclInfo *ci, const Type **vals, const DimEnv *env,
                                  Items **records) {
    Check *C = caller->C;
    Node *d = ci->decl;
    if (C->depth >= MAX_CALL_DEPTH) {
        check_error(caller, call->loc, "calls nest too deeply (more than %d levels)", MAX_CALL_DEPTH);
        return ty_error();
    }
    C->depth++;
    int e0 = nerrors(C);
    Items *scratch = arena_alloc(C->a, sizeof *scratch);
    DimEnv dims = {.inst = 0};      /* a copy: the call's own env must not grow */
    for (int i = 0; i < env->n; i++)
        *ARENA_PUSH(C->a, dims.b, dims.n, dims.cap) = env->b[i];
    /* dims of the callee's own variables: the generic ones, replaced by the call's bindings */
    for (int i = 0; i < ci->dims.n; i++)
        if (!ty_env_find(&dims, ci->dims.b[i].name)) {
            if (ci->dims.b[i].is_rest)
                ty_env_bind_rest(C->a, &dims, ci->dims.b[i].name, ci->dims.b[i].shape, ci->dims.b[i].where);
            else
                ty_env_bind_dim(C->a, &dims, ci->dims.b[i].name, ci->dims.b[i].dim, ci->dims.b[i].where);
        }
    Body b = {.C = C, .decl = d, .info = ci, .kind = d->kind, .dims = &dims, .items = scratch, .root = scratch, .instance = true,
              .caller = caller};
    for (int i = 0; i < d->nformals; i++) {
        Node *f = d->formals[i];
        const Type *t = vals[i];
        if (f->tyexpr && f->tyexpr->kind == TE_DIMLIST) {
            /* the list of the call's values, whether it gave an int or a list */
            const SDim **v = arena_alloc(C->a, sizeof *v * (size_t)(f->tyexpr->ndims + 1));
            for (int j = 0; j < f->tyexpr->ndims; j++) {
                DimBind *db = ty_env_find(&dims, f->tyexpr->dims[j]->name);
                v[j] = db && !db->is_rest ? db->dim : NULL;
            }
            t = dimlist_type(C, f->tyexpr->ndims, v);
        } else if (t->kind == TY_INT && (!f->tyexpr || f->tyexpr->kind != TE_TENSOR)) {
            DimBind *db = ty_env_find(&dims, f->tyexpr && f->tyexpr->kind == TE_DIMVAR ? f->tyexpr->name : f->name);
            Type *it = ty_new(C->a, TY_INT);
            it->ival = t->ival ? t->ival : db && !db->is_rest ? db->dim : NULL;
            t = it;
        } else if (t->kind != TY_TENSOR && f->tyexpr && f->tyexpr->kind == TE_TENSOR &&
                   !weak_fits_tensor(t, f->tyexpr->dtype)) {
            t = ty_tensor(C->a, f->tyexpr->dtype, 0, NULL);
        }
        /* a compile-time number or bool for a tensor formal (h0 = 0.0, mask = true) stays one, as
         * lowering has it: passed on to another tensor formal it fills that one's type again */
        bind(&b, f->name, BK_FORMAL, f, t);
    }
    bool rok = true;
    const Type *declared = declared_result(&b, d, &rok);
    check_stmts(&b, d->kids, d->nkids, true);
    check_result(&b, declared);
    C->depth--;
    if (nerrors(C) != e0) {
        const char *fns = "";
        for (int i = 0; i < d->nformals; i++)
            if (vals[i]->kind == TY_FN && vals[i]->fname)
                fns = arena_printf(C->a, "%s%s%s = %s", fns, *fns ? ", " : "", d->formals[i]->name, vals[i]->fname);
        if (*fns)
            check_note(caller, call->loc, "in this call of %s (with %s)", d->name, fns);
        else
            check_note(caller, call->loc, "in this call of %s", d->name);
        return ty_error();
    }
    if (records)
        *records = scratch;
    if (declared)
        return declared;
    return b.result ? b.result : ty_error();
}

/* ---- models [model] ---- */

static bool dim_is_batch(const SDim *d) {
    return d->n == 1 && d->t[0].coef == 1 && d->t[0].n == 1 && d->t[0].atoms[0]->kind == DA_SYM &&
           d->t[0].atoms[0]->inst == 0 && strcmp(d->t[0].atoms[0]->name, "B") == 0;
}

static void model_stmt(Body *b, Node *n) {
    Check *C = b->C;
    ModelInfo *m = b->model;
    switch (n->kind) {
    case ND_INPUT:
    case ND_TARGET: {
        const char *what = n->kind == ND_INPUT ? "input" : "target";
        Conv cv = {.ok = true};
        Type *t = conv_tensor(b, n->tyexpr, &cv);
        if (cv.ok) {
            if (t->shape.rank == 0 || !dim_is_batch(t->shape.dims[0])) {
                check_error(b, n->tyexpr->loc, "%s '%s' must have the batch dim B first, got %s", what, n->name,
                            check_tystr(b, t));
                check_hint(b, "write %s[B, ...]", ty_dtype_name(t->dtype));
                cv.ok = false;
            } else {
                for (int i = 1; i < t->shape.rank; i++)
                    if (ty_dim_has_inst(t->shape.dims[i], 0)) {
                        check_error(b, n->tyexpr->dims[i]->loc, "the batch dim B can only be the first dim of %s '%s'",
                                    what, n->name);
                        cv.ok = false;
                        break;
                    }
            }
        }
        const Type *ty = cv.ok ? t : ty_error();
        Binding *old = lookup(b, n->name);
        if (old && (old->kind == BK_INPUT)) {
            check_error(b, n->name_loc, "'%s' is declared twice", n->name);
            check_note(b, old->node->name_loc, "the first declaration is here");
        }
        check_set(b, n, ty);
        bind(b, n->name, BK_INPUT, n, ty);
        *ARENA_PUSH(C->a, m->inputs, m->ninputs, m->capinputs) = n;
        break;
    }
    case ND_OUTPUT: {
        const Type *t;
        Item *it = NULL;
        if (n->lhs) {
            begin_stmt(b, n->name, n->lhs, n);
            t = check_expr(b, n->lhs);
            it = end_stmt(b);
        } else {
            Binding *bd = lookup(b, n->name);
            if (!bd) {
                check_error(b, n->name_loc, "undefined name '%s'", n->name);
                suggest_undefined(b, n->name);
                t = ty_error();
            } else {
                t = bd->ty;
                set_ref(b, n, bd->node);
            }
        }
        if (!ty_is_bad(t) && t->kind != TY_TENSOR) {
            check_error(b, n->loc, "output '%s' must be a tensor, got %s", n->name, check_tystr(b, t));
            t = ty_error();
        }
        if (t->kind == TY_TENSOR) {
            /* [model.output.batch]: an output's first dim is the batch B (predict returns one row
             * per example), and B is nowhere else [dim.batch]; the lowering relies on both */
            if (t->shape.rank == 0 || !dim_is_batch(t->shape.dims[0]))
                check_error(b, n->loc, "output '%s' is %s: an output's first dim must be the batch B", n->name,
                            check_tystr(b, t));
            else for (int i = 1; i < t->shape.rank; i++)
                if (ty_dim_has_inst(t->shape.dims[i], 0)) {
                    check_error(b, n->lhs ? n->lhs->loc : n->loc, "output '%s' has type %s, but the batch dim B "
                                "can only be an output's whole first dim", n->name, check_tystr(b, t));
                    break;
                }
        }
        for (int i = 0; i < m->noutputs; i++)
            if (strcmp(m->outputs[i]->name, n->name) == 0) {
                check_error(b, n->name_loc, "output '%s' is declared twice", n->name);
                check_note(b, m->outputs[i]->name_loc, "the first one is here");
            }
        check_set(b, n, t);
        *ARENA_PUSH(C->a, m->outputs, m->noutputs, m->capoutputs) = n;
        if (n->lhs) {
            Binding *bd = bind(b, n->name, BK_VALUE, n, t);
            bd->stmt = it;
        }
        break;
    }
    case ND_LOSS: {
        begin_stmt(b, n->name, n->lhs, n);
        const Type *t = check_expr(b, n->lhs);
        Item *it = end_stmt(b);
        if (!ty_is_bad(t) && !(t->kind == TY_TENSOR && t->dtype == DT_F32 && t->shape.rank == 0 &&
                               t->shape.rest < 0)) {
            check_error(b, n->lhs->loc, "loss '%s' must be a rank-0 f32, got %s", n->name, check_tystr(b, t));
            if (t->kind == TY_TENSOR && t->dtype == DT_F32)
                check_hint(b, "reduce it to a scalar, e.g. mean(...)");
            t = ty_error();
        }
        for (int i = 0; i < m->nlosses; i++)
            if (strcmp(m->losses[i]->name, n->name) == 0) {
                check_error(b, n->name_loc.file ? n->name_loc : n->loc, "loss '%s' is declared twice", n->name);
                check_note(b, m->losses[i]->loc, "the first one is here");
                check_hint(b, "name each loss: loss d_loss = ...");
            }
        check_set(b, n, t);
        *ARENA_PUSH(C->a, m->losses, m->nlosses, m->caplosses) = n;
        Binding *bd = bind(b, n->name, BK_VALUE, n, t);
        bd->stmt = it;
        break;
    }
    case ND_TRAIN:
        if (m->train) {
            check_error(b, n->loc, "a model has at most one train block");
            check_note(b, m->train->loc, "the first one is here");
        } else {
            m->train = n;
        }
        break;
    default:
        unreachable();
    }
}

static const char *path_str(Check *C, const Node *p) {
    if (p->kind == ND_IDENT)
        return p->name;
    if (p->kind == ND_MEMBER)
        return arena_printf(C->a, "%s.%s", path_str(C, p->lhs), p->name);
    return "?";
}

static const char *const metrics[] = {"accuracy", "mse", "mae"};

/* What an untyped formal takes, judged by its default (a number when there is none). */
static TypeExprKind untyped_kind(const Node *f) {
    const Type *d = f->lhs ? f->lhs->ty : NULL;
    if (!d)
        return TE_FLOAT;
    switch (d->kind) {
    case TY_INT: return TE_INT;
    case TY_FN: return TE_FN;
    case TY_BOOL: return TE_BOOL_SCALAR;
    case TY_STR: return TE_STR;
    default: return TE_FLOAT;
    }
}

/* The optimizer call of a train block or step [optimizer.call]. */
/* The `schedule` argument of an optimizer call [optimizer.call]: a fn whose first three formals
 * take the base lr, the step and the total steps, given alone (`cosine`) or called with values for
 * its other formals only (`step_decay(gamma = 0.5)`). Lowering (compiler/lower.c call_decl) makes
 * such a call a partial application: it keeps the named values and leaves the formals without
 * value or default open; the optim pass then calls the result positionally with three rank-0 f32
 * tensors, which fill the open formals in order. So the call must leave exactly the leading three
 * open: a positional argument would take 'lr', and a later formal left without a value would take
 * the third tensor. The schedule is checked here as that call, and must give a rank-0 f32. Returns
 * the schedule's function type, or an error type; NULL when e is no fn declaration (the caller
 * checks it as an ordinary expression). */
static const Type *check_schedule(Body *b, Node *e) {
    Check *C = b->C;
    Node *name = e->kind == ND_CALL ? e->lhs : e;
    if (!name || name->kind != ND_IDENT || lookup(b, name->name))
        return NULL;
    DeclInfo *di = decl_find_from(C, name->name, body_file(b));
    if (!di || di->decl->kind != ND_FN)
        return NULL;
    Node *d = di->decl;
    const Type *ft = check_expr(b, name);
    if (ty_is_bad(ft))
        return ft;
    if (d->nformals < 3) {
        check_error(b, name->loc, "the schedule %s takes %d formal%s, but a schedule's first three take the base "
                    "lr, the step and the total steps", d->name, d->nformals, d->nformals == 1 ? "" : "s");
        check_note(b, d->name_loc, "'%s' is declared here", d->name);
        return ty_error();
    }
    const char *lead = arena_printf(C->a, "'%s', '%s' and '%s'", d->formals[0]->name, d->formals[1]->name,
                                    d->formals[2]->name);
    bool ok = true;
    for (int i = 0; e->kind == ND_CALL && i < e->nkids; i++) {
        Node *a = e->kids[i];
        int j = 0;
        while (a->kind == ND_ARG && j < 3 && strcmp(a->name, d->formals[j]->name) != 0)
            j++;
        if (j < 3) {
            check_error(b, a->loc, "the schedule %s gets %s from the optimizer; its call names only the "
                        "formals after them", d->name, lead);
            if (a->kind != ND_ARG && d->nformals > 3)
                check_hint(b, "name the value: %s(%s = ...)", d->name, d->formals[3]->name);
            ok = false;
        }
    }
    if (e->kind == ND_CALL && d->formals[0]->lhs && d->formals[1]->lhs && d->formals[2]->lhs) {
        check_error(b, e->loc, "%s has defaults for %s, so this call computes a number, not a schedule",
                    d->name, lead);
        check_hint(b, "pass '%s' alone, or drop those defaults", d->name);
        ok = false;
    }
    if (!ok)
        return ty_error();
    /* the call the optim pass makes: three rank-0 f32 tensors, then this call's named values */
    int nargs = 3 + (e->kind == ND_CALL ? e->nkids : 0);
    Node **args = arena_alloc(C->a, sizeof *args * (size_t)nargs);
    const Type **argty = arena_alloc(C->a, sizeof *argty * (size_t)nargs);
    for (int i = 0; i < 3; i++) {
        Node *f = arena_alloc(C->a, sizeof *f);
        f->kind = ND_FLOAT;
        f->loc = e->loc;
        args[i] = f;
        argty[i] = ty_tensor(C->a, DT_F32, 0, NULL);
    }
    for (int i = 3; i < nargs; i++) {
        Node *a = e->kids[i - 3];
        args[i] = a;
        argty[i] = check_set(b, a, check_expr(b, a->lhs));
    }
    Node *call = e;
    if (e->kind != ND_CALL) {
        call = arena_alloc(C->a, sizeof *call);
        *call = (Node){.kind = ND_CALL, .loc = e->loc, .lhs = e};
    }
    int e0 = nerrors(C);
    const Type *r = user_call(b, call, di, args, nargs, argty, NULL);
    if (nerrors(C) != e0 || r->kind == TY_ERROR) {
        check_note(b, e->loc, "the optimizer calls the schedule as %s(%s, %s, %s%s)", d->name, d->formals[0]->name,
                   d->formals[1]->name, d->formals[2]->name, e->kind == ND_CALL && e->nkids ? ", ..." : "");
        return ty_error();
    }
    if (r->kind != TY_ANY && r->kind != TY_INT && r->kind != TY_FLOAT &&
        !(r->kind == TY_TENSOR && r->dtype == DT_F32 && r->shape.rank == 0 && r->shape.rest < 0)) {
        check_error(b, e->loc, "the schedule %s gives %s; it must give the step's lr, an f32", d->name,
                    check_tystr(b, r));
        return ty_error();
    }
    if (e->kind == ND_CALL) {
        set_ref(b, e, d);
        check_set(b, e, ft);
    }
    return ft;
}

static void check_optimizer_call(Body *b, Node *e) {
    Check *C = b->C;
    Node *callee = e->kind == ND_CALL ? e->lhs : e;
    if (callee->kind != ND_IDENT) {
        check_error(b, e->loc, "expected an optimizer call like adam(lr = 1e-3)");
        return;
    }
    DeclInfo *di = decl_find_from(C, callee->name, body_file(b));
    if (!di || di->decl->kind != ND_OPTIMIZER) {
        if (di)
            check_error(b, callee->loc, "'%s' is a %s, not an optimizer", callee->name,
                        di->decl->kind == ND_LAYER ? "layer" : di->decl->kind == ND_MODEL ? "model" : "function");
        else
            check_error(b, callee->loc, "unknown optimizer '%s'", callee->name);
        Names ns = {0};
        for (int i = 0; i < C->ndecls; i++)
            if (C->order[i]->decl->kind == ND_OPTIMIZER)
                names_add(C, &ns, C->order[i]->decl->name);
        check_hint_similar(b, callee->name, ns.v, ns.n, NULL);
        return;
    }
    if (di->state == 0)
        check_decl(C, di);
    Node *d = di->decl;
    set_ref(b, callee, d);
    set_ref(b, e, d);
    Type *ft = fn_type(b, d, BI_NONE, d->name);
    ft->ret = di->result;
    check_set(b, callee, ft);
    check_set(b, e, ft);
    if (e->kind != ND_CALL)
        return;
    /* hyper-parameters: the formals after (p, g), and l1, l2, clipnorm, clipvalue, global_clipnorm,
     * schedule */
    int nh = d->nformals > 2 ? d->nformals - 2 : 0;
    int nf = nh + 6;
    const char **names = arena_alloc(C->a, sizeof *names * (size_t)nf);
    bool *hasdef = arena_alloc(C->a, sizeof *hasdef * (size_t)nf);
    for (int i = 0; i < nh; i++) {
        names[i] = d->formals[i + 2]->name;
        hasdef[i] = d->formals[i + 2]->lhs != NULL;
    }
    names[nh] = "l1";
    names[nh + 1] = "l2";
    names[nh + 2] = "clipnorm";
    names[nh + 3] = "clipvalue";
    names[nh + 4] = "global_clipnorm";
    names[nh + 5] = "schedule";
    for (int i = nh; i < nf; i++)
        hasdef[i] = true;
    Node **slot = arena_alloc(C->a, sizeof *slot * (size_t)nf);
    const Type **sty = arena_alloc(C->a, sizeof *sty * (size_t)nf);
    const Type **argty = arena_alloc(C->a, sizeof *argty * (size_t)(e->nkids + 1));
    /* positional arguments bind the formals after (p, g) only, as lowering's optimizer_arg_name */
    int npos = 0;
    for (int i = 0; i < e->nkids; i++)
        if (e->kids[i]->kind != ND_ARG && ++npos > nh) {
            check_error(b, e->kids[i]->loc, "optimizer %s takes %d positional argument%s (after p and g), got %d",
                        d->name, nh, nh == 1 ? "" : "s", npos);
            check_hint(b, "name the others: l1 = ..., l2 = ..., schedule = ...");
            return;
        }
    for (int i = 0; i < e->nkids; i++) {
        Node *a = e->kids[i];
        const Type *st = a->kind == ND_ARG && strcmp(a->name, "schedule") == 0 ? check_schedule(b, a->lhs) : NULL;
        if (st)
            argty[i] = check_set(b, a, st);
        else
            argty[i] = a->kind == ND_ARG ? check_set(b, a, check_expr(b, a->lhs)) : check_expr(b, a);
    }
    Callee ce = {d->name, nf, names, hasdef, NULL, false, NULL};
    if (!match_args(b, e, &ce, e->kids, e->nkids, argty, slot, sty))
        return;
    for (int i = 0; i < nf; i++) {
        if (!slot[i] || ty_is_bad(sty[i]))
            continue;
        const Type *t = sty[i];
        if (i >= nh) {
            if (i < nh + 5 && t->kind != TY_FLOAT && t->kind != TY_INT)
                check_error(b, slot[i]->loc, "%s expects a float for '%s', got %s", d->name, names[i], check_tystr(b, t));
            if (i == nh + 5) {
                const Node *sd = t->kind == TY_FN ? t->decl : NULL;
                if (!sd || sd->kind != ND_FN)
                    check_error(b, slot[i]->loc, "schedule must be a function such as constant, step_decay or "
                                "cosine, got %s", check_tystr(b, t));
            }
            continue;
        }
        Node *f = d->formals[i + 2];
        TypeExprKind k = f->tyexpr ? f->tyexpr->kind : untyped_kind(f);
        bool fits = k == TE_FLOAT ? (t->kind == TY_FLOAT || t->kind == TY_INT)
                  : k == TE_INT || k == TE_DIMVAR ? t->kind == TY_INT
                  : k == TE_DIMLIST ? t->kind == TY_INT || t->kind == TY_TENSOR
                  : k == TE_BOOL_SCALAR ? t->kind == TY_BOOL
                  : k == TE_FN ? t->kind == TY_FN
                  : k == TE_STR ? t->kind == TY_STR
                  : (t->kind == TY_FLOAT || t->kind == TY_INT);
        if (!fits)
            check_error(b, slot[i]->loc, "%s expects %s for '%s', got %s", d->name,
                        f->ty ? check_tystr(b, f->ty) : "a number", f->name, check_tystr(b, t));
    }
}

static bool is_str_arg(const Type *t) { return t->kind == TY_STR; }

/* What the data source yields must fit the declared inputs and targets [train.data]. */
static void check_data_fits(Body *b, Node *e, const char *src) {
    ModelInfo *m = b->model;
    int ni = 0, nt = 0;
    Node *in = NULL, *tg = NULL;
    for (int i = 0; i < m->ninputs; i++) {
        if (m->inputs[i]->kind == ND_INPUT)
            ni++, in = in ? in : m->inputs[i];
        else
            nt++, tg = tg ? tg : m->inputs[i];
    }
    if (ni != 1 || nt > 1) {
        check_error(b, e->loc, "%s yields one input and one target, but the model declares %d input%s and %d "
                    "target%s", src, ni, ni == 1 ? "" : "s", nt, nt == 1 ? "" : "s");
        if (ni > 1)
            check_hint(b, "declare one input holding every feature and slice it in the model "
                       "(x: f32[B, 4], then a = x[:, 0:2] and b = x[:, 2:4])");
        return;
    }
    if (strcmp(src, "fashion_mnist") != 0 && strcmp(src, "mnist") != 0)
        return;
    const Type *t = in->ty;
    if (t && t->kind == TY_TENSOR && t->shape.rest < 0) {
        const SDim *p = ty_dim_const(&b->C->dc, 1);
        for (int i = 1; i < t->shape.rank; i++)
            p = ty_dim_mul(&b->C->dc, p, t->shape.dims[i]);
        int64_t c;
        if (t->dtype != DT_F32 || !ty_dim_is_const(p, &c) || c != 784) {
            check_error(b, e->loc, "%s yields 28x28 f32 images, but input '%s' is %s", src, in->name,
                        check_tystr(b, t));
            check_note(b, in->loc, "'%s' is declared here", in->name);
            check_hint(b, "declare it f32[B, 28, 28] (or f32[B, 784])");
        }
    }
    t = tg ? tg->ty : NULL;
    if (t && t->kind == TY_TENSOR && !(t->dtype == DT_I32 && t->shape.rank == 1 && t->shape.rest < 0)) {
        check_error(b, e->loc, "%s yields i32 class labels, but target '%s' is %s", src, tg->name, check_tystr(b, t));
        check_note(b, tg->loc, "'%s' is declared here", tg->name);
        check_hint(b, "declare it i32[B]");
    }
}

static int64_t per_sample(const Type *t);

/* [train.data.labels] csv(..., label = ["y1", "y2"]): several label columns, an f32[B, K] target
 * (multi-output regression) with one value per column, in the order named. Names are strings,
 * each named once, at most 64; the first target must be f32 with K values per sample. */
static bool check_label_list(Body *b, Node *list) {
    ModelInfo *m = b->model;
    bool ok = list->nkids > 0 && list->nkids <= 64;
    if (!ok)
        check_error(b, list->loc, "a label list names 1 to 64 columns, got %d", list->nkids);
    for (int i = 0; i < list->nkids; i++) {
        Node *k = list->kids[i];
        const Type *t = check_expr(b, k);
        if (ty_is_bad(t)) { ok = false; continue; }
        if (!is_str_arg(t) || !t->sval) {
            check_error(b, k->loc, "a label list holds column names as strings, got %s", check_tystr(b, t));
            ok = false;
            continue;
        }
        if (!*t->sval || strpbrk(t->sval, "\n\t")) {
            check_error(b, k->loc, "a label column name is not empty and holds no newline or tab");
            ok = false;
            continue;
        }
        for (int j = 0; j < i; j++)
            if (list->kids[j]->ty && list->kids[j]->ty->sval && strcmp(list->kids[j]->ty->sval, t->sval) == 0) {
                check_error(b, k->loc, "label column '%s' is named twice", t->sval);
                ok = false;
            }
    }
    if (!ok) return false;
    Node *tg = NULL;
    for (int i = 0; i < m->ninputs && !tg; i++)
        if (m->inputs[i]->kind == ND_TARGET) tg = m->inputs[i];
    const Type *tt = tg ? tg->ty : NULL;
    if (!tt || ty_is_bad(tt)) return true;
    if (!(tt->kind == TY_TENSOR && tt->dtype == DT_F32 && tt->shape.rank == 2 && per_sample(tt) == list->nkids)) {
        check_error(b, list->loc, "%d label columns make an f32[B, %d] target, but target '%s' is %s", list->nkids,
                    list->nkids, tg->name, check_tystr(b, tt));
        check_note(b, tg->loc, "'%s' is declared here", tg->name);
        return false;
    }
    return true;
}

/* [train.data.text] text("file.txt", seq = T, stride = S): windows of T characters as token ids
 * i32[B, T] and the ids one character later i32[B, T]; the model declares one input and one target,
 * both i32[B, T] of the same constant T, and seq (when given) says T again. The vocabulary's size
 * is checked by the executable, which builds the vocabulary (runtime/text.c). */
static void check_text_fits(Body *b, Node *e, int64_t seq, Node *seq_node) {
    ModelInfo *m = b->model;
    Node *in = NULL, *tg = NULL;
    int ni = 0, nt = 0;
    for (int i = 0; i < m->ninputs; i++) {
        if (m->inputs[i]->kind == ND_INPUT) ni++, in = in ? in : m->inputs[i];
        else nt++, tg = tg ? tg : m->inputs[i];
    }
    if (ni != 1 || nt != 1) {
        check_error(b, e->loc, "text yields token ids and the next ids, one input and one target, but the model "
                    "declares %d input%s and %d target%s", ni, ni == 1 ? "" : "s", nt, nt == 1 ? "" : "s");
        check_hint(b, "declare `input ids: i32[B, T]` and `target next: i32[B, T]`");
        return;
    }
    int64_t T[2] = {-1, -1};
    Node *io[2] = {in, tg};
    for (int k = 0; k < 2; k++) {
        const Type *t = io[k]->ty;
        if (!t || t->kind != TY_TENSOR) return;
        int64_t c;
        if (t->dtype != DT_I32 || t->shape.rank != 2 || t->shape.rest >= 0 ||
            !ty_dim_is_const(t->shape.dims[1], &c)) {
            check_error(b, e->loc, "text yields i32[B, T] token ids, but %s '%s' is %s", k ? "target" : "input",
                        io[k]->name, check_tystr(b, t));
            check_note(b, io[k]->loc, "'%s' is declared here", io[k]->name);
            check_hint(b, "declare it i32[B, T] with the window length as T, e.g. i32[B, 128]");
            return;
        }
        T[k] = c;
    }
    if (T[0] != T[1]) {
        check_error(b, e->loc, "text yields windows of one length, but input '%s' has %lld positions and target '%s' "
                    "%lld", in->name, (long long)T[0], tg->name, (long long)T[1]);
        return;
    }
    if (seq > 0 && seq != T[0]) {
        check_error(b, seq_node ? seq_node->loc : e->loc, "text's seq = %lld, but input '%s' holds %lld positions "
                    "(i32[B, %lld])", (long long)seq, in->name, (long long)T[0], (long long)T[0]);
        check_hint(b, "leave seq out (it is the input's T) or make them agree");
    }
}

/* text, text(...): the file (a string, at most one; none: Debian's fortunes-es) and the options
 * seq and stride, positive integers. */
static void check_text_source(Body *b, Node *e) {
    int64_t seq = -1;
    Node *seq_node = NULL;
    int npos = 0;
    bool ok = true, seen_seq = false, seen_stride = false;
    for (int i = 0; e->kind == ND_CALL && i < e->nkids; i++) {
        Node *a = e->kids[i];
        const Type *t = check_expr(b, a->kind == ND_ARG ? a->lhs : a);
        if (ty_is_bad(t)) { ok = false; continue; }
        if (a->kind != ND_ARG) {
            npos++;
            if (!is_str_arg(t) || !t->sval) {
                check_error(b, a->loc, "text expects the file name as a string, got %s", check_tystr(b, t));
                ok = false;
            } else if (!*t->sval || strpbrk(t->sval, "\n\t")) {
                check_error(b, a->loc, "a data file name is not empty and holds no newline or tab");
                ok = false;
            }
            continue;
        }
        bool is_seq = strcmp(a->name, "seq") == 0, is_stride = strcmp(a->name, "stride") == 0;
        if ((!is_seq && !is_stride) || (is_seq && seen_seq) || (is_stride && seen_stride)) {
            check_error(b, a->loc, is_seq || is_stride ? "text's option '%s' is given twice" :
                        "text has no option '%s' (its options are seq and stride)", a->name);
            ok = false;
            continue;
        }
        seen_seq |= is_seq, seen_stride |= is_stride;
        int64_t v = 0;
        if (t->kind != TY_INT || !t->ival || !ty_dim_is_const(t->ival, &v) || v < 1 || v > (1 << 24)) {
            char got[64];
            if (t->kind == TY_INT && t->ival && ty_dim_is_const(t->ival, &v)) snprintf(got, sizeof got, "%lld", (long long)v);
            else snprintf(got, sizeof got, "%s", check_tystr(b, t));
            check_error(b, a->loc, "text's %s is a whole number of characters from 1 to 16777216, got %s", a->name, got);
            ok = false;
            continue;
        }
        if (is_seq) seq = v, seq_node = a;
    }
    if (npos > 1) {
        check_error(b, e->loc, "text takes one file name, got %d", npos);
        ok = false;
    }
    if (ok) check_text_fits(b, e, seq, seq_node);
}

static void check_data(Body *b, Node *e) {
    Check *C = b->C;
    const char *hint = "use fashion_mnist, mnist, idx(\"images\", \"labels\"), csv(\"file.csv\", label = \"col\"), "
                       "npy(\"x.npy\", \"y.npy\") or text(\"file.txt\")";
    if (e->kind == ND_IDENT) {
        if (strcmp(e->name, "fashion_mnist") == 0 || strcmp(e->name, "mnist") == 0) {
            check_data_fits(b, e, e->name);
            return;
        }
        if (strcmp(e->name, "text") == 0) {
            check_text_source(b, e);
            return;
        }
        check_error(b, e->loc, "unknown data source '%s'", e->name);
        const char *names[] = {"fashion_mnist", "mnist", "idx", "csv", "npy", "text"};
        check_hint_similar(b, e->name, names, 6, hint);
        return;
    }
    if (e->kind == ND_CALL && e->lhs->kind == ND_IDENT && strcmp(e->lhs->name, "text") == 0) {
        check_text_source(b, e);
        return;
    }
    if (e->kind == ND_CALL && e->lhs->kind == ND_IDENT) {
        const char *nm = e->lhs->name;
        int want = strcmp(nm, "idx") == 0 || strcmp(nm, "npy") == 0 ? 2 : strcmp(nm, "csv") == 0 ? 1 : -1;
        if (want > 0) {
            int npos = 0;
            bool label = false, ok = true;
            for (int i = 0; i < e->nkids; i++) {
                Node *a = e->kids[i];
                if (want == 1 && a->kind == ND_ARG && strcmp(a->name, "label") == 0 && !label &&
                    a->lhs->kind == ND_TENSOR) {
                    label = true;
                    ok &= check_label_list(b, a->lhs);
                    continue;
                }
                const Type *t = check_expr(b, a->lhs && a->kind == ND_ARG ? a->lhs : a);
                if (a->kind == ND_ARG) {
                    if (want == 1 && strcmp(a->name, "label") == 0 && !label)
                        label = true;
                    else {
                        check_error(b, a->loc, "%s has no option '%s'", nm, a->name);
                        ok = false;
                    }
                } else {
                    npos++;
                }
                if (!ty_is_bad(t) && !is_str_arg(t)) {
                    check_error(b, a->loc, "%s expects file names and options as strings, got %s", nm,
                                check_tystr(b, t));
                    ok = false;
                }
                if (!ty_is_bad(t) && is_str_arg(t) && t->sval && strpbrk(t->sval, "\n\t")) {
                    /* the executable's descriptor keeps the data record on one line */
                    check_error(b, a->loc, "a data argument may not hold a newline or tab");
                    ok = false;
                }
                if (!ty_is_bad(t) && is_str_arg(t) && t->sval && !t->sval[0]) {
                    /* "" names no file (it would open the current folder) and no column */
                    check_error(b, a->loc, "%s: an empty string names no %s", nm,
                                a->name && strcmp(a->name, "label") == 0 ? "column" : "file");
                    ok = false;
                }
            }
            /* npy and idx: one file per input and target, in declaration order (one file: the input
             * of a model without a target, an autoencoder's images; three: Keras' multi-output
             * model's input and two targets); the runtime takes at most 4 */
            int ntarget = 0, total = b->model->ninputs;
            for (int i = 0; i < b->model->ninputs; i++) ntarget += b->model->inputs[i]->kind == ND_TARGET;
            if (ok && want == 2 && npos == 1 && ntarget > 0) {
                check_error(b, e->loc, "%s of one file yields the input only, but the model declares a target", nm);
                check_hint(b, "name the targets' file too: %s(\"x.%s\", \"y.%s\")", nm, nm, nm);
            } else if (ok && want == 2 && npos == 2 && total == 1) {
                /* the second file would feed no tensor: never ignored without a word */
                check_error(b, e->loc, "%s of two files yields an input and a target, but the model declares no target",
                            nm);
                check_hint(b, "a model without a target reads one file: %s(\"x.%s\")", nm, nm);
            } else if (ok && want == 2 && (npos > 4 || npos != total)) {
                check_error(b, e->loc, "%s of %d files feeds %d arrays, one per input and target in declaration order, "
                            "but the model declares %d input%s and %d target%s", nm, npos, npos, total - ntarget,
                            total - ntarget == 1 ? "" : "s", ntarget, ntarget == 1 ? "" : "s");
                if (npos > 4)
                    check_hint(b, "a data source feeds at most 4 arrays");
            } else if (ok && want == 1 && npos != 1) {
                check_error(b, e->loc, "%s takes 1 file name, got %d", nm, npos);
            } else if (ok && want == 1 && !label && ntarget > 0) {
                /* a model without a target (an autoencoder on a table) reads every column as a feature */
                check_error(b, e->loc, "csv needs the label column: csv(\"file.csv\", label = \"column\")");
            } else if (ok && want == 1) {
                check_data_fits(b, e, nm);
            }
            (void)C;
            return;
        }
    }
    check_error(b, e->loc, "not a data source");
    check_hint(b, "%s", hint);
}

/* Values per sample of a [B, ...] tensor type with constant dims after B; -1 when unknown. */
static int64_t per_sample(const Type *t) {
    int64_t n = 1, c;
    for (int i = 1; i < t->shape.rank; i++) {
        if (!ty_dim_is_const(t->shape.dims[i], &c)) return -1;
        n *= c;
    }
    return n;
}

/* [train.metrics]: a metric must fit the model, as runtime/train.c computes it from the first
 * target and the first per-sample ([B, ...]) output. accuracy: a classifier (i32[B] labels, a
 * [B, N] output of scores), one trained on one-hot targets (f32[B, N] target and output, the
 * argmax of each compared) or a binary probability model (f32 target and f32 output of one value
 * per sample, [B] or [B, 1]); mse and mae: an f32 target with as many values per sample as an f32
 * output. Otherwise the executable would print nonsense or nothing. */
static void check_metric(Body *b, Node *mn) {
    ModelInfo *m = b->model;
    const Type *tt = NULL, *ot = NULL;
    for (int i = 0; i < m->ninputs && !tt; i++)
        if (m->inputs[i]->kind == ND_TARGET) tt = m->inputs[i]->ty;
    for (int i = 0; i < m->noutputs && !ot; i++) {
        const Type *t = m->outputs[i]->ty;
        if (t && t->kind == TY_TENSOR && t->shape.rank > 0 && dim_is_batch(t->shape.dims[0])) ot = t;
    }
    if ((tt && ty_is_bad(tt)) || (ot && ty_is_bad(ot))) return;
    if (!tt || !ot) return;    /* nothing to compare: the runtime prints no metric (no output) */
    int64_t to = per_sample(ot), ttn = per_sample(tt);
    bool f32 = ot->dtype == DT_F32 && tt->dtype == DT_F32;
    if (strcmp(mn->name, "accuracy") == 0) {
        bool classifier = tt->dtype == DT_I32 && tt->shape.rank == 1 && ot->shape.rank == 2;
        bool binary = f32 && tt->shape.rank <= 2 && ot->shape.rank <= 2 && to == 1 && ttn == 1;
        bool onehot = f32 && tt->shape.rank == 2 && ot->shape.rank == 2 && to > 1 && to <= 1024 && to == ttn;
        if (!classifier && !binary && !onehot) {
            check_error(b, mn->loc, "metric 'accuracy' needs a classifier, but the target is %s and the first output %s",
                        check_tystr(b, tt), check_tystr(b, ot));
            check_hint(b, "accuracy fits i32[B] labels with [B, N] scores, an f32[B, N] one-hot target with "
                          "f32[B, N] scores (N <= 1024), or an f32[B] 0/1 target with an f32[B] probability; "
                          "for a regression use metrics mse or mae");
            if (tt->dtype == DT_I32 && tt->shape.rank >= 2 && ot->shape.rank == tt->shape.rank + 1)
                check_hint(b, "for labels at every position (a sequence), write the metric as a fn: `fn "
                              "token_accuracy(probs: f32[B, T, V], y: i32[B, T]) -> f32 { mean(f32(argmax(probs, "
                              "axis = -1) == y)) }`, then `metrics token_accuracy`");
        }
        return;
    }
    if (!f32 || to < 0 || to != ttn) {
        check_error(b, mn->loc, "metric '%s' compares the first output with the target, but they are %s and %s",
                    mn->name, check_tystr(b, ot), check_tystr(b, tt));
        check_hint(b, tt->dtype == DT_I32 ? "for a classifier use metrics accuracy"
                                          : "mse and mae need an f32 target of the first output's shape");
    }
}

/* [train.metrics.fn]: a metric named after a `fn` of the program is that function applied to the
 * first per-sample output and the first target, as a loss is computed: `metrics r2` with
 * `fn r2(pred: f32[B], y: f32[B]) -> f32`. The call is checked as if written at the metric
 * (compiler/lower.c lowers the same call into the evaluate and train graphs); it must give a
 * rank-0 f32. */
static void check_fn_metric(Body *b, Node *mn) {
    Check *C = b->C;
    ModelInfo *m = b->model;
    Node *tg = NULL, *out = NULL;
    for (int i = 0; i < m->ninputs && !tg; i++)
        if (m->inputs[i]->kind == ND_TARGET) tg = m->inputs[i];
    for (int i = 0; i < m->noutputs && !out; i++) {
        const Type *t = m->outputs[i]->ty;
        if (t && t->kind == TY_TENSOR && t->shape.rank > 0 && dim_is_batch(t->shape.dims[0])) out = m->outputs[i];
    }
    if (!tg || !out) {
        check_error(b, mn->loc, "metric '%s' is computed from the first output and the first target, but the model "
                    "has no %s", mn->name, !out ? "output whose first dim is B" : "target");
        return;
    }
    if ((tg->ty && ty_is_bad(tg->ty)) || ty_is_bad(out->ty)) return;
    Node *call = arena_alloc(C->a, sizeof *call);
    Node *callee = arena_alloc(C->a, sizeof *callee), **args = arena_alloc(C->a, sizeof *args * 2);
    *callee = (Node){.kind = ND_IDENT, .loc = mn->loc, .name_loc = mn->loc, .name = mn->name};
    for (int i = 0; i < 2; i++) {
        args[i] = arena_alloc(C->a, sizeof **args);
        *args[i] = (Node){.kind = ND_IDENT, .loc = mn->loc, .name_loc = mn->loc, .name = i ? tg->name : out->name};
    }
    *call = (Node){.kind = ND_CALL, .loc = mn->loc, .lhs = callee, .kids = args, .nkids = 2};
    const Type *t = check_expr(b, call);
    if (ty_is_bad(t)) {
        check_note(b, mn->loc, "metric '%s' is %s(%s, %s): the first output and the first target", mn->name, mn->name,
                   out->name, tg->name);
        return;
    }
    if (!(t->kind == TY_TENSOR && t->shape.rank == 0 && t->dtype == DT_F32) && t->kind != TY_FLOAT) {
        check_error(b, mn->loc, "metric '%s' must give a rank-0 f32, but %s(%s, %s) is %s", mn->name, mn->name,
                    out->name, tg->name, check_tystr(b, t));
        check_hint(b, "reduce it over the batch, as a loss is: mean(...) or sum(...)");
    }
}

/* ---- which parameters a loss can reach [train.step] ----
 * The build refuses a step that no gradient of its loss reaches (compiler/passes/autodiff.c).
 * Here the same is found from the program: the statements a loss depends on, through the names it
 * uses, and the parameters those statements' layer calls made. stop_gradient cuts, and so does
 * every value that carries no gradient: an i32 or bool tensor (`i32(h)`, `argmax(h)`, `h > 0`)
 * or a compile-time number, as in autodiff. Otherwise an over-approximation (every operand
 * counts), so `nnc check` refuses what the build refuses and nothing more. */

typedef struct Dep {
    const Node *node;       /* a binding's statement (or a model param) */
    const Node **v;         /* the statements whose parameters it may depend on */
    int n, cap;
} Dep;

typedef struct Deps {
    Check *C;
    const ParamList *pl;
    const Node *stmt;       /* the statement being walked (deps_stmts) */
    Dep *v;
    int n, cap;
    bool changed;
} Deps;

static Dep *dep_of(Deps *ds, const Node *node) {
    for (int i = 0; i < ds->n; i++)
        if (ds->v[i].node == node)
            return &ds->v[i];
    Dep *d = ARENA_PUSH(ds->C->a, ds->v, ds->n, ds->cap);
    memset(d, 0, sizeof *d);
    d->node = node;
    return d;
}

static void dep_add(Deps *ds, Dep *d, const Node *origin) {
    for (int i = 0; i < d->n; i++)
        if (d->v[i] == origin)
            return;
    *ARENA_PUSH(ds->C->a, d->v, d->n, d->cap) = origin;
    ds->changed = true;
}

static void dep_union(Deps *ds, Dep *into, const Node *from) {
    int k = (int)(into - ds->v);
    Dep *f = dep_of(ds, from);          /* may move ds->v */
    into = &ds->v[k];
    for (int i = 0; i < f->n; i++)
        dep_add(ds, into, f->v[i]);
}

static bool is_origin(const ParamList *pl, const Node *node) {
    for (int i = 0; i < pl->n; i++)
        if (pl->e[i].origin == node)
            return true;
    return false;
}

/* Does a value of type t carry no gradient? */
static bool no_gradient(const Type *t) {
    return t && (t->kind == TY_INT || t->kind == TY_FLOAT || t->kind == TY_BOOL || t->kind == TY_STR ||
                 (t->kind == TY_TENSOR && t->dtype != DT_F32));
}

static void deps_expr(Deps *ds, int into, const Node *e) {
    if (!e || no_gradient(e->ty))
        return;
    switch (e->kind) {
    case ND_IDENT:
        if (e->ref && e->ref->kind != ND_FN && e->ref->kind != ND_LAYER && e->ref->kind != ND_OPTIMIZER &&
            e->ref->kind != ND_MODEL && e->ref->kind != ND_FORMAL) {
            dep_union(ds, &ds->v[into], e->ref);
            if (is_origin(ds->pl, e->ref))
                dep_add(ds, &ds->v[into], e->ref);
        }
        return;
    case ND_MEMBER: {
        const Node *root = e;
        while (root->kind == ND_MEMBER)
            root = root->lhs;
        if (root->kind == ND_IDENT && !root->ref) {
            /* h_2.W: a parameter by its path */
            const char *p = path_str(ds->C, e);
            for (int i = 0; i < ds->pl->n; i++) {
                const char *q = ds->pl->e[i].path;
                size_t n = strlen(p);
                if (!strncmp(q, p, n) && (q[n] == 0 || q[n] == '.'))
                    dep_add(ds, &ds->v[into], ds->pl->e[i].origin);
            }
            return;
        }
        if (strcmp(e->name, "T") != 0 && root->kind == ND_IDENT && root->ref && is_origin(ds->pl, root->ref)) {
            dep_add(ds, &ds->v[into], root->ref);   /* h.W: that call's parameter, not its inputs */
            return;
        }
        deps_expr(ds, into, e->lhs);
        return;
    }
    case ND_CALL:
        if (e->lhs->kind == ND_IDENT && !e->ref && strcmp(e->lhs->name, "stop_gradient") == 0)
            return;
        if (e->ref && e->ref->kind == ND_LAYER && is_origin(ds->pl, ds->stmt))
            dep_add(ds, &ds->v[into], ds->stmt);    /* the parameters this statement's call made */
        deps_expr(ds, into, e->lhs);
        for (int i = 0; i < e->nkids; i++)
            deps_expr(ds, into, e->kids[i]->kind == ND_ARG ? e->kids[i]->lhs : e->kids[i]);
        return;
    default:
        deps_expr(ds, into, e->lhs);
        deps_expr(ds, into, e->rhs);
        deps_expr(ds, into, e->body);
        for (int i = 0; i < e->nkids; i++)
            deps_expr(ds, into, e->kids[i]);
        return;
    }
}

static void deps_stmts(Deps *ds, Node *const *kids, int n) {
    for (int i = 0; i < n; i++) {
        const Node *s = kids[i];
        switch (s->kind) {
        case ND_BIND: case ND_OUTPUT: case ND_LOSS: case ND_EXPR: {
            int k = (int)(dep_of(ds, s) - ds->v);
            ds->stmt = s;
            if (s->lhs)
                deps_expr(ds, k, s->lhs);
            else if (s->ref)
                dep_union(ds, &ds->v[k], s->ref);
            break;
        }
        case ND_UNPACK: {   /* each name depends on what the call does */
            int k = (int)(dep_of(ds, s) - ds->v);
            ds->stmt = s;
            deps_expr(ds, k, s->lhs);
            for (int j = 0; j < s->nkids; j++) {
                int kk = (int)(dep_of(ds, s->kids[j]) - ds->v);
                dep_union(ds, &ds->v[kk], s);
            }
            break;
        }
        case ND_FOR:
            deps_stmts(ds, s->kids, s->nkids);
            break;
        case ND_IF:
            for (const Node *arm = s; arm; arm = arm->body)
                deps_stmts(ds, arm->kids, arm->nkids);
            break;
        default:
            break;
        }
    }
}

/* Does a gradient of the loss declared by node possibly reach a parameter under the step's paths? */
static bool step_reaches(Deps *ds, const Node *loss, const Node *step, const Node *model) {
    if (!ds->n) {
        for (int round = 0; round < 64; round++) {     /* to a fixed point: loops rebind names */
            ds->changed = false;
            deps_stmts(ds, model->kids, model->nkids);
            if (!ds->changed)
                break;
        }
    }
    Dep *d = dep_of(ds, loss);
    for (int i = 0; i < ds->pl->n; i++) {
        const ParamEntry *e = &ds->pl->e[i];
        bool used = false;
        for (int j = 0; j < d->n && !used; j++)
            used = d->v[j] == e->origin;
        if (!used || e->kind != PE_PARAM)
            continue;
        if (step->nkids == 0)
            return true;
        for (int k = 0; k < step->nkids; k++) {
            const char *p = path_str(ds->C, step->kids[k]);
            size_t n = strlen(p);
            if (!strncmp(e->path, p, n) && (e->path[n] == 0 || e->path[n] == '.'))
                return true;
        }
    }
    return false;
}

static void check_train(Body *b, Node *tr) {
    Check *C = b->C;
    ModelInfo *m = b->model;
    Node *seen[8] = {0};
    static const char *const items[] = {"data", "optimizer", "batch", "epochs", "metrics", "validation"};
    Node *data = NULL, *opt = NULL;
    int nsteps = 0;
    bool clean = C->d->nerrors == 0;    /* else the parameter list may be incomplete */
    Deps deps = {.C = C, .pl = m->params};
    for (int i = 0; i < tr->nkids; i++) {
        Node *it = tr->kids[i];
        if (it->kind == ND_STEP) {
            nsteps++;
            for (int j = 0; j < i; j++)
                if (tr->kids[j]->kind == ND_STEP && strcmp(tr->kids[j]->name, it->name) == 0) {
                    check_error(b, it->name_loc, "step '%s' is declared twice", it->name);
                    break;
                }
            Node *l = it->lhs;
            bool found = false;
            for (int j = 0; j < m->nlosses; j++)
                if (strcmp(m->losses[j]->name, l->name) == 0) {
                    found = true;
                    set_ref(b, l, m->losses[j]);
                    check_set(b, l, m->losses[j]->ty);
                }
            if (!found) {
                check_error(b, l->loc, "step '%s' minimizes '%s', which is not a loss of this model", it->name,
                            l->name);
                Names ns = {0};
                for (int j = 0; j < m->nlosses; j++)
                    names_add(C, &ns, m->losses[j]->name);
                check_hint_similar(b, l->name, ns.v, ns.n, NULL);
            }
            for (int j = 0; j < it->nkids; j++) {
                const char *p = path_str(C, it->kids[j]);
                if (!ty_params_find(m->params, p) && !ty_params_has_prefix(m->params, p)) {
                    check_error(b, it->kids[j]->loc, "'%s' names no parameters of this model", p);
                    Names ns = {0};
                    for (int q = 0; q < m->params->n; q++) {     /* every path and path prefix */
                        const char *full = m->params->e[q].path;
                        for (const char *dot = strchr(full, '.'); dot; dot = strchr(dot + 1, '.'))
                            names_add(C, &ns, arena_strndup(C->a, full, (size_t)(dot - full)));
                        names_add(C, &ns, full);
                    }
                    check_hint_similar(b, p, ns.v, ns.n, NULL);
                }
            }
            if (it->rhs)
                check_optimizer_call(b, it->rhs);
            Node *loss = NULL;
            for (int j = 0; j < m->nlosses && !loss; j++)
                if (strcmp(m->losses[j]->name, l->name) == 0)
                    loss = m->losses[j];
            if (loss && clean && !step_reaches(&deps, loss, it, b->decl))
                check_error(b, it->loc, "step '%s' trains no parameter: no gradient of its loss '%s' reaches %s",
                            it->name, l->name, it->nkids ? "the parameters under its paths" : "any parameter");
            continue;
        }
        int k = -1;
        for (int j = 0; j < 6; j++)
            if (strcmp(it->name, items[j]) == 0)
                k = j;
        if (k < 0) {
            check_error(b, it->loc, "unknown train item '%s'", it->name);
            continue;
        }
        if (seen[k]) {
            check_error(b, it->loc, "'%s' is given twice in the train block", it->name);
            check_note(b, seen[k]->loc, "first given here");
            continue;
        }
        seen[k] = it;
        if (it->nkids < 1)
            continue;
        Node *v = it->kids[0];
        switch (k) {
        case 0:
            data = it;
            check_data(b, v);
            break;
        case 1:
            opt = it;
            check_optimizer_call(b, v);
            break;
        case 2:
        case 3:
            if (v->kind != ND_INT || v->ival < 1)
                check_error(b, v->loc, "'%s' must be a positive int", it->name);
            /* the executable's bounds (runtime/rt.h RT_MAX_BATCH, RT_MAX_EPOCHS, as --batch and
             * --epochs have them): a larger value was cut to the bound without a word */
            else if (strcmp(it->name, "epochs") == 0 && v->ival > 1000000)
                check_error(b, v->loc, "'epochs' is at most 1000000, got %lld", (long long)v->ival);
            else if (strcmp(it->name, "batch") == 0 && v->ival > (1 << 20))
                check_error(b, v->loc, "'batch' is at most 1048576, got %lld", (long long)v->ival);
            break;
        case 4:
            for (int j = 0; j < it->nkids; j++) {
                Node *mn = it->kids[j];
                bool ok = false;
                for (int q = 0; q < 3; q++)
                    ok |= strcmp(mn->name, metrics[q]) == 0;
                for (int q = 0; q < j; q++)
                    if (strcmp(it->kids[q]->name, mn->name) == 0) {
                        check_error(b, mn->loc, "metric '%s' is named twice", mn->name);
                        ok = true;
                        mn = NULL;
                        break;
                    }
                if (!mn) continue;
                DeclInfo *fd = ok ? NULL : decl_find_from(C, mn->name, body_file(b));
                bool clash = false;
                for (int q = 0; q < m->nlosses && fd; q++) clash |= strcmp(m->losses[q]->name, mn->name) == 0;
                if (fd && fd->decl->kind == ND_FN && clash) {
                    check_error(b, mn->loc, "metric '%s' has the name of a loss of this model", mn->name);
                } else if (fd && fd->decl->kind == ND_FN) {
                    check_fn_metric(b, mn);
                } else if (!ok) {
                    check_error(b, mn->loc, "unknown metric '%s'", mn->name);
                    check_hint_similar(b, mn->name, metrics, 3,
                                       "the metrics are accuracy, mse, mae and any fn(output, target) -> f32");
                } else {
                    check_metric(b, mn);
                }
            }
            break;
        case 5: {
            bool source = (v->kind == ND_IDENT && (strcmp(v->name, "fashion_mnist") == 0 || strcmp(v->name, "mnist") == 0 ||
                                                   strcmp(v->name, "text") == 0)) ||
                          (v->kind == ND_CALL && v->lhs->kind == ND_IDENT &&
                           (strcmp(v->lhs->name, "csv") == 0 || strcmp(v->lhs->name, "idx") == 0 ||
                            strcmp(v->lhs->name, "npy") == 0 || strcmp(v->lhs->name, "text") == 0));
            if (source) {       /* [train.validation.data]: a data source of its own */
                check_data(b, v);
                break;
            }
            const Type *t = check_expr(b, v);
            double f = t->kind == TY_FLOAT ? t->fval : 0;
            if (!ty_is_bad(t) && !(t->kind == TY_FLOAT && t->known && f > 0 && f < 1))
                check_error(b, v->loc, "validation must be a fraction between 0 and 1, like 0.1, or a data source, "
                            "like csv(\"val.csv\", label = \"y\")");
            break;
        }
        }
    }
    if (!data)
        check_error(b, tr->loc, "the train block needs a data source: data fashion_mnist, idx(...), csv(...) or npy(...)");
    if (!opt && nsteps == 0)
        check_error(b, tr->loc, "the train block needs an optimizer, e.g. optimizer adam(lr = 1e-3)");
    if (opt && nsteps)
        check_error(b, opt->loc, "with named steps, each step gives its own optimizer; remove this one");
    if (m->nlosses == 0)
        check_error(b, tr->loc, "the model has no loss to train");
    /* [train.loss.sum]: without steps, the one step minimises the sum of all the losses */
}

static int path_cmp(const void *x, const void *y) {
    return strcmp((*(const ParamEntry *const *)x)->path, (*(const ParamEntry *const *)y)->path);
}

/* Does d mention the dim variable name (of the body's own variables)? */
static bool dim_mentions(Body *b, const SDim *d, const char *name) {
    Names ns = {0};
    sym_names(b->C, d, &ns);
    for (int i = 0; i < ns.n; i++)
        if (strcmp(ns.v[i], name) == 0)
            return true;
    return false;
}

static void check_model(Check *C, DeclInfo *di) {
    Node *d = di->decl;
    di->state = 1;
    ModelInfo *m = arena_alloc(C->a, sizeof *m);
    di->dims.inst = 0;
    C->unrolled = 0;
    ty_env_bind_dim(C->a, &di->dims, "B", ty_dim_sym(&C->dc, "B", 0), d->loc);
    Body b = {.C = C, .decl = d, .info = di, .kind = ND_MODEL, .dims = &di->dims, .items = &di->items, .root = &di->items, .model = m};
    int e0 = nerrors(C);
    check_stmts(&b, d->kids, d->nkids, true);
    if (m->noutputs == 0 && m->nlosses == 0)
        check_error(&b, d->name_loc, "model '%s' has no output and no loss", d->name);
    /* the parameter list [layer.naming] */
    ParamList *pl = arena_alloc(C->a, sizeof *pl);
    Expander x = {C, pl, NULL, 0, NULL, NULL, 0, NULL, NULL, NULL, false};
    Naming nm = {0};
    expand_items(&x, &di->items, NULL, "", &nm);
    if (x.fail && x.fail_at) {
        check_error(&b, x.fail_at->loc, "this 'if' makes parameters, but its condition is not known when the "
                    "parameters of model '%s' are listed", d->name);
        check_hint(&b, "make them in every arm, or outside the 'if'; `training` is known only per graph");
    } else if (x.fail) {
        check_error(&b, d->name_loc, "cannot list the parameters of model '%s': %s", d->name, x.fail);
    }
    m->params = pl;
    if (pl->n > 1) {
        const ParamEntry **v = arena_alloc(C->a, sizeof *v * (size_t)pl->n);
        for (int i = 0; i < pl->n; i++)
            v[i] = &pl->e[i];
        qsort(v, (size_t)pl->n, sizeof *v, path_cmp);
        for (int i = 1; i < pl->n; i++)
            if (strcmp(v[i]->path, v[i - 1]->path) == 0) {
                check_error(&b, v[i]->decl->loc, "two parameters of model '%s' are both named '%s'", d->name,
                            v[i]->path);
                check_hint(&b, "rename one of the bindings whose layer calls make them");
                break;
            }
    }
    Binding *reported = NULL;       /* one error per instance never called */
    for (int i = 0; i < pl->n; i++) {
        const Type *t = pl->e[i].ty;
        for (int j = 0; t->kind == TY_TENSOR && j < t->shape.rank; j++) {
            int64_t c;
            if (!ty_dim_is_const(t->shape.dims[j], &c)) {
                bool batch = dim_mentions(&b, t->shape.dims[j], "B");
                if (nerrors(C) != e0 && !batch)
                    break;      /* an instance whose calls had errors: already reported */
                /* an instance never called: report it at its binding */
                const char *dot = strchr(pl->e[i].path, '.');
                Binding *ib = dot ? lookup(&b, arena_strndup(C->a, pl->e[i].path, (size_t)(dot - pl->e[i].path))) : NULL;
                if (!batch && ib && ib->ty->kind == TY_FN && ib->ty->instance) {
                    if (ib == reported)
                        break;
                    reported = ib;
                    check_error(&b, ib->node->loc, "instance '%s' of layer %s is never called, so its parameter "
                                "'%s' has no known shape (%s)", ib->name, ib->ty->fname, pl->e[i].path,
                                check_tystr(&b, t));
                    check_hint(&b, "an instance's parameters take their shape from its calls: call it, as %s(x)",
                               ib->name);
                    break;
                }
                check_error(&b, pl->e[i].decl->loc, "parameter '%s' of model '%s' has type %s%s", pl->e[i].path,
                            d->name, check_tystr(&b, t),
                            batch ? ", which depends on the batch size B" : ", which is not known");
                break;
            }
        }
    }
    if (m->train)
        check_train(&b, m->train);
    Type *mt = ty_new(C->a, TY_MODEL);
    mt->params = pl;
    d->ty = mt;
    di->had_errors = nerrors(C) != e0;
    di->result = mt;
    di->state = 2;
}

/* ---- the program ---- */

/* Declarations are checked callees first (a post-order walk of the call graph), so checking a
 * call rarely has to check its callee on demand and long chains of calls nest no deeper. */
typedef struct Refs {
    DeclInfo **v;
    int n, cap;
} Refs;

/* the declarations n names, as a body of the file `from` sees them [scope.module] */
static void collect_refs(Check *C, const Node *n, Refs *r, const SrcFile *from) {
    if (!n)
        return;
    if (n->kind == ND_IDENT && n->name) {
        DeclInfo *di = decl_find_from(C, n->name, from);
        if (di && di->decl->kind != ND_MODEL)
            *ARENA_PUSH(C->a, r->v, r->n, r->cap) = di;
    }
    collect_refs(C, n->lhs, r, from);
    collect_refs(C, n->rhs, r, from);
    collect_refs(C, n->body, r, from);
    for (int i = 0; i < n->nkids && n->kind != ND_UNPACK; i++)     /* an unpack's kids are names it binds */
        collect_refs(C, n->kids[i], r, from);
    for (int i = 0; i < n->nformals; i++)
        collect_refs(C, n->formals[i], r, from);
}

/* ---- the unrolling budget [for.unroll] ----
 * Lowering inlines every call and unrolls every loop within a budget (lang/nnc_limits.h): calls
 * nest at most NNC_MAX_CALL_DEPTH deep, and one walk of a model makes at most NNC_MAX_UNROLL_WORK
 * calls plus loop iterations. The checker checks each body once, generically, so a program can be
 * fine everywhere and still unroll exponentially (f_i(x) = f_{i-1}(f_{i-1}(x))). Here each
 * declaration gets lower bounds of both, callee first (check_in_order), and a model past the
 * budget is an error under `nnc check` too. Lower bounds only: calls of function values and loops
 * whose bounds are not known numbers count as nothing, so no program that compiles is rejected. */

#define UNROLL_CAP (NNC_MAX_UNROLL_WORK + 1)

static int64_t unroll_add(int64_t x, int64_t y) { return x + y > UNROLL_CAP ? UNROLL_CAP : x + y; }

static int64_t unroll_mul(int64_t x, int64_t y) {
    int64_t r;
    return im_mul(x, y, &r) && r <= UNROLL_CAP ? r : UNROLL_CAP;
}

typedef struct Unroll {
    Check *C;
    int64_t work;           /* calls + iterations so far (saturated at UNROLL_CAP) */
    int nest;               /* deepest call nesting so far */
    const Node *at_work;    /* the call or loop that took work past the budget */
    const Node *at_nest;    /* the first call that nests too deeply */
} Unroll;

static bool unroll_int(const Node *n, int64_t *v) {
    return n && n->ty && n->ty->kind == TY_INT && n->ty->ival && ty_dim_is_const(n->ty->ival, v);
}

static bool has_return(const Node *n) {
    if (!n)
        return false;
    if (n->kind == ND_RETURN)
        return true;
    for (int i = 0; i < n->nkids; i++)
        if (has_return(n->kids[i]))
            return true;
    return false;
}

static void unroll_work(Unroll *u, int64_t w, const Node *at) {
    u->work = unroll_add(u->work, w);
    if (u->work > NNC_MAX_UNROLL_WORK && !u->at_work)
        u->at_work = at;
}

static void unroll_stmts(Unroll *u, Node *const *s, int n);

static void unroll_node(Unroll *u, const Node *n) {
    if (!n)
        return;
    switch (n->kind) {
    case ND_PARAM: case ND_STATE: case ND_TRAIN: case ND_STEP: case ND_INPUT: case ND_TARGET:
    case ND_USE: case ND_FORMAL: case ND_FN: case ND_LAYER: case ND_OPTIMIZER: case ND_MODEL:
        return;
    case ND_FOR: {
        unroll_node(u, n->lhs);
        unroll_node(u, n->rhs);
        int64_t lo, hi, trips = 0;
        if (unroll_int(n->lhs, &lo) && unroll_int(n->rhs, &hi))
            trips = im_trips(lo, hi);
        if (trips > 1 && has_return(n))
            trips = 1;          /* a return ends the loop in its first iteration */
        if (trips == 0)
            return;
        Unroll body = {.C = u->C};
        unroll_stmts(&body, n->kids, n->nkids);
        if (body.nest > u->nest)
            u->nest = body.nest;
        if (body.at_nest && !u->at_nest)
            u->at_nest = body.at_nest;
        unroll_work(u, unroll_mul(trips, unroll_add(1, body.work)), body.at_work ? body.at_work : n);
        return;
    }
    case ND_IF: {       /* one arm runs: the most expensive one bounds it */
        int64_t best = 0;
        for (const Node *arm = n; arm; arm = arm->body) {
            unroll_node(u, arm->lhs);
            Unroll sub = {.C = u->C};
            unroll_stmts(&sub, arm->kids, arm->nkids);
            if (sub.nest > u->nest)
                u->nest = sub.nest;
            if (sub.at_nest && !u->at_nest)
                u->at_nest = sub.at_nest;
            best = sub.work > best ? sub.work : best;
        }
        unroll_work(u, best, n);
        return;
    }
    case ND_CALL: {
        if (n->lhs && n->lhs->kind != ND_IDENT)
            unroll_node(u, n->lhs);
        for (int i = 0; i < n->nkids; i++)
            unroll_node(u, n->kids[i]->kind == ND_ARG ? n->kids[i]->lhs : n->kids[i]);
        const Node *d = n->ref;
        if (!d || !d->name || (d->kind != ND_FN && d->kind != ND_LAYER && d->kind != ND_OPTIMIZER))
            return;
        DeclInfo *di = info_of(u->C, d);
        if (!di || !di->unroll_done)
            return;
        int required = 0;
        for (int i = 0; i < d->nformals; i++)
            required += !d->formals[i]->lhs;
        /* a fn given too few arguments is a partial application: its body is not run yet */
        bool partial = d->kind == ND_FN && n->nkids < required;
        int nest = partial ? 1 : di->nest;
        if (nest > u->nest)
            u->nest = nest;
        if (nest > NNC_MAX_CALL_DEPTH && !u->at_nest)
            u->at_nest = n;
        unroll_work(u, partial ? 1 : di->unroll, n);
        return;
    }
    default:
        unroll_node(u, n->lhs);
        unroll_node(u, n->rhs);
        unroll_node(u, n->body);
        for (int i = 0; i < n->nkids; i++)
            unroll_node(u, n->kids[i]);
        return;
    }
}

static void unroll_stmts(Unroll *u, Node *const *s, int n) {
    for (int i = 0; i < n; i++) {
        unroll_node(u, s[i]);
        if (s[i]->kind == ND_RETURN)
            break;
    }
}

/* d was checked: set its bounds, or for a model report a program past lowering's budget. */
static void check_unroll(Check *C, DeclInfo *d) {
    if (d->unroll_done || d->state != 2 || C->d->nerrors > 0)
        return;
    Unroll u = {.C = C};
    unroll_stmts(&u, d->decl->kids, d->decl->nkids);
    d->unroll = unroll_add(1, u.work);
    d->nest = u.nest < NNC_MAX_CALL_DEPTH + 1 ? u.nest + 1 : NNC_MAX_CALL_DEPTH + 2;
    d->unroll_done = true;
    if (d->decl->kind != ND_MODEL)
        return;
    Body b = top_body(C);
    if (u.at_nest)
        check_error(&b, u.at_nest->loc, "calls nest deeper than %d (recursion?)", NNC_MAX_CALL_DEPTH);
    else if (u.at_work)
        check_error(&b, u.at_work->loc, "the model unrolls to more than %lld inlined calls and loop iterations",
                    (long long)NNC_MAX_UNROLL_WORK);
}

static void check_in_order(Check *C) {
    typedef struct Frame {
        DeclInfo *d;
        Refs refs;
        int next;
    } Frame;
    Frame *stack = NULL;
    int n = 0, cap = 0;
    char *mark = arena_alloc(C->a, (size_t)C->ndecls + 1);  /* 0 new, 1 on the stack, 2 done */
    for (int root = 0; root < C->ndecls; root++) {
        if (mark[root])
            continue;
        Frame *f = ARENA_PUSH(C->a, stack, n, cap);
        memset(f, 0, sizeof *f);
        f->d = C->order[root];
        mark[root] = 1;
        collect_refs(C, f->d->decl, &f->refs, f->d->decl->loc.file);
        while (n > 0) {
            Frame *top = &stack[n - 1];
            if (top->next < top->refs.n) {
                DeclInfo *callee = top->refs.v[top->next++];
                int ci = callee->index;
                if (mark[ci])
                    continue;
                mark[ci] = 1;
                Frame *g = ARENA_PUSH(C->a, stack, n, cap);
                memset(g, 0, sizeof *g);
                g->d = callee;
                collect_refs(C, callee->decl, &g->refs, callee->decl->loc.file);
                continue;
            }
            DeclInfo *d = top->d;
            n--;
            if (d->state == 0)
                check_decl(C, d);
            check_unroll(C, d);
        }
    }
}

int check_program(Arena *a, Diag *d, Node *prog) {
    Check C = {.prog = prog, .a = a, .d = d, .dc = {.a = a}};
    int e0 = d->nerrors;
    Body tb = top_body(&C);
    for (int i = 0; i < prog->nkids; i++) {
        Node *n = prog->kids[i];
        if (n->kind != ND_FN && n->kind != ND_LAYER && n->kind != ND_OPTIMIZER && n->kind != ND_MODEL)
            continue;
        if (!n->name)
            continue;
        DeclInfo *old = decl_find(&C, n->name);
        /* the main file's declaration hides a module's of the same name [scope.module]: both are
         * kept (modules come after the main file in the program) */
        bool main_old = old && old->decl->loc.file == prog->loc.file, main_new = n->loc.file == prog->loc.file;
        if (old && !old->shadow && main_old != main_new) {
            DeclInfo *di = arena_alloc(a, sizeof *di);
            di->decl = n;
            di->index = C.ndecls;
            *ARENA_PUSH(a, C.order, C.ndecls, C.caporder) = di;
            old->shadow = di;
            continue;
        }
        if (old) {
            if (old->decl->loc.file != n->loc.file && old->decl->loc.file && n->loc.file) {
                /* the model's own declaration collides with a module's: report it at the model's */
                check_error(&tb, old->decl->name_loc, "'%s' is declared twice", n->name);
                check_note(&tb, n->name_loc, "'%s' is also declared here", n->name);
            } else {
                check_error(&tb, n->name_loc, "'%s' is declared twice", n->name);
                check_note(&tb, old->decl->name_loc, "the first declaration is here");
            }
            continue;
        }
        DeclInfo *di = arena_alloc(a, sizeof *di);
        di->decl = n;
        decl_insert(&C, di);
    }
    check_in_order(&C);
    return d->nerrors - e0;
}

/* ---- nnc --emit types ---- */

static const char *src_text(Arena *a, const Node *n) {
    const Loc *l = &n->loc;
    if (!l->file || !l->file->text || l->off < 0 || (size_t)(l->off + l->len) > l->file->len)
        return "?";
    return arena_strndup(a, l->file->text + l->off, (size_t)l->len);
}

static void dump_sig(FILE *out, Arena *a, const Node *d) {
    const char *kind = d->kind == ND_FN ? "fn" : d->kind == ND_LAYER ? "layer" : "optimizer";
    fprintf(out, "%s: %s(", d->name, kind);
    for (int i = 0; i < d->nformals; i++) {
        const Node *f = d->formals[i];
        fprintf(out, "%s%s", i ? ", " : "", f->name);
        if (f->tyexpr && f->tyexpr->kind == TE_DIMVAR)
            fprintf(out, ": %s", f->tyexpr->name);
        else if (f->tyexpr && f->tyexpr->kind == TE_DIMLIST)
            for (int j = 0; j < f->tyexpr->ndims; j++)
                fprintf(out, "%s%s%s", j ? ", " : ": [", f->tyexpr->dims[j]->name, j == f->tyexpr->ndims - 1 ? "]" : "");
        else if (f->ty && f->ty->kind != TY_ANY && f->ty->kind != TY_ERROR)
            fprintf(out, ": %s", f->ty->kind == TY_FN ? "fn" : ty_str(a, f->ty));
        if (f->lhs)
            fprintf(out, " = %s", src_text(a, f->lhs));
    }
    fprintf(out, ")");
    const Type *r = d->ty && d->ty->kind == TY_FN ? d->ty->ret : NULL;
    if (r && r->kind != TY_ERROR)
        fprintf(out, " -> %s", ty_str(a, r));
    fprintf(out, "\n");
}

static void dump_model(FILE *out, Arena *a, const Node *d) {
    for (int i = 0; i < d->nkids; i++) {
        const Node *s = d->kids[i];
        const char *what = NULL;
        switch (s->kind) {
        case ND_INPUT: what = "input"; break;
        case ND_TARGET: what = "target"; break;
        case ND_BIND: what = "bind"; break;
        case ND_OUTPUT: what = "output"; break;
        case ND_LOSS: what = "loss"; break;
        case ND_UNPACK:     /* one line per name it binds */
            for (int k = 0; k < s->nkids; k++)
                if (strcmp(s->kids[k]->name, "_"))
                    fprintf(out, "%s: bind %s %s\n", d->name, s->kids[k]->name,
                            s->kids[k]->ty ? ty_str(a, s->kids[k]->ty) : "<unchecked>");
            break;
        default: break;
        }
        if (what)
            fprintf(out, "%s: %s %s %s\n", d->name, what, s->name, s->ty ? ty_str(a, s->ty) : "<unchecked>");
    }
    const ParamList *pl = d->ty && d->ty->kind == TY_MODEL ? d->ty->params : NULL;
    for (int i = 0; pl && i < pl->n; i++)
        fprintf(out, "%s: %s %s %s\n", d->name, pl->e[i].kind == PE_PARAM ? "param" : "state", pl->e[i].path,
                ty_str(a, pl->e[i].ty));
}

void check_dump_types(FILE *out, const Node *prog) {
    Arena a = {0};
    for (int i = 0; i < prog->nkids; i++) {
        const Node *d = prog->kids[i];
        if (d->kind == ND_FN || d->kind == ND_LAYER || d->kind == ND_OPTIMIZER)
            dump_sig(out, &a, d);
        else if (d->kind == ND_MODEL)
            dump_model(out, &a, d);
    }
    arena_free(&a);
}
