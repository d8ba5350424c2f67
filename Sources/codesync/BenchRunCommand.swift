import ArgumentParser
import CodeSyncRunner
import Foundation

/// `codesync bench run`: time to first output and total time of a Python `print(1)`, pooled and cold,
/// against `docker run --rm` of the same image.
struct BenchRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Time a sandboxed Python print(1): warm pool, cold container, and docker run --rm.",
        discussion: """
            Prints JSON on stdout (medians and p90 in milliseconds) and a table on stderr. Pooled runs wait \
            for the pool to refill before each run, as runs a person starts would. The docker CLI is used \
            only for the reference measurement.
            """)

    @Option(help: "Warm containers kept ready for the pooled measurement.")
    var pool: Int = 2

    @Option(help: "Runs per mode.")
    var runs: Int = 20

    @Option(help: "Python image to use (default: the configured Python image).")
    var image: String?

    @Flag(help: "Skip the docker run --rm reference.")
    var noReference = false

    func validate() throws {
        guard (1...16).contains(pool) else { throw ValidationError("--pool must be between 1 and 16") }
        guard (1...10_000).contains(runs) else { throw ValidationError("--runs must be between 1 and 10000") }
    }

    func run() async throws {
        var config: SandboxConfig
        var python: Language
        do {
            config = try SandboxConfig.load()
            python = try config.catalog.named("python")
        } catch let error as RunnerError {
            throw Run.fail(error.description)
        }
        if let image { python.image = image }
        let source = "print(1)\n"

        var modes: [[String: Any]] = []
        do {
            config.poolSize = pool
            let pooled = Sandbox(config: config)
            try await pooled.prepare(python)
            var samples: [Sample] = []
            for _ in 0..<runs {
                guard await pooled.waitForPool(python, timeout: 60) else {
                    await pooled.shutdown()
                    throw Run.fail("the warm pool did not fill within 60 s")
                }
                samples.append(try await Self.measure(pooled, python, source))
            }
            await pooled.shutdown()
            modes.append(Self.summary("pooled", samples))

            config.poolSize = 0
            let cold = Sandbox(config: config)
            samples = []
            for _ in 0..<runs { samples.append(try await Self.measure(cold, python, source)) }
            await cold.shutdown()
            modes.append(Self.summary("cold", samples))
        } catch let error as RunnerError {
            throw Run.fail(error.description)
        }

        if !noReference {
            var samples: [Sample] = []
            for _ in 0..<runs {
                guard let sample = Self.dockerRun(image: python.image, source: source) else {
                    throw Run.fail("`docker run --rm \(python.image)` failed; is the docker CLI installed? (or pass --no-reference)")
                }
                samples.append(sample)
            }
            modes.append(Self.summary("docker run --rm", samples))
        }

        let report: [String: Any] = [
            "benchmark": "run", "program": "print(1)", "language": "python", "image": python.image,
            "runs": runs, "pool": pool, "unit": "ms", "modes": modes,
        ]
        let json = try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys])
        FileHandle.standardOutput.write(json + Data("\n".utf8))
        var table = "mode               first output median / p90    total median / p90\n"
        for mode in modes {
            let first = mode["firstOutput"] as? [String: Double] ?? [:], total = mode["total"] as? [String: Double] ?? [:]
            let name = (mode["mode"] as? String ?? "").padding(toLength: 18, withPad: " ", startingAt: 0)
            table += String(format: "%@ %9.1f / %-9.1f %12.1f / %.1f\n", name, first["median"] ?? 0, first["p90"] ?? 0,
                            total["median"] ?? 0, total["p90"] ?? 0)
        }
        FileHandle.standardError.write(Data(table.utf8))
    }

    struct Sample {
        var firstOutput: Double
        var total: Double
        var pooled: Bool
    }

    static func measure(_ sandbox: Sandbox, _ language: Language, _ source: String) async throws -> Sample {
        let clock = ContinuousClock()
        let began = clock.now
        var first: Double?
        var total: Double?
        var pooled = false
        var output = ""
        for try await event in sandbox.run(RunRequest(source: source, language: language, startedBy: "bench")) {
            switch event {
            case .started(let start): pooled = start.pooled
            case .output(let chunk):
                if first == nil { first = milliseconds(clock.now - began) }
                output += chunk.text
            case .exited(let result):
                total = milliseconds(clock.now - began)
                guard result.outcome == .exited(code: 0), output == "1\n" else {
                    throw RunnerError.invalidConfiguration("benchmark run failed: \(result.outcome), output \(output.debugDescription)")
                }
            }
        }
        guard let first, let total else { throw RunnerError.invalidConfiguration("benchmark run produced no output") }
        return Sample(firstOutput: first, total: total, pooled: pooled)
    }

    /// Times `docker run --rm -i IMAGE python3 -c SOURCE`: first byte on stdout, and process exit.
    static func dockerRun(image: String, source: String) -> Sample? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["docker", "run", "--rm", "--network", "none", image, "python3", "-c", source]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        let clock = ContinuousClock()
        let began = clock.now
        do { try process.run() } catch { return nil }
        let firstByte = pipe.fileHandleForReading.availableData
        let first = milliseconds(clock.now - began)
        _ = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let total = milliseconds(clock.now - began)
        guard process.terminationStatus == 0, !firstByte.isEmpty else { return nil }
        return Sample(firstOutput: first, total: total, pooled: false)
    }

    static func summary(_ mode: String, _ samples: [Sample]) -> [String: Any] {
        [
            "mode": mode,
            "runs": samples.count,
            "pooledRuns": samples.filter(\.pooled).count,
            "firstOutput": ["median": median(samples.map(\.firstOutput)), "p90": percentile(samples.map(\.firstOutput), 0.9)],
            "total": ["median": median(samples.map(\.total)), "p90": percentile(samples.map(\.total), 0.9)],
        ]
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// Nearest-rank percentile.
    static func percentile(_ values: [Double], _ fraction: Double) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((fraction * Double(sorted.count)).rounded(.up))
        return sorted[min(sorted.count, max(1, rank)) - 1]
    }

    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }
}
