//! Single sign-on with OpenID Connect: an admin configures the
//! organisation's provider; members sign in with the Authorization Code
//! flow (PKCE S256, `state` and `nonce`). Sign-ins in flight live in the
//! database (any instance can finish them), are single use, expire after
//! ten minutes and are bound to the browser that started them.

use crate::auth::token_hash;
use crate::members::{insert_new_member, new_member_record, NewMember};
use crate::{audit_details, now_ms, App, Caller, NewSession};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreJsonWebKeySet, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, JsonWebKey, Nonce, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, RequestTokenError, Scope, TokenResponse,
};
use plaudit_domain::member::{Member, Profile, Role, Status};
use plaudit_domain::org::Org;
use plaudit_domain::sso::{self as rules, SsoInput};
use plaudit_domain::{Error, ErrorKind, Result};
use plaudit_store::{SsoSettingsRow, SsoState};
use serde::Deserialize;

/// How long a started sign-in may take at the provider.
pub const STATE_TTL_MS: i64 = 10 * 60 * 1000;
/// Used and expired sign-ins are kept this long, so a reuse is named as such.
const STATE_KEEP_MS: i64 = 24 * 3600 * 1000;

/// The settings as an admin sees them: never the secret itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoView {
    pub configured: bool,
    pub enabled: bool,
    pub issuer_url: String,
    pub client_id: String,
    pub has_client_secret: bool,
    pub allowed_domains: Vec<String>,
    pub jit_enabled: bool,
    pub require_sso: bool,
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
    pub last_sign_in_at: Option<i64>,
    pub updated_at: Option<i64>,
    /// What to register at the provider.
    pub redirect_uri: String,
    /// The sign-in page that offers this organisation's SSO.
    pub signin_url: String,
}

/// What the "Test" button found at the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoTestReport {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: Option<String>,
    pub jwks_uri: String,
    pub key_ids: Vec<String>,
    pub signing_algs: Vec<String>,
    /// The provider announces Entra ID's `{tenantid}` issuer template.
    pub multi_tenant: bool,
}

/// What the sign-in page offers for an organisation with SSO turned on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoOffer {
    pub org_slug: String,
    pub org_name: String,
    pub require_sso: bool,
}

/// The query of the provider's redirect back to us.
#[derive(Debug, Clone, Default)]
pub struct CallbackParams {
    pub state: Option<String>,
    pub code: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// The provider's discovery document and keys.
struct Provider {
    metadata: CoreProviderMetadata,
}

fn refused(code: &'static str, message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Forbidden, code, message)
}

fn not_configured() -> Error {
    Error::new(ErrorKind::NotFound, "sso_not_configured", "this organisation has not set up sign-in with SSO")
}

fn secret_context(org_id: &str) -> String {
    format!("sso:{org_id}:client_secret")
}

impl App {
    fn redirect_uri(&self, org: &Org) -> String {
        format!("{}/auth/oidc/{}/callback", self.config.public_url, org.slug)
    }

    fn view_of(&self, org: &Org, row: Option<SsoSettingsRow>) -> SsoView {
        let redirect_uri = self.redirect_uri(org);
        let signin_url = format!("{}/signin?org={}", self.config.public_url, org.slug);
        match row {
            None => SsoView {
                configured: false,
                enabled: false,
                issuer_url: String::new(),
                client_id: String::new(),
                has_client_secret: false,
                allowed_domains: Vec::new(),
                jit_enabled: false,
                require_sso: false,
                last_error: None,
                last_error_at: None,
                last_sign_in_at: None,
                updated_at: None,
                redirect_uri,
                signin_url,
            },
            Some(r) => SsoView {
                configured: true,
                enabled: r.enabled,
                issuer_url: r.issuer_url,
                client_id: r.client_id,
                has_client_secret: !r.client_secret_sealed.is_empty(),
                allowed_domains: r.allowed_domains,
                jit_enabled: r.jit_enabled,
                require_sso: r.require_sso,
                last_error: r.last_error,
                last_error_at: r.last_error_at,
                last_sign_in_at: r.last_sign_in_at,
                updated_at: Some(r.updated_at),
                redirect_uri,
                signin_url,
            },
        }
    }

    /// The organisation's SSO settings (admins).
    pub fn sso_settings(&self, caller: &Caller) -> Result<SsoView> {
        caller.require_admin()?;
        let row = self.store.read(|tx| tx.sso_settings(&caller.org.id))?;
        Ok(self.view_of(&caller.org, row))
    }

    /// Saves the SSO settings (admins, audited). An empty secret keeps the stored one.
    pub fn save_sso_settings(&self, caller: &Caller, input: SsoInput) -> Result<SsoView> {
        caller.require_admin()?;
        let now = now_ms();
        let org_id = caller.org.id.clone();
        let before = self.store.read(|tx| tx.sso_settings(&org_id))?;
        let valid = input.validated(before.is_some())?;
        let sealed = match &valid.client_secret {
            Some(secret) => self.config.secret_key.seal(&secret_context(&org_id), secret)?,
            None => before.as_ref().map(|b| b.client_secret_sealed.clone()).unwrap_or_default(),
        };
        let row = SsoSettingsRow {
            org_id: org_id.clone(),
            enabled: valid.enabled,
            issuer_url: valid.issuer_url.clone(),
            client_id: valid.client_id.clone(),
            client_secret_sealed: sealed,
            allowed_domains: valid.allowed_domains.clone(),
            jit_enabled: valid.jit_enabled,
            require_sso: valid.require_sso,
            last_error: None,
            last_error_at: None,
            last_sign_in_at: None,
            created_at: before.as_ref().map_or(now, |b| b.created_at),
            updated_at: now,
        };
        let saved = self.store.write(|tx| {
            tx.save_sso_settings(&row)?;
            tx.insert_audit(
                &org_id,
                Some(&caller.member.id),
                "sso.updated",
                &org_id,
                &audit_details(serde_json::json!({
                    "enabled": row.enabled,
                    "issuer_url": row.issuer_url,
                    "client_id": row.client_id,
                    "client_secret_changed": valid.client_secret.is_some(),
                    "allowed_domains": row.allowed_domains,
                    "jit_enabled": row.jit_enabled,
                    "require_sso": row.require_sso,
                })),
                now,
            )?;
            tx.sso_settings(&org_id)
        })?;
        Ok(self.view_of(&caller.org, saved))
    }

    /// Fetches the discovery document and the keys, and says what it found;
    /// the outcome becomes the settings' status.
    pub fn test_sso(&self, caller: &Caller) -> Result<SsoTestReport> {
        caller.require_admin()?;
        let settings = self.store.read(|tx| tx.sso_settings(&caller.org.id))?.ok_or_else(not_configured)?;
        let provider = self.discover(&caller.org.id, &settings)?;
        let m = &provider.metadata;
        let report = SsoTestReport {
            issuer: m.issuer().to_string(),
            authorization_endpoint: m.authorization_endpoint().to_string(),
            token_endpoint: m.token_endpoint().map(|u| u.to_string()),
            jwks_uri: m.jwks_uri().to_string(),
            key_ids: m.jwks().keys().iter().map(|k| k.key_id().map_or("(no kid)".into(), |k| k.to_string())).collect(),
            signing_algs: m
                .id_token_signing_alg_values_supported()
                .iter()
                .map(|a| serde_json::to_value(a).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default())
                .collect(),
            multi_tenant: m.issuer().contains(rules::TENANT_PLACEHOLDER),
        };
        if report.token_endpoint.is_none() {
            let e = "the discovery document names no token endpoint".to_string();
            self.store.write(|tx| tx.set_sso_status(&caller.org.id, Some(&e), now_ms()))?;
            return Err(Error::new(ErrorKind::Unavailable, "sso_provider_error", e));
        }
        self.store.write(|tx| tx.set_sso_status(&caller.org.id, None, now_ms()))?;
        Ok(report)
    }

    /// Whether the sign-in page offers SSO for this organisation.
    pub fn sso_offer(&self, org_slug: &str) -> Result<Option<SsoOffer>> {
        let slug = org_slug.trim().to_lowercase();
        if slug.is_empty() {
            return Ok(None);
        }
        self.store.read(|tx| {
            let Some(org) = tx.org_by_slug(&slug)? else { return Ok(None) };
            Ok(tx.sso_settings(&org.id)?.filter(|s| s.enabled).map(|s| SsoOffer {
                org_slug: org.slug.clone(),
                org_name: org.name.clone(),
                require_sso: s.require_sso,
            }))
        })
    }

    /// Refuses password sign-in for members who must use SSO (everyone but owners).
    pub(crate) fn check_password_allowed(&self, org: &Org, member: &Member) -> Result<()> {
        let settings = self.store.read(|tx| tx.sso_settings(&org.id))?;
        let refused =
            settings.is_some_and(|s| rules::password_refused(s.require_sso, s.enabled, member.role == Role::Owner));
        if refused {
            return Err(refused_error_sso_required());
        }
        Ok(())
    }

    fn enabled_sso(&self, org_slug: &str) -> Result<(Org, SsoSettingsRow)> {
        let slug = org_slug.trim().to_lowercase();
        self.store
            .read(|tx| {
                let Some(org) = tx.org_by_slug(&slug)? else { return Ok(None) };
                Ok(tx.sso_settings(&org.id)?.filter(|s| s.enabled).map(|s| (org, s)))
            })?
            .ok_or_else(not_configured)
    }

    /// Records a provider-side failure as the settings' last error and returns it.
    fn provider_failed(&self, org_id: &str, code: &'static str, message: String) -> Error {
        if let Err(e) = self.store.write(|tx| tx.set_sso_status(org_id, Some(&message), now_ms())) {
            tracing::warn!(error = %e, "cannot record the SSO error");
        }
        Error::new(ErrorKind::Unavailable, code, message)
    }

    fn discover(&self, org_id: &str, s: &SsoSettingsRow) -> Result<Provider> {
        let url = rules::discovery_url(&s.issuer_url);
        let fail = |m: String| self.provider_failed(org_id, "sso_provider_error", m);
        let reply = self
            .outbound
            .get(&url, &[("accept", "application/json")])
            .map_err(|e| fail(format!("cannot reach {url}: {e}")))?;
        if !reply.is_success() {
            return Err(fail(format!("{url} answered HTTP {}", reply.status)));
        }
        let metadata: CoreProviderMetadata = serde_json::from_slice(&reply.body)
            .map_err(|e| fail(format!("{url} is not an OpenID discovery document: {e}")))?;
        if !rules::discovered_issuer_fits(&s.issuer_url, metadata.issuer()) {
            return Err(fail(format!(
                "the discovery document names the issuer '{}', not '{}'",
                metadata.issuer().as_str(),
                s.issuer_url
            )));
        }
        let jwks_url = metadata.jwks_uri().to_string();
        let reply = self
            .outbound
            .get(&jwks_url, &[("accept", "application/json")])
            .map_err(|e| fail(format!("cannot reach the keys at {jwks_url}: {e}")))?;
        if !reply.is_success() {
            return Err(fail(format!("the keys at {jwks_url} answered HTTP {}", reply.status)));
        }
        let jwks: CoreJsonWebKeySet =
            serde_json::from_slice(&reply.body).map_err(|e| fail(format!("{jwks_url} is not a key set: {e}")))?;
        if jwks.keys().is_empty() {
            return Err(fail(format!("the key set at {jwks_url} holds no keys")));
        }
        Ok(Provider { metadata: metadata.set_jwks(jwks) })
    }

    /// Starts a sign-in: the provider's authorization URL to send the
    /// browser to. `browser_secret` is the random value of the browser's
    /// cookie; `next` where to land afterwards.
    pub fn sso_start(&self, org_slug: &str, browser_secret: &str, next: &str) -> Result<String> {
        let (org, settings) = self.enabled_sso(org_slug)?;
        let provider = self.discover(&org.id, &settings)?;
        let redirect = RedirectUrl::new(self.redirect_uri(&org))
            .map_err(|e| Error::internal(format!("the public URL makes no redirect URI: {e}")))?;
        let client = CoreClient::from_provider_metadata(provider.metadata, ClientId::new(settings.client_id), None)
            .set_redirect_uri(redirect);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        let now = now_ms();
        let record = SsoState {
            org_id: org.id.clone(),
            state_hash: token_hash(state.secret()),
            browser_hash: token_hash(browser_secret),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            next_path: next.to_string(),
            created_at: now,
            expires_at: now + STATE_TTL_MS,
            used_at: None,
        };
        self.store.write(|tx| {
            tx.delete_old_sso_states(now - STATE_KEEP_MS)?;
            tx.insert_sso_state(&record)
        })?;
        Ok(url.to_string())
    }

    /// Checks and uses up the sign-in `state` names: it must be one this
    /// server started for this organisation, in this browser, unexpired and unused.
    fn use_state(&self, org: &Org, state: Option<&str>, browser_secret: Option<&str>) -> Result<SsoState> {
        let bad = |m: &str| refused("sso_state_invalid", m.to_string());
        let state = state.filter(|s| !s.is_empty()).ok_or_else(|| {
            bad("the answer from the identity provider carries no state, so it cannot be tied to a sign-in started here")
        })?;
        let hash = token_hash(state);
        let now = now_ms();
        self.store.write(|tx| {
            let Some(s) = tx.sso_state(&org.id, &hash)? else {
                return Err(bad("this sign-in was not started here (the state is unknown); start again"));
            };
            if s.used_at.is_some() {
                return Err(bad("this sign-in link was already used; start again"));
            }
            if s.expires_at <= now {
                return Err(bad("this sign-in took too long and expired; start again"));
            }
            let same_browser = browser_secret.is_some_and(|b| token_hash(b) == s.browser_hash);
            if !same_browser {
                return Err(bad("this sign-in was started in another browser; start again here"));
            }
            if !tx.use_sso_state(&org.id, &hash, now)? {
                return Err(bad("this sign-in link was already used; start again"));
            }
            Ok(s)
        })
    }

    /// Finishes a sign-in: checks the state, exchanges the code, verifies
    /// the ID token and finds (or, if allowed, creates) the member. Returns
    /// the new session and where to land.
    pub fn sso_callback(
        &self,
        org_slug: &str,
        params: &CallbackParams,
        browser_secret: Option<&str>,
    ) -> Result<(NewSession, String)> {
        let (org, settings) = self.enabled_sso(org_slug)?;
        let state = self.use_state(&org, params.state.as_deref(), browser_secret)?;
        if let Some(error) = params.error.as_deref().filter(|e| !e.is_empty()) {
            let detail = params.error_description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default();
            let message = format!("the identity provider did not sign you in: {error}{detail}");
            if !matches!(error, "access_denied" | "login_required" | "interaction_required" | "consent_required") {
                return Err(self.provider_failed(&org.id, "sso_provider_error", message));
            }
            return Err(refused("sso_provider_error", message));
        }
        let code = params
            .code
            .as_deref()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| refused("sso_provider_error", "the identity provider's answer carries no code"))?;
        let provider = self.discover(&org.id, &settings)?;
        let expected_issuer = provider.metadata.issuer().to_string();
        let secret = self.config.secret_key.open(&secret_context(&org.id), &settings.client_secret_sealed)?;
        let redirect = RedirectUrl::new(self.redirect_uri(&org))
            .map_err(|e| Error::internal(format!("the public URL makes no redirect URI: {e}")))?;
        let client = CoreClient::from_provider_metadata(
            provider.metadata,
            ClientId::new(settings.client_id.clone()),
            Some(ClientSecret::new(secret)),
        )
        .set_redirect_uri(redirect);
        let http = |request| self.outbound.send(request);
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| self.provider_failed(&org.id, "sso_provider_error", format!("cannot exchange the code: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(state.pkce_verifier.clone()))
            .request(&http)
            .map_err(|e| self.exchange_failed(&org.id, e))?;
        let id_token = response.id_token().ok_or_else(|| {
            self.provider_failed(&org.id, "sso_token_invalid", "the provider sent no ID token".into())
        })?;
        let multi_tenant = expected_issuer.contains(rules::TENANT_PLACEHOLDER);
        // The library checks iss against a fixed issuer; a tenant template is checked below with `tid`.
        let verifier = client.id_token_verifier().require_issuer_match(!multi_tenant);
        let claims = id_token.claims(&verifier, &Nonce::new(state.nonce.clone())).map_err(|e| {
            self.provider_failed(&org.id, "sso_token_invalid", format!("the ID token does not verify: {e}"))
        })?;
        let extra = extra_claims(&id_token.to_string());
        let issuer = claims.issuer().to_string();
        rules::check_token_issuer(&expected_issuer, &issuer, extra.tid.as_deref())
            .map_err(|e| self.provider_failed(&org.id, e.code, e.message))?;
        let identity = Identity {
            issuer,
            subject: claims.subject().to_string(),
            email: claims.email().map(|e| e.to_string()),
            email_verified: claims.email_verified(),
            xms_edov: extra.xms_edov,
            given_name: claims.given_name().and_then(|n| n.get(None)).map(|n| n.to_string()).unwrap_or_default(),
            family_name: claims.family_name().and_then(|n| n.get(None)).map(|n| n.to_string()).unwrap_or_default(),
            name: claims.name().and_then(|n| n.get(None)).map(|n| n.to_string()).unwrap_or_default(),
        };
        let member = self.sso_member(&org, &settings, &identity)?;
        self.store.write(|tx| tx.set_sso_status(&org.id, None, now_ms()))?;
        let session = self.start_session(&org, member)?;
        Ok((session, state.next_path))
    }

    fn exchange_failed<E: std::error::Error + 'static>(
        &self,
        org_id: &str,
        e: RequestTokenError<E, openidconnect::StandardErrorResponse<openidconnect::core::CoreErrorResponseType>>,
    ) -> Error {
        match e {
            RequestTokenError::ServerResponse(r) if r.error().as_ref() == "invalid_grant" => {
                let detail = r.error_description().map(|d| format!(": {d}")).unwrap_or_default();
                refused(
                    "sso_code_rejected",
                    format!(
                        "the identity provider refused the sign-in code (invalid_grant{detail}); it was already used, \
                         has expired or belongs to another sign-in. Start again"
                    ),
                )
            }
            RequestTokenError::ServerResponse(r) => {
                let detail = r.error_description().map(|d| format!(": {d}")).unwrap_or_default();
                self.provider_failed(
                    org_id,
                    "sso_provider_error",
                    format!("the identity provider refused to exchange the code ({}{detail})", r.error().as_ref()),
                )
            }
            other => self.provider_failed(
                org_id,
                "sso_provider_error",
                format!("cannot exchange the code at the provider: {}", describe(&other)),
            ),
        }
    }

    /// The member this identity signs in as: remembered by (issuer,
    /// subject), else matched by verified e-mail, else created when the
    /// organisation lets people of that domain join.
    fn sso_member(&self, org: &Org, settings: &SsoSettingsRow, id: &Identity) -> Result<Member> {
        let now = now_ms();
        let known = self.store.read(|tx| match tx.sso_identity_member(&org.id, &id.issuer, &id.subject)? {
            Some(member_id) => tx.member_by_id(&org.id, &member_id),
            None => Ok(None),
        })?;
        let member = match known {
            Some(m) => m,
            None => {
                let email = id.email.as_deref().filter(|e| !e.trim().is_empty()).ok_or_else(|| {
                    refused("sso_email_missing", "your identity provider did not share your e-mail address")
                })?;
                rules::check_email_verified(&settings.issuer_url, id.email_verified, id.xms_edov)?;
                let found = self.store.read(|tx| tx.member_by_email(&org.id, email))?;
                match found {
                    Some(m) => m,
                    None => self.join_by_sso(org, settings, id, email, now)?,
                }
            }
        };
        if member.status != Status::Active {
            return Err(refused("member_inactive", "this account is deactivated; ask an admin of your organisation"));
        }
        self.store.write(|tx| tx.link_sso_identity(&org.id, &id.issuer, &id.subject, &member.id, now))?;
        Ok(member)
    }

    /// Just-in-time creation of a member who signed in with an allowed domain.
    fn join_by_sso(&self, org: &Org, s: &SsoSettingsRow, id: &Identity, email: &str, now: i64) -> Result<Member> {
        if !s.jit_enabled {
            return Err(refused(
                "sso_unknown_member",
                format!("{email} is not a member of {}; ask an admin of your organisation to add you", org.name),
            ));
        }
        if !rules::domain_allowed(email, &s.allowed_domains) {
            let domain = rules::email_domain(email).unwrap_or_default();
            return Err(refused(
                "sso_domain_not_allowed",
                format!(
                    "people with {domain} addresses cannot join {} by signing in; ask an admin of your organisation to add you",
                    org.name
                ),
            ));
        }
        let new = NewMember {
            profile: Profile {
                email: email.to_string(),
                first_name: id.given_name.clone(),
                last_name: id.family_name.clone(),
                display_name: id.name.clone(),
                ..Default::default()
            },
            manager_id: None,
            role: Role::Member,
            status: Status::Active,
            may_give: true,
            may_receive: true,
            allowance_override: None,
        };
        let member = new_member_record(&org.id, &new, now)?;
        self.store.write(|tx| {
            // Two first sign-ins at once: the second finds the first's member.
            if let Some(existing) = tx.member_by_email(&org.id, email)? {
                return Ok(existing);
            }
            insert_new_member(tx, &org.id, None, &member, serde_json::json!({"via": "sso"}))?;
            Ok(member.clone())
        })
    }
}

/// The error of password sign-in for a member who must use SSO.
fn refused_error_sso_required() -> Error {
    refused("sso_required", "this organisation signs you in with SSO; use \"Sign in with SSO\"")
}

fn describe<E: std::error::Error>(e: &E) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Who the verified ID token says signed in.
struct Identity {
    issuer: String,
    subject: String,
    email: Option<String>,
    email_verified: Option<bool>,
    xms_edov: Option<bool>,
    given_name: String,
    family_name: String,
    name: String,
}

/// Entra ID's claims outside the standard set.
#[derive(Default, serde::Deserialize)]
struct ExtraClaims {
    tid: Option<String>,
    #[serde(default, deserialize_with = "loose_bool")]
    xms_edov: Option<bool>,
}

fn loose_bool<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<bool>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Bool(b) => Some(b),
        serde_json::Value::String(s) => Some(s.eq_ignore_ascii_case("true") || s == "1"),
        serde_json::Value::Number(n) => Some(n.as_i64() == Some(1)),
        _ => None,
    })
}

/// Reads extra claims from a JWT whose signature was verified already.
fn extra_claims(jwt: &str) -> ExtraClaims {
    use base64::Engine;
    let payload = jwt.split('.').nth(1).unwrap_or("");
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_claims_are_read_from_the_payload() {
        use base64::Engine;
        let enc = |v: serde_json::Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        let jwt = format!(
            "{}.{}.sig",
            enc(serde_json::json!({"alg": "RS256"})),
            enc(serde_json::json!({"tid": "t-1", "xms_edov": "True"}))
        );
        let c = extra_claims(&jwt);
        assert_eq!(c.tid.as_deref(), Some("t-1"));
        assert_eq!(c.xms_edov, Some(true));
        assert!(extra_claims("garbage").tid.is_none());
    }
}
