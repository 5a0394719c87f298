//! What the generator draws: an abstract request (a valid seed request for some endpoint
//! plus a list of mutations, or framing garbage), and the proptest strategies that draw
//! them. Cases name pool slots, never secrets, so a failing case prints no credential
//! and shrinks like any other value.

use proptest::prelude::*;

use crate::spec::Kinds;

/// A client slot of the [`crate::Spec`] (taken modulo the number of clients), and so
/// how a request authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cred(pub u8);

/// A valid request for one endpoint, built from the live pool of credentials.
#[derive(Debug, Clone)]
pub enum Seed {
    /// `grant_type=client_credentials`.
    ClientCredentials(Cred),
    /// `grant_type=password` for a user slot of the spec.
    Password(Cred, u8),
    /// `grant_type=refresh_token` with a live refresh token of the pool.
    Refresh(u16),
    /// `grant_type=authorization_code` with an unused code of the pool.
    Code(u16),
    /// Revocation of a pooled access (false) or refresh (true) token by its client.
    Revoke(u16, bool),
    /// Introspection of a pooled token by a client.
    Introspect(u16, bool, Cred),
    /// An authorization request (the login page) for a client slot among those with a
    /// redirection URI.
    AuthorizeGet(u8),
    /// The login form posted back with a CSRF pair, a password and a button.
    Login {
        /// A client slot among those with a redirection URI.
        client: u8,
        /// The login user's password, or a wrong one.
        good_password: bool,
        /// Approve, or Deny.
        approve: bool,
    },
    /// `/api/me` with a pooled access token in the header (false) or a form body (true).
    Me(u16, bool),
    /// The metadata document.
    Metadata,
    /// A path no endpoint serves.
    Unknown(u8),
}

/// A value put into a parameter or a body.
#[derive(Debug, Clone)]
pub enum Val {
    /// Nothing.
    Empty,
    /// A word of [`WORDS`], form-encoded.
    Word(u8),
    /// `len` copies of one letter (up to and over the 64 KiB body limit).
    Long(u32, u8),
    /// Raw pseudo-random bytes, not encoded (invalid UTF-8, stray `&` and `=`).
    Noise(u16, u32),
    /// The current value followed by a broken percent-escape of [`BROKEN`].
    BrokenPct(u8),
    /// Arbitrary Unicode, form-encoded.
    Unicode(String),
    /// A live secret of the pool (another token, another client's, a code).
    Pool(u16),
    /// A code or refresh token that was already used.
    Spent(u16),
    /// The current value with one character changed.
    Flip(u8),
    /// The current value cut short.
    Truncate(u8),
    /// [`PROBE`]: markup no answer may echo unescaped.
    Probe,
}

/// One change to a seed request.
#[derive(Debug, Clone)]
pub enum Mutation {
    /// Remove a parameter.
    Drop(u8),
    /// Send a parameter twice: the same value (`None`) or another.
    Repeat(u8, Option<Val>),
    /// Replace a parameter's value.
    Set(u8, Val),
    /// Add a parameter named from [`NAMES`].
    Add(u8, Val),
    /// Change the case of a parameter name.
    Rename(u8),
    /// Add a query parameter named from [`NAMES`].
    Query(u8, Val),
    /// Move every body parameter into the query string.
    FormToQuery,
    /// Another method from [`METHODS`].
    Method(u8),
    /// Another or no content type.
    ContentType(u8),
    /// Another, broken, repeated or no Authorization header.
    Auth(u8),
    /// An odd header; the number sizes it.
    Header(u8, u16),
    /// Another path close to the real one.
    Path(u8),
    /// Replace the body with a raw value.
    RawBody(Val),
    /// Send the body chunked.
    Chunked,
}

/// Bytes that are not a well-formed request at all.
#[derive(Debug, Clone)]
pub enum Garbage {
    /// Pseudo-random bytes.
    Noise(u16, u32),
    /// A broken request line.
    RequestLine(u8),
    /// A header line that is not a header.
    HeaderLine(u8),
    /// A Content-Length smaller than the body.
    ShortContentLength,
    /// Broken chunked framing.
    BadChunk(u8),
    /// Content-Length and Transfer-Encoding together.
    BothFramings,
    /// An HTTP/1.0 request, with or without a body.
    Http10(bool),
}

/// One generated request.
#[derive(Debug, Clone)]
pub enum Case {
    /// A seed request and its mutations; `reqwest` picks the client library when it
    /// can express the result.
    Mutated {
        /// The valid starting point.
        seed: Seed,
        /// The changes, in order.
        mutations: Vec<Mutation>,
        /// Send through reqwest when possible.
        reqwest: bool,
    },
    /// Framing garbage, raw on a fresh connection.
    Garbage(Garbage),
}

/// Words values are drawn from: grant types, scopes, URIs, ids, odd literals.
pub const WORDS: &[&str] = &[
    "client_credentials",
    "password",
    "refresh_token",
    "authorization_code",
    "implicit",
    "urn:ietf:params:oauth:grant-type:jwt-bearer",
    "profile",
    "email",
    "profile email",
    "openid admin",
    "S256",
    "plain",
    "code",
    "token",
    "approve",
    "deny",
    "access_token",
    "https://basic.example/callback",
    "http://127.0.0.1/callback",
    "javascript:alert(1)",
    "basic-client",
    "public-client",
    "service-client",
    "unknown-client",
    "alice@example.com",
    "alice-correct-horse",
    "\u{0}",
    " ",
    "+",
    "null",
    "{}",
    "-1",
    "99999999999999999999999999",
    "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
    "<script>",
    "%",
    PROBE,
    "\u{430}lice",
    "\u{ff41}\u{ff44}\u{ff4d}\u{ff49}\u{ff4e}",
    "\u{202e}evil",
    "a\u{0}b",
    "\r\nX-Injected: 1",
];

/// Markup no page contains by itself: an answer that holds it unescaped echoed input
/// into HTML.
pub const PROBE: &str = "<oauth2-fuzz-probe x=\"1\">";

/// Parameter names mutations add.
pub const NAMES: &[&str] = &[
    "grant_type",
    "client_id",
    "client_secret",
    "code",
    "redirect_uri",
    "code_verifier",
    "refresh_token",
    "scope",
    "username",
    "password",
    "token",
    "token_type_hint",
    "access_token",
    "state",
    "response_type",
    "code_challenge",
    "code_challenge_method",
    "csrf_token",
    "action",
    "email",
    "x",
    "Grant_Type",
    "a%5B%5D",
    "%00",
    "%zz",
];

/// Methods mutations switch to (including an unknown one and wrong case).
pub const METHODS: &[&str] = &[
    "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "BREW", "post", "GeT",
];

/// Broken percent-escapes.
pub const BROKEN: &[&str] = &["%", "%4", "%zz", "%ff", "%C3%28", "%00", "%e9", "%%"];

fn cred() -> impl Strategy<Value = Cred> {
    any::<u8>().prop_map(Cred)
}

fn seed(k: Kinds) -> BoxedStrategy<Seed> {
    let mut arms: Vec<(u32, BoxedStrategy<Seed>)> = Vec::new();
    let mut arm = |on: bool, weight: u32, s: BoxedStrategy<Seed>| {
        if on {
            arms.push((weight, s));
        }
    };
    arm(
        k.token,
        12,
        cred().prop_map(Seed::ClientCredentials).boxed(),
    );
    arm(
        k.password,
        4,
        (cred(), any::<u8>())
            .prop_map(|(c, u)| Seed::Password(c, u))
            .boxed(),
    );
    arm(k.token, 14, any::<u16>().prop_map(Seed::Refresh).boxed());
    arm(k.token, 8, any::<u16>().prop_map(Seed::Code).boxed());
    arm(
        k.revoke,
        8,
        (any::<u16>(), any::<bool>())
            .prop_map(|(s, r)| Seed::Revoke(s, r))
            .boxed(),
    );
    arm(
        k.introspect,
        8,
        (any::<u16>(), any::<bool>(), cred())
            .prop_map(|(s, r, c)| Seed::Introspect(s, r, c))
            .boxed(),
    );
    arm(
        k.authorize,
        6,
        any::<u8>().prop_map(Seed::AuthorizeGet).boxed(),
    );
    arm(
        k.login,
        5,
        (any::<u8>(), any::<bool>(), any::<bool>())
            .prop_map(|(client, good_password, approve)| Seed::Login {
                client,
                good_password,
                approve,
            })
            .boxed(),
    );
    arm(
        k.resource,
        10,
        (any::<u16>(), any::<bool>())
            .prop_map(|(s, p)| Seed::Me(s, p))
            .boxed(),
    );
    arm(k.metadata, 2, Just(Seed::Metadata).boxed());
    arm(k.unknown, 2, any::<u8>().prop_map(Seed::Unknown).boxed());
    if arms.is_empty() {
        // Nothing named: garbage only (see `case`).
        return Just(Seed::Unknown(0)).boxed();
    }
    proptest::strategy::Union::new_weighted(arms).boxed()
}

/// Lengths: mostly short, some a few KiB, a few around and over the 64 KiB limit.
fn length() -> impl Strategy<Value = u32> {
    prop_oneof![
        20 => 1u32..200,
        6 => 200u32..8_000,
        1 => 60_000u32..70_000,
    ]
}

fn val() -> impl Strategy<Value = Val> {
    prop_oneof![
        3 => Just(Val::Empty),
        6 => (0..WORDS.len() as u8).prop_map(Val::Word),
        2 => (length(), any::<u8>()).prop_map(|(l, b)| Val::Long(l, b)),
        4 => (1u16..300, any::<u32>()).prop_map(|(l, s)| Val::Noise(l, s)),
        4 => (0..BROKEN.len() as u8).prop_map(Val::BrokenPct),
        2 => "\\PC{0,12}".prop_map(Val::Unicode),
        4 => any::<u16>().prop_map(Val::Pool),
        4 => any::<u16>().prop_map(Val::Spent),
        4 => any::<u8>().prop_map(Val::Flip),
        2 => any::<u8>().prop_map(Val::Truncate),
        2 => Just(Val::Probe),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        5 => any::<u8>().prop_map(Mutation::Drop),
        4 => (any::<u8>(), proptest::option::of(val())).prop_map(|(i, v)| Mutation::Repeat(i, v)),
        8 => (any::<u8>(), val()).prop_map(|(i, v)| Mutation::Set(i, v)),
        4 => ((0..NAMES.len() as u8), val()).prop_map(|(i, v)| Mutation::Add(i, v)),
        2 => any::<u8>().prop_map(Mutation::Rename),
        3 => ((0..NAMES.len() as u8), val()).prop_map(|(i, v)| Mutation::Query(i, v)),
        1 => Just(Mutation::FormToQuery),
        3 => (0..METHODS.len() as u8).prop_map(Mutation::Method),
        3 => any::<u8>().prop_map(Mutation::ContentType),
        4 => any::<u8>().prop_map(Mutation::Auth),
        3 => (any::<u8>(), any::<u16>()).prop_map(|(k, n)| Mutation::Header(k, n)),
        2 => any::<u8>().prop_map(Mutation::Path),
        2 => val().prop_map(Mutation::RawBody),
        1 => Just(Mutation::Chunked),
    ]
}

fn garbage() -> impl Strategy<Value = Garbage> {
    prop_oneof![
        (1u16..2_000, any::<u32>()).prop_map(|(l, s)| Garbage::Noise(l, s)),
        any::<u8>().prop_map(Garbage::RequestLine),
        any::<u8>().prop_map(Garbage::HeaderLine),
        Just(Garbage::ShortContentLength),
        any::<u8>().prop_map(Garbage::BadChunk),
        Just(Garbage::BothFramings),
        any::<bool>().prop_map(Garbage::Http10),
    ]
}

/// One request: mostly a mutated valid one (a tenth left valid), some pure garbage.
pub fn case(k: Kinds) -> BoxedStrategy<Case> {
    if k == Kinds::default() {
        return garbage().prop_map(Case::Garbage).boxed();
    }
    prop_oneof![
        96 => (
            seed(k),
            prop_oneof![1 => Just(0usize), 10 => 1usize..3, 4 => 3usize..6]
                .prop_flat_map(|n| proptest::collection::vec(mutation(), n)),
            proptest::bool::weighted(0.3),
        )
            .prop_map(|(seed, mutations, reqwest)| Case::Mutated { seed, mutations, reqwest }),
        4 => garbage().prop_map(Case::Garbage),
    ]
    .boxed()
}

/// A batch of requests sent at once over several connections.
pub fn batch(k: Kinds, size: usize) -> impl Strategy<Value = Vec<Case>> {
    proptest::collection::vec(case(k), size)
}
