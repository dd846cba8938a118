/// The faults a connector holds latched, and the rule by which each one lets go.
///
/// A fault does not clear because it went quiet: what clears it depends on what it says about
/// the hardware (`ConnectorFault.clearing`). A residual-current fault on a board that can test
/// its RCD also needs a passing self-test, because an RCD that tripped once may not trip again.
/// The latch only keeps the faults; what a fault does to the session is the machine's business.
struct FaultLatch: Hashable, Sendable {
    /// Where one latched fault is on its way to clearing.
    enum Phase: Hashable, Sendable {
        /// Its source reports it (or it was never reported gone).
        case active
        /// Its source cleared; a self-test is running and its result decides.
        case awaitingSelfTest
        /// The self-test failed: only a person (`clearFault`) may try again.
        case selfTestFailed
    }

    /// Whether the board has an RCD test output; without one a residual-current fault clears
    /// with its source like any other.
    let rcdSelfTestAvailable: Bool
    private(set) var phases: [ConnectorFault: Phase] = [:]

    init(rcdSelfTestAvailable: Bool) {
        self.rcdSelfTestAvailable = rcdSelfTestAvailable
    }

    // MARK: - Queries

    /// The latched faults, most severe first (the first is the one reported).
    var active: [ConnectorFault] {
        phases.keys.sorted { $0.severity < $1.severity || ($0.severity == $1.severity && $0.description < $1.description) }
    }

    var blocksEnergy: Bool { phases.keys.contains { $0.blocksEnergy } }

    func contains(_ fault: ConnectorFault) -> Bool { phases[fault] != nil }

    func phase(of fault: ConnectorFault) -> Phase? { phases[fault] }

    // MARK: - Changes

    /// Latches `fault` (again active, whatever test it was waiting for). Returns false when the
    /// report is ignored: a residual-current fault seen while its self-test runs is the test
    /// tripping the RCD on purpose, and the test's result decides.
    @discardableResult
    mutating func raise(_ fault: ConnectorFault) -> Bool {
        if fault.isResidualCurrent, phases[fault] == .awaitingSelfTest { return false }
        phases[fault] = .active
        return true
    }

    /// The source of `fault` says it is gone. Returns true when an RCD self-test must run now
    /// (not when one already runs for the other residual-current fault: one test answers both).
    @discardableResult
    mutating func sourceCleared(_ fault: ConnectorFault) -> Bool {
        guard phases[fault] == .active, fault.clearing == .whenSourceClears else { return false }
        guard fault.isResidualCurrent && rcdSelfTestAvailable else {
            phases[fault] = nil
            return false
        }
        phases[fault] = .awaitingSelfTest
        return !phases.contains { $0.key != fault && $0.value == .awaitingSelfTest }
    }

    /// The vehicle was unplugged (pilot A): what it caused or what held it goes with it.
    mutating func vehicleUnplugged() {
        for fault in phases.keys where fault.clearing == .onUnplugOrPerson || fault == .lock(.failedToLock) {
            phases[fault] = nil
        }
    }

    /// The lock reached its position: no lock fault is true any more.
    mutating func lockConfirmed() {
        for fault in phases.keys { if case .lock = fault { phases[fault] = nil } }
    }

    /// A person cleared the faults. Faults whose source still reports them stay; a failed
    /// self-test is run again. Returns true when that self-test must run.
    mutating func clearedByPerson() -> Bool {
        var rerunSelfTest = false
        for (fault, phase) in phases {
            switch (fault.clearing, phase) {
            case (.byPersonOnly, _), (.onUnplugOrPerson, _):
                phases[fault] = nil
            case (_, .selfTestFailed):
                phases[fault] = .awaitingSelfTest
                rerunSelfTest = true
            default:
                if case .lock = fault { phases[fault] = nil }
            }
        }
        return rerunSelfTest
    }

    /// The RCD self-test finished. Returns the fault it latched when nothing waited for it and
    /// it failed (a self-test at boot): that RCD is not to be trusted.
    mutating func selfTestFinished(passed: Bool) -> ConnectorFault? {
        let waiting = phases.filter { $0.key.isResidualCurrent && $0.value != .active }.map(\.key)
        guard waiting.isEmpty else {
            for fault in waiting { phases[fault] = passed ? nil : .selfTestFailed }
            return nil
        }
        guard !passed else { return nil }
        let rcd = ConnectorFault.input(.rcd)
        if phases[rcd] == nil { phases[rcd] = .selfTestFailed }
        return rcd
    }
}
