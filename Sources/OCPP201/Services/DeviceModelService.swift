import ChargingCore
import OCPP201DeviceModel
import OCPP201Messages
import OCPPJSON
import OCPPSecurity
import OCPPTransport
import StationPort

/// The device model on the 2.0.1 station (functional block B's variables and block N's
/// monitoring): the operations that read and write it, the settings the services take from it,
/// and the values the station reports into it.
///
/// - Settings: `OCPP201Settings(variables:base:)` maps `DeviceModel.variables` at start; every
///   accepted SetVariables change re-applies the whole snapshot (`apply(_:)`).
/// - What only the station knows: TxStartPoint/TxStopPoint values it cannot carry out and
///   NetworkConfigurationPriority slots without a network profile are refused at SetVariables
///   (`validateSetting`), ClockCtrlr.DateTime reads the wall clock, a BasicAuthPassword goes to
///   the authorization key file (`keepSecret`), never to the database.
/// - Station state: every connector status becomes its EVSE's and Connector's
///   AvailabilityState, every meter reading the EVSE's Power; the monitors on them are
///   evaluated on those real values and their events go out as NotifyEvent.
enum DeviceModelService {
    static func register(into registry: inout OCPP201OperationRegistry) {
        registry.registerImmediateAnswering(GetVariablesRequest.self) { station, request in station.getVariables(request) }
        registry.registerAnswering(SetVariablesRequest.self) { station, request in station.setVariables(request) }
        registry.registerAnswering(GetBaseReportRequest.self) { station, request in station.getBaseReport(request) }
        registry.registerAnswering(GetReportRequest.self) { station, request in station.getReport(request) }
        registry.registerAnswering(SetVariableMonitoringRequest.self) { station, request in station.setVariableMonitoring(request) }
        registry.registerAnswering(ClearVariableMonitoringRequest.self) { station, request in station.clearVariableMonitoring(request) }
        registry.registerAnswering(SetMonitoringBaseRequest.self) { station, request in station.setMonitoringBase(request) }
        registry.registerAnswering(SetMonitoringLevelRequest.self) { station, request in station.setMonitoringLevel(request) }
        registry.registerAnswering(GetMonitoringReportRequest.self) { station, request in station.getMonitoringReport(request) }
    }

    static let txStartPoint = VariableKey(component: "TxCtrlr", variable: "TxStartPoint")
    static let txStopPoint = VariableKey(component: "TxCtrlr", variable: "TxStopPoint")
}

extension OCPP201Settings {
    /// The device model's values; what it does not hold (the local list's capacity) is kept
    /// from `base`. A disabled SampledDataCtrlr / AlignedDataCtrlr sends no values of its kind.
    public init(variables v: OCPP201Variables, base: OCPP201Settings = OCPP201Settings()) {
        self = base
        heartbeatInterval = v.heartbeatInterval
        messageAttempts = v.messageAttempts
        messageAttemptInterval = v.messageAttemptInterval
        messageTimeout = v.messageTimeout
        offlineThreshold = v.offlineThreshold
        txStartPoint = Set(v.txStartPoint)
        txStopPoint = Set(v.txStopPoint)
        evConnectionTimeOut = v.evConnectionTimeOut
        stopTxOnInvalidId = v.stopTxOnInvalidId
        maxEnergyOnInvalidId = v.maxEnergyOnInvalidId
        stopTxOnEVSideDisconnect = v.stopTxOnEVSideDisconnect
        sampledDataTxUpdatedInterval = v.sampledData.enabled ? v.sampledData.txUpdatedInterval : 0
        sampledDataTxUpdatedMeasurands = v.sampledData.txUpdatedMeasurands
        sampledDataTxEndedMeasurands = v.sampledData.enabled ? v.sampledData.txEndedMeasurands : []
        alignedDataInterval = v.alignedData.enabled ? v.alignedData.interval : 0
        alignedDataMeasurands = v.alignedData.measurands
        authorizeRemoteStart = v.authorizeRemoteStart
        localPreAuthorize = v.localPreAuthorize
        localAuthorizeOffline = v.localAuthorizeOffline
        offlineTxForUnknownIdEnabled = v.offlineTxForUnknownIdEnabled
        authCacheEnabled = v.authCache.enabled
        authCachePolicy = v.authCache.policy
        authCacheLifeTime = v.authCache.lifeTime
        localAuthListEnabled = v.localAuthList.enabled
        if v.localAuthList.itemsPerMessage > 0 { localAuthListItemsPerMessage = v.localAuthList.itemsPerMessage }
        reservationEnabled = v.reservationEnabled
        limitChangeSignificancePercent = v.limitChangeSignificance
        notifyChargingLimitWithSchedules = v.notifyChargingLimitWithSchedules
        unlockOnEVSideDisconnect = v.unlockOnEVSideDisconnect
        displayMessagesEnabled = v.displayMessagesEnabled
        displayLanguage = v.displayLanguage.isEmpty ? nil : v.displayLanguage
        tariffEnabled = v.tariffCost.tariffEnabled
        costEnabled = v.tariffCost.costEnabled
        currency = v.tariffCost.currency
        tariffFallbackMessage = v.tariffCost.tariffFallbackMessage
        totalCostFallbackMessage = v.tariffCost.totalCostFallbackMessage
    }
}

extension OCPP201ChargingStation {
    /// Hooks the device model to this station: its checks, its clock, its changes. Once, at start.
    func attachDeviceModel() {
        guard let model = deviceModel else { return }
        for key in [DeviceModelService.txStartPoint, DeviceModelService.txStopPoint] {
            model.validateSetting(key) { value in
                OCPP201Settings.problem(withTransactionPoints: Set(value.split(separator: ",").map(String.init)))
            }
        }
        // SecurityCtrlr.BasicAuthPassword (A01): kept in the authorization key file, never in
        // the database, never read back; the connection uses it from the next connect on, at
        // once when the profile in use authenticates with it.
        if let keys = pki?.authorizationKeys {
            model.keepSecret(.basicAuthPassword) { password in try keys.savePassword(Array(password.utf8)) }
        }
        // Only slots that hold a network profile can be tried (slot 1: the station file's backend).
        let profiles = networkProfiles
        model.validateSetting(.networkConfigurationPriority) { value in
            let slots = value.split(separator: ",").compactMap { Int($0) }
            let empty = slots.filter { !profiles.holdsProfile(slot: $0) }
            return empty.isEmpty ? nil : "no network profile in configuration slot \(empty.map(String.init).joined(separator: ","))"
        }
        reportCertificateEntries()
        let unixMs = unixMs
        model.provideActual(.dateTime) { OCPPTimestamp.string(unixMs: unixMs()) }
        model.onChange { [weak self] key, _ in
            guard let self else { return }
            if key == .basicAuthPassword {
                Task { await self.basicAuthPasswordChanged() }
                return
            }
            Task { await self.reloadSettings() }
        }
    }

    /// A new BasicAuthPassword is stored: a connection that authenticates with one (security
    /// profile 1 or 2) reconnects with it, after the answer has gone out; it is never logged.
    func basicAuthPasswordChanged() async {
        recordSecurityEvent(SecurityEventService.reconfigurationOfSecurityParameters, atUnixMs: unixMs(), techInfo: "BasicAuthPassword")
        guard securityProfile == 1 || securityProfile == 2, let reconnect = connectionHooks.reconnect else { return }
        await sleep(.seconds(Int64(1)))
        reconnect()
    }

    /// The device model's settings now (after a SetVariables changed one) govern from here on.
    func reloadSettings() {
        guard let model = deviceModel else { return }
        apply(OCPP201Settings(variables: model.variables, base: settings))
    }

    /// A connector's status as its EVSE's and Connector's AvailabilityState (EVSE n has
    /// connector 1), with the monitors on them.
    func reportAvailability(evseId: Int, _ status: StatusNotificationRequest.ConnectorStatusEnumType, atUnixMs at: UInt64) {
        guard let model = deviceModel else { return }
        var events: [MonitorEvent] = []
        let timestamp = OCPPTimestamp.string(unixMs: at)
        for key in [VariableKey.evseAvailabilityState(evseId: evseId),
                    VariableKey.connectorAvailabilityState(evseId: evseId, connectorId: 1)] {
            model.setActual(key, status.rawValue)
            events += model.evaluateMonitors(key, status.rawValue, timestamp: timestamp, transactionId: runningSessions[evseId])
        }
        sendEvents(events)
    }

    /// A meter reading as the EVSE's Power (W), with the monitors on it.
    func reportPower(evseId: Int, _ sample: MeterSample) {
        guard let model = deviceModel, let power = sample.powerW, power.isFinite else { return }
        let key = VariableKey.evsePower(evseId: evseId)
        let text = String(Int(power.rounded()))
        model.setActual(key, text)
        sendEvents(model.evaluateMonitors(key, text, timestamp: OCPPTimestamp.string(unixMs: unixMs()),
                                          transactionId: runningSessions[evseId]))
    }

    /// NotifyEvent for monitor events, while the CSMS can be told (events raised offline are
    /// not kept: the next crossing is reported).
    func sendEvents(_ events: [MonitorEvent]) {
        guard !events.isEmpty else { return }
        guard mayInitiate else {
            logger.info("NotifyEvent: \(events.count) monitor event(s) not sent, offline")
            return
        }
        let request = NotifyEventRequest(generatedAt: OCPPTimestamp.string(unixMs: unixMs()), seqNo: 0, eventData: events)
        Task {
            do { _ = try await self.send(request) } catch { self.logger.info("NotifyEvent: \(error)") }
        }
    }

    /// Report pages one after the other, after the answer to the request that asked for them.
    func sendPages<R: OCPP201RequestPayload>(_ pages: [R]) async {
        for page in pages {
            do { _ = try await send(page) } catch {
                logger.info("\(R.action.rawValue): \(error); the rest of the report is not sent")
                return
            }
        }
    }

    static func deviceModelMissing(_ action: OCPP201Action) -> OCPPCallAnswer {
        OCPPCallAnswer(.failure(OCPPCallError(.notImplemented, "\(action.rawValue): this station runs without a device model")))
    }

    /// A request over the device model's ItemsPerMessage / BytesPerMessage: refused whole.
    static func refused(_ violation: DeviceModelLimitViolation) -> OCPPCallAnswer {
        let code: OCPPErrorCode = switch violation {
        case .tooManyItems: .occurrenceConstraintViolation
        case .tooManyBytes: .formationViolation
        }
        return OCPPCallAnswer(.failure(OCPPCallError(code, violation.description)))
    }
}
