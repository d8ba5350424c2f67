import CodeSyncRunner
import CodeSyncTestSupport
import Foundation
import Testing

/// The sandbox on the real Docker engine with the local test images. Serialized: the machine is small
/// and several tests measure that limits hold, which a crowd of parallel containers would blur.
@Suite(.ownThreads, .serialized) struct SandboxTests {
    @Test func pythonHelloAndExitCode() async throws {
        try await EngineHarness.with { h in
            let run = try await h.run("import sys\nprint('hello, world')\nsys.exit(3)\n")
            #expect(run.error == nil)
            #expect(run.stdout == "hello, world\n")
            #expect(run.outcome == .exited(code: 3))
            #expect(run.result?.startedBy == "tester")
            #expect(run.start?.pooled == false)
            #expect((run.result?.durationMilliseconds ?? 0) > 0)
        }
    }

    @Test(arguments: [
        ("node", "console.log('hello from node')\n", "hello from node\n"),
        ("c", "#include <stdio.h>\nint main(void){ printf(\"hello from c\\n\"); return 0; }\n", "hello from c\n"),
        ("cpp", "#include <iostream>\nint main(){ std::cout << \"hello from c++\" << std::endl; }\n", "hello from c++\n"),
        ("go", "package main\nimport \"fmt\"\nfunc main() { fmt.Println(\"hello from go\") }\n", "hello from go\n"),
    ])
    func helloPerLanguage(language: String, source: String, expected: String) async throws {
        try await EngineHarness.with { h in
            guard try h.requireImage(language) else { return }
            let run = try await h.run(source, language, timeout: 20)
            #expect(run.error == nil, "\(String(describing: run.error))")
            #expect(run.stdout == expected, "stderr: \(run.stderr)")
            #expect(run.outcome == .exited(code: 0))
        }
    }

    @Test func compileErrorIsReportedAsSuch() async throws {
        try await EngineHarness.with { h in
            guard try h.requireImage("c") else { return }
            let run = try await h.run("int main(void) { return undeclared; }\n", "c")
            #expect(run.outcome == .buildFailed(code: 1))
            #expect(run.stderr.contains("undeclared"))
            #expect(!run.stderr.contains("codesync-build-ok"))
        }
    }

    @Test func compiledProgramGetsStdinAndItsStderr() async throws {
        try await EngineHarness.with { h in
            guard try h.requireImage("c") else { return }
            let source = "#include <stdio.h>\nint main(void){ char b[64]; while (fgets(b, 64, stdin)) { fprintf(stderr, \"e:%s\", b); printf(\"o:%s\", b); } return 5; }\n"
            let run = try await h.run(source, "c", stdin: "one\ntwo\n")
            #expect(run.stdout == "o:one\no:two\n")
            #expect(run.stderr == "e:one\ne:two\n")
            #expect(run.outcome == .exited(code: 5))
        }
    }

    @Test func stdinIsEchoedAndEndsWithEOF() async throws {
        try await EngineHarness.with { h in
            let run = try await h.run("import sys\ndata = sys.stdin.read()\nprint(repr(data))\n", stdin: "line 1\nline 2 é\n")
            #expect(run.stdout == "'line 1\\nline 2 é\\n'\n")
            let empty = try await h.run("import sys\nprint(repr(sys.stdin.read()))\n")
            #expect(empty.stdout == "''\n")
        }
    }

    @Test func stdoutAndStderrKeepTheirOrder() async throws {
        try await EngineHarness.with { h in
            // stdout and stderr are two pipes that the engine copies independently: order across them is
            // kept for writes a moment apart (as here), not for writes in the same instant.
            let run = try await h.run("import sys, time\nfor i in range(5):\n    print('out', i)\n    time.sleep(0.1)\n    print('err', i, file=sys.stderr)\n    time.sleep(0.1)\n")
            // Python writes "out", " ", "0" and "\n" separately; join neighbouring chunks of one stream.
            var runs: [(OutputStreamKind, String)] = []
            for chunk in run.chunks {
                if let last = runs.last, last.0 == chunk.stream { runs[runs.count - 1].1 += chunk.text } else { runs.append((chunk.stream, chunk.text)) }
            }
            let tagged = runs.flatMap { stream, text in text.split(separator: "\n").map { "\(stream.rawValue):\($0)" } }
            #expect(tagged == (0..<5).flatMap { ["stdout:out \($0)", "stderr:err \($0)"] })
        }
    }

    @Test func outputStreamsBeforeTheProgramEnds() async throws {
        try await EngineHarness.with { h in
            let run = try await h.run("import time\nprint('first')\ntime.sleep(2)\nprint('second')\n")
            #expect(run.stdout == "first\nsecond\n")
            let first = try #require(run.chunkTimes.first)
            let exited = try #require(run.exitedAt)
            // The first chunk arrived while the program was still sleeping.
            #expect(exited - first >= 1500, "first chunk at \(first) ms, exit at \(exited) ms")
        }
    }

    @Test func infiniteLoopTimesOut() async throws {
        try await EngineHarness.with { h in
            let run = try await h.run("while True:\n    pass\n", timeout: 1.5)
            #expect(run.outcome == .timedOut)
            #expect((run.result?.durationMilliseconds ?? 0) >= 1500)
            #expect(try await h.containers().isEmpty)
        }
    }

    @Test func programIgnoringSIGTERMIsStillKilled() async throws {
        try await EngineHarness.with { h in
            let source = "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('ready', flush=True)\nwhile True:\n    time.sleep(0.1)\n"
            let run = try await h.run(source, timeout: 1.5)
            #expect(run.stdout == "ready\n")
            #expect(run.outcome == .timedOut)
        }
    }

    @Test func memoryBombIsOutOfMemory() async throws {
        try await EngineHarness.with { h in
            let run = try await h.run("chunks = []\nwhile True:\n    chunks.append(bytearray(8 * 1024 * 1024))\n", timeout: 20)
            #expect(run.outcome == .outOfMemory)
        }
    }

    @Test func forkBombIsContained() async throws {
        try await EngineHarness.with { h in
            let source = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
            let run = try await h.run(source, timeout: 3)
            #expect(run.outcome == .timedOut)
            // The host stays responsive: a process starts at once.
            let clock = ContinuousClock()
            let began = clock.now
            let probe = try Command.run(["true"], timeout: 10)
            #expect(probe.status == 0)
            // Generous: this checks for a starved host, not for speed, on a shared 2-core machine.
            #expect(clock.now - began < .seconds(20))
        }
    }

    @Test(arguments: ["while True:\n    print('y' * 80)\n", "import sys\nwhile True:\n    sys.stdout.write('x')\n"])
    func infiniteOutputHitsTheCap(source: String) async throws {
        try await EngineHarness.with { h in
            let run = try await h.run(source, timeout: 20) { $0.outputLimitBytes = 256 * 1024 }
            #expect(run.outcome == .outputLimit)
            #expect(run.outputBytes == 256 * 1024)
        }
    }

    @Test func bigFileWriteIsRefused() async throws {
        try await EngineHarness.with { h in
            let source = """
                import os
                block = b'\\0' * (1024 * 1024)
                written = 0
                try:
                    with open('/tmp/big', 'wb') as f:
                        for _ in range(100):
                            f.write(block)
                            written += 1
                except OSError as e:
                    print('refused after', written, 'MiB:', e.strerror)
                try:
                    open('/big', 'wb')
                except OSError as e:
                    print('root:', e.strerror)
                """
            let run = try await h.run(source)
            #expect(run.stdout.contains("No space left on device"), "\(run.stdout) \(run.stderr)")
            #expect(run.stdout.contains("root: Read-only file system"))
            #expect(run.outcome == .exited(code: 0))
        }
    }

    @Test func networkIsAbsent() async throws {
        try await EngineHarness.with { h in
            // 192.0.2.1 is TEST-NET-1 (never routed); with no network the connect fails before any packet.
            let source = """
                import socket, os
                try:
                    socket.create_connection(('192.0.2.1', 80), timeout=2)
                    print('connect: ok')
                except OSError as e:
                    print('connect:', e.errno)
                for family in (40, 38):
                    try:
                        socket.socket(family, socket.SOCK_STREAM if family == 40 else socket.SOCK_SEQPACKET)
                        print(family, 'ok')
                    except OSError as e:
                        print(family, e.errno)
                print('uid', os.getuid(), 'ifaces', sorted(n for _, n in socket.if_nameindex()))
                """
            let run = try await h.run(source)
            let lines = run.stdout.split(separator: "\n").map(String.init)
            #expect(lines.first == "connect: 101", "\(run.stdout) \(run.stderr)")  // ENETUNREACH
            #expect(lines.contains("40 1") && lines.contains("38 1"))               // EPERM from seccomp
            #expect(lines.contains("uid 65534 ifaces ['lo']"))
        }
    }

    @Test func seccompRefusesNamespacesTracingAndVsock() async throws {
        try await EngineHarness.with { h in
            guard try h.requireImage("c") else { return }
            let source = """
                #define _GNU_SOURCE
                #include <errno.h>
                #include <sched.h>
                #include <stdio.h>
                #include <sys/ptrace.h>
                #include <sys/socket.h>
                #include <sys/syscall.h>
                #include <unistd.h>
                static void show(const char *name, long result) { printf("%s %ld %d\\n", name, result, result < 0 ? errno : 0); }
                int main(void) {
                    show("unshare", unshare(CLONE_NEWUSER));
                    show("ptrace", ptrace(PTRACE_TRACEME, 0, 0, 0));
                    show("vsock", socket(40, SOCK_STREAM, 0));
                    show("alg", socket(38, SOCK_SEQPACKET, 0));
                    show("io_uring", syscall(425, 1, NULL));
                    printf("unix %d\\n", socket(AF_UNIX, SOCK_STREAM, 0) >= 0);
                    return 0;
                }
                """
            let run = try await h.run(source, "c")
            #expect(run.stdout == "unshare -1 1\nptrace -1 1\nvsock -1 1\nalg -1 1\nio_uring -1 1\nunix 1\n", "\(run.stderr)")
        }
    }

    @Test func pythonErrorsShowTheUsersTraceback() async throws {
        try await EngineHarness.with { h in
            let run = try await h.run("def f():\n    raise ValueError('boom')\nf()\n")
            #expect(run.outcome == .exited(code: 1))
            #expect(run.stderr.contains("File \"/tmp/main.py\", line 2, in f"))
            #expect(run.stderr.contains("ValueError: boom"))
            #expect(!run.stderr.contains("<string>"))
            let syntax = try await h.run("print(\n")
            #expect(syntax.outcome == .exited(code: 1))
            #expect(syntax.stderr.contains("SyntaxError"))
        }
    }

    @Test func partialLinesAndInvalidUTF8PassThroughUnchanged() async throws {
        try await EngineHarness.with { h in
            let source = "import sys\nsys.stdout.buffer.write(b'no newline \\xff\\xfe ' + b'L' * 100000)\n"
            let run = try await h.run(source)
            let bytes = run.chunks.filter { $0.stream == .stdout }.flatMap(\.bytes)
            #expect(bytes.count == 11 + 3 + 100_000)
            #expect(Array(bytes[11..<13]) == [0xFF, 0xFE])
        }
    }

    @Test func fourRunsInParallel() async throws {
        try await EngineHarness.with { h in
            let requests = try (0..<4).map { try h.request("import time\ntime.sleep(0.5)\nprint('run \($0)')\n") }
            let results = await withTaskGroup(of: Collected.self) { group in
                for request in requests { group.addTask { await h.run(request) } }
                var all: [Collected] = []
                for await result in group { all.append(result) }
                return all
            }
            #expect(Set(results.map(\.stdout)) == Set((0..<4).map { "run \($0)\n" }))
            #expect(results.allSatisfy { $0.outcome == .exited(code: 0) })
        }
    }

    @Test(.timeLimit(.minutes(2))) func cancelMidRunKillsAtOnce() async throws {
        try await EngineHarness.with { h in
            let request = try h.request("import time\nprint('started', flush=True)\ntime.sleep(30)\n", timeout: 60)
            let clock = ContinuousClock()
            var cancelledAt: ContinuousClock.Instant?
            var outcome: RunOutcome?
            for try await event in h.sandbox.run(request) {
                switch event {
                case .output:
                    if cancelledAt == nil {
                        cancelledAt = clock.now
                        h.sandbox.cancel()
                    }
                case .exited(let result): outcome = result.outcome
                case .started: break
                }
            }
            #expect(outcome == .cancelled)
            let took = clock.now - (cancelledAt ?? clock.now)
            // The program sleeps 30 s: well under that means the cancel killed it (bound loose for a busy machine).
            #expect(took < .seconds(20), "cancel took \(took)")
            #expect(try await h.containers().isEmpty)
        }
    }

    @Test func abandoningTheStreamCancelsTheRun() async throws {
        try await EngineHarness.with { h in
            let request = try h.request("import time\nprint('x', flush=True)\ntime.sleep(30)\n", timeout: 60)
            for try await event in h.sandbox.run(request) {
                if case .output = event { break }
            }
            let clock = ContinuousClock()
            let deadline = clock.now + .seconds(10)
            while h.sandbox.activeRunCount > 0 && clock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            #expect(h.sandbox.activeRunCount == 0)
            #expect(try await h.containers().isEmpty)
        }
    }

    @Test func shutdownEndsRunsInProgress() async throws {
        guard let h = try EngineHarness.make() else { return }
        let request = try h.request("import time\nprint('x', flush=True)\ntime.sleep(30)\n", timeout: 60)
        let runTask = Task { await h.run(request) }
        while h.sandbox.activeRunCount == 0 { try await Task.sleep(for: .milliseconds(10)) }
        try await Task.sleep(for: .milliseconds(300))
        try await h.finish()
        let run = await runTask.value
        #expect(run.outcome == .cancelled || run.error != nil)
        let after = await h.run(request)
        #expect(after.error as? RunnerError == .shutDown)
    }
}

/// The warm pool, on the real engine.
@Suite(.ownThreads, .serialized) struct WarmPoolTests {
    @Test func pooledRunsAreSingleUseAndRefilled() async throws {
        try await EngineHarness.with(pool: 2) { h in
            let python = try h.language("python")
            try await h.sandbox.prepare(python)
            #expect(await h.sandbox.waitForPool(python))
            #expect(try await h.containers().count == 2)
            let first = try await h.run("open('/tmp/marker', 'w').write('x')\nprint('wrote', flush=True)\n", stdin: nil)
            #expect(first.start?.pooled == true)
            #expect(first.stdout == "wrote\n")
            #expect(await h.sandbox.waitForPool(python))
            let second = try await h.run("import os\nprint(os.path.exists('/tmp/marker'))\n")
            #expect(second.start?.pooled == true)
            #expect(second.stdout == "False\n")
            let echoed = try await h.run("import sys\nprint(sys.stdin.read()[::-1])\n", stdin: "abc")
            #expect(echoed.stdout == "cba\n")
            #expect(echoed.start?.pooled == true)
        }
    }

    @Test func poolTimeoutCountsFromTheRunNotFromContainerStart() async throws {
        try await EngineHarness.with(pool: 1) { h in
            let python = try h.language("python")
            var limits = h.sandbox.config.limits
            limits.timeoutSeconds = 1.5
            try await h.sandbox.prepare(python, limits: limits)
            #expect(await h.sandbox.waitForPool(python, limits: limits))
            try await Task.sleep(for: .seconds(2))
            let run = try await h.run("import time\ntime.sleep(0.5)\nprint('in time')\n", timeout: 1.5)
            #expect(run.start?.pooled == true)
            #expect(run.outcome == .exited(code: 0))
        }
    }

    @Test func shutdownRemovesPooledContainers() async throws {
        guard let h = try EngineHarness.make(pool: 2) else { return }
        let python = try h.language("python")
        try await h.sandbox.prepare(python)
        #expect(await h.sandbox.waitForPool(python))
        #expect(try await h.containers().count == 2)
        try await h.finish()
    }
}
