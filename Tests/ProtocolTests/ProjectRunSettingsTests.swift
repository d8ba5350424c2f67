import CodeSyncProtocol
import CodeSyncTestSupport
import Foundation
import Testing

/// `.codesync.json` read as hostile input: whatever the folder holds, the settings are either
/// valid one-line commands or a `problem` that refuses runs and says why.
@Suite(.ownThreads) struct ProjectRunSettingsTests {
    private func parse(_ text: String) -> ProjectRunSettings { ProjectRunSettings.parse(Array(text.utf8)) }

    @Test func aRunCommandWithBuildAndLanguageIsRead() {
        let settings = parse(#"{"run": "python -m pytest -q", "build": "make -j1", "language": "python"}"#)
        #expect(settings == ProjectRunSettings(command: "python -m pytest -q", build: "make -j1", language: "python"))
        #expect(settings.summary == "make -j1 && python -m pytest -q (from .codesync.json)")
        #expect(parse("").isEmpty && parse(" \n").isEmpty)
    }

    @Test(arguments: [
        ("[1]", "not a JSON object"), ("{", "not a JSON object"), (#"{"run": 3}"#, "must be a string"),
        (#"{"run": ["ls"]}"#, "must be a string"), (#"{"run": ""}"#, "is empty"), (#"{"run": "   "}"#, "is empty"),
        (#"{"run": "a\nb"}"#, "control character"), (#"{"run": "echo \u001b[2J"}"#, "control character"),
        (#"{"run": "echo \u202Eevil"}"#, "bidirectional"), (#"{"run": "x", "env": {}}"#, "unknown key"),
        (#"{"build": "make"}"#, "need a \"run\""), (#"{"run": "x", "language": "Py thon"}"#, "short name"),
        (#"{"run": "x", "language": 1}"#, "must be a string"),
    ])
    func hostileContentIsAProblemNotACommand(text: String, why: String) {
        let settings = parse(text)
        #expect(settings.command == nil && settings.build == nil)
        #expect(settings.problem?.contains(why) == true, "\(text): \(String(describing: settings.problem))")
        #expect(settings.problem?.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0 != "\u{202E}" } == true)
    }

    /// Odd JSON within the 16 KiB a `.codesync.json` may hold (a `git pull` can bring any): nesting
    /// as deep as it fits, numbers past a Double, invalid UTF-8, a key holding escape codes. Each is
    /// a one-line problem, never a crash (the watcher reads the file as soon as it changes).
    @Test func oddJSONIsAProblemNotACrash() {
        let depth = (ProjectRunSettings.maxFileBytes - 40) / 2
        let nested = #"{"run": "ls", "x": "# + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}"
        let nestedObjects = String(repeating: #"{"a":"#, count: depth / 5) + "1" + String(repeating: "}", count: depth / 5)
        let cases: [[UInt8]] = [
            Array(nested.utf8), Array(nestedObjects.utf8),
            Array(#"{"run": "ls", "language": 1e999999}"#.utf8), Array(#"{"run": 123456789012345678901234567890}"#.utf8),
            Array(#"{"run": "ls"#.utf8) + [0xFF, 0xFE] + Array(#""}"#.utf8),
            Array("{\"\u{1B}]52;c;aGk=\u{07}\": \"x\", \"run\": \"ls\"}".utf8),
            Array(#"{"run": "ls\u0000rm"}"#.utf8),
        ]
        for bytes in cases {
            let settings = ProjectRunSettings.parse(bytes)
            #expect(settings.command == nil, "\(String(decoding: bytes.prefix(60), as: UTF8.self).debugDescription)")
            let problem = settings.problem ?? ""
            #expect(!problem.isEmpty && problem.utf8.count < 300)
            #expect(problem.unicodeScalars.allSatisfy { $0.value >= 0x20 && !(0x7F...0x9F).contains($0.value) })
        }
    }

    @Test func aHugeCommandOrFileIsRefused() throws {
        let long = parse("{\"run\": \"\(String(repeating: "a", count: ProjectRunSettings.maxCommandBytes + 1))\"}")
        #expect(long.problem?.contains("at most 1024") == true)
        let folder = try ProjectFixture()
        defer { folder.remove() }
        try folder.write(".codesync.json", "{\"run\": \"ls\"}" + String(repeating: " ", count: ProjectRunSettings.maxFileBytes))
        #expect(ProjectRunSettings.read(root: folder.root.path).problem?.contains("at most 16 KiB") == true)
        try FileManager.default.removeItem(at: folder.root.appendingPathComponent(".codesync.json"))
        #expect(ProjectRunSettings.read(root: folder.root.path).isEmpty)
        // A symlink is not followed (it could point anywhere on the host's disk).
        try Data(#"{"run": "cat /etc/shadow"}"#.utf8).write(to: folder.outside.appendingPathComponent("cfg.json"))
        try folder.symlink(".codesync.json", to: folder.outside.appendingPathComponent("cfg.json").path)
        let linked = ProjectRunSettings.read(root: folder.root.path)
        #expect(linked.command == nil && linked.problem?.contains("symlink") == true)
    }

    @Test func aPeerSentRunConfigWithControlCharactersIsRefusedOnReceipt() throws {
        let good = try MessageCodec.decode(Array(#"{"run":"pytest -q","type":"run.config"}"#.utf8))
        #expect(good == .runConfig(ProjectRunSettings(command: "pytest -q")))
        #expect(throws: (any Error).self) { _ = try MessageCodec.decode(Array(#"{"run":"a\u001b]0;x\u0007","type":"run.config"}"#.utf8)) }
        #expect(throws: (any Error).self) { _ = try MessageCodec.decode(Array(#"{"problem":"a\nb","type":"run.config"}"#.utf8)) }
    }
}
