-- Multiple Microsoft 365 User Account Lockouts in Short Time Window
-- (credential_access_identity_user_account_lockouts.toml). MV_EXPAND event.category: single-valued
-- in the generated M365 index. ExtendedProperties.RequestType, LogonError, Target.Type and the
-- source.as / source.geo fields are not in the generated data (null).
WITH docs AS (
    SELECT date_trunc('minute', "@timestamp") - to_minutes(minute("@timestamp") % 5) AS tw,
           "@timestamp" AS ts, lower("o365.audit.UserId") AS user_id, "source.ip" AS ip,
           NULL::VARCHAR AS request_type, NULL::VARCHAR AS as_org, NULL::VARCHAR AS country
    FROM @FROM(logs-o365.audit-*)
    WHERE @WINDOW
      AND "data_stream.dataset" = 'o365.audit'
      AND "event.category" = 'authentication'
      AND "event.provider" IN ('AzureActiveDirectory', 'Exchange')
      AND "event.action" IN ('UserLoginFailed', 'PasswordLogonInitialAuthUsingPassword')
      AND regexp_full_match(lower(NULL::VARCHAR), '(oauth.*||.*login.*)')
      AND NULL::VARCHAR = 'IdsLocked'
      AND lower("o365.audit.UserId") != 'not available'
      AND NULL::VARCHAR IN ('0', '2', '6', '10')
      AND NULL::VARCHAR != 'MICROSOFT-CORP-MSN-as-BLOCK'
), agg AS (
    SELECT count(DISTINCT user_id) AS user_cd, vals(user_id) AS user_values,
           vals(ip) AS ip_values, count(DISTINCT ip) AS ip_cd,
           vals(as_org) AS as_values, count(DISTINCT as_org) AS as_cd,
           vals(country) AS country_values, count(DISTINCT country) AS country_cd,
           vals(request_type) AS request_type_values,
           min(ts) AS first_seen, max(ts) AS last_seen, count(*) AS event_count, tw
    FROM docs
    GROUP BY tw
)
SELECT tw, user_cd, user_values, ip_values, ip_cd, as_values, as_cd, country_values, country_cd,
       request_type_values, first_seen, last_seen, event_count,
       date_sub('second', first_seen, last_seen) AS duration_seconds
FROM agg
WHERE user_cd >= 10 AND event_count >= 10 AND date_sub('second', first_seen, last_seen) <= 300
LIMIT 10000
