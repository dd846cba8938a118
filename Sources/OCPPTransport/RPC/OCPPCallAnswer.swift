import OCPPJSON

/// The answer to an inbound CALL, and what the answer promises to send after it: a
/// TriggerMessage.conf Accepted is followed by the message it names, and OCPP requires the
/// .conf to arrive first, every time.
///
/// The RPC layer runs `afterReply` only once the CALLRESULT (or CALLERROR) was handed to the
/// transport, and the transport writes frames in the order they were handed over: whatever
/// `afterReply` sends can never overtake the answer on the wire, however the tasks are
/// scheduled. It is not run when the answer could not be sent (its connection is gone): the
/// CSMS never learnt what was promised.
public struct OCPPCallAnswer: Sendable {
    public typealias FollowUp = @Sendable () async -> Void

    public var result: Result<JSONValue, OCPPCallError>
    public var afterReply: FollowUp?

    public init(_ result: Result<JSONValue, OCPPCallError>, afterReply: FollowUp? = nil) {
        self.result = result
        self.afterReply = afterReply
    }
}

/// Serves one inbound CALL with an answer that may carry work for after the reply.
public typealias OCPPCallAnsweringHandler = @Sendable (_ action: String, _ payload: JSONValue) async -> OCPPCallAnswer

/// Answers an inbound CALL at once, on the thread that read it, when that needs no suspension
/// (nil: it does, or this handler does not serve the action; the async handler then answers).
/// Saves the task and the actor hop of every such CALL; the answer must be the one the async
/// handler would give.
public typealias OCPPImmediateCallHandler = @Sendable (_ action: String, _ payload: JSONValue) -> OCPPCallAnswer?
