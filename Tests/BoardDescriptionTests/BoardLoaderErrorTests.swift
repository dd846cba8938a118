import Testing
import Drivers
@testable import BoardDescription

/// One test per kind of board-file mistake. Each asserts the message names the file, the line
/// the engineer has to fix and the dotted field path.
@Suite("BoardLoader errors")
struct BoardLoaderErrorTests {
    static func connector(_ id: Int) -> String {
        """
          - id: \(id)
            type: socket
            phases: 3
            max_current: 32
            pilot:
              pwm:  {name: c\(id).cp.pwm}
              high: {name: c\(id).cp.high}
              low:  {name: c\(id).cp.low}
            proximity: {adc: {name: c\(id).pp}, pull_up_ohms: 1000, supply_volts: 5}
            lock:
              drive: {name: c\(id).lock.drive}
              feedback: {name: c\(id).lock.feedback}
            contactor:
              coil: {name: c\(id).contactor.coil}
              feedback: {name: c\(id).contactor.feedback}
            meter: {bus: meters, unit: \(id), map: sdm630}

        """
    }

    static let simBoard = """
    model: Test
    backend: sim
    grid:
      max_current: 50
      phases: 3
    modbus:
      meters: {tcp: 127.0.0.1:5020}
    connectors:

    """ + connector(1) + connector(2) + """
    station:
      rfid:
        wiegand: {d0: {name: rfid.d0}, d1: {name: rfid.d1}, bits: 26}
      display:
        hd44780: {i2c: sim, address: 0x27, columns: 20, rows: 4}
      estop: {name: estop}

    """

    static let linuxBoard = """
    model: Test linux
    backend: linux
    grid: {max_current: 32, phases: 3}
    connectors:
      - id: 1
        type: cable
        cable_rating: 32
        phases: 3
        max_current: 32
        pilot:
          pwm:  {chip: 0, channel: 1}
          high: {iio: iio:device0, channel: voltage0, gain: 7.5, offset: -12}
        contactor:
          coil: {chip: gpiochip0, line: 17}
          feedback: {chip: gpiochip0, line: 27, active_low: true, debounce_ms: 10}
    station:
      estop: {chip: gpiochip0, line: 4}

    """

    func load(_ text: String) throws(BoardFileError) -> BoardDescription {
        try BoardLoader.parse(text, file: "b.yaml", metersDirectory: Repo.metersDirectory)
    }

    /// Replaces `old` (which must occur) by `new` in `base`.
    func edit(_ base: String, _ old: String, _ new: String) throws -> String {
        try replace(base, old, new, all: true)
    }

    func editOnce(_ base: String, _ old: String, _ new: String) throws -> String {
        try replace(base, old, new, all: false)
    }

    func replace(_ base: String, _ old: String, _ new: String, all: Bool) throws -> String {
        let b = Array(base), o = Array(old)
        var out: [Character] = []
        var i = 0
        var count = 0
        while i < b.count {
            if (all || count == 0), i + o.count <= b.count, Array(b[i..<i + o.count]) == o {
                out += Array(new)
                i += o.count
                count += 1
            } else {
                out.append(b[i])
                i += 1
            }
        }
        try #require(count > 0, "test bug: \"\(old)\" not in the base board")
        return String(out)
    }

    /// 1-based line of the first line containing `marker` (after `after` when given).
    func line(of marker: String, in text: String, after: String? = nil) throws -> Int {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        var start = 0
        if let after { start = try #require(lines.firstIndex { $0.contains(after) }) }
        let i = try #require(lines[start...].firstIndex { $0.contains(marker) }, "marker \(marker)")
        return i + 1
    }

    func expectError(_ text: String, field: String, line: Int, _ fragment: String,
                     sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try load(text)
            Issue.record("board loaded but should fail with \(field): \(fragment)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.file == "b.yaml", sourceLocation: sourceLocation)
            #expect(error.line == line, "\(error)", sourceLocation: sourceLocation)
            #expect(error.field == field, "\(error)", sourceLocation: sourceLocation)
            #expect(error.message.contains(fragment), "\(error)", sourceLocation: sourceLocation)
            let prefix = field.isEmpty ? "b.yaml:\(line): " : "b.yaml:\(line): \(field): "
            #expect(error.description.hasPrefix(prefix), "\(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func baseBoardsLoad() throws {
        let sim = try load(Self.simBoard)
        #expect(sim.connectors.map(\.id) == [1, 2])
        #expect(sim.backend == .sim(host: "127.0.0.1", port: 8089))
        let linux = try load(Self.linuxBoard)
        #expect(linux.connectors[0].kind == .fixedCable(ratingAmps: 32))
        #expect(linux.connectors[0].contactor.feedback?.activeLow == true)
        #expect(linux.connectors[0].contactor.feedback?.debounce == .milliseconds(10))
        #expect(linux.connectors[0].pilot.high.calibration == .init(gain: 7.5, offset: -12))
    }

    @Test func anLEDChannelIsALineOrAPWMChannel() throws {
        let text = try edit(Self.linuxBoard, "  estop: {chip: gpiochip0, line: 4}\n",
                            "  estop: {chip: gpiochip0, line: 4}\n  led:\n    red: {pwm: {chip: 1, channel: 0, polarity: inversed}}\n    green: {chip: gpiochip0, line: 5}\n")
        let led = try #require(try load(text).station.led)
        #expect(led.red == .pwm(PWMRef(address: .sysfs(chip: 1, channel: 0), polarity: .inversed, line: try line(of: "red: {pwm", in: text))))
        guard case let .gpio(green)? = led.green else { Issue.record("green is a line"); return }
        #expect(green.address == .chipOffset(chip: "gpiochip0", offset: 5))
        let entry = try #require(try load(text).hardwareMap.first { $0.part == "station.led.red" })
        #expect(entry.kindLabel == "pwm")
    }

    @Test func anLEDPWMChannelTakesNothingBesideIt() throws {
        let text = try edit(Self.linuxBoard, "  estop: {chip: gpiochip0, line: 4}\n",
                            "  estop: {chip: gpiochip0, line: 4}\n  led:\n    red: {pwm: {chip: 1, channel: 0}, active_low: true}\n")
        expectError(text, field: "station.led.red.active_low", line: try line(of: "red: {pwm", in: text), "unknown")
        let named = try edit(Self.linuxBoard, "  estop: {chip: gpiochip0, line: 4}\n",
                             "  estop: {chip: gpiochip0, line: 4}\n  led:\n    red: {pwm: {name: led.pwm}}\n")
        expectError(named, field: "station.led.red.pwm.name", line: try line(of: "red: {pwm", in: named), "only on the sim backend")
    }

    @Test func anLEDChannelCanBeAnLEDClassDevice() throws {
        let text = try edit(Self.linuxBoard, "  estop: {chip: gpiochip0, line: 4}\n",
                            "  estop: {chip: gpiochip0, line: 4}\n  led:\n    blue: {led_class: {name: \"evse:blue:status\"}}\n")
        let board = try load(text)
        let led = try #require(board.station.led)
        #expect(led.blue == .kernel(KernelLEDRef(address: .sysfs("evse:blue:status"), line: try line(of: "blue: {led_class", in: text))))
        let entry = try #require(board.hardwareMap.first { $0.part == "station.led.blue" })
        #expect(entry.kindLabel == "led" && entry.detail == "leds/evse:blue:status")
    }

    @Test func anLEDClassDeviceIsANameUnderSysClassLedsUsedOnce() throws {
        let path = try edit(Self.linuxBoard, "  estop: {chip: gpiochip0, line: 4}\n",
                            "  estop: {chip: gpiochip0, line: 4}\n  led:\n    blue: {led_class: {name: /sys/class/leds/blue}}\n")
        expectError(path, field: "station.led.blue.led_class.name", line: try line(of: "blue: {led_class", in: path), "no slashes")
        let twice = try edit(Self.linuxBoard, "  estop: {chip: gpiochip0, line: 4}\n",
                             "  estop: {chip: gpiochip0, line: 4}\n  led:\n    blue: {led_class: {name: status}}\n    green: {led_class: {name: status}}\n")
        // Read red, green, blue: blue comes second.
        expectError(twice, field: "station.led.blue.led_class", line: try line(of: "blue: {led_class", in: twice), "already used by station.led.green.led_class")
        let extra = try edit(Self.linuxBoard, "  estop: {chip: gpiochip0, line: 4}\n",
                             "  estop: {chip: gpiochip0, line: 4}\n  led:\n    blue: {led_class: {name: status, max: 255}}\n")
        expectError(extra, field: "station.led.blue.led_class.max", line: try line(of: "blue: {led_class", in: extra), "unknown")
    }

    @Test func unknownTopLevelKey() throws {
        let text = Self.simBoard + "colour: red\n"
        expectError(text, field: "colour", line: try line(of: "colour", in: text), "unknown key (expected one of: model, backend")
    }

    @Test func aPolledBoardGivesItsPilotSampleRate() throws {
        let high = "      high: {iio: iio:device0, channel: voltage0, gain: 7.5, offset: -12}\n"
        #expect(try load(Self.linuxBoard).connectors[0].pilot.sampleRateHz == nil, "optional")
        let text = try editOnce(Self.linuxBoard, high, high + "      sample_rate_hz: 1000\n")
        #expect(try load(text).connectors[0].pilot.sampleRateHz == 1_000)
        let fast = try editOnce(Self.linuxBoard, high, high + "      sample_rate_hz: 20000\n")
        expectError(fast, field: "connectors[0].pilot.sample_rate_hz", line: try line(of: "sample_rate_hz", in: fast), "expected 50…2000 Hz, found 20000")
        let word = try editOnce(Self.linuxBoard, high, high + "      sample_rate_hz: often\n")
        expectError(word, field: "connectors[0].pilot.sample_rate_hz", line: try line(of: "sample_rate_hz", in: word), "expected a number (Hz)")
    }

    @Test func unknownNestedKey() throws {
        let text = try editOnce(Self.simBoard, "high: {name: c1.cp.high}", "high: {name: c1.cp.high, gian: 2}")
        expectError(text, field: "connectors[0].pilot.high.gian", line: try line(of: "gian", in: text), "unknown key")
    }

    @Test func wrongTypeForCurrent() throws {
        let text = try editOnce(Self.simBoard, "max_current: 32", "max_current: lots")
        expectError(text, field: "connectors[0].max_current", line: try line(of: "lots", in: text), "expected a current in A, found \"lots\"")
    }

    @Test func wrongTypeForBoolean() throws {
        let text = try edit(Self.linuxBoard, "active_low: true", "active_low: maybe")
        expectError(text, field: "connectors[0].contactor.feedback.active_low", line: try line(of: "maybe", in: text), "expected true or false")
    }

    @Test func wrongTypeMappingExpected() throws {
        let text = try edit(Self.linuxBoard, "grid: {max_current: 32, phases: 3}", "grid: 32")
        expectError(text, field: "grid", line: 3, "expected a mapping of fields, found the number 32")
    }

    @Test func missingRequiredField() throws {
        let text = try editOnce(Self.simBoard, "    phases: 3\n", "")
        expectError(text, field: "connectors[0].phases", line: try line(of: "- id: 1", in: text), "required field missing: expected 1 or 3")
    }

    @Test func missingTopLevelSection() throws {
        let text = try edit(Self.linuxBoard, "grid: {max_current: 32, phases: 3}\n", "")
        expectError(text, field: "grid", line: 1, "required field missing")
    }

    @Test func gpioLineUsedTwiceByName() throws {
        let text = try editOnce(Self.simBoard, "feedback: {name: c1.contactor.feedback}", "feedback: {name: c1.lock.drive}")
        let first = try line(of: "drive: {name: c1.lock.drive}", in: text)
        expectError(text, field: "connectors[0].contactor.feedback", line: try line(of: "feedback: {name: c1.lock.drive}", in: text),
                    "gpio line \"c1.lock.drive\" is already used by connectors[0].lock.drive (line \(first))")
    }

    @Test func gpioLineUsedTwiceByChipAndOffset() throws {
        let text = try edit(Self.linuxBoard, "estop: {chip: gpiochip0, line: 4}", "estop: {chip: /dev/gpiochip0, line: 17}")
        expectError(text, field: "station.estop", line: try line(of: "estop", in: text),
                    "gpio gpiochip0 line 17 is already used by connectors[0].contactor.coil (line 14)")
    }

    @Test func pwmChannelReused() throws {
        let text = try edit(Self.simBoard, "pwm:  {name: c2.cp.pwm}", "pwm:  {name: c1.cp.pwm}")
        expectError(text, field: "connectors[1].pilot.pwm", line: try line(of: "pwm:  {name: c1.cp.pwm}", in: text, after: "- id: 2"),
                    "pwm \"c1.cp.pwm\" is already used by connectors[0].pilot.pwm")
    }

    @Test func adcChannelReused() throws {
        let text = try edit(Self.simBoard, "low:  {name: c1.cp.low}", "low:  {name: c1.cp.high}")
        expectError(text, field: "connectors[0].pilot.low", line: try line(of: "low:  {name: c1.cp.high}", in: text),
                    "adc \"c1.cp.high\" is already used by connectors[0].pilot.high")
    }

    @Test func meterMapDoesNotExist() throws {
        let text = try editOnce(Self.simBoard, "map: sdm630", "map: sdm999")
        expectError(text, field: "connectors[0].meter.map", line: try line(of: "sdm999", in: text), "no meter map \"sdm999\"")
    }

    @Test func meterBusNotDeclared() throws {
        let text = try editOnce(Self.simBoard, "bus: meters", "bus: rs485-9")
        expectError(text, field: "connectors[0].meter.bus", line: try line(of: "rs485-9", in: text),
                    "no Modbus bus named \"rs485-9\" (declared: meters)")
    }

    @Test func meterUnitUsedTwice() throws {
        let text = try edit(Self.simBoard, "unit: 2", "unit: 1")
        expectError(text, field: "connectors[1].meter.unit", line: try line(of: "meter:", in: text, after: "- id: 2"),
                    "unit 1 on bus meters is already used by connectors[0].meter")
    }

    @Test func aConnectorMeterIsReadSlowerWhileIdle() throws {
        let board = try load(Self.simBoard)
        #expect(board.connectors[0].meter?.pollInterval == .milliseconds(1_000))
        #expect(board.connectors[0].meter?.idlePollInterval == MeterDescription.defaultIdlePollInterval)
        let set = try load(try editOnce(Self.simBoard, "map: sdm630}", "map: sdm630, poll_ms: 500, idle_poll_ms: 2000}"))
        #expect(set.connectors[0].meter?.pollInterval == .milliseconds(500))
        #expect(set.connectors[0].meter?.idlePollInterval == .milliseconds(2_000))
        // A busy pace slower than the default idle one is kept while idle too.
        let slow = try load(try editOnce(Self.simBoard, "map: sdm630}", "map: sdm630, poll_ms: 8000}"))
        #expect(slow.connectors[0].meter?.idlePollInterval == .milliseconds(8_000))
    }

    @Test func anIdlePaceFasterThanTheBusyOneIsRefused() throws {
        let text = try editOnce(Self.simBoard, "map: sdm630}", "map: sdm630, poll_ms: 2000, idle_poll_ms: 1000}")
        expectError(text, field: "connectors[0].meter.idle_poll_ms", line: try line(of: "idle_poll_ms", in: text),
                    "expected 2000…60000 ms, found 1000")
    }

    @Test func currentAboveWhatPWMCanSignal() throws {
        let text = try editOnce(Self.simBoard, "max_current: 32", "max_current: 100")
        expectError(text, field: "connectors[0].max_current", line: try line(of: "max_current: 100", in: text), "above 80 A")
    }

    @Test func currentBelowSix() throws {
        let text = try editOnce(Self.simBoard, "max_current: 32", "max_current: 5")
        expectError(text, field: "connectors[0].max_current", line: try line(of: "max_current: 5", in: text, after: "- id: 1"), "below 6 A")
    }

    @Test func currentAboveGridLimit() throws {
        let text = try edit(Self.simBoard, "max_current: 50", "max_current: 25")
        expectError(text, field: "connectors[0].max_current", line: try line(of: "max_current: 32", in: text),
                    "32 A is above the grid connection limit of 25 A (grid.max_current)")
    }

    @Test func currentAboveFixedCableRating() throws {
        let text = try edit(Self.linuxBoard, "cable_rating: 32", "cable_rating: 20")
        expectError(text, field: "connectors[0].max_current", line: try line(of: "max_current: 32", in: text, after: "cable_rating"),
                    "32 A is above the fixed cable's rating of 20 A (cable_rating)")
    }

    @Test func cableRatingAboveHardwareLimit() throws {
        let text = try edit(Self.linuxBoard, "cable_rating: 32", "cable_rating: 125")
        expectError(text, field: "connectors[0].cable_rating", line: try line(of: "cable_rating", in: text), "125 A is above 80 A")
    }

    @Test func morePhasesThanTheGrid() throws {
        let text = try edit(Self.simBoard, "  phases: 3\nmodbus", "  phases: 1\nmodbus")
        expectError(text, field: "connectors[0].phases", line: try line(of: "phases: 3", in: text), "3 phases on a 1-phase grid connection")
    }

    @Test func phaseCountMustBeOneOrThree() throws {
        let text = try editOnce(Self.simBoard, "    phases: 3\n", "    phases: 2\n")
        expectError(text, field: "connectors[0].phases", line: try line(of: "phases: 2", in: text), "expected 1 or 3 phases")
    }

    @Test func duplicateConnectorID() throws {
        let text = try edit(Self.simBoard, "- id: 2", "- id: 1")
        expectError(text, field: "connectors[1].id", line: try line(of: "- id: 1", in: text, after: "meter: {bus: meters, unit: 1"),
                    "connector id 1 is already used")
    }

    @Test func socketWithoutProximityPilot() throws {
        let text = try editOnce(Self.simBoard, "    proximity: {adc: {name: c1.pp}, pull_up_ohms: 1000, supply_volts: 5}\n", "")
        expectError(text, field: "connectors[0].proximity", line: try line(of: "- id: 1", in: text), "required field missing")
    }

    @Test func fixedCableWithLock() throws {
        let text = try edit(Self.linuxBoard, "    contactor:", "    lock: {drive: {chip: gpiochip0, line: 5}}\n    contactor:")
        expectError(text, field: "connectors[0].lock", line: try line(of: "lock:", in: text), "a fixed cable has no cable lock")
    }

    @Test func pulseLockWithoutUnlockLine() throws {
        let text = try editOnce(Self.simBoard, "      drive: {name: c1.lock.drive}\n", "      drive: {name: c1.lock.drive}\n      mode: pulse\n      pulse_ms: 200\n")
        expectError(text, field: "connectors[0].lock.unlock", line: try line(of: "mode: pulse", in: text), "mode: pulse needs an unlock output")
    }

    @Test func socketWithCableRating() throws {
        let text = try editOnce(Self.simBoard, "    type: socket\n", "    type: socket\n    cable_rating: 32\n")
        expectError(text, field: "connectors[0].cable_rating", line: try line(of: "cable_rating", in: text), "only for type: cable")
    }

    @Test func unknownConnectorType() throws {
        let text = try editOnce(Self.simBoard, "type: socket", "type: schuko")
        expectError(text, field: "connectors[0].type", line: try line(of: "schuko", in: text), "expected socket (Type 2 with PP and lock) or cable")
    }

    @Test func phaseSwitchOnSinglePhaseConnector() throws {
        let text = try edit(Self.linuxBoard, "      coil: {chip: gpiochip0, line: 17}", "      coil: {chip: gpiochip0, line: 17}\n      phase_switch: {chip: gpiochip0, line: 9}")
        let single = try edit(text, "    phases: 3\n    max", "    phases: 1\n    max")
        expectError(single, field: "connectors[0].contactor.phase_switch", line: try line(of: "phase_switch", in: single), "needs phases: 3")
    }

    /// The linux test board with a phase switch on connector 1 whose fields are `fields`.
    func withPhaseSwitch(_ fields: String) throws -> String {
        try edit(Self.linuxBoard, "      coil: {chip: gpiochip0, line: 17}",
                 "      coil: {chip: gpiochip0, line: 17}\n      phase_switch: {chip: gpiochip0, line: 9\(fields)}")
    }

    @Test func phaseSwitchWiringParses() throws {
        let board = try load(try withPhaseSwitch(", three_phase_level: low, unpowered: three"))
        let ps = try #require(board.connectors.first?.contactor.phaseSwitch)
        #expect(ps.line.address == .chipOffset(chip: "gpiochip0", offset: 9))
        #expect(ps.wiring == PhaseSwitchWiring(threePhaseLevel: .low, unpowered: .three))
    }

    @Test func phaseSwitchWithoutThreePhaseLevel() throws {
        let text = try withPhaseSwitch(", unpowered: one")
        expectError(text, field: "connectors[0].contactor.phase_switch.three_phase_level", line: try line(of: "phase_switch", in: text),
                    "required field missing: expected high or low")
    }

    @Test func phaseSwitchLevelNotHighOrLow() throws {
        let text = try withPhaseSwitch(", three_phase_level: 1, unpowered: one")
        expectError(text, field: "connectors[0].contactor.phase_switch.three_phase_level", line: try line(of: "phase_switch", in: text),
                    "expected high or low (the line level that selects three phases), found the number 1")
    }

    @Test func phaseSwitchWithoutUnpowered() throws {
        let text = try withPhaseSwitch(", three_phase_level: high")
        expectError(text, field: "connectors[0].contactor.phase_switch.unpowered", line: try line(of: "phase_switch", in: text),
                    "required field missing: expected one or three")
    }

    @Test func phaseSwitchUnpoweredNotOneOrThree() throws {
        let text = try withPhaseSwitch(", three_phase_level: high, unpowered: 3")
        expectError(text, field: "connectors[0].contactor.phase_switch.unpowered", line: try line(of: "phase_switch", in: text),
                    "expected one or three (the phases the relay connects while its coil has no power), found the number 3")
    }

    @Test func phaseSwitchPolarityIsNotActiveLow() throws {
        let text = try withPhaseSwitch(", active_low: true, three_phase_level: high, unpowered: one")
        expectError(text, field: "connectors[0].contactor.phase_switch.active_low", line: try line(of: "phase_switch", in: text),
                    "the relay's polarity is three_phase_level (high or low): remove active_low")
    }

    @Test func simBackendNeedsNamedLines() throws {
        let text = try edit(Self.simBoard, "estop: {name: estop}", "estop: {chip: gpiochip0, line: 3}")
        expectError(text, field: "station.estop.chip", line: try line(of: "estop:", in: text), "the sim backend has named lines only")
    }

    @Test func linuxBackendHasNoNamedPWM() throws {
        let text = try edit(Self.linuxBoard, "pwm:  {chip: 0, channel: 1}", "pwm:  {name: c1.cp.pwm}")
        expectError(text, field: "connectors[0].pilot.pwm.name", line: try line(of: "pwm:", in: text), "named PWM channels exist only on the sim backend")
    }

    @Test func gpioNeedsNameOrChip() throws {
        let text = try edit(Self.linuxBoard, "estop: {chip: gpiochip0, line: 4}", "estop: {line: 4}")
        expectError(text, field: "station.estop", line: try line(of: "estop:", in: text), "expected one of name, chip")
    }

    @Test func outputsAreNotDebounced() throws {
        let text = try edit(Self.linuxBoard, "coil: {chip: gpiochip0, line: 17}", "coil: {chip: gpiochip0, line: 17, debounce_ms: 5}")
        expectError(text, field: "connectors[0].contactor.coil.debounce_ms", line: try line(of: "coil:", in: text), "only inputs are debounced")
    }

    @Test func badBackend() throws {
        let text = try edit(Self.linuxBoard, "backend: linux", "backend: windows")
        expectError(text, field: "backend", line: 2, "expected linux or sim")
    }

    @Test func simulatorSectionOnLinuxBoard() throws {
        let text = try edit(Self.linuxBoard, "backend: linux\n", "backend: linux\nsimulator: {address: 127.0.0.1:8089}\n")
        expectError(text, field: "simulator", line: 3, "only for backend: sim")
    }

    @Test func badHostPort() throws {
        let text = try edit(Self.simBoard, "tcp: 127.0.0.1:5020", "tcp: localhost")
        expectError(text, field: "modbus.meters.tcp", line: try line(of: "localhost", in: text), "expected HOST:PORT")
    }

    @Test func badBaudRate() throws {
        let text = try edit(Self.simBoard, "meters: {tcp: 127.0.0.1:5020}", "meters: {rtu: {device: /dev/ttyUSB0, baud: 9601}}")
        expectError(text, field: "modbus.meters.rtu.baud", line: try line(of: "9601", in: text), "expected a standard rate")
    }

    @Test func displaySizeNotAnHD44780() throws {
        let text = try edit(Self.simBoard, "columns: 20, rows: 4", "columns: 20, rows: 3")
        expectError(text, field: "station.display.hd44780.rows", line: try line(of: "hd44780", in: text), "expected 1, 2 or 4 rows")
    }

    @Test func wiegandBitCountOutOfRange() throws {
        let text = try edit(Self.simBoard, "bits: 26", "bits: 99")
        expectError(text, field: "station.rfid.wiegand.bits", line: try line(of: "wiegand", in: text), "expected 4…64 bits, found 99")
    }

    @Test func twoReaderKindsAtOnce() throws {
        let text = try edit(Self.simBoard, "    wiegand:", "    hid: {device: rfid.keys}\n    wiegand:")
        expectError(text, field: "station.rfid.wiegand", line: try line(of: "wiegand", in: text), "give only one of wiegand, hid")
    }

    @Test func syntaxErrorsNameTheLine() throws {
        let text = try edit(Self.linuxBoard, "model: Test linux", "model: &a Test linux")
        do {
            _ = try load(text)
            Issue.record("loaded")
        } catch {
            #expect(error.line == 1)
            #expect(error.description == "b.yaml:1: anchors (&) are not supported")
        }
    }

    @Test func duplicateKeyNamesBothLines() throws {
        let text = Self.linuxBoard + "model: again\n"
        do {
            _ = try load(text)
            Issue.record("loaded")
        } catch {
            #expect(error.line == (try line(of: "again", in: text)))
            #expect(error.message == "duplicate key 'model' (first given on line 1)")
        }
    }

    @Test func emptyFile() throws {
        expectError("# nothing\n", field: "", line: 1, "empty board file")
    }

    @Test func missingFile() throws {
        do {
            _ = try BoardLoader.load(path: "/nonexistent/board.yaml")
            Issue.record("loaded")
        } catch {
            #expect(error.description.hasPrefix("/nonexistent/board.yaml: cannot read the file"))
        }
    }

    @Test func brokenMeterMapNamesTheMapFile() throws {
        let text = try editOnce(Self.simBoard, "map: sdm630", "map: /etc/hostname")
        do {
            _ = try load(text)
            Issue.record("loaded")
        } catch {
            #expect(error.file == "/etc/hostname")
        }
    }
}
