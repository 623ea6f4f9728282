"""Elastic's official Python client against a real `saker serve` (started by run.sh).

SAKER_URL names the server, SAKER_USER and SAKER_PASSWORD a superuser of its users file;
SAKER_SHARED_DATA the shared/data folder whose integration samples are bulk-indexed, each into the
data stream its `data_stream.*` fields name.
"""

import csv
import io
import json
import os
import warnings
from pathlib import Path

import pytest
from elasticsearch import (
    AuthenticationException,
    BadRequestError,
    ConflictError,
    Elasticsearch,
    ElasticsearchWarning,
    NotFoundError,
    helpers,
)

# The samples of ecs::samples (crates/ecs/src/samples.rs): dataset -> files under shared/data.
SAMPLES = {
    "azure.signinlogs": [
        "azure-signinlogs/test-signinlogs-raw.log-expected.json",
        "azure-signinlogs/test-non-interactive-user-signin.log-expected.json",
    ],
    "o365.audit": [
        "o365-audit/test-azuread-sts-logon-events.json-expected.EXCERPT-first-doc.json",
        "o365-audit/test-exchange-access-event.json-expected.EXCERPT-first-doc.json",
    ],
    "suricata.eve": [
        "suricata-eve/test-eve-alerts.log-expected.EXCERPT-first-doc.json",
        "suricata-eve/sample_event.json",
    ],
    "panw.panos": ["panw-panos/test-panw-panos-threat-url-no-xff-sample.log-expected.json"],
}


def sample_actions():
    """Bulk actions for every sample document, with the fields Fleet would add."""
    data = Path(os.environ["SAKER_SHARED_DATA"])
    for dataset, files in SAMPLES.items():
        for name in files:
            parsed = json.loads((data / name).read_text())
            docs = parsed["expected"] if "expected" in parsed else [parsed]
            for doc in docs:
                stream = doc.setdefault("data_stream", {})
                stream.setdefault("type", "logs")
                stream.setdefault("dataset", dataset)
                stream.setdefault("namespace", "default")
                event = doc.setdefault("event", {})
                event.setdefault("dataset", stream["dataset"])
                event.setdefault("module", stream["dataset"].split(".")[0])
                index = f"logs-{stream['dataset']}-{stream['namespace']}"
                yield {"_op_type": "create", "_index": index, "_source": doc}


@pytest.fixture(scope="module")
def client():
    es = Elasticsearch(
        os.environ["SAKER_URL"],
        basic_auth=(os.environ["SAKER_USER"], os.environ["SAKER_PASSWORD"]),
        request_timeout=60,
    )
    yield es
    es.close()


@pytest.fixture(scope="module")
def samples(client):
    actions = list(sample_actions())
    success, errors = helpers.bulk(client, actions)
    assert errors == []
    return success


def test_info_and_ping(client):
    info = client.info()
    assert info["version"]["number"].startswith("9.")
    assert info["tagline"] == "You Know, for Search"
    assert client.ping()
    assert client.cluster.health()["status"] == "green"


def test_bulk_of_the_samples(client, samples):
    assert samples >= 8
    response = client.esql.query(query="FROM logs-* | STATS c = COUNT(*)")
    assert response["values"] == [[samples]]


def test_esql_json(client, samples):
    response = client.esql.query(
        query="FROM logs-* | STATS c = COUNT(*) BY data_stream.dataset | SORT data_stream.dataset"
    )
    assert response["columns"] == [
        {"name": "c", "type": "long"},
        {"name": "data_stream.dataset", "type": "keyword"},
    ]
    datasets = [row[1] for row in response["values"]]
    assert datasets == sorted(SAMPLES)
    assert sum(row[0] for row in response["values"]) == samples


def test_esql_csv(client, samples):
    response = client.esql.query(
        query="FROM logs-azure.signinlogs-* | STATS c = COUNT(*) BY event.outcome | SORT event.outcome",
        format="csv",
    )
    rows = list(csv.reader(io.StringIO(response.body)))
    assert rows[0] == ["c", "event.outcome"]
    assert rows[1:] == [["2", "failure"], ["1", "success"]]


def test_esql_params_and_columnar(client, samples):
    response = client.esql.query(
        query="FROM logs-* | WHERE data_stream.dataset == ?ds | STATS c = COUNT(*)",
        params=[{"ds": "o365.audit"}],
    )
    assert response["values"] == [[2]]
    response = client.esql.query(query="ROW a = ?, b = ?", params=[1, "x"], columnar=True)
    assert response["values"] == [[1], ["x"]]


def test_bad_query_is_a_parsing_exception(client):
    with pytest.raises(BadRequestError) as raised:
        client.esql.query(query="FROM logs-* | KEP x")
    assert raised.value.error == "parsing_exception"
    assert raised.value.body["error"]["reason"].startswith("line 1:15: ")


def test_unknown_column_is_a_verification_exception(client, samples):
    with pytest.raises(BadRequestError) as raised:
        client.esql.query(query="FROM logs-*\n| KEEP no_such_field")
    assert raised.value.error == "verification_exception"
    assert raised.value.body["error"]["reason"] == "Found 1 problem\nline 2:8: Unknown column [no_such_field]"


def test_warnings_are_raised_as_elasticsearch_warnings(client):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        response = client.esql.query(query='ROW a = TO_INTEGER("x")')
    assert response["values"] == [[None]]
    messages = [str(w.message) for w in caught if issubclass(w.category, ElasticsearchWarning)]
    assert any("evaluation of [TO_INTEGER(" in m for m in messages), messages


def test_async_query(client, samples):
    submitted = client.esql.async_query(query="FROM logs-* | STATS c = COUNT(*)", keep_on_completion=True)
    assert submitted["is_running"] is False
    query_id = submitted["id"]
    fetched = client.esql.async_query_get(id=query_id, wait_for_completion_timeout="5s")
    assert fetched["values"] == [[samples]]
    client.esql.async_query_delete(id=query_id)
    with pytest.raises(NotFoundError):
        client.esql.async_query_get(id=query_id)


def test_index_and_mapping_apis(client):
    created = client.index(index="notes", id="n1", document={"title": "first", "count": 1})
    assert created["result"] == "created"
    client.index(index="notes", document={"title": "second", "count": 2})
    with pytest.raises(ConflictError):
        client.create(index="notes", id="n1", document={"title": "again"})
    client.indices.refresh(index="notes")
    mapping = client.indices.get_mapping(index="notes")
    assert mapping["notes"]["mappings"]["properties"]["count"] == {"type": "long"}
    assert client.indices.exists(index="notes")
    assert not client.indices.exists(index="no-such-index")
    cat = client.cat.indices(index="notes", format="json")
    assert cat[0]["index"] == "notes" and cat[0]["docs.count"] == "2"
    response = client.esql.query(query="FROM notes | SORT count | KEEP title")
    assert response["values"] == [["first"], ["second"]]
    with pytest.raises(NotFoundError) as raised:
        client.indices.get_mapping(index="no-such-index")
    assert raised.value.error == "index_not_found_exception"


def test_credentials_are_required():
    anonymous = Elasticsearch(os.environ["SAKER_URL"])
    with pytest.raises(AuthenticationException) as raised:
        anonymous.info()
    assert raised.value.error == "security_exception"
    assert raised.value.body["error"]["reason"] == "missing authentication credentials for REST request [/]"
    wrong = Elasticsearch(os.environ["SAKER_URL"], basic_auth=(os.environ["SAKER_USER"], "wrong"))
    with pytest.raises(AuthenticationException) as raised:
        wrong.info()
    assert raised.value.body["error"]["reason"] == (
        f"unable to authenticate user [{os.environ['SAKER_USER']}] for REST request [/]"
    )
    anonymous.close()
    wrong.close()


def test_api_key(client, samples):
    assert client.security.authenticate()["authentication_type"] == "realm"
    created = client.security.create_api_key(name="python-client", expiration="1d")
    assert set(created.body) == {"id", "name", "api_key", "encoded", "expiration"}
    assert created["name"] == "python-client"

    keyed = Elasticsearch(os.environ["SAKER_URL"], api_key=created["encoded"], request_timeout=60)
    who = keyed.security.authenticate()
    assert who["authentication_type"] == "api_key"
    assert who["api_key"] == {"id": created["id"], "name": "python-client"}
    assert who["username"] == os.environ["SAKER_USER"]
    response = keyed.esql.query(query="FROM logs-* | STATS c = COUNT(*)")
    assert response["values"] == [[samples]]
    # the (id, key) form of the client's api_key works too
    pair = Elasticsearch(os.environ["SAKER_URL"], api_key=(created["id"], created["api_key"]))
    assert pair.info()["tagline"] == "You Know, for Search"

    listed = client.security.get_api_key(name="python-client")["api_keys"]
    assert [k["id"] for k in listed] == [created["id"]]
    assert listed[0]["invalidated"] is False and listed[0]["expiration"] == created["expiration"]

    invalidated = client.security.invalidate_api_key(ids=[created["id"]])
    assert invalidated.body == {
        "invalidated_api_keys": [created["id"]],
        "previously_invalidated_api_keys": [],
        "error_count": 0,
    }
    with pytest.raises(AuthenticationException) as raised:
        keyed.info()
    assert raised.value.body["error"]["additional_unsuccessful_credentials"] == (
        f"API key: api key [{created['id']}] has been invalidated"
    )
    keyed.close()
    pair.close()


def test_index_templates(client):
    client.indices.put_index_template(
        name="pyapp",
        index_patterns=["pyapp-*"],
        priority=500,
        data_stream={},
        template={
            "mappings": {"properties": {"status": {"type": "keyword"}}},
            "lifecycle": {"data_retention": "14d"},
        },
        meta={"owner": "python"},
    )
    assert client.indices.exists_index_template(name="pyapp")
    got = client.indices.get_index_template(name="pyapp")["index_templates"]
    assert [t["name"] for t in got] == ["pyapp"]
    template = got[0]["index_template"]
    assert template["index_patterns"] == ["pyapp-*"]
    assert template["priority"] == 500
    assert template["data_stream"] == {"hidden": False, "allow_custom_routing": False}
    assert template["template"]["mappings"] == {"properties": {"status": {"type": "keyword"}}}
    assert template["template"]["lifecycle"] == {"enabled": True, "data_retention": "14d"}
    assert template["_meta"] == {"owner": "python"}
    listed = client.indices.get_index_template()["index_templates"]
    assert "pyapp" in [t["name"] for t in listed]

    with pytest.raises(NotFoundError) as raised:
        client.indices.get_index_template(name="no-such-template")
    assert raised.value.error == "resource_not_found_exception"
    with pytest.raises(BadRequestError) as raised:
        client.indices.put_index_template(name="clash", index_patterns=["*-web"], priority=500)
    assert raised.value.error == "illegal_argument_exception"
    assert "that have the same priority [500]" in raised.value.body["error"]["reason"]

    # the first document creates a data stream with the template's mapping and lifecycle
    client.index(index="pyapp-web", document={"@timestamp": "2024-05-01T00:00:00Z", "status": 200}, op_type="create")
    mapping = client.indices.get_mapping(index="pyapp-web")
    assert mapping["pyapp-web"]["mappings"]["properties"]["status"] == {"type": "keyword"}
    lifecycle = client.indices.get_data_lifecycle(name="pyapp-web")["data_streams"][0]["lifecycle"]
    assert lifecycle["data_retention"] == "14d"
    client.indices.put_data_lifecycle(name="pyapp-web", data_retention="3d")
    lifecycle = client.indices.get_data_lifecycle(name="pyapp-web")["data_streams"][0]["lifecycle"]
    assert lifecycle["data_retention"] == "3d"
    response = client.esql.query(query="FROM pyapp-web | KEEP status")
    assert response["columns"] == [{"name": "status", "type": "keyword"}]
    assert response["values"] == [["200"]]

    # the template a data stream needs cannot go; once the data stream is deleted it can
    with pytest.raises(BadRequestError) as raised:
        client.indices.delete_index_template(name="pyapp")
    assert "in use by a data streams [pyapp-web]" in raised.value.body["error"]["reason"]
    client.indices.delete_data_stream(name="pyapp-web")
    client.indices.delete_index_template(name="pyapp")
    assert not client.indices.exists_index_template(name="pyapp")
    with pytest.raises(NotFoundError) as raised:
        client.indices.delete_index_template(name="pyapp")
    assert raised.value.error == "index_template_missing_exception"


def test_delete_index(client):
    client.index(index="py-notes", id="1", document={"title": "one"})
    assert client.indices.exists(index="py-notes")
    with pytest.raises(BadRequestError) as raised:
        client.indices.delete(index="py-*")
    assert raised.value.body["error"]["reason"] == (
        "Wildcard expressions or all indices are not allowed; expression [py-*]"
    )
    assert client.indices.delete(index="py-notes")["acknowledged"] is True
    assert not client.indices.exists(index="py-notes")
    with pytest.raises(NotFoundError) as raised:
        client.indices.delete(index="py-notes")
    assert raised.value.error == "index_not_found_exception"
    assert client.indices.delete(index="py-notes", ignore_unavailable=True)["acknowledged"] is True
    # the name is free again, and the new index starts empty
    client.index(index="py-notes", id="1", document={"title": "two"}, op_type="create")
    response = client.esql.query(query="FROM py-notes | KEEP title")
    assert response["values"] == [["two"]]
    client.indices.delete(index="py-notes")


def test_field_caps(client, samples):
    client.index(index="py-caps", document={"source": {"ip": "10.1.2.3"}, "count": 3, "note": "x"})
    caps = client.field_caps(index="py-caps", fields="*")
    assert caps["indices"] == ["py-caps"]
    fields = caps["fields"]
    assert fields["count"] == {
        "long": {"type": "long", "metadata_field": False, "searchable": True, "aggregatable": True}
    }
    assert fields["source.ip"]["ip"]["aggregatable"] is True
    assert fields["source"] == {
        "object": {"type": "object", "metadata_field": False, "searchable": False, "aggregatable": False}
    }
    assert fields["_id"]["_id"]["metadata_field"] is True
    # across the samples' data streams: the constant keyword fields report as keyword
    caps = client.field_caps(index="logs-*", fields="data_stream.dataset,source.ip")
    assert caps["indices"] == sorted(caps["indices"]) and len(caps["indices"]) == 5
    assert list(caps["fields"]["data_stream.dataset"]) == ["keyword"]
    with pytest.raises(BadRequestError) as raised:
        client.perform_request("GET", "/_field_caps", headers={"accept": "application/json"})
    assert raised.value.error == "action_request_validation_exception"
    client.indices.delete(index="py-caps")


# ---- Kibana's detection engine API (plain HTTP: the Elasticsearch client has no Kibana API) ----

FLAGSHIP = Path(__file__).resolve().parents[4] / "rules" / "flagship"
EXTERNAL_ALERTS = "eb079c62-4481-4d6e-9643-3ca499df7aaa"


def kibana(method, path, body=None, content_type="application/json"):
    """A Kibana API call with basic auth and kbn-xsrf: (status, parsed JSON body)."""
    import base64
    import urllib.error
    import urllib.request

    if body is not None and not isinstance(body, bytes):
        body = json.dumps(body).encode()
    request = urllib.request.Request(os.environ["SAKER_URL"] + path, data=body, method=method)
    credentials = f"{os.environ['SAKER_USER']}:{os.environ['SAKER_PASSWORD']}".encode()
    request.add_header("authorization", "Basic " + base64.b64encode(credentials).decode())
    request.add_header("kbn-xsrf", "true")
    if body is not None:
        request.add_header("content-type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def flagship_export():
    """The flagship rules as a Kibana NDJSON export: each TOML file's [rule] table, then the summary
    line. They run every second over the last ten minutes, so the test need not wait."""
    import tomllib

    lines = []
    for path in sorted(FLAGSHIP.glob("*.toml")):
        rule = tomllib.loads(path.read_text())["rule"]
        rule.update({"interval": "1s", "from": "now-10m", "enabled": True})
        lines.append(json.dumps(rule))
    lines.append(json.dumps({"exported_count": len(lines), "exported_rules_count": len(lines), "missing_rules": []}))
    return "\n".join(lines) + "\n"


def test_detection_rules_and_alerts(client):
    # import the flagship rules as Kibana's import takes an export file
    boundary = "saker-python-test"
    form = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"flagship.ndjson\"\r\n"
        f"Content-Type: application/ndjson\r\n\r\n{flagship_export()}\r\n--{boundary}--\r\n"
    ).encode()
    status, body = kibana(
        "POST",
        "/api/detection_engine/rules/_import?overwrite=true",
        form,
        f"multipart/form-data; boundary={boundary}",
    )
    assert status == 200, body
    assert body["success"] is True and body["success_count"] == body["rules_count"] == 3, body
    status, found = kibana("GET", "/api/detection_engine/rules/_find?per_page=10&sort_field=name&sort_order=asc")
    assert status == 200 and found["total"] == 3, found
    status, rule = kibana("GET", f"/api/detection_engine/rules?rule_id={EXTERNAL_ALERTS}")
    assert status == 200 and rule["name"] == "External Alerts" and rule["immutable"] is False

    # a third-party alert, shipped with the Elasticsearch client
    from datetime import datetime, timezone

    now = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
    docs = [
        {
            "@timestamp": now,
            "message": f"ET POLICY test signature {i}",
            "event": {"kind": "alert", "module": "suricata", "ingested": now, "severity": 73},
            "source": {"ip": f"10.0.0.{i}"},
        }
        for i in range(1, 3)
    ]
    helpers.bulk(client, [{"_op_type": "create", "_index": "filebeat-pytest", "_source": d} for d in docs])
    client.indices.refresh(index="filebeat-pytest")

    # the scheduler runs the imported rule within seconds
    import time

    search = {
        "query": {"bool": {"filter": [{"term": {"kibana.alert.rule.rule_id": EXTERNAL_ALERTS}}]}},
        "sort": [{"kibana.alert.rule.name": {"order": "asc"}}],
        "size": 10,
    }
    deadline = time.monotonic() + 30
    while True:
        status, result = kibana("POST", "/api/detection_engine/signals/search", search)
        assert status == 200, result
        if result["hits"]["total"]["value"] == 2:
            break
        assert time.monotonic() < deadline, f"no alerts after 30 s: {result}"
        time.sleep(0.5)
    hits = result["hits"]["hits"]
    first = hits[0]["_source"]
    assert first["kibana.alert.rule.name"] == "ET POLICY test signature 1"  # rule_name_override
    assert first["kibana.alert.severity"] == "high"  # severity_mapping of event.severity 73
    assert first["kibana.alert.workflow_status"] == "open"
    status, rule = kibana("GET", f"/api/detection_engine/rules?rule_id={EXTERNAL_ALERTS}")
    last = rule["execution_summary"]["last_execution"]
    # it runs every second: it may be running right now
    assert last["status"] in ("succeeded", "partial failure", "running") and last["date"], rule

    # close one alert as an analyst would
    status, updated = kibana(
        "POST",
        "/api/detection_engine/signals/status",
        {"signal_ids": [hits[0]["_id"]], "status": "closed", "reason": "false_positive"},
    )
    assert status == 200 and updated["updated"] == 1 and updated["failures"] == [], updated
    closed = {"query": {"bool": {"filter": [{"term": {"kibana.alert.workflow_status": "closed"}},
                                            {"term": {"kibana.alert.rule.rule_id": EXTERNAL_ALERTS}}]}}}
    status, result = kibana("POST", "/api/detection_engine/signals/search", closed)
    assert result["hits"]["total"]["value"] == 1
    assert result["hits"]["hits"][0]["_id"] == hits[0]["_id"]

    # Kibana's errors: no kbn-xsrf header, an unknown rule
    import urllib.error
    import urllib.request

    import base64

    bare = urllib.request.Request(os.environ["SAKER_URL"] + "/api/detection_engine/rules", data=b"{}", method="POST")
    credentials = f"{os.environ['SAKER_USER']}:{os.environ['SAKER_PASSWORD']}".encode()
    bare.add_header("authorization", "Basic " + base64.b64encode(credentials).decode())
    bare.add_header("content-type", "application/json")
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(bare)
    assert raised.value.code == 400
    assert json.loads(raised.value.read()) == {
        "statusCode": 400,
        "error": "Bad Request",
        "message": "Request must contain a kbn-xsrf header.",
    }
    status, body = kibana("GET", "/api/detection_engine/rules?rule_id=no-such-rule")
    assert (status, body) == (404, {"message": 'rule_id: "no-such-rule" not found', "status_code": 404})


CORRECTED_FLAGSHIP = "6f1c2d0e-5b7a-4c39-9e1f-3a8d2b4c7e61"
SEED_FLAGSHIP = "f0cc239b-67fa-46fc-89d4-f861753a40f5"


def test_flagship_scenario_through_the_http_api_alone(client):
    """The flagship scenario over HTTP only: rules imported through Kibana's API, documents from
    the shared samples bulk-indexed with the Elasticsearch client, the scheduler of `saker serve`
    running External Alerts and the flagship, alerts read back through Kibana's alerts search."""
    from datetime import datetime, timedelta, timezone
    import time

    boundary = "saker-flagship"
    form = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"flagship.ndjson\"\r\n"
        f"Content-Type: application/ndjson\r\n\r\n{flagship_export()}\r\n--{boundary}--\r\n"
    ).encode()
    status, body = kibana(
        "POST", "/api/detection_engine/rules/_import?overwrite=true", form, f"multipart/form-data; boundary={boundary}"
    )
    assert status == 200 and body["success_count"] == 3, body

    by_dataset = {}
    for action in sample_actions():
        by_dataset.setdefault(action["_source"]["data_stream"]["dataset"], []).append(action)
    signins = by_dataset["azure.signinlogs"]
    success = next(a for a in signins if a["_source"]["event"].get("outcome") == "success")
    failure = next(a for a in signins if a["_source"]["event"].get("outcome") == "failure")
    ids_alert = next(a for a in by_dataset["suricata.eve"] if a["_source"]["event"].get("kind") == "alert")

    now = datetime.now(timezone.utc)

    def at(action, seconds_ago, address):
        doc = json.loads(json.dumps(action["_source"]))
        stamp = (now - timedelta(seconds=seconds_ago)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        doc["@timestamp"] = stamp
        doc["event"]["ingested"] = stamp
        doc.setdefault("source", {})["ip"] = address
        doc["source"]["address"] = address
        return {"_op_type": "create", "_index": action["_index"], "_source": doc}

    actions = [
        at(success, 60, "81.2.69.143"),  # sign-in + network alert: the one correlation
        at(ids_alert, 50, "81.2.69.143"),
        at(success, 60, "192.168.1.146"),  # private: excluded
        at(ids_alert, 50, "192.168.1.146"),
        at(failure, 60, "81.2.69.144"),  # failed sign-in: not a correlation
        at(ids_alert, 50, "81.2.69.144"),
        at(ids_alert, 50, "67.43.156.15"),  # network alert alone: one dataset
    ]
    success_count, errors = helpers.bulk(client, actions)
    assert errors == [] and success_count == len(actions)

    search = {"query": {"term": {"kibana.alert.rule.rule_id": CORRECTED_FLAGSHIP}}, "size": 10}
    deadline = time.monotonic() + 45
    while True:
        status, result = kibana("POST", "/api/detection_engine/signals/search", search)
        assert status == 200, result
        if result["hits"]["total"]["value"] > 0:
            break
        assert time.monotonic() < deadline, f"no flagship alert after 45 s: {result}"
        time.sleep(0.5)
    # a few more executions: still only the correlated address
    time.sleep(3)
    status, result = kibana("POST", "/api/detection_engine/signals/search", {**search, "size": 100})
    addresses = {hit["_source"]["Esql.source_ip"] for hit in result["hits"]["hits"]}
    assert addresses == {"81.2.69.143"}, result
    first = result["hits"]["hits"][0]["_source"]
    assert first["kibana.alert.rule.name"] == "Sign-in to Microsoft 365 or Entra ID from an Address with Network Alerts"
    assert first["kibana.alert.severity"] in ("low", "medium", "high", "critical")
    # the seed version, run the same way, can never fire
    seed = {"query": {"term": {"kibana.alert.rule.rule_id": SEED_FLAGSHIP}}}
    status, result = kibana("POST", "/api/detection_engine/signals/search", seed)
    assert status == 200 and result["hits"]["total"]["value"] == 0, result
