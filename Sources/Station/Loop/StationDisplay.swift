import ChargingCore
import Drivers
import HAL

extension Station {
    /// What one connector's screen is about now.
    func displayState(_ c: Connector, at now: MonotonicInstant) -> DisplayState {
        let m = c.machine
        if m.hasBlockingFault || m.status == .faulted {
            return .faulted(Self.displayFault(m.errorKind))
        }
        if let denied = c.lastDenied, now - denied.at < .seconds(Int64(5)) { return .authorizationRejected }
        if let s = m.session {
            let kWh = (c.lastMeterSample.map { max(0, $0.energyWh - s.meterStartWh) } ?? s.energyWh) / 1_000
            let elapsed = Int((wallClock.unixMilliseconds() &- s.startedAtUnixMs) / 1_000)
            switch m.status {
            case .charging?:
                return .charging(powerKilowatts: (c.lastMeterSample?.powerW ?? 0) / 1_000, energyKilowattHours: kWh,
                                 elapsedSeconds: elapsed)
            default:
                return .suspended(byVehicle: m.status == .suspendedEV, energyKilowattHours: kWh, elapsedSeconds: elapsed)
            }
        }
        if let f = c.lastFinished, m.pilot?.vehicleConnected ?? false {
            return .finished(energyKilowattHours: f.energyWh / 1_000, durationSeconds: f.seconds)
        }
        switch m.status {
        case .unavailable?: return .unavailable
        case .reserved?: return .reserved
        case .preparing?: return (m.pilot?.vehicleConnected ?? false) ? .idle : .plugInCable
        default: return .idle
        }
    }

    static func displayFault(_ kind: ConnectorErrorKind?) -> DisplayFault {
        switch kind {
        case .groundFailure?: return .groundFailure
        case .emergencyStop?: return .emergencyStop
        case .overTemperature?: return .overTemperature
        case .powerSwitchFailure?: return .contactorWelded
        case .lockFailure?: return .lockFailure
        case .meterFailure?: return .meterFailure
        case .readerFailure?: return .readerFailure
        case .overCurrent?: return .overCurrent
        default: return .pilotFault
        }
    }

    /// The one station display shows the connector that matters most: a fault, then a
    /// session, then one waiting for a card.
    func renderDisplay(at now: MonotonicInstant, force: Bool = false) {
        guard let display = hardware.station.display else { return }
        if !force, let last = lastDisplayAt, now - last < Self.displayMinimumInterval {
            displayRefreshPending = true
            return
        }
        lastDisplayAt = now
        displayRefreshPending = false
        func rank(_ c: Connector) -> Int {
            if c.machine.hasBlockingFault { return 0 }
            if c.lastDenied.map({ now - $0.at < .seconds(Int64(5)) }) ?? false { return 1 }
            if c.machine.session != nil { return 2 }
            if c.machine.status == .preparing || c.lastFinished != nil { return 3 }
            return 4
        }
        guard let c = connectors.min(by: { rank($0) < rank($1) }) else { return }
        let state = displayState(c, at: now)
        let price = priceLine(c, state: state, backendOnline: authorization.backend.isOnline)
        let languages = languagePreference(c)
        let driverLanguage = languages.lazy.compactMap { DisplayLanguage(tag: $0) }.first
        let qrCode = display.canShowQRCode ? qrCodeText(c, state: state) : nil
        // Beside a QR code the text has the columns left of it.
        var layout = scheduler
        if qrCode != nil { layout.columns = display.columnsBesideQRCode }
        // A 2.0.1 transaction can begin before its session (TxStartPoint EVConnected or
        // Authorized): it carries the prelude's id, which the session takes over.
        var lines = layout.frame(at: Int64(wallClock.unixMilliseconds() / 1_000), state: state,
                                 transactionId: c.machine.session?.id ?? c.machine.prelude?.id, language: driverLanguage,
                                 languages: languages, price: price)
        if connectors.count > 1, rank(c) < 4, let first = lines.first, first.count + 3 <= layout.columns {
            lines[0] = first + String(repeating: " ", count: layout.columns - first.count - 2) + "#\(c.id)"
        }
        // The grid meter's fallback on the last row: the person sees why charging is slow.
        if let notice = gridFallbackNotice, display.rows > 1 {
            while lines.count < display.rows { lines.append("") }
            lines[display.rows - 1] = String(notice.prefix(display.columns))
        }
        guard force || lines != lastDisplayLines || qrCode != lastDisplayQRCode else { return }
        do {
            try display.show(lines: lines, qrCode: qrCode)
            lastDisplayLines = lines
            lastDisplayQRCode = qrCode
            if displayFailing { displayFailing = false; logger.notice("display answers again") }
        } catch {
            if !displayFailing { displayFailing = true; logger.error("display: \(error)") }
        }
    }

    /// Only the LEDs' next blink or brightness step is due (`StationLoop`'s LED-only turn):
    /// writes the LEDs that change and returns their next changes, without the rest of a step.
    public func stepLEDs(at now: MonotonicInstant) -> [MonotonicInstant] {
        for c in connectors { updateLED(c, at: now) }
        return connectors.compactMap { $0.hw.led?.nextChange(after: now) }
    }

    func updateLED(_ c: Connector, at now: MonotonicInstant) {
        guard let led = c.hw.led else { return }
        let pattern: LEDPattern
        switch c.machine.status {
        case .available?: pattern = .solid(.green)
        case .preparing?: pattern = .blinkSlow(.blue)
        case .charging?: pattern = .pulse(.blue)
        case .suspendedEV?, .suspendedEVSE?: pattern = .solid(.blue)
        case .finishing?: pattern = .blinkSlow(.green)
        case .reserved?: pattern = .solid(.yellow)
        case .unavailable?: pattern = .off
        case .faulted?: pattern = .blinkFast(.red)
        case nil: pattern = .off
        }
        do {
            if led.pattern != pattern { try led.set(pattern, at: now) }
            _ = try led.update(at: now)
        } catch {
            // An LED is not worth a log line per step.
        }
    }
}
