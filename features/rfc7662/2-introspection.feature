@rfc7662 @needs.introspection @needs.user_tokens
Feature: Token introspection (RFC 7662 §2)

  A resource server that receives an opaque token cannot read it; it asks the
  authorization server instead. At the introspection endpoint it POSTs the token and
  gets back a JSON object whose `active` member says whether the token may be used
  now, with optional details (scope, client, user, expiry). The endpoint must know
  who is asking, or anyone could test stolen or guessed tokens against it; and about
  a token that is not active it says nothing but `"active": false`.

  In these scenarios the profile's Basic client plays the protected resource.

  Background:
    Given the Basic client has tokens for the primary user

  Rule: The caller POSTs the token form-encoded; token is REQUIRED and token_type_hint OPTIONAL, and a wrong hint MUST NOT stop the search (§2.1)

    @rfc7662-2.1 @rfc7662-2.2 @must @I1 @I3
    Scenario: Introspecting a valid access token
      When the Basic client introspects the access token
      Then the response is JSON
      And the token is active

    @rfc7662-2.1 @must @I1 @needs.refresh_token
    Scenario: Introspecting the refresh token with the hint access_token
      When the Basic client introspects the refresh token with the hint "access_token"
      Then the token is active

    @rfc7662-2.1 @must @I1
    Scenario: Introspecting the access token with the hint refresh_token
      When the Basic client introspects the access token with the hint "refresh_token"
      Then the token is active

    @rfc7662-2.1 @must @I1
    Scenario: An introspection request without a token
      When the Basic client sends an introspection request without a token
      Then the introspection is refused with invalid_request or answers that the token is not active

  Rule: The endpoint MUST require some form of authorization of the caller, to prevent token scanning (§2.1)

    @rfc7662-2.1 @must @I2
    Scenario: Introspecting a token with no client credentials
      When the Basic client sends an introspection request authenticated with no credentials for the access token
      Then the introspection does not disclose the token

    @rfc7662-2.1 @must @I2 @needs.public_client
    Scenario: A public client, which has no credentials, introspecting a token
      When the public client introspects the access token
      Then the introspection does not disclose the token

    @rfc7662-2.1 @must @I2
    Scenario: Introspecting a token with a wrong client secret
      When the Basic client sends an introspection request authenticated with a wrong secret for the access token
      Then the introspection does not disclose the token

  Rule: Invalid client credentials are answered with 401 as RFC 6749 §5.2 describes (§2.3)

    @rfc7662-2.3 @must @I4
    Scenario: Introspection with a wrong client secret is invalid_client
      When the Basic client sends an introspection request authenticated with a wrong secret for the access token
      Then the response status is 401
      And the error is invalid_client

    @rfc7662-2.3 @must @I4
    Scenario: Introspection as an unknown client is invalid_client
      When the Basic client sends an introspection request authenticated as an unknown client for the access token
      Then the response status is 401
      And the error is invalid_client

  Rule: A properly authorized query about an inactive or unknown token is no error; the answer is "active": false (§2.2, §2.3)

    @rfc7662-2.2 @rfc7662-2.3 @must @I3 @I4
    Scenario: Introspecting a token the server never issued
      When the Basic client introspects the token "never-issued-5d1a93c7be20"
      Then the token is not active

    @rfc7662-2.2 @must @I3 @needs.revocation @needs.refresh_token
    Scenario: Introspecting a revoked refresh token
      When the Basic client revokes the refresh token
      And the Basic client introspects the refresh token
      Then the token is not active

    @rfc7662-2.2 @must @I3 @needs.token_expiry @slow
    Scenario: Introspecting an expired access token
      When the client waits until the access token has expired
      And the Basic client introspects the access token
      Then the token is not active

    @rfc7662-2.2 @must @I3 @needs.refresh_rotation
    Scenario: Introspecting a refresh token that was replaced by rotation
      When the Basic client refreshes the token
      Then the token request succeeds
      When the Basic client introspects the earlier refresh token
      Then the token is not active

  Rule: About an inactive token the server SHOULD NOT say anything more, not even why (§2.2)

    @rfc7662-2.2 @should @I3a
    Scenario: The answer about an unknown token has no member but active
      When the Basic client introspects the token "never-issued-8e27f0d4a6b1"
      Then the token is not active
      And the introspection response has no member but active

    @rfc7662-2.2 @should @I3a @needs.revocation @needs.refresh_token
    Scenario: The answer about a revoked refresh token has no member but active
      When the Basic client revokes the refresh token
      And the Basic client introspects the refresh token
      Then the token is not active
      And the introspection response has no member but active
