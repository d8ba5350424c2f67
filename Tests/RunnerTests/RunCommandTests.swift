import CodeSyncRunner
import CodeSyncTestSupport
import Foundation
import Testing

/// `codesync run` as a user runs it: the real binary, the real engine.
@Suite(.ownThreads, .serialized) struct RunCommandTests {
    func write(_ name: String, _ text: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("codesync-run-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    func codesync(_ arguments: [String], image: String) throws -> CommandResult {
        let binary = try TestEnvironment.codesyncBinary()
        return try Command.run([binary.path] + arguments, timeout: 60,
                               environment: ["CODESYNC_IMAGE_PYTHON": image, "XDG_CONFIG_HOME": "/nonexistent-codesync-config"])
    }

    @Test func streamsOutputAndExitsWithTheProgramsCode() async throws {
        guard let (_, image) = try DockerFixture.withImage("python") else { return }
        let program = try write("prog.py", "import sys\nprint(sys.stdin.read().strip()[::-1])\nprint('to err', file=sys.stderr)\nsys.exit(7)\n")
        let input = try write("in.txt", "olleh\n")
        let result = try codesync(["run", program, "--stdin", input], image: image)
        #expect(result.status == 7)
        #expect(result.stdout == "hello\n")
        #expect(result.stderr == "to err\n")
    }

    @Test func timeoutExitsWith124AndSaysSo() async throws {
        guard let (_, image) = try DockerFixture.withImage("python") else { return }
        let program = try write("loop.py", "while True:\n    pass\n")
        let result = try codesync(["run", program, "--timeout", "1"], image: image)
        #expect(result.status == 124)
        #expect(result.stderr == "codesync: program timed out (wall-clock limit reached; killed)\n")
    }

    @Test func memoryFlagLimitsTheProgram() async throws {
        guard let (_, image) = try DockerFixture.withImage("python") else { return }
        let program = try write("mem.py", "x = bytearray(64 * 1024 * 1024)\nprint('allocated')\n")
        let tight = try codesync(["run", program, "--memory", "32m"], image: image)
        #expect(tight.status == 137)
        #expect(tight.stderr.contains("out of memory"))
        let roomy = try codesync(["run", program, "--memory", "256m"], image: image)
        #expect(roomy.status == 0)
        #expect(roomy.stdout == "allocated\n")
    }

    @Test func badInputGivesOneLineErrors() async throws {
        let binary = try TestEnvironment.codesyncBinary()
        let program = try write("notes.txt", "hello")
        let cases: [([String], String)] = [
            (["run", program], "codesync: cannot tell the language of \(program) from its extension — pass --lang (python, node, go, c, cpp)\n"),
            (["run", program, "--lang", "cobol"], "codesync: unknown language 'cobol' — use one of: python, node, go, c, cpp\n"),
            (["run", "/nonexistent/x.py"], "codesync: source file /nonexistent/x.py does not exist\n"),
        ]
        for (arguments, expected) in cases {
            let result = try Command.run([binary.path] + arguments, timeout: 30, environment: ["XDG_CONFIG_HOME": "/nonexistent-codesync-config"])
            #expect(result.status == 125)
            #expect(result.stderr == expected)
        }
        let noEngine = try Command.run([binary.path, "run", "--lang", "python", program], timeout: 30,
                                       environment: ["DOCKER_HOST": "unix:///tmp/codesync-no-engine.sock", "XDG_CONFIG_HOME": "/nonexistent-codesync-config"])
        #expect(noEngine.status == 125)
        #expect(noEngine.stderr.hasPrefix("codesync: no Docker engine at /tmp/codesync-no-engine.sock — start one with"))
        #expect(noEngine.stderr.filter { $0 == "\n" }.count == 1)
        let badTimeout = try Command.run([binary.path, "run", program, "--timeout=-1"], timeout: 30)
        #expect(badTimeout.status == 64)
        #expect(badTimeout.stderr.contains("--timeout must be a positive number of seconds"))
    }

    @Test func permissionDeniedOnTheSocketIsExplained() async throws {
        guard let docker = try DockerFixture.available() else { return }
        guard getuid() == 0, Command.exists("setpriv") else {
            let _: Bool? = try TestEnvironment.missing("root and setpriv (to connect as an unprivileged user)")
            return
        }
        let binary = try TestEnvironment.codesyncBinary()
        let program = try write("p.py", "print(1)\n")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: (program as NSString).deletingLastPathComponent)
        let result = try Command.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", binary.path, "run", program], timeout: 30,
            environment: ["DOCKER_HOST": "unix://\(docker.socketPath)", "XDG_CONFIG_HOME": "/nonexistent-codesync-config"])
        if result.stderr.contains("Permission denied") && !result.stderr.hasPrefix("codesync:") {
            let _: Bool? = try TestEnvironment.missing("a codesync binary that user nobody may execute")
            return
        }
        #expect(result.status == 125)
        #expect(result.stderr == "codesync: permission denied on \(docker.socketPath) — add yourself to the docker group (`sudo usermod -aG docker $USER`, then log in again) or run as root\n")
    }
}
