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
        #expect(c.backend?.keys == ["url"])
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
        ("language: xx\n", 1, "language", "en, de, fr, nl"),
        ("identity: two words\n", 1, "identity", "without spaces"),
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

    @Test func missingFileSaysSo() {
        #expect(throws: BoardFileError.self) { try StationConfig.load(path: "/nonexistent/station.yaml") }
    }
}
