import ArgumentParser

/// `codesync bench`: machine-readable benchmarks of CodeSync's parts (use a release build).
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure CodeSync's parts and print JSON (build with -c release for real figures).",
        subcommands: [
            BenchTrace.self,
            BenchAnalyze.self,
            BenchAccuracy.self,
            BenchRun.self,
            BenchRender.self,
            BenchLatency.self,
            BenchProject.self,
        ]
    )
}
