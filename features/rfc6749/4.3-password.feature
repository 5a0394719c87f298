@rfc6749 @needs.password
Feature: Resource owner password credentials grant (RFC 6749 §4.3)

  In this grant the client collects the user's username and password itself and
  trades them at the token endpoint for an access token. It exists for clients the
  user trusts completely (the device's operating system, a first-party app); the
  security BCP (RFC 9700 §2.4) says it MUST NOT be used any more, but many servers
  still offer it. The server must check the client and the user's credentials, and
  protect itself against password guessing.

  Rule: The authorization server authenticates the client and validates the resource owner's credentials (§4.3.2)

    @rfc6749-4.3.2 @must @R68 @needs.basic_client @needs.resource
    Scenario: A client authenticated with HTTP Basic gets a token that works for the user
      When the Basic client requests a token with the password grant for the primary user
      Then the token request succeeds
      And the token response includes expires_in
      When the resource is requested with the access token
      Then the resource answers for the primary user

    @rfc6749-4.3.2 @must @R68 @needs.post_client @needs.resource
    Scenario: A client authenticated in the request body gets a token that works for the user
      When the post client requests a token with the password grant for the secondary user
      Then the token request succeeds
      When the resource is requested with the access token
      Then the resource answers for the secondary user

    @rfc6749-4.3.2 @must @R68 @needs.public_client
    Scenario: A public client identified by its client_id gets a token
      Given the public client is registered for the password grant
      When the public client requests a token with the password grant for the primary user
      Then the token request succeeds

    @rfc6749-4.3.2 @rfc6749-5.2 @must @R68 @needs.basic_client
    Scenario: A wrong password is refused with invalid_grant
      When the Basic client sends a password grant request for the primary user changed by:
        | password | not-the-password |
      Then the error is invalid_grant

    @rfc6749-4.3.2 @rfc6749-5.2 @must @R68 @needs.basic_client
    Scenario: An unknown username is refused with invalid_grant
      When the Basic client sends a password grant request for the primary user changed by:
        | username | nobody-4f1c@example.invalid |
      Then the error is invalid_grant

  Rule: username and password are REQUIRED parameters (§4.3.2)

    @rfc6749-4.3.2 @rfc6749-5.2 @must @R70 @needs.basic_client
    Scenario: A password grant without a password is invalid_request
      When the Basic client sends a password grant request for the primary user changed by:
        | password | (omitted) |
      Then the error is invalid_request

    @rfc6749-4.3.2 @rfc6749-5.2 @must @R70 @needs.basic_client
    Scenario: A password grant without a username is invalid_request
      When the Basic client sends a password grant request for the primary user changed by:
        | username | (omitted) |
      Then the error is invalid_request

  Rule: scope is OPTIONAL: without it the server uses its default scope or refuses with invalid_scope (§3.3, §4.3.2)

    @rfc6749-3.3 @rfc6749-4.3.2 @must @R29a @needs.basic_client
    Scenario: A password grant request without scope
      When the Basic client sends a password grant request for the primary user changed by:
        | scope | (omitted) |
      Then the token request succeeds, or the error is invalid_scope
