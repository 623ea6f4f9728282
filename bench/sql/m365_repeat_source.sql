-- Entra ID brute force against Microsoft 365 from a repeat source
-- (credential_access_entra_signin_brute_force_microsoft_365_repeat_source.toml).
-- azure.signinlogs.properties.resource_display_name is not in the generated data (null).
WITH agg AS (
    SELECT count(DISTINCT "azure.signinlogs.properties.user_principal_name") AS target_count, "source.ip" AS ip
    FROM @FROM(logs-azure.signinlogs*)
    WHERE @WINDOW
      AND "event.dataset" = 'azure.signinlogs'
      AND "event.category" = 'authentication'
      AND regexp_full_match(lower(NULL::VARCHAR), '(.*)365(.*)')
      AND "azure.signinlogs.category" IN ('NonInteractiveUserSignInLogs', 'SignInLogs')
      AND "event.outcome" != 'success'
    GROUP BY "source.ip"
)
SELECT target_count, ip AS "source.ip" FROM agg WHERE target_count >= 10
LIMIT 10000
