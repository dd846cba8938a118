// A SQLite VFS for tests that simulates a power cut: writes reach the real files at once (so the
// process reads what it wrote), but only what was fsynced (xSync) counts as durable. After a cut,
// `powercut_restore` rewrites every file as the disk would hold it after the power came back:
// the synced content, plus (in the "torn" mode) a random subset of the unsynced writes, some cut
// short at a 512-byte boundary, in any order.
#ifndef POWERCUT_VFS_H
#define POWERCUT_VFS_H

/// Registers the VFS under the name "powercut" (not as the default). Idempotent. 0 = SQLITE_OK.
int powercut_register(void);
/// The power goes off at the `op`-th write, truncate or sync from now on (counted over all
/// tracked files): that operation and every later I/O fails. 0 disarms.
void powercut_arm(long op);
/// Writes, truncates and syncs seen since the last reset.
long powercut_ops(void);
/// Whether the power is off.
int powercut_is_off(void);
/// Rewrites every tracked file as the disk holds it after the cut and removes the -shm files
/// (shared memory, never durable); then forgets all state and powers on. `torn` 0: exactly
/// the synced content; 1: plus a random subset (seeded) of the unsynced writes. Returns the
/// number of files rewritten, or -1 on an I/O error of the test machine itself.
int powercut_restore(unsigned int seed, int torn);
/// Forgets all state (files untouched) and powers on.
void powercut_reset(void);

#endif
