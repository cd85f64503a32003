"""The git providers a project's repository can be on: the name only, which settings and project
records carry (the providers themselves are in :mod:`mlops_core.adapters.git_providers`). A module of its
own so that reading a function's settings does not import the project models."""

from enum import StrEnum


class GitProviderName(StrEnum):
    LOCAL = "local"
    CODECOMMIT = "codecommit"
    GITHUB = "github"
    GITLAB = "gitlab"
