"""A project's CI access: the role its repository's CI assumes, and the CI variables that tell the
project template's CI definition which role, region, project, bucket and bus to use.

- Providers whose CI runs outside AWS and can hold variables (:class:`CiConfigurableProvider`: GitHub,
  GitLab): the role trusts that repository's ``feature-*``, ``dev`` and ``prod`` branches only
  (OIDC), and the variables are set in the repository's settings.
- Providers in AWS (:class:`AwsBuiltProvider`: CodeCommit): the role trusts CodeBuild acting for the
  stack's shared project only, and the project's push trigger (an EventBridge rule on its repository)
  starts that project as the role with the variables, on pushes to the same branches.

Deleting the project removes what this module set (the variables or the trigger; never any other
setting, never the code) and then the role.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlops_core.projects.ports import (
    AwsBuiltProvider,
    CiBuildTriggerPort,
    CiConfigurableProvider,
    CiRolePort,
    GitProvider,
)


@dataclass(frozen=True)
class CiEnvironment:
    """What every project's CI is told, besides its project and role (the stack's own values)."""

    region: str
    sagemaker_pipeline_role_arn: str  # the role the pipeline's jobs run as (passed by the CI role)
    artifact_bucket: str  # the CI role may read and write {bucket}/{project}/ only
    event_bus: str  # where the promote workflow puts `Git Branch Updated`
    config_table: str  # where the dev branch syncs its integration test suite


# The names the CI definitions in seed-code/.github/workflows, seed-code/.gitlab-ci.yml and
# seed-code/buildspec.yml read (their headers list them).
CI_VARIABLE_NAMES = (
    "MLOPS_PROJECT",
    "AWS_REGION",
    "AWS_CI_ROLE_ARN",
    "SAGEMAKER_PIPELINE_ROLE_ARN",
    "ARTIFACT_BUCKET",
    "MLOPS_EVENT_BUS",
    "MLOPS_CONFIG_TABLE",
)


def ci_variables(project: str, role_arn: str, environment: CiEnvironment) -> dict[str, str]:
    variables = {
        "MLOPS_PROJECT": project,
        "AWS_REGION": environment.region,
        "AWS_CI_ROLE_ARN": role_arn,
        "SAGEMAKER_PIPELINE_ROLE_ARN": environment.sagemaker_pipeline_role_arn,
        "ARTIFACT_BUCKET": environment.artifact_bucket,
        "MLOPS_EVENT_BUS": environment.event_bus,
        "MLOPS_CONFIG_TABLE": environment.config_table,
    }
    assert tuple(variables) == CI_VARIABLE_NAMES
    return variables


@dataclass(frozen=True)
class CiAccess:
    environment: CiEnvironment
    roles: CiRolePort
    builds: CiBuildTriggerPort | None = None  # the shared CodeBuild project's triggers (CodeCommit)

    def configure(self, provider: GitProvider, project: str, repository: str) -> str | None:
        """The role (created or brought up to date) and the repository's variables or push trigger;
        the role's ARN, or None for a provider whose CI needs neither."""
        if isinstance(provider, CiConfigurableProvider):
            role_arn = self.roles.ensure_ci_role(project, provider.ci_trust(repository))
            provider.set_ci_variables(repository, ci_variables(project, role_arn, self.environment))
            return role_arn
        if isinstance(provider, AwsBuiltProvider) and self.builds is not None:
            role_arn = self.roles.ensure_ci_role(project, self.builds.trust)
            self.builds.ensure_trigger(
                project,
                provider.build_source(repository),
                role_arn,
                ci_variables(project, role_arn, self.environment),
            )
            return role_arn
        return None

    def remove(self, provider: GitProvider, project: str, repository: str) -> str | None:
        """Undo :meth:`configure`: the variables or the trigger first (the role still exists while CI
        might use them), then the role; what was done, or None for a provider without CI access."""
        if isinstance(provider, CiConfigurableProvider):
            removed = provider.remove_ci_variables(repository, CI_VARIABLE_NAMES)
            role = self.roles.delete_ci_role(project)
            return f"CI variables removed: {', '.join(removed) or 'none'}; CI role {role}"
        if isinstance(provider, AwsBuiltProvider) and self.builds is not None:
            trigger = self.builds.remove_trigger(project)
            role = self.roles.delete_ci_role(project)
            return f"CI trigger {trigger}; CI role {role}"
        return None
