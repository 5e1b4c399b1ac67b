import Foundation
import Testing
@testable import SkylensCore

/// The state, statistic, comparison and band cases of `Conformance/alarms.json` (copied from the shared conformance
/// corpus; sources in `Conformance/SOURCES.md`), run through the pure evaluator. Each case's `datapoints` is the
/// evaluation range (oldest first) or `samples_per_period` the raw samples of each period.
struct AlarmConformanceTests {
    struct Case: Decodable, CustomTestStringConvertible, Sendable {
        struct Alarm: Decodable, Sendable {
            var MetricName: String
            var Namespace: String
            var Statistic: String?
            var ExtendedStatistic: String?
            var Period: Int
            var EvaluationPeriods: Int
            var DatapointsToAlarm: Int?
            var Threshold: Double?
            var ComparisonOperator: String
            var TreatMissingData: String?
            var EvaluateLowSampleCountPercentile: String?
            var ThresholdMetricId: String?
            var ActionsEnabled: Bool?
            var AlarmActions: [String]?
            var Unit: String?
        }
        struct Band: Decodable, Sendable { var lower: Double; var upper: Double }
        struct ReasonData: Decodable, Sendable {
            var recentDatapoints: [Double?]?
            var threshold: Double?
            var period: Int?
        }

        var id: String
        var category: String
        var alarm: Alarm?
        var datapoints: [Double?]?
        var samples_per_period: [[Double]]?
        var prior_state: String?
        var expect_state: String?
        var expect_state_not: String?
        var expect_state_if_prior_ok: String?
        var expect_statistic_value: Double?
        var expect_statistic_approx: [Double]?
        var expect_reason_regex: String?
        var expect_state_reason_data_subset: ReasonData?
        var native_recentDatapoints: [Double?]?
        var expect_notifications: [String]?
        var band: Band?
        var confidence: String

        var testDescription: String { "\(id) \(category)" }

        func metricAlarm() throws -> MetricAlarm {
            let a = try #require(alarm)
            let statistic = try #require(Statistic(a.ExtendedStatistic ?? a.Statistic ?? ""))
            var m = MetricAlarm(name: id, series: MetricSeries(namespace: a.Namespace, name: a.MetricName), statistic: statistic,
                                period: a.Period, evaluationPeriods: a.EvaluationPeriods, datapointsToAlarm: a.DatapointsToAlarm,
                                threshold: a.Threshold, comparison: try #require(ComparisonOperator(rawValue: a.ComparisonOperator)),
                                treatMissingData: try #require(TreatMissingData(rawValue: a.TreatMissingData ?? "missing")))
            m.evaluateLowSampleCountPercentile = a.EvaluateLowSampleCountPercentile.flatMap(LowSampleCountPercentile.init(rawValue:))
            m.thresholdMetricId = a.ThresholdMetricId
            m.actionsEnabled = a.ActionsEnabled ?? true
            m.alarmActions = a.AlarmActions ?? []
            m.unit = a.Unit.flatMap(MetricUnit.init(rawValue:))
            return m
        }
    }

    static let all: [Case] = {
        guard let url = Bundle.module.url(forResource: "alarms", withExtension: "json", subdirectory: "Conformance"),
              let data = try? Data(contentsOf: url),
              let cases = try? JSONDecoder().decode([Case].self, from: data)
        else { return [] }
        return cases
    }()

    /// Cases with a single evaluation (timeline, validation and message-shape cases are checked elsewhere).
    static let stateCases = all.filter { $0.alarm != nil && ($0.datapoints != nil || $0.samples_per_period != nil) }

    @Test func corpusIsLoaded() {
        #expect(Self.all.count == 68)
        #expect(Self.stateCases.count >= 55)
    }

    static let t0: Int64 = 1_800_000_000_000 - 1_800_000_000_000 % 86_400_000

    @Test(arguments: stateCases)
    func evaluates(_ c: Case) throws {
        let alarm = try c.metricAlarm()
        let periodMs = Int64(alarm.period) * 1000
        var range: [AlarmPoint] = []
        if let values = c.datapoints {
            for (k, v) in values.enumerated() {
                range.append(AlarmPoint(start: Self.t0 + Int64(k) * periodMs, value: v, sampleCount: v == nil ? 0 : 1,
                                        band: c.band.map { AlarmBand(lower: $0.lower, upper: $0.upper) }))
            }
        } else if let periods = c.samples_per_period {
            for (k, samples) in periods.enumerated() {
                var aggregate = MetricAggregate()
                for s in samples { aggregate.add(s) }
                let value = aggregate.value(alarm.statistic)
                if let expected = c.expect_statistic_value { #expect(value == expected) }
                if let approx = c.expect_statistic_approx, let value { #expect(value >= approx[0] && value <= approx[1], "\(value)") }
                range.append(AlarmPoint(start: Self.t0 + Int64(k) * periodMs, value: value, sampleCount: Double(samples.count)))
            }
        }
        let now = Self.t0 + Int64(range.count) * periodMs
        let prior = try #require(AlarmState(rawValue: c.prior_state ?? "INSUFFICIENT_DATA"))
        let outcome = AlarmEvaluator.evaluate(alarm, current: prior, range: range, now: now)
        if let expected = c.expect_state { #expect(outcome.state.rawValue == expected, "\(outcome.reason ?? "kept")") }
        if let not = c.expect_state_not { #expect(outcome.state.rawValue != not) }
        if let ifOK = c.expect_state_if_prior_ok, prior == .ok { #expect(outcome.state.rawValue == ifOK) }
        if let pattern = c.expect_reason_regex {
            let reason = try #require(outcome.reason)
            #expect(reason.wholeMatch(of: try Regex(pattern)) != nil, "\(reason)")
        }
        if let subset = c.expect_state_reason_data_subset {
            let data = try #require(outcome.reasonData)
            if let recent = subset.recentDatapoints { #expect(data.recentDatapoints == recent) }
            if let threshold = subset.threshold { #expect(data.threshold == threshold) }
            if let period = subset.period { #expect(data.period == period) }
            if subset.recentDatapoints == [] { #expect(data.startDate == nil) }
        }
        if let recent = c.native_recentDatapoints { #expect(outcome.reasonData?.recentDatapoints == recent) }
        if let notifications = c.expect_notifications {
            #expect(alarm.actionsToRun(from: prior, to: outcome.state) == notifications)
        }
    }

    @Test func reasonsFormatNumbersAndTimesLikeCloudWatch() {
        #expect(AlarmFormat.javaDouble(50) == "50.0")
        #expect(AlarmFormat.javaDouble(0.0666851903306472) == "0.0666851903306472")
        #expect(AlarmFormat.javaDouble(99.50160229693434) == "99.50160229693434")
        #expect(AlarmFormat.javaDouble(1.0e7) == "1.0E7")
        #expect(AlarmFormat.javaDouble(-2.5e-4) == "-2.5E-4")
        // 2015-06-03T17:43:27.123Z, the documented alarm message.
        #expect(AlarmFormat.timestamp(1_433_353_407_123) == "2015-06-03T17:43:27.123+0000")
        #expect(AlarmFormat.reasonDate(1_433_353_407_123) == "03/06/15 17:43:27")
    }
}

/// Anomaly-detection bands and metric-math alarms, evaluated by the pure core.
struct MathAlarmTests {
    static let day: Int64 = 86_400_000
    static let t0: Int64 = 1_800_000_000_000 - 1_800_000_000_000 % 86_400_000 + 10 * 3_600_000

    @Test func bandIsTheMeanPlusOrMinusKDeviationsAtTheSameTimeOfDay() throws {
        let history: [Int64: Double] = [Self.t0 - Self.day: 10, Self.t0 - 2 * Self.day: 12, Self.t0 - 3 * Self.day: 11,
                                        Self.t0 - Self.day + 60_000: 1_000]
        let band = try #require(AnomalyDetectionBand.band(at: Self.t0, history: history, deviations: 2))
        let sd = (2.0 / 3).squareRoot()
        #expect(abs(band.lower - (11 - 2 * sd)) < 1e-9 && abs(band.upper - (11 + 2 * sd)) < 1e-9)
        // Fewer than three days of history: no band.
        #expect(AnomalyDetectionBand.band(at: Self.t0, history: [Self.t0 - Self.day: 10, Self.t0 - 2 * Self.day: 12], deviations: 2) == nil)
        #expect(AnomalyDetectionBand.arguments(try MetricMath.parse("ANOMALY_DETECTION_BAND(m1, 3)"))! == ("m1", 3))
        #expect(AnomalyDetectionBand.arguments(try MetricMath.parse("ANOMALY_DETECTION_BAND(m1)"))! == ("m1", 2))
        #expect(AnomalyDetectionBand.arguments(try MetricMath.parse("SUM(m1)")) == nil)
    }

    func alarm(_ metrics: [AlarmMetric], comparison: ComparisonOperator, threshold: Double?, band: String? = nil) -> MetricAlarm {
        var a = MetricAlarm(name: "a", series: MetricSeries(namespace: "App", name: "Errors"), statistic: .sum, period: 60,
                            evaluationPeriods: 1, threshold: threshold, comparison: comparison)
        a.metrics = metrics
        a.thresholdMetricId = band
        return a
    }

    @Test func mathAlarmsEvaluateTheReturnedExpression() throws {
        let e = AlarmMetric(id: "e", returnData: false, source: .metric(MetricSeries(namespace: "App", name: "Errors"), period: 60, statistic: .sum, unit: nil))
        let i = AlarmMetric(id: "i", returnData: false, source: .metric(MetricSeries(namespace: "App", name: "Invocations"), period: 60, statistic: .sum, unit: nil))
        let rate = AlarmMetric(id: "rate", returnData: true, source: .expression("100 * e / i"))
        let a = alarm([e, i, rate], comparison: .greaterThanThreshold, threshold: 5)
        let now = Self.t0 + 60_000
        let range = try AlarmEvaluator.mathRange(a, data: ["e": [Self.t0: 3], "i": [Self.t0: 20]], now: now)
        #expect(range.last?.value == 15)
        #expect(AlarmEvaluator.evaluate(a, current: .ok, range: range, now: now).state == .alarm)
        let calm = try AlarmEvaluator.mathRange(a, data: ["e": [Self.t0: 1], "i": [Self.t0: 50]], now: now)
        #expect(AlarmEvaluator.evaluate(a, current: .alarm, range: calm, now: now).state == .ok)
    }

    @Test func bandAlarmsCompareWithTheBandAtEachPeriod() throws {
        let m = AlarmMetric(id: "m1", returnData: true, source: .metric(MetricSeries(namespace: "App", name: "Latency"), period: 60, statistic: .average, unit: nil))
        let ad = AlarmMetric(id: "ad1", returnData: true, source: .expression("ANOMALY_DETECTION_BAND(m1, 2)"))
        let a = alarm([m, ad], comparison: .greaterThanUpperThreshold, threshold: nil, band: "ad1")
        let history: [Int64: Double] = [Self.t0 - Self.day: 10, Self.t0 - 2 * Self.day: 12, Self.t0 - 3 * Self.day: 11]
        let now = Self.t0 + 60_000
        let high = try AlarmEvaluator.mathRange(a, data: ["m1": history.merging([Self.t0: 30]) { a, _ in a }], now: now)
        #expect(high.last?.band != nil)
        #expect(AlarmEvaluator.evaluate(a, current: .ok, range: high, now: now).state == .alarm)
        let normal = try AlarmEvaluator.mathRange(a, data: ["m1": history.merging([Self.t0: 11.5]) { a, _ in a }], now: now)
        #expect(AlarmEvaluator.evaluate(a, current: .alarm, range: normal, now: now).state == .ok)
        // Without history there is no band: the period counts as missing data.
        let young = try AlarmEvaluator.mathRange(a, data: ["m1": [Self.t0: 30]], now: now)
        #expect(young.allSatisfy { $0.value == nil })
        #expect(AlarmEvaluator.evaluate(a, current: .ok, range: young, now: now).state == .insufficientData)
    }
}
