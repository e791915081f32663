//! The state of every integration at a glance, for the admin's overview.

use crate::{App, Caller};
use plaudit_domain::Result;

/// One integration: where it is set up, whether it is, and its last error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegrationStatus {
    pub name: &'static str,
    /// The admin page that sets it up.
    pub path: &'static str,
    pub what: &'static str,
    pub connected: bool,
    /// A short line: what is connected, or how to start.
    pub detail: String,
    pub last_error: Option<String>,
}

impl App {
    /// Every integration of the caller's organisation (admins).
    pub fn integration_statuses(&self, caller: &Caller) -> Result<Vec<IntegrationStatus>> {
        caller.require_admin()?;
        let org_id = caller.org.id.clone();
        let smtp = self.config.mail.smtp.as_ref().map(|s| format!("SMTP {}:{}", s.host, s.port));
        self.store.read(move |tx| {
            let slack = tx.slack_install(&org_id)?;
            let teams = tx.teams_config(&org_id)?;
            let scim_tokens: Vec<_> =
                tx.list_scim_tokens(&org_id)?.into_iter().filter(|t| t.revoked_at.is_none()).collect();
            let sso = tx.sso_settings(&org_id)?;
            let hooks = tx.list_webhook_endpoints(&org_id)?;
            let active_hooks = hooks.iter().filter(|h| h.active).count();
            let mail = tx.mail_queue_status(&org_id, crate::mail::EMAIL_JOB)?;
            Ok(vec![
                IntegrationStatus {
                    name: "Slack",
                    path: "/admin/integrations/slack",
                    what: "Give recognition with /plaudit, see posts in a channel",
                    connected: slack.is_some(),
                    detail: match &slack {
                        Some(s) if s.channel_id.is_empty() => format!("{} · no channel for posts yet", s.team_name),
                        Some(s) => format!("{} · posts to {}", s.team_name, s.channel_id),
                        None => "Not connected".into(),
                    },
                    last_error: slack.and_then(|s| s.last_error),
                },
                IntegrationStatus {
                    name: "Microsoft Teams",
                    path: "/admin/integrations/teams",
                    what: "An outgoing webhook for @Plaudit, posts through a Workflows URL",
                    connected: teams.is_some(),
                    detail: if teams.is_some() { "Set up".into() } else { "Not set up".into() },
                    last_error: teams.and_then(|t| t.last_error),
                },
                IntegrationStatus {
                    name: "SCIM provisioning",
                    path: "/admin/integrations/scim",
                    what: "Your identity provider keeps the directory in sync",
                    connected: !scim_tokens.is_empty(),
                    detail: match scim_tokens.len() {
                        0 => "No token yet".into(),
                        1 => "1 active token".into(),
                        n => format!("{n} active tokens"),
                    },
                    last_error: scim_tokens
                        .iter()
                        .filter_map(|t| t.last_error.clone())
                        .max_by_key(|e| e.1)
                        .map(|e| e.0),
                },
                IntegrationStatus {
                    name: "Single sign-on",
                    path: "/admin/integrations/sso",
                    what: "Sign in with Google, Microsoft Entra ID, Okta or any OpenID provider",
                    connected: sso.as_ref().is_some_and(|s| s.enabled),
                    detail: match &sso {
                        Some(s) if s.enabled => {
                            format!("{}{}", s.issuer_url, if s.require_sso { " · required" } else { "" })
                        }
                        _ => "Not set up".into(),
                    },
                    last_error: sso.and_then(|s| s.last_error),
                },
                IntegrationStatus {
                    name: "Webhooks",
                    path: "/admin/integrations/webhooks",
                    what: "Signed events to your own services",
                    connected: active_hooks > 0,
                    detail: match (hooks.len(), active_hooks) {
                        (0, _) => "No endpoints".into(),
                        (n, a) => format!("{a} of {n} endpoints active"),
                    },
                    last_error: None,
                },
                IntegrationStatus {
                    name: "E-mail",
                    path: "/admin/integrations/email",
                    what: "Notifications, digests and password resets over SMTP",
                    connected: smtp.is_some(),
                    detail: match &smtp {
                        Some(server) => format!("{server} · {} waiting, {} given up", mail.queued, mail.failed),
                        None => "No SMTP server configured (PLAUDIT_SMTP_URL)".into(),
                    },
                    last_error: mail.last_error,
                },
            ])
        })
    }
}
