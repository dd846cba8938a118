#ifndef SWIFTEVSE_CHEAPTRIM_H
#define SWIFTEVSE_CHEAPTRIM_H

/// Hands the whole free pages of every malloc arena back to the kernel (glibc's `malloc_trim(0)`,
/// which Swift's Glibc module does not import). Returns 1 if memory was released.
int swiftevse_release_free_heap(void);

/// Makes every thread allocate from the main malloc arena (`mallopt(M_ARENA_MAX, 1)`). Call it
/// before the first thread starts. Returns 1 on success.
int swiftevse_use_one_malloc_arena(void);

#endif
