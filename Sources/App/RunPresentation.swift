import CodeSyncProtocol
import CodeSyncTUI

/// A run's progress, typed, as every route reports it: `codesync edit`'s own runs, the session
/// host's runs (what it sends every peer), and what a guest receives.
public enum RunReport: Equatable, Sendable {
    case started(RunStartedMessage)
    case output(RunOutputMessage)
    case exited(RunExitedMessage)
    /// A local run could not start or the engine failed: the one-line reason.
    case failed(String)

    /// The progress a session event carries; nil for requests and cancels (the host's business).
    public init?(_ event: SessionRunEvent) {
        switch event {
        case .requested, .cancelRequested, .config: return nil
        case .started(let message): self = .started(message)
        case .output(let message): self = .output(message)
        case .exited(let message): self = .exited(message)
        }
    }

    /// The wire message a session host sends for this report; nil for `failed` (a host sends its
    /// reason as a `stderr` chunk and a `failed` end instead).
    public var message: WireMessage? {
        switch self {
        case .started(let m): .runStarted(m)
        case .output(let m): .runOutput(m)
        case .exited(let m): .runExited(m)
        case .failed: nil
        }
    }
}

extension RunStartedMessage {
    /// What the output pane's header names: the language, and in a shared folder the file or the
    /// project's command that runs (shown as the host sent it; the pane sanitises it).
    public var title: String {
        if let command { return "\(language): $ \(command)" }
        if let path { return language.isEmpty ? path : "\(language): \(path)" }
        return language
    }
}

extension RunUpdate {
    /// What the output pane shows for one run report (routes post `RunReport.paneUpdates`).
    public init(_ report: RunReport) {
        switch report {
        case .started(let started):
            self = .started(by: started.byName ?? started.by, language: started.title)
        case .output(let output):
            self = .output(output.text, isError: output.stream == .stderr)
        case .exited(let exited):
            self = .finished(summary: exited.summary, success: exited.succeeded, durationMs: exited.durationMs)
        case .failed(let reason):
            self = .failed(reason)
        }
    }
}

extension RunReport {
    /// What the output pane receives for this report, in order (`OutputLog.apply` takes each): what
    /// every route posts, so a run looks the same whoever ran it and wherever it is watched.
    public var paneUpdates: [RunUpdate] {
        // A peer's version is hostile input like the rest: `OutputLog` takes only a well-formed one.
        if case .started(let started) = self, let version = started.version { return [RunUpdate(self), .version(version)] }
        return [RunUpdate(self)]
    }
}
