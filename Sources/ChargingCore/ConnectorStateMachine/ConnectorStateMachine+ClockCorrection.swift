extension ConnectorStateMachine {
    /// The station learned the true time: the open session's times taken while the wall clock
    /// was unset move by `deltaMs` (see `Session.correctTimes`), and so does the anchor the
    /// machine derives wall times from, so every time it hands out from now on is right.
    public mutating func correctTimes(recordedBeforeMs floorMs: UInt64, byMs deltaMs: Int64) {
        if let anchor = wallAnchor {
            wallAnchor = (anchor.mono, Session.corrected(anchor.unixMs, floorMs: floorMs, deltaMs: deltaMs))
        }
        switch phase {
        case .idle:
            break
        case .running(var session, let groupCheck):
            session.correctTimes(recordedBeforeMs: floorMs, byMs: deltaMs)
            phase = .running(session, groupCheck: groupCheck)
        case var .stopping(stopping):
            stopping.session.correctTimes(recordedBeforeMs: floorMs, byMs: deltaMs)
            phase = .stopping(stopping)
        }
    }
}
