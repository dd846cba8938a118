import HAL

/// Why a session started.
public enum SessionStartReason: String, Hashable, Sendable, Codable, CaseIterable {
    /// A token presented at the charger (card, key code).
    case local
    /// A remote start from the backend.
    case remote
    /// Free-vend mode: plugging in is enough.
    case freeVend
}

/// Why a session ended. The OCPP 1.6 `Reason` values plus the 2.0.1 ones the core can cause;
/// the 1.6 adapter maps the latter to `Other`.
public enum StopReason: String, Hashable, Sendable, Codable, CaseIterable {
    case local = "Local"
    case remote = "Remote"
    case evDisconnected = "EVDisconnected"
    case emergencyStop = "EmergencyStop"
    case hardReset = "HardReset"
    case softReset = "SoftReset"
    case powerLoss = "PowerLoss"
    case reboot = "Reboot"
    case unlockCommand = "UnlockCommand"
    case deAuthorized = "DeAuthorized"
    case groundFault = "GroundFault"
    case overcurrentFault = "OvercurrentFault"
    case timeout = "Timeout"
    /// The EV stopped drawing energy and the backend ends transactions there (OCPP 2.0.1
    /// TxStopPoint EnergyTransfer).
    case stoppedByEV = "StoppedByEV"
    case other = "Other"

    /// The OCPP 1.6 `Reason` value.
    public var ocpp16: String {
        switch self {
        case .groundFault, .overcurrentFault, .timeout, .stoppedByEV: return "Other"
        default: return rawValue
        }
    }
}

/// A stop accepted for an open session: why, and the token that asked when it was not the
/// starting one (a card of the same group, say).
public struct RequestedStop: Hashable, Sendable, Codable {
    public var reason: StopReason
    public var idToken: IdToken?

    public init(reason: StopReason, idToken: IdToken? = nil) {
        self.reason = reason
        self.idToken = idToken
    }
}

/// One meter reading as the station hands it to the core.
public struct MeterSample: Hashable, Sendable, Codable {
    /// The meter's import energy register (Wh), monotonic over the meter's life.
    public var energyWh: Double
    /// Per-phase currents (A); empty when the meter has none.
    public var currentsA: [Double]
    public var powerW: Double?
    /// When the meter was read (nil: the instant the event is handled). A session's final
    /// reading must be one taken after its contactor opened.
    public var readAt: MonotonicInstant?

    /// `readAt` is an instant of this boot's monotonic clock: meaningless once stored.
    enum CodingKeys: String, CodingKey { case energyWh, currentsA, powerW }

    public init(energyWh: Double, currentsA: [Double] = [], powerW: Double? = nil, readAt: MonotonicInstant? = nil) {
        self.energyWh = energyWh
        self.currentsA = currentsA
        self.powerW = powerW
        self.readAt = readAt
    }

    public var maximumCurrentA: Double { currentsA.max() ?? 0 }
}

extension MeterSample {
    /// The same register values (energy, currents, power), whenever they were read.
    public func isSameReading(as other: MeterSample) -> Bool {
        energyWh == other.energyWh && currentsA == other.currentsA && powerW == other.powerW
    }
}

/// A meter reading kept in a session (OCPP MeterValues are built from these).
public struct SampledValue: Hashable, Sendable, Codable {
    public var atUnixMs: UInt64
    public var energyWh: Double
    public var currentsA: [Double]
    public var powerW: Double?

    public init(atUnixMs: UInt64, energyWh: Double, currentsA: [Double] = [], powerW: Double? = nil) {
        self.atUnixMs = atUnixMs
        self.energyWh = energyWh
        self.currentsA = currentsA
        self.powerW = powerW
    }
}

/// A span during a session in which no energy flowed.
public struct SuspendedPeriod: Hashable, Sendable, Codable {
    public enum Cause: String, Hashable, Sendable, Codable {
        /// The vehicle did not ask for energy (pilot B with PWM on, or unplugged with the
        /// session kept open).
        case ev
        /// The charger withheld energy (no current allocated, ventilation unavailable…).
        case evse
    }
    public var cause: Cause
    public var fromUnixMs: UInt64
    /// nil while the period lasts.
    public var toUnixMs: UInt64?

    public init(cause: Cause, fromUnixMs: UInt64, toUnixMs: UInt64? = nil) {
        self.cause = cause
        self.fromUnixMs = fromUnixMs
        self.toUnixMs = toUnixMs
    }
}

/// One charging session (a transaction in OCPP terms), independent of the OCPP version: the
/// 1.6 adapter maps it to Start/StopTransaction (its transactionId comes from the backend and
/// is kept by the adapter against `id`), the 2.0.1 adapter to TransactionEvent with `id` as
/// transactionId.
public struct Session: Hashable, Sendable, Codable {
    /// Local id, UUID-shaped, unique per station (see `SessionIdGenerator`).
    public var id: String
    public var connectorId: Int
    public var idToken: IdToken
    public var parentIdToken: IdToken?
    public var reservationId: Int?
    public var startReason: SessionStartReason
    /// Energy register at start (Wh).
    public var meterStartWh: Double
    /// Wall clock at start (Unix ms), as supplied by the station.
    public var startedAtUnixMs: UInt64
    public var stopReason: StopReason?
    /// The token that stopped the session locally, when it was not the starting one.
    public var stopIdToken: IdToken?
    public var meterStopWh: Double?
    public var stoppedAtUnixMs: UInt64?
    /// Readings taken every `ConnectorConfig.sampleInterval`, bounded by `maxSampledValues`.
    public var sampledValues: [SampledValue]
    public var suspendedPeriods: [SuspendedPeriod]
    /// A stop the station accepted while the session was still open (the contactor opening,
    /// the final meter reading on its way). Kept on disk: a restart ends such a session with
    /// this reason instead of resuming it.
    public var requestedStop: RequestedStop?
    /// The backend refused the token after the start (OCPP 1.6: StartTransaction answered
    /// Blocked or Invalid) and asked to keep the transaction open: no energy flows until the
    /// session is stopped. Kept on disk, so a restart does not give the energy back.
    public var deauthorized = false
    /// The cable's current rating (A) when the session started: the proximity pilot's reading,
    /// or a fixed cable's rating (OCPP 2.0.1 `cableMaxCurrent`). Not kept on disk: only the
    /// start's message, queued with the start, carries it.
    public var cableMaxCurrentA: Double?
    /// With `deauthorized`: the meter reading (Wh) up to which energy still flows
    /// (MaxEnergyOnInvalidId after the refusal); nil: none flows. Kept on disk with it.
    public var deauthorizedEnergyLimitWh: Double?
    /// What began the session's prelude (the EV or the token came first and the session took
    /// the prelude's id); nil when both came together or the session was resumed. Not kept on
    /// disk: only the start's messages, queued with the start, need it.
    public var preludeCause: SessionPrelude.Cause?

    /// Is energy withheld from this session at meter reading `energyWh` (nil: unknown)? An
    /// unknown reading counts as over the limit: energy the backend did not allow is not risked.
    public func energyWithheld(atMeterWh energyWh: Double?) -> Bool {
        guard deauthorized else { return false }
        guard let limit = deauthorizedEnergyLimitWh, let energyWh else { return true }
        return energyWh >= limit
    }

    public init(id: String, connectorId: Int, idToken: IdToken, parentIdToken: IdToken? = nil,
                reservationId: Int? = nil, startReason: SessionStartReason, meterStartWh: Double,
                startedAtUnixMs: UInt64, stopReason: StopReason? = nil, stopIdToken: IdToken? = nil,
                meterStopWh: Double? = nil, stoppedAtUnixMs: UInt64? = nil,
                sampledValues: [SampledValue] = [], suspendedPeriods: [SuspendedPeriod] = []) {
        self.id = id
        self.connectorId = connectorId
        self.idToken = idToken
        self.parentIdToken = parentIdToken
        self.reservationId = reservationId
        self.startReason = startReason
        self.meterStartWh = meterStartWh
        self.startedAtUnixMs = startedAtUnixMs
        self.stopReason = stopReason
        self.stopIdToken = stopIdToken
        self.meterStopWh = meterStopWh
        self.stoppedAtUnixMs = stoppedAtUnixMs
        self.sampledValues = sampledValues
        self.suspendedPeriods = suspendedPeriods
    }

    public var isEnded: Bool { stopReason != nil }

    /// The highest energy reading known for this session (start, samples, stop).
    public var lastKnownEnergyWh: Double {
        var e = meterStartWh
        for s in sampledValues where s.energyWh > e { e = s.energyWh }
        if let stop = meterStopWh, stop > e { e = stop }
        return e
    }

    /// Energy delivered (Wh): stop (or last known) minus start, never negative.
    public var energyWh: Double { max(0, (meterStopWh ?? lastKnownEnergyWh) - meterStartWh) }

    /// Ends the session. A session is ended at most once: a second call changes nothing and
    /// returns false.
    @discardableResult
    public mutating func end(reason: StopReason, meterStopWh: Double, atUnixMs: UInt64,
                             stopIdToken: IdToken? = nil) -> Bool {
        guard !isEnded else { return false }
        stopReason = reason
        // A register that went backwards (meter swapped or reset) must not bill negative energy.
        self.meterStopWh = max(meterStopWh, meterStartWh)
        stoppedAtUnixMs = atUnixMs
        self.stopIdToken = stopIdToken
        if let last = suspendedPeriods.indices.last, suspendedPeriods[last].toUnixMs == nil {
            suspendedPeriods[last].toUnixMs = atUnixMs
        }
        return true
    }
}

/// A change that must reach the database before it has effect.
public enum SessionRecordChange: Hashable, Sendable {
    /// A new open session (insert).
    case started(Session)
    /// A reading kept in the open session (every `sampleInterval`).
    case sampled(sessionId: String, SampledValue)
    /// The open session became suspended (by the EV or the station).
    case suspensionBegan(sessionId: String, SuspendedPeriod)
    /// The open suspension of the session ended.
    case suspensionEnded(sessionId: String, atUnixMs: UInt64)
    /// The session ended (never emitted twice for one id). Its open suspension, if any, was
    /// closed by a `suspensionEnded` just before.
    case ended(Session)
    /// The backend refused the session's token but keeps the transaction open: energy is
    /// withheld until it is stopped, from the meter reading `energyLimitWh` on (nil: at once).
    case deauthorized(sessionId: String, energyLimitWh: Double?)
    /// A stop was accepted for the open session (it ends once the contactor is open and the
    /// meter read). Persisted before the requester hears "accepted".
    case stopRequested(sessionId: String, RequestedStop)
    /// The connector's availability as requested (persisted so it survives a reboot, even
    /// while the change is still scheduled).
    case availability(connectorId: Int, operative: Bool)
    /// The EV was plugged in, or a token authorized, with no session open: the next session's
    /// id is handed out now (see `SessionPrelude`).
    case preludeBegan(SessionPrelude)
    /// The prelude ended without a session: the EV was unplugged, the grant expired, a stop was
    /// asked for. (A prelude a session follows ends with the session's `started`.)
    case preludeEnded(SessionPrelude, SessionPreludeEnd)
}

/// Makes UUID-shaped (version 4 layout) session ids from a seed and a counter, without
/// Foundation. The station seeds it with something unique per boot (e.g. 8 bytes of
/// /dev/urandom, or the boot count mixed with the wall clock) so ids do not repeat across
/// restarts.
public struct SessionIdGenerator: Hashable, Sendable {
    public var seed: UInt64
    public var counter: UInt64

    public init(seed: UInt64, counter: UInt64 = 0) {
        self.seed = seed
        self.counter = counter
    }

    public mutating func next() -> String {
        counter &+= 1
        var state = seed ^ (counter &* 0x9E37_79B9_7F4A_7C15)
        let hi = Self.splitMix(&state)
        let lo = Self.splitMix(&state)
        var bytes: [UInt8] = []
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: hi >> (56 - 8 * UInt64(i)))) }
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: lo >> (56 - 8 * UInt64(i)))) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let digits = Array("0123456789abcdef")
        var out = ""
        for (i, b) in bytes.enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { out.append("-") }
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return out
    }

    static func splitMix(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
