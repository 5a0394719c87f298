"""A small OAuth 2.0 authorization server built on Authlib's Flask integration.

Written for the conformance suite from Authlib's documentation ("Flask OAuth 2.0
Server", "Authorization Code Grant", "PKCE", "Token Revocation", "Token
Introspection", "Resource Server"), using the library's SQLAlchemy mixins and helper
functions where it offers them, so the behaviour checked is the library's.

- storage: SQLite through Flask-SQLAlchemy (a fresh file at each start);
- grants: authorization code with PKCE (CodeChallenge, required for public clients),
  refresh token (rotation: a new refresh token each time, the old one revoked),
  client credentials, resource owner password;
- endpoints: /oauth/authorize (login + consent HTML forms with a CSRF token bound to
  the session), /oauth/token, /oauth/revoke (RFC 7009), /oauth/introspect (RFC 7662),
  /.well-known/oauth-authorization-server (RFC 8414), and the bearer-protected
  /api/me (RFC 6750);
- users have hashed passwords (werkzeug.security);
- lifetimes: authorization code 8 s, access token 5 s (short so expiry scenarios run).

Usage: python app.py [--port 18091] [--db path]
"""

import argparse
import html
import os
import secrets
import time

from flask import Flask, abort, jsonify, redirect, request, session
from flask_sqlalchemy import SQLAlchemy
from werkzeug.security import check_password_hash, generate_password_hash

from authlib.integrations.flask_oauth2 import (
    AuthorizationServer,
    ResourceProtector,
    current_token,
)
from authlib.integrations.sqla_oauth2 import (
    OAuth2AuthorizationCodeMixin,
    OAuth2ClientMixin,
    OAuth2TokenMixin,
    create_bearer_token_validator,
    create_query_client_func,
    create_query_token_func,
    create_revocation_endpoint,
    create_save_token_func,
)
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint

HOST = "127.0.0.1"
# Authlib's mixins store auth_time / issued_at as whole seconds, so a lifetime of N s
# ends between N-1 and N s after issue; 5 s leaves room for a loaded machine.
CODE_LIFETIME = 8
ACCESS_TOKEN_LIFETIME = 5
REFRESH_TOKEN_LIFETIME = 24 * 3600
SCOPES = ["profile", "email"]

db = SQLAlchemy()


# --- models -------------------------------------------------------------------


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(120), unique=True, nullable=False)
    password_hash = db.Column(db.String(255), nullable=False)

    def get_user_id(self):
        return self.id

    def check_password(self, password):
        return check_password_hash(self.password_hash, password)


class Client(db.Model, OAuth2ClientMixin):
    id = db.Column(db.Integer, primary_key=True)


class AuthorizationCode(db.Model, OAuth2AuthorizationCodeMixin):
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"))

    def is_expired(self):
        # The mixin hard-codes 300 s; the lifetime is configured here.
        return self.auth_time + CODE_LIFETIME < time.time()


class Token(db.Model, OAuth2TokenMixin):
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"))
    user = db.relationship("User")

    def is_refresh_token_valid(self):
        if not self.refresh_token or self.refresh_token_revoked_at:
            return False
        return self.issued_at + REFRESH_TOKEN_LIFETIME >= time.time()


# --- grants -------------------------------------------------------------------


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def save_authorization_code(self, code, request):
        item = AuthorizationCode(
            code=code,
            client_id=request.client.client_id,
            redirect_uri=request.payload.redirect_uri,
            scope=request.scope,
            user_id=request.user.id,
            code_challenge=request.payload.data.get("code_challenge"),
            code_challenge_method=request.payload.data.get("code_challenge_method"),
        )
        db.session.add(item)
        db.session.commit()
        return item

    def query_authorization_code(self, code, client):
        item = AuthorizationCode.query.filter_by(
            code=code, client_id=client.client_id
        ).first()
        if item and not item.is_expired():
            return item

    def delete_authorization_code(self, authorization_code):
        db.session.delete(authorization_code)
        db.session.commit()

    def authenticate_user(self, authorization_code):
        return db.session.get(User, authorization_code.user_id)


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
    # Rotation: every refresh returns a new refresh token; the old one is revoked.
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token):
        item = Token.query.filter_by(refresh_token=refresh_token).first()
        if item and item.is_refresh_token_valid():
            return item

    def authenticate_user(self, refresh_token):
        return db.session.get(User, refresh_token.user_id)

    def revoke_old_credential(self, refresh_token):
        now = int(time.time())
        refresh_token.refresh_token_revoked_at = now
        refresh_token.access_token_revoked_at = now
        db.session.add(refresh_token)
        db.session.commit()


class PasswordGrant(grants.ResourceOwnerPasswordCredentialsGrant):
    # Public clients may use it too, identified by client_id (RFC 6749 §4.3.2).
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def authenticate_user(self, username, password):
        user = User.query.filter_by(email=username).first()
        if user is not None and user.check_password(password):
            return user


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


# --- revocation and introspection -----------------------------------------------

query_token = create_query_token_func(db.session, Token)
RevocationBase = create_revocation_endpoint(db.session, Token)


class RevocationEndpoint(RevocationBase):
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


class MyIntrospectionEndpoint(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def query_token(self, token_string, token_type_hint):
        return query_token(token_string, token_type_hint)

    def check_permission(self, token, client, request):
        # A confidential client may introspect the tokens issued to it.
        return token.check_client(client)

    def introspect_token(self, token):
        return {
            "active": True,
            "client_id": token.client_id,
            "token_type": token.token_type,
            "username": token.user.email if token.user else None,
            "scope": token.get_scope(),
            "sub": str(token.user_id) if token.user_id else None,
            "aud": token.client_id,
            "iss": ISSUER,
            "exp": token.issued_at + token.expires_in,
            "iat": token.issued_at,
        }


# --- the application ------------------------------------------------------------

app = Flask(__name__)
server = AuthorizationServer()
require_oauth = ResourceProtector()
ISSUER = ""


def create_app(port, db_path):
    global ISSUER
    ISSUER = f"http://{HOST}:{port}"
    app.config.update(
        SECRET_KEY=secrets.token_hex(32),
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{db_path}",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        OAUTH2_SCOPES_SUPPORTED=SCOPES,
        OAUTH2_REFRESH_TOKEN_GENERATOR=True,
        OAUTH2_TOKEN_EXPIRES_IN={
            "authorization_code": ACCESS_TOKEN_LIFETIME,
            "refresh_token": ACCESS_TOKEN_LIFETIME,
            "password": ACCESS_TOKEN_LIFETIME,
            "client_credentials": ACCESS_TOKEN_LIFETIME,
        },
    )
    db.init_app(app)
    server.init_app(
        app,
        query_client=create_query_client_func(db.session, Client),
        save_token=create_save_token_func(db.session, Token),
    )
    server.register_grant(AuthorizationCodeGrant, [CodeChallenge(required=True)])
    server.register_grant(RefreshTokenGrant)
    server.register_grant(PasswordGrant)
    server.register_grant(ClientCredentialsGrant)
    server.register_endpoint(RevocationEndpoint)
    server.register_endpoint(MyIntrospectionEndpoint)
    require_oauth.register_token_validator(
        create_bearer_token_validator(db.session, Token)()
    )
    with app.app_context():
        db.drop_all()
        db.create_all()
        seed()
    return app


def seed():
    users = [
        ("alice@example.com", "alice-correct-horse"),
        ("bob@example.com", "bob-battery-staple"),
    ]
    for email, password in users:
        # A cheap but real hash for test users (like the bundled server's bcrypt cost 4):
        # werkzeug's default scrypt, under the GIL, makes a suite of logins so slow that
        # 8-second codes expire before they are redeemed.
        db.session.add(
            User(email=email, password_hash=generate_password_hash(password, method="pbkdf2:sha256:10000"))
        )
    code_grants = ["authorization_code", "refresh_token"]
    clients = [
        ("basic-client", "basic-client-secret-0123456789", "client_secret_basic",
         ["https://basic.example/callback", "https://basic.example/other?from=seed"],
         code_grants + ["password"]),
        ("post-client", "post-client-secret-0123456789", "client_secret_post",
         ["https://post.example/callback"], code_grants + ["password"]),
        ("public-client", "", "none", ["http://127.0.0.1/callback"],
         code_grants + ["password"]),
        ("second-client", "second:secret+with%special/chars", "client_secret_basic",
         ["https://second.example/callback"], code_grants + ["password"]),
        ("service-client", "service-client-secret-0123456789", "client_secret_basic",
         [], ["client_credentials"]),
    ]
    for client_id, secret, method, uris, grant_types in clients:
        client = Client(
            client_id=client_id,
            client_secret=secret,
            client_id_issued_at=int(time.time()),
        )
        client.set_client_metadata(
            {
                "client_name": client_id,
                "redirect_uris": uris,
                "grant_types": grant_types,
                "response_types": ["code"] if uris else [],
                "scope": " ".join(SCOPES),
                "token_endpoint_auth_method": method,
            }
        )
        db.session.add(client)
    db.session.commit()


# --- HTML pages -----------------------------------------------------------------


@app.after_request
def page_headers(response):
    if response.mimetype == "text/html":
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
    return response


def csrf_token():
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def check_csrf():
    sent = request.form.get("csrf_token", "")
    expected = session.get("csrf", "")
    if not expected or not secrets.compare_digest(sent, expected):
        abort(400, "CSRF token missing or wrong")


def page(title, body, status=200):
    text = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head><body>"
        f"<h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return text, status, {"Content-Type": "text/html; charset=utf-8"}


def login_page(error=""):
    action = html.escape(request.full_path)
    message = f"<p role='alert'>{html.escape(error)}</p>" if error else ""
    return page(
        "Sign in",
        f"{message}<form method='post' action='{action}'>"
        f"<input type='hidden' name='csrf_token' value='{csrf_token()}'>"
        "<label>Email <input type='email' name='username'></label>"
        "<label>Password <input type='password' name='password'></label>"
        "<button type='submit' name='action' value='login'>Sign in</button>"
        "</form>",
    )


def consent_page(user, grant):
    action = html.escape(request.full_path)
    client = grant.client
    scope = grant.request.scope or "(none)"
    return page(
        "Authorize access",
        f"<p>Signed in as {html.escape(user.email)}.</p>"
        f"<p>{html.escape(client.client_name or client.client_id)} asks for: "
        f"{html.escape(scope)}</p>"
        f"<form method='post' action='{action}'>"
        f"<input type='hidden' name='csrf_token' value='{csrf_token()}'>"
        "<button type='submit' name='decision' value='approve'>Approve</button>"
        "<button type='submit' name='decision' value='deny'>Deny</button>"
        "</form>",
    )


def current_user():
    uid = session.get("uid")
    return db.session.get(User, uid) if uid else None


@app.route("/oauth/authorize", methods=["GET", "POST"])
def authorize():
    user = current_user()
    try:
        grant = server.get_consent_grant(end_user=user)
    except OAuth2Error as error:
        if getattr(error, "redirect_uri", None):
            return server.handle_error_response(None, error)
        return page(
            "Authorization error",
            f"<p>{html.escape(error.error)}: {html.escape(error.description or '')}</p>",
            400,
        )
    if request.method == "GET":
        return consent_page(user, grant) if user else login_page()
    check_csrf()
    if request.form.get("action") == "login":
        candidate = User.query.filter_by(email=request.form.get("username", "")).first()
        if candidate is None or not candidate.check_password(
            request.form.get("password", "")
        ):
            return login_page("Wrong email or password.")
        session.clear()
        session["uid"] = candidate.id
        return redirect(request.full_path, code=303)
    if user is None:
        return login_page()
    granted = user if request.form.get("decision") == "approve" else None
    # Each consent answers one request: the next authorization request asks again.
    session.pop("uid", None)
    return server.create_authorization_response(grant_user=granted, grant=grant)


@app.route("/oauth/token", methods=["POST"])
def issue_token():
    return server.create_token_response()


@app.route("/oauth/revoke", methods=["POST"])
def revoke_token():
    return server.create_endpoint_response(RevocationEndpoint.ENDPOINT_NAME)


@app.route("/oauth/introspect", methods=["POST"])
def introspect_token():
    return server.create_endpoint_response(MyIntrospectionEndpoint.ENDPOINT_NAME)


@app.route("/.well-known/oauth-authorization-server")
def metadata():
    return jsonify(
        {
            "issuer": ISSUER,
            "authorization_endpoint": f"{ISSUER}/oauth/authorize",
            "token_endpoint": f"{ISSUER}/oauth/token",
            "revocation_endpoint": f"{ISSUER}/oauth/revoke",
            "introspection_endpoint": f"{ISSUER}/oauth/introspect",
            "scopes_supported": SCOPES,
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": [
                "authorization_code",
                "refresh_token",
                "password",
                "client_credentials",
            ],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
                "none",
            ],
            "revocation_endpoint_auth_methods_supported": RevocationEndpoint.CLIENT_AUTH_METHODS,
            "introspection_endpoint_auth_methods_supported": MyIntrospectionEndpoint.CLIENT_AUTH_METHODS,
            "code_challenge_methods_supported": CodeChallenge.SUPPORTED_CODE_CHALLENGE_METHOD,
        }
    )


@app.route("/api/me", methods=["GET", "POST"])
@require_oauth("profile")
def api_me():
    user = current_token.user
    return jsonify(id=user.id, email=user.email)


@app.route("/health")
def health():
    return "ok"


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=18091)
    parser.add_argument(
        "--db", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "authlib.sqlite")
    )
    args = parser.parse_args()
    create_app(args.port, args.db)
    app.run(host=HOST, port=args.port, threaded=True, use_reloader=False)
