@rfc6749 @needs.client_credentials
Feature: Client credentials grant (RFC 6749 §4.4)

  In this grant no user is involved: a client asks for a token for itself, for example
  a backend service calling another service. Its own credentials are the whole grant,
  so only a confidential client, one that can keep a secret, may use it, and it must
  authenticate every time. Nothing stops the client from simply asking again, so the
  server should not hand out a refresh token. The server also says which grants each
  client may use and which grant types it supports at all.

  @rfc6749-4.4 @rfc6749-4.4.2 @must @R72
  Rule: The grant is only for confidential clients, and the server MUST authenticate the client (§4.4, §4.4.2)

    @needs.client_credentials_client
    Scenario: An authenticated confidential client asks for a token
      When the service client requests a token with the client credentials grant
      Then the token request succeeds

    @rfc6749-5.2 @needs.client_credentials_client
    Scenario: A client credentials request with no client authentication
      When the service client sends a token request authenticated with no credentials with:
        | grant_type | client_credentials |
        | scope      | <scope>            |
      Then the error is invalid_client

    @rfc6749-5.2 @needs.client_credentials_client
    Scenario: A client credentials request with a wrong secret
      When the service client sends a token request authenticated with a wrong secret with:
        | grant_type | client_credentials |
        | scope      | <scope>            |
      Then the error is invalid_client

    @rfc6749-5.2 @needs.public_client
    Scenario: A public client asks for a token with the client credentials grant
      When the public client requests a token with the client credentials grant
      Then the error is unauthorized_client or invalid_client

  @rfc6749-4.4.3 @should @R73 @needs.client_credentials_client
  Rule: A refresh token SHOULD NOT be included in the response (§4.4.3)

    Scenario: The token response to a client credentials request
      When the service client requests a token with the client credentials grant
      Then the token request succeeds
      And the token response includes no refresh token

  @rfc6749-3.3 @rfc6749-4.4.2 @must @R74 @R53 @needs.client_credentials_client
  Rule: The requested scope is handled as §3.3 says: refused with invalid_scope, or ignored and the granted scope named (§3.3, §4.4.2)

    Scenario: A client credentials request for a scope the server does not define
      When the service client sends a client credentials request changed by:
        | scope | x-conformance-undefined-scope |
      Then the scope "x-conformance-undefined-scope" is refused with invalid_scope or left out of the granted scope

  Rule: scope is OPTIONAL: without it the server uses its default scope or refuses with invalid_scope (§3.3, §4.4.2)

    @rfc6749-3.3 @rfc6749-4.4.2 @must @R29a @needs.client_credentials_client
    Scenario: A client credentials request without scope
      When the service client sends a client credentials request changed by:
        | scope | (omitted) |
      Then the token request succeeds, or the error is invalid_scope

  @rfc6749-5.2 @must
  Rule: A client not authorized for a grant type gets unauthorized_client (§5.2)

    The profile says which grants each client is registered for (`grants = [...]`);
    without that, nothing says the server refuses the service client any grant, and the
    scenario is not applicable.

    @R46 @needs.client_credentials_client @needs.password
    Scenario: The client credentials-only client tries the password grant
      Given the service client is not registered for the password grant
      When the service client requests a token with the password grant for the primary user
      Then the error is unauthorized_client

  @rfc6749-5.2 @must
  Rule: A grant type the server does not support is unsupported_grant_type (§5.2)

    @R45 @needs.client_credentials_client
    Scenario: A token request with a grant_type the server has never heard of
      When the service client sends a token request with:
        | grant_type | urn:example:conformance:no-such-grant |
      Then the error is unsupported_grant_type
