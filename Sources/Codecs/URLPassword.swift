/// Passwords written into URLs (`ftp://user:password@host/…`, as a CSMS may send a diagnostics
/// or firmware location) must not reach a log.
public enum URLPassword {
    /// `text` with the password of every `scheme://user:password@` in it replaced by `***`.
    /// Also finds URLs inside JSON text, with `/` escaped as `\/` or not.
    public static func redacted(in text: String) -> String {
        guard text.contains("@") else { return text }
        var out = ""
        var rest = Substring(text)
        while let separator = rest.firstRange(of: "://") ?? rest.firstRange(of: #":\/\/"#) {
            out += rest[..<separator.upperBound]
            rest = rest[separator.upperBound...]
            let authorityEnd = rest.firstIndex { "/?#\"' \t\r\n\\".contains($0) } ?? rest.endIndex
            let authority = rest[..<authorityEnd]
            if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
                out += rest[...colon] + "***"
                rest = rest[at...]
            }
        }
        return out + rest
    }
}
