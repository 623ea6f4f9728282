//! Alert suppression (`alert_suppression`): events with the same values of the `group_by`
//! fields make one alert, counting the others, as Kibana's suppression does for query and ES|QL
//! rules (reference §2.9; Kibana `rule_types/utils/suppression_utils.ts`,
//! `rule_registry/.../create_persistence_rule_type_wrapper.ts`).
//!
//! - Each candidate gets its suppression terms: `[{field, value}]` in `group_by` order, values
//!   as sorted strings of all the event's values, `null` when the event lacks the field. With
//!   `missing_fields_strategy: doNotSuppress`, an event lacking any of them is an ordinary alert.
//! - `kibana.alert.instance.id` is object-hash of `[terms, rule id, space]`.
//! - The latest open or acknowledged alert of each instance id started within the suppression
//!   `duration` (without one: since the window's start) is looked up. An event no later than
//!   that alert's `suppression.end` was already counted (an overlapping look-back) and is
//!   dropped, unless the alert is of this same execution.
//! - The rest are grouped by instance id: the earliest (by the event's primary timestamp, else
//!   its `@timestamp`, else the execution time) becomes the alert, with
//!   `kibana.alert.suppression.{terms, start, end, docs_count}` (`docs_count` = the others).
//! - When the alert looked up may absorb the group (with a duration: any; without: one of this
//!   execution), no alert is created: its `suppression.end` and `last_detected` move on and its
//!   `docs_count` grows by the group's size.
//!
//! Created alerts count against `max_signals`; absorbed ones do not.

use super::Tuple;
use crate::alert::{ALERTS_INDEX, ExecutionContext, Hit, SPACE_ID, build_alert, date_value};
use crate::datemath::{iso, parse_date};
use crate::doc;
use crate::objhash::{HashValue, object_hash};
use crate::rule::{AlertSuppression, MissingFieldsStrategy};
use crate::store::{DetectionStore, StoreError, esql_string};
use chrono::{DateTime, Duration, Utc};
use esql::render::{Cell, rows};
use esql::{QueryOptions, UnmappedFields};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};

/// An existing alert that can absorb suppressed events.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// Its `_id`.
    pub id: String,
    /// `kibana.alert.suppression.end`, when set.
    pub end: Option<DateTime<Utc>>,
    /// `kibana.alert.suppression.docs_count`.
    pub docs_count: i64,
    /// `kibana.alert.rule.execution.uuid`: the execution that created it.
    pub execution: String,
}

/// The suppression duration of `s` (`None` = per rule execution).
pub fn duration(s: &AlertSuppression) -> Option<Duration> {
    let d = s.duration.as_ref()?;
    let value = i64::from(d.value);
    Some(match d.unit.as_str() {
        "h" => Duration::hours(value),
        "m" => Duration::minutes(value),
        _ => Duration::seconds(value),
    })
}

/// The suppression terms of `event`, or `None` when it is not to be suppressed
/// (`doNotSuppress` and a field is missing).
pub fn terms(s: &AlertSuppression, event: &Map<String, Value>) -> Option<Vec<(String, Option<Vec<String>>)>> {
    let mut out = Vec::new();
    for field in &s.group_by {
        let mut values: Vec<String> =
            doc::values(event, field).into_iter().filter(|v| !v.is_null()).map(doc::text).collect();
        if values.is_empty() {
            if s.missing_fields_strategy == MissingFieldsStrategy::DoNotSuppress {
                return None;
            }
            out.push((field.clone(), None));
        } else {
            values.sort();
            out.push((field.clone(), Some(values)));
        }
    }
    Some(out)
}

fn terms_json(terms: &[(String, Option<Vec<String>>)]) -> Value {
    Value::Array(
        terms
            .iter()
            .map(|(field, value)| {
                let value = match value {
                    None => Value::Null,
                    Some(v) => Value::Array(v.iter().map(|s| json!(s)).collect()),
                };
                json!({"field": field, "value": value})
            })
            .collect(),
    )
}

/// `kibana.alert.instance.id` of alerts with these terms.
pub fn instance_id(terms: &[(String, Option<Vec<String>>)], rule_uuid: &str) -> String {
    object_hash(&HashValue::Array(vec![
        HashValue::from(&terms_json(terms)),
        HashValue::from(rule_uuid),
        HashValue::from(SPACE_ID),
    ]))
}

fn event_time(ctx: &ExecutionContext<'_>, event: &Map<String, Value>) -> DateTime<Utc> {
    let read = |field: &str| doc::first(event, field).and_then(date_value);
    read(ctx.rule.primary_timestamp())
        .or_else(|| ctx.rule.secondary_timestamp().and_then(read))
        .or_else(|| read("@timestamp"))
        .unwrap_or(ctx.started_at)
}

struct Group {
    first: (String, Hit),
    terms: Vec<(String, Option<Vec<String>>)>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    count: i64,
}

/// Writes the alerts of `hits` with suppression `s`: returns (created, truncated).
///
/// # Errors
/// The store's error, as a message.
pub async fn write<S: DetectionStore>(
    store: &mut S,
    ctx: &ExecutionContext<'_>,
    tuple: &Tuple,
    hits: Vec<(String, Hit)>,
    budget: usize,
    s: &AlertSuppression,
) -> Result<(usize, bool), String> {
    let fresh = super::new_hits(store, hits)?;
    let mut plain: Vec<(String, Hit)> = Vec::new();
    let mut candidates = Vec::new();
    for (id, hit) in fresh {
        match terms(s, &hit.source) {
            None => plain.push((id, hit)),
            Some(terms) => {
                let instance = instance_id(&terms, &ctx.rule.id);
                let time = event_time(ctx, &hit.source);
                candidates.push((instance, time, terms, id, hit));
            }
        }
    }
    let per_execution = duration(s).is_none();
    let since = duration(s).map_or(tuple.from, |d| ctx.started_at - d);
    let instances: Vec<String> = candidates.iter().map(|c| c.0.clone()).collect::<HashSet<_>>().into_iter().collect();
    let targets = find_targets(store, &instances, since).await.map_err(|e| e.to_string())?;
    // Events an alert of another execution already counted (an overlapping look-back) are
    // dropped; those of this execution's own alerts are new to it.
    candidates.retain(|(instance, time, ..)| match targets.get(instance) {
        Some(t) if t.execution != ctx.execution_uuid => t.end.is_none_or(|end| end < *time),
        _ => true,
    });
    candidates.sort_by_key(|c| c.1);
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for (instance, time, terms, id, hit) in candidates {
        match groups.get_mut(&instance) {
            Some(g) => {
                g.count += 1;
                g.end = g.end.max(time);
            }
            None => {
                order.push(instance.clone());
                groups.insert(instance, Group { first: (id, hit), terms, start: time, end: time, count: 1 });
            }
        }
    }

    let mut updates = Vec::new();
    let mut alerts = Vec::new();
    for (id, hit) in &plain {
        alerts.push(build_alert(ctx, hit, id));
    }
    for instance in &order {
        let g = &groups[instance];
        let absorbing = targets.get(instance).filter(|t| !per_execution || t.execution == ctx.execution_uuid);
        if let Some(target) = absorbing {
            let mut doc = Map::new();
            doc.insert("kibana.alert.last_detected".into(), json!(iso(ctx.started_at)));
            if target.end.is_none_or(|end| end < g.end) {
                doc.insert("kibana.alert.suppression.end".into(), json!(iso(g.end)));
            }
            doc.insert("kibana.alert.suppression.docs_count".into(), json!(target.docs_count + g.count));
            updates.push((target.id.clone(), doc));
            continue;
        }
        let (id, hit) = &g.first;
        let mut alert = build_alert(ctx, hit, id);
        alert.insert("kibana.alert.instance.id".into(), json!(instance));
        alert.insert("kibana.alert.suppression.terms".into(), terms_json(&g.terms));
        alert.insert("kibana.alert.suppression.start".into(), json!(iso(g.start)));
        alert.insert("kibana.alert.suppression.end".into(), json!(iso(g.end)));
        alert.insert("kibana.alert.suppression.docs_count".into(), json!(g.count - 1));
        alerts.push(alert);
    }
    let truncated = alerts.len() > budget;
    alerts.truncate(budget);
    let created = store.write_alerts(alerts).map_err(|e| e.to_string())?;
    if !updates.is_empty() {
        store.update_alerts(updates).map_err(|e| e.to_string())?;
    }
    Ok((created, truncated))
}

/// The latest open or acknowledged alert of each instance id started at or after `since`.
async fn find_targets<S: DetectionStore>(
    store: &S,
    instances: &[String],
    since: DateTime<Utc>,
) -> Result<HashMap<String, Target>, StoreError> {
    let catalog = store.catalog();
    if instances.is_empty() || catalog.index(ALERTS_INDEX).is_none() {
        return Ok(HashMap::new());
    }
    let list: Vec<String> = instances.iter().map(|i| esql_string(i)).collect();
    let mut conditions = vec![
        format!("kibana.alert.instance.id IN ({})", list.join(", ")),
        "(kibana.alert.workflow_status IS NULL OR kibana.alert.workflow_status != \"closed\")".to_string(),
    ];
    conditions.push(format!("kibana.alert.start >= TO_DATETIME({})", esql_string(&iso(since))));
    let query = format!(
        "FROM {ALERTS_INDEX} METADATA _id | WHERE {} | SORT kibana.alert.start DESC \
         | KEEP _id, kibana.alert.instance.id, kibana.alert.suppression.end, kibana.alert.suppression.docs_count, \
           kibana.alert.rule.execution.uuid \
         | LIMIT 10000",
        conditions.join(" AND ")
    );
    let options = QueryOptions { unmapped_fields: UnmappedFields::Nullify, ..QueryOptions::default() };
    let output = esql::execute(catalog, &query, &options).await?;
    let mut out = HashMap::new();
    for row in rows(&output) {
        let mut cells = row.into_iter();
        let id = cells.next();
        let instance = cells.next();
        let end = cells.next();
        let count = cells.next();
        let execution = match cells.next() {
            Some(Cell::Text(e)) => e,
            _ => String::new(),
        };
        let (Some(Cell::Text(id)), Some(Cell::Text(instance))) = (id, instance) else { continue };
        let end = match end {
            Some(Cell::Text(t)) => parse_date(&t),
            _ => None,
        };
        let docs_count = match count {
            Some(Cell::Long(n)) => n,
            _ => 0,
        };
        out.entry(instance).or_insert(Target { id, end, docs_count, execution });
    }
    Ok(out)
}
