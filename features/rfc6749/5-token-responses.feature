@rfc6749
Feature: Token endpoint responses (RFC 6749 §5)

  Every grant ends in the same response. On success: status 200 and a JSON object with
  the access token, its type (Bearer for the tokens RFC 6750 describes), usually its
  lifetime, maybe a refresh token, and the scope when it differs from what the client
  asked for. Because the response carries credentials, it must not be cached. On
  failure: status 400 (401 for some client authentication failures) and a JSON object
  whose `error` member is one of a fixed set of codes. Tokens must also be impossible
  to guess.

  @rfc6749-5.1 @must @R47
  Rule: A successful response is 200 with an application/json object holding access_token and token_type (§5.1)

    @needs.login @needs.authorization_code @needs.basic_client
    Scenario: The response to an authorization code redemption
      Given the Basic client has an authorization code for the primary user
      When the Basic client redeems the authorization code
      Then the token request succeeds

    @needs.user_tokens @needs.refresh_token @needs.basic_client
    Scenario: The response to a refresh request
      Given the Basic client has tokens for the primary user
      When the Basic client refreshes the token
      Then the token request succeeds

    @needs.client_credentials @needs.client_credentials_client
    Scenario: The response to a client credentials request
      When the service client requests a token with the client credentials grant
      Then the token request succeeds

  @rfc6749-5.1 @rfc6749-7.1 @must @R52
  Rule: token_type is REQUIRED and case-insensitive; tokens for a bearer resource are of type Bearer (§5.1, §7.1)

    @needs.user_tokens @needs.refresh_token @needs.basic_client
    Scenario: The token type of a refreshed access token
      Given the Basic client has tokens for the primary user
      When the Basic client refreshes the token
      Then the token type is Bearer

  @rfc6749-5.1 @should @R48
  Rule: expires_in, the access token's lifetime in seconds, is RECOMMENDED (§5.1)

    @needs.login @needs.authorization_code @needs.basic_client
    Scenario: The lifetime in the response to an authorization code redemption
      Given the Basic client has an authorization code for the primary user
      When the Basic client redeems the authorization code
      Then the token response includes expires_in

    @needs.client_credentials @needs.client_credentials_client
    Scenario: The lifetime in the response to a client credentials request
      When the service client requests a token with the client credentials grant
      Then the token response includes expires_in

  @rfc6749-5.1 @must @R49 @R50
  Rule: A response containing tokens carries Cache-Control: no-store and Pragma: no-cache (§5.1)

    The sentence covers "any response containing tokens, credentials, or other
    sensitive information". An error response carries none of these, so the suite
    does not require the headers there (the §5.2 example shows them, but examples are
    not normative).

    @needs.login @needs.authorization_code @needs.basic_client
    Scenario: Caching headers on the response to an authorization code redemption
      Given the Basic client has an authorization code for the primary user
      When the Basic client redeems the authorization code
      Then the token request succeeds
      And the response header "Cache-Control" includes "no-store"
      And the response header "Pragma" includes "no-cache"

    @needs.user_tokens @needs.refresh_token @needs.basic_client
    Scenario: Caching headers on the response to a refresh request
      Given the Basic client has tokens for the primary user
      When the Basic client refreshes the token
      Then the token request succeeds
      And the response header "Cache-Control" includes "no-store"
      And the response header "Pragma" includes "no-cache"

    @needs.client_credentials @needs.client_credentials_client
    Scenario: Caching headers on the response to a client credentials request
      When the service client requests a token with the client credentials grant
      Then the token request succeeds
      And the response header "Cache-Control" includes "no-store"
      And the response header "Pragma" includes "no-cache"

  @rfc6749-5.2 @must @R51
  Rule: An error response is 400 (401 allowed for invalid_client) with a JSON error code from §5.2 and descriptions in the allowed characters (§5.2)

    @needs.refresh_token @needs.basic_client
    Scenario: The error response to a refresh request without refresh_token
      When the Basic client sends a token request with:
        | grant_type | refresh_token |
      Then the error is invalid_request
      And the error response is well formed

    @needs.refresh_token @needs.basic_client
    Scenario: The error response to a refresh token the server never issued
      When the Basic client sends a token request with:
        | grant_type    | refresh_token                      |
        | refresh_token | x-conformance-never-issued-4b1d9e0 |
      Then the error is invalid_grant
      And the error response is well formed

    @needs.basic_client
    Scenario: The error response to an unsupported grant type
      When the Basic client sends a token request with:
        | grant_type | urn:example:conformance:no-such-grant |
      Then the error is unsupported_grant_type
      And the error response is well formed

    @needs.user_tokens @needs.refresh_token @needs.basic_client
    Scenario: The error response to a wrong client secret
      Given the Basic client has tokens for the primary user
      When the Basic client sends a token request authenticated with a wrong secret with:
        | grant_type    | refresh_token   |
        | refresh_token | <refresh_token> |
      Then the error is invalid_client
      And the error response is well formed

  @rfc6749-3.3 @rfc6749-5.1 @must @R53
  Rule: When the issued scope differs from the requested one, the response MUST include scope (§3.3, §5.1)

    A black box sees the issued scope at the resource: a token whose response states
    (or, by omitting scope, implies) a scope without the resource's scope must not be
    accepted there.

    @needs.user_tokens @needs.resource @needs.basic_client
    Scenario: User tokens requested with a scope the resource does not accept
      Given the Basic client has tokens for the primary user with the insufficient scope
      Then the access token does not carry more scope than the token response states

    @needs.client_credentials @needs.client_credentials_client
    Scenario: A client credentials request for a scope the server does not define
      When the service client sends a client credentials request changed by:
        | scope | x-conformance-undefined-scope |
      Then the scope "x-conformance-undefined-scope" is refused with invalid_scope or left out of the granted scope

  @rfc6749-10.10 @needs.client_credentials @needs.client_credentials_client
  Rule: The probability of guessing a token MUST be at most 2^-128, and SHOULD be at most 2^-160 (§10.10)

    A black box cannot measure randomness, only bounds. Tokens that repeat, or that
    are too short to hold 128 bits even if every one of the 95 visible ASCII characters
    (the access-token syntax, Appendix A.12) were used, certainly fail the MUST: that
    check is sound, but passing it proves nothing about randomness. The 160-bit check
    infers the alphabet from the tokens seen (hex, base32, base64), which is a
    heuristic, so it only warns, as the SHOULD does.

    @must @R54
    Scenario: Eight access tokens can each hold 128 bits
      When the service client obtains 8 access tokens with the client credentials grant
      Then the access tokens are distinct and long enough to carry 128 bits

    @should @R54a
    Scenario: Eight access tokens look long enough for 160 bits
      When the service client obtains 8 access tokens with the client credentials grant
      Then the access tokens look long enough to carry 160 bits
