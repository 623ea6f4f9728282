-- Splunk Postgres backup/restore RCE sequence (initial_access_splunk_postgres_backup_restore_rce_sequence.toml).
-- http.request.method, url.path and http.response.status_code are not in the generated IDS data (null).
WITH docs AS (
    SELECT "@timestamp" AS ts, "source.ip" AS sip, "destination.ip" AS dip,
           NULL::VARCHAR AS url_path, NULL::BIGINT AS status
    FROM @FROM(logs-network_traffic.http*, logs-zeek.http*, logs-suricata.eve*)
    WHERE @WINDOW
      AND NULL::VARCHAR = 'POST'
      AND (NULL::VARCHAR LIKE '%splunkd/\_\_raw/v1/postgres/recovery/%' ESCAPE '\'
           OR NULL::VARCHAR LIKE '/v1/postgres/recovery/%')
), agg AS (
    SELECT sum(CASE WHEN url_path LIKE '%/backup' THEN 1 ELSE 0 END) AS backup_count,
           sum(CASE WHEN url_path LIKE '%/restore' THEN 1 ELSE 0 END) AS restore_count,
           min(ts) AS first_seen, max(ts) AS last_seen, vals(status) AS statuses, sip, dip
    FROM docs
    GROUP BY sip, dip
)
SELECT sip AS "source.ip", dip AS "destination.ip", backup_count, restore_count, first_seen, last_seen, statuses,
       date_sub('minute', first_seen, last_seen) AS duration_minutes
FROM agg
WHERE backup_count >= 1 AND restore_count >= 1 AND date_sub('minute', first_seen, last_seen) <= 15
LIMIT 10000
