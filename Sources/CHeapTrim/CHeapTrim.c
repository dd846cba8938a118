#include "CHeapTrim.h"
#include <malloc.h>

int swiftevse_release_free_heap(void) {
    return malloc_trim(0);
}

int swiftevse_use_one_malloc_arena(void) {
    return mallopt(M_ARENA_MAX, 1);
}
