import HAL
import Storage

/// How the protocol adapter rewrites the payloads it queued (they are its JSON), for the clock
/// correction. Set by the daemon's wiring before `start`.
public struct QueuedMessageClockHooks: Sendable {
    /// The payload with each time before `floorMs` moved by `deltaMs`; nil leaves it as it is.
    public var shift: @Sendable (_ payload: String, _ floorMs: UInt64, _ deltaMs: Int64) -> String?
    /// A message queued with an unset clock in an earlier boot: its times cannot be corrected;
    /// the adapter may mark it (nil leaves it as it is).
    public var flagUncorrectable: @Sendable (_ kind: String, _ payload: String) -> String?

    public init(shift: @escaping @Sendable (_ payload: String, _ floorMs: UInt64, _ deltaMs: Int64) -> String?,
                flagUncorrectable: @escaping @Sendable (_ kind: String, _ payload: String) -> String? = { _, _ in nil }) {
        self.shift = shift
        self.flagUncorrectable = flagUncorrectable
    }
}

/// The clock correction (docs/ROBUSTNESS.md, "The clock"): once the station learns the true
/// time, what it recorded in this boot with the unset clock is moved to it, before the queued
/// messages go out.
extension Station {
    /// The station's clock when it is a `StationClock` (the daemon's; tests may give another).
    public var stationClock: StationClock? { wallClock as? StationClock }

    public var queuedMessageClockHooks: QueuedMessageClockHooks? {
        get { recorder.queuedMessageClockHooks }
        set { recorder.queuedMessageClockHooks = newValue }
    }

    /// From `init`: journal rows are stamped with the boot and the clock state.
    func stampJournalRows() {
        guard let clock = stationClock else { return }
        storage.journal.stampRows(with: { clock.stamp() })
        storage.securityLog.stampRows(with: { clock.stamp() })
    }

    /// Each step: the system clock may just have been set (NTP).
    func correctTimesIfTheClockWasSet() {
        guard let clock = stationClock, let due = clock.takeCorrectionDue() else { return }
        correctTimes(due)
    }

    /// A CSMS's `currentTime` (BootNotification or Heartbeat answer). When it sets the clock,
    /// the correction is done before this returns: the adapter sends its queue only after.
    @discardableResult
    public func adoptCentralSystemTime(_ unixMs: UInt64) -> StationClock.Adoption? {
        guard let clock = stationClock else { return nil }
        let adoption = clock.adoptCentralSystemTime(unixMs)
        switch adoption {
        case let .set(correction):
            correctTimes(correction)
        case let .realigned(by):
            logger.notice("clock: re-aligned to the CSMS's time by \(by) ms")
        case let .kept(difference):
            if let difference, abs(difference) > 60_000 {
                logger.warning("clock: the CSMS's time differs from the station's (\(clock.source.rawValue)) by \(difference / 1_000) s; the station keeps its own")
            } else if unixMs < clock.trustedFromUnixMs {
                logger.warning("clock: the CSMS's time \(unixMs) ms is before the floor \(clock.trustedFromUnixMs) ms: ignored")
            }
        }
        return adoption
    }

    func correctTimes(_ correction: StationClock.ClockCorrection) {
        guard let clock = stationClock else { return }
        let floor = clock.trustedFromUnixMs
        let delta = correction.deltaMs
        for c in connectors { c.machine.correctTimes(recordedBeforeMs: floor, byMs: delta) }
        let hooks = queuedMessageClockHooks
        do {
            let report = try storage.journal.correctTimesRecordedWhileClockUnset(
                bootId: clock.bootId, wallMinusMonotonicMs: correction.wallMinusMonotonicMs, trustedFromMs: Int64(clamping: floor),
                shiftPayload: { payload, delta in hooks?.shift(payload, floor, delta) },
                flagUncorrectable: { kind, payload in hooks?.flagUncorrectable(kind, payload) })
            logger.notice("clock: set from the \(correction.source.rawValue) (\(delta >= 0 ? "+" : "")\(delta) ms); corrected \(report.sessions) session(s) and \(report.messages) queued message(s) recorded before")
            if !report.uncorrectable.isEmpty {
                logger.warning("clock: \(report.uncorrectable.count) queued message(s) were recorded in an earlier boot before its clock was set (seq \(report.uncorrectable.map(String.init).joined(separator: ","))): their times cannot be corrected and are sent as recorded")
            }
        } catch {
            logger.error("clock: the journal's times recorded before the clock was set could not be corrected: \(error)")
        }
        do {
            let events = try storage.securityLog.correctTimesRecordedWhileClockUnset(
                bootId: clock.bootId, wallMinusMonotonicMs: correction.wallMinusMonotonicMs, trustedFromMs: Int64(clamping: floor))
            if events > 0 { logger.info("clock: corrected \(events) security event(s) logged before") }
        } catch {
            logger.error("clock: the security log's times recorded before the clock was set could not be corrected: \(error)")
        }
    }
}
