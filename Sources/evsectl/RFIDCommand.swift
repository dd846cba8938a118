import ArgumentParser
import BoardAssembly
import Drivers

struct RFIDCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rfid", abstract: "The station's card reader.",
                                                    subcommands: [Watch.self])

    struct Watch: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print every card read (UID as uppercase hex) and every rejected frame.")
        @OptionGroup var options: BoardOptions
        @OptionGroup var watch: WatchOptions
        @Option(name: .long, help: "Stop after this many cards.") var count: Int?

        func run() throws {
            let parts = try options.parts()
            guard let reader = try hardware("station.rfid", { try parts.cardReader() }) else {
                complain("\(parts.board.file): the board has no RFID reader (station.rfid)")
                throw Exit.usage
            }
            emit("waiting for cards…")
            var seen = 0
            try watch.loop { now in
                let cards = try hardware("station.rfid") { try reader.poll(at: now) }
                for card in cards {
                    emit("card \(card.uid) (\(card.source))")
                    seen += 1
                }
                for r in reader.drainRejections() { emit("rejected: \(r.reason)") }
                if let count, seen >= count { return false }
                return true
            }
        }
    }
}
