@oauth21 @needs.oauth21
Feature: The OAuth 2.1 / RFC 9700 profile (draft-ietf-oauth-v2-1 §10; RFC 9700 §2)

  OAuth 2.1 folds a decade of security advice (RFC 9700, the OAuth 2.0 Security Best
  Current Practice) back into the core: the resource owner password grant and the
  implicit grant are gone, every authorization code request carries a PKCE
  challenge, and bearer tokens never travel in a URL. A server that follows this
  profile refuses what plain OAuth 2.0 still allows, so these scenarios only run
  against a target whose profile opts in (capability `oauth21`); against an OAuth 2.0
  server they are not applicable, never failures.

  Rule: The resource owner password credentials grant MUST NOT be used (RFC 9700 §2.4; OAuth 2.1 §10)

    @rfc9700-2.4 @oauth21-10 @must @R71 @needs.basic_client
    Scenario: A password grant request is refused as an unsupported grant type
      When the Basic client requests a token with the password grant for the primary user
      Then the error is unsupported_grant_type

    @rfc9700-2.4 @oauth21-10 @must @R71 @needs.metadata
    Scenario: The metadata does not advertise the password grant
      When the metadata document is fetched
      Then the metadata does not list "password" in "grant_types_supported"

  Rule: Every client uses PKCE with the authorization code grant; a request without code_challenge is invalid_request (OAuth 2.1 §10; RFC 7636 §4.4.1)

    @rfc7636-4.4.1 @oauth21-10 @must @R63 @needs.login @needs.authorization_code @needs.basic_client
    Scenario: A confidential client sends an authorization request without a code challenge
      Given the Basic client does not use PKCE
      When the Basic client sends the primary user to the authorization endpoint
      Then the client receives the error invalid_request

  Rule: Bearer tokens are not accepted in the query string of a URI (OAuth 2.1 §10)

    The OAuth 2.1 drafts omit the query method without a keyword, so a resource that
    still accepts it is reported not applicable, not failed.

    @oauth21-10 @may @R88a @needs.resource @needs.user_tokens
    Scenario: The access token in the query string is refused
      Given the Basic client has tokens for the primary user
      When the resource is requested with the access token in the query string
      Then the request is refused

  Rule: The implicit grant is removed: response_type=token is an unsupported response type (OAuth 2.1 §10; RFC 6749 §4.1.2.1)

    @oauth21-10 @rfc6749-4.1.2.1 @must @R20 @needs.login @needs.public_client
    Scenario: An authorization request with response_type=token
      When the public client sends the primary user to the authorization endpoint with:
        | response_type | token |
      Then the client receives the error unsupported_response_type
