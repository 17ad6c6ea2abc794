"""Feedback on Terraform steps: one line per step when not on a terminal, a live status line that
follows Terraform's output on a terminal. A stand-in command prints what `terraform apply` prints
(its progress lines and its summary), so no Terraform run is needed here."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

from harness.scenarios.terraform import step_label
from harness.scenarios.tfprogress import StepProgress

FAKE_APPLY = """
import sys
for line in ["module.s.aws_kms_key.this: Creating...",
             "module.s.aws_kms_key.this: Still creating... [10s elapsed]",
             "module.s.aws_kms_key.this: Creation complete after 12s",
             "",
             "Apply complete! Resources: 3 added, 0 changed, 0 destroyed."]:
    print(line, flush=True)
print("a warning", file=sys.stderr)
"""


def fake(tmp_path: Path, body: str = FAKE_APPLY) -> list[str]:
    script = tmp_path / "fake_tf.py"
    script.write_text(body)
    return [sys.executable, str(script)]


def test_not_on_a_terminal_each_step_is_one_line(tmp_path: Path) -> None:
    out = io.StringIO()
    progress = StepProgress(out, terminal=False)
    code, stdout, stderr = progress.run(
        fake(tmp_path), cwd=tmp_path, env=dict(os.environ), label="apply (final)"
    )
    assert code == 0
    assert "Creation complete after 12s" in stdout and stderr.strip() == "a warning"
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("terraform apply (final): done in ")
    assert lines[0].endswith("Apply complete! Resources: 3 added, 0 changed, 0 destroyed.")


def test_a_failing_step_says_so(tmp_path: Path) -> None:
    out = io.StringIO()
    argv = fake(tmp_path, "import sys; print('Error: boom', file=sys.stderr); sys.exit(1)")
    code, _, stderr = StepProgress(out, terminal=False).run(
        argv, cwd=tmp_path, env=dict(os.environ), label="plan"
    )
    assert code == 1 and "Error: boom" in stderr
    assert out.getvalue().startswith("terraform plan: failed (exit 1) in ")


def test_on_a_terminal_the_status_follows_terraforms_output(tmp_path: Path) -> None:
    out = io.StringIO()
    StepProgress(out, terminal=True, width=160).run(
        fake(tmp_path), cwd=tmp_path, env=dict(os.environ), label="apply (prepare)"
    )
    shown = out.getvalue()
    assert "terraform apply (prepare)" in shown
    # The live line showed each line of Terraform's progress as it came (a refresh per line,
    # so even lines printed back to back, as here, are shown), on one screen line.
    for line in (
        "module.s.aws_kms_key.this: Creating...",
        "module.s.aws_kms_key.this: Still creating... [10s elapsed]",
        "module.s.aws_kms_key.this: Creation complete after 12s",
    ):
        assert line in shown
    assert "terraform apply (prepare): done in" in shown


def test_step_labels_name_the_stage() -> None:
    assert (
        step_label(("apply", "-input=false", "-var-file=/x/prepare.tfvars.json"))
        == "apply (prepare)"
    )
    assert step_label(("init", "-input=false")) == "init"
