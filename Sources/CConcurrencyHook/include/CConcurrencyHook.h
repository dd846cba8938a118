#ifndef SWIFTEVSE_CCONCURRENCYHOOK_H
#define SWIFTEVSE_CCONCURRENCYHOOK_H

/// The address of the Swift runtime's `swift_task_enqueueGlobal_hook`: where Swift concurrency
/// looks for another global executor. swift-nio finds it with dlsym, which works against the
/// shared runtime but not in the static firmware build, where the runtime's symbols have hidden
/// visibility and are not in the dynamic symbol table. A hidden symbol can still be referenced
/// by name at static link time, which is what this does.
void *_Nullable *_Nonnull swiftevse_enqueue_global_hook_slot(void);

#endif
