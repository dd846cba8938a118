import OCPPJSON
import OCPPTransport

/// Sends a CALL and waits for its CALLRESULT: `OCPPRPC` on a live connection, an in-memory
/// fake in tests.
public protocol OCPP201CallSender: Sendable {
    func call(_ action: String, payload: JSONValue) async throws(OCPPRPCError) -> JSONValue
}

extension OCPPRPC: OCPP201CallSender {}
