import SkylensCore

/// The JSON documents SNS posts to HTTP/S endpoints, in SNS's member order, and the alarm message CloudWatch
/// publishes to an alarm's topics.
package enum SNSMessages {
    /// A delivery's fields before signing: those the signature covers (see ``SNSSigning``) plus the URLs.
    package struct Fields: Sendable {
        package var type: String
        package var messageId: String
        package var topicArn: String
        package var subject: String?
        package var message: String
        package var timestamp: String
        package var token: String?
        package var subscribeURL: String?
        package var unsubscribeURL: String?

        package init(type: String, messageId: String, topicArn: String, subject: String? = nil, message: String, timestamp: String,
                     token: String? = nil, subscribeURL: String? = nil, unsubscribeURL: String? = nil) {
            self.type = type
            self.messageId = messageId
            self.topicArn = topicArn
            self.subject = subject
            self.message = message
            self.timestamp = timestamp
            self.token = token
            self.subscribeURL = subscribeURL
            self.unsubscribeURL = unsubscribeURL
        }

        /// The name-value pairs the signature covers.
        package var signed: [String: String] {
            var f = ["Type": type, "MessageId": messageId, "TopicArn": topicArn, "Message": message, "Timestamp": timestamp]
            if let subject { f["Subject"] = subject }
            if let token { f["Token"] = token }
            if let subscribeURL { f["SubscribeURL"] = subscribeURL }
            return f
        }
    }

    /// The body: `{"Type":…,"MessageId":…,…,"SignatureVersion":"2","Signature":…,"SigningCertURL":…}`.
    package static func body(_ f: Fields, signature: String, signingCertURL: String) -> String {
        var w = JSONWriter()
        w.beginObject()
        w.field("Type", f.type)
        w.field("MessageId", f.messageId)
        if let token = f.token { w.field("Token", token) }
        w.field("TopicArn", f.topicArn)
        if let subject = f.subject { w.field("Subject", subject) }
        w.field("Message", f.message)
        if let url = f.subscribeURL { w.field("SubscribeURL", url) }
        w.field("Timestamp", f.timestamp)
        w.field("SignatureVersion", "2")
        w.field("Signature", signature)
        w.field("SigningCertURL", signingCertURL)
        if let url = f.unsubscribeURL { w.field("UnsubscribeURL", url) }
        w.endObject()
        return String(decoding: w.bytes, as: UTF8.self)
    }

    /// The alarm message CloudWatch publishes on a state change (the JSON carried as the SNS Message).
    package static func alarmMessage(_ alarm: MetricAlarm, old: AlarmState, new: AlarmState, reason: String, changedAt: Int64,
                                     configurationUpdated: Int64, region: String, account: String) -> String {
        var w = JSONWriter()
        w.beginObject()
        w.field("AlarmName", alarm.name)
        w.key("AlarmDescription")
        if let d = alarm.description { w.string(d) } else { w.null() }
        w.field("AWSAccountId", account)
        w.field("AlarmConfigurationUpdatedTimestamp", AlarmFormat.timestamp(configurationUpdated))
        w.field("NewStateValue", new.rawValue)
        w.field("NewStateReason", reason)
        w.field("StateChangeTime", AlarmFormat.timestamp(changedAt))
        w.field("Region", regionName(region))
        w.field("AlarmArn", AlarmDocuments.arn(alarm.name, region: region, account: account))
        w.field("OldStateValue", old.rawValue)
        for (key, list) in [("OKActions", alarm.okActions), ("AlarmActions", alarm.alarmActions),
                            ("InsufficientDataActions", alarm.insufficientDataActions)] {
            w.key(key)
            w.beginArray()
            for a in list { w.string(a) }
            w.endArray()
        }
        w.key("Trigger")
        w.beginObject()
        if alarm.isMathAlarm {
            w.key("Metrics")
            AlarmDocuments.metrics(alarm, lowerCaseDimensions: true).writeJSON(&w)
        } else {
            w.field("MetricName", alarm.series.name)
            w.field("Namespace", alarm.series.namespace)
            w.field("StatisticType", alarm.isExtendedStatistic ? "ExtendedStatistic" : "Statistic")
            w.field("Statistic", alarm.isExtendedStatistic ? alarm.statistic.description : alarm.statistic.description.uppercased())
            w.key("Unit")
            if let unit = alarm.unit { w.string(unit.rawValue) } else { w.null() }
            w.key("Dimensions")
            AlarmDocuments.dimensions(alarm.series.dimensions, lowerCase: true).writeJSON(&w)
        }
        w.field("Period", alarm.period)
        w.field("EvaluationPeriods", alarm.evaluationPeriods)
        w.field("DatapointsToAlarm", alarm.datapointsToAlarm)
        w.field("ComparisonOperator", alarm.comparison.rawValue)
        if let id = alarm.thresholdMetricId {
            w.field("ThresholdMetricId", id)
        } else {
            w.key("Threshold")
            w.raw(AlarmFormat.javaDouble(alarm.threshold ?? 0))
        }
        w.field("TreatMissingData", alarm.treatMissingData.rawValue)
        w.field("EvaluateLowSampleCountPercentile", alarm.evaluateLowSampleCountPercentile?.rawValue ?? "")
        w.endObject()
        w.endObject()
        return String(decoding: w.bytes, as: UTF8.self)
    }

    /// `ALARM: "errors-high" in US East (N. Virginia)`.
    package static func alarmSubject(_ alarm: String, state: AlarmState, region: String) -> String {
        "\(state.rawValue): \"\(alarm)\" in \(regionName(region))"
    }

    /// The human-readable name CloudWatch writes for a region.
    package static func regionName(_ region: String) -> String {
        let names = [
            "us-east-1": "US East (N. Virginia)", "us-east-2": "US East (Ohio)", "us-west-1": "US West (N. California)",
            "us-west-2": "US West (Oregon)", "eu-west-1": "EU (Ireland)", "eu-west-2": "EU (London)", "eu-west-3": "EU (Paris)",
            "eu-central-1": "EU (Frankfurt)", "eu-north-1": "EU (Stockholm)", "ap-southeast-1": "Asia Pacific (Singapore)",
            "ap-southeast-2": "Asia Pacific (Sydney)", "ap-northeast-1": "Asia Pacific (Tokyo)", "ap-south-1": "Asia Pacific (Mumbai)",
            "ca-central-1": "Canada (Central)", "sa-east-1": "South America (Sao Paulo)",
        ]
        return names[region] ?? region
    }
}
