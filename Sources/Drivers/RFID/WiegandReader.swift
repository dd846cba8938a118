import HAL

/// A Wiegand reader on two GPIO input lines (requested with falling or both edges). Poll it
/// every few milliseconds; the backend keeps the kernel's timestamps, so a late poll loses
/// nothing and decodes the same.
public final class WiegandReader: CardReader {
    public let d0: any GPIOLine
    public let d1: any GPIOLine
    private var decoder: WiegandDecoder
    /// Events drained but not yet decoded: younger than the reorder window, or drained from
    /// D0 while D1's drain failed.
    private var pending: [(WiegandDataLine, GPIOEdgeEvent)] = []
    /// How long an edge waits before it is decoded. Each line is drained on its own (and the
    /// backends deliver each line's events on their own path), so an edge of one line can
    /// arrive a poll later than a newer edge of the other line; decoding only edges older than
    /// this window puts both lines back in timestamp order before the decoder sees them.
    public let reorderWindow: EVSEDuration
    private var rejections: [CardReadRejection] = []
    /// Frames of the cards returned so far by the last poll (facility code and card number).
    public private(set) var lastFrames: [WiegandFrame] = []

    public init(d0: any GPIOLine, d1: any GPIOLine, config: WiegandConfig = .init(),
                reorderWindow: EVSEDuration = .milliseconds(5)) {
        self.d0 = d0
        self.d1 = d1
        self.reorderWindow = reorderWindow
        self.decoder = WiegandDecoder(config: config)
    }

    public var config: WiegandConfig { decoder.config }

    public func poll(at now: MonotonicInstant) throws -> [CardRead] {
        var events = pending
        events += try d0.drainEdgeEvents().map { (WiegandDataLine.d0, $0) }
        pending = events
        events += try d1.drainEdgeEvents().map { (WiegandDataLine.d1, $0) }
        // Stable: equal timestamps keep D0 before D1, which the decoder treats as noise anyway.
        let ordered = events.enumerated().sorted {
            ($0.element.1.timestamp, $0.offset) < ($1.element.1.timestamp, $1.offset)
        }.map(\.element)
        let horizon = now - reorderWindow
        let settled = ordered.prefix { $0.1.timestamp <= horizon }
        pending = Array(ordered.dropFirst(settled.count))

        var outcomes: [WiegandOutcome] = []
        for (line, event) in settled { outcomes += decoder.ingest(event, on: line) }
        // A frame closes only when no edge of it can still be waiting in `pending`.
        outcomes += decoder.finish(at: pending.first.map { min($0.1.timestamp, horizon) } ?? horizon)

        var cards: [CardRead] = []
        lastFrames = []
        for outcome in outcomes {
            switch outcome {
            case let .card(card, frame):
                cards.append(card)
                lastFrames.append(frame)
            case let .rejected(r):
                rejections.append(r)
            }
        }
        return cards
    }

    public var isReadingCard: Bool { !pending.isEmpty || decoder.hasPartialFrame }

    public func drainRejections() -> [CardReadRejection] {
        defer { rejections.removeAll() }
        return rejections
    }
}
