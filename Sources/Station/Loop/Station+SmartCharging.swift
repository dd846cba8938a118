import ChargingCore
import HAL

/// Smart charging: the profiles a backend installed limit what the allocator may give, so a
/// limit set by the CSMS reaches the PWM duty the EV sees. Runs on the loop's thread.
extension Station {
    /// Replaces the installed profiles; the next allocation round (within a second) applies them.
    public func installChargingProfiles(_ profiles: CompositeScheduleCalculator) {
        chargingProfiles = profiles
        logger.info("charging profiles: \(profiles.profiles.map(\.profile.id))")
    }

    public var installedChargingProfiles: CompositeScheduleCalculator { chargingProfiles }

    /// The limit in force now on a connector (0 = the station maximum), in A per phase.
    func smartChargingLimit(connector id: Int, session: Session?) -> ChargingLimit? {
        guard !chargingProfiles.profiles.isEmpty else { return nil }
        let now = Int64(wallClock.unixMilliseconds() / 1_000)
        let transaction = session.map {
            ChargingTransactionContext(transactionId: $0.id, startedAt: Int64($0.startedAtUnixMs / 1_000))
        }
        return chargingProfiles.limit(at: now, connectorId: id, transaction: transaction, unit: .amps)
    }
}
