// swift-tools-version:6.1
import PackageDescription

/// Settings shared by every Skylens target.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "skylens",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "skylens", targets: ["skylens"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
    ],
    targets: [
        // Layer 0: the pure domain. No I/O, no clock, no logging.
        .target(name: "SkylensCore", dependencies: ["CByteSearch"], swiftSettings: swiftSettings),
        // glibc's memmem for the pattern matcher (a pure function; Swift's Glibc module hides it).
        .target(name: "CByteSearch"),

        // Layer 1: wire formats, storage.
        .target(name: "SkylensWire", dependencies: ["SkylensCore", "CZlib"], swiftSettings: swiftSettings),
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        // libdeflate: zlib-format streams, compressed and checked in about half of zlib's time (blocks).
        .systemLibrary(name: "CDeflate", providers: [.apt(["libdeflate-dev"])]),
        // zstd: trace blocks, written on the X-Ray ingest path, compressed in about a third of libdeflate's time.
        .systemLibrary(name: "CZstd", providers: [.apt(["libzstd-dev"])]),
        .target(
            name: "SkylensRules",
            dependencies: ["SkylensCore", "SkylensWire", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SkylensStorage",
            dependencies: [
                "SkylensCore", "CDeflate", "CZstd",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            exclude: ["README.md"],
            swiftSettings: swiftSettings
        ),

        // Layer 2: composition root and the collector's client.
        .target(
            name: "SkylensServer",
            dependencies: [
                "SkylensCore", "SkylensWire", "SkylensStorage", "SkylensRules",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                // SNS-style deliveries: the HTTP client that posts them, and SHA256withRSA signatures with a certificate.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                // The X-Ray daemon's UDP socket (read in bursts with recvmmsg); NIO's bootstraps probe its TCP side.
                "CDatagram",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The X-Ray daemon's UDP socket: getaddrinfo/bind and recvmmsg, which Swift's Glibc module does not expose.
        .target(name: "CDatagram"),
        .target(
            name: "SkylensClient",
            dependencies: [
                "SkylensCore", "SkylensWire",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),

        // Layer 3: the command tree.
        .executableTarget(
            name: "skylens",
            dependencies: [
                "SkylensCore", "SkylensWire", "SkylensServer", "SkylensClient", "SkylensRules",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // The ingest/scan benchmark's load generator (Benchmarks/README.md): a command, not a test.
        .executableTarget(
            name: "skylens-bench",
            dependencies: [
                "SkylensCore", "SkylensWire", "SkylensClient", "SkylensStorage", "SkylensServer",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/LogBench",
            swiftSettings: swiftSettings
        ),

        // Test support: the real collector on 127.0.0.1:0 with a temporary data directory.
        .target(
            name: "SkylensTesting",
            dependencies: [
                "SkylensCore", "SkylensServer", "SkylensClient", "SkylensStorage",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        .testTarget(
            name: "SkylensCoreTests",
            dependencies: ["SkylensCore"],
            resources: [.copy("Conformance")],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "SkylensWireTests", dependencies: ["SkylensWire"], swiftSettings: swiftSettings),
        .testTarget(
            name: "SkylensStorageTests",
            dependencies: ["SkylensStorage", "CZlib", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "SkylensRulesTests", dependencies: ["SkylensRules"], swiftSettings: swiftSettings),
        .testTarget(
            name: "SkylensServerTests",
            dependencies: ["SkylensServer", "SkylensTesting", "SkylensClient", "SkylensWire", "SkylensRules",
                           .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),
    ]
)
