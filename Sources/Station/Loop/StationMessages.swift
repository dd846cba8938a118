import ChargingCore
import HAL

extension Station {
    /// A backend's display message (`StationRequest.showMessage`): the one scheduler shows it
    /// from this step on, by its priority, states, window and transaction.
    /// Not a forced render: a burst of messages (a CSMS restoring fifty) costs one screen write
    /// per 250 ms, not one each, and the loop stays free for the pilot and fault inputs.
    public func showMessage(_ message: DisplayMessage, at now: MonotonicInstant) {
        scheduler.set(message)
        renderDisplay(at: now)
    }

    /// Takes a backend's display message off (`StationRequest.removeMessage`); false when the
    /// display had none with that id.
    public func removeMessage(id: Int, at now: MonotonicInstant) -> Bool {
        let had = scheduler.clear(id: id)
        if had { renderDisplay(at: now) }
        return had
    }

    /// The backend messages the display holds now, by id.
    public var displayMessages: [DisplayMessage] { scheduler.messages }

    /// Whether the station's display can show a QR code (none: no display, or a character LCD).
    public var displayCanShowQRCode: Bool { hardware.station.display?.canShowQRCode ?? false }
}
