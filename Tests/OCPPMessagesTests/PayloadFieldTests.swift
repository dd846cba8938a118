import OCPP16Messages
import OCPPJSON
import Testing

@Suite("Payload field rules")
struct PayloadFieldTests {
    @Test(arguments: [
        "2026-11-24T22:40:17Z", "2026-11-24T22:40:17.123Z", "2026-11-24t22:40:17z",
        "2026-11-24T22:40:17+01:00", "2026-11-24T22:40:17.123456789-05:30", "2016-12-31T23:59:60Z",
    ])
    func acceptedDateTimes(text: String) {
        #expect(RFC3339.isDateTime(text))
    }

    @Test(arguments: [
        "", "2026-11-24", "2026-11-24T22:40:17", "2026-11-24 22:40:17Z", "2026-13-24T22:40:17Z",
        "2026-11-00T22:40:17Z", "2026-11-24T24:00:00Z", "2026-11-24T22:60:17Z", "2026-11-24T22:40:61Z",
        "2026-11-24T22:40:17.Z", "2026-11-24T22:40:17+0100", "2026-11-24T22:40:17+01:00:00",
        "20261-11-24T22:40:17Z", "2026-11-24T22:40:17ZZ", "2026-11-24T22:40:17+24:00", "２０２６-11-24T22:40:17Z",
    ])
    func refusedDateTimes(text: String) {
        #expect(!RFC3339.isDateTime(text))
    }

    @Test func decodedRequestsAreReachableThroughTheRegistry() throws {
        let payload = try JSONParser.parse(#"{"connectorId":2,"type":"Inoperative"}"#)
        let request = try OCPP16Messages.decodeRequest(action: .changeAvailability, payload: payload)
        guard case .changeAvailability(let change) = request else {
            Issue.record("decoded as \(request.action)")
            return
        }
        #expect(change.connectorId == 2 && change.type == .inoperative)
        #expect(request.payload.toJSON() == payload)
        #expect(type(of: request.payload) == ChangeAvailabilityRequest.self)
        #expect(throws: OCPPPayloadError.propertyConstraintViolation(path: "type")) {
            try OCPP16Messages.decodeRequest(action: .changeAvailability, payload: ["connectorId": 2, "type": "Off"])
        }
        let response = try OCPP16Messages.decodeResponse(action: .changeAvailability, payload: ["status": "Scheduled"])
        #expect(response == .changeAvailability(.init(status: .scheduled)))
    }

    @Test func pathsNameTheFieldDeepInside() {
        let payload: JSONValue = [
            "connectorId": 1,
            "meterValue": [
                ["timestamp": "2026-11-24T22:40:17Z", "sampledValue": [["value": "1"]]],
                ["timestamp": "2026-11-24T22:40:17Z", "sampledValue": [["value": "1"], ["value": "2", "unit": "Parsec"]]],
            ],
        ]
        #expect(throws: OCPPPayloadError.propertyConstraintViolation(path: "meterValue[1].sampledValue[1].unit")) {
            try MeterValuesRequest(json: payload)
        }
    }
}
