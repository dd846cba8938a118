import Foundation
import HAL
import OCPP201
import OCPP201DeviceModel
import OCPPJSON
import OCPPSecurity
import OCPPTransport
import Storage
import Testing
import TestSupport

/// Block A on the 2.0.1 station with openssl-made certificates: the root store operations with
/// every status, the station certificate's SignCertificate → CertificateSigned round, and the
/// write-only BasicAuthPassword kept in the authorization key file.
@Suite("OCPP 2.0.1 certificates and BasicAuthPassword (A01–A03, M03–M05)")
struct CertificateTests {
    /// An hour on from now: the certificates made during the test (valid from the second they
    /// are made, for days) are valid at the station's time, however slowly the test runs.
    static func now() -> ClockBox { ClockBox(unixMs: UInt64(Date().timeIntervalSince1970 * 1000) + 3_600_000) }

    static func station(_ scratch: SecurityScratch, securityProfile: Int = 0, csms: FakeCSMS = FakeCSMS(),
                        deviceModel: (StationStorage) throws -> DeviceModel? = { _ in nil }) async throws -> (Harness, OCPP201PKI) {
        let pki = try OCPP201PKI(dataDirectory: scratch.directory)
        let storage = try StationStorage(database: Database.inMemory())
        let h = try await Harness.accepted(csms: csms, storage: storage, deviceModel: try deviceModel(storage), pki: pki,
                                           securityProfile: securityProfile, clock: now())
        return (h, pki)
    }

    static func call(_ h: Harness, _ action: String, _ payload: JSONValue) async throws -> JSONValue {
        try await h.chargingStation.handle(action: action, payload: payload).get()
    }

    static func install(_ h: Harness, _ type: String, _ pem: String) async throws -> JSONValue {
        try await call(h, "InstallCertificate", ["certificateType": .string(type), "certificate": .string(pem)])
    }

    @Test func rootsAreInstalledListedByTypeAndDeletedWithEveryStatus() async throws {
        let scratch = try SecurityScratch()
        let (h, pki) = try await Self.station(scratch, deviceModel: { try DeviceModelWiringTests.model($0) })
        let csmsRoot = try scratch.makeCA("csms")
        let moRoot = try scratch.makeCA("mo")
        let first = try await Self.install(h, "CSMSRootCertificate", csmsRoot)
        #expect(first["status"] == "Accepted", "\(first)")
        #expect(try await Self.install(h, "MORootCertificate", moRoot)["status"] == "Accepted")
        let leaf = try scratch.sign(csr: try scratch.openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                                                               "-nodes", "-keyout", "leaf.key", "-subj", "/CN=leaf"]), ca: "csms")
        let notACA = try await Self.install(h, "ManufacturerRootCertificate", leaf)
        #expect(notACA["status"] == "Rejected" && notACA["statusInfo"]?["reasonCode"] == "InvalidCertificate")
        #expect(try await Self.install(h, "V2GRootCertificate", "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n")["status"] == "Rejected")
        #expect(try pki.certificates.count() == 2, "nothing stored for the rejected ones")
        #expect(h.chargingStation.deviceModel?.value(.certificateEntries) == "2")

        let csmsOnly = try await Self.call(h, "GetInstalledCertificateIds", ["certificateType": ["CSMSRootCertificate"]])
        #expect(csmsOnly["status"] == "Accepted")
        guard case .array(let entries)? = csmsOnly["certificateHashDataChain"] else { Issue.record("no chain"); return }
        #expect(entries.count == 1 && entries[0]["certificateType"] == "CSMSRootCertificate")
        guard case .array(let all)? = try await Self.call(h, "GetInstalledCertificateIds", [:])["certificateHashDataChain"] else {
            Issue.record("no chain"); return
        }
        #expect(Set(all.compactMap { $0["certificateType"] }) == ["CSMSRootCertificate", "MORootCertificate"])
        #expect(try await Self.call(h, "GetInstalledCertificateIds", ["certificateType": ["V2GRootCertificate", "V2GCertificateChain"]])["status"] == "NotFound")

        guard let csmsHash = entries[0]["certificateHashData"] else { Issue.record("no hash data"); return }
        #expect(try await Self.call(h, "DeleteCertificate", ["certificateHashData": csmsHash])["status"] == "Accepted")
        #expect(try await Self.call(h, "DeleteCertificate", ["certificateHashData": csmsHash])["status"] == "NotFound")
        #expect(h.chargingStation.deviceModel?.value(.certificateEntries) == "1")
    }

    @Test func theLastCSMSRootIsKeptWhileTLSUsesItAndNoPKIMeansFailed() async throws {
        let scratch = try SecurityScratch()
        let (h, _) = try await Self.station(scratch, securityProfile: 2)
        #expect(try await Self.install(h, "CSMSRootCertificate", try scratch.makeCA("csms"))["status"] == "Accepted")
        guard case .array(let entries)? = try await Self.call(h, "GetInstalledCertificateIds", [:])["certificateHashDataChain"],
              let hash = entries.first?["certificateHashData"] else { Issue.record("no chain"); return }
        let kept = try await Self.call(h, "DeleteCertificate", ["certificateHashData": hash])
        #expect(kept["status"] == "Failed" && kept["statusInfo"]?["reasonCode"] == "CertificateInUse")
        #expect(try await Self.install(h, "CSMSRootCertificate", try scratch.makeCA("second"))["status"] == "Accepted")
        #expect(try await Self.call(h, "DeleteCertificate", ["certificateHashData": hash])["status"] == "Accepted",
                "with another root installed the first may go")

        let bare = try await Harness.accepted()
        #expect(try await Self.install(bare, "CSMSRootCertificate", try scratch.makeCA("x"))["status"] == "Failed")
        #expect(try await Self.call(bare, "GetInstalledCertificateIds", [:])["status"] == "NotFound")
        #expect(try await Self.call(bare, "TriggerMessage", ["requestedMessage": "SignChargingStationCertificate"])["status"] == "Rejected")
    }

    @Test func triggeredSignCertificateThenCertificateSignedInstallsTheStationCertificate() async throws {
        let scratch = try SecurityScratch()
        let csms = FakeCSMS()
        let base = FakeCSMS.acceptEverything()
        csms.setAnswer { action, payload in
            action == "SignCertificate" ? .success(["status": "Accepted"]) : base(action, payload)
        }
        let (h, pki) = try await Self.station(scratch, csms: csms)
        #expect(try await Self.install(h, "CSMSRootCertificate", try scratch.makeCA("csms"))["status"] == "Accepted")
        #expect(try await Self.call(h, "TriggerMessage", ["requestedMessage": "SignChargingStationCertificate"])["status"] == "Accepted")
        #expect(await settle { !csms.payloads("SignCertificate").isEmpty })
        let request = csms.payloads("SignCertificate")[0]
        #expect(request["certificateType"] == "ChargingStationCertificate")
        guard case .string(let csr)? = request["csr"] else { Issue.record("no CSR"); return }
        try scratch.write("sent.csr", csr)
        let subject = try scratch.openssl(["req", "-in", "sent.csr", "-noout", "-subject", "-verify"])
        #expect(subject.contains("CN = S1") || subject.contains("CN=S1"), "CN is the serial number: \(subject)")
        #expect(pki.stationKeys.hasKey(.pending))

        // A chain from a CA the station does not trust: refused, reported, nothing installed.
        _ = try scratch.makeCA("rogue")
        let refused = try await Self.call(h, "CertificateSigned", ["certificateChain": .string(try scratch.sign(csr: csr, ca: "rogue"))])
        #expect(refused["status"] == "Rejected")
        #expect(await settle { csms.payloads("SecurityEventNotification").contains { $0["type"] == "InvalidChargingStationCertificate" } })
        #expect(try pki.stationKeys.loadCertificateChain(.active) == nil)

        let signed = try await Self.call(h, "CertificateSigned", ["certificateChain": .string(try scratch.sign(csr: csr, ca: "csms")),
                                                                 "certificateType": "ChargingStationCertificate"])
        #expect(signed["status"] == "Accepted")
        #expect(try pki.stationKeys.loadCertificateChain(.active)?.count == 1)
        #expect(!pki.stationKeys.hasKey(.pending), "the pending key is the active one now")
        #expect(try await Self.call(h, "CertificateSigned", ["certificateChain": "x", "certificateType": "V2GCertificate"])["status"] == "Rejected")
    }

    @Test func anUnansweredSignCertificateIsRepeatedWithTheSameCSRUntilCertificateSignedComes() async throws {
        let scratch = try SecurityScratch()
        let csms = FakeCSMS()
        let base = FakeCSMS.acceptEverything()
        csms.setAnswer { action, payload in action == "SignCertificate" ? .success(["status": "Accepted"]) : base(action, payload) }
        let (h, _) = try await Self.station(scratch, csms: csms)
        #expect(try await Self.install(h, "CSMSRootCertificate", try scratch.makeCA("csms"))["status"] == "Accepted")
        // The metering sleeps a minute too when nothing is configured: count past its sleep.
        let minute = EVSEDuration.seconds(Int64(60))
        #expect(await settle { h.sleeper.requested.contains(minute) }, "the metering's sleep")
        let meteringSleeps = h.sleeper.requested.filter { $0 == minute }.count
        #expect(try await Self.call(h, "TriggerMessage", ["requestedMessage": "SignChargingStationCertificate"])["status"] == "Accepted")
        #expect(await settle { h.sleeper.requested.filter { $0 == minute }.count > meteringSleeps }, "CertSigningWaitMinimum")
        h.sleeper.release(minute)
        #expect(await settle { csms.payloads("SignCertificate").count == 2 })
        let requests = csms.payloads("SignCertificate")
        #expect(requests[0]["csr"] == requests[1]["csr"], "the same CSR: its key is the pending one")
        #expect(await settle { h.sleeper.requested.contains(.seconds(Int64(120))) }, "the wait doubled")
        guard case .string(let csr)? = requests[1]["csr"] else { Issue.record("no CSR"); return }
        #expect(try await Self.call(h, "CertificateSigned", ["certificateChain": .string(try scratch.sign(csr: csr, ca: "csms"))])["status"] == "Accepted")
        h.sleeper.release(.seconds(Int64(120)))
        for _ in 0..<5_000 { await Task.yield() }
        #expect(csms.payloads("SignCertificate").count == 2, "answered: no more repeats")
    }

    /// A02: the station asks for a new certificate before its own expires, checked at
    /// registration and daily; a 10-day certificate is due 3 1/3 days before its end.
    @Test func theStationCertificateIsRenewedBeforeItExpires() async throws {
        let scratch = try SecurityScratch()
        let csms = FakeCSMS()
        let base = FakeCSMS.acceptEverything()
        csms.setAnswer { action, payload in action == "SignCertificate" ? .success(["status": "Accepted"]) : base(action, payload) }
        let (h, _) = try await Self.station(scratch, csms: csms)
        #expect(try await Self.install(h, "CSMSRootCertificate", try scratch.makeCA("csms"))["status"] == "Accepted")
        #expect(try await Self.call(h, "TriggerMessage", ["requestedMessage": "SignChargingStationCertificate"])["status"] == "Accepted")
        #expect(await settle { csms.payloads("SignCertificate").count == 1 })
        guard case .string(let csr)? = csms.payloads("SignCertificate")[0]["csr"] else { Issue.record("no CSR"); return }
        #expect(try await Self.call(h, "CertificateSigned", ["certificateChain": .string(try scratch.sign(csr: csr, ca: "csms"))])["status"] == "Accepted")
        let daily = EVSEDuration.seconds(Int64(86_400))
        #expect(await settle { h.sleeper.requested.contains(daily) }, "the daily check waits")
        h.clock.advance(seconds: 6 * 86_400 - 3_600)
        h.sleeper.release(daily)
        #expect(await settle { h.sleeper.requested.contains(daily) }, "checked, and waits for the next day")
        #expect(csms.payloads("SignCertificate").count == 1, "6 days into 10: not yet")
        h.clock.advance(seconds: 86_400)
        h.sleeper.release(daily)
        #expect(await settle { csms.payloads("SignCertificate").count == 2 }, "7 days into 10: a new CSR")
        #expect(csms.payloads("SignCertificate")[1]["csr"] != .string(csr), "a new key for the new certificate")
    }

    @Test func basicAuthPasswordIsAcceptedStoredInTheKeyFileAndNeverReadBack() async throws {
        let scratch = try SecurityScratch()
        let (h, pki) = try await Self.station(scratch, securityProfile: 1, deviceModel: { try DeviceModelWiringTests.model($0) })
        let password = "correct-horse-battery-staple"
        let set = try await Self.call(h, "SetVariables", ["setVariableData": [
            ["attributeValue": .string(password), "component": ["name": "SecurityCtrlr"], "variable": ["name": "BasicAuthPassword"]]]])
        #expect(set["setVariableResult"]?[0]?["attributeStatus"] == "Accepted")
        #expect(try pki.authorizationKeys.loadPassword() == Array(password.utf8))
        let get = try await Self.call(h, "GetVariables", ["getVariableData": [DeviceModelWiringTests.variable("SecurityCtrlr", "BasicAuthPassword")]])
        #expect(get["getVariableResult"]?[0]?["attributeStatus"] == "Rejected")
        #expect(await settle { h.csms.payloads("SecurityEventNotification").contains { $0["type"] == "ReconfigurationOfSecurityParameters" } })
        #expect(!"\(h.csms.calls)".contains(password), "the password never goes back to the CSMS")
        let short = try await Self.call(h, "SetVariables", ["setVariableData": [
            ["attributeValue": "short", "component": ["name": "SecurityCtrlr"], "variable": ["name": "BasicAuthPassword"]]]])
        #expect(short["setVariableResult"]?[0]?["attributeStatus"] == "Rejected")
        #expect(try pki.authorizationKeys.loadPassword() == Array(password.utf8), "a refused one changes nothing")
    }
}
