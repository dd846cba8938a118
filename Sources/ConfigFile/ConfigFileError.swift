/// What is wrong with a configuration file (a board file, a meter map, a station file), and where.
///
/// The message reads `FILE:LINE: FIELD.PATH: what was expected`, the form editors and CI logs
/// turn into a link. `field` is empty for syntax errors, which have no field yet.
public struct ConfigFileError: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var field: String
    public var message: String

    public init(file: String, line: Int, field: String, _ message: String) {
        self.file = file
        self.line = line
        self.field = field
        self.message = message
    }

    /// Line 0 means the file as a whole (it cannot be read).
    public var description: String {
        let place = line > 0 ? "\(file):\(line)" : file
        return field.isEmpty ? "\(place): \(message)" : "\(place): \(field): \(message)"
    }
}
