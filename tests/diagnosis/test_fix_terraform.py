"""Every Terraform fix snippet passes `terraform validate` (issue 11, done-when).

Snippets come from diagnosing bundles kmslab did not write for this test: the lab recordings of
every catalog scenario (tests/diagnosis/catalog) and the hand-written bundles of cases.py. Each
distinct snippet becomes a module of one configuration, so one `terraform init` (offline, with the
provider mirror harness.tfcli finds) and one `terraform validate` check them all.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.diagnosis import diagnose

from . import cases

RECORDS = sorted((Path(__file__).parent / "catalog").glob("*.json"))


# The AWS documentation's example key ids (1234abcd-12ab-34cd-56ef-...) are not RFC 4122 UUIDs,
# which the provider's key_id validation requires and every real key id is; the hand-written
# bundles get ids of the real shape.
_REAL_SHAPE = {
    "1234abcd-12ab-34cd-56ef-1234567890ab": "1234abcd-12ab-44cd-a6ef-1234567890ab",
    "0987dcba-09fe-87dc-65ba-ab0987654321": "0987dcba-09fe-47dc-a5ba-ab0987654321",
}


def _real_key_ids(bundle: dict[str, object]) -> dict[str, object]:
    text = json.dumps(bundle)
    for doc_id, real in _REAL_SHAPE.items():
        text = text.replace(doc_id, real)
    out: dict[str, object] = json.loads(text)
    return out


def snippets() -> dict[str, str]:
    """Terraform text -> where it came from (code and bundle), one entry per distinct text."""
    bundles = [(p.stem, json.loads(p.read_text())["bundle"]) for p in RECORDS]
    for name in dir(cases):
        fn = getattr(cases, name)
        if callable(fn) and not name.startswith("_") and fn.__module__ == cases.__name__:
            try:
                bundle = fn()
            except TypeError:
                continue
            if isinstance(bundle, dict) and "request" in bundle:
                bundles.append((f"cases.{name}", _real_key_ids(bundle)))
    out: dict[str, str] = {}
    for origin, bundle in bundles:
        for finding in diagnose(bundle).findings:
            out.setdefault(finding.fix.terraform, f"{finding.code} ({origin})")
    return out


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not on PATH")
def test_every_terraform_fix_snippet_validates(tmp_path: Path) -> None:
    from harness import tfcli

    tf = tfcli.setup()
    found = snippets()
    assert len(found) >= 30
    origin = {}
    root = [
        'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws" }\n  }\n}',
        'provider "aws" {\n  region = "us-east-1"\n}',
    ]
    for i, (text, where) in enumerate(sorted(found.items(), key=lambda kv: kv[1])):
        module = tmp_path / f"fix{i:03d}"
        module.mkdir()
        (module / "main.tf").write_text(text + "\n")
        origin[f"module.fix{i:03d}"] = where
        # Values a snippet asks the person for (variables without default) get a stand-in of
        # their type, as `terraform plan -var ...` would.
        inputs = "".join(
            f"\n  {name} = {'[]' if kind.startswith('list') else json.dumps('x')}"
            for name, kind in re.findall(r'variable "(\w+)" \{[^}]*?type\s*=\s*([\w()]+)', text)
        )
        root.append(f'module "fix{i:03d}" {{\n  source = "./fix{i:03d}"{inputs}\n}}')
    (tmp_path / "main.tf").write_text("\n\n".join(root) + "\n")
    env = tf.env()
    init = subprocess.run(
        [tf.binary, "init", "-backend=false", "-input=false", "-no-color"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    if init.returncode != 0 and tf.mirror is None:
        pytest.skip("no provider mirror and no registry: terraform init cannot run offline")
    assert init.returncode == 0, init.stderr
    done = subprocess.run(
        [tf.binary, "validate", "-json", "-no-color"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    report = json.loads(done.stdout)
    problems = []
    for diag in report.get("diagnostics", []):
        if diag.get("severity") != "error":
            continue
        where = str((diag.get("range") or {}).get("filename", ""))
        module = f"module.{where.split('/')[0]}" if "/" in where else where
        problems.append(
            f"{origin.get(module, module)}: {diag.get('summary')}: {diag.get('detail', '')[:200]}"
        )
    assert report.get("valid") and not problems, "\n".join(problems)
