@rfc6749 @needs.authorization_code
Feature: The authorization endpoint (RFC 6749 §3.1)

  The authorization endpoint is the page of the authorization server that a client
  sends the user's browser to. There the server authenticates the user and asks for
  their decision, then sends the browser back to the client with the answer. Because
  the browser, not the client's code, talks to it, a request is a plain URL with query
  parameters, and the server must read them strictly: a parameter without a value
  counts as absent, a parameter it does not know is ignored, and a parameter sent twice
  is an error. Scripts on other sites must not be able to read its answers.

  Rule: The endpoint URI MUST NOT include a fragment component (§3.1)

    @rfc6749-3.1 @must @R8
    Scenario: The authorization endpoint URI the target publishes
      Then the authorization endpoint URI has no fragment component

  Rule: The authorization server MUST support the HTTP GET method for the authorization endpoint (§3.1)

    @rfc6749-3.1 @must @R3 @needs.login @needs.basic_client
    Scenario: An authorization request sent with GET
      When the Basic client sends the primary user to the authorization endpoint
      Then the client receives an authorization code

  Rule: Parameters sent without a value MUST be treated as if they were omitted from the request (§3.1)

    The server's answer to a request with an empty parameter is compared with its answer
    to the same request without it: a server that requires `state` refuses both, one
    that does not issues a code for both, and either is conformant.

    @rfc6749-3.1 @must @R4 @needs.login @needs.basic_client
    Scenario: A state parameter sent without a value
      When the Basic client sends the primary user to the authorization endpoint with:
        | state |  |
      And the Basic client sends the primary user to the authorization endpoint without "state"
      Then both authorization answers are the same

    @rfc6749-3.1 @rfc7636-4.3 @must @R4 @needs.login @needs.basic_client @needs.pkce
    Scenario: A code_challenge_method sent without a value is treated as omitted
      Given the Basic client uses a PKCE challenge without a method
      When the Basic client sends the primary user to the authorization endpoint with:
        | code_challenge_method |  |
      And the Basic client sends the primary user to the authorization endpoint without "code_challenge_method"
      Then both authorization answers are the same

    @rfc6749-3.1 @rfc7636-4.3 @must @R4 @needs.login @needs.basic_client @needs.pkce
    Scenario: A code requested with an empty code_challenge_method is redeemed as one requested without it
      Given the Basic client uses a PKCE challenge without a method
      When the Basic client sends the primary user to the authorization endpoint with:
        | code_challenge_method |  |
      And the Basic client redeems the authorization code, if one came back
      And the Basic client sends the primary user to the authorization endpoint without "code_challenge_method"
      And the Basic client redeems the authorization code, if one came back
      Then both redemptions are answered the same

  Rule: The authorization server MUST ignore unrecognized request parameters (§3.1)

    @rfc6749-3.1 @must @R4 @needs.login @needs.basic_client
    Scenario: An authorization request with a parameter the server does not know
      When the Basic client sends the primary user to the authorization endpoint with:
        | x_unknown_extension | 7d1f |
      Then the client receives an authorization code
      And the authorization response carries the state unchanged

  Rule: Request parameters MUST NOT be included more than once (§3.1)

    The sentence binds whoever builds the request; a server may refuse a repeated
    parameter or settle on one value. A refusal must take the form §4.1.2.1 gives it:
    an error page, or `invalid_request` sent back to the client. A server that accepts
    the request is reported not applicable.

    @rfc6749-3.1 @rfc6749-4.1.2.1 @must @R5 @needs.login @needs.basic_client
    Scenario: An authorization request with response_type twice
      When the Basic client sends the primary user to the authorization endpoint with:
        | response_type | (repeated) |
      Then if the request is refused, it is refused with an error page or the error invalid_request

    @rfc6749-3.1 @rfc6749-4.1.2.1 @must @R5 @needs.login @needs.basic_client
    Scenario: An authorization request with client_id twice
      When the Basic client sends the primary user to the authorization endpoint with:
        | client_id | (repeated) |
      Then if the request is refused, it is refused with an error page or the error invalid_request

    @rfc6749-3.1 @rfc6749-4.1.2.1 @must @R5 @needs.login @needs.basic_client
    Scenario: An authorization request with redirect_uri twice
      When the Basic client sends the primary user to the authorization endpoint with:
        | redirect_uri | (repeated) |
      Then if the request is refused, it is refused with an error page or the error invalid_request

    @rfc6749-3.1 @rfc6749-4.1.2.1 @must @R5 @needs.login @needs.basic_client
    Scenario: An authorization request with scope twice
      When the Basic client sends the primary user to the authorization endpoint with:
        | scope | (repeated) |
      Then if the request is refused, it is refused with an error page or the error invalid_request

    @rfc6749-3.1 @rfc6749-4.1.2.1 @must @R5 @needs.login @needs.basic_client
    Scenario: An authorization request with state twice
      When the Basic client sends the primary user to the authorization endpoint with:
        | state | (repeated) |
      Then if the request is refused, it is refused with an error page or the error invalid_request

  Rule: CORS MUST NOT be supported at the authorization endpoint, since the client redirects the user agent to it and never calls it (RFC 9700 §2.6)

    @rfc9700-2.6 @must @R9 @needs.basic_client
    Scenario: An authorization request that carries an Origin header
      When the Basic client sends the user to the authorization endpoint with the header "Origin: https://cors-probe.example"
      Then the response has no header "Access-Control-Allow-Origin"

    @rfc9700-2.6 @must @R9
    Scenario: A CORS preflight request to the authorization endpoint
      When a CORS preflight request for the authorization endpoint comes from "https://cors-probe.example"
      Then the response has no header "Access-Control-Allow-Origin"
