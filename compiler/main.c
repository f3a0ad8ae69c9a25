/* main.c - the nnc driver (placeholder until the front end lands). */
#include <stdio.h>
int main(void) { fprintf(stderr, "nnc: not built yet\n"); return 1; }
