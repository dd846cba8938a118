import LogUpload
import FirmwareUpdate
import OCPP16Messages
import OCPPJSON
import OCPPTransport

/// Which handler answers each inbound CALL. Every feature registers the operations it owns
/// (`register(into:)` beside the feature: `ConfigurationService`, `SmartChargingService`, …, and
/// the charge point's own Core operations below), so the handler of a message is found by its
/// action in one place, and the charge point only decodes and dispatches. An action nobody
/// registered is NotImplemented.
public struct OCPP16OperationRegistry: Sendable {
    /// Answers one decoded request on the charge point's actor.
    typealias Handler = @Sendable (isolated OCPP16ChargePoint, OCPP16AnyRequest) async -> OCPPCallAnswer

    /// Answers one decoded request on the charge point's actor without suspending.
    typealias ImmediateHandler = @Sendable (isolated OCPP16ChargePoint, OCPP16AnyRequest) -> OCPPCallAnswer

    private var handlers: [OCPP16Action: Handler] = [:]
    /// The actions whose handler never suspends: answered on the thread that read the CALL
    /// (`OCPP16ChargePoint.answerImmediately`), with no task and no actor hop.
    private var immediateHandlers: [OCPP16Action: ImmediateHandler] = [:]
    /// How often each action was registered: more than once is a wiring mistake (the first
    /// registration answers), which a test looks for rather than a trap at start.
    public private(set) var registrations: [OCPP16Action: Int] = [:]

    init() {}

    /// The actions this charge point answers.
    public var actions: Set<OCPP16Action> { Set(handlers.keys) }

    /// `respond` answers `R` with its response.
    mutating func register<R: OCPP16RequestPayload>(
        _ type: R.Type, _ respond: @escaping @Sendable (isolated OCPP16ChargePoint, R) async -> R.Response
    ) {
        registerAnswering(type) { chargePoint, request in
            OCPPCallAnswer(.success(await respond(chargePoint, request).toJSON()))
        }
    }

    /// `respond` answers `R` with its response without suspending (a read of the charge point's
    /// state): the CALL is answered where it was read when the charge point's loop reads it.
    mutating func registerImmediate<R: OCPP16RequestPayload>(
        _ type: R.Type, _ respond: @escaping @Sendable (isolated OCPP16ChargePoint, R) -> R.Response
    ) {
        register(type) { chargePoint, request in respond(chargePoint, request) }
        guard registrations[R.action] == 1 else { return }
        immediateHandlers[R.action] = { chargePoint, request in
            OCPPCallAnswer(Self.typed(request, as: R.self).map { respond(chargePoint, $0).toJSON() })
        }
    }

    /// `answer` gives the whole answer: a CallError, or work for after the reply (a trigger's message).
    mutating func registerAnswering<R: OCPP16RequestPayload>(
        _ type: R.Type, _ answer: @escaping @Sendable (isolated OCPP16ChargePoint, R) async -> OCPPCallAnswer
    ) {
        registrations[R.action, default: 0] += 1
        guard handlers[R.action] == nil else { return }
        handlers[R.action] = { chargePoint, request in
            switch Self.typed(request, as: R.self) {
            case .success(let typed): return await answer(chargePoint, typed)
            case .failure(let error): return OCPPCallAnswer(.failure(error))
            }
        }
    }

    /// The request was decoded for R's action, so it is an R: the cast only unwraps it.
    private static func typed<R: OCPP16RequestPayload>(_ request: OCPP16AnyRequest, as: R.Type) -> Result<R, OCPPCallError> {
        guard let typed = request.payload as? R else {
            return .failure(OCPPCallError(.internalError, "\(R.action.rawValue) decoded as \(request.action.rawValue)"))
        }
        return .success(typed)
    }

    func handler(for action: OCPP16Action) -> Handler? { handlers[action] }
    func immediateHandler(for action: OCPP16Action) -> ImmediateHandler? { immediateHandlers[action] }
    /// The actions answered without suspending.
    public var immediateActions: Set<OCPP16Action> { Set(immediateHandlers.keys) }
}

extension OCPP16ChargePoint {
    /// Every feature's operations; the optional services' only where they run.
    static func operations(firmware: Bool, diagnostics: Bool) -> OCPP16OperationRegistry {
        var registry = OCPP16OperationRegistry()
        registerCoreOperations(into: &registry)
        ConfigurationService.register(into: &registry)
        TransactionService.register(into: &registry)
        LocalListService.register(into: &registry)
        ReservationService.register(into: &registry)
        SmartChargingService.register(into: &registry)
        TriggerService.register(into: &registry)
        SecurityService.register(into: &registry)
        if firmware { FirmwareService.register(into: &registry) }
        if diagnostics { DiagnosticsService.register(into: &registry) }
        return registry
    }

    /// The Core profile's operations on the station itself (availability, reset, the cable
    /// lock, the authorization cache, vendor data); the rest of Core is registered by the
    /// configuration and the transactions.
    static func registerCoreOperations(into registry: inout OCPP16OperationRegistry) {
        registry.register(ChangeAvailabilityRequest.self) { chargePoint, request in await chargePoint.changeAvailability(request) }
        registry.register(ResetRequest.self) { chargePoint, request in chargePoint.reset(request) }
        registry.register(UnlockConnectorRequest.self) { chargePoint, request in await chargePoint.unlockConnector(request) }
        registry.register(ClearCacheRequest.self) { chargePoint, request in await chargePoint.clearCache(request) }
        registry.register(DataTransferRequest.self) { chargePoint, request in await chargePoint.dataTransfer(request) }
    }

    // MARK: Inbound CALLs

    /// For callers without a socket (tests, tools): the answer, and what it promised to send
    /// after it started at once. The RPC layer uses `answer(action:payload:)` instead, which
    /// leaves the start to it, after the reply is on the wire.
    public func handle(action: String, payload: JSONValue) async -> Result<JSONValue, OCPPCallError> {
        let outcome = await answer(action: action, payload: payload)
        if let afterReply = outcome.afterReply { Task { await afterReply() } }
        return outcome.result
    }

    /// The RPC layer's immediate handler: the answer to a CALL whose handler never suspends,
    /// given at once when called on the charge point's event loop (the one that reads the
    /// socket in the firmware) while registered; nil otherwise, and `answer(action:payload:)`
    /// answers it. The answer is the one `answer(action:payload:)` gives.
    public nonisolated func answerImmediately(action: String, payload: JSONValue) -> OCPPCallAnswer? {
        guard let known = OCPP16Action(rawValue: action), let handler = operations.immediateHandler(for: known),
              executorLoop.inEventLoop else { return nil }
        return assumeIsolated { chargePoint in chargePoint.answerWithoutSuspending(known, payload: payload, handler) }
    }

    private func answerWithoutSuspending(_ action: OCPP16Action, payload: JSONValue,
                                         _ handler: OCPP16OperationRegistry.ImmediateHandler) -> OCPPCallAnswer? {
        // Not registered yet (or refused): the async path waits for the boot answer or refuses.
        guard registration == .accepted || registration == .pending else { return nil }
        do {
            return handler(self, try OCPP16Messages.decodeRequest(action: action, payload: payload))
        } catch {
            return OCPPCallAnswer(.failure(OCPPCallError(Self.code(error), error.description)))
        }
    }

    /// The RPC layer's handler: decode and validate, then the registered handler answers; a
    /// trigger's message is the answer's `afterReply`, for the RPC layer to start.
    public func answer(action: String, payload: JSONValue) async -> OCPPCallAnswer {
        guard let known = OCPP16Action(rawValue: action) else {
            return OCPPCallAnswer(.failure(OCPPCallError(.notImplemented, "unknown action \(action)")))
        }
        await waitForBootAnswer()
        guard registration == .accepted || registration == .pending else {
            return OCPPCallAnswer(.failure(OCPPCallError(.securityError, "not registered with the Central System")))
        }
        // Decoded before the lookup: a malformed payload gets its CallError whoever handles it.
        let request: OCPP16AnyRequest
        do {
            request = try OCPP16Messages.decodeRequest(action: known, payload: payload)
        } catch {
            return OCPPCallAnswer(.failure(OCPPCallError(Self.code(error), error.description)))
        }
        guard let handler = operations.handler(for: known) else {
            return OCPPCallAnswer(.failure(OCPPCallError(.notImplemented, "\(action) is not supported by this charge point yet")))
        }
        return await handler(self, request)
    }

    static func code(_ error: OCPPPayloadError) -> OCPPErrorCode {
        switch error {
        case .formationViolation: return .formationViolation
        case .typeConstraintViolation: return .typeConstraintViolation
        case .occurrenceConstraintViolation: return .occurrenceConstraintViolation
        case .propertyConstraintViolation: return .propertyConstraintViolation
        }
    }
}
