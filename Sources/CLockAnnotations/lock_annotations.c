// Synchronization.Mutex on Linux takes its lock with a futex system call in code ThreadSanitizer
// does not instrument, so TSan never sees the lock and reports the accesses it guards as races
// (Tests/Sanitizers/MutexVisibilityProbe.swift). Locking's `locked` calls these around every
// critical section; in a TSan build they pass the lock on to TSan as an acquire and a release.
#include "lock_annotations.h"

#if defined(__has_feature)
#  if __has_feature(thread_sanitizer)
#    define SWIFTEVSE_THREAD_SANITIZER 1
#  endif
#endif

#ifdef SWIFTEVSE_THREAD_SANITIZER
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
void swiftevse_lock_acquired(void *lock) { __tsan_acquire(lock); }
void swiftevse_lock_releasing(void *lock) { __tsan_release(lock); }
#else
void swiftevse_lock_acquired(void *lock) { (void)lock; }
void swiftevse_lock_releasing(void *lock) { (void)lock; }
#endif
