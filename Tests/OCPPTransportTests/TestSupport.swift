import HAL
import Logging
import NIOCore
import NIOEmbedded
import OCPPJSON
import Locking
import Synchronization
import TestSupport
@testable import OCPPTransport

/// Collects what the RPC layer sends.
final class SentFrames: Sendable {
    private let frames = Mutex<[String]>([])

    var all: [String] { frames.locked { $0 } }
    var count: Int { frames.locked { $0.count } }

    func append(_ text: String) { frames.locked { $0.append(text) } }

    func since(_ index: Int) -> [String] { frames.locked { Array($0[min(index, $0.count)...]) } }

    var send: @Sendable (String) -> Void { { [self] text in append(text) } }

    func frame(_ index: Int) -> OCPPRPCFrame? {
        let all = self.all
        guard index < all.count else { return nil }
        return try? OCPPRPCFrame.decode(all[index]).get()
    }
}

struct ConditionTimedOut: Error { let what: String }

/// Waits for something another task does (`TestSupport.eventually`, polling from the start),
/// and throws naming `what` when it does not come. The bound only ends a test that is failing
/// anyway. It is 30 s because on CI's two cores the suite's long synchronous tests can hold both
/// of the task pool's threads for several seconds, and a 5 s bound failed a passing test there
/// ("wait 1 scheduled" in ConnectionTests, 2026-12-06).
func eventually(_ what: String, within seconds: Double = 30, _ condition: @Sendable () -> Bool) async throws {
    guard await TestSupport.eventually(limit: .milliseconds(Int(seconds * 1000)), yieldsFirst: 0, { condition() }) else {
        throw ConditionTimedOut(what: what)
    }
}


func parse(_ text: String) -> JSONValue? { try? JSONParser.parse(text) }

/// The handler the tests install: Heartbeat answers, "Reject" answers a schema error, every
/// other action is unknown.
let testHandler: OCPPCallHandler = { action, _ in
    switch action {
    case "Heartbeat": return .success(["currentTime": "2026-01-01T00:00:00Z"])
    case "Reject": return .failure(OCPPCallError(.occurrenceConstraintViolation, "idTag missing"))
    case "Weird": return .success(.integer(3))
    default: return .failure(OCPPCallError(.notImplemented, "unknown action \(action)"))
    }
}

/// Makes a CALL and returns its error (nil when it succeeded).
func callError(_ rpc: OCPPRPC, _ action: String) async -> OCPPRPCError? {
    do throws(OCPPRPCError) {
        _ = try await rpc.call(action, payload: [:])
        return nil
    } catch {
        return error
    }
}

/// Tests provoke warnings by the thousand; only failures matter here.
let quietLogger: Logger = {
    var logger = Logger(label: "ocpp.test")
    logger.logLevel = .critical
    return logger
}()
