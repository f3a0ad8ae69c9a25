/* ir.c - placeholder */
