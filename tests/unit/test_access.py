"""Organiser keys and who reaches which org (pipeline.access.org_keys)."""

import pytest

from pipeline.access import org_keys as access


def test_a_new_key_carries_its_org_and_id_and_only_its_hash_is_kept():
    key = access.new_org_key("acme")
    org, key_id, secret = access.parse_org_key(key.key)
    assert (org, key_id) == ("acme", key.key_id)
    assert secret not in key.secret_hash and key.secret_hash == access.secret_hash(secret)
    assert access.new_org_key("acme").key != key.key


@pytest.mark.parametrize(
    "given",
    [
        "",
        "dev-key-example",
        "snr.acme.0123456789ab",
        "snr.Acme.0123456789ab." + "x" * 43,
        "snr.acme.0123456789ab." + "x" * 42,
    ],
)
def test_anything_else_is_not_an_organiser_key(given):
    assert access.parse_org_key(given) is None


def test_a_key_matches_its_live_record_only():
    key = access.new_org_key("acme")
    _, _, secret = access.parse_org_key(key.key)
    record = {"secretHash": key.secret_hash, "createdAt": "2026-12-01T05:00:00+00:00"}
    assert access.organiser_key_matches(record, secret)
    assert not access.organiser_key_matches(record, secret[:-1] + ("A" if secret[-1] != "A" else "B"))
    assert not access.organiser_key_matches({**record, "revokedAt": "2026-12-01T06:00:00+00:00"}, secret)
    assert not access.organiser_key_matches(None, secret)


def test_an_organiser_reaches_its_own_org_and_the_operator_every_org():
    organiser = access.Caller.from_context({"role": "organiser", "org": "acme"})
    assert organiser.reaches("acme") and not organiser.reaches("rival")
    operator = access.Caller.from_context(access.Caller(access.OPERATOR).as_context())
    assert operator.reaches("acme") and operator.reaches("rival")
    assert access.Caller.from_context({}) is None
    assert access.Caller.from_context({"role": "organiser", "org": ""}) is None
