#!/usr/bin/env python3
"""Plays the user (and the user's browser) against the test authorization server's own
pages over HTTPS: the login and consent forms of oidc-provider's development interactions,
and the device verification page. Standard library only; cookies kept like a browser.

  user_agent.py device URL LOGIN [--deny]        open the verification URL (with the user
                                                  code in it), confirm, log in, consent
  user_agent.py authorize URL LOGIN [--deny]     open the authorization URL, log in, consent,
        [--state STATE] [--new-challenge]         follow the redirect to the loopback listener
  user_agent.py revoke URL CLIENT_ID             revoke the token read from stdin (RFC 7009)

Trusts the CA in $USER_AGENT_CA_FILE. Prints what happened, one line per step, on stdout
(never a token); exits non-zero when a page is not what a user would expect.
"""

import base64
import hashlib
import http.cookiejar
import os
import secrets
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser


class Forms(HTMLParser):
    """Every form on a page: its action and its (hidden and text) inputs; links too."""

    def __init__(self):
        super().__init__()
        self.forms = []
        self.links = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "id": a.get("id"), "inputs": {}})
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1]["inputs"][a["name"]] = a.get("value", "")
        elif tag == "a" and a.get("href"):
            self.links.append(a["href"])


class NoLoopbackRedirect(urllib.request.HTTPRedirectHandler):
    """Follows redirects like a browser, but stops at the loopback redirect URI (http://
    127.0.0.1) so the caller can decide what to send there (e.g. a tampered state)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if newurl.startswith("http://127.0.0.1"):
            raise StopAt(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class StopAt(Exception):
    def __init__(self, url):
        super().__init__(url)
        self.url = url


def opener():
    ctx = ssl.create_default_context(cafile=os.environ["USER_AGENT_CA_FILE"])
    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=ctx),
        urllib.request.HTTPCookieProcessor(jar),
        NoLoopbackRedirect(),
    )


def fetch(op, url, data=None):
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    with op.open(url, data=body, timeout=10) as r:
        return r.geturl(), r.read().decode("utf-8", "replace")


def forms(html):
    p = Forms()
    p.feed(html)
    return p


def step(msg):
    print(msg, flush=True)


def login_and_consent(op, url, html, login, deny):
    """From a login page through consent; returns the final (url, html) or raises StopAt."""
    for _ in range(4):
        page = forms(html)
        form = next((f for f in page.forms if "prompt" in f["inputs"]), None)
        if form is None:
            return url, html
        action = urllib.parse.urljoin(url, form["action"])
        if form["inputs"]["prompt"] == "login":
            step("login page: signing in as " + login)
            url, html = fetch(op, action, {"prompt": "login", "login": login, "password": "any"})
        elif form["inputs"]["prompt"] == "consent":
            if deny:
                abort = next((l for l in page.links if l.endswith("/abort")), None)
                if abort is None:
                    sys.exit("consent page without an abort link")
                step("consent page: denying")
                url, html = fetch(op, urllib.parse.urljoin(url, abort))
            else:
                step("consent page: allowing")
                url, html = fetch(op, action, {"prompt": "consent"})
    sys.exit("too many interaction pages")


def device(url, login, deny):
    op = opener()
    url, html = fetch(op, url)
    # The page with the code in its URL submits itself (JavaScript), then asks to confirm.
    for _ in range(3):
        page = forms(html)
        form = next((f for f in page.forms if "xsrf" in f["inputs"]), None)
        if form is None:
            break
        if form["id"] == "op.deviceConfirmForm":
            step("verification page: confirming the code")
        elif form["id"] == "op.deviceInputForm":
            sys.exit("the verification page asks for the code again (wrong or expired code)")
        else:
            step("verification page: submitting the code")
        url, html = fetch(op, urllib.parse.urljoin(url, form["action"]), form["inputs"])
    url, html = login_and_consent(op, url, html, login, deny)
    if "Sign-in Success" in html:
        step("device page: sign-in success")
    elif deny:
        step("device page: sign-in was aborted")
    else:
        sys.exit("unexpected final page:\n" + html[:2000])


def authorize(url, login, deny, state, new_challenge):
    if new_challenge:
        # A code bound to another PKCE challenge: the client's verifier cannot match it.
        parts = urllib.parse.urlsplit(url)
        q = dict(urllib.parse.parse_qsl(parts.query))
        verifier = secrets.token_urlsafe(48)
        q["code_challenge"] = base64.urlsafe_b64encode(
            hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        url = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(q)))
        step("authorization URL: code_challenge replaced")
    op = opener()
    try:
        u, html = fetch(op, url)
        login_and_consent(op, u, html, login, deny)
        sys.exit("the server never redirected to the loopback address")
    except StopAt as stop:
        target = stop.url
    parts = urllib.parse.urlsplit(target)
    q = dict(urllib.parse.parse_qsl(parts.query))
    step("redirected to the loopback listener with " + ", ".join(sorted(q)))
    if state is not None:
        q["state"] = state
        target = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(q)))
        step("state replaced")
    try:
        with urllib.request.urlopen(target, timeout=10) as r:
            step("loopback page: HTTP %d: %s" % (r.status, r.read().decode("utf-8", "replace")[:300]))
    except urllib.error.HTTPError as e:
        step("loopback page: HTTP %d: %s" % (e.code, e.read().decode("utf-8", "replace")[:300]))


def revoke(url, client_id):
    token = sys.stdin.readline().strip()
    op = opener()
    fetch(op, url, {"token": token, "client_id": client_id})
    step("revoked")


def main(argv):
    if len(argv) >= 4 and argv[1] == "device":
        if "--wait" in argv:
            # A user who takes a while to type the code: the client keeps polling meanwhile.
            seconds = float(argv[argv.index("--wait") + 1])
            step(f"waiting {seconds} s before opening the verification page")
            time.sleep(seconds)
        device(argv[2], argv[3], "--deny" in argv)
    elif len(argv) >= 4 and argv[1] == "authorize":
        state = argv[argv.index("--state") + 1] if "--state" in argv else None
        authorize(argv[2], argv[3], "--deny" in argv, state, "--new-challenge" in argv)
    elif len(argv) == 4 and argv[1] == "revoke":
        revoke(argv[2], argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
