import CodeSyncProtocol
import CodeSyncRunner
import Foundation

/// What the app needs from a sandbox: start a run (typed events, in order: started, output…, exited),
/// cancel the runs in progress, shut down. `Sandbox` is the real one; tests use a fake beside the
/// real-engine tests.
public protocol RunEngine: Sendable {
    /// Starts a run; events arrive as the program writes. Ending the iteration early cancels it.
    func run(_ request: RunRequest) -> AsyncThrowingStream<RunEvent, any Error>
    /// Cancels every run in progress (each still ends with an `exited` event).
    func cancel()
    /// Cancels every run and waits until nothing of them is left.
    func shutdown() async
}

extension Sandbox: RunEngine {}

/// An engine with the language and limits for one file's runs: what `codesync edit` and a session
/// host run the buffer with.
public struct RunSetup: Sendable {
    public var engine: any RunEngine
    public var language: Language
    public var limits: RunLimits
    /// The languages a shared folder's runs choose from (by the file's extension).
    public var catalog: LanguageCatalog

    public init(engine: any RunEngine, language: Language, limits: RunLimits, catalog: LanguageCatalog = LanguageCatalog()) {
        self.engine = engine
        self.language = language
        self.limits = limits
        self.catalog = catalog
    }

    /// The Docker sandbox from the runner config, for the file at `path` (language from its
    /// extension, Python when unknown). No warm pool: one run at a time needs none.
    public static func sandbox(forFile path: String) throws -> RunSetup {
        var config = try SandboxConfig.load()
        config.poolSize = 0
        let sandbox = Sandbox(config: config)
        // Containers a crashed codesync left go now, not at the first run.
        sandbox.removeLeftoversInBackground()
        return RunSetup(engine: sandbox, language: config.catalog.forFile(path) ?? .python, limits: config.limits, catalog: config.catalog)
    }
}

/// Decodes a byte stream as UTF-8 chunk by chunk, holding back a sequence split across chunks.
public struct UTF8Carry: Sendable {
    private var pending: [UInt8] = []

    public init() {}

    /// The text of `bytes` after what was held back, minus a trailing incomplete sequence.
    public mutating func feed(_ bytes: [UInt8]) -> String {
        pending += bytes
        var cut = pending.count
        // Find the start of a trailing sequence that is not complete yet (at most 3 bytes back).
        var back = 0
        while back < min(3, pending.count) {
            let byte = pending[pending.count - 1 - back]
            if byte & 0xC0 != 0x80 {
                let needed = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
                if needed > back + 1 { cut = pending.count - 1 - back }
                break
            }
            back += 1
        }
        let text = String(decoding: pending[..<cut], as: UTF8.self)
        pending.removeFirst(cut)
        return text
    }

    /// What is held back, decoded (an incomplete sequence becomes U+FFFD); the carry is then empty.
    public mutating func flush() -> String {
        defer { pending = [] }
        return String(decoding: pending, as: UTF8.self)
    }
}

/// A program's output as text: one `UTF8Carry` per stream, so a character the program wrote across
/// two chunks arrives whole. Every route (local editor, session host) decodes through this.
public struct RunOutputDecoder: Sendable {
    private var carries: [RunStream: UTF8Carry] = [:]

    public init() {}

    /// The text a chunk completes (empty when it only holds part of a character).
    public mutating func decode(_ chunk: OutputChunk) -> (stream: RunStream, text: String) {
        let stream = RunStream(chunk.stream)
        return (stream, carries[stream, default: UTF8Carry()].feed(chunk.bytes))
    }

    /// What each stream still holds at the run's end, stdout first; empty streams left out.
    public mutating func flush() -> [(stream: RunStream, text: String)] {
        defer { carries = [:] }
        return RunStream.allCases.compactMap { stream in
            guard let rest = carries[stream]?.flush(), !rest.isEmpty else { return nil }
            return (stream, rest)
        }
    }
}
