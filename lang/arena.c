/* arena.c - the compiler's bump allocator (see arena.h).
 *
 * Blocks come zeroed from the system (calloc; mmap for large ones), and the bump pointer never
 * hands the same bytes out twice, so arena_alloc returns zeroed memory without writing it: a page
 * is touched first by the code that uses it. That matters because the passes rebuild graphs of
 * tens of thousands of nodes (unrolled time loops) and grow their arrays by doubling: zeroing
 * every new array up front faulted in hundreds of megabytes. arena_realloc grows in place where
 * it can: the last allocation of the current block extends into the block's free space, and an
 * allocation of its own mapping (ARENA_BIG bytes or more) grows with mremap, which moves page
 * tables instead of copying (and the pages it adds are zero).
 */
#include "arena.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define ARENA_BLOCK ((size_t)1 << 20)   /* the usual block */
#define ARENA_BIG ((size_t)256 << 10)   /* an allocation this large gets a mapping of its own */

struct ArenaBlock {
    ArenaBlock *next;
    size_t size, used;  /* bytes of data, bytes handed out */
    size_t maplen;      /* a mapping of its own (one allocation, at data): its length; else 0 */
    _Alignas(16) unsigned char data[];
};

static _Noreturn void out_of_memory(size_t size) {
    fprintf(stderr, "nnc: error: out of memory (asked for %zu bytes)\n", size);
    exit(1);
}

static size_t round16(size_t n) { return (n + 15) & ~(size_t)15; }

static size_t map_len(size_t size) {
    size_t page = 4096, n = sizeof(ArenaBlock) + size;
    return (n + page - 1) & ~(page - 1);
}

/* A block of its own for one large allocation; linked second, so the current block stays the
 * one small allocations come from. */
static void *alloc_big(Arena *a, size_t size) {
    size_t len = map_len(size);
    ArenaBlock *b = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (b == MAP_FAILED)
        out_of_memory(size);
    b->size = b->used = size;
    b->maplen = len;
    if (a->head) {
        b->next = a->head->next;
        a->head->next = b;
    } else {
        b->next = NULL;
        a->head = b;
    }
    a->used_total += size;
    return b->data;
}

void *arena_alloc(Arena *a, size_t size) {
    size = round16(size);
    if (size >= ARENA_BIG)
        return alloc_big(a, size);
    ArenaBlock *b = a->head;
    if (!b || b->maplen || b->size - b->used < size) {
        b = calloc(1, sizeof(ArenaBlock) + ARENA_BLOCK);
        if (!b)
            out_of_memory(size);
        b->size = ARENA_BLOCK;
        b->next = a->head;
        a->head = b;
    }
    void *p = b->data + b->used;    /* zero: calloc's, and never handed out before */
    b->used += size;
    a->used_total += size;
    return p;
}

void *arena_realloc(Arena *a, void *old, size_t oldsize, size_t newsize) {
    if (!old || !oldsize || newsize <= oldsize)
        goto copy;
    size_t o = round16(oldsize), n = round16(newsize);
    ArenaBlock *b = a->head;
    /* the current block's last allocation: extend it into the block's free space */
    if (b && !b->maplen && (unsigned char *)old + o == b->data + b->used && b->size - b->used >= n - o &&
        n < ARENA_BIG) {
        b->used += n - o;
        a->used_total += n - o;
        return old;
    }
copy:;
    void *p = arena_alloc(a, newsize);
    if (old && oldsize)
        memcpy(p, old, oldsize < newsize ? oldsize : newsize);
    return p;
}

char *arena_strndup(Arena *a, const char *s, size_t n) {
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *arena_strdup(Arena *a, const char *s) { return arena_strndup(a, s, strlen(s)); }

char *arena_printf(Arena *a, const char *fmt, ...) {
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = arena_alloc(a, (size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return p;
}

void arena_free(Arena *a) {
    for (ArenaBlock *b = a->head, *next; b; b = next) {
        next = b->next;
        if (b->maplen)
            munmap(b, b->maplen);
        else
            free(b);
    }
    a->head = NULL;
    a->used_total = 0;
}
