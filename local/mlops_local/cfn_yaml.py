"""Read CloudFormation YAML, whose short-form intrinsics (`!Ref`, `!Sub`, `!GetAtt a.b`...) YAML rejects.

The SAM transform and moto's CloudFormation both expect the long form (`{"Fn::Sub": ...}`), which is
what AWS itself turns the short tags into before it reads a template.
"""

from pathlib import Path
from typing import Any

import yaml


class _CloudFormationLoader(yaml.CSafeLoader):
    """A SafeLoader that knows the intrinsic tags and leaves date-like scalars as strings.

    CloudFormation reads `AWSTemplateFormatVersion: 2010-09-09` as a string; YAML 1.1 would make it a date
    that no JSON encoder takes. It parses with libyaml (PyYAML's C loader, in PyYAML's wheels): the local
    cloud reads the template on every start, and the pure-Python parser took about 8 times as long.
    """


_CloudFormationLoader.yaml_implicit_resolvers = {
    first_char: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first_char, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        raise yaml.constructor.ConstructorError(
            None, None, f"!{tag_suffix} on a {type(node).__name__}", node.start_mark
        )
    if tag_suffix in ("Ref", "Condition"):
        return {tag_suffix: value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


_CloudFormationLoader.add_multi_constructor("!", _construct_intrinsic)


def load_template(path: Path) -> dict[str, Any]:
    """The template at `path` as a dict, with every intrinsic in its long form."""
    with path.open(encoding="utf-8") as stream:
        template = yaml.load(stream, Loader=_CloudFormationLoader)
    if not isinstance(template, dict):
        raise ValueError(f"{path} is not a CloudFormation template (its top level is not a mapping)")
    return template
