import Foundation
import HAL
import Hummingbird
import Logging
import NIOCore

/// The control API (HTTP + JSON) and the web page. Contract: issue 3 and Hardware-sim/README.md.
public enum ControlAPI {
    public static func router(_ sim: Simulator) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: JSONErrorMiddleware())

        router.get("/") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/html; charset=utf-8"
            headers[.cacheControl] = "no-store"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: WebPage.html)))
        }

        router.get("/api/state") { _, _ in
            json(sim.snapshot().stateJSON())
        }

        // The SSD1306's glass as a PNG; ?scale=1…8.
        router.get("/api/oled.png") { request, _ in
            let scale = request.uri.queryParameters.get("scale", as: Int.self) ?? 4
            var headers = HTTPFields()
            headers[.contentType] = "image/png"
            headers[.cacheControl] = "no-store"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: sim.snapshot().oled.png(scale: scale))))
        }

        router.post("/api/connectors/:id/plug") { request, context in
            let id = try connectorID(context)
            let body = try await readBody(request)
            var cableA: Double?
            var profile = EVProfile()
            var state = EVPilotRequest.B
            if let body {
                try allowKeys(body, ["cable_a", "ev"], in: "plug body")
                if let c = body["cable_a"] { cableA = try number(c, "cable_a") }
                if let ev = body["ev"] {
                    try allowKeys(ev, ["max_current_a", "phases", "capacity_wh", "soc", "state"], in: "ev")
                    if let v = ev["max_current_a"] { profile.maxCurrentA = try number(v, "ev.max_current_a") }
                    if let v = ev["phases"] {
                        let p = try number(v, "ev.phases")
                        guard p == p.rounded() else { throw SimulatorError.badRequest("ev.phases must be 1 or 3, got \(p)") }
                        profile.phases = Int(p)
                    }
                    if let v = ev["capacity_wh"] { profile.capacityWh = try number(v, "ev.capacity_wh") }
                    if let v = ev["soc"] { profile.soc = try number(v, "ev.soc") }
                    if let v = ev["state"] { state = try evState(v, "ev.state") }
                }
            }
            let (p, s, c) = (profile, state, cableA)
            try sim.withWorld { world throws(SimulatorError) in try world.plug(connector: id, cableA: c, profile: p, state: s) }
            return json(sim.snapshot().stateJSON())
        }

        router.post("/api/connectors/:id/ev-state") { request, context in
            let id = try connectorID(context)
            guard let body = try await readBody(request) else { throw SimulatorError.badRequest("body {\"state\":\"B\"|\"C\"|\"D\"} is required") }
            try allowKeys(body, ["state"], in: "ev-state body")
            guard let v = body["state"] else { throw SimulatorError.badRequest("state is required: \"B\", \"C\" or \"D\"") }
            let state = try evState(v, "state")
            try sim.withWorld { world throws(SimulatorError) in try world.setEVState(connector: id, state) }
            return json(sim.snapshot().stateJSON())
        }

        router.post("/api/connectors/:id/unplug") { request, context in
            let id = try connectorID(context)
            var force = false
            var evSide = false
            if let body = try await readBody(request) {
                try allowKeys(body, ["force", "side"], in: "unplug body")
                if let f = body["force"] {
                    guard let b = f.boolValue else { throw SimulatorError.badRequest("force must be true or false") }
                    force = b
                }
                if let side = body["side"] {
                    guard let s = side.string, s == "ev" || s == "socket" else {
                        throw SimulatorError.badRequest("side must be \"ev\" (out of the EV, the cable stays in the socket) or \"socket\"")
                    }
                    evSide = s == "ev"
                }
            }
            let (f, ev) = (force, evSide)
            try sim.withWorld { world throws(SimulatorError) in
                if ev { try world.unplugEV(connector: id) } else { try world.unplug(connector: id, force: f) }
            }
            return json(sim.snapshot().stateJSON())
        }

        router.post("/api/rfid") { request, _ in
            guard let body = try await readBody(request) else { throw SimulatorError.badRequest("body {\"uid\":\"04A1B2C3\"} is required") }
            try allowKeys(body, ["uid"], in: "rfid body")
            guard let uid = body["uid"]?.string else { throw SimulatorError.badRequest("uid must be a hex string, e.g. \"04A1B2C3\"") }
            let bits = try sim.withWorld { world throws(SimulatorError) in try world.presentCard(uidHex: uid) }
            return json(.object([("uid", .string(uid.uppercased())), ("wiegand_bits", .int(Int64(bits)))]))
        }

        router.post("/api/faults") { request, _ in
            guard let body = try await readBody(request) else {
                throw SimulatorError.badRequest("body {\"connector\":1,\"kind\":\"rcd\",\"active\":true} is required")
            }
            try allowKeys(body, ["connector", "kind", "active"], in: "faults body")
            guard let kindText = body["kind"]?.string, let kind = InjectedFault(rawValue: kindText) else {
                throw SimulatorError.badRequest("kind must be one of \(InjectedFault.allCases.map(\.rawValue).joined(separator: ", ")), got \(body["kind"]?.serialized ?? "nothing")")
            }
            guard let active = body["active"]?.boolValue else { throw SimulatorError.badRequest("active must be true or false") }
            var connector: Int?
            if let c = body["connector"], c != .null {
                let n = try number(c, "connector")
                guard n == n.rounded(), abs(n) < 1e9 else { throw SimulatorError.badRequest("connector must be an integer, got \(n)") }
                connector = Int(n)
            }
            let conn = connector
            try sim.withWorld { world throws(SimulatorError) in try world.setFault(kind, connector: conn, active: active) }
            return json(sim.snapshot().stateJSON())
        }

        router.get("/api/events") { request, _ in
            var since: UInt64?
            if let s = request.uri.queryParameters.get("since") {
                guard let v = UInt64(s) else { throw SimulatorError.badRequest("since must be an event sequence number, got \"\(s)\"") }
                since = v
            }
            let stream = sim.subscribe(since: since)
            var headers = HTTPFields()
            headers[.contentType] = "text/event-stream"
            headers[.cacheControl] = "no-store"
            return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: ": evse-sim events\nretry: 1000\n\n"))
                for await chunk in stream {
                    try await writer.write(ByteBuffer(string: chunk))
                }
                try await writer.finish(nil)
            })
        }
        return router
    }

    // MARK: Helpers

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: value.serialized)))
    }

    static func connectorID(_ context: BasicRequestContext) throws -> Int {
        let raw = context.parameters.get("id") ?? ""
        guard let id = Int(raw) else { throw SimulatorError.notFound("unknown connector \"\(raw)\"") }
        return id
    }

    /// The JSON body, nil if there is none.
    static func readBody(_ request: Request) async throws -> JSONValue? {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: 64 * 1024)
        } catch {
            throw SimulatorError.badRequest("body too large (64 KiB at most)")
        }
        let bytes = buffer.getBytes(at: buffer.readerIndex, length: buffer.readableBytes) ?? []
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return nil }
        let value = try JSONValue.parse(Data(bytes))
        guard value.objectKeys != nil else { throw SimulatorError.badRequest("body must be a JSON object") }
        return value
    }

    static func allowKeys(_ value: JSONValue, _ allowed: Set<String>, in what: String) throws {
        guard let keys = value.objectKeys else { throw SimulatorError.badRequest("\(what) must be a JSON object") }
        for k in keys where !allowed.contains(k) {
            throw SimulatorError.badRequest("unknown field \"\(k)\" in \(what) (allowed: \(allowed.sorted().joined(separator: ", ")))")
        }
    }

    static func number(_ v: JSONValue, _ field: String) throws -> Double {
        guard let n = v.number else { throw SimulatorError.badRequest("\(field) must be a number, got \(v.serialized)") }
        return n
    }

    static func evState(_ v: JSONValue, _ field: String) throws -> EVPilotRequest {
        guard let s = v.string, let st = EVPilotRequest(rawValue: s) else {
            throw SimulatorError.badRequest("\(field) must be \"B\", \"C\" or \"D\", got \(v.serialized)")
        }
        return st
    }
}

/// Every error leaves as `{"error":"…"}` with a 4xx status, whatever threw it.
struct JSONErrorMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let e as SimulatorError {
            return ControlAPI.json(.object([("error", .string(e.message))]), status: .init(code: e.httpStatus))
        } catch let e as HTTPError {
            let message = e.body ?? (e.status == .notFound ? "no such endpoint: \(request.method) \(request.uri.path)" : e.status.reasonPhrase)
            return ControlAPI.json(.object([("error", .string(message))]), status: e.status)
        } catch {
            return ControlAPI.json(.object([("error", .string("\(error)"))]), status: .badRequest)
        }
    }
}
