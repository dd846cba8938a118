import Foundation
import HAL
import HALFake
import Testing
import BoardDescription
@testable import Drivers

/// The shipped `Board/meters/*.yaml` files, served by a fake Modbus bus and read back through
/// the real loader and the EnergyMeter driver.
enum ShippedMeterMaps {
    static var directory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Board/meters")
    }

    static func files() throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "yaml" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    /// Through the firmware's own loader, so a map that the board loader would reject fails here.
    static func load(_ url: URL) throws -> MeterRegisterMap {
        try MeterMapLoader.load(path: url.path)
    }

    /// What a test meter shows, in the firmware's units (negative only where the type can be).
    static func nominal(_ m: Measurand, signed: Bool) -> Double {
        switch m {
        case .voltageL1: return 230.1
        case .voltageL2: return 231.2
        case .voltageL3: return 229.8
        case .currentL1: return 16.125
        case .currentL2: return 15.5
        case .currentL3: return 0.25
        case .activePowerL1: return 3701.5
        case .activePowerL2: return 3600.0
        case .activePowerL3: return signed ? -150.5 : 150.5
        case .activePowerTotal: return 7151.0
        case .energyImported: return 12_345_600
        case .energyExported: return 1_200
        case .frequency: return 50.0
        case .powerFactor: return 0.987
        }
    }

    static func isSigned(_ t: RegisterType) -> Bool { [.int16, .int32, .float32].contains(t) }
}

@Suite("Shipped meter maps")
struct EnergyMeterShippedMapsTests {
    @Test("the shipped maps are the expected set")
    func inventory() throws {
        let names = try ShippedMeterMaps.files().map { $0.deletingPathExtension().lastPathComponent }
        for required in ["sdm630", "sdm72d-m", "sdm120", "abb-b23", "abb-b24", "em340"] {
            #expect(names.contains(required), "Board/meters/\(required).yaml missing")
        }
    }

    @Test("every shipped map names valid measurands, functions, types and word orders")
    func valid() throws {
        for url in try ShippedMeterMaps.files() {
            let map = try ShippedMeterMaps.load(url)
            #expect(map.registers[.energyImported] != nil, "\(url.lastPathComponent) has no import energy")
            #expect(map.registers[.voltageL1] != nil, "\(url.lastPathComponent) has no L1 voltage")
            #expect(throws: Never.self) { try map.readRequests() }
        }
    }

    @Test("every shipped map decodes what a meter serves by it")
    func decodeEveryMap() throws {
        for url in try ShippedMeterMaps.files() {
            let map = try ShippedMeterMaps.load(url)
            let bus = FakeBackend().modbusBus(map.name)
            var expected: [Measurand: (Double, Double)] = [:]
            // Two measurands may share a register (SDM120: total power is L1 power).
            var served: [String: Double] = [:]
            for (m, def) in map.registers.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                let key = "\(def.function.rawValue):\(def.address)"
                let value = served[key] ?? ShippedMeterMaps.nominal(m, signed: ShippedMeterMaps.isSigned(def.type))
                served[key] = value
                bus.setRegisters(unit: 7, function: def.function, address: def.address, try RegisterEncoder.encode(value, def))
                let tolerance = def.type == .float32 ? max(abs(value) * 1e-6, 1e-6) : abs(def.scale) / 2 + 1e-9
                expected[m] = (value, tolerance)
            }
            let meter = EnergyMeter(bus: bus, unit: 7, map: map)
            let sample = try meter.read(at: MonotonicInstant(microseconds: 42))
            #expect(Set(sample.values.keys) == Set(map.registers.keys), "\(map.name)")
            for (m, (value, tolerance)) in expected {
                let got = try #require(sample[m], "\(map.name) \(m.rawValue)")
                #expect(abs(got - value) <= tolerance, "\(map.name) \(m.rawValue): \(got) ≠ \(value)")
            }
            #expect(bus.requestCount == meter.plannedRequests.count)
        }
    }
}
