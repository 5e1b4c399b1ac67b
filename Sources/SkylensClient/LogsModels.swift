/// Response shapes of the CloudWatch Logs API as the client reads them.
package enum LogsModels {
    package struct LogGroup: Decodable, Sendable {
        package var logGroupName: String
        package var creationTime: Int64?
        package var retentionInDays: Int?
        package var storedBytes: Int64?
        package var arn: String?
    }

    package struct DescribeLogGroups: Decodable, Sendable {
        package var logGroups: [LogGroup]
        package var nextToken: String?
    }

    package struct LogStream: Decodable, Sendable {
        package var logStreamName: String
        package var creationTime: Int64?
        package var firstEventTimestamp: Int64?
        package var lastEventTimestamp: Int64?
        package var lastIngestionTime: Int64?
        package var storedBytes: Int64?
    }

    package struct DescribeLogStreams: Decodable, Sendable {
        package var logStreams: [LogStream]
        package var nextToken: String?
    }

    package struct OutputEvent: Decodable, Sendable {
        package var timestamp: Int64
        package var message: String
        package var ingestionTime: Int64?
    }

    package struct GetLogEvents: Decodable, Sendable {
        package var events: [OutputEvent]
        package var nextForwardToken: String?
        package var nextBackwardToken: String?
    }

    /// An event of FilterLogEvents or of the live tail.
    package struct FilteredEvent: Decodable, Sendable {
        package var logGroupName: String?
        package var logStreamName: String
        package var timestamp: Int64
        package var message: String
        package var ingestionTime: Int64?
        package var eventId: String?
    }

    package struct FilterLogEvents: Decodable, Sendable {
        package var events: [FilteredEvent]
        package var nextToken: String?
    }

    package struct PutLogEvents: Decodable, Sendable {
        package struct Rejected: Decodable, Sendable {
            package var tooNewLogEventStartIndex: Int?
            package var tooOldLogEventEndIndex: Int?
            package var expiredLogEventEndIndex: Int?
        }
        package var nextSequenceToken: String?
        package var rejectedLogEventsInfo: Rejected?
    }

    package struct AWSErrorBody: Decodable, Sendable {
        package var __type: String?
        package var message: String?
        package var Message: String?
    }
}
