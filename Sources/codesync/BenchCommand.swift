import ArgumentParser

/// `codesync bench`: headless benchmarks with machine-readable JSON output.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a benchmark and print its figures as JSON (use a release build).",
        subcommands: [
            BenchAnalyze.self,
            BenchAccuracy.self,
        ])
}
