"""What the resource types the local cloud adds to moto's CloudFormation have in common.

Each is a type moto's CloudFormation skips (or gets wrong), created through its service's moto backend,
as AWS applies it with the service's own API. moto finds resource types among CloudFormationModel's
*direct* subclasses, so this is mixed in before it: ``class _X(TemplateResource, CloudFormationModel)``.
A type names itself (``TYPE``), the property that names one of its resources (``NAME_PROPERTY``, ""
when none) and implements ``create``; the physical ID it is made with is what ``Ref`` gives. One made
with an ARN too (:class:`TemplateResourceWithArn`) gives it to ``GetAtt ... Arn``.
"""

from typing import Any, ClassVar, Self


class TemplateResource:
    TYPE: ClassVar[str]
    NAME_PROPERTY: ClassVar[str] = ""

    def __init__(self, physical_id: str) -> None:
        self.physical_id = physical_id

    @property
    def physical_resource_id(self) -> str:
        return self.physical_id

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.TYPE

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return cls.NAME_PROPERTY

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **_: Any,
    ) -> Self:
        return cls.create(cloudformation_json.get("Properties", {}), resource_name, account_id, region_name)

    @classmethod
    def create(
        cls, properties: dict[str, Any], resource_name: str, account_id: str, region_name: str
    ) -> Self:
        """Make the resource from its template properties, in the account and region of the stack."""
        raise NotImplementedError

    def is_created(self) -> bool:
        return True


class TemplateResourceWithArn(TemplateResource):
    def __init__(self, physical_id: str, arn: str) -> None:
        super().__init__(physical_id)
        self.arn = arn

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Arn"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.arn
