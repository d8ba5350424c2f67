import CodeSyncProtocol
import CodeSyncRunner

extension RunOutcome {
    /// The outcome's name in `run.exited` (docs/PROTOCOL.md).
    public var wireName: String {
        switch self {
        case .exited: "exited"
        case .timedOut: "timedOut"
        case .outOfMemory: "outOfMemory"
        case .killed: "killed"
        case .outputLimit: "outputLimit"
        case .cancelled: "cancelled"
        case .buildFailed: "buildFailed"
        case .buildTimedOut: "buildTimedOut"
        }
    }

    /// The `code` sent with the outcome: the exit code, 128 + the signal, or the build's exit code.
    public var wireCode: Int? {
        switch self {
        case .exited(let code), .buildFailed(let code): Int(code)
        case .killed(let signal): 128 + Int(signal)
        default: nil
        }
    }

    /// The outcome a `run.exited` names; nil for "failed" (the sandbox itself failed) or a name
    /// this build does not know.
    public init?(wireName: String, code: Int?) {
        let code32 = code.map { Int32(clamping: $0) }
        switch wireName {
        case "exited": guard let code32 else { return nil }; self = .exited(code: code32)
        case "timedOut": self = .timedOut
        case "outOfMemory": self = .outOfMemory
        case "killed": guard let code32, code32 > 128 else { return nil }; self = .killed(signal: code32 - 128)
        case "outputLimit": self = .outputLimit
        case "cancelled": self = .cancelled
        case "buildFailed": self = .buildFailed(code: code32 ?? 1)
        case "buildTimedOut": self = .buildTimedOut
        default: return nil
        }
    }
}

extension RunExitedMessage {
    /// Plain words for the output pane, e.g. "exited with code 0" or "cancelled by bob".
    public var summary: String {
        var text = RunOutcome(wireName: outcome, code: code)?.description ?? (outcome == "failed" ? "the sandbox failed" : outcome)
        if let who = byName ?? by { text += " by \(who)" }
        return text
    }
}
