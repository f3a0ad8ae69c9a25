/* llvm backend - placeholder */
