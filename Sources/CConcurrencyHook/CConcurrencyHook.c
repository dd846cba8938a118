#include "CConcurrencyHook.h"

extern void *swift_task_enqueueGlobal_hook;

void *_Nullable *_Nonnull swiftevse_enqueue_global_hook_slot(void) {
    return &swift_task_enqueueGlobal_hook;
}
