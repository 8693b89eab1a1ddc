"""The Inputs/Outputs tables of a Terraform module's README, generated from variables.tf and outputs.tf.

Usage: python tools/terraform/module-docs.py terraform/modules/<name>          print the tables
       python tools/terraform/module-docs.py --check terraform/modules/<name>...  fail when a README lacks
                                                                                 its current tables
Needs python-hcl2 (the checkov venv has it: .cache/checkov-venv/bin/python). `make tf-check` runs --check.
"""
import io
import json
import pathlib
import sys
from contextlib import redirect_stdout

import hcl2


def load(path: pathlib.Path) -> dict:
    with path.open() as f:
        return hcl2.load(f)


def one(value):
    """python-hcl2 wraps attribute values in one-element lists."""
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def type_of(spec: dict) -> str:
    t = one(spec.get("type", "any"))
    t = str(t).replace("${", "").replace("}", "")
    if len(t) > 40:
        t = t.split("(")[0] + "(...)"
    return t


def main(module: str) -> None:
    root = pathlib.Path(module)
    print("## Inputs\n\n| name | type | default | description |\n| --- | --- | --- | --- |")
    for block in load(root / "variables.tf").get("variable", []):
        for name, spec in block.items():
            default = "required" if "default" not in spec else f"`{json.dumps(one(spec['default']))}`"
            if len(default) > 30:
                default = "see variables.tf"
            print(f"| `{name}` | `{type_of(spec)}` | {default} | {one(spec.get('description', ''))} |")
    print("\n## Outputs\n\n| name | description |\n| --- | --- |")
    for block in load(root / "outputs.tf").get("output", []):
        for name, spec in block.items():
            print(f"| `{name}` | {one(spec.get('description', ''))} |")


def stale(module: str) -> bool:
    """Does the module's README lack the tables its variables.tf and outputs.tf generate now?"""
    out = io.StringIO()
    with redirect_stdout(out):
        main(module)
    return out.getvalue().strip() not in (pathlib.Path(module) / "README.md").read_text()


if __name__ == "__main__":
    if sys.argv[1] == "--check":
        bad = [m for m in sys.argv[2:] if stale(m)]
        for m in bad:
            print(f"{m}/README.md: its Inputs/Outputs tables are stale; regenerate them with "
                  f"{sys.executable} tools/terraform/module-docs.py {m}", file=sys.stderr)
        sys.exit(1 if bad else 0)
    main(sys.argv[1])
