#include "powercut_vfs.h"

#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

// One pending (unsynced) change of a file: a write, or a truncate (length < 0, offset = size).
typedef struct Change {
    sqlite3_int64 offset;
    int length;
    unsigned char *data;
} Change;

// What the disk durably holds of one file, and what was written since its last sync.
typedef struct Tracked {
    char *path;
    int durable_exists;
    unsigned char *image;
    sqlite3_int64 size;
    Change *pending;
    int pending_count, pending_capacity;
    struct Tracked *next;
} Tracked;

typedef struct PowerCutFile {
    sqlite3_file base;
    Tracked *tracked;  // NULL: a file we pass through untracked (temp files)
    sqlite3_file *real;
} PowerCutFile;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static sqlite3_vfs *underlying;
static Tracked *files;
static long ops, cut_at;
static int power_off;

static void *grow(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) abort();  // a test machine out of memory: nothing sensible to continue with
    return q;
}

static void set_size(Tracked *t, sqlite3_int64 size) {
    if (size > t->size) {
        t->image = grow(t->image, (size_t)size);
        memset(t->image + t->size, 0, (size_t)(size - t->size));
    }
    t->size = size;
}

static void apply(Tracked *t, const Change *c, int length) {
    if (c->length < 0) { set_size(t, c->offset); return; }
    if (c->offset + length > t->size) set_size(t, c->offset + length);
    memcpy(t->image + c->offset, c->data, (size_t)length);
}

static void drop_pending(Tracked *t) {
    for (int i = 0; i < t->pending_count; i++) free(t->pending[i].data);
    t->pending_count = 0;
}

static void add_pending(Tracked *t, sqlite3_int64 offset, const void *data, int length) {
    if (t->pending_count == t->pending_capacity) {
        t->pending_capacity = t->pending_capacity ? t->pending_capacity * 2 : 16;
        t->pending = grow(t->pending, sizeof(Change) * (size_t)t->pending_capacity);
    }
    Change *c = &t->pending[t->pending_count++];
    c->offset = offset;
    c->length = length;
    c->data = NULL;
    if (length > 0) {
        c->data = grow(NULL, (size_t)length);
        memcpy(c->data, data, (size_t)length);
    }
}

static Tracked *track(const char *path) {
    for (Tracked *t = files; t; t = t->next)
        if (strcmp(t->path, path) == 0) return t;
    Tracked *t = calloc(1, sizeof(Tracked));
    if (!t) abort();
    t->path = strdup(path);
    // What is on disk when we first see it counts as durable (the test starts from it).
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        struct stat st;
        if (fstat(fd, &st) == 0) {
            set_size(t, st.st_size);
            sqlite3_int64 done = 0;
            while (done < st.st_size) {
                ssize_t n = pread(fd, t->image + done, (size_t)(st.st_size - done), done);
                if (n <= 0) break;
                done += n;
            }
            t->durable_exists = 1;
        }
        close(fd);
    }
    t->next = files;
    files = t;
    return t;
}

// Counts one mutating operation; true when the power is (now) off and it must fail.
static int cut_now(void) {
    if (power_off) return 1;
    ops++;
    if (cut_at > 0 && ops >= cut_at) { power_off = 1; return 1; }
    return 0;
}

#define REAL(f) (((PowerCutFile *)(f))->real)

static int pc_close(sqlite3_file *f) {
    int rc = REAL(f)->pMethods ? REAL(f)->pMethods->xClose(REAL(f)) : SQLITE_OK;
    return rc;
}

static int pc_read(sqlite3_file *f, void *buf, int amount, sqlite3_int64 offset) {
    pthread_mutex_lock(&lock);
    int off = power_off;
    pthread_mutex_unlock(&lock);
    if (off) return SQLITE_IOERR_READ;
    return REAL(f)->pMethods->xRead(REAL(f), buf, amount, offset);
}

static int pc_write(sqlite3_file *f, const void *buf, int amount, sqlite3_int64 offset) {
    PowerCutFile *p = (PowerCutFile *)f;
    pthread_mutex_lock(&lock);
    if (p->tracked && cut_now()) { pthread_mutex_unlock(&lock); return SQLITE_IOERR_WRITE; }
    int rc = p->real->pMethods->xWrite(p->real, buf, amount, offset);
    if (rc == SQLITE_OK && p->tracked) add_pending(p->tracked, offset, buf, amount);
    pthread_mutex_unlock(&lock);
    return rc;
}

static int pc_truncate(sqlite3_file *f, sqlite3_int64 size) {
    PowerCutFile *p = (PowerCutFile *)f;
    pthread_mutex_lock(&lock);
    if (p->tracked && cut_now()) { pthread_mutex_unlock(&lock); return SQLITE_IOERR_TRUNCATE; }
    int rc = p->real->pMethods->xTruncate(p->real, size);
    if (rc == SQLITE_OK && p->tracked) add_pending(p->tracked, size, NULL, -1);
    pthread_mutex_unlock(&lock);
    return rc;
}

static int pc_sync(sqlite3_file *f, int flags) {
    PowerCutFile *p = (PowerCutFile *)f;
    pthread_mutex_lock(&lock);
    if (p->tracked && cut_now()) { pthread_mutex_unlock(&lock); return SQLITE_IOERR_FSYNC; }
    // The durability is modelled here, so the real fsync is skipped for tracked files: it would
    // only make each of the thousands of simulated cuts wait for the disk.
    int rc = p->tracked ? SQLITE_OK : p->real->pMethods->xSync(p->real, flags);
    if (rc == SQLITE_OK && p->tracked) {
        Tracked *t = p->tracked;
        for (int i = 0; i < t->pending_count; i++) apply(t, &t->pending[i], t->pending[i].length);
        drop_pending(t);
        t->durable_exists = 1;
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

static int pc_file_size(sqlite3_file *f, sqlite3_int64 *size) {
    if (powercut_is_off()) return SQLITE_IOERR_FSTAT;
    return REAL(f)->pMethods->xFileSize(REAL(f), size);
}
static int pc_lock(sqlite3_file *f, int level) {
    if (powercut_is_off()) return SQLITE_IOERR_LOCK;
    return REAL(f)->pMethods->xLock(REAL(f), level);
}
static int pc_unlock(sqlite3_file *f, int level) { return REAL(f)->pMethods->xUnlock(REAL(f), level); }
static int pc_check_reserved(sqlite3_file *f, int *out) { return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out); }
static int pc_file_control(sqlite3_file *f, int op, void *arg) { return REAL(f)->pMethods->xFileControl(REAL(f), op, arg); }
static int pc_sector_size(sqlite3_file *f) { return REAL(f)->pMethods->xSectorSize(REAL(f)); }
static int pc_device_characteristics(sqlite3_file *f) { return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f)); }
static int pc_shm_map(sqlite3_file *f, int region, int size, int extend, void volatile **out) {
    if (powercut_is_off()) return SQLITE_IOERR_SHMMAP;
    return REAL(f)->pMethods->xShmMap(REAL(f), region, size, extend, out);
}
static int pc_shm_lock(sqlite3_file *f, int offset, int n, int flags) { return REAL(f)->pMethods->xShmLock(REAL(f), offset, n, flags); }
static void pc_shm_barrier(sqlite3_file *f) { REAL(f)->pMethods->xShmBarrier(REAL(f)); }
static int pc_shm_unmap(sqlite3_file *f, int delete_flag) { return REAL(f)->pMethods->xShmUnmap(REAL(f), delete_flag); }

// Version 2: no memory-mapped I/O (xFetch), so every page goes through xRead/xWrite.
static const sqlite3_io_methods io_methods = {
    2, pc_close, pc_read, pc_write, pc_truncate, pc_sync, pc_file_size, pc_lock, pc_unlock, pc_check_reserved,
    pc_file_control, pc_sector_size, pc_device_characteristics, pc_shm_map, pc_shm_lock, pc_shm_barrier, pc_shm_unmap,
    NULL, NULL,
};

static int pc_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out_flags) {
    (void)vfs;
    PowerCutFile *p = (PowerCutFile *)f;
    p->real = (sqlite3_file *)(p + 1);
    p->tracked = NULL;
    p->base.pMethods = NULL;
    if (powercut_is_off()) return SQLITE_CANTOPEN;
    int rc = underlying->xOpen(underlying, name, p->real, flags, out_flags);
    if (rc != SQLITE_OK) return rc;
    if (name && (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL | SQLITE_OPEN_MAIN_JOURNAL))) {
        pthread_mutex_lock(&lock);
        p->tracked = track(name);
        pthread_mutex_unlock(&lock);
    }
    p->base.pMethods = &io_methods;
    return SQLITE_OK;
}

static int pc_delete(sqlite3_vfs *vfs, const char *name, int sync_dir) {
    (void)vfs;
    pthread_mutex_lock(&lock);
    if (cut_now()) { pthread_mutex_unlock(&lock); return SQLITE_IOERR_DELETE; }
    int rc = underlying->xDelete(underlying, name, sync_dir);
    if (rc == SQLITE_OK) {
        for (Tracked *t = files; t; t = t->next) {
            if (strcmp(t->path, name) != 0) continue;
            drop_pending(t);
            t->durable_exists = 0;
            t->size = 0;
        }
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

static int pc_access(sqlite3_vfs *v, const char *n, int flags, int *out) { (void)v; return underlying->xAccess(underlying, n, flags, out); }
static int pc_full_pathname(sqlite3_vfs *v, const char *n, int size, char *out) { (void)v; return underlying->xFullPathname(underlying, n, size, out); }
static void *pc_dlopen(sqlite3_vfs *v, const char *n) { (void)v; return underlying->xDlOpen(underlying, n); }
static void pc_dlerror(sqlite3_vfs *v, int n, char *out) { (void)v; underlying->xDlError(underlying, n, out); }
static void (*pc_dlsym(sqlite3_vfs *v, void *h, const char *s))(void) { (void)v; return underlying->xDlSym(underlying, h, s); }
static void pc_dlclose(sqlite3_vfs *v, void *h) { (void)v; underlying->xDlClose(underlying, h); }
static int pc_randomness(sqlite3_vfs *v, int n, char *out) { (void)v; return underlying->xRandomness(underlying, n, out); }
static int pc_sleep(sqlite3_vfs *v, int us) { (void)v; return underlying->xSleep(underlying, us); }
static int pc_current_time(sqlite3_vfs *v, double *out) { (void)v; return underlying->xCurrentTime(underlying, out); }
static int pc_last_error(sqlite3_vfs *v, int n, char *out) { (void)v; return underlying->xGetLastError(underlying, n, out); }
static int pc_current_time64(sqlite3_vfs *v, sqlite3_int64 *out) { (void)v; return underlying->xCurrentTimeInt64(underlying, out); }

static sqlite3_vfs powercut_vfs;

int powercut_register(void) {
    pthread_mutex_lock(&lock);
    int rc = SQLITE_OK;
    if (!underlying) {
        underlying = sqlite3_vfs_find(NULL);
        if (!underlying) { pthread_mutex_unlock(&lock); return SQLITE_ERROR; }
        powercut_vfs = (sqlite3_vfs){
            2, (int)sizeof(PowerCutFile) + underlying->szOsFile, underlying->mxPathname, NULL, "powercut", NULL,
            pc_open, pc_delete, pc_access, pc_full_pathname, pc_dlopen, pc_dlerror, pc_dlsym, pc_dlclose,
            pc_randomness, pc_sleep, pc_current_time, pc_last_error, pc_current_time64, NULL, NULL, NULL,
        };
        rc = sqlite3_vfs_register(&powercut_vfs, 0);
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

void powercut_arm(long op) {
    pthread_mutex_lock(&lock);
    cut_at = op > 0 ? ops + op : 0;
    pthread_mutex_unlock(&lock);
}

long powercut_ops(void) {
    pthread_mutex_lock(&lock);
    long n = ops;
    pthread_mutex_unlock(&lock);
    return n;
}

int powercut_is_off(void) {
    pthread_mutex_lock(&lock);
    int off = power_off;
    pthread_mutex_unlock(&lock);
    return off;
}

static void forget_all(void) {
    while (files) {
        Tracked *t = files;
        files = t->next;
        drop_pending(t);
        free(t->pending);
        free(t->image);
        free(t->path);
        free(t);
    }
    ops = 0;
    cut_at = 0;
    power_off = 0;
}

void powercut_reset(void) {
    pthread_mutex_lock(&lock);
    forget_all();
    pthread_mutex_unlock(&lock);
}

int powercut_restore(unsigned int seed, int torn) {
    pthread_mutex_lock(&lock);
    int rewritten = 0;
    for (Tracked *t = files; t; t = t->next) {
        int exists = t->durable_exists;
        if (torn) {
            for (int i = 0; i < t->pending_count; i++) {
                const Change *c = &t->pending[i];
                if (rand_r(&seed) % 2) continue;  // this write never reached the platter
                int length = c->length;
                // Torn: only the first sectors of a larger write made it.
                if (length > 512 && rand_r(&seed) % 3 == 0) length = (length / 2) / 512 * 512;
                apply(t, c, length);
                exists = 1;
            }
        }
        char shm[4096];
        if (snprintf(shm, sizeof shm, "%s-shm", t->path) < (int)sizeof shm) unlink(shm);
        if (!exists) { unlink(t->path); continue; }
        int fd = open(t->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0) { forget_all(); pthread_mutex_unlock(&lock); return -1; }
        sqlite3_int64 done = 0;
        while (done < t->size) {
            ssize_t n = pwrite(fd, t->image + done, (size_t)(t->size - done), done);
            if (n <= 0) { close(fd); forget_all(); pthread_mutex_unlock(&lock); return -1; }
            done += n;
        }
        close(fd);
        rewritten++;
    }
    forget_all();
    pthread_mutex_unlock(&lock);
    return rewritten;
}
