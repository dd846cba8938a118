import Testing
import Drivers
import HAL
@testable import BoardDescription

@Suite("MeterMapLoader")
struct MeterMapLoaderTests {
    let good = """
    manufacturer: Eastron
    model: SDM630
    word_order: high-first
    registers:
      voltage.l1:           {function: 4, address: 0x0000, type: float32}
      energy.active.import: {function: 4, address: 0x0048, type: float32, scale: 1000}
      frequency:            {function: 3, address: 70, type: uint16, scale: 0.01, word_order: low-first}
    """

    func error(_ text: String) -> BoardFileError? {
        do {
            _ = try MeterMapLoader.parse(text, file: "m.yaml", name: "m")
            return nil
        } catch {
            return error
        }
    }

    @Test func loadsRegisters() throws {
        let map = try MeterMapLoader.parse(good, file: "m.yaml", name: "sdm630")
        #expect(map.name == "sdm630")
        #expect(map.manufacturer == "Eastron")
        #expect(map.model == "SDM630")
        #expect(map.registers.count == 3)
        #expect(map.registers[.voltageL1] == RegisterDefinition(function: .readInputRegisters, address: 0, type: .float32))
        #expect(map.registers[.energyImported]?.scale == 1000)
        #expect(map.registers[.energyImported]?.address == 0x48)
        #expect(map.registers[.frequency] == RegisterDefinition(function: .readHoldingRegisters, address: 70, type: .uint16,
                                                                wordOrder: .lowFirst, scale: 0.01))
    }

    @Test func fileWordOrderIsTheDefault() throws {
        let map = try MeterMapLoader.parse("""
        manufacturer: Carlo Gavazzi
        model: EM340
        word_order: low-first
        registers:
          voltage.l1: {function: 4, address: 0, type: int32, scale: 0.1}
        """, file: "m.yaml", name: "em340")
        #expect(map.registers[.voltageL1]?.wordOrder == .lowFirst)
    }

    @Test(arguments: [
        ("model: X\nregisters:\n  frequency: {function: 4, address: 1, type: uint16}\n", 1, "manufacturer", "required field missing"),
        ("manufacturer: A\nmodel: X\nregisters:\n  volts: {function: 4, address: 1, type: uint16}\n", 4, "registers.volts", "unknown measurand"),
        ("manufacturer: A\nmodel: X\nregisters:\n  frequency: {function: 6, address: 1, type: uint16}\n", 4, "registers.frequency.function", "expected 3…4, found 6"),
        ("manufacturer: A\nmodel: X\nregisters:\n  frequency: {function: 4, address: 1, type: float64}\n", 4, "registers.frequency.type", "expected one of int16, uint16"),
        ("manufacturer: A\nmodel: X\nregisters:\n  frequency: {function: 4, address: 0x10000, type: uint16}\n", 4, "registers.frequency.address", "expected 0…65535"),
        ("manufacturer: A\nmodel: X\nregisters:\n  frequency: {function: 4, address: 0xFFFF, type: uint32}\n", 4, "registers.frequency.address", "runs past"),
        ("manufacturer: A\nmodel: X\nregisters:\n  frequency: {function: 4, address: 1, type: uint16, scale: x}\n", 4, "registers.frequency.scale", "expected a number"),
        ("manufacturer: A\nmodel: X\nregisters:\n  frequency: {function: 4, address: 1, type: uint16, gain: 2}\n", 4, "registers.frequency.gain", "unknown key"),
        ("manufacturer: A\nmodel: X\nword_order: middle\nregisters:\n  frequency: {function: 4, address: 1, type: uint16}\n", 3, "word_order", "high-first, low-first"),
        ("manufacturer: A\nmodel: X\nregisters: {}\n", 3, "registers", "at least one register"),
        ("manufacturer: A\nmodel: X\nregisters:\n  frequency: {address: 1, type: uint16}\n", 4, "registers.frequency.function", "required field missing"),
        ("manufacturer: A\nmodel: X\ncolor: red\nregisters:\n  frequency: {function: 4, address: 1, type: uint16}\n", 3, "color", "unknown key"),
    ] as [(String, Int, String, String)])
    func rejectsBadMaps(text: String, line: Int, field: String, fragment: String) throws {
        let e = try #require(error(text))
        #expect(e.line == line)
        #expect(e.field == field)
        #expect(e.message.contains(fragment), "\(e)")
        #expect(e.description.hasPrefix("m.yaml:\(line): \(field): "))
    }

    @Test func missingFileIsNamed() throws {
        #expect(throws: BoardFileError.self) { try MeterMapLoader.load(path: "/nonexistent/x.yaml") }
        do {
            _ = try MeterMapLoader.load(path: "/nonexistent/x.yaml")
        } catch {
            #expect(error.description.hasPrefix("/nonexistent/x.yaml: cannot read the file"))
        }
    }

    @Test func locateByNameOrPath() {
        #expect(MeterMapLoader.locate("nope", metersDirectory: "/nonexistent") == nil)
        #expect(MeterMapLoader.locate("/etc/hostname", metersDirectory: "/nonexistent") == "/etc/hostname")
    }
}
