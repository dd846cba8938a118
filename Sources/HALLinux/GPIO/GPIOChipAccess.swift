import HAL

/// The seam between the GPIO line the drivers see (`LinuxGPIOLine`, with its edge-event pump)
/// and the libgpiod API version that talks to the kernel. libgpiod v1 (Debian 12: 1.6.x) is
/// in GPIOv1.swift; a v2 implementation (what newer distributions ship) provides the same two
/// protocols — see GPIOv2.md for what it has to do.
protocol GPIOChipAccess: Sendable {
    /// e.g. "libgpiod 1.6.3 (v1 API)".
    var apiDescription: String { get }
    /// Finds the line and requests it from the kernel with `config`. Errors name the chip, the
    /// line and, for a busy line, its current consumer.
    func request(_ address: GPIOLineAddress, config: GPIOLineConfig) throws -> any RequestedGPIOLine
}

/// A line held by this process. Values are logical (active-low applied by the kernel).
protocol RequestedGPIOLine: AnyObject, Sendable {
    /// "gpiochip0 line 17 (\"CP_RELAY\")", used in errors.
    var description: String { get }
    func getValue() throws -> Bool
    func setValue(_ active: Bool) throws
    /// The file descriptor that becomes readable when edge events are pending; nil for lines
    /// requested without edge detection.
    var eventFileDescriptor: Int32? { get }
    /// Reads the pending events; called only after the descriptor polled readable, from the
    /// line's reader thread. Timestamps are already on the monotonic clock.
    func readEvents() throws -> [GPIOEdgeEvent]
    /// Gives the line back to the kernel. Called once, after the reader thread has stopped.
    func release()
}
