import FileTransfer
import FirmwareUpdate
import Foundation
import Locking
import Synchronization

/// The file server side, in memory: downloads answer what the test queued (the default image
/// otherwise), uploads are kept with their contents.
public final class FakeFileTransfer: FileTransferring {
    public enum Download: Sendable {
        case bytes([UInt8])
        case failure(FileTransferError)
        /// Never ends until cancelled (a slow server; a restart in the middle).
        case hang
    }

    public struct Upload: Sendable {
        public var directory: String
        public var fileName: String
        public var bytes: [UInt8]
    }

    public static let image = Array("SwiftEVSE firmware image v2\n".utf8) + (0..<4_000).map { UInt8(truncatingIfNeeded: $0) }

    public init() {}

    private let state = Mutex<(downloads: [Download], downloadCalls: [String], uploadResults: [FileTransferError?],
                               uploads: [Upload], uploadCalls: Int, uploadHangs: Bool)>(([], [], [], [], 0, false))

    public func queueDownloads(_ d: [Download]) { state.locked { $0.downloads += d } }
    public func queueUploadFailures(_ f: [FileTransferError?]) { state.locked { $0.uploadResults += f } }
    public func hangUploads(_ on: Bool) { state.locked { $0.uploadHangs = on } }
    public var downloadCalls: [String] { state.locked { $0.downloadCalls } }
    public var uploads: [Upload] { state.locked { $0.uploads } }
    public var uploadCalls: Int { state.locked { $0.uploadCalls } }

    public func download(_ url: String, to path: String, maxBytes: UInt64) async throws(FileTransferError) -> UInt64 {
        let next = state.locked { s -> Download in
            s.downloadCalls.append(url)
            return s.downloads.isEmpty ? .bytes(Self.image) : s.downloads.removeFirst()
        }
        switch next {
        case .bytes(let bytes):
            do { try Data(bytes).write(to: URL(fileURLWithPath: path)) } catch { throw .localFile("\(error)") }
            return UInt64(bytes.count)
        case .failure(let error):
            throw error
        case .hang:
            try? await Task.sleep(for: .seconds(600))
            throw .cancelled
        }
    }

    public func upload(_ path: String, to directoryURL: String, as fileName: String) async throws(FileTransferError) {
        let bytes = FileManager.default.contents(atPath: path).map(Array.init) ?? []
        let (failure, hang) = state.locked { s -> (FileTransferError?, Bool) in
            s.uploadCalls += 1
            return (s.uploadResults.isEmpty ? nil : s.uploadResults.removeFirst(), s.uploadHangs)
        }
        if hang {
            try? await Task.sleep(for: .seconds(600))
            throw .cancelled
        }
        if let failure { throw failure }
        state.locked { $0.uploads.append(Upload(directory: directoryURL, fileName: fileName, bytes: bytes)) }
    }
}

/// Installs nothing: records what it was given and answers what the test says.
public final class FakeInstaller: FirmwareInstalling {
    public init() {}

    private let state = Mutex<(outcome: FirmwareInstallOutcome?, installed: [[UInt8]])>((.installed, []))

    /// nil: the installation never ends (the power goes in the middle of it).
    public func answer(_ outcome: FirmwareInstallOutcome?) { state.locked { $0.outcome = outcome } }
    public var installed: [[UInt8]] { state.locked { $0.installed } }

    public func install(firmwareAt path: String) async -> FirmwareInstallOutcome {
        let bytes = FileManager.default.contents(atPath: path).map(Array.init) ?? []
        let outcome = state.locked { s -> FirmwareInstallOutcome? in
            s.installed.append(bytes)
            return s.outcome
        }
        guard let outcome else {
            try? await Task.sleep(for: .seconds(600))
            return .failed("interrupted")
        }
        return outcome
    }
}

