"""One home for the layer names: every order kmslab reads the layers in is built from it."""

from __future__ import annotations

from harness.diagnosis import registry
from harness.policy import evaluate, layers


def test_the_message_order_is_every_layer_but_the_grant_which_aws_words_as_the_key_policy() -> None:
    assert sorted(layers.MESSAGE_ORDER) == sorted(set(layers.LAYERS) - {"grant"})
    assert len(set(layers.LAYERS)) == len(layers.LAYERS) == 8


def test_the_registry_accepts_exactly_the_evaluators_layers() -> None:
    assert registry.LAYERS is layers.LAYERS
    declared = {r.meta.layer for r in registry.rules() if r.meta.layer}
    assert declared <= set(layers.LAYERS)


def test_an_scp_and_a_key_policy_both_denying_are_named_as_aws_names_one_the_scp() -> None:
    # IAM evaluates the organization's SCPs first; the message names the first layer that denies.
    deny = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}],
    }
    out = evaluate(
        {
            "request": {
                "principal": "arn:aws:iam::111122223333:role/app",
                "action": "kms:Decrypt",
                "resource": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            },
            "key_policy": deny,
            "scps": [[deny]],
        }
    ).to_dict()
    assert out["decision"] == "ExplicitDeny"
    assert "scp" in out["blocked_by"]
    assert "with an explicit deny in a service control policy" in out["message"]
