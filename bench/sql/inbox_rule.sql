-- M365 Exchange Inbox Rule with Obfuscated Name (defense_evasion_exchange_inbox_rule_obfuscated_name.toml).
-- o365.audit.ObjectId and the other o365.audit.* / source.as.* fields it keeps are not in the
-- generated data (null). GROK `.*\\(?<name>.*)$` is a full-match regex with one capture.
WITH docs AS (
    SELECT *, regexp_extract(NULL::VARCHAR, '^.*\\(.*)$', 1) AS inbox_rule_name
    FROM @FROM(logs-o365.audit-*)
    WHERE @WINDOW
      AND "data_stream.dataset" = 'o365.audit'
      AND "event.provider" = 'Exchange'
      AND "event.action" IN ('New-InboxRule', 'Set-InboxRule')
      AND "event.outcome" = 'success'
      AND NULL::VARCHAR IS NOT NULL
)
SELECT "@timestamp", "_id", 1 AS "_version", "_index", nullif(inbox_rule_name, '') AS "Esql.inbox_rule_name",
       NULL AS "o365.audit.ObjectId", "o365.audit.UserId", NULL AS "o365.audit.ApplicationId",
       "user.name", "user.domain", "event.action", "source.ip", NULL AS "source.as.number",
       NULL AS "source.as.organization.name", NULL AS "o365.audit.Parameters.ForwardTo",
       NULL AS "o365.audit.Parameters.ForwardAsAttachmentTo", NULL AS "o365.audit.Parameters.RedirectTo"
FROM docs
WHERE regexp_full_match(nullif(inbox_rule_name, ''), '[!@#$%^&*()_+={[\]|\\:;"''<,>.?/~` \-]+')
LIMIT 10000
