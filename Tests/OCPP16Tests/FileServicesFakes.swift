import FirmwareUpdate
import FileTransfer
import Foundation
import HAL
import LogUpload
import OCPP16
import OCPP16Messages
import OCPPJSON
import Storage
import Synchronization
import Testing
import TestSupport

/// A charge point with the file services on fakes, registered, its wall clock two minutes
/// ahead of the real time (certificates openssl makes during the test must be valid).
struct FileHarness {
    let scratch: SecurityScratch
    let csms: FakeCSMS
    let station: FakeStation
    let storage: StationStorage
    let sleeper = ManualSleeper()
    let clock: ClockBox
    let transfer: FakeFileTransfer
    let installer: FakeInstaller
    let chargePoint: OCPP16ChargePoint

    init(scratch: SecurityScratch, storage: StationStorage? = nil, station: FakeStation = FakeStation(),
         transfer: FakeFileTransfer = FakeFileTransfer(), installer: FakeInstaller = FakeInstaller(), clock: ClockBox? = nil,
         withInstaller: Bool = true, logLines: [(unixMs: UInt64, line: String)] = [],
         configure: (inout OCPP16FileServices) -> Void = { _ in }) async throws {
        self.scratch = scratch
        csms = FakeCSMS()
        self.station = station
        let storage = try storage ?? StationStorage(database: Database.inMemory())
        self.storage = storage
        self.transfer = transfer
        self.installer = installer
        let clock = clock ?? {
            let c = ClockBox()
            // A little ahead of the real time: certificates the test makes after this are already valid.
            c.set(UInt64(Date().timeIntervalSince1970 * 1_000) + 120_000)
            return c
        }()
        self.clock = clock
        var files = OCPP16FileServices(transfer: transfer, firmwareDirectory: scratch.path("firmware"),
                                       uploadDirectory: scratch.path("uploads"), installer: withInstaller ? installer : nil)
        files.defaultRetries = 0
        files.sources = DiagnosticsSources(
            recentLogLines: { logLines },
            files: { [(name: "board.yaml", path: scratch.path("board.yaml")), (name: "gone.log", path: scratch.path("gone.log"))] })
        configure(&files)
        chargePoint = OCPP16ChargePoint(identity: .init(vendor: "SwiftEVSE", model: "Test", serialNumber: "SN-4711", firmwareVersion: "1.0"),
                                        sender: csms, station: station, storage: storage, numberOfConnectors: 2,
                                        unixMs: { clock.now() }, sleep: sleeper.sleeper, files: files)
        let service = try OCPP16SecuritySetup(profile: .unsecured, dataDirectory: scratch.directory)
            .makeService(store: storage.config, unixMs: clock.now())
        await chargePoint.useSecurity(service)
        await chargePoint.start()
        chargePoint.connectionUp()
        #expect(await OCPP16Tests.settle { await chargePoint.registration == .accepted })
    }

    /// The daemon restarted: this charge point stops, a new one runs on the same database and
    /// files, talking to a fresh CSMS connection.
    func restarted(withInstaller: Bool = true) async throws -> FileHarness {
        await chargePoint.stop()
        return try await FileHarness(scratch: scratch, storage: storage, transfer: transfer, installer: installer,
                                     clock: clock, withInstaller: withInstaller)
    }

    func call(_ action: String, _ payload: JSONValue) async -> JSONValue? {
        try? await chargePoint.handle(action: action, payload: payload).get()
    }

    func statuses(_ action: String) -> [String] {
        csms.payloads(action).compactMap { $0["status"]?.stringValue }
    }

    /// Lets the tasks run, waking sleepers of the given durations between rounds, until
    /// `condition` holds.
    func settle(releasing durations: [EVSEDuration], _ condition: () -> Bool) async -> Bool {
        await eventually(yieldsFirst: 20_000) {
            if condition() { return true }
            for d in durations { sleeper.release(d) }
            return false
        }
    }

    /// A signing certificate from `root` (an openssl-made CA) and the base64 signature of
    /// `image` made with `openssl dgst -sha256 -sign`.
    func signed(_ image: [UInt8], by signer: String, root: String) throws -> (certificate: String, signature: String) {
        if !FileManager.default.fileExists(atPath: scratch.path("\(signer).pem")) {
            try scratch.openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "\(signer).key",
                                 "-out", "\(signer).csr", "-subj", "/CN=\(signer)"])
            try scratch.write("\(signer).ext", "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n")
            try scratch.openssl(["x509", "-req", "-in", "\(signer).csr", "-CA", "\(root).pem", "-CAkey", "\(root).key",
                                 "-CAcreateserial", "-days", "10", "-sha256", "-extfile", "\(signer).ext", "-out", "\(signer).pem"])
        }
        try Data(image).write(to: URL(fileURLWithPath: scratch.path("image.bin")))
        try scratch.openssl(["dgst", "-sha256", "-sign", "\(signer).key", "-out", "image.sig", "image.bin"])
        let signature = try Data(contentsOf: URL(fileURLWithPath: scratch.path("image.sig"))).base64EncodedString()
        return (try scratch.read("\(signer).pem"), signature)
    }
}

extension JSONValue {
    var intValue: Int? { int64Value.map { Int($0) } }
}

/// The members of a ustar archive: name → contents (a reader of our own, for the tests; the
/// interop tests open it with Python's tarfile).
func tarMembers(_ bytes: [UInt8]) -> [String: String] {
    var out: [String: String] = [:]
    var offset = 0
    while offset + 512 <= bytes.count {
        let header = Array(bytes[offset..<offset + 512])
        if header.allSatisfy({ $0 == 0 }) { break }
        let name = String(decoding: header[0..<100].prefix { $0 != 0 }, as: UTF8.self)
        let sizeText = String(decoding: header[124..<136].prefix { $0 != 0 && $0 != 32 }, as: UTF8.self)
        let size = Int(sizeText, radix: 8) ?? 0
        let start = offset + 512
        out[name] = String(decoding: bytes[start..<min(bytes.count, start + size)], as: UTF8.self)
        offset = start + (size + 511) / 512 * 512
    }
    return out
}
