import CodeSyncProtocol
import CodeSyncTestSupport
import Foundation
import Testing

/// A shared folder reached through `codesync relay` and over `ssh://` (real processes, a real sshd
/// on loopback): listing, reading and editing its files work as directly; through the relay, runs too.
@Suite(.ownThreads, .serialized, .timeLimit(.minutes(4))) struct ProjectRemoteTests {
    private let work: URL
    private let environment: [String: String]

    init() throws {
        // Short: the host's unix socket path (under XDG_RUNTIME_DIR) must fit in 107 bytes.
        work = URL(fileURLWithPath: "/tmp/cs-pr-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        var environment = ["XDG_STATE_HOME": work.appendingPathComponent("state").path, "XDG_RUNTIME_DIR": work.appendingPathComponent("run").path,
                           "XDG_CONFIG_HOME": work.appendingPathComponent("config").path, "CODESYNC_NAME": "tester"]
        environment["CODESYNC_IMAGE_PYTHON"] = DockerFixture.testImageName("python")
        self.environment = environment
    }

    private func fixture() throws -> ProjectFixture {
        let fixture = try ProjectFixture()
        try fixture.write("a.py", "import b\nprint('a sees', b.value)\n")
        try fixture.write("sub/notes.txt", "notes\n")
        try fixture.write("b.py", "value = 1\n")
        try fixture.write(".codesyncignore", "*.key\n")
        try fixture.write("id.key", "secret\n")
        return fixture
    }

    private func codesync(_ binary: URL, _ arguments: [String], environment: [String: String]) async throws -> CommandResult {
        try await offPool { try Command.run([binary.path] + arguments, timeout: 60, environment: environment) }
    }

    /// Opens b.py, edits it, waits until the host has it.
    private func edit(_ peer: CollaborationPeer) async throws {
        #expect(peer.isProject)
        let (entries, _) = try await peer.listFiles()
        #expect(entries.map(\.path) == [".codesyncignore", "a.py", "b.py", "sub/notes.txt"])
        #expect(try await peer.openFile("b.py") == "value = 1\n")
        try peer.insert("4", at: 9, inFile: "b.py")
        #expect(await eventually(30) { peer.isSynced })
    }

    @Test func aFolderThroughCodesyncRelayListsReadsEditsAndRuns() async throws {
        let binary = try TestEnvironment.codesyncBinary()
        let fixture = try fixture()
        defer { fixture.remove() }
        let relay = try CodesyncProcess(binary, ["relay", "--port", "0"], environment: environment)
        defer { relay.kill9() }
        let relayLine = try #require(await relay.line(prefix: "relay listening on "), "\(relay.stderr)")
        let relayAddress = String(relayLine.dropFirst("relay listening on ".count))
        let host = try await SharedRunHostProcess(binary, file: fixture.root, environment: environment, options: ["--relay", relayAddress])
        defer { host.kill9() }
        #expect(host.address.hasPrefix(relayAddress + "/"), "the join line does not go through the relay: \(host.address)")
        let env = environment.merging(["CODESYNC_SECRET": host.secret]) { $1 }

        var options = CollaborationPeer.Options(name: "ann", secret: host.secret)
        options.connectTimeout = 30
        options.reconnect = false
        let ann = try await CollaborationPeer.join(try SessionAddress(parsing: host.address), options: options)
        try await edit(ann)
        let ls = try await codesync(binary, ["ls", host.address], environment: env)
        #expect(ls.status == 0 && ls.stdout == ".codesyncignore\na.py\nb.py\nsub/notes.txt\n", "\(ls.stderr)")
        let cat = try await codesync(binary, ["cat", host.address, "b.py"], environment: env)
        #expect(cat.status == 0 && cat.stdout == "value = 14\n", "\(cat.stderr)")
        let refused = try await codesync(binary, ["cat", host.address, "id.key"], environment: env)
        #expect(refused.status != 0 && refused.stdout.isEmpty)

        // A run asked for through the relay sees the unsaved edit of the sibling module.
        if try DockerFixture.withImage("python") != nil {
            let run = try await offPool { try Command.run([binary.path, "run", host.address, "a.py"], timeout: 120, environment: env) }
            #expect(run.status == 0 && run.stdout == "a sees 14\n", "\(run.stdout) \(run.stderr) \(host.stderr)")
        }
        await ann.close()
        #expect(await host.quit())
        #expect(fixture.contents("b.py") == "value = 14\n")
    }

    @Test func aFolderOverSSHListsReadsAndEdits() async throws {
        guard let sshd = try SSHDFixture.start() else { return }
        defer { sshd.stop() }
        let binary = try TestEnvironment.codesyncBinary()
        let fixture = try fixture()
        defer { fixture.remove() }
        let host = try await SharedRunHostProcess(binary, file: fixture.root, environment: environment)
        defer { host.kill9() }
        var overSSH = environment
        overSSH["CODESYNC_SSH"] = sshd.sshCommand
        overSSH["CODESYNC_REMOTE_COMMAND"] = "env XDG_RUNTIME_DIR=\(environment["XDG_RUNTIME_DIR"]!) \(binary.path)"
        let target = "ssh://root@127.0.0.1:\(sshd.port)\(fixture.root.path)"

        // Edit over ssh, in process: the secret comes from the box, inside ssh.
        let ssh = try SSHTarget(parsing: target)
        let transport = ssh.transport(environment: overSSH)
        var options = CollaborationPeer.Options(name: "sshguest", secret: try transport.start().secret)
        options.transport = transport
        options.connectTimeout = 30
        options.reconnect = false
        let guest = try await CollaborationPeer.join(SessionAddress(host: ssh.host, port: ssh.port ?? 22), options: options)
        try await edit(guest)

        let ls = try await codesync(binary, ["ls", target], environment: overSSH)
        #expect(ls.status == 0 && ls.stdout == ".codesyncignore\na.py\nb.py\nsub/notes.txt\n", "\(ls.stderr)")
        let cat = try await codesync(binary, ["cat", target, "b.py"], environment: overSSH)
        #expect(cat.status == 0 && cat.stdout == "value = 14\n", "\(cat.stderr)")
        let refused = try await codesync(binary, ["cat", target, "../outside/secret.txt"], environment: overSSH)
        #expect(refused.status != 0 && refused.stdout.isEmpty && refused.stderr.contains("'..' is not allowed"), "\(refused.stderr)")
        await guest.close()
        #expect(await host.quit())
        #expect(fixture.contents("b.py") == "value = 14\n")
    }
}
