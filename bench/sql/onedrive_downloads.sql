-- M365 OneDrive Excessive File Downloads with OAuth Token (collection_onedrive_excessive_file_downloads.toml).
-- o365.audit.ApplicationId, session.id, file.*, token.id and the other o365.audit.* / source.*
-- fields it reads are not in the generated data (null).
WITH docs AS (
    SELECT *, date_trunc('minute', "@timestamp") - to_minutes(minute("@timestamp") % 3) AS tw,
           coalesce(NULL::VARCHAR, NULL::VARCHAR) AS session_id
    FROM @FROM(logs-o365.audit-*)
    WHERE @WINDOW
      AND "data_stream.dataset" = 'o365.audit'
      AND "event.provider" = 'OneDrive'
      AND "event.action" = 'FileDownloaded'
      AND "event.outcome" = 'success'
      AND ("user.id" IS NOT NULL AND NULL::VARCHAR IS NOT NULL)
      AND NULL::VARCHAR NOT IN ('08e18876-6177-487e-b8b5-cf950c1e598c', 'fb8d773d-7ef8-4ec0-a117-179f88add510',
                                'd3590ed6-52b3-4102-aeff-aad2292ab01c', '7ab7862c-4c57-491e-8a45-d52a7e023983')
), agg AS (
    SELECT
        NULL AS file_directory_values, NULL AS file_extension_values, NULL AS application_name_values,
        count(DISTINCT NULL::VARCHAR) AS file_name_count_distinct,
        round(list_sum(vals(NULL::BIGINT)) / 1048576.0, 2) AS total_file_size_mb,
        NULL AS site_values, NULL AS site_url_values, vals("user.domain") AS user_domain_values,
        NULL AS token_id_values, vals("event.code") AS event_code_values, vals("event.provider") AS provider_values,
        NULL AS auth_type_values, NULL AS managed_device_values, NULL AS platform_values,
        NULL AS user_agent_values, NULL AS asn_org_values, NULL AS country_values,
        count(*) AS event_count,
        tw, "user.id" AS user_id, session_id, "source.ip" AS ip, NULL::VARCHAR AS application_id
    FROM docs
    WHERE session_id IS NOT NULL
    GROUP BY tw, "user.id", session_id, "source.ip"
)
SELECT * FROM agg WHERE file_name_count_distinct >= 25
LIMIT 10000
