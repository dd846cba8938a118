import ConfigFile
import BoardDescription
import Station
import Testing

@Suite("Station config file")
struct StationConfigTests {
    @Test func demoStationParses() throws {
        let c = try StationConfig.load(path: Repo.demoStation)
        #expect(c.identity == "SWIFTEVSE-DEMO-01")
        #expect(c.authorization.mode == .localList)
        #expect(c.authorization.cards.contains(DemoCard(idToken: "A1B2C3", status: .accepted)))
        #expect(c.authorization.cards.contains(DemoCard(idToken: "BADBAD", status: .blocked)))
        #expect(c.sessions.recovery == .resume)
        #expect(c.backend == nil, "the demo runs standalone")
    }

    @Test func backendSectionGivesTheCSMSAndHowToReachIt() throws {
        let c = try StationConfig.parse("""
            identity: CP-7
            backend:
              url: wss://csms.example.net/ocpp
              security_profile: 3
              csms_root_certificates: [/etc/swiftevse/root-a.pem, /etc/swiftevse/root-b.pem]
              client_certificate: /etc/swiftevse/station.pem
              client_key: /etc/swiftevse/station.key
              frame_log: {max_file_kb: 256, files: 3}
              hard_reset_command: systemctl reboot
            """, file: "station.yaml")
        let b = try #require(c.backend)
        #expect(b.url == "wss://csms.example.net/ocpp")
        #expect(b.identity == nil, "the daemon falls back to the station identity")
        #expect(b.ocppVersion == "1.6")
        #expect(b.securityProfile == 3)
        #expect(b.csmsRootCertificates == ["/etc/swiftevse/root-a.pem", "/etc/swiftevse/root-b.pem"])
        #expect(b.clientCertificate == "/etc/swiftevse/station.pem")
        #expect(b.frameLog?.maxFileBytes == 256 * 1_024)
        #expect(b.frameLog?.fileCount == 3)
        #expect(b.hardResetCommand == "systemctl reboot")
        let off = try StationConfig.parse("backend:\n  url: ws://h/ocpp\n  frame_log: {enabled: false}\n", file: "s.yaml")
        #expect(off.backend?.frameLog == nil)
    }

    @Test func emptyFileGivesDefaults() throws {
        let c = try StationConfig.parse("", file: "empty.yaml")
        #expect(c.dataDirectory == "/var/lib/swiftevse")
        #expect(c.authorization.mode == .localList)
        #expect(c.sessions.stopOnEVDisconnect)
    }

    @Test(arguments: [
        ("identity: X\nauthorisation: {}\n", 2, "authorisation", "unknown key"),
        ("authorization:\n  mode: everyone\n", 2, "authorization.mode", "expected one of free_vend, local_list"),
        ("authorization:\n  cards:\n    - {id: AA}\n    - {id: aa}\n", 4, "authorization.cards[1].id", "listed twice"),
        ("authorization:\n  cards:\n    - {status: blocked}\n", 3, "authorization.cards[0].id", "required"),
        ("sessions:\n  connection_timeout_s: 2\n", 2, "sessions.connection_timeout_s", "expected 5…3600"),
        ("sessions:\n  after_restart: maybe\n", 2, "sessions.after_restart", "resume, end"),
        ("sessions:\n  history_days: 0\n", 2, "sessions.history_days", "expected 1…3650"),
        ("language: xx\n", 1, "language", "en, de, fr, nl"),
        ("identity: two words\n", 1, "identity", "without spaces"),
        ("backend:\n  identity: CP1\n", 2, "backend.url", "required"),
        ("backend:\n  url: http://csms/ocpp\n", 2, "backend.url", "ws:// or wss://"),
        ("backend:\n  url: ws://h/o\n  ocpp_version: \"2.0\"\n", 3, "backend.ocpp_version", "expected one of 1.6"),
        ("backend:\n  url: ws://h/o\n  security_profile: 4\n", 3, "backend.security_profile", "expected 0…3"),
        ("backend:\n  url: ws://h/o\n  client_key: k.pem\n", 3, "backend.client_certificate", "go together"),
        ("backend:\n  url: ws://h/o\n  frame_log: {files: 0}\n", 3, "backend.frame_log.files", "expected 1…50"),
        ("backend:\n  url: ws://h/o\n  password: x\n", 3, "backend.password", "unknown key"),
        ("backend:\n  url: ws://h/o\n  csms_root_certificates: root.pem\n", 3, "backend.csms_root_certificates", "expected a list"),
        // The key is written, its value left out: said so, on the key's own line (the board
        // files' reader, which the station file shares, always did).
        ("identity: CP1\nbackend:\n  url:\n", 3, "backend.url", "missing value"),
        ("energy:\n  mode: turbo\n", 2, "energy.mode", "expected one of fast, pv, min+pv"),
        ("energy:\n  pv: {min_on_s: -1}\n", 2, "energy.pv.min_on_s", "expected 0…86400"),
        ("energy:\n  phase_switching: {min_interval_s: 1}\n", 2, "energy.phase_switching.min_interval_s", "expected 10…86400"),
        ("energy:\n  solar: true\n", 2, "energy.solar", "unknown key"),
    ])
    func errorsNameFileLineAndField(text: String, line: Int, field: String, words: String) {
        do {
            _ = try StationConfig.parse(text, file: "station.yaml")
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.file == "station.yaml")
            #expect(error.line == line)
            #expect(error.field == field)
            #expect(error.description.contains(words), "\(error)")
        }
    }

    @Test func energySectionParses() throws {
        let c = try StationConfig.parse("energy:\n  mode: min+pv\n  pv: {start_delay_s: 5, stop_allowance_w: 200}\n  phase_switching: {max_per_session: 2}\n",
                                        file: "station.yaml")
        #expect(c.energy.mode == .minPlusPV)
        #expect(c.energy.pvStartDelay == .seconds(Int64(5)) && c.energy.pvStopAllowanceW == 200)
        #expect(c.energy.phaseSwitchesPerSession == 2)
        #expect(try StationConfig.load(path: Repo.demoStation).energy.mode == .fast)
    }

    @Test func missingFileSaysSo() {
        #expect(throws: ConfigFileError.self) { try StationConfig.load(path: "/nonexistent/station.yaml") }
    }
}
