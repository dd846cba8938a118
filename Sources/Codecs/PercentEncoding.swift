/// RFC 3986 percent-encoding: the charge point identity in the CSMS URL, user names and file
/// names in upload and download URLs.
public enum PercentEncoding {
    /// Unreserved characters (letters, digits, `-._~`) stay, every other UTF-8 byte becomes %XX.
    public static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                 UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(Character(Unicode.Scalar(byte)))
            default:
                out.append("%")
                out.append(Hex.encode([byte], uppercase: true))
            }
        }
        return out
    }

    /// The bytes `text` stands for; nil when a `%` is not followed by two hex digits.
    public static func decode(_ text: Substring) -> [UInt8]? {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let c = iterator.next() {
            guard c == UInt8(ascii: "%") else {
                bytes.append(c)
                continue
            }
            guard let high = iterator.next().flatMap(Hex.digitValue), let low = iterator.next().flatMap(Hex.digitValue) else {
                return nil
            }
            bytes.append(high << 4 | low)
        }
        return bytes
    }
}
