import Locking
import Synchronization
import Testing
@testable import Storage

/// The stamp source the stores keep is called at the same stack depth however often it was
/// used. Kept bare in a `Mutex` it gained two reabstraction thunks per read, and each call went
/// through all of them: evsed's stacks grew by about 80 kB a minute in the soak.
@Suite struct ClockStampSourceTests {
    final class StackDepths: Sendable {
        let addresses = Mutex<[UInt]>([])

        /// The address of a local of the stamp closure: the stack grows down, so a deeper call
        /// has a lower address.
        func stamp() -> JournalClockStamp {
            var marker = 0
            let address = withUnsafeMutablePointer(to: &marker) { UInt(bitPattern: $0) }
            addresses.locked { $0.append(address) }
            return JournalClockStamp(bootId: "boot", monotonicMs: 1, unsetWallOffsetMs: nil)
        }
    }

    @Test func aStoredStampSourceDoesNotGetDeeperWithUse() throws {
        let storage = try migratedInMemory()
        let depths = StackDepths()
        storage.journal.stampRows(with: { depths.stamp() })
        for _ in 0..<2_000 { _ = storage.journal.currentStamp() }
        let journalCalls = depths.addresses.locked { $0 }
        #expect(journalCalls.count == 2_000)
        // 2,000 reads would have added 4,000 thunk frames (tens of kB) to the last call.
        #expect(journalCalls[0] &- journalCalls[journalCalls.count - 1] < 1_024)

        let securityDepths = StackDepths()
        storage.securityLog.stampRows(with: { securityDepths.stamp() })
        for i in 0..<300 { _ = try storage.securityLog.append(kind: "StartupOfTheDevice", atMs: Int64(i)) }
        let securityCalls = securityDepths.addresses.locked { $0 }
        #expect(securityCalls.count == 300)
        #expect(securityCalls[0] &- securityCalls[securityCalls.count - 1] < 1_024)
    }
}
