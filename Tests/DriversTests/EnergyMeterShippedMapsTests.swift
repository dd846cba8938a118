import Foundation
import HAL
import HALFake
import Testing
@testable import Drivers

/// Reads the shipped `Board/meters/*.yaml` files with a deliberately tiny reader for exactly
/// their flat format, until the board loader (BoardDescription) is merged; then these tests
/// should load the maps through it instead.
enum ShippedMeterMaps {
    struct ParseError: Error, CustomStringConvertible {
        var description: String
    }

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

    static func load(_ url: URL) throws -> MeterRegisterMap {
        let text = try String(contentsOf: url, encoding: .utf8)
        let file = url.lastPathComponent
        var top: [String: String] = [:]
        var registerLines: [(Int, String, String)] = []
        var inRegisters = false
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNo = index + 1
            var line = String(rawLine)
            if let hash = line.firstIndex(of: "#") { line = String(line[..<hash]) }
            guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            let indented = line.first == " "
            guard let colon = line.firstIndex(of: ":") else {
                throw ParseError(description: "\(file):\(lineNo): expected key: value")
            }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if !indented {
                inRegisters = key == "registers"
                if !inRegisters { top[key] = value }
            } else if inRegisters {
                registerLines.append((lineNo, key, value))
            } else {
                throw ParseError(description: "\(file):\(lineNo): unexpected indented line")
            }
        }
        let defaultOrder = try wordOrder(top["word_order"] ?? "high-first", file, 0)
        var registers: [Measurand: RegisterDefinition] = [:]
        for (lineNo, key, value) in registerLines {
            guard let measurand = Measurand(rawValue: key) else {
                throw ParseError(description: "\(file):\(lineNo): \(key) is not a measurand")
            }
            guard value.hasPrefix("{"), value.hasSuffix("}") else {
                throw ParseError(description: "\(file):\(lineNo): expected {function:, address:, type:}")
            }
            var fields: [String: String] = [:]
            for pair in value.dropFirst().dropLast().split(separator: ",") {
                let kv = pair.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard kv.count == 2 else { throw ParseError(description: "\(file):\(lineNo): bad field \(pair)") }
                fields[kv[0]] = kv[1]
            }
            let allowed: Set<String> = ["function", "address", "type", "scale", "word_order"]
            if let unknown = Set(fields.keys).subtracting(allowed).first {
                throw ParseError(description: "\(file):\(lineNo): unknown field \(unknown)")
            }
            guard let f = fields["function"].flatMap(UInt8.init).flatMap(ModbusFunction.init(rawValue:)) else {
                throw ParseError(description: "\(file):\(lineNo): function must be 3 or 4")
            }
            guard let a = fields["address"], let address = a.hasPrefix("0x") ? UInt16(a.dropFirst(2), radix: 16) : UInt16(a) else {
                throw ParseError(description: "\(file):\(lineNo): address must be 0…0xFFFF")
            }
            guard let type = fields["type"].flatMap(RegisterType.init(rawValue:)) else {
                throw ParseError(description: "\(file):\(lineNo): unknown type \(fields["type"] ?? "(none)")")
            }
            let scale = try fields["scale"].map { s in
                guard let v = Double(s), v.isFinite, v != 0 else {
                    throw ParseError(description: "\(file):\(lineNo): scale \(s) is not a non-zero number")
                }
                return v
            } ?? 1
            let order = try fields["word_order"].map { try wordOrder($0, file, lineNo) } ?? defaultOrder
            registers[measurand] = RegisterDefinition(function: f, address: address, type: type, wordOrder: order, scale: scale)
        }
        guard let manufacturer = top["manufacturer"], let model = top["model"] else {
            throw ParseError(description: "\(file): manufacturer and model are required")
        }
        return MeterRegisterMap(name: url.deletingPathExtension().lastPathComponent,
                                manufacturer: manufacturer, model: model, registers: registers)
    }

    static func wordOrder(_ s: String, _ file: String, _ line: Int) throws -> WordOrder {
        guard let o = WordOrder(rawValue: s) else {
            throw ParseError(description: "\(file):\(line): word_order must be high-first or low-first")
        }
        return o
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
