/* ast_text.h - how the AST's binary operators are spelled in source, one table for every place
 * that prints them (lang/ast_dump.c defines it; the checker's and lowering's messages use it).
 */
#ifndef NNC_AST_TEXT_H
#define NNC_AST_TEXT_H

/* The source spelling of a binary operator OP_ADD_ .. OP_OR_ (ast.h): "+", "**", "and"; "?" else. */
const char *ast_op_text(int op);

#endif
