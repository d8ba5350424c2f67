import CodeSyncRunner
import Foundation

/// `codesync run FILE`: one run on the Docker sandbox, the program's bytes written raw to this
/// process's stdout and stderr (a local program is the user's own; no pane, no decoding).
public enum LocalRun {
    /// Runs `request`; returns the program's exit status by `RunOutcome.exitStatus`. SIGINT and
    /// SIGTERM cancel the run, so its container is removed rather than left behind. An engine
    /// error is thrown once the sandbox has shut down.
    public static func run(_ request: RunRequest, config: SandboxConfig) async throws -> Int32 {
        let sandbox = Sandbox(config: config)
        let signals = [SIGINT, SIGTERM].map { number -> any DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number)
            source.setEventHandler { sandbox.cancel() }
            source.resume()
            return source
        }
        defer { signals.forEach { $0.cancel() } }

        var status: Int32 = 0
        do {
            for try await event in sandbox.run(request) {
                switch event {
                case .started:
                    break
                case .output(let chunk):
                    let handle = chunk.stream == .stdout ? FileHandle.standardOutput : FileHandle.standardError
                    try? handle.write(contentsOf: chunk.bytes)
                case .exited(let result):
                    status = result.outcome.exitStatus
                    if case .exited = result.outcome {} else {
                        try? FileHandle.standardError.write(contentsOf: Array("codesync: program \(result.outcome)\n".utf8))
                    }
                }
            }
        } catch {
            await sandbox.shutdown()
            throw error
        }
        await sandbox.shutdown()
        return status
    }
}
