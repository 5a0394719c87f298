@rfc6749 @slow @serial @needs.brute_force_protection @needs.brute_force_allowed
Feature: Protection against password guessing (RFC 6749 §4.3.2, §10.10)

  Whoever can send passwords to the token endpoint or to the login page can try one
  after another until a weak one works. RFC 6749 makes the server responsible: it "MUST
  protect the endpoint against brute force attacks (e.g., using rate-limitation or
  generating alerts)" (§4.3.2) and "MUST prevent attackers from guessing ... resource
  owner passwords" (§10.10). Alerts cannot be seen from outside, so the suite checks
  this MUST only where the profile says the target rate-limits: after some wrong
  passwords for one account the server refuses further attempts for a while, the
  correct password included, since a throttle that still lets the right guess through
  slows nobody down. How it refuses is the server's choice; 429 Too Many Requests with
  a Retry-After header (RFC 6585 §4) and a block that ends by itself, so an attacker
  cannot lock the owner out for good, are checked as an optional countermeasure. The
  scenarios use accounts of their own, never the primary or secondary user, run one at
  a time, and send at most `[brute_force].max_attempts` wrong passwords. Against a
  server that is not on loopback (a shared staging or production deployment) they run
  only when the profile opts in with `[brute_force] remote = true`.

  Rule: Repeated wrong passwords at the token endpoint are refused for a while, the right one too (§4.3.2)

    @rfc6749-4.3.2 @must @R69 @needs.password @needs.basic_client @needs.throttled_user
    Scenario: Wrong passwords for one account at the token endpoint, then the right one
      When the Basic client keeps sending wrong passwords for the throttled user
      And the Basic client requests a token with the password grant for the throttled user
      Then the request is refused

    @rfc6749-4.3.2 @may @R69a @needs.password @needs.basic_client @needs.throttled_user
    Scenario: The token endpoint's block is a 429 with Retry-After, and it ends
      When the Basic client keeps sending wrong passwords for the throttled user
      Then the attempt is refused with status 429 and a Retry-After header
      When the client waits as long as Retry-After asks
      And the Basic client requests a token with the password grant for the throttled user
      Then the token request succeeds

  Rule: Repeated wrong passwords at the login page are refused for a while, the right one too (§10.10)

    @rfc6749-10.10 @must @R69 @needs.login @needs.authorization_code @needs.basic_client @needs.throttled_form_user
    Scenario: Wrong passwords for one account at the login page, then the right one
      When the throttled form user keeps signing in with wrong passwords for the Basic client
      And the Basic client sends the throttled form user to the authorization endpoint
      Then no authorization code is issued

    @rfc6749-10.10 @may @R69a @needs.login @needs.authorization_code @needs.basic_client @needs.throttled_form_user
    Scenario: The login page's block is a 429 with Retry-After, and it ends
      When the throttled form user keeps signing in with wrong passwords for the Basic client
      Then the attempt is refused with status 429 and a Retry-After header
      When the client waits as long as Retry-After asks
      And the Basic client sends the throttled form user to the authorization endpoint
      Then the client receives an authorization code
