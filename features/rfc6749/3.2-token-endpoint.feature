@rfc6749 @rfc6749-3.2 @needs.user_tokens @needs.refresh_token @needs.basic_client
Feature: The token endpoint (RFC 6749 §3.2)

  The token endpoint is where a client trades a grant (a code, a refresh token, its own
  credentials) for tokens. Requests are form-encoded POSTs. The endpoint reads its
  parameters strictly: a parameter with an empty value counts as absent, a parameter it
  does not know is ignored so that extensions can add new ones, and a parameter sent
  twice makes the request invalid, because the server cannot know which value the
  client meant. The scenarios use a refresh request, which every way of obtaining user
  tokens can lead to.

  Background:
    Given the Basic client has tokens for the primary user

  Rule: The client MUST use the HTTP POST method for token requests (§3.2)

    A token request as GET would put the refresh token and other credentials into the
    URL, where logs and caches keep them. The MUST binds the client; a server may
    refuse such a request, and one that serves it is reported not applicable.

    @may @R6
    Scenario: A refresh request sent with GET, its parameters in the query
      When the Basic client sends a token request with the GET method with:
        | grant_type    | refresh_token   |
        | refresh_token | <refresh_token> |
      Then the request is refused

  Rule: The authorization server MUST ignore unrecognized request parameters (§3.2)

    @must @R7
    Scenario: A refresh request with a parameter the server does not know
      When the Basic client sends a refresh request changed by:
        | x_conformance_unknown | ignore-me |
      Then the token request succeeds

  Rule: Request parameters MUST NOT be included more than once (§3.2, §5.2)

    The sentence binds the client; a server that refuses a repeated parameter answers
    `invalid_request` (§5.2: "includes a parameter more than once"). One that accepts
    it is reported not applicable.

    @must @R7
    Scenario: A refresh request with refresh_token twice
      When the Basic client sends a refresh request changed by:
        | refresh_token | (repeated) |
      Then if the request is refused, the error is invalid_request

    @must @R7
    Scenario: A refresh request with grant_type twice
      When the Basic client sends a refresh request changed by:
        | grant_type | (repeated) |
      Then if the request is refused, the error is invalid_request

  Rule: Parameters sent without a value MUST be treated as if they were omitted (§3.2)

    An empty refresh_token gets the answer a request without it gets; an empty scope
    is an omitted scope, which on refresh means the scope originally granted (§6).

    @must @R7
    Scenario: A refresh request whose refresh_token is empty
      When the Basic client sends a refresh request changed by:
        | refresh_token |  |
      Then the answer is the same as to the refresh request without "refresh_token"

    @must @R7
    Scenario: A refresh request whose scope is empty
      When the Basic client sends a refresh request changed by:
        | scope |  |
      Then the token request succeeds
      And the granted scope is the scope originally granted
