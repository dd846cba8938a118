import ArgumentParser
import BoardDescription

struct BoardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "board", abstract: "Board description files.",
                                                    subcommands: [Check.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a board file and print the resolved hardware map.",
            discussion: "Exits 0 when the file is valid; otherwise prints FILE:LINE: FIELD: what was expected, and exits 2.")

        @Argument(help: "The board file.")
        var file: String

        @Flag(name: .long, help: "Only validate; print nothing on success.")
        var quiet = false

        func run() throws {
            let board: BoardDescription
            do {
                board = try BoardLoader.load(path: file)
            } catch {
                complain("\(error)")
                throw Exit.boardFile
            }
            if !quiet {
                emit(board.summary)
                emit("ok: \(file)")
            }
        }
    }
}
