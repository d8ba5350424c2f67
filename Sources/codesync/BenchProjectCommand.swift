import ArgumentParser
import CodeSyncApp
import CodeSyncProtocol
import Foundation
import Logging

/// `codesync bench project`: how long a shared folder of many files takes to host, list and open.
struct BenchProject: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "project",
        abstract: "Time hosting a generated folder (10,000 files, 200 MB) and a joiner's first listing and open, on loopback.",
        discussion: """
            Generates the tree once in a temporary folder (or uses --dir), then per run: starts a host of \
            it in this process (index walk, journal, server, the host's own join) and times it until \
            ready; a joiner then joins over TCP on 127.0.0.1, lists every file and opens one. Prints JSON \
            on stdout (medians and p90 in milliseconds) and a table on stderr. It also times what a run in \
            the folder costs before its container starts: checking the file and copying the session's \
            files for the read-only mount (`runCopy`), and removing the copy.
            """)

    @Option(help: "Files to generate.")
    var files = 10_000

    @Option(help: "Total size of the generated files, in MB (10^6 bytes).")
    var megabytes = 200

    @Option(help: "Runs.")
    var runs = 5

    @Option(help: "Use this existing folder instead of generating one.")
    var dir: String?

    func validate() throws {
        guard (1...1_000_000).contains(files) else { throw ValidationError("--files must be 1...1000000") }
        guard (0...100_000).contains(megabytes) else { throw ValidationError("--megabytes must be 0...100000") }
        guard (1...1000).contains(runs) else { throw ValidationError("--runs must be 1...1000") }
    }

    func run() async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("codesync-bench-project-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let root: URL
        let clock = ContinuousClock()
        var generated: Double?
        if let dir {
            root = URL(fileURLWithPath: dir)
        } else {
            root = scratch.appendingPathComponent("tree")
            let began = clock.now
            try Self.generate(at: root, files: files, bytes: megabytes * 1_000_000)
            generated = BenchRun.milliseconds(clock.now - began)
        }
        var logger = Logger(label: "codesync.bench")
        logger.logLevel = .error
        var ready: [Double] = [], join: [Double] = [], list: [Double] = [], open: [Double] = [], first: [Double] = []
        var copy: [Double] = [], removal: [Double] = []
        var listed = 0
        for _ in 0..<runs {
            var options = HostSession.Options(file: root, name: "bench")
            options.port = 0
            options.stateDirectory = scratch.appendingPathComponent("state")
            options.logger = logger
            let began = clock.now
            let session = try await HostSession.start(options)
            ready.append(BenchRun.milliseconds(clock.now - began))

            var peerOptions = CollaborationPeer.Options(name: "joiner", secret: session.secret)
            peerOptions.reconnect = false
            peerOptions.logger = logger
            let joinBegan = clock.now
            let peer = try await CollaborationPeer.join(session.joinAddress, options: peerOptions)
            let joined = clock.now
            let (entries, _) = try await peer.listFiles()
            let gotList = clock.now
            guard let target = entries.filter({ $0.kind == .text }).dropFirst(entries.count / 2).first ?? entries.first(where: { $0.kind == .text }) else {
                throw ValidationError("the folder has no text file to open")
            }
            try await peer.openFile(target.path)
            let opened = clock.now
            listed = entries.count
            join.append(BenchRun.milliseconds(joined - joinBegan))
            list.append(BenchRun.milliseconds(gotList - joined))
            open.append(BenchRun.milliseconds(opened - gotList))
            first.append(BenchRun.milliseconds(opened - joinBegan))
            if let server = session.server {
                let copyBegan = clock.now
                let snapshot = try ProjectSnapshot.make(try await server.projectRunSources(file: target.path))
                let copied = clock.now
                snapshot.remove()
                copy.append(BenchRun.milliseconds(copied - copyBegan))
                removal.append(BenchRun.milliseconds(clock.now - copied))
            }
            await peer.close()
            try await session.shutdown(save: false, discardJournal: true)
        }
        func stats(_ values: [Double]) -> [String: Double] { ["median": BenchRun.median(values), "p90": BenchRun.percentile(values, 0.9)] }
        var report: [String: Any] = [
            "benchmark": "project", "files": listed, "runs": runs, "unit": "ms",
            "hostReady": stats(ready), "join": stats(join), "list": stats(list), "open": stats(open),
            "joinerFirstListingAndOpen": stats(first), "runCopy": stats(copy), "runCopyRemove": stats(removal),
        ]
        if dir == nil {
            report["generatedFiles"] = files
            report["generatedBytes"] = megabytes * 1_000_000
            report["generateMs"] = generated ?? 0
        }
        let json = try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys])
        FileHandle.standardOutput.write(json + Data("\n".utf8))
        var table = "step                         median / p90 (ms), \(listed) files, \(runs) runs\n"
        for (name, values) in [("host ready", ready), ("join", join), ("list every file", list), ("open one file", open),
                               ("join + list + open", first), ("run: check + copy", copy), ("run: remove the copy", removal)] {
            table += String(format: "%@ %9.1f / %.1f\n", name.padding(toLength: 28, withPad: " ", startingAt: 0), BenchRun.median(values),
                            BenchRun.percentile(values, 0.9))
        }
        FileHandle.standardError.write(Data(table.utf8))
    }

    /// A tree like a real project's: 100 files a folder, two levels deep, text of the asked size, a .gitignore.
    static func generate(at root: URL, files: Int, bytes: Int) throws {
        let manager = FileManager.default
        try manager.createDirectory(at: root, withIntermediateDirectories: true)
        try Data("*.log\nbuild/\n".utf8).write(to: root.appendingPathComponent(".gitignore"))
        let each = max(1, bytes / files)
        let line = "    value = compute(index, items[index]) + offset  # a line of a generated file\n"
        var body = String(repeating: line, count: each / line.utf8.count + 1)
        body = String(body.utf8.prefix(each)) ?? body
        let data = Data(body.utf8)
        for index in 0..<files {
            let folder = root.appendingPathComponent("pkg\(index / 1000)/mod\(index / 100 % 10)")
            if index % 100 == 0 { try manager.createDirectory(at: folder, withIntermediateDirectories: true) }
            try data.write(to: folder.appendingPathComponent("file\(index).py"))
        }
    }
}
