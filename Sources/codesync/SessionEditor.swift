import ArgumentParser
import CodeSyncProtocol
import CodeSyncTUI
import Foundation

/// The full-screen editor on a session peer, for `codesync host` and `codesync join` without
/// --headless. The editor loop runs on its own thread; the peer is polled there, so remote edits and
/// local keys apply in one order.
enum SessionEditor {
    /// Edits `session`'s document as its host: Ctrl-S saves the file, Ctrl-R runs the buffer in the
    /// local sandbox and streams the output to every peer, and run requests from guests run here too.
    static func host(_ session: HostSession, userName: String) async throws {
        let runner = try? BufferRunner(path: session.file.path)
        let banner = session.joinLines.map { "share: \($0)" }
        let signal = try await open(peer: session.peer, fileName: session.file.lastPathComponent, isHost: true,
                                    userName: userName, banner: banner, runner: runner) {
            try blockingAwait { try await session.save() }
            return "saved \(session.file.lastPathComponent)"
        }
        await runner?.shutdown()
        try await session.shutdown(save: false)
        if signal != 0 { throw ExitCode(128 + signal) }
    }

    /// Edits as a guest: Ctrl-R asks the host to run the buffer; its output arrives like everyone's.
    static func join(_ peer: CollaborationPeer, address: String, userName: String) async throws {
        let signal = try await open(peer: peer, fileName: address, isHost: false, userName: userName,
                                    banner: ["joined \(address) as \(userName)"], runner: nil, save: nil)
        await peer.close()
        if signal != 0 { throw ExitCode(128 + signal) }
    }

    private static func open(
        peer: CollaborationPeer, fileName: String, isHost: Bool, userName: String, banner: [String],
        runner: BufferRunner?, save: (() throws -> String)?
    ) async throws -> Int32 {
        let document = PeerDocument(peer: peer)
        // The first poll brings the text the peer starts with; the model starts from it unmodified.
        let initial = peer.poll()
        var model = EditorModel(text: peer.text, fileName: fileName, size: TerminalSize(columns: 80, rows: 24), canSave: isHost)
        _ = model.handle(.connection(isHost ? .hosting(peers: 0) : .connected(latencyMs: nil)))
        for line in banner { model.output.note(line) }
        for event in initial {
            if case .textChanged = event { continue }
            for editorEvent in SessionEvents.editorEvents(for: event, isHost: isHost) { _ = model.handle(editorEvent) }
        }
        let runs = RunState()
        var hooks = EditorHooks()
        hooks.save = save.map { save in { _ in try save() } }
        hooks.presence = { cursor, selection in peer.setPresence(cursor: cursor, selection: selection) }
        hooks.analyze = { ComplexityView.analyze($0, path: fileName) }
        let language = runner?.languageName ?? "python"
        if isHost {
            hooks.run = { source, app in
                guard let runner else {
                    app.post(.run(.failed("runs unavailable: no sandbox configuration could be loaded")))
                    return
                }
                hostRun(source, by: userName, runner: runner, peer: peer, app: app)
            }
            hooks.cancelRun = { runner?.cancel() }
        } else {
            hooks.run = { source, _ in peer.requestRun(language: language, source: source) }
            hooks.cancelRun = {
                if let id = runs.current { peer.reportRun(.runCancel(RunCancelMessage(peer: peer.id, run: id))) }
            }
        }
        let appBox = AppBox()
        hooks.pollEvents = {
            var events: [EditorEvent] = []
            for event in peer.poll() {
                if case .run(let run) = event {
                    switch run {
                    case .requested(let request) where isHost:
                        if let runner, let app = appBox.app {
                            hostRun(request.source, by: request.peer, runner: runner, peer: peer, app: app)
                        }
                        continue
                    case .cancelRequested where isHost:
                        runner?.cancel()
                        continue
                    case .started(let started):
                        runs.current = started.run
                        if isHost { continue }  // the host shows its own runs as they happen
                    case .output, .exited:
                        if isHost { continue }
                    default:
                        break
                    }
                }
                events.append(contentsOf: SessionEvents.editorEvents(for: event, isHost: isHost))
            }
            if !isHost, let latency = peer.latencyMs, latency != runs.shownLatencyMs {
                runs.shownLatencyMs = latency
                events.append(.connection(.connected(latencyMs: latency)))
            }
            return events
        }
        let app = EditorApp(model: model, document: document, hooks: hooks)
        appBox.app = app
        peer.onActivity = { [weak app] in app?.wake() }
        let outcome: Result<Int32, Error> = await withCheckedContinuation { continuation in
            let thread = Thread {
                do {
                    try app.run()
                    continuation.resume(returning: .success(app.endedBySignal))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        peer.onActivity = nil
        return try outcome.get()
    }

    /// Runs on the host's sandbox; shows the output here and reports it to every peer.
    private static func hostRun(_ source: String, by user: String, runner: BufferRunner, peer: CollaborationPeer, app: EditorApp) {
        let id = String(UUID().uuidString.prefix(8)).lowercased()
        runner.run(source, by: user) { update in
            app.post(.run(update))
            switch update {
            case .started(let by, let language):
                peer.reportRun(.runStarted(RunStartedMessage(run: id, by: by, language: language)))
            case .output(let text, let isError):
                peer.reportRun(.runOutput(RunOutputMessage(run: id, stream: isError ? "stderr" : "stdout", text: text)))
            case .finished(let summary, let success, let durationMs):
                peer.reportRun(.runExited(RunExitedMessage(run: id, outcome: summary, code: success ? 0 : nil, durationMs: durationMs)))
            case .failed(let reason):
                peer.reportRun(.runExited(RunExitedMessage(run: id, outcome: reason, code: nil, durationMs: 0)))
            }
        }
    }
}

/// The id of the run most recently started in the session.
private final class RunState: @unchecked Sendable {
    private let lock = NSLock()
    private var id: String?
    /// The latency last put on the status bar (read and written on the editor thread only).
    var shownLatencyMs: Int?
    var current: String? {
        get { lock.lock(); defer { lock.unlock() }; return id }
        set { lock.lock(); id = newValue; lock.unlock() }
    }
}

/// Lets the poll hook reach the app it belongs to (created after the hooks).
private final class AppBox: @unchecked Sendable {
    weak var app: EditorApp?
}
