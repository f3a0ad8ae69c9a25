/* scope.h - which top-level declaration a name means, seen from a body [scope.module].
 *
 * A program is its main file and the modules it `use`s, flattened into one list of declarations.
 * A name declared both in the main file and in a module is two declarations: the main file's own
 * hides the module's in the main file's bodies, and the module's bodies keep their own (a model
 * that declares its own `conv` or `batchnorm` changes nothing inside stdlib's conv2d). A module
 * sees a main-file declaration only where no module declares the name. The checker (lang/check.c) and lowering
 * (compiler/lower.c) both resolve names through scope_rank, so they cannot disagree. */
#ifndef NNC_SCOPE_H
#define NNC_SCOPE_H

#include "ast.h"

/* How well decl answers a name used in a body of the file `from` (NULL: the main file's, as the
 * model and its train block): 3 a declaration of that same file, 2 a module's (any file but the
 * main one), 1 the main file's seen from a module (a module that `use`s the main file back, or
 * calls what only the main file declares). The best rank wins; rank 1 loses to a builtin of the
 * name (SCOPE_BELOW_BUILTINS): a model's own `conv` leaves stdlib's calls of the builtin alone. */
#define SCOPE_BELOW_BUILTINS 1
static inline int scope_rank(const Node *prog, const Node *decl, const SrcFile *from) {
    const SrcFile *main_file = prog ? prog->loc.file : NULL;
    if (!from)
        from = main_file;
    if (decl->loc.file == from)
        return 3;
    return decl->loc.file != main_file ? 2 : 1;
}

#endif
