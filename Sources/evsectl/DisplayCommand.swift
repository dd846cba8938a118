import ArgumentParser
import BoardAssembly
import Drivers

struct DisplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "display", abstract: "The station's text display.",
                                                    subcommands: [Test.self])

    struct Test: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show TEXT on the display (wrapped to its size).")
        @OptionGroup var options: BoardOptions
        @Argument(help: "The text to show.") var text: String

        func run() throws {
            let parts = try options.parts()
            guard let display = try hardware("station.display", { try parts.display(consoleSink: { emit($0) }) }) else {
                complain("\(parts.board.file): the board has no display (station.display)")
                throw Exit.usage
            }
            let lines = TextLayout.wrap(text, columns: display.columns, rows: display.rows)
            try hardware("station.display") { try display.show(lines: lines) }
            emit("shown on \(display.columns)x\(display.rows) display:")
            for l in lines { emit("|\(l)\(String(repeating: " ", count: max(0, display.columns - l.count)))|") }
        }
    }
}
