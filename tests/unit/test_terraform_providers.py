"""Provider pinning of the Terraform roots (issue 9, item 9).

Each environment root commits its dependency lock file, so two machines resolve the same
hashicorp/aws release against one state, and no configuration reads attributes of the aws_region
data source: `name` is deprecated in provider 6.x, `region` does not exist in 5.100 and `id` is
documented as deprecated in 6.x too, so modules take the region as a variable instead.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TERRAFORM = REPO / "terraform"
ENVIRONMENTS = sorted(p for p in (TERRAFORM / "environments").iterdir() if (p / "versions.tf").is_file())
LOCK_BLOCK = re.compile(r'provider "registry\.terraform\.io/hashicorp/aws" \{(?P<body>.*?)\n\}', re.DOTALL)


def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(REPO), *args], check=False, capture_output=True, text=True)


def _tf_files() -> list[Path]:
    return [p for p in TERRAFORM.rglob("*") if p.suffix in (".tf", ".hcl") and ".terraform" not in p.parts]


def test_every_environment_root_is_covered():
    assert {p.name for p in ENVIRONMENTS} >= {"dev", "prod", "local", "account"}


@pytest.mark.parametrize("root", ENVIRONMENTS, ids=lambda p: p.name)
def test_lock_file_is_committed_and_not_ignored(root: Path):
    lock = root / ".terraform.lock.hcl"
    assert lock.is_file(), f"{lock.relative_to(REPO)} is missing: run terraform init in the root and commit it"
    rel = str(lock.relative_to(REPO))
    assert _git("check-ignore", "-q", rel).returncode == 1, f"{rel} is ignored by .gitignore"
    assert _git("ls-files", "--error-unmatch", rel).returncode == 0, f"{rel} is not tracked by git"


@pytest.mark.parametrize("root", ENVIRONMENTS, ids=lambda p: p.name)
def test_lock_file_pins_an_aws_release_the_constraint_admits(root: Path):
    block = LOCK_BLOCK.search((root / ".terraform.lock.hcl").read_text())
    assert block, "the lock file has no hashicorp/aws entry"
    version = re.search(r'version\s*=\s*"(\d+)\.(\d+)\.(\d+)"', block["body"])
    major, minor = int(version[1]), int(version[2])
    assert (major, minor) >= (5, 100) and major < 7, f"locked hashicorp/aws {version[0]} is outside >= 5.100, < 7.0"
    assert re.search(r'"(h1|zh):[^"]+"', block["body"]), "the lock file records no package hash"
    constraint = re.search(r'aws\s*=\s*\{[^}]*version\s*=\s*"([^"]+)"', (root / "versions.tf").read_text())[1]
    assert constraint == ">= 5.100, < 7.0", f"{root.name}/versions.tf constraint {constraint!r} changed"


def test_no_configuration_reads_aws_region_attributes():
    offenders = [f"{p.relative_to(REPO)}:{n}: {line.strip()}"
                 for p in _tf_files()
                 for n, line in enumerate(p.read_text().splitlines(), 1)
                 if re.search(r"data\.aws_region\.[A-Za-z0-9_-]+(\[[^\]]*\])?\.(name|id|region)\b", line)]
    assert not offenders, "aws_region attributes are deprecated (6.x) or missing (5.100):\n" + "\n".join(offenders)
