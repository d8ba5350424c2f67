import CodeSyncTUI
import Foundation

/// Opens the editor on a local file: one user, no session, saving atomically to the file.
public enum LocalEditor {
    /// Runs the full-screen editor on `path` until the user quits; returns the signal that ended it, or 0.
    public static func run(path: String, hooks extra: EditorHooks = EditorHooks()) throws -> Int32 {
        let existing = try TextFile.load(path)
        let text = existing ?? ""
        let name = URL(fileURLWithPath: path).lastPathComponent
        let document = LocalDocument(text: text)
        var model = EditorModel(text: text, fileName: name, size: TerminalSize(columns: 80, rows: 24))
        if existing == nil { _ = model.handle(.message("new file: Ctrl-S creates \(name)", isError: false)) }
        var hooks = extra
        let user = defaultName()
        let runner: BufferRunner?
        do {
            runner = try BufferRunner(path: path)
        } catch {
            runner = nil
            let reason = "\(error)"
            hooks.run = { _, app in app.post(.run(.failed("runs unavailable: \(reason)"))) }
        }
        if let runner {
            hooks.run = { source, app in
                runner.run(source, by: user) { report in for update in report.paneUpdates { app.post(.run(update)) } }
            }
            hooks.cancelRun = { runner.cancel() }
        }
        hooks.analyze = { ComplexityView.analyze($0, path: path) }
        hooks.save = { text in
            try TextFile.save(text, to: path)
            let lines = text.isEmpty ? 0 : text.split(separator: "\n", omittingEmptySubsequences: false).count
            return "saved \(lines) lines to \(name)"
        }
        let app = EditorApp(model: model, document: document, hooks: hooks)
        defer {
            if let runner { _ = try? blockingAwait { await runner.shutdown() } }
        }
        try app.run()
        return app.endedBySignal
    }
}
