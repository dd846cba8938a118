import Testing
import Drivers
@testable import BoardDescription

/// The `grid:` section: the meter at the connection point, the margin below the fuse and the
/// fallback current, and each mistake an installer can make in it.
extension BoardLoaderErrorTests {
    static let gridHeader = """
    grid:
      max_current: 50
      phases: 3
    """

    func withGrid(_ extra: String) throws -> String {
        try editOnce(Self.simBoard, Self.gridHeader, Self.gridHeader + "\n" + extra)
    }

    @Test func gridMeterMarginAndFallbackParse() throws {
        let board = try load(try withGrid("  meter: {bus: meters, unit: 10, map: em340, poll_ms: 500}\n  margin: 3\n  fallback_current: 10"))
        let meter = try #require(board.grid.meter)
        #expect(meter.bus == "meters")
        #expect(meter.unit == 10)
        #expect(meter.map.name == "em340")
        #expect(meter.pollInterval == .milliseconds(500))
        #expect(board.grid.marginAmps == 3)
        #expect(board.grid.fallbackCurrentAmps == 10)
        #expect(board.summary.contains("grid meter: em340 on meters unit 10, margin 3 A, fallback 10 A per connector"))
    }

    @Test func gridWithoutMeterKeepsDefaults() throws {
        let board = try load(Self.simBoard)
        #expect(board.grid.meter == nil)
        #expect(board.grid.marginAmps == GridConnection.defaultMarginAmps)
        #expect(board.grid.fallbackCurrentAmps == GridConnection.defaultFallbackCurrentAmps)
    }

    @Test func gridMeterAcceptsEveryShippedMap() throws {
        for map in ["sdm630", "sdm72d-m", "sdm120", "abb-b23", "abb-b24", "em340"] {
            let board = try load(try withGrid("  meter: {bus: meters, unit: 10, map: \(map)}"))
            #expect(board.grid.meter?.map.name == map)
        }
    }

    @Test func gridMeterOnABusThatDoesNotExist() throws {
        let text = try withGrid("  meter: {bus: rs485-2, unit: 10, map: em340}")
        expectError(text, field: "grid.meter.bus", line: try line(of: "rs485-2", in: text),
                    "no Modbus bus named \"rs485-2\" (declared: meters)")
    }

    @Test func gridMeterOnABoardWithoutModbus() throws {
        let text = try edit(Self.linuxBoard, "grid: {max_current: 32, phases: 3}",
                            "grid: {max_current: 32, phases: 3, meter: {bus: rs485-1, unit: 1, map: sdm630}}")
        expectError(text, field: "grid.meter.bus", line: 3, "none declared: add a modbus: section")
    }

    @Test func gridMeterSharingAUnitWithAConnectorMeter() throws {
        let text = try withGrid("  meter: {bus: meters, unit: 1, map: em340}")
        expectError(text, field: "connectors[0].meter.unit", line: try line(of: "unit: 1,", in: text, after: "connectors:"),
                    "unit 1 on bus meters is already used by grid.meter")
    }

    @Test func gridMeterWithAnUnknownMap() throws {
        let text = try withGrid("  meter: {bus: meters, unit: 10, map: sdm999}")
        expectError(text, field: "grid.meter.map", line: try line(of: "sdm999", in: text), "no meter map \"sdm999\"")
    }

    @Test func gridMarginOfZero() throws {
        let text = try withGrid("  margin: 0")
        expectError(text, field: "grid.margin", line: try line(of: "margin: 0", in: text), "must be above 0 A and below the fuse")
    }

    @Test func gridMarginOfTheWholeFuse() throws {
        for margin in ["50", "60"] {
            let text = try withGrid("  margin: \(margin)")
            expectError(text, field: "grid.margin", line: try line(of: "margin:", in: text),
                        "\(margin) A: the margin must be above 0 A and below the fuse (grid.max_current: 50 A)")
        }
    }

    @Test func gridMarginNegative() throws {
        let text = try withGrid("  margin: -2")
        expectError(text, field: "grid.margin", line: try line(of: "margin:", in: text), "expected 0…4000 A, found -2")
    }

    @Test func gridFallbackThatCannotBeSignalled() throws {
        let text = try withGrid("  fallback_current: 4")
        expectError(text, field: "grid.fallback_current", line: try line(of: "fallback_current", in: text), "cannot be signalled")
    }

    @Test func gridFallbackAboveTheFuse() throws {
        let text = try edit(Self.linuxBoard, "grid: {max_current: 32, phases: 3}",
                            "grid: {max_current: 32, phases: 3, fallback_current: 40}")
        expectError(text, field: "grid.fallback_current", line: 3, "above the fuse")
    }

    @Test func gridFallbackOfZeroMeansNoCharging() throws {
        let board = try load(try withGrid("  fallback_current: 0"))
        #expect(board.grid.fallbackCurrentAmps == 0)
    }

    @Test func theGridMeterHasOnePace() throws {
        let board = try load(try withGrid("  meter: {bus: meters, unit: 10, map: em340, poll_ms: 500}"))
        #expect(board.grid.meter?.idlePollInterval == .milliseconds(500))
        // Its readings steer every session: no idle pace to configure.
        let text = try withGrid("  meter: {bus: meters, unit: 10, map: em340, idle_poll_ms: 5000}")
        expectError(text, field: "grid.meter.idle_poll_ms", line: try line(of: "idle_poll_ms", in: text), "unknown key")
    }

    @Test func gridUnknownField() throws {
        let text = try withGrid("  fuse: 63")
        expectError(text, field: "grid.fuse", line: try line(of: "fuse: 63", in: text), "unknown key")
    }
}
