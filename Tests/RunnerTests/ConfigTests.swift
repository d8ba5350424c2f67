@testable import CodeSyncRunner
import Foundation
import Testing
import CodeSyncTestSupport

@Suite(.ownThreads) struct LanguageAndConfigTests {
    @Test func languagesByExtensionAndName() throws {
        let catalog = LanguageCatalog()
        #expect(catalog.forFile("dir/prog.py")?.name == "python")
        #expect(catalog.forFile("a.JS")?.name == "node")
        #expect(catalog.forFile("main.go")?.name == "go")
        #expect(catalog.forFile("x.c")?.name == "c")
        #expect(catalog.forFile("x.cc")?.name == "cpp")
        #expect(catalog.forFile("README") == nil)
        #expect(catalog.forFile(".py") == nil)
        #expect(try catalog.named("C++").name == "cpp")
        #expect(throws: RunnerError.unknownLanguage("cobol", known: ["python", "node", "go", "c", "cpp"])) {
            try catalog.named("cobol")
        }
        #expect(RunnerError.unknownLanguage("cobol", known: ["python"]).description == "unknown language 'cobol' — use one of: python")
    }

    @Test func defaultImagesAreThePublicOnes() {
        #expect(Language.builtIn.map(\.image) == ["python:3.12-alpine", "node:22-alpine", "golang:1.23-alpine", "gcc:14", "gcc:14"])
    }

    @Test func configFileAndEnvironmentOverrideDefaults() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("codesync-config-\(UUID().uuidString)")
        let file = dir.appendingPathComponent("codesync/runner.json")
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("""
            {"socket": "unix:///run/other.sock", "pool": 3,
             "limits": {"memory": "256m", "cpus": 1.5, "pids": 100, "timeout": 3.5, "output": "2m", "tmpfs": "32m"},
             "languages": {"go": {"image": "golang:1.22"}, "ruby": {"image": "ruby:3", "file": "main.rb", "run": "ruby main.rb", "extensions": ["rb"]}}}
            """.utf8).write(to: file)
        let config = try SandboxConfig.load(environment: ["XDG_CONFIG_HOME": dir.path, "CODESYNC_IMAGE_PYTHON": "mine/python"])
        #expect(config.socketPath == "/run/other.sock")
        #expect(config.poolSize == 3)
        #expect(config.limits.memoryBytes == 256 * 1024 * 1024)
        #expect(config.limits.cpuQuota == 150_000)
        #expect(config.limits.pidsLimit == 100)
        #expect(config.limits.timeoutSeconds == 3.5)
        #expect(config.limits.outputLimitBytes == 2 * 1024 * 1024)
        #expect(config.limits.tmpfsBytes == 32 * 1024 * 1024)
        #expect(try config.catalog.named("go").image == "golang:1.22")
        #expect(try config.catalog.named("python").image == "mine/python")
        #expect(config.catalog.forFile("x.rb")?.runCommand == "ruby main.rb")
    }

    @Test func badConfigGivesOneLineErrors() throws {
        var config = SandboxConfig()
        for (text, fragment) in [("[1]", "not a JSON object"), ("{\"pool\": -1}", "\"pool\""),
                                 ("{\"limits\": {\"memory\": \"lots\"}}", "\"memory\""), ("{\"colour\": 1}", "unknown key"),
                                 ("{\"languages\": {\"x\": {\"image\": \"y\"}}}", "needs at least")] {
            #expect(throws: RunnerError.self) { try config.apply(fileData: Data(text.utf8), path: "f.json") }
            do { try config.apply(fileData: Data(text.utf8), path: "f.json") } catch {
                #expect("\(error)".contains(fragment), "\(error)")
                #expect(!"\(error)".contains("\n"))
            }
        }
    }

    @Test func byteSizes() {
        #expect(RunLimits.parseByteSize("128m") == 134_217_728)
        #expect(RunLimits.parseByteSize("1G") == 1_073_741_824)
        #expect(RunLimits.parseByteSize("64MiB") == 67_108_864)
        #expect(RunLimits.parseByteSize("512") == 512)
        #expect(RunLimits.parseByteSize("12q") == nil)
        #expect(RunLimits.parseByteSize("") == nil)
        var limits = RunLimits.standard
        #expect(limits.problem == nil)
        limits.memoryBytes = 1024
        #expect(limits.problem?.contains("memory") == true)
    }
}

@Suite(.ownThreads) struct ContainerSpecTests {
    @Test func everyContainerIsHardened() throws {
        let body = ContainerSpec.createBody(language: .python, limits: .standard, instance: "i1", pid: 42, host: "h")
        let host = try #require(body["HostConfig"] as? [String: Any])
        #expect(host["NetworkMode"] as? String == "none")
        #expect(host["Memory"] as? Int64 == 134_217_728)
        #expect(host["MemorySwap"] as? Int64 == 134_217_728)
        #expect(host["CpuQuota"] as? Int == 50_000)
        #expect(host["CpuPeriod"] as? Int == 100_000)
        #expect(host["PidsLimit"] as? Int == 64)
        #expect(host["ReadonlyRootfs"] as? Bool == true)
        #expect(host["CapDrop"] as? [String] == ["ALL"])
        #expect(host["Init"] as? Bool == true)
        #expect((host["LogConfig"] as? [String: Any])?["Type"] as? String == "none")
        let security = try #require(host["SecurityOpt"] as? [String])
        #expect(security.contains("no-new-privileges"))
        #expect(security.contains { $0.hasPrefix("seccomp={") })
        #expect((host["Tmpfs"] as? [String: String])?["/tmp"]?.contains("noexec") == true)
        #expect(body["User"] as? String == "65534:65534")
        let env = try #require(body["Env"] as? [String])
        #expect(env.contains("PYTHONUNBUFFERED=1") && env.contains("LANG=C.UTF-8"))
        let labels = try #require(body["Labels"] as? [String: String])
        #expect(labels[SandboxLabels.sandbox] == "1" && labels[SandboxLabels.ownerPID] == "42" && labels[SandboxLabels.instance] == "i1")
        let compiled = ContainerSpec.createBody(language: .c, limits: .standard, instance: "i1", pid: 42, host: "h")
        #expect(((compiled["HostConfig"] as? [String: Any])?["Tmpfs"] as? [String: String])?["/tmp"]?.contains(",exec,") == true)
    }

    @Test func seccompProfileIsValidJSONAndRefusesVsockAndAlg() throws {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(SeccompProfile.json.utf8)) as? [String: Any])
        #expect(object["defaultAction"] as? String == "SCMP_ACT_ALLOW")
        let rules = try #require(object["syscalls"] as? [[String: Any]])
        let socketValues = rules.filter { ($0["names"] as? [String]) == ["socket"] }
            .compactMap { (($0["args"] as? [[String: Any]])?.first?["value"] as? Int) }
        #expect(Set(socketValues) == [38, 40])
        let denied = rules.flatMap { $0["names"] as? [String] ?? [] }
        for name in ["ptrace", "mount", "unshare", "bpf", "keyctl", "io_uring_setup", "userfaultfd", "clone3"] {
            #expect(denied.contains(name), "\(name)")
        }
    }

    @Test func loaderFramesSourceBeforeStdin() {
        let python = Loader.payload(source: "print(1)", stdin: Array("in".utf8), language: .python)
        #expect(String(decoding: python, as: UTF8.self) == "8\nprint(1)in")
        let c = Loader.payload(source: "int main(){}\r\nx", stdin: nil, language: .c)
        #expect(String(decoding: c, as: UTF8.self) == "2\nint main(){}\r\nx\n")
        #expect(Loader.payload(source: "", stdin: nil, language: .go) == Array("0\n".utf8))
    }

    @Test func outcomesHaveExitStatusesAndWords() {
        #expect(RunOutcome.exited(code: 3).exitStatus == 3)
        #expect(RunOutcome.timedOut.exitStatus == 124)
        #expect(RunOutcome.outOfMemory.exitStatus == 137)
        #expect(RunOutcome.killed(signal: 11).exitStatus == 139)
        #expect(RunOutcome.killed(signal: 11).description == "killed by signal 11 (SIGSEGV)")
        #expect(RunOutcome.outputLimit.description.contains("output limit"))
    }

    @Test func eventsRoundTripThroughJSON() throws {
        let events: [RunEvent] = [
            .started(RunStart(runID: "r", language: "python", image: "i", startedBy: "ann", pooled: true)),
            .output(OutputChunk(stream: .stderr, bytes: [0xFF, 0x00, 0x41])),
            .exited(RunResult(runID: "r", outcome: .killed(signal: 9), durationMilliseconds: 12.5, startedBy: "ann", language: "python")),
        ]
        let data = try JSONEncoder().encode(events)
        #expect(try JSONDecoder().decode([RunEvent].self, from: data) == events)
    }
}
