import HAL
import Logging
import StationPort

/// The installation: at the install date, once no session runs (the connectors made
/// Unavailable meanwhile), the image goes to the installer, then the restart into it.
extension FirmwareService {
    /// The install date, an installer, no session: connectors Unavailable first (Scheduled
    /// where a session runs), so no new session starts while the running ones end.
    func prepareInstallation(_ g: Int) async {
        guard var j = current(g) else { return }
        if let at = j.installAtMs, at > unixMs() {
            if j.lastStatus != .installScheduled { report(.installScheduled, g) }
            await waitUntil(at, g)
            return
        }
        guard settings.installer != nil else {
            logger.error("firmware: no installer configured (firmware.installer in the station file): the downloaded image \(j.file) is not installed")
            finish(g, reporting: .installationFailed)
            return
        }
        if j.blockedConnectors.isEmpty {
            j.blockedConnectors = await station.connectors().filter { $0.status != .unavailable }.map(\.id)
            setJob(j, g)
            for id in j.blockedConnectors { station.submit(.changeAvailability(connectorId: id, operative: false)) }
            logger.notice("firmware: connectors \(j.blockedConnectors) unavailable until the installation is over")
        }
        // At least one loop step for the station to apply it, then until every session ended.
        repeat {
            await sleep(.seconds(Int64(1)))
            guard current(g) != nil else { return }
        } while await station.connectors().contains { $0.session != nil }
        guard var ready = current(g) else { return }
        ready.phase = .installing
        setJob(ready, g)
        report(.installing, g)
    }

    func install(_ g: Int) async {
        guard let j = current(g), let installer = settings.installer else { return }
        logger.notice("firmware: installing \(j.file)")
        let outcome = await installer.install(firmwareAt: j.file)
        // Not cancellable: the state is the installation's, whatever arrived meanwhile.
        guard g == generation, var done = job else { return }
        switch outcome {
        case .installed:
            done.phase = .restarting
            job = done
            save()
            logger.notice("firmware: installed; restarting into it")
            if done.kind == .signed { report(.installRebooting, g) }
            // Up to 10 s for the notifications to reach the CSMS; what is left is sent after the restart.
            for _ in 0..<50 where reporter.hasStatusOwed { await sleep(.milliseconds(Int64(200))) }
            station.submit(.restart(hard: false))
        case .failed(let reason):
            logger.error("firmware: installation failed: \(reason)")
            finish(g, reporting: .installationFailed)
        }
    }

    func installedReported(_ g: Int) {
        guard g == generation, var j = job, j.phase == .reportingInstalled else { return }
        j.phase = .finished
        job = j
        save()
    }
}
