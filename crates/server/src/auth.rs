//! Who may call the API, as Elasticsearch's security answers it: users from a users file
//! (bcrypt password hashes, sent with `Authorization: Basic`), Elasticsearch API keys (created with
//! `POST /_security/api_key`, sent with `Authorization: ApiKey <base64(id:key)>`, kept hashed in
//! the data folder), and the roles that say what each may do.
//!
//! [`Security`] holds both and authenticates a request's headers; [`layer`] is the middleware that
//! answers 401 (no or bad credentials, with Elasticsearch's body and `WWW-Authenticate` headers) or
//! 403 (a role that does not grant the endpoint) before any handler runs, and hands the handler the
//! [`Principal`].
//!
//! # The users file
//! ```toml
//! [[user]]
//! name = "admin"
//! password_hash = "$2b$10$…"   # bcrypt: `saker users hash` prints one
//! roles = ["superuser"]
//! ```
//! Hashes are bcrypt's (`$2a$`, `$2b$`, `$2y$`), the format Elasticsearch's file realm writes by
//! default, so a hash from `elasticsearch-users` works too. The file is read when the server starts.
//!
//! # Roles
//! | role | may |
//! |---|---|
//! | `superuser` | everything, including other users' API keys, deleting indices, managing detection rules and setting alert statuses |
//! | `viewer` | `GET /`, cluster health, index metadata (`_cat/indices`, `_mapping`, `GET /{index}`), ES\|QL queries, reading detection rules and searching alerts (Kibana's detection engine API) |
//! | `ingest` | `GET /`, cluster health, index metadata, writing documents (`_bulk`, `_doc`, `_create`) and `_refresh` |
//!
//! Every user may call `GET /_security/_authenticate` and create, list and invalidate their own API
//! keys; a key has its owner's roles as they were when it was created.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The realm users from the users file authenticate with (Elasticsearch's default file realm).
pub const FILE_REALM: &str = "default_file";
/// The realm of API key authentication.
pub const API_KEY_REALM: &str = "_es_api_key";
/// The bcrypt cost of hashes Saker makes (Elasticsearch's default `bcrypt` is cost 10).
pub const BCRYPT_COST: u32 = 10;
/// How long a verified password is remembered, so that a request does not pay bcrypt each time
/// (Elasticsearch's realm cache `cache.ttl`, 20 minutes).
const CREDENTIALS_CACHE_TTL: Duration = Duration::from_secs(20 * 60);
/// The challenges a 401 carries: Saker has no token service, so no `Bearer`.
const CHALLENGES: [&str; 2] = ["Basic realm=\"security\", charset=\"UTF-8\"", "ApiKey"];

/// What a user or key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Everything.
    Superuser,
    /// Reading: queries and index metadata.
    Viewer,
    /// Writing documents.
    Ingest,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 3] = [Role::Superuser, Role::Viewer, Role::Ingest];

    /// The role's name in the users file and in responses.
    pub fn name(self) -> &'static str {
        match self {
            Role::Superuser => "superuser",
            Role::Viewer => "viewer",
            Role::Ingest => "ingest",
        }
    }

    /// The role named `name`.
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == name)
    }

    fn grants(self, privilege: Privilege) -> bool {
        use Privilege::*;
        match self {
            Role::Superuser => true,
            Role::Viewer => matches!(privilege, Authenticated | OwnApiKeys | Monitor | ViewMetadata | Read),
            Role::Ingest => matches!(privilege, Authenticated | OwnApiKeys | Monitor | ViewMetadata | Write),
        }
    }
}

/// What an endpoint needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Privilege {
    /// Any authenticated user or key.
    Authenticated,
    /// Managing one's own API keys.
    OwnApiKeys,
    /// `GET /`, cluster health.
    Monitor,
    /// Index names, mappings, counts.
    ViewMetadata,
    /// Querying documents.
    Read,
    /// Writing documents.
    Write,
    /// Anything else (deleting indices, endpoints without a narrower privilege).
    Manage,
}

/// The privilege and Elasticsearch's action name for a request to the route `path` (the route's
/// pattern, `None` when no route matches).
///
/// Routes not listed here need [`Privilege::Manage`] (only `superuser`), so a new endpoint is
/// closed until it is classified.
pub fn requirement(method: &Method, path: Option<&str>) -> (Privilege, &'static str) {
    use Privilege::*;
    let Some(path) = path else { return (Authenticated, "rest:no_handler") };
    let delete = method == Method::DELETE;
    match path {
        "/" => (Monitor, "cluster:monitor/main"),
        "/_cluster/health" | "/_cluster/health/{index}" => (Monitor, "cluster:monitor/health"),
        "/_saker/metrics" => (Monitor, "cluster:monitor/saker/metrics"),
        "/_security/_authenticate" => (Authenticated, "cluster:admin/xpack/security/user/authenticate"),
        "/_security/api_key" => match *method {
            Method::GET => (OwnApiKeys, "cluster:admin/xpack/security/api_key/get"),
            Method::DELETE => (OwnApiKeys, "cluster:admin/xpack/security/api_key/invalidate"),
            _ => (OwnApiKeys, "cluster:admin/xpack/security/api_key/create"),
        },
        "/_query" => (Read, "indices:data/read/esql"),
        "/_query/async" => (Read, "indices:data/read/esql/async"),
        "/_query/async/{id}" if delete => (Read, "indices:data/read/esql/async/delete"),
        "/_query/async/{id}" => (Read, "indices:data/read/esql/async/get"),
        "/_bulk" | "/{index}/_bulk" => (Write, "indices:data/write/bulk"),
        "/{index}/_doc" | "/{index}/_doc/{id}" | "/{index}/_create/{id}" => (Write, "indices:data/write/index"),
        "/_refresh" | "/{index}/_refresh" => (Write, "indices:admin/refresh"),
        "/_cat/indices" | "/_cat/indices/{index}" => (ViewMetadata, "indices:monitor/stats"),
        "/_mapping" | "/{index}/_mapping" => (ViewMetadata, "indices:admin/mappings/get"),
        "/_field_caps" | "/{index}/_field_caps" => (ViewMetadata, "indices:data/read/field_caps"),
        "/api/detection_engine/rules" | "/api/detection_engine/rules/_find" if method == Method::GET => {
            (Read, "kibana:detection_engine/rules/read")
        }
        "/api/detection_engine/rules"
        | "/api/detection_engine/rules/_import"
        | "/api/detection_engine/rules/_bulk_action" => (Manage, "kibana:detection_engine/rules/write"),
        "/api/detection_engine/signals/search" => (Read, "kibana:detection_engine/alerts/read"),
        "/api/detection_engine/signals/status" => (Manage, "kibana:detection_engine/alerts/write"),
        "/{index}" if delete => (Manage, "indices:admin/delete"),
        "/{index}" => (ViewMetadata, "indices:admin/get"),
        _ => (Manage, "cluster:admin/saker"),
    }
}

/// A user of the users file.
#[derive(Debug, Clone)]
pub struct User {
    /// The user name.
    pub name: String,
    password_hash: String,
    /// The user's roles.
    pub roles: Vec<Role>,
}

/// The users of a users file.
#[derive(Debug, Clone, Default)]
pub struct Users {
    users: BTreeMap<String, User>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UsersFile {
    #[serde(default)]
    user: Vec<UserEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserEntry {
    name: toml::Spanned<String>,
    password_hash: toml::Spanned<String>,
    #[serde(default)]
    roles: Vec<toml::Spanned<String>>,
}

#[derive(Serialize)]
struct UserEntryOut<'a> {
    name: &'a str,
    password_hash: &'a str,
    roles: Vec<&'a str>,
}

#[derive(Serialize)]
struct UsersFileOut<'a> {
    user: Vec<UserEntryOut<'a>>,
}

impl Users {
    /// Reads a users file.
    ///
    /// # Errors
    /// When the file cannot be read, or is not valid (the message names the file and the line).
    pub fn load(path: &Path) -> Result<Users, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("reading users file {}: {e}", path.display()))?;
        Users::parse(&text).map_err(|e| format!("users file {}: {e}", path.display()))
    }

    /// Parses the text of a users file.
    ///
    /// # Errors
    /// A message with the line and column of the first problem.
    pub fn parse(text: &str) -> Result<Users, String> {
        let file: UsersFile = toml::from_str(text).map_err(|e| e.to_string().trim_end().to_string())?;
        let at = |span: std::ops::Range<usize>| {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("line {line}, column {column}")
        };
        let mut users = BTreeMap::new();
        for entry in file.user {
            let name = entry.name.get_ref();
            validate_user_name(name).map_err(|e| format!("{}: {e}", at(entry.name.span())))?;
            validate_hash(entry.password_hash.get_ref())
                .map_err(|e| format!("{}: user [{name}]: {e}", at(entry.password_hash.span())))?;
            let mut roles = Vec::new();
            for role in &entry.roles {
                let parsed = Role::parse(role.get_ref()).ok_or_else(|| {
                    format!(
                        "{}: user [{name}]: unknown role [{}]; the roles are superuser, viewer and ingest",
                        at(role.span()),
                        role.get_ref()
                    )
                })?;
                if !roles.contains(&parsed) {
                    roles.push(parsed);
                }
            }
            let user = User { name: name.clone(), password_hash: entry.password_hash.get_ref().clone(), roles };
            if users.insert(name.clone(), user).is_some() {
                return Err(format!("{}: user [{name}] is defined twice", at(entry.name.span())));
            }
        }
        Ok(Users { users })
    }

    /// The user named `name`.
    pub fn get(&self, name: &str) -> Option<&User> {
        self.users.get(name)
    }

    /// How many users there are.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// True when there is no user.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }
}

/// Checks a user name as Elasticsearch does for file realm users, and that Basic authentication
/// can carry it (no `:`).
///
/// # Errors
/// Why the name is not valid.
pub fn validate_user_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.chars().count() > 507 {
        return Err(format!("invalid user name [{name}]: it must be 1 to 507 characters long"));
    }
    if name.trim() != name {
        return Err(format!("invalid user name [{name}]: it must not begin or end with whitespace"));
    }
    if name.contains(':') || name.chars().any(char::is_control) {
        return Err(format!("invalid user name [{name}]: it must not contain [:] or control characters"));
    }
    Ok(())
}

fn validate_hash(hash: &str) -> Result<(), String> {
    let known = ["$2a$", "$2b$", "$2y$"].iter().any(|p| hash.starts_with(p));
    if !known || hash.parse::<bcrypt::HashParts>().is_err() {
        return Err("password_hash is not a bcrypt hash ($2a$, $2b$ or $2y$); make one with `saker users hash`".into());
    }
    Ok(())
}

/// A bcrypt hash of `password` (cost [`BCRYPT_COST`]), for the users file.
///
/// # Errors
/// When the password is empty or longer than bcrypt accepts (72 bytes).
pub fn hash_password(password: &str) -> Result<String, String> {
    if password.is_empty() {
        return Err("the password is empty".into());
    }
    if password.len() > 72 {
        return Err("the password is longer than 72 bytes, which bcrypt cannot hash".into());
    }
    bcrypt::hash(password, BCRYPT_COST).map_err(|e| format!("hashing the password: {e}"))
}

/// A `[[user]]` table for the users file.
///
/// # Errors
/// When the name is not valid.
pub fn user_entry(name: &str, password_hash: &str, roles: &[Role]) -> Result<String, String> {
    validate_user_name(name)?;
    let file = UsersFileOut {
        user: vec![UserEntryOut { name, password_hash, roles: roles.iter().map(|r| r.name()).collect() }],
    };
    toml::to_string(&file).map_err(|e| e.to_string())
}

/// The API key a request authenticated with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRef {
    /// The key's id.
    pub id: String,
    /// The key's name.
    pub name: String,
}

/// Who made a request.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The user (for an API key, its owner).
    pub username: String,
    /// The roles in force.
    pub roles: Vec<Role>,
    /// The API key, when the request authenticated with one.
    pub api_key: Option<ApiKeyRef>,
}

impl Principal {
    /// True when a role grants `privilege`.
    pub fn may(&self, privilege: Privilege) -> bool {
        self.roles.iter().any(|r| r.grants(privilege))
    }

    /// True for a `superuser`.
    pub fn is_superuser(&self) -> bool {
        self.roles.contains(&Role::Superuser)
    }

    fn role_names(&self) -> Vec<&'static str> {
        self.roles.iter().map(|r| r.name()).collect()
    }

    /// `GET /_security/_authenticate`'s body.
    pub fn to_json(&self) -> Value {
        match &self.api_key {
            None => json!({
                "username": self.username,
                "roles": self.role_names(),
                "full_name": null,
                "email": null,
                "metadata": {},
                "enabled": true,
                "authentication_realm": {"name": FILE_REALM, "type": "file"},
                "lookup_realm": {"name": FILE_REALM, "type": "file"},
                "authentication_type": "realm",
            }),
            Some(key) => json!({
                "username": self.username,
                "roles": [],
                "full_name": null,
                "email": null,
                "metadata": {},
                "enabled": true,
                "authentication_realm": {"name": API_KEY_REALM, "type": API_KEY_REALM},
                "lookup_realm": {"name": API_KEY_REALM, "type": API_KEY_REALM},
                "authentication_type": "api_key",
                "api_key": {"id": key.id, "name": key.name},
            }),
        }
    }
}

/// Why a request is not authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthFailure {
    /// No credentials Saker reads.
    Missing,
    /// A Basic header that does not decode.
    BadBasicHeader(&'static str),
    /// Unknown user or wrong password.
    User(String),
    /// An API key that is malformed, unknown, wrong, expired or invalidated (the detail goes in
    /// `additional_unsuccessful_credentials`, as Elasticsearch's).
    ApiKey(String),
}

impl AuthFailure {
    /// The 401 response for a request to `uri`, with Elasticsearch's body and challenges.
    pub fn response(&self, uri: &str) -> Response {
        let reason = match self {
            AuthFailure::Missing => format!("missing authentication credentials for REST request [{uri}]"),
            AuthFailure::BadBasicHeader(why) => why.to_string(),
            AuthFailure::User(name) => format!("unable to authenticate user [{name}] for REST request [{uri}]"),
            AuthFailure::ApiKey(_) => {
                "unable to authenticate with provided credentials and anonymous access is not allowed for this request"
                    .to_string()
            }
        };
        let mut error = ApiError::new(StatusCode::UNAUTHORIZED, "security_exception", reason);
        if let AuthFailure::ApiKey(detail) = self {
            error = error.with("additional_unsuccessful_credentials", json!(format!("API key: {detail}")));
        }
        error = error.with("header", json!({ "WWW-Authenticate": CHALLENGES }));
        let mut response = error.into_response();
        for challenge in CHALLENGES {
            response.headers_mut().append(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        }
        response
    }
}

/// The 403 for a principal whose roles do not grant `privilege`.
fn forbidden(principal: &Principal, privilege: Privilege, action: &str) -> ApiError {
    let who = match &principal.api_key {
        Some(key) => format!("API key id [{}] of user [{}]", key.id, principal.username),
        None => format!("user [{}]", principal.username),
    };
    let granted_by: Vec<&str> = Role::ALL.iter().filter(|r| r.grants(privilege)).map(|r| r.name()).collect();
    ApiError::new(
        StatusCode::FORBIDDEN,
        "security_exception",
        format!(
            "action [{action}] is unauthorized for {who} with effective roles [{}], this action is granted by the roles [{}]",
            principal.role_names().join(","),
            granted_by.join(",")
        ),
    )
}

/// Users, API keys and the cache of verified passwords.
pub struct Security {
    users: Users,
    keys: ApiKeys,
    verified: Mutex<HashMap<String, ([u8; 32], Instant)>>,
}

impl std::fmt::Debug for Security {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Security").field("users", &self.users.len()).field("keys", &self.keys.path).finish()
    }
}

impl Security {
    /// Security over `users`, with API keys kept in `<data>/security/api_keys.json`.
    ///
    /// # Errors
    /// When the API keys file exists but cannot be read.
    pub fn open(users: Users, data: &Path) -> Result<Security, String> {
        let keys = ApiKeys::open(&data.join("security").join("api_keys.json"))?;
        Ok(Security { users, keys, verified: Mutex::new(HashMap::new()) })
    }

    /// The API keys.
    pub fn api_keys(&self) -> &ApiKeys {
        &self.keys
    }

    /// Who the request's `Authorization` header names.
    ///
    /// Schemes other than `Basic` and `ApiKey` (e.g. `Bearer`) are not read, as Elasticsearch
    /// ignores a scheme no realm handles: the request then has no credentials.
    ///
    /// # Errors
    /// The 401 to answer.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Principal, AuthFailure> {
        let Some(header) = headers.get(AUTHORIZATION) else { return Err(AuthFailure::Missing) };
        let header = header.to_str().map_err(|_| AuthFailure::Missing)?.trim();
        let (scheme, value) = header.split_once(' ').unwrap_or((header, ""));
        let value = value.trim();
        if scheme.eq_ignore_ascii_case("Basic") && !value.is_empty() {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(value)
                .map_err(|_| AuthFailure::BadBasicHeader("invalid basic authentication header encoding"))?;
            let text = String::from_utf8(decoded)
                .map_err(|_| AuthFailure::BadBasicHeader("invalid basic authentication header encoding"))?;
            let (name, password) =
                text.split_once(':').ok_or(AuthFailure::BadBasicHeader("invalid basic authentication header value"))?;
            return self.authenticate_user(name, password).await;
        }
        if scheme.eq_ignore_ascii_case("ApiKey") && !value.is_empty() {
            return self.keys.authenticate(value, now_millis()).map_err(AuthFailure::ApiKey);
        }
        Err(AuthFailure::Missing)
    }

    async fn authenticate_user(&self, name: &str, password: &str) -> Result<Principal, AuthFailure> {
        let failed = || AuthFailure::User(name.to_string());
        let user = self.users.get(name).ok_or_else(failed)?;
        let digest: [u8; 32] = Sha256::digest(password.as_bytes()).into();
        let cached = {
            let verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
            verified.get(name).is_some_and(|(d, at)| equal(d, &digest) && at.elapsed() < CREDENTIALS_CACHE_TTL)
        };
        if !cached {
            let hash = user.password_hash.clone();
            let password = password.to_string();
            // bcrypt is slow by design: off the request threads
            let ok = tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash).unwrap_or(false))
                .await
                .unwrap_or(false);
            if !ok {
                return Err(failed());
            }
            let mut verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
            verified.insert(name.to_string(), (digest, Instant::now()));
        }
        Ok(Principal { username: user.name.clone(), roles: user.roles.clone(), api_key: None })
    }
}

/// Compares two byte strings in time that does not depend on where they differ.
fn equal(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Milliseconds since the epoch.
pub fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// An API key as kept on disk: the secret only as its SHA-256.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredKey {
    /// The key's id.
    pub id: String,
    /// The key's name.
    pub name: String,
    /// `sha256:<hex>` of the secret.
    pub hash: String,
    /// Creation time, epoch milliseconds.
    pub creation: i64,
    /// Expiry, epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration: Option<i64>,
    /// True once invalidated.
    #[serde(default)]
    pub invalidated: bool,
    /// When it was invalidated, epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalidation: Option<i64>,
    /// The owner.
    pub username: String,
    /// The owner's realm.
    pub realm: String,
    /// The owner's roles when the key was created.
    pub roles: Vec<String>,
    /// The `metadata` given at creation.
    #[serde(default)]
    pub metadata: serde_json::Map<String, Value>,
}

impl StoredKey {
    /// True while the key authenticates.
    pub fn is_active(&self, now: i64) -> bool {
        !self.invalidated && self.expiration.is_none_or(|e| e > now)
    }

    /// The key in `GET /_security/api_key`'s shape.
    pub fn to_json(&self) -> Value {
        let mut key = json!({
            "id": self.id,
            "name": self.name,
            "type": "rest",
            "creation": self.creation,
            "invalidated": self.invalidated,
            "username": self.username,
            "realm": self.realm,
            "realm_type": "file",
            "metadata": self.metadata,
            "role_descriptors": {},
        });
        if let Some(expiration) = self.expiration {
            key["expiration"] = json!(expiration);
        }
        if let Some(invalidation) = self.invalidation {
            key["invalidation"] = json!(invalidation);
        }
        key
    }
}

#[derive(Serialize, Deserialize)]
struct KeysFile {
    version: u32,
    api_keys: Vec<StoredKey>,
}

/// A newly created key, with its secret (shown once).
#[derive(Debug, Clone)]
pub struct CreatedKey {
    /// The key's id.
    pub id: String,
    /// The key's name.
    pub name: String,
    /// The secret.
    pub api_key: String,
    /// Expiry, epoch milliseconds.
    pub expiration: Option<i64>,
}

impl CreatedKey {
    /// `base64(id:api_key)`, what `Authorization: ApiKey` carries.
    pub fn encoded(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", self.id, self.api_key))
    }
}

/// The API keys, persisted in one JSON file rewritten (atomically) on each change.
pub struct ApiKeys {
    path: PathBuf,
    keys: Mutex<Vec<StoredKey>>,
}

impl ApiKeys {
    /// The keys kept at `path` (none if the file does not exist yet).
    ///
    /// # Errors
    /// When the file exists but cannot be read or parsed.
    pub fn open(path: &Path) -> Result<ApiKeys, String> {
        let keys = match std::fs::read(path) {
            Ok(bytes) => {
                let file: KeysFile = serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
                if file.version != 1 {
                    return Err(format!("{}: unknown format version {}", path.display(), file.version));
                }
                file.api_keys
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(format!("reading {}: {e}", path.display())),
        };
        Ok(ApiKeys { path: path.to_path_buf(), keys: Mutex::new(keys) })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<StoredKey>> {
        self.keys.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Creates a key for `principal`, valid until `expiration` (epoch milliseconds) if given.
    ///
    /// # Errors
    /// When the keys cannot be written.
    pub fn create(
        &self,
        principal: &Principal,
        name: &str,
        expiration: Option<i64>,
        metadata: serde_json::Map<String, Value>,
        now: i64,
    ) -> Result<CreatedKey, String> {
        // Elasticsearch: a 20-character id, a secret of 16 random bytes, both URL-safe base64
        let id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random::<15>()?);
        let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random::<16>()?);
        let stored = StoredKey {
            id: id.clone(),
            name: name.to_string(),
            hash: secret_hash(&secret),
            creation: now,
            expiration,
            invalidated: false,
            invalidation: None,
            username: principal.username.clone(),
            realm: FILE_REALM.to_string(),
            roles: principal.role_names().into_iter().map(str::to_string).collect(),
            metadata,
        };
        let mut keys = self.lock();
        let mut next = keys.clone();
        next.push(stored);
        self.write(&next)?;
        *keys = next;
        Ok(CreatedKey { id, name: name.to_string(), api_key: secret, expiration })
    }

    /// The keys `filter` selects.
    pub fn list(&self, filter: impl Fn(&StoredKey) -> bool) -> Vec<StoredKey> {
        self.lock().iter().filter(|k| filter(k)).cloned().collect()
    }

    /// Invalidates the keys `filter` selects: returns the ids invalidated now and those that were
    /// already.
    ///
    /// # Errors
    /// When the keys cannot be written.
    pub fn invalidate(
        &self,
        filter: impl Fn(&StoredKey) -> bool,
        now: i64,
    ) -> Result<(Vec<String>, Vec<String>), String> {
        let mut keys = self.lock();
        let mut next = keys.clone();
        let (mut invalidated, mut previously) = (Vec::new(), Vec::new());
        for key in next.iter_mut().filter(|k| filter(k)) {
            if key.invalidated {
                previously.push(key.id.clone());
            } else {
                key.invalidated = true;
                key.invalidation = Some(now);
                invalidated.push(key.id.clone());
            }
        }
        if !invalidated.is_empty() {
            self.write(&next)?;
            *keys = next;
        }
        Ok((invalidated, previously))
    }

    /// Who `encoded` (`base64(id:secret)`) authenticates at `now`.
    ///
    /// # Errors
    /// Elasticsearch's reason for the failure.
    pub fn authenticate(&self, encoded: &str, now: i64) -> Result<Principal, String> {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| "invalid ApiKey value".to_string())?;
        let (id, secret) = match decoded.split_once(':') {
            Some((id, secret)) if !id.is_empty() => (id, secret),
            _ => return Err("invalid ApiKey value".into()),
        };
        let keys = self.lock();
        let key = keys.iter().find(|k| k.id == id).ok_or_else(|| format!("unable to find apikey with id {id}"))?;
        if key.invalidated {
            return Err(format!("api key [{id}] has been invalidated"));
        }
        if !equal(secret_hash(secret).as_bytes(), key.hash.as_bytes()) {
            return Err(format!("invalid credentials for API key [{id}]"));
        }
        if key.expiration.is_some_and(|e| e <= now) {
            return Err("api key is expired".into());
        }
        Ok(Principal {
            username: key.username.clone(),
            roles: key.roles.iter().filter_map(|r| Role::parse(r)).collect(),
            api_key: Some(ApiKeyRef { id: key.id.clone(), name: key.name.clone() }),
        })
    }

    fn write(&self, keys: &[StoredKey]) -> Result<(), String> {
        let failed = |e: std::io::Error| format!("writing {}: {e}", self.path.display());
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(failed)?;
        let body = serde_json::to_vec_pretty(&KeysFile { version: 1, api_keys: keys.to_vec() })
            .map_err(|e| format!("encoding the API keys: {e}"))?;
        let tmp = self.path.with_extension("json.tmp");
        {
            let mut file = std::fs::File::create(&tmp).map_err(failed)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                file.set_permissions(std::fs::Permissions::from_mode(0o600)).map_err(failed)?;
            }
            file.write_all(&body).map_err(failed)?;
            file.sync_all().map_err(failed)?;
        }
        std::fs::rename(&tmp, &self.path).map_err(failed)?;
        if let Ok(dir) = std::fs::File::open(dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    }
}

fn secret_hash(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    let mut hex = String::with_capacity(7 + 64);
    hex.push_str("sha256:");
    for byte in digest {
        hex.push_str(&format!("{byte:02x}"));
    }
    hex
}

fn random<const N: usize>() -> Result<[u8; N], String> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| format!("no random numbers from the system: {e}"))?;
    Ok(bytes)
}

/// Middleware: when security is on, authenticates the request (401 with Elasticsearch's body and
/// challenges), checks that its roles grant the route (403), and puts the [`Principal`] in the
/// request's extensions. Without security it lets every request through.
pub async fn layer(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let Some(security) = state.config().security.clone() else { return next.run(request).await };
    let principal = match security.authenticate(request.headers()).await {
        Ok(principal) => principal,
        Err(failure) => {
            let uri = request.uri();
            let uri = uri.path_and_query().map_or_else(|| uri.path().to_string(), |p| p.as_str().to_string());
            tracing::debug!(%uri, ?failure, "authentication failed");
            return failure.response(&uri);
        }
    };
    let path = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string());
    let (privilege, action) = requirement(request.method(), path.as_deref());
    if !principal.may(privilege) {
        return forbidden(&principal, privilege, action).into_response();
    }
    request.extensions_mut().insert(principal);
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash() -> String {
        bcrypt::hash("secret", 4).expect("hash")
    }

    #[test]
    fn users_file_parses_and_reports_positions() {
        let hash = hash();
        let text = format!("[[user]]\nname = \"admin\"\npassword_hash = \"{hash}\"\nroles = [\"superuser\"]\n");
        let users = Users::parse(&text).expect("valid");
        assert_eq!(users.get("admin").map(|u| u.roles.clone()), Some(vec![Role::Superuser]));

        let bad_role = format!("[[user]]\nname = \"a\"\npassword_hash = \"{hash}\"\nroles = [\"admin\"]\n");
        let error = Users::parse(&bad_role).expect_err("unknown role");
        assert!(error.starts_with("line 4, column 10: user [a]: unknown role [admin]"), "{error}");

        let bad_hash = "[[user]]\nname = \"a\"\npassword_hash = \"secret\"\n";
        let error = Users::parse(bad_hash).expect_err("not bcrypt");
        assert!(error.starts_with("line 3, column 17: user [a]: password_hash is not a bcrypt hash"), "{error}");

        let twice = format!("{text}{text}");
        assert!(Users::parse(&twice).expect_err("twice").contains("user [admin] is defined twice"));
        assert!(Users::parse("[[user]]\nname = \"a:b\"\npassword_hash = \"x\"\n").is_err());
        let unknown = Users::parse("[[user]]\nname = \"a\"\npasword_hash = \"x\"\n").expect_err("typo");
        assert!(unknown.contains("line 3"), "{unknown}");
    }

    #[test]
    fn user_entries_round_trip() {
        let entry = user_entry("bob \"b\"", &hash(), &[Role::Viewer, Role::Ingest]).expect("entry");
        let users = Users::parse(&entry).expect("parses back");
        assert_eq!(users.get("bob \"b\"").map(|u| u.roles.clone()), Some(vec![Role::Viewer, Role::Ingest]));
    }

    #[test]
    fn roles_grant_what_the_table_says() {
        let p = |roles: Vec<Role>| Principal { username: "u".into(), roles, api_key: None };
        let (write, _) = requirement(&Method::POST, Some("/_bulk"));
        let (read, _) = requirement(&Method::POST, Some("/_query"));
        let (delete, _) = requirement(&Method::DELETE, Some("/{index}"));
        let (unknown, _) = requirement(&Method::GET, Some("/_some/new/route"));
        assert!(p(vec![Role::Ingest]).may(write) && !p(vec![Role::Ingest]).may(read));
        assert!(p(vec![Role::Viewer]).may(read) && !p(vec![Role::Viewer]).may(write));
        assert!(!p(vec![Role::Viewer, Role::Ingest]).may(delete) && !p(vec![Role::Ingest]).may(unknown));
        assert!(p(vec![Role::Superuser]).may(delete) && p(vec![Role::Superuser]).may(unknown));
        assert!(!p(vec![]).may(Privilege::Monitor) && p(vec![]).roles.is_empty());
    }

    #[test]
    fn api_keys_authenticate_until_invalidated_or_expired() {
        let dir = std::env::temp_dir().join(format!("saker-keys-{}", std::process::id()));
        let keys = ApiKeys::open(&dir.join("keys.json")).expect("open");
        let owner = Principal { username: "admin".into(), roles: vec![Role::Superuser], api_key: None };
        let created = keys.create(&owner, "k", Some(2_000), serde_json::Map::new(), 1_000).expect("create");
        assert_eq!(created.id.len(), 20);
        assert_eq!(created.api_key.len(), 22);
        let principal = keys.authenticate(&created.encoded(), 1_500).expect("valid");
        assert_eq!(principal.username, "admin");
        assert_eq!(principal.api_key.map(|k| k.name), Some("k".to_string()));
        assert_eq!(keys.authenticate(&created.encoded(), 2_000).expect_err("expired"), "api key is expired");
        let wrong = base64::engine::general_purpose::STANDARD.encode(format!("{}:nope", created.id));
        assert_eq!(
            keys.authenticate(&wrong, 1_500).expect_err("wrong"),
            format!("invalid credentials for API key [{}]", created.id)
        );
        assert_eq!(keys.authenticate("!!", 1_500).expect_err("garbage"), "invalid ApiKey value");
        // persisted: a second reader sees the key, and an invalidation
        let again = ApiKeys::open(&dir.join("keys.json")).expect("reopen");
        assert!(again.authenticate(&created.encoded(), 1_500).is_ok());
        let (now, before) = again.invalidate(|k| k.id == created.id, 1_600).expect("invalidate");
        assert_eq!((now.len(), before.len()), (1, 0));
        let (now, before) = again.invalidate(|k| k.id == created.id, 1_700).expect("invalidate");
        assert_eq!((now.len(), before.len()), (0, 1));
        let third = ApiKeys::open(&dir.join("keys.json")).expect("reopen");
        assert!(
            third.authenticate(&created.encoded(), 1_500).expect_err("invalidated").contains("has been invalidated")
        );
        let stored = std::fs::read_to_string(dir.join("keys.json")).expect("file");
        assert!(!stored.contains(&created.api_key), "the secret is not stored");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
