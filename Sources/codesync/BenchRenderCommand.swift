import ArgumentParser
import CodeSyncTUI
import Foundation

/// `codesync bench render`: keystroke-to-frame time of the editor on a large document.
struct BenchRender: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Time keystroke-to-frame in the editor on a large generated Python file; prints JSON.",
        discussion: """
            Each frame applies one key to the editor model and the document, draws the whole screen \
            into a cell grid and finds the changed cells, as the terminal backend does. No terminal is used.
            """)

    @Option(help: "Lines in the generated document.")
    var lines = 100_000

    @Option(help: "Keystrokes (frames) to time.")
    var frames = 2_000

    @Option(help: "Terminal width in cells.")
    var columns = 160

    @Option(help: "Terminal height in cells.")
    var rows = 50

    func validate() throws {
        guard lines >= 1 else { throw ValidationError("--lines must be at least 1") }
        guard frames >= 1 else { throw ValidationError("--frames must be at least 1") }
        guard columns >= TerminalSize.minimum.columns, rows >= TerminalSize.minimum.rows else {
            throw ValidationError("--columns and --rows must be at least \(TerminalSize.minimum.columns)x\(TerminalSize.minimum.rows)")
        }
    }

    func run() throws {
        let result = RenderBenchmark.run(lines: lines, frames: frames, size: TerminalSize(columns: columns, rows: rows))
        #if DEBUG
        let build = "debug"
        #else
        let build = "release"
        #endif
        let report: [String: Any] = [
            "benchmark": "render",
            "build": build,
            "lines": result.lines,
            "frames": result.frames,
            "columns": columns,
            "rows": rows,
            "median_us": (result.medianMicroseconds * 10).rounded() / 10,
            "p90_us": (result.p90Microseconds * 10).rounded() / 10,
            "max_us": (result.maxMicroseconds * 10).rounded() / 10,
            "mean_changed_cells": (result.meanChangedCells * 10).rounded() / 10,
            "target_us": 2000,
        ]
        let data = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}
