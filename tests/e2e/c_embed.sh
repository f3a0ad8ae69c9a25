#!/bin/bash
# c_embed.sh NNC SRC WORK RTLIB: `nnc -c` makes an object and a header with a symbol prefix, and a C
# program embeds two models at once (xor.nn as `xr`, iris.nn as `ir`): it runs xor's forward
# through the header's declarations and buffer indices (XOR exactly), and checks iris's descriptor.
. "$(dirname "$0")/lib.sh"
RTLIB=$1
"$NNC" -c "$EX/xor.nn" --prefix xr -o xr.o || fail "nnc -c xor.nn exited with $?"
"$NNC" -c "$EX/iris.nn" --prefix ir -o ir.o || fail "nnc -c iris.nn exited with $?"
[ -f xr.h ] && [ -f ir.h ] || fail "no header beside the objects"
cat > embed.c <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "xr.h"
#include "ir.h"
int main(void) {
    float x[8] = {0, 0, 0, 1, 1, 0, 1, 1}, W[4] = {1, 1, 1, 1}, b[2] = {0, -1}, U[2] = {1, -2}, c = 0, y[4];
    void *bufs[xr_NTENSORS] = {0};
    bufs[xr_x] = x; bufs[xr_W] = W; bufs[xr_b] = b; bufs[xr_U] = U; bufs[xr_c] = &c; bufs[xr_y] = y;
    void *ws = aligned_alloc(64, (size_t)((xr_workspace_size(4) + 63) / 64 * 64 + 64));
    NncArgs a = {.B = 4, .bufs = bufs, .workspace = ws};
    NncModelDef d = xr_model_def();
    d.forward(&a);
    printf("%g %g %g %g\n", y[0], y[1], y[2], y[3]);
    free(ws);
    if (strncmp(ir_desc, "model iris\n", 11) != 0) return 1;
    printf("%s", strstr(ir_desc, "task"));
    return (int)ir_logits_W > 0 ? 0 : 2;
}
C
cc -std=c17 -Wall -Werror ${E2E_CFLAGS:-} -I"$SRC/runtime" embed.c xr.o ir.o "$RTLIB" -lopenblas -lpng16 -lz -lm -lpthread -o embed ||
    fail "the embedding program does not build"
./embed > out.txt || fail "embed exited with $?"
cat out.txt
[ "$(head -n 1 out.txt)" = "0 1 1 0" ] || fail "xor through the C interface: $(head -n 1 out.txt)"
grep -q "^task classify 3" out.txt || fail "iris descriptor: no 'task classify 3'"
echo "ok: two models embedded in one C program"
