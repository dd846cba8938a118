import ChargingCore
import HAL
import OCPP16
import OCPP16Messages
import OCPPJSON
import OCPPTransport
import StationPort
import Storage
import Locking
import Synchronization
import Testing

/// A station that answers reservations as told and remembers what it was asked.
final class ReservingStation: StationPort {
    private let state = Mutex<(answer: ReservationAnswer?, asked: [ReservationRequest], held: Set<Int>)>((.accepted, [], []))
    let events = AsyncStream<StationEvent> { _ in }
    func submit(_ request: StationRequest) {}
    func request(_ request: StationRequest) async -> StationAnswer {
        switch request {
        case .connectors:
            return .connectors([1, 2].map { ConnectorSnapshot(id: $0, status: .available) })
        case let .reserve(r):
            return .reservation(state.locked { s in
                s.asked.append(r)
                if s.answer == .accepted { s.held.insert(r.reservationId) }
                return s.answer
            })
        case let .cancelReservation(id):
            return state.locked { $0.held.remove(id) != nil } ? .accepted : .rejected
        default:
            return .accepted
        }
    }
    func answer(_ a: ReservationAnswer?) { state.locked { $0.answer = a } }
    var asked: [ReservationRequest] { state.locked { $0.asked } }
}

private func ready(station: (any StationPort)? = nil) async throws -> (OCPP16ChargePoint, StationStorage) {
    let storage = try StationStorage(database: Database.inMemory())
    let csms = FakeCSMS()
    let cp = OCPP16ChargePoint(identity: .init(vendor: "SwiftEVSE", model: "Test"), sender: csms,
                               station: station ?? FakeStation(), storage: storage, numberOfConnectors: 2,
                               unixMs: { ClockBox().now() }, sleep: ManualSleeper().sleeper)
    await cp.start()
    cp.connectionUp()
    #expect(await settle { await cp.registration == .accepted })
    return (cp, storage)
}

private func status(_ cp: OCPP16ChargePoint, _ action: String, _ payload: JSONValue) async -> JSONValue? {
    try? await cp.handle(action: action, payload: payload).get()["status"]
}

private func entries(_ range: ClosedRange<Int>, status: String = "Accepted") -> JSONValue {
    .array(range.map { ["idTag": .string("TAG\($0)"), "idTagInfo": ["status": .string(status)]] })
}

@Suite("OCPP 1.6 local list")
struct LocalListTests {
    @Test func fullThenDifferentialAddAndRemoveWithVersionRules() async throws {
        let (cp, storage) = try await ready()
        #expect(try await cp.handle(action: "GetLocalListVersion", payload: [:]).get()["listVersion"] == 0)
        #expect(await status(cp, "SendLocalList", ["listVersion": 3, "updateType": "Full", "localAuthorizationList": entries(1...100)]) == "Accepted")
        #expect(try storage.localList.count() == 100)
        #expect(try await cp.handle(action: "GetLocalListVersion", payload: [:]).get()["listVersion"] == 3)
        // A differential update must be above the installed version.
        #expect(await status(cp, "SendLocalList", ["listVersion": 3, "updateType": "Differential", "localAuthorizationList": entries(101...101)]) == "VersionMismatch")
        #expect(try storage.localList.lookup("TAG101") == nil)
        let diff: JSONValue = .array([
            ["idTag": "TAG101", "idTagInfo": ["status": "Blocked", "expiryDate": "2027-01-01T00:00:00Z", "parentIdTag": "GROUP"]],
            ["idTag": "TAG5"],
        ])
        #expect(await status(cp, "SendLocalList", ["listVersion": 4, "updateType": "Differential", "localAuthorizationList": diff]) == "Accepted")
        let added = try storage.localList.lookup("TAG101")
        #expect(added?.status == .blocked && added?.parentIdToken == "GROUP" && added?.expiresAt == 1_798_761_600)
        #expect(try storage.localList.lookup("TAG5") == nil, "no idTagInfo in a differential entry removes it")
        #expect(try storage.localList.count() == 100)
        #expect(try await cp.handle(action: "GetLocalListVersion", payload: [:]).get()["listVersion"] == 4)
    }

    @Test func anEmptiedListReportsVersionZeroHoweverItWasEmptied() async throws {
        let (cp, storage) = try await ready()
        func version() async throws -> JSONValue? { try await cp.handle(action: "GetLocalListVersion", payload: [:]).get()["listVersion"] }
        #expect(await status(cp, "SendLocalList", ["listVersion": 4, "updateType": "Full", "localAuthorizationList": entries(1...2)]) == "Accepted")
        #expect(try await version() == 4)
        // OCPP 1.6 GetLocalListVersion: "If the list is empty, the version shall be 0".
        #expect(await status(cp, "SendLocalList", ["listVersion": 5, "updateType": "Full", "localAuthorizationList": []]) == "Accepted")
        #expect(try await version() == 0)
        #expect(await status(cp, "SendLocalList", ["listVersion": 6, "updateType": "Full"]) == "Accepted", "no list at all is empty too")
        #expect(try await version() == 0)
        // From 0, a CSMS may go on with any differential version ≥ 1.
        #expect(await status(cp, "SendLocalList", ["listVersion": 1, "updateType": "Differential", "localAuthorizationList": entries(1...1)]) == "Accepted")
        #expect(try await version() == 1)
        // A differential update that removes the last entry empties the list: 0 as well.
        #expect(await status(cp, "SendLocalList", ["listVersion": 2, "updateType": "Differential", "localAuthorizationList": [["idTag": "TAG1"]]]) == "Accepted")
        #expect(try storage.localList.count() == 0)
        #expect(try await version() == 0)
    }

    @Test func tooManyEntriesDuplicatesAndBadDatesFailAndChangeNothing() async throws {
        let (cp, storage) = try await ready()
        #expect(await status(cp, "SendLocalList", ["listVersion": 1, "updateType": "Full", "localAuthorizationList": entries(1...10_001)]) == "Failed")
        let dup: JSONValue = .array([["idTag": "A", "idTagInfo": ["status": "Accepted"]], ["idTag": "A", "idTagInfo": ["status": "Accepted"]]])
        #expect(await status(cp, "SendLocalList", ["listVersion": 1, "updateType": "Full", "localAuthorizationList": dup]) == "Failed")
        let badDate: JSONValue = .array([["idTag": "A", "idTagInfo": ["status": "Accepted", "expiryDate": "tomorrow"]]])
        // A date that is not one never reaches the list: the payload validation answers a CALLERROR.
        await #expect(throws: OCPPCallError.self) {
            try await cp.handle(action: "SendLocalList", payload: ["listVersion": 1, "updateType": "Full", "localAuthorizationList": badDate]).get()
        }
        #expect(try storage.localList.count() == 0 && storage.localList.currentVersion() == 0)
        #expect(await status(cp, "SendLocalList", ["listVersion": 1, "updateType": "Full", "localAuthorizationList": entries(1...10_000)]) == "Accepted")
        #expect(try storage.localList.count() == 10_000)
    }

    @Test func disabledListIsNotSupportedAndVersionMinusOne() async throws {
        let (cp, storage) = try await ready()
        #expect(await status(cp, "ChangeConfiguration", ["key": "LocalAuthListEnabled", "value": "false"]) == "Accepted")
        #expect(await status(cp, "SendLocalList", ["listVersion": 1, "updateType": "Full", "localAuthorizationList": entries(1...2)]) == "NotSupported")
        #expect(try await cp.handle(action: "GetLocalListVersion", payload: [:]).get()["listVersion"] == -1)
        #expect(try storage.localList.count() == 0)
    }

    @Test func timestampsParseWithFractionsAndOffsets() {
        #expect(OCPP16Timestamp.unixMs("2026-01-01T00:00:00Z") == 1_767_225_600_000)
        #expect(OCPP16Timestamp.unixMs("2026-01-01T00:00:00.5Z") == 1_767_225_600_500)
        #expect(OCPP16Timestamp.unixMs("2026-01-01T01:00:00+01:00") == 1_767_225_600_000)
        #expect(OCPP16Timestamp.unixMs(OCPP16Timestamp.string(unixMs: 1_790_000_123_456)) == 1_790_000_123_456)
        #expect(OCPP16Timestamp.unixMs("2026-13-01T00:00:00Z") == nil)
        #expect(OCPP16Timestamp.unixMs("2026-01-01T00:00:00") == nil)
    }
}

@Suite("OCPP 1.6 reservations")
struct ReservationTests {
    var reserve: JSONValue { reserveNow(connector: 1) }

    func reserveNow(connector: Int, expiry: String = "2026-01-01T00:10:00Z") -> JSONValue {
        ["connectorId": .integer(Int64(connector)), "expiryDate": .string(expiry), "idTag": "CARD", "parentIdTag": "GROUP", "reservationId": 7]
    }

    @Test func reserveNowPassesTheCoreAnswerThroughAndCancelFindsIt() async throws {
        let station = ReservingStation()
        let (cp, _) = try await ready(station: station)
        #expect(await status(cp, "ReserveNow", reserve) == "Accepted")
        let asked = try #require(station.asked.first)
        #expect(asked.connectorId == 1 && asked.idToken.value == "CARD" && asked.parentIdToken?.value == "GROUP")
        #expect(asked.expiresAtUnixMs == 1_767_226_200_000)
        #expect(await status(cp, "CancelReservation", ["reservationId": 7]) == "Accepted")
        #expect(await status(cp, "CancelReservation", ["reservationId": 7]) == "Rejected")
        for (answer, expected) in [(ReservationAnswer.occupied, "Occupied"), (.faulted, "Faulted"), (.unavailable, "Unavailable"), (.rejected, "Rejected")] {
            station.answer(answer)
            #expect(await status(cp, "ReserveNow", reserve) == .string(expected))
        }
    }

    @Test func connectorZeroUnknownConnectorAndBadExpiryAreRejected() async throws {
        let station = ReservingStation()
        let (cp, _) = try await ready(station: station)
        #expect(await status(cp, "ReserveNow", reserveNow(connector: 0)) == "Rejected", "ReserveConnectorZeroSupported is false")
        #expect(await status(cp, "ReserveNow", reserveNow(connector: 9)) == "Rejected")
        await #expect(throws: OCPPCallError.self) { try await cp.handle(action: "ReserveNow", payload: reserveNow(connector: 1, expiry: "soon")).get() }
        #expect(station.asked.isEmpty)
        let keys = try await cp.handle(action: "GetConfiguration", payload: ["key": ["ReserveConnectorZeroSupported", "SupportedFeatureProfiles"]]).get()
        let response = try GetConfigurationResponse(json: keys)
        #expect(response.configurationKey?.first { $0.key == "ReserveConnectorZeroSupported" }?.value == "false")
        #expect(response.configurationKey?.first { $0.key == "SupportedFeatureProfiles" }?.value?.contains("Reservation") == true)
    }
}
