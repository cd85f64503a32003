"""Errors of the local cloud itself, as opposed to errors of the functions it runs."""


class LocalCloudError(RuntimeError):
    """The local cloud cannot do what was asked: an unknown function, a kind of target it lacks..."""


class DeploymentError(LocalCloudError):
    """The template could not be transformed, or its stack did not reach CREATE_COMPLETE."""
