import CodeSyncProtocol
import CodeSyncTestSupport
import Foundation
import Testing

/// `join`, `cat` and `run HOST:PORT` take the secret without putting it where `ps` shows it.
@Suite(.ownThreads, .serialized, .timeLimit(.minutes(2))) struct SecretInputTests {
    private let work: URL
    private let environment: [String: String]

    init() throws {
        work = FileManager.default.temporaryDirectory.appendingPathComponent("codesync-secret-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        environment = ["XDG_STATE_HOME": work.appendingPathComponent("state").path, "CODESYNC_NAME": "tester"]
    }

    private func binary() throws -> URL? {
        do { return try TestEnvironment.codesyncBinary() } catch { return try TestEnvironment.missing("\(error)") }
    }

    /// A headless host serving "shared\n"; its process, every line it printed first, address and secret.
    private func startHost(_ binary: URL) async throws -> (CodesyncProcess, [String], String, String) {
        let file = work.appendingPathComponent("s.txt")
        try "shared\n".write(to: file, atomically: true, encoding: .utf8)
        let host = try CodesyncProcess(binary, ["host", file.path, "--headless", "--port", "0"], environment: environment)
        var lines: [String] = []
        while let line = await host.line(prefix: "", timeout: 30) {
            lines.append(line)
            if line.hasPrefix("watch only: ") { break }
        }
        guard let join = lines.first, let (address, secret) = HostSession.parseJoinLine(join) else {
            host.kill9()
            throw RawError("no join line: \(lines) \(host.stderr)")
        }
        return (host, lines, address, secret)
    }

    private func cat(_ binary: URL, _ arguments: [String], input: String? = nil, extra: [String: String] = [:]) async throws -> CommandResult {
        let environment = self.environment.merging(extra) { $1 }
        return try await offPool { try Command.run([binary.path, "cat"] + arguments, input: input, timeout: 30, environment: environment) }
    }

    @Test func theJoinLineAndAJoiningProcessKeepTheSecretOutOfPs() async throws {
        guard let binary = try binary() else { return }
        let (host, lines, address, secret) = try await startHost(binary)
        defer { host.kill9() }
        // Both printed lines use the environment form, never a --secret argument.
        #expect(lines.count == 2, "\(lines)")
        for line in lines { #expect(!line.contains("--secret"), "\(line)") }
        let joiner = try CodesyncProcess(binary, ["join", address, "--headless"], environment: environment.merging(["CODESYNC_SECRET": secret]) { $1 })
        defer { joiner.kill9() }
        #expect(await joiner.line(prefix: "joined ") != nil, "\(joiner.stderr)")
        // What every user of the machine can read: the command line.
        let cmdline = try Data(contentsOf: URL(fileURLWithPath: "/proc/\(joiner.pid)/cmdline"))
        let argv = cmdline.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        #expect(argv.contains("join") && argv.contains(address), "\(argv)")
        #expect(!argv.joined(separator: " ").contains(secret), "the secret is in ps: \(argv)")
        #expect(await joiner.text() == "shared\n")
    }

    @Test func eachInputFormGivesTheSecret() async throws {
        guard let binary = try binary() else { return }
        let (host, _, address, secret) = try await startHost(binary)
        defer { host.kill9() }
        let viaEnvironment = try await cat(binary, [address], extra: ["CODESYNC_SECRET": secret])
        #expect(viaEnvironment.stdout == "shared\n", "\(viaEnvironment.stderr)")
        let file = work.appendingPathComponent("secret")
        try "\(secret)\n".write(to: file, atomically: true, encoding: .utf8)
        let viaFile = try await cat(binary, [address, "--secret-file", file.path])
        #expect(viaFile.stdout == "shared\n", "\(viaFile.stderr)")
        let viaStdin = try await cat(binary, [address, "--secret-file", "-"], input: "\(secret)\n")
        #expect(viaStdin.stdout == "shared\n", "\(viaStdin.stderr)")
        // The script form still works, and wins over the environment.
        let viaArgument = try await cat(binary, [address, "--secret", secret], extra: ["CODESYNC_SECRET": "wrong"])
        #expect(viaArgument.stdout == "shared\n", "\(viaArgument.stderr)")
        // A wrong secret from a file is refused like any wrong secret.
        try "0000\n".write(to: file, atomically: true, encoding: .utf8)
        let wrong = try await cat(binary, [address, "--secret-file", file.path])
        #expect(wrong.status != 0 && wrong.stderr.contains("wrong secret"), "\(wrong.stderr)")
    }

    @Test func missingEmptyOrUnusableSecretsGetClearErrors() async throws {
        guard let binary = try binary() else { return }
        // No server is needed: every one of these fails before connecting.
        let address = "127.0.0.1:9"
        let empty = work.appendingPathComponent("empty")
        try "\n".write(to: empty, atomically: true, encoding: .utf8)
        let cases: [([String], String?, [String: String], String)] = [
            ([address], nil, [:], "no session secret: set CODESYNC_SECRET"),
            ([address, "--secret-file", empty.path], nil, [:], "secret file \(empty.path) is empty"),
            ([address, "--secret-file", work.appendingPathComponent("none").path], nil, [:], "does not exist"),
            ([address, "--secret-file", work.path], nil, [:], "is a directory"),
            ([address, "--secret-file", "-"], "", [:], "stdin held no secret"),
            ([address], nil, ["CODESYNC_SECRET": " "], "CODESYNC_SECRET is set but empty"),
            ([address, "--secret", "a", "--secret-file", empty.path], nil, [:], "not both"),
        ]
        for (arguments, input, extra, expected) in cases {
            let result = try await cat(binary, arguments, input: input, extra: extra)
            #expect(result.status != 0, "\(arguments)")
            #expect(result.stderr.contains(expected), "\(arguments): \(result.stderr)")
            #expect(!result.stderr.contains("connection refused"), "tried to connect without a secret: \(arguments)")
        }
        // `run HOST:PORT` says the same in its one-line, exit-125 form.
        let environment = self.environment
        let run = try await offPool { try Command.run([binary.path, "run", address], input: "", timeout: 30, environment: environment) }
        #expect(run.status == 125)
        #expect(run.stderr.contains("no session secret"), "\(run.stderr)")
        #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
    }
}
