import BoardDescription
import Drivers
@testable import FileTransfer
@testable import HALSim
import NIOCore
import NIOEmbedded
import OCPP16Messages
import OCPP201Messages
import OCPPJSON
import OCPPSecurity
import OCPPTransport
import Station

/// Every parser that takes bytes from outside the firmware: from the CSMS (JSON, RPC frames,
/// every generated 1.6 and 2.0.1 message), from files a person writes (board, meter map and
/// station files), from the hardware (the simulator's line protocol, Modbus registers), from
/// file servers (FTP replies, URLs and redirects) and certificates (PEM / X.509). Each target
/// must return for any input: an error is fine, a crash, a hang or a leak is a bug.
enum FuzzTarget: String, CaseIterable {
    case json, rpc, ocpp16, ocpp201, board, meterMap = "meter-map", station, simLine = "sim-line", modbus, ftp, url, x509

    func run(_ bytes: UnsafeBufferPointer<UInt8>) {
        switch self {
        case .json:
            if let value = try? JSONParser.parse(bytes) {
                // What parses must write back and parse again to the same value.
                let again = try? JSONParser.parse(JSONWriter.writeString(value))
                if again != value { fatalError("JSON round trip changed \(value)") }
            }
        case .rpc:
            _ = OCPPRPCFrame.decode(String(decoding: bytes, as: UTF8.self))
        case .ocpp16:
            // First byte picks the action; the rest is the payload, as the request and as the answer.
            guard let (action, payload) = Self.split(bytes, OCPP16Action.allCases) else { return }
            _ = try? OCPP16Messages.decodeRequest(action: action, payload: payload)
            _ = try? OCPP16Messages.decodeResponse(action: action, payload: payload)
        case .ocpp201:
            guard let (action, payload) = Self.split(bytes, OCPP201Action.allCases) else { return }
            _ = try? OCPP201Messages.decodeRequest(action: action, payload: payload)
            _ = try? OCPP201Messages.decodeResponse(action: action, payload: payload)
        case .board:
            _ = try? BoardLoader.parse(String(decoding: bytes, as: UTF8.self), file: "fuzz.yaml",
                                       metersDirectory: FuzzRepository.metersDirectory)
        case .meterMap:
            _ = try? MeterMapLoader.parse(String(decoding: bytes, as: UTF8.self), file: "fuzz.yaml", name: "fuzz")
        case .station:
            _ = try? StationConfig.parse(String(decoding: bytes, as: UTF8.self), file: "station.yaml")
        case .simLine:
            for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") { _ = SimIncoming.parse(line) }
        case .modbus:
            // Pairs of bytes are registers; every type in both word orders.
            let words = stride(from: 0, to: bytes.count - 1, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
            for type in RegisterType.allCases {
                for order in WordOrder.allCases {
                    _ = try? RegisterDecoder.decodeRaw(Array(words.prefix(Int(type.registerCount))), type: type, wordOrder: order)
                }
            }
        case .ftp:
            let channel = EmbeddedChannel(handler: ByteToMessageHandler(FTPReplyDecoder()))
            var buffer = channel.allocator.buffer(capacity: bytes.count)
            buffer.writeBytes(bytes)
            _ = try? channel.writeInbound(buffer)
            while (try? channel.readInbound(as: FTPReply.self)) ?? nil != nil {}
            _ = try? channel.finish()
        case .url:
            let text = String(decoding: bytes, as: UTF8.self)
            if let base = try? FileTransferURL("http://csms.example:8080/logs/") {
                _ = try? HTTPTransfer.resolve(text, against: base)
            }
            _ = try? FileTransferURL(text)
        case .x509:
            _ = try? X509Certificate.chain(fromPEM: String(decoding: bytes, as: UTF8.self))
        }
    }

    /// The action chosen by the first byte and the rest parsed as JSON (nil: not JSON).
    static func split<A>(_ bytes: UnsafeBufferPointer<UInt8>, _ actions: [A]) -> (A, JSONValue)? {
        guard let first = bytes.first, !actions.isEmpty else { return nil }
        guard let payload = try? JSONParser.parse(UnsafeBufferPointer(rebasing: bytes.dropFirst())) else { return nil }
        return (actions[Int(first) % actions.count], payload)
    }
}

enum FuzzRepository {
    /// Board/meters of this checkout: the board loader resolves meter maps by name from there.
    static var metersDirectory: String {
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/") + "/Board/meters"
    }
}
