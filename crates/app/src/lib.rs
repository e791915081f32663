//! Plaudit's use cases. Each public method is one thing a person or a
//! script does: it checks who is asking, applies the domain rules inside one
//! store transaction, and records admin actions in the audit log.

pub mod auth;
pub mod celebrations;
pub mod chat;
pub mod demo;
pub mod directory_import;
pub mod events;
mod idempotency;
pub mod integrations;
pub mod jobs;
pub mod mail;
pub mod members;
pub mod okrs;
pub mod orgs;
pub mod outbound;
pub mod recognition;
pub mod rewards;
pub mod scim;
pub mod secrets;
pub mod slack;
pub mod sso;
pub mod teams;
pub mod values;
pub mod webhooks;

pub use auth::{Caller, NewSession};
pub use directory_import::{CsvBytes, ImportReport, ImportSource};

use plaudit_store::Store;
use std::sync::Arc;

/// Settings the operator controls.
#[derive(Debug, Clone)]
pub struct Config {
    /// Whether anyone may create an organisation with `POST /api/v1/signup`.
    pub signup_enabled: bool,
    /// How long a session lasts without use.
    pub session_ttl_ms: i64,
    /// Seals gift-card codes and fulfilment notes at rest. The default is a
    /// random key per process (tests); the binary loads the configured or
    /// generated key of the data dir.
    pub secret_key: secrets::SecretKey,
    /// The external base URL (no trailing slash), for links in e-mails and
    /// chat messages and for OAuth/OpenID redirects.
    pub public_url: String,
    /// Whether webhook endpoints may be on this machine or a private
    /// network (`PLAUDIT_WEBHOOKS_ALLOW_PRIVATE`; tests, on-premise installs).
    pub webhooks_allow_private: bool,
    /// The Slack app's credentials and Web API base.
    pub slack: slack::SlackConfig,
    /// Outgoing mail (`PLAUDIT_SMTP_URL`, `PLAUDIT_SMTP_FROM`); none by default.
    pub mail: mail::MailConfig,
}

impl Default for Config {
    fn default() -> Self {
        static PROCESS_KEY: std::sync::OnceLock<secrets::SecretKey> = std::sync::OnceLock::new();
        Config {
            signup_enabled: true,
            session_ttl_ms: 14 * 24 * 3600 * 1000,
            secret_key: PROCESS_KEY.get_or_init(secrets::SecretKey::generate).clone(),
            public_url: "http://127.0.0.1:8080".to_string(),
            webhooks_allow_private: false,
            slack: slack::SlackConfig::default(),
            mail: mail::MailConfig::default(),
        }
    }
}

#[derive(Clone)]
pub struct App {
    pub store: Arc<Store>,
    pub config: Arc<Config>,
    /// The one client for calls to other services.
    pub outbound: outbound::Outbound,
    /// The client for webhook receivers (short timeouts, destinations checked).
    pub webhook_client: outbound::Outbound,
    /// The SMTP client with its connection pool, made at the first mail.
    pub mailer: mail::Mailer,
}

impl App {
    pub fn new(store: Store, config: Config) -> App {
        let webhook_client = App::webhook_client(&config);
        App {
            store: Arc::new(store),
            config: Arc::new(config),
            outbound: outbound::Outbound::default(),
            webhook_client,
            mailer: mail::Mailer::default(),
        }
    }
}

/// Milliseconds since the Unix epoch, UTC: how every time is stored.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Builds the JSON text kept in an audit entry.
pub(crate) fn audit_details(value: serde_json::Value) -> String {
    value.to_string()
}
