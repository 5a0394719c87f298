#!/usr/bin/env bash
# Configures a freshly set-up, running Glewlwyd (setup.sh, then glewlwyd -c STATE/glewlwyd.conf)
# over its admin REST API, as the package's default administrator (admin / password):
#   scripts/targets/glewlwyd/configure.sh STATE_DIR PORT
# Creates the scopes, the OpenID Connect plugin instance "oidc" (used as a plain OAuth 2.0
# server: allow-non-oidc), the users and the clients that fixtures/profiles/glewlwyd.toml
# names. Every value here must match the profile.
set -euo pipefail
state="$1"
port="$2"
base="http://127.0.0.1:$port/api"
jar="$state/admin.cookies"
rm -f "$jar"

api() { # METHOD PATH [JSON]: fails loudly on any status but 200
  local method="$1" path="$2" body="${3:-}" out code
  out="$(mktemp)"
  if [ -n "$body" ]; then
    code="$(curl -s -o "$out" -w '%{http_code}' -b "$jar" -c "$jar" -X "$method" \
      -H 'Content-Type: application/json' --data-binary "$body" "$base$path")"
  else
    code="$(curl -s -o "$out" -w '%{http_code}' -b "$jar" -c "$jar" -X "$method" "$base$path")"
  fi
  if [ "$code" != 200 ]; then
    echo "configure.sh: $method $path answered $code: $(head -c 500 "$out")" >&2
    rm -f "$out"
    exit 2
  fi
  rm -f "$out"
}

# Sign in as the administrator the package's init script creates.
api POST /auth/ '{"username":"admin","password":"password"}'

# Scopes the users may grant. A password is required for each (password_max_age 0: the
# password of the current session counts however old it is), so an authorization request
# always asks the user to sign in with the password scheme.
for s in scope1 scope2; do
  api POST /scope/ "$(jq -nc --arg s "$s" '{name:$s, display_name:$s,
    description:("conformance suite scope " + $s), password_required:true, password_max_age:0,
    scheme:{}}')"
done
# openid (created by the init script without a password requirement) too.
api PUT /scope/openid '{"name":"openid","display_name":"Open ID","description":"Open ID Connect scope","password_required":true,"password_max_age":0,"scheme":{}}'

# The OpenID Connect plugin instance, used as a plain OAuth 2.0 authorization server.
# Endpoints under http://127.0.0.1:PORT/api/oidc/ (auth, token, introspect, revoke,
# userinfo, .well-known/openid-configuration).
params="$(jq -nc --rawfile key "$state/private.pem" --rawfile cert "$state/public.pem" \
  --arg iss "http://127.0.0.1:$port/api/oidc" '{
  iss: $iss,
  "jwt-type": "rsa", "jwt-key-size": "256", key: $key, cert: $cert,
  "jwks-show": true,
  "secret-type": "public",
  "access-token-duration": 6,
  "refresh-token-duration": 1209600,
  "code-duration": 5,
  "refresh-token-rolling": true,
  "refresh-token-one-use": "always",
  "client-refresh-token-one-use-parameter": "refresh-token-one-use",
  "allow-non-oidc": true,
  "auth-type-code-enabled": true,
  "auth-type-code-revoke-replayed": true,
  "auth-type-token-enabled": false,
  "auth-type-id-token-enabled": true,
  "auth-type-none-enabled": false,
  "auth-type-password-enabled": true,
  "auth-type-client-enabled": true,
  "auth-type-device-enabled": false,
  "auth-type-refresh-enabled": true,
  scope: [], "additional-parameters": [],
  claims: [{name: "username", "user-property": "username", type: "string",
            "boolean-value-true": "", "boolean-value-false": "",
            mandatory: true, "on-demand": false, scope: []}],
  "address-claim": {type: "no", formatted: "", street_address: "", locality: "", region: "",
                    postal_code: "", country: "", mandatory: false},
  "name-claim": "no", "name-claim-scope": [], "email-claim": "no", "email-claim-scope": [],
  "scope-claim": "no", "scope-claim-scope": [],
  "allowed-scope": ["openid", "scope1", "scope2"],
  "service-documentation": "", "op-policy-uri": "", "op-tos-uri": "",
  "request-parameter-allow": false,
  "pkce-allowed": true, "pkce-method-plain-allowed": true,
  "pkce-required": false, "pkce-required-public-client": false, "pkce-scopes": [],
  "introspection-revocation-allowed": true,
  "introspection-revocation-auth-scope": [],
  "introspection-revocation-allow-target-client": true,
  "register-client-allowed": false,
  "session-management-allowed": false,
  "encrypt-out-token-allow": false,
  "oauth-dpop-allowed": false, "resource-allowed": false, "oauth-rar-allowed": false,
  "oauth-par-allowed": false, "oauth-ciba-allowed": false
}')"
api POST /mod/plugin/ "$(jq -nc --argjson p "$params" '{module:"oidc", name:"oidc",
  display_name:"OpenID Connect", parameters:$p}')"

# Users of the database backend; password scheme = the user's password.
user() { # USERNAME PASSWORD
  api POST /user/ "$(jq -nc --arg u "$1" --arg p "$2" '{username:$u, name:$u,
    email:($u + "@example.com"), password:$p, enabled:true,
    scope:["g_profile","openid","scope1","scope2"]}')"
}
user alice "alice-correct-horse"
user bob "bob-battery-staple"

# Clients of the database backend. client_secret is stored as given (not hashed);
# token_endpoint_auth_method restricts how each may authenticate.
client() { # ID SECRET|"" AUTH_METHOD AUTH_TYPES_JSON REDIRECTS_JSON SCOPES_JSON
  api POST /client/ "$(jq -nc --arg id "$1" --arg secret "$2" --arg m "$3" \
    --argjson types "$4" --argjson redirects "$5" --argjson scope "$6" '{
    client_id:$id, name:$id, description:"conformance suite client", enabled:true,
    confidential:($secret != ""), authorization_type:$types, redirect_uri:$redirects,
    token_endpoint_auth_method:[$m], scope:$scope}
    + (if $secret != "" then {client_secret:$secret} else {} end)')"
}
all='["code","password","refresh_token","delete_token"]'
client basic-client "basic-client-secret-0123456789" client_secret_basic "$all" \
  '["https://basic.example/callback","https://basic.example/other?from=seed"]' '[]'
client post-client "post-client-secret-0123456789" client_secret_post "$all" \
  '["https://post.example/callback"]' '[]'
client public-client "" none '["code","refresh_token","delete_token"]' \
  '["http://127.0.0.1/callback"]' '[]'
client second-client "second:secret+with%special/chars" client_secret_basic "$all" \
  '["https://second.example/callback"]' '[]'
client service-client "service-client-secret-0123456789" client_secret_basic \
  '["client_credentials"]' '[]' '["scope1"]'

# Glewlwyd asks a user to grant a client its scopes once (a page with a checkbox per scope
# and a "Grant access" button, which no login driver ticks on its own); the grant is stored
# per user and client. Each user grants them here, through the same API the login page
# uses, so that the login is: the password form, then the "Connection to <client>" page
# and its "Continue" button.
for u in "alice:alice-correct-horse" "bob:bob-battery-staple"; do
  rm -f "$jar"
  api POST /auth/ "$(jq -nc --arg u "${u%%:*}" --arg p "${u#*:}" '{username:$u, password:$p}')"
  for c in basic-client post-client public-client second-client; do
    api PUT "/auth/grant/$c" '{"scope":"openid scope1 scope2"}'
  done
done

rm -f "$jar"
