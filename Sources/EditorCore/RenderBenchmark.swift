/// Keystroke-to-frame timing: apply a key to the model and the document, draw the frame, and work out
/// which cells changed (what the terminal backend would send), on a large generated document.
public enum RenderBenchmark {
    /// Timings in microseconds, and what was measured.
    public struct Result: Sendable {
        public var lines: Int
        public var frames: Int
        public var size: TerminalSize
        public var medianMicroseconds: Double
        public var p90Microseconds: Double
        public var maxMicroseconds: Double
        public var meanChangedCells: Double
    }

    /// A deterministic Python-like document of `lines` lines.
    public static func document(lines: Int) -> String {
        var out = ""
        out.reserveCapacity(lines * 32)
        var i = 0
        while i < lines {
            switch i % 8 {
            case 0: out += "def function_\(i)(items, n=\(i % 97)):"
            case 1: out += "    \"\"\"Sum the items \(i).\"\"\""
            case 2: out += "    total = 0  # running total"
            case 3: out += "    for x in items:"
            case 4: out += "        total += x * n"
            case 5: out += "    print(f\"done {total}\", len(items))"
            case 6: out += "    return total"
            default: out += ""
            }
            i += 1
            if i < lines { out += "\n" }
        }
        return out
    }

    /// Runs `frames` keystrokes in the middle of a `lines`-line document on a terminal of `size`.
    public static func run(lines: Int, frames: Int, size: TerminalSize) -> Result {
        let text = document(lines: lines)
        let document = LocalDocument(text: text)
        var model = EditorModel(text: text, fileName: "bench.py", size: size)
        _ = model.handle(.key(.control("g")))
        for digit in String(max(1, lines / 2)).unicodeScalars { _ = model.handle(.key(.character(digit))) }
        _ = model.handle(.key(.enter))
        _ = model.handle(.key(.end))
        let driver = EditorDriver(model: model, document: document)
        var grid = Renderer.render(model)
        var previous = grid
        let keys: [Key] = [.character("a"), .character("b"), .character("("), .character("漢"), .character(")"),
                           .backspace, .enter, .up, .end, .down, .home, .right, .character(" "), .left, .delete]
        var samples: [Double] = []
        samples.reserveCapacity(frames)
        var changedTotal = 0
        for frame in 0..<frames {
            let start = now()
            driver.handle(.key(keys[frame % keys.count]))
            swap(&grid, &previous)
            Renderer.render(driver.model, into: &grid)
            changedTotal += grid.changedCells(since: previous).count
            samples.append((now() - start) * 1e6)
        }
        samples.sort()
        func percentile(_ p: Double) -> Double {
            samples.isEmpty ? 0 : samples[min(samples.count - 1, Int(Double(samples.count - 1) * p))]
        }
        return Result(lines: lines, frames: frames, size: size,
                      medianMicroseconds: percentile(0.5), p90Microseconds: percentile(0.9),
                      maxMicroseconds: samples.last ?? 0,
                      meanChangedCells: frames == 0 ? 0 : Double(changedTotal) / Double(frames))
    }

    /// Seconds on the standard library's monotonic clock (no libc, so the core stays pure).
    private static func now() -> Double {
        let elapsed = ContinuousClock.now - origin
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    private static let origin = ContinuousClock.now
}
