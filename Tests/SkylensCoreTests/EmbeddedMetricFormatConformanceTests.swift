import Foundation
import Testing
@testable import SkylensCore

/// The `e-emf` cases of `Conformance/formats.json`: which documents are valid EMF and the metrics they carry.
struct EmbeddedMetricFormatConformanceTests {
    struct Metric: Decodable, Sendable, Equatable {
        var Namespace: String
        var MetricName: String
        var Dimensions: [String: String]
        var Values: [Double]
        var Unit: String
        var StorageResolution: Int
        var Timestamp: Int64
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var id: String
        var title: String
        /// The log message exactly as ingested.
        var message: String
        var expectValid: Bool
        var expectMetrics: [Metric]?
        var testDescription: String { "\(id) \(title)" }
    }

    static let cases: [Case] = {
        guard let url = Bundle.module.url(forResource: "formats", withExtension: "json", subdirectory: "Conformance"),
              let data = try? Data(contentsOf: url),
              let all = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]]
        else { return [] }
        return all.compactMap { c -> Case? in
            guard c["section"] as? String == "e-emf", c["kind"] as? String == "emf-document",
                  let id = c["id"] as? String, let valid = c["expect_valid"] as? Bool else { return nil }
            let message: String
            if let raw = c["log_message"] as? String {
                message = raw
            } else if let doc = c["document"], let bytes = try? JSONSerialization.data(withJSONObject: doc) {
                message = String(decoding: bytes, as: UTF8.self)
            } else {
                return nil
            }
            var metrics: [Metric]?
            if let m = c["expect_metrics"], let bytes = try? JSONSerialization.data(withJSONObject: m) {
                metrics = try? JSONDecoder().decode([Metric].self, from: bytes)
            }
            return Case(id: id, title: c["title"] as? String ?? "", message: message, expectValid: valid, expectMetrics: metrics)
        }
    }()

    @Test func corpusIsLoaded() { #expect(Self.cases.count >= 10) }

    @Test(arguments: cases)
    func document(_ c: Case) throws {
        do {
            let metrics = try EmbeddedMetricFormat.extract(c.message)
            #expect(c.expectValid, "\(c.id) must be rejected, got \(metrics.count) metrics")
            if let expected = c.expectMetrics {
                let got = metrics.map {
                    Metric(Namespace: $0.namespace, MetricName: $0.name, Dimensions: $0.dimensions, Values: $0.values,
                           Unit: $0.unit.rawValue, StorageResolution: $0.storageResolution, Timestamp: $0.timestamp)
                }
                func key(_ m: Metric) -> String { "\(m.Namespace)|\(m.MetricName)|\(m.Dimensions.sorted { $0.key < $1.key })" }
                #expect(got.sorted { key($0) < key($1) } == expected.sorted { key($0) < key($1) }, "\(c.id)")
            }
        } catch {
            #expect(!c.expectValid, "\(c.id) is valid EMF but was rejected: \(error)")
        }
    }

    @Test func cheapPrecheck() {
        #expect(Array(#"{"_aws":{}}"#.utf8).withUnsafeBytes { EmbeddedMetricFormat.mightBeEMF($0) })
        #expect(!Array("INFO {\"_aws\":1}".utf8).withUnsafeBytes { EmbeddedMetricFormat.mightBeEMF($0) })
        #expect(!Array(#"{"level":"INFO"}"#.utf8).withUnsafeBytes { EmbeddedMetricFormat.mightBeEMF($0) })
    }
}
