import CodeSyncProtocol
import CodeSyncRunner
import EditorCore
import CodeSyncTUI
import Foundation

/// The full-screen editor on a session peer, for `codesync host` and `codesync join` without
/// --headless. The editor loop runs on its own thread; the peer is polled there, so remote edits and
/// local keys apply in one order.
public enum SessionEditor {
    /// Edits `session`'s document as its host: Ctrl-S saves the file, Ctrl-R runs the buffer in the
    /// local sandbox and streams the output to every peer, and run requests from guests run here too.
    /// Returns the signal that ended the editor, or 0 when the user quit.
    public static func host(_ session: HostSession, userName: String) async throws -> Int32 {
        let appBox = AppBox()
        // The host's own runs are not echoed back by the session: its pane taps the typed reports.
        let runs = SharedRunHost.forSession(peer: session.peer, path: session.file.path,
                                            project: session.isProject ? session.server : nil) { report in
            for update in report.paneUpdates { appBox.app?.post(.run(update)) }
        }
        var banner = session.joinLines.map { "share: \($0)" } + (session.watchLine.map { ["watch only: \($0)"] } ?? [])
            + (session.approves ? ["you admit each guest: they wait until you press Ctrl-W, then a (admit) or r (refuse)"] : [])
        if session.isProject, runs.canRun {
            // What guests see in their welcome: the host sees it too, before anyone runs anything.
            banner.append("runs: " + TerminalSanitizer.line(ProjectRunSettings.read(root: session.file.path).summary))
        }
        let signal = try await open(peer: session.peer, fileName: session.file.lastPathComponent, isHost: true,
                                    userName: userName, banner: banner, runs: runs, appBox: appBox, hostSession: session) {
            try blockingAwait { try await session.save() }
            return "saved \(session.file.lastPathComponent)"
        }
        await runs.shutdown()
        // Ctrl-Q is a clean quit (the user was asked whether to save): the file is the truth and the
        // journal goes, so the next start reads the file as it is then. A signal keeps the journal.
        try await session.shutdown(save: false, discardJournal: signal == 0)
        return signal
    }

    /// Edits as a guest: Ctrl-R asks the host to run the buffer; its output arrives like everyone's.
    /// Returns the signal that ended the editor, or 0 when the user quit.
    public static func join(_ peer: CollaborationPeer, address: String, userName: String) async throws -> Int32 {
        var banner = ["joined \(address) as \(userName)"]
        switch peer.access {
        case .view: banner.append("watch only: the host does not accept your edits or runs")
        case .edit: banner.append("the host lets you edit but not run code")
        case .editRun: break
        }
        // The host's file name gives the status bar its title and the analyzer its language.
        // The name comes from the host: shown in the status bar, so sanitised like any peer's text.
        let fileName = TerminalSanitizer.line(peer.sessionFileName ?? address)
        let signal = try await open(peer: peer, fileName: fileName, isHost: false, userName: userName,
                                    banner: banner, runs: nil, appBox: AppBox(), save: nil)
        await peer.close()
        return signal
    }

    /// What guests with `access` may do, in words.
    public static func describe(_ access: GuestAccess) -> String {
        switch access {
        case .editRun: "edit and run code"
        case .edit: "edit (runs are yours alone)"
        case .view: "only watch"
        }
    }

    private static func open(
        peer: CollaborationPeer, fileName: String, isHost: Bool, userName: String, banner: [String],
        runs: SharedRunHost?, appBox: AppBox, hostSession: HostSession? = nil, save: (() throws -> String)?
    ) async throws -> Int32 {
        // A shared folder: the editor shows one of its files at a time (FolderEditor.swift).
        let folder = peer.isProject ? FolderSession(peer: peer, isHost: isHost) : nil
        let document: EditorDocument = folder?.document ?? PeerDocument(peer: peer)
        // The first poll brings the text the peer starts with; the model starts from it unmodified.
        let initial = peer.poll()
        var model = EditorModel(text: folder == nil ? peer.text : "", fileName: folder == nil ? fileName : "",
                                size: TerminalSize(columns: 80, rows: 24), canSave: isHost)
        if folder != nil {
            _ = model.handle(.projectFiles([]))
            model.output.note("a shared folder: Ctrl-O opens a file by name, Ctrl-B shows the files, Ctrl-N the next open file")
        }
        _ = model.handle(.connection(isHost ? .hosting(peers: 0) : .connected(latencyMs: nil)))
        for line in banner { model.output.note(line) }
        if !isHost && !peer.access.canEdit { _ = model.handle(.readOnly(true)) }
        if let session = hostSession { _ = model.handle(.guestRoles(session.guests.rawValue)) }
        for event in initial {
            if case .textChanged = event { continue }
            for editorEvent in SessionEvents.editorEvents(for: event, isHost: isHost) { _ = model.handle(editorEvent) }
        }
        let guest = GuestRuns(link: peer)
        let shown = ShownLatency()
        var hooks = EditorHooks()
        hooks.save = save.map { save in { _ in try save() } }
        hooks.presence = { cursor, selection in peer.setPresence(cursor: cursor, selection: selection) }
        hooks.analyze = { ComplexityView.analyze($0, path: fileName) }
        if let folder {
            let files = folder.document
            hooks.presence = { cursor, selection in
                if let path = files.path { peer.setPresence(cursor: cursor, selection: selection, inFile: path) }
            }
            let name = folder.shownName
            hooks.analyze = { ComplexityView.analyze($0, path: name.value) }
            hooks.file = { folder.handle($0, host: hostSession) }
            // A file's remote edits arrive without waking the editor: it looks for them this often.
            hooks.pollIntervalMs = 50
            if let hostSession {
                hooks.save = { _ in
                    guard let path = files.path else { throw SessionError.file("no file is open") }
                    try blockingAwait { try await hostSession.saveFile(path) }
                    return "saved \(path)"
                }
            }
        }
        if let runs {
            hooks.run = { source, app in
                guard runs.canRun else {
                    app.post(.run(.failed("runs unavailable: no sandbox configuration could be loaded")))
                    return
                }
                runs.start(source: source, by: peer.id)
            }
            hooks.cancelRun = { runs.cancel(run: nil, by: peer.id) }
            if let session = hostSession {
                hooks.cycleGuestRoles = {
                    let order: [GuestAccess] = [.editRun, .edit, .view]
                    let next = order[((order.firstIndex(of: session.guests) ?? 0) + 1) % order.count]
                    session.setGuests(next)
                    // The server confirms with `roles`; show the choice at once all the same.
                    appBox.app?.post(.guestRoles(next.rawValue))
                    appBox.app?.post(.message("guests may now \(Self.describe(next))", isError: false))
                }
                hooks.decide = { id, decision in
                    switch decision {
                    case .admit: session.peer.admit(id)
                    case .refuse: session.peer.refuse(id)
                    case .remove: session.peer.remove(id)
                    }
                }
            }
        } else {
            hooks.run = { source, app in
                if let refusal = guest.run(source) { app.post(.message(refusal, isError: true)) }
            }
            hooks.cancelRun = { guest.cancel() }
        }
        if let folder {
            // A shared folder runs the file shown (or the project's own command, from .codesync.json)
            // with the session's files mounted read-only: the host in its sandbox, a guest by asking.
            let files = folder.document
            if let runs {
                hooks.run = { source, app in
                    guard runs.canRun else {
                        app.post(.run(.failed("runs unavailable: no sandbox configuration could be loaded")))
                        return
                    }
                    runs.start(source: source, by: peer.id, path: files.path)
                }
            } else {
                hooks.run = { source, app in
                    if let refusal = guest.run(source, path: files.path) { app.post(.message(refusal, isError: true)) }
                }
            }
        }
        hooks.pollEvents = {
            var events: [EditorEvent] = []
            for event in peer.poll() {
                if case .run(let run) = event {
                    if let runs {
                        // Guests' requests and cancels; the host shows its own runs as they happen.
                        runs.handle(run)
                        continue
                    }
                    guest.observe(run)
                }
                events.append(contentsOf: SessionEvents.editorEvents(for: event, isHost: isHost))
            }
            if !isHost, let latency = peer.latencyMs, latency != shown.latencyMs {
                shown.latencyMs = latency
                events.append(.connection(.connected(latencyMs: latency)))
            }
            if let folder { events += folder.poll() }
            return events
        }
        let app = EditorApp(model: model, document: document, hooks: hooks)
        appBox.app = app
        peer.onActivity = { [weak app] in app?.wake() }
        folder?.start { [weak app] in app?.wake() }
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
}

/// The latency last put on the status bar (read and written on the editor thread only).
private final class ShownLatency: @unchecked Sendable {
    var latencyMs: Int?
}

/// Lets the poll hook reach the app it belongs to (created after the hooks).
final class AppBox: @unchecked Sendable {
    weak var app: EditorApp?
}
