-- Entra ID OAuth Device Code / Visual Studio sign-ins from multiple addresses
-- (credential_access_entra_id_suspicious_signin.toml). app_id, resource_display_name and
-- authentication_protocol are not in the generated data: null, as ES|QL's unmapped_fields=nullify.
WITH docs AS (
    SELECT "azure.signinlogs.identity" AS identity, "source.ip" AS ip,
           "azure.signinlogs.properties.authentication_requirement" AS auth_req,
           "azure.signinlogs.properties.app_display_name" AS app_name,
           NULL::VARCHAR AS app_id, NULL::VARCHAR AS resource_name, NULL::VARCHAR AS auth_protocol
    FROM @FROM(logs-azure.signinlogs-*)
    WHERE @WINDOW
      AND "@timestamp" > @NOW - INTERVAL 1 HOUR
      AND "data_stream.dataset" = 'azure.signinlogs'
      AND "source.ip" IS NOT NULL
      AND "azure.signinlogs.identity" IS NOT NULL
      AND lower("event.outcome") = 'success'
), classified AS (
    SELECT *,
        CASE WHEN auth_protocol = 'deviceCode' AND auth_req != 'multiFactorAuthentication' THEN identity END AS dc,
        CASE WHEN app_id = 'aebc6443-996d-45c2-90f0-388ff96faa56' AND resource_name = 'Microsoft Graph' THEN identity END AS vs,
        CASE WHEN auth_protocol != 'deviceCode' AND app_id != 'aebc6443-996d-45c2-90f0-388ff96faa56' THEN identity END AS other
    FROM docs
), agg AS (
    SELECT
        count(*) AS event_count,
        count(DISTINCT dc) AS dc_cd,
        count(DISTINCT vs) AS vs_cd,
        count(DISTINCT other) AS other_cd,
        count(DISTINCT ip) AS ip_cd,
        vals(ip) AS ip_values,
        vals(app_name) AS app_values,
        vals(resource_name) AS resource_values,
        vals(auth_req) AS auth_req_values,
        identity
    FROM classified
    GROUP BY identity
)
SELECT * FROM agg
WHERE ip_cd >= 2 AND (dc_cd > 0 OR vs_cd > 0)
LIMIT 10000
