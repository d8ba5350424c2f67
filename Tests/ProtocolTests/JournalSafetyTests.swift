import CodeSyncProtocol
import CodeSyncTestSupport
import Foundation
import Testing

/// The journal and the hosted file under a second host, an outside change, symlinks and limits.
@Suite(.ownThreads, .serialized, .timeLimit(.minutes(2))) struct JournalSafetyTests {
    private let work: URL
    private let environment: [String: String]

    init() throws {
        work = FileManager.default.temporaryDirectory.appendingPathComponent("codesync-jsafe-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        environment = ["XDG_STATE_HOME": work.appendingPathComponent("state").path, "CODESYNC_NAME": "tester"]
    }

    private var stateDirectory: URL { work.appendingPathComponent("state/codesync") }

    private func binary() throws -> URL? {
        do { return try TestEnvironment.codesyncBinary() } catch { return try TestEnvironment.missing("\(error)") }
    }

    private func startHost(_ binary: URL, file: URL, port: String = "0") async throws -> (CodesyncProcess, String, String) {
        let host = try CodesyncProcess(binary, ["host", file.path, "--headless", "--name", "host", "--port", port], environment: environment)
        guard let line = await host.line(prefix: "CODESYNC_SECRET="), let (address, secret) = HostSession.parseJoinLine(line) else {
            host.kill9()
            throw RawError("host did not print a join line: \(host.stderr)")
        }
        return (host, address, secret)
    }

    /// A headless joiner that appends `text` and waits until the host acknowledged it.
    private func appendAcknowledged(_ binary: URL, _ address: String, _ secret: String, _ text: String) async throws {
        let joiner = try CodesyncProcess(binary, ["join", address, "--headless"], environment: environment.merging(["CODESYNC_SECRET": secret]) { $1 })
        defer { joiner.kill9() }
        #expect(await joiner.line(prefix: "joined ") != nil, "\(joiner.stderr)")
        joiner.send("append \(try String(decoding: JSONEncoder().encode(text), as: UTF8.self))")
        joiner.send("sync")
        #expect(await joiner.line(prefix: "synced") != nil, "the host never acknowledged")
    }

    private func journalFiles() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: stateDirectory.path)) ?? []).filter { $0.hasSuffix(".csj") }
    }

    @Test func aSecondHostOfTheSameFileSaysWhoHoldsItAndTouchesNothing() async throws {
        guard let binary = try binary() else { return }
        let file = work.appendingPathComponent("held.txt")
        try "base\n".write(to: file, atomically: true, encoding: .utf8)
        let (host, address, secret) = try await startHost(binary, file: file)
        defer { host.kill9() }
        try await appendAcknowledged(binary, address, secret, "edit\n")
        let journal = stateDirectory.appendingPathComponent(try #require(journalFiles().first))
        let before = try Data(contentsOf: journal)
        let beforeModified = try FileManager.default.attributesOfItem(atPath: journal.path)[.modificationDate] as? Date
        // The same port is busy, which used to fail only after the journal had been replaced.
        let port = String(address.split(separator: ":").last ?? "0")
        let environment = self.environment
        let second = try await offPool {
            try Command.run([binary.path, "host", file.path, "--headless", "--port", port], timeout: 30, environment: environment)
        }
        #expect(second.status != 0)
        #expect(second.stderr.contains("already hosted"), "\(second.stderr)")
        #expect(second.stderr.contains("pid \(host.pid)"), "\(second.stderr)")
        #expect(try Data(contentsOf: journal) == before)
        #expect(try FileManager.default.attributesOfItem(atPath: journal.path)[.modificationDate] as? Date == beforeModified)
        #expect(try String(contentsOf: file, encoding: .utf8) == "base\n")
        // Another port does not help either: the lock is per file, not per port.
        let third = try await offPool {
            try Command.run([binary.path, "host", file.path, "--headless", "--port", "0"], timeout: 30, environment: environment)
        }
        #expect(third.status != 0 && third.stderr.contains("already hosted"), "\(third.stderr)")
        // The first host still works and still recovers after kill -9: its journal is intact.
        host.kill9()
        let (restarted, address2, secret2) = try await startHost(binary, file: file)
        defer { restarted.kill9() }
        let text = try await offPool {
            try Command.run([binary.path, "cat", address2], timeout: 20, environment: environment.merging(["CODESYNC_SECRET": secret2]) { $1 })
        }
        #expect(text.stdout == "base\nedit\n", "\(text.stderr)")
    }

    @Test func aFileChangedAfterACrashWinsAndTheUnsavedTextIsPutAside() async throws {
        guard let binary = try binary() else { return }
        let file = work.appendingPathComponent("pulled.txt")
        try "v1\n".write(to: file, atomically: true, encoding: .utf8)
        let (host, address, secret) = try await startHost(binary, file: file)
        try await appendAcknowledged(binary, address, secret, "unsaved\n")
        host.kill9()
        // Say a `git pull` while the host was down.
        try "v2 from upstream\n".write(to: file, atomically: true, encoding: .utf8)
        let (restarted, address2, secret2) = try await startHost(binary, file: file)
        defer { restarted.kill9() }
        #expect(secret2 != secret, "a new document is a new session: old joiners must not merge into it")
        let environment = self.environment.merging(["CODESYNC_SECRET": secret2]) { $1 }
        let text = try await offPool { try Command.run([binary.path, "cat", address2], timeout: 20, environment: environment) }
        #expect(text.stdout == "v2 from upstream\n", "\(text.stderr)")
        let aside = URL(fileURLWithPath: file.path + ".codesync-unsaved")
        #expect(try String(contentsOf: aside, encoding: .utf8) == "v1\nunsaved\n")
        #expect(restarted.stderr.contains("changed since"), "\(restarted.stderr)")
        #expect(restarted.stderr.contains(aside.path), "\(restarted.stderr)")
    }

    /// CI once saw "already hosted" right after a clean shutdown: a child process spawned by another
    /// thread between its fork and its exec holds a copy of every descriptor, the lock's included.
    /// Here a child keeps such a copy on purpose; releasing the lock must still free it at once.
    @Test func releasingTheLockFreesItEvenWhileAChildHoldsACopyOfItsDescriptor() throws {
        let file = work.appendingPathComponent("shared.txt")
        try "x\n".write(to: file, atomically: true, encoding: .utf8)
        let journal = stateDirectory.appendingPathComponent("journal-test.csj")
        let lock = try JournalLock(journal: journal, file: file)
        let descriptors = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").compactMap(Int32.init)
        let lockDescriptor = try #require(descriptors.first {
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)")) == lock.url.path
        })
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // dup2 onto 3 clears close-on-exec: the child keeps the lock's open file description.
        posix_spawn_file_actions_adddup2(&actions, lockDescriptor, 3)
        var child: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sleep"), strdup("30"), nil]
        defer { argv.forEach { free($0) } }
        #expect(posix_spawn(&child, "/bin/sleep", &actions, nil, argv, environ) == 0)
        defer { kill(child, SIGKILL); waitForDeath(of: child) }
        #expect(throws: (any Error).self) { _ = try JournalLock(journal: journal, file: file) }
        lock.release()
        let again = try JournalLock(journal: journal, file: file)
        again.release()
    }

    @Test func aSaveByTheHostIsNotMistakenForAnOutsideChange() async throws {
        let file = work.appendingPathComponent("own.txt")
        try "one\n".write(to: file, atomically: true, encoding: .utf8)
        var options = HostSession.Options(file: file, name: "host")
        options.port = 0
        options.stateDirectory = stateDirectory
        let session = try await HostSession.start(options)
        session.peer.insert("two\n", at: session.peer.scalarCount)
        #expect(await eventually { _ = session.peer.poll(); return session.peer.isSynced })
        try await session.save()
        session.peer.insert("three\n", at: session.peer.scalarCount)
        #expect(await eventually { _ = session.peer.poll(); return session.peer.isSynced })
        // As after a crash: the journal stays, the lock goes.
        try await session.shutdown(save: false)
        let again = try await HostSession.start(options)
        _ = again.peer.poll()
        #expect(again.recovered != nil)
        #expect(again.setAside == nil)
        #expect(again.peer.text == "one\ntwo\nthree\n")
        // A deliberate quit (Ctrl-Q) drops the journal: the next start reads the file.
        try await again.shutdown(save: false, discardJournal: true)
        #expect(journalFiles().isEmpty)
        let fresh = try await HostSession.start(options)
        _ = fresh.peer.poll()
        #expect(fresh.recovered == nil)
        #expect(fresh.peer.text == "one\ntwo\n")
        try await fresh.shutdown(save: false, discardJournal: true)
    }

    @Test func stateFilesArePrivateEvenInAnExistingOpenDirectory() async throws {
        try FileManager.default.createDirectory(at: stateDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let file = work.appendingPathComponent("private.txt")
        var options = HostSession.Options(file: file, name: "host")
        options.port = 0
        options.stateDirectory = stateDirectory
        let session = try await HostSession.start(options)
        func mode(_ path: String) throws -> Int { (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1 }
        #expect(try mode(stateDirectory.path) == 0o700)
        let names = try FileManager.default.contentsOfDirectory(atPath: stateDirectory.path)
        #expect(names.contains { $0.hasSuffix(".csj") } && names.contains { $0.hasSuffix(".lock") }, "\(names)")
        for name in names { #expect(try mode(stateDirectory.appendingPathComponent(name).path) == 0o600, "\(name)") }
        try await session.shutdown(save: false, discardJournal: true)
    }

    @Test func savesFollowSymlinksAndKeepTheTargetsMode() throws {
        let target = work.appendingPathComponent("real.py")
        try "old\n".write(to: target, atomically: true, encoding: .utf8)
        chmod(target.path, 0o640)
        let link = work.appendingPathComponent("link.py")
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: "real.py")
        let chain = work.appendingPathComponent("chain.py")
        try FileManager.default.createSymbolicLink(atPath: chain.path, withDestinationPath: link.path)
        try AtomicFile.write("new ✓\n", to: chain)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: chain.path) == link.path)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link.path) == "real.py")
        #expect(try String(contentsOf: target, encoding: .utf8) == "new ✓\n")
        let mode = (try FileManager.default.attributesOfItem(atPath: target.path)[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o640)
        // Nothing left behind beside the target.
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.path).sorted() == ["chain.py", "link.py", "real.py"])
    }

    @Test func theJournalStopsAtItsLimitWithAClearErrorAndCompactsBefore() throws {
        let url = work.appendingPathComponent("limit.csj")
        let replica = Replica(agent: "hub")
        let journal = try Journal(url: url, header: JournalHeader(file: "f", session: "s", secret: "x", port: 1), replica: replica)
        journal.maxBytes = 64 << 10
        // Many small edits: compaction at half the limit keeps the journal small and complete.
        for i in 0..<2_000 {
            try journal.append(replica.insert("\(i % 10)", at: replica.scalarCount))
            try journal.compactIfNeeded(replica)
        }
        #expect(journal.size <= journal.maxBytes)
        #expect(try #require(try Journal.recover(url: url, agent: "r")).replica.text == replica.text)
        // A document too large for the limit: a clear error, nothing half written.
        var failure: (any Error)?
        for _ in 0..<100 where failure == nil {
            do {
                try journal.append(replica.insert(String(repeating: "x", count: 8_000), at: 0))
                try journal.compactIfNeeded(replica)
            } catch { failure = error }
        }
        let full = try #require(failure as? Journal.Full, "no limit error: \(String(describing: failure))")
        #expect(full.description.contains("limit of 0 MiB") || full.description.contains("reached its limit"))
        #expect(journal.size <= journal.maxBytes)
        journal.close()
        #expect(try Journal.recover(url: url, agent: "r2") != nil, "the journal must stay readable")
    }
}
