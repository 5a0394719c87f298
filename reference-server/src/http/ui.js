// The script login UI of the reference server (`--login-ui script`), served as
// /oauth/authorize/ui.js. It builds the screens the page's HTML leaves out, the way
// single-page login apps do: on the login page a user-name screen, then a password
// screen; on the consent page Approve and Deny. Each answer is posted with fetch as a
// form-encoded body, and the JSON reply says where to go next ({"next": url}) or what
// went wrong ({"error": code, "message": sentence}). No framework, nothing external.
(function () {
  "use strict";

  var LOGIN_API = "/oauth/authorize/login";
  var CONSENT_API = "/oauth/authorize/consent";

  var screen = document.getElementById("screen");
  var message = document.getElementById("message");

  /** The content of <meta name="...">, or "". */
  function meta(name) {
    var m = document.querySelector('meta[name="' + name + '"]');
    return (m && m.getAttribute("content")) || "";
  }

  /** An element with attributes and children (strings become text, never markup). */
  function element(tag, attributes, children) {
    var e = document.createElement(tag);
    Object.keys(attributes).forEach(function (k) {
      e.setAttribute(k, attributes[k]);
    });
    (children || []).forEach(function (c) {
      e.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return e;
  }

  /** Shows a message above the screen; "" hides it. */
  function say(text) {
    message.textContent = text;
    message.hidden = !text;
  }

  /** Replaces the screen's content with one node. */
  function showScreen(node) {
    while (screen.firstChild) {
      screen.removeChild(screen.firstChild);
    }
    screen.appendChild(node);
  }

  /** POSTs fields form-encoded; resolves to {status, body} with the parsed JSON. */
  function post(url, fields) {
    return fetch(url, {
      method: "POST",
      body: fields,
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json" }
    }).then(function (response) {
      return response.json().then(function (body) {
        return { status: response.status, body: body };
      });
    });
  }

  /** Goes to the answer's next URL; otherwise shows its message and returns false. */
  function follow(answer) {
    if (answer.body && typeof answer.body.next === "string") {
      window.location.assign(answer.body.next);
      return true;
    }
    say((answer.body && answer.body.message) || "Something went wrong. Try again.");
    return false;
  }

  /** For a request that got no JSON answer (network down, proxy error page). */
  function unreachable() {
    say("The server could not be reached. Try again.");
  }

  /** First login screen: the user name and Next. Nothing is sent yet. */
  function usernameScreen(username) {
    var input = element("input", {
      type: "text",
      id: "username",
      name: "username",
      autocomplete: "username",
      required: ""
    });
    input.value = username;
    var form = element("form", { id: "username-form", method: "post", action: LOGIN_API }, [
      element("label", {}, ["Email ", input]),
      element("button", { type: "submit", id: "next" }, ["Next"])
    ]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!input.value) {
        say("Enter your email.");
        input.focus();
        return;
      }
      say("");
      passwordScreen(input.value);
    });
    showScreen(form);
    input.focus();
  }

  /** Second login screen: the password and Sign in, posted to the login API. */
  function passwordScreen(username) {
    var input = element("input", {
      type: "password",
      id: "password",
      name: "password",
      autocomplete: "current-password",
      required: ""
    });
    var button = element("button", { type: "submit", id: "sign-in" }, ["Sign in"]);
    var back = element("a", { href: "#", id: "other-account" }, ["Use another account"]);
    back.addEventListener("click", function (event) {
      event.preventDefault();
      say("");
      usernameScreen(username);
    });
    var form = element("form", { id: "password-form", method: "post", action: LOGIN_API }, [
      element("p", {}, ["Signing in as ", element("strong", { id: "account" }, [username]), "."]),
      element("p", {}, [back]),
      element("label", {}, ["Password ", input]),
      button
    ]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (button.disabled) {
        return;
      }
      button.disabled = true;
      say("");
      var fields = new URLSearchParams(meta("authorization-request"));
      fields.append("csrf_token", meta("csrf-token"));
      fields.append("username", username);
      fields.append("password", input.value);
      post(LOGIN_API, fields).then(function (answer) {
        if (!follow(answer)) {
          input.value = "";
          button.disabled = false;
          input.focus();
        }
      }, function () {
        unreachable();
        button.disabled = false;
      });
    });
    showScreen(form);
    input.focus();
  }

  /** The consent screen: Approve and Deny, posted to the consent API. */
  function consentScreen() {
    var approve = element("button", { type: "submit", name: "action", value: "approve", id: "approve" }, ["Approve"]);
    var deny = element("button", { type: "submit", name: "action", value: "deny", id: "deny" }, ["Deny"]);
    var form = element("form", { id: "consent-form", method: "post", action: CONSENT_API }, [approve, " ", deny]);
    var chosen = "";
    approve.addEventListener("click", function () { chosen = "approve"; });
    deny.addEventListener("click", function () { chosen = "deny"; });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var action = (event.submitter && event.submitter.value) || chosen;
      if ((action !== "approve" && action !== "deny") || approve.disabled) {
        return;
      }
      approve.disabled = true;
      deny.disabled = true;
      say("");
      var fields = new URLSearchParams();
      fields.append("interaction", meta("interaction"));
      fields.append("csrf_token", meta("csrf-token"));
      fields.append("action", action);
      post(CONSENT_API, fields).then(function (answer) {
        if (!follow(answer)) {
          approve.disabled = false;
          deny.disabled = false;
        }
      }, function () {
        unreachable();
        approve.disabled = false;
        deny.disabled = false;
      });
    });
    showScreen(form);
  }

  var page = meta("ui-page");
  if (page === "login") {
    usernameScreen("");
  } else if (page === "consent") {
    consentScreen();
  }
})();
