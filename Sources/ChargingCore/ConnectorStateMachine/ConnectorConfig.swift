import HAL

/// How one connector behaves. Values come from the board file (currents, lock, cable,
/// ventilation, RCD self-test) and the station configuration (timeouts, OCPP-configurable
/// behaviour such as StopTransactionOnEVSideDisconnect).
public struct ConnectorConfig: Hashable, Sendable {
    /// The most the connector may offer (A), from the board.
    public var maximumCurrent: Double
    /// Below this the pilot cannot signal a current (IEC 61851-1: 6 A); energy is suspended.
    public var minimumCurrent: Double
    /// A socket with a cable lock: the contactor only closes with the lock confirmed.
    public var lockRequired: Bool
    /// A tethered cable's rating (A); nil for a socket, whose rating comes from PP
    /// (`cableRatingChanged`).
    public var fixedCableAmps: Double?
    /// The board can ventilate: pilot D may charge.
    public var ventilationAvailable: Bool
    /// A meter is fitted: a session only starts once a reading is known.
    public var hasMeter: Bool
    /// The board has an RCD test output: a residual-current fault clears only after a
    /// passing self-test.
    public var rcdSelfTestAvailable: Bool
    /// Standalone free vend: plugging in starts a session with `freeVendIdToken`.
    public var freeVend: Bool
    public var freeVendIdToken: IdToken
    /// Authorized but not plugged in within this time → the authorization lapses
    /// (OCPP 1.6 ConnectionTimeOut).
    public var connectionTimeout: EVSEDuration
    /// End the session when the EV side is unplugged (pilot A); otherwise keep it open and
    /// suspended until stopped.
    public var stopOnEVSideDisconnect: Bool
    /// Release the socket lock when the EV side is unplugged.
    public var unlockOnEVSideDisconnect: Bool
    /// PWM withdrawn and the EV still in C: open anyway after this (IEC 61851-1: 6 s).
    public var pwmWithdrawnOpenTimeout: EVSEDuration
    /// Over-current: the EV's highest phase current above offered + max(amps, ratio·offered)…
    public var overCurrentMarginAmps: Double
    public var overCurrentMarginRatio: Double
    /// …for longer than this ends the session with an over-current fault.
    public var overCurrentGrace: EVSEDuration
    /// How often a meter reading is kept in the session (and the session persisted).
    public var sampleInterval: EVSEDuration
    /// Bound on `Session.sampledValues`; the oldest (after the first) are dropped.
    public var maxSampledValues: Int
    /// A stopping session waits up to this long, after its contactor opened, for a meter
    /// reading taken after the opening (`.readMeterNow`): its meter stop is then the energy
    /// really delivered, not the last periodic poll. A meter that does not answer in time ends
    /// it with the last reading. Zero: end at once with the last reading.
    public var finalMeterReadingTimeout: EVSEDuration
    /// Seeds session ids; the station passes something unique per boot.
    public var sessionIdSeed: UInt64

    public init(maximumCurrent: Double = 32,
                minimumCurrent: Double = 6,
                lockRequired: Bool = false,
                fixedCableAmps: Double? = nil,
                ventilationAvailable: Bool = false,
                hasMeter: Bool = true,
                rcdSelfTestAvailable: Bool = false,
                freeVend: Bool = false,
                freeVendIdToken: IdToken = IdToken("FREEVEND", kind: .noAuthorization),
                connectionTimeout: EVSEDuration = .milliseconds(60_000),
                stopOnEVSideDisconnect: Bool = true,
                unlockOnEVSideDisconnect: Bool = true,
                pwmWithdrawnOpenTimeout: EVSEDuration = .milliseconds(6_000),
                overCurrentMarginAmps: Double = 2,
                overCurrentMarginRatio: Double = 0.1,
                overCurrentGrace: EVSEDuration = .milliseconds(10_000),
                sampleInterval: EVSEDuration = .milliseconds(60_000),
                maxSampledValues: Int = 500,
                finalMeterReadingTimeout: EVSEDuration = .zero,
                sessionIdSeed: UInt64 = 0) {
        self.maximumCurrent = maximumCurrent
        self.minimumCurrent = minimumCurrent
        self.lockRequired = lockRequired
        self.fixedCableAmps = fixedCableAmps
        self.ventilationAvailable = ventilationAvailable
        self.hasMeter = hasMeter
        self.rcdSelfTestAvailable = rcdSelfTestAvailable
        self.freeVend = freeVend
        self.freeVendIdToken = freeVendIdToken
        self.connectionTimeout = connectionTimeout
        self.stopOnEVSideDisconnect = stopOnEVSideDisconnect
        self.unlockOnEVSideDisconnect = unlockOnEVSideDisconnect
        self.pwmWithdrawnOpenTimeout = pwmWithdrawnOpenTimeout
        self.overCurrentMarginAmps = overCurrentMarginAmps
        self.overCurrentMarginRatio = overCurrentMarginRatio
        self.overCurrentGrace = overCurrentGrace
        self.sampleInterval = sampleInterval
        self.maxSampledValues = maxSampledValues
        self.finalMeterReadingTimeout = finalMeterReadingTimeout
        self.sessionIdSeed = sessionIdSeed
    }

    /// Checks the values; the error names the first field that is wrong.
    public func validate() throws(ConnectorConfigError) {
        guard minimumCurrent.isFinite, minimumCurrent >= 6 else {
            throw .invalid(field: "minimumCurrent", "must be at least 6 A (IEC 61851-1), got \(minimumCurrent)")
        }
        guard maximumCurrent.isFinite, maximumCurrent >= minimumCurrent, maximumCurrent <= 80 else {
            throw .invalid(field: "maximumCurrent", "must be between minimumCurrent and 80 A, got \(maximumCurrent)")
        }
        if let fixed = fixedCableAmps, !(fixed.isFinite && fixed > 0) {
            throw .invalid(field: "fixedCableAmps", "must be a positive number of amps, got \(fixed)")
        }
        if lockRequired, fixedCableAmps != nil {
            throw .invalid(field: "lockRequired", "a tethered cable (fixedCableAmps) has no socket lock")
        }
        for (name, d) in [("connectionTimeout", connectionTimeout), ("pwmWithdrawnOpenTimeout", pwmWithdrawnOpenTimeout),
                          ("overCurrentGrace", overCurrentGrace), ("sampleInterval", sampleInterval)] where d <= .zero {
            throw .invalid(field: name, "must be a positive duration, got \(d)")
        }
        guard pwmWithdrawnOpenTimeout <= .milliseconds(6_000) else {
            throw .invalid(field: "pwmWithdrawnOpenTimeout", "IEC 61851-1 allows at most 6 s, got \(pwmWithdrawnOpenTimeout)")
        }
        guard overCurrentMarginAmps.isFinite, overCurrentMarginAmps >= 0,
              overCurrentMarginRatio.isFinite, overCurrentMarginRatio >= 0 else {
            throw .invalid(field: "overCurrentMargin", "margins must be non-negative numbers")
        }
        guard maxSampledValues >= 2 else {
            throw .invalid(field: "maxSampledValues", "must be at least 2, got \(maxSampledValues)")
        }
    }
}

public enum ConnectorConfigError: Error, Hashable, Sendable, CustomStringConvertible {
    case invalid(field: String, String)

    public var description: String {
        switch self {
        case let .invalid(field, why): return "connector config: \(field) \(why)"
        }
    }
}
