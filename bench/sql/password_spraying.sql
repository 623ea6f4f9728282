-- Potential Password Spraying Attack (credential_access_potential_password_spraying_attack.toml).
-- event.category is multi-valued in the SSH logs (authentication, session): compared as a single
-- value it is null, as in ES|QL; agent.id and user.id are not mapped (null).
WITH docs AS (
    SELECT date_trunc('minute', "@timestamp") - to_minutes(minute("@timestamp") % 5) AS tw,
           "source.ip" AS ip, "user.name" AS user_name, "process.name" AS process_name,
           "data_stream.dataset" AS ds, "data_stream.namespace" AS ns
    FROM @FROM(logs-system.auth-*)
    WHERE @WINDOW
      AND sv("event.category") = 'authentication'
      AND "event.action" IN ('ssh_login', 'user_login')
      AND "event.outcome" = 'failure'
      AND "source.ip" IS NOT NULL
), agg AS (
    SELECT count(*) AS event_count, count(DISTINCT user_name) AS user_cd, vals(user_name) AS user_values,
           vals(process_name) AS process_values, vals(ds) AS ds_values, vals(ns) AS ns_values, tw, ip
    FROM docs
    GROUP BY tw, ip
)
SELECT * FROM agg WHERE user_cd > 10 AND event_count >= 30
LIMIT 10000
