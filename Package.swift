// swift-tools-version:6.0
import PackageDescription

/// The two pure, compute-heavy modules (the CRDT and the analyzer) are optimised in debug builds too,
/// with assertions kept: the tests replay real editing traces and parse whole corpora through them,
/// which unoptimised took minutes of the test run (docs/DECISIONS.md, "Test build").
var optimizedInDebug: [SwiftSetting] { [.unsafeFlags(["-O", "-assert-config", "Debug"], .when(configuration: .debug))] }

let package = Package(
    name: "CodeSync",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "codesync", targets: ["codesync"]),
        .executable(name: "codesync-trace-bench", targets: ["codesync-trace-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        // C shims: ncursesw for the terminal backend, zlib for gzipped editing traces.
        .systemLibrary(name: "CNcursesw", path: "Sources/CNcursesw"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),

        // Shared tools no one module owns (`Locked`), below every module that needs them.
        .target(name: "CodeSyncBase", path: "Sources/Base"),

        // The replicated document: pure Swift, no Foundation, so a lean process can measure it.
        .target(name: "CodeSyncDocument", dependencies: ["CZlib"], path: "Sources/Protocol/Document", swiftSettings: optimizedInDebug),
        .target(
            name: "CodeSyncProtocol",
            dependencies: [
                "CodeSyncBase", "CodeSyncDocument",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Protocol",
            exclude: ["Document"]
        ),
        .target(name: "CodeSyncAnalyzer", path: "Sources/Analyzer", swiftSettings: optimizedInDebug),
        .target(
            name: "CodeSyncRunner",
            dependencies: [
                "CodeSyncBase",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Sources/Runner"
        ),
        // The editor's functional core: no Foundation, no curses, no locale, and nothing that brings
        // them (EditorCoreTests/PurityTests reads this target and its dependencies' sources to keep it so).
        // It owns the terminal sanitizer, which the runner's callers (app, CLI) import from here.
        .target(
            name: "EditorCore",
            dependencies: ["CodeSyncDocument", "CodeSyncAnalyzer"],
            path: "Sources/EditorCore",
            swiftSettings: [.enableUpcomingFeature("MemberImportVisibility")]
        ),
        // The terminal shell around it: ncurses, the event loop, the disk, the runner and session adapters.
        .target(
            name: "CodeSyncTUI",
            dependencies: ["CNcursesw", "CodeSyncBase", "EditorCore", "CodeSyncProtocol", "CodeSyncAnalyzer", "CodeSyncRunner"],
            path: "Sources/CodeSyncTUI"
        ),
        // The use cases (editing alone, hosting, joining, shared runs, headless peers) over the modules above.
        .target(
            name: "CodeSyncApp",
            dependencies: ["CodeSyncProtocol", "CodeSyncAnalyzer", "CodeSyncRunner", "EditorCore", "CodeSyncTUI"],
            path: "Sources/App"
        ),
        .executableTarget(
            name: "codesync",
            dependencies: [
                "CodeSyncApp", "CodeSyncProtocol", "CodeSyncAnalyzer", "CodeSyncRunner", "EditorCore", "CodeSyncTUI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                // Imported directly: every log line goes through the terminal sanitizer (SanitizedLog.swift).
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/codesync"
        ),

        // The measuring child of `codesync bench trace`: the document only, so its memory is the document's.
        .executableTarget(name: "codesync-trace-bench", dependencies: ["CodeSyncDocument"], path: "Sources/codesync-trace-bench"),

        .target(name: "CodeSyncTestSupport", path: "Tests/TestSupport"),
        .testTarget(
            name: "ProtocolTests",
            dependencies: [
                "CodeSyncProtocol", "CodeSyncTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            path: "Tests/ProtocolTests"
        ),
        .testTarget(
            name: "AnalyzerTests",
            dependencies: ["CodeSyncAnalyzer", "CodeSyncTestSupport"],
            path: "Tests/AnalyzerTests",
            // Labelled programs written for this project (read by path, like ../shared's sets).
            exclude: ["Data"]
        ),
        .testTarget(
            name: "RunnerTests",
            dependencies: ["CodeSyncBase", "CodeSyncRunner", "CodeSyncTestSupport"],
            path: "Tests/RunnerTests"
        ),
        .testTarget(
            name: "EditorCoreTests",
            // The app and protocol only for the jump tests, which feed a shared run's messages through
            // the app's session events; the core itself imports neither.
            dependencies: ["EditorCore", "CodeSyncApp", "CodeSyncProtocol", "CodeSyncTestSupport"],
            path: "Tests/EditorCoreTests",
            exclude: ["Snapshots"]
        ),
        .testTarget(
            name: "TUITests",
            dependencies: ["CodeSyncTUI", "CodeSyncTestSupport"],
            path: "Tests/TUITests"
        ),
        .testTarget(
            name: "AppTests",
            dependencies: ["CodeSyncApp", "CodeSyncBase", "CodeSyncProtocol", "CodeSyncRunner", "CodeSyncTUI", "CodeSyncTestSupport"],
            path: "Tests/AppTests"
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["CodeSyncTestSupport"],
            path: "Tests/EndToEndTests"
        ),
    ]
)

