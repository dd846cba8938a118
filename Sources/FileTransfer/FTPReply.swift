import NIOCore

/// One FTP reply (RFC 959 §4.2): a three-digit code and its text, which may span lines
/// (`123-first`, …, `123 last`).
public struct FTPReply: Sendable, Hashable, CustomStringConvertible {
    public var code: Int
    public var lines: [String]

    /// The text of the reply, lines joined, without the code.
    public var text: String {
        lines.enumerated().map { index, line in
            let keep = index == 0 || index == lines.count - 1 ? String(line.dropFirst(min(4, line.count))) : line
            return keep
        }.joined(separator: " ").trimmingSpaces()
    }

    /// 1yz positive preliminary, 2yz completion, 3yz intermediate, 4yz transient, 5yz permanent.
    public var category: Int { code / 100 }

    public var description: String { "\(code) \(text)" }
}

/// Splits the control connection's bytes into replies. A line longer than `maxLineBytes` or a
/// reply of more than `maxLines` lines is a protocol violation, not a memory leak.
struct FTPReplyDecoder: ByteToMessageDecoder {
    typealias InboundOut = FTPReply

    static let maxLineBytes = 8 * 1024
    static let maxLines = 1_000

    private var pending: FTPReply?

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let line = try Self.readLine(&buffer) else { return .needMoreData }
        if var reply = pending {
            reply.lines.append(line)
            guard reply.lines.count <= Self.maxLines else {
                throw FileTransferError.protocolViolation("FTP reply of more than \(Self.maxLines) lines")
            }
            // The last line repeats the code followed by a space (RFC 959 §4.2).
            if let (code, separator) = Self.codePrefix(line), code == reply.code, separator != "-" {
                pending = nil
                context.fireChannelRead(wrapInboundOut(reply))
            } else {
                pending = reply
            }
            return .continue
        }
        guard let (code, separator) = Self.codePrefix(line) else {
            throw FileTransferError.protocolViolation("FTP reply without a code: \"\(line.prefix(80))\"")
        }
        let reply = FTPReply(code: code, lines: [line])
        if separator == "-" {
            pending = reply
        } else {
            context.fireChannelRead(wrapInboundOut(reply))
        }
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }

    /// One line without its CRLF (a bare LF is accepted: some servers send it).
    static func readLine(_ buffer: inout ByteBuffer) throws -> String? {
        guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > maxLineBytes {
                throw FileTransferError.protocolViolation("FTP reply line longer than \(maxLineBytes) bytes")
            }
            return nil
        }
        let length = newline - buffer.readerIndex
        guard length <= maxLineBytes else {
            throw FileTransferError.protocolViolation("FTP reply line longer than \(maxLineBytes) bytes")
        }
        var bytes = buffer.readBytes(length: length) ?? []
        buffer.moveReaderIndex(forwardBy: 1)
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The code and the character after it (" " or "-"; " " also for a bare code).
    static func codePrefix(_ line: String) -> (Int, Character)? {
        let chars = Array(line.prefix(4))
        guard chars.count >= 3, chars[0...2].allSatisfy({ $0.isASCII && $0.isNumber }),
              let code = Int(String(chars[0...2])), (100...599).contains(code) else { return nil }
        if chars.count == 3 { return (code, " ") }
        guard chars[3] == " " || chars[3] == "-" else { return nil }
        return (code, chars[3])
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = self[...]
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
