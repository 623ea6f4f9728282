//! The security endpoints: `GET /_security/_authenticate` and Elasticsearch's API key API
//! (`POST`/`PUT /_security/api_key` to create, `GET` to list, `DELETE` to invalidate), with
//! Elasticsearch's request and response shapes.
//!
//! A user manages their own keys; a `superuser` every key. A request authenticated with an API key
//! sees and invalidates only that key, and cannot create keys.

use crate::AppState;
use crate::auth::{ApiKeys, Principal, Security, StoredKey, now_millis};
use crate::error::ApiError;
use crate::request::{Body, Params, parse_time_value};
use crate::response::json_response;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// The security state, or Elasticsearch's error for security APIs on a node without security.
fn security(state: &AppState) -> Result<Arc<Security>, ApiError> {
    state.config().security.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "exception",
            "Security is not enabled on this node: start `saker serve` with `--users <FILE>` to use the security APIs",
        )
    })
}

fn principal(request_principal: Option<axum::Extension<Principal>>) -> Result<Principal, ApiError> {
    request_principal.map(|p| p.0).ok_or_else(|| ApiError::internal("the request was not authenticated"))
}

/// `GET /_security/_authenticate`: who the credentials name.
pub async fn authenticate(
    State(state): State<AppState>,
    params: Params,
    who: Option<axum::Extension<Principal>>,
) -> Result<Response, ApiError> {
    security(&state)?;
    Ok(json_response(StatusCode::OK, &principal(who)?.to_json(), params.pretty()))
}

/// `POST`/`PUT /_security/api_key`: `{name, expiration?, metadata?, role_descriptors?}` →
/// `{id, name, expiration?, api_key, encoded}`.
///
/// The key has its owner's roles; `role_descriptors` other than `{}` (the same privileges as the
/// owner) are refused, since Saker has no role descriptors.
pub async fn create_api_key(
    State(state): State<AppState>,
    params: Params,
    who: Option<axum::Extension<Principal>>,
    body: Body,
) -> Result<Response, ApiError> {
    let security = security(&state)?;
    let principal = principal(who)?;
    if principal.api_key.is_some() {
        return Err(ApiError::illegal_argument(
            "an API key cannot create API keys in Saker: authenticate with a user's password to create one",
        ));
    }
    let request = body.json_object()?;
    let mut problems = Vec::new();
    let mut name = None;
    let mut expiration = None;
    let mut metadata = Map::new();
    for (field, value) in &request {
        match (field.as_str(), value) {
            ("name", Value::String(s)) => name = Some(s.clone()),
            ("name", Value::Null) => {}
            ("expiration", Value::String(s)) => {
                let duration = parse_time_value(s, "expiration")?;
                let millis = i64::try_from(duration.as_millis()).unwrap_or(i64::MAX);
                expiration = Some(now_millis().saturating_add(millis));
            }
            ("expiration", Value::Null) => {}
            ("metadata", Value::Object(m)) => metadata = m.clone(),
            ("metadata", Value::Null) => {}
            ("role_descriptors", Value::Object(m)) if m.is_empty() => {}
            ("role_descriptors", Value::Object(_)) => {
                return Err(ApiError::illegal_argument(
                    "[role_descriptors] are not supported by Saker: an API key has its owner's roles; \
                     send no role_descriptors (or {}) and create the key as a user with the roles it needs",
                ));
            }
            ("name" | "expiration" | "metadata" | "role_descriptors", other) => {
                return Err(ApiError::content_parse(format!(
                    "[create_api_key_request] failed to parse field [{field}]: unexpected value [{other}]"
                )));
            }
            (other, _) => {
                return Err(ApiError::content_parse(format!("[create_api_key_request] unknown field [{other}]")));
            }
        }
    }
    if metadata.keys().any(|k| k.starts_with('_')) {
        problems.push("metadata keys may not start with [_]");
    }
    match name.as_deref() {
        None | Some("") => problems.push("api key name is required"),
        Some(n) if n.chars().count() > 256 => problems.push("api key name may not be more than [256] characters long"),
        Some(n) if n.trim() != n => problems.push("api key name may not begin or end with whitespace"),
        Some(n) if n.starts_with('_') => problems.push("api key name may not begin with an underscore"),
        Some(_) => {}
    }
    if !problems.is_empty() {
        return Err(ApiError::validation(&problems));
    }
    let name = name.unwrap_or_default();
    let keys = security.api_keys();
    let created = keys.create(&principal, &name, expiration, metadata, now_millis()).map_err(ApiError::internal)?;
    tracing::info!(id = %created.id, name = %created.name, user = %principal.username, "API key created");
    let mut response = json!({ "id": created.id, "name": created.name });
    if let Some(expiration) = created.expiration {
        response["expiration"] = json!(expiration);
    }
    response["api_key"] = json!(created.api_key);
    response["encoded"] = json!(created.encoded());
    Ok(json_response(StatusCode::OK, &response, params.pretty()))
}

/// `GET /_security/api_key`: the keys matching `id`, `name` (`*` wildcards), `username`,
/// `realm_name`, `owner` and `active_only`, as `{"api_keys": [...]}`.
pub async fn get_api_keys(
    State(state): State<AppState>,
    params: Params,
    who: Option<axum::Extension<Principal>>,
) -> Result<Response, ApiError> {
    let security = security(&state)?;
    let principal = principal(who)?;
    let owner = params.flag("owner")?;
    let active_only = params.flag("active_only")?;
    let id = params.get("id").filter(|s| !s.is_empty());
    let name = params.get("name").filter(|s| !s.is_empty());
    let username = params.get("username").filter(|s| !s.is_empty());
    let realm = params.get("realm_name").filter(|s| !s.is_empty());
    if owner && (username.is_some() || realm.is_some()) {
        return Err(ApiError::validation(&[
            "neither username nor realm-name may be specified when retrieving owned API keys",
        ]));
    }
    if (id.is_some() || name.is_some()) && (username.is_some() || realm.is_some()) {
        return Err(ApiError::validation(&[
            "username or realm name must not be specified when the api key id or api key name is specified",
        ]));
    }
    if id.is_some() && name.is_some() {
        return Err(ApiError::validation(&["only one of [api key id, api key name] can be specified"]));
    }
    let now = now_millis();
    let keys = visible(security.api_keys(), &principal, owner, |k| {
        id.is_none_or(|id| k.id == id)
            && name.is_none_or(|n| wildcard_match(n, &k.name))
            && username.is_none_or(|u| k.username == u)
            && realm.is_none_or(|r| k.realm == r)
            && (!active_only || k.is_active(now))
    });
    let body = json!({ "api_keys": keys.iter().map(StoredKey::to_json).collect::<Vec<_>>() });
    Ok(json_response(StatusCode::OK, &body, params.pretty()))
}

/// `DELETE /_security/api_key`: body `{ids | id | name | username | realm_name | owner}` →
/// `{invalidated_api_keys, previously_invalidated_api_keys, error_count}`.
pub async fn invalidate_api_keys(
    State(state): State<AppState>,
    params: Params,
    who: Option<axum::Extension<Principal>>,
    body: Body,
) -> Result<Response, ApiError> {
    let security = security(&state)?;
    let principal = principal(who)?;
    let request = body.json_object()?;
    let string = |field: &str| -> Result<Option<String>, ApiError> {
        match request.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(ApiError::content_parse(format!(
                "[invalidate_api_key_request] failed to parse field [{field}]: unexpected value [{other}]"
            ))),
        }
    };
    for field in request.keys() {
        if !["id", "ids", "name", "username", "realm_name", "owner"].contains(&field.as_str()) {
            return Err(ApiError::content_parse(format!("[invalidate_api_key_request] unknown field [{field}]")));
        }
    }
    let id = string("id")?;
    let name = string("name")?.filter(|s| !s.is_empty());
    let username = string("username")?.filter(|s| !s.is_empty());
    let realm = string("realm_name")?.filter(|s| !s.is_empty());
    let owner = match request.get("owner") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(ApiError::content_parse(format!(
                "[invalidate_api_key_request] failed to parse field [owner]: unexpected value [{other}]"
            )));
        }
    };
    let ids = match request.get("ids") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<Vec<String>>>()
                .ok_or_else(|| ApiError::content_parse("[invalidate_api_key_request] [ids] must be strings"))?,
        ),
        Some(other) => {
            return Err(ApiError::content_parse(format!(
                "[invalidate_api_key_request] failed to parse field [ids]: unexpected value [{other}]"
            )));
        }
    };
    if id.is_some() && ids.is_some() {
        return Err(ApiError::validation(&["Must use either [id] or [ids], not both at the same time"]));
    }
    let ids: Option<Vec<String>> = ids.or(id.map(|id| vec![id]));
    let mut problems = Vec::new();
    if ids.is_none() && name.is_none() && username.is_none() && realm.is_none() && !owner {
        problems.push(
            "One of [api key id(s), api key name, username, realm name] must be specified if [owner] flag is false",
        );
    }
    if (ids.is_some() || name.is_some()) && (username.is_some() || realm.is_some()) {
        problems
            .push("username or realm name must not be specified when the api key id(s) or api key name are specified");
    }
    if ids.is_some() && name.is_some() {
        problems.push("only one of [api key id(s), api key name] can be specified");
    }
    if owner && (username.is_some() || realm.is_some()) {
        problems.push("neither username nor realm-name may be specified when invalidating owned API keys");
    }
    if ids.as_ref().is_some_and(|ids| ids.iter().any(String::is_empty)) {
        problems.push("api key ids must not contain an empty id");
    }
    if !problems.is_empty() {
        return Err(ApiError::validation(&problems));
    }
    let selected: Vec<String> = visible(security.api_keys(), &principal, owner, |k| {
        ids.as_ref().is_none_or(|ids| ids.contains(&k.id))
            && name.as_deref().is_none_or(|n| wildcard_match(n, &k.name))
            && username.as_deref().is_none_or(|u| k.username == u)
            && realm.as_deref().is_none_or(|r| k.realm == r)
    })
    .into_iter()
    .map(|k| k.id)
    .collect();
    let (invalidated, previously) =
        security.api_keys().invalidate(|k| selected.contains(&k.id), now_millis()).map_err(ApiError::internal)?;
    if !invalidated.is_empty() {
        tracing::info!(ids = ?invalidated, user = %principal.username, "API keys invalidated");
    }
    let body = json!({
        "invalidated_api_keys": invalidated,
        "previously_invalidated_api_keys": previously,
        "error_count": 0,
    });
    Ok(json_response(StatusCode::OK, &body, params.pretty()))
}

/// The keys `principal` may see that `filter` selects: a superuser's are all (or their own with
/// `owner`), a user's their own, an API key's itself.
fn visible(keys: &ApiKeys, principal: &Principal, owner: bool, filter: impl Fn(&StoredKey) -> bool) -> Vec<StoredKey> {
    keys.list(|k| {
        let allowed = match &principal.api_key {
            Some(key) => k.id == key.id,
            None if principal.is_superuser() && !owner => true,
            None => k.username == principal.username,
        };
        allowed && filter(k)
    })
}

/// Elasticsearch's simple wildcard match (`*` for any characters), as API key names are matched.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::wildcard_match;

    #[test]
    fn wildcards() {
        assert!(wildcard_match("*", "anything"));
        assert!(wildcard_match("beats-*", "beats-prod"));
        assert!(!wildcard_match("beats-*", "x-beats-prod"));
        assert!(wildcard_match("*-prod", "beats-prod"));
        assert!(wildcard_match("a*b*c", "a-xx-b-yy-c"));
        assert!(!wildcard_match("a*b*c", "a-c"));
        assert!(!wildcard_match("ab*ba", "aba"));
        assert!(wildcard_match("exact", "exact") && !wildcard_match("exact", "exactly"));
    }
}
