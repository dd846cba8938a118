import OCPPJSON
import Testing

@testable import OCPP16Messages

@Suite("OCPP 1.6 messages")
struct OCPP16MessagesTests {
    func decode(_ action: OCPP16Action, isRequest: Bool, _ payload: JSONValue) throws(OCPPPayloadError) -> JSONValue {
        if isRequest {
            return try OCPP16Messages.decodeRequest(action: action, payload: payload).toJSON()
        }
        return try OCPP16Messages.decodeResponse(action: action, payload: payload).toJSON()
    }

    @Test func everyActionHasCasesForBothDirections() {
        for action in OCPP16Action.allCases {
            for isRequest in [true, false] {
                #expect(OCPP16PayloadCases.valid.contains { $0.action == action && $0.isRequest == isRequest })
            }
        }
        #expect(OCPP16Action.allCases.count == 39)
    }

    @Test(arguments: OCPP16PayloadCases.valid.indices)
    func validPayloadRoundTrips(index: Int) throws {
        let sample = OCPP16PayloadCases.valid[index]
        let json = try JSONParser.parse(sample.json)
        let decoded = try decode(sample.action, isRequest: sample.isRequest, json)
        #expect(decoded == json)
        // Same member order as the schema (and the sample), so output is byte-stable.
        #expect(JSONWriter.writeString(decoded) == JSONWriter.writeString(json))
    }

    @Test(arguments: OCPP16PayloadCases.invalid.indices)
    func invalidPayloadGivesTheSpecError(index: Int) throws {
        let sample = OCPP16PayloadCases.invalid[index]
        let json = try JSONParser.parse(sample.json)
        do {
            _ = try decode(sample.action, isRequest: sample.isRequest, json)
            Issue.record("\(sample.action) accepted \(sample.json)")
        } catch {
            #expect(error.errorCode == sample.errorCode, "\(sample.json)")
            #expect(error.path == sample.path, "\(sample.json)")
        }
    }

    @Test func typedAccessAndOutboundValidation() throws {
        let boot = try BootNotificationResponse(json: try JSONParser.parse(
            #"{"status":"Accepted","currentTime":"2026-11-24T22:40:17Z","interval":300}"#))
        #expect(boot.status == .accepted && boot.interval == 300)
        #expect(BootNotificationRequest.action == .bootNotification)
        #expect(BootNotificationRequest.Response.self == BootNotificationResponse.self)

        var request = BootNotificationRequest(chargePointVendor: "SwiftEVSE", chargePointModel: "One")
        try request.validate()
        #expect(JSONWriter.writeString(request.toJSON()) == #"{"chargePointVendor":"SwiftEVSE","chargePointModel":"One"}"#)
        request.chargePointModel = String(repeating: "m", count: 21)
        #expect(throws: OCPPPayloadError.propertyConstraintViolation(path: "chargePointModel")) { try request.validate() }

        let meter = MeterValuesRequest(connectorId: 1, meterValue: [])
        #expect(throws: OCPPPayloadError.occurrenceConstraintViolation(path: "meterValue")) { try meter.validate() }

        let stamp = StatusNotificationRequest(connectorId: 0, errorCode: .noError, status: .available, timestamp: "yesterday")
        #expect(throws: OCPPPayloadError.propertyConstraintViolation(path: "timestamp")) { try stamp.validate() }
    }

    @Test func lengthsCountCharactersNotBytes() throws {
        // idTag is CiString20: 20 characters, even when they take 40 bytes.
        let twenty = String(repeating: "é", count: 20)
        #expect(try AuthorizeRequest(json: ["idTag": .string(twenty)]).idTag == twenty)
        #expect(throws: OCPPPayloadError.propertyConstraintViolation(path: "idTag")) {
            try AuthorizeRequest(json: ["idTag": .string(twenty + "x")])
        }
    }

    @Test func numbersFollowJSONNotSwift() throws {
        // 5.0 is an integer in JSON; 5.5 is not.
        #expect(try HeartbeatResponse(json: ["currentTime": "2026-01-01T00:00:00+01:00"]).currentTime.count == 25)
        #expect(try ReserveNowRequest(json: ["connectorId": 1.0, "expiryDate": "2026-01-01T00:00:00Z",
                                             "idTag": "A", "reservationId": 5]).connectorId == 1)
        #expect(throws: OCPPPayloadError.propertyConstraintViolation(path: "connectorId")) {
            try UnlockConnectorRequest(json: ["connectorId": .double(1e30)])
        }
        // limit is a multiple of 0.1; binary noise from 0.1 steps is tolerated.
        let period: JSONValue = ["startPeriod": 0, "limit": .double(0.1 + 0.2)]
        #expect(try ChargingSchedulePeriod(json: period).limit == 0.1 + 0.2)
    }

    @Test func errorCodesAreSpelledAsTheSpec() {
        #expect(OCPPPayloadError.occurrenceConstraintViolation(path: "x").errorCode == "OccurenceConstraintViolation")
        #expect(OCPPPayloadError.formationViolation(path: "").errorCode == "FormationViolation")
        #expect(OCPPPayloadError.typeConstraintViolation(path: "a").errorCode == "TypeConstraintViolation")
        #expect(OCPPPayloadError.propertyConstraintViolation(path: "a").errorCode == "PropertyConstraintViolation")
        #expect("\(OCPPPayloadError.typeConstraintViolation(path: "meterValue[0].timestamp"))".contains("'meterValue[0].timestamp'"))
    }

    @Test func registryMetadata() {
        #expect(OCPP16Action(rawValue: "BootNotification") == .bootNotification)
        #expect(OCPP16Action(rawValue: "bootNotification") == nil)
        #expect(OCPP16Action.bootNotification.direction == .chargePointToCentralSystem)
        #expect(OCPP16Action.remoteStartTransaction.direction == .centralSystemToChargePoint)
        #expect(OCPP16Action.dataTransfer.direction == .both)
        #expect(OCPP16Action.signCertificate.featureProfile == .security)
        #expect(OCPP16Action.getCompositeSchedule.featureProfile == .smartCharging)
        for action in OCPP16Action.allCases {
            #expect(action.requestType.action == action)
            #expect(action.responseType.action == action)
        }
        #expect(OCPP16Action.allCases.filter { $0.direction == .chargePointToCentralSystem }.count == 13)
    }

    @Test func hostilePayloadsAreRefusedWithoutCrashing() throws {
        let huge = JSONValue.string(String(repeating: "x", count: 1_000_000))
        #expect(throws: OCPPPayloadError.propertyConstraintViolation(path: "idTag")) {
            try AuthorizeRequest(json: ["idTag": huge])
        }
        var nested: JSONValue = "leaf"
        for _ in 0..<60 { nested = ["status": nested] }
        #expect(throws: OCPPPayloadError.typeConstraintViolation(path: "status")) {
            try BootNotificationResponse(json: nested)
        }
        let junk: [JSONValue] = [.null, true, 1, 1.5, "s", [], [:], [[:]], ["a": [1]], huge]
        var refused = 0
        for action in OCPP16Action.allCases {
            for payload in junk {
                for isRequest in [true, false] {
                    if (try? decode(action, isRequest: isRequest, payload)) == nil { refused += 1 }
                }
                // Every member replaced by every junk value.
                for sample in OCPP16PayloadCases.valid where sample.action == action {
                    guard case .object(let object) = try JSONParser.parse(sample.json) else { continue }
                    for key in object.keys {
                        var broken = object
                        broken[key] = payload
                        _ = try? decode(action, isRequest: sample.isRequest, .object(broken))
                    }
                }
            }
        }
        // Only empty payloads ({} for Heartbeat and the like) can pass.
        #expect(refused > OCPP16Action.allCases.count * junk.count * 2 - 60)
    }
}
