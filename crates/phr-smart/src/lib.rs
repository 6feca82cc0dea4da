//! SMART App Launch for a browser-only patient app, without I/O.
//!
//! # Key design decision: sans-I/O
//!
//! Every protocol step is a pure function or a small state machine that *describes* HTTP
//! requests ([`HttpRequest`]) and *consumes* responses ([`HttpResponse`]). The browser shell
//! performs `fetch()`, keeps the PKCE verifier in `sessionStorage` across the redirect, and keeps
//! the [`Connection`] and the import's resume state inside the encrypted vault. Nothing here reads
//! a clock (time is unix milliseconds passed in), draws randomness (a [`RandomSource`] or a seed
//! is passed in), or touches the network. So every decision — discovery fallback, PKCE, state and
//! issuer checks, scope fallback, reduced grants, refresh, paging, retry and backoff, pausing for
//! a token, refusing to send a token to another origin — is tested natively against recorded
//! responses.
//!
//! The access token never leaves memory: [`AccessToken`] cannot be serialised and its `Debug`
//! is redacted. What is persisted ([`Connection`], [`import::ImportState`]) holds no access
//! token.
//!
//! # Flow (standalone patient launch, public client, PKCE S256)
//!
//! 1. **Pick a provider** from the [`directory`] (deployer file, Brands bundle, or patient-added).
//!    [`ProviderEntry::client_registration`], [`ProviderEntry::scope_options`] and
//!    [`ProviderEntry::import_options`] turn it into the inputs of the next steps.
//! 2. **Discover**: [`Discovery::new`]`(base, PkcePolicy::default())`; perform
//!    [`Discovery::request`], feed [`Discovery::on_response`] until
//!    [`DiscoveryStep::Done`]`(server)`. The well-known file is tried first, the
//!    CapabilityStatement second; servers without PKCE S256 are refused.
//! 3. **Authorise**: [`requested_scopes`]`(&server, &ScopeOptions::default())`, then
//!    [`begin_authorization`]`(&server, &client, &scopes, &mut rng, now)`. Store
//!    `start.pending.seal(rng)` in `sessionStorage` under `start.pending.storage_key()`, then
//!    navigate to `start.url`.
//! 4. **Callback**: look the pending sign-in up with [`storage_key_for_callback`]`(location)`
//!    (none → [`CallbackError::ForgedOrStale`]), remove it from `sessionStorage`, open it with
//!    [`PendingAuthorization::open`]`(stored, location)` and call
//!    [`PendingAuthorization::complete`]`(location, now)` to get the code. Replace the URL
//!    (`history.replaceState`) so the code does not stay in the address bar.
//! 5. **Token**: send [`PendingAuthorization::token_request`]`(&code)`, then
//!    [`PendingAuthorization::finish`]`(&response, now)` → [`Authorized`] (the [`Connection`] to
//!    save in the vault, the in-memory [`AccessToken`], and what was *not* granted).
//! 6. **Import**: [`import::ImportSession::start`]; see the [`import`] module for the loop.
//! 7. **Later syncs**: if [`AccessToken::needs_refresh`] and [`Connection::can_refresh`], send
//!    [`Connection::refresh_request`] and apply it with [`Connection::apply_refresh`] (rotation
//!    handled); otherwise reconnect (steps 2–5 with [`Connection::client_registration`]).
//!    For an incremental sync set `ImportOptions::since` to [`Connection::incremental_since`]
//!    when the server supports `_lastUpdated`; after `Finished`, call
//!    [`Connection::record_sync`] and save the connection.

#![warn(missing_docs)]

pub mod authorize;
mod brands;
pub mod directory;
pub mod discovery;
pub mod http;
pub mod import;
pub mod pkce;
pub mod scopes;
pub mod time;
pub mod token;
pub mod urls;

pub use authorize::{
    begin_authorization, storage_key_for_callback, stored_pending_is_stale, AuthorizationCode,
    AuthorizationStart, AuthorizeError, CallbackError, ClientRegistration, PendingAuthorization,
    StateProblem, PENDING_LIFETIME_MS,
};
pub use directory::{
    parse_directory, patient_added_provider, providers_from_brands, BrandSkip, BrandsError,
    BrandsImport, DirectoryError, EntrySource, ProviderDirectory, ProviderEntry,
};
pub use discovery::{
    supports_last_updated, Discovery, DiscoveryError, DiscoverySource, DiscoveryStep,
    DiscoveryWarning, PkcePolicy, SmartServer,
};
pub use http::{HttpRequest, HttpResponse, Method, NetworkFailure, RequestId};
pub use pkce::{s256_challenge, CodeVerifier, OAuthState, RandomSource};
pub use scopes::{
    choose_version, requested_scopes, GrantedAccess, RequestedScopes, ResourceScopes, ScopeOptions,
    ScopeVersion, SearchAccess,
};
pub use time::UnixMillis;
pub use token::{
    AccessToken, Authorized, Connection, TokenError, INCREMENTAL_OVERLAP_MS, REFRESH_MARGIN_MS,
};
pub use urls::{FhirBase, UrlError};
