import Foundation
import HAL
@testable import HALLinux
import Locking
import Synchronization
import Testing

/// The edge reader thread of `LinuxGPIOLine`, driven through a stand-in for a requested line
/// whose event descriptor is a pipe: each byte written is one kernel event.
@Suite struct LinuxGPIOLineTests {
    final class PipeLine: RequestedGPIOLine, @unchecked Sendable {
        let description = "test line"
        let eventFileDescriptor: Int32?
        let writeEnd: Int32
        private let counter = Mutex(0)
        let released = Mutex(false)
        let value = Mutex(false)

        init() {
            var fds: [Int32] = [-1, -1]
            _ = pipe(&fds)
            eventFileDescriptor = fds[0]
            writeEnd = fds[1]
        }

        /// Queues `count` events as the kernel would (alternating rising/falling).
        func emit(_ count: Int) {
            let bytes = [UInt8](repeating: 1, count: count)
            _ = bytes.withUnsafeBytes { write(writeEnd, $0.baseAddress, $0.count) }
        }

        func getValue() throws -> Bool { value.locked { $0 } }
        func setValue(_ active: Bool) throws { value.locked { $0 = active } }

        func readEvents() throws -> [GPIOEdgeEvent] {
            guard let fd = eventFileDescriptor else { return [] }
            // At most 16 per read, like the v1 kernel FIFO.
            var buffer = [UInt8](repeating: 0, count: 16)
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            let events = (0..<max(0, n)).map { _ in
                counter.locked { c -> GPIOEdgeEvent in
                    c += 1
                    return GPIOEdgeEvent(edge: c % 2 == 1 ? .falling : .rising, timestamp: MonotonicInstant(microseconds: UInt64(c) * 2_000))
                }
            }
            return events
        }

        func release() {
            released.locked { $0 = true }
            if let fd = eventFileDescriptor { close(fd) }
            close(writeEnd)
        }
    }

    /// Drains, as the firmware's poll loop does, until `total` events came or 5 s passed (the
    /// bound only matters when the reader is broken).
    func drainAll(_ line: LinuxGPIOLine, total: Int) throws -> [GPIOEdgeEvent] {
        var events: [GPIOEdgeEvent] = []
        let deadline = DispatchTime.now() + 5
        while events.count < total && DispatchTime.now() < deadline {
            events += try line.drainEdgeEvents()
            sched_yield()
        }
        return events
    }

    @Test func aWholeWiegandFrameArrivesInOrderWithItsTimestamps() throws {
        let source = PipeLine()
        let line = try LinuxGPIOLine(address: .name("D0"), requested: source, isOutput: false)
        source.emit(34 * 2)
        let events = try drainAll(line, total: 68)
        #expect(events.count == 68)
        #expect(events.map(\.timestamp.microseconds) == (1...68).map { UInt64($0) * 2_000 })
        #expect(events.first?.edge == .falling)
        line.close()
    }

    @Test func closeStopsTheReaderAndReleasesTheLine() throws {
        let source = PipeLine()
        let line = try LinuxGPIOLine(address: .name("D1"), requested: source, isOutput: false)
        line.close()
        #expect(source.released.locked { $0 })
        #expect(throws: HardwareError.self) { _ = try line.drainEdgeEvents() }
        #expect(throws: HardwareError.self) { _ = try line.read() }
    }

    @Test func inputLinesRefuseWrites() throws {
        let source = PipeLine()
        let line = try LinuxGPIOLine(address: .name("FEEDBACK"), requested: source, isOutput: false)
        let error = #expect(throws: HardwareError.self) { try line.write(true) }
        #expect(error?.kind == .invalidArgument)
        source.value.locked { $0 = true }
        #expect(try line.read() == true)
        line.close()
    }
}
