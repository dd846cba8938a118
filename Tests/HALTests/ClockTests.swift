import HAL
import HALFake
import Testing

@Suite struct ClockTests {
    @Test func virtualClockOnlyMovesWhenTold() {
        let clock = VirtualClock(start: MonotonicInstant(microseconds: 5))
        #expect(clock.now().microseconds == 5)
        clock.advance(by: .milliseconds(3))
        #expect(clock.now().microseconds == 3_005)
        #expect(clock.now() - MonotonicInstant(microseconds: 5) == .milliseconds(3))
    }

    @Test func systemClockIsMonotonic() {
        let c = SystemMonotonicClock()
        let a = c.now(), b = c.now()
        #expect(b >= a)
    }

    @Test func fakeLineQueuesEdgesItWasAskedFor() throws {
        let backend = FakeBackend()
        let line = try backend.openGPIOLine(.name("d0"), config: GPIOLineConfig(direction: .input, edges: .falling))
        let fake = try #require(backend.line(named: "d0"))
        fake.drive(true, at: MonotonicInstant(microseconds: 10))
        fake.drive(false, at: MonotonicInstant(microseconds: 20))
        let events = try line.drainEdgeEvents()
        #expect(events == [GPIOEdgeEvent(edge: .falling, timestamp: MonotonicInstant(microseconds: 20))])
        #expect(try line.drainEdgeEvents().isEmpty)
    }

    @Test func fakeModbusReportsIllegalAddress() throws {
        let bus = FakeBackend().modbusBus("rs485")
        bus.setRegisters(unit: 1, function: .readInputRegisters, address: 0, [1, 2])
        #expect(try bus.readRegisters(unit: 1, function: .readInputRegisters, address: 0, count: 2) == [1, 2])
        #expect(throws: HardwareError.self) {
            try bus.readRegisters(unit: 1, function: .readInputRegisters, address: 1, count: 2)
        }
    }
}
