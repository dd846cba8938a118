/// The station database's schema history. Append new steps at the end; never edit a shipped one.
///
/// Times: `*_at` columns are unix seconds (authorization expiry and use), `*_at_ms` unix
/// milliseconds (sessions, queue, security log). Energies are watt-hours from the meter's register.
public enum StationSchema {
    public static let migrations: [Migration] = [
        Migration(version: 1, summary: "station configuration and connector availability", sql: """
            CREATE TABLE config (
                key   TEXT PRIMARY KEY NOT NULL CHECK (key <> ''),
                value TEXT NOT NULL
            ) WITHOUT ROWID;
            CREATE TABLE connector_availability (
                connector_id INTEGER PRIMARY KEY CHECK (connector_id >= 0),
                availability TEXT NOT NULL CHECK (availability IN ('Operative', 'Inoperative'))
            );
            """),
        Migration(version: 2, summary: "authorization cache and local authorization list", sql: """
            CREATE TABLE authorization_cache (
                id_token        TEXT PRIMARY KEY NOT NULL,
                status          TEXT NOT NULL,
                expires_at      INTEGER,
                parent_id_token TEXT,
                last_used_at    INTEGER NOT NULL,
                -- Strictly increasing on every put/lookup: the LRU order, immune to clock steps
                -- and to many uses within the same second.
                use_order       INTEGER NOT NULL
            );
            CREATE INDEX authorization_cache_by_use ON authorization_cache (use_order);
            CREATE TABLE local_list (
                id_token        TEXT PRIMARY KEY NOT NULL,
                status          TEXT NOT NULL,
                expires_at      INTEGER,
                parent_id_token TEXT
            ) WITHOUT ROWID;
            CREATE TABLE local_list_version (
                singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
                version   INTEGER NOT NULL CHECK (version >= 0)
            );
            """),
        Migration(version: 3, summary: "session journal and transaction queue", sql: """
            CREATE TABLE sessions (
                id              TEXT PRIMARY KEY NOT NULL,
                connector_id    INTEGER NOT NULL,
                id_token        TEXT,
                parent_id_token TEXT,
                transaction_id  TEXT,
                state           TEXT NOT NULL,
                start_reason    TEXT,
                started_at_ms   INTEGER NOT NULL,
                meter_start_wh  REAL NOT NULL,
                updated_at_ms   INTEGER NOT NULL,
                stop_reason     TEXT,
                meter_stop_wh   REAL,
                ended_at_ms     INTEGER,
                CHECK ((ended_at_ms IS NULL) = (meter_stop_wh IS NULL))
            );
            CREATE INDEX sessions_open ON sessions (started_at_ms) WHERE ended_at_ms IS NULL;
            CREATE TABLE session_meter_samples (
                seq         INTEGER PRIMARY KEY,
                session_id  TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
                taken_at_ms INTEGER NOT NULL,
                energy_wh   REAL NOT NULL,
                power_w     REAL
            );
            CREATE INDEX session_meter_samples_by_session ON session_meter_samples (session_id, seq);
            CREATE TABLE session_suspensions (
                session_id    TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
                started_at_ms INTEGER NOT NULL,
                ended_at_ms   INTEGER,
                reason        TEXT NOT NULL,
                PRIMARY KEY (session_id, started_at_ms)
            );
            -- AUTOINCREMENT: a sequence number is never reused after its row is acknowledged and
            -- deleted, so a late acknowledgement can never hit a newer message.
            CREATE TABLE transaction_queue (
                seq                INTEGER PRIMARY KEY AUTOINCREMENT,
                kind               TEXT NOT NULL,
                payload            TEXT NOT NULL,
                session_id         TEXT,
                enqueued_at_ms     INTEGER NOT NULL,
                attempts           INTEGER NOT NULL DEFAULT 0,
                last_attempt_at_ms INTEGER
            );
            """),
        Migration(version: 4, summary: "security event log", sql: """
            CREATE TABLE security_events (
                seq            INTEGER PRIMARY KEY AUTOINCREMENT,
                occurred_at_ms INTEGER NOT NULL,
                kind           TEXT NOT NULL,
                detail         TEXT
            );
            """),
        Migration(version: 5, summary: "security events owed to the CSMS; meter values for a transaction's stop", sql: """
            -- NULL until the CSMS accepted its SecurityEventNotification: the events owed survive a
            -- power cut. Events logged before this step were only ever queued in memory; they count
            -- as delivered, so an upgrade does not replay a station's whole history.
            ALTER TABLE security_events ADD COLUMN notified_at_ms INTEGER;
            UPDATE security_events SET notified_at_ms = occurred_at_ms;
            CREATE INDEX security_events_owed ON security_events (seq) WHERE notified_at_ms IS NULL;
            -- Meter values collected while a transaction runs, for its stop message (OCPP 1.6
            -- StopTxnSampledData / StopTxnAlignedData): one protocol meter value per row, as text.
            CREATE TABLE transaction_data (
                seq         INTEGER PRIMARY KEY AUTOINCREMENT,
                session_id  TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
                taken_at_ms INTEGER NOT NULL,
                payload     TEXT NOT NULL
            );
            CREATE INDEX transaction_data_by_session ON transaction_data (session_id, seq);
            """),
        Migration(version: 6, summary: "a stop the station accepted is kept with its open session", sql: """
            -- Set when a stop was accepted (a remote stop answered Accepted, a card presented to
            -- stop) while the contactor may still be closing down. A restart ends such a session
            -- with this reason instead of resuming it: a stop the CSMS heard accepted is carried out.
            ALTER TABLE sessions ADD COLUMN stop_requested_reason TEXT;
            ALTER TABLE sessions ADD COLUMN stop_requested_id_token TEXT;
            """),
        Migration(version: 7, summary: "a session whose token the backend refused keeps its energy withheld", sql: """
            -- Set when the backend refused the token after the start but keeps the transaction
            -- open (OCPP 1.6 StopTransactionOnInvalidId false): a restart resumes the session
            -- without energy until it is stopped.
            ALTER TABLE sessions ADD COLUMN deauthorized_at_ms INTEGER;
            """),
        Migration(version: 8, summary: "OCPP 2.0.1 device model: variables, their attributes and monitors", sql: """
            -- One row per component variable. An absent instance is stored as '' and an absent
            -- EVSE or connector as 0 (OCPP numbers EVSEs and connectors from 1), so the UNIQUE
            -- key below works: SQLite treats NULLs as distinct.
            CREATE TABLE device_variables (
                id                  INTEGER PRIMARY KEY,
                component           TEXT NOT NULL CHECK (component <> ''),
                component_instance  TEXT NOT NULL DEFAULT '',
                evse_id             INTEGER NOT NULL DEFAULT 0 CHECK (evse_id >= 0),
                connector_id        INTEGER NOT NULL DEFAULT 0 CHECK (connector_id >= 0),
                variable            TEXT NOT NULL CHECK (variable <> ''),
                variable_instance   TEXT NOT NULL DEFAULT '',
                data_type           TEXT NOT NULL,
                unit                TEXT,
                min_limit           REAL,
                max_limit           REAL,
                values_list         TEXT,
                supports_monitoring INTEGER NOT NULL CHECK (supports_monitoring IN (0, 1)),
                UNIQUE (component, component_instance, evse_id, connector_id, variable, variable_instance)
            );
            CREATE TABLE device_variable_attributes (
                variable_id INTEGER NOT NULL REFERENCES device_variables (id) ON DELETE CASCADE,
                type        TEXT NOT NULL CHECK (type IN ('Actual', 'Target', 'MinSet', 'MaxSet')),
                value       TEXT,
                mutability  TEXT NOT NULL CHECK (mutability IN ('ReadOnly', 'WriteOnly', 'ReadWrite')),
                persistent  INTEGER NOT NULL CHECK (persistent IN (0, 1)),
                constant    INTEGER NOT NULL CHECK (constant IN (0, 1)),
                PRIMARY KEY (variable_id, type)
            ) WITHOUT ROWID;
            -- Monitors the CSMS set (SetVariableMonitoring) or the firmware preconfigured; the id
            -- is the one reported to the CSMS, so it is never reused while the row exists.
            CREATE TABLE variable_monitors (
                id               INTEGER PRIMARY KEY CHECK (id > 0),
                variable_id      INTEGER NOT NULL REFERENCES device_variables (id) ON DELETE CASCADE,
                type             TEXT NOT NULL,
                value            REAL NOT NULL,
                severity         INTEGER NOT NULL CHECK (severity BETWEEN 0 AND 9),
                transaction_only INTEGER NOT NULL CHECK (transaction_only IN (0, 1)),
                origin           TEXT NOT NULL
            );
            CREATE INDEX variable_monitors_by_variable ON variable_monitors (variable_id);
            """),
        Migration(version: 9, summary: "display messages a backend set for the driver", sql: """
            -- One row per message (OCPP 2.0.1 SetDisplayMessage); the id is the backend's, and a
            -- message with the same id replaces the row. Times are wall-clock Unix ms; NULL: open.
            -- A message bound to a transaction is removed when that transaction ends.
            CREATE TABLE display_messages (
                id             INTEGER PRIMARY KEY,
                priority       TEXT NOT NULL CHECK (priority IN ('AlwaysFront', 'InFront', 'NormalCycle')),
                state          TEXT CHECK (state IN ('Charging', 'Faulted', 'Idle', 'Unavailable')),
                starts_at_ms   INTEGER,
                ends_at_ms     INTEGER,
                transaction_id TEXT,
                format         TEXT NOT NULL,
                language       TEXT,
                content        TEXT NOT NULL
            );
            CREATE INDEX display_messages_by_transaction ON display_messages (transaction_id) WHERE transaction_id IS NOT NULL;
            """),
        Migration(version: 10, summary: "the boot and the monotonic time of session and queue rows, to correct an unset clock", sql: """
            -- A charger without an RTC battery boots at 1970. Each row that carries a wall-clock
            -- time also records the boot it was written in (the kernel's boot id: the monotonic
            -- clock counts from that boot) and, while the wall clock was not yet set, the offset
            -- wall - monotonic in effect. Once the time is known (BootNotification, Heartbeat,
            -- NTP) the rows of the same boot (sessions,
            -- queued messages, security events) are corrected by (true offset - unset offset) and
            -- the column is cleared; rows of an earlier boot cannot be corrected (see
            -- docs/ROBUSTNESS.md, "The clock"). NULL offset: the time was right when written.
            ALTER TABLE sessions ADD COLUMN boot_id TEXT;
            ALTER TABLE sessions ADD COLUMN started_monotonic_ms INTEGER;
            ALTER TABLE sessions ADD COLUMN unset_clock_offset_ms INTEGER;
            ALTER TABLE transaction_queue ADD COLUMN boot_id TEXT;
            ALTER TABLE transaction_queue ADD COLUMN enqueued_monotonic_ms INTEGER;
            ALTER TABLE transaction_queue ADD COLUMN unset_clock_offset_ms INTEGER;
            ALTER TABLE security_events ADD COLUMN boot_id TEXT;
            ALTER TABLE security_events ADD COLUMN unset_clock_offset_ms INTEGER;
            CREATE INDEX sessions_unset_clock ON sessions (boot_id) WHERE unset_clock_offset_ms IS NOT NULL;
            CREATE INDEX transaction_queue_unset_clock ON transaction_queue (boot_id) WHERE unset_clock_offset_ms IS NOT NULL;
            """),
        Migration(version: 11, summary: "a refused session may still draw MaxEnergyOnInvalidId", sql: """
            -- With deauthorized_at_ms: the meter reading (Wh) up to which the session may still
            -- draw energy after the refusal (OCPP MaxEnergyOnInvalidId); NULL: none from the
            -- refusal on. A restart keeps the limit, so it does not give the energy back.
            ALTER TABLE sessions ADD COLUMN deauthorized_energy_limit_wh REAL;
            """),
        Migration(version: 12, summary: "the authorization cache evicts by use count or age too", sql: """
            -- use_count: lookups and stores of the token (least frequently used eviction);
            -- stored_order: when it first entered the cache (first in, first out). Rows of earlier
            -- versions count one use and keep their use order as their age.
            ALTER TABLE authorization_cache ADD COLUMN use_count INTEGER NOT NULL DEFAULT 1;
            ALTER TABLE authorization_cache ADD COLUMN stored_order INTEGER;
            UPDATE authorization_cache SET stored_order = use_order;
            """),
        Migration(version: 13, summary: "the next session's id, handed out when the EV or a token comes first", sql: """
            -- A session prelude: the EV was plugged in, or a token authorized, and the other has not
            -- come yet. The session that follows takes session_id (an OCPP 2.0.1 transaction begun
            -- at TxStartPoint EVConnected or Authorized goes on under it); beginning that session,
            -- or the prelude's end without one, deletes the row. One per connector.
            CREATE TABLE session_preludes (
                connector_id    INTEGER PRIMARY KEY,
                session_id      TEXT NOT NULL UNIQUE,
                cause           TEXT NOT NULL,
                id_token        TEXT,
                id_token_kind   TEXT,
                parent_id_token TEXT,
                start_reason    TEXT,
                began_at_ms     INTEGER NOT NULL,
                meter_wh        REAL
            );
            """),
    ]

    public static let migrator = Migrator(migrations)
    public static var latestVersion: Int { migrator.latestVersion }
}
