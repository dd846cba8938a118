import Foundation
import OCPPJSON
import Testing
@testable import OCPPTransport

@Suite("OCPP frame log")
struct FrameLogTests {
    @Test("secrets are redacted: 1.6 AuthorizationKey, 2.0.1 BasicAuthPassword")
    func scrubbing() {
        let change = #"[2,"1","ChangeConfiguration",{"key":"AuthorizationKey","value":"0011aabb"}]"#
        #expect(OCPPFrameLog.scrubbed(change) == #"[2,"1","ChangeConfiguration",{"key":"AuthorizationKey","value":"***"}]"#)
        let other = #"[2,"1","ChangeConfiguration",{"key":"HeartbeatInterval","value":"60"}]"#
        #expect(OCPPFrameLog.scrubbed(other) == other)
        let variables = #"[2,"2","SetVariables",{"setVariableData":[{"attributeValue":"pw","variable":{"name":"BasicAuthPassword"}}]}]"#
        #expect(!OCPPFrameLog.scrubbed(variables).contains("\"pw\""))
        #expect(!OCPPFrameLog.scrubbed(#"[2,"1","ChangeConfiguration",{"key":"AuthorizationKey","value":"00"#).contains("00\""))
    }

    @Test("passwords in URLs are redacted, also JSON-escaped ones")
    func urlPasswords() {
        let diagnostics = #"[2,"3","GetDiagnostics",{"location":"ftp://evse:s3cret@logs.example.net/upload/","retries":2}]"#
        #expect(OCPPFrameLog.scrubbed(diagnostics) == #"[2,"3","GetDiagnostics",{"location":"ftp://evse:***@logs.example.net/upload/","retries":2}]"#)
        let escaped = #"[2,"4","UpdateFirmware",{"location":"https:\/\/u:p%40ss@fw.example.net\/img.bin"}]"#
        #expect(!OCPPFrameLog.scrubbed(escaped).contains("p%40ss"))
        #expect(OCPPFrameLog.scrubbed(escaped).contains(#"https:\/\/u:***@fw.example.net"#))
        let userOnly = #"{"location":"ftp://anonymous@logs.example.net/"}"#
        #expect(OCPPFrameLog.scrubbed(userOnly) == userOnly, "no password, nothing to hide")
        let twice = "ftp://a:1@h/ and http://b:2@k/x"
        #expect(OCPPFrameLog.scrubbed(twice) == "ftp://a:***@h/ and http://b:***@k/x")
    }

    @Test("timestamps are ISO 8601 UTC")
    func timestamps() {
        #expect(OCPPFrameLog.timestamp(seconds: 0, nanoseconds: 0) == "1970-01-01T00:00:00.000Z")
        #expect(OCPPFrameLog.timestamp(seconds: 1_795_999_999, nanoseconds: 123_456_789) == "2026-11-30T00:53:19.123Z")
    }

    @Test("both directions are logged, one line per frame, and the files rotate")
    func rotation() throws {
        let directory = NSTemporaryDirectory() + "ocpp-log-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/frames.log"
        let log = OCPPFrameLog(path: path, maxFileBytes: 1024, fileCount: 3, wallClock: { (0, 0) })
        log.record(.outbound, #"[2,"1","Heartbeat",{}]"#)
        log.record(.inbound, "[3,\"1\",\n{}]")
        let first = try String(contentsOfFile: path, encoding: .utf8)
        #expect(first == "1970-01-01T00:00:00.000Z >> [2,\"1\",\"Heartbeat\",{}]\n1970-01-01T00:00:00.000Z << [3,\"1\", {}]\n")
        for index in 0..<100 { log.record(.outbound, #"[2,"\#(index)","Heartbeat",{"pad":"\#(String(repeating: "x", count: 100))"}]"#) }
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        #expect(files == ["frames.log", "frames.log.1", "frames.log.2"])
        for file in files {
            let size = (try FileManager.default.attributesOfItem(atPath: directory + "/" + file)[.size] as? Int) ?? 0
            #expect(size <= 1024)
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8).contains(#""99""#))
    }

    @Test("the log and its rotations are 0600, also those an earlier version left open")
    func fileModes() throws {
        let directory = NSTemporaryDirectory() + "ocpp-log-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/frames.log"
        func mode(_ file: String) throws -> Int {
            (try FileManager.default.attributesOfItem(atPath: directory + "/" + file)[.posixPermissions] as? Int) ?? -1
        }
        // Left by an earlier version: the log, a rotation, one beyond today's fileCount; and a
        // file that only starts with the same name.
        for name in ["frames.log", "frames.log.1", "frames.log.7", "frames.log.old"] {
            FileManager.default.createFile(atPath: directory + "/" + name, contents: Data("x\n".utf8),
                                           attributes: [.posixPermissions: 0o644])
        }
        let previous = umask(0o022)
        defer { umask(previous) }
        let log = OCPPFrameLog(path: path, maxFileBytes: 1024, fileCount: 3, wallClock: { (0, 0) })
        for name in ["frames.log", "frames.log.1", "frames.log.7"] { #expect(try mode(name) == 0o600, "\(name)") }
        #expect(try mode("frames.log.old") == 0o644, "not one of the log's files")
        try FileManager.default.removeItem(atPath: path)
        for index in 0..<30 { log.record(.outbound, #"[2,"\#(index)","Heartbeat",{"pad":"\#(String(repeating: "x", count: 100))"}]"#) }
        for name in ["frames.log", "frames.log.1", "frames.log.2"] { #expect(try mode(name) == 0o600, "\(name)") }
    }
}
