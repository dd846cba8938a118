import FileTransfer
import Foundation
import HAL
import OCPP16
import OCPP16Messages
import OCPPJSON
import Storage
import Testing
import TestSupport

@Suite("OCPP 1.6 GetDiagnostics and GetLog", .timeLimit(.minutes(1)))
struct DiagnosticsTests {
    func getLog(_ h: FileHarness, _ type: String, requestId: Int, location: String = "ftp://logs.example/in/",
                oldest: String? = nil, retries: Int? = nil) async -> JSONValue? {
        var log: JSONObject = ["remoteLocation": .string(location)]
        if let oldest { log["oldestTimestamp"] = .string(oldest) }
        var payload: JSONObject = ["logType": .string(type), "requestId": .integer(Int64(requestId)), "log": .object(log)]
        if let retries { payload["retries"] = .integer(Int64(retries)) }
        return await h.call("GetLog", .object(payload))
    }

    @Test func getDiagnosticsUploadsAnArchiveAFieldEngineerCanUse() async throws {
        let scratch = try SecurityScratch()
        try scratch.write("board.yaml", "model: test-board\n")
        let now = UInt64(Date().timeIntervalSince1970 * 1_000)
        let h = try await FileHarness(scratch: scratch, logLines: [(now - 7_200_000, "<6>evsed: two hours ago"),
                                                                  (now - 60_000, "<5>station: c1: contactor closed")])
        _ = await h.call("ChangeConfiguration", ["key": "AuthorizationKey", "value": .string(SecurityTests.key40)])
        _ = await h.call("ChangeConfiguration", ["key": "MeterValueSampleInterval", "value": "15"])
        _ = try h.storage.journal.beginSession(SessionStart(id: "s-77", connectorId: 1, idToken: "CARD1", state: "Charging",
                                                            startedAtMs: Int64(now - 30_000), meterStartWh: 1_000))
        let from = OCPP16Timestamp.string(unixMs: now - 3_600_000)
        let answer = await h.call("GetDiagnostics", ["location": "http://diag.example/upload/", "startTime": .string(from)])
        let fileName = try #require(answer?["fileName"]?.stringValue)
        #expect(fileName.hasPrefix("diagnostics-SN-4711-") && fileName.hasSuffix(".tar"))
        #expect(await settle { h.statuses("DiagnosticsStatusNotification") == ["Uploading", "Uploaded"] })
        let upload = try #require(h.transfer.uploads.first)
        #expect(upload.directory == "http://diag.example/upload/" && upload.fileName == fileName)

        let members = tarMembers(upload.bytes)
        #expect(Set(members.keys) == ["station.txt", "evsed.log", "configuration.txt", "security-events.log", "sessions.csv",
                                      "board.yaml"], "the board file; a file that is not there is left out")
        #expect(members["evsed.log"]?.contains("contactor closed") == true)
        #expect(members["evsed.log"]?.contains("two hours ago") == false, "only lines after startTime")
        #expect(members["configuration.txt"]?.contains("MeterValueSampleInterval = 15") == true)
        #expect(members["configuration.txt"]?.contains("AuthorizationKey") == false)
        #expect(!String(decoding: upload.bytes, as: UTF8.self).contains(SecurityTests.key40), "no secret anywhere in the archive")
        #expect(members["security-events.log"]?.contains("ReconfigurationOfSecurityParameters") == true)
        #expect(members["sessions.csv"]?.contains("s-77,1,CARD1") == true)
        #expect(members["station.txt"]?.contains("serial_number = SN-4711") == true)
        #expect(members["board.yaml"] == "model: test-board\n")
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: scratch.path("uploads"))) ?? []
        #expect(leftovers.isEmpty, "the archive is removed after the upload")
    }

    @Test func aFailingUploadIsRetriedThenUploadFailed() async throws {
        let scratch = try SecurityScratch()
        let h = try await FileHarness(scratch: scratch)
        h.transfer.queueUploadFailures([.connectFailed("refused"), .timeout("x"), .httpStatus(code: 500, reason: "Server Error")])
        _ = await h.call("GetDiagnostics", ["location": "ftp://diag.example/", "retries": 2, "retryInterval": 11])
        #expect(await h.settle(releasing: [.seconds(Int64(11))]) { h.statuses("DiagnosticsStatusNotification").last == "UploadFailed" })
        #expect(h.statuses("DiagnosticsStatusNotification") == ["Uploading", "UploadFailed"])
        #expect(h.transfer.uploadCalls == 3)
    }

    @Test func aLocationThatCannotBeUsedGetsNoFileName() async throws {
        let scratch = try SecurityScratch()
        let h = try await FileHarness(scratch: scratch)
        let answer = await h.call("GetDiagnostics", ["location": "scp://diag.example/"])
        #expect(answer == [:], "no fileName: nothing will be uploaded")
        #expect(await settle { h.statuses("DiagnosticsStatusNotification") == ["UploadFailed"] })
        #expect(await getLog(h, "SecurityLog", requestId: 3, location: "not a url")?["status"] == "Rejected")
        #expect(h.transfer.uploadCalls == 0)
    }

    @Test func getLogSecurityLogUploadsTheEventsWithTheRequestId() async throws {
        let scratch = try SecurityScratch()
        let h = try await FileHarness(scratch: scratch)
        h.chargePoint.recordSecurityEvent("StartupOfTheDevice", atUnixMs: h.clock.now() - 1_000)
        h.chargePoint.recordSecurityEvent("InvalidFirmwareSignature", atUnixMs: h.clock.now(), techInfo: "signature does not match")
        let answer = await getLog(h, "SecurityLog", requestId: 31)
        #expect(answer?["status"] == "Accepted")
        let fileName = try #require(answer?["filename"]?.stringValue)
        #expect(fileName.hasPrefix("securitylog-SN-4711-") && fileName.hasSuffix(".log"))
        #expect(await settle { h.statuses("LogStatusNotification") == ["Uploading", "Uploaded"] })
        #expect(h.csms.payloads("LogStatusNotification").allSatisfy { $0["requestId"] == 31 })
        let text = String(decoding: try #require(h.transfer.uploads.first).bytes, as: UTF8.self)
        let lines = text.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first?.contains("StartupOfTheDevice") == true, "oldest first")
        #expect(lines.last?.contains("InvalidFirmwareSignature signature does not match") == true)
    }

    @Test func getLogDiagnosticsLogIsTheArchive() async throws {
        let scratch = try SecurityScratch()
        let h = try await FileHarness(scratch: scratch)
        let answer = await getLog(h, "DiagnosticsLog", requestId: 8)
        #expect(answer?["filename"]?.stringValue?.hasSuffix(".tar") == true)
        #expect(await settle { h.statuses("LogStatusNotification") == ["Uploading", "Uploaded"] })
        #expect(tarMembers(try #require(h.transfer.uploads.first).bytes)["configuration.txt"] != nil)
    }

    @Test func refusalsAreReportedInOCPPTerms() async throws {
        let scratch = try SecurityScratch()
        let h = try await FileHarness(scratch: scratch)
        for (failure, status) in [(FileTransferError.httpStatus(code: 403, reason: "Forbidden"), "PermissionDenied"),
                                  (.ftpReply(command: "STOR x", code: 502, text: "not implemented"), "NotSupportedOperation"),
                                  (.protocolViolation("garbage"), "BadMessage"),
                                  (.connectFailed("refused"), "UploadFailure")] {
            h.transfer.queueUploadFailures([failure])
            let before = h.statuses("LogStatusNotification").count
            _ = await getLog(h, "SecurityLog", requestId: 50, retries: 0)
            #expect(await settle { h.statuses("LogStatusNotification").count == before + 2 })
            #expect(h.statuses("LogStatusNotification").last == status, "\(failure)")
        }
    }

    @Test func aNewRequestCancelsTheRunningUploadAndTriggersTellWhatRuns() async throws {
        let scratch = try SecurityScratch()
        let h = try await FileHarness(scratch: scratch)
        h.transfer.hangUploads(true)
        #expect(await getLog(h, "SecurityLog", requestId: 1)?["status"] == "Accepted")
        #expect(await settle { h.statuses("LogStatusNotification") == ["Uploading"] })
        _ = await h.call("ExtendedTriggerMessage", ["requestedMessage": "LogStatusNotification"])
        #expect(await settle { h.statuses("LogStatusNotification").count == 2 })
        #expect(h.csms.payloads("LogStatusNotification").last == ["status": "Uploading", "requestId": 1])
        _ = await h.call("TriggerMessage", ["requestedMessage": "DiagnosticsStatusNotification"])
        #expect(await settle { h.statuses("DiagnosticsStatusNotification") == ["Idle"] }, "a GetLog upload is not GetDiagnostics")

        h.transfer.hangUploads(false)
        #expect(await getLog(h, "SecurityLog", requestId: 2)?["status"] == "AcceptedCanceled")
        #expect(await settle { h.csms.payloads("LogStatusNotification").last == ["status": "Uploaded", "requestId": 2] })
        _ = await h.call("ExtendedTriggerMessage", ["requestedMessage": "LogStatusNotification"])
        #expect(await settle { h.csms.payloads("LogStatusNotification").last == ["status": "Idle"] })
    }

    @Test func offlineNotificationsWaitForTheConnection() async throws {
        let scratch = try SecurityScratch()
        let h = try await FileHarness(scratch: scratch)
        h.chargePoint.connectionDown()
        #expect(await settle { !h.chargePoint.isOnline })
        _ = await h.call("GetDiagnostics", ["location": "http://diag.example/"])
        #expect(await settle { h.transfer.uploads.count == 1 })
        for _ in 0..<500 { await Task.yield() }
        #expect(h.statuses("DiagnosticsStatusNotification").isEmpty)
        h.chargePoint.connectionUp()
        #expect(await settle { h.statuses("DiagnosticsStatusNotification") == ["Uploading", "Uploaded"] }, "in order, after the reconnect")
    }
}
