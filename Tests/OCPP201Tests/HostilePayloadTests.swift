import OCPP201
import OCPP201DeviceModel
import OCPP201Messages
import OCPPJSON
import OCPPTransport
import Storage
import TestSupport
import Testing

/// Every 2.0.1 action with payloads from a seeded generator (valid-looking members with wrong
/// types, missing members, strays, nesting): each gets an answer or a CALLERROR with one of the
/// schema codes, never a crash, and the station still answers afterwards.
@Suite("OCPP 2.0.1 hostile payloads")
struct HostilePayloadTests {
    static let names = ["type", "evseId", "evse", "id", "idToken", "transactionId", "remoteStartId", "requestedMessage",
                        "operationalStatus", "versionNumber", "updateType", "expiryDateTime", "vendorId", "connectorId", "x"]
    /// The device model's requests: their members, so the generator reaches past the outer schema.
    static let deviceModelNames = ["getVariableData", "setVariableData", "component", "variable", "name", "instance", "evse",
                                   "id", "attributeType", "attributeValue", "requestId", "reportBase", "componentCriteria",
                                   "componentVariable", "setMonitoringData", "value", "type", "severity", "monitoringBase",
                                   "monitoringCriteria", "x"]

    static func randomJSON(_ g: inout SeededGenerator, depth: Int = 0, names: [String] = names) -> JSONValue {
        switch Int.random(in: 0..<(depth > 3 ? 5 : 7), using: &g) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &g))
        case 2: return .integer(Int64.random(in: -1_000_000...1_000_000, using: &g))
        case 3: return .double(Double.random(in: -1e6...1e6, using: &g))
        case 4: return .string(["", "x", "Accepted", "2026-01-01T00:00:00Z", String(repeating: "s", count: 600)].randomElement(using: &g) ?? "")
        case 5: return .array((0..<Int.random(in: 0...3, using: &g)).map { _ in randomJSON(&g, depth: depth + 1, names: names) })
        default:
            var object = JSONObject()
            for _ in 0..<Int.random(in: 0...4, using: &g) {
                object[names.randomElement(using: &g) ?? "x"] = randomJSON(&g, depth: depth + 1, names: names)
            }
            return .object(object)
        }
    }

    @Test("40 random payloads for every action: an answer or a schema CALLERROR, and the station still answers")
    func everyActionSurvivesHostilePayloads() async throws {
        let h = try await Harness.accepted()
        var g = SeededGenerator(seed: 0x201)
        let schemaCodes: Set<OCPPErrorCode> = [.formationViolation, .typeConstraintViolation, .occurrenceConstraintViolation,
                                               .propertyConstraintViolation, .notImplemented]
        var answered = 0, refused = 0
        for action in OCPP201Action.allCases {
            for _ in 0..<40 {
                switch await h.chargingStation.handle(action: action.rawValue, payload: Self.randomJSON(&g)) {
                case .success: answered += 1
                case .failure(let error):
                    #expect(schemaCodes.contains(error.code), "\(action.rawValue): \(error)")
                    refused += 1
                }
            }
        }
        #expect(refused > 0 && answered + refused == OCPP201Action.allCases.count * 40)
        let status = try await h.chargingStation.handle(action: "GetTransactionStatus", payload: [:]).get()
        #expect(status["messagesInQueue"] == .bool(false))
        #expect(await h.chargingStation.registration == .accepted)
    }

    @Test("200 random payloads for every device-model action: an answer or a schema CALLERROR, and the model still answers")
    func deviceModelActionsSurviveHostilePayloads() async throws {
        let storage = try StationStorage(database: Database.inMemory())
        let model = try DeviceModel(store: storage.deviceModel, layout: StationLayout(evses: [EVSELayout(evseId: 1), EVSELayout(evseId: 2)]),
                                    identity: StationIdentity(vendorName: "SwiftEVSE", model: "Test", firmwareVersion: "1"))
        let h = try await Harness.accepted(storage: storage, deviceModel: model)
        var g = SeededGenerator(seed: 0xD3)
        let schemaCodes: Set<OCPPErrorCode> = [.formationViolation, .typeConstraintViolation, .occurrenceConstraintViolation,
                                               .propertyConstraintViolation]
        let actions = ["GetVariables", "SetVariables", "GetBaseReport", "GetReport", "SetVariableMonitoring",
                       "ClearVariableMonitoring", "SetMonitoringBase", "SetMonitoringLevel", "GetMonitoringReport"]
        for action in actions {
            for _ in 0..<200 {
                if case .failure(let error) = await h.chargingStation.handle(action: action, payload: Self.randomJSON(&g, names: Self.deviceModelNames)) {
                    #expect(schemaCodes.contains(error.code), "\(action): \(error)")
                }
            }
        }
        let answer = try await h.chargingStation.handle(action: "GetVariables", payload: ["getVariableData": [
            ["component": ["name": "OCPPCommCtrlr"], "variable": ["name": "HeartbeatInterval"]]]]).get()
        #expect(answer["getVariableResult"]?.arrayValue?.first?["attributeStatus"] == "Accepted")
    }
}
