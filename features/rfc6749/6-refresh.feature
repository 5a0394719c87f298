@rfc6749 @needs.refresh_token @needs.user_tokens
Feature: Refreshing an access token (RFC 6749 §6, §10.4; RFC 9700 §4.14)

  Access tokens are short-lived; a refresh token lets the client get new ones without
  asking the user again. Because it lives long, it is bound to the client it was issued
  to, a confidential client must authenticate to use it, and it can never buy more
  scope than the user first granted. Servers may rotate refresh tokens: each refresh
  returns a new one and retires the old. For public clients, which cannot
  authenticate, the security BCP (RFC 9700) requires rotation or sender-constrained
  tokens, and rotation comes with replay detection: a retired token coming back means
  it was stolen, and the whole family of tokens is revoked.

  @rfc6749-6 @must @R75
  Rule: The server MUST require client authentication for confidential clients (§6)

    @needs.basic_client
    Scenario: A confidential client refreshes with no client authentication
      Given the Basic client has tokens for the primary user
      When the Basic client sends a token request authenticated with no credentials with:
        | grant_type    | refresh_token   |
        | refresh_token | <refresh_token> |
      Then the error is invalid_client

    @needs.basic_client
    Scenario: A confidential client refreshes naming itself with client_id but no secret, as a public client would
      Given the Basic client has tokens for the primary user
      When the Basic client sends a token request authenticated with no credentials with:
        | grant_type    | refresh_token   |
        | refresh_token | <refresh_token> |
        | client_id     | <client_id>     |
      Then the error is invalid_client

  @rfc6749-6 @rfc6749-10.4 @rfc6749-5.2 @must @R76
  Rule: The server MUST ensure that the refresh token was issued to the authenticated client (§6, §10.4)

    @needs.basic_client @needs.second_client
    Scenario: Another confidential client presents the refresh token
      Given the second client can authenticate at the token endpoint
      And the Basic client has tokens for the primary user
      When the second client refreshes the token
      Then the error is invalid_grant

  @rfc6749-6 @must @R77 @needs.basic_client @needs.resource
  Rule: The requested scope MUST NOT include any scope not originally granted (§6)

    A narrower scope is allowed. For a wider one §5.2 names invalid_scope, and §3.3
    lets the server instead ignore what it will not grant, provided it names the scope
    it did grant; in no case may it grant the extra scope.

    Scenario: Refreshing with a narrower scope
      Given the Basic client has tokens for the primary user
      When the Basic client sends a refresh request changed by:
        | scope | <insufficient_scope> |
      Then the token request succeeds

    @rfc6749-3.3
    Scenario: Refreshing with a scope the user never granted
      Given the Basic client has tokens for the primary user with the insufficient scope
      When the Basic client sends a refresh request changed by:
        | scope | <resource_scope> |
      Then the scope "<resource_scope>" is refused with invalid_scope or left out of the granted scope

  @rfc6749-6 @must @R78 @needs.basic_client @needs.resource
  Rule: A new refresh token has the same scope as the one it replaces; an omitted scope means the original scope (§6)

    Scenario: Refreshing narrowed, then refreshing again without scope
      Given the Basic client has tokens for the primary user
      When the Basic client sends a refresh request changed by:
        | scope | <insufficient_scope> |
      Then the token request succeeds
      When the Basic client refreshes the token
      Then the token request succeeds
      And the granted scope is the scope originally granted
      And the access token still works at the resource

  @needs.refresh_rotation
  Rule: With rotation, a refresh returns a new refresh token and the old one no longer works (§6; RFC 9700 §2.2.2, §4.14.2)

    RFC 6749 lets the server revoke the old refresh token (MAY). For public clients RFC
    9700 §2.2.2 requires sender-constrained refresh tokens or rotation; the suite can
    only check rotation, for targets whose profile declares it.

    @rfc9700-2.2.2 @rfc9700-4.14.2 @rfc6749-5.2 @must @R79 @R83 @needs.public_client
    Scenario: A public client uses its refresh token twice
      Given the public client has tokens for the primary user
      When the public client refreshes the token
      Then the token request succeeds
      And the new refresh token differs from the earlier one
      When the public client refreshes the earlier refresh token
      Then the error is invalid_grant

    @rfc6749-6 @rfc6749-5.2 @may @R80 @needs.basic_client
    Scenario: A confidential client uses its refresh token twice
      Given the Basic client has tokens for the primary user
      When the Basic client refreshes the token
      Then the token request succeeds
      And the new refresh token differs from the earlier one
      When the Basic client refreshes the earlier refresh token
      Then the error is invalid_grant

  @rfc9700-4.14.2 @must @needs.refresh_rotation @needs.public_client
  Rule: Rotation detects replay: a retired refresh token coming back revokes the active one (RFC 9700 §4.14.2)

    RFC 9700 §4.14.2 says servers MUST use sender-constraining or rotation to detect
    refresh token replay for public clients, and describes rotation as revoking the
    active refresh token when a retired one is presented.

    @R81
    Scenario: A retired refresh token is replayed after rotation
      Given the public client has tokens for the primary user
      When the public client refreshes the token
      Then the token request succeeds
      When the public client refreshes the earlier refresh token
      Then the error is invalid_grant
      And the refresh token is refused at the token endpoint

  @rfc9700-4.14.2 @must @R82 @needs.refresh_rotation @needs.public_client
  Rule: A rotated refresh token is used once, even by requests that arrive together (RFC 9700 §4.14.2)

    Under rotation "the previous refresh token is invalidated": if two concurrent
    refreshes with the same token both succeed, the token was used twice and a replay
    went undetected.

    Scenario: One refresh token sent in 32 refresh requests at once
      Given the public client has tokens for the primary user
      When the public client refreshes the token 32 times in parallel
      Then at most one of the parallel requests succeeds

  @rfc6749-5.2 @must @R83 @needs.basic_client
  Rule: An invalid, expired, revoked or unknown refresh token is invalid_grant (§5.2)

    Scenario: A refresh token the server never issued
      Given the Basic client has tokens for the primary user
      When the Basic client sends a refresh request changed by:
        | refresh_token | x-conformance-never-issued-4b1d9e0 |
      Then the error is invalid_grant

    Scenario: The access token presented as a refresh token
      Given the Basic client has tokens for the primary user
      When the Basic client sends a refresh request changed by:
        | refresh_token | <access_token> |
      Then the error is invalid_grant

    @rfc7009-2 @needs.revocation
    Scenario: A revoked refresh token
      Given the Basic client has tokens for the primary user
      When the Basic client revokes the refresh token
      Then the revocation succeeds
      And the refresh token is refused at the token endpoint

  @rfc6749-10.10 @needs.basic_client
  Rule: Guessing a refresh token MUST have a probability of at most 2^-128, and SHOULD of at most 2^-160 (§10.10)

    A black box cannot measure randomness, but it can check that refresh tokens differ
    and are long enough to hold that many bits.

    @must @R84
    Scenario: Five refresh tokens can each hold 128 bits
      When the Basic client obtains 5 refresh tokens for the primary user
      Then the collected values are distinct and long enough to carry 128 bits

    @should @R84a
    Scenario: Five refresh tokens look long enough for 160 bits
      When the Basic client obtains 5 refresh tokens for the primary user
      Then the collected values look long enough to carry 160 bits
