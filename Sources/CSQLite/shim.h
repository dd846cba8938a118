// The system SQLite, used through Storage's small wrapper (no GRDB: it pulls full Foundation).
#include <sqlite3.h>
