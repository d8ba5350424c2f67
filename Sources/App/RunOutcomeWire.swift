import CodeSyncProtocol
import CodeSyncRunner

extension RunStream {
    /// The wire's name for a runner stream.
    public init(_ kind: OutputStreamKind) {
        switch kind {
        case .stdout: self = .stdout
        case .stderr: self = .stderr
        }
    }
}

extension RunEnding {
    /// The outcome's name in `run.exited` (docs/PROTOCOL.md).
    public init(_ outcome: RunOutcome) {
        switch outcome {
        case .exited: self = .exited
        case .timedOut: self = .timedOut
        case .outOfMemory: self = .outOfMemory
        case .killed: self = .killed
        case .outputLimit: self = .outputLimit
        case .cancelled: self = .cancelled
        case .buildFailed: self = .buildFailed
        case .buildTimedOut: self = .buildTimedOut
        }
    }
}

extension RunOutcome {
    /// The `code` sent with the outcome: the exit code, 128 + the signal, or the build's exit code.
    public var wireCode: Int? {
        switch self {
        case .exited(let code), .buildFailed(let code): Int(code)
        case .killed(let signal): 128 + Int(signal)
        default: nil
        }
    }

    /// The outcome a `run.exited` names; nil for `failed` (the sandbox itself failed), or when the
    /// code the outcome needs is missing.
    public init?(_ ending: RunEnding, code: Int?) {
        let code32 = code.map { Int32(clamping: $0) }
        switch ending {
        case .exited: guard let code32 else { return nil }; self = .exited(code: code32)
        case .timedOut: self = .timedOut
        case .outOfMemory: self = .outOfMemory
        case .killed: guard let code32, code32 > 128 else { return nil }; self = .killed(signal: code32 - 128)
        case .outputLimit: self = .outputLimit
        case .cancelled: self = .cancelled
        case .buildFailed: self = .buildFailed(code: code32 ?? 1)
        case .buildTimedOut: self = .buildTimedOut
        case .failed: return nil
        }
    }
}

extension RunExitedMessage {
    /// The end of a run as the runner reported it.
    public init(run: String, result: RunResult, by: String? = nil, byName: String? = nil) {
        self.init(run: run, outcome: RunEnding(result.outcome), code: result.outcome.wireCode,
                  durationMs: Int(result.durationMilliseconds), by: by, byName: byName)
    }

    /// The runner's outcome; nil when the sandbox failed (`failed`) or the code does not fit.
    public var runOutcome: RunOutcome? { RunOutcome(outcome, code: code) }

    /// The program exited by itself with code 0.
    public var succeeded: Bool { outcome == .exited && code == 0 }

    /// Plain words for the output pane, e.g. "exited with code 0" or "cancelled by bob".
    public var summary: String {
        var text = runOutcome?.description ?? (outcome == .failed ? "the sandbox failed" : outcome.rawValue)
        if let who = byName ?? by { text += " by \(who)" }
        return text
    }

    /// The exit status of `codesync run HOST:PORT` for this end (the rules of a local run; 125 when
    /// the sandbox failed).
    public var exitStatus: Int32 { runOutcome?.exitStatus ?? 125 }
}
