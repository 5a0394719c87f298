@rfc7636 @needs.authorization_code @needs.login
Feature: Proof Key for Code Exchange (RFC 7636)

  An authorization code travels through the browser, so it can be stolen on the way.
  With PKCE the client makes up a random secret, the code_verifier, for every request.
  It sends only a code_challenge derived from it (S256: the base64url SHA-256 hash) with
  the authorization request, and the verifier itself when it redeems the code. The
  server remembers the challenge with the code and issues tokens only to the one who
  can show the matching verifier, so a stolen code alone is useless. The security BCP
  (RFC 9700 §2.1.1) makes PKCE mandatory for servers and asks them to refuse the
  downgrades that would switch it off.

  Rule: Authorization servers MUST support PKCE, and S256 is Mandatory To Implement on the server (RFC 9700 §2.1.1; §4.2)

    @rfc9700-2.1.1 @rfc7636-4.2 @must @R55 @R56 @needs.basic_client
    Scenario: A code requested with an S256 challenge is redeemed with its verifier
      Given the Basic client uses PKCE with S256
      And the Basic client has an authorization code for the primary user
      When the Basic client redeems the authorization code
      Then the token request succeeds

    @rfc9700-2.1.1 @rfc7636-4.2 @rfc7636-4.6 @must @R55 @R56 @R57 @needs.basic_client
    Scenario: A code requested with an S256 challenge is redeemed with another verifier
      Given the Basic client uses PKCE with S256
      And the Basic client has an authorization code for the primary user
      When the Basic client redeems the authorization code with:
        | code_verifier | dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk |
      Then the error is invalid_grant

  Rule: If the verifier does not match the challenge, invalid_grant MUST be returned (§4.6)

    @rfc7636-4.6 @must @R57 @needs.basic_client @needs.pkce_plain
    Scenario: A code requested with a plain challenge is redeemed with another verifier
      Given the Basic client uses PKCE with plain
      And the Basic client has an authorization code for the primary user
      When the Basic client redeems the authorization code with:
        | code_verifier | dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk |
      Then the error is invalid_grant

    @rfc7636-4.6 @rfc9700-4.8 @must @R60 @needs.basic_client @needs.pkce
    Scenario: A code requested with an S256 challenge is redeemed with the challenge as the verifier
      Given the Basic client uses PKCE with S256
      And the Basic client has an authorization code for the primary user
      When the Basic client redeems the authorization code with:
        | code_verifier | <code_challenge> |
      Then the error is invalid_grant

  Rule: When the authorization request had a code_challenge, the token request MUST prove the verifier (RFC 9700 §2.1.1)

    @rfc9700-2.1.1 @must @R58 @needs.basic_client @needs.pkce
    Scenario: A code requested with a challenge is redeemed without a verifier
      Given the Basic client uses PKCE with S256
      And the Basic client has an authorization code for the primary user
      When the Basic client redeems the authorization code with:
        | code_verifier | (omitted) |
      Then the error is invalid_request or invalid_grant

  Rule: A token request with a code_verifier is accepted only if the authorization request had a code_challenge (RFC 9700 §2.1.1, §4.8.2)

    @rfc9700-2.1.1 @rfc9700-4.8.2 @must @R59 @needs.basic_client @needs.pkce @needs.pkce_optional
    Scenario: A code requested without a challenge is redeemed with a verifier
      Given the Basic client does not use PKCE
      And the Basic client has an authorization code for the primary user
      When the Basic client redeems the authorization code with:
        | code_verifier | dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk |
      Then the error is invalid_request or invalid_grant

    @rfc7636-4.5 @must @R58a @needs.basic_client @needs.pkce_optional
    Scenario: A code requested without a challenge is redeemed without a verifier
      Given the Basic client does not use PKCE
      And the Basic client has an authorization code for the primary user
      When the Basic client redeems the authorization code
      Then the token request succeeds

  Rule: code_challenge_method defaults to plain when it is not in the request (§4.3, §4.6)

    @rfc7636-4.3 @rfc7636-4.6 @must @R61 @needs.basic_client @needs.pkce_plain
    Scenario: A challenge without a method is verified as plain
      Given the Basic client uses a PKCE challenge without a method
      And the Basic client has an authorization code for the primary user
      When the Basic client redeems the authorization code
      Then the token request succeeds

    @rfc7636-4.3 @rfc7636-4.6 @must @R61 @needs.basic_client @needs.pkce_plain
    Scenario: A challenge without a method is not verified as S256
      When the Basic client sends the primary user to the authorization endpoint with an S256-transformed challenge but no method
      Then the client receives an authorization code
      When the Basic client redeems the authorization code
      Then the error is invalid_grant

  Rule: A transformation the server does not support is refused with invalid_request (§4.4.1)

    @rfc7636-4.4.1 @rfc6749-4.1.2.1 @must @R62 @R28 @needs.basic_client @needs.pkce
    Scenario: An authorization request with a code_challenge_method the server does not know
      Given the Basic client uses PKCE with S256
      When the Basic client sends the primary user to the authorization endpoint with:
        | code_challenge_method | x-unknown-method |
      Then the client receives the error invalid_request
      And the authorization response carries the state unchanged
      And the authorization error response is well formed

    @rfc7636-4.4.1 @rfc6749-4.1.2.1 @must @R62 @R28 @needs.basic_client @needs.pkce_plain_unsupported
    Scenario: A plain challenge at a server that supports only S256
      Given the Basic client uses PKCE with plain
      When the Basic client sends the primary user to the authorization endpoint
      Then the client receives the error invalid_request
      And the authorization response carries the state unchanged
      And the authorization error response is well formed

  Rule: A server that requires PKCE from public clients refuses a request without code_challenge with invalid_request (§4.4.1)

    @rfc7636-4.4.1 @must @R63 @needs.public_client @needs.pkce_required_for_public
    Scenario: A public client's authorization request without a challenge
      Given the public client does not use PKCE
      When the public client sends the primary user to the authorization endpoint
      Then the client receives the error invalid_request
      And the authorization response carries the state unchanged

  Rule: A code_verifier is 43 to 128 characters from the unreserved set (§4.1)

    @rfc7636-4.1 @rfc7636-4.6 @must @R64 @needs.basic_client @needs.pkce
    Scenario: A 43-character verifier, the shortest allowed
      When the Basic client sends the primary user to the authorization endpoint with an S256 challenge of a 43-character verifier
      Then the client receives an authorization code
      When the Basic client redeems the authorization code
      Then the token request succeeds

    @rfc7636-4.1 @rfc7636-4.6 @must @R64 @needs.basic_client @needs.pkce
    Scenario: A 128-character verifier, the longest allowed
      When the Basic client sends the primary user to the authorization endpoint with an S256 challenge of a 128-character verifier
      Then the client receives an authorization code
      When the Basic client redeems the authorization code
      Then the token request succeeds

    @rfc7636-4.1 @may @R64a @needs.basic_client @needs.pkce
    Scenario: A 42-character verifier, one too short
      When the Basic client sends the primary user to the authorization endpoint with an S256 challenge of a 42-character verifier
      Then the client receives an authorization code
      When the Basic client redeems the authorization code
      Then the error is invalid_request or invalid_grant

    @rfc7636-4.1 @may @R64a @needs.basic_client @needs.pkce
    Scenario: A 129-character verifier, one too long
      When the Basic client sends the primary user to the authorization endpoint with an S256 challenge of a 129-character verifier
      Then the client receives an authorization code
      When the Basic client redeems the authorization code
      Then the error is invalid_request or invalid_grant

  Rule: Authorization servers SHOULD publish code_challenge_methods_supported in their metadata (RFC 9700 §2.1.1; RFC 8414 §2)

    @rfc9700-2.1.1 @rfc8414-2 @should @R67 @needs.metadata
    Scenario: The metadata names the PKCE methods
      When the metadata document is fetched
      Then the metadata includes "code_challenge_methods_supported"
      And the metadata lists "S256" in "code_challenge_methods_supported"
