"""Print the Inputs/Outputs tables of a Terraform module (for its README).

Usage: python tools/terraform/module-docs.py terraform/modules/<name>
Needs python-hcl2 (the checkov venv has it: .cache/checkov-venv/bin/python).
"""
import json
import pathlib
import sys

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


if __name__ == "__main__":
    main(sys.argv[1])
