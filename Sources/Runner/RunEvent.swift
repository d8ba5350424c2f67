import Foundation

/// Which of the program's output streams a chunk came from.
public enum OutputStreamKind: String, Codable, Sendable, Hashable {
    case stdout
    case stderr
}

/// A piece of program output exactly as written (may split lines or UTF-8 sequences).
public struct OutputChunk: Sendable, Equatable, Codable {
    public var stream: OutputStreamKind
    public var bytes: [UInt8]

    public init(stream: OutputStreamKind, bytes: [UInt8]) {
        self.stream = stream
        self.bytes = bytes
    }

    /// The bytes decoded as UTF-8, invalid sequences replaced by U+FFFD (not sanitised for display).
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    private enum CodingKeys: String, CodingKey { case stream, data }

    // Bytes travel as base64 so that any output, valid UTF-8 or not, survives JSON unchanged.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        stream = try container.decode(OutputStreamKind.self, forKey: .stream)
        let encoded = try container.decode(String.self, forKey: .data)
        guard let data = Data(base64Encoded: encoded) else {
            throw DecodingError.dataCorruptedError(forKey: .data, in: container, debugDescription: "output data is not base64")
        }
        bytes = [UInt8](data)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(stream, forKey: .stream)
        try container.encode(Data(bytes).base64EncodedString(), forKey: .data)
    }
}

/// How a run ended.
public enum RunOutcome: Sendable, Equatable, Codable, CustomStringConvertible {
    /// The program exited by itself with this code.
    case exited(code: Int32)
    /// The wall-clock limit passed; the container was killed.
    case timedOut
    /// The kernel killed the program for exceeding the memory limit (the engine's OOMKilled flag).
    case outOfMemory
    /// The program died from a signal it did not get from us (exit status 128 + signal).
    case killed(signal: Int32)
    /// The program wrote more than the output cap; the container was killed.
    case outputLimit
    /// Someone cancelled the run (or the sandbox shut down); the container was killed.
    case cancelled
    /// A compiled language's build step failed with this code; the program never ran.
    case buildFailed(code: Int32)
    /// The build step passed its own time limit.
    case buildTimedOut

    /// The exit status `codesync run` uses for this outcome (124 for time-outs, like timeout(1)).
    public var exitStatus: Int32 {
        switch self {
        case .exited(let code): return code
        case .timedOut, .buildTimedOut: return 124
        case .outOfMemory, .outputLimit, .cancelled: return 137
        case .killed(let signal): return 128 + signal
        case .buildFailed(let code): return code == 0 ? 1 : code
        }
    }

    /// Plain words for people.
    public var description: String {
        switch self {
        case .exited(let code): return "exited with code \(code)"
        case .timedOut: return "timed out (wall-clock limit reached; killed)"
        case .outOfMemory: return "killed: out of memory (memory limit reached)"
        case .killed(let signal): return "killed by signal \(signal)\(Self.signalName(signal).map { " (\($0))" } ?? "")"
        case .outputLimit: return "killed: output limit reached"
        case .cancelled: return "cancelled"
        case .buildFailed(let code): return "compile error (build exited with code \(code))"
        case .buildTimedOut: return "compile timed out (build time limit reached; killed)"
        }
    }

    private static func signalName(_ signal: Int32) -> String? {
        [1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE",
         9: "SIGKILL", 11: "SIGSEGV", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM", 24: "SIGXCPU", 25: "SIGXFSZ"][signal]
    }
}

/// The summary of a finished run: outcome, duration and who started it.
public struct RunResult: Sendable, Equatable, Codable {
    public var runID: String
    public var outcome: RunOutcome
    /// Milliseconds from the request to the end of the run.
    public var durationMilliseconds: Double
    /// Who started the run (a peer name in a session, the user name headless).
    public var startedBy: String
    public var language: String

    public init(runID: String, outcome: RunOutcome, durationMilliseconds: Double, startedBy: String, language: String) {
        self.runID = runID
        self.outcome = outcome
        self.durationMilliseconds = durationMilliseconds
        self.startedBy = startedBy
        self.language = language
    }
}

/// Facts about a run that has just started.
public struct RunStart: Sendable, Equatable, Codable {
    public var runID: String
    public var language: String
    public var image: String
    public var startedBy: String
    /// True when a pre-started container from the warm pool took the run.
    public var pooled: Bool

    public init(runID: String, language: String, image: String, startedBy: String, pooled: Bool) {
        self.runID = runID
        self.language = language
        self.image = image
        self.startedBy = startedBy
        self.pooled = pooled
    }
}

/// What a run reports, in order: `started`, any number of `output`, then one `exited`.
public enum RunEvent: Sendable, Equatable, Codable {
    case started(RunStart)
    case output(OutputChunk)
    case exited(RunResult)
}

/// One request to run a program.
public struct RunRequest: Sendable {
    public var source: String
    public var language: Language
    /// Bytes given to the program's stdin (then end of file); nil gives an empty stdin.
    public var stdin: [UInt8]?
    public var limits: RunLimits
    public var startedBy: String
    /// A run inside a shared folder: the project mounted read-only at /project (`source` unused).
    public var project: ProjectMount?

    public init(source: String, language: Language, stdin: [UInt8]? = nil, limits: RunLimits = .standard, startedBy: String,
                project: ProjectMount? = nil) {
        self.project = project
        self.source = source
        self.language = language
        self.stdin = stdin
        self.limits = limits
        self.startedBy = startedBy
    }

    /// Whether the run has a build step with its own time limit.
    public var hasBuild: Bool { project.map { $0.hasBuild(language) } ?? language.isCompiled }
}
