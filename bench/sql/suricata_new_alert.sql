-- Newly Observed High Severity Suricata Alert (newly_observed_suricata_alert.toml).
-- url.domain and url.path are not in the generated data (null).
WITH agg AS (
    SELECT count(*) AS alerts_count, min("@timestamp") AS first_seen,
           count(DISTINCT "source.ip") AS src_cd, count(DISTINCT "destination.ip") AS dst_cd,
           vals("source.ip") AS src_values, vals("destination.ip") AS dst_values,
           "rule.name" AS rule_name, "event.type" AS event_type
    FROM @FROM(logs-suricata.*)
    WHERE @WINDOW
      AND "event.module" = 'suricata' AND "event.kind" = 'signal' AND "event.severity" = 1
      AND "rule.name" IS NOT NULL AND NOT "rule.name" LIKE 'SURICATA STREAM%'
    GROUP BY "rule.name", "event.type"
)
SELECT rule_name AS "rule.name", event_type AS "event.type", alerts_count AS "Esql.alerts_count",
       first_seen AS "Esql.first_time_seen", src_cd AS "Esql.distinct_count_src_ip",
       dst_cd AS "Esql.distinct_count_dst_ip", date_sub('minute', first_seen, @NOW) AS "Esql.recent",
       src_values[1] AS "source.ip", dst_values[1] AS "destination.ip",
       NULL AS "url.domain", NULL AS "url.path"
FROM agg
WHERE date_sub('minute', first_seen, @NOW) <= 10 AND alerts_count <= 5 AND src_cd <= 2 AND dst_cd <= 2
LIMIT 10000
