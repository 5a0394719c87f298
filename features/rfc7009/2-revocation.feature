@rfc7009 @needs.revocation @needs.user_tokens
Feature: Token revocation (RFC 7009 §2)

  A client that no longer needs a token (the user logged out, the app was
  uninstalled) tells the authorization server so at the revocation endpoint: a
  form-encoded POST with the token and the client's own credentials. The server
  checks that the token belongs to that client and invalidates it at once; from then
  on the token works nowhere. Revoking a refresh token should also end the access
  tokens of the same grant. A token the server does not know is no error: the client
  wanted it gone, and it is.

  Background:
    Given the Basic client has tokens for the primary user

  Rule: A revoked token cannot be used again, at the resource or at the token endpoint (§2, §2.1)

    @rfc7009-2 @should @R99a @needs.resource
    Scenario: Revoking the access token, then calling the resource with it
      When the Basic client revokes the access token
      Then the revocation succeeds
      And the access token no longer works at the resource

    @rfc7009-2.2.1 @must @R103
    Scenario: A refused revocation of the access token says the type is unsupported
      When the Basic client revokes the access token
      Then if the request is refused, the error is unsupported_token_type

    @rfc7009-2 @must @R99 @R104 @needs.refresh_token
    Scenario: Revoking the refresh token, then refreshing with it
      When the Basic client revokes the refresh token
      Then the revocation succeeds
      And the refresh token is refused at the token endpoint

  Rule: Revoking a refresh token SHOULD also invalidate the access tokens of the same grant (§2.1)

    @rfc7009-2.1 @should @R102 @needs.refresh_token @needs.resource
    Scenario: Revoking the refresh token, then calling the resource with the access token
      When the Basic client revokes the refresh token
      Then the revocation succeeds
      And the access token no longer works at the resource

  Rule: The token parameter is REQUIRED (§2.1)

    @rfc7009-2.1 @rfc7009-2.2.1 @must @R97
    Scenario: A revocation request without a token
      When the Basic client sends a revocation request without a token
      Then the error is invalid_request

  Rule: The server validates the client credentials and that the token was issued to that client; if not, the request is refused (§2.1)

    @rfc7009-2.1 @rfc7009-2.2.1 @must @R98 @needs.refresh_token
    Scenario: A revocation request with a wrong client secret
      When the Basic client sends a revocation request authenticated with a wrong secret for the refresh token
      Then the error is invalid_client
      And the refresh token still works at the token endpoint

    @rfc7009-2.1 @rfc7009-2.2.1 @must @R98 @needs.refresh_token
    Scenario: A revocation request as an unknown client
      When the Basic client sends a revocation request authenticated as an unknown client for the refresh token
      Then the error is invalid_client
      And the refresh token still works at the token endpoint

    @rfc7009-2.1 @rfc7009-2.2.1 @must @R98 @needs.refresh_token
    Scenario: A revocation request with no client credentials
      When the Basic client sends a revocation request authenticated with no credentials for the refresh token
      Then the error is invalid_client or invalid_request
      And the refresh token still works at the token endpoint

    @rfc7009-2.1 @rfc7009-2.2.1 @must @R98 @needs.second_client @needs.refresh_token
    Scenario: Another client revoking the refresh token
      Given the second client can authenticate at the token endpoint
      When the second client revokes the refresh token
      Then the revocation is refused with an error
      And the refresh token still works at the token endpoint

    @rfc7009-2.1 @rfc7009-2.2.1 @must @R98 @needs.second_client @needs.resource
    Scenario: Another client revoking the access token
      Given the second client can authenticate at the token endpoint
      When the second client revokes the access token
      Then the revocation is refused with an error
      And the access token still works at the resource

  Rule: If the token is not found with the given token_type_hint, the server MUST extend its search across all its token types; an invalid hint value is ignored (§2.1, §2.2)

    @rfc7009-2.1 @must @R100 @needs.refresh_token
    Scenario: Revoking the refresh token with the hint access_token
      When the Basic client revokes the refresh token with the hint "access_token"
      Then the revocation succeeds
      And the refresh token is refused at the token endpoint

    @rfc7009-2.1 @must @R100 @needs.resource
    Scenario: Revoking the access token with the hint refresh_token
      Given the Basic client finds that the target revokes access tokens
      # Tokens issued after the probe, so its login does not age them.
      And the Basic client has tokens for the primary user
      When the Basic client revokes the access token with the hint "refresh_token"
      Then the revocation succeeds
      And the access token no longer works at the resource

    @rfc7009-2.1 @rfc7009-2.2 @must @R100a @needs.refresh_token
    Scenario: Revoking the refresh token with a hint value no registry defines
      When the Basic client revokes the refresh token with the hint "no_such_hint_c41e"
      Then the revocation succeeds
      And the refresh token is refused at the token endpoint

  Rule: The server answers 200 when the token was revoked or the client submitted an invalid token (§2.2)

    @rfc7009-2.2 @must @R101
    Scenario: Revoking a token the server never issued
      When the Basic client revokes the token "never-issued-0c9d2b7f41aa"
      Then the revocation succeeds

    @rfc7009-2.2 @must @R101
    Scenario: Revoking a malformed token
      When the Basic client revokes the token "not a token! %zz ~"
      Then the revocation succeeds

    @rfc7009-2.2 @must @R101 @needs.refresh_token
    Scenario: Revoking a refresh token that is already revoked
      When the Basic client revokes the refresh token
      And the Basic client revokes the refresh token
      Then the revocation succeeds
