import CLockAnnotations
import Synchronization

extension Mutex where Value: ~Copyable {
    /// `withLock`, and ThreadSanitizer is told about the lock. Use this, not `withLock`, for
    /// every Mutex of the project: on Linux `Mutex` locks with a futex system call TSan cannot
    /// see, and without the two calls below `scripts/sanitize thread` reports the very accesses
    /// the lock guards (docs/ROBUSTNESS.md, "Sanitizers"). Outside TSan builds the calls are
    /// empty C functions.
    @inlinable
    public borrowing func locked<Result: ~Copyable, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result {
        // The Mutex's own address names the lock: it is stored in a class or a global and
        // never moves (Mutex is not copyable).
        let lock = withUnsafePointer(to: self) { UnsafeMutableRawPointer(mutating: $0) }
        return try withLock { (value: inout sending Value) throws(E) -> sending Result in
            swiftevse_lock_acquired(lock)
            defer { swiftevse_lock_releasing(lock) }
            return try body(&value)
        }
    }
}
