#ifndef SWIFTEVSE_LOCK_ANNOTATIONS_H
#define SWIFTEVSE_LOCK_ANNOTATIONS_H

/// Tell ThreadSanitizer that the lock at `lock` was just taken / is about to be released.
/// Empty functions unless this file is built with -fsanitize=thread (scripts/sanitize thread).
void swiftevse_lock_acquired(void *lock);
void swiftevse_lock_releasing(void *lock);

#endif
