import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import SkylensCore
import SkylensRules
import SkylensStorage
import UnixSignals

/// The composition root: builds every part of the collector from a configuration. Production (`skylens serve`) and
/// the integration tests both go through ``build(configuration:wallClock:logger:)``.
package struct Collector: Sendable {
    package let configuration: CollectorConfiguration
    package let store: SQLiteLogStore
    package let metrics: SQLiteMetricStore
    package let liveTail: LiveTail
    package let writer: GroupCommitWriter
    /// The port the HTTP server bound, once it is running (useful with port 0).
    package let boundPort: LockedState<Int?>
    /// The X-Ray daemon port (UDP and TCP), resolved when configured as 0.
    package let xrayPort: Int
    /// Whether the daemon port's TCP side is listening (it binds when the service group runs).
    package let xrayListening: LockedState<Bool>
    package let traces: SQLiteTraceStore
    package let services: [any Service]
    let logger: Logger

    package static func build(configuration: CollectorConfiguration, wallClock: any WallClock = SystemWallClock(),
                              logger: Logger) throws -> Collector {
        // Rules first: a collector with invalid rules does not start (every problem is reported at once).
        let rules = try RulesLoader.load(directory: configuration.rulesDirectory, region: configuration.region,
                                         account: configuration.accountID).get()
        let database = try SkylensDatabase(directory: configuration.dataDirectory)
        let store = SQLiteLogStore(database: database, compressionLevel: configuration.compressionLevel,
                                   sealBytes: configuration.sealBytes)
        let liveTail = LiveTail()
        let writer = GroupCommitWriter(store: store, liveTail: liveTail, logger: logger)
        let metrics = SQLiteMetricStore(database: database)
        let metricWriter = MetricWriter(store: metrics, logger: logger)
        let boundPort = LockedState<Int?>(nil)
        let alarmStore = SQLiteAlarmStore(database: database)
        let notifier = Notifier(
            store: SQLiteNotificationStore(database: database), signer: SNSSigner(directory: configuration.dataDirectory),
            alarms: alarmStore, wallClock: wallClock, region: configuration.region, account: configuration.accountID,
            // The configured port is known before the server binds (deliveries signed at start-up need it); port 0
            // (tests) is known once bound.
            baseURL: { [host = configuration.host, port = configuration.port] in
                "http://\(host):\(port != 0 ? port : boundPort.withLock { $0 } ?? 0)"
            }, logger: logger)
        let alarmEngine = AlarmEngine(alarms: alarmStore, metrics: metrics, logger: logger) { transitions in
            await notifier.alarmTransitions(transitions)
        }
        let alarms = AlarmService(store: alarmStore, engine: alarmEngine)
        let deliveries = DeliveryService(store: notifier.store, clock: ContinuousClock(), wallClock: wallClock,
                                         interval: configuration.deliveryInterval, timeout: .milliseconds(configuration.deliveryTimeout.milliseconds),
                                         logger: logger)
        let committingMetrics = CommittingMetricStore(store: metrics, writer: metricWriter) { datums in
            await alarmEngine.metricsChanged(datums)
        }
        let traces = SQLiteTraceStore(database: database)
        let traceWriter = TraceWriter(store: traces, wallClock: wallClock, logger: logger)
        // The daemon's UDP socket is bound here, so its port (when configured as 0) is the TCP side's port too.
        let daemon = try XRayDaemon.bind(host: configuration.host, port: configuration.xrayPort,
                                         holdLimit: configuration.xrayHoldLimit, writer: traceWriter, wallClock: wallClock,
                                         logger: logger)
        let xray = XRayAPI(store: traces, writer: traceWriter,
                           sampling: SamplingService(rules: rules.samplingRules, loadedAt: Double(wallClock.nowMillis() / 1000)),
                           wallClock: wallClock, region: configuration.region, account: configuration.accountID,
                           rootsStored: { daemon.rootsStored($0) })
        let logs = LogsAPI(store: store, writer: writer, metricFilters: MetricFilterRegistry(store: store, rules: rules.metricFilters),
                           metrics: committingMetrics, traces: traces,
                           wallClock: wallClock, region: configuration.region, accountID: configuration.accountID, logger: logger)
        let cloudWatch = CloudWatchAPI(store: committingMetrics, wallClock: wallClock, alarms: alarms, region: configuration.region,
                                       account: configuration.accountID)
        let alarmScheduler = AlarmScheduler(engine: alarmEngine, clock: ContinuousClock(), wallClock: wallClock,
                                            interval: configuration.alarmInterval)
        let router = AWSRouter.build(logs: logs, cloudWatch: cloudWatch, sns: SNSAPI(notifier: notifier), xray: xray,
                                     traceLogs: TraceLogs(logs: store, traces: traces), daemon: daemon,
                                     liveTail: LiveTailEndpoint(store: store, liveTail: liveTail), startedAt: wallClock.nowMillis(),
                                     logger: logger)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "Skylens"),
            onServerRunning: { channel in
                boundPort.withLock { $0 = channel.localAddress?.port }
            },
            logger: logger
        )
        // The daemon port's TCP side: the same routes (the SDKs' sampling polls, and any X-Ray API call).
        let xrayListening = LockedState(false)
        let xrayApp = Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: daemon.port), serverName: "Skylens X-Ray daemon"),
            onServerRunning: { _ in xrayListening.withLock { $0 = true } },
            logger: logger
        )
        let maintenance = LogMaintenanceService(
            store: store, metrics: metrics, traces: traces, traceRetention: configuration.traceRetention, clock: ContinuousClock(), wallClock: wallClock, interval: configuration.maintenanceInterval,
            sealAge: configuration.sealAge, retentionInterval: configuration.retentionInterval, logger: logger)
        // ServiceGroup stops services in reverse order: live tails end first (so their open responses complete), then
        // the HTTP servers and the X-Ray daemon (no new requests; datagrams already received are written), then the
        // trace writer, the alarm scheduler, the delivery service (what it has not sent stays in the outbox) and
        // maintenance, then the log writer and the metric writer, which commit whatever is still pending (the log
        // writer before the metric writer, whose datums it may produce).
        return Collector(configuration: configuration, store: store, metrics: metrics, liveTail: liveTail, writer: writer,
                         boundPort: boundPort, xrayPort: daemon.port, xrayListening: xrayListening, traces: traces,
                         services: [metricWriter, writer, maintenance, deliveries, alarmScheduler, traceWriter,
                                    RulesService(store: store, rules: rules, notifier: notifier, alarms: alarms, wallClock: wallClock, logger: logger),
                                    daemon, xrayApp, app, LiveTailCloser(liveTail: liveTail)],
                         logger: logger)
    }

    /// The service group that runs the collector; `triggerGracefulShutdown()` on it stops it as SIGTERM would.
    package func makeServiceGroup(signals: [UnixSignal] = [.sigterm, .sigint]) -> ServiceGroup {
        ServiceGroup(configuration: .init(
            services: services.map { .init(service: $0) }, gracefulShutdownSignals: signals, logger: logger))
    }

    /// Runs until SIGINT/SIGTERM (or until the surrounding task is cancelled), then shuts down gracefully.
    package func run() async throws {
        try await makeServiceGroup().run()
    }
}

/// Applies what `rules/` declares when the collector starts: creates the log groups (with their retention), the
/// topics and their subscriptions (a new subscription is confirmed by its endpoint, as with Subscribe), and puts the
/// alarms (an alarm whose configuration did not change keeps its state and history untouched).
struct RulesService: Service {
    let store: any LogStore
    let rules: RuleSet
    let notifier: Notifier
    let alarms: AlarmService
    let wallClock: any WallClock
    let logger: Logger

    func run() async throws {
        for group in rules.logGroups {
            do {
                try await store.createLogGroup(group.name, tags: [:], now: wallClock.nowMillis())
            } catch let error as LogsError where error.code == .resourceAlreadyExists {
                // Already there: keep its data, apply the declared retention.
            }
            try await store.putRetentionPolicy(group: group.name, days: group.retentionInDays)
        }
        for topic in rules.topics {
            _ = try await notifier.store.createTopic(Topic(arn: notifier.topicArn(topic.name), name: topic.name, displayName: topic.displayName))
        }
        for s in rules.subscriptions {
            guard let topic = try await notifier.store.topic(arn: s.topicArn) else {
                logger.error("rule subscription names an unknown topic", metadata: ["topic": "\(s.topicArn)"])
                continue
            }
            let existing = try await notifier.store.subscriptions(topicArn: topic.arn)
            guard !existing.contains(where: { $0.protocolName == s.protocolName && $0.endpoint == s.endpoint }) else { continue }
            _ = try await notifier.subscribe(topic: topic, protocolName: s.protocolName, endpoint: s.endpoint,
                                             rawMessageDelivery: s.rawMessageDelivery, deliveryPolicy: s.deliveryPolicy)
        }
        let stored = Dictionary(try await alarms.store.alarms(names: rules.alarms.map(\.name), prefix: nil, state: nil).map { ($0.alarm.name, $0) },
                                uniquingKeysWith: { a, _ in a })
        for alarm in rules.alarms where stored[alarm.name]?.alarm != alarm {
            let now = wallClock.nowMillis()
            try await alarms.engine.evaluate(try await alarms.store.put(alarm, now: now), now: now)
        }
        let total = rules.logGroups.count + rules.topics.count + rules.subscriptions.count + rules.alarms.count
        if total > 0 {
            logger.info("rules applied", metadata: ["logGroups": "\(rules.logGroups.count)", "topics": "\(rules.topics.count)",
                                                    "subscriptions": "\(rules.subscriptions.count)", "alarms": "\(rules.alarms.count)"])
        }
        try? await gracefulShutdown()
    }
}

/// Ends live-tail streams when the collector shuts down, so open `--follow` responses complete.
struct LiveTailCloser: Service {
    let liveTail: LiveTail

    func run() async throws {
        try? await gracefulShutdown()
        liveTail.finishAll()
    }
}
