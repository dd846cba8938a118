// The system SQLite, used through Storage's small wrapper (no GRDB: it pulls full Foundation).
#include <sqlite3.h>

// sqlite3_config is variadic, which Swift cannot call. Before the first connection opens: no
// bulk allocation of page-cache memory per pager (by default each database a connection opens,
// the temporary one included, takes 20 pages, about 87 KB, at once and keeps them). Pages are
// then allocated as they are used, up to cache_size, and freed when the cache is shrunk.
// SQLITE_MISUSE when SQLite is already initialized (a connection was opened before).
static inline int swiftevse_sqlite_page_cache_without_bulk(void) {
    return sqlite3_config(SQLITE_CONFIG_PAGECACHE, (void *)0, 0, 0);
}
