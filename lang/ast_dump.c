/* ast_dump.c - the AST as an indented S-expression (nnc --emit ast).
 *
 * Golden tests compare this text, so it is deliberately plain and stable: one node per line,
 * `(kind [name] [value] LINE:COL [: type]` followed by its children indented two more spaces, the
 * closing parenthesis at the end of the last child's line. A missing optional child (a slice bound)
 * prints as `_`. Top-level declarations (the program's children, at indent 2) from a file other
 * than the first one carry the file name (`nn.nn:3:1`). Reals print in the shortest form that reads back to the same double. docs/nnc.md
 * shows an example.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "ast_text.h"

static const char *kind_name(NodeKind k) {
    switch (k) {
    case ND_INT: return "int";
    case ND_FLOAT: return "float";
    case ND_STR: return "str";
    case ND_BOOL: return "bool";
    case ND_IDENT: return "ident";
    case ND_TENSOR: return "tensor";
    case ND_UNARY: return "unary";
    case ND_BINARY: return "binary";
    case ND_CALL: return "call";
    case ND_ARG: return "arg";
    case ND_INDEX: return "index";
    case ND_SLICE: return "slice";
    case ND_MEMBER: return "member";
    case ND_TUPLE: return "tuple";
    case ND_BIND: return "bind";
    case ND_UNPACK: return "unpack";
    case ND_PARAM: return "param";
    case ND_STATE: return "state";
    case ND_RETURN: return "return";
    case ND_EXPR: return "expr";
    case ND_FOR: return "for";
    case ND_IF: return "if";
    case ND_INPUT: return "input";
    case ND_TARGET: return "target";
    case ND_OUTPUT: return "output";
    case ND_LOSS: return "loss";
    case ND_TRAIN: return "train";
    case ND_TRAIN_ITEM: return "item";
    case ND_STEP: return "step";
    case ND_USE: return "use";
    case ND_FN: return "fn";
    case ND_LAYER: return "layer";
    case ND_OPTIMIZER: return "optimizer";
    case ND_MODEL: return "model";
    case ND_FORMAL: return "formal";
    case ND_PROGRAM: return "program";
    }
    return "?";
}

const char *ast_op_text(int op) {
    switch (op) {
    case OP_ADD_: return "+";
    case OP_SUB_: return "-";
    case OP_MUL_: return "*";
    case OP_DIV_: return "/";
    case OP_MOD_: return "%";
    case OP_FLOORDIV_: return "//";
    case OP_POW_: return "**";
    case OP_MATMUL_: return "@";
    case OP_EQ_: return "==";
    case OP_NE_: return "!=";
    case OP_LT_: return "<";
    case OP_LE_: return "<=";
    case OP_GT_: return ">";
    case OP_GE_: return ">=";
    case OP_AND_: return "and";
    case OP_OR_: return "or";
    }
    return "?";
}

static void print_real(FILE *out, double v) {
    char buf[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    /* keep reals recognisable: 1 prints as 1.0 */
    fputs(buf, out);
    if (!strpbrk(buf, ".eEin"))
        fputs(".0", out);
}

static void print_string(FILE *out, const char *s) {
    fputc('"', out);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\')
            fprintf(out, "\\%c", *c);
        else if (*c == '\n')
            fputs("\\n", out);
        else if (*c == '\t')
            fputs("\\t", out);
        else if (*c < 0x20 || *c == 0x7F)
            fprintf(out, "\\x%02x", *c);
        else
            fputc(*c, out);
    }
    fputc('"', out);
}

static int dim_prec(const DimExpr *e) {
    if (e->kind != DE_BIN)
        return 3;
    return e->op == '+' || e->op == '-' ? 1 : 2;
}

static void print_dim(FILE *out, const DimExpr *e) {
    switch (e->kind) {
    case DE_INT: fprintf(out, "%lld", (long long)e->ival); return;
    case DE_VAR: fputs(e->name, out); return;
    case DE_REST: fprintf(out, "*%s", e->name); return;
    case DE_BIN: {
        int pl = dim_prec(e->lhs) < dim_prec(e), pr = dim_prec(e->rhs) <= dim_prec(e);
        fputs(pl ? "(" : "", out);
        print_dim(out, e->lhs);
        fprintf(out, "%s %c ", pl ? ")" : "", e->op);
        fputs(pr ? "(" : "", out);
        print_dim(out, e->rhs);
        fputs(pr ? ")" : "", out);
        return;
    }
    }
}

static void print_type(FILE *out, const TypeExpr *t) {
    switch (t->kind) {
    case TE_TENSOR: {
        static const char *const dt[] = {"f32", "i32", "bool"};
        fputs(dt[t->dtype], out);
        if (t->ndims) {
            fputc('[', out);
            for (int i = 0; i < t->ndims; i++) {
                fputs(i ? ", " : "", out);
                print_dim(out, t->dims[i]);
            }
            fputc(']', out);
        }
        return;
    }
    case TE_INT: fputs("int", out); return;
    case TE_FLOAT: fputs("float", out); return;
    case TE_BOOL_SCALAR: fputs("bool", out); return;
    case TE_FN: fputs("fn", out); return;
    case TE_STR: fputs("str", out); return;
    case TE_DIMVAR: fputs(t->name, out); return;
    case TE_TUPLE:
        fputc('(', out);
        for (int i = 0; i < t->nelems; i++) {
            fputs(i ? ", " : "", out);
            print_type(out, t->elems[i]);
        }
        fputc(')', out);
        return;
    case TE_DIMLIST:
        fputc('[', out);
        for (int i = 0; i < t->ndims; i++)
            fprintf(out, "%s%s", i ? ", " : "", t->dims[i]->name);
        fputc(']', out);
        return;
    }
}

static void dump(FILE *out, const Node *n, int indent, const SrcFile *main_file);

static void child(FILE *out, const Node *n, int indent, const SrcFile *main_file) {
    fprintf(out, "\n%*s", indent, "");
    if (n)
        dump(out, n, indent, main_file);
    else
        fputc('_', out);
}

static void dump(FILE *out, const Node *n, int indent, const SrcFile *main_file) {
    fprintf(out, "(%s", kind_name(n->kind));
    switch (n->kind) {
    case ND_INT: fprintf(out, " %lld", (long long)n->ival); break;
    case ND_FLOAT: fputc(' ', out); print_real(out, n->fval); break;
    case ND_STR: fputc(' ', out); print_string(out, n->name ? n->name : ""); break;
    case ND_BOOL: fputs(n->ival ? " true" : " false", out); break;
    case ND_UNARY: fputs(n->op == 'n' ? " not" : " -", out); break;
    case ND_BINARY: fprintf(out, " %s", ast_op_text(n->op)); break;
    default:
        if (n->name)
            fprintf(out, " %s", n->name);
        break;
    }
    if (n->kind != ND_PROGRAM) {
        if (indent == 2 && n->loc.file && main_file && n->loc.file != main_file)
            fprintf(out, " %s:%d:%d", n->loc.file->name, n->loc.line, n->loc.col);
        else
            fprintf(out, " %d:%d", n->loc.line, n->loc.col);
    }
    if (n->tyexpr) {
        fputs(n->kind == ND_FN || n->kind == ND_LAYER ? " -> " : " : ", out);
        print_type(out, n->tyexpr);
    }
    int in = indent + 2;
    if (n->kind == ND_SLICE) {
        child(out, n->lhs, in, main_file);
        child(out, n->rhs, in, main_file);
        child(out, n->body, in, main_file);
    } else if (n->kind == ND_STEP) {
        child(out, n->lhs, in, main_file);
        if (n->nkids) {
            fprintf(out, "\n%*s(over", in, "");
            for (int i = 0; i < n->nkids; i++)
                child(out, n->kids[i], in + 2, main_file);
            fputc(')', out);
        }
        child(out, n->rhs, in, main_file);
    } else if (n->kind == ND_UNPACK) {    /* the names, then the value */
        for (int i = 0; i < n->nkids; i++)
            child(out, n->kids[i], in, main_file);
        child(out, n->lhs, in, main_file);
    } else if (n->kind == ND_IF) {
        child(out, n->lhs, in, main_file);          /* `_`: the final else */
        for (int i = 0; i < n->nkids; i++)
            child(out, n->kids[i], in, main_file);
        if (n->body) {
            fprintf(out, "\n%*s(else", in, "");
            child(out, n->body, in + 2, main_file);
            fputc(')', out);
        }
    } else {
        if (n->lhs)
            child(out, n->lhs, in, main_file);
        if (n->rhs)
            child(out, n->rhs, in, main_file);
        if (n->body)
            child(out, n->body, in, main_file);
        for (int i = 0; i < n->nformals; i++)
            child(out, n->formals[i], in, main_file);
        for (int i = 0; i < n->nkids; i++)
            child(out, n->kids[i], in, main_file);
    }
    fputc(')', out);
}

void ast_dump(FILE *out, const Node *n) {
    if (!n)
        return;
    const SrcFile *main_file = n->loc.file;
    if (n->kind == ND_PROGRAM && n->nkids)
        main_file = n->kids[0]->loc.file;
    dump(out, n, 0, main_file);
    fputc('\n', out);
}
