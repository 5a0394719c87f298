@rfc6749 @needs.authorization_code @needs.login
Feature: Authorization code grant (RFC 6749 §4.1)

  The client sends the user's browser to the authorization server with its client_id,
  a registered redirection URI and a random state. The server authenticates the user,
  asks for their consent, and sends the browser back to that URI with a short-lived,
  single-use code and the same state. The client then trades the code, with its own
  credentials, for tokens at the token endpoint. The code is worth stealing, so the
  server sends it only to the exact URI registered, binds it to the client and the
  redirection URI, lets it be used once, and protects its own pages against forged
  submissions and framing.

  Rule: The user approves at the authorization server and the client trades the code for tokens (§4.1.1 - §4.1.4)

    @rfc6749-4.1 @must @R26 @R47 @needs.basic_client @needs.resource
    Scenario: A confidential client authenticated with HTTP Basic obtains tokens that work for the user
      When the Basic client sends the primary user to the authorization endpoint
      Then the client receives an authorization code
      And the authorization response carries the state unchanged
      When the Basic client redeems the authorization code
      Then the token request succeeds
      When the resource is requested with the access token
      Then the resource answers for the primary user

    @rfc6749-4.1 @must @R26 @R47 @needs.post_client @needs.secondary_user @needs.resource
    Scenario: A confidential client authenticated in the request body obtains tokens that work for the user
      When the post client sends the secondary user to the authorization endpoint
      Then the client receives an authorization code
      And the authorization response carries the state unchanged
      When the post client redeems the authorization code
      Then the token request succeeds
      When the resource is requested with the access token
      Then the resource answers for the secondary user

    @rfc6749-4.1 @must @R26 @R47 @needs.public_client @needs.resource
    Scenario: A public client identified by its client_id obtains tokens that work for the user
      When the public client sends the primary user to the authorization endpoint
      Then the client receives an authorization code
      And the authorization response carries the state unchanged
      When the public client redeems the authorization code
      Then the token request succeeds
      When the resource is requested with the access token
      Then the resource answers for the primary user

  Rule: A missing or not understood response_type is answered with an error response by redirect (§3.1.1, §4.1.2.1)

    @rfc6749-3.1.1 @rfc6749-4.1.2.1 @must @R20 @R27 @R28 @needs.basic_client
    Scenario: An authorization request without response_type
      When the Basic client sends the primary user to the authorization endpoint with:
        | response_type | (omitted) |
      Then the client receives the error invalid_request or unsupported_response_type
      And the authorization response carries the state unchanged
      And the authorization error response is well formed

    @rfc6749-3.1.1 @rfc6749-4.1.2.1 @must @R20 @R27 @R28 @needs.basic_client
    Scenario: An authorization request with a response_type the server does not know
      When the Basic client sends the primary user to the authorization endpoint with:
        | response_type | x_unknown_type |
      Then the client receives the error unsupported_response_type or invalid_request
      And the authorization response carries the state unchanged
      And the authorization error response is well formed

  Rule: A redirect_uri is compared with the registered redirection URI by simple (exact) string comparison (§3.1.2.3; RFC 9700 §2.1)

    @rfc6749-3.1.2.3 @rfc9700-2.1 @must @R22 @needs.basic_client
    Scenario: The registered redirection URI with a trailing slash added
      When the Basic client sends the primary user to the authorization endpoint with:
        | redirect_uri | <redirect_uri>/ |
      Then the user-agent is not redirected to the unregistered redirection URI

    @rfc6749-3.1.2.3 @rfc9700-2.1 @must @R22 @needs.basic_client
    Scenario: The registered redirection URI with a query parameter added
      When the Basic client sends the primary user to the authorization endpoint with:
        | redirect_uri | <redirect_uri>?extra=1 |
      Then the user-agent is not redirected to the unregistered redirection URI

    @rfc6749-3.1.2.3 @rfc9700-2.1 @must @R22 @needs.basic_client
    Scenario: The registered redirection URI with a path segment added
      When the Basic client sends the primary user to the authorization endpoint with:
        | redirect_uri | <redirect_uri>/deeper |
      Then the user-agent is not redirected to the unregistered redirection URI

    @rfc6749-3.1.2.3 @rfc9700-2.1 @must @R22 @needs.basic_client
    Scenario: The registered redirection URI with characters appended to its path
      When the Basic client sends the primary user to the authorization endpoint with:
        | redirect_uri | <redirect_uri>-evil |
      Then the user-agent is not redirected to the unregistered redirection URI

    @rfc6749-3.1.2.3 @rfc9700-2.1 @must @R22 @needs.basic_client
    Scenario: A redirection URI on another host
      When the Basic client sends the primary user to the authorization endpoint with:
        | redirect_uri | https://attacker.example/callback |
      Then the user-agent is not redirected to the unregistered redirection URI

  Rule: A native app's loopback redirection URI is accepted with any port chosen at request time (RFC 8252 §7.3; RFC 9700 §2.1)

    A native app that receives the response on the loopback interface asks the
    operating system for a free port when it starts the request, so it cannot register
    the port in advance. Exact string matching therefore has one exception: "The
    authorization server MUST allow any port to be specified at the time of the request
    for loopback IP redirect URIs" (RFC 8252 §7.3), and RFC 9700 §2.1 keeps it ("except
    for port numbers in localhost redirection URIs of native apps"). The scenarios apply
    where the profile's public client has registered an `http://127.0.0.1` or
    `http://[::1]` redirection URI; the code is redeemed with the URI as sent, port
    included (§4.1.3).

    @rfc8252-7.3 @rfc9700-2.1 @must @R106 @needs.public_client
    Scenario: The loopback redirection URI with an ephemeral port
      When the public client sends the primary user to the authorization endpoint with:
        | redirect_uri | <redirect_uri.port.51004> |
      Then the client receives an authorization code
      When the public client redeems the authorization code
      Then the token request succeeds

    @rfc8252-7.3 @rfc9700-2.1 @must @R106 @needs.public_client
    Scenario: The loopback redirection URI with a four-digit port
      When the public client sends the primary user to the authorization endpoint with:
        | redirect_uri | <redirect_uri.port.8400> |
      Then the client receives an authorization code
      When the public client redeems the authorization code
      Then the token request succeeds

  Rule: The authorization server MUST require public clients to register their redirection URIs (§3.1.2.2)

    @rfc6749-3.1.2.2 @must @R21 @needs.public_client
    Scenario: A public client names a redirection URI it never registered
      When the public client sends the primary user to the authorization endpoint with:
        | redirect_uri | https://attacker.example/public-callback |
      Then the user-agent is not redirected to the unregistered redirection URI

  Rule: A query component of the registered redirection URI MUST be retained when the response parameters are added (§3.1.2)

    @rfc6749-3.1.2 @rfc6749-3.1 @must @R23 @needs.basic_client @needs.redirect_uri_with_query
    Scenario: A registered redirection URI that has a query
      When the Basic client sends the primary user to the authorization endpoint with:
        | redirect_uri | <redirect_uri_with_query> |
      Then the client receives an authorization code
      And the redirect keeps the query of the registered redirect URI
      And each parameter appears once in the authorization response

  Rule: With a missing or invalid client identifier or redirection URI the server MUST NOT redirect, and SHOULD inform the resource owner (§3.1.2.4, §4.1.2.1)

    @rfc6749-4.1.2.1 @must @R24 @needs.basic_client
    Scenario: An authorization request with a client_id no client has
      When the Basic client sends the primary user to the authorization endpoint with:
        | client_id | no-such-client-4b2e |
      Then the user-agent is not redirected away from the authorization server

    @rfc6749-4.1.2.1 @must @R24 @needs.basic_client
    Scenario: An authorization request without client_id
      When the Basic client sends the primary user to the authorization endpoint with:
        | client_id | (omitted) |
      Then the user-agent is not redirected away from the authorization server

    @rfc6749-4.1.2.1 @should @R24a @needs.basic_client
    Scenario: The user is told about a client_id no client has
      When the Basic client sends the primary user to the authorization endpoint with:
        | client_id | no-such-client-4b2e |
      Then the user sees an error page and is not redirected

    @rfc6749-3.1.2.4 @should @R24a @needs.basic_client
    Scenario: The user is told about a redirection URI that is not registered
      When the Basic client sends the primary user to the authorization endpoint with:
        | redirect_uri | https://attacker.example/callback |
      Then the user sees an error page and is not redirected

  Rule: The authorization server MUST NOT be an open redirector, on error paths too (RFC 9700 §2.1, §4.11.2)

    @rfc9700-2.1 @rfc9700-4.11.2 @must @R34 @needs.basic_client
    Scenario: An unknown client_id with an attacker's redirection URI
      When the Basic client sends the primary user to the authorization endpoint with:
        | client_id    | no-such-client-4b2e           |
        | redirect_uri | https://attacker.example/land |
      Then the user-agent is not redirected away from the authorization server

    @rfc9700-2.1 @rfc9700-4.11.2 @must @R34 @needs.basic_client
    Scenario: A request without response_type and with an attacker's redirection URI
      When the Basic client sends the primary user to the authorization endpoint with:
        | response_type | (omitted)                     |
        | redirect_uri  | https://attacker.example/land |
      Then the user-agent is not redirected to the unregistered redirection URI

    @rfc9700-2.1 @rfc9700-4.11.2 @must @R34 @needs.basic_client
    Scenario: An unknown scope with an attacker's redirection URI
      When the Basic client sends the primary user to the authorization endpoint with:
        | scope        | no-such-scope-7f3a            |
        | redirect_uri | https://attacker.example/land |
      Then the user-agent is not redirected to the unregistered redirection URI

  Rule: The state is returned exactly as received from the client (§4.1.2)

    @rfc6749-4.1.2 @must @R26 @needs.basic_client
    Scenario: A state with spaces and reserved characters
      When the Basic client sends the primary user to the authorization endpoint with:
        | state | a b+c/d?e=f&g%h~i#j |
      Then the client receives an authorization code
      And the authorization response carries the state unchanged

  Rule: An error response carries the state and an error code from the §4.1.2.1 set, in the allowed characters (§4.1.2.1)

    @rfc6749-4.1.2.1 @must @R27 @R28 @needs.basic_client
    Scenario: The user denies the request
      When the Basic client sends the primary user to the authorization endpoint and the user denies
      Then the client receives the error access_denied
      And the authorization response carries the state unchanged
      And the authorization error response is well formed

  Rule: A scope the server does not know is refused with invalid_scope, unless the server narrows the request and says so (§3.3, §4.1.2.1)

    @rfc6749-3.3 @rfc6749-4.1.2.1 @must @R29 @R27 @needs.basic_client
    Scenario: An authorization request for a scope the server does not know
      When the Basic client sends the primary user to the authorization endpoint with:
        | scope | no-such-scope-7f3a |
      Then the authorization response carries the state unchanged
      And the client receives the error invalid_scope or a code without the scope "no-such-scope-7f3a"

  Rule: Without scope the server uses its default scope or refuses with invalid_scope (§3.3)

    @rfc6749-3.3 @must @R29a @needs.basic_client
    Scenario: An authorization request without scope
      When the Basic client sends the primary user to the authorization endpoint without "scope"
      Then the client receives an authorization code or the error invalid_scope

  Rule: The authorization code MUST expire shortly after it is issued (§4.1.2, §10.5)

    @rfc6749-4.1.2 @rfc6749-10.5 @must @R30 @R44 @needs.basic_client @needs.code_expiry @slow
    Scenario: Redeeming an authorization code after it has expired
      Given the Basic client has an authorization code for the primary user
      When the client waits until the authorization code has expired
      And the Basic client redeems the authorization code
      Then the error is invalid_grant

  Rule: The authorization server MUST implement CSRF protection for its authorization endpoint (§10.12)

    @rfc6749-10.12 @must @R32 @needs.basic_client
    Scenario: An attacker's page submits the login and consent form in the user's browser
      When a cross-site page submits the Basic client's authorization form for the primary user
      Then no authorization code is issued

  Rule: Authorization servers MUST prevent clickjacking, and SHOULD use CSP frame-ancestors (§10.13; RFC 9700 §4.16)

    @rfc6749-10.13 @rfc9700-4.16 @must @R33 @needs.basic_client
    Scenario: The login and consent pages forbid framing
      When the Basic client sends the primary user to the authorization endpoint
      Then no page of the authorization flow can be framed by another site

    @rfc9700-4.16 @should @R33a @needs.basic_client
    Scenario: The login and consent pages carry a Content-Security-Policy frame-ancestors directive
      When the Basic client sends the primary user to the authorization endpoint
      Then every page of the authorization flow sets a frame-ancestors policy

  Rule: A redirect of a request that may carry the user's credentials MUST NOT use 307, and SHOULD use 303 (RFC 9700 §4.12, §2.1)

    @rfc9700-4.12 @rfc9700-2.1 @must @R35 @needs.basic_client
    Scenario: The redirects that answer the login form
      When the Basic client sends the primary user to the authorization endpoint
      Then the client receives an authorization code
      And no redirect answering the submitted form uses status 307 or 308

    @rfc9700-4.12 @should @R35a @needs.basic_client
    Scenario: The redirects that answer the login form are 303 See Other
      When the Basic client sends the primary user to the authorization endpoint
      Then the client receives an authorization code
      And every redirect answering the submitted form uses status 303

  Rule: An authorization server that supports RFC 9207 includes iss in every authorization response, error responses too (RFC 9207 §2)

    @rfc9207-2 @must @R36 @needs.basic_client @needs.iss_parameter
    Scenario: A successful authorization response names the issuer
      When the Basic client sends the primary user to the authorization endpoint
      Then the client receives an authorization code
      And the authorization response carries the issuer

    @rfc9207-2 @must @R36 @needs.basic_client @needs.iss_parameter
    Scenario: An error response names the issuer
      When the Basic client sends the primary user to the authorization endpoint and the user denies
      Then the client receives the error access_denied
      And the authorization response carries the issuer

  Rule: A Referrer-Policy on the authorization pages keeps their URLs from other sites (RFC 9700 §4.2.4)

    @rfc9700-4.2.4 @may @R37 @needs.basic_client
    Scenario: The login and consent pages set a referrer policy
      When the Basic client sends the primary user to the authorization endpoint
      Then every page of the authorization flow sets a referrer policy that keeps its URL from other sites

  Rule: The server SHOULD NOT process repeated authorization requests of a client it cannot authenticate without the resource owner's interaction (§10.2)

    @rfc6749-10.2 @should @R38 @needs.public_client
    Scenario: A public client sends the same user to the authorization endpoint a second time
      When the primary user approves the public client, and the client sends the user to the authorization endpoint again in the same browser
      Then the authorization server asks the user again before issuing a code

  Rule: redirect_uri is REQUIRED at the token endpoint when the authorization request had it, and the values MUST be identical (§4.1.3, §10.6)

    @rfc6749-4.1.3 @rfc6749-10.6 @must @R39 @needs.basic_client
    Scenario: Redeeming a code without the redirect_uri of the authorization request
      Given the Basic client has an authorization code for the primary user
      When the Basic client redeems the authorization code with:
        | redirect_uri | (omitted) |
      Then the error is invalid_request or invalid_grant

    @rfc6749-4.1.3 @rfc6749-10.6 @must @R39 @needs.basic_client
    Scenario: Redeeming a code with a different redirect_uri
      Given the Basic client has an authorization code for the primary user
      When the Basic client redeems the authorization code with:
        | redirect_uri | <redirect_uri>/ |
      Then the error is invalid_grant

  Rule: The token request is form-urlencoded, where a percent-escape in lower case is the same octet (§4.1.3, Appendix B; RFC 3986 §2.1)

    The client sends the redemption "using the application/x-www-form-urlencoded
    format" (§4.1.3), whose percent-escapes may use either case: "The uppercase
    hexadecimal digits 'A' through 'F' are equivalent to the lowercase digits 'a'
    through 'f'" (RFC 3986 §2.1). A redemption whose `redirect_uri` arrives as
    `https%3a%2f%2f...` names the same URI as the authorization request did.

    @rfc6749-4.1.3 @rfc3986-2.1 @must @R107 @needs.basic_client
    Scenario: A redemption whose body is percent-encoded in lower case
      Given the Basic client has an authorization code for the primary user
      When the Basic client redeems the authorization code with lower-case percent-encoding
      Then the token request succeeds

  Rule: A client that registered one redirection URI may leave redirect_uri out, and then sends none to the token endpoint (§3.1.2.3, §4.1.1, §4.1.3)

    @rfc6749-4.1.1 @rfc6749-4.1.3 @must @R39a @needs.post_client
    Scenario: A client with one registered redirection URI leaves redirect_uri out of both requests
      Given the post client has registered only its one redirection URI
      When the post client sends the primary user to the authorization endpoint without "redirect_uri"
      Then the client receives an authorization code
      When the post client redeems the authorization code
      Then the token request succeeds

  Rule: The code is bound to the client it was issued to (§4.1.3, §10.5)

    @rfc6749-4.1.3 @rfc6749-10.5 @must @R40 @needs.basic_client @needs.second_client
    Scenario: Another confidential client redeems the Basic client's code
      Given the second client can authenticate at the token endpoint
      And the Basic client has an authorization code for the primary user
      When the second client redeems the authorization code
      Then the error is invalid_grant

    @rfc6749-4.1.3 @rfc6749-10.5 @must @R40 @needs.basic_client @needs.public_client
    Scenario: A public client redeems the Basic client's code
      Given the Basic client has an authorization code for the primary user
      When the public client redeems the authorization code
      Then the error is invalid_grant

  Rule: A code used more than once MUST be refused, and the tokens issued from it SHOULD be revoked (§4.1.2, §10.5)

    @rfc6749-4.1.2 @must @R41 @needs.basic_client
    Scenario: Redeeming an authorization code a second time
      Given the Basic client has an authorization code for the primary user
      When the Basic client redeems the authorization code
      Then the token request succeeds
      When the Basic client redeems the authorization code
      Then the error is invalid_grant

    @rfc6749-4.1.2 @rfc6749-10.5 @should @R42 @needs.basic_client @needs.resource
    Scenario: The access token from a code that was used twice
      Given the Basic client has an authorization code for the primary user
      When the Basic client redeems the authorization code
      Then the token request succeeds
      When the Basic client redeems the authorization code
      Then the access token is refused by the resource

    @rfc6749-4.1.2 @should @R42 @needs.basic_client @needs.refresh_token
    Scenario: The refresh token from a code that was used twice
      Given the Basic client has an authorization code for the primary user
      When the Basic client redeems the authorization code
      Then the token request succeeds
      And the token response includes a refresh token
      When the Basic client redeems the authorization code
      And the Basic client refreshes the token
      Then the error is invalid_grant

    @rfc6749-4.1.2 @must @R43 @needs.basic_client
    Scenario: Redeeming one code 32 times in parallel
      Given the Basic client has an authorization code for the primary user
      When the Basic client redeems the authorization code 32 times in parallel
      Then at most one of the parallel requests succeeds

    @rfc6749-4.1.2 @should @R42 @needs.basic_client @needs.resource
    Scenario: The tokens of the one successful parallel redemption
      Given the Basic client has an authorization code for the primary user
      When the Basic client redeems the authorization code 32 times in parallel
      Then the tokens of the successful parallel request no longer work

  Rule: An invalid authorization code is refused with invalid_grant; a malformed one may also be invalid_request (§5.2)

    @rfc6749-5.2 @must @R44 @needs.basic_client
    Scenario: Redeeming a code the server never issued
      When the Basic client sends a token request with:
        | grant_type   | authorization_code               |
        | code         | 4kQ9zX0c7vLr2m8TnW5yHb1pE6sJd3fA |
        | redirect_uri | <redirect_uri>                   |
      Then the error is invalid_grant

    @rfc6749-5.2 @must @R44 @needs.basic_client
    Scenario: Redeeming a malformed code
      When the Basic client sends a token request with:
        | grant_type   | authorization_code |
        | code         | %%% not a code %%% |
        | redirect_uri | <redirect_uri>     |
      Then the error is invalid_grant or invalid_request

  Rule: Guessing an authorization code MUST have a probability of at most 2^-128, and SHOULD of at most 2^-160 (§10.10)

    A black box cannot measure randomness, but it can check that codes differ and are
    long enough to hold that many bits: at least 20 characters for 128 bits whatever the
    alphabet, and for 160 bits, enough characters of the alphabet the codes use.

    @rfc6749-10.10 @must @R31 @needs.basic_client
    Scenario: Five authorization codes can each hold 128 bits
      When the Basic client obtains 5 authorization codes for the primary user
      Then the collected values are distinct and long enough to carry 128 bits

    @rfc6749-10.10 @should @R31a @needs.basic_client
    Scenario: Five authorization codes look long enough for 160 bits
      When the Basic client obtains 5 authorization codes for the primary user
      Then the collected values look long enough to carry 160 bits
