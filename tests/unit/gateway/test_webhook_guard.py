"""Webhook signatures and the SSRF guard's address classification (no servers, no DNS)."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

import pytest

from services.gateway.portability import signing, ssrf
from services.gateway.portability.webhooks import delivery_body


def test_signature_is_hmac_sha256_over_time_dot_body() -> None:
    body = b'{"id":"1"}'
    header = signing.signature("whsec_x", 1700000000, body)
    expected = hmac.new(b"whsec_x", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
    assert signing.verify("whsec_x", header, body, now=1700000010)


def test_verification_refuses_tampering_other_secrets_and_replays() -> None:
    body = b'{"id":"1"}'
    header = signing.signature("whsec_x", 1700000000, body)
    assert not signing.verify("whsec_x", header, body + b" ", now=1700000000)
    assert not signing.verify("whsec_y", header, body, now=1700000000)
    assert not signing.verify("whsec_x", header, body, now=1700000000 + 301)
    assert not signing.verify("whsec_x", "garbage", body, now=1700000000)


def test_secrets_are_fresh() -> None:
    assert signing.new_secret() != signing.new_secret()


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fd00::1",
        "::ffff:127.0.0.1",
        "224.0.0.1",
    ],
)
def test_private_and_special_addresses_are_refused(address: str) -> None:
    assert not ssrf.is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700:4700::1111", "::ffff:1.1.1.1"])
def test_public_addresses_pass(address: str) -> None:
    assert ssrf.is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/x", "file:///etc/passwd", "http://user:pw@example.com/", "http:///x"],
)
def test_only_plain_http_urls(url: str) -> None:
    with pytest.raises(ssrf.UnsafeTarget):
        ssrf.split_target(url)


def test_allow_list_permits_names_and_networks() -> None:
    allow = ssrf.AllowList.parse("127.0.0.1, hooks.internal, 10.0.0.0/8")
    loopback = ipaddress.ip_address("127.0.0.1")
    ssrf.check_addresses("127.0.0.1", [loopback], allow)
    ssrf.check_addresses("hooks.internal", [ipaddress.ip_address("192.168.0.9")], allow)
    ssrf.check_addresses("x.example", [ipaddress.ip_address("10.9.9.9")], allow)
    with pytest.raises(ssrf.UnsafeTarget):
        ssrf.check_addresses("x.example", [ipaddress.ip_address("192.168.0.9")], allow)
    # One private address among public ones is enough to refuse (rebinding by round robin).
    mixed = [ipaddress.ip_address("1.1.1.1"), ipaddress.ip_address("192.168.0.9")]
    with pytest.raises(ssrf.UnsafeTarget):
        ssrf.check_addresses("x.example", mixed, ssrf.AllowList.parse(""))
    with pytest.raises(ssrf.UnsafeTarget):
        ssrf.check_addresses("nowhere.example", [], allow)


def test_delivery_body_carries_id_type_and_data() -> None:
    body = delivery_body(
        "habit.logged",
        {"event_id": "e1", "occurred_at": "2026-12-07T10:00:00Z", "user_id": "u", "date": "d"},
    )
    assert body == (
        b'{"created_at":"2026-12-07T10:00:00Z","data":{"date":"d","user_id":"u"},'
        b'"id":"e1","type":"habit.logged"}'
    )
