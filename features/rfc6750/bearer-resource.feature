@rfc6750 @needs.resource @needs.user_tokens
Feature: Using a bearer token at a protected resource (RFC 6750)

  A bearer token is like cash: whoever holds it may use it. The client sends it to
  the resource server, normally in the Authorization header as `Bearer <token>`.
  When the token is missing, invalid, or not enough, the resource server answers
  with a `WWW-Authenticate: Bearer` challenge that tells the client what went wrong
  (RFC 6750 §3).

  Background:
    Given the Basic client has tokens for the primary user

  Rule: Resource servers MUST support the Authorization request header field (§2.1)

    @rfc6750-2.1 @must @R86
    Scenario: A valid access token in the Authorization header is accepted
      When the resource is requested with the access token
      Then the resource answers for the primary user

    @rfc6750-2.1 @must @R86
    Scenario: The scheme name Bearer is matched case-insensitively
      When the resource is requested with the Authorization header "bearer <access_token>"
      Then the resource answers for the primary user

  Rule: A request without authentication gets a challenge and no error code (§3, §3.1)

    @rfc6750-3.1 @should @R90
    Scenario: Calling the resource with no token
      When the resource is requested without a token
      Then the resource refuses the request with status 401
      And the challenge has no error code
      And the challenge has at most one realm

  Rule: An invalid, expired or revoked token is invalid_token with status 401 (§3.1)

    @rfc6750-3.1 @must @R91
    Scenario: Calling the resource with a made-up token
      When the resource is requested with the token "not-a-real-token-0b5e7d"
      Then the resource refuses the request with status 401
      And the challenge error is invalid_token

    @rfc6750-3.1 @must @R91
    Scenario: A refresh token is not an access token
      When the resource is requested with the refresh token as a bearer token
      Then the resource refuses the request with status 401
      And the challenge error is invalid_token

  Rule: A token without the scope the resource requires is insufficient_scope with status 403 (§3.1)

    @rfc6750-3.1 @should @R92
    Scenario: A token with a valid but insufficient scope
      Given the Basic client has tokens for the primary user with the insufficient scope
      When the resource is requested with the access token
      Then the resource refuses the request with status 403
      And the challenge error is insufficient_scope
      And the challenge names the scope the resource requires

  Rule: A malformed request, or a token sent by more than one method, is invalid_request (§2, §3.1)

    @rfc6750-3.1 @should @R89
    Scenario: The token in both the header and the form body
      When the resource is requested with the access token in the header and the form body
      Then the resource refuses the request with status 400
      And the challenge error is invalid_request

    @rfc6750-3.1 @should @R93
    Scenario: The Bearer scheme with no token
      When the resource is requested with the Authorization header "Bearer"
      Then the resource refuses the request with status 400
      And the challenge error is invalid_request

  Rule: Access tokens SHOULD NOT be accepted in the URI query (§2.3; RFC 9700 §4.3.2)

    @rfc6750-2.3 @rfc9700-4.3.2 @should @R88
    Scenario: A token in the query string is refused
      When the resource is requested with the access token in the query string
      Then the request is refused
