import ArgumentParser
import BoardAssembly
import Drivers

struct DisplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "display", abstract: "The station's display.",
                                                    subcommands: [Test.self, QR.self])

    struct Test: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Draw a test pattern and TEXT on the display.",
            discussion: """
                A graphic display (SSD1306) shows a frame, a checkerboard, the accented letters of the \
                font and TEXT; a character display (HD44780) shows TEXT wrapped to its size.
                """)
        @OptionGroup var options: BoardOptions
        @Argument(help: "The text to show.") var text: String = "SwiftEVSE display test"

        func run() throws {
            let parts = try options.parts()
            guard let display = try hardware("station.display", { try parts.display(consoleSink: { emit($0) }) }) else {
                complain("\(parts.board.file): the board has no display (station.display)")
                throw Exit.usage
            }
            if let oled = display as? SSD1306Display {
                var frame = SSD1306Display.testPattern()
                let textFrame = SSD1306Display.render(lines: ["", "", "", "", TextLayout.wrap(text, columns: oled.columns, rows: 1).first ?? ""],
                                                      qrCode: nil)
                for i in frame.indices where i / SSD1306Display.width == 4 { frame[i] = textFrame[i] }
                try hardware("station.display") { try oled.draw(frame) }
                emit("test pattern and text shown on the 128x64 SSD1306")
                return
            }
            let lines = TextLayout.wrap(text, columns: display.columns, rows: display.rows)
            try hardware("station.display") { try display.show(lines: lines) }
            emit("shown on \(display.columns)x\(display.rows) display:")
            for l in lines { emit("|\(l)\(String(repeating: " ", count: max(0, display.columns - l.count)))|") }
        }
    }

    struct QR: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the QR code of TEXT as the firmware encodes it (# dark, . light).")
        @Argument(help: "The text (a URL).") var text: String
        @Option(help: "Error correction: L, M, Q or H.") var level: String = "M"

        func run() throws {
            let levels: [String: QRCode.ErrorCorrection] = ["L": .low, "M": .medium, "Q": .quartile, "H": .high]
            guard let ec = levels[level.uppercased()] else {
                complain("--level: expected L, M, Q or H, found \(level)")
                throw Exit.usage
            }
            do {
                let code = try QRCode.encode(text, errorCorrection: ec)
                emit("version \(code.version) level \(level.uppercased()) mask \(code.mask)")
                for row in code.rows { emit(row) }
            } catch {
                complain("\(text.utf8.count) bytes do not fit a version \(QRCode.maxVersion) QR code at level \(level.uppercased()) (at most \(QRCode.capacity(ec)))")
                throw Exit.usage
            }
        }
    }
}
