import ChargingCore
import HAL
import Logging
import Storage

/// A journal the station cannot write (disk full, read-only, I/O errors): every connector is
/// Faulted (InternalError) with its contactor open until a write succeeds again, so no energy
/// flows that could not be billed. While the fault lasts the station tries one small write
/// every `storageProbeInterval`; only then, because every probe is an fsync that wears flash.
extension Station {
    public static let storageProbeInterval: EVSEDuration = .seconds(Int64(10))

    /// Whether the storage fault is raised now.
    public var storageUnavailable: Bool { storageHealth.faulted }

    struct StorageHealth {
        var faulted = false
        /// A write failed for a storage reason since the last check (set by the command executor).
        var failureSeen: (any Error)?
        var nextProbeAt: MonotonicInstant?
    }

    /// Called by the command executor when a journal write failed.
    func noteStorageFailure(_ error: any Error) {
        guard (error as? StorageError)?.meansStorageUnavailable == true else { return }
        storageHealth.failureSeen = error
    }

    /// Start: one probe write. A station that cannot record a session starts Faulted.
    func probeStorageAtStart(at now: MonotonicInstant, unixMs: UInt64) {
        do { try storage.probeWrite(stamp: String(unixMs)) } catch { noteStorageFailure(error) }
        checkStorage(at: now, unixMs: unixMs)
    }

    /// Once per step, after the connectors: raise the fault on a failure seen, clear it once a
    /// probe write succeeds.
    func checkStorage(at now: MonotonicInstant, unixMs: UInt64) {
        if let error = storageHealth.failureSeen {
            storageHealth.failureSeen = nil
            if !storageHealth.faulted {
                storageHealth.faulted = true
                logger.critical("storage: the journal cannot be written (\(error)): every connector Faulted, contactors open, until a write succeeds (tried every \(Self.storageProbeInterval))")
                for c in connectors { dispatch(c, .faultRaised(.storage), at: now, unixMs: unixMs) }
            }
            storageHealth.nextProbeAt = now + Self.storageProbeInterval
            return
        }
        guard storageHealth.faulted, let due = storageHealth.nextProbeAt, now >= due else { return }
        do {
            try storage.probeWrite(stamp: String(unixMs))
            storageHealth.faulted = false
            storageHealth.nextProbeAt = nil
            logger.notice("storage: the journal can be written again; the storage fault is cleared")
            for c in connectors { dispatch(c, .faultCleared(.storage), at: now, unixMs: unixMs) }
        } catch {
            storageHealth.nextProbeAt = now + Self.storageProbeInterval
        }
    }
}
