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

        router.get("/api/grid") { _, _ in
            json(sim.withWorld { $0.gridJSON() })
        }

        // The building: house load per phase, PV output or a PV day curve.
        router.post("/api/grid") { request, _ in
            guard let body = try await readBody(request) else {
                throw SimulatorError.badRequest("body {\"house_load_a\":[10,10,10], \"pv_w\":5000} is required")
            }
            try allowKeys(body, ["house_load_a", "pv_w", "pv_curve"], in: "grid body")
            var houseLoad: [Double]?
            if let v = body["house_load_a"] {
                if let items = v.arrayValue {
                    houseLoad = try items.enumerated().map { try number($0.element, "house_load_a[\($0.offset)]") }
                } else {
                    houseLoad = [try number(v, "house_load_a")]
                }
            }
            let pv = try body["pv_w"].map { try number($0, "pv_w") }
            var curve: PVDayCurve??
            if let c = body["pv_curve"] {
                curve = .some(c == .null ? nil : try pvCurve(c))
            }
            // Checked before anything changes: a bad field leaves the building as it was.
            var probe = Building()
            if let h = houseLoad { try probe.setHouseLoad(h.count == 1 ? [h[0], h[0], h[0]] : h) }
            if let w = pv { try probe.setPV(watts: w) }
            let (h, w, cv) = (houseLoad, pv, curve)
            try sim.withWorld { world throws(SimulatorError) in
                if let h { try world.setHouseLoad(h) }
                if let w { try world.setPV(watts: w) }
                if let cv { world.setPVCurve(cv) }
            }
            return json(sim.withWorld { $0.gridJSON() })
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

    /// `{"points": [[hour, W], …], "seconds_per_hour": N, "start_hour": H}`.
    static func pvCurve(_ v: JSONValue) throws -> PVDayCurve {
        try allowKeys(v, ["points", "seconds_per_hour", "start_hour"], in: "pv_curve")
        guard let items = v["points"]?.arrayValue else {
            throw SimulatorError.badRequest("pv_curve.points must be a list of [hour, W] pairs")
        }
        let points = try items.enumerated().map { (i, p) -> PVDayCurve.Point in
            guard let pair = p.arrayValue, pair.count == 2 else {
                throw SimulatorError.badRequest("pv_curve.points[\(i)] must be [hour, W], got \(p.serialized)")
            }
            return PVDayCurve.Point(hour: try number(pair[0], "pv_curve.points[\(i)][0]"),
                                    watts: try number(pair[1], "pv_curve.points[\(i)][1]"))
        }
        let perHour = try v["seconds_per_hour"].map { try number($0, "pv_curve.seconds_per_hour") } ?? 3600
        let start = try v["start_hour"].map { try number($0, "pv_curve.start_hour") }
        return try PVDayCurve(points: points, secondsPerHour: perHour, startHour: start)
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
