"""The Traffic Policy `up` hands to ngrok, judged without the product's (or the stand-in agent's) reading of it.

The expressions are evaluated by an independent CEL implementation (cel-python); the policy's structure is
read here the way ngrok documents it: rules of a phase run in order, a rule's actions run only when all its
expressions are true, `deny` ends the request with its status, `oauth` sends a visitor without a session to
sign in, `restrict-ips` (when `enforce` is true, ngrok's default) stops addresses outside `allow` or inside
`deny`.

What `--oauth-allow` promises: an entry with an "@" lets in exactly that e-mail address; an entry without one
(or "@domain") lets in every address of exactly that domain, not its subdomains and not a name that merely
ends the same way. Entries are lower-cased; the provider's e-mail is compared as the provider reports it, so
an identity with capitals is shut out rather than let in by a loose match (fail closed).
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from typing import Any

import pytest

from owui_dev.config import validate_cidrs, validate_oauth_allow
from owui_dev.tunnel import traffic_policy


@dataclass(frozen=True)
class Outcome:
    kind: str  # "forwarded", "denied", "sign-in"
    status: int | None = None


FORWARDED = Outcome("forwarded")


def cel_true(expression: str, email: str | None) -> bool:
    import celpy

    env = celpy.Environment()
    program = env.program(env.compile(expression))
    identity: dict[str, Any] = {"email": email} if email is not None else {}
    activation = {"actions": celpy.json_to_cel({"ngrok": {"oauth": {"identity": identity}}})}
    result = program.evaluate(activation)
    assert isinstance(result, celpy.celtypes.BoolType), f"{expression!r} gave {result!r}, not a bool"
    return bool(result)


def judge(policy_text: str | None, *, client_ip: str, email: str | None) -> Outcome:
    """One HTTP request through the policy, as ngrok runs it; `email` is who the visitor signs in as."""
    if policy_text is None:
        return FORWARDED
    policy = json.loads(policy_text)
    assert set(policy) <= {"on_http_request", "on_http_response"}, policy
    signed_in: str | None = None
    for rule in policy.get("on_http_request", []):
        assert set(rule) <= {"name", "expressions", "actions"}, rule
        if not all(cel_true(expr, signed_in) for expr in rule.get("expressions", [])):
            continue
        for action in rule["actions"]:
            kind, config = action["type"], action.get("config", {})
            if kind == "restrict-ips":
                address = ipaddress.ip_address(client_ip)
                allowed = any(address in ipaddress.ip_network(c) for c in config.get("allow", []))
                denied = any(address in ipaddress.ip_network(c) for c in config.get("deny", []))
                blocked = denied or ("allow" in config and not allowed)
                if blocked and config.get("enforce", True) is True:
                    return Outcome("denied", 403)
            elif kind == "oauth":
                if email is None:
                    return Outcome("sign-in")
                signed_in = email
            elif kind == "deny":
                return Outcome("denied", int(config.get("status_code", 403)))
            else:
                raise AssertionError(f"an action this test does not know: {kind}")
    return FORWARDED


def policy_for(*, oauth: str | None = None, allow: tuple[str, ...] = (), cidrs: tuple[str, ...] = ()) -> str | None:
    """Through the same validation the flags and the config file get."""
    return traffic_policy(oauth=oauth, oauth_allow=validate_oauth_allow(allow), cidrs=validate_cidrs(cidrs))


ALLOW = ("alice@example.com", "team.example.org", "@Partner.Example.NET")
LET_IN = ["alice@example.com", "bob@team.example.org", "eve@team.example.org", "carol@partner.example.net"]
KEPT_OUT = [
    "mallory@example.com",  # another address of alice's domain: only alice was named
    "alice@example.com.evil.com",
    "alice@evilexample.com",
    "xalice@example.com",
    "alice@example.co",
    "eve@evilteam.example.org",  # ends with "team.example.org", but is another domain
    "eve@team.example.org.evil.com",
    "eve@sub.team.example.org",  # a subdomain is another domain
    "eve@example.org",
    "team.example.org@evil.com",
    "carol@notpartner.example.net",
    "ALICE@EXAMPLE.COM",  # fail closed on capitals rather than match loosely
    "Bob@Team.Example.org",
    "",
]


@pytest.mark.parametrize("email", LET_IN)
def test_the_allow_list_lets_in_exactly_the_named_addresses_and_domains(email: str) -> None:
    assert judge(policy_for(oauth="google", allow=ALLOW), client_ip="198.51.100.1", email=email) == FORWARDED


@pytest.mark.parametrize("email", KEPT_OUT)
def test_the_allow_list_keeps_out_everyone_else(email: str) -> None:
    assert judge(policy_for(oauth="google", allow=ALLOW), client_ip="198.51.100.1", email=email) == Outcome(
        "denied", 403
    )


def test_without_a_session_the_visitor_is_sent_to_sign_in_first() -> None:
    assert judge(policy_for(oauth="github", allow=ALLOW), client_ip="198.51.100.1", email=None) == Outcome("sign-in")


def test_oauth_without_an_allow_list_lets_in_any_signed_in_account() -> None:
    policy = policy_for(oauth="microsoft")
    assert judge(policy, client_ip="198.51.100.1", email="anyone@anywhere.example") == FORWARDED
    assert judge(policy, client_ip="198.51.100.1", email=None) == Outcome("sign-in")


def test_the_oauth_provider_is_the_one_asked_for() -> None:
    policy = json.loads(policy_for(oauth="github", allow=ALLOW) or "")
    providers = [
        a["config"]["provider"] for rule in policy["on_http_request"] for a in rule["actions"] if a["type"] == "oauth"
    ]
    assert providers == ["github"]


CIDRS = ("203.0.113.7", "192.168.1.0/24", "2001:db8::/32")
ADDRESSES_IN = ["203.0.113.7", "192.168.1.0", "192.168.1.255", "2001:db8::1", "2001:db8:ffff::"]
ADDRESSES_OUT = ["203.0.113.8", "203.0.113.6", "192.168.2.1", "192.168.0.255", "10.0.0.1", "2001:db9::1", "::1"]


@pytest.mark.parametrize("address", ADDRESSES_IN)
def test_addresses_inside_the_allowed_networks_get_through(address: str) -> None:
    assert judge(policy_for(cidrs=CIDRS), client_ip=address, email=None) == FORWARDED


@pytest.mark.parametrize("address", ADDRESSES_OUT)
def test_addresses_outside_the_allowed_networks_are_stopped(address: str) -> None:
    assert judge(policy_for(cidrs=CIDRS), client_ip=address, email=None) == Outcome("denied", 403)


def test_address_and_identity_must_both_pass() -> None:
    policy = policy_for(oauth="google", allow=ALLOW, cidrs=CIDRS)
    assert judge(policy, client_ip="203.0.113.7", email="alice@example.com") == FORWARDED
    assert judge(policy, client_ip="203.0.113.7", email="mallory@example.com") == Outcome("denied", 403)
    assert judge(policy, client_ip="203.0.113.8", email="alice@example.com") == Outcome("denied", 403)
    assert judge(policy, client_ip="203.0.113.8", email=None) == Outcome("denied", 403), "no sign-in page either"


def test_no_gate_no_policy() -> None:
    assert policy_for() is None
