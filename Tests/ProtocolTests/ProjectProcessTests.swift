import CodeSyncProtocol
import CodeSyncTestSupport
import Foundation
import Testing

/// `codesync host DIR --headless` as a real process: `ls`, `cat PATH`, and `kill -9` with unsaved
/// edits in two files, then a restart: nothing acknowledged is lost.
@Suite(.ownThreads, .serialized, .timeLimit(.minutes(3))) struct ProjectProcessTests {
    private func binary() throws -> URL? {
        do { return try TestEnvironment.codesyncBinary() } catch { return try TestEnvironment.missing("\(error)") }
    }

    private func startHost(_ binary: URL, _ fixture: ProjectFixture, port: String = "0") async throws -> (CodesyncProcess, String, String) {
        let environment = ["XDG_STATE_HOME": fixture.base.appendingPathComponent("state").path, "CODESYNC_NAME": "tester"]
        let host = try CodesyncProcess(binary, ["host", fixture.root.path, "--headless", "--name", "host", "--port", port], environment: environment)
        guard let line = await host.line(prefix: "CODESYNC_SECRET="), let (address, secret) = HostSession.parseJoinLine(line) else {
            host.kill9()
            throw RawError("host did not print a join line: \(host.stderr)")
        }
        return (host, address, secret)
    }

    private func codesync(_ binary: URL, _ arguments: [String], secret: String) async throws -> CommandResult {
        try await offPool { try Command.run([binary.path] + arguments, timeout: 30, environment: ["CODESYNC_SECRET": secret]) }
    }

    @Test func lsCatAndKill9WithUnsavedEditsInTwoFiles() async throws {
        guard let binary = try binary() else { return }
        let fixture = try ProjectFixture()
        defer { fixture.remove() }
        try fixture.write("a.py", "a = 1\n")
        try fixture.write("sub/b.py", "b = 2\n")
        try fixture.write(".codesyncignore", "*.key\n")
        try fixture.write("id.key", "secret\n")
        try Data([0, 1, 2, 3]).write(to: fixture.root.appendingPathComponent("blob.bin"))
        let (host, address, secret) = try await startHost(binary, fixture)
        defer { host.kill9() }

        let ls = try await codesync(binary, ["ls", address], secret: secret)
        #expect(ls.status == 0, "\(ls.stderr)")
        #expect(ls.stdout == ".codesyncignore\na.py\nblob.bin\nsub/b.py\n")
        let long = try await codesync(binary, ["ls", "--long", address], secret: secret)
        #expect(long.stdout.contains("binary\t4\tblob.bin\n") && long.stdout.contains("text\t6\tsub/b.py\n"))
        let cat = try await codesync(binary, ["cat", address, "sub/b.py"], secret: secret)
        #expect(cat.status == 0 && cat.stdout == "b = 2\n", "\(cat.stderr)")
        let noPath = try await codesync(binary, ["cat", address], secret: secret)
        #expect(noPath.status != 0 && noPath.stderr.contains("shares a folder"))
        for refused in ["id.key", "../outside/secret.txt", "blob.bin"] {
            let result = try await codesync(binary, ["cat", address, refused], secret: secret)
            #expect(result.status != 0 && result.stdout.isEmpty, "\(refused): \(result.stdout)")
        }

        // Unsaved, acknowledged edits in two files; then the host dies without saving.
        var options = CollaborationPeer.Options(name: "ann", secret: secret)
        options.reconnect = false
        let ann = try await CollaborationPeer.join(try SessionAddress(parsing: address), options: options)
        try await ann.openFile("a.py")
        try await ann.openFile("sub/b.py")
        try ann.insert("# one\n", at: 0, inFile: "a.py")
        try ann.insert("# two\n", at: 0, inFile: "sub/b.py")
        #expect(await eventually { ann.isSynced })
        host.kill9()
        await ann.close()
        #expect(fixture.contents("a.py") == "a = 1\n")

        // The restarted host writes the journaled edits into the files, and serves them. (A killed
        // process's leader shows as a zombie while its other threads may still hold the journal's
        // lock for a moment: a start refused for that is tried again.)
        var restarted: (CodesyncProcess, String, String)?
        for _ in 0..<50 where restarted == nil {
            do {
                restarted = try await startHost(binary, fixture)
            } catch let error as RawError where error.description.contains("already hosted") {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        let (again, address2, secret2) = try #require(restarted)
        defer { again.kill9() }
        #expect(secret2 == secret)
        #expect(fixture.contents("a.py") == "# one\na = 1\n")
        #expect(fixture.contents("sub/b.py") == "# two\nb = 2\n")
        let catAgain = try await codesync(binary, ["cat", address2, "a.py"], secret: secret2)
        #expect(catAgain.stdout == "# one\na = 1\n")
        #expect(await again.stop() == 0)
    }

    /// A guest opening every file of a big tree: each open file holds descriptors (its journal and
    /// the journal's lock). On a host with the usual soft limit of descriptors, that must not leave the
    /// host unable to take new peers or to save: opens past what the limit allows are refused with a
    /// message that says so. The host here runs under `ulimit -n 256`.
    @Test func openingEveryFileCannotRunTheHostOutOfDescriptors() async throws {
        guard let binary = try binary() else { return }
        let fixture = try ProjectFixture()
        defer { fixture.remove() }
        for index in 0..<300 { try fixture.write(String(format: "f%03d.py", index), "x = \(index)\n") }
        let environment = ["XDG_STATE_HOME": fixture.base.appendingPathComponent("state").path, "CODESYNC_NAME": "tester"]
        let command = "ulimit -n 256 && exec '\(binary.path)' host '\(fixture.root.path)' --headless --name host --port 0"
        let host = try CodesyncProcess(URL(fileURLWithPath: "/bin/sh"), ["-c", command], environment: environment)
        defer { host.kill9() }
        let line = try #require(await host.line(prefix: "CODESYNC_SECRET="), "\(host.stderr)")
        let (address, secret) = try #require(HostSession.parseJoinLine(line))
        var options = CollaborationPeer.Options(name: "ann", secret: secret)
        options.reconnect = false
        let ann = try await CollaborationPeer.join(try SessionAddress(parsing: address), options: options)
        var opened = 0
        var refusal: String?
        for index in 0..<300 {
            do {
                try await ann.openFile(String(format: "f%03d.py", index))
                opened += 1
            } catch {
                refusal = "\(error)"
                break
            }
        }
        #expect(opened >= 32, "too few files open before the cap: \(opened)")
        #expect(refusal?.contains("no more can be opened") == true, "\(refusal ?? "all 300 opened")")
        // The host still takes a new peer, serves it, and saves ann's edit when it stops.
        try ann.insert("# ann\n", at: 0, inFile: "f000.py")
        #expect(await eventually { ann.isSynced })
        var bobOptions = CollaborationPeer.Options(name: "bob", secret: secret)
        bobOptions.reconnect = false
        let bob = try await CollaborationPeer.join(try SessionAddress(parsing: address), options: bobOptions)
        #expect(try await bob.openFile("f000.py") == "# ann\nx = 0\n")
        await bob.close()
        await ann.close()
        #expect(await host.stop() == 0, "\(host.stderr.suffix(2000))")
        #expect(fixture.contents("f000.py") == "# ann\nx = 0\n")
    }
}
