import HAL
import Logging
import NIOCore
import OCPPJSON
import Locking
import Synchronization

/// Serves one inbound CALL: the payload of a CALLRESULT, or the error of a CALLERROR.
/// Unknown actions answer `.notImplemented`; schema violations answer the matching code.
public typealias OCPPCallHandler = @Sendable (_ action: String, _ payload: JSONValue) async
    -> Result<JSONValue, OCPPCallError>

/// Why an outbound CALL produced no result.
public enum OCPPRPCError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The other side answered with a CALLERROR (code nil when its spelling is unknown).
    case callError(code: OCPPErrorCode?, spelledCode: String, description: String, details: JSONValue)
    /// No answer within the call timeout.
    case timeout(action: String)
    /// The connection dropped while the CALL was outstanding; it may or may not have arrived.
    case connectionLost(action: String)
    /// The answer was a broken CALLRESULT/CALLERROR for our message id.
    case malformedResponse(String)
    /// The caller's task was cancelled.
    case cancelled
    /// The RPC layer was shut down.
    case shutDown

    public var description: String {
        switch self {
        case .callError(_, let code, let text, _): return "CALLERROR \(code): \(text)"
        case .timeout(let action): return "\(action): no answer within the call timeout"
        case .connectionLost(let action): return "\(action): connection lost while waiting for the answer"
        case .malformedResponse(let reason): return "malformed answer: \(reason)"
        case .cancelled: return "call cancelled"
        case .shutDown: return "RPC layer shut down"
        }
    }
}

/// OCPP-J RPC over any text transport: frames, message ids, at most one outstanding CALL (the
/// others wait in order, also while offline), call timeouts, and answers to inbound CALLs.
///
/// The transport tells it `transportUp(send:)`, `transportDown()` and `receive(_:)`.
/// Timers run on `timerLoop`, so tests drive timeouts with `NIOAsyncTestingEventLoop`.
public final class OCPPRPC: Sendable {
    public let dialect: OCPPRPCDialect
    private let timerLoop: any EventLoop
    private let messageIDs: OCPPMessageIDGenerator
    private let handler: OCPPCallAnsweringHandler
    private let immediateHandler: OCPPImmediateCallHandler?
    private let logger: Logger
    private let state = Mutex(State())

    private struct PendingCall: Sendable {
        let serial: UInt64
        let id: String
        let action: String
        let frameText: String
        let continuation: CheckedContinuation<Result<JSONValue, OCPPRPCError>, Never>
    }

    private struct Outstanding: Sendable {
        let call: PendingCall
        let timeout: Scheduled<Void>?
    }

    private struct State: Sendable {
        var callTimeout: EVSEDuration = .seconds(Int64(30))
        var queue: [PendingCall] = []
        var outstanding: Outstanding?
        var send: (@Sendable (String) -> Void)?
        var generation: UInt64 = 0
        var nextSerial: UInt64 = 0
        var cancelledSerials: Set<UInt64> = []
        var isShutDown = false
    }

    /// What to do after leaving the lock: sends and resumptions never run under it.
    private enum Effect {
        case send(@Sendable (String) -> Void, String)
        case resume(CheckedContinuation<Result<JSONValue, OCPPRPCError>, Never>, Result<JSONValue, OCPPRPCError>)
    }

    public convenience init(dialect: OCPPRPCDialect, timerLoop: any EventLoop, callTimeout: EVSEDuration = .seconds(Int64(30)),
                            messageIDs: OCPPMessageIDGenerator = .randomUUID,
                            logger: Logger = Logger(label: "ocpp.rpc"),
                            handler: @escaping OCPPCallHandler) {
        self.init(dialect: dialect, timerLoop: timerLoop, callTimeout: callTimeout, messageIDs: messageIDs, logger: logger,
                  answering: { action, payload in OCPPCallAnswer(await handler(action, payload)) })
    }

    /// `answering` may attach work to its answer that runs once the reply is on its way
    /// (`OCPPCallAnswer.afterReply`). `immediately`, when given, is asked first, on the thread
    /// that read the CALL; where it answers, no task is started for the CALL.
    public init(dialect: OCPPRPCDialect, timerLoop: any EventLoop, callTimeout: EVSEDuration = .seconds(Int64(30)),
                messageIDs: OCPPMessageIDGenerator = .randomUUID,
                logger: Logger = Logger(label: "ocpp.rpc"),
                immediately immediateHandler: OCPPImmediateCallHandler? = nil,
                answering handler: @escaping OCPPCallAnsweringHandler) {
        self.dialect = dialect
        self.timerLoop = timerLoop
        self.messageIDs = messageIDs
        self.handler = handler
        self.immediateHandler = immediateHandler
        self.logger = logger
        state.locked { $0.callTimeout = callTimeout }
    }

    /// Applies to CALLs sent from now on (e.g. after a configuration change).
    public func setCallTimeout(_ timeout: EVSEDuration) {
        state.locked { $0.callTimeout = timeout }
    }

    /// How long a CALL sent now waits for its answer.
    public var callTimeout: EVSEDuration { state.locked { $0.callTimeout } }

    /// CALLs waiting behind the outstanding one.
    public var queuedCallCount: Int { state.locked { $0.queue.count } }
    public var hasOutstandingCall: Bool { state.locked { $0.outstanding != nil } }

    // MARK: Outbound

    /// Sends a CALL and waits for its CALLRESULT payload. Queues behind any outstanding CALL and
    /// while the transport is down.
    public func call(_ action: String, payload: JSONValue) async throws(OCPPRPCError) -> JSONValue {
        let serial = state.locked { s -> UInt64 in s.nextSerial += 1; return s.nextSerial }
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<JSONValue, OCPPRPCError>, Never>) in
                let id = messageIDs.next()
                let frame = OCPPRPCFrame.call(id: id, action: action, payload: payload).encoded()
                let pending = PendingCall(serial: serial, id: id, action: action, frameText: frame,
                                          continuation: continuation)
                let effects = state.locked { s -> [Effect] in
                    if s.isShutDown { return [.resume(continuation, .failure(.shutDown))] }
                    if s.cancelledSerials.remove(serial) != nil { return [.resume(continuation, .failure(.cancelled))] }
                    s.queue.append(pending)
                    return pump(&s)
                }
                perform(effects)
            }
        } onCancel: {
            let effects = state.locked { s -> [Effect] in
                if let index = s.queue.firstIndex(where: { $0.serial == serial }) {
                    let call = s.queue.remove(at: index)
                    return [.resume(call.continuation, .failure(.cancelled))]
                }
                if let outstanding = s.outstanding, outstanding.call.serial == serial {
                    outstanding.timeout?.cancel()
                    s.outstanding = nil
                    return [.resume(outstanding.call.continuation, .failure(.cancelled))] + pump(&s)
                }
                // Cancelled before the continuation was registered.
                s.cancelledSerials.insert(serial)
                return []
            }
            perform(effects)
        }
        state.locked { _ = $0.cancelledSerials.remove(serial) }
        return try result.get()
    }

    /// Sends the next queued CALL when the line is free and the transport is up.
    private func pump(_ s: inout State) -> [Effect] {
        guard s.outstanding == nil, let send = s.send, !s.queue.isEmpty else { return [] }
        let call = s.queue.removeFirst()
        let id = call.id
        let amount = TimeAmount.microseconds(max(0, s.callTimeout.microseconds))
        let timeout = timerLoop.scheduleTask(in: amount) { [weak self] in
            guard let self else { return }
            self.callTimedOut(id: id)
        }
        s.outstanding = Outstanding(call: call, timeout: timeout)
        return [.send(send, call.frameText)]
    }

    private func callTimedOut(id: String) {
        let effects = state.locked { s -> [Effect] in
            guard let outstanding = s.outstanding, outstanding.call.id == id else { return [] }
            s.outstanding = nil
            logger.warning("CALL timed out", metadata: ["action": "\(outstanding.call.action)", "id": "\(id)"])
            return [.resume(outstanding.call.continuation, .failure(.timeout(action: outstanding.call.action)))]
                + pump(&s)
        }
        perform(effects)
    }

    private func perform(_ effects: [Effect]) {
        for effect in effects {
            switch effect {
            case .send(let send, let text): send(text)
            case .resume(let continuation, let result): continuation.resume(returning: result)
            }
        }
    }

    // MARK: Transport state

    /// The transport is connected; queued CALLs start flowing through `send`.
    public func transportUp(send: @escaping @Sendable (String) -> Void) {
        let effects = state.locked { s -> [Effect] in
            s.generation += 1
            s.send = send
            return pump(&s)
        }
        perform(effects)
    }

    /// The transport dropped: the outstanding CALL fails with `.connectionLost` (the caller
    /// decides whether to repeat it); queued CALLs stay queued for the next connection.
    public func transportDown() {
        let effects = state.locked { s -> [Effect] in
            s.generation += 1
            s.send = nil
            guard let outstanding = s.outstanding else { return [] }
            outstanding.timeout?.cancel()
            s.outstanding = nil
            return [.resume(outstanding.call.continuation, .failure(.connectionLost(action: outstanding.call.action)))]
        }
        perform(effects)
    }

    /// Fails every waiting and outstanding CALL; later calls fail at once.
    public func shutDown() {
        let effects = state.locked { s -> [Effect] in
            s.isShutDown = true
            s.send = nil
            var effects: [Effect] = s.queue.map { .resume($0.continuation, .failure(.shutDown)) }
            s.queue.removeAll()
            if let outstanding = s.outstanding {
                outstanding.timeout?.cancel()
                effects.append(.resume(outstanding.call.continuation, .failure(.shutDown)))
                s.outstanding = nil
            }
            return effects
        }
        perform(effects)
    }

    // MARK: Inbound

    /// Handles one inbound text frame. Never throws and never blocks on the handler: an
    /// inbound CALL is answered here when the immediate handler can, else served in a task;
    /// the task (or the one running what an immediate answer promised) is returned so tests can
    /// await the answer and what it promised to send after it.
    @discardableResult
    public func receive(_ text: String) -> Task<Void, Never>? {
        switch OCPPRPCFrame.decode(text) {
        case .success(.call(let id, let action, let payload)):
            let generation = state.locked { $0.generation }
            if let answer = immediateHandler?(action, payload) {
                guard send(answer, to: id, action: action, generation: generation), let afterReply = answer.afterReply else {
                    return nil
                }
                return Task { await afterReply() }
            }
            return Task { [self] in
                let answer = await handler(action, payload)
                guard send(answer, to: id, action: action, generation: generation), let afterReply = answer.afterReply else {
                    return
                }
                await afterReply()
            }
        case .success(.callResult(let id, let payload)):
            settle(id: id, with: .success(payload))
            return nil
        case .success(.callError(let id, let code, let description, let details)):
            settle(id: id, with: .failure(.callError(code: dialect.code(spelled: code), spelledCode: code,
                                                     description: description, details: details)))
            return nil
        case .failure(let problem):
            handleUnreadable(problem)
            return nil
        }
    }

    /// Hands the reply to `answer` to the transport; false when it was dropped. Only once it
    /// was handed over (the transport keeps the order of what it is handed) may a message the
    /// answer promised start on its way.
    private func send(_ answer: OCPPCallAnswer, to id: String, action: String, generation: UInt64) -> Bool {
        let reply: OCPPRPCFrame
        switch answer.result {
        case .success(let payload) where payload.objectValue != nil:
            reply = .callResult(id: id, payload: payload)
        case .success(let payload):
            logger.error("handler answered a non-object payload", metadata: ["action": "\(action)"])
            reply = errorFrame(id: id, OCPPCallError(.internalError, "answer to \(action) is \(payload.typeName), not an object"))
        case .failure(let error):
            reply = errorFrame(id: id, error)
        }
        return sendReply(reply.encoded(), generation: generation)
    }

    private func errorFrame(id: String, _ error: OCPPCallError) -> OCPPRPCFrame {
        let text = String(error.errorDescription.prefix(dialect.maxDescriptionLength))
        return .callError(id: id, code: dialect.spelling(of: error.code), description: text, details: error.details)
    }

    /// False when the answer was dropped (its connection is gone).
    private func sendReply(_ text: String, generation: UInt64) -> Bool {
        let send = state.locked { s in s.generation == generation ? s.send : nil }
        guard let send else {
            logger.info("answer dropped: the connection it belongs to is gone")
            return false
        }
        send(text)
        return true
    }

    private func settle(id: String, with result: Result<JSONValue, OCPPRPCError>) {
        let effects = state.locked { s -> [Effect]? in
            guard let outstanding = s.outstanding, outstanding.call.id == id else { return nil }
            outstanding.timeout?.cancel()
            s.outstanding = nil
            return [.resume(outstanding.call.continuation, result)] + pump(&s)
        }
        guard let effects else {
            logger.notice("answer ignored: it matches no outstanding CALL", metadata: ["id": "\(id)"])
            return
        }
        perform(effects)
    }

    private func handleUnreadable(_ problem: OCPPRPCFrameError) {
        logger.warning("unreadable frame", metadata: ["reason": "\(problem.reason)"])
        guard let id = problem.messageID else { return }  // nobody to answer
        switch problem.messageTypeID {
        case OCPPRPCFrame.callTypeID?:
            let code = problem.kind == .malformedPayload ? dialect.malformedPayloadCode : dialect.malformedFrameCode
            sendNow(errorFrame(id: id, OCPPCallError(code, problem.reason)).encoded())
        case OCPPRPCFrame.callResultTypeID?, OCPPRPCFrame.callErrorTypeID?:
            // Never answer an answer; a broken one for our CALL ends that CALL.
            settle(id: id, with: .failure(.malformedResponse(problem.reason)))
        case nil:
            sendNow(errorFrame(id: id, OCPPCallError(dialect.malformedFrameCode, problem.reason)).encoded())
        default:
            sendNow(errorFrame(id: id, OCPPCallError(dialect.unknownMessageTypeCode, problem.reason)).encoded())
        }
    }

    private func sendNow(_ text: String) {
        let send = state.locked { $0.send }
        send?(text)
    }
}
