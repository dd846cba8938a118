// A correct program for ThreadSanitizer: two threads share an array only inside
// Synchronization.Mutex.withLock. scripts/sanitize builds it with -sanitize=thread and runs it
// before the suite. If TSan reports a race here, it cannot see Mutex on this toolchain (on
// Linux, Mutex locks with a futex system call in code TSan does not instrument), and a report
// in the suite whose two stacks are both inside withLock says nothing about a race; the
// project therefore locks with Mutex.locked (Sources/Locking), which tells TSan about the lock.
import Glibc
import Synchronization

final class Shared: Sendable {
    let values = Mutex<[Int]>([])
}

let shared = Shared()
var writer = pthread_t()
let context = Unmanaged.passRetained(shared).toOpaque()
pthread_create(&writer, nil, { context in
    let shared = Unmanaged<Shared>.fromOpaque(context!).takeUnretainedValue()
    for i in 0..<1_000 {
        shared.values.withLock { $0.append(i) }
        sched_yield()
    }
    return nil
}, context)
var taken = 0
while taken < 1_000 {
    taken += shared.values.withLock { values in
        defer { values.removeAll(keepingCapacity: true) }
        return values.count
    }
    sched_yield()
}
pthread_join(writer, nil)
print("probe: \(taken) values passed through the Mutex")
