import Storage
import Testing

@Suite struct MigrationTests {
    @Test func freshDatabaseGetsEveryStepOnceInOrder() throws {
        let db = try Database.inMemory()
        let applied = try StationSchema.migrator.migrate(db)
        #expect(applied == Array(1...StationSchema.latestVersion))
        #expect(try StationSchema.migrator.currentVersion(of: db) == StationSchema.latestVersion)
        #expect(try StationSchema.migrator.migrate(db) == [])
    }

    /// Writes, with the SQL of schema version `version` itself, data into the tables that version
    /// introduced — what a station in the field running that firmware would have on disk.
    static func seedTablesIntroduced(in version: Int, _ db: Database) throws {
        switch version {
        case 1:
            try db.execute("INSERT INTO config (key, value) VALUES ('HeartbeatInterval', '300')")
            try db.execute("INSERT INTO connector_availability (connector_id, availability) VALUES (2, 'Inoperative')")
        case 2:
            try db.execute("""
                INSERT INTO authorization_cache (id_token, status, expires_at, parent_id_token, last_used_at, use_order)
                VALUES ('CACHED1', 'Accepted', 2000000000, 'GROUP', 100, 1)
                """)
            try db.execute("INSERT INTO local_list (id_token, status) VALUES ('LISTED1', 'Blocked')")
            try db.execute("INSERT INTO local_list_version (singleton, version) VALUES (1, 7)")
        case 3:
            try db.execute("""
                INSERT INTO sessions (id, connector_id, id_token, state, started_at_ms, meter_start_wh, updated_at_ms)
                VALUES ('s-open', 1, 'LISTED1', 'Charging', 1000, 12345.5, 1000)
                """)
            try db.execute("INSERT INTO session_meter_samples (session_id, taken_at_ms, energy_wh) VALUES ('s-open', 2000, 12400)")
            try db.execute("""
                INSERT INTO transaction_queue (kind, payload, session_id, enqueued_at_ms) VALUES ('TransactionEvent', '{"a":1}', 's-open', 1000)
                """)
        case 4:
            try db.execute("INSERT INTO security_events (occurred_at_ms, kind) VALUES (5, 'StartupOfTheDevice')")
        case 5:
            try db.execute("INSERT INTO security_events (occurred_at_ms, kind, notified_at_ms) VALUES (6, 'ResetOrReboot', NULL)")
            try db.execute("""
                INSERT INTO sessions (id, connector_id, state, started_at_ms, meter_start_wh, updated_at_ms)
                VALUES ('s-data', 2, 'Charging', 3000, 10, 3000)
                """)
            try db.execute("INSERT INTO transaction_data (session_id, taken_at_ms, payload) VALUES ('s-data', 3100, '{\"v\":1}')")
        case 6:
            try db.execute("""
                INSERT INTO sessions (id, connector_id, state, started_at_ms, meter_start_wh, updated_at_ms,
                                      stop_requested_reason, stop_requested_id_token)
                VALUES ('s-stopping', 1, 'Finishing', 4000, 20, 4000, 'Remote', NULL)
                """)
        case 7:
            try db.execute("""
                INSERT INTO sessions (id, connector_id, state, started_at_ms, meter_start_wh, updated_at_ms, deauthorized_at_ms)
                VALUES ('s-refused', 2, 'SuspendedEVSE', 5000, 30, 5000, 5100)
                """)
        case 8:
            try db.execute("""
                INSERT INTO device_variables (id, component, evse_id, variable, data_type, unit, max_limit, supports_monitoring)
                VALUES (1, 'EVSE', 1, 'Power', 'decimal', 'W', 22000, 1),
                       (2, 'OCPPCommCtrlr', 0, 'HeartbeatInterval', 'integer', 's', NULL, 1)
                """)
            try db.execute("""
                INSERT INTO device_variable_attributes (variable_id, type, value, mutability, persistent, constant)
                VALUES (1, 'Actual', '0', 'ReadOnly', 0, 0), (1, 'MaxSet', '22000', 'ReadOnly', 1, 1),
                       (2, 'Actual', '120', 'ReadWrite', 1, 0)
                """)
            try db.execute("""
                INSERT INTO variable_monitors (id, variable_id, type, value, severity, transaction_only, origin)
                VALUES (7, 1, 'UpperThreshold', 11000, 5, 0, 'CustomMonitor')
                """)
        case 9:
            try db.execute("""
                INSERT INTO display_messages (id, priority, state, ends_at_ms, transaction_id, format, language, content)
                VALUES (4, 'AlwaysFront', 'Charging', 2000000000000, 'tx-9', 'UTF8', 'de', 'Grüße')
                """)
        case 10:
            try db.execute("""
                INSERT INTO sessions (id, connector_id, state, started_at_ms, meter_start_wh, updated_at_ms,
                                      boot_id, started_monotonic_ms, unset_clock_offset_ms)
                VALUES ('s-unset', 1, 'Charging', 7000, 40, 7000, 'boot-1', 6000, 1000)
                """)
            try db.execute("""
                INSERT INTO transaction_queue (kind, payload, session_id, enqueued_at_ms, boot_id, enqueued_monotonic_ms,
                                               unset_clock_offset_ms)
                VALUES ('StartTransaction', '{"u":1}', 's-unset', 7000, 'boot-1', 6000, 1000)
                """)
        case 11:
            try db.execute("""
                INSERT INTO sessions (id, connector_id, state, started_at_ms, meter_start_wh, updated_at_ms,
                                      deauthorized_at_ms, deauthorized_energy_limit_wh)
                VALUES ('s-allowance', 2, 'Charging', 8000, 50, 8000, 8100, 550.5)
                """)
        case 12:
            try db.execute("""
                INSERT INTO authorization_cache (id_token, status, last_used_at, use_order, use_count, stored_order)
                VALUES ('CACHED12', 'Accepted', 300, 40, 7, 2)
                """)
        case 13:
            try db.execute("""
                INSERT INTO session_preludes (connector_id, session_id, cause, id_token, id_token_kind, start_reason,
                                              began_at_ms, meter_wh)
                VALUES (2, 'p-13', 'authorized', 'CARD13', 'iso14443', 'local', 9000, 120.5)
                """)
        default:
            Issue.record("no seed for schema version \(version): add one with the new migration")
        }
    }

    /// Reads back, through today's stores, what `seedTablesIntroduced(in: version)` wrote.
    static func expectSeedSurvived(from version: Int, _ storage: StationStorage) throws {
        switch version {
        case 1:
            #expect(try storage.config.value(for: "HeartbeatInterval") == "300")
            #expect(try storage.connectorAvailability.availability(ofConnector: 2) == .inoperative)
        case 2:
            #expect(try storage.localList.currentVersion() == 7)
            #expect(try storage.localList.lookup("LISTED1") == AuthorizationRecord(idToken: "LISTED1", status: .blocked))
            #expect(try storage.authorizationCache.lookup("CACHED1", now: 200)
                == AuthorizationRecord(idToken: "CACHED1", status: .accepted, expiresAt: 2_000_000_000, parentIdToken: "GROUP"))
        case 3:
            let open = try storage.journal.openSessions().filter { $0.id == "s-open" }
            #expect(open.count == 1)
            #expect(open.first?.meterStartWh == 12345.5)
            #expect(open.first?.stopRequestedReason == nil, "sessions of earlier versions carry no stop request")
            #expect(try storage.journal.meterSamples(ofSession: "s-open") == [SessionMeterSample(takenAtMs: 2000, energyWh: 12400)])
            // Version 10's seed queues a message of its own after this one.
            #expect(try storage.journal.pending(limit: 10).map(\.payload).first == #"{"a":1}"#)
        case 4:
            #expect(try storage.securityLog.recent(limit: 10).map(\.kind).contains("StartupOfTheDevice"))
        case 5:
            #expect(try storage.securityLog.owed(limit: 10).map(\.kind).contains("ResetOrReboot"))
            #expect(try storage.journal.transactionData(ofSession: "s-data") == [#"{"v":1}"#])
        case 6:
            let stopping = try storage.journal.session("s-stopping")
            #expect(stopping?.isOpen == true)
            #expect(stopping?.stopRequestedReason == "Remote")
            #expect(stopping?.deauthorizedAtMs == nil, "sessions of earlier versions were never deauthorized")
        case 7:
            #expect(try storage.journal.session("s-refused")?.deauthorizedAtMs == 5100)
        case 8:
            let variables = try storage.deviceModel.variables()
            let power = variables.first { $0.key == StoredVariableKey(component: "EVSE", evseId: 1, variable: "Power") }
            #expect(power?.characteristics.maxLimit == 22000)
            #expect(power?.attributes.map(\.type) == ["Actual", "MaxSet"])
            let heartbeat = variables.first { $0.key.variable == "HeartbeatInterval" }
            #expect(heartbeat?.key.evseId == nil, "evse_id 0 reads back as no EVSE")
            #expect(heartbeat?.attributes.first?.value == "120")
            #expect(try storage.deviceModel.monitors().map(\.id) == [7])
        case 9:
            #expect(try storage.displayMessages.all() == [StoredDisplayMessage(
                id: 4, priority: "AlwaysFront", state: "Charging", endsAtMs: 2_000_000_000_000, transactionId: "tx-9",
                format: "UTF8", language: "de", content: "Grüße")])
        case 10:
            #expect(try storage.journal.clockOfSession("s-unset")
                == JournalRowClock(bootId: "boot-1", monotonicMs: 6000, unsetWallOffsetMs: 1000))
            // Rows written before this step carry no boot: they are never moved by a correction.
            if let open = try storage.journal.session("s-open") {
                #expect(try storage.journal.clockOfSession(open.id) == JournalRowClock(bootId: nil, monotonicMs: nil, unsetWallOffsetMs: nil))
            }
            let seq = try #require(try storage.journal.pending(limit: 10).first { $0.payload == #"{"u":1}"# }?.seq)
            #expect(try storage.journal.clockOfMessage(seq)?.bootId == "boot-1")
        case 11:
            #expect(try storage.journal.session("s-allowance")?.deauthorizedEnergyLimitWh == 550.5)
            // A session refused before this step had no allowance: its energy stays withheld.
            if let refused = try storage.journal.session("s-refused") {
                #expect(refused.deauthorizedAtMs != nil && refused.deauthorizedEnergyLimitWh == nil)
            }
        case 12:
            #expect(try storage.authorizationCache.lookup("CACHED12", now: 400)?.status == .accepted)
            // A token cached before this step counts one use and its use order as its age.
            if try storage.authorizationCache.lastUsed("CACHED1") != nil {
                let row = try storage.database.query("SELECT use_count, stored_order FROM authorization_cache WHERE id_token = 'CACHED1'") {
                    [try $0.int(0), try $0.int(1)]
                }
                #expect((row.first?[0] ?? 0) >= 1 && row.first?[1] != nil)
            }
        case 13:
            #expect(try storage.journal.preludes() == [SessionPreludeRecord(
                sessionId: "p-13", connectorId: 2, cause: "authorized", idToken: "CARD13", idTokenKind: "iso14443",
                startReason: "local", beganAtMs: 9000, meterWh: 120.5)])
        default:
            Issue.record("no check for schema version \(version)")
        }
    }

    @Test(arguments: 0..<StationSchema.latestVersion)
    func upgradeFromEarlierVersionKeepsItsData(startingVersion: Int) throws {
        let dir = try TemporaryDirectory()
        let path = dir.file(StationStorage.fileName)
        do {
            // The station as it was at `startingVersion`, with data in every table it had.
            // Each version's rows are written by that version (a row of an older version's shape
            // written into a newer schema is not what a station ever holds).
            let old = try Database(path: path)
            for version in stride(from: 1, through: startingVersion, by: 1) {
                #expect(try StationSchema.migrator.migrate(old, upTo: version) == [version])
                try Self.seedTablesIntroduced(in: version, old)
            }
            old.close()
        }
        // The new firmware starts: migrations run on open.
        let storage = try StationStorage(dataDirectory: dir.path)
        #expect(try StationSchema.migrator.currentVersion(of: storage.database) == StationSchema.latestVersion)
        for version in stride(from: 1, through: startingVersion, by: 1) { try Self.expectSeedSurvived(from: version, storage) }
        // The tables added later work too.
        try storage.config.set("after", for: "migration")
        try storage.journal.beginSession(SessionStart(id: "new", connectorId: 1, state: "Preparing", startedAtMs: 9, meterStartWh: 0))
        _ = try storage.securityLog.append(kind: "SettingSystemTime", atMs: 10)
        #expect(try storage.journal.session("new")?.isOpen == true)
        try storage.deviceModel.synchronize(upserting: [StoredVariable(
            key: StoredVariableKey(component: "OCPPCommCtrlr", variable: "OfflineThreshold"),
            characteristics: StoredVariableCharacteristics(dataType: "integer", supportsMonitoring: true),
            attributes: [StoredVariableAttribute(type: "Actual", value: "60", mutability: "ReadWrite", persistent: true, constant: false)])])
        #expect(try storage.deviceModel.variables().contains { $0.key.variable == "OfflineThreshold" })
    }

    @Test func securityEventsLoggedBeforeDeliveryTrackingAreNotReplayed() throws {
        let db = try Database.inMemory()
        try StationSchema.migrator.migrate(db, upTo: 4)
        try db.execute("INSERT INTO security_events (occurred_at_ms, kind) VALUES (5, 'StartupOfTheDevice')")
        let storage = try StationStorage(database: db)
        #expect(try storage.securityLog.recent(limit: 10).map(\.notifiedAtMs) == [5])
        #expect(try storage.securityLog.owed(limit: 10) == [])
    }

    @Test func everySchemaVersionHasASeedAndACheck() throws {
        // Guards the upgrade test above: a new migration without seed/check data would pass vacuously.
        for version in 1...StationSchema.latestVersion {
            let db = try Database.inMemory()
            try StationSchema.migrator.migrate(db, upTo: version)
            try Self.seedTablesIntroduced(in: version, db)
        }
        #expect(StationSchema.migrations.map(\.version) == Array(1...StationSchema.latestVersion))
    }

    @Test func failingStepIsRolledBackAndNamed() throws {
        let migrator = Migrator([
            Migration(version: 1, summary: "ok", sql: "CREATE TABLE a (x INTEGER); INSERT INTO a VALUES (1);"),
            Migration(version: 2, summary: "broken", sql: "CREATE TABLE b (y INTEGER); UPDATE a SET x = 2; CREATE TABLEE c (z);"),
        ])
        let db = try Database.inMemory()
        let error = try #require(throws: StorageError.self) { try migrator.migrate(db) }
        guard case .migrationFailed(let version, let underlying) = error, case .sqlite(_, _, let sql) = underlying else {
            Issue.record("expected migrationFailed(2, sqlite…), got \(error)")
            return
        }
        #expect(version == 2)
        #expect(sql?.contains("CREATE TABLEE") == true)
        #expect(try migrator.currentVersion(of: db) == 1)
        #expect(try db.query("SELECT x FROM a") { try $0.int(0) } == [1])
        #expect(try db.query("SELECT count(*) FROM sqlite_schema WHERE name = 'b'") { try $0.int(0) } == [0])
    }

    @Test func dataTransformingStepKeepsRows() throws {
        let v1 = Migration(version: 1, summary: "meter in kWh", sql: "CREATE TABLE m (id INTEGER PRIMARY KEY, kwh REAL);")
        let v2 = Migration(version: 2, summary: "meter in Wh", sql: """
            ALTER TABLE m ADD COLUMN wh REAL;
            UPDATE m SET wh = kwh * 1000;
            ALTER TABLE m DROP COLUMN kwh;
            """)
        let db = try Database.inMemory()
        try Migrator([v1, v2]).migrate(db, upTo: 1)
        try db.execute("INSERT INTO m (kwh) VALUES (1.5), (2)")
        #expect(try Migrator([v1, v2]).migrate(db) == [2])
        #expect(try db.query("SELECT wh FROM m ORDER BY id") { try $0.double(0) } == [1500, 2000])
    }

    @Test func newerDatabaseIsRefusedUntouched() throws {
        let db = try Database.inMemory()
        try db.execute("PRAGMA user_version = 99")
        #expect(throws: StorageError.schemaTooNew(found: 99, latest: StationSchema.latestVersion)) {
            try StationSchema.migrator.migrate(db)
        }
        #expect(try db.query("SELECT count(*) FROM sqlite_schema") { try $0.int(0) } == [0])
    }

    @Test func malformedListIsRefused() throws {
        let db = try Database.inMemory()
        let migrator = Migrator([Migration(version: 1, summary: "", sql: "CREATE TABLE a (x)"),
                                 Migration(version: 3, summary: "", sql: "CREATE TABLE b (x)")])
        #expect(throws: StorageError.self) { try migrator.migrate(db) }
        #expect(try migrator.currentVersion(of: db) == 0)
        #expect(throws: StorageError.self) { try StationSchema.migrator.migrate(db, upTo: 99) }
    }
}
