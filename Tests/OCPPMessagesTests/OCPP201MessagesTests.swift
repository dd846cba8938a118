import OCPPJSON
import Testing

@testable import OCPP201Messages

@Suite("OCPP 2.0.1 messages")
struct OCPP201MessagesTests {
    func decode(_ action: OCPP201Action, isRequest: Bool, _ payload: JSONValue) throws(OCPPPayloadError) -> JSONValue {
        if isRequest {
            return try OCPP201Messages.decodeRequest(action: action, payload: payload).toJSON()
        }
        return try OCPP201Messages.decodeResponse(action: action, payload: payload).toJSON()
    }

    @Test func everyActionHasCasesForBothDirections() {
        for action in OCPP201Action.allCases {
            for isRequest in [true, false] {
                #expect(OCPP201PayloadCases.valid.contains { $0.action == action && $0.isRequest == isRequest })
            }
        }
        #expect(OCPP201Action.allCases.count == 64)
    }

    @Test(arguments: OCPP201PayloadCases.valid.indices)
    func validPayloadRoundTrips(index: Int) throws {
        let sample = OCPP201PayloadCases.valid[index]
        let json = try JSONParser.parse(sample.json)
        let decoded = try decode(sample.action, isRequest: sample.isRequest, json)
        #expect(decoded == json)
        #expect(JSONWriter.writeString(decoded) == JSONWriter.writeString(json))
    }

    @Test(arguments: OCPP201PayloadCases.invalid.indices)
    func invalidPayloadGivesTheSpecError(index: Int) throws {
        let sample = OCPP201PayloadCases.invalid[index]
        let json = try JSONParser.parse(sample.json)
        do {
            _ = try decode(sample.action, isRequest: sample.isRequest, json)
            Issue.record("\(sample.action) accepted \(sample.json)")
        } catch {
            #expect(error.ocpp201ErrorCode == sample.errorCode, "\(sample.json)")
            #expect(error.path == sample.path, "\(sample.json)")
        }
    }

    @Test func customDataKeepsVendorMembers() throws {
        let payload: JSONValue = ["customData": ["vendorId": "com.example", "extra": [1, 2], "flag": true]]
        let request = try HeartbeatRequest(json: payload)
        #expect(request.customData?.additionalMembers["extra"] == [1, 2])
        #expect(request.toJSON() == payload)
        #expect(throws: OCPPPayloadError.occurrenceConstraintViolation(path: "customData.vendorId")) {
            try HeartbeatRequest(json: ["customData": ["extra": 1]])
        }
        #expect(throws: OCPPPayloadError.formationViolation(path: "other")) {
            try HeartbeatRequest(json: ["other": 1])
        }
        #expect(OCPPPayloadError.formationViolation(path: "").ocpp201ErrorCode == "FormatViolation")
    }

    @Test func registryMetadata() {
        #expect(OCPP201Action(rawValue: "TransactionEvent")?.direction == .chargingStationToCSMS)
        #expect(OCPP201Action.requestStartTransaction.direction == .csmsToChargingStation)
        #expect(OCPP201Action.dataTransfer.direction == .both)
        for action in OCPP201Action.allCases {
            #expect(action.requestType.action == action && action.responseType.action == action)
        }
    }
}
