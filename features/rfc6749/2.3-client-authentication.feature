@rfc6749
Feature: Client authentication (RFC 6749 §2.3, §3.2.1)

  A confidential client proves who it is whenever it calls the token endpoint, so a
  stolen refresh token or code is useless without the client's secret. With a client
  password the server must accept HTTP Basic, where the client id and the secret are
  form-urlencoded before they are joined with a colon and base64-encoded; it may also
  accept them as `client_id` and `client_secret` in the request body, but never in the
  URL. When authentication fails the answer is `invalid_client`. A public client has no
  secret: it only names itself with `client_id`.

  Most scenarios authenticate a refresh request, which every grant that gives user
  tokens can lead to. Not covered here, because a black box cannot see them: whether
  the server supports asymmetric client authentication (R18, RFC 9700 §2.5: the suite
  does not sign client assertions) and how much entropy the server puts into the
  secrets it issues (R19, §10.10: the secrets come from the profile, not from the server).

  @needs.user_tokens @needs.refresh_token
  Rule: The authorization server MUST support HTTP Basic for clients issued a client password (§2.3.1)

    @rfc6749-2.3.1 @must @R10 @needs.basic_client
    Scenario: A refresh request authenticated with HTTP Basic
      Given the Basic client has tokens for the primary user
      When the Basic client sends a token request authenticated as registered with:
        | grant_type    | refresh_token   |
        | refresh_token | <refresh_token> |
      Then the token request succeeds

  @needs.user_tokens @needs.refresh_token
  Rule: A client MAY name itself with client_id at the token endpoint, also when it authenticates with HTTP Basic (§3.2.1)

    "A client MAY use the "client_id" request parameter to identify itself when sending
    requests to the token endpoint." The parameter names the same client as the Basic
    credentials, so the request means what it means without it.

    @rfc6749-3.2.1 @must @R16a @needs.basic_client
    Scenario: A refresh request authenticated with HTTP Basic that also sends its client_id
      Given the Basic client has tokens for the primary user
      When the Basic client sends a token request authenticated as registered with:
        | grant_type    | refresh_token   |
        | refresh_token | <refresh_token> |
        | client_id     | <client_id>     |
      Then the token request succeeds

  @needs.user_tokens
  Rule: Basic credentials are form-urlencoded before they are base64-encoded (§2.3.1)

    The suite sends the id and secret form-urlencoded and expects them to work. It does
    not assert that credentials sent without that encoding are refused: the encoding is
    what the client must do, and nothing obliges the server to reject a lenient match.
    The token request that obtains the client's first tokens (a code redemption, or a
    password grant) is the check itself: a server that does not decode the credentials
    refuses it, and that refusal fails R11. The scenarios that merely need the second
    client (R40, R76, R98) begin by checking that it can authenticate at all, and end as
    errors pointing here when it cannot.

    @rfc6749-2.3.1 @must @R11 @needs.second_client
    Scenario: A secret with ':', '+', '%' and '/' sent form-urlencoded in HTTP Basic
      Given the second client's secret has characters that form-urlencoding changes
      When the second client requests tokens for the primary user
      Then the token request succeeds

  @needs.user_tokens @needs.refresh_token
  Rule: The server MAY accept client_id and client_secret in the request body (§2.3.1)

    @rfc6749-2.3.1 @may @R12 @needs.post_client
    Scenario: A refresh request with client_id and client_secret in the body
      Given the post client has tokens for the primary user
      When the post client sends a token request authenticated as registered with:
        | grant_type    | refresh_token   |
        | refresh_token | <refresh_token> |
      Then the token request succeeds

  @needs.user_tokens @needs.refresh_token
  Rule: Client credentials can only be sent in the request body, never in the request URI (§2.3.1)

    The MUST NOT binds the client. A server that ignores credentials in the URI sees
    an unauthenticated request (invalid_client) or a malformed one (invalid_request); one
    that accepts them is reported not applicable, as §2.3 lets a server accept any form
    of client authentication that meets its security requirements.

    @rfc6749-2.3.1 @may @R13 @needs.post_client
    Scenario: client_id and client_secret in the query string of the token request
      Given the post client has tokens for the primary user
      When the post client sends a token request authenticated in the query string with:
        | grant_type    | refresh_token   |
        | refresh_token | <refresh_token> |
      Then the error is invalid_request or invalid_client

  @needs.user_tokens @needs.refresh_token
  Rule: The client MUST NOT use more than one authentication method in a request (§2.3)

    The MUST NOT binds the client; §5.2 names the server's answer ("utilizes more than
    one mechanism for authenticating the client" is invalid_request). A server that
    accepts such a request is reported not applicable; a refusal must have that form.

    @rfc6749-2.3 @rfc6749-5.2 @must @R14 @needs.basic_client
    Scenario: HTTP Basic and client_secret in the body together
      Given the Basic client has tokens for the primary user
      When the Basic client sends a token request authenticated with Basic and the body together with:
        | grant_type    | refresh_token   |
        | refresh_token | <refresh_token> |
      Then if the request is refused, the error is invalid_request or invalid_client

  @needs.user_tokens @needs.refresh_token
  Rule: Confidential clients MUST authenticate, and failed authentication is invalid_client (§3.2.1, §6, §5.2)

    @rfc6749-3.2.1 @rfc6749-5.2 @must @R15 @needs.basic_client
    Scenario: A refresh request with no client authentication at all
      Given the Basic client has tokens for the primary user
      When the Basic client sends a token request authenticated with no credentials with:
        | grant_type    | refresh_token   |
        | refresh_token | <refresh_token> |
      Then the error is invalid_client

    @rfc6749-3.2.1 @rfc6749-5.2 @must @R15 @needs.post_client
    Scenario: A wrong client_secret in the body
      Given the post client has tokens for the primary user
      When the post client sends a token request authenticated with a wrong secret with:
        | grant_type    | refresh_token   |
        | refresh_token | <refresh_token> |
      Then the error is invalid_client

    @rfc6749-3.2.1 @rfc6749-5.2 @must @R15 @needs.post_client
    Scenario: A client_id no client has, in the body
      Given the post client has tokens for the primary user
      When the post client sends a token request authenticated as an unknown client with:
        | grant_type    | refresh_token   |
        | refresh_token | <refresh_token> |
      Then the error is invalid_client

  @needs.user_tokens @needs.refresh_token @needs.basic_client
  Rule: When the client used the Authorization header, invalid_client is 401 with a matching WWW-Authenticate challenge (§5.2)

    @rfc6749-5.2 @must @R15 @R17
    Scenario: A wrong secret in HTTP Basic
      Given the Basic client has tokens for the primary user
      When the Basic client sends a token request authenticated with a wrong secret with:
        | grant_type    | refresh_token   |
        | refresh_token | <refresh_token> |
      Then the error is invalid_client
      And the response is 401 with a Basic challenge

    @rfc6749-5.2 @must @R15 @R17
    Scenario: A client id no client has, in HTTP Basic
      Given the Basic client has tokens for the primary user
      When the Basic client sends a token request authenticated as an unknown client with:
        | grant_type    | refresh_token   |
        | refresh_token | <refresh_token> |
      Then the error is invalid_client
      And the response is 401 with a Basic challenge

  @needs.login @needs.authorization_code @needs.public_client
  Rule: An unauthenticated client MUST send its client_id when it redeems an authorization code (§3.2.1, §4.1.3)

    @rfc6749-3.2.1 @rfc6749-4.1.3 @must @R16
    Scenario: A public client redeems its code without client_id
      Given the public client has an authorization code for the primary user
      When the public client redeems the authorization code authenticated with no credentials
      Then the error is invalid_request or invalid_client
