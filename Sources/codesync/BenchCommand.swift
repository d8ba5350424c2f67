import ArgumentParser

/// `codesync bench ...`: machine-readable benchmarks (run them on a release build).
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a benchmark and print its figures as JSON (use a release build).",
        subcommands: [
            BenchRender.self,
        ])
}
