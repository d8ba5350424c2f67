@testable import CodeSyncRunner
import CodeSyncTestSupport
import Foundation
import Testing

/// Runs inside a shared folder: the create request (pure), then real runs on the engine with a
/// folder mounted read-only as the working directory.
@Suite(.ownThreads, .serialized) struct ProjectMountTests {
    /// A folder of files readable by the container's user (nobody), removed by `remove`.
    struct Folder {
        let base = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("cs-mount-\(UUID().uuidString.prefix(8))")
        var root: URL { base.appendingPathComponent("project") }

        init() throws {
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: base.appendingPathComponent("outside"), withIntermediateDirectories: true)
            try Data("top secret\n".utf8).write(to: base.appendingPathComponent("outside/secret.txt"))
            for path in [base.path, root.path] { chmod(path, 0o755) }
        }

        func write(_ path: String, _ text: String) throws {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
            chmod(url.path, 0o644)
        }

        func remove() { try? FileManager.default.removeItem(at: base) }
    }

    @Test func theProjectIsMountedReadOnlyAsTheWorkingDirectoryAndThePathStaysOutOfTheScript() throws {
        let file = "src/it's $(touch x) `y`.py"
        let mount = ProjectMount(hostPath: "/srv/snap", file: file)
        let body = ContainerSpec.createBody(language: .python, limits: .standard, instance: "i", pid: 1, host: "h", project: mount)
        let host = try #require(body["HostConfig"] as? [String: Any])
        let mounts = try #require(host["Mounts"] as? [[String: Any]])
        #expect(mounts.count == 1)
        #expect(mounts[0]["Source"] as? String == "/srv/snap" && mounts[0]["Target"] as? String == "/project")
        #expect(mounts[0]["ReadOnly"] as? Bool == true && mounts[0]["Type"] as? String == "bind")
        #expect((mounts[0]["BindOptions"] as? [String: Any])?["NonRecursive"] as? Bool == true)
        #expect(host["Binds"] == nil)
        // The same hardening as every run.
        #expect(host["NetworkMode"] as? String == "none" && host["ReadonlyRootfs"] as? Bool == true)
        #expect(host["Memory"] as? Int64 == RunLimits.standard.memoryBytes && host["CpuQuota"] as? Int == RunLimits.standard.cpuQuota)
        #expect(host["CapDrop"] as? [String] == ["ALL"] && body["User"] as? String == "65534:65534")
        #expect(body["WorkingDir"] as? String == "/project")
        let env = try #require(body["Env"] as? [String])
        #expect(env.contains("CODESYNC_FILE=\(file)"))
        let command = try #require(body["Cmd"] as? [String]).joined(separator: " ")
        #expect(!command.contains("touch") && command.contains("$CODESYNC_FILE"), "the peer's path reached the script: \(command)")
        // A Go package builds as a module when it has a go.mod.
        let go = ContainerSpec.createBody(language: .go, limits: .standard, instance: "i", pid: 1, host: "h",
                                          project: ProjectMount(hostPath: "/srv/snap", file: "cmd/main.go"))
        #expect((go["Env"] as? [String])?.contains("GO111MODULE=auto") == true)
    }

    @Test func aProjectCommandRunsAsOneShellWordAndGetsAnExecutableTmp() throws {
        let mount = ProjectMount(hostPath: "/s", file: nil, command: "echo 'a' && exit 3", build: "make")
        let script = mount.script(for: .python)
        #expect(script.contains("exec /bin/sh -c 'echo '\\''a'\\'' && exit 3'"))
        #expect(script.contains("/bin/sh -c 'make' 1>&2 || exit $?"))
        #expect(mount.hasBuild(.python))
        let body = ContainerSpec.createBody(language: .python, limits: .standard, instance: "i", pid: 1, host: "h", project: mount)
        #expect(((body["HostConfig"] as? [String: Any])?["Tmpfs"] as? [String: String])?["/tmp"]?.contains(",exec,") == true)
    }

    @Test func pythonImportsASiblingAndCannotWriteTheProjectOrFollowASymlinkOut() async throws {
        try await EngineHarness.with { harness in
            let folder = try Folder()
            defer { folder.remove() }
            try folder.write("pkg/helper.py", "def f():\n    return 41 + 1\n")
            try folder.write("pkg/main.py", """
                import os, helper
                print('helper', helper.f())
                print('cwd', os.getcwd())
                try:
                    open('new.txt', 'w')
                    print('wrote')
                except OSError as e:
                    print('write refused', e.errno == 30)
                for link in ['pkg/abs.txt', 'pkg/rel.txt']:
                    try:
                        print('read', open(link).read())
                    except OSError as e:
                        print('no', link)
                """)
            try FileManager.default.createSymbolicLink(atPath: folder.root.appendingPathComponent("pkg/abs.txt").path,
                                                       withDestinationPath: folder.base.appendingPathComponent("outside/secret.txt").path)
            try FileManager.default.createSymbolicLink(atPath: folder.root.appendingPathComponent("pkg/rel.txt").path,
                                                       withDestinationPath: "../../outside/secret.txt")
            var request = try harness.request("", "python")
            request.project = ProjectMount(hostPath: folder.root.path, file: "pkg/main.py")
            let run = await harness.run(request)
            #expect(run.outcome == .exited(code: 0), "\(run.stderr) \(String(describing: run.error))")
            #expect(run.stdout == "helper 42\ncwd /project\nwrite refused True\nno pkg/abs.txt\nno pkg/rel.txt\n", "\(run.stderr)")
            #expect(!run.stdout.contains("top secret"))
        }
    }

    @Test func cIncludesAHeaderOfTheProject() async throws {
        try await EngineHarness.with { harness in
            guard try harness.requireImage("c") else { return }
            let folder = try Folder()
            defer { folder.remove() }
            try folder.write("include/util.h", "static inline int twice(int x) { return 2 * x; }\n")
            try folder.write("src/main.c", "#include <stdio.h>\n#include \"../include/util.h\"\nint main(void) { printf(\"%d\\n\", twice(21)); return 0; }\n")
            try folder.write("util.h", "#define GREETING \"hi from util.h\"\n")
            try folder.write("top.c", "#include <stdio.h>\n#include \"util.h\"\nint main(void) { puts(GREETING); return 0; }\n")
            for (file, expected) in [("src/main.c", "42\n"), ("top.c", "hi from util.h\n")] {
                var request = try harness.request("", "c", timeout: 20)
                request.project = ProjectMount(hostPath: folder.root.path, file: file)
                let run = await harness.run(request)
                #expect(run.outcome == .exited(code: 0), "\(file): \(run.stderr) \(String(describing: run.error))")
                #expect(run.stdout == expected, "\(file): \(run.stderr)")
            }
            // A compile error is reported as one, with the compiler's words.
            try folder.write("bad.c", "#include \"missing.h\"\nint main(void) { return 0; }\n")
            var request = try harness.request("", "c", timeout: 20)
            request.project = ProjectMount(hostPath: folder.root.path, file: "bad.c")
            let run = await harness.run(request)
            #expect(run.outcome == .buildFailed(code: 1), "\(run.stderr)")
            #expect(run.stderr.contains("missing.h"))
        }
    }

    @Test func aGoModuleOfTwoFilesBuildsAndRuns() async throws {
        try await EngineHarness.with { harness in
            guard try harness.requireImage("go") else { return }
            let folder = try Folder()
            defer { folder.remove() }
            try folder.write("app/go.mod", "module example.com/app\n\ngo 1.19\n")
            try folder.write("app/main.go", "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(greeting(), answer) }\n")
            try folder.write("app/util.go", "package main\n\nconst answer = 42\n\nfunc greeting() string { return \"two files:\" }\n")
            var request = try harness.request("", "go", timeout: 20)
            request.project = ProjectMount(hostPath: folder.root.path, file: "app/main.go")
            let run = await harness.run(request)
            #expect(run.outcome == .exited(code: 0), "\(run.stderr) \(String(describing: run.error))")
            #expect(run.stdout == "two files: 42\n", "\(run.stderr)")
        }
    }

    @Test func aProjectCommandRunsInTheProjectWithTheSameLimits() async throws {
        try await EngineHarness.with { harness in
            let folder = try Folder()
            defer { folder.remove() }
            try folder.write("tests/check.py", "import sys\nprint('checked', sys.argv[1:])\n")
            var request = try harness.request("", "python")
            // A command that tries to get out: the network is absent, the project read-only.
            request.project = ProjectMount(hostPath: folder.root.path, file: "tests/check.py",
                                           command: "python3 tests/check.py \"$CODESYNC_FILE\"; touch /project/x 2>/dev/null || echo ro; python3 -c 'import socket; socket.create_connection((\"1.1.1.1\", 53), 2)' 2>/dev/null || echo nonet")
            let run = await harness.run(request)
            #expect(run.outcome == .exited(code: 0), "\(run.stderr) \(String(describing: run.error))")
            #expect(run.stdout == "checked ['tests/check.py']\nro\nnonet\n", "\(run.stderr)")
        }
    }
}
