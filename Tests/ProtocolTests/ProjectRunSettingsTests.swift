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
