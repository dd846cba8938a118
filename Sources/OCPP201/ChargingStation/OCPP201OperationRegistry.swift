import OCPP201Messages
import OCPPJSON
import OCPPTransport

/// Which handler answers each inbound CALL. Every service registers the operations it owns
/// (`register(into:)` beside the service), so the handler of a message is found by its action
/// in one place. An action nobody registered is NotImplemented (the device model's
/// GetVariables, SetVariables, reports and monitoring when the station runs without one).
public struct OCPP201OperationRegistry: Sendable {
    /// Decodes the payload and answers it on the station's actor.
    typealias Handler = @Sendable (isolated OCPP201ChargingStation, JSONValue) async -> OCPPCallAnswer

    /// Decodes the payload and answers it on the station's actor without suspending.
    typealias ImmediateHandler = @Sendable (isolated OCPP201ChargingStation, JSONValue) -> OCPPCallAnswer

    private var handlers: [OCPP201Action: Handler] = [:]
    /// The actions whose handler never suspends: answered on the thread that read the CALL
    /// (`OCPP201ChargingStation.answerImmediately`), with no task and no actor hop.
    private var immediateHandlers: [OCPP201Action: ImmediateHandler] = [:]
    /// How often each action was registered: more than once is a wiring mistake (the first
    /// registration answers), which a test looks for.
    public private(set) var registrations: [OCPP201Action: Int] = [:]

    public init() {}

    /// The actions this station answers.
    public var actions: Set<OCPP201Action> { Set(handlers.keys) }

    /// `respond` answers `R` with its response.
    mutating func register<R: OCPP201RequestPayload>(
        _ type: R.Type, _ respond: @escaping @Sendable (isolated OCPP201ChargingStation, R) async -> R.Response
    ) {
        registerAnswering(type) { station, request in OCPPCallAnswer(.success(await respond(station, request).toJSON())) }
    }

    /// `answer` gives the whole answer: a CallError, or work for after the reply (a trigger's message).
    /// `precheck` sees the payload before the schema does: an operation whose spec has a status
    /// for a value the schema forbids (an unknown message state) answers with it instead of a CallError.
    mutating func registerAnswering<R: OCPP201RequestPayload>(
        _ type: R.Type, precheck: (@Sendable (JSONValue) -> OCPPCallAnswer?)? = nil,
        _ answer: @escaping @Sendable (isolated OCPP201ChargingStation, R) async -> OCPPCallAnswer
    ) {
        registrations[R.action, default: 0] += 1
        guard handlers[R.action] == nil else { return }
        handlers[R.action] = { station, payload in
            if let early = precheck?(payload) { return early }
            switch Self.decode(payload, as: R.self) {
            case .success(let request): return await answer(station, request)
            case .failure(let error): return OCPPCallAnswer(.failure(error))
            }
        }
    }

    /// `payload` as an R, or the CallError its schema violation gets.
    private static func decode<R: OCPP201RequestPayload>(_ payload: JSONValue, as: R.Type) -> Result<R, OCPPCallError> {
        do { return .success(try R(json: payload)) } catch {
            return .failure(OCPPCallError(OCPP201ChargingStation.code(error), error.description))
        }
    }

    /// `answer` gives the whole answer without suspending (a read of the station's state): the
    /// CALL is answered where it was read when the station's loop reads it.
    mutating func registerImmediateAnswering<R: OCPP201RequestPayload>(
        _ type: R.Type, _ answer: @escaping @Sendable (isolated OCPP201ChargingStation, R) -> OCPPCallAnswer
    ) {
        registerAnswering(type) { station, request in answer(station, request) }
        guard registrations[R.action] == 1 else { return }
        immediateHandlers[R.action] = { station, payload in
            switch Self.decode(payload, as: R.self) {
            case .success(let request): return answer(station, request)
            case .failure(let error): return OCPPCallAnswer(.failure(error))
            }
        }
    }

    /// An operation served outside this adapter (the device model): `respond` runs off the
    /// station's actor.
    public mutating func registerExternal<R: OCPP201RequestPayload>(
        _ type: R.Type, _ respond: @escaping @Sendable (R) async -> R.Response
    ) {
        register(type) { _, request in await respond(request) }
    }

    /// The other registry's operations, where this one has none for the action.
    mutating func add(_ other: OCPP201OperationRegistry) {
        for (action, handler) in other.handlers {
            registrations[action, default: 0] += other.registrations[action] ?? 1
            if handlers[action] == nil {
                handlers[action] = handler
                immediateHandlers[action] = other.immediateHandlers[action]
            }
        }
    }

    func handler(for action: OCPP201Action) -> Handler? { handlers[action] }
    func immediateHandler(for action: OCPP201Action) -> ImmediateHandler? { immediateHandlers[action] }
    /// The actions answered without suspending.
    public var immediateActions: Set<OCPP201Action> { Set(immediateHandlers.keys) }
}

extension OCPP201ChargingStation {
    /// Every service's operations, then the ones served outside the adapter.
    static func operations(external: OCPP201OperationRegistry, deviceModel: Bool) -> OCPP201OperationRegistry {
        var registry = OCPP201OperationRegistry()
        BootService.register(into: &registry)
        AvailabilityService.register(into: &registry)
        TransactionEventService.register(into: &registry)
        RemoteControlService.register(into: &registry)
        AuthorizationService.register(into: &registry)
        ReservationService.register(into: &registry)
        DisplayMessageService.register(into: &registry)
        TariffCostService.register(into: &registry)
        SmartChargingService.register(into: &registry)
        CertificateService.register(into: &registry)
        NetworkProfileService.register(into: &registry)
        FirmwareUpdateService.register(into: &registry)
        LogService.register(into: &registry)
        CustomerInformationService.register(into: &registry)
        if deviceModel { DeviceModelService.register(into: &registry) }
        registry.add(external)
        return registry
    }

    /// The RPC layer's handler: an unknown action is NotImplemented; before registration only a
    /// Pending station answers (B02); a registered handler decodes and answers.
    public func answer(action: String, payload: JSONValue) async -> OCPPCallAnswer {
        guard let known = OCPP201Action(rawValue: action) else {
            return OCPPCallAnswer(.failure(OCPPCallError(.notImplemented, "unknown action \(action)")))
        }
        await waitForBootAnswer()
        guard registration == .accepted || registration == .pending else {
            // B03: while Rejected (or before the first answer) the CSMS gets no service.
            return OCPPCallAnswer(.failure(OCPPCallError(.securityError, "not registered with the CSMS")))
        }
        guard let handler = operations.handler(for: known) else {
            // Still checked against the schema: a malformed CALL is told so, whoever would answer it.
            do { _ = try OCPP201Messages.decodeRequest(action: known, payload: payload) } catch {
                return OCPPCallAnswer(.failure(OCPPCallError(Self.code(error), error.description)))
            }
            return OCPPCallAnswer(.failure(OCPPCallError(.notImplemented, "\(action) is not supported by this charging station yet")))
        }
        return await handler(self, payload)
    }

    /// The RPC layer's immediate handler: the answer to a CALL whose handler never suspends,
    /// given at once when called on the station's event loop (the one that reads the socket in
    /// the firmware) while registered; nil otherwise, and `answer(action:payload:)` answers it.
    /// The answer is the one `answer(action:payload:)` gives.
    public nonisolated func answerImmediately(action: String, payload: JSONValue) -> OCPPCallAnswer? {
        guard let known = OCPP201Action(rawValue: action), let handler = operations.immediateHandler(for: known),
              executorLoop.inEventLoop else { return nil }
        return assumeIsolated { station in station.answerWithoutSuspending(payload, handler) }
    }

    private func answerWithoutSuspending(_ payload: JSONValue, _ handler: OCPP201OperationRegistry.ImmediateHandler) -> OCPPCallAnswer? {
        // Not registered yet (or refused): the async path waits for the boot answer or refuses.
        guard registration == .accepted || registration == .pending else { return nil }
        return handler(self, payload)
    }

    /// For callers without a socket (tests, tools): the answer; work promised after the reply
    /// starts at once.
    public func handle(action: String, payload: JSONValue) async -> Result<JSONValue, OCPPCallError> {
        let outcome = await answer(action: action, payload: payload)
        if let afterReply = outcome.afterReply { Task { await afterReply() } }
        return outcome.result
    }

    /// The generated decoders' verdicts, as the RPC layer's codes (the 2.0.1 dialect spells them).
    static func code(_ error: OCPPPayloadError) -> OCPPErrorCode {
        switch error {
        case .formationViolation: .formationViolation
        case .typeConstraintViolation: .typeConstraintViolation
        case .occurrenceConstraintViolation: .occurrenceConstraintViolation
        case .propertyConstraintViolation: .propertyConstraintViolation
        }
    }
}
