-- Newly Observed Palo Alto Network Alert (newly_observed_panos_alert.toml).
-- event.severity, rule.name and url.* are not in the generated firewall data (null); event.type
-- is multi-valued: a group key per value, as ES|QL's STATS … BY on a multi-valued field.
WITH docs AS (
    SELECT *, unnest(CASE WHEN len("event.type") > 0 THEN "event.type" ELSE [NULL] END) AS event_type
    FROM @FROM(logs-panw.panos-*, filebeat-*)
    WHERE @WINDOW
      AND "data_stream.dataset" = 'panw.panos'
      AND TRY_CAST(NULL::VARCHAR AS INTEGER) <= 3
      AND "event.action" != 'flood_detected'
      AND ("event.kind" IS NULL OR "event.kind" != 'metric')
), agg AS (
    SELECT count(*) AS alerts_count, min("@timestamp") AS first_seen,
           count(DISTINCT "source.ip") AS src_cd, count(DISTINCT "destination.ip") AS dst_cd,
           vals("source.ip") AS src_values, vals("destination.ip") AS dst_values,
           NULL::VARCHAR AS rule_name, "event.action" AS action, event_type, "event.kind" AS kind,
           NULL::VARCHAR AS severity
    FROM docs
    GROUP BY "event.action", event_type, "event.kind"
)
SELECT rule_name AS "rule.name", action AS "event.action", event_type AS "event.type", kind AS "event.kind",
       severity AS "event.severity", alerts_count AS "Esql.alerts_count", first_seen AS "Esql.first_time_seen",
       src_cd AS "Esql.distinct_count_src_ip", dst_cd AS "Esql.distinct_count_dst_ip",
       date_sub('minute', first_seen, @NOW) AS "Esql.recent",
       src_values[1] AS "source.ip", dst_values[1] AS "destination.ip", NULL AS "url.domain", NULL AS "url.path"
FROM agg
WHERE date_sub('minute', first_seen, @NOW) <= 10 AND alerts_count <= 5 AND src_cd <= 2 AND dst_cd <= 2
LIMIT 10000
