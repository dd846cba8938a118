// swift-tools-version:6.1
// SwiftEVSE: open firmware for Linux-based EV chargers. docs/ARCHITECTURE.md describes the
// layers: HAL primitives -> Drivers -> ChargingCore -> Station (StationPort) -> OCPP adapters.
import PackageDescription

let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "SwiftEVSE",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "evsectl", targets: ["evsectl"]),
        .executable(name: "evse-sim", targets: ["evse-sim"]),
        .executable(name: "evsed", targets: ["evsed"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // C libraries of the system, found through pkg-config (Debian's -dev packages).
        .systemLibrary(name: "CGPIOD", pkgConfig: "libgpiod", providers: [.apt(["libgpiod-dev"])]),
        .systemLibrary(name: "CModbus", pkgConfig: "libmodbus", providers: [.apt(["libmodbus-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // The few BoringSSL macros OCPPSecurity needs, as functions Swift can call. BoringSSL is the
        // copy swift-nio-ssl links for TLS anyway: one crypto library in the firmware, not two.
        .target(name: "CCrypto", dependencies: [.product(name: "NIOSSL", package: "swift-nio-ssl")]),

        // HAL primitives: protocols, the clock, errors. No I/O, no C.
        // Mutex.locked: withLock that ThreadSanitizer can see (every Mutex of the project).
        .target(name: "CLockAnnotations"),
        .target(name: "Locking", dependencies: ["CLockAnnotations"], swiftSettings: strict),
        .target(name: "HAL", dependencies: ["Locking"], swiftSettings: strict),
        // In-process backend for unit tests.
        .target(name: "HALFake", dependencies: ["HAL"], swiftSettings: strict),
        // Real hardware: libgpiod, sysfs PWM, IIO ADC, libmodbus, /dev/i2c-N, evdev.
        .target(name: "HALLinux", dependencies: ["HAL", "CGPIOD", "CModbus"],
                exclude: ["GPIO/GPIOv2.md"], swiftSettings: strict),
        // The hardware simulator, reached over its line protocol (Hardware-sim/PROTOCOL.md).
        .target(name: "HALSim", dependencies: ["HAL", "Codecs"], swiftSettings: strict),

        // Drivers: all hardware logic (debounce, weld detection, Wiegand, register maps).
        .target(name: "Drivers", dependencies: ["HAL"], swiftSettings: strict),
        // Board files and meter register maps: parse, validate, describe. No backends.
        // The protocol-neutral station port: what a backend adapter asks of the station and the
        // events it hears back. Both OCPP adapters use only this; the Station implements it.
        .target(name: "StationPort", dependencies: ["ChargingCore", "HAL"], swiftSettings: strict),
        // Configuration files (board files, meter maps, the station file): our YAML-subset
        // parser (Yams would pull in full Foundation) and the one typed reader whose every error
        // names FILE:LINE: field.
        .target(name: "ConfigFile", dependencies: ["SmallFiles"], swiftSettings: strict),
        // Whole small files (configs, keys, certificates, version files) read with libc: one
        // reader for every layer.
        .target(name: "SmallFiles", swiftSettings: strict),
        .target(name: "BoardDescription", dependencies: ["HAL", "Drivers", "ConfigFile"], swiftSettings: strict),
        // Turns a validated board description into live drivers on the backend it names.
        .target(name: "BoardAssembly",
                dependencies: ["BoardDescription", "Drivers", "HAL", "HALLinux", "HALSim"],
                swiftSettings: strict),

        .executableTarget(name: "evsectl",
                          dependencies: ["BoardAssembly", "BoardDescription", "Drivers", "HAL", "ChargingCore", "Storage",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser"),
                                         .product(name: "Logging", package: "swift-log")],
                          swiftSettings: strict),

        // Persistence: our own thin SQLite wrapper (WAL, numbered migrations) and the stores.
        .target(name: "Storage", dependencies: ["CSQLite", "Locking"], swiftSettings: strict),
        // `swift run -c release StorageBenchmarks`: local-list full update and lookup timings.
        .executableTarget(name: "StorageBenchmarks", dependencies: ["Storage"],
                          path: "Benchmarks/StorageBenchmarks", swiftSettings: strict),
        // `swift run -c release OCPPBenchmarks`: an inbound OCPP 1.6 and 2.0.1 CALL parsed,
        // validated, handled and answered, against the DESIGN budget.
        .executableTarget(name: "OCPPBenchmarks",
                          dependencies: ["OCPP16", "OCPP16Messages", "OCPP201", "OCPP201DeviceModel", "OCPP201Messages", "OCPPTransport", "OCPPJSON", "Storage", "ChargingCore", "StationPort",
                                         .product(name: "NIOPosix", package: "swift-nio"),
                                         .product(name: "Logging", package: "swift-log")],
                          path: "Benchmarks/OCPPBenchmarks", swiftSettings: strict),
        // Every parser of outside input as a libFuzzer target (scripts/fuzz) and, built plainly,
        // a runner of the committed corpora (Tests/Fuzz/corpus) that the interop suite calls.
        .executableTarget(name: "Fuzz",
                          dependencies: ["BoardDescription", "Drivers", "FileTransfer", "HALSim", "OCPP16Messages",
                                         "OCPP201Messages", "OCPPJSON", "OCPPSecurity", "OCPPTransport", "Station",
                                         .product(name: "NIOCore", package: "swift-nio"),
                                         .product(name: "NIOEmbedded", package: "swift-nio")],
                          path: "Tests/Fuzz", exclude: ["corpus"], swiftSettings: strict),
        // The heart: connector state machine, sessions, authorization, power allocation,
        // charging profiles, display content. Pure Swift, no I/O, driven by an injected clock.
        .target(name: "ChargingCore", dependencies: ["HAL", "Drivers"], swiftSettings: strict),
        // OCPP-J: our own small JSON value type, parser and writer (no Foundation), shared by the
        // generated message types and the RPC layer.
        .target(name: "OCPPJSON", swiftSettings: strict),
        // OCPP 1.6J message types generated from the official JSON schemas
        // (scripts/generate-ocpp-messages.py; output committed, never hand-written).
        .target(name: "OCPP16Messages", dependencies: ["OCPPJSON"], swiftSettings: strict),
        // OCPP 2.0.1 message types, generated the same way from the 2.0.1 schemas.
        .target(name: "OCPP201Messages", dependencies: ["OCPPJSON"], swiftSettings: strict),
        // The OCPP 2.0.1 device model: components, variables, their attributes and monitors,
        // persisted in SQLite; answers GetVariables, SetVariables and the reports.
        .target(name: "OCPP201DeviceModel", dependencies: ["OCPP201Messages", "OCPPJSON", "Storage"],
                swiftSettings: strict),
        // The address of Swift concurrency's global-enqueue hook, for the static build (OCPPExecutor).
        .target(name: "CConcurrencyHook"),
        // glibc's malloc settings for evsed: one arena for every thread, and the start-up's
        // temporaries given back once it is done (mallopt and malloc_trim, which Glibc does not import).
        .target(name: "CHeapTrim"),
        // WebSocket (+TLS) client, RPC framing, retry and backoff; shared by both OCPP versions.
        .target(name: "OCPPTransport",
                dependencies: ["OCPPJSON", "HAL", "Codecs", "SmallFiles", "CConcurrencyHook", "CCrypto",
                               .product(name: "NIOCore", package: "swift-nio"),
                               .product(name: "NIOPosix", package: "swift-nio"),
                               .product(name: "NIOHTTP1", package: "swift-nio"),
                               .product(name: "NIOWebSocket", package: "swift-nio"),
                               .product(name: "NIOSSL", package: "swift-nio-ssl"),
                               .product(name: "NIOTLS", package: "swift-nio"),
                               .product(name: "Logging", package: "swift-log")],
                swiftSettings: strict),
        // The OCPP 1.6J charge point: translates between the core/station and 1.6 messages,
        // one file per operation, one service per feature profile. Holds no charging logic.
        .target(name: "OCPP16",
                dependencies: ["OCPP16Messages", "OCPPTransport", "OCPPJSON", "OCPPSecurity", "FileTransfer", "FirmwareUpdate", "LogUpload", "Codecs", "SmallFiles", "StationPort",
                               "ChargingCore", "Storage", "HAL",
                               .product(name: "NIOCore", package: "swift-nio"),
                               .product(name: "NIOPosix", package: "swift-nio"),
                               .product(name: "Logging", package: "swift-log")],
                swiftSettings: strict),
        // The OCPP 2.0.1 charging station: the same station port, 2.0.1 messages, one file per
        // operation, one service per functional block. Holds no charging logic.
        .target(name: "OCPP201",
                dependencies: ["OCPP201Messages", "OCPP201DeviceModel", "OCPPTransport", "OCPPJSON", "OCPPSecurity", "FileTransfer", "FirmwareUpdate",
                               "LogUpload", "StationPort", "ChargingCore",
                               "Storage", "HAL",
                               .product(name: "NIOCore", package: "swift-nio"),
                               .product(name: "NIOPosix", package: "swift-nio"),
                               .product(name: "Logging", package: "swift-log")],
                swiftSettings: strict),
        // Base64, hex and percent-encoding: the one copy every layer uses (no Foundation).
        .target(name: "Codecs", swiftSettings: strict),
        // Station-side PKI on BoringSSL (swift-nio-ssl's CNIOBoringSSL): CSRs, chain checks,
        // firmware signatures.
        .target(name: "OCPPSecurity", dependencies: ["CCrypto", "Codecs", "SmallFiles", .product(name: "NIOSSL", package: "swift-nio-ssl")],
                swiftSettings: strict),
        // Firmware down, diagnostics and logs up: HTTP(S) GET/PUT and FTP RETR/STOR on swift-nio,
        // streamed to and from disk; a ustar writer for the diagnostics archive.
        .target(name: "FileTransfer",
                dependencies: ["Codecs", "Locking",
                               .product(name: "NIOCore", package: "swift-nio"),
                               .product(name: "NIOPosix", package: "swift-nio"),
                               .product(name: "NIOHTTP1", package: "swift-nio"),
                               .product(name: "NIOSSL", package: "swift-nio-ssl")],
                swiftSettings: strict),

        // A firmware update as both OCPP adapters run it: the job on disk, download with retries,
        // the signature check, the installation when no session runs, the installer hand-off.
        .target(name: "FirmwareUpdate",
                dependencies: ["FileTransfer", "HAL", "OCPPJSON", "OCPPSecurity", "StationPort", "Storage",
                               .product(name: "Logging", package: "swift-log")],
                swiftSettings: strict),

        // Logs up as both OCPP adapters ask for them: the diagnostics archive or the security log
        // put together, uploaded with retries, each step reported through the adapter.
        .target(name: "LogUpload",
                dependencies: ["FileTransfer", "HAL", "OCPPJSON", "Storage", .product(name: "Logging", package: "swift-log")],
                swiftSettings: strict),

        // Wires a board's drivers + the core + storage into a running station (event loop).
        .target(name: "Station",
                dependencies: ["ChargingCore", "Storage", "BoardAssembly", "BoardDescription", "ConfigFile", "Drivers", "HAL", "StationPort",
                               .product(name: "Logging", package: "swift-log")],
                swiftSettings: strict),
        .executableTarget(name: "evsed",
                          // No ArgumentParser here: it brings FoundationEssentials into the firmware.
                          dependencies: ["Station", "OCPP16", "OCPP201", "OCPP201DeviceModel", "OCPPSecurity", "FirmwareUpdate", "LogUpload", "OCPPTransport", "BoardDescription", "HAL", "SmallFiles", "CHeapTrim",
                                         .product(name: "Logging", package: "swift-log")],
                          swiftSettings: strict),

        // The hardware simulator (never linked into the firmware).
        .target(name: "EVSESimulator",
                dependencies: ["BoardDescription", "Drivers", "HAL",
                               .product(name: "Hummingbird", package: "hummingbird"),
                               .product(name: "NIOCore", package: "swift-nio"),
                               .product(name: "NIOPosix", package: "swift-nio"),
                               .product(name: "Logging", package: "swift-log")],
                path: "Hardware-sim/Sources/EVSESimulator",
                swiftSettings: strict),
        .executableTarget(name: "evse-sim",
                          dependencies: ["EVSESimulator",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          path: "Hardware-sim/Sources/evse-sim",
                          swiftSettings: strict),

        .testTarget(name: "HALTests", dependencies: ["HAL", "HALFake"], swiftSettings: strict),
        .testTarget(name: "DriversTests", dependencies: ["TestSupport", "Drivers", "HAL", "HALFake"], swiftSettings: strict),
        .testTarget(name: "BoardDescriptionTests",
                    dependencies: ["BoardDescription", "BoardAssembly", "ConfigFile", "Drivers", "HAL", "HALFake"],
                    swiftSettings: strict),
        // What the test targets share (the seeded random generator).
        .target(name: "TestSupport", dependencies: ["FileTransfer", "FirmwareUpdate"], path: "Tests/TestSupport", swiftSettings: strict),
        // A SQLite VFS that simulates power cuts (drops what was not fsynced): tests only.
        .target(name: "CPowerCutVFS", dependencies: ["CSQLite"], path: "Tests/PowerCutVFS"),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "CPowerCutVFS"], swiftSettings: strict),
        .testTarget(name: "ChargingCoreTests", dependencies: ["TestSupport", "ChargingCore", "HAL", "Drivers"], swiftSettings: strict),
        .testTarget(name: "StationTests",
                    dependencies: ["Station", "StationPort", "ChargingCore", "Storage", "BoardAssembly", "BoardDescription",
                                   "ConfigFile", "Drivers", "HAL", "HALFake",
                                   // The port's in-process end-to-end tests run both OCPP adapters on it.
                                   "OCPP16", "OCPP16Messages", "OCPP201", "OCPP201Messages", "OCPPTransport", "OCPPJSON",
                                   .product(name: "NIOEmbedded", package: "swift-nio")],
                    swiftSettings: strict),
        .testTarget(name: "OCPPMessagesTests", dependencies: ["TestSupport", "OCPP16Messages", "OCPP201Messages", "OCPPJSON"],
                    swiftSettings: strict),
        .testTarget(name: "OCPPTransportTests",
                    dependencies: ["TestSupport", "OCPPTransport", "OCPPJSON", "HAL", "SmallFiles",
                                   .product(name: "NIOCore", package: "swift-nio"),
                                   .product(name: "NIOPosix", package: "swift-nio"),
                                   .product(name: "NIOEmbedded", package: "swift-nio"),
                                   .product(name: "NIOHTTP1", package: "swift-nio"),
                                   .product(name: "NIOWebSocket", package: "swift-nio"),
                                   .product(name: "NIOSSL", package: "swift-nio-ssl")],
                    swiftSettings: strict),
        .testTarget(name: "OCPP16Tests",
                    dependencies: ["TestSupport", "OCPP16", "OCPP16Messages", "OCPPTransport", "OCPPJSON", "ChargingCore",
                                   "Storage", "HAL", "FileTransfer", "FirmwareUpdate", "LogUpload", "OCPPSecurity", "StationPort",
                                   .product(name: "NIOEmbedded", package: "swift-nio")],
                    swiftSettings: strict),
        .testTarget(name: "OCPP201Tests",
                    dependencies: ["TestSupport", "OCPP201", "OCPP201DeviceModel", "OCPP201Messages", "OCPPTransport", "OCPPJSON",
                                   "OCPPSecurity", "FileTransfer", "FirmwareUpdate", "LogUpload", "ChargingCore", "Storage", "HAL", "StationPort"],
                    swiftSettings: strict),
        .testTarget(name: "OCPP201DeviceModelTests",
                    dependencies: ["OCPP201DeviceModel", "OCPP201Messages", "OCPPJSON", "Storage"],
                    swiftSettings: strict),
        .testTarget(name: "CodecsTests", dependencies: ["Codecs"], swiftSettings: strict),
        .testTarget(name: "OCPPSecurityTests", dependencies: ["OCPPSecurity", "Codecs"], swiftSettings: strict),
        .testTarget(name: "FileTransferTests",
                    dependencies: ["FileTransfer",
                                   .product(name: "NIOCore", package: "swift-nio"),
                                   .product(name: "NIOPosix", package: "swift-nio"),
                                   .product(name: "NIOEmbedded", package: "swift-nio"),
                                   .product(name: "NIOHTTP1", package: "swift-nio"),
                                   .product(name: "NIOSSL", package: "swift-nio-ssl")],
                    swiftSettings: strict),
        .testTarget(name: "HALLinuxTests", dependencies: ["HALLinux", "HAL"], swiftSettings: strict),
        .testTarget(name: "HALSimTests", dependencies: ["HALSim", "HAL"], swiftSettings: strict),
        .testTarget(name: "SimulatorTests",
                    dependencies: ["EVSESimulator", "HALSim", "HALLinux", "Drivers", "HAL", "BoardAssembly",
                                   "BoardDescription"],
                    swiftSettings: strict),
    ]
)
