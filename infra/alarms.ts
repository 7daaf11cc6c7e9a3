// CloudWatch alarms and the dashboard: thin wiring over ALARMS and dashboardBody
// (@strata/lambda/deploy). Alarms notify an SNS topic when STRATA_ALARM_EMAIL (a new topic,
// e-mail subscription to confirm) or STRATA_ALARM_TOPIC_ARN (an existing topic) is set.
import {
  ALARMS,
  type AlarmDef,
  type AlarmTarget,
  type DeployOnly,
  STRATA_NAMESPACE,
  alarmDescription,
  dashboardBody,
} from "@strata/lambda/deploy";

export interface Watched {
  jobs: sst.aws.Queue;
  dlq: sst.aws.Queue;
  /** The functions' names (CloudWatch's FunctionName dimension). */
  worker: $util.Output<string>;
  scheduled: $util.Output<string>;
}

function alarmTopic(settings: DeployOnly): $util.Input<string> | undefined {
  if (settings.alarmTopicArn !== undefined) return settings.alarmTopicArn;
  if (settings.alarmEmail === undefined) return undefined;
  const topic = new aws.sns.Topic("Alarms");
  new aws.sns.TopicSubscription("AlarmsEmail", { topic: topic.arn, protocol: "email", endpoint: settings.alarmEmail });
  return topic.arn;
}

export function createAlarms(w: Watched, settings: DeployOnly) {
  const names: Record<AlarmTarget, $util.Output<string>> = {
    jobs: w.jobs.nodes.queue.name,
    dlq: w.dlq.nodes.queue.name,
    worker: w.worker,
    scheduled: w.scheduled,
  };
  const dimension: Record<AlarmTarget, string> = {
    jobs: "QueueName",
    dlq: "QueueName",
    worker: "FunctionName",
    scheduled: "FunctionName",
  };
  const topic = alarmTopic(settings);
  const metric = (a: AlarmDef) => {
    const m = a.metric;
    if (m.kind === "insights") {
      return { metricQueries: [{ id: "q", expression: m.query, period: a.periodSeconds, returnData: true }] };
    }
    return {
      namespace: m.namespace,
      metricName: m.metricName,
      dimensions: { [dimension[m.of]]: names[m.of] },
      period: a.periodSeconds,
      ...(m.statistic === "p99" ? { extendedStatistic: "p99" } : { statistic: m.statistic }),
    };
  };
  for (const a of ALARMS) {
    new aws.cloudwatch.MetricAlarm(`Alarm-${a.id}`, {
      name: `${$app.name}-${$app.stage}-${a.id}`,
      alarmDescription: alarmDescription(a),
      comparisonOperator: a.comparison,
      threshold: a.threshold,
      evaluationPeriods: a.evaluationPeriods,
      treatMissingData: a.treatMissingData,
      ...metric(a),
      ...(topic !== undefined ? { alarmActions: [topic], okActions: [topic] } : {}),
    });
  }
  new aws.cloudwatch.Dashboard("Dashboard", {
    dashboardName: `${$app.name}-${$app.stage}`,
    dashboardBody: $resolve([aws.getRegionOutput().name, names.jobs, names.dlq, names.worker, names.scheduled]).apply(
      ([region, jobsQueue, dlq, worker, scheduled]) =>
        JSON.stringify(dashboardBody({ region, jobsQueue, dlq, worker, scheduled })),
    ),
  });
  return { namespace: STRATA_NAMESPACE };
}
