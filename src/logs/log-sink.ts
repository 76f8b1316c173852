/**
 * @module logs/log-sink
 * The port through which executors (and PutLogEvents) write output into the log store.
 * The store behind it speaks CloudWatch Logs' model: groups, streams, events with a timestamp
 * (when the line was produced) and an ingestion time (when the store got it).
 */
export interface LogEventInput {
  /** Epoch ms when the line was produced. */
  timestamp: number;
  message: string;
}

export interface LogSink {
  /**
   * Append events to a stream, creating the group and the stream if needed
   * (`createGroup: false` makes a missing group an error, as awslogs-create-group=false does).
   * Must be cheap and non-blocking for many small calls: implementations buffer and flush.
   */
  append(
    group: string,
    stream: string,
    events: readonly LogEventInput[],
    opts?: { createGroup?: boolean },
  ): void;
  /** Flush buffered events to durable storage. */
  flush(): Promise<void>;
}
