-- Sign-in to Microsoft 365 or Entra ID from an Address with Network Alerts
-- (rules/flagship/microsoft_365_or_entra_id_signin_from_alerted_source.toml), as DuckDB SQL.
WITH docs AS (
    SELECT "source.ip" AS ip, "data_stream.dataset" AS ds, "event.action" AS action,
           "event.outcome" AS outcome, "event.category" AS category,
           "kibana.alert.rule.rule_id" AS rule_id
    FROM @FROM(logs-o365.audit-*, logs-azure.signinlogs-*, .alerts-security.*)
    WHERE @WINDOW
      AND "source.ip" IS NOT NULL
      AND ("data_stream.dataset" IN ('azure.signinlogs', 'o365.audit')
           OR "kibana.alert.rule.rule_id" = 'eb079c62-4481-4d6e-9643-3ca499df7aaa')
      AND NOT @CIDR("source.ip",
          "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
          "192.0.2.0/24", "192.31.196.0/24", "192.52.193.0/24", "192.88.99.0/24", "192.168.0.0/16",
          "192.175.48.0/24", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
          "::1", "FE80::/10", "FF00::/8")
), classified AS (
    SELECT *,
        CASE WHEN ds = 'azure.signinlogs' AND outcome = 'success' THEN ip END AS signin_ip,
        CASE WHEN ds = 'o365.audit' AND action = 'MailItemsAccessed' AND outcome = 'success' THEN ip END AS mail_ip,
        CASE WHEN rule_id = 'eb079c62-4481-4d6e-9643-3ca499df7aaa'
                  AND NOT ds IN ('azure.signinlogs', 'o365.audit') THEN ip END AS alert_ip
    FROM docs
)
SELECT
    count(*) AS "Esql.event_count",
    count(DISTINCT signin_ip) AS "Esql.signin_count_distinct",
    count(DISTINCT mail_ip) AS "Esql.mail_access_count_distinct",
    count(DISTINCT alert_ip) AS "Esql.network_alert_count_distinct",
    count(DISTINCT ds) AS "Esql.data_stream_dataset_count_distinct",
    vals(ds) AS "Esql.data_stream_dataset_values",
    mvals(category) AS "Esql.event_category_values",
    ip AS "Esql.source_ip"
FROM classified
GROUP BY ip
HAVING count(DISTINCT alert_ip) > 0
   AND count(DISTINCT ds) >= 2
   AND (count(DISTINCT signin_ip) > 0 OR count(DISTINCT mail_ip) > 0)
   AND count(*) <= 100
LIMIT 10000
