@rfc6750 @needs.resource @needs.user_tokens
Feature: Using a bearer token at a protected resource (RFC 6750)

  A bearer token is like cash: whoever holds it may use it. The client sends it to
  the resource server, normally in the Authorization header as `Bearer <token>`.
  When the token is missing, invalid, or not enough, the resource server answers
  with a `WWW-Authenticate: Bearer` challenge that tells the client what went wrong
  (RFC 6750 §3).

  Background:
    Given the Basic client has tokens for the primary user

  Rule: Resource servers MUST support the Authorization request header field (§2.1)

    @rfc6750-2.1 @must @R86
    Scenario: A valid access token in the Authorization header is accepted
      When the resource is requested with the access token
      Then the resource answers for the primary user

    @rfc6750-2.1 @must @R86
    Scenario: The scheme name Bearer is matched case-insensitively
      When the resource is requested with the Authorization header "bearer <access_token>"
      Then the resource answers for the primary user

  Rule: Resource servers MAY accept the token as the access_token parameter of a form-encoded body (§2.2)

    @rfc6750-2.2 @may @R87
    Scenario: The access token in a form-encoded POST body is accepted
      When the resource is requested with the access token in the form body
      Then the resource answers for the primary user

  Rule: The body method is only for a single-part application/x-www-form-urlencoded body, and GET MUST NOT be used for it (§2.2)

    RFC 6750 words these conditions for the client ("The client MUST NOT use this
    method unless ..."), so a resource server may refuse such a token; one that takes
    it anyway is reported not applicable.

    @rfc6750-2.2 @may @R87a
    Scenario Outline: The access token in a <type> body sent with <method> is not accepted
      When the resource is requested by <method> with the access token in a body of type "<type>"
      Then the request is refused

      Examples:
        | method | type                              |
        | GET    | application/x-www-form-urlencoded |
        | POST   | text/plain                        |
        | POST   | multipart/form-data               |
        | POST   | application/json                  |

  Rule: A token in the URI query SHOULD NOT be used; success responses to such requests SHOULD carry Cache-Control private (§2.3)

    # Resource servers MAY support the query method (§2.3), so a refusal is not
    # required here; the OAuth 2.1 profile (features/bcp) refuses it.
    @rfc6750-2.3 @should @R88
    Scenario: The access token in the query string
      When the resource is requested with the access token in the query string
      Then the request is refused, or its success response carries Cache-Control private

  Rule: A request without a usable token MUST get a WWW-Authenticate header with the Bearer scheme (§3)

    @rfc6750-3 @must @R90
    Scenario: Calling the resource with no token
      When the resource is requested without a token
      Then the request is refused
      And the response carries a Bearer challenge

    @rfc6750-3 @must @R91
    Scenario Outline: Calling the resource <how>
      When the resource is requested <how>
      Then the request is refused
      And the response carries a Bearer challenge

      Examples:
        | how                                         |
        | with the token "not-a-real-token-0b5e7d"    |
        | with the refresh token as a bearer token    |
        | with the Authorization header "Bearer"      |

  Rule: A request that lacks any authentication information gets no error code (§3.1)

    @rfc6750-3.1 @should @R90a
    Scenario: Calling the resource with no token gets a challenge without an error
      When the resource is requested without a token
      Then the request is refused
      And the challenge has no error code

  Rule: An invalid, expired or revoked token is invalid_token with status 401 (§3, §3.1)

    @rfc6750-3.1 @should @R91a
    Scenario Outline: Calling the resource <how> is invalid_token
      When the resource is requested <how>
      Then the resource refuses the request with status 401
      And the challenge error is invalid_token

      Examples:
        | how                                         |
        | with the token "not-a-real-token-0b5e7d"    |
        | with the refresh token as a bearer token    |

  Rule: A token without the scope the resource requires is refused with a challenge, insufficient_scope with status 403 (RFC 6749 §7, RFC 6750 §3, §3.1)

    @rfc6749-7 @rfc6750-3 @must @R92
    Scenario: A token with a valid but insufficient scope is refused
      Given the Basic client has tokens for the primary user with the insufficient scope
      When the resource is requested with the access token
      Then the request is refused
      And the response carries a Bearer challenge

    @rfc6750-3.1 @should @R92a
    Scenario: A token with a valid but insufficient scope is insufficient_scope with status 403
      Given the Basic client has tokens for the primary user with the insufficient scope
      When the resource is requested with the access token
      Then the resource refuses the request with status 403
      And the challenge error is insufficient_scope

    @rfc6750-3.1 @may @R92b
    Scenario: The insufficient_scope challenge names the scope the resource requires
      Given the Basic client has tokens for the primary user with the insufficient scope
      When the resource is requested with the access token
      Then the request is refused
      And the challenge names the scope the resource requires

  Rule: A malformed request, or a token sent by more than one method, is invalid_request (§2, §3.1)

    A client MUST NOT send the token by more than one method (§2). A resource server
    may refuse such a request, with 400 and `invalid_request`, or serve it: one that does
    not read form bodies at all (§2.2 is optional) sees only the header. Serving it is
    reported not applicable.

    `Authorization: Bearer` with no token does not match `credentials = "Bearer" 1*SP
    b64token` (§2.1): the client attempted the Bearer method, with a malformed request,
    so it is invalid_request ("or is otherwise malformed"), not a request that "lacks
    any authentication information". The status code is a SHOULD ("The resource
    server SHOULD respond with the HTTP 400 (Bad Request) status code"), so the
    scenario is one, with the error code checked at the same level, as for
    invalid_token (R91a) and insufficient_scope (R92a). What §3 makes a MUST for such a request, the Bearer challenge,
    is checked apart (R91, R94), whatever the status.

    @rfc6750-3.1 @should @R89
    Scenario: The token in both the header and the form body
      When the resource is requested with the access token in the header and the form body
      Then if the request is refused, the resource answers 400 with the challenge error invalid_request

    @rfc6750-3.1 @should @R93
    Scenario: The Bearer scheme with no token
      When the resource is requested with the Authorization header "Bearer"
      Then the resource refuses the request with status 400
      And the challenge error is invalid_request

  Rule: Challenges use the scheme Bearer followed by auth-params; realm, scope and the error attributes appear at most once, in the allowed characters (§3)

    @rfc6750-3 @must @R94
    Scenario Outline: The challenge for a request <how> is well formed
      When the resource is requested <how>
      Then the Bearer challenge is well formed

      Examples:
        | how                                                         |
        | without a token                                             |
        | with the token "not-a-real-token-0b5e7d"                    |
        | with the Authorization header "Bearer"                      |
        | with the access token in the header and the form body       |

    @rfc6750-3 @must @R94
    Scenario: The challenge for a token with an insufficient scope is well formed
      Given the Basic client has tokens for the primary user with the insufficient scope
      When the resource is requested with the access token
      Then the Bearer challenge is well formed

  Rule: Token servers SHOULD issue short-lived bearer tokens, and an expired token is refused (§5.3, §3.1; RFC 6749 §7)

    @rfc6750-5.3 @should @R95
    Scenario: The access token is issued for one hour or less
      Then the access token was issued for at most one hour

    @rfc6749-7 @rfc6750-3 @must @R95a @needs.token_expiry @slow
    Scenario: An access token used after its lifetime has ended is refused
      When the client waits until the access token has expired
      And the resource is requested with the access token
      Then the request is refused
      And the response carries a Bearer challenge

    @rfc6749-7 @rfc6750-3 @must @R95a @needs.token_expiry @needs.password @slow
    Scenario: An access token from the password grant, used after its lifetime has ended, is refused
      Given the Basic client has tokens for the primary user from the password grant
      When the client waits until the access token has expired
      And the resource is requested with the access token
      Then the request is refused

    @rfc6749-7 @rfc6750-3 @must @R95a @needs.token_expiry @needs.refresh_token @slow
    Scenario: An access token from a refresh, used after its lifetime has ended, is refused
      Given the Basic client has refreshed its tokens
      When the client waits until the access token has expired
      And the resource is requested with the access token
      Then the request is refused

    @rfc6750-3.1 @should @R95b @needs.token_expiry @slow
    Scenario: An access token used after its lifetime has ended is invalid_token
      When the client waits until the access token has expired
      And the resource is requested with the access token
      Then the resource refuses the request with status 401
      And the challenge error is invalid_token
