import Foundation
import HAL
import OCPP16
import OCPP16Messages
import OCPPJSON
import OCPPTransport
import Storage
import Locking
import Synchronization
import Testing
import TestSupport

final class RaisedProfiles: Sendable {
    let value = Mutex<[OCPPSecurityProfile]>([])
}

final class ClockOffset: Sendable {
    private let value = Mutex<UInt64>(0)
    func locked<T>(_ body: (inout UInt64) -> T) -> T { value.locked { body(&$0) } }
}

struct SecurityHarness {
    let csms: FakeCSMS
    let station = FakeStation()
    let storage: StationStorage
    let chargePoint: OCPP16ChargePoint
    let raised = RaisedProfiles()
    let sleeper = ManualSleeper()
    /// Added to the real time the charge point reads: a test moves the station days ahead.
    let clockOffsetMs = ClockOffset()

    init(scratch: SecurityScratch, profile: OCPPSecurityProfile = .unsecured, storage: StationStorage? = nil) async throws {
        let csms = FakeCSMS()
        let base = FakeCSMS.acceptEverything()
        csms.setAnswer { action, payload in
            if action == "SignCertificate" { return .success(["status": "Accepted"]) }
            return base(action, payload)
        }
        self.csms = csms
        let storage = try storage ?? StationStorage(database: Database.inMemory())
        self.storage = storage
        let offset = clockOffsetMs
        chargePoint = OCPP16ChargePoint(identity: .init(vendor: "SwiftEVSE", model: "Test", serialNumber: "SN-4711"),
                                        sender: csms, station: station, storage: storage, numberOfConnectors: 2,
                                        unixMs: { UInt64(Date().timeIntervalSince1970 * 1000) + offset.locked { $0 } },
                                        sleep: sleeper.sleeper)
        var service = try OCPP16SecuritySetup(profile: profile, dataDirectory: scratch.directory)
            .makeService(store: storage.config, unixMs: UInt64(Date().timeIntervalSince1970 * 1000))
        let raised = raised
        service.onProfileRaised = { p in raised.value.locked { $0.append(p) } }
        await chargePoint.useSecurity(service)
        await chargePoint.start()
        chargePoint.connectionUp()
        #expect(await settle { await chargePoint.registration == .accepted })
    }

    func call(_ action: String, _ payload: JSONValue) async -> JSONValue? {
        try? await chargePoint.handle(action: action, payload: payload).get()
    }

    func change(_ key: String, _ value: String) async -> JSONValue? {
        await call("ChangeConfiguration", ["key": .string(key), "value": .string(value)])?["status"]
    }

    func configurationKeys() async -> [String] {
        guard case .array(let entries)? = await call("GetConfiguration", [:])?["configurationKey"] else { return [] }
        return entries.compactMap { if case .string(let s)? = $0["key"] { return s } else { return nil } }
    }
}

@Suite("OCPP 1.6 security whitepaper")
struct SecurityTests {
    static let key40 = "00112233445566778899aabbccddeeff00112233"

    @Test func authorizationKeyIsWriteOnlyValidatedAndReportedAsASecurityEvent() async throws {
        let scratch = try SecurityScratch()
        let h = try await SecurityHarness(scratch: scratch)
        #expect(await h.change("AuthorizationKey", "abcd") == "Rejected", "2 bytes: too short")
        #expect(await h.change("AuthorizationKey", String(repeating: "zz", count: 16)) == "Rejected", "not hex")
        #expect(await h.change("AuthorizationKey", Self.key40) == "Accepted")
        let keys = await h.configurationKeys()
        #expect(keys.contains("SecurityProfile") && keys.contains("CpoName"))
        #expect(!keys.contains("AuthorizationKey"))
        let named = await h.call("GetConfiguration", ["key": ["AuthorizationKey"]])
        #expect(named?["configurationKey"] == nil && named?["unknownKey"] == nil, "never read back, not even by name")
        #expect(await settle { h.csms.payloads("SecurityEventNotification").contains { $0["type"] == "ReconfigurationOfSecurityParameters" } })
        #expect(!"\(h.csms.calls)".contains(Self.key40), "the key never goes back to the CSMS")
    }

    @Test func securityProfileIsOnlyRaisedNeedsItsPrerequisitesAndIsStoredOnceConnected() async throws {
        let scratch = try SecurityScratch()
        let h = try await SecurityHarness(scratch: scratch)
        #expect(await h.change("SecurityProfile", "4") == "Rejected")
        #expect(await h.change("SecurityProfile", "1") == "Rejected", "profile 1 without an AuthorizationKey")
        #expect(await h.change("AuthorizationKey", Self.key40) == "Accepted")
        #expect(await h.change("SecurityProfile", "2") == "Rejected", "profile 2 without a CSMS root")
        #expect(await h.change("SecurityProfile", "1") == "Accepted")
        for _ in 0..<2_000 { await Task.yield() }
        #expect(h.raised.value.locked { $0 }.isEmpty, "the switch waits for the answer to go out")
        #expect(await h.chargePoint.securityProfile == .unsecured, "not in force before it connected")
        await h.chargePoint.securityProfileConnected(.basicAuth)
        #expect(await h.chargePoint.securityProfile == .basicAuth)
        #expect(try h.storage.config.value(for: "ocpp16.SecurityProfile") == "1")
        #expect(await h.change("SecurityProfile", "0") == "Rejected", "never lowered")
        let service = try OCPP16SecuritySetup(profile: .unsecured, dataDirectory: scratch.directory)
            .makeService(store: h.storage.config, unixMs: 0)
        #expect(service.profile == .basicAuth, "the stored profile wins over a lower configured one after a restart")
        #expect(service.authorizationKey?.count == 20)
    }

    @Test func installListAndDeleteCentralSystemRoot() async throws {
        let scratch = try SecurityScratch()
        let h = try await SecurityHarness(scratch: scratch)
        let ca = try scratch.makeCA("csms-root")
        #expect(await h.call("InstallCertificate", ["certificateType": "CentralSystemRootCertificate", "certificate": "garbage"])?["status"] == "Rejected")
        #expect(await h.call("GetInstalledCertificateIds", ["certificateType": "CentralSystemRootCertificate"])?["status"] == "NotFound")
        #expect(await h.call("InstallCertificate", ["certificateType": "CentralSystemRootCertificate", "certificate": .string(ca)])?["status"] == "Accepted")
        let ids = await h.call("GetInstalledCertificateIds", ["certificateType": "CentralSystemRootCertificate"])
        #expect(ids?["status"] == "Accepted")
        guard case .array(let hashes)? = ids?["certificateHashData"], let hash = hashes.first else {
            Issue.record("no certificateHashData")
            return
        }
        #expect(hashes.count == 1)
        #expect(await h.call("GetInstalledCertificateIds", ["certificateType": "ManufacturerRootCertificate"])?["status"] == "NotFound")
        #expect(await h.call("DeleteCertificate", ["certificateHashData": hash])?["status"] == "Accepted")
        #expect(await h.call("DeleteCertificate", ["certificateHashData": hash])?["status"] == "NotFound")
        #expect(await h.call("GetInstalledCertificateIds", ["certificateType": "CentralSystemRootCertificate"])?["status"] == "NotFound")
    }

    @Test func signCertificateRoundTripInstallsTheNewClientCertificate() async throws {
        let scratch = try SecurityScratch()
        let h = try await SecurityHarness(scratch: scratch)
        let ca = try scratch.makeCA("csms-root")
        #expect(await h.call("InstallCertificate", ["certificateType": "CentralSystemRootCertificate", "certificate": .string(ca)])?["status"] == "Accepted")
        #expect(await h.change("CpoName", "Example CPO") == "Accepted")
        #expect(await h.call("ExtendedTriggerMessage", ["requestedMessage": "SignChargePointCertificate"])?["status"] == "Accepted")
        #expect(await settle { !h.csms.payloads("SignCertificate").isEmpty })
        guard case .string(let csr)? = h.csms.payloads("SignCertificate").first?["csr"] else {
            Issue.record("no CSR sent")
            return
        }
        try scratch.write("check.csr", csr)
        let subject = try scratch.openssl(["req", "-in", "check.csr", "-noout", "-subject", "-verify"])
        #expect(subject.contains("CN = SN-4711") || subject.contains("CN=SN-4711"))
        #expect(subject.contains("O = Example CPO") || subject.contains("O=Example CPO"))

        let otherCA = try scratch.makeCA("stranger")
        _ = otherCA
        let foreign = try scratch.sign(csr: csr, ca: "stranger")
        #expect(await h.call("CertificateSigned", ["certificateChain": .string(foreign)])?["status"] == "Rejected",
                "a chain that does not lead to an installed root")
        #expect(await settle { h.csms.payloads("SecurityEventNotification").contains { $0["type"] == "InvalidChargePointCertificate" } })
        let signed = try scratch.sign(csr: csr, ca: "csms-root")
        #expect(await h.call("CertificateSigned", ["certificateChain": .string(signed)])?["status"] == "Accepted")
        let stored = try String(contentsOfFile: scratch.path("pki/station-certificate.pem"), encoding: .utf8)
        #expect(stored.contains("BEGIN CERTIFICATE"))
        let mode = try FileManager.default.attributesOfItem(atPath: scratch.path("pki/station-key.pem"))[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let dirMode = try FileManager.default.attributesOfItem(atPath: scratch.path("pki"))[.posixPermissions] as? Int
        #expect(dirMode == 0o700)
        #expect(await h.change("SecurityProfile", "3") == "Accepted", "root and client certificate now present")
    }

    /// The station asks for a new certificate before its own expires: at registration and then
    /// daily, once two thirds of a short-lived certificate's life have passed.
    @Test func theStationCertificateIsRenewedBeforeItExpires() async throws {
        let scratch = try SecurityScratch()
        let h = try await SecurityHarness(scratch: scratch)
        let ca = try scratch.makeCA("csms-root")
        #expect(await h.call("InstallCertificate", ["certificateType": "CentralSystemRootCertificate", "certificate": .string(ca)])?["status"] == "Accepted")
        #expect(await h.change("CpoName", "Example CPO") == "Accepted")
        #expect(await h.call("ExtendedTriggerMessage", ["requestedMessage": "SignChargePointCertificate"])?["status"] == "Accepted")
        #expect(await settle { h.csms.payloads("SignCertificate").count == 1 })
        guard case .string(let csr)? = h.csms.payloads("SignCertificate").first?["csr"] else {
            Issue.record("no CSR sent")
            return
        }
        // A 10-day certificate: due 3 1/3 days before its end.
        #expect(await h.call("CertificateSigned", ["certificateChain": .string(try scratch.sign(csr: csr, ca: "csms-root"))])?["status"] == "Accepted")
        let day: UInt64 = 86_400_000
        #expect(await settle { h.sleeper.requested.contains(EVSEDuration.seconds(Int64(86_400))) }, "the daily check waits")
        h.clockOffsetMs.locked { $0 = 6 * day }
        h.sleeper.release(EVSEDuration.seconds(Int64(86_400)))
        #expect(await settle { h.sleeper.requested.contains(EVSEDuration.seconds(Int64(86_400))) }, "checked, and waits for the next day")
        #expect(h.csms.payloads("SignCertificate").count == 1, "6 days into 10: not yet")
        h.clockOffsetMs.locked { $0 = 7 * day }
        h.sleeper.release(EVSEDuration.seconds(Int64(86_400)))
        #expect(await settle { h.csms.payloads("SignCertificate").count == 2 }, "7 days into 10: a new CSR")
        guard case .string(let renewal)? = h.csms.payloads("SignCertificate").last?["csr"] else { return }
        #expect(renewal != csr, "a new key for the new certificate")
    }

    @Test func extendedTriggerMessageSendsWhatItNames() async throws {
        let scratch = try SecurityScratch()
        let h = try await SecurityHarness(scratch: scratch)
        let heartbeats = h.csms.payloads("Heartbeat").count
        #expect(await h.call("ExtendedTriggerMessage", ["requestedMessage": "Heartbeat"])?["status"] == "Accepted")
        #expect(await settle { h.csms.payloads("Heartbeat").count == heartbeats + 1 })
        #expect(await settle { h.csms.payloads("StatusNotification").count == 3 }, "the boot report first")
        let statuses = h.csms.payloads("StatusNotification").count
        #expect(await h.call("ExtendedTriggerMessage", ["requestedMessage": "StatusNotification", "connectorId": 2])?["status"] == "Accepted")
        #expect(await settle { h.csms.payloads("StatusNotification").count == statuses + 1 })
        #expect(h.csms.payloads("StatusNotification").last?["connectorId"] == 2)
        #expect(await h.call("ExtendedTriggerMessage", ["requestedMessage": "Heartbeat", "connectorId": 9])?["status"] == "Rejected")
        #expect(await h.call("ExtendedTriggerMessage", ["requestedMessage": "LogStatusNotification"])?["status"] == "NotImplemented")
    }

    @Test func startupEventIsSentOnceRegistered() async throws {
        let scratch = try SecurityScratch()
        let csms = FakeCSMS()
        let storage = try StationStorage(database: Database.inMemory())
        let cp = OCPP16ChargePoint(identity: .init(vendor: "V", model: "M", serialNumber: "S"), sender: csms,
                                   station: FakeStation(), storage: storage, numberOfConnectors: 1,
                                   unixMs: { 1_767_225_600_000 }, sleep: ManualSleeper().sleeper)
        await cp.useSecurity(try OCPP16SecuritySetup(profile: .unsecured, dataDirectory: scratch.directory)
            .makeService(store: storage.config, unixMs: 0))
        cp.recordSecurityEvent("StartupOfTheDevice", atUnixMs: 1_767_225_600_000)
        await cp.start()
        #expect(csms.calls.isEmpty, "nothing before the connection")
        cp.connectionUp()
        #expect(await settle { !csms.payloads("SecurityEventNotification").isEmpty })
        #expect(csms.actions.first == "BootNotification")
        #expect(csms.payloads("SecurityEventNotification").first?["type"] == "StartupOfTheDevice")
        #expect(await settle { (try? storage.securityLog.owedCount()) == 0 }, "marked once the CSMS answered")
    }

    @Test func eventsOwedWhenTheConnectionDropsAreSentAfterARestart() async throws {
        let scratch = try SecurityScratch()
        let storage = try StationStorage(dataDirectory: scratch.directory)
        let offline = FakeCSMS { action, _ in
            action == "SecurityEventNotification" ? .failure(.connectionLost(action: action))
                : FakeCSMS.acceptEverything()(action, .null)
        }
        let first = OCPP16ChargePoint(identity: .init(vendor: "V", model: "M"), sender: offline, station: FakeStation(),
                                      storage: storage, numberOfConnectors: 1, unixMs: { 1_767_225_600_000 },
                                      sleep: ManualSleeper().sleeper)
        first.recordSecurityEvent("StartupOfTheDevice", atUnixMs: 1_767_225_600_000)
        first.recordSecurityEvent("ResetOrReboot", atUnixMs: 1_767_225_601_000, techInfo: "Soft")
        await first.start()
        first.connectionUp()
        #expect(await settle { offline.payloads("SecurityEventNotification").count == 1 })
        await first.stop()
        #expect(try storage.securityLog.owedCount() == 2, "a lost answer leaves the event owed")

        // The process restarts on the same database: both are delivered, in order, once.
        let csms = FakeCSMS()
        let second = OCPP16ChargePoint(identity: .init(vendor: "V", model: "M"), sender: csms, station: FakeStation(),
                                       storage: storage, numberOfConnectors: 1, unixMs: { 1_767_225_700_000 },
                                       sleep: ManualSleeper().sleeper)
        await second.start()
        second.connectionUp()
        #expect(await settle { (try? storage.securityLog.owedCount()) == 0 })
        let sent = csms.payloads("SecurityEventNotification")
        #expect(sent.map { $0["type"] } == ["StartupOfTheDevice", "ResetOrReboot"])
        #expect(sent.last?["techInfo"] == "Soft")
        #expect(sent.first?["timestamp"] == "2026-01-01T00:00:00.000Z")
        second.recordSecurityEvent("SettingSystemTime", atUnixMs: 1_767_225_700_000)
        #expect(await settle { csms.payloads("SecurityEventNotification").count == 3 })
        await second.stop()
    }
}
