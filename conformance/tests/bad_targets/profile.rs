//! Target profiles that point the runner at a bad target in three ways: discovery only,
//! explicit endpoints with a login, explicit endpoints without one.

/// Secrets of the profiles; none may appear in any output.
pub const SECRETS: &[&str] = &[
    "basic-secret-4f1c9a",
    "post-secret-77d2e0",
    "second:secret+c3a8/b1%",
    "service-secret-9e6f24",
    "alice-password-5b7d",
    "bob-password-2e9c",
];

/// How the profile points the runner at the bad target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// An issuer only: RFC 8414 discovery meets the bad target first (exit 2).
    Discovery,
    /// Explicit endpoints with an authorization endpoint: the login preflight meets it
    /// (exit 2).
    Login,
    /// Explicit endpoints without a login: the whole suite runs and fails (exit 1).
    Suite,
}

/// A profile of this shape whose endpoints are all on the bad target at `url`.
pub fn profile(shape: Shape, url: &str) -> String {
    let redirect = "redirect_uri = \"http://127.0.0.1/callback\"";
    let clients = format!(
        r#"
[clients.confidential_basic]
id = "basic"
secret = "basic-secret-4f1c9a"
auth_method = "client_secret_basic"
scope = "profile"
{redirect}

[clients.confidential_post]
id = "post"
secret = "post-secret-77d2e0"
auth_method = "client_secret_post"
scope = "profile"
{redirect}

[clients.public]
id = "public"
auth_method = "none"
scope = "profile"
{redirect}

[clients.second_confidential]
id = "second"
secret = "second:secret+c3a8/b1%"
auth_method = "client_secret_basic"
scope = "profile"
{redirect}

[clients.client_credentials]
id = "service"
secret = "service-secret-9e6f24"
auth_method = "client_secret_basic"
scope = "profile"

[users.primary]
username = "alice@example.com"
password = "alice-password-5b7d"

[users.secondary]
username = "bob@example.com"
password = "bob-password-2e9c"

[resource]
url = "{url}/api/me"
scope = "profile"
insufficient_scope = "email"
user_field = "email"
"#
    );
    let endpoints = format!(
        "[endpoints]\ntoken = \"{url}/oauth/token\"\nrevocation = \"{url}/oauth/revoke\"\nintrospection = \"{url}/oauth/introspect\"\n"
    );
    match shape {
        Shape::Discovery => format!("name = \"bad\"\nissuer = \"{url}\"\n{clients}"),
        Shape::Login => format!(
            "name = \"bad\"\n{endpoints}authorization = \"{url}/oauth/authorize\"\n{clients}\n[capabilities]\nmetadata = false\ngrants = [\"authorization_code\", \"refresh_token\"]\npkce = true\n"
        ),
        Shape::Suite => format!(
            "name = \"bad\"\n{endpoints}{clients}\n[capabilities]\nmetadata = false\ngrants = [\"password\", \"client_credentials\", \"refresh_token\"]\n"
        ),
    }
}
