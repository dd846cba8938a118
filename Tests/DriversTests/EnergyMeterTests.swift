import Dispatch
import HAL
import HALFake
import Locking
import Synchronization
import Testing
@testable import Drivers

let sdm630Map = MeterRegisterMap(name: "sdm630", manufacturer: "Eastron", model: "SDM630", registers: [
    .voltageL1: .init(function: .readInputRegisters, address: 0x0000, type: .float32),
    .voltageL2: .init(function: .readInputRegisters, address: 0x0002, type: .float32),
    .voltageL3: .init(function: .readInputRegisters, address: 0x0004, type: .float32),
    .currentL1: .init(function: .readInputRegisters, address: 0x0006, type: .float32),
    .activePowerL1: .init(function: .readInputRegisters, address: 0x000C, type: .float32),
    .activePowerTotal: .init(function: .readInputRegisters, address: 0x0034, type: .float32),
    .powerFactor: .init(function: .readInputRegisters, address: 0x003E, type: .float32),
    .frequency: .init(function: .readInputRegisters, address: 0x0046, type: .float32),
    .energyImported: .init(function: .readInputRegisters, address: 0x0048, type: .float32, scale: 1000),
    .energyExported: .init(function: .readInputRegisters, address: 0x004A, type: .float32, scale: 1000),
])

/// A fake meter serving values through a map.
struct SimulatedMeter {
    let bus: FakeModbusBus
    let map: MeterRegisterMap
    let unit: UInt8

    init(map: MeterRegisterMap = sdm630Map, unit: UInt8 = 1, name: String = "rs485-1") {
        bus = FakeBackend().modbusBus(name)
        self.map = map
        self.unit = unit
        set([.voltageL1: 230, .voltageL2: 231, .voltageL3: 229, .currentL1: 16, .activePowerL1: 3680,
             .activePowerTotal: 3680, .powerFactor: 0.99, .frequency: 50, .energyImported: 1_000_000,
             .energyExported: 0])
    }

    func set(_ values: [Measurand: Double]) {
        for (m, v) in values {
            guard let def = map.registers[m], let words = try? RegisterEncoder.encode(v, def) else { continue }
            bus.setRegisters(unit: unit, function: def.function, address: def.address, words)
        }
    }
}

@Suite("Energy meter driver")
struct EnergyMeterTests {
    let t0 = MonotonicInstant(microseconds: 10_000_000)

    @Test("contiguous registers of one function share a request")
    func grouping() throws {
        let sim = SimulatedMeter()
        let meter = EnergyMeter(bus: sim.bus, unit: 1, map: sdm630Map)
        #expect(meter.plannedRequests.map(\.address) == [0x0000, 0x000C, 0x0034, 0x003E, 0x0046])
        #expect(meter.plannedRequests.map(\.count) == [8, 2, 2, 2, 6])
        let sample = try meter.read(at: t0)
        #expect(sim.bus.requestCount == 5)
        #expect(sample.at == t0)
        #expect(sample[.voltageL2] == 231)
        #expect(sample[.energyImported] == 1_000_000)
        #expect(abs((sample[.powerFactor] ?? 0) - 0.99) < 1e-6)
    }

    @Test("a gap allowance merges nearby registers into one request")
    func gapAllowance() throws {
        let requests = try sdm630Map.readRequests(maxGap: 0x30)
        #expect(requests.count == 1)
        #expect(requests.first?.count == 0x4C)
        let capped = try sdm630Map.readRequests(maxGap: 0x30, maxRegistersPerRequest: 0x40)
        #expect(capped.count == 2)
    }

    @Test("holding and input registers are never mixed in one request")
    func functionsApart() throws {
        let map = MeterRegisterMap(name: "mixed", manufacturer: "x", model: "y", registers: [
            .voltageL1: .init(function: .readInputRegisters, address: 0, type: .uint16),
            .voltageL2: .init(function: .readHoldingRegisters, address: 1, type: .uint16),
        ])
        #expect(try map.readRequests().map(\.function) == [.readHoldingRegisters, .readInputRegisters])
    }

    @Test("a register past 0xFFFF makes every read fail with invalidMap")
    func invalidMap() {
        let map = MeterRegisterMap(name: "bad", manufacturer: "x", model: "y", registers: [
            .energyImported: .init(function: .readHoldingRegisters, address: 0xFFFE, type: .uint64),
        ])
        let meter = EnergyMeter(bus: SimulatedMeter().bus, unit: 1, map: map)
        #expect(throws: MeterFault.self) { try meter.read(at: .zero) }
    }

    @Test("N consecutive timeouts make the meter offline; one good read clears it")
    func offlineAndRecovery() throws {
        let sim = SimulatedMeter()
        let meter = EnergyMeter(bus: sim.bus, unit: 1, map: sdm630Map, config: .init(offlineAfterFailures: 3))
        let timeout = HardwareError(.timeout, device: "rs485-1", "unit 1: no answer within 500ms")
        sim.bus.fail(with: timeout)
        #expect(throws: MeterFault.readFailed(timeout)) { try meter.read(at: t0) }
        #expect(throws: MeterFault.readFailed(timeout)) { try meter.read(at: t0) }
        #expect(!meter.isOffline)
        #expect(throws: MeterFault.offline(consecutiveFailures: 3, lastError: timeout)) { try meter.read(at: t0) }
        #expect(meter.isOffline)
        #expect(throws: MeterFault.offline(consecutiveFailures: 4, lastError: timeout)) { try meter.read(at: t0) }
        sim.bus.fail(with: nil)
        #expect(try meter.read(at: t0)[.voltageL1] == 230)
        #expect(!meter.isOffline)
        sim.bus.fail(with: timeout)
        #expect(throws: MeterFault.readFailed(timeout)) { try meter.read(at: t0) }
    }

    @Test("a Modbus exception counts as a failed read and names the address")
    func exception() throws {
        let sim = SimulatedMeter(map: sdm630Map)
        let map = MeterRegisterMap(name: "m", manufacturer: "x", model: "y", registers: [
            .voltageL1: .init(function: .readInputRegisters, address: 0x0100, type: .float32),
        ])
        let meter = EnergyMeter(bus: sim.bus, unit: 1, map: map)
        do {
            _ = try meter.read(at: t0)
            Issue.record("read of an unmapped register succeeded")
        } catch let .readFailed(error) {
            #expect(error.detail.contains("256"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("imported energy going backwards is implausible; the sample is discarded")
    func energyBackwards() throws {
        let sim = SimulatedMeter()
        let meter = EnergyMeter(bus: sim.bus, unit: 1, map: sdm630Map)
        _ = try meter.read(at: t0)
        sim.set([.energyImported: 999_000])
        #expect(throws: MeterFault.implausible(.energyImported, value: 999_000,
                                               reason: "energy went backwards from 1000000.0 Wh")) {
            try meter.read(at: t0 + .milliseconds(1_000))
        }
        #expect(meter.lastSample?.at == t0)
        // Still compared with the last good value, not the rejected one.
        sim.set([.energyImported: 999_500])
        #expect(throws: MeterFault.self) { try meter.read(at: t0 + .milliseconds(2_000)) }
        sim.set([.energyImported: 1_000_500])
        #expect(try meter.read(at: t0 + .milliseconds(3_000))[.energyImported] == 1_000_500)
        #expect(!meter.isOffline, "implausible values are not communication failures")
    }

    @Test("exported energy going backwards is implausible too")
    func exportBackwards() throws {
        let sim = SimulatedMeter()
        sim.set([.energyExported: 500])
        let meter = EnergyMeter(bus: sim.bus, unit: 1, map: sdm630Map)
        _ = try meter.read(at: t0)
        sim.set([.energyExported: 0])
        #expect(throws: MeterFault.self) { try meter.read(at: t0) }
    }

    @Test("absurd values are implausible", arguments: [
        (Measurand.voltageL1, Double.nan), (.voltageL2, 1_000), (.voltageL3, -5), (.frequency, 0),
        (.frequency, 400), (.currentL1, 5_000), (.powerFactor, 1.5), (.energyImported, .infinity),
        (.activePowerTotal, -.infinity),
    ])
    func absurd(measurand: Measurand, value: Double) throws {
        let sim = SimulatedMeter()
        sim.set([measurand: value])
        let meter = EnergyMeter(bus: sim.bus, unit: 1, map: sdm630Map)
        do {
            _ = try meter.read(at: t0)
            Issue.record("\(measurand) = \(value) accepted")
        } catch let .implausible(m, _, reason) {
            #expect(m == measurand)
            #expect(!reason.isEmpty)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("fault descriptions say what is wrong")
    func descriptions() {
        let e = HardwareError(.timeout, device: "/dev/ttyUSB0", "unit 3: no answer")
        #expect(MeterFault.offline(consecutiveFailures: 3, lastError: e).description
                    == "meter offline after 3 failed reads (last: /dev/ttyUSB0: unit 3: no answer)")
        #expect(MeterFault.implausible(.frequency, value: 0, reason: "outside 40.0…70.0 Hz").description
                    .contains("frequency"))
    }
}

/// A bus whose reads wait until the test opens the gate, to prove the poller keeps them off
/// the caller's thread.
final class GatedModbusBus: ModbusBus {
    let inner: FakeModbusBus
    let entered = DispatchSemaphore(value: 0)
    let gate = DispatchSemaphore(value: 0)
    private let open = Mutex(false)
    var name: String { inner.name }

    init(inner: FakeModbusBus) { self.inner = inner }

    func openGate() {
        open.locked { $0 = true }
        gate.signal()
    }

    func readRegisters(unit: UInt8, function: ModbusFunction, address: UInt16, count: UInt16) throws -> [UInt16] {
        if !open.locked({ $0 }) {
            entered.signal()
            gate.wait()
            gate.signal()
        }
        return try inner.readRegisters(unit: unit, function: function, address: address, count: count)
    }

    func writeRegisters(unit: UInt8, address: UInt16, values: [UInt16]) throws {
        try inner.writeRegisters(unit: unit, address: address, values: values)
    }
}

@Suite("Meter poller")
struct MeterPollerTests {
    @Test("reads run on the poller's own thread: start returns while a read is stuck")
    func doesNotBlock() async throws {
        let sim = SimulatedMeter()
        let bus = GatedModbusBus(inner: sim.bus)
        let clock = VirtualClock()
        let (poller, events) = MeterPoller.stream(meter: EnergyMeter(bus: bus, unit: 1, map: sdm630Map),
                                                  interval: .milliseconds(20), clock: clock)
        poller.start()
        // Here, on the caller's side, a read is in progress and waiting at the gate.
        #expect(bus.entered.wait(timeout: .now() + 10.0) == .success)
        poller.requestRead()  // queued behind the stuck read, returns at once
        bus.openGate()
        var iterator = events.makeAsyncIterator()
        guard case let .sample(sample)? = await iterator.next() else {
            Issue.record("expected a sample")
            return
        }
        #expect(sample[.voltageL1] == 230)
        #expect(sample.at == clock.now())
        poller.stop()
        #expect(poller.isStopped)
    }

    @Test("faults and recovery arrive as events")
    func faultsAndRecovery() async throws {
        let sim = SimulatedMeter()
        let timeout = HardwareError(.timeout, device: "rs485-1", "no answer")
        sim.bus.fail(with: timeout)
        let (poller, events) = MeterPoller.stream(
            meter: EnergyMeter(bus: sim.bus, unit: 1, map: sdm630Map, config: .init(offlineAfterFailures: 2)),
            interval: .milliseconds(5), clock: VirtualClock())
        poller.start()
        var seen: [String] = []
        for await event in events {
            switch event {
            case .fault(.readFailed, _): seen.append("failed")
            case .fault(.offline, _):
                if !seen.contains("offline") { seen.append("offline") }
                sim.bus.fail(with: nil)
            case .recovered: seen.append("recovered")
            case .sample: seen.append("sample")
            case .fault: seen.append("other")
            }
            if seen.last == "sample" { break }
        }
        poller.stop()
        #expect(seen == ["failed", "offline", "recovered", "sample"])
    }

    @Test("idle, a meter is read at its idle pace; a failed read brings back the busy pace")
    func idlePace() async throws {
        let sim = SimulatedMeter()
        let received = Mutex<[MeterPollerEvent]>([])
        let arrived = DispatchSemaphore(value: 0)
        let poller = MeterPoller(meter: EnergyMeter(bus: sim.bus, unit: 1, map: sdm630Map),
                                 interval: .milliseconds(1_000), idleInterval: .seconds(Int64(30)),
                                 clock: VirtualClock()) { event in
            received.locked { $0.append(event) }
            arrived.signal()
        }
        #expect(poller.period == .milliseconds(1_000), "in use until told otherwise")
        poller.setIdle(true)
        #expect(poller.period == .seconds(Int64(30)))
        sim.bus.fail(with: HardwareError(.timeout, device: "rs485-1", "no answer"))
        poller.requestRead()
        #expect(arrived.wait(timeout: .now() + 10.0) == .success)
        #expect(poller.period == .milliseconds(1_000), "a silent meter is not left for the idle period")
        sim.bus.fail(with: nil)
        poller.requestRead()
        #expect(arrived.wait(timeout: .now() + 10.0) == .success)
        #expect(poller.period == .seconds(Int64(30)))
        poller.setIdle(false)
        #expect(poller.period == .milliseconds(1_000))
        poller.stop()
        #expect(received.locked { $0.count } == 2)
    }

    @Test("an idle meter is read at once when its connector is in use again")
    func leavingIdleReadsAtOnce() async throws {
        let sim = SimulatedMeter()
        let arrived = DispatchSemaphore(value: 0)
        // The idle pace is an hour: without the read at once, the second read would never come
        // within the wait below.
        let poller = MeterPoller(meter: EnergyMeter(bus: sim.bus, unit: 1, map: sdm630Map),
                                 interval: .milliseconds(20), idleInterval: .seconds(Int64(3_600)),
                                 clock: VirtualClock()) { _ in arrived.signal() }
        poller.setIdle(true)
        poller.start()
        #expect(arrived.wait(timeout: .now() + 10.0) == .success, "the first read comes at start")
        poller.setIdle(false)
        #expect(arrived.wait(timeout: .now() + 10.0) == .success, "in use again: read at once")
        #expect(arrived.wait(timeout: .now() + 10.0) == .success, "then at the busy pace")
        poller.stop()
    }

    @Test("a meter that goes silent while idle is read again at the busy pace")
    func silentWhileIdle() async throws {
        let sim = SimulatedMeter()
        sim.bus.fail(with: HardwareError(.timeout, device: "rs485-1", "no answer"))
        let faults = DispatchSemaphore(value: 0)
        let poller = MeterPoller(meter: EnergyMeter(bus: sim.bus, unit: 1, map: sdm630Map),
                                 interval: .milliseconds(20), idleInterval: .seconds(Int64(3_600)),
                                 clock: VirtualClock()) { event in
            if case .fault = event { faults.signal() }
        }
        poller.setIdle(true)
        poller.start()
        // The first read fails at the start; the next ones follow at 20 ms, not in an hour, so
        // the station's three-failure fault comes as it does for a connector in use.
        for n in 1...3 { #expect(faults.wait(timeout: .now() + 10.0) == .success, "fault \(n)") }
        poller.stop()
    }

    @Test("every period's reads fall on one grid, so a connector's meter and the grid meter are read together")
    func periodsShareAGrid() {
        let epoch = MonotonicInstant(microseconds: 7_000_000)
        func next(_ nowMs: UInt64, _ periodMs: Int64) -> UInt64 {
            MeterPollingThread.nextOnGrid(after: MonotonicInstant(microseconds: nowMs * 1_000), period: .milliseconds(periodMs),
                                          from: epoch).microseconds / 1_000
        }
        #expect(next(7_000, 1_000) == 8_000, "strictly after now")
        #expect(next(7_999, 1_000) == 8_000)
        // An EV arrives at 12.345 s on a connector read every 5 s while idle: its next periodic
        // read is the grid meter's, not 13.345 s.
        #expect(next(12_345, 1_000) == 13_000)
        #expect(next(12_345, 5_000) == 17_000)
        // A late wake-up skips the missed instants.
        #expect(next(10_500, 1_000) == 11_000)
    }

    @Test("no event after stop")
    func stop() async throws {
        let sim = SimulatedMeter()
        let received = Mutex(0)
        let poller = MeterPoller(meter: EnergyMeter(bus: sim.bus, unit: 1, map: sdm630Map),
                                 interval: .milliseconds(1), clock: VirtualClock()) { _ in
            received.locked { $0 += 1 }
        }
        poller.stop()
        poller.start()  // a stopped poller stays stopped
        poller.requestRead()
        // Wait for the queued read to pass through the poller's queue.
        let drained = DispatchSemaphore(value: 0)
        let probe = MeterPoller(meter: EnergyMeter(bus: sim.bus, unit: 1, map: sdm630Map),
                                interval: .milliseconds(60_000), clock: VirtualClock()) { _ in drained.signal() }
        probe.requestRead()
        #expect(drained.wait(timeout: .now() + 10.0) == .success)
        probe.stop()
        #expect(received.locked { $0 } == 0)
    }
}
