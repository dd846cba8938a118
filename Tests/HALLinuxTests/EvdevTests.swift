import HAL
@testable import HALLinux
import Testing

@Suite struct EvdevTests {
    /// One `struct input_event` in native byte order with `longSize`-byte timeval fields.
    static func encode(sec: Int64, usec: Int64, type: UInt16, code: UInt16, value: Int32, longSize: Int = 8) -> [UInt8] {
        func bytes<T: FixedWidthInteger>(_ v: T, width: Int) -> [UInt8] {
            let le = (0..<width).map { UInt8(truncatingIfNeeded: UInt64(truncatingIfNeeded: v) >> (8 * UInt64($0))) }
            return EvdevEvent.isLittleEndian ? le : le.reversed()
        }
        return bytes(sec, width: longSize) + bytes(usec, width: longSize) + bytes(type, width: 2)
            + bytes(code, width: 2) + bytes(value, width: 4)
    }

    @Test func decodesSixtyFourBitLayout() {
        let raw = Self.encode(sec: 12, usec: 345_678, type: 1, code: 30, value: 1)
            + Self.encode(sec: 12, usec: 345_679, type: 0, code: 0, value: 0)
        #expect(raw.count == 48)
        let events = EvdevEvent.decode(raw, longSize: 8)
        #expect(events == [EvdevEvent(seconds: 12, microseconds: 345_678, type: 1, code: 30, value: 1),
                           EvdevEvent(seconds: 12, microseconds: 345_679, type: 0, code: 0, value: 0)])
    }

    @Test func decodesThirtyTwoBitLayoutAndNegativeValues() {
        let raw = Self.encode(sec: 7, usec: 1, type: 3, code: 0, value: -5, longSize: 4)
        let events = EvdevEvent.decode(raw, longSize: 4)
        #expect(events == [EvdevEvent(seconds: 7, microseconds: 1, type: 3, code: 0, value: -5)])
    }

    @Test func trailingPartialEventIsIgnored() {
        let raw = Self.encode(sec: 1, usec: 2, type: 1, code: 2, value: 1) + [1, 2, 3]
        #expect(EvdevEvent.decode(raw, longSize: 8).count == 1)
    }

    @Test func onlyKeyPressesAndReleasesAreKeyEvents() throws {
        let press = try #require(EvdevEvent(seconds: 0, microseconds: 0, type: 1, code: 28, value: 1).keyEvent)
        #expect(press.code == 28 && press.pressed)
        let release = try #require(EvdevEvent(seconds: 0, microseconds: 0, type: 1, code: 28, value: 0).keyEvent)
        #expect(release.code == 28 && !release.pressed)
        #expect(EvdevEvent(seconds: 0, microseconds: 0, type: 1, code: 28, value: 2).keyEvent == nil)   // autorepeat
        #expect(EvdevEvent(seconds: 0, microseconds: 0, type: 4, code: 4, value: 458_782).keyEvent == nil) // EV_MSC scan
    }

    @Test func keySourceReadsEventsWithoutBlocking() throws {
        // A regular file stands in for /dev/input/eventN: the same read(2) of whole structs.
        let t = try TempTree()
        try t.mkdir("dev/input")
        let raw = Self.encode(sec: 100, usec: 250, type: 1, code: 2, value: 1, longSize: MemoryLayout<Int>.size)
            + Self.encode(sec: 100, usec: 260, type: 0, code: 0, value: 0, longSize: MemoryLayout<Int>.size)
            + Self.encode(sec: 100, usec: 900, type: 1, code: 2, value: 0, longSize: MemoryLayout<Int>.size)
        try t.writeBytes("dev/input/event5", raw)
        let source = try LinuxBackend(sysfsRoot: t.root, devRoot: t.path("dev")).openKeyEventSource(device: "event5")
        #expect(source.name == t.path("dev/input/event5"))
        #expect(try source.drainKeyEvents() == [
            KeyEvent(code: 2, pressed: true, timestamp: MonotonicInstant(microseconds: 100_000_250)),
            KeyEvent(code: 2, pressed: false, timestamp: MonotonicInstant(microseconds: 100_000_900)),
        ])
        #expect(try source.drainKeyEvents().isEmpty)
    }

    @Test func missingInputDeviceNamesThePath() throws {
        let t = try TempTree()
        let error = #expect(throws: HardwareError.self) {
            _ = try LinuxBackend(sysfsRoot: t.root, devRoot: t.path("dev")).openKeyEventSource(device: "event9")
        }
        #expect(error?.kind == .deviceMissing)
        #expect(error?.device == t.path("dev/input/event9"))
    }

    @Test func monotonicStampsPassThroughAndRealtimeStampsAreMoved() {
        let mono: UInt64 = 3_600_000_000          // an hour after boot
        let real: UInt64 = 1_764_000_000_000_000  // late 2025
        #expect(KernelTimestamp.monotonic(microseconds: mono - 500, monotonicNow: mono, realtimeNow: real)
                == MonotonicInstant(microseconds: mono - 500))
        // A realtime stamp 2 ms old becomes monotonic now − 2 ms.
        #expect(KernelTimestamp.monotonic(microseconds: real - 2_000, monotonicNow: mono, realtimeNow: real)
                == MonotonicInstant(microseconds: mono - 2_000))
    }
}
