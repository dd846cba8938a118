/// Paths into the repository, for tests that load the shipped board files.
enum Repo {
    /// …/Tests/BoardDescriptionTests/TestSupport.swift → the repository root.
    static var root: String {
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }
    static var boardDirectory: String { root + "/Board" }
    static var metersDirectory: String { root + "/Board/meters" }
    static let shippedBoards = ["sim-2x22kw.yaml", "cm4-1x11kw.yaml", "2x22kw-rs485.yaml"]
}
