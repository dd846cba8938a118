import Foundation
import HAL
import Locking
import Synchronization
import Testing
@testable import HALLinux

/// A pymodbus TCP server (Tests/Interop/modbus_map_server.py) in a child process: a Modbus
/// peer that is not our code. Stopping it closes its stdin.
final class PythonModbusServer {
    static let repoRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let python = repoRoot.appendingPathComponent(".venv/bin/python")
    static let script = repoRoot.appendingPathComponent("Tests/Interop/modbus_map_server.py")
    static var venvPresent: Bool { FileManager.default.isExecutableFile(atPath: python.path) }
    /// In CI a missing venv is a failure, not a reason to skip.
    static var runs: Bool { venvPresent || ProcessInfo.processInfo.environment["CI"] != nil }

    struct StartError: Error, CustomStringConvertible {
        var description: String
    }

    let process = Process()
    let stdin = Pipe()
    let stdout = Pipe()
    private(set) var port = 0

    init(_ arguments: [String]) throws {
        guard Self.venvPresent else {
            throw StartError(description: "\(Self.python.path) missing: run scripts/test once to create the venv")
        }
        process.executableURL = Self.python
        process.arguments = [Self.script.path] + arguments
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        // Waits for the READY line (not a sleep: it returns as soon as the server listens).
        var text = ""
        let handle = stdout.fileHandleForReading
        while !text.contains("\n") {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("READY port=") }),
              let p = Int(line.dropFirst("READY port=".count)) else {
            process.terminate()
            throw StartError(description: "modbus_map_server.py did not start: \(text)")
        }
        port = p
    }

    func stop() {
        try? stdin.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    /// A port nothing listens on (bound, then released).
    static func unusedPort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) }
        }
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

func tcpBus(_ port: Int, timeout: EVSEDuration = .milliseconds(1_000)) throws -> LinuxModbusBus {
    try LinuxModbusBus(config: ModbusBusConfig(name: "meter-bus", link: .tcp(host: "127.0.0.1", port: port),
                                               responseTimeout: timeout))
}

@Suite("LinuxModbusBus against pymodbus",
       .enabled(if: PythonModbusServer.runs,
                "skipped: no .venv with pymodbus (scripts/test creates it; in CI this test always runs)"))
struct LinuxModbusBusTests {
    @Test("reads holding and input registers over TCP")
    func reads() throws {
        let server = try PythonModbusServer(["--holding", "100=1,2,0xFFFF", "--input", "0=0x4366,0"])
        defer { server.stop() }
        let bus = try tcpBus(server.port)
        #expect(try bus.readRegisters(unit: 1, function: .readHoldingRegisters, address: 100, count: 3) == [1, 2, 0xFFFF])
        #expect(try bus.readRegisters(unit: 1, function: .readInputRegisters, address: 0, count: 2) == [0x4366, 0])
    }

    @Test("writes holding registers")
    func writes() throws {
        let server = try PythonModbusServer(["--holding", "100=0,0"])
        defer { server.stop() }
        let bus = try tcpBus(server.port)
        try bus.writeRegisters(unit: 1, address: 100, values: [7, 8])
        #expect(try bus.readRegisters(unit: 1, function: .readHoldingRegisters, address: 100, count: 2) == [7, 8])
    }

    @Test("a Modbus exception is named, and the link stays up")
    func exception() throws {
        let server = try PythonModbusServer(["--input", "0=1"])
        defer { server.stop() }
        let bus = try tcpBus(server.port)
        do {
            _ = try bus.readRegisters(unit: 1, function: .readInputRegisters, address: 0x5B00, count: 2)
            Issue.record("read of an unserved register succeeded")
        } catch let error as HardwareError {
            #expect(error.kind == .protocolError)
            #expect(error.detail.contains("exception 2 (illegal data address)"), "\(error)")
            #expect(error.detail.contains("23296"), "\(error)")
        }
        #expect(try bus.readRegisters(unit: 1, function: .readInputRegisters, address: 0, count: 1) == [1])
    }

    @Test("requests from many threads are serialized on one link")
    func concurrent() throws {
        let server = try PythonModbusServer(["--holding", "0=10,11,12,13,14,15,16,17"])
        defer { server.stop() }
        let bus = try tcpBus(server.port)
        let results = Mutex<[Int: [UInt16]]>([:])
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            let words = try? bus.readRegisters(unit: 1, function: .readHoldingRegisters, address: UInt16(i), count: 1)
            results.locked { $0[i] = words }
        }
        let got = results.locked { $0 }
        #expect((0..<8).allSatisfy { got[$0] == [UInt16(10 + $0)] }, "\(got)")
    }

    @Test("nothing listening: a clear 'connection refused' naming the endpoint")
    func refused() throws {
        let port = PythonModbusServer.unusedPort()
        let bus = try tcpBus(port)
        do {
            _ = try bus.readRegisters(unit: 1, function: .readInputRegisters, address: 0, count: 1)
            Issue.record("read without a server succeeded")
        } catch let error as HardwareError {
            #expect(error.kind == .disconnected)
            #expect(error.description.contains("127.0.0.1:\(port)"))
            #expect(error.detail.contains("connection refused"))
        }
    }

    @Test("after the server goes away and comes back, the next request reconnects")
    func reconnect() throws {
        let first = try PythonModbusServer(["--input", "0=1"])
        let port = first.port
        let bus = try tcpBus(port)
        #expect(try bus.readRegisters(unit: 1, function: .readInputRegisters, address: 0, count: 1) == [1])
        first.stop()
        #expect(throws: HardwareError.self) {
            try bus.readRegisters(unit: 1, function: .readInputRegisters, address: 0, count: 1)
        }
        let second = try PythonModbusServer(["--input", "0=2", "--port", "\(port)"])
        defer { second.stop() }
        // The first request may still meet the dead socket; by the second, the link is new.
        let again = try (try? bus.readRegisters(unit: 1, function: .readInputRegisters, address: 0, count: 1))
            ?? bus.readRegisters(unit: 1, function: .readInputRegisters, address: 0, count: 1)
        #expect(again == [2])
    }

    @Test("a mute peer times out after the response timeout, with a clear message")
    func timeout() throws {
        let server = try PythonModbusServer(["--silent"])
        defer { server.stop() }
        let bus = try tcpBus(server.port, timeout: .milliseconds(200))
        for _ in 0..<2 {
            do {
                _ = try bus.readRegisters(unit: 3, function: .readInputRegisters, address: 0, count: 2)
                Issue.record("a mute peer answered")
            } catch let error as HardwareError {
                #expect(error.kind == .timeout)
                #expect(error.detail.contains("unit 3"))
                #expect(error.detail.contains("no answer within 200ms"), "\(error)")
            }
        }
    }
}

@Suite("LinuxModbusBus configuration and device errors")
struct LinuxModbusBusConfigTests {
    func rtu(_ device: String, baud: Int = 9600, dataBits: Int = 8, stopBits: Int = 1) throws -> LinuxModbusBus {
        try LinuxModbusBus(config: ModbusBusConfig(
            name: "rs485", link: .rtu(device: device, baud: baud, parity: .even, dataBits: dataBits,
                                      stopBits: stopBits, rs485: false)))
    }

    @Test("impossible serial settings are refused at init")
    func badSettings() {
        #expect(throws: HardwareError.self) { try rtu("/dev/ttyUSB0", baud: 0) }
        #expect(throws: HardwareError.self) { try rtu("/dev/ttyUSB0", dataBits: 9) }
        #expect(throws: HardwareError.self) { try rtu("/dev/ttyUSB0", stopBits: 3) }
        #expect(throws: HardwareError.self) { try tcpBus(70_000) }
    }

    @Test("a missing serial device is named as missing")
    func missingDevice() throws {
        let bus = try rtu("/dev/ttySwiftEVSE-missing")
        do {
            _ = try bus.readRegisters(unit: 1, function: .readInputRegisters, address: 0, count: 2)
            Issue.record("read on a missing device succeeded")
        } catch let error as HardwareError {
            #expect(error.kind == .deviceMissing)
            #expect(error.device == "/dev/ttySwiftEVSE-missing")
            #expect(error.detail.contains("not found"))
        }
    }

    @Test("request sizes outside Modbus limits are refused before touching the wire")
    func sizes() throws {
        let bus = try tcpBus(PythonModbusServer.unusedPort())
        #expect(throws: HardwareError.self) {
            try bus.readRegisters(unit: 1, function: .readHoldingRegisters, address: 0, count: 0)
        }
        #expect(throws: HardwareError.self) {
            try bus.readRegisters(unit: 1, function: .readHoldingRegisters, address: 0, count: 126)
        }
        #expect(throws: HardwareError.self) {
            try bus.readRegisters(unit: 1, function: .readHoldingRegisters, address: 0xFFFF, count: 2)
        }
        #expect(throws: HardwareError.self) { try bus.writeRegisters(unit: 1, address: 0, values: []) }
    }
}
