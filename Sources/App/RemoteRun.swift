import CodeSyncProtocol
import CodeSyncRunner
import EditorCore
import Foundation

/// `codesync run HOST:PORT --secret S`: joins the session as a guest, asks its host to run the
/// current buffer, and streams that run's output to stdout/stderr (exit status as for a local run).
public struct RemoteRun {
    public let address: SessionAddress
    public let secret: String
    public let name: String
    /// How long the host may take to start the run before we give up.
    public var startTimeout = 30.0
    /// In a session that shares a folder: the file to run, relative to the folder.
    public var path: String?

    /// Why a remote run could not be had (one line, sanitised).
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public init(address: SessionAddress, secret: String, name: String) {
        self.address = address
        self.secret = secret
        self.name = name
    }

    /// Streams the run's output; returns its exit status, or throws `Failure`.
    public func run() async throws -> Int32 {
        var options = CollaborationPeer.Options(name: name, secret: secret)
        options.reconnect = false
        options.onWaiting = { note("waiting for the host to admit you…") }
        let peer: CollaborationPeer
        do {
            peer = try await CollaborationPeer.join(address, options: options)
        } catch {
            throw Failure(description: "cannot join the session at \(address): \(error)")
        }
        _ = peer.poll()
        guard peer.access.canRun else {
            await peer.close()
            throw Failure(description: "the host at \(address) does not let this secret run code (access: \(peer.access.rawValue))")
        }
        if peer.isProject {
            // What will run, before it is asked for: the folder's own command if it has one.
            if let settings = peer.projectRunSettings {
                note("runs in this folder: \(TerminalSanitizer.line(settings.summary))")
            }
        } else if let path {
            await peer.close()
            throw Failure(description: "the session at \(address) shares one file, not a folder: drop '\(TerminalSanitizer.line(path))' to run its file")
        }
        let stop = StopSignal()
        stop.whenStopped { peer.interruptWait() }
        // The language is the host's choice (from its file); the request carries none.
        peer.requestRun(language: "", source: peer.isProject ? "" : peer.text, path: path)
        let asked = Date()
        var runID: String?
        var cancelSent = false
        var status: Int32?
        var failure: String?
        var outSanitizer = TerminalSanitizer(), errSanitizer = TerminalSanitizer()
        while status == nil && failure == nil {
            if stop.isStopped {
                guard let runID else { failure = "interrupted before the host started the run"; break }
                if !cancelSent {
                    peer.reportRun(.runCancel(RunCancelMessage(peer: peer.id, run: runID)))
                    cancelSent = true
                }
            }
            for event in await peer.nextEvents(timeout: .milliseconds(500)) {
                switch event {
                case .run(.started(let started)) where runID == nil && started.by == peer.id:
                    runID = started.run
                    if let command = started.command { note("running $ \(TerminalSanitizer.line(command))") }
                case .run(.output(let output)) where output.run == runID:
                    // A peer wrote the program: its output is neutralised before it reaches this terminal.
                    let isError = output.stream == .stderr
                    let handle = isError ? FileHandle.standardError : FileHandle.standardOutput
                    let shown = isError ? errSanitizer.feed(Array(output.text.utf8)) : outSanitizer.feed(Array(output.text.utf8))
                    try? handle.write(contentsOf: Array(shown.utf8))
                case .run(.exited(let exited)) where exited.run == runID && status == nil:
                    status = exited.exitStatus
                    try? FileHandle.standardOutput.write(contentsOf: Array(outSanitizer.finish().utf8))
                    try? FileHandle.standardError.write(contentsOf: Array(errSanitizer.finish().utf8))
                    if exited.outcome != .exited {
                        try? FileHandle.standardError.write(contentsOf: Array("codesync: program \(TerminalSanitizer.line(exited.summary))\n".utf8))
                    }
                case .error(let text) where runID == nil:
                    failure = text
                case .connection(.closed(let reason)) where status == nil:
                    failure = "the session ended before the run did: \(reason)"
                case .connection(.reconnecting(_, let reason)) where status == nil:
                    failure = "lost the session before the run ended: \(reason)"
                default:
                    break
                }
            }
            if runID == nil && failure == nil && Date().timeIntervalSince(asked) > startTimeout {
                failure = "the host at \(address) did not start the run within \(Int(startTimeout)) s"
            }
        }
        await peer.close()
        if let failure { throw Failure(description: TerminalSanitizer.line(failure)) }
        return status ?? 125
    }
}
