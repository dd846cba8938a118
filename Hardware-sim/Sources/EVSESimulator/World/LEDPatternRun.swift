import HAL

/// A brightness pattern an LED class device repeats from `since`, as the kernel's `pattern`
/// trigger does: from each point's brightness to the next one's over the point's duration.
public struct LEDPatternRun: Sendable, Equatable {
    public var points: [LEDPatternPoint]
    public var since: MonotonicInstant

    public var periodMilliseconds: Int { points.reduce(0) { $0 + $1.milliseconds } }

    public func brightness(at now: MonotonicInstant) -> Double {
        let period = Int64(periodMilliseconds) * 1_000
        guard period > 0, let first = points.first else { return points.first?.brightness ?? 0 }
        var t = max(0, (now - since).microseconds) % period
        for (i, p) in points.enumerated() {
            let d = Int64(p.milliseconds) * 1_000
            if t < d {
                let next = i + 1 < points.count ? points[i + 1] : first
                return p.brightness + (next.brightness - p.brightness) * Double(t) / Double(d)
            }
            t -= d
        }
        return first.brightness
    }
}
