#ifndef SWIFTEVSE_CHEAPTRIM_H
#define SWIFTEVSE_CHEAPTRIM_H

/// Hands the whole free pages of every malloc arena back to the kernel (glibc's `malloc_trim(0)`,
/// which Swift's Glibc module does not import). Returns 1 if memory was released.
int swiftevse_release_free_heap(void);

#endif
