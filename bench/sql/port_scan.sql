-- Potential Port Scan Detected (discovery_potential_port_scan_detected.toml).
-- MV_EXPAND event.action: single-valued in the generated firewall index, so one row per document.
WITH flows AS (
    SELECT "source.ip" AS sip, "destination.ip" AS dip, "destination.port" AS dport,
           date_trunc('minute', "@timestamp") AS tw,
           "destination.port" IN (21, 22, 23, 53, 88, 139, 389, 445, 3389, 5900, 5985, 5986, 9389) AS sensitive
    FROM @FROM(logs-network_traffic.*, packetbeat-*, logs-panw.panos*)
    WHERE @WINDOW
      AND "event.action" IN ('network_flow', 'flow_started')
      AND "destination.port" IS NOT NULL AND "source.ip" IS NOT NULL AND "destination.ip" IS NOT NULL
      AND @CIDR("source.ip", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
), agg AS (
    SELECT
        count(DISTINCT dport) AS cd_ports,
        count(DISTINCT dport) FILTER (WHERE sensitive) AS cd_sensitive,
        vals(dport) AS v_ports,
        list_distinct(list(dport) FILTER (WHERE sensitive)) AS v_sensitive,
        tw, dip, sip
    FROM flows
    GROUP BY tw, dip, sip
)
SELECT sip AS "source.ip", dip AS "destination.ip",
    cd_ports AS "Esql.count_distinct_destination_ports",
    cd_sensitive AS "Esql.count_distinct_sensitive_ports",
    v_ports AS "Esql.values_destination_ports",
    v_sensitive AS "Esql.values_sensitive_ports",
    tw AS "Esql.time_window"
FROM agg
WHERE cd_ports >= 50 OR cd_sensitive >= 5
LIMIT 10000
