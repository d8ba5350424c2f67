import ArgumentParser

/// `codesync bench`: speed measurements of each part, as machine-readable JSON.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure the speed of codesync's parts (JSON).",
        subcommands: [
            BenchRun.self,
        ])
}
