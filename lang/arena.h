/* arena.h - bump allocation for the compiler: one arena per compilation, freed at the end as a
 * whole. Passes allocate freely and never free (STYLE.md: chibicc, QBE). Out of memory is fatal
 * with a message, so callers never check for NULL. */
#ifndef NNC_ARENA_H
#define NNC_ARENA_H

#include <stddef.h>

typedef struct ArenaBlock ArenaBlock;
typedef struct Arena {
    ArenaBlock *head;
    size_t used_total;
} Arena;

void *arena_alloc(Arena *a, size_t size);              /* zeroed, 16-byte aligned */
void *arena_realloc(Arena *a, void *old, size_t oldsize, size_t newsize);
char *arena_strdup(Arena *a, const char *s);
char *arena_strndup(Arena *a, const char *s, size_t n);
char *arena_printf(Arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void arena_free(Arena *a);                             /* everything at once */

/* Grow a (ptr, len, cap) array held in an arena by one element; returns the new slot. */
/* (cap is updated before the call, in its own sequence point: the old size is len elements.) */
#define ARENA_PUSH(a, ptr, len, cap)                                                             \
    (((len) == (cap)                                                                             \
          ? ((cap) = (cap) ? (cap) * 2 : 8,                                                      \
             (ptr) = arena_realloc((a), (ptr), sizeof(*(ptr)) * (size_t)(len),                   \
                                   sizeof(*(ptr)) * (size_t)(cap)))                              \
          : 0),                                                                                  \
     &(ptr)[(len)++])

#endif
