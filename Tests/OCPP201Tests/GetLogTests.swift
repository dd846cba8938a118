import Foundation
import LogUpload
import OCPP201
import OCPPJSON
import Testing
import TestSupport

/// Block N's GetLog on the shared log upload: every answer, the file uploaded, each step a
/// LogStatusNotification with the requestId.
@Suite("OCPP 2.0.1 GetLog (N01)")
struct GetLogTests {
    static func getLog(_ h: Harness, _ requestId: Int, type: String = "SecurityLog",
                       location: String = "https://files.example/logs") async throws -> JSONValue {
        try await h.chargingStation.handle(action: "GetLog", payload: [
            "logType": .string(type), "requestId": .integer(Int64(requestId)), "retries": 0,
            "log": ["remoteLocation": .string(location)]]).get()
    }

    static func statuses(_ h: Harness, _ requestId: Int) -> [String] {
        h.csms.payloads("LogStatusNotification").filter { $0["requestId"] == .integer(Int64(requestId)) }
            .compactMap { $0["status"]?.stringValue }
    }

    @Test func everyAnswerAndTheUploadReportedWithTheRequestId() async throws {
        let scratch = try SecurityScratch()
        let transfer = FakeFileTransfer()
        let h = try await Harness.accepted(uploads: UploadSettings(transfer: transfer, uploadDirectory: scratch.path("uploads")))
        h.chargingStation.recordSecurityEvent("SettingSystemTime", atUnixMs: h.clock.now(), techInfo: "test")

        let bad = try await Self.getLog(h, 1, location: "gopher://x")
        #expect(bad["status"] == "Rejected" && bad["statusInfo"]?["reasonCode"] == "InvalidURL")
        let security = try await Self.getLog(h, 2)
        #expect(security["status"] == "Accepted")
        guard case .string(let name)? = security["filename"] else { Issue.record("no filename"); return }
        #expect(name.hasPrefix("securitylog-S1-") && name.hasSuffix(".log"))
        #expect(await settle { Self.statuses(h, 2) == ["Uploading", "Uploaded"] })
        let uploaded = transfer.uploads.first { $0.fileName == name }.map { String(decoding: $0.bytes, as: UTF8.self) } ?? ""
        #expect(uploaded.contains("SettingSystemTime"), "the security log holds the event")

        // A second request while one runs gives that one up.
        transfer.hangUploads(true)
        #expect(try await Self.getLog(h, 3, type: "DiagnosticsLog")["status"] == "Accepted")
        #expect(await settle { Self.statuses(h, 3) == ["Uploading"] })
        let triggered = try await h.chargingStation.handle(action: "TriggerMessage", payload: ["requestedMessage": "LogStatusNotification"]).get()
        #expect(triggered["status"] == "Accepted")
        #expect(await settle { Self.statuses(h, 3) == ["Uploading", "Uploading"] }, "the trigger says the running upload's")
        transfer.hangUploads(false)
        transfer.queueUploadFailures([.httpStatus(code: 403, reason: "Forbidden")])
        #expect(try await Self.getLog(h, 4)["status"] == "AcceptedCanceled")
        #expect(await settle { Self.statuses(h, 4) == ["Uploading", "PermissionDenied"] })
    }

    @Test func withoutUploadSettingsGetLogIsRejected() async throws {
        let h = try await Harness.accepted()
        let answer = try await Self.getLog(h, 1)
        #expect(answer["status"] == "Rejected" && answer["statusInfo"]?["reasonCode"] == "NotSupported")
    }
}
