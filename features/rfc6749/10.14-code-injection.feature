@rfc6749
Feature: Code injection and input validation (RFC 6749 §10.14)

  An authorization server writes what the client sent into the pages it shows the user:
  the `state` and `redirect_uri` travel in hidden fields of the login form, and a
  refused request may be explained on an error page. If such a value is written as it
  came, a `"` ends the attribute that holds it and a `<` opens a tag: the client (or
  whoever crafted the link the user followed) has put markup, and with it script, into
  the server's own page. RFC 6749 §10.14 therefore says the authorization server "MUST
  sanitize (and validate when possible) any value received -- in particular, the value
  of the "state" and "redirect_uri" parameters".

  From outside, sanitizing shows in two ways. No page the user is shown holds an element
  or attribute the request's values made: the values below end a double-quoted or a
  single-quoted attribute and add one named `data-injected`, and open a tag that has
  it, which no page has unless a value was written as markup. And a value
  made of markup characters is still the same value afterwards: the state comes back
  exactly as sent (§4.1.2), which fails if the server escaped it twice, or not at all.
  Every character used is allowed in `state` (`VSCHAR`, Appendix A.5), so a server may
  not refuse the request for them.

  Rule: Values of the request never become markup in the server's pages, and come back unchanged (§10.14, §4.1.2)

    @rfc6749-10.14 @rfc6749-4.1.2 @must @R105 @R26 @needs.basic_client
    Scenario: A state made of markup characters
      When the Basic client sends the primary user to the authorization endpoint with:
        | state | " data-injected="1"><i data-injected>' data-injected='1'&amp;&lt;x |
      Then no page on the way holds an element with the attribute data-injected
      And the client receives an authorization code
      And the authorization response carries the state unchanged

    @rfc6749-10.14 @must @R105 @needs.basic_client
    Scenario: A redirection URI made of markup characters
      When the Basic client sends the primary user to the authorization endpoint with:
        | redirect_uri | https://attacker.example/" data-injected="1"><i data-injected>' data-injected='1'&amp; |
      Then no page on the way holds an element with the attribute data-injected
      And the user-agent is not redirected to the unregistered redirection URI
