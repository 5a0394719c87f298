@rfc8414
Feature: Authorization server metadata (RFC 8414 §2, §3)

  Instead of configuring every endpoint by hand, a client can ask the server itself:
  a JSON document at `/.well-known/oauth-authorization-server` (inserted between the
  host and the path of the issuer identifier) lists the endpoints, the grant types,
  the client authentication and PKCE methods the server supports. The client relies
  on it, so the document must name the issuer it was fetched for, and everything it
  advertises must work. Members left out mean their defaults (RFC 8414 §2).

  Where the document is published is one requirement (M1); what it says is another.
  Every scenario about its contents reads the document the runner's discovery found,
  at RFC 8414's location or, failing that, at OpenID Connect Discovery's (RFC 8414 §5:
  "only if the retrieval from that location fails should they fall back to attempting
  to retrieve it from the alternate location"). When there is a document at neither,
  they are not applicable (capability `metadata`).

  Rule: The document is served at a path formed by inserting a well-known URI string between the issuer's host and path, with 200 and application/json (§3, §3.1, §3.2)

    §3's MUST is the insertion ("at a path formed by inserting a well-known URI string
    into the authorization server's issuer identifier between the host component and
    the path component"); the string is `/.well-known/oauth-authorization-server` only
    "by default": an application may use another registered one, and §3 and §5 name
    `openid-configuration` among them. So a document at either string, inserted,
    passes; for an issuer without a path, `/.well-known/openid-configuration` is also
    OpenID Connect Discovery's location. For an issuer with a path, OpenID Connect
    Discovery appends the string instead (`/issuer1/.well-known/openid-configuration`):
    §5 says the two transformations then differ, that locations "should use the
    transformation defined in this specification", and that legacy deployments may
    need to publish "at both locations". A document only at the appended location
    is therefore not where §3 requires it: M1 fails, at the MUST level of §3's
    sentence. The sentence binds "authorization servers supporting metadata"; a
    profile for a server that offers only OpenID Connect Discovery can list M1 as an
    expected failure with that reason.

    @rfc8414-3 @rfc8414-3.1 @rfc8414-3.2 @must @M1 @needs.metadata
    Scenario: Fetching the metadata document from the well-known path
      When the metadata document is fetched from a path RFC 8414 §3 forms from the issuer
      Then the metadata response is JSON

  Rule: The issuer is identical to the issuer identifier the document was fetched for, with no query or fragment (§2, §3.3)

    @rfc8414-3.3 @must @M2 @needs.metadata
    Scenario: The issuer member names the issuer the document was fetched for
      When the metadata document is fetched
      Then the metadata issuer is the issuer the document was fetched for

    @rfc8414-2 @must @M2 @needs.metadata
    Scenario: The issuer member has no query or fragment
      When the metadata document is fetched
      Then the metadata issuer has no query or fragment

  Rule: The issuer is a URL that uses the https scheme (§2)

    # An issuer served over plain HTTP (such as the bundled server on 127.0.0.1)
    # breaks this MUST by construction, as it breaks the TLS requirements of RFC 6749
    # §3.1 and §3.2; like those, the check is reported not applicable to a target
    # that the runner reaches without TLS (capability `tls`), rather than failing
    # every plain-HTTP test deployment.
    @rfc8414-2 @must @M2 @needs.metadata @needs.tls
    Scenario: The issuer uses https
      When the metadata document is fetched
      Then the metadata issuer uses the https scheme

  Rule: authorization_endpoint (unless no grant type uses it), token_endpoint and response_types_supported are REQUIRED (§2)

    @rfc8414-2 @must @M3 @needs.metadata
    Scenario: The metadata names the token endpoint and the response types
      When the metadata document is fetched
      Then the metadata includes "token_endpoint"
      And the metadata includes "response_types_supported"

    @rfc8414-2 @must @M3 @needs.metadata @needs.authorization_code
    Scenario: A server with the authorization code grant names its authorization endpoint
      When the metadata document is fetched
      Then the metadata includes "authorization_endpoint"

  Rule: Claims with zero elements MUST be omitted (§3.2)

    @rfc8414-3.2 @must @M5 @needs.metadata
    Scenario: No member is an empty array
      When the metadata document is fetched
      Then no metadata member is an empty array

  Rule: What the metadata advertises, or leaves to the defaults of §2 by omission, is what the server supports (§2)

    @rfc8414-2 @must @M4 @M6 @needs.metadata @needs.basic_client
    Scenario: Every grant type in grant_types_supported is accepted at the token endpoint
      When the metadata document is fetched
      Then every grant type the metadata advertises works at the token endpoint

    @rfc8414-2 @must @M4 @M6 @needs.metadata @needs.pkce @needs.login @needs.authorization_code @needs.basic_client
    Scenario: Every method in code_challenge_methods_supported works
      When the metadata document is fetched
      Then every code challenge method the metadata advertises works

    @rfc8414-2 @must @M4 @M6 @needs.metadata @needs.user_tokens
    Scenario: Every method in token_endpoint_auth_methods_supported authenticates a client
      When the metadata document is fetched
      Then every client authentication method the metadata advertises works at the token endpoint

    @rfc8414-2 @must @M6 @needs.metadata @needs.basic_client
    Scenario: Every endpoint the metadata names answers
      When the metadata document is fetched
      Then every endpoint the metadata advertises answers as its specification defines

  Rule: Authorization servers SHOULD publish code_challenge_methods_supported (RFC 9700 §2.1.1)

    @rfc9700-2.1.1 @rfc8414-2 @should @R67 @needs.metadata
    Scenario: The metadata lists the PKCE methods
      When the metadata document is fetched
      Then the metadata includes "code_challenge_methods_supported"

  Rule: Authorization servers SHOULD publish metadata (RFC 9700 §2.6)

    Published at any of the well-known locations: where exactly is M1's concern.

    @rfc9700-2.6 @should @M7 @needs.issuer
    Scenario: The issuer publishes a metadata document
      When the metadata document is fetched
      Then the metadata response is JSON
