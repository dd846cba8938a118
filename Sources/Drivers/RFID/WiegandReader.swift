import HAL

/// A Wiegand reader on two GPIO input lines (requested with falling or both edges). Poll it
/// every few milliseconds; the backend keeps the kernel's timestamps, so a late poll loses
/// nothing and decodes the same.
public final class WiegandReader: CardReader {
    public let d0: any GPIOLine
    public let d1: any GPIOLine
    private var decoder: WiegandDecoder
    /// Events drained from D0 while D1's drain failed: kept for the next poll.
    private var carried: [(WiegandDataLine, GPIOEdgeEvent)] = []
    private var rejections: [CardReadRejection] = []
    /// Frames of the cards returned so far by the last poll (facility code and card number).
    public private(set) var lastFrames: [WiegandFrame] = []

    public init(d0: any GPIOLine, d1: any GPIOLine, config: WiegandConfig = .init()) {
        self.d0 = d0
        self.d1 = d1
        self.decoder = WiegandDecoder(config: config)
    }

    public var config: WiegandConfig { decoder.config }

    public func poll(at now: MonotonicInstant) throws -> [CardRead] {
        var events = carried
        events += try d0.drainEdgeEvents().map { (WiegandDataLine.d0, $0) }
        carried = events
        events += try d1.drainEdgeEvents().map { (WiegandDataLine.d1, $0) }
        carried = []
        // Stable: equal timestamps keep D0 before D1, which the decoder treats as noise anyway.
        let ordered = events.enumerated().sorted {
            ($0.element.1.timestamp, $0.offset) < ($1.element.1.timestamp, $1.offset)
        }.map(\.element)

        var outcomes: [WiegandOutcome] = []
        for (line, event) in ordered { outcomes += decoder.ingest(event, on: line) }
        outcomes += decoder.finish(at: now)

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

    public func drainRejections() -> [CardReadRejection] {
        defer { rejections.removeAll() }
        return rejections
    }
}
