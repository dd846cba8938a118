import ArgumentParser

/// The bring-up CLI: checks a board file and exercises every part of the board it describes,
/// on real hardware or the simulator (whichever the board file names).
@main
struct EVSECtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evsectl",
        abstract: "SwiftEVSE bring-up and diagnostics.",
        discussion: """
        Every command that touches hardware takes --board FILE; the board file's `backend:` \
        decides whether it talks to the real hardware (linux) or to evse-sim (sim).

        Exit status: 0 success, 1 a hardware part failed or did not answer, 2 a bad board \
        file or meter map, 64 bad command-line usage.
        """,
        subcommands: [BoardCommand.self, GPIOCommand.self, PilotCommand.self, ContactorCommand.self,
                      MeterCommand.self, RFIDCommand.self, DisplayCommand.self, SelftestCommand.self, EnergyCommand.self])
}
