#include "CHeapTrim.h"
#include <malloc.h>

int swiftevse_release_free_heap(void) {
    return malloc_trim(0);
}
